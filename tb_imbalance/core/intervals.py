"""Confidence intervals: how sure a per-class score is, and whether two runs differ.

Wilson score intervals for one proportion and Newcombe's hybrid score
interval for a difference of two; the oracles in the tests are statsmodels'.

Example:
    >>> low, high = wilson_interval(8, 10)
    >>> round(low, 3), round(high, 3)
    (0.49, 0.943)
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from tb_imbalance.core.numeric_arrays import _as_numeric_array, _check_finite, _shape
from tb_imbalance.core.metrics import _per_class_metrics, per_class_metrics
from tb_imbalance.core.validators import validate_matrix

__all__ = [
    "DEFAULT_CONFIDENCE",
    "normal_quantile",
    "wilson_interval",
    "newcombe_interval",
    "per_class_intervals",
    "per_class_differences",
]

#: Confidence level of the intervals the dashboard shows.
DEFAULT_CONFIDENCE = 0.95

_STANDARD_NORMAL = NormalDist()
#: The two-sided normal quantile of :data:`DEFAULT_CONFIDENCE` (1.96).
_DEFAULT_Z = _STANDARD_NORMAL.inv_cdf(1.0 - (1.0 - DEFAULT_CONFIDENCE) / 2.0)


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (inverse CDF), without scipy.

    ``statistics.NormalDist().inv_cdf`` of the standard library, with the
    argument checked.

    Args:
        probability: in ``(0, 1)``.

    Returns:
        ``z`` with ``P(Z <= z) = probability`` for a standard normal ``Z``
        (equal to ``scipy.stats.norm.ppf`` to about 1e-15).

    Raises:
        TypeError: ``probability`` is not a number.
        ValueError: ``probability`` is not in ``(0, 1)``.

    Example:
        >>> round(normal_quantile(0.975), 6)
        1.959964
    """
    if isinstance(probability, bool) or not isinstance(probability, (int, float, np.floating, np.integer)):
        raise TypeError(f"`probability` must be a number in (0, 1), received {probability!r}")
    p = float(probability)
    if not 0.0 < p < 1.0:
        raise ValueError(f"`probability` must be in (0, 1), received {probability!r}")
    return _STANDARD_NORMAL.inv_cdf(p)


def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating, np.integer)):
        raise TypeError(f"`confidence` must be a number in (0, 1) such as 0.95, received {confidence!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            f"`confidence` must be in (0, 1) (e.g. 0.95 for a 95% interval), received {confidence!r}"
        )
    return float(confidence)


def _two_sided_z(confidence: Any) -> float:
    """The normal quantile of a two-sided interval at ``confidence`` (1.96 for 0.95)."""
    return normal_quantile(1.0 - (1.0 - _check_confidence(confidence)) / 2.0)


def _check_counts(successes: Any, trials: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for value, name in zip((successes, trials), names):
        array = _as_numeric_array(value, name).astype(np.float64)
        _check_finite(array, name)
        if array.size and array.min() < 0:
            raise ValueError(f"`{name}` must hold non-negative counts, received {array.min()}")
        arrays.append(array)
    try:
        k, n = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must have the same shape (or broadcast), received "
            f"{_shape(arrays[0])} and {_shape(arrays[1])}"
        ) from None
    if np.any(k > n):
        where = int(np.flatnonzero((k > n).reshape(-1))[0])
        raise ValueError(
            f"`{names[0]}` may not exceed `{names[1]}`, received {k.reshape(-1)[where]:g} successes "
            f"out of {n.reshape(-1)[where]:g} trials (at flat index {where})"
        )
    return k, n


