"""A streaming metric given sample weights other than 0 and 1 says once that it counted each row once.

The metric's ``sample_weight`` is a mask (the matrix counts rows, exact
integers): weights such as 0.5 or 3.0, which Keras hands a metric compiled in
``weighted_metrics=[...]`` (``validation_data=(x, y, w)``, ``fit``'s
``sample_weight`` and ``class_weight``), would otherwise give a matrix that is
not scikit-learn's ``confusion_matrix(y, p, sample_weight=w)`` and nothing
would say so. The metric counts those rows aside, in every state layout, and
warns once, naming the fixes. Runs in every environment: no TensorFlow import
at module level.
"""

import warnings

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from compiled_update import compiled_update
from logdir_reader import matrices
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1
from tb_imbalance.keras.cell_codes import CODES_ABOVE_CLASSES
from tb_imbalance.keras.confusion_metric import dense_result_max_classes

SAID = "rows had sample weights other than 0 and 1"


def said(record):
    return [w for w in record if SAID in str(w.message)]


def data(rows=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, rows)
    x = (rng.normal(size=(rows, 4)) + np.eye(3, 4)[y] * 2).astype("float32")
    return x, y


def compiled_model(metric):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", weighted_metrics=[metric])
    return model


def fit_recording(model, *args, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(*args, verbose=0, **kwargs)
    return said(record)


def test_real_validation_weights_are_said_once_with_the_fixes(tmp_path):
    x, y = data()
    weights = np.resize([0.5, 1.0, 3.0], len(y)).astype("float32")
    metric = BalancedAccuracy(3)
    model = compiled_model(metric)
    report = ClassificationReportCallback(log_dir=str(tmp_path), background=False)
    messages = fit_recording(model, x, y, validation_data=(x, y, weights), epochs=3, batch_size=32, callbacks=[report])
    assert len(messages) == 1, [str(m.message) for m in messages]
    text = str(messages[0].message)
    assert text.startswith(f"{metric.name}: since its last reset, 64 rows had sample weights other than 0 and 1")
    assert "each was counted once" in text
    assert "give ClassificationReportCallback(validation_data=(x, y, w))" in text
    assert "compile the metric in metrics=[...] instead of weighted_metrics=[...]" in text
    assert "pass weights of 0 and 1 as a mask" in text
    assert messages[0].filename == __file__  # the user's fit line, not the package's
    assert metric.real_weight_rows == 64  # the last validation pass: two thirds of its 96 rows
    assert metric.confusion_matrix().sum() == 96  # each row once, as before


def test_a_metric_alone_says_it_when_keras_resets_it():
    x, y = data()
    metric = MacroF1(3)
    messages = fit_recording(compiled_model(metric), x, y, validation_data=(x, y, np.full(len(y), 2.0)), epochs=2)
    assert len(messages) == 1
    assert f"{metric.name}: since its last reset, 96 rows" in str(messages[0].message)


@pytest.mark.parametrize("weights", [None, "mask"])
def test_mask_weights_and_no_weights_say_nothing(tmp_path, weights):
    x, y = data()
    given = (x, y) if weights is None else (x, y, (np.arange(len(y)) % 3 != 0).astype("float32"))
    metric = BalancedAccuracy(3)
    report = ClassificationReportCallback(log_dir=str(tmp_path), background=False)
    assert fit_recording(compiled_model(metric), x, y, validation_data=given, epochs=2, callbacks=[report]) == []
    assert metric.real_weight_rows == 0


def test_class_weight_is_said_once_too():
    x, y = data()
    metric = BalancedAccuracy(3)
    messages = fit_recording(compiled_model(metric), x, y, validation_data=(x, y), epochs=3, batch_size=32,
                             class_weight={0: 1.0, 1: 2.5, 2: 1.0})
    assert len(messages) == 1
    text = str(messages[0].message)
    assert f"{metric.name}: since its last reset, {int(np.sum(y == 1))} rows" in text  # the training pass's class 1
    assert "class_weight's weights of the training batches" in text
    assert metric.real_weight_rows == 0  # the validation pass had no weights


@pytest.mark.parametrize("compiled_in", ["metrics", "weighted_metrics"])
def test_class_weight_leaves_the_logged_validation_matrix_unweighted(tmp_path, compiled_in):
    """Keras weights only the training batches with class_weight: the callback logs every validation row once."""
    x, y = data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", **{compiled_in: [BalancedAccuracy(3)]})
    model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0, class_weight={0: 1.0, 1: 2.5, 2: 4.0},
              callbacks=[ClassificationReportCallback(log_dir=str(tmp_path), verbose=0, background=False)])
    expected = sk_confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(3))
    np.testing.assert_array_equal(matrices(tmp_path)["validation_imbalance"][1], expected)


