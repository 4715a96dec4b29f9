"""The callback through the real TensorBoard server, in both loader modes.

With Keras' TensorBoard callback on one log_dir nothing is lost; after a
refused re-run into an old log_dir and a continued run (issue case 4) the
served steps ascend without duplicates and "latest" is the newest write.
"""

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

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


@pytest.fixture(scope="module")
def rerun_logdir(tmp_path_factory):
    """Case 4: a run of 3 epochs, a refused re-run from epoch 0, then a continued run to epoch 5."""
    from tb_imbalance import targets

    root = tmp_path_factory.mktemp("rerun")
    rng = np.random.default_rng(1)
    y = rng.choice(3, 300, p=[0.7, 0.2, 0.1])
    x = rng.normal(size=(300, 5)).astype("float32") + np.eye(3, 5)[y]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    fit = dict(x=x[:200], y=y[:200], validation_data=(x[200:], y[200:]), verbose=0)
    model.fit(**fit, epochs=3, callbacks=[ClassificationReportCallback(root / "run", verbose=0)])
    targets.close_directory_writers()  # the re-run comes from a new process: history read from disk
    with pytest.raises(ValueError, match=r"initial_epoch=3"):
        model.fit(**fit, epochs=3, callbacks=[ClassificationReportCallback(root / "run", verbose=0)])
    model.fit(**fit, initial_epoch=3, epochs=5, callbacks=[ClassificationReportCallback(root / "run", verbose=0)])
    latest = sk_confusion_matrix(y[200:], model.predict(x[200:], verbose=0).argmax(1), labels=range(3))
    return root, latest


@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_case4_refused_rerun_and_continued_run_serve_ascending_steps(rerun_logdir, load_fast):
    root, latest = rerun_logdir
    with support.tensorboard_server(root, load_fast=load_fast) as url:
        report = support.wait_for_json(
            f"{url}{support.PLUGIN_ROUTE}/report?run=run/validation_imbalance&tag=confusion_matrix",
            lambda body: len(body.get("steps", [])) == 5,
        )
        assert report["steps"] == [0, 1, 2, 3, 4]  # ascending, no duplicates
        assert report["step"] == 4  # "latest" is the newest write
        assert report["confusion_matrix"] == latest.tolist()
        series = support.wait_for_json(
            f"{url}/data/plugin/scalars/scalars?run=run/validation_imbalance&tag=imbalance/balanced_accuracy",
            lambda points: len(points) == 5,
        )
        assert [step for _, step, _ in series] == [0, 1, 2, 3, 4]
