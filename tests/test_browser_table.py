"""The Imbalance dashboard's classification-report table, in a real headless Chromium against a real ``tensorboard``.

One run's numbers against scikit-learn at the latest and a chosen step, their
intervals, the support threshold, the class filter, sorting, the run picker, a
hostile class name as text.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import CLASS_NAMES, LATEST, RUNS, assert_table_matches, read_table, row_names, wait_ready
from support import HOSTILE_CLASS_NAME

pytest.importorskip("playwright.sync_api")


def test_table_shows_sklearn_report_at_latest_step(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    assert dashboard.testid("table-step-label").text_content() == str(LATEST)
    assert_table_matches(read_table(page), "baseline", written["baseline"][LATEST])
    dashboard.problems.assert_none()


def test_step_slider_switches_to_that_steps_numbers(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    dashboard.testid("table-step-slider").fill("2")
    wait_ready(page)
    assert dashboard.testid("table-step-label").text_content() == "2"
    assert_table_matches(read_table(page), "baseline", written["baseline"][2])
    dashboard.problems.assert_none()


def test_recall_and_precision_show_their_intervals(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    table = read_table(page)
    cm = written["baseline"][LATEST]
    for index, name in enumerate(CLASS_NAMES):
        for field, total in (("recall", cm[index].sum()), ("precision", cm[:, index].sum())):
            cell = table[name]["baseline"][field]
            expected = proportion_confint(int(cm[index, index]), int(total), method="wilson")
            assert cell["interval"] == pytest.approx(list(expected), rel=1e-12)
            assert f"95% interval {expected[0]:.4f}–{expected[1]:.4f} (Wilson, {int(total):,}" in cell["title"]
        assert table[name]["baseline"]["f1"]["interval"] is None
    bars = page.locator("[data-testid=report-row] [data-testid=interval-bar]")
    assert bars.count() == 2 * len(CLASS_NAMES)
    height = bars.first.evaluate("bar => bar.getBoundingClientRect().height")
    assert 0 < height <= 4  # a thin bar, not a chart
    dashboard.problems.assert_none()


def test_support_threshold_control_marks_classes_with_few_examples(dashboard, matrices):
    _, written = matrices
    page = dashboard.open()
    threshold = dashboard.testid("support-threshold")
    assert threshold.input_value() == "30"
    support = {run: written[run][LATEST].sum(axis=1) for run in RUNS}

    def marked() -> dict:
        table = read_table(page)
        return {
            name: [run for run in RUNS if table[name][run]["support"]["low_support"]] for name in CLASS_NAMES
        }

    def expected(limit: int) -> dict:
        return {name: [run for run in RUNS if support[run][index] < limit] for index, name in enumerate(CLASS_NAMES)}

    assert marked() == expected(30)
    assert any(marked().values())
    low_rows = dashboard.testid("report-row").evaluate_all("rows => rows.filter(r => r.dataset.lowSupport).map(r => r.dataset.class)")
    assert low_rows == [name for name, runs in expected(30).items() if runs]
    reads = page.evaluate("performance.getEntriesByType('resource').length")
    threshold.fill("120")
    wait_ready(page)
    assert marked() == expected(120) != expected(30)
    cell = read_table(page)["dog"]["baseline"]["support"]
    assert cell["low_support"] and cell["title"].startswith(f"Only {int(support['baseline'][1])} examples (below 120)")
    threshold.fill("0")
    wait_ready(page)
    assert not any(marked().values())
    assert page.evaluate("performance.getEntriesByType('resource').length") == reads  # nothing reloaded
    # An empty or negative entry is not applied, shows as invalid, and gives way to the mark in force.
    for entry in ("-3", ""):
        threshold.fill(entry)
        assert threshold.evaluate("input => input.matches(':invalid')")
        threshold.press("Tab")
        assert threshold.input_value() == "0"
        assert not any(marked().values())
    dashboard.problems.assert_none()


def test_typing_in_the_class_filter_redraws_only_the_table_rows(dashboard):
    page = dashboard.open()
    page.evaluate(
        """() => {
            window.__marks = {
                chart: document.querySelector('[data-testid=trends-chart]'),
                matrix: document.querySelector('[data-testid=matrix-cell]'),
                summary: document.querySelector('[data-testid=summary-row]'),
                reads: performance.getEntriesByType('resource').length,
                status: document.querySelector('[data-testid=page-status]').textContent,
            };
        }"""
    )
    filter_input = dashboard.testid("class-filter")
    filter_input.press_sequentially("do", delay=30)
    wait_ready(page)  # "loading" from the first keystroke until the typing pauses
    assert row_names(page) == ["dog"]
    assert filter_input.input_value() == "do"
    unchanged = page.evaluate(
        """() => ({
            chart: document.querySelector('[data-testid=trends-chart]') === window.__marks.chart,
            matrix: document.querySelector('[data-testid=matrix-cell]') === window.__marks.matrix,
            summary: document.querySelector('[data-testid=summary-row]') === window.__marks.summary,
            reads: performance.getEntriesByType('resource').length === window.__marks.reads,
            status: document.querySelector('[data-testid=page-status]').textContent === window.__marks.status,
        })"""
    )
    assert unchanged == {"chart": True, "matrix": True, "summary": True, "reads": True, "status": True}
    dashboard.problems.assert_none()


def test_run_picker_checkboxes_and_filter(dashboard):
    page = dashboard.open()
    boxes = dashboard.testid("run-checkbox")
    assert boxes.evaluate_all("boxes => boxes.map(b => [b.dataset.run, b.checked])") == [
        ["baseline", True],
        ["class_weights", True],
    ]
    dashboard.testid("run-filter").fill("weights")
    assert boxes.count() == 1
    boxes.first.uncheck()
    wait_ready(page)
    heads = dashboard.testid("report-run-head")
    assert heads.evaluate_all("heads => heads.map(h => h.dataset.run)") == ["baseline"]
    dashboard.testid("run-filter").fill("")
    dashboard.testid("runs-all").click()
    wait_ready(page)
    assert heads.count() == len(RUNS)
    dashboard.problems.assert_none()


def test_sorting_by_column_orders_rows(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    support = written["baseline"][LATEST].sum(axis=1)
    header = page.locator('[data-testid=report-header-cell][data-run=baseline][data-field=support]')
    header.get_by_role("button", name="Support").click()
    wait_ready(page)
    assert header.get_attribute("aria-sort") == "descending"
    by_support = [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (-support[i], i))]
    assert row_names(page) == by_support
    header.get_by_role("button", name="Support").click()
    wait_ready(page)
    assert header.get_attribute("aria-sort") == "ascending"
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (support[i], i))]
    page.locator('[data-testid=report-header-cell][data-field=name]').get_by_role("button", name="Class").click()
    wait_ready(page)
    assert row_names(page) == sorted(CLASS_NAMES)
    dashboard.problems.assert_none()


def test_sortable_headers_are_buttons_and_only_the_sorted_column_says_how(dashboard, matrices):
    """WAI-ARIA's sortable table: a button in each sortable header cell, ``aria-sort`` on the sorted one only."""
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    head = dashboard.testid("report-table").locator("thead")
    cells = head.locator("th[data-sort-column]")
    assert cells.count() == 5  # the class and the baseline's four fields
    # Each one holds a button named by the header's text (the class head also the class order's "#");
    # the cell itself is no tab stop: its button is.
    shape = cells.evaluate_all(
        "cells => cells.map(c => [c.tabIndex, [...c.querySelectorAll('button')].map(b => b.textContent)])")
    assert shape == [[-1, ["Class", "#"]], *([-1, [label]] for label in ("Precision", "Recall", "F1", "Support"))]
    for label in ("Class", "Precision", "Recall", "F1", "Support"):
        assert head.get_by_role("columnheader", name=label).get_by_role("button", name=label, exact=True).count() == 1
    assert head.locator("th[aria-sort]").count() == 0  # class order: no column is sorted

    support = cells.and_(page.locator("[data-field=support]"))
    support.get_by_role("button").focus()
    page.keyboard.press("Enter")
    wait_ready(page)
    sorted_cells = head.locator("th[aria-sort]").evaluate_all("cells => cells.map(c => [c.dataset.field, c.getAttribute('aria-sort')])")
    assert sorted_cells == [["support", "descending"]]
    counts = written["baseline"][LATEST].sum(axis=1)
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (-counts[i], i))]
    # The redrawn header keeps the focus on the same button, and Space sorts the other way.
    focused = "() => [document.activeElement.tagName, document.activeElement.closest('th')?.dataset.field]"
    assert page.evaluate(focused) == ["BUTTON", "support"]
    page.keyboard.press(" ")
    wait_ready(page)
    assert head.locator("th[aria-sort]").evaluate_all("cells => cells.map(c => [c.dataset.field, c.getAttribute('aria-sort')])") == [
        ["support", "ascending"]]
    assert page.evaluate(focused) == ["BUTTON", "support"]
    page.keyboard.press("Shift+Tab")  # back to F1's button, which sorts by F1
    page.keyboard.press("Enter")
    wait_ready(page)
    assert head.locator("th[aria-sort]").evaluate_all("cells => cells.map(c => c.dataset.field)") == ["f1"]
    dashboard.problems.assert_none()


