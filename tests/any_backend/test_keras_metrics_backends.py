"""Streaming metrics on the current Keras backend (TensorFlow, JAX or PyTorch).

Values against scikit-learn and tb_imbalance.core, state, dtypes, config,
use as a monitor, invalid rows on the host and on the device. Runs in every
environment: no TensorFlow import at module level.
"""

import os
import warnings
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import ops
from sklearn import metrics as skm

from compiled_update import compiled_update
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ConfusionMatrixMetric, MacroF1
from tb_imbalance.keras import metrics as metrics_module
from tb_imbalance.keras.metrics import count_dtype

BACKEND = keras.backend.backend()


def random_batches(num_classes=4, batches=5, seed=0):
    rng = np.random.default_rng(seed)
    prior = 0.4 ** np.arange(num_classes)
    for _ in range(batches):
        labels = rng.choice(num_classes, 37, p=prior / prior.sum())
        scores = rng.random((37, num_classes)).astype("float32")
        scores[np.arange(37), labels] += rng.random(37) * 0.8
        yield labels, scores


@pytest.mark.parametrize("as_tensors", [False, True], ids=["numpy", "backend_tensors"])
@pytest.mark.parametrize("label_form", ["sparse", "sparse_column", "one_hot", "float_ids"])
def test_values_match_sklearn_and_the_core_over_batches(label_form, as_tensors):
    balanced, macro = BalancedAccuracy(4), MacroF1(4)
    all_true, all_pred = [], []
    for labels, scores in random_batches():
        given = {
            "sparse": labels,
            "sparse_column": labels[:, None],
            "one_hot": np.eye(4, dtype="float32")[labels],
            "float_ids": labels.astype("float32"),
        }[label_form]
        if as_tensors:
            given, scores_in = ops.convert_to_tensor(given), ops.convert_to_tensor(scores)
        else:
            scores_in = scores
        balanced.update_state(given, scores_in)
        macro.update_state(given, scores_in)
        all_true.append(labels)
        all_pred.append(scores.argmax(1))
    y_true, y_pred = np.concatenate(all_true), np.concatenate(all_pred)
    assert float(balanced.result()) == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred), abs=1e-6)
    assert float(macro.result()) == pytest.approx(
        skm.f1_score(y_true, y_pred, labels=range(4), average="macro", zero_division=0), abs=1e-6
    )
    np.testing.assert_array_equal(balanced.confusion_matrix(), skm.confusion_matrix(y_true, y_pred, labels=range(4)))
    np.testing.assert_array_equal(macro.confusion_matrix(), balanced.confusion_matrix())
    assert balanced.confusion_matrix().dtype == np.int64
    # the report's maths lives in the core: the metric's scalar is the core's value
    report = core.imbalance_metrics(balanced.confusion_matrix())
    assert float(balanced.result()) == pytest.approx(report["balanced_accuracy"], abs=1e-6)
    assert float(macro.result()) == pytest.approx(report["macro_f1"], abs=1e-6)


def test_binary_sigmoid_column_and_class_id_predictions():
    metric = BalancedAccuracy(2)
    metric.update_state([0, 1, 1, 0], np.array([[0.2], [0.7], [0.4], [0.6]], dtype="float32"))
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 1], [1, 1]])
    ids = BalancedAccuracy(3)
    ids.update_state([0, 1, 2], np.array([0, 2, 2]))
    np.testing.assert_array_equal(ids.confusion_matrix(), [[1, 0, 0], [0, 0, 1], [0, 0, 1]])
    tensors = BalancedAccuracy(2)
    tensors.update_state(ops.convert_to_tensor([0, 1, 1, 0]), ops.convert_to_tensor(np.array([0.2, 0.7, 0.4, 0.6], "float32")))
    np.testing.assert_array_equal(tensors.confusion_matrix(), [[1, 1], [1, 1]])


@pytest.mark.parametrize("from_logits", [False, True])
def test_a_sigmoid_column_at_exactly_the_cut_is_class_0_as_keras_binary_accuracy_says(from_logits):
    cut = 0.0 if from_logits else 0.5
    column = np.array([cut, cut, np.float32(1e-6) if from_logits else np.nextafter(np.float32(0.5), np.float32(1)), 0.9 if not from_logits else 2.0], "float32")
    labels = np.array([0, 1, 1, 1])
    metric = BalancedAccuracy(2, from_logits=from_logits)
    metric.update_state(labels, column)
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 0], [1, 2]])
    keras_accuracy = keras.metrics.BinaryAccuracy(threshold=cut)
    keras_accuracy.update_state(labels[:, None], column[:, None])
    assert float(keras_accuracy.result()) == pytest.approx(np.trace(metric.confusion_matrix()) / 4)
    np.testing.assert_array_equal(core.confusion_matrix(labels, column, from_logits=from_logits), [[1, 0], [1, 2]])


def test_sample_weight_is_a_mask():
    metric = MacroF1(2)
    metric.update_state([0, 1, 1], [0, 1, 0], sample_weight=[1.0, 0.0, 2.5])
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 0], [1, 0]])
    tensors = MacroF1(2)
    tensors.update_state(ops.convert_to_tensor([0, 1, 1]), ops.convert_to_tensor([0, 1, 0]), sample_weight=ops.convert_to_tensor([1.0, 0.0, 2.5]))
    np.testing.assert_array_equal(tensors.confusion_matrix(), [[1, 0], [1, 0]])
    assert tensors.invalid_rows == 0  # skipped rows are not invalid rows


