"""The numpy core against scikit-learn, imbalanced-learn and hand-computed cases."""

import inspect
import multiprocessing
import os
import time
import warnings

import numpy as np
import pytest
from imblearn.metrics import geometric_mean_score, specificity_score
from sklearn import metrics as skm

from tb_imbalance import core


def sklearn_report(y_true, y_pred, num_classes, names=None, sample_weight=None):
    return skm.classification_report(
        y_true, y_pred, labels=list(range(num_classes)), target_names=names,
        output_dict=True, zero_division=0, sample_weight=sample_weight,
    )


def assert_report_equal(ours, reference):
    assert list(ours) == list(reference)
    for key, expected in reference.items():
        if key == "accuracy":
            assert ours[key] == pytest.approx(expected, abs=1e-12)
            continue
        assert set(ours[key]) == set(expected)
        for field, value in expected.items():
            assert ours[key][field] == pytest.approx(value, abs=1e-12), (key, field)


# -- hand-computed ---------------------------------------------------------

def test_hand_computed_binary_report():
    # true 0: 5 right, 1 wrong; true 1: 2 right, 2 wrong
    cm = np.array([[5, 1], [2, 2]])
    report = core.classification_report(cm, ["neg", "pos"])
    assert report["neg"] == {"precision": 5 / 7, "recall": 5 / 6, "f1-score": pytest.approx(2 * 5 / (2 * 5 + 1 + 2)), "support": 6}
    assert report["pos"]["precision"] == pytest.approx(2 / 3)
    assert report["pos"]["recall"] == 0.5
    assert report["accuracy"] == pytest.approx(0.7)
    assert report["macro avg"]["recall"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert report["weighted avg"]["support"] == 10
    assert isinstance(report["pos"]["support"], int)


def test_hand_computed_imbalance_metrics():
    cm = np.array([[5, 1], [2, 2]])
    m = core.imbalance_metrics(cm)
    assert m["balanced_accuracy"] == pytest.approx((5 / 6 + 1 / 2) / 2)
    assert m["worst_class_recall"] == pytest.approx(0.5)
    assert m["geometric_mean"] == pytest.approx(np.sqrt(5 / 6 * 1 / 2))
    # binary MCC = (tp*tn - fp*fn) / sqrt(...), positive class = 1
    tp, tn, fp, fn = 2, 5, 1, 2
    assert m["mcc"] == pytest.approx((tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    po, pe = 0.7, (6 * 7 + 4 * 3) / 100
    assert m["cohen_kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert m["macro_f1"] == pytest.approx((10 / 13 + 4 / 7) / 2)
    assert list(m) == list(core.METRIC_NAMES)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64])
def test_imbalance_metrics_of_billions_of_counts_do_not_overflow(dtype):
    # the same matrix scaled: every metric is a ratio, so scaling by a billion changes none;
    # products of int64 class sums (total² ≈ 1e20) would overflow.
    cm = np.array([[5, 1], [2, 2]])
    scaled = (cm * (2 * 10**8 if dtype == np.int32 else 10**9)).astype(dtype)
    assert core.imbalance_metrics(scaled) == pytest.approx(core.imbalance_metrics(cm), rel=1e-12)
    tp, tn, fp, fn = 2, 5, 1, 2
    assert core.imbalance_metrics(scaled)["mcc"] == pytest.approx(
        (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)), rel=1e-12
    )


def test_specificity_hand_computed():
    cm = np.array([[3, 1, 0], [0, 2, 2], [1, 0, 1]])
    spec = core.per_class_metrics(cm)["specificity"]
    # class 0: TN = all rows/cols except 0 = 2+2+0+1 = 5, FP = 0+1 = 1
    assert spec[0] == pytest.approx(5 / 6)
    assert spec[1] == pytest.approx((3 + 0 + 1 + 1) / (3 + 0 + 1 + 1 + 1))
    assert spec[2] == pytest.approx((3 + 1 + 0 + 2) / (3 + 1 + 0 + 2 + 2))


def test_confusion_matrix_counts_and_conventions():
    cm = core.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], num_classes=3)
    assert cm.dtype == np.int64
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]  # rows = true, cols = predicted


def test_prediction_forms():
    labels = [0, 1, 1, 0]
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    expected = [[1, 1], [1, 1]]
    assert core.confusion_matrix(labels, scores).tolist() == expected
    assert core.confusion_matrix(labels, scores[:, 1]).tolist() == expected  # sigmoid [N]
    assert core.confusion_matrix(labels, scores[:, 1:]).tolist() == expected  # sigmoid [N, 1]
    assert core.confusion_matrix(np.eye(2)[labels], scores).tolist() == expected  # one-hot labels
    smoothed = np.eye(2)[labels] * 0.9 + 0.05  # label smoothing 0.1, and a mixup row: their largest entry
    assert core.confusion_matrix(smoothed, scores).tolist() == expected
    assert core.confusion_matrix([[0.7, 0.3], [0.2, 0.8], [0.1, 0.9], [0.6, 0.4]], scores).tolist() == expected
    assert core.confusion_matrix(labels, [0, 1, 0, 1], num_classes=2).tolist() == expected
    assert core.confusion_matrix(np.array(labels, dtype=float), [0, 1, 0, 1], num_classes=2).tolist() == expected



def test_scores_as_labels_beside_class_id_predictions_are_refused_as_swapped():
    # torchmetrics' order (predictions first) counted the transposed matrix: recall and precision exchanged
    labels = np.array([0, 0, 0, 1, 2, 2])
    scores = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    expected = skm.confusion_matrix(labels, scores.argmax(axis=1), labels=range(3))
    assert core.confusion_matrix(labels, scores).tolist() == expected.tolist()
    with pytest.raises(ValueError, match=r"`labels` hold scores \[N, C\] \(row 0: \[0.8 0.1 0.1\]\).*look swapped"):
        core.confusion_matrix(scores, labels)
    with pytest.raises(ValueError, match="look swapped"):
        core.confusion_matrix(scores.astype(np.float32), labels.astype(np.int32), num_classes=3)
    with pytest.raises(ValueError, match=r"`labels` contains NaN"):
        core.confusion_matrix(np.where(np.eye(3)[labels] == 1, np.nan, 0.0), labels)
    # float one-hot labels beside class ids (float noise too), and smoothed labels beside scores, are still read
    assert core.confusion_matrix(np.eye(3)[labels], scores.argmax(axis=1)).tolist() == expected.tolist()
    noisy = np.eye(3, dtype=np.float32)[labels] * np.float32(0.9999999)
    assert core.confusion_matrix(noisy, scores.argmax(axis=1), num_classes=3).tolist() == expected.tolist()
    with pytest.raises(ValueError, match=r"\[0.933333 0.033333 0.033333\].*soft labels beside class-id predictions"):
        core.confusion_matrix(np.eye(3)[labels] * 0.9 + 0.1 / 3, scores.argmax(axis=1))
    smoothed = np.eye(3)[labels] * 0.9 + 0.1 / 3
    assert core.confusion_matrix(smoothed, scores).tolist() == expected.tolist()
    assert core.confusion_matrix(smoothed.argmax(axis=1), scores.argmax(axis=1), num_classes=3).tolist() == expected.tolist()

