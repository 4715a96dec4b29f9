"""Many runs of one sweep, in a real headless Chromium against a real ``tensorboard``.

Runs of a sweep are nested and share a long path (``sweep ü/lr=0.1,bs=32/seed 07``): the column heads
and legends must show the part that tells them apart, and a pivot of 30 runs must keep every value
whole (its table scrolls sideways inside its card; the page does not). A run 25 folders deep or named
by its hyper-parameters, with no space to wrap at, must wrap in the captions and notes that name it.

Fixtures and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser, dashboard_page, dashboard_url, wait_ready  # noqa: F401  (browser: a fixture)
from support import tensorboard_server

pytest.importorskip("playwright.sync_api")

RUNS = [f"sweep ü/lr=0.1,bs=32/seed {seed:02d}" for seed in range(30)]
SHORT = "x/y"  # a path of two letters
DEEP = "deep/" + "/".join(f"level{depth}" for depth in range(25))  # 25 folders, no space to wrap at
LONG = "lr_0.001_batch_64_dropout_0.5_weight_decay_0.0001_warmup_500_label_smoothing_0.1_seed_1234567"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("many_runs_logdir")
    rng = np.random.default_rng(0)
    for run in [*RUNS, SHORT, DEEP, LONG]:
        labels = rng.integers(0, 4, 200)
        scores = rng.random((200, 4)) + 0.5 * np.eye(4)[labels]
        tb_imbalance.log_report(root / run, labels, scores / scores.sum(1, keepdims=True), 0,
                                class_names=["cat", "dog", "fox", "owl"], image=False)
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, server, request):
    yield from dashboard_page(browser, server, request.node.name, width=1280, height=900)


def open_runs(dashboard, runs: list[str], **presets: Any) -> Any:
    """The page with ``runs`` selected: one ``run=`` each, as the page links names holding a comma."""
    dashboard.page.goto(dashboard_url(dashboard.base_url, **presets) + "&" + urllib.parse.urlencode([("run", run) for run in runs]))
    wait_ready(dashboard.page)
    return dashboard.page


_VISIBLE = """elements => elements.map(e => ({text: e.textContent, cut: e.scrollWidth > e.clientWidth + 1,
                                         width: e.getBoundingClientRect().width}))"""

# A run name's last part, cut when its box is narrower than its letters by as little as a hundredth of a
# pixel: that draws an ellipsis over its end (`seed 0…`), which scrollWidth, rounded, does not tell.
_LEAF = """elements => elements.map(e => { const text = document.createRange(); text.selectNodeContents(e);
                                     return {text: e.textContent, cut: text.getBoundingClientRect().width > e.getBoundingClientRect().width + 0.01}; })"""


def test_column_heads_of_sibling_runs_show_the_part_that_tells_them_apart(dashboard):
    page = open_runs(dashboard, RUNS[:3], curves_class="fox")
    leaves = dashboard.page.locator("[data-testid=report-run-head] .run-leaf").evaluate_all(_LEAF)
    assert [leaf["text"] for leaf in leaves] == ["seed 00", "seed 01", "seed 02"]
    assert not any(leaf["cut"] for leaf in leaves), leaves  # the end of the name was cut before
    paths = dashboard.page.locator("[data-testid=report-run-head] .run-path").evaluate_all(_VISIBLE)
    assert all(path["text"] == "sweep ü/lr=0.1,bs=32/" for path in paths)
    heads = page.locator("[data-testid=report-run-head]").evaluate_all("hs => hs.map(h => h.title)")
    assert heads == RUNS[:3]  # the whole name on hover
    legend = page.locator("[data-testid=curves-legend-item] .run-leaf").evaluate_all(_LEAF)
    assert [leaf["text"] for leaf in legend] == ["seed 00", "seed 01", "seed 02"]
    dashboard.problems.assert_none()


def test_a_short_path_is_shown_without_a_gap(dashboard):
    page = open_runs(dashboard, [SHORT, RUNS[0]])
    path = page.locator(f'[data-testid=report-run-head][data-run="{SHORT}"] .run-path').evaluate(
        """e => { const text = document.createRange(); text.selectNodeContents(e);
                 return [e.textContent, text.getBoundingClientRect().right,
                         e.nextElementSibling.getBoundingClientRect().left]; }""")
    assert path[0] == "x/" and abs(path[2] - path[1]) <= 1, path  # 'x/' held at 1.5em read 'x/  y'
    dashboard.problems.assert_none()


def test_a_pivot_of_30_runs_keeps_every_value_whole_and_scrolls_sideways_in_its_card(dashboard):
    page = open_runs(dashboard, RUNS, view="pivot")
    cells = page.locator("[data-testid=pivot-cell]").evaluate_all(_VISIBLE)
    assert len(cells) == 30 * 4
    assert not [cell for cell in cells if cell["cut"]], cells[:3]  # "0.7901" read "0.7" at 30 px a column
    heads = page.locator("[data-testid=pivot-run-head]").evaluate_all(_VISIBLE)
    assert min(head["width"] for head in heads) >= 88  # names wrapped every 2-3 letters at 20 runs
    widths = page.evaluate(
        """() => ({page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
                   scroller: (s => [s.scrollWidth, s.clientWidth])(document.querySelector('.pivot-scroll'))})"""
    )
    assert widths["page"][0] <= widths["page"][1], widths
    assert widths["scroller"][0] > widths["scroller"][1], widths
    dashboard.problems.assert_none()


_OUTSIDE_CARDS = """() => [...document.querySelectorAll('.card-body *')].filter(e => e.offsetParent && e.getClientRects().length)
  .filter(e => [...e.getClientRects()].some(r => r.right > e.closest('.card').getBoundingClientRect().right + 1))
  .filter(e => ![...e.children].some(c => c.contains(e) || [...c.getClientRects()].some(r => r.right > c.closest('.card').getBoundingClientRect().right + 1)))
  .filter(e => !e.closest('.pivot-scroll, .table-scroll'))
  .map(e => `${e.closest('[data-testid]').dataset.testid}: ${e.textContent.slice(0, 40)}`)"""


@pytest.mark.parametrize("runs", [[DEEP, "x/y"], [LONG, "x/y"]], ids=["deep_path", "long_name"])
def test_a_long_run_name_without_spaces_wraps_inside_its_cards(dashboard, runs):
    """A run 25 folders deep, or named by its hyper-parameters: captions and notes that name it wrap in their card."""
    page = open_runs(dashboard, runs)
    assert runs[0] in page.locator("[data-testid=matrix-caption]").text_content()
    assert runs[0] in page.locator("[data-testid=curves-caption]").text_content()
    outside = page.evaluate(_OUTSIDE_CARDS)
    assert not outside, outside
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    page = open_runs(dashboard, [f"{runs[0]}_gone", "x/y"])  # a link to a run not here (yet): its line wraps too
    waiting = page.locator("[data-testid=report] .section-message").text_content()
    assert waiting.startswith(f"Waiting for {runs[0]}_gone: the link names it"), waiting
    outside = page.evaluate(_OUTSIDE_CARDS)
    assert not outside, outside
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    dashboard.problems.assert_none()