def test_boolean_labels_predictions_and_weights_count_as_0_and_1_in_fit_and_direct_calls():
    """`y = df["is_fraud"].values` and a boolean mask of weights, as Keras' own metrics take them."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 4)).astype("float32")
    y = x[:, 0] + rng.normal(size=120) > 0.3
    mask = np.arange(40) % 3 != 0
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    metric = BalancedAccuracy(2)
    model.compile("adam", "binary_crossentropy", weighted_metrics=[metric])
    model.fit(x[:80], y[:80], validation_data=(x[80:], y[80:], mask), epochs=1, batch_size=16, verbose=0)
    predicted = model.predict(x[80:], verbose=0)[:, 0] > 0.5
    np.testing.assert_array_equal(metric.confusion_matrix(), skm.confusion_matrix(y[80:][mask], predicted[mask]))
    direct = BalancedAccuracy(2)
    direct.update_state(ops.convert_to_tensor(y[:6]), ops.convert_to_tensor(y[:6] == y[:6]), ops.convert_to_tensor(mask[:6]))
    np.testing.assert_array_equal(direct.confusion_matrix(), skm.confusion_matrix(y[:6][mask[:6]], np.ones(4, bool), labels=[0, 1]))
    one_hot = BalancedAccuracy(2)
    one_hot.update_state(ops.convert_to_tensor(np.eye(2, dtype=bool)[y[:6].astype(int)]), ops.convert_to_tensor(np.full(6, 0.7)))
    np.testing.assert_array_equal(one_hot.confusion_matrix(), skm.confusion_matrix(y[:6], np.ones(6, bool), labels=[0, 1]))
    stateless = BalancedAccuracy(2)  # the stateless API (a custom training loop) takes them too
    values = stateless.stateless_update_state([v.value for v in stateless.variables], ops.convert_to_tensor(y[:6]),
                                              ops.convert_to_tensor(np.full(6, 0.7)), ops.convert_to_tensor(mask[:6]))
    for variable, value in zip(stateless.variables, values):
        variable.assign(value)
    np.testing.assert_array_equal(stateless.confusion_matrix(), skm.confusion_matrix(y[:6][mask[:6]], np.ones(4, bool), labels=[0, 1]))


def test_reset_and_absent_classes():
    metric = BalancedAccuracy(3)
    metric.update_state([0, 0, 1], [0, 1, 1])
    assert float(metric.result()) == pytest.approx(0.75)  # class 2 absent: mean over present
    metric.reset_state()
    assert metric.confusion_matrix().sum() == 0
    assert float(metric.result()) == 0.0
    assert float(MacroF1(3).result()) == 0.0


def test_a_read_matrix_is_the_callers_own_copy():
    # The background writer reads the matrix after the metric has gone on counting (or been reset).
    metric = BalancedAccuracy(3)
    metric.update_state([0, 1, 2], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    first, second = metric.confusion_matrix(), metric.confusion_matrix()
    assert first.dtype == np.int64 and not np.shares_memory(first, second)
    metric.update_state([0], [[0.9, 0.05, 0.05]])
    metric.reset_state()
    np.testing.assert_array_equal(first, np.eye(3, dtype=np.int64))
    first[0, 0] = 7  # writeable, and writing to it changes nothing in the metric
    assert metric.confusion_matrix().sum() == 0


def test_a_kept_result_is_a_value_not_the_metrics_own_state():
    # A custom loop that keeps result() per epoch must not see the later epochs' values in it.
    metric = BalancedAccuracy(3)
    kept = []
    for scores in ([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]], [[0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.8, 0.1, 0.1]]):
        metric.reset_state()
        metric.update_state(ops.convert_to_tensor([0, 1, 2]), ops.convert_to_tensor(scores))
        kept.append(metric.result())
    assert [float(value) for value in kept] == [1.0, 0.0]


@pytest.mark.parametrize("metric_type", ["BalancedAccuracy", "MacroF1", "MacroAveragePrecision"])
def test_fit_and_evaluate_with_run_eagerly(metric_type):
    import tb_imbalance.keras as tbk

    x, y = monitor_data()
    metric = getattr(tbk, metric_type)(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric], run_eagerly=True)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    logged = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)[metric.name]
    np.testing.assert_array_equal(
        metric.confusion_matrix(), skm.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(3))
    )
    assert logged == pytest.approx(float(metric.result()), abs=1e-7)


def test_reading_the_metric_hands_numpy_no_keras_variable():
    # numpy 2 deprecates Keras variables' __array__ (no copy keyword): under warnings-as-errors the
    # callback's read of the metric, and confusion_matrix(), failed on JAX.
    metric = BalancedAccuracy(3)
    metric.update_state([0, 1], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert metric.confusion_matrix().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
        assert metric.read_state().curves is not None and metric.invalid_rows == 0


def test_count_dtype_is_exact_and_chosen_without_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metric = BalancedAccuracy(3)
        metric.update_state(ops.convert_to_tensor([0, 1, 2]), ops.convert_to_tensor(np.eye(3, dtype="float32")))
        float(metric.result())
    assert not [w for w in caught if "int64" in str(w.message) or "float64" in str(w.message)]
    expected = "int64"
    if BACKEND == "jax":
        import jax

        expected = "int64" if jax.config.jax_enable_x64 else "int32"
    assert count_dtype() == expected
    assert keras.backend.standardize_dtype(metric.counts.dtype) == expected
    assert metric.confusion_matrix().dtype == np.int64
    assert "2**31 - 1" in ConfusionMatrixMetric.__doc__  # the JAX limit is documented


@pytest.mark.skipif(BACKEND != "jax", reason="JAX's 64-bit mode")
def test_results_keep_float64_precision_in_jax_64_bit_mode():
    import subprocess
    import sys

    script = """
