"""End to end: the real ``tensorboard`` command serving the Imbalance plugin.

One server per loader mode (``--load_fast=false``: Python multiplexer;
``--load_fast=true``: Rust data server) on a generated logdir with more steps
than either loader keeps by default (10 / 100), a run written by a newer
format version, a run with other class names, a truncated event file and a
garbage event file. Intervals (``report``) and differences (``compare``) are
checked against statsmodels.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import threading
import urllib.parse
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from support import (
    PLUGIN_ROUTE,
    get_json,
    http_get,
    labels_from_matrix,
    make_logdir,
    tensorboard_server,
    wait_for_json,
    write_newer_format_run,
)

TAG = "confusion_matrix"
NUM_STEPS = 120
CLASS_NAMES = ["negative", "weak", "strong", "critical"]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> tuple[pathlib.Path, dict[str, dict[int, np.ndarray]]]:
    root = tmp_path_factory.mktemp("served")
    written = make_logdir(root, num_steps=NUM_STEPS, class_names=CLASS_NAMES)
    write_newer_format_run(root, "future", tag=TAG)
    make_logdir(root, runs=("binary",), num_steps=2, num_classes=2, seed=9)
    shutil.copytree(root / "baseline", root / "truncated")
    (event_file,) = (root / "truncated").iterdir()
    event_file.write_bytes(event_file.read_bytes()[: event_file.stat().st_size // 3])
    (root / "garbage").mkdir()
    (root / "garbage" / "events.out.tfevents.1700000000.garbage").write_bytes(
        np.random.default_rng(0).bytes(20_000)
    )
    return root, written


def _url(base: str, route: str, **params: Any) -> str:
    return f"{base}{PLUGIN_ROUTE}/{route}?{urllib.parse.urlencode(params)}"


def _all_steps_loaded(payload: dict) -> bool:
    return len(payload["steps"]) == NUM_STEPS


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def server(request, logdir) -> str:
    root, _ = logdir
    with tensorboard_server(root, load_fast=request.param) as base_url:
        for run in ("baseline", "class_weights"):
            wait_for_json(_url(base_url, "report", run=run, tag=TAG), _all_steps_loaded, timeout=90)
        yield base_url


def test_plugin_is_listed_and_enabled(server):
    listing = get_json(f"{server}/data/plugins_listing")
    entry = listing["imbalance"]
    assert entry["enabled"] is True
    assert entry["tab_name"] == "Imbalance"
    assert entry["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": "/data/plugin/imbalance/index.js",
    }


def test_index_js_is_served_as_javascript(server):
    status, headers, body = http_get(f"{server}{PLUGIN_ROUTE}/index.js")
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == "text/javascript"
    assert b"render" in body


def test_runs_lists_the_runs_with_confusion_matrices(server):
    runs = get_json(_url(server, "runs"))
    assert runs["baseline"] == [TAG] and runs["class_weights"] == [TAG]
    assert runs["future"] == [TAG]
    assert "garbage" not in runs
    assert list(runs) == sorted(runs)


@pytest.mark.parametrize("run", ["baseline", "class_weights"])
def test_every_step_is_available_and_matches_scikit_learn(server, logdir, run):
    _, written = logdir
    latest = get_json(_url(server, "report", run=run, tag=TAG))
    assert latest["steps"] == list(range(NUM_STEPS))
    assert latest["step"] == NUM_STEPS - 1
    for step in (0, 57, NUM_STEPS - 1):
        payload = get_json(_url(server, "report", run=run, tag=TAG, step=step))
        cm = written[run][step]
        assert payload["confusion_matrix"] == cm.tolist()
        y_true, y_pred = labels_from_matrix(cm)
        expected = skm.classification_report(
            y_true, y_pred, labels=[0, 1, 2, 3], target_names=CLASS_NAMES,
            output_dict=True, zero_division=0,
        )
        assert payload["report"].keys() == expected.keys()
        for name in CLASS_NAMES + ["macro avg", "weighted avg"]:
            assert payload["report"][name] == pytest.approx(expected[name], rel=1e-12, abs=1e-12)
        assert payload["report"]["accuracy"] == pytest.approx(expected["accuracy"])
        assert payload["metrics"]["balanced_accuracy"] == pytest.approx(
            skm.balanced_accuracy_score(y_true, y_pred)
        )
        assert payload["metrics"]["mcc"] == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))


def test_series_covers_every_step(server, logdir):
    _, written = logdir
    payload = get_json(_url(server, "series", run="class_weights", tag=TAG, classes="3"))
    assert payload["steps"] == list(range(NUM_STEPS))
    assert payload["class_indices"] == [3]
    expected_support = [[int(written["class_weights"][step][3].sum())] for step in range(NUM_STEPS)]
    assert payload["support"] == expected_support


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"run": "baseline", "tag": TAG, "step": "last"}, 400),
        ({"tag": TAG}, 400),
        ({"run": "nope", "tag": TAG}, 404),
        ({"run": "baseline", "tag": "nope"}, 404),
        ({"run": "baseline", "tag": TAG, "step": 100_000}, 404),
        ({"run": "future", "tag": TAG}, 422),
    ],
)
def test_errors_have_statuses_and_json_bodies(server, params, status):
    got_status, headers, body = http_get(_url(server, "report", **params))
    assert got_status == status
    assert headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"error"}


def test_report_intervals_match_statsmodels(server, logdir):
    _, written = logdir
    payload = get_json(_url(server, "report", run="baseline", tag=TAG, step=57))
    cm = written["baseline"][57]
    for index in range(len(CLASS_NAMES)):
        expected = proportion_confint(int(cm[index, index]), int(cm[index].sum()), method="wilson")
        assert payload["per_class"]["recall_interval"][index] == pytest.approx(list(expected), rel=1e-12)
        expected = proportion_confint(int(cm[index, index]), int(cm[:, index].sum()), method="wilson")
        assert payload["per_class"]["precision_interval"][index] == pytest.approx(list(expected), rel=1e-12)


@pytest.mark.parametrize(("step", "baseline_step"), [(57, 57), (NUM_STEPS - 1, 3)])
def test_compare_matches_statsmodels(server, logdir, step, baseline_step):
    _, written = logdir
    payload = get_json(
        _url(server, "compare", run="class_weights", tag=TAG, step=step, baseline="baseline", baseline_step=baseline_step)
    )
    assert (payload["step"], payload["baseline_step"]) == (step, baseline_step)
    cm, baseline = written["class_weights"][step], written["baseline"][baseline_step]
    for score, axis in (("recall", 1), ("precision", 0)):
        for index in range(len(CLASS_NAMES)):
            k1, n1 = int(cm[index, index]), int(cm.sum(axis=axis)[index])
            k2, n2 = int(baseline[index, index]), int(baseline.sum(axis=axis)[index])
            expected = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
            interval = payload["per_class"][f"{score}_delta_interval"][index]
            assert interval == pytest.approx([float(bound) for bound in expected], rel=1e-12, abs=1e-13)
            assert payload["per_class"][f"{score}_delta"][index] == pytest.approx(k1 / n1 - k2 / n2, abs=1e-15)
            assert payload["per_class"][f"{score}_significant"][index] is bool(expected[0] > 0 or expected[1] < 0)
    latest = get_json(_url(server, "compare", run="class_weights", tag=TAG, baseline="baseline"))
    assert (latest["step"], latest["baseline_step"]) == (NUM_STEPS - 1, NUM_STEPS - 1)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"run": "class_weights", "tag": TAG, "baseline": "binary"}, 400),
        ({"run": "class_weights", "tag": TAG}, 400),
        ({"run": "class_weights", "tag": TAG, "baseline": "baseline", "step": "x"}, 400),
        ({"run": "nope", "tag": TAG, "baseline": "baseline"}, 404),
        ({"run": "class_weights", "tag": TAG, "baseline": "nope"}, 404),
        ({"run": "class_weights", "tag": TAG, "baseline": "baseline", "baseline_step": 100_000}, 404),
        ({"run": "future", "tag": TAG, "baseline": "baseline"}, 422),
    ],
)
def test_compare_errors_have_statuses_and_json_bodies(server, params, status):
    if params.get("baseline") == "binary":
        wait_for_json(_url(server, "report", run="binary", tag=TAG), lambda payload: payload["step"] == 1)
    got_status, headers, body = http_get(_url(server, "compare", **params))
    assert got_status == status, body
    assert headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"error"}


def test_corrupt_event_files_do_not_break_other_runs(server):
    truncated = get_json(_url(server, "report", run="truncated", tag=TAG))
    assert 0 < len(truncated["steps"]) < NUM_STEPS
    status, _, _ = http_get(_url(server, "report", run="garbage", tag=TAG))
    assert status == 404
    assert get_json(_url(server, "report", run="baseline", tag=TAG))["steps"] == list(range(NUM_STEPS))


def test_concurrent_clients_get_correct_reports(server, logdir):
    _, written = logdir
    clients, requests_per_client = 20, 50
    failures: list[str] = []
    completed = [0] * clients

    def client(index: int) -> None:
        run = ("baseline", "class_weights")[index % 2]
        for request in range(requests_per_client):
            step = (index * 7 + request * 13) % NUM_STEPS
            status, _, body = http_get(_url(server, "report", run=run, tag=TAG, step=step), timeout=60)
            if status != 200:
                failures.append(f"{run}@{step}: {status} {body[:200]!r}")
                return
            payload = json.loads(body)
            if payload["step"] != step or payload["confusion_matrix"] != written[run][step].tolist():
                failures.append(f"{run}@{step}: wrong payload")
                return
            completed[index] += 1

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "clients did not finish in time"
    assert not failures, failures[:5]
    assert sum(completed) == clients * requests_per_client


@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_explicit_samples_per_plugin_is_respected(tmp_path, load_fast):
    make_logdir(tmp_path, runs=("baseline",), num_steps=30, seed=2)
    with tensorboard_server(
        tmp_path, load_fast=load_fast, extra_args=("--samples_per_plugin", "imbalance=5")
    ) as base_url:
        payload = wait_for_json(
            _url(base_url, "report", run="baseline", tag=TAG),
            lambda payload: payload["step"] == 29,
            timeout=60,
        )
        assert len(payload["steps"]) == 5
        assert payload["steps"][-1] == 29
