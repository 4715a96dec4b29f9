"""Reading through TensorBoard's data provider (:mod:`tb_imbalance.plugin.reader`): what cannot be read stays apart.

A newer format, an undecodable tensor, a failing read, a read too large for
one request and corrupt event files each answer for their own run only. The
logdir is the ``logdir`` fixture of ``tests/support.py``.
"""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import NUM_STEPS, TAG, make_logdir
from support import FailingProvider as _FailingProvider
from support import client_and_plugin as _client
from support import plugin_provider as _provider
from support import route_error as _error
from support import route_json as _get
from tb_imbalance.plugin import reader as plugin_reader


@pytest.mark.parametrize("route", ["report", "series"])
def test_newer_format_version_is_a_clear_error(client, route):
    message = _error(client, route, 422, run="future", tag=TAG)
    assert "newer" in message and "upgrade" in message
    assert _get(client, route, run="baseline", tag=TAG)["run"] == "baseline"


def test_undecodable_tensor_is_a_clear_error(client):
    message = _error(client, "report", 422, run="bad_shape", tag=TAG)
    assert "shape" in message


def test_failing_read_of_one_run_does_not_break_others(logdir):
    data_provider, _ = _provider(logdir.path)
    client, _ = _client(_FailingProvider(data_provider, broken_runs={"baseline"}))
    assert "disk on fire" in _error(client, "report", 503, run="baseline", tag=TAG)
    assert "disk on fire" in _error(client, "series", 503, run="baseline", tag=TAG)
    assert _get(client, "report", run="class_weights", tag=TAG)["step"] == NUM_STEPS - 1
    assert "baseline" in _get(client, "runs")


def test_series_too_large_for_one_read_is_sampled(logdir):
    data_provider, _ = _provider(logdir.path)
    failing = _FailingProvider(data_provider, max_points=20)
    step_bytes = logdir.written["baseline"][0].nbytes
    client, plugin = _client(failing)
    plugin._data._read_budget_bytes = 6 * step_bytes
    payload = _get(client, "report", run="baseline", tag=TAG)
    assert len(payload["steps"]) == 6
    assert payload["step"] == NUM_STEPS - 1
    assert payload["steps"] == sorted(payload["steps"])
    assert failing.reads == [plugin_reader.ALL_STEPS, 1, 6]
    step = payload["steps"][2]
    assert _get(client, "report", run="baseline", tag=TAG, step=str(step))["confusion_matrix"] == (
        logdir.written["baseline"][step].tolist()
    )



def test_a_sampled_run_logged_again_with_smaller_matrices_is_sampled_by_its_new_size(tmp_path):
    """The sample's size follows the steps read now, not those of the run once logged under that name."""
    make_logdir(tmp_path, runs=("sweep",), num_steps=30, num_classes=4, seed=1)
    data_provider, multiplexer = _provider(tmp_path)
    failing = _FailingProvider(data_provider, max_points=25)
    client, plugin = _client(failing)
    plugin._data._read_budget_bytes = 6 * np.zeros((4, 4), np.int64).nbytes
    assert len(_get(client, "report", run="sweep", tag=TAG)["steps"]) == 6
    shutil.rmtree(tmp_path / "sweep")
    multiplexer.Reload()
    assert _get(client, "runs") == {}
    # tf.summary names event files by the second: the new run's file starts in a later one.
    time.sleep(1.01 - time.time() % 1)
    written = make_logdir(tmp_path, runs=("sweep",), num_steps=30, num_classes=2, seed=2)
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    payload = _get(client, "report", run="sweep", tag=TAG)
    assert payload["num_classes"] == 2
    assert len(payload["steps"]) == 24  # the budget of 6 four-class steps holds 24 two-class ones
    assert payload["step"] == 29
    assert payload["confusion_matrix"] == written["sweep"][29].tolist()


def test_corrupt_event_files_do_not_break_other_runs(logdir, tmp_path):
    shutil.copytree(logdir.path / "baseline", tmp_path / "baseline")
    shutil.copytree(logdir.path / "baseline", tmp_path / "truncated")
    (event_file,) = (tmp_path / "truncated").iterdir()
    event_file.write_bytes(event_file.read_bytes()[: event_file.stat().st_size // 2])
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "events.out.tfevents.1700000000.host").write_bytes(
        np.random.default_rng(0).bytes(5000)
    )
    data_provider, _ = _provider(tmp_path)
    client, _ = _client(data_provider)
    runs = _get(client, "runs")
    assert runs["baseline"] == [TAG] and "garbage" not in runs
    assert _get(client, "report", run="baseline", tag=TAG)["steps"] == list(range(NUM_STEPS))
    truncated = _get(client, "report", run="truncated", tag=TAG)
    assert 0 < len(truncated["steps"]) < NUM_STEPS