import jax; jax.config.update("jax_enable_x64", True)
import numpy as np
from sklearn import metrics as skm
from tb_imbalance.keras import BalancedAccuracy, MacroF1
labels, predictions = np.array([0, 1, 2, 2, 1, 0, 2, 1, 1]), np.array([0, 2, 2, 1, 1, 0, 0, 1, 0])
for metric, expected in ((MacroF1(3, dtype="float64"), skm.f1_score(labels, predictions, average="macro")),
                         (BalancedAccuracy(3, dtype="float64"), skm.balanced_accuracy_score(labels, predictions))):
    metric.update_state(jax.numpy.asarray(labels), jax.numpy.asarray(predictions))
    value = metric.result()
    assert str(value.dtype) == "float64" and abs(float(value) - expected) < 1e-12, (metric.name, float(value), expected)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_config_round_trips():
    metric = MacroF1(5, name="val_f1_macro")
    clone = MacroF1.from_config(metric.get_config())
    assert (clone.num_classes, clone.name) == (5, "val_f1_macro")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(BalancedAccuracy(7)))
    assert isinstance(restored, BalancedAccuracy) and restored.num_classes == 7


def test_model_with_metrics_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3), MacroF1(3)])
    model.fit(np.random.rand(16, 3), np.arange(16) % 3, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    results = loaded.evaluate(np.random.rand(8, 3), np.arange(8) % 3, verbose=0, return_dict=True)
    assert {"balanced_accuracy", "macro_f1"} <= set(results)


def monitor_data():
    rng = np.random.default_rng(0)
    x = rng.random((120, 4)).astype("float32")
    y = (x[:, 0] * 3).astype(int) % 3
    return x, y


def test_usable_as_monitor_for_keras_callbacks(tmp_path):
    x, y = monitor_data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    checkpoint = str(tmp_path / "best.keras")
    history = model.fit(
        x, y, validation_split=0.25, epochs=3, verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_balanced_accuracy", mode="max", patience=5),
            keras.callbacks.ReduceLROnPlateau(monitor="val_balanced_accuracy", mode="max", patience=1),
            keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_balanced_accuracy", mode="max", save_best_only=True),
        ],
    )
    assert len(history.history["val_balanced_accuracy"]) == 3
    assert all(np.isscalar(v) for v in history.history["val_balanced_accuracy"])
    assert os.path.exists(checkpoint)


def test_default_mode_auto_knows_higher_is_better():
    x, y = monitor_data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3), MacroF1(3)])
    stops = [keras.callbacks.EarlyStopping(monitor=f"val_{name}", patience=5) for name in ("balanced_accuracy", "macro_f1")]
    model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=stops)  # mode="auto" raises without _direction
    for stop in stops:
        assert bool(stop.monitor_op(0.9, 0.1)) and not bool(stop.monitor_op(0.1, 0.9))
    assert BalancedAccuracy._direction == MacroF1._direction == "up"


@pytest.mark.parametrize(
    "labels, predictions, fragment",
    [
        ([0, 5], [[0.5, 0.5, 0.0]] * 2, "class ids in [0, 2]"),
        ([0, 1], [[0.5, np.nan, 0.0]] * 2, "NaN"),
        ([0.5, 1.0], [[0.5, 0.2, 0.3]] * 2, "whole class ids"),
        ([0, 1], [[0.5, 0.5]] * 2, "shape [N, 3]"),
    ],
)
def test_eager_bad_input_raises_before_counting(labels, predictions, fragment):
    metric = BalancedAccuracy(3)
    with pytest.raises(ValueError) as raised:
        metric.update_state(np.array(labels), np.array(predictions, dtype="float32"))
    assert fragment in str(raised.value)
    assert "balanced_accuracy" in str(raised.value)  # names the metric
    assert metric.confusion_matrix().sum() == 0


def test_integer_one_hot_rows_other_than_0_and_1_are_invalid_as_in_log_report():
    metric = BalancedAccuracy(3)
    labels = np.array([[0, 2, 0], [1, 0, 0], [0, 0, 1], [-1, 0, 1]])  # rows 0 and 3: not one-hot
    scores = np.eye(3, dtype="float32")[[1, 0, 2, 2]]
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores))
    assert metric.invalid_rows == 2
    with pytest.raises(ValueError, match="of integers must hold 0 and 1, received 2 in row 0"):
        BalancedAccuracy(3).update_state(labels, scores)  # numpy: checked on the host by the writers' rule


def test_backend_tensors_are_not_checked_on_the_host_but_counted_as_invalid(monkeypatch):
    """No device -> host copy per batch: bad rows in tensors go to the invalid cell."""
    monkeypatch.setattr(ConfusionMatrixMetric, "_check_on_host", lambda *a: pytest.fail("host check on tensors"))
    metric = BalancedAccuracy(3)
    labels = ops.convert_to_tensor(np.array([0, 1, 7, -1, 2, 1.5], dtype="float32"))
    scores = np.eye(3, dtype="float32")[[0, 1, 2, 2, 2, 1]]
    scores[4, 0] = np.nan
    metric.update_state(labels, ops.convert_to_tensor(scores))
    assert metric.invalid_rows == 4  # 7, -1, a NaN score row, 1.5
    with pytest.raises(ValueError, match=r"balanced_accuracy: 4 rows could not be counted.*\[0, 2\]"):
        metric.confusion_matrix()
    counts = ops.convert_to_numpy(metric.counts)
    assert counts[:9].sum() == 2 and counts[0] == 1 and counts[4] == 1  # only valid rows, in their cells
    assert np.isnan(float(metric.result()))  # never a number computed from part of the rows
    metric.reset_state()
    assert metric.invalid_rows == 0
    metric.update_state(ops.convert_to_tensor(np.array([0, 1])), ops.convert_to_tensor(np.eye(3, dtype="float32")[[0, 1]]))
    assert float(metric.result()) == pytest.approx(1.0)


