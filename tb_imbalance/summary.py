"""Summary writers that mirror ``tf.summary``: call them under a default writer.

* :func:`confusion_matrix` writes the raw confusion matrix (plugin
  ``imbalance``) that the Imbalance dashboard reads.
* :func:`classification_report` writes everything
  :class:`tb_imbalance.keras.ClassificationReportCallback` writes: the matrix,
  per-class precision / recall / F1 scalars, the headline imbalance scalars
  and a confusion-matrix picture. Use it in custom training loops.

Both validate every input before writing anything, so bad input never leaves
a half-written step behind. They compute in numpy and must run eagerly (not
inside ``tf.function``).

The tags are listed in :mod:`tb_imbalance.events`, which builds the values
for this module and for the Keras callback alike.

Example:
    >>> import tensorflow as tf, tb_imbalance.summary as tbs
    >>> writer = tf.summary.create_file_writer("/tmp/logs/validation_imbalance")
    >>> with writer.as_default(step=0):
    ...     tbs.confusion_matrix("confusion_matrix", [0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])
    True
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping, Sequence

import numpy as np

try:
    import tensorflow as tf
except ModuleNotFoundError as missing:  # a PyTorch / JAX user who reached for the tf.summary mirror
    if missing.name != "tensorflow":
        raise
    raise ModuleNotFoundError(
        "tb_imbalance.summary mirrors tf.summary and needs TensorFlow (pip install "
        "'tb_imbalance[tensorflow]'); without TensorFlow, tb_imbalance.log_report(run_dir_or_writer, "
        "labels, predictions, step) writes the same report",
        name="tensorflow",
    ) from None
from tensorboard.compat.proto import summary_pb2

from tb_imbalance import core
from tb_imbalance.events import ReportBuilder, step_matrix_value
from tb_imbalance.step import ClassSet, ReportStep
from tb_imbalance.step_curves import curves_of_step, refuse_pr_curves_without_curves
from tb_imbalance.run_history import ONE_PROCESS
from tb_imbalance.targets import history_of, shared_write_lock
from tb_imbalance.tensors import called_from_tf_py_function, refuse_tf_graph_or_replica, to_numpy
from tb_imbalance.writer import write_checked
from tb_imbalance.examples import DEFAULT_EXAMPLES_MAX_BYTES, DEFAULT_EXAMPLES_PER_CELL, ExampleSet, examples_of_step
from tb_imbalance.writer import validate_step

__all__ = ["confusion_matrix", "classification_report", "write_report"]  # write_values: the write path's own step


def _to_numpy(value: Any, argument: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (tf.Tensor, tf.Variable)):
        if not tf.executing_eagerly():
            raise RuntimeError(
                f"tb_imbalance summaries compute in numpy and must run eagerly; `{argument}` "
                "is a symbolic tensor. Call them outside tf.function (e.g. at epoch end)."
            )
    return to_numpy(value, argument)  # any framework's arrays, and clear errors for what is no array


# Pictures drawn once per tag and class set across calls.
_BUILDER = ReportBuilder()


def _resolve_step(step: Any) -> Any:
    """``step``, or the default step of ``tf.summary.experimental.set_step`` when None.

    None when neither is set and nothing would be written (no default writer, a no-op writer,
    ``record_if(False)``): the summary then returns False, as ``tf.summary``'s own do.
    """
    refuse_tf_graph_or_replica("tb_imbalance.summary")
    if _default_writer() is None and called_from_tf_py_function(in_its_own_thread=True):
        raise RuntimeError(
            "tb_imbalance.summary has no default writer here, and would write nothing: in a tf.function, TensorFlow "
            "runs a tf.numpy_function / tf.py_function in another thread, where the writer.as_default() of the code "
            "calling it does not hold. Inside it, pass the writer itself, tb_imbalance.log_report(writer, labels, "
            "predictions, step), or log outside the tf.function"
        )
    if not tf.executing_eagerly():  # tf.summary's writers need eager execution (TF1 graph mode)
        raise RuntimeError(
            "tb_imbalance.summary must run eagerly (outside tf.function and TF1-style graphs); in a TF1-style "
            "program log the numpy of sess.run with tb_imbalance.log_report('runs/<run>', ...)")
    if step is None and tf.summary.experimental.get_step() is None:
        if not bool(tf.summary.should_record_summaries()):
            return None
        raise ValueError(
            "`step` is required: pass step=... or set a default with "
            "tf.summary.experimental.set_step() / writer.as_default(step=...)"
        )
    if isinstance(step, (int, np.integer)):
        validate_step(step)  # past int64 fails here, naming `step`, before anything is written
    if step is None:
        step = tf.summary.experimental.get_step()
    if isinstance(step, (tf.Tensor, tf.Variable)):
        step = step.numpy()
    return step


def _counted(
    labels: Any,
    predictions: Any,
    num_classes: int | None,
    class_names: Sequence[str] | None,
    sample_weight: Any,
    from_logits: bool,
) -> tuple[Any, Any, Any, core.ClassIds, Sequence[str] | None]:
    """``(labels, predictions, sample_weight, class ids, class_names)`` as numpy, the argmax taken once; the names
    checked (:func:`tb_imbalance.core.resolve_num_classes`), for ``ClassSet.of(..., checked_names=True)``."""
    labels, predictions = _to_numpy(labels, "labels"), _to_numpy(predictions, "predictions")
    sample_weight = _to_numpy(sample_weight, "sample_weight")
    num_classes, class_names = core.resolve_num_classes(
        labels, predictions, num_classes, class_names, sample_weight=sample_weight, from_logits=from_logits
    )
    ids = core.class_ids(
        labels, predictions, num_classes=num_classes, sample_weight=sample_weight, from_logits=from_logits
    )
    return labels, predictions, sample_weight, ids, class_names


def _default_writer() -> Any:
    """The default ``tf.summary`` writer of this thread, or None.

    TensorFlow has no public accessor for it; its run history is kept per
    writer object (:func:`tb_imbalance.targets.history_of`), shared with
    ``log_report(writer, ...)``.
    """
    try:
        from tensorflow.python.ops import summary_ops_v2
    except ImportError:  # pragma: no cover - a TensorFlow without the module
        return _NO_ACCESSOR
    state = getattr(summary_ops_v2, "_summary_state", None)
    if state is None or not hasattr(state, "writer"):  # pragma: no cover
        return _NO_ACCESSOR
    return state.writer


#: Stands for "the default writer" where TensorFlow does not expose it: one history per process.
_NO_ACCESSOR = type("DefaultSummaryWriter", (), {})()


def _write_checked(report: ReportStep, *, values_only: bool = False, **options: Any) -> bool:
    """Write ``report`` through the default writer after checking its run history.

    ``values_only``: write the matrix summary alone (:func:`confusion_matrix`).
    """
    writer = _default_writer()
    if writer is None or not bool(tf.summary.should_record_summaries()):
        return False  # no default writer, or record_if(False): nothing written nor checked, as tf.summary does
    with shared_write_lock():  # two threads logging one tag: one checks and writes, then the other
        return _check_and_write(writer, report, values_only, **options)


def _check_and_write(writer: Any, report: ReportStep, values_only: bool, **options: Any) -> bool:
    history = history_of(writer)
    _say_history_scope()
    written: list[bool] = []

    def write(step: int, values: list) -> bool:
        written.append(write_values(values, step))
        return written[-1]

    if values_only:
        history.check_report(report)
        if write(report.step, [step_matrix_value(report, description=options.get("description"))]):
            history.record(report)
        return written[0]
    write_checked(history, _BUILDER, write, report, **options)
    return written[0]


_SAID_HISTORY_SCOPE = False


def _say_history_scope() -> None:
    """One log line per process: what the run history of a ``tf.summary`` writer covers, and what not.

    TensorFlow keeps the ``logdir`` of ``tf.summary.create_file_writer`` inside
    the writer's resource (the Python object does not hold it), so neither
    earlier processes' steps nor other processes writing there now can be
    checked (:mod:`tb_imbalance.other_writers` needs the directory).
    """
    global _SAID_HISTORY_SCOPE
    if _SAID_HISTORY_SCOPE:
        return
    _SAID_HISTORY_SCOPE = True
    logging.getLogger("tb_imbalance").warning(
        "tb_imbalance: a tf.summary writer does not tell which directory it writes to, so what other "
        "writers put there is not checked: neither the steps that earlier processes logged there, nor "
        "another process writing the same tag at the same time (several workers or DDP ranks without a "
        "rank guard: TensorBoard then drops one process's steps). What this process writes through each "
        "writer is checked (a re-run from an old step, a changed class set, a step written twice, "
        f"changed class_counts or class_groups are refused). Write {ONE_PROCESS}, log each run into a "
        "new directory, or pass the "
        "directory itself to tb_imbalance.log_report to have its history and other writers checked. Said once."
    )


def write_values(values: Sequence[summary_pb2.Summary.Value], step: Any) -> bool:
    """Write prepared summary values as ONE record through the default writer.

    ``tf.summary.experimental.write_raw_pb`` sends the whole serialized
    ``Summary`` in one op, instead of one ``tf.summary.write`` per value (3·C
    of them for per-class scalars).

    Returns:
        True on success, False if no default summary writer was available.
    """
    summary = summary_pb2.Summary(value=list(values)).SerializeToString()
    return bool(tf.summary.experimental.write_raw_pb(summary, step=step))


def confusion_matrix(
    name: str,
    labels: Any,
    predictions: Any,
    step: int | None = None,
    *,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    sample_weight: Any = None,
    from_logits: bool = False,
    description: str | None = None,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
) -> bool:
    """Write a confusion matrix for the Imbalance dashboard.

    Args:
        name: the tag.
        labels: true class ids ``[N]`` or one-hot ``[N, C]``.
        predictions: class ids ``[N]``, scores / probabilities ``[N, C]``
            (argmax), or one sigmoid column ``[N]`` / ``[N, 1]`` for binary
            problems (class 1 above 0.5).
        step: explicit step; defaults to ``tf.summary.experimental.get_step()``.
        num_classes: ``C``; required when labels and predictions are both ids
            and ``class_names`` is not given (booleans are two classes,
            False and True, as in scikit-learn).
        class_names: C display names (default ``"0"…"C-1"``). A tag's class
            names never change: pass the same at every step (the default
            names against a tag written with others are refused).
        from_logits: a binary model's single score column holds logits
            (class 1 above 0) instead of probabilities (above 0.5).
        sample_weight: optional weights ``[N]``: the matrix then holds float64
            sums of weights (integer or boolean weights: int64 counts).
        description: optional Markdown description.
        class_counts: training examples per class (C non-negative ints,
            e.g. ``np.bincount(y_train, minlength=C)``; never guessed),
            stored with the matrix for the dashboard's many-/medium-/few-shot
            recall. TensorBoard keeps a tag's first ones: pass the same at
            every step (other ones, or none after some, are refused).
        class_groups: ``{"group name": [class names…]}``, stored with the
            matrix (see :func:`tb_imbalance.core.validate_class_groups`).
            Fixed per tag as ``class_counts`` are.

    Returns:
        True on success, False if no default summary writer was available.

    Raises:
        ValueError / TypeError: bad input (see :func:`tb_imbalance.core.confusion_matrix`,
            :func:`tb_imbalance.core.validate_class_counts`,
            :func:`tb_imbalance.core.validate_class_groups`); nothing is written then.
        RuntimeError: called inside ``tf.function``.

    Example:
        >>> with tf.summary.create_file_writer("/tmp/logs/run").as_default():
        ...     confusion_matrix("cm", [0, 2, 1], [0, 2, 2], step=3, num_classes=3)
        True
    """
    step = _resolve_step(step)
    if step is None:
        return False  # nothing would be written, and no step to check the inputs against
    *_, ids, names = _counted(labels, predictions, num_classes, class_names, sample_weight, from_logits)
    classes = ClassSet.of(names, ids.num_classes, class_counts=_to_numpy(class_counts, "class_counts"),
                          class_groups=class_groups, checked_names=True)
    report = ReportStep.with_classes(step, name, core.count_class_ids(ids), classes, weighted=ids.weighted)
    return _write_checked(report, values_only=True, description=description)


def write_report(
    name: str,
    cm: np.ndarray,
    class_names: Sequence[str],
    step: Any = None,
    *,
    description: str | None = None,
    per_class_scalars: bool | None = None,
    image: bool = True,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
    examples: ExampleSet | None = None,
    curves: Any = None,
    pr_curves: bool | None = None,
    weighted: bool | None = None,
) -> bool:
    """Write every output of :func:`classification_report` for a counted matrix ``cm``.

    The picture's static parts are drawn once per tag and class set, across calls.
    ``class_counts`` and ``class_groups`` are as in :func:`confusion_matrix`;
    ``curves`` (binned scores from :func:`tb_imbalance.core.curve_summary`),
    ``pr_curves`` and ``weighted`` as in :func:`tb_imbalance.log_matrix`.

    Returns:
        True on success, False if no default summary writer was available.
    """
    step = _resolve_step(step)
    if step is None:
        return False  # nothing would be written, and no step to check the inputs against
    report = ReportStep.of(
        step, name, _to_numpy(cm, "cm"), class_names, class_counts=_to_numpy(class_counts, "class_counts"),
        class_groups=class_groups, examples=examples, curves=_to_numpy(curves, "curves"), weighted=weighted,
    )
    return _write_checked(
        report, per_class_scalars=per_class_scalars, image=image, description=description, pr_curves=pr_curves
    )


def classification_report(
    name: str,
    labels: Any,
    predictions: Any,
    step: int | None = None,
    *,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    sample_weight: Any = None,
    from_logits: bool = False,
    description: str | None = None,
    per_class_scalars: bool | None = None,
    image: bool = True,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
    examples: Any = None,
    example_ids: Any = None,
    examples_per_cell: int = DEFAULT_EXAMPLES_PER_CELL,
    examples_max_bytes: int = DEFAULT_EXAMPLES_MAX_BYTES,
    curves: bool | None = None,
    pr_curves: bool | None = None,
) -> bool:
    """Write the matrix, per-class and headline scalars and the picture.

    Writes exactly what :class:`tb_imbalance.keras.ClassificationReportCallback`
    writes each epoch (see the module docstring for the tags), for custom
    training loops. Arguments are those of :func:`confusion_matrix`, plus:

    Args:
        per_class_scalars: write ``precision/<class>``, ``recall/<class>``,
            ``f1/<class>``; ``None`` (default): up to 100 classes.
        image: write the ``<name>_image`` picture.
        class_counts: as in :func:`confusion_matrix`; also writes the
            ``imbalance/many_shot_recall``, ``medium_shot_recall`` and
            ``few_shot_recall`` scalars (each for a non-empty bucket).
        class_groups: as in :func:`confusion_matrix`.
        examples, example_ids, examples_per_cell, examples_max_bytes: the
            examples behind each cell, written as ``<name>_examples``; as in
            :func:`tb_imbalance.log_report` (needs ``predictions`` as scores).
        curves, pr_curves: the binned scores behind the PR, ROC and
            reliability curves and TensorBoard's PR curves, as in
            :func:`tb_imbalance.log_report` (from scores; ``from_logits``
            applies a softmax to ``[N, C]`` logits).

    Returns:
        True on success, False if no default summary writer was available.

    Example:
        >>> with tf.summary.create_file_writer("/tmp/logs/validation").as_default(step=1):
        ...     classification_report("confusion_matrix", [0, 1, 1, 0], [0, 1, 0, 0],
        ...                           class_names=["ok", "fraud"])
        True
    """
    refuse_pr_curves_without_curves(curves, pr_curves)
    step = _resolve_step(step)
    if step is None:
        return False  # nothing would be written, and no step to check the inputs against
    labels, predictions, sample_weight, ids, names = _counted(
        labels, predictions, num_classes, class_names, sample_weight, from_logits
    )
    classes = ClassSet.of(names, ids.num_classes, class_counts=_to_numpy(class_counts, "class_counts"),
                          class_groups=class_groups, checked_names=True)
    report = ReportStep.with_classes(
        step, name, core.count_class_ids(ids), classes, weighted=ids.weighted,
        curves=curves_of_step(
            name, predictions, ids, from_logits=from_logits, curves=curves, writer=_default_writer()
        ),
    )
    recording = _default_writer() is not None and tf.summary.should_record_summaries()
    chosen = None if not recording else examples_of_step(  # nothing written: no examples to pick and draw
        _to_numpy(examples, "examples"), labels, predictions,
        num_classes=ids.num_classes, example_ids=_to_numpy(example_ids, "example_ids"),
        sample_weight=sample_weight, from_logits=from_logits,
        examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes, class_ids=ids,
    )
    report = dataclasses.replace(report, examples=chosen)
    return _write_checked(
        report, per_class_scalars=per_class_scalars, image=image, description=description, pr_curves=pr_curves
    )
