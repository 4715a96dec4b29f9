"""The Imbalance dashboard's long-tail view and class groups, in a real headless Chromium against a real ``tensorboard``.

Many-, medium- and few-shot recall against the report route, thresholds in the
request and the URL, recall against training count, class groups rolled up and
back.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import numpy as np
import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import (
    HOSTILE_GROUP_NAME,
    LONG_TAIL_COUNTS,
    LONG_TAIL_NAMES,
    LONG_TAIL_TAG,
    fetch_json,
    matrix_values,
    read_table,
    row_names,
    wait_ready,
)

pytest.importorskip("playwright.sync_api")


BUCKET_ROWS = {"many-shot recall": "many_shot_recall", "medium-shot recall": "medium_shot_recall", "few-shot recall": "few_shot_recall"}


def long_tail_buckets(page: Any) -> dict[str, dict[str, Any]]:
    """The long-tail rows of the report table: ``{metric: {value, text, title}}``."""
    table = read_table(page)
    found = {}
    for label, metric in BUCKET_ROWS.items():
        cell = table[label]["long_tail"]["f1"]
        found[metric] = cell
    return found


def assert_buckets_match(buckets: dict[str, dict[str, Any]], route: dict[str, Any]) -> None:
    for metric, cell in buckets.items():
        expected = route["metrics"][metric]
        if expected is None:
            assert cell["text"] == "—"
            assert "bucket" in cell["title"]
        else:
            assert cell["value"] == pytest.approx(expected, abs=1e-12)


def set_threshold(page: Any, which: str, value: int) -> None:
    box = page.get_by_test_id(f"threshold-{which}")
    box.fill(str(value))
    box.dispatch_event("change")
    wait_ready(page)


def test_long_tail_buckets_match_the_route_and_thresholds_change_the_request(dashboard):
    page = dashboard.open(runs=["long_tail"], tag=LONG_TAIL_TAG)
    route = fetch_json(page, "report", run="long_tail", tag=LONG_TAIL_TAG)
    assert all(route["metrics"][metric] is not None for metric in BUCKET_ROWS.values())
    assert_buckets_match(long_tail_buckets(page), route)
    assert dashboard.testid("threshold-many").input_value() == "100"
    assert dashboard.testid("threshold-few").input_value() == "20"

    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/report?" in request.url else None)
    set_threshold(page, "few", 5)
    set_threshold(page, "many", 50)
    asked = [urllib.parse.parse_qs(urllib.parse.urlsplit(url).query) for url in requests]
    assert any(query.get("many") == ["50"] and query.get("few") == ["5"] for query in asked), requests
    changed = fetch_json(page, "report", run="long_tail", tag=LONG_TAIL_TAG, many=50, few=5)
    assert changed["metrics"]["few_shot_recall"] is None  # no class has fewer than 5 training examples
    assert changed["metrics"] != route["metrics"]
    buckets = long_tail_buckets(page)
    assert_buckets_match(buckets, changed)
    assert buckets["few_shot_recall"]["text"] == "—"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["many"] == ["50"] and query["few"] == ["5"]

    # An invalid pair is refused in place and requests nothing.
    requests.clear()
    box = dashboard.testid("threshold-few")
    box.fill("80")
    box.dispatch_event("change")
    assert box.get_attribute("aria-invalid") == "true"
    page.wait_for_timeout(200)
    assert requests == []

    # The URL reproduces the thresholds.
    page.goto(page.url)
    wait_ready(page)
    assert dashboard.testid("threshold-many").input_value() == "50"
    assert_buckets_match(long_tail_buckets(page), changed)
    dashboard.problems.assert_none()


def test_runs_without_counts_show_no_long_tail_controls(dashboard):
    page = dashboard.open()
    assert not dashboard.testid("long-tail-thresholds").is_visible()
    assert not dashboard.testid("group-switch").is_visible()
    assert not dashboard.testid("recall-vs-count").is_visible()
    assert "many-shot recall" not in read_table(page)
    dashboard.problems.assert_none()


def test_recall_vs_training_count_plot_has_one_point_per_class(dashboard):
    page = dashboard.open(runs=["long_tail"], tag=LONG_TAIL_TAG)
    route = fetch_json(page, "report", run="long_tail", tag=LONG_TAIL_TAG)
    points = dashboard.testid("class-point").evaluate_all(
        """points => points.map(p => ({name: p.dataset.class, count: Number(p.dataset.count),
            recall: Number(p.dataset.recall), bucket: p.dataset.bucket, x: Number(p.getAttribute("cx")),
            title: p.querySelector("title").textContent}))"""
    )
    assert [point["name"] for point in points] == LONG_TAIL_NAMES
    assert [point["count"] for point in points] == LONG_TAIL_COUNTS
    assert [point["recall"] for point in points] == pytest.approx(route["per_class"]["recall"])
    assert [point["bucket"] for point in points] == ["many", "many", "medium", "medium", "few"]
    # Log x axis: larger counts further right, equal ratios equal distances.
    xs = [point["x"] for point in points]
    assert xs == sorted(xs, reverse=True)
    assert all(point["title"].startswith("\u2068" + point["name"] + "\u2069:") for point in points)  # names isolated
    lines = {key: float(dashboard.testid(f"threshold-line-{key}").get_attribute("data-value")) for key in ("few", "many")}
    assert lines == {"few": 20, "many": 100}
    x_few = float(dashboard.testid("threshold-line-few").get_attribute("x1"))
    x_many = float(dashboard.testid("threshold-line-many").get_attribute("x1"))
    assert xs[4] < x_few < xs[3] < xs[2] < x_many < xs[1]
    assert page.locator("img").count() == 0

    set_threshold(page, "many", 50)
    assert dashboard.testid("threshold-line-many").get_attribute("data-value") == "50"
    assert dashboard.testid("class-point").evaluate_all("points => points.map(p => p.dataset.bucket)")[2] == "many"
    page.wait_for_timeout(300)
    dashboard.problems.assert_none()


def test_groups_toggle_rolls_the_matrix_and_report_up_and_back(dashboard):
    page = dashboard.open(runs=["long_tail"], tag=LONG_TAIL_TAG)
    assert row_names(page) == LONG_TAIL_NAMES
    classes_matrix = matrix_values(page)
    dashboard.testid("show-groups").click()
    wait_ready(page)
    grouped = fetch_json(page, "report", run="long_tail", tag=LONG_TAIL_TAG, group=1)
    assert grouped["class_names"] == ["pets", HOSTILE_GROUP_NAME, "bat"]
    assert row_names(page) == grouped["class_names"]
    np.testing.assert_array_equal(matrix_values(page), np.array(grouped["confusion_matrix"]))
    table = read_table(page)
    for index, name in enumerate(grouped["class_names"]):
        assert table[name]["long_tail"]["recall"]["value"] == pytest.approx(grouped["per_class"]["recall"][index])
    assert_buckets_match(long_tail_buckets(page), grouped)
    labels = page.locator(".matrix-grid .row-label").evaluate_all("labels => labels.map(l => l.textContent)")
    assert labels == grouped["class_names"]
    assert page.locator("[data-testid=report-row] th").nth(1).text_content() == HOSTILE_GROUP_NAME
    assert page.locator("svg[onload], img").count() == 0
    assert dashboard.testid("show-groups").get_attribute("aria-pressed") == "true"
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["group"] == ["1"]
    # The imbalance plot stays per class.
    assert dashboard.testid("class-point").count() == len(LONG_TAIL_NAMES)

    dashboard.testid("show-classes").click()
    wait_ready(page)
    assert row_names(page) == LONG_TAIL_NAMES
    np.testing.assert_array_equal(matrix_values(page), classes_matrix)
    assert "group" not in urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    page.wait_for_timeout(300)
    assert dashboard.problems.dialogs == []
    dashboard.problems.assert_none()
