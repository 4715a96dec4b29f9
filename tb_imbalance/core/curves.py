"""Trade-offs between errors, from the binned summary: PR and ROC curves, AP, ROC-AUC, calibration.

Every function takes the ``[C + 1, 3, B]`` summary of
:func:`tb_imbalance.core.curve_summary` (or its ``[3, B]`` row of one class),
as an array or nested lists, and refuses another shape by name; the
calibration errors and the reliability diagram need ``B`` a multiple of 15.
A threshold ``k / B`` predicts the class for the rows in bins ``k`` and above.

* :func:`curve_metrics` — per class ``average_precision`` (scikit-learn's
  ``average_precision_score``: ``Σ (R_k − R_{k+1}) P_k``, no interpolation),
  ``roc_auc`` (the trapezoidal area under the ROC curve, as
  ``roc_auc_score``) and ``calibration_error`` (the class's one-vs-rest
  expected calibration error over :data:`CALIBRATION_BINS` equal-width bins);
  the macro means over the classes where they are defined,
  ``expected_calibration_error`` (top label, 15 bins ``[m/15, (m+1)/15)``
  with 1.0 in the last, L1: Guo et al. 2017; torchmetrics'
  ``multiclass_calibration_error(n_bins=15, norm="l1")`` but for confidences
  of exactly 1.0, which it bins apart) and
  ``classwise_calibration_error`` (Kull et al. 2019: the mean of the classes'
  calibration errors).
* :func:`pr_curve`, :func:`roc_curve`, :func:`reliability` — one class's curves.
* :func:`threshold_table` — every class's counts, precision and recall at
  every threshold, in the layout of TensorBoard's PR Curves tab.

Undefined values are None: average precision without positives, ROC-AUC
without positives or without negatives, a calibration error without rows.

Example:
    >>> import numpy as np
    >>> from tb_imbalance.core.binned_scores import curve_summary
    >>> scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2]])
    >>> summary = curve_summary(scores, np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
    >>> metrics = curve_metrics(summary)
    >>> metrics["per_class"]["average_precision"], metrics["per_class"]["roc_auc"]
    ([1.0, 1.0], [1.0, 1.0])
    >>> round(metrics["metrics"]["expected_calibration_error"], 4)
    0.3
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tb_imbalance.core.binned_scores import CALIBRATION_BINS, CURVE_BINS, NEGATIVES, POSITIVES, SCORE_SUM

__all__ = [
    "CURVE_METRIC_NAMES",
    "PER_CLASS_CURVE_METRICS",
    "curve_metrics",
    "pr_curve",
    "roc_curve",
    "reliability",
    "threshold_table",
    "validate_curve_summary",
]

#: Headline metrics of :func:`curve_metrics`, in display order.
CURVE_METRIC_NAMES = (
    "macro_average_precision",
    "macro_roc_auc",
    "expected_calibration_error",
    "classwise_calibration_error",
)
#: Per-class metrics of :func:`curve_metrics`.
PER_CLASS_CURVE_METRICS = ("average_precision", "roc_auc", "calibration_error")


def validate_curve_summary(summary: Any, num_classes: int, argument: str = "curves", *, matrix: Any = None) -> np.ndarray:
    """``summary`` as float64 ``[num_classes + 1, 3, 75]`` (:data:`CURVE_BINS`), checked.

    Finite and non-negative; each bin's score sum within its edges times its
    rows (bin ``k`` holds scores in ``[k / 75, (k + 1) / 75]``); with
    ``matrix`` (the step's ``[C, C]``, rows = true class), the rows the
    matrix counts: each class's positives its support, each class's rows and
    the top label's the matrix's total, the top label's correct rows its
    diagonal (exactly for counts below 2**24 rows; else to a relative ``1e-6``,
    for sums of weights and float32 sums of counts).

    Example:
        >>> validate_curve_summary(np.zeros((3, 3, 75)), 2).shape
        (3, 3, 75)
    """
    fix = "build it with tb_imbalance.core.curve_summary from the rows the matrix counts"
    if np.ndim(summary) == 0 and np.asarray(summary).dtype == bool:  # log_report's flag, given to log_matrix
        raise TypeError(
            f"`{argument}` of a counted matrix is its binned scores [C + 1, 3, {CURVE_BINS}], not a flag, received "
            f"{bool(summary)}; pass None for no curves, or {fix} (log_report(target, labels, scores, step) bins them itself)"
        )
    try:
        array = np.asarray(summary, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{argument}` must be a numeric curve summary; {fix} ({error})") from None
    if array.shape != (num_classes + 1, 3, CURVE_BINS):
        raise ValueError(
            f"`{argument}` must be a curve summary [C + 1, 3, {CURVE_BINS}] with C = {num_classes}, "
            f"received shape {array.shape}; {fix}"
        )
    if not np.isfinite(array).all() or array.min() < 0:
        raise ValueError(f"`{argument}` must hold finite non-negative counts and sums; {fix}")
    rows = array[:, POSITIVES] + array[:, NEGATIVES]
    edges = np.arange(CURVE_BINS + 1) / CURVE_BINS
    slack = 1e-6 * rows + 1e-12
    scores = array[:, SCORE_SUM]
    outside = (scores < edges[:-1] * rows - slack) | (scores > edges[1:] * rows + slack)
    if outside.any():
        row, k = (int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"`{argument}`: row {row}, bin {k} holds a score sum of {scores[row, k]:.6g} over {rows[row, k]:.6g} "
            f"rows, outside [{k}/{CURVE_BINS}, {k + 1}/{CURVE_BINS}] times its rows; {fix}"
        )
    if matrix is not None:
        total = float(matrix.sum())
        expected = np.append(np.asarray(matrix.sum(axis=1), dtype=np.float64), float(matrix.diagonal().sum()))
        found, counted = array[:, POSITIVES].sum(axis=1), rows.sum(axis=1)
        # Counts summed in float32 are exact below 2**24 rows: off by one row is then wrong, not rounding.
        whole = np.issubdtype(matrix.dtype, np.integer) and total < 2**24
        tolerance = 0.5 if whole else 1e-6 * max(total, 1.0)
        wrong = np.flatnonzero((np.abs(found - expected) > tolerance) | (np.abs(counted - total) > tolerance))
        if wrong.size:
            row = int(wrong[0])
            what = "the top label's correct rows" if row == num_classes else f"class {row}'s positives"
            raise ValueError(
                f"`{argument}` counts other rows than the matrix: {what} {found[row]:.6g} of {counted[row]:.6g} "
                f"rows, the matrix {expected[row]:.6g} of {total:.6g}; {fix}"
            )
    return array


def _summary_rows(summary: Any, argument: str, *, classes: bool, calibration: bool = False) -> np.ndarray:
    """``summary`` as float64 ``[C + 1, 3, B]`` (``classes``) or one row ``[3, B]``, checked; lists read too.

    ``calibration``: the bins merge into :data:`CALIBRATION_BINS` calibration bins, so ``B`` is a multiple of it.
    """
    fix = "pass the summary of tb_imbalance.core.curve_summary (one class's rows: summary[c])"
    try:
        array = np.asarray(summary, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{argument}` must be a numeric curve summary; {fix} ({error})") from None
    shape, ndim = ("[C + 1, 3, B]", 3) if classes else ("[3, B]", 2)
    if array.ndim != ndim or array.shape[-2] != 3 or array.shape[-1] < 1 or (classes and array.shape[0] < 2):
        raise ValueError(f"`{argument}` must be a curve summary {shape}, received shape {array.shape}; {fix}")
    if calibration and array.shape[-1] % CALIBRATION_BINS:
        raise ValueError(
            f"`{argument}` has {array.shape[-1]} bins, which do not merge into the {CALIBRATION_BINS} calibration "
            f"bins; build it with curve_summary's default bins ({CURVE_BINS}) or another multiple of {CALIBRATION_BINS}"
        )
    return array


def _from_top(counts: np.ndarray) -> np.ndarray:
    """Counts at or above each bin: ``out[..., k] = counts[..., k:].sum()``."""
    return np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1]


def _ratio(numerator: np.ndarray, denominator: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``numerator / denominator``, 0 where ``denominator`` is 0; into ``out`` when given (zeros there)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape) if out is None else out
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _calibration_bins(rows: np.ndarray) -> np.ndarray:
    """``[..., 3, B]`` summed into ``[..., 3, 15]`` calibration bins."""
    *lead, three, bins = rows.shape
    return rows.reshape(*lead, three, CALIBRATION_BINS, bins // CALIBRATION_BINS).sum(axis=-1)


def _calibration_error(rows: np.ndarray) -> np.ndarray:
    """L1 expected calibration error of ``[..., 3, B]`` rows: ``Σ_m |hits_m − score sum_m| / rows``."""
    merged = _calibration_bins(rows)
    gap = np.abs(merged[..., POSITIVES, :] - merged[..., SCORE_SUM, :]).sum(axis=-1)
    total = merged[..., POSITIVES, :].sum(axis=-1) + merged[..., NEGATIVES, :].sum(axis=-1)
    return np.where(total > 0, _ratio(gap, total), np.nan)


def _next(values: np.ndarray) -> np.ndarray:
    """Each row's values one bin on: ``out[:, k] = values[:, k + 1]``, 0 past the last bin."""
    out = np.zeros_like(values)
    out[:, :-1] = values[:, 1:]
    return out


def _defined(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values.tolist()]  # math's: 10× np.isnan's speed on floats


def _mean(values: np.ndarray) -> float | None:
    defined = values[~np.isnan(values)]
    return float(np.add.reduce(defined) / defined.size) if defined.size else None  # np.mean's sum and division


def curve_metrics(summary: np.ndarray) -> dict[str, Any]:
    """Per-class AP, ROC-AUC and calibration error, and their headline means (see the module docs).

    Returns:
        ``{"per_class": {"average_precision": [C], "roc_auc": [C],
        "calibration_error": [C]}, "metrics": {name: value for name in
        CURVE_METRIC_NAMES}}``, floats or None where undefined.

    Example:
        >>> summary = np.zeros((3, 3, 15))
        >>> summary[0, POSITIVES, 14] = summary[0, SCORE_SUM, 14] = 1  # one row of class 0, score 1.0
        >>> summary[1, NEGATIVES, 0] = 1                                # its score 0.0 for class 1
        >>> summary[2, POSITIVES, 14] = summary[2, SCORE_SUM, 14] = 1   # top label right, confidence 1
        >>> result = curve_metrics(summary)
        >>> result["per_class"]["average_precision"], result["per_class"]["roc_auc"]
        ([1.0, None], [None, None])
        >>> result["metrics"]["expected_calibration_error"], result["metrics"]["classwise_calibration_error"]
        (0.0, 0.0)
    """
    return _curve_metrics(_summary_rows(summary, "summary", classes=True, calibration=True))


def _curve_metrics(summary: np.ndarray) -> dict[str, Any]:
    """:func:`curve_metrics` of a checked float64 ``[C + 1, 3, B]`` summary, ``B`` a multiple of
    :data:`CALIBRATION_BINS` (a step's, checked at its entry or where it was read), not checked again.

    Example:
        >>> _curve_metrics(np.zeros((3, 3, 15)))["metrics"]["macro_roc_auc"] is None
        True
    """
    true_positives, false_positives = _from_top(summary[:-1, POSITIVES : NEGATIVES + 1]).transpose(1, 0, 2)
    positives = true_positives[:, :1]
    negatives = false_positives[:, :1]
    recall = _ratio(true_positives, positives)
    precision = _ratio(true_positives, true_positives + false_positives)
    recall_next = _next(recall)
    average_precision = np.where(positives[:, 0] > 0, ((recall - recall_next) * precision).sum(axis=1), np.nan)
    fpr = _ratio(false_positives, negatives)
    area = ((fpr - _next(fpr)) * (recall + recall_next) / 2).sum(axis=1)
    roc_auc = np.where((positives[:, 0] > 0) & (negatives[:, 0] > 0), area, np.nan)
    errors = _calibration_error(summary)  # the classes' and, last, the top label's
    calibration, top_label = errors[:-1], errors[-1]
    return {
        "per_class": {
            "average_precision": _defined(average_precision),
            "roc_auc": _defined(roc_auc),
            "calibration_error": _defined(calibration),
        },
        "metrics": {
            "macro_average_precision": _mean(average_precision),
            "macro_roc_auc": _mean(roc_auc),
            "expected_calibration_error": None if np.isnan(top_label) else float(top_label),
            "classwise_calibration_error": _mean(calibration),
        },
    }


def _thresholds(bins: int) -> np.ndarray:
    return np.arange(bins) / bins


def pr_curve(rows: np.ndarray) -> dict[str, list[float]]:
    """One class's precision-recall curve, as scikit-learn's ``precision_recall_curve``.

    ``rows`` is the class's ``[3, B]`` summary. The points are the non-empty
    bins' lower edges as thresholds, increasing, then the final point
    (precision 1, recall 0) with no threshold. Recall is 1 everywhere when the
    class has no positives (scikit-learn's convention).

    Example:
        >>> rows = np.zeros((3, 15)); rows[POSITIVES, 12] = 1; rows[NEGATIVES, [3, 13]] = 1
        >>> curve = pr_curve(rows)
        >>> curve["precision"], curve["recall"], curve["thresholds"]
        ([0.3333333333333333, 0.5, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [0.2, 0.8, 0.8666666666666667])
    """
    return _pr_curve(_summary_rows(rows, "rows", classes=False))


def _pr_curve(rows: np.ndarray) -> dict[str, list[float]]:
    """:func:`pr_curve` of one class's checked float64 ``[3, B]`` rows, not checked again.

    Example:
        >>> _pr_curve(np.zeros((3, 15)))
        {'precision': [1.0], 'recall': [0.0], 'thresholds': []}
    """
    filled = np.flatnonzero(rows[POSITIVES] + rows[NEGATIVES])
    true_positives = _from_top(rows[POSITIVES])[filled]
    false_positives = _from_top(rows[NEGATIVES])[filled]
    positives = true_positives[0] if filled.size else 0.0
    precision = _ratio(true_positives, true_positives + false_positives)
    recall = np.ones_like(true_positives) if positives == 0 else true_positives / positives
    return {
        "precision": precision.tolist() + [1.0],
        "recall": recall.tolist() + [0.0],
        "thresholds": _thresholds(rows.shape[1])[filled].tolist(),
    }


def roc_curve(rows: np.ndarray) -> dict[str, list]:
    """One class's ROC curve, as scikit-learn's ``roc_curve(..., drop_intermediate=False)``.

    Points from the strictest threshold down: first ``(0, 0)`` with threshold
    None (scikit-learn's ``inf``: nothing predicted), then one per non-empty
    bin, decreasing. ``fpr`` (``tpr``) is all zeros without negatives
    (positives), where scikit-learn warns and gives NaN.

    Example:
        >>> rows = np.zeros((3, 15)); rows[POSITIVES, 12] = 1; rows[NEGATIVES, [3, 13]] = 1
        >>> roc_curve(rows)["fpr"], roc_curve(rows)["tpr"]
        ([0.0, 0.5, 0.5, 1.0], [0.0, 0.0, 1.0, 1.0])
    """
    return _roc_curve(_summary_rows(rows, "rows", classes=False))


def _roc_curve(rows: np.ndarray) -> dict[str, list]:
    """:func:`roc_curve` of one class's checked float64 ``[3, B]`` rows, not checked again.

    Example:
        >>> _roc_curve(np.zeros((3, 15)))
        {'fpr': [0.0], 'tpr': [0.0], 'thresholds': [None]}
    """
    filled = np.flatnonzero(rows[POSITIVES] + rows[NEGATIVES])[::-1]
    true_positives = _from_top(rows[POSITIVES])[filled]
    false_positives = _from_top(rows[NEGATIVES])[filled]
    positives = rows[POSITIVES].sum()
    negatives = rows[NEGATIVES].sum()
    return {
        "fpr": [0.0] + _ratio(false_positives, np.float64(negatives)).tolist(),
        "tpr": [0.0] + _ratio(true_positives, np.float64(positives)).tolist(),
        "thresholds": [None] + _thresholds(rows.shape[1])[filled].tolist(),
    }


def threshold_table(summary: np.ndarray) -> np.ndarray:
    """Every class's one-vs-rest counts at the thresholds ``i / B``, ``i = 0…B``, as ``[C, 6, B + 1]`` float64.

    At threshold ``i`` a row is predicted positive when its score's bin is
    ``i`` or above, so the last threshold (1.0) predicts nothing. The six rows
    are TensorBoard's ``pr_curves`` layout: true positives, false positives,
    true negatives, false negatives, precision and recall (0 where their
    denominator is 0).

    Example:
        >>> summary = np.zeros((2, 3, 3)); summary[0, POSITIVES, 2] = 1; summary[0, NEGATIVES, [0, 2]] = 1
        >>> threshold_table(summary)[0].tolist()  # doctest: +NORMALIZE_WHITESPACE
        [[1.0, 1.0, 1.0, 0.0], [2.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 2.0],
         [0.0, 0.0, 0.0, 1.0], [0.3333333333333333, 0.5, 0.5, 0.0], [1.0, 1.0, 1.0, 0.0]]
    """
    return _threshold_table(_summary_rows(summary, "summary", classes=True))


def _threshold_table(summary: np.ndarray) -> np.ndarray:
    """:func:`threshold_table` of a checked float64 ``[C + 1, 3, B]`` summary (a step's), not checked again.

    Example:
        >>> _threshold_table(np.zeros((3, 3, 75))).shape
        (2, 6, 76)
    """
    rows = summary[:-1]  # the classes' rows, not the top label's
    table = np.zeros((rows.shape[0], 6, rows.shape[2] + 1))
    table[:, :2, :-1] = _from_top(rows[:, POSITIVES : NEGATIVES + 1])
    true_positives, false_positives = table[:, 0], table[:, 1]
    np.subtract(false_positives[:, :1], false_positives, out=table[:, 2])  # true negatives
    false_negatives = np.subtract(true_positives[:, :1], true_positives, out=table[:, 3])
    for row, denominator in ((4, true_positives + false_positives), (5, true_positives + false_negatives)):
        _ratio(true_positives, denominator, out=table[:, row])  # precision, recall
    return table


def reliability(rows: np.ndarray) -> dict[str, list]:
    """One class's (or the top label's) reliability diagram over the 15 calibration bins.

    Returns:
        ``bin_edges`` (16 floats), and per bin ``mean_score`` and
        ``observed_frequency`` (None for an empty bin) and ``rows`` (the
        count, or sum of weights, in the bin).

    Example:
        >>> rows = np.zeros((3, 15)); rows[POSITIVES, 12] = 1; rows[NEGATIVES, 12] = 3; rows[SCORE_SUM, 12] = 3.3
        >>> diagram = reliability(rows)
        >>> diagram["mean_score"][12], diagram["observed_frequency"][12], diagram["rows"][12]
        (0.825, 0.25, 4.0)
    """
    return _reliability(_summary_rows(rows, "rows", classes=False, calibration=True))


def _reliability(rows: np.ndarray) -> dict[str, list]:
    """:func:`reliability` of checked float64 ``[3, B]`` rows, ``B`` a multiple of :data:`CALIBRATION_BINS`, not
    checked again.

    Example:
        >>> _reliability(np.zeros((3, 15)))["rows"][:3]
        [0.0, 0.0, 0.0]
    """
    merged = _calibration_bins(rows)
    count = merged[POSITIVES] + merged[NEGATIVES]
    empty = count == 0
    return {
        "bin_edges": (np.arange(CALIBRATION_BINS + 1) / CALIBRATION_BINS).tolist(),
        "mean_score": [None if none else value for none, value in zip(empty, _ratio(merged[SCORE_SUM], count).tolist())],
        "observed_frequency": [
            None if none else value for none, value in zip(empty, _ratio(merged[POSITIVES], count).tolist())
        ],
        "rows": count.tolist(),
    }
