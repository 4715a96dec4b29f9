"""Logits that rule classes out with -inf (a masked softmax) are counted, on every path, as scikit-learn would.

With ``from_logits=True`` a row may hold -inf where it keeps a finite
logit: its argmax, and its softmax (0 for the ruled-out classes), are
well defined. NaN, +inf and a row that is -inf everywhere still cannot be
counted, and -inf scores read as probabilities are refused naming
``from_logits=True``. Oracles: numpy's argmax and softmax, scikit-learn.
"""

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from compiled_update import compiled_update
from logdir_reader import curves, matrices
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
from tb_imbalance.targets import close_directory_writers


def masked_logits(rows, num_classes, seed=0):
    """Logits with about a third of the classes ruled out per row (one finite logit kept), and labels."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(rows, num_classes)).astype("float32")
    logits[rng.random((rows, num_classes)) < 0.35] = -np.inf
    kept = rng.integers(0, num_classes, rows)
    logits[np.arange(rows), kept] = rng.normal(size=rows).astype("float32")
    return rng.integers(0, num_classes, rows), logits


def softmax(logits):
    shifted = np.exp(logits.astype(np.float64) - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("num_classes", [3, 20, 300, 1200])  # XLA's argmax, TensorFlow's, JAX's blocks, cell codes
@pytest.mark.parametrize("update", ["eager", "compiled"])
def test_the_metric_counts_masked_logits_as_sklearn(num_classes, update):
    labels, logits = masked_logits(96, num_classes)
    metric = BalancedAccuracy(num_classes, from_logits=True, curves=True)
    tensors = [ops.convert_to_tensor(value) for value in (labels, logits)]
    if update == "eager":
        metric.update_state(*tensors)
    else:
        compiled_update(metric)(*tensors, ops.ones((len(labels),)))
    assert metric.invalid_rows == 0
    matrix = metric.confusion_matrix()
    matrix = matrix.toarray() if isinstance(matrix, core.SparseMatrix) else matrix
    expected = sk_confusion_matrix(labels, logits.argmax(1), labels=range(num_classes))
    np.testing.assert_array_equal(matrix, expected)
    probabilities = softmax(logits)
    assert (probabilities[np.isneginf(logits)] == 0).all()
    reference = core.curve_summary(probabilities, labels, logits.argmax(1))
    np.testing.assert_array_equal(metric.curve_summary()[:, :2], reference[:, :2])  # the counts, exact
    assert np.isfinite(float(metric.result()))


@pytest.mark.parametrize("num_classes", [3, 20, 300])
def test_nan_plus_inf_and_rows_all_minus_inf_are_not_counted(num_classes):
    labels, logits = masked_logits(32, num_classes, seed=1)
    logits[0] = -np.inf
    logits[1, 0] = np.nan
    logits[2, 1] = np.inf
    for update in ("eager", "compiled"):
        metric = BalancedAccuracy(num_classes, from_logits=True)
        tensors = [ops.convert_to_tensor(value) for value in (labels, logits)]
        if update == "eager":
            metric.update_state(*tensors)
        else:
            compiled_update(metric)(*tensors, ops.ones((len(labels),)))
        assert metric.invalid_rows == 3, update
    with pytest.raises(ValueError, match=r"`predictions` contains NaN or \+inf \(first at row 1, column 0\)"):
        core.confusion_matrix(labels, logits, num_classes=num_classes, from_logits=True)
    logits[1:3] = 0.0
    with pytest.raises(ValueError, match=r"`predictions` row 0 is -inf in every column \(1 such rows\)"):
        core.confusion_matrix(labels, logits, num_classes=num_classes, from_logits=True)


def test_minus_inf_read_as_probabilities_is_refused_naming_from_logits():
    labels, logits = masked_logits(16, 4, seed=2)
    with pytest.raises(ValueError, match=r"logits with -inf \(classes ruled out\) need from_logits=True"):
        core.confusion_matrix(labels, logits)
    metric = BalancedAccuracy(4)  # tensors: the rows are not counted, and result() is NaN
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(logits))
    assert metric.invalid_rows == int(np.isneginf(logits).any(axis=1).sum()) > 0


def test_a_sigmoid_logit_may_be_plus_or_minus_inf():
    labels, column = np.array([0, 1, 1, 0]), np.array([-np.inf, np.inf, 0.3, -0.2], "float32")
    expected = sk_confusion_matrix(labels, (column > 0).astype(int))
    np.testing.assert_array_equal(core.confusion_matrix(labels, column, from_logits=True), expected)
    metric = BalancedAccuracy(2, from_logits=True)
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(column))
    np.testing.assert_array_equal(metric.confusion_matrix(), expected)
    with pytest.raises(ValueError, match=r"`predictions` contains NaN \(first at row 0\)"):
        core.confusion_matrix(labels, np.array([np.nan, 1.0, 1.0, 1.0]), from_logits=True)


def test_log_report_and_a_fit_with_masked_logits_log_sklearns_matrix_and_the_softmax_curves(tmp_path):
    labels, logits = masked_logits(120, 5, seed=3)
    tb_imbalance.log_report(tmp_path / "log_report", labels, logits, 0, from_logits=True, image=False)
    close_directory_writers()
    expected = sk_confusion_matrix(labels, logits.argmax(1), labels=range(5))
    np.testing.assert_array_equal(matrices(tmp_path)["log_report"][0], expected)
    reference = core.curve_summary(softmax(logits), labels, logits.argmax(1))
    np.testing.assert_allclose(curves(tmp_path)["log_report"][0], reference, rtol=1e-5, atol=1e-6)
    # a model whose output masks classes: the compiled metric and the callback's predict path
    x = np.random.default_rng(4).normal(size=(120, 5)).astype("float32")
    mask = np.where(np.isneginf(logits), -np.inf, 0.0).astype("float32")
    features, masks = keras.Input((5,)), keras.Input((5,))
    outputs = keras.layers.Add()([keras.layers.Dense(5)(features), masks])
    model = keras.Model([features, masks], outputs)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[BalancedAccuracy(5, from_logits=True)])
    for run, source in (("fit", None), ("predict", ([x, mask], labels))):
        model.fit([x, mask], labels, validation_data=([x, mask], labels), epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path / run, validation_data=source, from_logits=True, verbose=0)])
        predicted = np.asarray(model.predict([x, mask], verbose=0)).argmax(1)
        close_directory_writers()
        (logged,) = matrices(tmp_path / run).values()
        np.testing.assert_array_equal(logged[0], sk_confusion_matrix(labels, predicted, labels=range(5)), err_msg=run)
