"""The Imbalance dashboard's URL state, in a real headless Chromium against a real ``tensorboard``.

A link holds the whole selection and opening it anew shows the same view.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import urllib.parse

import numpy as np
import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import LATEST, PIVOT_TAG, RUNS, read_pivot, row_names, wait_ready

pytest.importorskip("playwright.sync_api")


def test_deep_link_without_tag_reproduces_the_pivot(dashboard, matrices):
    _, written = matrices
    runs = ["pivot_00", "pivot_01", "pivot_02"]
    page = dashboard.open(runs=runs, baseline="pivot_01", view="pivot", metric="precision")
    assert dashboard.testid("tag-select").input_value() == PIVOT_TAG  # the tag the linked runs have
    assert dashboard.testid("pivot-metric").input_value() == "precision"
    assert dashboard.testid("baseline-select").input_value() == "pivot_01"
    (group,) = read_pivot(page)
    assert group["runs"] == ["pivot_01", "pivot_00", "pivot_02"]
    cm = written["pivot_02"][1]
    precision = np.diag(cm) / np.where(cm.sum(axis=0) == 0, 1, cm.sum(axis=0))
    assert [row["cells"]["pivot_02"]["value"] for row in group["rows"]] == pytest.approx(list(precision), abs=1e-12)

    # The URL now holds the whole selection; changing it updates the URL,
    # and opening that URL anew shows the same view.
    dashboard.testid("pivot-metric").select_option("f1")
    wait_ready(page)
    dashboard.testid("pivot-step-slider").fill("0")
    wait_ready(page)
    link = page.url
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert query["tag"] == PIVOT_TAG and query["runs"] == ",".join(runs)
    assert (query["view"], query["metric"], query["baseline"], query["step"]) == ("pivot", "f1", "pivot_01", "0")
    expected = read_pivot(page)
    other = page.context.new_page()
    other.goto(link)
    wait_ready(other)
    assert read_pivot(other) == expected
    assert other.get_by_test_id("pivot-step-label").text_content() == "0"
    other.close()

    # Side by side is the default view and stays out of the URL.
    dashboard.testid("view-table").click()
    wait_ready(page)
    assert "view=" not in page.url
    heads = dashboard.testid("report-run-head")
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == runs
    assert page.locator("[data-testid=report-run-head].is-baseline").get_attribute("data-run") == "pivot_01"
    dashboard.problems.assert_none()


def test_a_link_keeps_the_support_mark_and_the_matrix_run_and_values(dashboard, matrices):
    runs = ["pivot_00", "pivot_01"]
    page = dashboard.open(runs=runs)
    dashboard.testid("support-threshold").fill("100")
    wait_ready(page)
    dashboard.testid("matrix-run").select_option("pivot_01")
    wait_ready(page)
    dashboard.testid("matrix-normalize").select_option("pred")
    wait_ready(page)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
    assert (query["min_support"], query["matrix_run"], query["normalize"]) == ("100", "pivot_01", "pred")
    other = page.context.new_page()
    other.goto(page.url)
    wait_ready(other)
    assert other.get_by_test_id("support-threshold").input_value() == "100"
    assert other.get_by_test_id("matrix-run").input_value() == "pivot_01"
    assert other.get_by_test_id("matrix-normalize").input_value() == "pred"
    other.close()
    dashboard.testid("support-threshold").fill("30")  # the defaults leave the URL
    wait_ready(page)
    dashboard.testid("matrix-normalize").select_option("none")
    wait_ready(page)
    assert "min_support=" not in page.url and "normalize=" not in page.url
    dashboard.problems.assert_none()


def test_a_link_keeps_each_views_step_the_table_sort_and_filter_and_the_views_settings(dashboard):
    page = dashboard.open(runs=list(RUNS))
    dashboard.testid("table-step-slider").fill("0")  # the table only: the matrix and the imbalance card stay at the latest
    wait_ready(page)
    page.locator("[data-testid=report-header-cell][data-run=class_weights][data-field=f1]").get_by_role("button", name="F1").click()
    wait_ready(page)
    dashboard.testid("class-filter").fill("o")
    wait_ready(page)
    controls = {"matrix-colour": "log", "imbalance-scale": "log", "imbalance-order": "ratio", "trends-metric": "f1"}
    for testid, value in controls.items():
        dashboard.testid(testid).select_option(value)
        wait_ready(page)

    def seen(view):
        return {
            "rows": row_names(view),
            "sort": view.locator("th[aria-sort]").evaluate_all(
                "heads => heads.map(h => [h.dataset.run, h.dataset.field, h.getAttribute('aria-sort')])"),
            "filter": view.get_by_test_id("class-filter").input_value(),
            "steps": [view.get_by_test_id(f"{name}-step-label").text_content() for name in ("table", "matrix", "imbalance")],
            **{testid: view.get_by_test_id(testid).input_value() for testid in controls},
        }

    before = seen(page)
    assert before["steps"][0] != before["steps"][1] and before["steps"][1].endswith(str(LATEST))
    other = page.context.new_page()
    other.goto(page.url)
    wait_ready(other)
    assert seen(other) == before
    other.close()
    dashboard.problems.assert_none()


def test_a_link_to_runs_not_in_the_log_directory_says_so_and_shows_the_first_runs(dashboard):
    page = dashboard.open(runs=["gone", "also_gone"])
    note = dashboard.testid("link-note")
    assert note.is_visible()
    assert note.text_content() == (
        "The link names runs not in this log directory yet (gone, also_gone); showing the first runs until one appears."
    )
    assert page.locator("[data-testid=report-run-head]").count() > 0  # not a bare "No run selected"
    dashboard.problems.assert_none()


def test_a_link_to_some_runs_not_in_the_log_directory_names_them_and_shows_the_others(dashboard, matrices):
    page = dashboard.open(runs=["pivot_00", "gone", "pivot_01", "gone"], baseline="pivot_01")
    assert dashboard.testid("link-note").is_hidden()
    assert page.locator("[data-testid=report] .section-message").text_content() == (
        "Waiting for gone: the link names it, not in the log directory yet; selected when it appears "
        "(choosing runs in the list forgets it)"
    )
    heads = dashboard.testid("report-run-head")
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == ["pivot_00", "pivot_01"]
    assert page.locator("[data-testid=report-run-head].is-baseline").get_attribute("data-run") == "pivot_01"
    assert urllib.parse.parse_qs(page.evaluate("location.search"))["runs"] == ["pivot_00,gone,pivot_01"]
    dashboard.problems.assert_none()


def test_a_link_opened_while_tensorboard_still_loads_its_runs_selects_each_when_it_appears(dashboard):
    """TensorBoard lists a log directory's runs as it loads them: the first answer lacked a run the
    link names, which the page dropped from the selection and the URL, and did not select when it appeared."""
    page = dashboard.page
    loading = {"lacks": "class_weights"}

    def runs_so_far(route):
        listed = route.fetch().json()
        listed.pop(loading["lacks"], None)
        route.fulfill(json=listed)

    page.route("**/data/plugin/imbalance/runs*", runs_so_far)
    dashboard.open(runs=list(RUNS), baseline="class_weights", poll=1)
    heads = dashboard.testid("report-run-head")
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == ["baseline"]
    message = page.locator("[data-testid=report] .section-message")
    assert message.text_content() == (
        "Waiting for class_weights: the link names it, not in the log directory yet; selected, as baseline, "
        "when it appears (choosing runs in the list forgets it)"
    )
    query = urllib.parse.parse_qs(page.evaluate("location.search"))
    assert query["runs"] == ["baseline,class_weights"] and query["baseline"][0] == "class_weights"

    loading["lacks"] = None  # the log directory is loaded
    page.wait_for_function("document.querySelectorAll('[data-testid=report-run-head]').length === 2", timeout=15_000)
    wait_ready(page)
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == list(RUNS)
    assert page.locator("[data-testid=report-run-head].is-baseline").get_attribute("data-run") == "class_weights"
    assert message.is_hidden()
    query = urllib.parse.parse_qs(page.evaluate("location.search"))
    assert query["runs"] == ["baseline,class_weights"] and query["baseline"] == ["class_weights"]

    # A run that never appears does not hold the page: the link's other runs show, and keep waiting.
    loading["lacks"] = "class_weights"
    dashboard.open(runs=list(RUNS), poll=1)
    page.wait_for_timeout(2500)  # checks that still lack it
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == ["baseline"]
    assert message.text_content().startswith("Waiting for class_weights: ")
    assert urllib.parse.parse_qs(page.evaluate("location.search"))["runs"] == ["baseline,class_weights"]
    dashboard.problems.assert_none()
