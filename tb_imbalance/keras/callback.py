"""ClassificationReportCallback: the validation report, every epoch, on any backend."""

from __future__ import annotations

import functools
import inspect
import logging
import os
import warnings
import weakref
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from tb_imbalance import background, core
from tb_imbalance.examples import refuse_unused_examples_options
from tb_imbalance.keras import distribution
from tb_imbalance.keras.examples_source import ExamplesSource
from tb_imbalance.keras.metrics import ConfusionMatrixMetric
from tb_imbalance.keras.validation_data import ValidationSource
from tb_imbalance.targets import directory_writer
from tb_imbalance.tensors import to_numpy
from tb_imbalance.writer import ReportWriter

__all__ = ["ClassificationReportCallback"]

# Callbacks taking part in one fit, per run directory and tag. Keyed by the
# fit's History object (Keras makes a new one per fit call), so a fit that
# crashed before on_train_end leaves nothing behind for the next one.
_ACTIVE: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], ClassificationReportCallback]]" = (
    weakref.WeakKeyDictionary()
)


def _find_streaming_metrics(metrics: Sequence[Any]) -> list[ConfusionMatrixMetric]:
    found: list[ConfusionMatrixMetric] = []
    for metric in metrics:
        if isinstance(metric, ConfusionMatrixMetric):
            found.append(metric)
        else:
            found.extend(_find_streaming_metrics(getattr(metric, "metrics", []) or []))
    return found


def _model_outputs(model: Any) -> list | None:
    """The symbolic outputs of a built functional / Sequential model, else ``None``."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):  # subclassed, or a Sequential not built yet
        return None
    return list(outputs) if outputs else None


def _is_score_column(output: Any) -> bool:
    """One float score per example: ``[N]`` or ``[N, 1]``."""
    shape = tuple(output.shape)
    floating = keras.backend.standardize_dtype(output.dtype).startswith(("float", "bfloat"))
    return floating and (len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1))


def _output_classes(output: Any) -> int | None:
    """``C`` read from an output's shape: ``[N, C]`` gives C, a score column 2."""
    shape = tuple(output.shape)
    if _is_score_column(output):
        return 2
    if len(shape) == 2 and shape[-1] is not None and shape[-1] >= 2:
        return int(shape[-1])
    return None


def _loss_from_logits(model: Any) -> tuple[bool | None, str]:
    """Whether the compiled loss reads logits (``None``: cannot tell), and its name."""
    loss = getattr(model, "loss", None)
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


