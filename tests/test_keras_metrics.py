"""Streaming metrics: values against scikit-learn, state, config, use as monitor."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics as skm

from tb_imbalance.keras import BalancedAccuracy, ConfusionMatrixMetric, MacroF1


def random_batches(num_classes=4, batches=5, seed=0):
    rng = np.random.default_rng(seed)
    prior = 0.4 ** np.arange(num_classes)
    for _ in range(batches):
        labels = rng.choice(num_classes, 37, p=prior / prior.sum())
        scores = rng.random((37, num_classes)).astype("float32")
        scores[np.arange(37), labels] += rng.random(37) * 0.8
        yield labels, scores


@pytest.mark.parametrize("label_form", ["sparse", "sparse_column", "one_hot", "float_ids"])
def test_values_match_sklearn_over_batches(label_form):
    balanced, macro = BalancedAccuracy(4), MacroF1(4)
    all_true, all_pred = [], []
    for labels, scores in random_batches():
        given = {
            "sparse": labels,
            "sparse_column": labels[:, None],
            "one_hot": np.eye(4, dtype="float32")[labels],
            "float_ids": labels.astype("float32"),
        }[label_form]
        balanced.update_state(given, scores)
        macro.update_state(given, scores)
        all_true.append(labels)
        all_pred.append(scores.argmax(1))
    y_true, y_pred = np.concatenate(all_true), np.concatenate(all_pred)
    assert float(balanced.result()) == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred), abs=1e-6)
    assert float(macro.result()) == pytest.approx(
        skm.f1_score(y_true, y_pred, labels=range(4), average="macro", zero_division=0), abs=1e-6
    )
    np.testing.assert_array_equal(balanced.confusion_matrix(), skm.confusion_matrix(y_true, y_pred, labels=range(4)))
    assert balanced.confusion_matrix().dtype == np.int64


def test_binary_sigmoid_column_and_class_id_predictions():
    metric = BalancedAccuracy(2)
    metric.update_state([0, 1, 1, 0], np.array([[0.2], [0.7], [0.4], [0.6]], dtype="float32"))
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 1], [1, 1]])
    ids = BalancedAccuracy(3)
    ids.update_state([0, 1, 2], np.array([0, 2, 2]))
    np.testing.assert_array_equal(ids.confusion_matrix(), [[1, 0, 0], [0, 0, 1], [0, 0, 1]])


def test_sample_weight_is_a_mask():
    metric = MacroF1(2)
    metric.update_state([0, 1, 1], [0, 1, 0], sample_weight=[1.0, 0.0, 2.5])
    np.testing.assert_array_equal(metric.confusion_matrix(), [[1, 0], [1, 0]])


def test_reset_and_absent_classes():
    metric = BalancedAccuracy(3)
    metric.update_state([0, 0, 1], [0, 1, 1])
    assert float(metric.result()) == pytest.approx(0.75)  # class 2 absent: mean over present
    metric.reset_state()
    assert metric.confusion_matrix().sum() == 0
    assert float(metric.result()) == 0.0


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


def test_usable_as_monitor_for_keras_callbacks(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((120, 4)).astype("float32")
    y = (x[:, 0] * 3).astype(int) % 3
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
    assert metric.confusion_matrix().sum() == 0


def test_compiled_bad_labels_are_counted_not_misplaced():
    metric = BalancedAccuracy(3)

    @tf.function(jit_compile=True)
    def update(labels, scores):
        metric.update_state(labels, scores)

    update(tf.constant([0, 1, 7, -1]), tf.one_hot([0, 1, 2, 2], 3))
    assert metric.invalid_rows == 2
    with pytest.raises(ValueError, match="2 rows could not be counted"):
        metric.confusion_matrix()
    assert int(tf.reduce_sum(metric.counts[:9]).numpy()) == 2  # only the valid rows, in their cells
    assert int(metric.counts[0].numpy()) == 1 and int(metric.counts[4].numpy()) == 1


def test_constructor_validation():
    with pytest.raises(ValueError, match="at least 2"):
        BalancedAccuracy(1)
    with pytest.raises(TypeError, match="must be an int"):
        MacroF1("10")
    assert issubclass(BalancedAccuracy, ConfusionMatrixMetric)