# 3 classes: the cells layout (TensorFlow: its fused XLA update); 300: the marginals; above 1000: the cell codes
LAYOUTS = [3, 300, CODES_ABOVE_CLASSES + 1]
WEIGHTS = [0.5, 1.0, 3.0, 0.0, 2.0, 1.0, -1.0, float("nan"), float("inf"), 1.0]
REAL = 4  # 0.5, 3, 2 and inf are counted once each; 0 skips its row, -1 and NaN rows cannot be counted


@pytest.mark.parametrize("num_classes", LAYOUTS)
@pytest.mark.parametrize("compiled", [False, True])
def test_the_counter_counts_exactly_the_rows_of_other_weights(num_classes, compiled):
    assert 300 > dense_result_max_classes()
    metric = BalancedAccuracy(num_classes, max_rows=64) if num_classes > CODES_ABOVE_CLASSES else BalancedAccuracy(num_classes)
    labels = np.arange(len(WEIGHTS)) % 3
    scores = np.eye(num_classes, dtype="float32")[(labels + 1) % 3]
    step = compiled_update(metric) if compiled else lambda *a: metric.update_state(a[0], a[1], sample_weight=a[2])
    for _ in range(2):
        step(ops.convert_to_tensor(labels), ops.convert_to_tensor(scores), ops.convert_to_tensor(np.array(WEIGHTS, "float32")))
    assert metric.real_weight_rows == 2 * REAL
    assert metric.invalid_rows == 4  # -1 and NaN, twice


@pytest.mark.parametrize("num_classes", LAYOUTS)
def test_numpy_and_list_batches_count_and_say_it_when_the_matrix_is_read(num_classes):
    metric = BalancedAccuracy(num_classes, max_rows=64) if num_classes > CODES_ABOVE_CLASSES else BalancedAccuracy(num_classes)
    metric.update_state([0, 1, 2, 2], np.eye(num_classes, dtype="float32")[[0, 1, 2, 1]], sample_weight=[0.5, 1, 3, 0])
    metric.update_state(np.array([1, 1]), np.eye(num_classes, dtype="float32")[[1, 0]], sample_weight=np.array([1.0, 1.0]))
    metric.update_state([2], np.eye(num_classes, dtype="float32")[[2]], sample_weight=2.0)  # a scalar weighs every row
    assert metric.real_weight_rows == 3
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        matrix = metric.confusion_matrix()
        metric.confusion_matrix()
    messages = said(record)
    assert len(messages) == 1 and "3 rows" in str(messages[0].message)
    assert messages[0].filename == __file__
    dense = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    assert dense[:3, :3].tolist() == [[1, 0, 0], [1, 2, 0], [0, 0, 2]]  # the rows, once each


def test_a_reset_says_it_once_per_metric():
    metric = BalancedAccuracy(3)  # JAX: its compiled reset reads the counters
    for _ in range(2):
        metric.update_state(ops.convert_to_tensor([0, 1]), ops.convert_to_tensor([[1.0, 0, 0], [0, 1.0, 0]]),
                            sample_weight=ops.convert_to_tensor([4.0, 1.0]))
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            metric.reset_state()
        if metric.resets == 1:
            assert len(said(record)) == 1 and "1 rows" in str(said(record)[0].message)
        else:
            assert said(record) == []
    assert metric.real_weight_rows == 0
