"""The plugin's memory (:mod:`tb_imbalance.plugin.cache`): one read per series, new steps seen, bounded in bytes.

The logdir is the ``logdir`` fixture of ``tests/support.py``.
"""

from __future__ import annotations

import json
import shutil
import threading
import time

import numpy as np
import pytest
from werkzeug import test as werkzeug_test

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import NUM_STEPS, PLUGIN_ROUTE, TAG, make_logdir
from support import FailingProvider as _FailingProvider
from support import client_and_plugin as _client
from support import plugin_provider as _provider
from support import route_json as _get
from tb_imbalance import format as fmt
from tb_imbalance.plugin import cache as plugin_cache
from tb_imbalance.plugin import reader as plugin_reader
from tb_imbalance.plugin import series as plugin_series


def test_reads_are_cached_and_shared_between_threads(logdir):
    data_provider, _ = _provider(logdir.path)
    counting = _FailingProvider(data_provider)
    client, _ = _client(counting)
    failures: list[str] = []

    def ask(step: int) -> None:
        local = werkzeug_test.Client(client.application)
        response = local.get(
            f"{PLUGIN_ROUTE}/report", query_string={"run": "baseline", "tag": TAG, "step": str(step)}
        )
        if response.status_code != 200 or json.loads(response.get_data())["step"] != step:
            failures.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=ask, args=(step % NUM_STEPS,)) for step in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    _get(client, "series", run="baseline", tag=TAG)
    assert counting.reads == [plugin_reader.ALL_STEPS]


def test_new_steps_of_a_training_run_appear(tmp_path):
    make_logdir(tmp_path, runs=("live",), num_steps=3, seed=5)
    data_provider, multiplexer = _provider(tmp_path)
    client, _ = _client(data_provider)
    assert _get(client, "report", run="live", tag=TAG)["steps"] == [0, 1, 2]
    shutil.rmtree(tmp_path / "live")
    # tf.summary names event files by the second and a counter that is not zero-padded, and the
    # Python loader skips a file that sorts before the one it read: start the new file in a later second.
    time.sleep(1.01 - time.time() % 1)
    written = make_logdir(tmp_path, runs=("live",), num_steps=5, seed=6)
    multiplexer.Reload()
    payload = _get(client, "report", run="live", tag=TAG)
    assert payload["step"] == 4
    assert payload["confusion_matrix"] == written["live"][4].tolist()
    assert _get(client, "series", run="live", tag=TAG)["steps"][-1] == 4


def test_cache_is_bounded_in_bytes_and_evicts_least_recently_used():
    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)

    def series_of(value: int) -> plugin_series.MatrixSeries:
        dense = np.full((2, 2), value, dtype=np.int64)
        return plugin_series.MatrixSeries(info, "v", [0], [0.0], [plugin_series.PackedMatrix.pack(dense)])

    one_entry = series_of(1).nbytes
    cache = plugin_cache.SeriesCache(max_bytes=2 * one_entry)
    cache.get("a", "v", lambda: series_of(1))
    cache.get("b", "v", lambda: series_of(2))
    cache.get("a", "v", lambda: pytest.fail("cached entry reloaded"))
    cache.get("c", "v", lambda: series_of(3))
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.nbytes == 2 * one_entry
    reloaded = cache.get("a", "v2", lambda: series_of(9))
    assert reloaded.matrix(0).tolist() == [[9, 9], [9, 9]]
    assert len(cache) == 2


def test_cache_keeps_no_lock_per_key_it_ever_loaded():
    # A server that sees runs and steps come and go for days holds what its byte bound allows, and
    # nothing per key it once loaded: 2000 distinct keys through a cache of two entries.
    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
    dense = plugin_series.PackedMatrix.pack(np.eye(2, dtype=np.int64))
    series = plugin_series.MatrixSeries(info, "v", [0], [0.0], [dense])
    cache = plugin_cache.SeriesCache(max_bytes=2 * series.nbytes)
    for key in range(2000):
        cache.get(("", f"run{key}", TAG), "v", lambda: series)
    with pytest.raises(RuntimeError):
        cache.get("failing", "v", lambda: (_ for _ in ()).throw(RuntimeError("read failed")))
    assert len(cache) == 2
    assert len(cache._load_locks) == 0
