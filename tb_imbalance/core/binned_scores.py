"""Scores to binned one-vs-rest summaries: what PR, ROC and reliability curves are drawn from.

For each class ``c``, every row's probability of ``c`` falls into one of
:data:`CURVE_BINS` equal-width bins on ``[0, 1]``: bin ``k`` holds scores in
``[k / B, (k + 1) / B)``, the last bin also holds 1.0 (``k = min(floor(score ×
B), B − 1)``, computed in the scores' own float precision; float16 and other
narrow floats in float32, as every writer and the Keras metric bin them). Per
class and bin the summary keeps the positives (rows of class ``c``), the
negatives (all other rows) and the sum of the scores; one more row does the
same for the top label (the argmax's probability): correct rows, wrong rows
and the sum of the confidences. With sample weights every count is a sum of weights.

The summary is a float64 array ``[C + 1, 3, B]`` (:func:`curve_summary`);
:mod:`tb_imbalance.core.curves` turns it into curves, average precision,
ROC-AUC and calibration errors. It is a sufficient statistic for them on the
binned scores: scikit-learn's ``average_precision_score`` on the scores
replaced by their bin's lower edge (:func:`quantise_scores`) gives exactly the
logged value.

Example:
    >>> import numpy as np
    >>> probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> summary = curve_summary(probabilities, np.array([0, 1, 1]), np.array([0, 1, 0]))
    >>> summary.shape
    (3, 3, 75)
    >>> summary[1, 0].nonzero()[0].tolist(), summary[1, 1].nonzero()[0].tolist()  # class 1: positives, negatives
    ([30, 60], [7])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_imbalance.core.inputs import _check_range
from tb_imbalance.core.numeric_arrays import (
    _as_numeric_array, _check_finite, _shape, check_scores, widen_low_precision_floats,
)

__all__ = [
    "CURVE_BINS",
    "CALIBRATION_BINS",
    "POSITIVES",
    "NEGATIVES",
    "SCORE_SUM",
    "score_bins",
    "quantise_scores",
    "curve_probabilities",
    "curve_summary",
    "kept_rows_summary",
]

#: Equal-width score bins of the curves; a multiple of :data:`CALIBRATION_BINS`.
CURVE_BINS = 75
#: Equal-width bins of the calibration errors and the reliability diagram (Guo et al. 2017).
CALIBRATION_BINS = 15
#: Rows of a class's ``[3, B]`` summary (for the top-label row: correct, wrong, confidence sum).
POSITIVES, NEGATIVES, SCORE_SUM = 0, 1, 2

# Rows per block: the bin indices of a block stay in cache, and no array as
# large as N x C is made beside the scores.
_BLOCK_CELLS = 1 << 18
# A block with more than 1 in this many scores outside bin 0 bins all its scores.
_DENSE_SHARE = 5


def score_bins(scores: np.ndarray, bins: int = CURVE_BINS) -> np.ndarray:
    """The bin of each score in ``[0, 1]``: ``min(floor(score × bins), bins − 1)`` (int64).

    Example:
        >>> score_bins(np.array([0.0, 0.5, 0.9999, 1.0]), bins=4).tolist()
        [0, 2, 3, 3]
    """
    scores = np.asarray(scores)
    index = (scores * scores.dtype.type(bins)).astype(np.int64)
    np.minimum(index, bins - 1, out=index)
    return index


def quantise_scores(scores: np.ndarray, bins: int = CURVE_BINS) -> np.ndarray:
    """Each score replaced by its bin's lower edge ``k / bins``: the scores the summary describes exactly.

    Scores are binned as the writers bin them: float16 (and other narrow
    floats) as float32.

    Example:
        >>> quantise_scores(np.array([0.05, 0.5, 1.0]), bins=4).tolist()
        [0.0, 0.5, 0.75]
    """
    return score_bins(_binned_precision(np.asarray(scores)), bins) / bins


def _binned_precision(scores: np.ndarray) -> np.ndarray:
    """Scores in the precision they are binned in: narrow floats (float16, bfloat16, float8) as float32.

    float16 is too coarse for the bin edges (0.9 × 75 rounds to 67.5 in float16).
    """
    scores = widen_low_precision_floats(scores)
    return scores.astype(np.float32) if scores.dtype == np.float16 else scores


def curve_probabilities(predictions: Any, num_classes: int, *, from_logits: bool = False) -> tuple[np.ndarray | None, str]:
    """Per-class probabilities ``[N, C]`` of checked predictions, or None and why there are none.

    ``predictions`` already passed :func:`tb_imbalance.core.class_ids`; this
    only decides whether they can be read as probabilities:

    * class ids ``[N]`` (integers): no scores, no curves;
    * one sigmoid column ``[N]`` / ``[N, 1]`` of a binary model: ``[1 − p, p]``
      (``p = sigmoid(x)`` with ``from_logits``);
    * scores ``[N, C]``: a softmax with ``from_logits``; otherwise used as
      they are when every score is in ``[0, 1]`` (softmax rows, or one
      sigmoid per class), and refused when not (logits read as probabilities
      would give wrong curves).

    Example:
        >>> probabilities, why = curve_probabilities([[2.0, 0.0]], 2, from_logits=True)
        >>> probabilities.round(3).tolist(), why
        ([[0.881, 0.119]], '')
        >>> curve_probabilities([[2.0, 0.0]], 2)[1][:40]
        'the scores are not probabilities (values'
    """
    scores = _binned_precision(_as_numeric_array(predictions, "predictions"))
    if not np.issubdtype(scores.dtype, np.floating):
        return None, "the predictions are class ids, not scores; pass the scores [N, C] to get them"
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim == 1:
        with np.errstate(over="ignore"):  # exp(-x) past float's range: the sigmoid is 0, as it should be
            positive = 1.0 / (1.0 + np.exp(-scores)) if from_logits else scores
        return np.stack([1.0 - positive, positive], axis=1).astype(scores.dtype, copy=False), ""
    if scores.ndim != 2 or scores.shape[1] != num_classes:
        raise ValueError(f"`predictions` must be scores [N, {num_classes}], received {_shape(scores)}")
    check_scores(scores, from_logits)
    if from_logits:
        shifted = scores - scores.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        return shifted, ""
    low, high = (scores.min(), scores.max()) if scores.size else (0.0, 0.0)
    if low < 0.0 or high > 1.0:
        return None, (
            f"the scores are not probabilities (values in [{float(low)!r}, {float(high)!r}], outside [0, 1]); "
            "if they are logits pass from_logits=True, or end the model with a softmax; if they are "
            "probabilities rounded past 0 or 1, clip them (np.clip(scores, 0, 1))"
        )
    return scores, ""


def kept_rows_summary(predictions: Any, ids: Any, *, from_logits: bool = False) -> tuple[np.ndarray | None, str]:
    """The curve summary of the rows ``ids`` kept, or None and why there is none.

    ``predictions`` passed :func:`tb_imbalance.core.class_ids`, which gave
    ``ids`` (a :class:`tb_imbalance.core.ClassIds`); rows it dropped
    (padding: weight 0 and no class) are dropped first, as in the matrix, so
    their scores (NaN, anything) do not matter.

    Example:
        >>> from tb_imbalance.core.counting import class_ids
        >>> scores = np.array([[0.9, 0.1], [np.nan, np.nan]])
        >>> ids = class_ids([0, -1], scores, sample_weight=[1.0, 0.0])
        >>> summary, why = kept_rows_summary(scores, ids)
        >>> summary.shape, float(summary[2, POSITIVES].sum())
        ((3, 3, 75), 1.0)
    """
    if ids.rows is not None:
        predictions = _as_numeric_array(predictions, "predictions")[ids.rows]
    probabilities, why = curve_probabilities(predictions, ids.num_classes, from_logits=from_logits)
    if probabilities is None:
        return None, why
    return _summary(probabilities, ids.true, ids.predicted, ids.weights, CURVE_BINS), ""


def _lowest_upper_score(dtype: np.dtype, bins: int) -> np.floating:
    """The smallest score of ``dtype`` outside bin 0: ``score × bins >= 1`` exactly as :func:`score_bins` rounds.

    Example:
        >>> float(_lowest_upper_score(np.dtype(np.float64), 4))
        0.25
    """
    kind = np.dtype(dtype).type
    scale = kind(bins)
    lowest = kind(1) / scale
    while lowest * scale < 1:
        lowest = np.nextafter(lowest, kind(1))
    while np.nextafter(lowest, kind(0)) * scale >= 1:
        lowest = np.nextafter(lowest, kind(0))
    return lowest


def _upper_bins(
    probabilities: np.ndarray, weights: np.ndarray | None, bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and score sums per (class, bin) of the scores outside bin 0, flat ``[C * bins]``.

    Returns ``(count, total, occupied)``: the rows (sums of weights with
    ``weights``), the score sums and the number of rows of non-zero weight
    (exact whole numbers, so that an empty bin is known to be empty). Bin 0's
    entries are left to the caller (they are what remains of each class's
    rows and scores): they hold 0, or partial sums it overwrites.
    """
    rows, num_classes = probabilities.shape
    cells = num_classes * bins
    count, total = np.zeros(cells), np.zeros(cells)
    occupied = count if weights is None else np.zeros(cells)
    block = max(1, _BLOCK_CELLS // max(1, num_classes))
    lowest = _lowest_upper_score(probabilities.dtype, bins)
    for start in range(0, rows, block):
        scores = probabilities[start : start + block]
        upper = scores >= lowest
        found = np.count_nonzero(upper)
        if not found:
            continue
        if found * _DENSE_SHARE > upper.size:
            # Many scores outside bin 0 (a few classes): bin every score.
            index = score_bins(scores, bins)
            np.minimum(index, bins - 1, out=index)
            index += np.arange(num_classes) * bins
            weight = None if weights is None else np.broadcast_to(weights[start : start + block, None], index.shape)
            count += np.bincount(index.ravel(), weights=None if weight is None else weight.ravel(), minlength=cells)
            if weight is not None:
                occupied += np.bincount(index.ravel(), weights=weight.ravel() > 0, minlength=cells)
            weighted = scores if weight is None else scores * weight
            total += np.bincount(index.ravel(), weights=weighted.ravel(), minlength=cells)
            continue
        flat = np.flatnonzero(upper)
        row, column = np.divmod(flat, num_classes)
        index = score_bins(scores.ravel()[flat], bins)
        index += column * bins
        if weights is None:
            count += np.bincount(index, minlength=cells)
            total += np.bincount(index, weights=scores.ravel()[flat], minlength=cells)
        else:
            weight = weights[start + row]
            count += np.bincount(index, weights=weight, minlength=cells)
            occupied += np.bincount(index, weights=weight > 0, minlength=cells)
            total += np.bincount(index, weights=scores.ravel()[flat] * weight, minlength=cells)
    return count, total, occupied


def curve_summary(
    probabilities: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    bins: int = CURVE_BINS,
) -> np.ndarray:
    """The binned one-vs-rest summary ``[C + 1, 3, bins]`` of probabilities (see the module docs).

    Summaries of batches add up: summed over an evaluation's batches they
    are the evaluation's summary, for ``log_matrix(..., curves=summed)``.

    Args:
        probabilities: ``[N, C]`` scores in ``[0, 1]`` (a softmax of
            logits, or :func:`curve_probabilities`), rows filtered like
            ``true``; numpy arrays or anything ``np.asarray`` reads;
            float16 (bfloat16, float8) binned in float32; a binary model's
            one sigmoid column ``p`` as ``np.stack([1 - p, p], axis=1)``.
        true, predicted: int class ids ``[N]`` (e.g. ``ids.true`` and
            ``ids.predicted`` of :func:`tb_imbalance.core.class_ids`).
        weights: non-negative float ``[N]`` sample weights, or None.
        bins: the number of bins.

    Raises:
        TypeError / ValueError: an argument of the wrong kind, shape or
            range (scores outside ``[0, 1]``, NaN, ids past ``C``, one
            score column, class ids), named with what to pass.

    Returns:
        float64 ``[C + 1, 3, bins]``: rows ``0…C−1`` are the classes
        (:data:`POSITIVES`, :data:`NEGATIVES`, :data:`SCORE_SUM`), row ``C``
        the top label (correct, wrong, confidence sum).

    Example:
        >>> summary = curve_summary(np.array([[0.7, 0.3]]), np.array([1]), np.array([0]), bins=5)
        >>> summary[0].tolist()  # class 0: one negative in bin 3, its score 0.7
        [[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.7, 0.0]]
    """
    probabilities = _binned_precision(_as_numeric_array(probabilities, "probabilities"))
    column = probabilities.ndim == 1 or (probabilities.ndim == 2 and probabilities.shape[1] == 1)
    if column and not np.issubdtype(probabilities.dtype, np.floating):
        raise ValueError(
            f"`probabilities` holds class ids ({probabilities.dtype}), and class ids give no curves; pass the "
            "scores [N, C] they were taken from (predict_proba, a softmax of the logits)"
        )
    if column:
        raise ValueError(
            f"`probabilities` is one score column {_shape(probabilities)}, a binary model's sigmoid p: pass "
            "np.stack([1 - p, p], axis=1) (tb_imbalance.core.curve_probabilities(p, 2) does it, and with "
            "from_logits=True takes the sigmoid of logits)"
        )
    if probabilities.ndim != 2 or not np.issubdtype(probabilities.dtype, np.floating):
        raise ValueError(
            f"`probabilities` must be float scores [N, C], received {probabilities.dtype} of shape "
            f"{_shape(probabilities)}"
        )
    _check_finite(probabilities, "probabilities")
    if probabilities.size and (probabilities.min() < 0.0 or probabilities.max() > 1.0):
        raise ValueError(
            f"`probabilities` must be in [0, 1], received values in [{probabilities.min():.6g}, "
            f"{probabilities.max():.6g}]: logits? apply a softmax first (torch.softmax(logits, dim=1), "
            "scipy.special.softmax(logits, axis=1))"
        )
    rows, num_classes = probabilities.shape
    checked = []
    for argument, ids in (("true", true), ("predicted", predicted)):
        ids = _as_numeric_array(ids, argument)
        if ids.shape != (rows,) or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"`{argument}` must be int class ids [{rows}], one per row of `probabilities`, received "
                f"{ids.dtype} of shape {_shape(ids)}"
            )
        checked.append(_check_range(ids, num_classes, argument))
    if weights is not None:
        weights = _as_numeric_array(weights, "weights").astype(np.float64)
        if weights.shape != (rows,):
            raise ValueError(f"`weights` must have shape [{rows}] (one per row), received {_shape(weights)}")
        _check_finite(weights, "weights")
        if weights.size and weights.min() < 0.0:
            raise ValueError(f"`weights` must be non-negative, received {weights.min()}")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"`bins` must be a positive int, received {bins!r}")
    return _summary(probabilities, checked[0], checked[1], weights, int(bins))