def _scalar_or_array(value: np.ndarray) -> Any:
    return float(value) if value.ndim == 0 else value


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds of ``k / n`` (NaN where ``n == 0``), clipped to [0, 1]."""
    # The usual form times n / n: no n * n, which under- or overflows for sums of extreme weights.
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = z * z
        share_missed = np.where(n > 0, (n - k) / n, 0.0)
        centre = (k + z2 / 2.0) / (n + z2)
        half_width = z * np.sqrt(k * share_missed + z2 / 4.0) / (n + z2)
        low = np.clip(centre - half_width, 0.0, 1.0)
        high = np.clip(centre + half_width, 0.0, 1.0)
    # Exact ends for 0 and n successes (the formula gives them up to rounding).
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def wilson_interval(
    successes: Any, trials: Any, *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[Any, Any]:
    """Wilson score interval for a proportion ``successes / trials``.

    Unlike the normal ("Wald") interval it stays inside ``[0, 1]`` and keeps
    its coverage for small ``trials`` and proportions near 0 or 1 — the rare
    classes of an imbalanced problem. Equals statsmodels'
    ``proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")``.

    Args:
        successes: counts ``k`` (scalar or array), e.g. correct predictions
            of a class.
        trials: counts ``n`` of independent trials, broadcastable with
            ``successes``, e.g. the class's support. Sums of sample weights
            are not counts of trials: the interval does not apply to them.
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``(low, high)``: floats for scalar inputs, else float64 arrays; NaN
        where ``trials`` is 0 (the proportion is undefined).

    Raises:
        TypeError: non-numeric input or ``confidence``.
        ValueError: negative or non-finite counts, ``successes > trials``,
            shapes that do not broadcast, ``confidence`` outside ``(0, 1)``.

    Example:
        >>> low, high = wilson_interval(5, 32)
        >>> round(low, 4), round(high, 4)
        (0.0686, 0.3175)
        >>> wilson_interval([0, 3], [0, 3])[1].tolist()
        [nan, 1.0]
    """
    z = _two_sided_z(confidence)
    k, n = _check_counts(successes, trials, ("successes", "trials"))
    low, high = _wilson(k, n, z)
    return _scalar_or_array(low), _scalar_or_array(high)


def newcombe_interval(
    successes_a: Any,
    trials_a: Any,
    successes_b: Any,
    trials_b: Any,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[Any, Any]:
    """Newcombe's hybrid score interval for ``p_a − p_b`` of two independent proportions.

    Method 10 of Newcombe (Statistics in Medicine, 1998): it combines the
    Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` of the two
    proportions into ``(d − √((p_a − l_a)² + (u_b − p_b)²),
    d + √((u_a − p_a)² + (p_b − l_b)²))`` with ``d = p_a − p_b``. Equals
    statsmodels' ``confint_proportions_2indep(successes_a, trials_a,
    successes_b, trials_b, method="newcomb", compare="diff",
    alpha=1 - confidence)``.

    The two samples are taken as independent. Two models scored on the same
    validation set are paired, not independent; for them the interval is
    conservative (wider than a paired interval), so a difference it calls
    significant is one all the more.

    Args:
        successes_a, trials_a: counts of the first proportion (arrays
            broadcast together).
        successes_b, trials_b: counts of the second.
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``(low, high)`` bounds of ``p_a − p_b``: floats for scalar inputs,
        else float64 arrays; NaN where either ``trials`` is 0.

    Raises:
        TypeError, ValueError: as :func:`wilson_interval`.

    Example:
        >>> low, high = newcombe_interval(60, 99, 45, 99)
        >>> round(low, 4), round(high, 4)
        (0.0126, 0.2824)
    """
    z = _two_sided_z(confidence)
    k_a, n_a = _check_counts(successes_a, trials_a, ("successes_a", "trials_a"))
    k_b, n_b = _check_counts(successes_b, trials_b, ("successes_b", "trials_b"))
    try:
        k_a, n_a, k_b, n_b = np.broadcast_arrays(k_a, n_a, k_b, n_b)
    except ValueError:
        raise ValueError(
            f"the counts of the two proportions must have the same shape (or broadcast), received "
            f"{_shape(k_a)} and {_shape(k_b)}"
        ) from None
    low, high = _newcombe(k_a, n_a, k_b, n_b, z)
    return _scalar_or_array(low), _scalar_or_array(high)


def _newcombe(
    k_a: np.ndarray, n_a: np.ndarray, k_b: np.ndarray, n_b: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    low_a, high_a = _wilson(k_a, n_a, z)
    low_b, high_b = _wilson(k_b, n_b, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = k_a / n_a
        p_b = k_b / n_b
    difference = p_a - p_b
    low = difference - np.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + np.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return low, high


def per_class_intervals(cm: Any, *, confidence: float = DEFAULT_CONFIDENCE) -> dict[str, np.ndarray]:
    """Wilson intervals of every class's recall and precision.

    Recall is ``correct / support`` (row sum), precision ``correct /
    predicted`` (column sum), as in :func:`per_class_metrics`.

    Args:
        cm: ``[C, C]`` confusion matrix of counts (not sums of weights).
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``recall_low``, ``recall_high``, ``precision_low``,
        ``precision_high``: float64 arrays of length C, NaN where the
        denominator is 0 (a class without support, or never predicted).

    Raises:
        ValueError / TypeError: as :func:`validate_matrix`, or a bad
            ``confidence``.

    Example:
        >>> bounds = per_class_intervals([[50, 2], [3, 5]])
        >>> bounds["recall_low"].round(4).tolist(), bounds["recall_high"].round(4).tolist()
        ([0.8702, 0.3057], [0.9894, 0.8632])
    """
    z = _two_sided_z(confidence)
    return _per_class_intervals(per_class_metrics(cm), z)


def _per_class_intervals(stats: dict[str, np.ndarray], z: float = _DEFAULT_Z) -> dict[str, np.ndarray]:
    """:func:`per_class_intervals` from the :func:`~tb_imbalance.core.metrics._per_class_metrics` of a checked
    matrix, at the two-sided normal quantile ``z`` (1.96 for 95%), not checked again.

    Example:
        >>> from tb_imbalance.core.metrics import _per_class_metrics
        >>> _per_class_intervals(_per_class_metrics(validate_matrix([[50, 2], [3, 5]])))["recall_high"].round(4).tolist()
        [0.9894, 0.8632]
    """
    tp = stats["tp"]
    recall_low, recall_high = _wilson(tp, stats["support"].astype(np.float64), z)
    precision_low, precision_high = _wilson(tp, stats["predicted"].astype(np.float64), z)
    return {
        "recall_low": recall_low,
        "recall_high": recall_high,
        "precision_low": precision_low,
        "precision_high": precision_high,
    }


def per_class_differences(
    cm: Any, baseline_cm: Any, *, confidence: float = DEFAULT_CONFIDENCE
) -> dict[str, np.ndarray]:
    """Per-class recall and precision of ``cm`` minus ``baseline_cm``, with intervals.

    Each difference gets Newcombe's hybrid score interval
    (:func:`newcombe_interval`), treating the two matrices as independent
    samples; it is *significant* when the interval excludes 0.

    Args:
        cm: ``[C, C]`` confusion matrix of counts (the run).
        baseline_cm: ``[C, C]`` confusion matrix of counts of the same
            classes, in the same order (the baseline).
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        For ``recall`` and ``precision``: ``<score>_delta``,
        ``<score>_low``, ``<score>_high`` (float64 arrays of length C, NaN
        where a class has no support — no predictions, for precision — in
        either matrix) and ``<score>_significant`` (bool, False where
        undefined).

    Raises:
        ValueError / TypeError: an invalid matrix, matrices of different
            shapes, or a bad ``confidence``.

    Example:
        >>> result = per_class_differences([[90, 10], [2, 8]], [[95, 5], [6, 4]])
        >>> result["recall_delta"].round(2).tolist()
        [-0.05, 0.4]
        >>> result["recall_significant"].tolist()
        [False, False]
    """
    z = _two_sided_z(confidence)
    run = per_class_metrics(cm)
    baseline = _per_class_metrics(validate_matrix(baseline_cm, "baseline_cm"))
    if run["tp"].shape != baseline["tp"].shape:
        raise ValueError(
            f"`cm` and `baseline_cm` must have the same classes, received {run['tp'].shape[0]} and "
            f"{baseline['tp'].shape[0]} classes"
        )
    return _per_class_differences(run, baseline, z)


def _per_class_differences(
    run: dict[str, np.ndarray], baseline: dict[str, np.ndarray], z: float = _DEFAULT_Z
) -> dict[str, np.ndarray]:
    """:func:`per_class_differences` from the :func:`~tb_imbalance.core.metrics._per_class_metrics` of two checked
    matrices of the same classes, at the two-sided normal quantile ``z``, not checked again.

    Example:
        >>> from tb_imbalance.core.metrics import _per_class_metrics
        >>> run, baseline = (_per_class_metrics(validate_matrix(cm)) for cm in ([[90, 10], [2, 8]], [[95, 5], [6, 4]]))
        >>> _per_class_differences(run, baseline)["recall_delta"].round(2).tolist()
        [-0.05, 0.4]
    """
    result: dict[str, np.ndarray] = {}
    for score, denominator in (("recall", "support"), ("precision", "predicted")):
        k_a, n_a = run["tp"], run[denominator].astype(np.float64)
        k_b, n_b = baseline["tp"], baseline[denominator].astype(np.float64)
        low, high = _newcombe(k_a, n_a, k_b, n_b, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = k_a / n_a - k_b / n_b
        defined = (n_a > 0) & (n_b > 0)
        result[f"{score}_delta"] = np.where(defined, delta, np.nan)
        result[f"{score}_low"] = np.where(defined, low, np.nan)
        result[f"{score}_high"] = np.where(defined, high, np.nan)
        result[f"{score}_significant"] = defined & ((low > 0) | (high < 0))
    return result
