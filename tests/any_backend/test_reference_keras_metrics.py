"""The streaming metrics' results on the named edge cases, against scikit-learn, on the current Keras backend.

A class with no support, a class never predicted, a single class, all
correct, all wrong, a single row; rows masked by ``sample_weight`` 0; no row
at all. :class:`BalancedAccuracy` is ``balanced_accuracy_score``,
:class:`MacroF1` ``f1_score(average="macro", labels=range(C),
zero_division=0)`` and :class:`MacroAveragePrecision` the mean of
``average_precision_score`` on the quantised scores over the classes with
positives, each on the rows kept. Runs in every environment: no TensorFlow
import at module level.
"""

import warnings

import numpy as np
import pytest
from keras import ops
from sklearn import metrics as skm

from support import EDGE_CASES
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, MacroAveragePrecision, MacroF1

NUM_CLASSES = 3

#: name -> (labels, argmax predictions, sample_weight: 0 masks a row out)
CASES = {
    name: (*EDGE_CASES[name], mask)
    for name, mask in {
        "all correct": [1, 1, 0, 1, 1, 1],
        "class 2 has no support": [1, 1, 1, 0, 1],
        "class 2 never predicted": [1, 0, 1, 1, 1],
        "class 2 absent": [1, 1, 1, 1, 0],
        "a single class, right": [1, 0, 1],
        "a single class, wrong": [0, 1, 1],
        "a single row": [1],
        "all wrong": [1, 1, 0, 1],
    }.items()
}


def _scores(predictions, seed):
    """Probabilities [N, 3] whose argmax is ``predictions`` and whose ranks differ from row to row."""
    rng = np.random.default_rng(seed)
    scores = rng.random((len(predictions), NUM_CLASSES)) * 0.4
    scores[np.arange(len(predictions)), predictions] += 1.0
    return (scores / scores.sum(axis=1, keepdims=True)).astype("float32")


def _references(labels, predictions, scores):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes in the predictions only, undefined scores
        balanced = skm.balanced_accuracy_score(labels, predictions)
        macro_f1 = skm.f1_score(labels, predictions, labels=range(NUM_CLASSES), average="macro", zero_division=0)
    quantised = core.quantise_scores(scores)
    average_precision = np.mean([
        skm.average_precision_score(labels == c, quantised[:, c]) for c in range(NUM_CLASSES) if (labels == c).any()
    ])
    return {"balanced": balanced, "macro_f1": macro_f1, "average_precision": average_precision}


@pytest.mark.parametrize("masked", [False, True], ids=["every row", "rows masked"])
@pytest.mark.parametrize("name", list(CASES))
def test_results_equal_scikit_learn_on_each_edge_case(name, masked):
    labels, predictions, mask = (np.array(part) for part in CASES[name])
    scores = _scores(predictions, seed=len(name))
    metrics = {"balanced": BalancedAccuracy(NUM_CLASSES), "macro_f1": MacroF1(NUM_CLASSES),
               "average_precision": MacroAveragePrecision(NUM_CLASSES)}
    weights = mask.astype("float32") if masked else None
    half = max(1, len(labels) // 2)  # two batches: the results are of the whole pass
    for part in (slice(0, half), slice(half, None)):
        if not len(labels[part]):
            continue
        for metric in metrics.values():
            metric.update_state(
                ops.convert_to_tensor(labels[part]), ops.convert_to_tensor(scores[part]),
                sample_weight=None if weights is None else ops.convert_to_tensor(weights[part]),
            )
    kept = mask > 0 if masked else np.ones(len(labels), bool)
    expected = _references(labels[kept], predictions[kept], scores[kept])
    for key, metric in metrics.items():
        assert float(metric.result()) == pytest.approx(expected[key], abs=1e-6), key
    np.testing.assert_array_equal(
        metrics["balanced"].confusion_matrix(),
        skm.confusion_matrix(labels[kept], predictions[kept], labels=range(NUM_CLASSES)),
    )


def test_results_before_any_row_and_of_rows_all_masked_are_0():
    # the docs' convention: 0 while nothing is counted (scikit-learn refuses empty labels)
    for metric in (BalancedAccuracy(NUM_CLASSES), MacroF1(NUM_CLASSES), MacroAveragePrecision(NUM_CLASSES)):
        assert float(metric.result()) == 0.0
        metric.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(_scores(np.array([0, 2]), 0)),
                            sample_weight=ops.convert_to_tensor(np.zeros(2, "float32")))
        assert float(metric.result()) == 0.0, type(metric).__name__


def _sigmoid(logits):
    return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


def _softmax(logits):
    shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("form", ["probabilities", "one-hot labels", "softmax logits", "sigmoid column", "sigmoid [N, 1]",
                                  "logit column"])
def test_each_prediction_form_gives_scikit_learns_values(form):
    # The reference reads the scores as the docs say: a softmax of logits, [1 - p, p] of one sigmoid column.
    rng = np.random.default_rng(21)
    binary = form in ("sigmoid column", "sigmoid [N, 1]", "logit column")
    num_classes = 2 if binary else 4
    labels = rng.integers(0, num_classes, 80)
    logits = (rng.normal(size=(80,) if binary else (80, num_classes)) * 2).astype("float32")
    from_logits = form in ("softmax logits", "logit column")
    if binary:
        positive = (_sigmoid(logits) if from_logits else _sigmoid(logits).astype("float32")).astype("float32")
        given = logits if from_logits else positive
        if form == "sigmoid [N, 1]":
            given = given[:, None]
        scores = np.stack([1 - positive, positive], axis=1)
        predictions = (logits > 0).astype(int)  # the cut: 0 for a logit, 0.5 for a probability
    else:
        scores = _softmax(logits).astype("float32")
        given = logits if from_logits else scores
        predictions = scores.argmax(axis=1)
    given_labels = np.eye(num_classes, dtype="float32")[labels] if form == "one-hot labels" else labels
    metrics = [type_(num_classes, from_logits=from_logits) for type_ in (BalancedAccuracy, MacroF1, MacroAveragePrecision)]
    for metric in metrics:
        metric.update_state(ops.convert_to_tensor(given_labels), ops.convert_to_tensor(given))
    quantised = core.quantise_scores(scores)
    expected = [
        skm.balanced_accuracy_score(labels, predictions),
        skm.f1_score(labels, predictions, labels=range(num_classes), average="macro", zero_division=0),
        np.mean([skm.average_precision_score(labels == c, quantised[:, c]) for c in range(num_classes)]),
    ]
    assert [float(metric.result()) for metric in metrics] == pytest.approx(expected, abs=1e-6)