def test_shape_errors_raise_for_tensors_too():
    with pytest.raises(ValueError, match=r"`y_pred` rows must have shape \[N, 3\].*num_classes"):
        BalancedAccuracy(3).update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(np.ones((2, 4), "float32")))
    with pytest.raises(ValueError, match="sigmoid probability, which needs num_classes=2"):
        BalancedAccuracy(3).update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor(np.array([0.2, 0.9], "float32")))


@pytest.mark.parametrize("dtype, limit", [("float16", 2048), ("bfloat16", 256)])
def test_sparse_labels_of_a_narrow_float_are_refused_for_more_classes_than_it_holds(dtype, limit):
    """float16 rounds 2049 to 2048 (bfloat16 257 to 256) before the metric sees it, which counted the row as class
    2048's; the values are not known while tracing, the type and the class count are: refused there."""
    ids = np.array([limit + 1, 3])
    narrow = np.asarray(ops.convert_to_numpy(ops.cast(ops.convert_to_tensor(ids.astype("int32")), dtype)))
    assert narrow.astype(np.float64).tolist() == [limit, 3]  # the rounding the metric cannot see
    refusal = rf"`y_true` is {dtype}, whose whole numbers from {limit} on may be rounded ones \({limit + 1} rounds " \
              rf"to {limit}\), and the metric counts {limit + 10} classes.*Cast the labels to int32 in the dataset"
    metric = ConfusionMatrixMetric(limit + 10, name="cm")
    with pytest.raises(ValueError, match="cm: " + refusal):
        metric.update_state(ops.convert_to_tensor(narrow), ops.convert_to_tensor(ids))
    assert int(metric.confusion_matrix().sum()) == 0
    # traced: a batch of the narrow type reaches the metric inside evaluate's compiled step
    model = keras.Sequential([keras.Input((limit + 10,)), keras.layers.Identity()])
    model.compile(loss="sparse_categorical_crossentropy", metrics=[BalancedAccuracy(limit + 10, name="bacc")])
    with pytest.raises(ValueError, match="bacc: " + refusal):
        batches = (batch for batch in [(np.eye(limit + 10, dtype="float32")[ids], narrow)])  # a generator: not cast
        model.evaluate(batches, steps=1, verbose=0)
    # up to `limit` classes every id is exact, and so are one-hot rows of any width
    exact = ConfusionMatrixMetric(limit)
    exact.update_state(ops.cast(ops.convert_to_tensor([limit - 1, 3]), dtype), ops.convert_to_tensor([limit - 1, 3]))
    cm = exact.confusion_matrix()
    assert (int(cm[limit - 1, limit - 1]), int(cm[3, 3]), int(cm.sum())) == (1, 1, 2)
    one_hot = ConfusionMatrixMetric(limit + 10)
    one_hot.update_state(ops.cast(ops.convert_to_tensor(np.eye(limit + 10)[ids]), dtype), ops.convert_to_tensor(ids))
    cm = one_hot.confusion_matrix()
    assert (int(cm[limit + 1, limit + 1]), int(cm[3, 3]), int(cm.sum())) == (1, 1, 2)


def test_fit_never_checks_on_the_host(monkeypatch):
    monkeypatch.setattr(ConfusionMatrixMetric, "_check_on_host", lambda *a: pytest.fail("host check in fit"))
    x, y = monitor_data()
    metric = MacroF1(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric])
    model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    np.testing.assert_array_equal(
        metric.confusion_matrix(), skm.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(3))
    )
    assert float(metric.result()) == pytest.approx(core.imbalance_metrics(metric.confusion_matrix())["macro_f1"], abs=1e-6)


@pytest.mark.skipif(BACKEND != "jax", reason="JAX's stateless API under jax.jit")
def test_jax_jit_stateless_update_counts_and_flags_invalid_rows():
    import jax

    metric = BalancedAccuracy(3)
    update = jax.jit(metric.stateless_update_state)
    state = [v.value for v in metric.variables]
    state = update(state, jax.numpy.array([0, 1, 7, -1]), jax.numpy.eye(3)[jax.numpy.array([0, 1, 2, 2])])
    state = update(state, jax.numpy.array([2, 2, 0, 1]), jax.numpy.eye(3)[jax.numpy.array([2, 1, 0, 1])])
    counts = np.asarray(state[0])
    assert counts[9] == 2 and counts[10] == 0  # after the 3 x 3 cells: invalid rows, then logit rows
    np.testing.assert_array_equal(counts[:9].reshape(3, 3), [[2, 0, 0], [0, 2, 0], [0, 1, 1]])


def test_constructor_validation():
    with pytest.raises(ValueError, match="at least 2"):
        BalancedAccuracy(1)
    with pytest.raises(TypeError, match="must be an int"):
        MacroF1("10")
    assert issubclass(BalancedAccuracy, ConfusionMatrixMetric)



def _marginals_from_counts(metric):
    num = metric.num_classes
    cm = np.asarray(ops.convert_to_numpy(metric.counts)).astype(np.int64)[: num * num].reshape(num, num)
    return np.stack([cm.sum(1), cm.sum(0), np.diag(cm)])


def _random_bad_batch(rng, num_classes, rows=64):
    """Labels with out-of-range / fractional ids, scores with NaN rows, weights with zeros."""
    labels = rng.integers(0, num_classes, rows).astype("float32")
    labels[rng.random(rows) < 0.1] = num_classes + 3
    labels[rng.random(rows) < 0.05] = 0.5
    scores = rng.random((rows, num_classes)).astype("float32")
    scores[rng.random(rows) < 0.1, 0] = np.nan
    weights = rng.choice([0.0, 1.0, 2.5], rows).astype("float32")
    return labels, scores, weights


