"""The plugin's derived values against scikit-learn, imbalanced-learn and statsmodels, from the labels.

The route tests check most answers against references; these are the ones
that were checked only against the package's own other answers: the report
rolled up to class groups (with its summed training counts and bucket
recalls), the ``compare`` route's average precision differences, the
``curves`` route's operating point, and the trends of a weighted series.
Built straight from :mod:`tb_imbalance.plugin.payloads` and
:mod:`tb_imbalance.plugin.curves`, no logdir.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score
from sklearn import metrics as skm
from statsmodels.stats.proportion import proportion_confint

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.plugin import curves as plugin_curves
from tb_imbalance.plugin import payloads
from tb_imbalance.plugin.series import MatrixSeries, PackedMatrix

NAMES = ("cat", "dog", "fox", "owl", "eel")
COUNTS = (500, 300, 60, 25, 8)
GROUPS = {"pets": ["dog", "cat"], "wild": ["owl", "fox"]}
GROUP_OF = np.array([0, 0, 1, 1, 2])  # cat, dog -> pets; fox, owl -> wild; eel alone


def _labels(seed: int, *, eel_support: bool):
    rng = np.random.default_rng(seed)
    y_true = rng.choice(5, 300, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    if not eel_support:
        y_true[y_true == 4] = 0  # eel: no validation support, still predicted below
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 5, 300))
    return y_true, y_pred


def _series(matrices, *, counts=COUNTS, groups=GROUPS):
    info = fmt.MatrixInfo(
        1, len(NAMES), NAMES, False, class_counts=counts,
        class_groups=None if groups is None else tuple((g, tuple(m)) for g, m in groups.items()),
    )
    steps = list(range(len(matrices)))
    return MatrixSeries(info, "v", steps, [float(s) for s in steps], [PackedMatrix.pack(cm) for cm in matrices])


@pytest.mark.parametrize("eel_support", [True, False], ids=["every group has support", "a group without support"])
def test_the_report_rolled_up_to_groups_equals_scikit_learn_on_labels_mapped_to_groups(eel_support):
    y_true, y_pred = _labels(3, eel_support=eel_support)
    cm = core.confusion_matrix(y_true, y_pred, num_classes=5)
    payload = payloads.report_payload(_series([cm]), run="r", tag="t", group=True, many=100, few=20)
    group_names = ["pets", "wild", "eel"]
    true, pred = GROUP_OF[y_true], GROUP_OF[y_pred]
    assert payload["class_names"] == group_names
    np.testing.assert_array_equal(payload["confusion_matrix"], skm.confusion_matrix(true, pred, labels=range(3)))
    expected_report = skm.classification_report(true, pred, labels=range(3), target_names=group_names,
                                                output_dict=True, zero_division=0)
    for key, values in expected_report.items():
        assert payload["report"][key] == pytest.approx(values, rel=1e-12, abs=1e-15), key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recall = skm.recall_score(true, pred, labels=range(3), average=None, zero_division=0)
        expected_metrics = {
            "accuracy": skm.accuracy_score(true, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(true, pred),
            "macro_f1": skm.f1_score(true, pred, labels=range(3), average="macro", zero_division=0),
            "mcc": skm.matthews_corrcoef(true, pred),
            "cohen_kappa": skm.cohen_kappa_score(true, pred),
            "geometric_mean": geometric_mean_score(true, pred),
            "worst_class_recall": recall[np.unique(true)].min(),
        }
    assert {name: payload["metrics"][name] for name in core.METRIC_NAMES} == pytest.approx(expected_metrics, rel=1e-12)
    # each group's training count is its classes' sum: pets 500 + 300, wild 60 + 25, eel 8
    assert payload["per_class"]["train_count"] == [800, 85, 8]
    # buckets of the summed counts (many > 100, few < 20): pets many-shot, wild medium-shot, eel few-shot
    for name, group in zip(core.SHOT_METRIC_NAMES, range(3)):
        if not (true == group).any():
            assert payload["metrics"][name] is None, name
            continue
        assert payload["metrics"][name] == pytest.approx(recall[group], rel=1e-12), name
    support, correct = np.bincount(true, minlength=3), np.bincount(true[true == pred], minlength=3)
    for group in range(3):
        interval = payload["per_class"]["recall_interval"][group]
        if support[group] == 0:
            assert interval is None
        else:
            assert interval == pytest.approx(list(proportion_confint(correct[group], support[group], method="wilson")),
                                             rel=1e-12)


def test_compare_average_precision_differences_equal_scikit_learns():
    rng = np.random.default_rng(11)
    summaries, quantised_runs = [], []
    true = rng.choice(3, 400, p=[0.6, 0.3, 0.1])
    for run in range(2):
        logits = rng.normal(size=(400, 3)) + (1.5 + run) * np.eye(3)[true]
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        summaries.append(core.curve_summary(probabilities, true, probabilities.argmax(axis=1)))
        quantised_runs.append(core.quantise_scores(probabilities))
    result = plugin_curves.average_precision_differences(summaries[1], summaries[0], 3)
    ours = [skm.average_precision_score(true == c, quantised_runs[1][:, c]) for c in range(3)]
    theirs = [skm.average_precision_score(true == c, quantised_runs[0][:, c]) for c in range(3)]
    np.testing.assert_allclose(result["average_precision"], ours, atol=1e-12)
    np.testing.assert_allclose(result["baseline_average_precision"], theirs, atol=1e-12)
    np.testing.assert_allclose(result["average_precision_difference"], np.subtract(ours, theirs), atol=1e-12)
    # a class without positives in the baseline has no AP there: its difference is None
    baseline_true = np.where(true == 2, 0, true)
    probabilities = np.full((400, 3), 1 / 3)
    baseline = core.curve_summary(probabilities, baseline_true, probabilities.argmax(axis=1))
    undefined = plugin_curves.average_precision_differences(summaries[1], baseline, 3)
    assert undefined["baseline_average_precision"][2] is None
    assert undefined["average_precision_difference"][2] is None
    assert undefined["average_precision_difference"][0] == pytest.approx(
        ours[0] - skm.average_precision_score(baseline_true == 0, np.full(400, 1 / 3)), abs=1e-12
    )
    assert plugin_curves.average_precision_differences(summaries[1], None, 3)["average_precision_difference"] == [None] * 3


def test_the_curves_operating_point_is_scikit_learns_precision_and_recall_of_the_argmax():
    rng = np.random.default_rng(12)
    true = rng.choice(2, 200)  # class 2 has no support, so no recall: None
    probabilities = rng.dirichlet(np.ones(3), 200)
    predicted = probabilities.argmax(axis=1)
    assert (predicted == 2).any()
    summary = core.curve_summary(probabilities, true, predicted)
    cm = core.confusion_matrix(true, predicted, num_classes=3)
    for c in range(3):
        payload = plugin_curves.curves_payload(summary, cm, class_names=["a", "b", "c"], class_index=c, run="r",
                                               tag="t", step=0, steps=[0])
        precision = skm.precision_score(true == c, predicted == c, zero_division=0)
        assert payload["operating_point"]["precision"] == pytest.approx(precision, rel=1e-12)
        if c == 2:
            assert payload["operating_point"]["recall"] is None
        else:
            assert payload["operating_point"]["recall"] == pytest.approx(skm.recall_score(true == c, predicted == c),
                                                                         rel=1e-12)


def test_the_trends_of_a_weighted_series_equal_scikit_learn_with_sample_weight():
    rng = np.random.default_rng(13)
    cases = []
    for _ in range(3):
        y_true, y_pred = _labels(int(rng.integers(1000)), eel_support=bool(rng.integers(2)))
        cases.append((y_true, y_pred, rng.uniform(0.1, 3.0, y_true.size)))
    matrices = [core.confusion_matrix(t, p, num_classes=5, sample_weight=w) for t, p, w in cases]
    payload = payloads.series_payload(_series(matrices, counts=None, groups=None), run="r", tag="t")
    for position, (y_true, y_pred, weights) in enumerate(cases):
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=range(5), zero_division=0, sample_weight=weights
        )
        np.testing.assert_allclose(payload["recall"][position], recall, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(payload["precision"][position], precision, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(payload["f1"][position], f1, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(payload["support"][position], support, rtol=1e-12)
        np.testing.assert_allclose(payload["predicted"][position], np.bincount(y_pred, weights, minlength=5), rtol=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert payload["metrics"]["balanced_accuracy"][position] == pytest.approx(
                skm.balanced_accuracy_score(y_true, y_pred, sample_weight=weights), rel=1e-12)
            assert payload["metrics"]["mcc"][position] == pytest.approx(
                skm.matthews_corrcoef(y_true, y_pred, sample_weight=weights), rel=1e-12)
            assert payload["metrics"]["cohen_kappa"][position] == pytest.approx(
                skm.cohen_kappa_score(y_true, y_pred, sample_weight=weights), rel=1e-12)
            assert payload["metrics"]["geometric_mean"][position] == pytest.approx(
                geometric_mean_score(y_true, y_pred, sample_weight=weights), rel=1e-12, abs=1e-15)
