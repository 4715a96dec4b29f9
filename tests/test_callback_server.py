"""Callback + Keras' TensorBoard callback on one log_dir: nothing lost in either loader mode."""

import keras
import numpy as np
import pytest

import support
from tb_imbalance import core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback

EPOCHS = 12  # more than the 10 samples TensorBoard keeps by default for plugin tensors


@pytest.fixture(scope="module")
def trained_logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    rng = np.random.default_rng(0)
    y = rng.choice(3, 400, p=[0.8, 0.15, 0.05])
    x = rng.normal(size=(400, 5)).astype("float32") + np.eye(3, 5)[y]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", BalancedAccuracy(3)])
    model.fit(
        x[:300], y[:300], validation_data=(x[300:], y[300:]), epochs=EPOCHS, verbose=0,
        callbacks=[
            keras.callbacks.TensorBoard(str(root / "run")),
            ClassificationReportCallback(root / "run", class_names=["a", "b", "c"], verbose=0),
        ],
    )
    return root


@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_both_writers_complete_in_the_real_server(trained_logdir, load_fast):
    with support.tensorboard_server(trained_logdir, load_fast=load_fast) as url:
        scalar_tags = support.wait_for_json(
            f"{url}/data/plugin/scalars/tags",
            lambda tags: {"run/train", "run/validation", "run/validation_imbalance"} <= set(tags),
        )
        assert {"epoch_loss", "epoch_accuracy", "epoch_balanced_accuracy"} <= set(scalar_tags["run/validation"])
        assert {"epoch_loss", "epoch_accuracy"} <= set(scalar_tags["run/train"])
        ours = set(scalar_tags["run/validation_imbalance"])
        assert {f"imbalance/{m}" for m in core.METRIC_NAMES} | {"recall/a", "f1/c", "precision/b"} <= ours

        for run, tag in [("run/validation", "epoch_loss"), ("run/train", "epoch_loss"), ("run/validation_imbalance", "recall/c")]:
            series = support.wait_for_json(
                f"{url}/data/plugin/scalars/scalars?run={run}&tag={tag}", lambda points: len(points) == EPOCHS
            )
            assert [step for _, step, _ in series] == list(range(EPOCHS))

        assert support.get_json(f"{url}{support.PLUGIN_ROUTE}/runs") == {"run/validation_imbalance": ["confusion_matrix"]}
        report = support.get_json(f"{url}{support.PLUGIN_ROUTE}/report?run=run/validation_imbalance&tag=confusion_matrix")
        assert report["steps"] == list(range(EPOCHS))
        assert sum(map(sum, report["confusion_matrix"])) == 100