def test_sample_weight_gives_float_sums():
    cm = core.confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2, sample_weight=[0.5, 2.0, 1.5])
    assert cm.dtype == np.float64
    assert cm.tolist() == [[0.5, 0.0], [1.5, 2.0]]


def test_booleans_are_two_classes_false_then_true_as_in_scikit_learn():
    rng = np.random.default_rng(11)
    labels, predictions = rng.random(300) < 0.2, rng.random(300) < 0.3
    expected = skm.confusion_matrix(labels, predictions)  # sklearn orders them [False, True]
    assert expected.shape == (2, 2)
    np.testing.assert_array_equal(core.confusion_matrix(labels, predictions), expected)
    np.testing.assert_array_equal(core.confusion_matrix(labels.tolist(), predictions[:, None]), expected)
    np.testing.assert_array_equal(core.confusion_matrix([True] * 3, [True] * 3), [[0, 0], [0, 3]])
    # beside integer ids 0 and 1, True is class 1, as scikit-learn counts the mix
    np.testing.assert_array_equal(core.confusion_matrix(labels, predictions.astype(np.int64)), expected)
    np.testing.assert_array_equal(core.confusion_matrix(labels.astype(np.uint8), predictions), expected)
    assert core.resolve_num_classes(labels, predictions, None, None) == (2, None)
    assert core.confusion_matrix(labels, predictions, num_classes=3)[:2, :2].tolist() == expected.tolist()
    # a padding label beside boolean predictions is dropped by its weight 0, as beside any predictions
    assert core.confusion_matrix([0, -1, 1], [True, False, True], sample_weight=[1, 0, 1]).tolist() == [[0, 1], [0, 1]]


@pytest.mark.parametrize("labels, predictions, fragment", [
    ([True, False, True], [0, 2, 1], "`labels` are booleans, a two-class problem (False is class 0, True class 1), "
     "beside `predictions` holding class id 2: pass num_classes (at least 3) to count both as class ids, True as 1"),
    ([0, 1, 4], [True, False, True], "`predictions` are booleans, a two-class problem (False is class 0, True class 1),"
     " beside `labels` holding class id 4: pass num_classes (at least 5)"),
])
def test_booleans_beside_ids_of_more_classes_ask_for_num_classes(labels, predictions, fragment):
    for call in (lambda: core.confusion_matrix(np.array(labels), np.array(predictions)),
                 lambda: core.resolve_num_classes(np.array(labels), np.array(predictions), None, None)):
        with pytest.raises(ValueError) as raised:
            call()
        assert fragment in str(raised.value)
    assert core.confusion_matrix(np.array(labels), np.array(predictions), num_classes=5).sum() == 3


def test_booleans_beside_ids_of_more_classes_take_the_count_from_class_names_as_other_ids_do():
    labels, predictions = np.array([True, False, True, True]), np.array([0, 2, 1, 1])
    assert core.resolve_num_classes(labels, predictions, None, ["a", "b", "c"]) == (3, ["a", "b", "c"])
    assert core.resolve_num_classes(labels.astype(int), predictions, None, ["a", "b", "c"]) == (3, ["a", "b", "c"])
    assert core.resolve_num_classes(labels, predictions, None, ["a", "b"]) == (2, ["a", "b"])  # then id 2 is out of range
    with pytest.raises(ValueError, match=r"`predictions` must hold class ids in \[0, 1\] \(num_classes=2\), received 2"):
        core.class_ids(labels, predictions, num_classes=2)


@pytest.mark.parametrize("weights", [[True, False, True, True], [3, 0, 1, 2], np.array([1, 0, 2, 1], dtype=np.uint8)])
def test_integer_and_boolean_weights_are_counts_as_in_scikit_learn(weights):
    labels, predictions = [0, 1, 1, 0], [0, 1, 0, 0]
    cm = core.confusion_matrix(labels, predictions, num_classes=2, sample_weight=weights)
    expected = skm.confusion_matrix(labels, predictions, labels=range(2), sample_weight=np.asarray(weights))
    assert cm.dtype == expected.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    wide = core.count_class_ids(core.class_ids(labels, predictions, num_classes=1500, sample_weight=weights))
    assert wide.values.dtype == np.int64 and wide.toarray()[:2, :2].tolist() == expected.tolist()


@pytest.mark.parametrize("weights", [np.array([2**53, 1, 1]), np.array([2**63, 1, 1], dtype=np.uint64), np.array([2**62, 2**62, 1])])
def test_integer_weights_past_float_exactness_are_float_sums_never_wrapped_counts(weights):
    cm = core.confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2, sample_weight=weights)
    assert cm.dtype == np.float64 and (cm >= 0).all()
    np.testing.assert_allclose(cm, [[float(weights[0]), 0.0], [float(weights[2]), float(weights[1])]])


@pytest.mark.parametrize(
    "cm",
    [np.array([[2**62, 2**62], [1, 1]]), np.diag([2**62, 2**62]), np.array([[2**63, 1], [1, 1]], dtype=np.uint64),
     np.array([[2**52, 2**52], [0, 1]])],
    ids=["int64 wraps", "int64 wraps to 0", "uint64", "total 2**53"],
)
@pytest.mark.parametrize("compute", [core.per_class_metrics, core.imbalance_metrics, core.classification_report])
def test_integer_matrices_totalling_2_53_are_refused_by_every_core_entry(cm, compute):
    # their int64 sums wrapped: recall -0.5, macro F1 -1.0, specificity 9.2e18 were returned
    with pytest.raises(ValueError, match=r"`confusion_matrix` counts .* rows in all, past 2\*\*53"):
        compute(cm)
    with pytest.raises(ValueError, match=r"`cm` counts .* rows in all, past 2\*\*53"):
        core.SparseMatrix.from_cells(2, [0, 0, 1, 1], [0, 1, 0, 1], cm.reshape(-1))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.float16, np.float32])
