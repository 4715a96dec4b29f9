"""What the callback checks about the model before training: its outputs, compiled metrics and ``from_logits``.

Everything here reads the model only (no data): which
:class:`~tb_imbalance.keras.ConfusionMatrixMetric` is compiled, the number of
classes its output shape tells, and whether the loss reads logits, so that a
set-up that cannot give scikit-learn's numbers is refused before the first
epoch.

Example:
    >>> import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> known_num_classes(None, model_outputs(model))
    (3, "the model's output shape (None, 3)")
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, Sequence

import keras

from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.keras import output_placement
from tb_imbalance.keras.confusion_metric import ConfusionMatrixMetric
from tb_imbalance.keras.validation_data import multi_output_refusal

__all__ = [
    "find_streaming_metrics",
    "compiled_streaming_metrics",
    "select_metric",
    "metric_outputs",
    "model_outputs",
    "is_score_column",
    "output_classes",
    "loss_reads_logits",
    "loss_from_logits",
    "output_reading",
    "outputs_are_logits",
    "known_num_classes",
    "check_predict_path",
    "check_from_logits",
    "check_metric_is_reset",
    "check_pass_counted",
]


def find_streaming_metrics(metrics: Sequence[Any]) -> list[ConfusionMatrixMetric]:
    found: list[ConfusionMatrixMetric] = []
    for metric in metrics:
        if isinstance(metric, ConfusionMatrixMetric):
            found.append(metric)
        else:
            found.extend(find_streaming_metrics(getattr(metric, "metrics", []) or []))
    return found


def _listed(metrics: Sequence[Any], wanted: Any) -> bool:
    """Whether ``wanted`` is one of ``metrics`` or of the metrics they hold (``CompileMetrics``), at any depth."""
    return any(metric is wanted or _listed(getattr(metric, "metrics", []) or [], wanted) for metric in metrics)


def check_metric_is_reset(model: Any, metric: ConfusionMatrixMetric) -> None:
    """Refuse, before training, a compiled ``metric`` that Keras will never reset: one that ``model.metrics``
    (overridden by a subclass, as Keras' guide to a custom ``train_step`` shows) leaves out, with the
    compiled metrics that hold it. Its counts would run on from batch to batch, training rows included."""
    if _listed(model.metrics, metric) or _listed(model.metrics, getattr(model, "_compile_metrics", None)):
        return
    raise ValueError(
        f"ClassificationReportCallback: the compiled metric '{metric.name}' is not in model.metrics (the model's "
        "`metrics` property leaves out the compiled metrics), so Keras never resets it and it counts the training "
        "batches and every validation pass together; keep them in the property: "
        "`return [*super().metrics, self.loss_tracker]`, or pass validation_data=(x_val, y_val) to the callback"
    )


def check_pass_counted(metric_name: str, rows: float, epoch: int) -> None:
    """Refuse, at the epoch's end, a validation pass that left the compiled metric at zero rows."""
    if rows:
        return
    raise ValueError(
        f"ClassificationReportCallback: fit's validation pass of epoch {epoch} counted no row in the compiled metric "
        f"'{metric_name}': the model's test_step does not update the compiled metrics (call "
        "self.compute_metrics(x, y, y_pred, sample_weight) in it), every validation row had sample weight 0, or a "
        "Python generator given to fit(validation_data=...) was used up by an earlier pass (pass arrays, a "
        "keras.utils.PyDataset, or a tf.data dataset with .repeat() and fit(validation_steps=...)); or pass "
        "validation_data=(x_val, y_val) to the callback"
    )


def model_outputs(model: Any) -> list | None:
    """The symbolic outputs of a built functional / Sequential model, else ``None``."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):  # subclassed, or a Sequential not built yet
        return None
    return list(outputs) if outputs else None


def is_score_column(output: Any) -> bool:
    """One float score per example: ``[N]`` or ``[N, 1]``."""
    shape = tuple(output.shape)
    floating = keras.backend.standardize_dtype(output.dtype).startswith(("float", "bfloat"))
    return floating and (len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1))


def output_classes(output: Any) -> int | None:
    """``C`` read from an output's shape: ``[N, C]`` gives C, a score column 2."""
    shape = tuple(output.shape)
    if is_score_column(output):
        return 2
    if len(shape) == 2 and shape[-1] is not None and shape[-1] >= 2:
        return int(shape[-1])
    return None


def loss_reads_logits(loss: Any) -> tuple[bool | None, str]:
    """Whether ``loss`` (a name, a ``Loss``, a function) reads logits (``None``: cannot tell), and its name."""
    described = loss if isinstance(loss, str) else type(loss).__name__
    try:
        if isinstance(loss, str):
            loss = keras.losses.get(loss)
        if isinstance(loss, keras.losses.Loss):
            described = loss.name
            value = loss.get_config().get("from_logits")
            return (value if isinstance(value, bool) else None), described
        if callable(loss) and not isinstance(loss, type):
            described = getattr(loss, "__name__", described)
            parameter = inspect.signature(loss).parameters.get("from_logits")
            if parameter is not None and isinstance(parameter.default, bool):
                return parameter.default, described
    except (ValueError, TypeError):
        pass
    return None, str(described)


def loss_from_logits(model: Any) -> tuple[bool | None, str]:
    """Whether the compiled loss reads logits (``None``: cannot tell), and its name."""
    return loss_reads_logits(output_placement.single_output_loss(model))


def probability_ending(outputs: list | None) -> str | None:
    """``"softmax"`` or ``"sigmoid"`` when the single output is visibly made by one (a layer's activation, a
    ``Softmax`` layer), else None."""
    operation = getattr(getattr(outputs[0], "_keras_history", None), "operation", None) if outputs and len(outputs) == 1 else None
    ending = "softmax" if isinstance(operation, keras.layers.Softmax) else getattr(getattr(operation, "activation", None), "__name__", None)
    return ending if ending in ("softmax", "sigmoid") else None


def output_reading(loss: Any, ending: str | None, output: str | None = None) -> tuple[bool | None, str]:
    """Whether an output holds logits (``None``: cannot tell), and why, for messages: its ``loss``'s
    ``from_logits``, unless its ``ending`` (``"softmax"`` / ``"sigmoid"``) makes it probabilities.
    ``output``: its name on a model of several outputs (None: the model's one output)."""
    value, name = loss_reads_logits(loss)
    subject, its_loss, holds = (
        ("the model", f"the model's loss '{name}'", "its outputs are") if output is None else
        (f"the model's output '{output}'", f"the model's loss '{name}' for output '{output}'", "that output holds"))
    if value is True and ending:
        return False, (
            f"{subject} ends in a {ending} ({holds} probabilities; its loss '{name}' has "
            f"from_logits=True and applies a second {ending}: pass from_logits=False to the loss)"
        )
    if value is None and ending:
        return False, f"{subject} ends in a {ending} ({holds} probabilities)"
    if value is None:
        return None, f"{its_loss} does not say whether {holds} logits"
    return value, f"{its_loss} has from_logits={value} ({holds} {'logits' if value else 'probabilities'})"


def outputs_are_logits(model: Any, outputs: list | None) -> tuple[bool | None, str]:
    """Whether the model's outputs are logits (``None``: cannot tell), and why, for messages.

    The compiled loss's ``from_logits`` says so, unless the single output is
    visibly made by a softmax or sigmoid (a layer's activation, a
    ``Softmax`` layer): then the outputs are probabilities, whatever a loss
    that cannot tell (a function of the user's) assumes, and a loss with
    ``from_logits=True`` applies a second one.

    Example:
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> outputs_are_logits(model, model_outputs(model))[1][:58]
        'the model ends in a softmax (its outputs are probabilities'
    """
    return output_reading(output_placement.single_output_loss(model), probability_ending(outputs))


def compiled_streaming_metrics(model: Any) -> list[ConfusionMatrixMetric]:
    """The tb_imbalance metrics compiled into ``model``, in compile order.

    The same metric object compiled twice is refused: its counts would be no evaluation's.
    """
    compiled = getattr(model, "_compile_metrics", None)
    user = [getattr(compiled, "_user_metrics", None), getattr(compiled, "_user_weighted_metrics", None)]
    in_compile = find_streaming_metrics(keras.tree.flatten(user))  # compile()'s arguments, as given
    twice = next((c for k, c in enumerate(in_compile) if any(c is other for other in in_compile[:k])), None)
    if twice is not None:
        raise ValueError(
            f"ClassificationReportCallback: one {type(twice).__name__} object ('{twice.name}') is compiled twice (in "
            "metrics= and weighted_metrics=, or for two outputs): Keras then updates it twice a batch and resets it "
            "twice a pass, so its counts are no evaluation's. Compile one object per place, e.g. "
            f"metrics=[{type(twice).__name__}({twice.num_classes})], weighted_metrics=[{type(twice).__name__}("
            f"{twice.num_classes}, name=\"weighted_{twice.name}\")]"
        )
    # Keras builds compiled metrics on the first batch (without a distribution strategy); until then only
    # compile()'s arguments name them.
    return find_streaming_metrics(model.metrics) or in_compile

def metric_outputs(model: Any, candidates: list[ConfusionMatrixMetric]) -> list[str | None]:
    """The output each candidate is compiled on, where compile() names it.

    On a functional model of several outputs, as Keras places it (a dict, a list with one entry per output: a
    metric, a list of them or None; see :func:`~tb_imbalance.keras.output_placement.metric_placements`); on
    other models, where a dict or a list of lists per output names it.

    Example:
        >>> from tb_imbalance.keras import BalancedAccuracy, MacroF1
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, [keras.layers.Dense(3, name=n)(inputs) for n in ("main", "aux")])
        >>> given = [BalancedAccuracy(3), MacroF1(3)]
        >>> model.compile(loss="sparse_categorical_crossentropy", metrics=given)  # one metric per output
        >>> metric_outputs(model, given)
        ['main', 'aux']
    """
    compiled, names = getattr(model, "_compile_metrics", None), list(getattr(model, "output_names", None) or [])
    where: dict[int, str] = {}
    for given in (getattr(compiled, "_user_metrics", None), getattr(compiled, "_user_weighted_metrics", None)):
        per_output = isinstance(given, (list, tuple)) and len(names) > 1 and len(given) == len(names) and all(
            part is None or isinstance(part, (list, tuple, dict)) for part in given)
        for output, part in given.items() if isinstance(given, dict) else zip(names, given) if per_output else ():
            where.update((id(metric), str(output)) for metric in keras.tree.flatten(part) if id(metric) not in where)
    placed = output_placement.metric_placements(model, candidates)
    return [where.get(id(c)) if p is None else p.name for p, c in zip(placed, candidates)]


def select_metric(
    candidates: list[ConfusionMatrixMetric], metric_name: str | None, model: Any = None
) -> ConfusionMatrixMetric | None:
    """The compiled metric the callback reads: ``metric_name``'s, else the first (None: none compiled).

    Several of the chosen name (one per output of a multi-output model) cannot be told apart by
    ``metric=``: the first is read, and a warning says how to name them apart. Given the ``model``
    (whose metric is read), metrics of other names on other outputs, with no ``metric=``, are said
    too: which output is read, and the ``metric=`` of the others.
    """
    chosen = next((c for c in candidates if metric_name in (None, c.name)), None)
    if chosen is not None and model is not None and metric_name is None:
        outputs = metric_outputs(model, candidates)
        read = next(output for output, c in zip(outputs, candidates) if c is chosen)
        others = {c.name: output for output, c in zip(outputs, candidates)
                  if output not in (None, read) and c.name != chosen.name}
        if read is not None and others:
            warnings.warn(
                f"ClassificationReportCallback: tb_imbalance metrics are compiled on several outputs; the first "
                f"compiled, '{chosen.name}' on output '{read}', is read. To report another output pass its metric's "
                f"name as the callback's metric= ({', '.join(f'{n!r} for output {o!r}' for n, o in others.items())}), "
                f"or metric='{chosen.name}' to keep this one and silence this warning",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
    if chosen is not None:
        alike = sum(c.name == chosen.name for c in candidates)
        if alike > 1:
            warnings.warn(
                f"ClassificationReportCallback: {alike} compiled tb_imbalance metrics are named '{chosen.name}' "
                f"(one per output, or one in metrics= and one in weighted_metrics=?); the first compiled is read. "
                f"Name them apart, e.g. {type(chosen).__name__}({chosen.num_classes}, name=\"<output>_{chosen.name}\") "
                "or name=\"weighted_...\", and pass that name as the callback's metric=",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        return chosen
    if metric_name is None:
        return None
    logged = ""  # Keras logs a weighted_metrics= twin of a metrics= name as "weighted_<name>"; the metric keeps its name
    twin = metric_name.removeprefix("weighted_") if isinstance(metric_name, str) else None
    if twin != metric_name and any(c.name == twin for c in candidates):
        logged = f" (Keras logs the weighted_metrics= copy of '{twin}' under that name: name it apart)"
    raise ValueError(
        f"`metric={metric_name!r}` names no compiled tb_imbalance metric{logged}; "
        f"compiled ones: {[c.name for c in candidates]}; pass one of those names or "
        "metric=None for the first"
    )


def known_num_classes(metric: ConfusionMatrixMetric | None, outputs: list | None) -> tuple[int | None, str]:
    """``C`` when it is known before training, and where it comes from."""
    if metric is not None:
        return metric.num_classes, f"the compiled metric '{metric.name}'"
    if outputs is not None and len(outputs) == 1:
        classes = output_classes(outputs[0])
        if classes is not None:
            return classes, f"the model's output shape {tuple(outputs[0].shape)}"
    return None, ""

def check_predict_path(outputs: list | None, *, validation_data: bool, examples: bool) -> None:
    """The callback predicts validation_data and / or the examples: the model must have one usable output."""
    if outputs is None or not (validation_data or examples):
        return
    argument = "validation_data" if validation_data else "examples"
    if len(outputs) > 1:
        raise ValueError(multi_output_refusal(argument, len(outputs)))
    shape = tuple(outputs[0].shape)
    if len(shape) > 2:
        squeeze = " (remove the size-1 axes, e.g. end the model with keras.layers.Flatten())" if 1 in shape[1:] else ""
        raise ValueError(
            f"`{argument}`: the model's output has shape {shape}, but the report needs class ids "
            f"[N], scores [N, C] or one sigmoid column [N, 1]{squeeze}"
        )

def _check_metric_reading(compiled: ConfusionMatrixMetric, output: Any, reading: tuple[bool | None, str], *,
                          place: str | None, hint_loss: bool, read: bool) -> str:
    """Refuse ``compiled`` reading ``output`` the other way from what ``reading`` (logits?, why) says it holds;
    return why the curves will be missing when it is the metric ``read``, or "". ``place``: the output's name
    on a model of several outputs; ``hint_loss``: the loss, not the metric, may be what is wrong."""
    loss_logits, why = reading
    kind, classes = type(compiled).__name__, compiled.num_classes
    loss_hint = "" if not hint_loss else (
        ", or from_logits=True to the loss if the model outputs logits" if place is None else
        f", or from_logits=True to the loss of output '{place}' if it holds logits")
    if is_score_column(output):
        if loss_logits is not None and classes == 2 and compiled.from_logits != loss_logits:
            column = "the model outputs one score column" if place is None else f"output '{place}' is one score column"
            raise ValueError(
                f"{column} and {why}, but the compiled metric '{compiled.name}' has "
                f"from_logits={compiled.from_logits} and would cut "
                f"{'logits at 0.5' if loss_logits else 'probabilities at 0'}; pass "
                f"from_logits={loss_logits} to {kind}(2, from_logits={loss_logits}){loss_hint}"
            )
        return ""
    if loss_logits is False and compiled.curves and compiled.from_logits:
        raise ValueError(
            f"{why}, but the compiled metric '{compiled.name}' has from_logits=True and would read the "
            f"curves from a softmax of those probabilities; pass from_logits=False to {kind}({classes}){loss_hint}"
        )
    if loss_logits is True and compiled.curves and not compiled.from_logits:
        if compiled._result_reads_curves:
            raise ValueError(
                f"{why}, but the compiled metric '{compiled.name}' has from_logits=False: it would read "
                f"those logits as probabilities and its value would be NaN; pass {kind}({classes}, from_logits=True)"
            )
        if read:
            return (
                f"{why}, but the compiled metric '{compiled.name}' has from_logits=False and cannot read "
                f"them as probabilities; pass {kind}({classes}, from_logits=True) (the matrix is the same "
                "either way)"
            )
    return ""


def _check_each_output(model: Any, metric: ConfusionMatrixMetric | None, candidates: list[ConfusionMatrixMetric],
                       *, predicts: bool) -> str:
    """:func:`check_from_logits` on a model of several outputs: each compiled metric against its own output's
    ending and loss, where Keras' placement of the metric can be read (a functional model's dict or list)."""
    missing = ""
    for compiled, placed in zip(candidates, output_placement.metric_placements(model, candidates)):
        if placed is None:
            continue
        ending = probability_ending([placed.output])
        said = _check_metric_reading(
            compiled, placed.output, output_reading(placed.loss, ending, placed.name), place=placed.name,
            hint_loss=loss_reads_logits(placed.loss)[0] is False and ending is None, read=compiled is metric and not predicts)
        missing = missing or said
    return missing


def check_from_logits(
    model: Any,
    metric: ConfusionMatrixMetric | None,
    candidates: list[ConfusionMatrixMetric],
    outputs: list | None,
    *,
    predicts: bool,
    from_logits: bool,
) -> str:
    """Refuse ``from_logits`` settings that disagree, before training; return why the curves will be missing, or "".

    ``metric``: the compiled metric the callback reads (or None);
    ``predicts``: the callback predicts its own ``validation_data``, with
    its ``from_logits``. A loss that reads logits with a compiled metric
    that does not leaves the matrix right and the curves out (a warning,
    said before training), and a metric whose value is the curves NaN
    (refused). On a functional model of several outputs each compiled
    metric is checked against the output Keras hands it (see
    :mod:`~tb_imbalance.keras.output_placement`).

    Example:
        >>> from tb_imbalance.keras import BalancedAccuracy
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, {"a": keras.layers.Dense(3, activation="softmax")(inputs),
        ...                              "b": keras.layers.Dense(3)(inputs)})
        >>> wrong = BalancedAccuracy(3, from_logits=True)
        >>> model.compile(loss="sparse_categorical_crossentropy", metrics={"a": [wrong]})
        >>> try:
        ...     check_from_logits(model, wrong, [wrong], model_outputs(model), predicts=False, from_logits=False)
        ... except ValueError as refusal:
        ...     print(str(refusal)[:70])
        the model's loss 'sparse_categorical_crossentropy' for output 'a' has
    """
    if not predicts and from_logits and not metric.from_logits:
        raise ValueError(
            f"`from_logits=True` on the callback has no effect: it reads the compiled metric "
            f"'{metric.name}', which has from_logits=False. Pass from_logits=True to the metric "
            f"({type(metric).__name__}({metric.num_classes}, from_logits=True)); the "
            "callback's from_logits applies to its own validation_data"
        )
    if outputs is None:
        return ""
    if len(outputs) != 1:
        return _check_each_output(model, metric, candidates, predicts=predicts)
    loss_logits, why = outputs_are_logits(model, outputs)
    # the loss may be what is wrong, unless the model visibly ends in a softmax / sigmoid
    hint_loss = loss_from_logits(model)[0] is False and probability_ending(outputs) is None
    if not is_score_column(outputs[0]) and predicts and from_logits and loss_logits is False:
        raise ValueError(
            f"{why}, but the callback has from_logits=True and would read the curves of its validation_data "
            "from a softmax of those probabilities; leave the callback's from_logits at False"
        )
    missing = ""
    for compiled in candidates:
        said = _check_metric_reading(compiled, outputs[0], (loss_logits, why), place=None, hint_loss=hint_loss,
                                     read=compiled is metric and not predicts)
        missing = missing or said
    if not is_score_column(outputs[0]) or not predicts:
        return missing
    reference = loss_logits
    if reference is None and metric is not None:
        reference, why = metric.from_logits, f"the compiled metric '{metric.name}' has from_logits={metric.from_logits}"
    if reference is not None and reference != from_logits:
        raise ValueError(
            f"the model outputs one score column and {why}, but "
            f"the callback has from_logits={from_logits} for its validation_data; pass "
            f"ClassificationReportCallback(..., from_logits={reference})"
        )
    return ""
