"""log_report and log_matrix: the framework-free way to log a classification report.

For plain PyTorch, JAX, NumPy or scikit-learn loops: call one of them once
per evaluation with the step, and the Imbalance dashboard, the Scalars tab
and the Images tab get exactly what the Keras callback writes (same tags,
format and picture).

* :func:`log_report` counts the confusion matrix from labels and
  predictions, writes the report and returns the matrix.
* :func:`log_matrix` writes a matrix you accumulated yourself (a sum over
  batches, torchmetrics' ``MulticlassConfusionMatrix().compute()``, …).

``target`` is a run directory, a :class:`tb_imbalance.ReportWriter`, a
``torch.utils.tensorboard.SummaryWriter`` or a ``tf.summary`` writer (see
:mod:`tb_imbalance.targets`).

Example:
    >>> import tempfile
    >>> run_dir = tempfile.mkdtemp()
    >>> log_report(run_dir, [0, 1, 1, 0], [[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2]],
    ...            step=0, class_names=["ok", "fraud"]).tolist()
    [[2, 0], [1, 1]]
    >>> log_matrix(run_dir, [[50, 2], [3, 5]], step=1, class_names=["ok", "fraud"]).tolist()
    [[50, 2], [3, 5]]
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping, Sequence

import numpy as np

from tb_imbalance import core
from tb_imbalance.examples import DEFAULT_EXAMPLES_MAX_BYTES, DEFAULT_EXAMPLES_PER_CELL, examples_of_step
from tb_imbalance.step import ClassSet, ReportStep, validate_step, validate_tag
from tb_imbalance.step_curves import curves_of_step, refuse_pr_curves_without_curves
from tb_imbalance.targets import sink_for
from tb_imbalance.tensors import eager_under_torch_compile, refuse_tf_graph_or_replica, to_numpy

__all__ = ["log_report", "log_matrix"]

_SAID_SPARSE: set[str] = set()


def _say_sparse_once(name: str, cm: Any) -> None:
    """Say once per tag that a large matrix comes back as its non-empty cells."""
    if isinstance(cm, core.SparseMatrix) and name not in _SAID_SPARSE:
        _SAID_SPARSE.add(name)
        logging.getLogger("tb_imbalance").warning(
            "tb_imbalance: %s has %d classes (> %d): counted as its non-empty cells, and log_report "
            "returns a tb_imbalance.core.SparseMatrix (.toarray() gives the dense matrix, %d MB as "
            "%s). Said once per tag.",
            name, cm.num_classes, core.SPARSE_ABOVE_CLASSES, cm.num_classes**2 * 8 // 10**6, cm.values.dtype,
        )


@eager_under_torch_compile
def log_report(
    target: Any,
    labels: Any,
    predictions: Any,
    step: int,
    *,
    name: str = "confusion_matrix",
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    sample_weight: Any = None,
    from_logits: bool = False,
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
) -> np.ndarray:
    """Count the confusion matrix of one evaluation and write its report at ``step``.

    Args:
        target: where to write (see the module docs).
        labels: true class ids ``[N]`` or one-hot ``[N, C]``.
        predictions: class ids ``[N]``, scores ``[N, C]`` (argmax), or one
            sigmoid probability column ``[N]`` / ``[N, 1]`` for two classes
            (class 1 above 0.5, as in Keras' ``BinaryAccuracy``).
        step: non-negative int (epoch or batch index).
        name: tag of the matrix; the picture is ``name + "_image"``.
        num_classes: ``C``; needed when labels and predictions are both class
            ids and ``class_names`` is not given (booleans are two classes,
            False and True, as in scikit-learn).
        class_names: C display names (default ``"0"…"C-1"``).
        sample_weight: optional non-negative weights ``[N]``: the matrix then
            holds float sums of weights, which get no confidence intervals
            in the dashboard. Integer or boolean weights (a 0/1 mask of
            padding rows, frequency weights) are counts: int64, with
            intervals, as scikit-learn counts them.
        from_logits: the scores are logits: a binary model's single score
            column is cut at 0 (not at 0.5; a column outside [0, 1] without it
            is refused, never silently miscounted), and ``[N, C]`` scores go
            through a softmax for the curves. Scores that look like
            probabilities (one column in [0, 1], rows in [0, 1] summing to 1)
            get a ``UserWarning`` and a log line once per tag naming
            ``from_logits=False`` (not an error: a few logits may all lie in [0, 1]).
        per_class_scalars: write ``precision/``, ``recall/``, ``f1/`` scalars;
            ``None`` (default): up to 100 classes, and above that a log line
            saying they are left out (``True`` writes them at any size).
        image: write the confusion-matrix picture.
        class_counts: training examples per class, C non-negative ints in
            class order, stored with the matrix. Pass
            ``np.bincount(y_train, minlength=C)``: nothing here sees the
            training set, so they are never guessed. With them the dashboard
            reports recall over many-shot (> 100 training examples),
            medium-shot (20–100) and few-shot (< 20) classes, and the
            ``imbalance/many_shot_recall`` / ``medium_shot_recall`` /
            ``few_shot_recall`` scalars are written (for non-empty buckets).
            Fixed per tag: a later step with other counts is refused.
        class_groups: ``{"group name": [class names…]}``, stored with the
            matrix so the dashboard can roll the matrix up to groups. Every
            member must be a class name, a class in at most one group;
            classes in no group are shown as groups of their own. Fixed per
            tag, like ``class_counts``.
        examples: the inputs behind ``labels``, one row per label (pictures
            ``[N, H, W]`` / ``[N, H, W, C]`` / ``[N, C, H, W]``, a list of
            strings, or any rows): each confusion-matrix cell keeps up to
            ``examples_per_cell`` of them for the dashboard — the most
            confident mistakes, the least confident correct rows — with
            their top-3 scores (see :mod:`tb_imbalance.examples`). Needs
            ``predictions`` as scores; with ``from_logits`` ``[N, C]``
            scores are read as logits (softmax) too.
        example_ids: one id per row (ints or strings) shown with each
            example; default the row index. Rows of ``sample_weight`` 0 are
            never examples.
        examples_per_cell: examples kept per cell (default 8).
        examples_max_bytes: bound on the bytes one step's examples take
            (the UTF-8 index and the thumbnails, default 2 MB, at least
            10,000); when it cuts, a log line says so once per tag and the
            dashboard marks the step.
        curves: keep the binned scores behind the per-class PR, ROC and
            reliability curves, average precision, ROC-AUC and calibration
            errors (``<name>_curves``, and the scalars). ``None`` (default):
            when the predictions are scores of up to 1000 classes (above, a
            log line says they are left out); ``True`` at any size;
            ``False`` never. Class ids give none (said once; a
            ``UserWarning`` with ``curves=True``), and so do ``[N, C]``
            scores outside ``[0, 1]`` without ``from_logits`` (a
            ``UserWarning`` once per tag naming ``from_logits=True``).
        pr_curves: also write TensorBoard's own PR Curves tab
            (``<name>/pr_curve/<class>``), from the same binned scores.
            ``None`` (default): up to 20 classes; ``True`` at any size
            (beside ``curves=False``, refused: they are drawn from its scores).

    Inputs may be lists, numpy arrays, PyTorch tensors (on any device, with
    ``requires_grad`` too), JAX arrays or eager TensorFlow tensors.

    Synchronous: the step is on disk when this returns, so the logdir can be
    read right after. A :class:`tb_imbalance.ReportWriter` target has no
    background mode either; only the Keras callback hands its steps to the
    process's background writer (:mod:`tb_imbalance.background`).

    Returns:
        The ``[C, C]`` matrix written (int64 counts, float64 with real-valued weights):
        a numpy array up to 1000 classes; above, a
        :class:`tb_imbalance.core.SparseMatrix` of its non-empty cells (no
        step allocates the ``C²`` cells; ``.toarray()`` does), said once
        per tag.

    Raises:
        TypeError / ValueError: a bad argument, named in the message;
            nothing is written then.
    """
    refuse_tf_graph_or_replica("log_report")
    refuse_pr_curves_without_curves(curves, pr_curves)
    sink = sink_for(target)  # an unusable target fails before any work
    step, name = validate_step(step, "target, labels, predictions, step"), validate_tag(name)
    labels, predictions = to_numpy(labels, "labels"), to_numpy(predictions, "predictions")
    sample_weight = to_numpy(sample_weight, "sample_weight")
    num_classes, class_names = core.resolve_num_classes(
        labels, predictions, num_classes, class_names, sample_weight=sample_weight, from_logits=from_logits
    )
    ids = core.class_ids(
        labels, predictions, num_classes=num_classes, sample_weight=sample_weight, from_logits=from_logits,
    )
    cm = core.count_class_ids(ids)
    # The class set and the run history are checked before the curves and examples are made (their work).
    classes = ClassSet.of(class_names, ids.num_classes, class_counts=to_numpy(class_counts, "class_counts"),
                          class_groups=class_groups, checked_names=True)
    report = ReportStep.with_classes(
        step, name, cm, classes, weighted=ids.weighted,
        curves=curves_of_step(name, predictions, ids, from_logits=from_logits, curves=curves, writer=sink.writer),
    )
    recording = sink.recording()  # not inside tf.summary.record_if(False): else nothing is checked, picked or written
    if recording:
        sink.history.check_report(report)
    chosen = None if not recording else examples_of_step(
        examples, labels, predictions, num_classes=cm.shape[0], example_ids=example_ids,
        sample_weight=sample_weight, from_logits=from_logits,
        examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes, class_ids=ids,
    )
    sink.write_report(
        dataclasses.replace(report, examples=chosen),
        per_class_scalars=per_class_scalars, image=image, pr_curves=pr_curves,
    )
    _say_sparse_once(name, report.matrix)
    return report.matrix


@eager_under_torch_compile
def log_matrix(
    target: Any,
    cm: Any,
    step: int,
    *,
    name: str = "confusion_matrix",
    class_names: Sequence[str] | None = None,
    per_class_scalars: bool | None = None,
    image: bool = True,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
    weighted: bool | None = None,
    curves: Any = None,
    pr_curves: bool | None = None,
) -> np.ndarray:
    """Write the report of a confusion matrix you counted yourself.

    Args:
        target: where to write (see the module docs).
        cm: ``[C, C]`` matrix, rows = true class, columns = predicted class:
            integer counts (or float sums of sample weights); a numpy array,
            list or any framework tensor.
        step, name, class_names, per_class_scalars, image, class_counts,
            class_groups: as in :func:`log_report`.
        weighted: whether ``cm`` holds sums of sample weights. ``None``
            (default): a float matrix does (even when every sum is a whole
            number), an integer matrix holds counts. Pass ``weighted=False``
            for counts that arrived as floats (e.g. a float sum in PyTorch):
            they are then stored as int64 counts, and the dashboard gives
            their confidence intervals; sums of weights get none, as they
            are not counts of trials. A float matrix whose rows (or
            columns) each sum to 1 is refused unless ``weighted=True``:
            it is normalised (``normalize='true'``), and as sums of
            weights it would give every class the same support.
        curves: the binned scores behind the curves, ``[C + 1, 3, 75]``
            from :func:`tb_imbalance.core.curve_summary`, which add up over
            batches (``sum(core.curve_summary(p, ids.true, ids.predicted) for
            each batch)``), or None for no curves (not a flag: ``True`` and
            ``False`` are refused, as there are no scores here to bin). They must count the
            matrix's rows (each class's positives its support, every class's
            rows the total), with score sums inside their bins.
        pr_curves: as in :func:`log_report`, for a step with ``curves``
            (``True`` without them is refused).

    Returns:
        The matrix written, as a numpy array (int64 counts, float64 sums of
        weights).

    Raises:
        TypeError / ValueError: a bad argument, named in the message;
            nothing is written then.
    """
    refuse_tf_graph_or_replica("log_matrix")
    sink = sink_for(target)
    cm = to_numpy(cm, "cm")
    report = ReportStep.of(
        step, name, cm, class_names, class_counts=to_numpy(class_counts, "class_counts"),
        class_groups=class_groups, weighted=weighted, curves=to_numpy(curves, "curves"),
    )
    sink.write_report(report, per_class_scalars=per_class_scalars, image=image, pr_curves=pr_curves)
    if isinstance(report.matrix, core.SparseMatrix) and not isinstance(cm, core.SparseMatrix):
        return report.matrix.toarray()  # a dense matrix converted as its cells (step._stored): returned dense
    return report.matrix
