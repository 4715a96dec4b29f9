"""ClassificationReportCallback, TensorFlow-only cases: tf.data input and tf.distribute's chief.

Everything that runs on every Keras backend (tags, matrices, freq, errors,
forward-pass counts, jit_compile, which process writes on JAX and PyTorch) is
in tests/any_backend/test_callback_backends.py and
tests/any_backend/test_validation_sources.py.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, is_chief

CLASSES = 4


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    prior = 0.35 ** np.arange(CLASSES)
    y = rng.choice(CLASSES, 600, p=prior / prior.sum())
    x = rng.normal(size=(600, 8)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES)[y] * 1.5
    return (x[:450], y[:450]), (x[450:], y[450:])


def make_model(metrics=()):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", *metrics])
    return model


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
    monkeypatch.setattr("tb_imbalance.keras.distribution.is_chief", lambda strategy: False)
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert not os.path.exists(tmp_path / "validation_imbalance")
