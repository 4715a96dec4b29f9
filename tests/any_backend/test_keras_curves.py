"""The streaming metrics' binned curve summary and MacroAveragePrecision, on the current Keras backend.

The curve state a metric accumulates batch by batch (eager, compiled, in
``fit`` / ``evaluate``) must be ``tb_imbalance.core.curve_summary`` of the
same rows: counts exact, score sums to float precision. MacroAveragePrecision
must be ``core.curve_metrics``' macro average precision and scikit-learn's
``average_precision_score`` on the quantised scores. Runs in every
environment: no TensorFlow import at module level.
"""

import warnings

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import average_precision_score

from compiled_update import compiled_update
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ConfusionMatrixMetric, MacroAveragePrecision, MacroF1
from tb_imbalance.keras import metrics as metrics_module

BACKEND = keras.backend.backend()


def away_from_edges(probabilities, margin=1e-4):
    """Rows whose every probability is at least ``margin`` bins from a bin edge: a softmax or
    sigmoid computed by another library may differ in the last bits, which must not move a row."""
    scaled = np.asarray(probabilities, np.float64) * core.CURVE_BINS
    return (np.abs(scaled - np.round(scaled)) > margin).all(axis=1)


def probability_batches(num_classes, batches=4, rows=61, seed=0, padding=True):
    """Softmax-like rows (some exact 0 and 1 scores), skewed labels, weights with zeros and -1 padding."""
    rng = np.random.default_rng(seed)
    prior = 0.5 ** np.arange(num_classes)
    for _ in range(batches):
        labels = rng.choice(num_classes, rows, p=prior / prior.sum())
        scores = rng.random((rows, num_classes)).astype("float32")
        scores[np.arange(rows), labels] += rng.random(rows).astype("float32")
        scores /= scores.sum(axis=1, keepdims=True)
        scores[0] = 0.0
        scores[0, labels[0]] = 1.0  # the last bin holds 1.0
        weights = rng.choice([0.0, 1.0, 2.5], rows).astype("float32")
        if padding:
            labels[(weights == 0) & (rng.random(rows) < 0.5)] = -1
        yield labels, scores, weights


def reference(labels, probabilities, predicted, weights=None):
    """core.curve_summary of the rows the metric counts (weight as a mask: weight-0 rows dropped)."""
    keep = np.ones(len(labels), bool) if weights is None else weights != 0
    return core.curve_summary(probabilities[keep], labels[keep], predicted[keep])


def assert_summary(metric, expected):
    got = metric.curve_summary()
    assert got is not None, metric.curves_unavailable()
    assert got.dtype == np.float64 and got.shape == expected.shape
    np.testing.assert_array_equal(got[:, :2], expected[:, :2])  # the counts, exactly
    np.testing.assert_allclose(got[:, 2], expected[:, 2], rtol=1e-6, atol=1e-5)
    assert metric.curves_unavailable() == ""


@pytest.fixture
def marginals_layout(monkeypatch):
    monkeypatch.setitem(metrics_module.DENSE_RESULT_MAX_CLASSES, BACKEND, 1)