class ClassificationReportCallback(keras.callbacks.Callback):
    """Logs the validation classification report to TensorBoard every epoch.

    Works unchanged with every Keras backend (TensorFlow, JAX, PyTorch).
    Writes into ``<log_dir>/<run_name>`` (default ``validation_imbalance``),
    next to the ``train`` and ``validation`` runs of
    ``keras.callbacks.TensorBoard(log_dir)``: a directory of its own, so
    neither writer loses data in any TensorBoard loader mode. Per logged epoch
    (step = epoch index, as Keras' callback uses): the confusion matrix tensor
    ``name`` (Imbalance dashboard), per-class ``precision/<class>``,
    ``recall/<class>``, ``f1/<class>`` scalars, ``imbalance/<metric>``
    headline scalars (scalar tags get a ``<name>/`` prefix when ``name`` is
    not the default) and the ``<name>_image`` picture. Every callback of the
    process writing into one run directory shares one writer and event file
    (:func:`tb_imbalance.targets.directory_writer`), flushed at every epoch.

    At an epoch's end the training thread only reads the matrix (one small
    device→host copy of the metric's counts, or the predictions of
    ``validation_data``) and hands the step to the process's background
    writer (:mod:`tb_imbalance.background`), which computes the report, draws
    the picture, writes and flushes, in step order. ``on_train_end`` waits
    until every step is on disk, so a reader started after ``fit`` returns
    sees all of them; an error in writing (a full disk, a refused step) is
    raised at the next epoch end or at the end of training; a process killed
    mid-fit loses at most the steps still queued
    (:data:`tb_imbalance.background.MAX_PENDING`, 2). Monitors such as
    ``EarlyStopping`` read the metric's value in ``logs``, never this
    callback, so they are unaffected.

    Where the matrix comes from (said once in one log line when ``verbose``):

    1. ``validation_data`` given to the callback: it is predicted every logged
       epoch, whatever else is compiled (an explicit source always wins);
    2. otherwise the model was compiled with :class:`BalancedAccuracy` /
       :class:`MacroF1` (or another :class:`ConfusionMatrixMetric`) and
       ``fit`` validated this epoch: the metric's validation state is read,
       no extra forward pass. The counts are read when ``fit``'s validation
       pass ends (``on_test_end``), so what other callbacks do before this
       one's ``on_epoch_end`` (their own ``model.evaluate``, ``predict``)
       cannot change the logged matrix.

    No silent failures: a set-up either logs scikit-learn's numbers or fails
    or warns, before training wherever the problem is known then:

    * at construction: bad ``class_names`` types, a ``validation_data`` that
      may never end without ``validation_steps``;
    * at the start of training: no source at all; ``class_names`` of the
      wrong length (``C`` from the compiled metric or the model's output
      shape); ``from_logits`` disagreeing with the loss or the compiled
      metric for a one-column model; a multi-output model on the predict
      path; two callbacks with the same ``name`` and run directory in one fit;
    * at the first epoch's start: a run directory that already holds later
      steps of this tag (a re-run into an old ``log_dir``);
    * a warning (``warnings.warn`` and the log line, once) when a compiled
      metric is the source but ``fit`` did not validate a logged epoch.

    Only one process writes: the chief under ``tf.distribute``, process 0 on
    JAX, rank 0 under ``torch.distributed`` (see
    :mod:`tb_imbalance.keras.distribution`).

    Args:
        log_dir: the same directory you give ``keras.callbacks.TensorBoard``.
        class_names: C display names (default ``"0"…"C-1"``): a list or
            tuple, not a string.
        validation_data: ``(x, y)`` / ``(x, y, sample_weight)`` arrays, a
            ``keras.utils.PyDataset``, a ``torch.utils.data.DataLoader``, a
            ``tf.data.Dataset`` or any iterable of ``(x, y[, sample_weight])``
            batches (see :mod:`tb_imbalance.keras.validation_data`). When
            given, it is the source of every report, even with a streaming
            metric compiled.
        validation_steps: batches of ``validation_data`` read per report.
            Required for a source that may never end (a repeated
            ``tf.data.Dataset``, a generator, an iterable without ``len()``,
            a ``PyDataset`` whose ``num_batches`` is ``None``, a
            ``DataLoader`` over an ``IterableDataset``); ``None`` reads
            finite sources to their end.
        from_logits: the model's single score column (a binary model,
            ``Dense(1)`` without activation) holds logits, cut at 0, for the
            predict path. For the metric path set ``from_logits`` on the
            metric instead.
        freq: log every ``freq`` epochs (epochs 0, freq, 2·freq, …).
        name: tag of the confusion matrix; a non-default name prefixes the
            scalar tags with ``<name>/``.
        run_name: sub-directory of ``log_dir`` to write to.
        metric: name of the compiled streaming metric to read when several
            are compiled (default: the first one).
        per_class_scalars: write the per-class precision / recall / F1
            scalars; ``None`` (default): up to 100 classes, above that off
            with one log line; ``True`` writes them at any size.
        image: write the confusion-matrix picture.
        batch_size: batch size for predicting array ``validation_data``.
        verbose: 1 prints the line saying which source is read, and warnings.
        class_counts: training examples per class, C non-negative ints in
            class order, stored with every matrix: the dashboard then reports
            mean recall over many-shot (> 100 training examples), medium-shot
            (20–100) and few-shot (< 20) classes, and the
            ``imbalance/many_shot_recall``, ``medium_shot_recall`` and
            ``few_shot_recall`` scalars are written (each when its bucket
            holds a class with validation support). The callback does not
            derive them and never guesses: Keras hands callbacks the model
            and the epoch's ``logs``, never ``fit``'s ``x`` / ``y`` (arrays,
            ``tf.data.Dataset``, ``PyDataset`` or a generator), and the
            compiled metrics hold validation counts only. Pass
            ``class_counts=np.bincount(y_train, minlength=C)`` (for one-hot
            labels ``y_train.sum(axis=0).astype(int)``).
        class_groups: ``{"group name": [class names…]}``, stored with every
            matrix so the dashboard can roll the matrix up to groups (the
            ``report`` route's ``group=1``). Every member must be one of the
            class names (``"0"…"C-1"`` without ``class_names``), a class in at
            most one group; classes in no group are shown as groups of their
            own. ``class_counts`` and ``class_groups`` are fixed per tag: a
            run directory whose tag holds other ones is refused at the first
            epoch.
        examples: ``(x, y)`` or ``(x, y, ids)``, a small set of rows (up to
            a few thousand) predicted once per logged epoch — the only extra
            forward pass, opt-in and said in the log line (none when ``x``
            is the very array of the callback's ``validation_data``: its
            predictions serve both). Each cell of the
            matrix keeps up to ``examples_per_cell`` of its rows for the
            dashboard (click a cell): the most confident mistakes off the
            diagonal, the least confident correct rows on it, with their id
            (``ids`` or the row index), top-3 scores and a rendering
            (pictures ``[N, H, W]`` / ``[N, H, W, C]`` / ``[N, C, H, W]`` as
            thumbnails of at most 64 px, strings as text, other rows as
            their first values). Written as ``<name>_examples`` with the
            matrix; see :mod:`tb_imbalance.examples`. Scores are read as
            logits (softmax) when the callback's ``from_logits`` or the
            compiled loss's ``from_logits`` is True.
        examples_per_cell: examples kept per cell (default 8).
        examples_max_bytes: bound on one epoch's examples, thumbnails
            included (default 2 MB); when it cuts, a log line says so once.
        background: write each step on the process's background writer
            (default). ``False`` writes it on the training thread before
            ``on_epoch_end`` returns.

    Raises:
        TypeError: ``validation_data`` is not an accepted source;
            ``class_names`` is a string or not a sequence; a flag not a bool;
            ``class_counts`` not integers; ``class_groups`` not a dict of lists;
            ``examples`` not an ``(x, y[, ids])`` tuple, or its ``x`` the
            inputs of a multi-input model (a dict or a list of arrays).
        ValueError: ``examples`` rows of different lengths or empty, bad
            ``examples_per_cell`` / ``examples_max_bytes``, or either of them
            given without ``examples``; bad ``freq`` / ``name`` / ``batch_size`` /
            ``validation_steps`` / ``class_counts`` (negative, or not one per
            class) / ``class_groups`` (see
            :func:`tb_imbalance.core.validate_class_groups`); an endless ``validation_data`` without
            ``validation_steps``; at the start of training or of the first
            epoch, the set-up errors listed above; at an epoch's end, when the
            compiled metric counted invalid rows (labels out of range, NaN
            scores, logits read as probabilities) or the predictions of
            ``validation_data`` are rejected.

    Example:
        >>> import keras, numpy as np, tempfile
        >>> from tb_imbalance.keras import BalancedAccuracy
        >>> log_dir = tempfile.mkdtemp()  # the directory of keras.callbacks.TensorBoard
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
        >>> x, y = np.random.rand(32, 4).astype("float32"), np.arange(32) % 3
        >>> run = ClassificationReportCallback(log_dir, class_names=["a", "b", "c"], verbose=0)
        >>> _ = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[run])
        >>> sorted(os.listdir(run.run_dir))[0].startswith("events.out.tfevents")
        True
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        *,
        class_names: Sequence[str] | None = None,
        validation_data: Any = None,
        validation_steps: int | None = None,
        from_logits: bool = False,
        freq: int = 1,
        name: str = "confusion_matrix",
        run_name: str = "validation_imbalance",
        metric: str | None = None,
        per_class_scalars: bool | None = None,
        image: bool = True,
        batch_size: int = 256,
        verbose: int = 1,
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        examples: Any = None,
        examples_per_cell: int = 8,
        examples_max_bytes: int = 2_000_000,
        background: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
            raise ValueError(
                f"`freq` must be a positive int (log every freq epochs), received {freq!r}; "
                "use freq=1 to log every epoch"
            )
        if not name or not isinstance(name, str) or not name.strip():
            raise ValueError(f"`name` must be a non-empty tag string, received {name!r}")
        if not run_name or not isinstance(run_name, str):
            raise ValueError(f"`run_name` must be a non-empty directory name, received {run_name!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, received {batch_size!r}")
        if validation_steps is not None and validation_data is None:
            raise ValueError(
                "`validation_steps` limits the callback's own `validation_data`, which is not given; "
                "pass validation_data too, or use fit(validation_steps=...) for fit's validation"
            )
        self.log_dir = os.fspath(log_dir)
        self.class_names = None if class_names is None else _checked_class_names(class_names)
        self.class_counts, self.class_groups = _checked_counts_and_groups(
            class_counts, class_groups, self.class_names
        )
        self.validation_data = validation_data
        self.validation_steps = validation_steps
        self._source = (
            None
            if validation_data is None
            else ValidationSource(validation_data, batch_size=batch_size, steps=validation_steps)
        )
        refuse_unused_examples_options(
            examples, examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes
        )
        self.examples = (
            None
            if examples is None
            else ExamplesSource(examples, examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes)
        )
        if self._examples_share_validation():
            self._source.keep_scores = True  # one predict serves the matrix and the examples
        self.from_logits = core.validate_flag(from_logits, "from_logits")
        self.freq = freq
        self.name = name
        self.run_name = run_name
        self.metric_name = metric
        self.per_class_scalars = (
            None if per_class_scalars is None else core.validate_flag(per_class_scalars, "per_class_scalars")
        )
        self.image = core.validate_flag(image, "image")
        self.background = core.validate_flag(background, "background")
        self.batch_size = batch_size
        self.verbose = verbose
        self._writer: ReportWriter | None = None
        self._metric: ConfusionMatrixMetric | None = None
        self._num_classes: int | None = None
        self._names: list[str] | None = None
        self._announced = False
        self._said: set[str] = set()
        self._history_checked = True
        self._fit_token: Any = None
        self._examples_from_logits = self.from_logits
        self._pending: list = []  # steps handed to the background writer, not yet seen written
        self._logs_this_epoch = False  # inside an epoch that this callback logs (epoch % freq == 0)
        self._validated: np.ndarray | ValueError | None = None  # the epoch's validation counts

    # -- set-up ------------------------------------------------------------
    def _compiled_streaming_metrics(self) -> list[ConfusionMatrixMetric]:
        candidates = _find_streaming_metrics(self.model.metrics)
        if not candidates:
            # Keras builds compiled metrics on the first batch (without a
            # distribution strategy); until then only compile()'s arguments name them.
            compiled = getattr(self.model, "_compile_metrics", None)
            user = [getattr(compiled, "_user_metrics", None), getattr(compiled, "_user_weighted_metrics", None)]
            candidates = _find_streaming_metrics(keras.tree.flatten(user))
        return candidates

    def _select_metric(self, candidates: list[ConfusionMatrixMetric]) -> ConfusionMatrixMetric | None:
        if self.metric_name is None:
            return candidates[0] if candidates else None
        for candidate in candidates:
            if candidate.name == self.metric_name:
                return candidate
        raise ValueError(
            f"`metric={self.metric_name!r}` names no compiled tb_imbalance metric; "
            f"compiled ones: {[c.name for c in candidates]}; pass one of those names or "
            "metric=None for the first"
        )

    @property
    def run_dir(self) -> str:
        """Directory this callback writes to: ``<log_dir>/<run_name>``."""
        return os.path.join(self.log_dir, self.run_name)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._announced = False
        self._said = set()
        self._names = None
        candidates = self._compiled_streaming_metrics()
        self._metric = self._select_metric(candidates)
        if self._metric is None and self._source is None:
            raise ValueError(
                "ClassificationReportCallback needs a validation confusion matrix: compile "
                "the model with metrics=[tb_imbalance.keras.BalancedAccuracy(num_classes)] "
                "and pass validation_data to fit (no extra forward pass), or pass "
                "validation_data=(x_val, y_val) to the callback"
            )
        outputs = _model_outputs(self.model)
        if self._source is not None:
            self._check_predict_path(outputs)
        self._check_from_logits(candidates, outputs)
        self._num_classes, origin = self._known_num_classes(outputs)
        if self._num_classes is not None:
            try:
                self._names = core.validate_class_names(self.class_names, self._num_classes)
            except ValueError as error:
                raise ValueError(f"{error}; C={self._num_classes} comes from {origin}") from None
            try:
                core.validate_class_counts(self.class_counts, self._num_classes)
                self.class_groups = core.validate_class_groups(self.class_groups, self._names)
            except ValueError as error:
                raise ValueError(f"{error}; C={self._num_classes} comes from {origin}") from None
            if self._source is not None:
                self._source.check_labels(self._num_classes)
            if self.examples is not None:
                self.examples.check_labels(self._num_classes)
        self._examples_from_logits = self.from_logits or _loss_from_logits(self.model)[0] is True
        self._claim()
        self._writer = None
        self._history_checked = True
        if distribution.is_writer(self.model):
            self._writer = directory_writer(self.run_dir)
            self._writer.history  # read what the run directory already holds, before training
            self._history_checked = False

    def _known_num_classes(self, outputs: list | None) -> tuple[int | None, str]:
        """``C`` when it is known before training, and where it comes from."""
        if self._metric is not None:
            return self._metric.num_classes, f"the compiled metric '{self._metric.name}'"
        if outputs is not None and len(outputs) == 1:
            classes = _output_classes(outputs[0])
            if classes is not None:
                return classes, f"the model's output shape {tuple(outputs[0].shape)}"
        return None, ""

    def _check_predict_path(self, outputs: list | None) -> None:
        """The callback predicts validation_data: the model must have one usable output."""
        if outputs is None:
            return
        if len(outputs) > 1:
            raise ValueError(
                f"`validation_data`: the model has {len(outputs)} outputs, and the callback's predict "
                "path reports a single-output model. Compile a tb_imbalance metric on the output to "
                "report (metrics={'<output name>': [tb_imbalance.keras.BalancedAccuracy(C)]}), let fit "
                "validate and leave the callback's validation_data unset; or log that output yourself "
                "with tb_imbalance.log_report"
            )
        shape = tuple(outputs[0].shape)
        if len(shape) > 2:
            squeeze = " (remove the size-1 axes, e.g. end the model with keras.layers.Flatten())" if 1 in shape[1:] else ""
            raise ValueError(
                f"`validation_data`: the model's output has shape {shape}, but the report needs class ids "
                f"[N], scores [N, C] or one sigmoid column [N, 1]{squeeze}"
            )

    def _check_from_logits(self, candidates: list[ConfusionMatrixMetric], outputs: list | None) -> None:
        """Refuse ``from_logits`` settings that disagree, before training."""
        if self._source is None and self.from_logits and not self._metric.from_logits:
            raise ValueError(
                f"`from_logits=True` on the callback has no effect: it reads the compiled metric "
                f"'{self._metric.name}', which has from_logits=False. Pass from_logits=True to the metric "
                f"({type(self._metric).__name__}({self._metric.num_classes}, from_logits=True)); the "
                "callback's from_logits applies to its own validation_data"
            )
        if outputs is None or len(outputs) != 1 or not _is_score_column(outputs[0]):
            return  # from_logits only matters for one score column
        loss_logits, loss_name = _loss_from_logits(self.model)
        if loss_logits is not None:
            for metric in candidates:
                if metric.num_classes == 2 and metric.from_logits != loss_logits:
                    raise ValueError(
                        f"the model outputs one score column and its loss '{loss_name}' has "
                        f"from_logits={loss_logits}, but the compiled metric '{metric.name}' has "
                        f"from_logits={metric.from_logits} and would cut "
                        f"{'logits at 0.5' if loss_logits else 'probabilities at 0'}; pass "
                        f"from_logits={loss_logits} to {type(metric).__name__}(2, from_logits={loss_logits})"
                    )
        if self._source is None:
            return
        reference, origin = loss_logits, f"the loss '{loss_name}'"
        if reference is None and self._metric is not None:
            reference, origin = self._metric.from_logits, f"the compiled metric '{self._metric.name}'"
        if reference is not None and reference != self.from_logits:
            raise ValueError(
                f"the model outputs one score column and {origin} has from_logits={reference}, but "
                f"the callback has from_logits={self.from_logits} for its validation_data; pass "
                f"ClassificationReportCallback(..., from_logits={reference})"
            )

    def _claim(self) -> None:
        """Refuse a second callback with this ``name`` and run directory in the same fit."""
        token = getattr(self.model, "history", None)  # a new History object per fit call
        self._fit_token = token
        if token is None:
            return
        try:
            claims = _ACTIVE.setdefault(token, {})
        except TypeError:  # not weak-referenceable: cannot tell fits apart
            return
        location = self.run_dir if "://" in self.run_dir else os.path.abspath(self.run_dir)
        other = claims.get((location, self.name))
        if other is not None and other is not self:
            raise ValueError(
                f"two ClassificationReportCallbacks in this fit write tag `name`={self.name!r} into "
                f"{self.run_dir}: their reports would collide. Give each callback its own `name` "
                "(e.g. name='test_set'; its scalars then get the 'test_set/' prefix) or its own "
                "`run_name` / `log_dir`"
            )
        claims[(location, self.name)] = self

    def _release(self) -> None:
        if self._fit_token is None:
            return
        claims = _ACTIVE.get(self._fit_token) if _is_weakrefable(self._fit_token) else None
        if claims:
            for key in [key for key, callback in claims.items() if callback is self]:
                del claims[key]
        self._fit_token = None

    def _log(self, message: str) -> None:
        if not self.verbose:
            return
        line = f"ClassificationReportCallback: {message}"
        if keras.config.is_interactive_logging_enabled():
            print(line, flush=True)
        else:
            logging.getLogger("tb_imbalance").info(line)

    def _examples_share_validation(self) -> bool:
        """``examples`` has the very x array of the callback's ``validation_data``: one predict serves both."""
        return self.examples is not None and self._source is not None and self._source.shares_inputs(self.examples.x)

    def _say_once(self, message: str) -> None:
        if not self._announced:
            if self._examples_share_validation():
                message += (
                    f"; the examples come from the same predictions (examples= has validation_data's x), "
                    f"up to {self.examples.per_cell} per cell (tag '{self.name}_examples')"
                )
            elif self.examples is not None:
                message += (
                    f"; examples= adds one forward pass: predicting the examples set ({self.examples.describe()}) every {self.freq} "
                    f"epoch(s) to keep up to {self.examples.per_cell} examples per cell "
                    f"(tag '{self.name}_examples')"
                )
            self._log(message)
        self._announced = True

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._said:
            return
        self._said.add(key)
        warnings.warn(f"ClassificationReportCallback: {message}", UserWarning, stacklevel=3)
        self._log(f"warning: {message}")

    # -- per epoch ---------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._logs_this_epoch, self._validated = epoch % self.freq == 0, None
        if self._history_checked:
            return
        self._history_checked = True
        first_logged = epoch + (-epoch) % self.freq
        try:
            with self._writer.lock:
                history = self._writer.history
                if self._names is not None:
                    history.check(self.name, first_logged, self._names, self.class_counts, self.class_groups)
                else:
                    history.check_step(self.name, first_logged)
        except ValueError as error:
            raise ValueError(
                f"ClassificationReportCallback(name={self.name!r}) will not start training at epoch "
                f"{epoch}: {error}"
            ) from None

    def on_test_end(self, logs: dict | None = None) -> None:
        # fit's validation pass ends: keep its counts before any other
        # callback's evaluate() or predict() resets the compiled metric.
        if not self._logs_this_epoch or self._source is not None or self._metric is None:
            return
        try:
            self._validated = self._metric.confusion_matrix()
        except ValueError as error:  # invalid rows: raised at on_epoch_end, where it always was
            self._validated = error

    def _matrix_from_metric(self) -> np.ndarray:
        assert self._metric is not None
        self._say_once(
            f"reading the validation confusion matrix from the compiled metric "
            f"'{self._metric.name}' (no extra forward pass); writing to {self.run_dir}"
        )
        validated, self._validated = self._validated, None
        if isinstance(validated, ValueError):
            raise validated
        return validated if validated is not None else self._metric.confusion_matrix()

    def _matrix_from_predictions(self) -> np.ndarray:
        assert self._source is not None
        compiled = (
            f"; the compiled metric '{self._metric.name}' is not read (the callback's validation_data wins)"
            if self._metric is not None
            else ""
        )
        steps = "" if self._source.steps is None else f", {self._source.steps} batches"
        self._say_once(
            f"predicting on the callback's validation_data ({self._source.kind}{steps}) every "
            f"{self.freq} epoch(s){compiled}; writing to {self.run_dir}"
        )
        return self._source.confusion_matrix(
            self.model, num_classes=self._num_classes, class_names=self.class_names, from_logits=self.from_logits
        )

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._logs_this_epoch = False
        background.raise_failures(self._pending)
        if epoch % self.freq:
            return
        logs = logs or {}
        if self._source is not None:
            cm = self._matrix_from_predictions()
        elif self._validated is None and not any(key.startswith("val_") for key in logs):
            self._warn_once(
                "not_validated",
                f"nothing was logged for epoch {epoch}: fit did not validate this epoch, so the "
                f"compiled metric '{self._metric.name}' holds no validation counts. Pass "
                "validation_data (or validation_split) to fit, or validation_data to this callback; "
                "with fit(validation_freq=k) Keras validates after epochs k, 2k, … (indices k-1, "
                "2k-1, …) while this callback logs epochs 0, freq, 2·freq, …: only epochs in both "
                "are written (freq=1 writes every validated epoch)",
            )
            return
        else:
            cm = self._matrix_from_metric()
        if self._names is None or len(self._names) != cm.shape[0]:
            self._names = core.validate_class_names(self.class_names, cm.shape[0])
        scores = None
        if self.examples is not None:
            reused = self._source.take_last_scores() if self._examples_share_validation() else None
            scores = reused if reused is not None else self.examples.predict(self.model, self.batch_size)
        if self._writer is None:  # not the writing process (every process predicts: predict may be collective)
            return
        write = functools.partial(self._write_step, self._writer, epoch, cm, list(self._names), scores)
        if self.background:
            self._pending.append(background.submit(write))
        else:
            write()

    def _write_step(self, writer: ReportWriter, epoch: int, cm: np.ndarray, names: list[str], scores: Any) -> None:
        """Everything after the matrix is read: examples, report, picture, one flushed event."""
        examples = (
            None
            if scores is None
            else self.examples.collect(scores, cm.shape[0], from_logits=self._examples_from_logits)
        )
        writer.write_matrix(
            epoch, self.name, cm, names, per_class_scalars=self.per_class_scalars, image=self.image,
            class_counts=self.class_counts, class_groups=self.class_groups, examples=examples,
        )

    def on_train_end(self, logs: dict | None = None) -> None:
        # Every step on disk before fit returns; the shared writer stays open
        # (it flushes at every write); the process closes it with
        # tb_imbalance.targets.close_directory_writers() or at exit.
        pending, self._pending = self._pending, []
        try:
            background.wait(pending)
        finally:
            self._writer = None
            self._logs_this_epoch = False
            self._release()