@pytest.fixture
def marginals_layout(monkeypatch):
    """Metrics built under it keep marginals whatever their class count (the layout above dense_result_max_classes())."""
    monkeypatch.setitem(metrics_module.DENSE_RESULT_MAX_CLASSES, BACKEND, 1)


def test_the_layout_follows_the_class_count():
    limit = metrics_module.dense_result_max_classes()
    small, large = BalancedAccuracy(limit), BalancedAccuracy(limit + 1)
    assert small.marginals is None and large.marginals is not None
    assert tuple(large.marginals.shape) == (3 * large.num_classes,)


@pytest.mark.parametrize("layout", ["dense", "marginals"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("num_classes", [2, 7])
def test_result_and_marginals_agree_with_the_counts_matrix(num_classes, compiled, layout, request):
    """result() reads the cells (small C) or the marginals (large C): both must give the core's values,
    and the marginals must stay the matrix's row / column sums and diagonal."""
    if layout == "marginals":
        request.getfixturevalue("marginals_layout")
    rng = np.random.default_rng(num_classes)
    balanced, macro = BalancedAccuracy(num_classes), MacroF1(num_classes)
    assert (balanced.marginals is None) == (layout == "dense")
    steps = [compiled_update(m) if compiled else None for m in (balanced, macro)]
    for _ in range(6):
        labels, scores, weights = (ops.convert_to_tensor(a) for a in _random_bad_batch(rng, num_classes))
        for metric, step in zip((balanced, macro), steps):
            if step is None:
                metric.update_state(labels, scores, sample_weight=weights)
            else:
                step(labels, scores, weights)
    for metric in (balanced, macro):
        if layout == "marginals":
            marginals = np.asarray(ops.convert_to_numpy(metric.marginals)).reshape(3, num_classes)
            np.testing.assert_array_equal(marginals, _marginals_from_counts(metric))
        assert metric.invalid_rows > 0 and _marginals_from_counts(metric)[0].sum() > 0
        assert np.isnan(float(metric.result()))
    # with the invalid rows gone, the scalars are the core's values on the matrix
    for metric in (balanced, macro):
        metric.reset_state()
        assert not any(np.asarray(ops.convert_to_numpy(v)).any() for v in metric.variables)
        assert float(metric.result()) == 0.0
    for _ in range(3):
        labels = rng.integers(0, num_classes, 50)
        scores = rng.random((50, num_classes)).astype("float32")
        weights = rng.choice([0.0, 1.0], 50).astype("float32")
        for metric in (balanced, macro):
            metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores), sample_weight=ops.convert_to_tensor(weights))
    report = core.imbalance_metrics(balanced.confusion_matrix())
    assert float(balanced.result()) == pytest.approx(report["balanced_accuracy"], abs=1e-6)
    assert float(macro.result()) == pytest.approx(report["macro_f1"], abs=1e-6)
    if layout == "marginals":
        np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(macro.marginals)).reshape(3, num_classes), _marginals_from_counts(macro))


def test_binary_logit_rows_stay_out_of_the_marginals(marginals_layout):
    metric = BalancedAccuracy(2)
    metric.update_state(ops.convert_to_tensor([0, 1, 1]), ops.convert_to_tensor(np.array([-2.0, 0.7, 3.0], "float32")))
    assert metric.logit_rows == 2
    np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(metric.marginals)).reshape(3, 2), [[0, 1], [0, 1], [0, 1]])
    assert np.isnan(float(metric.result()))


@pytest.mark.parametrize("layout", ["dense", "marginals"])
def test_fit_with_jit_compile_counts_exactly(layout, request):
    if layout == "marginals":
        request.getfixturevalue("marginals_layout")
    x, y = monitor_data()
    metric = BalancedAccuracy(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric], jit_compile=True)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    model.evaluate(x, y, batch_size=32, verbose=0)
    np.testing.assert_array_equal(
        metric.confusion_matrix(), skm.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(3))
    )
    if layout == "marginals":
        np.testing.assert_array_equal(np.asarray(ops.convert_to_numpy(metric.marginals)).reshape(3, 3), _marginals_from_counts(metric))
    assert float(metric.result()) == pytest.approx(core.imbalance_metrics(metric.confusion_matrix())["balanced_accuracy"], abs=1e-6)