@pytest.mark.parametrize("layout", ["dense", "marginals"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weights_and_padding"])
def test_curve_summary_is_the_cores_over_batches(weighted, compiled, layout, request):
    if layout == "marginals":
        request.getfixturevalue("marginals_layout")
    num_classes = 5
    metrics = [BalancedAccuracy(num_classes), MacroF1(num_classes), ConfusionMatrixMetric(num_classes)]
    steps = [compiled_update(m) if compiled and not type(m) is ConfusionMatrixMetric else None for m in metrics]
    seen = []
    for labels, scores, weights in probability_batches(num_classes, padding=weighted):
        given = [ops.convert_to_tensor(labels), ops.convert_to_tensor(scores)]
        given.append(ops.convert_to_tensor(weights) if weighted else None)
        for metric, step in zip(metrics, steps):
            if step is None:
                metric.update_state(*given[:2], sample_weight=given[2])
            elif weighted:
                step(*given)
            else:
                step(*given[:2], ops.convert_to_tensor(np.ones(len(labels), "float32")))
        seen.append((labels, scores, weights if weighted else None))
    labels = np.concatenate([s[0] for s in seen])
    scores = np.concatenate([s[1] for s in seen])
    weights = np.concatenate([s[2] for s in seen]) if weighted else None
    expected = reference(labels, scores, scores.argmax(1), weights)
    assert expected[:-1, 0].sum() == (len(labels) if weights is None else (weights != 0).sum())
    for metric in metrics:
        assert_summary(metric, expected)
    # the matrix is read from the same state, and reset clears both
    metric = metrics[0]
    state = metric.read_state()
    np.testing.assert_array_equal(state.matrix, metric.confusion_matrix())
    np.testing.assert_array_equal(state.curves, metric.curve_summary())
    metric.reset_state()
    assert not metric.curve_summary().any()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_logits_are_read_through_a_softmax_with_from_logits(compiled):
    num_classes, rng = 6, np.random.default_rng(1)
    logits = (rng.normal(size=(400, num_classes)) * 3).astype("float32")
    probabilities, why = core.curve_probabilities(logits, num_classes, from_logits=True)
    keep = away_from_edges(probabilities)
    logits, probabilities = logits[keep], probabilities[keep]
    labels = rng.integers(0, num_classes, len(logits))
    metric = MacroF1(num_classes, from_logits=True)
    step = compiled_update(metric) if compiled else None
    for part in np.array_split(np.arange(len(logits)), 3):
        tensors = ops.convert_to_tensor(labels[part]), ops.convert_to_tensor(logits[part])
        if step is None:
            metric.update_state(*tensors)
        else:
            step(*tensors, ops.convert_to_tensor(np.ones(len(part), "float32")))
    assert_summary(metric, reference(labels, probabilities, logits.argmax(1)))


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("column", ["flat", "column"])
def test_one_sigmoid_column_is_read_as_two_classes(from_logits, column):
    rng = np.random.default_rng(2)
    values = rng.normal(size=300).astype("float32") if from_logits else rng.random(300).astype("float32")
    probabilities, _ = core.curve_probabilities(values, 2, from_logits=from_logits)
    keep = away_from_edges(probabilities)
    values, probabilities = values[keep], probabilities[keep]
    labels = rng.integers(0, 2, len(values))
    predicted = (values >= (0 if from_logits else 0.5)).astype(np.int64)
    metric = BalancedAccuracy(2, from_logits=from_logits)
    given = values if column == "flat" else values[:, None]
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(given))
    assert_summary(metric, reference(labels, probabilities, predicted))


def test_scores_outside_0_1_and_class_ids_give_no_curves_with_the_reason():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.7]], "float32")
    metric = BalancedAccuracy(3)
    metric.update_state(ops.convert_to_tensor([0, 2]), ops.convert_to_tensor(logits))
    assert metric.curve_summary() is None
    assert "1 rows hold scores outside [0, 1]" in metric.curves_unavailable()
    assert "BalancedAccuracy(3, from_logits=True)" in metric.curves_unavailable()
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 0, 0], [0, 0, 0], [0, 0, 1]])  # the matrix is kept
    assert float(metric.result()) == pytest.approx(1.0)
    ids = MacroF1(3)
    ids.update_state(ops.convert_to_tensor([0, 1, 2]), ops.convert_to_tensor(np.array([0, 2, 2])))
    assert ids.curve_summary() is None and "class ids" in ids.curves_unavailable()
    off = BalancedAccuracy(3, curves=False)
    off.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(logits[:, :] * 0 + 0.3))
    assert off.curve_summary() is None and "curves=False" in off.curves_unavailable()
    assert len(off.variables) < len(BalancedAccuracy(3).variables)
    assert BalancedAccuracy.from_config(off.get_config()).curves is False