def test_narrow_matrices_are_summed_exactly(dtype):
    big = {np.int8: 127, np.uint8: 255, np.int16: 32767, np.int32: 2**31 - 1, np.float16: 2048, np.float32: 2**24}[dtype]
    cm = np.array([[big, 1, 0], [1, big, 0], [0, 0, 1]], dtype=dtype)
    group_cm, names = core.group_matrix(cm, {"ab": ["a", "b"]}, ["a", "b", "c"])
    assert names == ["ab", "c"] and group_cm.tolist() == [[2 * big + 2, 0], [0, 1]]
    assert core.per_class_metrics(cm)["support"].tolist() == [big + 1, big + 1, 1]
    assert core.classification_report(cm)["macro avg"]["support"] == 2 * big + 3


@pytest.mark.parametrize("cm", [np.array([[40000, 40000], [0, 1]], dtype=np.float16), np.array([[3e38, 3e38], [0, 1]], dtype=np.float32)])
def test_narrow_floats_whose_sum_passes_their_own_range_are_summed_in_float64(cm):
    # they were refused as summing "past the float64 range"
    assert core.per_class_metrics(cm)["support"].tolist() == [float(cm[0, 0]) * 2, 1.0]
    assert core.SparseMatrix.from_cells(2, [0, 0, 1], [0, 1, 1], cm[[0, 0, 1], [0, 1, 1]]).values.sum() == pytest.approx(float(cm[0, 0]) * 2 + 1)


def _exact_kappa_and_mcc(cm):
    from fractions import Fraction

    cells = [[Fraction(float(v)) for v in row] for row in cm]
    total = sum(map(sum, cells))
    support = [sum(row) for row in cells]
    predicted = [sum(column) for column in zip(*cells)]
    agree = sum(cells[k][k] for k in range(len(cells))) / total
    chance = sum(s * p for s, p in zip(support, predicted)) / total**2
    cov = agree - chance
    spread = (1 - sum(s * s for s in support) / total**2) * (1 - sum(p * p for p in predicted) / total**2)
    return float((agree - chance) / (1 - chance)), float(cov) / float(spread) ** 0.5


@pytest.mark.parametrize("weights", [[1e12, 0.5, 0.5, 0.001, 0.5], [1e15, 1, 1, 1, 3], [1, 1, 1, 1, 1]])
def test_kappa_and_mcc_stay_exact_when_one_heavy_class_is_nearly_always_right(weights):
    # 1 - agreement cancelled: kappa 0.799707 where sklearn and the exact value are 0.799680 (weights 1e12)
    y_true, y_pred = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 0, 1])
    for cm in (core.confusion_matrix(y_true, y_pred, num_classes=2, sample_weight=np.array(weights)),
               core.SparseMatrix.from_dense(core.confusion_matrix(y_true, y_pred, num_classes=2, sample_weight=np.array(weights)))):
        metrics = core.imbalance_metrics(cm)
        kappa, mcc = _exact_kappa_and_mcc(np.asarray(cm.toarray() if hasattr(cm, "toarray") else cm))
        assert metrics["cohen_kappa"] == pytest.approx(kappa, rel=1e-12)
        assert metrics["cohen_kappa"] == pytest.approx(skm.cohen_kappa_score(y_true, y_pred, sample_weight=weights), rel=1e-12)
        assert metrics["mcc"] == pytest.approx(mcc, rel=1e-12)


# -- randomized against references -----------------------------------------

def random_cases(count=150, seed=0):
    rng = np.random.default_rng(seed)
    for case in range(count):
        num_classes = int(rng.integers(2, 9))
        n = int(rng.integers(1, 80))
        prior = 0.5 ** np.arange(num_classes)
        y_true = rng.choice(num_classes, n, p=prior / prior.sum())
        kind = case % 5
        if kind == 0:
            y_pred = y_true.copy()  # perfect
        elif kind == 1:
            y_pred = (y_true + 1) % num_classes  # all wrong
        elif kind == 2:
            y_pred = np.zeros(n, dtype=int)  # one class only predicted
        else:
            y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, num_classes, n))
        weights = rng.random(n) * 3 if case % 4 == 0 else None
        yield num_classes, y_true, y_pred, weights


