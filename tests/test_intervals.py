"""Confidence intervals of :mod:`tb_imbalance.core` against statsmodels.

* :func:`core.wilson_interval` equals ``proportion_confint(k, n, method="wilson")``;
* :func:`core.newcombe_interval` equals ``confint_proportions_2indep(k1, n1, k2, n2,
  method="newcomb", compare="diff")`` (Newcombe 1998, method 10);
* :func:`core.per_class_intervals` and :func:`core.per_class_differences` apply
  them to the recall (correct / support) and precision (correct / predicted)
  of every class of seeded random confusion matrices, classes without support
  or predictions included;
* :func:`core.normal_quantile` equals ``scipy.stats.norm.ppf``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from tb_imbalance import core

CONFIDENCES = [0.95, 0.9, 0.99]


def _wilson_reference(k: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    low = np.full(k.shape, np.nan)
    high = np.full(k.shape, np.nan)
    defined = n > 0
    low[defined], high[defined] = proportion_confint(
        k[defined], n[defined], alpha=1 - confidence, method="wilson"
    )
    return low, high


def _newcombe_reference(k1, n1, k2, n2, confidence):
    low = np.full(k1.shape, np.nan)
    high = np.full(k1.shape, np.nan)
    defined = (n1 > 0) & (n2 > 0)
    for index in np.flatnonzero(defined):
        low[index], high[index] = confint_proportions_2indep(
            k1[index], n1[index], k2[index], n2[index], method="newcomb", compare="diff",
            alpha=1 - confidence,
        )
    return low, high


def _random_matrix(rng: np.random.Generator, num_classes: int) -> np.ndarray:
    """An imbalanced matrix; some classes have no support, some are never predicted."""
    priors = rng.dirichlet(np.full(num_classes, 0.6))
    support = rng.multinomial(int(rng.integers(20, 400)), priors)
    empty_rows = rng.choice(num_classes, size=max(1, num_classes // 5), replace=False)
    support[empty_rows] = 0
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true_class, count in enumerate(support):
        hit = rng.uniform(0.2, 0.98)
        weights = np.full(num_classes, (1 - hit) / (num_classes - 1))
        weights[true_class] = hit
        cm[true_class] = rng.multinomial(count, weights)
    never_predicted = rng.integers(num_classes)
    cm[:, never_predicted] = 0
    return cm


# --------------------------------------------------------------------------
# normal quantile
# --------------------------------------------------------------------------


def test_normal_quantile_equals_scipy():
    probabilities = np.concatenate(
        [np.logspace(-300, -1, 200), np.linspace(0.001, 0.999, 499), 1 - np.logspace(-15, -1, 100)]
    )
    for p in probabilities:
        expected = stats.norm.ppf(p)
        assert core.normal_quantile(p) == pytest.approx(expected, rel=1e-14, abs=1e-14), p
    assert core.normal_quantile(0.5) == 0.0
    assert core.normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-15)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, float("nan")])
def test_normal_quantile_refuses_probabilities_outside_the_open_interval(bad):
    with pytest.raises(ValueError, match="`probability` must be in \\(0, 1\\)"):
        core.normal_quantile(bad)
    with pytest.raises(TypeError, match="probability"):
        core.normal_quantile("0.5")


# --------------------------------------------------------------------------
# Wilson
# --------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_wilson_interval_equals_statsmodels_on_random_counts(confidence):
    rng = np.random.default_rng(20)
    n = np.concatenate([rng.integers(0, 12, 300), rng.integers(0, 5000, 300), [0, 0, 1, 1, 10**9]])
    k = np.floor(rng.random(n.size) * (n + 1)).astype(np.int64)
    k[-5:] = [0, 0, 0, 1, 10**9 - 1]
    low, high = core.wilson_interval(k, n, confidence=confidence)
    expected_low, expected_high = _wilson_reference(k, n, confidence)
    np.testing.assert_allclose(low, expected_low, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(high, expected_high, rtol=1e-12, atol=1e-13)
    assert np.array_equal(np.isnan(low), n == 0) and np.array_equal(np.isnan(high), n == 0)


def test_wilson_interval_bounds_hold_the_proportion_and_are_exact_at_the_ends():
    rng = np.random.default_rng(21)
    n = rng.integers(1, 300, 500)
    k = np.floor(rng.random(n.size) * (n + 1)).astype(np.int64)
    low, high = core.wilson_interval(k, n)
    p = k / n
    assert np.all((0 <= low) & (low <= p) & (p <= high) & (high <= 1))
    assert np.all(low[k == 0] == 0.0) and np.all(high[k == n] == 1.0)


def test_wilson_interval_of_sums_of_extreme_weights_neither_overflows_nor_underflows():
    """Sums of weights far from 1: the interval tends to [0, 1] as n -> 0 and to p as n grows."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or underflow of n * n warned before
        low, high = core.wilson_interval(np.array([3e-200, 3e200, 3e300]), np.array([8e-200, 8e200, 8e300]))
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(low[1:], 3 / 8, rtol=1e-12)
    np.testing.assert_allclose(high[1:], 3 / 8, rtol=1e-12)
    assert np.all(low[1:] <= 3 / 8) and np.all(high[1:] >= 3 / 8)