def test_no_curve_summary_of_part_of_the_rows_when_a_row_could_not_be_counted():
    metric = BalancedAccuracy(3)
    scores = np.array([[0.8, 0.1, 0.1], [np.nan, 0.5, 0.5], [0.1, 0.1, 0.8]], "float32")
    metric.update_state(ops.convert_to_tensor([0, 1, 2]), ops.convert_to_tensor(scores))
    assert np.isnan(float(metric.result()))
    with pytest.raises(ValueError, match="1 rows could not be counted"):
        metric.confusion_matrix()
    assert metric.curve_summary() is None and "1 rows could not be counted" in metric.curves_unavailable()


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_fit_and_evaluate_accumulate_the_validation_curves():
    """In the trainer's own loop (jit on JAX, XLA or graph on TensorFlow, eager on PyTorch)."""
    num_classes, rng = 4, np.random.default_rng(4)
    x_val = rng.random((150, num_classes)).astype("float32")
    x_val /= x_val.sum(axis=1, keepdims=True)
    y_val = rng.integers(0, num_classes, 150)
    w_val = rng.choice([0.0, 1.0], 150).astype("float32")
    # scores = inputs, exactly: the model's output is known to the bit
    identity = keras.layers.Dense(num_classes, use_bias=False, trainable=False, kernel_initializer="identity")
    model = keras.Sequential([keras.Input((num_classes,)), identity])
    balanced, precision = BalancedAccuracy(num_classes), MacroAveragePrecision(num_classes)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[balanced, precision])
    scores = np.asarray(model.predict(x_val, verbose=0))
    np.testing.assert_array_equal(scores, x_val)
    model.fit(x_val, y_val, validation_data=(x_val, y_val), epochs=1, batch_size=32, verbose=0)
    expected = reference(y_val, x_val, x_val.argmax(1))
    assert_summary(balanced, expected)
    assert_summary(precision, expected)
    model.evaluate(x_val[:100], y_val[:100], batch_size=32, verbose=0)  # evaluate starts afresh
    assert_summary(balanced, reference(y_val[:100], x_val[:100], x_val[:100].argmax(1)))
    # weighted_metrics get evaluate's sample_weight: a mask for the curves too
    weighted = BalancedAccuracy(num_classes)
    model.compile("sgd", "sparse_categorical_crossentropy", weighted_metrics=[weighted])
    model.evaluate(x_val, y_val, sample_weight=w_val, batch_size=32, verbose=0)
    assert_summary(weighted, reference(y_val, x_val, x_val.argmax(1), w_val))


def test_a_later_fit_without_the_report_callback_gives_its_training_curves_or_says_why_not(tmp_path):
    """The callback leaves training batches out of the curves; a train function compiled then (JAX's jit,
    TensorFlow's graph) keeps doing so in later fits: the summary is then None with the reason, never zeros."""
    from tb_imbalance.keras import ClassificationReportCallback

    num_classes, rng = 3, np.random.default_rng(5)
    x = rng.random((120, num_classes)).astype("float32")
    x /= x.sum(axis=1, keepdims=True)
    y = rng.integers(0, num_classes, 120)
    identity = keras.layers.Dense(num_classes, use_bias=False, trainable=False, kernel_initializer="identity")
    model = keras.Sequential([keras.Input((num_classes,)), identity])
    balanced = BalancedAccuracy(num_classes)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[balanced])
    model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=32, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # training only, no callback
    expected = reference(y, x, x.argmax(1))
    assert balanced.confusion_matrix().sum() == 120
    if BACKEND == "torch":  # eager: nothing compiled, the flag is read per batch
        assert_summary(balanced, expected)
    else:
        assert balanced.curve_summary() is None
        assert "holds 0 rows, the matrix 120" in balanced.curves_unavailable()
        assert "model.make_train_function(force=True)" in balanced.curves_unavailable()
    model.make_train_function(force=True)  # the fix the message names
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert_summary(balanced, expected)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="autograd history is PyTorch's (eager metrics)")
def test_training_batches_leave_no_autograd_history_in_the_metric():
    """Keras updates the metrics with gradients on; the model's outputs must not reach the state
    (a curve-sum variable that required grad kept every batch's graph alive)."""
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(96, 5)).astype("float32"), rng.integers(0, 3, 96)
    metrics = [BalancedAccuracy(3), MacroAveragePrecision(3), MacroF1(3, curves=False)]
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # training batches, binned: no callback skips them
    for metric in metrics:
        assert [variable.path for variable in metric.variables if variable.value.requires_grad] == []
        assert metric.result().grad_fn is None
    assert metrics[0].curve_summary()[:-1, :2].sum() == 96 * 3  # every training row was binned


# -- MacroAveragePrecision ----------------------------------------------------


def sklearn_macro_average_precision(labels, scores, num_classes):
    quantised = core.quantise_scores(scores)
    return np.mean(
        [average_precision_score(labels == c, quantised[:, c]) for c in range(num_classes) if (labels == c).any()]
    )


