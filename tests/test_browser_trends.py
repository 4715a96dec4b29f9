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
