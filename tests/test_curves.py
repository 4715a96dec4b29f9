"""The curves core (tb_imbalance.core.binned_scores, tb_imbalance.core.curves) against scikit-learn.

On scores quantised to the bins (each score replaced by its bin's lower edge)
scikit-learn's ``average_precision_score``, ``roc_auc_score``,
``precision_recall_curve`` and ``roc_curve`` give exactly the logged values;
on the raw scores AP and ROC-AUC stay within the documented tolerance. The
calibration errors are checked against a direct per-row computation (and
against torchmetrics in ``tests/any_backend/test_curves_inputs.py``), the
reliability diagrams against scikit-learn's ``calibration_curve``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import tb_imbalance
from tb_imbalance import core

#: How far AP and ROC-AUC on 75 bins may be from scikit-learn's on raw scores (docs/format.md).
RAW_SCORE_TOLERANCE = 0.02


def _data(seed: int, rows: int, classes: int, *, skew: float = 2.0, weighted: bool = False):
    rng = np.random.default_rng(seed)
    prior = np.exp(-skew * np.arange(classes) / classes)
    true = rng.choice(classes, size=rows, p=prior / prior.sum())
    logits = rng.normal(size=(rows, classes)) + 2.5 * np.eye(classes)[true]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    weights = rng.uniform(0.1, 3.0, size=rows) if weighted else None
    return true, probabilities, weights


def _summary(true, probabilities, weights=None):
    return core.curve_summary(probabilities, true, probabilities.argmax(axis=1), weights)


@pytest.mark.parametrize("seed,rows,classes,weighted", [(0, 500, 3, False), (1, 2000, 10, False), (2, 800, 6, True)])
def test_ap_and_auc_equal_scikit_learn_on_quantised_scores(seed, rows, classes, weighted):
    true, probabilities, weights = _data(seed, rows, classes, weighted=weighted)
    result = core.curve_metrics(_summary(true, probabilities, weights))
    quantised = core.quantise_scores(probabilities)
    for c in range(classes):
        is_class = true == c
        expected_ap = skm.average_precision_score(is_class, quantised[:, c], sample_weight=weights)
        expected_auc = skm.roc_auc_score(is_class, quantised[:, c], sample_weight=weights)
        assert result["per_class"]["average_precision"][c] == pytest.approx(expected_ap, abs=1e-12)
        assert result["per_class"]["roc_auc"][c] == pytest.approx(expected_auc, abs=1e-12)
    assert result["metrics"]["macro_average_precision"] == pytest.approx(
        np.mean(result["per_class"]["average_precision"]), abs=1e-15
    )
    one_hot = np.eye(classes)[true]
    expected_macro_auc = skm.roc_auc_score(one_hot, quantised, average="macro", sample_weight=weights)
    assert result["metrics"]["macro_roc_auc"] == pytest.approx(expected_macro_auc, abs=1e-12)


def test_ap_and_auc_on_raw_scores_are_within_the_documented_tolerance():
    true, probabilities, _ = _data(3, 5000, 10)
    result = core.curve_metrics(_summary(true, probabilities))
    for c in range(10):
        raw_ap = skm.average_precision_score(true == c, probabilities[:, c])
        raw_auc = skm.roc_auc_score(true == c, probabilities[:, c])
        assert abs(result["per_class"]["average_precision"][c] - raw_ap) < RAW_SCORE_TOLERANCE
        assert abs(result["per_class"]["roc_auc"][c] - raw_auc) < RAW_SCORE_TOLERANCE


@pytest.mark.parametrize("weighted", [False, True])
def test_curves_equal_scikit_learn_curves_on_quantised_scores(weighted):
    true, probabilities, weights = _data(4, 600, 4, weighted=weighted)
    summary = _summary(true, probabilities, weights)
    quantised = core.quantise_scores(probabilities)
    for c in range(4):
        precision, recall, thresholds = skm.precision_recall_curve(true == c, quantised[:, c], sample_weight=weights)
        ours = core.pr_curve(summary[c])
        np.testing.assert_allclose(ours["precision"], precision, atol=1e-12)
        np.testing.assert_allclose(ours["recall"], recall, atol=1e-12)
        np.testing.assert_allclose(ours["thresholds"], thresholds, atol=1e-15)
        fpr, tpr, roc_thresholds = skm.roc_curve(
            true == c, quantised[:, c], sample_weight=weights, drop_intermediate=False
        )
        roc = core.roc_curve(summary[c])
        np.testing.assert_allclose(roc["fpr"], fpr, atol=1e-12)
        np.testing.assert_allclose(roc["tpr"], tpr, atol=1e-12)
        assert roc["thresholds"][0] is None and np.isinf(roc_thresholds[0])
        np.testing.assert_allclose(roc["thresholds"][1:], roc_thresholds[1:], atol=1e-15)


@pytest.mark.parametrize("weighted", [False, True])
def test_threshold_table_equals_scikit_learns_counts_at_every_threshold(weighted):
    true, probabilities, weights = _data(5, 400, 3, weighted=weighted)
    summary = _summary(true, probabilities, weights)
    quantised = core.quantise_scores(probabilities)
    bins = summary.shape[2]
    table = core.threshold_table(summary)
    assert table.shape == (3, 6, bins + 1)
    for c in range(3):
        for i in range(bins + 1):
            predicted = quantised[:, c] >= i / bins - 1e-12  # at threshold i: the bins i and above
            (tn, fp), (fn, tp) = skm.confusion_matrix(true == c, predicted, labels=[False, True], sample_weight=weights)
            precision = skm.precision_score(true == c, predicted, sample_weight=weights, zero_division=0)
            recall = skm.recall_score(true == c, predicted, sample_weight=weights, zero_division=0)
            np.testing.assert_allclose(table[c, :, i], [tp, fp, tn, fn, precision, recall], rtol=1e-12, atol=1e-12)
    assert table[:, 0, -1].sum() == 0 and table[:, 1, -1].sum() == 0  # the last threshold, 1.0, predicts nothing
    with pytest.raises(ValueError, match=r"`summary` must be a curve summary \[C \+ 1, 3, B\]"):
        core.threshold_table(summary[0])


def _calibration_by_rows(confidence, hits, weights):
    """Expected calibration error, 15 equal-width bins, straight from the rows."""
    weights = np.ones(len(confidence)) if weights is None else weights
    bins = np.minimum((confidence * 15).astype(int), 14)
    total = 0.0
    for b in range(15):
        inside = bins == b
        if inside.any():
            total += abs(np.sum(weights[inside] * hits[inside]) - np.sum(weights[inside] * confidence[inside]))
    return total / weights.sum()


@pytest.mark.parametrize("weighted", [False, True])
def test_calibration_errors_equal_a_per_row_computation(weighted):
    true, probabilities, weights = _data(5, 3000, 7, weighted=weighted)
    # 15-bin edges of the merged 75 bins are those of floor(score * 15) except for
    # float rounding right at an edge; nudge the data off the edges.
    probabilities = np.clip(probabilities, 1e-9, 1 - 1e-9)
    result = core.curve_metrics(_summary(true, probabilities, weights))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    expected_top = _calibration_by_rows(confidence, (predicted == true).astype(float), weights)
    assert result["metrics"]["expected_calibration_error"] == pytest.approx(expected_top, abs=1e-12)
    per_class = [_calibration_by_rows(probabilities[:, c], (true == c).astype(float), weights) for c in range(7)]
    np.testing.assert_allclose(result["per_class"]["calibration_error"], per_class, atol=1e-12)
    assert result["metrics"]["classwise_calibration_error"] == pytest.approx(np.mean(per_class), abs=1e-12)


def test_hand_computed_two_class_case():
    # Class 1 scores: positives 0.9, 0.5; negatives 0.7, 0.1.
    probabilities = np.array([[0.1, 0.9], [0.5, 0.5], [0.3, 0.7], [0.9, 0.1]])
    true = np.array([1, 1, 0, 0])
    result = core.curve_metrics(_summary(true, probabilities))
    # Ranking 0.9 (P), 0.7 (N), 0.5 (P), 0.1 (N): AP = 1/2 * 1 + 1/2 * 2/3; AUC = 3 of 4 pairs.
    assert result["per_class"]["average_precision"][1] == pytest.approx(0.5 + 1 / 3)
    assert result["per_class"]["roc_auc"][1] == pytest.approx(0.75)
    # The argmax of row 1 is class 0 (first of a tie): confidences 0.9 (right), 0.5 (wrong),
    # 0.7 (wrong), 0.9 (right) -> |2 - 1.8| + |0 - 0.5| + |0 - 0.7| over 4 rows.
    assert result["metrics"]["expected_calibration_error"] == pytest.approx((0.2 + 0.5 + 0.7) / 4)


def test_undefined_values_are_none_and_left_out_of_the_means():
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    true = np.array([0, 1, 1])  # class 2 has no positives
    result = core.curve_metrics(_summary(true, probabilities))
    assert result["per_class"]["average_precision"][2] is None
    assert result["per_class"]["roc_auc"][2] is None
    assert result["per_class"]["calibration_error"][2] == pytest.approx(0.1)  # defined: rows exist
    defined = result["per_class"]["average_precision"][:2]
    assert result["metrics"]["macro_average_precision"] == pytest.approx(np.mean(defined))
    everything_one_class = core.curve_metrics(_summary(np.array([0, 0]), np.array([[0.6, 0.4], [0.9, 0.1]])))
    assert everything_one_class["per_class"]["roc_auc"] == [None, None]
    assert everything_one_class["metrics"]["macro_roc_auc"] is None


def test_reliability_bins_match_the_rows():
    true, probabilities, _ = _data(6, 400, 3)
    probabilities = np.clip(probabilities, 1e-9, 1 - 1e-9)
    diagram = core.reliability(_summary(true, probabilities)[1])
    bins = np.minimum((probabilities[:, 1] * 15).astype(int), 14)
    for b in range(15):
        inside = bins == b
        assert diagram["rows"][b] == inside.sum()
        if inside.any():
            assert diagram["mean_score"][b] == pytest.approx(probabilities[inside, 1].mean())
            assert diagram["observed_frequency"][b] == pytest.approx((true[inside] == 1).mean())
        else:
            assert diagram["mean_score"][b] is None and diagram["observed_frequency"][b] is None


def test_reliability_equals_scikit_learns_calibration_curve_off_the_bin_edges():
    # calibration_curve's uniform bins put a score on an edge in the bin below (searchsorted),
    # the package's in the bin above ([m/15, (m+1)/15)); the data stay off the edges.
    from sklearn.calibration import calibration_curve

    true, probabilities, _ = _data(8, 1500, 4)
    probabilities = np.clip(probabilities, 1e-9, 1 - 1e-9)
    edges = np.arange(16) / 15
    assert np.abs(probabilities[..., None] - edges).min() > 1e-12
    summary = _summary(true, probabilities)
    for c in range(4):
        diagram = core.reliability(summary[c])
        observed, mean_score = calibration_curve(true == c, probabilities[:, c], n_bins=15, strategy="uniform")
        filled = [b for b in range(15) if diagram["rows"][b] > 0]
        np.testing.assert_allclose([diagram["observed_frequency"][b] for b in filled], observed, rtol=1e-12)
        np.testing.assert_allclose([diagram["mean_score"][b] for b in filled], mean_score, rtol=1e-12)
    top = core.reliability(summary[-1])
    confidence = probabilities.max(axis=1)
    observed, mean_score = calibration_curve(probabilities.argmax(axis=1) == true, confidence, n_bins=15)
    filled = [b for b in range(15) if top["rows"][b] > 0]
    np.testing.assert_allclose([top["observed_frequency"][b] for b in filled], observed, rtol=1e-12)
    np.testing.assert_allclose([top["mean_score"][b] for b in filled], mean_score, rtol=1e-12)


def test_summary_counts_every_row_once_per_class_and_blocks_do_not_change_it(monkeypatch):
    true, probabilities, weights = _data(7, 1000, 5, weighted=True)
    summary = _summary(true, probabilities, weights)
    np.testing.assert_allclose(summary[:5, 0].sum(axis=1), np.bincount(true, weights=weights, minlength=5))
    np.testing.assert_allclose(summary[:5, :2].sum(axis=(1, 2)), np.full(5, weights.sum()))
    np.testing.assert_allclose(summary[:5, 2].sum(axis=1), (probabilities * weights[:, None]).sum(axis=0))
    monkeypatch.setattr("tb_imbalance.core.binned_scores._BLOCK_CELLS", 7)
    np.testing.assert_allclose(_summary(true, probabilities, weights), summary, atol=1e-9)


def test_curve_probabilities_reads_each_kind_of_prediction():
    assert core.curve_probabilities(np.array([0, 1, 1]), 2)[0] is None
    column, _ = core.curve_probabilities(np.array([0.2, 0.9]), 2)
    np.testing.assert_allclose(column, [[0.8, 0.2], [0.1, 0.9]])
    logits_column, _ = core.curve_probabilities(np.array([[0.0], [2.0]]), 2, from_logits=True)
    np.testing.assert_allclose(logits_column[:, 1], 1 / (1 + np.exp(-np.array([0.0, 2.0]))))
    softmax, _ = core.curve_probabilities(np.array([[1.0, 2.0, 3.0]]), 3, from_logits=True)
    np.testing.assert_allclose(softmax, np.exp([[1.0, 2.0, 3.0]]) / np.exp([1.0, 2.0, 3.0]).sum())
    refused, why = core.curve_probabilities(np.array([[1.0, -2.0, 3.0]]), 3)
    assert refused is None and "from_logits=True" in why
    _, overshoot = core.curve_probabilities(np.array([[1.0000001, 0.0], [0.5, 0.5]]), 2)
    assert "[0.0, 1.0000001], outside [0, 1]" in overshoot and "np.clip(scores, 0, 1)" in overshoot
    half, _ = core.curve_probabilities(np.array([[0.1, 0.9]], dtype=np.float16), 2)
    assert half.dtype == np.float32


def test_validate_curve_summary_names_the_argument_and_the_fix(tmp_path):
    fix = "build it with tb_imbalance.core.curve_summary"
    with pytest.raises(ValueError, match=r"`curves` must be a curve summary \[C \+ 1, 3, 75\] with C = 2.*" + fix):
        core.validate_curve_summary(np.zeros((2, 3, 75)), 2)
    for bins in (0, 15, 150):  # the tag's curves all have the 75 bins the dashboard reads
        with pytest.raises(ValueError, match=r"received shape \(3, 3, %d\)" % bins):
            core.validate_curve_summary(np.zeros((3, 3, bins)), 2)
    with pytest.raises(ValueError, match="finite non-negative"):
        core.validate_curve_summary(np.full((3, 3, 75), -1.0), 2)
    with pytest.raises(TypeError, match="`curves` must be a numeric curve summary"):
        core.validate_curve_summary([["a"]], 2)

    for flag in (True, False, np.True_):  # log_report's flag, given where the summary goes
        with pytest.raises(TypeError, match=r"`curves` of a counted matrix is its binned scores \[C \+ 1, 3, 75\], not a "
                           r"flag, received %s; pass None for no curves, or " % flag + fix):
            tb_imbalance.log_matrix(tmp_path, [[3, 1], [0, 2]], 0, curves=flag)
    assert not list(tmp_path.iterdir())
    tb_imbalance.log_matrix(tmp_path, [[3, 1], [0, 2]], 0, curves=None)


def test_curve_functions_read_lists_and_name_a_summary_they_cannot_read():
    true, probabilities = np.array([0, 1, 1, 0]), np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2]])
    summary = _summary(true, probabilities)
    assert core.curve_metrics(summary.tolist()) == core.curve_metrics(summary)  # a summary read back from JSON
    assert core.curve_metrics(summary)["per_class"]["average_precision"] == [1.0, 1.0]
    assert core.pr_curve(summary[1].tolist()) == core.pr_curve(summary[1])
    assert core.roc_curve(summary[1].tolist()) == core.roc_curve(summary[1])
    top_label = core.reliability(summary[2].tolist())  # confidences 0.9, 0.7, 0.8 right and 0.6 wrong
    assert top_label == core.reliability(summary[2])
    assert top_label["observed_frequency"] == [None] * 9 + [0.0, 1.0, None, 1.0, 1.0, None]
    fix = r"pass the summary of tb_imbalance.core.curve_summary \(one class's rows: summary\[c\]\)"
    with pytest.raises(ValueError, match=r"`summary` must be a curve summary \[C \+ 1, 3, B\], received shape \(3, 75\); " + fix):
        core.curve_metrics(summary[0])
    for function in (core.pr_curve, core.roc_curve, core.reliability):
        with pytest.raises(ValueError, match=r"`rows` must be a curve summary \[3, B\], received shape \(3, 3, 75\); " + fix):
            function(summary)
    with pytest.raises(TypeError, match="`summary` must be a numeric curve summary"):
        core.curve_metrics([["a"]])
    ten = core.curve_summary(probabilities, true, probabilities.argmax(axis=1), bins=10)
    assert core.pr_curve(ten[1])["recall"] == [1.0, 1.0, 1.0, 0.5, 0.0]  # curves take any bins: scores 0.1, 0.2, 0.4, 0.7
    calibration = r"has 10 bins, which do not merge into the 15 calibration bins; build it with curve_summary's default bins \(75\)"
    with pytest.raises(ValueError, match="`summary` " + calibration):
        core.curve_metrics(ten)
    with pytest.raises(ValueError, match="`rows` " + calibration):
        core.reliability(ten[2])
    fifteen = core.curve_summary(probabilities, true, probabilities.argmax(axis=1), bins=15)
    assert core.curve_metrics(fifteen)["per_class"]["roc_auc"] == [1.0, 1.0]


def test_weights_eleven_orders_apart_give_a_summary_the_writers_accept():
    # Bin 0 is what is left after the other bins: with weights 1e9 and 1e-6 its score sum is rounding
    # noise above its edge, and log_report refused its own summary.
    rng = np.random.default_rng(16)
    for _ in range(40):
        true = rng.integers(0, 2, 200)
        positive = rng.random(200) * 0.98 + 0.02
        positive[:3] = 0.012
        weights = 1e9 * rng.random(200)
        weights[:3] = 1e-6 * rng.random(3)
        summary = core.curve_summary(np.column_stack([1 - positive, positive]), true, (positive > 0.5).astype(int), weights)
        core.validate_curve_summary(summary, 2)
        whole = core.curve_metrics(summary)["metrics"]
        assert whole["macro_average_precision"] == pytest.approx(
            np.mean([skm.average_precision_score(true == c, core.quantise_scores(np.column_stack([1 - positive, positive]))[:, c],
                                                 sample_weight=weights) for c in range(2)]), abs=1e-9)


def test_curve_summary_checks_what_a_per_batch_recipe_hands_it():
    scores = np.array([[0.7, 0.3], [0.2, 0.8]])
    np.testing.assert_array_equal(
        core.curve_summary(scores.tolist(), [0, 1], [0, 1]), core.curve_summary(scores, np.array([0, 1]), np.array([0, 1]))
    )
    with pytest.raises(ValueError, match=r"`probabilities` must be in \[0, 1\].*apply a softmax first"):
        core.curve_summary(np.array([[2.0, -1.0], [0.5, 0.1]]), np.array([0, 1]), np.array([0, 0]))
    with pytest.raises(ValueError, match=r"`probabilities` contains NaN.*row 1, column 0"):
        core.curve_summary(np.array([[0.5, 0.5], [np.nan, 0.5]]), np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"`probabilities` is one score column"):
        core.curve_summary(np.array([0.5, 0.5]), np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"`predicted` must be int class ids \[2\]"):
        core.curve_summary(scores, np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"`true` must hold class ids in \[0, 1\]"):
        core.curve_summary(scores, np.array([0, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match="`weights` must be non-negative"):
        core.curve_summary(scores, np.array([0, 1]), np.array([0, 1]), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="`bins` must be a positive int"):
        core.curve_summary(scores, np.array([0, 1]), np.array([0, 1]), bins=0)


def test_validate_curve_summary_refuses_score_sums_outside_their_bins_and_other_rows_than_the_matrix():
    true, probabilities, weights = _data(5, 300, 3, weighted=True)
    predicted = probabilities.argmax(axis=1)
    summary = core.curve_summary(probabilities, true, predicted, weights)
    matrix = np.zeros((3, 3))
    np.add.at(matrix, (true, predicted), weights)
    np.testing.assert_array_equal(core.validate_curve_summary(summary, 3, matrix=matrix), summary)
    assert core.validate_curve_summary(summary, 3, matrix=core.SparseMatrix.from_dense(matrix)).shape == (4, 3, 75)
    too_high = summary.copy()
    too_high[1, 2, 40] = too_high[1, :2, 40].sum() * 41 / 75 * 1.01 + 1e-3  # above its bin's upper edge
    with pytest.raises(ValueError, match=r"row 1, bin 40 holds a score sum"):
        core.validate_curve_summary(too_high, 3)
    with pytest.raises(ValueError, match=r"counts other rows than the matrix: class 0's positives"):
        core.validate_curve_summary(summary, 3, matrix=matrix * 2)
    diagonal_off = matrix.copy()
    diagonal_off[0, 0] -= 1.0
    diagonal_off[0, 1] += 1.0
    with pytest.raises(ValueError, match="the top label's correct rows"):
        core.validate_curve_summary(summary, 3, matrix=diagonal_off)


def test_curves_one_row_off_the_counts_are_refused_at_millions_of_rows():
    # a relative 1e-6 let one or two rows through from a million rows on; counts are exact below 2**24
    true, probabilities, _ = _data(7, 300, 3)
    predicted = probabilities.argmax(axis=1)
    matrix = core.confusion_matrix(true, predicted, num_classes=3) * 10_000  # 3,000,000 rows
    summary = core.curve_summary(probabilities, true, predicted) * 10_000
    assert core.validate_curve_summary(summary, 3, matrix=matrix).shape == (4, 3, 75)
    one_more = summary.copy()
    one_more[0, 0, 74] += 1  # one more positive of class 0, scored 1.0
    one_more[0, 2, 74] += 1.0
    with pytest.raises(ValueError, match=r"counts other rows than the matrix: class 0's positives"):
        core.validate_curve_summary(one_more, 3, matrix=matrix)
    # sums of weights (a float matrix) keep their relative tolerance for float32 sums
    assert core.validate_curve_summary(one_more, 3, matrix=matrix.astype(np.float64)).shape == (4, 3, 75)


def test_a_step_checks_curves_against_its_matrix_unless_they_are_the_packages_own():
    from tb_imbalance.step import ClassSet, ReportStep

    true, probabilities, _ = _data(6, 200, 3)
    predicted = probabilities.argmax(axis=1)
    summary = core.curve_summary(probabilities, true, predicted)
    matrix = core.confusion_matrix(true, predicted, num_classes=3)
    classes = ClassSet.of(None, 3)
    with pytest.raises(ValueError, match="`curves` counts other rows than the matrix"):
        ReportStep.with_classes(1, "cm", matrix * 2, classes, curves=summary)
    # the callback's curves come from the same rows as its matrix (its metric state): taken as they are
    step = ReportStep.with_classes(1, "cm", matrix, classes, curves=summary, checked_curves=True)
    assert step.curves is summary


def _naive_summary(probabilities, true, predicted, weights):
    """Every score binned one by one: the definition, without the bin-0 shortcut."""
    rows, classes = probabilities.shape
    weights = np.ones(rows) if weights is None else weights
    summary = np.zeros((classes + 1, 3, 75))
    bins = core.score_bins(probabilities)
    for r in range(rows):
        for c in range(classes):
            summary[c, 0 if true[r] == c else 1, bins[r, c]] += weights[r]
            summary[c, 2, bins[r, c]] += weights[r] * probabilities[r, c]
        top = bins[r, predicted[r]]
        summary[classes, 0 if predicted[r] == true[r] else 1, top] += weights[r]
        summary[classes, 2, top] += weights[r] * probabilities[r, predicted[r]]
    return summary


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dense_share", [10**9, 5, 1])  # sparse blocks only, chosen per block, dense only
@pytest.mark.parametrize("weighted", [False, True])
def test_bin_zero_shortcut_gives_the_definition_even_at_bin_edges(monkeypatch, dtype, dense_share, weighted):
    rng = np.random.default_rng(8)
    edges = np.array([0.0, 1.0, 1 / 75, 2 / 75, 74 / 75, 0.5], dtype=dtype)
    near = np.concatenate([edges, np.nextafter(edges, dtype(0)), np.nextafter(edges, dtype(1))])
    scores = rng.choice(near, size=(60, 6)).astype(dtype)
    scores[:30] = rng.dirichlet(np.ones(6), size=30).astype(dtype) ** 3
    true = rng.integers(0, 6, 60)
    weights = rng.uniform(0.2, 2.0, 60) if weighted else None
    predicted = scores.argmax(axis=1)
    monkeypatch.setattr("tb_imbalance.core.binned_scores._DENSE_SHARE", dense_share)
    monkeypatch.setattr("tb_imbalance.core.binned_scores._BLOCK_CELLS", 6 * 7)
    ours, naive = core.curve_summary(scores, true, predicted, weights), _naive_summary(scores, true, predicted, weights)
    np.testing.assert_allclose(ours, naive, atol=1e-9)
    assert ((ours == 0) == (naive == 0)).all()  # an empty bin holds exactly 0, not what a subtraction left


@pytest.mark.parametrize("seed", range(12))
def test_weighted_bins_without_rows_add_no_point_to_the_curves(seed):
    """Sums of weights left over where no score falls (bin 0 here) would add a curve point at threshold 0."""
    rng = np.random.default_rng(seed)
    positive = rng.uniform(0.07, 0.93, 2000)  # no score of either class below 1/15 (a reliability bin)
    probabilities, true = np.stack([1 - positive, positive], axis=1), rng.integers(0, 2, 2000)
    weights = rng.random(2000) * rng.choice([0.01, 0.37, 3.3])
    summary = _summary(true, probabilities, weights)
    assert (summary[:2, :, :5] == 0).all()
    quantised = core.quantise_scores(probabilities)
    for c in range(2):
        _, _, thresholds = skm.precision_recall_curve(true == c, quantised[:, c], sample_weight=weights)
        assert core.pr_curve(summary[c])["thresholds"] == pytest.approx(thresholds.tolist(), abs=1e-15)
        _, _, roc_thresholds = skm.roc_curve(true == c, quantised[:, c], sample_weight=weights, drop_intermediate=False)
        assert core.roc_curve(summary[c])["thresholds"][1:] == pytest.approx(roc_thresholds[1:].tolist(), abs=1e-15)
        assert core.reliability(summary[c])["rows"][0] == 0 and core.reliability(summary[c])["mean_score"][0] is None


@pytest.mark.parametrize("padding", [np.nan, 7.0, 0.0])
def test_padding_rows_are_dropped_before_the_scores_are_read_as_the_matrix_drops_them(padding, tmp_path):
    """Rows of weight 0 and label -1 count for nothing: their scores (NaN, out of range) neither refuse
    the call nor take the curves away."""
    import tb_imbalance

    true, probabilities, _ = _data(9, 200, 3)
    padded_true = np.concatenate([true, [-1, -1, -1]])
    padded = np.concatenate([probabilities, np.full((3, 3), padding)])
    weights = np.concatenate([np.ones(200), np.zeros(3)])
    ids = core.class_ids(padded_true, padded, sample_weight=weights)
    summary, why = core.kept_rows_summary(padded, ids)
    assert why == ""
    np.testing.assert_array_equal(summary, _summary(true, probabilities, np.ones(200)))
    cm = tb_imbalance.log_report(tmp_path, padded_true, padded, step=0, sample_weight=weights, image=False)
    assert cm.sum() == 200
    from logdir_reader import curves as logged_curves

    np.testing.assert_allclose(logged_curves(tmp_path)["."][0], summary, rtol=1e-6)


def test_quantise_scores_bins_float16_as_the_writers_do():
    scores = np.linspace(0, 1, 2048).astype(np.float16)
    probabilities = np.stack([1 - scores.astype(np.float32), scores.astype(np.float32)], axis=1)
    summary, _ = core.kept_rows_summary(np.stack([1 - scores, scores], axis=1), core.class_ids(
        np.zeros(2048, int), probabilities))
    bins = (core.quantise_scores(scores) * 75).round().astype(int)
    np.testing.assert_array_equal(np.bincount(bins, minlength=75), summary[1, :2].sum(axis=0))


def test_curve_summary_of_float16_probabilities_bins_them_as_log_report_and_quantise_scores_do():
    # The summary behind log_matrix(curves=...) of a mixed-precision model's float16 softmax: the same
    # bins as log_report's of those scores, so the logged AP is scikit-learn's on quantise_scores.
    true, probabilities, _ = _data(0, 2000, 3)
    half = probabilities.astype(np.float16)
    summary = core.curve_summary(half, true, half.argmax(axis=1))
    logged, _ = core.kept_rows_summary(half, core.class_ids(true, half))
    np.testing.assert_array_equal(summary[:, :2], logged[:, :2])
    quantised = core.quantise_scores(half)
    expected = [skm.average_precision_score(true == c, quantised[:, c]) for c in range(3)]
    np.testing.assert_allclose(core.curve_metrics(summary)["per_class"]["average_precision"], expected, rtol=1e-12)


def test_curve_summary_refuses_one_sigmoid_column_and_class_ids_naming_what_to_pass():
    # The summary for log_matrix(curves=...) of a binary model's one sigmoid column: [N, 1] was read as
    # one class (an error about `true`), [N] and class ids named no fix. The fix given is log_report's reading.
    rng = np.random.default_rng(4)
    column = rng.random(200)
    true = (rng.random(200) < column).astype(int)
    predicted = (column > 0.5).astype(int)
    for shaped in (column, column[:, None]):
        with pytest.raises(ValueError, match=r"`probabilities` is one score column .* np\.stack\(\[1 - p, p\], axis=1\)"):
            core.curve_summary(shaped, true, predicted)
    with pytest.raises(ValueError, match=r"`probabilities` holds class ids .*no curves.*scores \[N, C\]"):
        core.curve_summary(predicted, true, predicted)
    summary = core.curve_summary(np.stack([1 - column, column], axis=1), true, predicted)
    logged, _ = core.kept_rows_summary(column, core.class_ids(true, column))
    np.testing.assert_array_equal(summary, logged)
    quantised = core.quantise_scores(column)
    assert core.curve_metrics(summary)["per_class"]["average_precision"][1] == pytest.approx(
        skm.average_precision_score(true, quantised), rel=1e-12)
    assert core.curve_metrics(summary)["per_class"]["roc_auc"][1] == pytest.approx(
        skm.roc_auc_score(true, quantised), rel=1e-12)
