"""ClassificationReportCallback in real model.fit runs."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices, plugin_content, run_tag_pairs
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1, is_chief

CLASSES = 4
NAMES = ["common", "rare", "<img src=x onerror=alert(1)>", "rarest"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    prior = 0.35 ** np.arange(CLASSES)
    y = rng.choice(CLASSES, 600, p=prior / prior.sum())
    x = rng.normal(size=(600, 8)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES)[y] * 1.5
    return (x[:450], y[:450]), (x[450:], y[450:])


class CountRows(keras.layers.Layer):
    """Identity layer counting the rows of every inference-mode forward pass."""

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False, name="rows")

    def call(self, inputs, training=None):
        if not training:
            self.rows.assign_add(tf.cast(tf.shape(inputs)[0], "int64"))
        return inputs


def make_model(metrics=(), counter=False):
    keras.utils.set_random_seed(1)
    layers = [keras.Input((8,))]
    if counter:
        layers.append(CountRows())
    layers += [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", *metrics])
    return model


def expected_tags(name="confusion_matrix"):
    tags = {name, f"{name}_image"} | {f"imbalance/{m}" for m in core.METRIC_NAMES}
    return tags | {f"{p}/{c}" for p in ("precision", "recall", "f1") for c in NAMES}


def test_two_epoch_fit_writes_exact_run_tag_pairs_and_the_right_matrix(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
    model.fit(
        x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path)), ClassificationReportCallback(tmp_path, class_names=NAMES)],
    )
    pairs = run_tag_pairs(tmp_path)
    ours = {(run, tag) for run, tag in pairs if run == "validation_imbalance"}
    assert ours == {("validation_imbalance", tag) for tag in expected_tags()}
    keras_validation = {tag for run, tag in pairs if run == "validation"}
    assert {"epoch_loss", "epoch_accuracy", "epoch_balanced_accuracy", "epoch_macro_f1"} <= keras_validation
    assert {run for run, _ in pairs} == {"train", "validation", "validation_imbalance"}

    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(logged[1], expected)
    assert b"<img src=x onerror=alert(1)>" in plugin_content(tmp_path, "validation_imbalance")


def fit_counting_rows(tmp_path, data, callback_kwargs=None, epochs=2):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)], counter=True)
    callbacks = [] if callback_kwargs is None else [ClassificationReportCallback(tmp_path, **callback_kwargs)]
    model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, verbose=0, callbacks=callbacks)
    return int(model.layers[0].rows.numpy())


def test_streaming_metric_means_no_extra_forward_pass(tmp_path, data, capsys):
    (_, _), (x_val, y_val) = data
    without = fit_counting_rows(tmp_path / "a", data)
    assert without == 2 * len(x_val)  # one validation pass per epoch
    with_callback = fit_counting_rows(tmp_path / "b", data, {"class_names": NAMES})
    assert with_callback == without
    assert "no extra forward pass" in capsys.readouterr().out


def test_predict_path_is_announced_once_and_counts_one_extra_pass(tmp_path, data, capsys):
    (x, y), (x_val, y_val) = data
    model = make_model(counter=True)  # no streaming metric compiled
    callback = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), class_names=NAMES)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=[callback])
    assert int(model.layers[0].rows.numpy()) == 4 * len(x_val)
    out = capsys.readouterr().out
    assert out.count("ClassificationReportCallback:") == 1 and "predicting on validation_data" in out
    logged = matrices(tmp_path)["validation_imbalance"]
    expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(logged[1], expected)


def test_predict_path_with_a_dataset_and_weights(tmp_path, data):
    (x, y), (x_val, y_val) = data
    weights = np.where(y_val == 0, 0.5, 2.0)
    dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val, weights)).batch(32)
    model = make_model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, validation_data=dataset, verbose=0)])
    logged = matrices(tmp_path)["validation_imbalance"][0]
    expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES), sample_weight=weights)
    np.testing.assert_allclose(logged, expected)
    assert logged.dtype == np.float64


def test_freq_and_validation_freq(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[ClassificationReportCallback(tmp_path / "a", freq=2, verbose=0)])
    assert sorted(matrices(tmp_path / "a")["validation_imbalance"]) == [0, 2]
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), validation_freq=2, epochs=4, verbose=0, callbacks=[ClassificationReportCallback(tmp_path / "b", verbose=0)])
    assert sorted(matrices(tmp_path / "b")["validation_imbalance"]) == [1, 3]


def test_crash_leaves_finished_epochs_readable(tmp_path, data):
    (x, y), (x_val, y_val) = data

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("simulated crash")

    model = make_model([BalancedAccuracy(CLASSES)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=5, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0), Crash()])
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]


def test_configuration_errors(tmp_path, data):
    (x, y), (x_val, y_val) = data
    with pytest.raises(ValueError, match="needs a validation confusion matrix"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path)])
    with pytest.raises(ValueError, match=r"one name per class \(4\), received 2"):
        make_model([BalancedAccuracy(CLASSES)]).fit(
            x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path, class_names=["a", "b"])],
        )
    with pytest.raises(ValueError, match="`metric='nope'` names no compiled"):
        make_model([BalancedAccuracy(CLASSES)]).fit(
            x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path, metric="nope")],
        )
    with pytest.raises(ValueError, match="`freq` must be a positive int"):
        ClassificationReportCallback(tmp_path, freq=0)
    with pytest.raises(TypeError, match="`validation_data` must be a tuple"):
        ClassificationReportCallback(tmp_path, validation_data=x_val)
    assert not os.path.exists(tmp_path / "validation_imbalance")


def test_invalid_labels_in_fit_are_reported_not_logged(tmp_path, data):
    (x, y), (x_val, y_val) = data
    bad = y_val.copy()
    bad[:3] = 9
    model = make_model([BalancedAccuracy(CLASSES)])
    model.compile("adam", lambda y_true, y_pred: keras.ops.mean(y_pred), metrics=[BalancedAccuracy(CLASSES)])
    with pytest.raises(ValueError, match="3 rows could not be counted"):
        model.fit(x, y, validation_data=(x_val, bad), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert not os.path.exists(tmp_path / "validation_imbalance")


class FakeResolver:
    def __init__(self, task_type, task_id, jobs):
        self.task_type, self.task_id, self._jobs = task_type, task_id, jobs

    def cluster_spec(self):
        return tf.train.ClusterSpec({job: [f"host{i}:1" for i in range(n)] for job, n in self._jobs.items()})


class FakeStrategy:
    def __init__(self, resolver):
        self.cluster_resolver = resolver


@pytest.mark.parametrize(
    "task_type, task_id, jobs, chief",
    [
        ("chief", 0, {"chief": 1, "worker": 2}, True),
        ("worker", 0, {"chief": 1, "worker": 2}, False),
        ("worker", 0, {"worker": 3}, True),
        ("worker", 1, {"worker": 3}, False),
        (None, None, {}, True),
    ],
)
def test_only_the_chief_writes(task_type, task_id, jobs, chief):
    assert is_chief(FakeStrategy(FakeResolver(task_type, task_id, jobs))) is chief
    assert is_chief(tf.distribute.get_strategy()) is True


def test_non_chief_worker_computes_but_writes_nothing(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val) = data
    monkeypatch.setattr("tb_imbalance.keras.is_chief", lambda strategy: False)
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert not os.path.exists(tmp_path / "validation_imbalance")