@pytest.mark.parametrize("layout", ["dense", "marginals"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_rows_with_any_non_finite_score_are_counted_aside_exactly(compiled, layout, request):
    """NaN, +inf or -inf anywhere in a row (not only at its argmax) makes the row uncountable,
    as in the core; the other rows land in exactly scikit-learn's cells."""
    if layout == "marginals":
        request.getfixturevalue("marginals_layout")
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 4, 200)
    scores = rng.random((200, 4)).astype("float32")
    bad = {3: (0, np.nan), 17: (2, np.inf), 40: (1, -np.inf), 41: (3, -np.inf), 90: (0, np.nan)}
    for row, (column, value) in bad.items():
        scores[row, column] = value
    scores[41] = -np.inf  # a whole row of -inf
    metric = BalancedAccuracy(4)
    step = compiled_update(metric) if compiled else None
    weights = np.ones(200, "float32")
    tensors = [ops.convert_to_tensor(a) for a in (labels, scores, weights)]
    if step is None:
        metric.update_state(tensors[0], tensors[1])
    else:
        step(*tensors)
    assert metric.invalid_rows == len(bad)
    good = np.setdiff1d(np.arange(200), list(bad))
    np.testing.assert_array_equal(
        np.asarray(ops.convert_to_numpy(metric.counts))[:16].reshape(4, 4),
        skm.confusion_matrix(labels[good], scores[good].argmax(1), labels=range(4)),
    )
    assert np.isnan(float(metric.result()))
    with pytest.raises(ValueError, match="5 rows could not be counted"):
        metric.confusion_matrix()


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_negative_or_nan_sample_weights_are_counted_aside_as_the_writers_refuse_them(compiled):
    """weighted_metrics=[...] passes fit's validation sample_weight: 0 skips a row, a negative or NaN
    weight cannot be counted (log_report refuses it) instead of counting the row once."""
    rng = np.random.default_rng(12)
    labels, scores = rng.integers(0, 3, 60), rng.random((60, 3)).astype("float32")
    weights = np.ones(60, "float32")
    weights[[2, 5]], weights[7], weights[[9, 11, 13]] = -1.0, np.nan, 0.0
    metric = BalancedAccuracy(3)
    step = compiled_update(metric) if compiled else None
    tensors = [ops.convert_to_tensor(a) for a in (labels, scores, weights)]
    if step is None:
        metric.update_state(*tensors)
    else:
        step(*tensors)
    assert metric.invalid_rows == 3 and np.isnan(float(metric.result()))
    with pytest.raises(ValueError, match="3 rows could not be counted.*sample weights non-negative"):
        metric.confusion_matrix()
    good = np.setdiff1d(np.arange(60), [2, 5, 7, 9, 11, 13])
    np.testing.assert_array_equal(
        np.asarray(ops.convert_to_numpy(metric.counts))[:9].reshape(3, 3),
        skm.confusion_matrix(labels[good], scores[good].argmax(1), labels=range(3)),
    )


def test_a_subclass_that_only_defines_result_works():
    class CountedRows(ConfusionMatrixMetric):
        def result(self):
            size = self.num_classes * self.num_classes
            return ops.cast(ops.sum(ops.convert_to_tensor(self.counts)[:size]), "float32")

    metric = CountedRows(3, name="counted_rows")
    metric.update_state(ops.convert_to_tensor([0, 1, 2, 2]), ops.convert_to_tensor(np.eye(3, dtype="float32")[[0, 1, 1, 2]]))
    assert float(metric.result()) == 4.0
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 0, 0], [0, 1, 0], [0, 1, 1]])