def test_class_filter_hides_rows(dashboard):
    page = dashboard.open(runs=["baseline"])
    dashboard.testid("class-filter").fill("o")
    wait_ready(page)
    assert row_names(page) == ["dog", HOSTILE_CLASS_NAME]
    assert dashboard.testid("class-count").text_content() == "2 of 4 classes"
    dashboard.testid("class-filter").fill("")
    wait_ready(page)
    assert row_names(page) == CLASS_NAMES
    dashboard.problems.assert_none()


def test_hostile_class_name_is_text_and_runs_nothing(dashboard):
    page = dashboard.open()
    assert HOSTILE_CLASS_NAME in row_names(page)
    label = page.locator('[data-testid=report-row] th').nth(2)
    assert label.text_content() == HOSTILE_CLASS_NAME
    titles = page.locator("[data-testid=trends-chart] .chart-title").evaluate_all("titles => titles.map(t => t.textContent)")
    assert titles.count(HOSTILE_CLASS_NAME) == 1  # its start and end in two spans (cut at its start), as text
    assert page.locator('.matrix-grid .row-label').nth(2).text_content() == HOSTILE_CLASS_NAME
    assert page.locator("img").count() == 0
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dashboard.problems.dialogs == []
    dashboard.problems.assert_none()


def test_a_screen_reader_hears_what_each_mark_means(dashboard):
    page = dashboard.open(min_support=200)
    cells = page.locator("[data-testid=report-row] [data-testid=report-cell]")
    spoken = {"better": "(significant, better)", "worse": "(significant, worse)", "ns": "(not significant)", "untested": "(not tested)"}
    heard = cells.evaluate_all(
        """cells => cells.map(cell => [cell.querySelector('.delta')?.classList[1] ?? null,
            cell.dataset.lowSupport === 'true', cell.dataset.field])"""
    )
    directions = {direction for direction, _, _ in heard}
    assert {"untested"} < directions  # F1 is never tested; recall or precision are
    for index, (direction, low, field) in enumerate(heard):
        snapshot = cells.nth(index).aria_snapshot()
        if direction in spoken:
            assert spoken[direction] in snapshot, snapshot
        if direction == "ns":
            assert "n.s." not in snapshot, snapshot  # read once, in words
        if field == "support":
            assert ("(fewer than 200 examples)" in snapshot) == low, snapshot
    assert any(low for _, low, _ in heard)
    # The words are for a screen reader: nothing more on screen.
    sizes = page.locator("[data-testid=report-row] .visually-hidden").evaluate_all(
        "spans => spans.map(span => span.getBoundingClientRect().width * span.getBoundingClientRect().height)"
    )
    assert sizes and max(sizes) <= 1
    dashboard.problems.assert_none()


def test_the_table_is_named_and_its_headers_say_what_they_head(dashboard):
    page = dashboard.open()
    table = page.get_by_role("table", name="Classification report")
    assert table.count() == 1 and table.is_visible()
    caption = dashboard.testid("report-table").locator("caption")
    assert caption.evaluate("c => c.getBoundingClientRect().width * c.getBoundingClientRect().height") <= 1  # the card's heading says it on screen
    heads = dashboard.testid("report-table").locator("thead th").evaluate_all("cells => cells.map(c => c.getAttribute('scope'))")
    assert set(heads) == {"col", "colgroup"}
    assert dashboard.testid("report-row").first.locator("th").get_attribute("scope") == "row"
    dashboard.problems.assert_none()
