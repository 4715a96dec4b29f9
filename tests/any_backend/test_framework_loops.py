"""Training loops without Keras log through log_report and read back through the real server.

* a plain PyTorch loop with a real ``torch.utils.tensorboard.SummaryWriter``
  that also holds the user's own scalar (runs where torch is installed);
* a scikit-learn ``SGDClassifier.partial_fit`` loop logging to a directory
  (every environment).

Both are read back through the real ``tensorboard`` process in both loader
modes. The oracle: scikit-learn's confusion matrix of the model's own
predictions at each epoch.
"""

import urllib.parse

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from support import PLUGIN_ROUTE, get_json, tensorboard_server
from tb_imbalance.targets import close_directory_writers

NAMES = ["normal", "fault", "fraud"]
EPOCHS = 3


def imbalanced_data(seed=0, rows=900):
    rng = np.random.default_rng(seed)
    y = rng.choice(3, rows, p=[0.85, 0.11, 0.04])
    x = rng.normal(size=(rows, 6)).astype(np.float32) + np.eye(3, 6, dtype=np.float32)[y] * 1.5
    return (x[:600], y[:600]), (x[600:], y[600:])


def torch_loop(run_dir):
    """A user's plain PyTorch loop; returns {epoch: expected matrix}."""
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(0)
    (x_train, y_train), (x_val, y_val) = imbalanced_data(1)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    writer = SummaryWriter(str(run_dir))
    expected, losses = {}, {}
    for epoch in range(EPOCHS):
        model.train()
        for start in range(0, len(x_train), 64):
            xb, yb = torch.from_numpy(x_train[start:start + 64]), torch.from_numpy(y_train[start:start + 64])
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            logits = model(torch.from_numpy(x_val))
        writer.add_scalar("loss", loss.item(), epoch)
        losses[epoch] = loss.item()
        tb_imbalance.log_report(writer, torch.from_numpy(y_val), logits.softmax(-1), epoch, class_names=NAMES)
        expected[epoch] = sk_confusion_matrix(y_val, logits.argmax(-1).numpy(), labels=range(3))
    writer.close()
    return expected, losses


def sklearn_loop(run_dir):
    (x_train, y_train), (x_val, y_val) = imbalanced_data(2)
    model = SGDClassifier(loss="log_loss", random_state=0)
    expected = {}
    for epoch in range(EPOCHS):
        model.partial_fit(x_train, y_train, classes=np.arange(3))
        scores = model.predict_proba(x_val)
        tb_imbalance.log_report(run_dir, y_val, scores, epoch, class_names=NAMES)
        expected[epoch] = sk_confusion_matrix(y_val, model.predict(x_val), labels=range(3))
    close_directory_writers()
    return expected


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("loops")
    written = {"sklearn": (sklearn_loop(root / "sklearn"), None)}
    try:
        written["torch"] = torch_loop(root / "torch")
    except pytest.skip.Exception:
        pass  # torch is not in this environment: the sklearn loop still runs
    return root, written


def report(url, run, step):
    query = urllib.parse.urlencode({"run": run, "tag": "confusion_matrix", "step": step})
    return get_json(f"{url}{PLUGIN_ROUTE}/report?{query}")


@pytest.mark.parametrize("load_fast", [False, True], ids=["python-loader", "rust-loader"])
def test_loops_read_back_through_tensorboard(logdir, load_fast):
    root, written = logdir
    with tensorboard_server(root, load_fast=load_fast) as url:
        runs = get_json(f"{url}{PLUGIN_ROUTE}/runs")
        assert set(runs) == set(written)
        for run, (expected, losses) in written.items():
            for epoch, cm in expected.items():
                payload = report(url, run, epoch)
                assert payload["class_names"] == NAMES
                np.testing.assert_array_equal(payload["confusion_matrix"], cm)
            assert payload["steps"] == list(range(EPOCHS))
            if losses is not None:  # the user's own scalar sits in the same event file
                points = get_json(f"{url}/data/plugin/scalars/scalars?run={run}&tag=loss")
                assert [p[1] for p in points] == list(range(EPOCHS))
                np.testing.assert_allclose([p[2] for p in points], [losses[e] for e in range(EPOCHS)], rtol=1e-6)


def test_torch_loop_runs_where_torch_is_installed(logdir):
    pytest.importorskip("torch")
    assert "torch" in logdir[1]
