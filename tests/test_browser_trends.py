"""The Imbalance dashboard's trends and imbalance view, in a real headless Chromium against a real ``tensorboard``.

One trend chart per class with a line per run, support and predicted counts
per class.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import CLASS_NAMES, LATEST, RUNS, wait_ready

pytest.importorskip("playwright.sync_api")


def test_trends_and_imbalance_views(dashboard, matrices):
    _, written = matrices
    page = dashboard.open()
    charts = dashboard.testid("trends-chart")
    assert charts.evaluate_all("charts => charts.map(c => c.dataset.class)") == CLASS_NAMES
    assert charts.first.locator("polyline").count() == len(RUNS)
    box = dashboard.testid("trends-class-input")
    dashboard.testid("trends-add-class").click()  # an empty box adds nothing and says nothing
    assert box.evaluate("input => input.validationMessage") == ""
    box.fill("no such class")
    dashboard.testid("trends-add-class").click()
    assert box.evaluate("input => input.validationMessage") == "Unknown class"
    assert charts.evaluate_all("charts => charts.map(c => c.dataset.class)") == CLASS_NAMES
    box.fill("")
    dashboard.testid("trends-metric").select_option("both")
    wait_ready(page)
    assert charts.first.locator("polyline").count() == 2 * len(RUNS)

    cm = written["baseline"][LATEST]
    bars = dashboard.testid("imbalance-row")
    found = {row["name"]: row for row in bars.evaluate_all(
        "rows => rows.map(r => ({name: r.dataset.class, support: Number(r.dataset.support), predicted: Number(r.dataset.predicted)}))"
    )}
    for index, name in enumerate(CLASS_NAMES):
        assert found[name]["support"] == cm[index].sum()
        assert found[name]["predicted"] == cm[:, index].sum()
    dashboard.problems.assert_none()


_DRAWN = """() => {
    const chart = document.querySelector('[data-testid=trends-chart]');
    const style = (line) => getComputedStyle(line);
    return {
        lines: [...chart.querySelectorAll('polyline')].map((line) => ({
            run: line.dataset.run, stroke: line.getAttribute('stroke'), dash: style(line).strokeDasharray,
            width: parseFloat(style(line).strokeWidth)})),
        legend: [...document.querySelectorAll('[data-testid=trends] .run-legend .legend-item[title]')].map((item) => {
            const line = item.querySelector('[data-testid=line-swatch] line');
            return {run: item.title, stroke: line?.getAttribute('stroke'), dash: line && style(line).strokeDasharray};
        }),
    };
}"""


def test_each_runs_trend_line_has_its_own_dash_pattern_and_the_legend_shows_it(dashboard):
    page = dashboard.open()
    drawn = page.evaluate(_DRAWN)
    lines = {line["run"]: line for line in drawn["lines"]}
    assert sorted(lines) == sorted(RUNS)
    # Colour is not all that tells the runs apart: each run's line has a dash pattern of its own.
    assert len({line["dash"] for line in lines.values()}) == len(RUNS)
    assert {item["run"]: (item["stroke"], item["dash"]) for item in drawn["legend"]} == {
        run: (line["stroke"], line["dash"]) for run, line in lines.items()}
    # Both metrics: a run's recall and F1 keep its dashes; F1's line is the thin one.
    dashboard.testid("trends-metric").select_option("both")
    wait_ready(page)
    drawn = page.evaluate(_DRAWN)
    for run in RUNS:
        recall, f1 = [line for line in drawn["lines"] if line["run"] == run]
        assert recall["dash"] == f1["dash"] == lines[run]["dash"]
        assert f1["width"] < recall["width"]
    assert "thick: recall · thin: F1" in dashboard.testid("trends").inner_text()
    dashboard.problems.assert_none()