def test_wilson_interval_of_scalars_and_of_float_counts():
    low, high = core.wilson_interval(5, 32)
    assert isinstance(low, float) and isinstance(high, float)
    assert (low, high) == pytest.approx(proportion_confint(5, 32, method="wilson"), rel=1e-12)
    assert core.wilson_interval(5.0, 32.0) == (low, high)
    assert np.isnan(core.wilson_interval(0, 0)[0])
    # Broadcasting: one trial count for several success counts.
    low, _ = core.wilson_interval([0, 4, 8], 8)
    assert low.shape == (3,) and low[0] == 0.0


@pytest.mark.parametrize(
    ("successes", "trials", "confidence", "error", "fragment"),
    [
        (5, 4, 0.95, ValueError, "`successes` may not exceed `trials`"),
        (-1, 4, 0.95, ValueError, "`successes` must hold non-negative counts"),
        (1, -4, 0.95, ValueError, "`trials` must hold non-negative counts"),
        (float("nan"), 4, 0.95, ValueError, "NaN"),
        ([1, 2], [3, 4, 5], 0.95, ValueError, "same shape"),
        (1, 4, 95, ValueError, "`confidence` must be in \\(0, 1\\)"),
        (1, 4, 0.0, ValueError, "`confidence`"),
        (1, 4, "0.95", TypeError, "`confidence`"),
        (1, 4, True, TypeError, "`confidence`"),
        ("a", 4, 0.95, TypeError, "`successes`"),
    ],
)
def test_wilson_interval_names_bad_arguments(successes, trials, confidence, error, fragment):
    with pytest.raises(error, match=fragment):
        core.wilson_interval(successes, trials, confidence=confidence)


