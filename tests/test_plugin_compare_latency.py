"""How fast ``compare`` answers at 1000 classes on the real server (a measurement, not a check).

Runs only with ``TBI_BENCH=1`` (``TBI_BENCH=1 .venv/bin/python -m pytest
tests/test_plugin_compare_latency.py -s``). It writes two runs of 1000 classes
(a few steps of about 50,000 validation rows each, mostly diagonal with
confusions between neighbouring classes), starts the real ``tensorboard`` once
with ``--load_fast=false`` and once with ``--load_fast=true``, and prints the
median and 95th percentile of ``compare`` (and, as a yardstick, ``report``)
after one warm-up request that fills the plugin's cache. The target is a
median of at most 100 ms; nothing here fails on time.

Example:
    >>> figures = measure_compare_latency("http://127.0.0.1:6006", requests=20)
    >>> sorted(figures)
    ['first_ms', 'median_ms', 'p95_ms', 'requests', 'response_bytes']
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import time
import urllib.parse
import urllib.request
from typing import Any

import numpy as np
import pytest

from support import PLUGIN_ROUTE, get_json, tensorboard_server

NUM_CLASSES = 1000
NUM_STEPS = 5
ROWS_PER_STEP = 50_000
RUNS = ("wide_a", "wide_b")
TAG = "confusion_matrix"

pytestmark = pytest.mark.skipif(
    os.environ.get("TBI_BENCH") != "1", reason="a measurement: set TBI_BENCH=1 to run it"
)


def write_wide_runs(logdir: pathlib.Path, *, seed: int = 0) -> None:
    """Write :data:`RUNS`: :data:`NUM_STEPS` steps of a 1000-class matrix each."""
    import tb_imbalance

    rng = np.random.default_rng(seed)
    priors = 1.0 / np.arange(1, NUM_CLASSES + 1) ** 0.8
    priors /= priors.sum()
    names = [f"class_{index:04d}" for index in range(NUM_CLASSES)]
    for run in RUNS:
        base_recall = rng.uniform(0.5, 0.95, size=NUM_CLASSES)
        with tb_imbalance.ReportWriter(logdir / run) as writer:
            for step in range(NUM_STEPS):
                labels = rng.choice(NUM_CLASSES, size=ROWS_PER_STEP, p=priors)
                correct = rng.random(ROWS_PER_STEP) < base_recall[labels]
                offsets = rng.integers(1, 4, size=ROWS_PER_STEP) * rng.choice([-1, 1], size=ROWS_PER_STEP)
                predictions = np.where(correct, labels, (labels + offsets) % NUM_CLASSES)
                cm = np.bincount(labels * NUM_CLASSES + predictions, minlength=NUM_CLASSES**2)
                writer.write_matrix(
                    step, TAG, cm.reshape(NUM_CLASSES, NUM_CLASSES), names, image=False, per_class_scalars=False
                )


def _timed_get(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
    return (time.perf_counter() - started) * 1000.0, len(body)


def _figures(first_ms: float, latencies: list[float], response_bytes: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "first_ms": round(first_ms, 1),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "requests": len(ordered),
        "response_bytes": response_bytes,
    }


def measure_compare_latency(
    base_url: str, *, run: str = RUNS[1], baseline: str = RUNS[0], tag: str = TAG, requests: int = 50
) -> dict[str, Any]:
    """Time ``compare`` requests at varying step pairs, after one warm-up request.

    Returns:
        ``first_ms`` (the warm-up: both series read and decoded), ``median_ms``,
        ``p95_ms``, ``requests`` and ``response_bytes`` (one answer).
    """
    route = f"{base_url}{PLUGIN_ROUTE}/compare?"
    first_ms, _ = _timed_get(route + urllib.parse.urlencode({"run": run, "tag": tag, "baseline": baseline}))
    steps = get_json(f"{base_url}{PLUGIN_ROUTE}/report?" + urllib.parse.urlencode({"run": run, "tag": tag}))["steps"]
    latencies, size = [], 0
    for index in range(requests):
        query = {
            "run": run, "tag": tag, "baseline": baseline,
            "step": steps[index % len(steps)], "baseline_step": steps[(index * 3 + 1) % len(steps)],
        }
        elapsed, size = _timed_get(route + urllib.parse.urlencode(query))
        latencies.append(elapsed)
    return _figures(first_ms, latencies, size)


def measure_report_latency(base_url: str, *, run: str = RUNS[0], tag: str = TAG, requests: int = 20) -> dict[str, Any]:
    """The same for ``report`` (1000 × 1000 matrix in every answer), as a yardstick."""
    route = f"{base_url}{PLUGIN_ROUTE}/report?"
    first_ms, _ = _timed_get(route + urllib.parse.urlencode({"run": run, "tag": tag}))
    latencies, size = [], 0
    for index in range(requests):
        elapsed, size = _timed_get(route + urllib.parse.urlencode({"run": run, "tag": tag, "step": index % NUM_STEPS}))
        latencies.append(elapsed)
    return _figures(first_ms, latencies, size)


@pytest.fixture(scope="module")
def wide_logdir(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("wide_compare")
    write_wide_runs(root)
    return root


@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_measure_compare_latency_at_1000_classes(wide_logdir, load_fast, capsys):
    with tensorboard_server(wide_logdir, load_fast=load_fast) as base_url:
        for run in RUNS:  # every step loaded before timing
            deadline = time.monotonic() + 120
            while len(get_json(f"{base_url}{PLUGIN_ROUTE}/report?run={run}&tag={TAG}")["steps"]) < NUM_STEPS:
                assert time.monotonic() < deadline, f"{run} did not load"
                time.sleep(0.5)
        compare = measure_compare_latency(base_url)
        report = measure_report_latency(base_url)
    with capsys.disabled():
        print(
            f"\ncompare @ {NUM_CLASSES} classes, load_fast={str(load_fast).lower()}: {json.dumps(compare)}"
            f"\nreport  @ {NUM_CLASSES} classes, load_fast={str(load_fast).lower()}: {json.dumps(report)}"
        )
    assert compare["requests"] == 50  # the figures are printed, not judged