@pytest.mark.parametrize("case", list(random_cases()), ids=lambda c: f"C{c[0]}-n{len(c[1])}")
def test_random_cases_match_references(case):
    num_classes, y_true, y_pred, weights = case
    names = [f"class {k}" for k in range(num_classes)]
    cm = core.confusion_matrix(y_true, y_pred, num_classes=num_classes, sample_weight=weights)
    reference_cm = skm.confusion_matrix(y_true, y_pred, labels=range(num_classes), sample_weight=weights)
    np.testing.assert_allclose(cm, reference_cm)
    assert_report_equal(core.classification_report(cm, names), sklearn_report(y_true, y_pred, num_classes, names, weights))

    ours = core.imbalance_metrics(cm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred, sample_weight=weights))
        assert ours["mcc"] == pytest.approx(skm.matthews_corrcoef(y_true, y_pred, sample_weight=weights), abs=1e-12)
        kappa = skm.cohen_kappa_score(y_true, y_pred, sample_weight=weights)
        assert ours["cohen_kappa"] == pytest.approx(0.0 if np.isnan(kappa) else kappa, abs=1e-12)
        assert ours["macro_f1"] == pytest.approx(skm.f1_score(y_true, y_pred, labels=range(num_classes), average="macro", zero_division=0, sample_weight=weights))
        assert ours["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred, sample_weight=weights))
        recalls = skm.recall_score(y_true, y_pred, labels=np.unique(y_true), average=None, zero_division=0, sample_weight=weights)
        assert ours["worst_class_recall"] == pytest.approx(recalls.min())
        if weights is None:  # imbalanced-learn counts true negatives without weights
            assert ours["geometric_mean"] == pytest.approx(geometric_mean_score(y_true, y_pred), abs=1e-12)
            np.testing.assert_allclose(
                core.per_class_metrics(cm)["specificity"],
                specificity_score(y_true, y_pred, labels=range(num_classes), average=None),
            )


@pytest.mark.parametrize("seed", range(8))
def test_weighted_geometric_mean_and_specificity_match_references(seed):
    # imbalanced-learn's specificity counts true negatives as rows (unweighted), so scikit-learn's
    # one-vs-rest matrices are the reference for weighted specificity; its geometric mean uses
    # weighted recalls only, so it is the reference for that.
    rng = np.random.default_rng(500 + seed)
    num_classes, n = int(rng.integers(2, 7)), int(rng.integers(5, 60))
    y_true = rng.integers(0, num_classes, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, num_classes, n))
    weights = rng.uniform(0.05, 4.0, n)
    cm = core.confusion_matrix(y_true, y_pred, num_classes=num_classes, sample_weight=weights)
    one_vs_rest = skm.multilabel_confusion_matrix(y_true, y_pred, labels=range(num_classes), sample_weight=weights)
    tn, fp = one_vs_rest[:, 0, 0], one_vs_rest[:, 0, 1]
    expected = np.divide(tn, tn + fp, out=np.zeros(num_classes), where=tn + fp > 0)
    np.testing.assert_allclose(core.per_class_metrics(cm)["specificity"], expected, rtol=1e-12, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = geometric_mean_score(y_true, y_pred, sample_weight=weights)
    assert core.imbalance_metrics(cm)["geometric_mean"] == pytest.approx(reference, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "y_true, y_pred",
    [([0, 0, 0], [0, 0, 0]), ([1, 1], [1, 1]), ([0, 0, 0], [0, 1, 0]), ([0, 1, 1], [1, 1, 1]), ([0, 1], [1, 0])],
)
def test_kappa_and_mcc_of_one_class_are_scikit_learns_with_undefined_as_0(y_true, y_pred):
    # One class in both the labels and the predictions: kappa is 0 / 0, which scikit-learn gives as
    # NaN unless told (replace_undefined_by), and MCC's denominator is 0, which it gives as 0.
    metrics = core.imbalance_metrics(core.confusion_matrix(y_true, y_pred, num_classes=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kappa = skm.cohen_kappa_score(y_true, y_pred, labels=range(3), replace_undefined_by=0.0)
        mcc = skm.matthews_corrcoef(y_true, y_pred)
    assert metrics["cohen_kappa"] == pytest.approx(kappa, abs=1e-15)
    assert metrics["mcc"] == pytest.approx(mcc, abs=1e-15)


def test_rows_of_weight_0_are_no_class_for_the_geometric_mean_as_for_balanced_accuracy():
    # Class 2's only row weighs 0 (a padding row): the matrix never sees it. scikit-learn's balanced
    # accuracy leaves such a class out; imbalanced-learn's geometric mean counts its label with recall 0.
    y_true, y_pred, weights = [0, 0, 1, 1, 2], [0, 1, 1, 1, 2], [1.0, 1.0, 1.0, 1.0, 0.0]
    metrics = core.imbalance_metrics(core.confusion_matrix(y_true, y_pred, num_classes=3, sample_weight=weights))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true": class 2 weighs 0
        balanced = skm.balanced_accuracy_score(y_true, y_pred, sample_weight=weights)
    assert metrics["balanced_accuracy"] == pytest.approx(balanced)
    kept = np.asarray(weights) > 0
    assert metrics["geometric_mean"] == pytest.approx(
        geometric_mean_score(np.asarray(y_true)[kept], np.asarray(y_pred)[kept]), rel=1e-12
    )
    assert metrics["geometric_mean"] == pytest.approx(np.sqrt(0.5 * 1.0), rel=1e-12)


def test_absent_classes_are_zero_rows_in_the_report():
    cm = core.confusion_matrix([0, 0, 1], [0, 1, 1], num_classes=4)
    report = core.classification_report(cm)
    assert report["3"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    assert core.imbalance_metrics(cm)["balanced_accuracy"] == pytest.approx(0.75)  # mean over present classes


# -- bad input -------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        (dict(labels=[0, 3], predictions=[0, 1], num_classes=3), ValueError, "`labels` must hold class ids in [0, 2]"),
        (dict(labels=[0, -1], predictions=[0, 1], num_classes=3), ValueError, "received -1"),
        (dict(labels=[0, 1], predictions=[0, 7], num_classes=3), ValueError, "`predictions` must hold class ids"),
        (dict(labels=[0.5, 1.0], predictions=[0, 1], num_classes=2), ValueError, "`labels` given as floats must hold whole class ids"),
        (dict(labels=[0, 1], predictions=[[0.1, np.nan], [0.3, 0.7]]), ValueError, "`predictions` contains NaN"),
        (dict(labels=[0, 1], predictions=[[0.9, np.nan], [0.3, 0.7]]), ValueError, "contains NaN or infinite values (first at row 0, column 1)"),
        (dict(labels=[0, 1], predictions=[[0.1, 0.9], [np.inf, 0.7]]), ValueError, "contains NaN or infinite values (first at row 1, column 0)"),
        (dict(labels=[0, 1], predictions=[[0.1, 0.9], [0.3, -np.inf]]), ValueError, "contains NaN or infinite values (first at row 1, column 1)"),
        (dict(labels=[0, 1], predictions=[[-np.inf, -np.inf], [0.3, 0.7]]), ValueError, "contains NaN or infinite values (first at row 0, column 0)"),
        (dict(labels=[0, 1], predictions=[[0.1, np.nan, 0.2], [0.3, 0.7, 0.0]]), ValueError, "contains NaN or infinite values (first at row 0, column 1)"),
        (dict(labels=[0, 1, 1], predictions=[0, 1], num_classes=2), ValueError, "same number of rows, received 3 and 2"),
        # a missing label is not the model's output: drop the row or weigh it 0
        (dict(labels=[0.0, np.nan], predictions=[[0.9, 0.1], [0.2, 0.8]]), ValueError,
         "`labels` contains NaN or infinite values (first at row 1); a missing label (pandas' NA, a NaN) names no class"),
        (dict(labels=[0, 1], predictions=[0, 1], num_classes=2, sample_weight=[1.0, np.nan]), ValueError,
         "`sample_weight` contains NaN or infinite values (first at row 1); fix the weights or drop those rows"),
        # padding rows (weight 0, label -1) are not blamed when the row counts differ
        (dict(labels=[0, -1, 1], predictions=[[0.9, 0.1], [0.2, 0.8]], sample_weight=[1, 0, 1]), ValueError,
         "same number of rows, received 3 and 2"),
        (dict(labels=[0, 1], predictions=np.zeros((2, 3)), num_classes=4), ValueError, "shape [N, 4], received (2, 3)"),
        (dict(labels=np.zeros((2, 3)), predictions=[0, 1], num_classes=2), ValueError, "one-hot `labels` must have shape [N, 2]"),
        (dict(labels=[0, 1], predictions=[0, 1]), ValueError, "`num_classes` is required"),
        # class ids of two devices ([D, n], from jax.pmap) are not one-hot rows
        (dict(labels=[[0, 2, 1, 0], [1, 0, 0, 2]], predictions=[[0, 2, 1, 1], [1, 0, 0, 2]]), ValueError,
         "of integers must hold 0 and 1, received 2 in row 0: class ids with a leading axis"),
        (dict(labels=np.ones((4, 3), np.int64) * [0, 3, 0], predictions=np.eye(3)[[0, 1, 2, 1]]), ValueError,
         "labels.reshape(-1), predictions.reshape(-1, C)"),
        (dict(labels=[0, 0], predictions=[0, 0], num_classes=1), ValueError, "`num_classes` must be at least 2"),
        (dict(labels=[], predictions=[], num_classes=2), ValueError, "empty (0 rows)"),
        # an empty object column (a filtered pandas Series) is empty, not an IndexError
        (dict(labels=np.empty(0, dtype=object), predictions=np.empty((0, 3), dtype=object)), ValueError, "empty (0 rows)"),
        (dict(labels=["a", "b"], predictions=[0, 1], num_classes=2), TypeError, "`labels` must hold integer class ids"),
        # a structured array's fields hold the numbers
        (dict(labels=np.array([(0, 0.5), (1, 0.2)], dtype=[("label", "i8"), ("score", "f4")]), predictions=[0, 1],
              num_classes=2), TypeError, "`labels` is a numpy structured array with fields 'label', 'score'; pass the "
         "field that holds the values, e.g. labels['label']"),
        (dict(labels=[0, 1], predictions=[0, 1], num_classes=2, sample_weight=np.rec.fromarrays([[1.0, 2.0]], names="w")),
         TypeError, "e.g. sample_weight['w']"),
        (dict(labels=[0, 1], predictions=[0.2, 0.9], num_classes=3), ValueError, "needs num_classes=2"),
        (dict(labels=[0, 1], predictions=[-2.0, 3.0]), ValueError, "sigmoid probabilities in [0, 1]"),
        (dict(labels=[0, 1], predictions=[0, 1], num_classes=2, sample_weight=[1.0]), ValueError, "`sample_weight` must have shape [2]"),
        (dict(labels=[0, 1], predictions=[0, 1], num_classes=2, sample_weight=[1.0, -1.0]), ValueError, "non-negative"),
        (dict(labels=[0, 1], predictions=[0, 1], num_classes=2.0), TypeError, "`num_classes` must be an int"),
    ],
)
def test_bad_input_names_argument_rule_and_value(kwargs, error, fragment):
    with pytest.raises(error) as raised:
        core.confusion_matrix(**kwargs)
    assert fragment in str(raised.value)


def test_lists_of_arrays_are_refused_as_batches_or_heads_with_the_fix():
    rng = np.random.default_rng(6)
    label_batches = [rng.integers(0, 3, 32), rng.integers(0, 3, 32), rng.integers(0, 3, 10)]
    score_batches = [rng.random((32, 3)), rng.random((32, 3)), rng.random((10, 3))]
    labels, scores = np.concatenate(label_batches), np.concatenate(score_batches)
    with pytest.raises(ValueError, match=r"`labels` is a list of 3 arrays of 32, 32, 10 rows, as batches .* np\.concatenate"):
        core.confusion_matrix(label_batches, scores)
    with pytest.raises(ValueError, match=r"`predictions` is a list of 3 arrays of 32, 32, 10 rows"):
        core.confusion_matrix(labels, score_batches)
    with pytest.raises(ValueError, match=r"several heads .* predictions\[0\]\) or batches collected in a loop"):
        core.confusion_matrix(labels[:32], score_batches[:2])
    with pytest.raises(ValueError, match=r"read as 2 one-hot rows of 32 classes, and item 0 \(.*\) is no one-hot row: "
                                         r"batches collected in a loop\? concatenate them first"):
        core.confusion_matrix(label_batches[:2], scores[:60])  # equal batches read as one-hot rows
    with pytest.raises(ValueError, match=r"as many as the rows of `predictions` in each: the labels of a model with "
                                         r"several heads\? pass the one to log, e\.g\. labels\[0\]"):
        core.confusion_matrix(label_batches[:2], scores[:32])
    assert core.confusion_matrix([[0, 1, 0], [1, 0, 0]], [[0.1, 0.8, 0.1], [0.9, 0.0, 0.1]]).trace() == 2  # rows
    np.testing.assert_array_equal(  # the fix the messages give
        core.confusion_matrix(np.concatenate(label_batches), np.concatenate(score_batches)),
        skm.confusion_matrix(labels, scores.argmax(1), labels=range(3)),
    )


def test_object_arrays_of_numbers_are_numbers_and_missing_values_are_named():
    """pandas' nullable dtypes (df.convert_dtypes()) give object arrays from a DataFrame."""
    import pandas as pd  # statsmodels' dependency

    labels = pd.Series([0, 1, 1, 0], dtype="Int64")
    scores = pd.DataFrame([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]], dtype="Float64")
    assert np.asarray(scores).dtype == object  # what the core is handed
    expected = skm.confusion_matrix([0, 1, 1, 0], [0, 1, 0, 0])
    np.testing.assert_array_equal(core.confusion_matrix(labels, scores), expected)
    np.testing.assert_array_equal(core.confusion_matrix(np.array([0, 1, 1, 0], dtype=object), scores.to_numpy()), expected)
    scores.iloc[1, 0] = pd.NA
    with pytest.raises(ValueError, match=r"`predictions` holds missing values \(None or pandas' NA\); drop those rows"):
        core.confusion_matrix(labels, scores)
    with pytest.raises(ValueError, match=r"`labels` holds missing values"):
        core.confusion_matrix(np.array([0, None, 1], dtype=object), [0, 1, 1], num_classes=2)


def test_string_labels_are_refused_with_a_mapping_that_gives_sklearns_matrix():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    labels = rng.choice(np.array(["emu", "cat", "dog"]), 90, p=[0.7, 0.2, 0.1])
    features = (labels[:, None] == np.array(["cat", "dog", "emu"])) + rng.normal(scale=0.8, size=(90, 3))
    clf = LogisticRegression().fit(features, labels)
    proba = clf.predict_proba(features)
    with pytest.raises(TypeError, match=r"`labels` must hold integer class ids.*LabelEncoder\(\)\.fit\(clf\.classes_\)"):
        core.confusion_matrix(labels, proba)
    from sklearn.preprocessing import LabelEncoder

    ids = LabelEncoder().fit(clf.classes_).transform(labels)  # the recipe the message gives
    cm = core.confusion_matrix(ids, proba, num_classes=len(clf.classes_))
    np.testing.assert_array_equal(cm, skm.confusion_matrix(labels, clf.predict(features), labels=clf.classes_))
    unknown = labels.copy()
    unknown[:3] = "eel"  # a class the model does not know: np.searchsorted made it "emu", counted in emu's row
    with pytest.raises(ValueError, match=r"previously unseen labels: .*eel"):
        LabelEncoder().fit(clf.classes_).transform(unknown)



@pytest.mark.parametrize(
    "labels, fragment",
    [
        ((label for label in [0, 1, 2]), r"`labels` must be an array of values, received a 'generator' object; .*list\(\.\.\.\) it first"),
        (iter([0, 1, 2]), r"received a 'list_iterator' object"),
        (np.array([np.array([0, 1]), np.array([2]), np.array([1])], dtype=object), r"items of type 'ndarray': ragged rows"),
    ],
    ids=["generator", "iterator", "ragged object rows"],
)
def test_labels_that_are_no_array_are_refused_as_such_not_as_class_names_to_map(labels, fragment):
    # they were told to map class labels to ids with LabelEncoder, which does not apply
    with pytest.raises(TypeError, match=fragment) as caught:
        core.confusion_matrix(labels, np.full((3, 3), 1 / 3))
    assert "LabelEncoder" not in str(caught.value)
    assert core.confusion_matrix(list(iter([0, 1, 2])), np.eye(3)).tolist() == skm.confusion_matrix([0, 1, 2], [0, 1, 2]).tolist()

@pytest.mark.parametrize(
    "names, fragment",
    [
        (["a"], "one name per class (2), received 1"),
        (["a", "a"], "unique, received 'a' twice (`class_names`[0] and [1]); give each class its own name, or "
                     "map the labels of one class to one id"),
        ("ab", "sequence of names"),
        (["accuracy", "b"], "report's own keys ['accuracy', 'macro avg', 'micro avg', 'weighted avg'], received "
                            "['accuracy']; rename the class, e.g. 'accuracy (class)'"),
        (["a", None], "`class_names`[1] is None; pass one name (a str) per class"),
        ([b"\xff", "b"], "`class_names`[0] is bytes that are not UTF-8"),
        (["a", ""], "`class_names`[1] is empty, which shows as a blank row; give each class a visible name, e.g. its "
                    "id for an unnamed one: [name.strip() or str(k) for k, name in enumerate(class_names)]"),
        ([" \t\u3000", "b"], r"`class_names`[0] is only whitespace (' \t\u3000'), which shows as a blank row"),
        ([b"", "b"], "`class_names`[0] is empty"),
        (np.array(["a", ""]), "`class_names`[1] is empty"),
        (["b", "b\t"], "`class_names`[0] and [1] differ only by whitespace at their ends ('b' and 'b\\t'), shown alike "
                       "in TensorBoard's Scalars tab and the picture; if they are two classes, tell them apart in words"),
        (["a\n", "b"], "`class_names`[0] is 'a\\n', with whitespace at its start or end, which TensorBoard's Scalars "
                       "tab and the picture do not show: its tags (recall/…) would look like those of a class 'a', yet "
                       "be charted apart from them (in other runs too); pass the names stripped: "
                       "[name.strip() for name in class_names]"),
        (["caf\u00e9", "cafe\u0301"], "`class_names`[0] and [1] are the same text in two Unicode forms"),
    ],
)
def test_bad_class_names(names, fragment):
    # The refusals of a repeated name and of a report's key named no fix; a repeated name was shown whole.
    with pytest.raises((ValueError, TypeError)) as raised:
        core.classification_report(np.eye(2, dtype=int), names)
    assert fragment in str(raised.value)


def test_class_names_differing_only_in_case_are_two_classes():
    names = ["fraud", "Fraud", "FRAUD"]
    assert list(core.classification_report(np.eye(3, dtype=int), names))[:3] == names


def test_a_long_class_name_with_whitespace_at_its_end_shows_both_ends_in_the_message():
    # cut after its start, the message would not show the whitespace it is refused for
    with pytest.raises(ValueError) as raised:
        core.classification_report(np.eye(2, dtype=int), ["b", "x" * 10_000 + "y "])
    assert str(raised.value).startswith(f"`class_names`[1] is {'x' * 30!r}…{'x' * 28 + 'y '!r}, with whitespace at its ")


def test_a_long_repeated_class_name_is_cut_in_the_message():
    with pytest.raises(ValueError) as raised:
        core.classification_report(np.eye(3, dtype=int), ["x" * 10_000, "b", "x" * 10_000])
    assert str(raised.value) == (
        f"`class_names` must be unique, received {'x' * 60!r}… twice (`class_names`[0] and [2]); give each class "
        "its own name, or map the labels of one class to one id"
    )


def test_bad_matrix():
    with pytest.raises(ValueError, match="square"):
        core.imbalance_metrics(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        core.imbalance_metrics(np.array([[1, -1], [0, 1]]))
    with pytest.raises(ValueError, match="at least 2"):
        core.imbalance_metrics(np.array([[1]]))


def test_class_names_given_as_bytes_are_read_as_utf8_and_numbers_as_written():
    # h5py hands back stored strings as bytes; numpy keeps them as np.bytes_
    assert core.validate_class_names([b"cat", np.bytes_("d\xc3\xb6g".encode("latin-1"))], 2) == ["cat", "dög"]
    assert core.validate_class_names(np.array([b"a", b"b"]), 2) == ["a", "b"]
    assert core.validate_class_names([0, 1.5], 2) == ["0", "1.5"]


def test_shapes_beyond_two_axes_are_named_before_num_classes_is_asked_for():
    for shape, axis in (((5, 1, 3), 1), ((5, 3, 1), 2)):
        with pytest.raises(ValueError, match=rf"`predictions` must be class ids \[N\] or rows \[N, C\], received shape "
                                             rf"\[{shape[0]}, {shape[1]}, {shape[2]}\]; remove the size-1 axes first "
                                             rf"\(e.g. np.squeeze\(x, axis={axis}\)\)"):
            core.confusion_matrix(np.zeros(5, int), np.zeros(shape))
    with pytest.raises(ValueError, match=r"`labels` must be class ids \[N\] or rows \[N, C\], received shape \[5, 2, 2\]$"):
        core.confusion_matrix(np.zeros((5, 2, 2)), np.zeros(5, int))


def test_hostile_class_names_are_kept_verbatim():
    names = ["<img src=x onerror=alert(1)>", "a\"b'c", "ünï 日本", "two  spaces\tinside"]
    report = core.classification_report(np.eye(4, dtype=int), names)
    assert list(report)[:4] == names


@pytest.mark.parametrize("chunk_bytes", [1 << 19, 1, 24], ids=["one chunk", "a row per chunk", "a few rows per chunk"])
def test_scores_are_refused_exactly_when_one_is_not_finite(monkeypatch, chunk_bytes):
    """The finiteness check reads the argmax's picks and the minimum, not every score: same verdict, same position."""
    monkeypatch.setattr(core.argmax, "_CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(5)
    for trial in range(300):
        rows, classes = int(rng.integers(1, 9)), int(rng.integers(2, 5))
        scores = rng.normal(size=(rows, classes))
        for _ in range(int(rng.integers(0, 3))):
            scores[rng.integers(rows), rng.integers(classes)] = rng.choice([np.nan, np.inf, -np.inf])
        labels = rng.integers(0, classes, rows)
        bad = ~np.isfinite(scores.reshape(-1))
        if bad.any():
            with pytest.raises(ValueError, match=rf"first at row {int(np.flatnonzero(bad)[0]) // classes}, column {int(np.flatnonzero(bad)[0]) % classes}\)"):
                core.confusion_matrix(labels, scores, num_classes=classes)
        else:
            np.testing.assert_array_equal(
                core.confusion_matrix(labels, scores, num_classes=classes),
                skm.confusion_matrix(labels, scores.argmax(1), labels=range(classes)),
            )


def _count_in_child(labels, scores, results):
    results.put(core.confusion_matrix(labels, scores, num_classes=4).tolist())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_counts_in_parallel_after_its_parent_did(monkeypatch):
    """The parent's thread pool does not survive fork: a child must not hand work to it (it would hang)."""
    monkeypatch.setattr(core.argmax, "_PARALLEL_MIN_SCORES", 64)
    monkeypatch.setattr(core.argmax, "_usable_cores", lambda: 4)  # as many blocks as the pool has threads
    rng = np.random.default_rng(3)
    labels, scores = rng.integers(0, 4, 200), rng.random((200, 4))
    expected = skm.confusion_matrix(labels, scores.argmax(1), labels=range(4)).tolist()
    for _ in range(3):  # the pool now exists, with its threads
        assert core.confusion_matrix(labels, scores, num_classes=4).tolist() == expected
    time.sleep(0.2)  # its threads go idle, as between two logging calls (then a child never starts its own)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_count_in_child, args=(labels, scores, results))
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung counting in parallel")
    assert child.exitcode == 0
    assert results.get(timeout=5) == expected


def test_large_score_arrays_are_counted_in_parallel_blocks_with_the_same_result(monkeypatch):
    monkeypatch.setattr(core.argmax, "_PARALLEL_MIN_SCORES", 64)
    monkeypatch.setattr(core.argmax, "_CHUNK_BYTES", 5 * 16)  # 5 rows of 4 float32 scores per chunk
    monkeypatch.setattr(core.argmax, "_usable_cores", lambda: 3)
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 4, 101)
    scores = rng.random((101, 4)).astype("float32")
    scores[7] = scores[7, 0]  # ties go to the first column, as in numpy
    np.testing.assert_array_equal(
        core.confusion_matrix(labels, scores, num_classes=4), skm.confusion_matrix(labels, scores.argmax(1), labels=range(4))
    )
    for row, value in ((3, np.nan), (60, -np.inf), (100, np.inf)):  # one bad score in any block is found
        bad = scores.copy()
        bad[row, 2] = value
        with pytest.raises(ValueError, match=rf"first at row {row}, column 2\)"):
            core.confusion_matrix(labels, bad, num_classes=4)


@pytest.mark.parametrize("kind", ["int", "float32", "sparse"])
def test_imbalance_metrics_take_the_per_class_metrics_the_caller_has(kind):
    cm = np.array([[50, 3, 1], [4, 9, 0], [0, 2, 1]])
    if kind == "float32":
        cm = (cm * 0.3).astype(np.float32)
    elif kind == "sparse":
        cm = core.SparseMatrix.from_dense(cm)
    stats = core.per_class_metrics(cm)
    assert core.imbalance_metrics(cm, per_class=stats) == core.imbalance_metrics(cm)
    with pytest.raises(ValueError, match=r"`per_class` holds 2 classes, `cm` 3"):
        core.imbalance_metrics(cm, per_class=core.per_class_metrics(np.eye(2)))


def test_per_class_metrics_sum_float32_weights_in_float64():
    cm = np.array([[16_777_216.0, 1.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    stats = core.per_class_metrics(cm)
    assert stats["support"].dtype == np.float64 and stats["support"][0] == 16_777_218.0  # float32 sums give ...216
    assert stats["recall"][0] == 16_777_216.0 / 16_777_218.0


def test_pandas_rows_and_score_columns_in_another_order_than_they_name_are_refused():
    """Read by position, a frame sorted after train_test_split paired labels with other rows' scores."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(8)
    y = pd.Series(rng.choice(3, 300, p=[0.6, 0.3, 0.1]), index=rng.permutation(300) + 1000)
    x = pd.DataFrame(np.eye(3)[y] * 1.5 + rng.normal(size=(300, 3)), index=y.index)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.5, random_state=0)
    clf = LogisticRegression().fit(x_train, y_train)
    expected = skm.confusion_matrix(y_val, clf.predict(x_val), labels=clf.classes_)
    proba = pd.DataFrame(clf.predict_proba(x_val), index=y_val.index, columns=clf.classes_)
    np.testing.assert_array_equal(core.confusion_matrix(y_val, proba), expected)  # one index, one order
    # a DataFrame made from the numpy output has 0..N-1 as index: paired by position, as meant
    np.testing.assert_array_equal(core.confusion_matrix(y_val, pd.DataFrame(clf.predict_proba(x_val))), expected)

    def resolve(labels, predictions, **kwargs):
        num_classes, names = core.resolve_num_classes(labels, predictions, None, kwargs.pop("class_names", None), **kwargs)
        return core.confusion_matrix(labels, predictions, num_classes=num_classes)

    first, smallest = y_val.index[0], y_val.index.min()
    with pytest.raises(ValueError, match=rf"`labels` and `predictions` are pandas objects holding the same index in "
                                         rf"two orders \(row 0: {first} and {smallest}\).*predictions\.loc\[labels\.index\]"):
        resolve(y_val, proba.sort_index())
    with pytest.raises(ValueError, match=r"`labels` and `sample_weight` .*sample_weight\.loc\[labels\.index\]"):
        resolve(y_val, proba, sample_weight=pd.Series(1.0, index=y_val.index[::-1]))
    np.testing.assert_array_equal(resolve(y_val, proba.sort_index().loc[y_val.index]), expected)  # the fix given

    with pytest.raises(ValueError, match=r"columns are the class ids in another order \(\[2, 0, 1\]\).*"
                                         r"predictions\[sorted\(predictions\.columns\)\]"):
        resolve(y_val, proba[[2, 0, 1]])
    named = proba.set_axis(["low", "mid", "high"], axis=1)
    with pytest.raises(ValueError, match=r"columns name the classes in another order \(\['high', 'low', 'mid'\]\) "
                                         r"than `class_names`.*predictions\[list\(class_names\)\]"):
        resolve(y_val, named[["high", "low", "mid"]], class_names=["low", "mid", "high"])
    np.testing.assert_array_equal(resolve(y_val, named[["high", "low", "mid"]][["low", "mid", "high"]],
                                          class_names=["low", "mid", "high"]), expected)


def test_class_names_from_pandas_are_read_in_order_and_unordered_ones_are_refused_naming_the_fix():
    import pandas as pd

    labels, predicted = [2, 0, 1, 1, 0, 2, 2], [2, 0, 1, 0, 0, 1, 2]
    cm = core.confusion_matrix(labels, predicted, num_classes=3)
    expected = sklearn_report(labels, predicted, 3, names=["fox", "cat", "dog"])
    categories = pd.Categorical(["dog"], categories=["fox", "cat", "dog"]).categories  # a pandas Index
    for names in (categories, pd.Series(["fox", "cat", "dog"], index=[7, 5, 6]), pd.Categorical(["fox", "cat", "dog"])):
        assert_report_equal(core.classification_report(cm, names), expected)
        assert core.resolve_num_classes(labels, predicted, None, names) == (3, ["fox", "cat", "dog"])
    refused = [
        ({"cat", "dog", "fox"}, TypeError, r"`class_names` is a set, which has no order; pass a list"),
        ({2: "dog", 0: "fox", 1: "cat"}, TypeError, r"mapping \(keys 2, 0, 1\).*\[class_names\[i\] for i in range"),
        ((name for name in ["fox", "cat", "dog"]), TypeError, r"received generator; .*list\(\.\.\.\) it first"),
        (np.array([["fox", "cat", "dog"]]), ValueError, r"one-dimensional .*received shape \(1, 3\)"),
    ]
    for names, kind, message in refused:
        with pytest.raises(kind, match=message):
            core.resolve_num_classes(labels, predicted, None, names)  # class ids only: C from the names
        with pytest.raises(kind, match=message):
            core.classification_report(cm, names)


def test_labels_of_a_shuffled_frame_beside_scores_made_from_numpy_are_paired_by_position():
    """The scores' default index 0..N-1 names no rows: .loc[labels.index] would pair each label with another row."""
    import pandas as pd

    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"y": rng.choice(3, 200, p=[0.6, 0.3, 0.1])}).sample(frac=1, random_state=1)
    scores = np.eye(3)[np.where(rng.random(200) < 0.8, frame["y"], rng.choice(3, 200))] * 0.7 + 0.1
    expected = skm.confusion_matrix(frame["y"], scores.argmax(axis=1), labels=range(3))
    pairs = (
        (frame["y"], pd.DataFrame(scores)),  # predict_proba's output as a DataFrame
        (frame["y"].reset_index(drop=True), pd.DataFrame(scores, index=frame.index)),  # labels made from numpy
    )
    for labels, predictions in pairs:
        num_classes, _ = core.resolve_num_classes(labels, predictions, None, None)
        np.testing.assert_array_equal(core.confusion_matrix(labels, predictions, num_classes=num_classes), expected)


def test_pandas_rows_are_compared_without_a_python_list_of_every_row():
    """Two indexes of 1,000,000 rows that are no reordering of one another: hashed (≈ 50 MB), not listed (≈ 170 MB)."""
    import tracemalloc

    import pandas as pd

    from tb_imbalance.core.class_order import check_pandas_order

    rows = 1_000_000
    labels = pd.Series(np.zeros(rows, dtype=np.int64), index=np.arange(rows) * 2 + 1)
    weights = pd.Series(np.ones(rows), index=np.arange(rows) * 3 + 1)
    tracemalloc.start()
    try:
        check_pandas_order(labels, np.zeros(rows, dtype=np.int64), weights, None, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, peak


def test_a_list_of_matrices_of_different_sizes_is_refused_as_one_per_head_not_as_batches():
    # batches are concatenated; matrices of 3 and 4 classes (two heads) are not, they are logged one at a time
    heads = [np.eye(3, dtype=int), np.eye(4, dtype=int)]
    with pytest.raises(ValueError, match=r"`cm` is a list of 2 matrices of different sizes \(3 x 3, 4 x 4\): one "
                                         r"per model head\? pass the one to log, e.g\. cm\[0\]") as raised:
        core.validate_matrix(heads, "cm")
    assert "concatenate" not in str(raised.value)
    np.testing.assert_array_equal(core.validate_matrix(heads[0], "cm"), heads[0])  # the fix named


@pytest.mark.parametrize("mask", [np.eye(3, dtype=bool), [[True, False], [False, True]]])
def test_a_boolean_matrix_is_refused_as_a_mask_not_read_as_counts(mask):
    # cm > 0 was read as counts of 0 and 1, and its report written as a confusion matrix's
    with pytest.raises(TypeError, match=r"`cm` holds booleans \(a mask such as cm > 0\?\), not counts"):
        core.validate_matrix(mask, "cm")
    assert core.validate_matrix(np.asarray(mask, dtype=int), "cm").tolist() == np.asarray(mask, dtype=int).tolist()


def test_labels_that_may_be_values_of_class_names_are_warned_at_the_callers_line():
    # the warning named tb_imbalance/core/counting.py, the line that called the check, not the user's call
    labels, scores = np.array([1, 2, 1, 2]), np.eye(3)[[0, 1, 0, 1]]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert core.resolve_num_classes(labels, scores, None, [1, 2, 3]) == (3, ["1", "2", "3"])
        line = inspect.currentframe().f_lineno - 1
    assert [(w.category, w.filename, w.lineno) for w in said] == [(UserWarning, __file__, line)]
    assert "`labels` may be values of `class_names` ([1, 2, 3])" in str(said[0].message)


@pytest.mark.parametrize("dtype, limit", [("float16", 2048), ("bfloat16", 256)])
def test_class_ids_a_narrow_float_may_have_rounded_are_refused_at_the_core_too(dtype, limit):
    """numpy float16 (and ml_dtypes' bfloat16) rounds 2049 to 2048 (257 to 256): such an id could be another class's."""
    import ml_dtypes

    num_classes = limit + 20
    ids = np.arange(num_classes)
    narrow = ids.astype(np.float16 if dtype == "float16" else ml_dtypes.bfloat16)
    with pytest.raises(ValueError, match=rf"`labels` is {dtype}, whose whole numbers from {limit} on may be rounded"):
        core.confusion_matrix(narrow, ids, num_classes=num_classes)
    below = narrow[:limit]  # exact below the limit, and one-hot rows (0 and 1) always
    np.testing.assert_array_equal(core.confusion_matrix(below, ids[:limit], num_classes=num_classes),
                                  np.diag((ids < limit).astype(np.int64)))
    one_hot = np.eye(num_classes).astype(narrow.dtype)
    assert np.trace(core.confusion_matrix(one_hot, ids, num_classes=num_classes)) == num_classes