def _summary(
    probabilities: np.ndarray, true: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None, bins: int
) -> np.ndarray:
    """:func:`curve_summary` of checked arguments."""
    rows, num_classes = probabilities.shape
    cells = num_classes * bins
    weight = np.ones(rows) if weights is None else weights
    # Most scores of a wide model fall in bin 0: only the others are binned
    # one by one; bin 0 holds what is left of each class's rows and scores.
    upper_count, upper_sum, upper_rows = _upper_bins(probabilities, weights, bins)
    if weights is None:
        column_sum = probabilities.sum(axis=0, dtype=np.float64)
    else:
        column_sum = np.zeros(num_classes)
        block = max(1, _BLOCK_CELLS // max(1, num_classes))
        for start in range(0, rows, block):
            column_sum += weights[start : start + block] @ probabilities[start : start + block].astype(np.float64)
    rows_count = upper_count.reshape(num_classes, bins)
    score_sum = upper_sum.reshape(num_classes, bins)
    # Sums of weights left by a subtraction are only near 0 where a bin is
    # empty: the exact row counts say which bins are, and those hold 0.
    occupied = upper_rows.reshape(num_classes, bins).astype(np.int64)
    occupied[:, 0] = (rows if weights is None else np.count_nonzero(weights)) - occupied[:, 1:].sum(axis=1)
    rows_count[:, 0] = np.maximum(weight.sum() - rows_count[:, 1:].sum(axis=1), 0.0)
    score_sum[:, 0] = np.maximum(column_sum - score_sum[:, 1:].sum(axis=1), 0.0)
    own = score_bins(probabilities[np.arange(rows), true], bins) + true * bins
    positives = np.bincount(own, weights=weights, minlength=cells).reshape(num_classes, bins)
    positive_rows = positives if weights is None else np.bincount(own, weights=weights > 0, minlength=cells)
    negative_rows = occupied - positive_rows.reshape(num_classes, bins)
    summary = np.empty((num_classes + 1, 3, bins))
    summary[:num_classes, POSITIVES] = positives
    summary[:num_classes, NEGATIVES] = np.where(negative_rows > 0, np.maximum(rows_count - positives, 0.0), 0.0)
    score_sum[occupied == 0] = 0.0
    summary[:num_classes, SCORE_SUM] = score_sum
    # Bin 0's scores are below 1 / bins: where the subtractions' rounding (weights 1e11 apart) says more, it is noise.
    kept = summary[:num_classes, POSITIVES, 0] + summary[:num_classes, NEGATIVES, 0]
    np.minimum(summary[:num_classes, SCORE_SUM, 0], kept / bins, out=summary[:num_classes, SCORE_SUM, 0])
    confidence = probabilities[np.arange(rows), predicted]
    top = score_bins(confidence, bins)
    correct = predicted == true
    summary[num_classes, POSITIVES] = np.bincount(top[correct], weights=weight[correct], minlength=bins)
    summary[num_classes, NEGATIVES] = np.bincount(top[~correct], weights=weight[~correct], minlength=bins)
    summary[num_classes, SCORE_SUM] = np.bincount(top, weights=confidence * weight, minlength=bins)
    return summary
