"""Confidence intervals in ``report`` and the ``compare`` route, through TensorBoard's WSGI app.

Seeded random confusion matrices (some classes without support, some never
predicted) are logged with :class:`tb_imbalance.ReportWriter`, read back by an
``EventMultiplexer`` + ``MultiplexerDataProvider`` (as ``--load_fast=false``
does), and every interval is compared with statsmodels:
``proportion_confint(method="wilson")`` for ``report`` and
``confint_proportions_2indep(method="newcomb", compare="diff")`` for ``compare``.
"""

from __future__ import annotations

import json
import pathlib
import warnings
from typing import Any

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from werkzeug import test as werkzeug_test

import tb_imbalance
from support import PLUGIN_ROUTE, plugin_client, write_newer_format_run

TAG = "confusion_matrix"
NAMES = ["majority", "common", "rare", "rarer", "absent", "<b>x</b>"]
STEPS = (0, 1, 2)
COMPARE_KEYS = {
    "run", "tag", "step", "baseline", "baseline_step", "class_names", "num_classes", "weighted",
    "confidence", "per_class",
}
COMPARE_FIELDS = {
    f"{score}_{field}" for score in ("recall", "precision") for field in ("delta", "delta_interval", "significant")
} | {"average_precision", "baseline_average_precision", "average_precision_difference"}


def _random_matrix(rng: np.random.Generator, num_classes: int) -> np.ndarray:
    """Imbalanced counts; class 4 ("absent") has no support, another class is never predicted."""
    priors = 0.5 ** np.arange(num_classes)
    support = rng.multinomial(int(rng.integers(60, 300)), priors / priors.sum())
    support[4] = 0
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true_class, count in enumerate(support):
        hit = rng.uniform(0.3, 0.95)
        weights = np.full(num_classes, (1 - hit) / (num_classes - 1))
        weights[true_class] = hit
        cm[true_class] = rng.multinomial(count, weights)
    cm[:, int(rng.choice([1, 2, 3, 5]))] = 0
    return cm


def _write(logdir: pathlib.Path, run: str, matrices: dict[int, np.ndarray], names: list[str]) -> None:
    with tb_imbalance.ReportWriter(logdir / run) as writer:
        for step, cm in matrices.items():
            writer.write_matrix(step, TAG, cm, names, image=False, per_class_scalars=False)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> tuple[pathlib.Path, dict[str, dict[int, np.ndarray]]]:
    root = tmp_path_factory.mktemp("compare_logdir")
    rng = np.random.default_rng(42)
    written = {run: {step: _random_matrix(rng, len(NAMES)) for step in STEPS} for run in ("a", "b")}
    for run, matrices in written.items():
        _write(root, run, matrices, NAMES)
    _write(root, "renamed", {0: _random_matrix(rng, len(NAMES))}, [*NAMES[:-1], "other"])
    _write(root, "fewer", {0: np.array([[5, 1], [2, 7]])}, ["x", "y"])
    weighted = _random_matrix(rng, len(NAMES)).astype(np.float64) * 0.75
    written["weighted"] = {0: weighted}
    _write(root, "weighted", written["weighted"], NAMES)
    write_newer_format_run(root, "future", tag=TAG)
    return root, written


@pytest.fixture(scope="module")
def client(logdir) -> werkzeug_test.Client:
    root, _ = logdir
    return plugin_client(root)


def _get(client, route: str, status: int = 200, **params) -> Any:
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.get_data())


def _wilson(k: int, n: int) -> list[float] | None:
    return None if n == 0 else list(proportion_confint(int(k), int(n), method="wilson"))


def _newcombe(k1: int, n1: int, k2: int, n2: int) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(int(k1), int(n1), int(k2), int(n2), method="newcomb", compare="diff")
    return [float(low), float(high)]


def _assert_pairs_close(actual: list, expected: list) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        if want is None:
            assert got is None
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-13)


# --------------------------------------------------------------------------
# report: Wilson intervals
# --------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["a", "b"])
@pytest.mark.parametrize("step", STEPS)
def test_report_intervals_equal_statsmodels_wilson(client, logdir, run, step):
    _, written = logdir
    cm = written[run][step]
    payload = _get(client, "report", run=run, tag=TAG, step=step)
    per_class = payload["per_class"]
    tp, support, predicted = np.diagonal(cm), cm.sum(axis=1), cm.sum(axis=0)
    assert (support == 0).any() and (predicted == 0).any()
    _assert_pairs_close(per_class["recall_interval"], [_wilson(k, n) for k, n in zip(tp, support)])
    _assert_pairs_close(per_class["precision_interval"], [_wilson(k, n) for k, n in zip(tp, predicted)])
    assert per_class["recall_interval"][4] is None
    for value, interval in zip(per_class["recall"], per_class["recall_interval"]):
        if interval is not None:
            assert interval[0] <= value <= interval[1]


def test_report_of_weighted_counts_has_no_intervals(client):
    payload = _get(client, "report", run="weighted", tag=TAG)
    assert payload["weighted"] is True
    assert payload["per_class"]["recall_interval"] == [None] * len(NAMES)
    assert payload["per_class"]["precision_interval"] == [None] * len(NAMES)