@pytest.mark.parametrize("layout", ["dense", "marginals"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_macro_average_precision_is_the_cores_and_sklearns(compiled, layout, request):
    if layout == "marginals":
        request.getfixturevalue("marginals_layout")
    num_classes = 7
    metric = MacroAveragePrecision(num_classes)
    assert (metric.marginals is None) == (layout == "dense")
    step = compiled_update(metric) if compiled else None
    seen = []
    for labels, scores, weights in probability_batches(num_classes, batches=5, seed=9):
        tensors = [ops.convert_to_tensor(a) for a in (labels, scores, weights)]
        value = metric.update_state(*tensors[:2], sample_weight=tensors[2]) if step is None else step(*tensors)
        seen.append((labels, scores, weights))
    labels, scores, weights = (np.concatenate([s[i] for s in seen]) for i in range(3))
    keep = weights != 0
    expected = core.curve_metrics(reference(labels, scores, scores.argmax(1), weights))
    value = expected["metrics"]["macro_average_precision"]
    assert float(metric.result()) == pytest.approx(value, abs=1e-5)
    assert value == pytest.approx(sklearn_macro_average_precision(labels[keep], scores[keep], num_classes), abs=1e-12)
    # a class without positives does not count; before any row the value is 0
    assert (labels[keep] == num_classes - 1).sum() < (labels[keep] == 0).sum()
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_macro_average_precision_is_nan_for_rows_that_are_not_probabilities():
    metric = MacroAveragePrecision(3)
    scores = np.array([[0.2, 0.7, 0.1], [3.0, 0.1, 0.2]], "float32")
    metric.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(scores))
    assert np.isnan(float(metric.result()))
    assert "MacroAveragePrecision(3, from_logits=True)" in metric.curves_unavailable()
    logits = MacroAveragePrecision(3, from_logits=True)
    scores = np.array([[4.0, 0.1, 0.2], [0.1, 3.0, 0.2]], "float32")
    logits.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(scores))
    assert float(logits.result()) == pytest.approx(1.0)


def test_macro_average_precision_compiled_alone_on_logits_warns_once_after_the_first_pass():
    # Without the callback nothing refuses the set-up before training: the metric says it once, when
    # Keras resets it after the first pass, before a monitor has seen more than one NaN.
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 64)
    x = (rng.normal(size=(64, 4)) + np.eye(3, 4)[y] * 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[MacroAveragePrecision(3)])
    with pytest.warns(UserWarning, match=r"rows hold scores outside \[0, 1\].*MacroAveragePrecision\(3, from_logits=True\).*result\(\) is NaN") as said:
        history = model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0)
    assert len([w for w in said if "result() is NaN" in str(w.message)]) == 1
    assert np.isnan(history.history["val_macro_average_precision"]).all()
    quiet = MacroAveragePrecision(3)
    quiet.update_state([0, 1], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.reset_state()
    if keras.backend.backend() == "tensorflow":  # a custom loop resets inside tf.function: nothing to read there
        import tensorflow as tf

        traced = MacroAveragePrecision(3)
        traced.update_state(ops.convert_to_tensor([0]), ops.convert_to_tensor([[3.0, 0.1, 0.2]]))
        tf.function(traced.reset_state)()
        assert float(traced.result()) == 0.0


def test_one_warning_when_single_column_logits_are_read_as_probabilities():
    """The matrix's counter of such rows and the curves' reason are one cause: said once, not twice."""
    metric = MacroAveragePrecision(2)
    metric.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(np.array([-1.5, 2.0], "float32")))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        metric.reset_state()
    messages = [str(w.message) for w in said]
    assert len(messages) == 1 and "rows hold scores outside [0, 1]" in messages[0], messages
    balanced = BalancedAccuracy(2)  # no curve reason of its own: the counter's
    balanced.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(np.array([-1.5, 2.0], "float32")))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        balanced.reset_state()
    assert [str(w.message) for w in said if "single score outside [0, 1]" in str(w.message)] != []


def test_macro_average_precision_config_and_direction():
    metric = MacroAveragePrecision(5, name="val_ap", from_logits=True)
    clone = MacroAveragePrecision.from_config(metric.get_config())
    assert (clone.num_classes, clone.name, clone.from_logits, clone.curves) == (5, "val_ap", True, True)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(MacroAveragePrecision(4)))
    assert isinstance(restored, MacroAveragePrecision) and restored.num_classes == 4
    assert MacroAveragePrecision._direction == "up"
    import tb_imbalance.keras as tbk

    assert "MacroAveragePrecision" in tbk.__all__


