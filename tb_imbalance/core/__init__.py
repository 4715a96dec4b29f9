"""The numpy computation core: everything tb_imbalance reports, from one matrix.

A confusion matrix ``cm`` of shape ``[C, C]`` (rows = true class, columns =
predicted class) is a sufficient statistic for every number of the argmax
decision; the binned score summary of :func:`curve_summary` is the one for
the curves, average precision, ROC-AUC and calibration. The
writers, the Keras callback and the TensorBoard plugin all call this package,
so a change to the maths happens here and only here. One module per job:

========================================  =================================================
:mod:`tb_imbalance.core.inputs`           labels and predictions -> int64 class ids
:mod:`tb_imbalance.core.batch_lists`      lists of equal batches that would be read as rows
:mod:`tb_imbalance.core.argmax`           rows' argmax (chunked, threaded), a column's cut
:mod:`tb_imbalance.core.validators`       flags, the class count, a matrix, class names
:mod:`tb_imbalance.core.class_order`      labels that are class values, not ids, refused
:mod:`tb_imbalance.core.caller`           a warning's stacklevel: the user's line
:mod:`tb_imbalance.core.counting`         inputs -> checked class ids (once) -> the matrix
:mod:`tb_imbalance.core.sparse_matrix`    the matrix as its non-empty cells (> 1000 classes)
:mod:`tb_imbalance.core.metrics`          the report's metrics (scikit-learn, imbalanced-learn)
:mod:`tb_imbalance.core.intervals`        Wilson and Newcombe confidence intervals
:mod:`tb_imbalance.core.long_tail`        many-, medium- and few-shot recall
:mod:`tb_imbalance.core.groups`           a matrix rolled up to groups of classes
:mod:`tb_imbalance.core.binned_scores`    scores -> binned one-vs-rest summary per class
:mod:`tb_imbalance.core.curves`           that summary -> PR/ROC curves, AP, ROC-AUC, calibration
========================================  =================================================

Every public name is importable from here: ``from tb_imbalance import core;
core.confusion_matrix(...)``.

Definitions follow scikit-learn (``classification_report``,
``balanced_accuracy_score``, ``matthews_corrcoef``, ``cohen_kappa_score``,
all with ``zero_division=0``) and imbalanced-learn (``specificity_score``,
``geometric_mean_score``).

Example:
    >>> import numpy as np
    >>> cm = np.array([[5, 1], [2, 2]])
    >>> report = classification_report(cm, ["neg", "pos"])
    >>> round(report["pos"]["recall"], 3), report["pos"]["support"]
    (0.5, 4)
    >>> round(imbalance_metrics(cm)["balanced_accuracy"], 4)
    0.6667
"""

from __future__ import annotations

from tb_imbalance.core.argmax import _argmax_block, _argmax_rows
from tb_imbalance.core.counting import (
    ClassIds,
    class_ids,
    confusion_matrix,
    count_class_ids,
    padding_rows,
    resolve_num_classes,
)
from tb_imbalance.core.curves import (
    CURVE_METRIC_NAMES,
    PER_CLASS_CURVE_METRICS,
    curve_metrics,
    pr_curve,
    reliability,
    roc_curve,
    threshold_table,
    validate_curve_summary,
)
from tb_imbalance.core.class_order import check_rows_paired
from tb_imbalance.core.groups import group_matrix, validate_class_groups
from tb_imbalance.core.inputs import class_ids_from_labels, class_ids_from_predictions
from tb_imbalance.core.numeric_arrays import (
    check_integer_total, reworded, rows_are_probabilities, widen_low_precision_floats,
)
from tb_imbalance.core.intervals import (
    DEFAULT_CONFIDENCE,
    newcombe_interval,
    normal_quantile,
    per_class_differences,
    per_class_intervals,
    wilson_interval,
)
from tb_imbalance.core.long_tail import (
    FEW_SHOT_MAX,
    MANY_SHOT_MIN,
    SHOT_METRIC_NAMES,
    shot_recalls,
    validate_class_counts,
    validate_shot_thresholds,
)
from tb_imbalance.core.metrics import METRIC_NAMES, classification_report, imbalance_metrics, per_class_metrics
from tb_imbalance.core.binned_scores import (
    CALIBRATION_BINS,
    CURVE_BINS,
    curve_probabilities,
    curve_summary,
    kept_rows_summary,
    quantise_scores,
    score_bins,
)
from tb_imbalance.core.sparse_matrix import SPARSE_ABOVE_CLASSES, SparseMatrix
from tb_imbalance.core.validators import (
    check_matrix,
    default_class_names,
    fractional_value,
    validate_class_names,
    validate_flag,
    validate_matrix,
    validate_name_forms,
    validate_num_classes,
    validate_text,
)

__all__ = [
    "METRIC_NAMES",
    "confusion_matrix",
    "ClassIds",
    "class_ids",
    "count_class_ids",
    "SPARSE_ABOVE_CLASSES",
    "SparseMatrix",
    "padding_rows",
    "class_ids_from_labels",
    "class_ids_from_predictions",
    "resolve_num_classes",
    "check_rows_paired",
    "rows_are_probabilities",
    "check_integer_total",
    "widen_low_precision_floats",
    "validate_matrix",
    "check_matrix",
    "fractional_value",
    "default_class_names",
    "validate_class_names",
    "validate_name_forms",
    "per_class_metrics",
    "classification_report",
    "imbalance_metrics",
    "DEFAULT_CONFIDENCE",
    "normal_quantile",
    "wilson_interval",
    "newcombe_interval",
    "per_class_intervals",
    "per_class_differences",
    "SHOT_METRIC_NAMES",
    "MANY_SHOT_MIN",
    "FEW_SHOT_MAX",
    "validate_class_counts",
    "validate_shot_thresholds",
    "shot_recalls",
    "validate_class_groups",
    "group_matrix",
    "CURVE_BINS",
    "CALIBRATION_BINS",
    "score_bins",
    "quantise_scores",
    "curve_probabilities",
    "curve_summary",
    "kept_rows_summary",
    "CURVE_METRIC_NAMES",
    "PER_CLASS_CURVE_METRICS",
    "validate_curve_summary",
    "curve_metrics",
    "pr_curve",
    "roc_curve",
    "reliability",
    "threshold_table",
]
