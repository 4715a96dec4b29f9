"""The routes' answers (:mod:`tb_imbalance.plugin.payloads`): the ``report`` payload and its JSON text.

Read through TensorBoard's WSGI app from the ``logdir`` fixture of
``tests/support.py`` and checked against scikit-learn / imbalanced-learn.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import (
    CLASS_NAMES,
    NUM_STEPS,
    TAG,
    WEIGHTED_LABELS,
    WEIGHTED_PREDICTIONS,
    WEIGHTED_WEIGHTS,
    labels_from_matrix,
)
from support import route_json as _get
from support import sklearn_metrics as _sklearn_metrics
from support import sklearn_per_class as _sklearn_per_class
from tb_imbalance import core
from tb_imbalance.plugin import payloads as plugin_payloads


REPORT_KEYS = {
    "run", "tag", "step", "wall_time", "steps", "skipped_steps", "class_names", "num_classes", "weighted",
    "matrix_encoding", "confusion_matrix", "confusion_cells", "report", "metrics", "per_class", "class_groups", "has_examples",
    "examples_error", "has_curves", "curves_error",
}
SCORE_KEYS = {"support", "predicted", "precision", "recall", "f1", "specificity"}
PER_CLASS_KEYS = SCORE_KEYS | {"recall_interval", "precision_interval", "train_count", *core.PER_CLASS_CURVE_METRICS}


def _assert_nested_close(actual: Any, expected: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            _assert_nested_close(actual[key], expected[key], f"{where}/{key}")
    else:
        assert actual == pytest.approx(float(expected), rel=1e-12, abs=1e-12), where


def _sklearn_report(cm: np.ndarray, names: list[str]) -> dict[str, Any]:
    y_true, y_pred = labels_from_matrix(cm)
    return skm.classification_report(
        y_true, y_pred, labels=list(range(len(names))), target_names=names,
        output_dict=True, zero_division=0,
    )


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def test_report_defaults_to_latest_step_with_every_key(client, logdir):
    payload = _get(client, "report", run="baseline", tag=TAG)
    assert set(payload) == REPORT_KEYS
    assert payload["run"] == "baseline" and payload["tag"] == TAG
    assert payload["step"] == NUM_STEPS - 1
    assert payload["steps"] == list(range(NUM_STEPS))
    assert payload["class_names"] == CLASS_NAMES
    assert payload["num_classes"] == 4
    assert payload["weighted"] is False
    assert payload["matrix_encoding"] == "dense" and payload["confusion_cells"] is None
    assert isinstance(payload["wall_time"], float) and payload["wall_time"] > 1e9
    assert payload["confusion_matrix"] == logdir.written["baseline"][NUM_STEPS - 1].tolist()
    assert all(isinstance(count, int) for row in payload["confusion_matrix"] for count in row)
    assert set(payload["per_class"]) == PER_CLASS_KEYS
    assert set(payload["metrics"]) == {*core.METRIC_NAMES, *core.CURVE_METRIC_NAMES}
    assert payload["has_curves"] is False  # matrices logged without scores
    assert payload["metrics"]["macro_average_precision"] is None


@pytest.mark.parametrize("run", ["baseline", "class_weights"])
@pytest.mark.parametrize("step", [0, 7, NUM_STEPS - 1])
def test_report_matches_scikit_learn(client, logdir, run, step):
    cm = logdir.written[run][step]
    payload = _get(client, "report", run=run, tag=TAG, step=str(step))
    assert payload["step"] == step
    assert payload["confusion_matrix"] == cm.tolist()
    _assert_nested_close(payload["report"], _sklearn_report(cm, CLASS_NAMES))
    assert payload["report"] == core.classification_report(cm, CLASS_NAMES)
    _assert_nested_close({name: payload["metrics"][name] for name in core.METRIC_NAMES}, _sklearn_metrics(cm))
    expected = _sklearn_per_class(cm)
    for key in SCORE_KEYS:
        assert payload["per_class"][key] == pytest.approx(expected[key], rel=1e-12, abs=1e-12), key
    assert payload["per_class"]["support"] == cm.sum(axis=1).tolist()


def test_runs_differ_in_minority_recall(client):
    baseline = _get(client, "report", run="baseline", tag=TAG)
    balanced = _get(client, "report", run="class_weights", tag=TAG)
    assert baseline["per_class"]["recall"][-1] + 0.2 < balanced["per_class"]["recall"][-1]
    assert baseline["metrics"]["balanced_accuracy"] < balanced["metrics"]["balanced_accuracy"]


def test_report_of_a_full_report_run(client, logdir):
    payload = _get(client, "report", run="full", tag=TAG)
    assert payload["steps"] == [0, 1, 2]
    assert payload["class_names"] == ["0", "1", "2", "3"]
    assert payload["confusion_matrix"] == logdir.written["full"][2].tolist()


def test_report_of_weighted_counts_matches_scikit_learn(client):
    payload = _get(client, "report", run="weighted", tag=TAG)
    assert payload["weighted"] is True and payload["step"] == 4
    expected_cm = skm.confusion_matrix(
        WEIGHTED_LABELS, WEIGHTED_PREDICTIONS, sample_weight=WEIGHTED_WEIGHTS
    )
    assert np.allclose(payload["confusion_matrix"], expected_cm)
    assert any(isinstance(count, float) for row in payload["confusion_matrix"] for count in row)
    _assert_nested_close(
        payload["report"],
        skm.classification_report(
            WEIGHTED_LABELS, WEIGHTED_PREDICTIONS, labels=[0, 1, 2], target_names=["0", "1", "2"],
            sample_weight=WEIGHTED_WEIGHTS, output_dict=True, zero_division=0,
        ),
    )
    assert payload["metrics"]["balanced_accuracy"] == pytest.approx(
        skm.balanced_accuracy_score(WEIGHTED_LABELS, WEIGHTED_PREDICTIONS, sample_weight=WEIGHTED_WEIGHTS)
    )
    assert payload["metrics"]["mcc"] == pytest.approx(
        skm.matthews_corrcoef(WEIGHTED_LABELS, WEIGHTED_PREDICTIONS, sample_weight=WEIGHTED_WEIGHTS)
    )


def test_each_request_checks_each_stored_matrix_once_and_trusts_the_curves_read(tmp_path, monkeypatch):
    # The trends checked each step's matrix twice (per_class_metrics, imbalance_metrics), report once more
    # (per_class_intervals), compare both matrices twice (per_class_differences); every curve function checked
    # the summary decode_curves had checked where it was read.
    import tb_imbalance
    from support import count_calls, plugin_client
    from tb_imbalance.core import curves, validators

    rng = np.random.default_rng(3)
    for run in ("a", "b"):
        for step in range(3):
            labels = rng.integers(0, 3, 60)
            scores = rng.dirichlet(np.ones(3), size=60) + np.eye(3)[labels]
            tb_imbalance.log_report(tmp_path / run, labels, scores / scores.sum(axis=1, keepdims=True), step,
                                    class_names=["x", "y", "z"], class_counts=[50, 30, 5], image=False)
    client = plugin_client(tmp_path)
    calls = count_calls(monkeypatch, validators.validate_matrix, curves._summary_rows, core.per_class_metrics,
                        core.imbalance_metrics, core.per_class_intervals, core.per_class_differences)
    for route, params, matrices in (
        ("series", {"run": "a"}, 3),  # the trends: every step's matrix
        ("report", {"run": "a"}, 1),
        ("compare", {"run": "a", "baseline": "b"}, 2),
        ("curves", {"run": "a", "class": 1}, 1),
    ):
        calls.clear()
        _get(client, route, tag=TAG, **params)
        assert dict(calls) == {"validate_matrix": matrices}, route


# --------------------------------------------------------------------------
# JSON text
# --------------------------------------------------------------------------


def _sparse_counts(num_rows: int, num_columns: int, num_nonzero: int) -> np.ndarray:
    rng = np.random.default_rng(num_rows * num_columns)
    matrix = np.zeros((num_rows, num_columns), dtype=np.int64)
    cells = rng.choice(matrix.size, size=num_nonzero, replace=False)
    matrix.reshape(-1)[cells] = rng.integers(1, 10**12, size=num_nonzero)
    matrix[-1, -1] = 7
    return matrix


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[0, 1], [12345678901234, 5]]),
        np.zeros((3, 3), dtype=np.int64),
        np.arange(20).reshape(4, 5),
        np.array([[7]]),
        np.random.default_rng(1).integers(0, 10**6, size=(30, 30)),
        _sparse_counts(200, 200, 150),
        _sparse_counts(3, 80, 4),
        _sparse_counts(64, 1, 2),
    ],
)
def test_to_json_writes_count_matrices_exactly(matrix):
    text = plugin_payloads.to_json({"confusion_matrix": matrix, "name": "<é>"})
    assert json.loads(text) == {"confusion_matrix": matrix.tolist(), "name": "<é>"}