# --------------------------------------------------------------------------
# compare: Newcombe intervals and significance
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("step", "baseline_step"), [(2, 2), (0, 2), (1, 0)])
def test_compare_equals_statsmodels_newcombe(client, logdir, step, baseline_step):
    _, written = logdir
    cm, baseline = written["a"][step], written["b"][baseline_step]
    payload = _get(client, "compare", run="a", tag=TAG, step=step, baseline="b", baseline_step=baseline_step)
    assert set(payload) == COMPARE_KEYS and set(payload["per_class"]) == COMPARE_FIELDS
    assert (payload["run"], payload["step"], payload["baseline"], payload["baseline_step"]) == ("a", step, "b", baseline_step)
    assert payload["class_names"] == NAMES and payload["num_classes"] == len(NAMES)
    assert payload["weighted"] is False and payload["confidence"] == 0.95
    per_class = payload["per_class"]
    nulls = 0
    for score, axis in (("recall", 1), ("precision", 0)):
        k1, n1 = np.diagonal(cm), cm.sum(axis=axis)
        k2, n2 = np.diagonal(baseline), baseline.sum(axis=axis)
        for index in range(len(NAMES)):
            delta = per_class[f"{score}_delta"][index]
            interval = per_class[f"{score}_delta_interval"][index]
            significant = per_class[f"{score}_significant"][index]
            if n1[index] == 0 or n2[index] == 0:
                assert delta is None and interval is None and significant is None, (score, index)
                nulls += 1
                continue
            assert delta == pytest.approx(k1[index] / n1[index] - k2[index] / n2[index], abs=1e-15)
            expected = _newcombe(k1[index], n1[index], k2[index], n2[index])
            assert interval == pytest.approx(expected, rel=1e-12, abs=1e-13), (score, index)
            assert significant is (expected[0] > 0 or expected[1] < 0)
    assert nulls >= 2  # "absent" for recall, never-predicted classes for precision


def test_compare_finds_significant_and_non_significant_differences(client):
    significant = []
    for step in STEPS:
        per_class = _get(client, "compare", run="a", tag=TAG, step=step, baseline="b")["per_class"]
        significant += [flag for flag in per_class["recall_significant"] + per_class["precision_significant"] if flag is not None]
    assert True in significant and False in significant


def test_compare_defaults_to_the_latest_steps_and_can_compare_two_steps_of_one_run(client):
    latest = _get(client, "compare", run="a", tag=TAG, baseline="b")
    assert (latest["step"], latest["baseline_step"]) == (STEPS[-1], STEPS[-1])
    explicit = _get(client, "compare", run="a", tag=TAG, step=STEPS[-1], baseline="b", baseline_step=STEPS[-1])
    assert latest == explicit
    itself = _get(client, "compare", run="a", tag=TAG, baseline="a", baseline_step=0)
    assert (itself["step"], itself["baseline_step"]) == (STEPS[-1], 0)
    same = _get(client, "compare", run="a", tag=TAG, baseline="a")
    assert all(delta in (0.0, None) for delta in same["per_class"]["recall_delta"])
    assert not any(same["per_class"]["recall_significant"])


def test_compare_with_weighted_counts_gives_deltas_without_intervals(client, logdir):
    _, written = logdir
    payload = _get(client, "compare", run="weighted", tag=TAG, baseline="a", baseline_step=0)
    assert payload["weighted"] is True
    per_class = payload["per_class"]
    cm, baseline = written["weighted"][0], written["a"][0]
    for index in range(len(NAMES)):
        n1, n2 = cm[index].sum(), baseline[index].sum()
        if n1 and n2:
            assert per_class["recall_delta"][index] == pytest.approx(cm[index, index] / n1 - baseline[index, index] / n2)
        else:
            assert per_class["recall_delta"][index] is None
    for score in ("recall", "precision"):
        assert per_class[f"{score}_delta_interval"] == [None] * len(NAMES)
        assert per_class[f"{score}_significant"] == [None] * len(NAMES)


# --------------------------------------------------------------------------
# compare: errors (never a 500)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "fragments"),
    [
        ({"run": "renamed", "baseline": "a"}, 400, ["different classes", "class 5", "'other'", "'<b>x</b>'"]),
        ({"run": "a", "baseline": "fewer"}, 400, ["different classes", "'a' has 6", "'fewer' has 2"]),
        ({"baseline": "a"}, 400, ["`run`"]),
        ({"run": "a"}, 400, ["`baseline`"]),
        ({"run": "a", "baseline": "b", "tag": None}, 400, ["`tag`"]),
        ({"run": "a", "baseline": "b", "step": "x"}, 400, ["`step`"]),
        ({"run": "a", "baseline": "b", "baseline_step": "1.0"}, 400, ["`baseline_step`"]),
        ({"run": "nope", "baseline": "b"}, 404, ["'nope'"]),
        ({"run": "a", "baseline": "nope"}, 404, ["'nope'"]),
        ({"run": "a", "baseline": "b", "tag": "nope"}, 404, ["'nope'"]),
        ({"run": "a", "baseline": "b", "step": 9}, 404, ["run 'a'", "step 9"]),
        ({"run": "a", "baseline": "b", "baseline_step": -3}, 404, ["run 'b'", "step -3"]),
        ({"run": "future", "baseline": "a"}, 422, ["newer"]),
        ({"run": "a", "baseline": "future"}, 422, ["newer"]),
    ],
)
def test_compare_errors_are_json_with_clear_messages(client, params, status, fragments):
    query = {"tag": TAG, **params}
    query = {key: value for key, value in query.items() if value is not None}
    message = _get(client, "compare", status, **query)["error"]
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    "query",
    [
        "run=&tag=&baseline=",
        "run=a&tag=confusion_matrix&baseline=b&step=",
        "run=a&tag=confusion_matrix&baseline=b&step=99999999999999999999999",
        "run=a&tag=confusion_matrix&baseline=b&baseline_step=%00",
        "run=%F0%9F%98%80&tag=confusion_matrix&baseline=b",
        "run=a&tag=confusion_matrix&baseline=b&baseline=a",
        "run=a&tag=confusion_matrix&baseline=b&step=1e3",
    ],
)
def test_odd_compare_parameters_never_answer_500(client, query):
    response = client.get(f"{PLUGIN_ROUTE}/compare?{query}")
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