# --------------------------------------------------------------------------
# Newcombe
# --------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_newcombe_interval_equals_statsmodels_on_random_counts(confidence):
    rng = np.random.default_rng(30)
    size = 400
    n1 = np.concatenate([rng.integers(0, 15, size // 2), rng.integers(0, 3000, size // 2)])
    n2 = np.concatenate([rng.integers(0, 3000, size // 2), rng.integers(0, 15, size // 2)])
    k1 = np.floor(rng.random(size) * (n1 + 1)).astype(np.int64)
    k2 = np.floor(rng.random(size) * (n2 + 1)).astype(np.int64)
    low, high = core.newcombe_interval(k1, n1, k2, n2, confidence=confidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected_low, expected_high = _newcombe_reference(k1, n1, k2, n2, confidence)
    np.testing.assert_allclose(low, expected_low, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(high, expected_high, rtol=1e-12, atol=1e-13)
    undefined = (n1 == 0) | (n2 == 0)
    assert undefined.any() and np.array_equal(np.isnan(low), undefined)
    difference = np.where(undefined, np.nan, k1 / np.maximum(n1, 1) - k2 / np.maximum(n2, 1))
    defined = ~undefined
    assert np.all((low[defined] <= difference[defined]) & (difference[defined] <= high[defined]))
    assert np.all((low[defined] >= -1) & (high[defined] <= 1))


def test_newcombe_interval_of_scalars_and_extremes():
    low, high = core.newcombe_interval(60, 99, 45, 99)
    assert (low, high) == pytest.approx(
        confint_proportions_2indep(60, 99, 45, 99, method="newcomb", compare="diff"), rel=1e-12
    )
    # Equal perfect scores: the interval straddles 0, never "significant".
    low, high = core.newcombe_interval(30, 30, 30, 30)
    assert low < 0 < high
    assert np.isnan(core.newcombe_interval(0, 0, 1, 2)[0])
    with pytest.raises(ValueError, match="same shape"):
        core.newcombe_interval([1, 2], [3, 4], [1, 2, 3], [3, 4, 5])
    with pytest.raises(ValueError, match="`successes_b` may not exceed `trials_b`"):
        core.newcombe_interval(1, 2, 3, 2)


# --------------------------------------------------------------------------
# Per class, from confusion matrices
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_per_class_intervals_equal_statsmodels_on_random_matrices(seed):
    rng = np.random.default_rng(seed)
    cm = _random_matrix(rng, int(rng.integers(2, 30)))
    tp = np.diagonal(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    assert (support == 0).any() and (predicted == 0).any()
    bounds = core.per_class_intervals(cm)
    for score, denominator in (("recall", support), ("precision", predicted)):
        expected_low, expected_high = _wilson_reference(tp, denominator, 0.95)
        np.testing.assert_allclose(bounds[f"{score}_low"], expected_low, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(bounds[f"{score}_high"], expected_high, rtol=1e-12, atol=1e-13)
        assert np.array_equal(np.isnan(bounds[f"{score}_low"]), denominator == 0)


@pytest.mark.parametrize("seed", range(6))
def test_per_class_differences_equal_statsmodels_on_random_matrices(seed):
    rng = np.random.default_rng(100 + seed)
    num_classes = int(rng.integers(2, 25))
    cm, baseline = _random_matrix(rng, num_classes), _random_matrix(rng, num_classes)
    result = core.per_class_differences(cm, baseline)
    for score, axis in (("recall", 1), ("precision", 0)):
        k1, n1 = np.diagonal(cm), cm.sum(axis=axis)
        k2, n2 = np.diagonal(baseline), baseline.sum(axis=axis)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected_low, expected_high = _newcombe_reference(k1, n1, k2, n2, 0.95)
        undefined = (n1 == 0) | (n2 == 0)
        assert undefined.any()
        np.testing.assert_allclose(result[f"{score}_low"], expected_low, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(result[f"{score}_high"], expected_high, rtol=1e-12, atol=1e-13)
        delta = result[f"{score}_delta"]
        assert np.array_equal(np.isnan(delta), undefined)
        defined = ~undefined
        expected_delta = k1[defined] / n1[defined] - k2[defined] / n2[defined]
        np.testing.assert_allclose(delta[defined], expected_delta, rtol=1e-12, atol=1e-15)
        excludes_zero = (expected_low > 0) | (expected_high < 0)
        assert result[f"{score}_significant"].tolist() == (defined & excludes_zero).tolist()


def test_per_class_differences_find_a_real_difference_and_ignore_noise():
    baseline = np.array([[900, 100], [60, 40]])
    better = np.array([[900, 100], [25, 75]])
    same = np.array([[905, 95], [58, 42]])
    assert core.per_class_differences(better, baseline)["recall_significant"].tolist() == [False, True]
    assert not core.per_class_differences(same, baseline)["recall_significant"].any()
    assert not core.per_class_differences(baseline, baseline)["precision_significant"].any()


def test_per_class_functions_validate_their_matrices():
    with pytest.raises(ValueError, match="same classes"):
        core.per_class_differences(np.eye(3, dtype=int), np.eye(2, dtype=int))
    with pytest.raises(ValueError, match="`baseline_cm` must hold non-negative counts"):
        core.per_class_differences(np.eye(2, dtype=int), -np.eye(2, dtype=int))
    with pytest.raises(ValueError, match="square"):
        core.per_class_intervals(np.ones((2, 3)))
    with pytest.raises(ValueError, match="`confidence`"):
        core.per_class_intervals(np.eye(2), confidence=1.0)