def test_early_stopping_monitors_val_macro_average_precision_in_auto_mode():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 96)
    x = (rng.normal(size=(96, 4)) + np.eye(3, 4)[y] * 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    metric = MacroAveragePrecision(3)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric])
    stop = keras.callbacks.EarlyStopping(monitor="val_macro_average_precision", mode="auto", patience=1)
    history = model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0, callbacks=[stop])
    values = history.history["val_macro_average_precision"]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert stop.monitor_op is not None and stop.monitor_op(1.0, 0.5)  # "up": larger is better
    # the last value is the macro AP of the validation pass's state, as the core computes it
    expected = core.curve_metrics(metric.curve_summary())["metrics"]["macro_average_precision"]
    assert values[-1] == pytest.approx(expected, abs=1e-6)
    assert metric.curve_summary()[:-1, 0].sum() == len(y)


def test_probabilities_given_to_a_logits_metric_on_the_host_are_warned_once_as_log_report_warns_them():
    # Rows of model.predict (numpy) handed to update_state: checked on the host, so a metric told
    # from_logits=True warns once, as log_report does, that it reads a softmax of probabilities.
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 90)
    probabilities = rng.dirichlet([1.0, 1.0, 1.0], 90).astype("float32") + np.eye(3, dtype="float32")[labels]
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    metric = MacroAveragePrecision(3, from_logits=True)
    with pytest.warns(UserWarning, match=r"macro_average_precision: from_logits=True, but the score rows .* sum to 1"
                                         r".*pass from_logits=False") as said:
        for batch in np.split(np.arange(90), 3):
            metric.update_state(labels[batch], probabilities[batch])
    assert len([w for w in said if "from_logits=True" in str(w.message)]) == 1
    softmax, _ = core.curve_probabilities(probabilities, 3, from_logits=True)  # what it then reads, as documented
    quantised = core.quantise_scores(softmax)
    expected = np.mean([average_precision_score(labels == c, quantised[:, c]) for c in range(3)])
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    column = BalancedAccuracy(2, from_logits=True)  # one probability column: every row above 0 is class 1
    with pytest.warns(UserWarning, match=r"balanced_accuracy: from_logits=True, but every score of the single column"):
        column.update_state(np.array([0, 1, 0, 1]), np.array([0.2, 0.9, 0.4, 0.6], "float32"))
    np.testing.assert_array_equal(column.confusion_matrix(), [[0, 2], [0, 2]])


def test_a_million_confident_rows_keep_the_top_labels_confidence_sums_to_float_precision():
    # On JAX without 64-bit mode the sums are float32: the top label's confidences (every row in a few
    # bins) were scattered into the running total, each rounded to its precision: 2e-4 off after 1M rows,
    # the ECE 0.000163 for 0.000114. The class bins were summed per batch first; so is the top label now.
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(0)
    rows, batch = 1_000_000, 100_000
    column = (0.9 + 0.0999 * rng.random(rows)).astype("float32")  # a confident binary model's sigmoid
    labels = (rng.random(rows) < column).astype("int64")
    metric = BalancedAccuracy(2)
    for start in range(0, rows, batch):
        metric.update_state(ops.convert_to_tensor(labels[start:start + batch]),
                            ops.convert_to_tensor(column[start:start + batch]))
    summary = metric.curve_summary()
    correct = (column > 0.5) == (labels == 1)
    _, expected_mean = calibration_curve(correct, column.astype(np.float64), n_bins=15)  # the top label's bins
    mean_score = [value for value in core.reliability(summary[2])["mean_score"] if value is not None]
    assert len(mean_score) == len(expected_mean) == 2
    np.testing.assert_allclose(mean_score, expected_mean, rtol=1e-5)
    expected = core.curve_summary(np.stack([1 - column, column], axis=1), labels, (column > 0.5).astype(int))
    np.testing.assert_array_equal(summary[:, :2], expected[:, :2])
    assert core.curve_metrics(summary)["metrics"]["expected_calibration_error"] == pytest.approx(
        core.curve_metrics(expected)["metrics"]["expected_calibration_error"], abs=2e-6)