def _is_weakrefable(value: Any) -> bool:
    try:
        weakref.ref(value)
    except TypeError:
        return False
    return True


def _checked_counts_and_groups(
    class_counts: Any, class_groups: Any, class_names: list[str] | None
) -> tuple[list[int] | None, dict[str, list[str]] | None]:
    """``class_counts`` and ``class_groups`` with every check possible before C is known."""
    if class_counts is not None and not isinstance(class_counts, (str, bytes)):
        class_counts = to_numpy(class_counts, "class_counts")
        try:
            count = len(class_counts)
        except TypeError:
            count = 0  # not a sized sequence: validate_class_counts raises the TypeError
        class_counts = core.validate_class_counts(
            class_counts, len(class_names) if class_names is not None else count
        )
    else:
        class_counts = core.validate_class_counts(class_counts, 0)
    if class_groups is None:
        return class_counts, None
    names = class_names
    if names is None and class_counts is not None:
        names = core.default_class_names(len(class_counts))
    if names is None:  # C is known at the start of training: members are checked then
        if not isinstance(class_groups, Mapping):
            core.validate_class_groups(class_groups, [])  # raises the TypeError
        for group, members in class_groups.items():
            if not isinstance(group, str) or not group.strip():
                raise ValueError(f"`class_groups` names must be non-empty strings, received {group!r}")
            if isinstance(members, (str, bytes)) or not isinstance(members, (Sequence, np.ndarray)):
                raise TypeError(
                    f"`class_groups[{group!r}]` must be a list of class names, received {type(members).__name__}"
                )
        return class_counts, {group: [str(name) for name in members] for group, members in class_groups.items()}
    return class_counts, core.validate_class_groups(class_groups, names)


def _checked_class_names(class_names: Any) -> list[str]:
    """``class_names`` as strings, with every check that needs no class count."""
    try:
        count = len(class_names)
    except TypeError:
        count = 0  # not a sized sequence: validate_class_names raises the TypeError
    return core.validate_class_names(class_names, count)
