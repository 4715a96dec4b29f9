"""Trends across steps: the ``series`` route and the decoded matrices it is built from (:mod:`tb_imbalance.plugin.series`).

Read through TensorBoard's WSGI app from the ``logdir`` fixture of
``tests/support.py`` and checked against scikit-learn / imbalanced-learn.
"""

from __future__ import annotations

import numpy as np
import pytest

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import CLASS_NAMES, HOSTILE_CLASS_NAME, NUM_STEPS, TAG
from support import route_json as _get
from support import sklearn_metrics as _sklearn_metrics
from support import sklearn_per_class as _sklearn_per_class
from tb_imbalance import core
from tb_imbalance.plugin import series as plugin_series


SERIES_KEYS = {
    "run", "tag", "class_names", "steps", "skipped_steps", "wall_times", "recall", "precision", "f1",
    "support", "predicted", "metrics",
}


# --------------------------------------------------------------------------
# the series route
# --------------------------------------------------------------------------


def test_series_has_per_class_trends_for_every_step(client, logdir):
    payload = _get(client, "series", run="class_weights", tag=TAG)
    assert set(payload) == SERIES_KEYS
    assert payload["steps"] == list(range(NUM_STEPS))
    assert len(payload["wall_times"]) == NUM_STEPS
    assert payload["wall_times"] == sorted(payload["wall_times"])
    assert payload["class_names"] == CLASS_NAMES
    assert set(payload["metrics"]) == set(core.METRIC_NAMES)
    for position, step in enumerate(payload["steps"]):
        cm = logdir.written["class_weights"][step]
        expected = _sklearn_per_class(cm)
        for key in ("recall", "precision", "f1", "support", "predicted"):
            assert payload[key][position] == pytest.approx(expected[key], rel=1e-12, abs=1e-12)
        for name, value in _sklearn_metrics(cm).items():
            assert payload["metrics"][name][position] == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert all(isinstance(count, int) for row in payload["support"] for count in row)


def test_series_agrees_with_report_at_each_step(client):
    series = _get(client, "series", run="baseline", tag=TAG)
    for position in (0, 12, NUM_STEPS - 1):
        report = _get(client, "report", run="baseline", tag=TAG, step=str(series["steps"][position]))
        assert report["wall_time"] == series["wall_times"][position]
        assert report["per_class"]["recall"] == series["recall"][position]
        assert {name: values[position] for name, values in series["metrics"].items()} == {
            name: report["metrics"][name] for name in core.METRIC_NAMES
        }


def test_series_limited_to_some_classes(client):
    everything = _get(client, "series", run="baseline", tag=TAG)
    payload = _get(client, "series", run="baseline", tag=TAG, classes="3,0")
    assert set(payload) == SERIES_KEYS | {"class_indices"}
    assert payload["class_indices"] == [3, 0]
    assert payload["class_names"] == [HOSTILE_CLASS_NAME, "majority"]
    for key in ("recall", "precision", "f1", "support", "predicted"):
        assert payload[key] == [[row[3], row[0]] for row in everything[key]]
    assert payload["metrics"] == everything["metrics"]


# --------------------------------------------------------------------------
# packed matrices
# --------------------------------------------------------------------------


def test_packed_matrices_round_trip():
    rng = np.random.default_rng(0)
    sparse = np.zeros((50, 50), dtype=np.int64)
    sparse[np.arange(50), np.arange(50)] = rng.integers(1, 100, 50)
    dense = rng.integers(0, 5, size=(6, 6))
    weighted = rng.random((5, 5))
    for matrix, is_sparse in ((sparse, True), (dense, False), (weighted, False)):
        packed = plugin_series.PackedMatrix.pack(matrix)
        assert packed.is_sparse is is_sparse
        unpacked = packed.unpack()
        assert unpacked.dtype == matrix.dtype and np.array_equal(unpacked, matrix)
        assert not unpacked.flags.writeable
    assert plugin_series.PackedMatrix.pack(sparse).nbytes < sparse.nbytes / 4