@pytest.mark.parametrize("num_classes", [10, 300])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64"])
def test_labels_of_every_integer_dtype_are_counted_exactly(dtype, num_classes):
    """Small and unsigned label dtypes: range checks must not wrap (255 in uint8, -3 in int8 are out of range)."""
    out_of_range = 255 if dtype.startswith("u") else -3
    labels = np.array([0, 1, 2, 5, out_of_range if num_classes == 10 else 7], dtype=dtype)
    scores = np.eye(num_classes, dtype="float32")[[0, 1, 1, 5, 7]]
    metric = BalancedAccuracy(num_classes)
    metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores))
    assert metric.invalid_rows == (1 if num_classes == 10 else 0)
    counts = np.asarray(ops.convert_to_numpy(metric.counts)).astype(np.int64)[: num_classes**2].reshape(num_classes, num_classes)
    valid = (labels.astype(np.int64) >= 0) & (labels.astype(np.int64) < num_classes)
    np.testing.assert_array_equal(
        counts, skm.confusion_matrix(labels[valid].astype(np.int64), scores[valid].argmax(1), labels=range(num_classes))
    )


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("num_classes", [4, 40, 257, 300, 640, 2113])
def test_ties_and_non_finite_scores_at_every_width(num_classes, compiled):
    """Every argmax path (XLA's own at a few columns, max-then-first-index beyond, block maxima
    above 256 columns on JAX and 2048 on PyTorch, the backend's elsewhere) gives numpy's pick: the first
    column of a tie (also across blocks and in a last, shorter block), -0.0 equal to 0.0."""
    rng = np.random.default_rng(num_classes)
    rows = 96
    scores = rng.integers(0, 3, (rows, num_classes)).astype("float32")  # many ties
    scores[0] = 0.0
    scores[1, :2] = [-0.0, 0.0]
    scores[1, 2:] = -1.0
    scores[2, -1] = 3.0  # the maximum alone in the last column
    scores[3, [num_classes // 3, -1]] = 3.0  # a tie between two blocks
    bad = [5, 9, 50]
    scores[5, num_classes - 1] = np.nan
    scores[9, 0] = np.inf
    scores[50, num_classes // 2] = -np.inf
    labels = rng.integers(0, num_classes, rows)
    metric = BalancedAccuracy(num_classes)
    step = compiled_update(metric) if compiled else None

    def count(kept):
        tensors = [ops.convert_to_tensor(a) for a in (labels[kept], scores[kept], np.ones(len(kept), "float32"))]
        if step is None:
            metric.update_state(tensors[0], tensors[1])
        else:
            step(*tensors)

    count(np.arange(rows))
    assert metric.invalid_rows == len(bad)
    good = np.setdiff1d(np.arange(rows), bad)
    expected = skm.confusion_matrix(labels[good], scores[good].argmax(1), labels=range(num_classes))
    if num_classes > 1000:  # cell codes: read as a matrix once the pass has only countable rows
        metric.reset_state()
        count(good)
        counts = metric.confusion_matrix().toarray()
    else:
        counts = np.asarray(ops.convert_to_numpy(metric.counts)).astype(np.int64)[: num_classes**2]
    np.testing.assert_array_equal(counts.reshape(num_classes, num_classes), expected)


@pytest.mark.skipif(BACKEND != "torch", reason="the metrics' torch stand-in for keras.ops")
def test_torch_tensors_on_keras_device_are_taken_in_place_detached_others_are_moved(monkeypatch):
    import torch
    from keras.src.backend.torch.core import get_device

    from tb_imbalance.keras import array_namespace as namespace_module

    converted = []

    def convert_to_tensor(value):
        converted.append(value)
        return ops.convert_to_tensor(value)

    monkeypatch.setattr(namespace_module, "ops", SimpleNamespace(convert_to_tensor=convert_to_tensor))
    xp = namespace_module.array_namespace()
    here = torch.arange(3.0, device=get_device(), requires_grad=True)
    taken = xp.convert_to_tensor(here)
    assert taken.data_ptr() == here.data_ptr() and not taken.requires_grad  # no copy, no autograd history
    assert converted == []  # no keras.ops conversion per batch for a tensor already in place
    elsewhere = torch.empty(3, device="meta")  # not Keras' device: keras.ops moves it
    assert xp.convert_to_tensor(elsewhere).device == here.device
    assert converted == [elsewhere]


class RecallOfClass(ConfusionMatrixMetric):
    """The recall of one class, chosen by a constructor argument that only get_config() tells apart."""

    _uses_predicted = False

    def __init__(self, num_classes, class_id=0, **kwargs):
        super().__init__(num_classes, **kwargs)
        self.class_id = class_id

    def _value(self, xp, support, predicted, correct):
        return correct[self.class_id] / xp.maximum(support[self.class_id], 1.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def test_metrics_that_differ_only_in_their_config_do_not_share_a_compiled_function():
    """Same type and name, another argument: each result() is its own (TensorFlow's fused update is
    compiled once per configuration and shared by this package's metrics, not by a user's subclass)."""
    labels, predictions = [0, 0, 0, 1, 1, 2], [0, 1, 1, 1, 1, 0]
    values = []
    for class_id in (0, 1, 2, 0):
        metric = RecallOfClass(3, class_id=class_id, name="recall_of_class")
        metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(np.eye(3, dtype="float32")[predictions]))
        values.append(float(metric.result()))
    assert values == pytest.approx([1 / 3, 1.0, 0.0, 1 / 3])


def test_user_subclasses_give_their_own_values_whatever_their_get_config_says():
    """Subclasses may read attributes get_config() leaves out, or wrap result(): nothing compiled is shared."""

    class ScaledError(BalancedAccuracy):  # result() wraps the package's; scale is not in get_config()
        def __init__(self, num_classes, scale=1.0, **kwargs):
            super().__init__(num_classes, **kwargs)
            self.scale = scale

        def result(self):
            return (1.0 - super().result()) * self.scale

    class Minimal(BalancedAccuracy):  # a get_config() that leaves out from_logits
        def get_config(self):
            return {"num_classes": self.num_classes, "name": self.name}

    labels, predictions = np.array([0, 1, 2, 2, 1, 0, 2]), np.array([0, 2, 2, 1, 1, 0, 0])
    scores = ops.convert_to_tensor(np.eye(3, dtype="float32")[predictions])
    error = 1 - skm.balanced_accuracy_score(labels, predictions)
    for scale in (1.0, 10.0):
        metric = ScaledError(3, scale=scale)
        metric.update_state(ops.convert_to_tensor(labels), scores)
        assert float(metric.result()) == pytest.approx(error * scale, rel=1e-5)
    logits = np.array([[2.0], [-1.0], [0.5], [-3.0]], dtype="float32")
    for from_logits in (False, True):
        metric = Minimal(2, from_logits=from_logits)
        metric.update_state(ops.convert_to_tensor([1, 0, 1, 1]), ops.convert_to_tensor(logits if from_logits else 1 / (1 + np.exp(-logits))))
        assert float(metric.result()) == pytest.approx(skm.balanced_accuracy_score([1, 0, 1, 1], [1, 0, 1, 0]))


def test_a_subclass_whose_get_config_raises_still_counts_and_gives_its_own_value():
    class Unsaid(RecallOfClass):
        def get_config(self):
            raise NotImplementedError("not serializable")

    values = []
    for class_id in (0, 1):
        metric = Unsaid(3, class_id=class_id, name="unsaid")
        metric.update_state(ops.convert_to_tensor([0, 0, 1, 1]), ops.convert_to_tensor(np.eye(3, dtype="float32")[[0, 1, 1, 1]]))
        values.append(float(metric.result()))
    assert values == pytest.approx([0.5, 1.0])


@pytest.mark.skipif(BACKEND != "jax", reason="JAX: an eager result() is one compiled call")
def test_jax_eager_result_is_one_compiled_call_shared_by_metrics_of_one_configuration(monkeypatch):
    import jax

    from tb_imbalance.keras import confusion_metric

    monkeypatch.setattr(confusion_metric, "_XLA_FUNCTIONS", {})

    def compiled():
        return {key for key in confusion_metric._XLA_FUNCTIONS if key[0] == "result"}

    first, second, other = BalancedAccuracy(4), BalancedAccuracy(4, name="another_name"), BalancedAccuracy(5)
    wide = BalancedAccuracy(metrics_module.dense_result_max_classes() + 1)  # marginals: not kept alive
    added = []
    for seed, metric in enumerate((first, second, other, wide)):
        before = compiled()
        labels, scores = next(random_batches(num_classes=metric.num_classes, seed=seed))
        metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores))
        expected = skm.balanced_accuracy_score(labels, scores.argmax(1))
        assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
        assert float(jax.jit(lambda: metric.result())()) == pytest.approx(expected, abs=1e-6)  # inside a user's jit
        values = [variable.value for variable in metric.variables]
        assert float(metric.stateless_result(values)) == pytest.approx(expected, abs=1e-6)
        added.append(len(compiled() - before))
    assert added == [1, 0, 1, 0]  # the second metric of 4 classes compiles nothing


@pytest.mark.skipif(BACKEND != "jax", reason="JAX: an eager reset_state() is one compiled call")
def test_jax_reset_is_one_compiled_call_that_zeroes_every_variable_and_still_says_uncounted_rows(monkeypatch):
    from tb_imbalance.keras import confusion_metric

    monkeypatch.setattr(confusion_metric, "_XLA_FUNCTIONS", {})
    first, second = BalancedAccuracy(4), BalancedAccuracy(4, name="another_name")
    for metric in (first, second):
        labels, scores = next(random_batches(num_classes=4, seed=3))
        metric.update_state(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores))
        metric.reset_state()
        assert all(not np.asarray(variable.value).any() for variable in metric.variables)
        assert [np.asarray(v.value).dtype for v in metric.variables] == ["int32", "int32", "float32"]
    assert len([key for key in confusion_metric._XLA_FUNCTIONS if key[0] == "reset"]) == 1  # shared
    buffers = [variable.value.unsafe_buffer_pointer() for variable in first.variables]
    assert len(set(buffers)) == len(buffers)  # a buffer each: Keras' JAX trainer may donate them
    first.update_state(ops.convert_to_tensor([0, 1, 9]), ops.convert_to_tensor(np.eye(4, dtype="float32")[[0, 1, 2]]))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        first.reset_state()
        first.reset_state()
    messages = [str(w.message) for w in said]  # the counters read by the compiled reset: said once, at the first
    assert len(messages) == 1 and messages[0].startswith("balanced_accuracy: since its last reset, 1 rows could not be")
    assert messages[0].endswith("its result() was NaN (said once).")
    assert float(first.result()) == 0.0 and np.asarray(first.counts.value).sum() == 0


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow: an eager reset_state() sets each variable with one op")
@pytest.mark.parametrize("num_classes", [4, 200], ids=["cells", "marginals"])
def test_tensorflow_reset_assigns_kept_zeros_with_one_op_each_and_still_says_uncounted_rows(monkeypatch, num_classes):
    import tensorflow as tf
    from tb_imbalance.keras import state_updates

    metric = BalancedAccuracy(num_classes)
    variable_type = type(metric.counts)
    assigned = []
    own_assign = variable_type.assign
    monkeypatch.setattr(variable_type, "assign", lambda self, value: assigned.append(self.name) or own_assign(self, value))
    monkeypatch.setattr(state_updates, "_TF_ZEROS", {}, raising=False)
    labels, scores = next(random_batches(num_classes=num_classes, seed=3))
    for _ in range(2):  # the second reset assigns the zeros the first one made
        metric.update_state(tf.constant(labels), tf.constant(scores))
        assert int(np.asarray(metric.counts.value).sum()) >= len(labels)
        metric.reset_state()
        assert assigned == []  # no Keras assign (two eager dispatches each): one AssignVariableOp per variable
        assert all(not np.asarray(variable.value).any() for variable in metric.variables)
    assert len(state_updates._TF_ZEROS) == len({(tuple(v.shape), v.dtype) for v in metric.variables})
    # the kept zeros were copied into the variables: the updates since (XLA, or scatters in place) left them zeros
    metric.update_state(tf.constant(labels), tf.constant(scores))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn: predicted classes that no label has
        assert float(metric.result()) == pytest.approx(skm.balanced_accuracy_score(labels, scores.argmax(1)), abs=1e-6)
    tf.raw_ops.ResourceScatterAdd(resource=metric.counts.value.handle, indices=tf.constant([0, 0]),
                                  updates=tf.constant([5, 5], dtype=metric.counts.value.dtype))
    assert int(np.asarray(metric.counts.value)[0]) >= 10
    assert all(not np.asarray(zeros).any() for zeros in state_updates._TF_ZEROS.values())
    metric.update_state(tf.constant([0, 1, num_classes + 5]), tf.constant(np.eye(num_classes, dtype="float32")[[0, 1, 2]]))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        metric.reset_state()
        metric.reset_state()
    messages = [str(w.message) for w in said]  # the counters read before the zeros: said once, at the first
    assert len(messages) == 1 and messages[0].startswith("balanced_accuracy: since its last reset, 1 rows could not be")
    assert float(metric.result()) == 0.0 and np.asarray(metric.counts.value).sum() == 0
    assert metric.resets == 4 and not metric.skip_training_curves


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow: where the one-op reset does not apply")
def test_tensorflow_reset_inside_tf_function_and_of_a_strategys_variables_zeroes_through_keras_assign(monkeypatch):
    import tensorflow as tf

    labels, scores = next(random_batches(num_classes=4, seed=5))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        replicated = BalancedAccuracy(4)  # a tf.distribute variable each, synced on read
    plain = BalancedAccuracy(4)
    variable_type = type(plain.counts)
    assigned = []
    own_assign = variable_type.assign
    monkeypatch.setattr(variable_type, "assign", lambda self, value: assigned.append(self.name) or own_assign(self, value))
    for metric, reset in ((plain, tf.function(plain.reset_state)), (replicated, replicated.reset_state),
                          (replicated, lambda: strategy.extended.call_for_each_replica(replicated.reset_state))):
        with strategy.scope() if metric is replicated else warnings.catch_warnings():
            metric.update_state(labels, scores)
        assert int(np.asarray(metric.counts.value).sum()) == len(labels)
        assigned.clear()
        reset()
        assert sorted(assigned) == sorted(variable.name for variable in metric.variables)
        assert all(not np.asarray(variable.value).any() for variable in metric.variables)
