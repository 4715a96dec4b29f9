"""The numbers the dashboard computes itself, in a real headless Chromium against a real ``tensorboard``.

The "Imbalance at a glance" section divides and counts in the page
(``plugin_static/views/imbalance.js``): each class's predicted ÷ support
ratio, the largest ÷ smallest support among the classes with samples, the
classes never predicted and those without samples. Checked here against
numpy on the matrices the logdir was written with, on a run that has a class
without samples (but predicted) and a class never predicted, counts and sums
of weights.

Fixtures and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser, dashboard_page  # noqa: F401  (browser: a pytest fixture)
from support import tensorboard_server
from tb_imbalance import log_matrix
from tb_imbalance.targets import close_directory_writers

pytest.importorskip("playwright.sync_api")

NAMES = ["cat", "dog", "fox", "owl", "eel"]
#: fox: no samples, predicted twice; owl: 7 samples, never predicted; eel: 3 samples.
COUNTS = np.array([[80, 5, 1, 0, 2], [10, 30, 1, 0, 0], [0, 0, 0, 0, 0], [3, 4, 0, 0, 0], [1, 0, 0, 0, 2]])
#: sums of weights: the same shape, with fractions
WEIGHTS = COUNTS * 1.25 + np.where(COUNTS > 0, 0.1, 0.0)
MATRICES = {"counts": COUNTS, "weights": WEIGHTS}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("dashboard_numbers")
    for run, cm in MATRICES.items():
        log_matrix(str(root / run), cm, 0, class_names=NAMES, image=False)
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, server, request) -> Iterator[Any]:
    yield from dashboard_page(browser, server, request.node.name)


_READ = """() => ({
    stats: Object.fromEntries([...document.querySelectorAll('[data-testid=imbalance-summary] .stat')].map(
        (stat) => [stat.dataset.testid, stat.querySelector('.stat-value').textContent])),
    rows: [...document.querySelectorAll('[data-testid=imbalance-row]')].map((row) => ({
        name: row.dataset.class, ratio: row.querySelector('.ratio').textContent})),
})"""


@pytest.mark.parametrize("run", list(MATRICES))
def test_the_imbalance_sections_own_numbers_equal_numpys(dashboard, run):
    cm = MATRICES[run]
    page = dashboard.open(runs=[run], imbalance_run=run)
    shown = page.evaluate(_READ)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    present = support > 0
    # eel: 3 samples, predicted 4 times (counts): ×1.33; fox: no samples, no ratio
    expected_rows = {
        name: "" if support[k] == 0 else f"×{predicted[k] / support[k]:.2f}" for k, name in enumerate(NAMES)
    }
    assert {row["name"]: row["ratio"] for row in shown["rows"]} == expected_rows
    ratio = support[present].max() / support[present].min()  # counts: 88 / 3
    assert shown["stats"] == {
        "stat-classes": "5",
        "stat-imbalance-ratio": f"{ratio:.1f}×",
        "stat-never-predicted": str(int(np.sum(present & (predicted == 0)))),  # owl
        "stat-empty": str(int(np.sum(~present))),  # fox
    }
    assert shown["stats"]["stat-never-predicted"] == "1" and shown["stats"]["stat-empty"] == "1"
    dashboard.problems.assert_none()
