"""Every number of the numpy core on the edge cases, against scikit-learn, imbalanced-learn and statsmodels.

The seeded random cases of ``test_core.py``, ``test_intervals.py``,
``test_long_tail.py`` and ``test_curves.py`` rarely land on the cases users
ask about; here each is named: a class with no support, a class never
predicted, a single class, all correct, a single row; each unweighted and
weighted, the matrix dense and as its cells. Where the package's documented
convention differs from the reference (an undefined score is 0 or None, not
NaN; ROC without negatives), the test says so and asserts the convention.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score, specificity_score
from sklearn import metrics as skm
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from support import EDGE_CASES
from tb_imbalance import core

NUM_CLASSES = 3

#: name -> (labels, predictions, weights of the weighted variant); classes 0..2.
CASES = {
    name: (*EDGE_CASES[name], weights)
    for name, weights in {
        "all correct": [0.5, 2.0, 1.0, 3.0, 0.25, 1.5],
        "class 2 has no support": [1.0, 2.5, 0.5, 1.0, 4.0],
        "class 2 never predicted": [2.0, 1.0, 0.5, 3.0, 1.5],
        "class 2 absent": [1.0, 0.5, 2.0, 1.0, 3.0],
        "a single class, right": [0.5, 1.0, 2.0],
        "a single class, wrong": [0.5, 1.0, 2.0],
        "a single row": [3.0],
        "all wrong": [1.0, 2.0, 0.5, 1.5],
    }.items()
}


def _variants():
    for name, (labels, predictions, weights) in CASES.items():
        for weighted in (False, True):
            yield pytest.param(
                np.array(labels), np.array(predictions), np.array(weights) if weighted else None,
                id=f"{name}-{'weighted' if weighted else 'counts'}",
            )


def _matrices(labels, predictions, weights):
    cm = core.confusion_matrix(labels, predictions, num_classes=NUM_CLASSES, sample_weight=weights)
    return {"dense": cm, "cells": core.SparseMatrix.from_dense(cm)}


# -- classification report, per-class scores and imbalance metrics --------------


@pytest.mark.parametrize("labels, predictions, weights", list(_variants()))
def test_report_and_imbalance_metrics_equal_the_references_on_each_edge_case(labels, predictions, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns on each undefined score
        expected_report = skm.classification_report(
            labels, predictions, labels=range(NUM_CLASSES), output_dict=True, zero_division=0, sample_weight=weights
        )
        present = np.unique(labels)
        recall_present = skm.recall_score(
            labels, predictions, labels=present, average=None, zero_division=0, sample_weight=weights
        )
        expected_metrics = {
            "accuracy": skm.accuracy_score(labels, predictions, sample_weight=weights),
            "balanced_accuracy": skm.balanced_accuracy_score(labels, predictions, sample_weight=weights),
            "macro_f1": skm.f1_score(
                labels, predictions, labels=range(NUM_CLASSES), average="macro", zero_division=0, sample_weight=weights
            ),
            "mcc": skm.matthews_corrcoef(labels, predictions, sample_weight=weights),
            # the docs' convention: 0 where kappa is 0 / 0 (one and the same class in labels and predictions)
            "cohen_kappa": skm.cohen_kappa_score(
                labels, predictions, labels=range(NUM_CLASSES), sample_weight=weights, replace_undefined_by=0.0
            ),
            "geometric_mean": geometric_mean_score(labels, predictions, sample_weight=weights),
            "worst_class_recall": recall_present.min(),
        }
        one_vs_rest = skm.multilabel_confusion_matrix(
            labels, predictions, labels=range(NUM_CLASSES), sample_weight=weights
        )
        unweighted_specificity = specificity_score(labels, predictions, labels=range(NUM_CLASSES), average=None)
    tn, fp = one_vs_rest[:, 0, 0], one_vs_rest[:, 0, 1]
    expected_specificity = np.divide(tn, tn + fp, out=np.zeros(NUM_CLASSES), where=tn + fp > 0)
    for kind, cm in _matrices(labels, predictions, weights).items():
        report = core.classification_report(cm)
        assert list(report) == list(expected_report), kind
        for key, expected in expected_report.items():
            assert report[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), (kind, key)
        metrics = core.imbalance_metrics(cm)
        assert metrics == pytest.approx(expected_metrics, rel=1e-12, abs=1e-15), kind
        stats = core.per_class_metrics(cm)
        np.testing.assert_allclose(stats["specificity"], expected_specificity, rtol=1e-12, atol=1e-15)
        if weights is None:  # imbalanced-learn counts true negatives as rows: a reference for counts only
            np.testing.assert_allclose(stats["specificity"], unweighted_specificity, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(stats["support"], one_vs_rest[:, 1].sum(axis=1), rtol=1e-12)
        np.testing.assert_allclose(stats["predicted"], one_vs_rest[:, :, 1].sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_a_matrix_without_rows_scores_0_everywhere_never_nan(dtype):
    # docs/http_api.md: "a score whose denominator is zero is 0.0, never NaN" (there is no
    # scikit-learn reference: it refuses empty labels).
    cm = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=dtype)
    report = core.classification_report(cm)
    for name in ("0", "1", "2"):
        assert report[name] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    assert report["accuracy"] == 0.0
    for average in ("macro avg", "weighted avg"):
        assert report[average] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    assert core.imbalance_metrics(cm) == {name: 0.0 for name in core.METRIC_NAMES}
    stats = core.per_class_metrics(cm)
    for field in ("precision", "recall", "f1", "specificity"):
        assert stats[field].tolist() == [0.0, 0.0, 0.0], field


# -- confidence intervals ------------------------------------------------------------


def _wilson(k, n):
    return (np.nan, np.nan) if n == 0 else proportion_confint(k, n, method="wilson")


@pytest.mark.parametrize("name", list(CASES))
def test_per_class_intervals_equal_statsmodels_on_each_edge_case(name):
    labels, predictions, _ = CASES[name]
    cm = core.confusion_matrix(labels, predictions, num_classes=NUM_CLASSES)
    bounds = core.per_class_intervals(cm)
    for score, denominators in (("recall", cm.sum(axis=1)), ("precision", cm.sum(axis=0))):
        expected = np.array([_wilson(int(cm[c, c]), int(denominators[c])) for c in range(NUM_CLASSES)])
        np.testing.assert_allclose(bounds[f"{score}_low"], expected[:, 0], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(bounds[f"{score}_high"], expected[:, 1], rtol=1e-12, atol=1e-13)
        # NaN exactly where the score is undefined (no support / never predicted)
        assert np.isnan(bounds[f"{score}_low"]).tolist() == (denominators == 0).tolist()


@pytest.mark.parametrize(
    "run, baseline",
    [("all correct", "all wrong"), ("class 2 has no support", "class 2 never predicted"),
     ("a single class, right", "a single class, wrong"), ("all correct", "all correct")],
)
def test_per_class_differences_equal_statsmodels_on_each_edge_case(run, baseline):
    cm = core.confusion_matrix(*CASES[run][:2], num_classes=NUM_CLASSES)
    base = core.confusion_matrix(*CASES[baseline][:2], num_classes=NUM_CLASSES)
    result = core.per_class_differences(cm, base)
    for score, axis in (("recall", 1), ("precision", 0)):
        n1, n2 = cm.sum(axis=axis), base.sum(axis=axis)
        for c in range(NUM_CLASSES):
            k1, k2 = int(cm[c, c]), int(base[c, c])
            if n1[c] == 0 or n2[c] == 0:  # undefined in a run: no delta, no interval, never significant
                assert np.isnan(result[f"{score}_delta"][c]) and np.isnan(result[f"{score}_low"][c])
                assert not result[f"{score}_significant"][c]
                continue
            low, high = confint_proportions_2indep(k1, int(n1[c]), k2, int(n2[c]), method="newcomb", compare="diff")
            assert result[f"{score}_low"][c] == pytest.approx(low, rel=1e-12, abs=1e-13), (score, c)
            assert result[f"{score}_high"][c] == pytest.approx(high, rel=1e-12, abs=1e-13), (score, c)
            assert result[f"{score}_delta"][c] == pytest.approx(k1 / n1[c] - k2 / n2[c], abs=1e-15)
            assert bool(result[f"{score}_significant"][c]) == bool(low > 0 or high < 0), (score, c)


# -- long tail and groups ------------------------------------------------------------


@pytest.mark.parametrize("labels, predictions, weights", list(_variants()))
def test_shot_recalls_equal_scikit_learns_macro_recall_on_each_edge_case(labels, predictions, weights):
    counts = [500, 50, 5]  # one class per bucket: many-, medium-, few-shot
    present = set(np.unique(labels).tolist())
    for kind, cm in _matrices(labels, predictions, weights).items():
        result = core.shot_recalls(cm, counts)
        for name, c in zip(core.SHOT_METRIC_NAMES, range(NUM_CLASSES)):
            if c not in present:  # no validation support: the bucket's score is None
                assert result[name] is None, (kind, name)
                continue
            expected = skm.recall_score(labels, predictions, labels=[c], average="macro", zero_division=0,
                                        sample_weight=weights)
            assert result[name] == pytest.approx(expected, rel=1e-12, abs=1e-15), (kind, name)


@pytest.mark.parametrize("labels, predictions, weights", list(_variants()))
def test_a_grouped_matrix_equals_scikit_learns_on_labels_mapped_to_groups_on_each_edge_case(labels, predictions, weights):
    names = ["cat", "dog", "car"]
    group_of = np.array([0, 0, 1])  # cat, dog -> pets; car stays a group of its own
    mapped_true, mapped_pred = group_of[labels], group_of[predictions]
    for kind, cm in _matrices(labels, predictions, weights).items():
        group_cm, group_names = core.group_matrix(cm, {"pets": ["cat", "dog"]}, names)
        assert group_names == ["pets", "car"]
        np.testing.assert_allclose(
            group_cm, skm.confusion_matrix(mapped_true, mapped_pred, labels=[0, 1], sample_weight=weights), rtol=1e-12
        )
        report = core.classification_report(group_cm, group_names)
        expected = skm.classification_report(mapped_true, mapped_pred, labels=[0, 1], target_names=group_names,
                                             output_dict=True, zero_division=0, sample_weight=weights)
        for key, values in expected.items():
            assert report[key] == pytest.approx(values, rel=1e-12, abs=1e-15), (kind, key)


# -- curves, average precision, ROC-AUC, calibration ------------------------------

ONE_HOT = np.eye(NUM_CLASSES)
#: name -> (labels, probabilities [N, 3], weights of the weighted variant; a 0 is a row that counts for nothing)
CURVE_CASES = {
    "all correct, confidence 1": ([0, 1, 2, 2], ONE_HOT[[0, 1, 2, 2]], [1.0, 2.0, 0.5, 3.0]),
    "perfect ranking": ([0, 1, 2, 0], [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]],
                        [2.0, 1.0, 1.0, 0.5]),
    "every score tied": ([0, 1, 2, 0], np.full((4, 3), 1 / 3), [1.0, 3.0, 0.5, 2.0]),
    "class 2 has no positives": ([0, 1, 0, 1], [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.4, 0.5, 0.1]],
                                 [1.0, 0.0, 2.0, 1.5]),
    "a single class": ([0, 0, 0], [[0.6, 0.3, 0.1], [0.9, 0.05, 0.05], [0.2, 0.5, 0.3]], [1.0, 2.0, 0.25]),
}


def _curve_variants():
    for name, (labels, probabilities, weights) in CURVE_CASES.items():
        for weighted in (False, True):
            yield pytest.param(
                np.array(labels), np.array(probabilities, dtype=np.float64), np.array(weights) if weighted else None,
                id=f"{name}-{'weighted' if weighted else 'counts'}",
            )


@pytest.mark.parametrize("labels, probabilities, weights", list(_curve_variants()))
def test_curves_ap_and_roc_auc_equal_scikit_learn_on_each_edge_case(labels, probabilities, weights):
    summary = core.curve_summary(probabilities, labels, probabilities.argmax(axis=1), weights)
    result = core.curve_metrics(summary)
    quantised = core.quantise_scores(probabilities)
    kept = np.ones(len(labels), bool) if weights is None else weights > 0
    defined_ap, defined_auc = [], []
    for c in range(NUM_CLASSES):
        truth, scores = labels == c, quantised[:, c]
        has_positives, has_negatives = truth[kept].any(), (~truth[kept]).any()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no positives / no negatives: scikit-learn warns
            precision, recall, thresholds = skm.precision_recall_curve(truth, scores, sample_weight=weights)
            fpr, tpr, roc_thresholds = skm.roc_curve(truth, scores, sample_weight=weights, drop_intermediate=False)
        pr = core.pr_curve(summary[c])  # scikit-learn's own convention without positives: recall 1
        np.testing.assert_allclose(pr["precision"], precision, atol=1e-12)
        np.testing.assert_allclose(pr["recall"], recall, atol=1e-12)
        np.testing.assert_allclose(pr["thresholds"], thresholds, atol=1e-15)
        roc = core.roc_curve(summary[c])
        assert roc["thresholds"][0] is None and np.isinf(roc_thresholds[0])
        np.testing.assert_allclose(roc["thresholds"][1:], roc_thresholds[1:], atol=1e-15)
        # where scikit-learn gives NaN (no negatives: fpr; no positives: tpr) the package's docs say 0
        np.testing.assert_allclose(roc["fpr"], fpr if has_negatives else np.zeros_like(fpr), atol=1e-12)
        np.testing.assert_allclose(roc["tpr"], tpr if has_positives else np.zeros_like(tpr), atol=1e-12)
        ap, auc = result["per_class"]["average_precision"][c], result["per_class"]["roc_auc"][c]
        if has_positives:
            expected_ap = skm.average_precision_score(truth, scores, sample_weight=weights)
            assert ap == pytest.approx(expected_ap, abs=1e-12), c
            defined_ap.append(expected_ap)
        else:  # undefined: None (scikit-learn warns and gives 0)
            assert ap is None, c
        if has_positives and has_negatives:
            expected_auc = skm.roc_auc_score(truth, scores, sample_weight=weights)
            assert auc == pytest.approx(expected_auc, abs=1e-12), c
            defined_auc.append(expected_auc)
        else:  # undefined: None (scikit-learn raises)
            assert auc is None, c
    metrics = result["metrics"]
    assert metrics["macro_average_precision"] == (pytest.approx(np.mean(defined_ap), abs=1e-12) if defined_ap else None)
    assert metrics["macro_roc_auc"] == (pytest.approx(np.mean(defined_auc), abs=1e-12) if defined_auc else None)
    table = core.threshold_table(summary)
    bins = summary.shape[2]
    for c in range(NUM_CLASSES):
        for i in (0, 5, 25, 45, bins):
            predicted = quantised[:, c] >= i / bins - 1e-12
            (tn, fp), (fn, tp) = skm.confusion_matrix(labels == c, predicted, labels=[False, True], sample_weight=weights)
            np.testing.assert_allclose(table[c, :4, i], [tp, fp, tn, fn], rtol=1e-12, atol=1e-12)


def test_calibration_errors_of_the_edge_cases_by_hand():
    # one-hot scores, all correct: every row's confidence is 1 and it is right -> 0 everywhere
    labels, probabilities, weights = CURVE_CASES["all correct, confidence 1"]
    for w in (None, np.array(weights)):
        result = core.curve_metrics(core.curve_summary(ONE_HOT[labels], np.array(labels), np.array(labels), w))
        assert result["metrics"]["expected_calibration_error"] == 0.0
        assert result["per_class"]["calibration_error"] == [0.0, 0.0, 0.0]
        assert result["metrics"]["classwise_calibration_error"] == 0.0
    # every score 1/3, labels [0, 1, 2, 0]; the argmax of a tie is class 0, so 2 of 4 rows are right.
    # One bin holds everything: top label |2 - 4 * 1/3| / 4 = 1/6; class 0 |2 - 4/3| / 4 = 1/6,
    # classes 1 and 2 |1 - 4/3| / 4 = 1/12 each; class-wise (1/6 + 1/12 + 1/12) / 3 = 1/9.
    labels, probabilities, weights = (np.array(part) for part in CURVE_CASES["every score tied"])
    result = core.curve_metrics(core.curve_summary(probabilities, labels, probabilities.argmax(axis=1)))
    assert result["metrics"]["expected_calibration_error"] == pytest.approx(1 / 6, abs=1e-12)
    assert result["per_class"]["calibration_error"] == pytest.approx([1 / 6, 1 / 12, 1 / 12], abs=1e-12)
    assert result["metrics"]["classwise_calibration_error"] == pytest.approx(1 / 9, abs=1e-12)
    # weights [1, 3, 0.5, 2] (total 6.5): right rows weigh 1 + 2 = 3, the score sum is 6.5 / 3:
    # top label and class 0 |3 - 6.5/3| / 6.5 = 5/39; class 1 |3 - 6.5/3| / 6.5 = 5/39;
    # class 2 |0.5 - 6.5/3| / 6.5 = 10/39; class-wise (5 + 5 + 10) / 39 / 3 = 20/117.
    result = core.curve_metrics(core.curve_summary(probabilities, labels, probabilities.argmax(axis=1), weights))
    assert result["metrics"]["expected_calibration_error"] == pytest.approx(5 / 39, abs=1e-12)
    assert result["per_class"]["calibration_error"] == pytest.approx([5 / 39, 5 / 39, 10 / 39], abs=1e-12)
    assert result["metrics"]["classwise_calibration_error"] == pytest.approx(20 / 117, abs=1e-12)
    # reliability of the tie: one bin, [5/15, 6/15), mean score 1/3, observed 2/4 for class 0; the rest None
    diagram = core.reliability(core.curve_summary(probabilities, labels, probabilities.argmax(axis=1))[0])
    filled = [b for b, rows in enumerate(diagram["rows"]) if rows]
    assert filled == [5] and diagram["rows"][5] == 4.0
    assert diagram["mean_score"][5] == pytest.approx(1 / 3) and diagram["observed_frequency"][5] == 0.5
    assert all(diagram["mean_score"][b] is None and diagram["observed_frequency"][b] is None for b in range(15) if b != 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_probabilities_of_logits_equal_scipys_softmax_and_expit_at_extreme_logits(dtype):
    from scipy.special import expit, softmax

    logits = np.array([[1000.0, -1000.0, 0.0], [-800.0, -801.0, -802.0], [0.0, 0.0, 0.0], [3.0, 1e-3, 88.0]], dtype)
    column = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype)
    tolerance = 1e-15 if dtype == np.float64 else 1e-7
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from exp of a large logit
        probabilities, why = core.curve_probabilities(logits, NUM_CLASSES, from_logits=True)
        sigmoid, _ = core.curve_probabilities(column, 2, from_logits=True)
    assert why == "" and probabilities.dtype == dtype and sigmoid.dtype == dtype
    np.testing.assert_allclose(probabilities, softmax(logits.astype(np.float64), axis=1), rtol=0, atol=tolerance)
    expected = expit(column.astype(np.float64))
    np.testing.assert_allclose(sigmoid, np.stack([1 - expected, expected], axis=1), rtol=0, atol=tolerance)
