"""The Imbalance dashboard at 10,000 classes, in a real headless Chromium against a real ``tensorboard``.

Above 1000 classes the ``report`` route sends the matrix as its non-empty cells
(``matrix_encoding: "cells"``). The page then shows the most-confused submatrix
(or one class's largest confusions) normalised with the full matrix's margins,
the top confusions ranked from the cells, differences on the same classes, a
table that starts worst recall first, and the long-tail plot with every class —
without a C² array anywhere. Every number is checked against what was logged.

The logdir: runs ``baseline`` and ``reweighted``, 10,000 classes (one named like
an HTML injection), 30,000 long-tailed validation rows a step, steps 0 and 1,
training counts per class, and a few planted confusions.

Fixtures and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import pathlib
import time
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import ARTIFACTS, browser, dashboard_page, dashboard_url, read_pivot, row_names, wait_ready  # noqa: F401  (browser: a pytest fixture)
from support import HOSTILE_CLASS_NAME, tensorboard_server

pytest.importorskip("playwright.sync_api")

NUM_CLASSES = 10_000
ROWS = 30_000
RUNS = ("baseline", "reweighted")
STEPS = (0, 1)
LATEST = STEPS[-1]
SUBSET = 30  # plugin_static/matrix-cells.js SUBMATRIX_CLASSES
HOSTILE_INDEX = 12
NAMES = [HOSTILE_CLASS_NAME if index == HOSTILE_INDEX else f"taxon_{index}" for index in range(NUM_CLASSES)]
#: Planted confusions: (true class, predicted class, rows).
PLANTED = [(HOSTILE_INDEX, 4321, 90), (7, 8, 70), (8, 7, 60), (300, 12, 45), (2500, 7, 40)]

# Records the largest typed array (or image) the page asks for: a dense
# 10,000 × 10,000 matrix would be 10^8 values.
_ARRAY_RECORDER = """
window.__largestArray = 0;
for (const name of ["Float64Array", "Float32Array", "Int32Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray"]) {
  const Original = window[name];
  window[name] = class extends Original {
    constructor(...args) {
      super(...args);
      window.__largestArray = Math.max(window.__largestArray, this.length);
    }
  };
}
const createImageData = CanvasRenderingContext2D.prototype.createImageData;
CanvasRenderingContext2D.prototype.createImageData = function (width, height) {
  window.__largestArray = Math.max(window.__largestArray, Number(width) * Number(height));
  return createImageData.apply(this, arguments);
};
"""


class Logged:
    """The counts one run logged at one step, as cells."""

    def __init__(self, matrix: Any):
        self.rows = np.asarray(matrix.rows, dtype=np.int64)
        self.columns = np.asarray(matrix.columns, dtype=np.int64)
        self.values = np.asarray(matrix.values, dtype=np.int64)
        self.matrix = matrix
        self.cells = {(int(i), int(j)): int(v) for i, j, v in zip(self.rows, self.columns, self.values)}
        self.row_sums = np.bincount(self.rows, weights=self.values, minlength=NUM_CLASSES)
        self.col_sums = np.bincount(self.columns, weights=self.values, minlength=NUM_CLASSES)
        self.diagonal = np.array([self.cells.get((k, k), 0) for k in range(NUM_CLASSES)])

    def count(self, i: int, j: int) -> int:
        return self.cells.get((i, j), 0)

    def off_diagonal(self) -> list[tuple[int, int, int]]:
        return [(i, j, v) for (i, j), v in self.cells.items() if i != j]

    def confused_with(self, focus: int, limit: int = SUBSET) -> list[int]:
        """The class and the classes it shares its largest cells with, either way (largest first)."""
        largest: dict[int, int] = {}
        for (i, j), value in self.cells.items():
            if i != j and focus in (i, j):
                other = j if i == focus else i
                largest[other] = max(largest.get(other, 0), value)
        return [focus] + sorted(largest, key=lambda k: (-largest[k], k))[: limit - 1]


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> tuple[pathlib.Path, dict[str, dict[int, Logged]]]:
    import tb_imbalance

    root = tmp_path_factory.mktemp("many_classes_logdir")
    prior = 1.0 / np.arange(1, NUM_CLASSES + 1) ** 0.8
    prior /= prior.sum()
    class_counts = _class_counts()
    written: dict[str, dict[int, Logged]] = {}
    for run_index, run in enumerate(RUNS):
        written[run] = {}
        for step in STEPS:
            rng = np.random.default_rng(100 * run_index + step)
            labels = rng.choice(NUM_CLASSES, ROWS, p=prior)
            predicted = np.where(rng.random(ROWS) < 0.6, labels, rng.integers(0, NUM_CLASSES, ROWS))
            planted_true = np.concatenate([np.full(rows + 5 * step + 3 * run_index, true) for true, _, rows in PLANTED])
            planted_pred = np.concatenate([np.full(rows + 5 * step + 3 * run_index, pred) for _, pred, rows in PLANTED])
            matrix = tb_imbalance.log_report(
                root / run,
                np.concatenate([labels, planted_true]),
                np.concatenate([predicted, planted_pred]),
                step,
                num_classes=NUM_CLASSES,
                class_names=NAMES,
                class_counts=class_counts,
            )
            written[run][step] = Logged(matrix)
    return root, written


@pytest.fixture(scope="module")
def server(logged) -> Iterator[str]:
    root, _ = logged
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, server, request):
    for page_dashboard in dashboard_page(browser, server, request.node.name):
        page_dashboard.page.add_init_script(_ARRAY_RECORDER)
        yield page_dashboard


def open_page(dashboard, **presets: Any) -> Any:
    return dashboard.open(runs=list(RUNS), **presets)


_READ_GRID = """
() => {
  const grid = document.querySelector("[data-testid=matrix-subset] [data-testid=matrix-grid]");
  return {
    classes: document.querySelector("[data-testid=matrix-subset-caption]").dataset.classes.split(",").map(Number),
    rowLabels: [...grid.querySelectorAll("tbody th.row-label")].map((th) => [Number(th.dataset.true), th.textContent]),
    cells: [...grid.querySelectorAll("td[data-testid=matrix-cell]")].map((td) => [Number(td.dataset.true), Number(td.dataset.pred), Number(td.dataset.value)]),
    rowTotals: [...grid.querySelectorAll("tbody tr")].map((tr) => tr.querySelector("td.total").textContent),
    colTotals: [...grid.querySelectorAll("tfoot td.total")].map((td) => td.textContent),
  };
}
"""


def read_grid(page: Any) -> dict[str, Any]:
    return page.evaluate(_READ_GRID)


def assert_no_dense_matrix(page: Any) -> None:
    largest = page.evaluate("window.__largestArray")
    assert largest < 1_000_000, f"the page made an array of {largest} values"


def test_first_render_shows_the_most_confused_submatrix_with_the_logged_counts(dashboard, logged):
    from tb_imbalance.image import most_confused_classes

    _, written = logged
    a = written["baseline"][LATEST]
    started = time.perf_counter()
    page = open_page(dashboard)
    wall = time.perf_counter() - started
    mark = page.evaluate("performance.getEntriesByName('imbalance-first-render')[0].startTime")
    report = f"first render at {NUM_CLASSES:,} classes: {mark / 1000:.2f} s after navigation (mark), {wall:.2f} s until ready"
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "many_classes_first_render.txt").write_text(report + "\n")

    grid = read_grid(page)
    expected = [int(k) for k in most_confused_classes(a.matrix, SUBSET)]
    assert grid["classes"] == expected
    assert [index for index, _ in grid["rowLabels"]] == expected
    assert dict(grid["rowLabels"])[HOSTILE_INDEX] == HOSTILE_CLASS_NAME  # text, not markup
    assert len(grid["cells"]) == SUBSET * SUBSET
    assert all(value == a.count(i, j) for i, j, value in grid["cells"])
    assert sum(value for _, _, value in grid["cells"]) > 0
    # Totals are the full matrix's row and column sums, not the submatrix's.
    assert grid["rowTotals"] == [f"{int(a.row_sums[k]):,}" for k in expected]
    assert grid["colTotals"] == [f"{int(a.col_sums[k]):,}" for k in expected]
    assert "30 most-confused of 10,000 classes" in dashboard.testid("matrix-subset-caption").text_content()
    assert dashboard.testid("matrix-canvas").count() == 0

    # The top confusions come from every cell, largest first.
    rows = dashboard.testid("top-confusion-row")
    assert rows.count() == 50
    listed = rows.evaluate_all("rows => rows.map(r => [Number(r.dataset.true), Number(r.dataset.pred), Number(r.dataset.value)])")
    ranked = sorted(a.off_diagonal(), key=lambda cell: (-cell[2], cell[0], cell[1]))[:50]
    assert [tuple(entry) for entry in listed] == ranked
    first = rows.first.locator("td")
    i, j, count = ranked[0]
    assert first.nth(1).text_content() == NAMES[i]
    assert first.nth(5).text_content() == f"{100 * count / a.row_sums[i]:.1f}%"
    assert first.nth(6).text_content() == f"{100 * count / a.col_sums[j]:.1f}%"
    assert_no_dense_matrix(page)
    dashboard.problems.assert_none()


def test_normalisations_divide_by_the_full_matrix_margins(dashboard, logged):
    _, written = logged
    a = written["baseline"][LATEST]
    page = open_page(dashboard)
    expectations = {
        "true": lambda i, j: a.count(i, j) / a.row_sums[i] if a.row_sums[i] else 0,
        "pred": lambda i, j: a.count(i, j) / a.col_sums[j] if a.col_sums[j] else 0,
        "all": lambda i, j: a.count(i, j) / a.values.sum(),
    }
    for mode, expected in expectations.items():
        dashboard.testid("matrix-normalize").select_option(mode)
        wait_ready(page)
        cells = read_grid(page)["cells"]
        assert len(cells) == SUBSET * SUBSET
        np.testing.assert_allclose([value for _, _, value in cells], [expected(i, j) for i, j, _ in cells], rtol=1e-12, atol=0)
    # The tooltip says the count and both shares of the full matrix.
    i, j, count = PLANTED[0][0], PLANTED[0][1], a.count(PLANTED[0][0], PLANTED[0][1])
    page.locator(f'[data-testid=matrix-subset] [data-testid=matrix-cell][data-true="{i}"][data-pred="{j}"]').hover()
    tooltip = dashboard.testid("matrix-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert f"{HOSTILE_CLASS_NAME} → {NAMES[j]}" in text
    assert f"Count: {count}" in text
    assert f"{100 * count / a.row_sums[i]:.1f}% of true class ({int(a.row_sums[i]):,})" in text
    assert_no_dense_matrix(page)
    dashboard.problems.assert_none()


def test_a_searched_class_shows_its_largest_confusions_both_ways(dashboard, logged):
    _, written = logged
    a = written["baseline"][LATEST]
    page = open_page(dashboard)
    focus = 7  # planted: 7 → 8, 8 → 7 and 2500 → 7
    chooser = dashboard.testid("matrix-class")
    chooser.fill("taxon_7")
    chooser.press("Enter")
    expected = a.confused_with(focus)
    page.wait_for_function(
        "expected => document.querySelector('[data-testid=matrix-subset-caption]')?.dataset.classes === expected",
        arg=",".join(map(str, expected)),
    )
    assert expected[:3] == [7, 8, 2500]
    grid = read_grid(page)
    assert all(value == a.count(i, j) for i, j, value in grid["cells"])
    assert dashboard.testid("matrix-subset-caption").text_content().startswith("taxon_7 and the ")
    assert dashboard.testid("matrix-class-reset").is_visible()

    # Clicking a class name in the grid shows that class's confusions instead.
    page.locator('[data-testid=matrix-subset] th.row-label[data-true="2500"]').click()
    assert read_grid(page)["classes"] == a.confused_with(2500)
    assert chooser.input_value() == "taxon_2500"

    # An unknown name says so and keeps the grid.
    chooser.fill("no such taxon")
    chooser.press("Enter")
    assert dashboard.testid("matrix-class-note").text_content() == "No such class"
    assert read_grid(page)["classes"] == a.confused_with(2500)

    dashboard.testid("matrix-class-reset").click()
    from tb_imbalance.image import most_confused_classes

    assert read_grid(page)["classes"] == [int(k) for k in most_confused_classes(a.matrix, SUBSET)]
    assert_no_dense_matrix(page)
    dashboard.problems.assert_none()


def test_differences_between_runs_and_steps_use_the_same_classes(dashboard, logged):
    from tb_imbalance.image import most_confused_classes

    _, written = logged
    a = written["baseline"][LATEST]
    page = open_page(dashboard)
    classes = [int(k) for k in most_confused_classes(a.matrix, SUBSET)]
    for mode, b in (("runs", written["reweighted"][LATEST]), ("steps", written["baseline"][0])):
        dashboard.testid("matrix-diff-mode").select_option(mode)
        wait_ready(page)
        grid = read_grid(page)
        assert grid["classes"] == classes, mode
        assert all(value == a.count(i, j) - b.count(i, j) for i, j, value in grid["cells"]), mode
        assert grid["rowTotals"][0] == _signed(int(a.row_sums[classes[0]] - b.row_sums[classes[0]]))
        listed = dashboard.testid("top-confusion-row").evaluate_all(
            "rows => rows.map(r => [Number(r.dataset.true), Number(r.dataset.pred), Number(r.dataset.value)])"
        )
        differences = {key: a.cells.get(key, 0) - b.cells.get(key, 0) for key in set(a.cells) | set(b.cells) if key[0] != key[1]}
        ranked = sorted(((i, j, v) for (i, j), v in differences.items() if v), key=lambda cell: (-abs(cell[2]), cell[0], cell[1]))
        assert [tuple(entry) for entry in listed] == ranked[:50], mode
    # The planted cells grow by 3 rows in the second run and by 5 a step.
    i, j, _ = PLANTED[0]
    cell = page.locator(f'[data-testid=matrix-subset] [data-testid=matrix-cell][data-true="{i}"][data-pred="{j}"]')
    assert cell.get_attribute("data-value") == str(a.count(i, j) - written["baseline"][0].count(i, j))
    assert_no_dense_matrix(page)
    dashboard.problems.assert_none()


def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"−{abs(value):,}" if value < 0 else "0"


def test_table_starts_worst_recall_first_and_sorts_and_filters(dashboard, logged):
    _, written = logged
    a = written["baseline"][LATEST]
    page = open_page(dashboard)
    assert dashboard.testid("class-count").text_content() == f"{NUM_CLASSES} classes"
    assert dashboard.testid("report-row").count() < 100  # virtualised

    # Worst recall of the baseline first; classes without validation examples last.
    support = a.row_sums
    with_examples = [k for k in range(NUM_CLASSES) if support[k] > 0]
    worst = sorted(with_examples, key=lambda k: (a.diagonal[k] / support[k], k))
    assert row_names(page)[:10] == [NAMES[k] for k in worst[:10]]
    sorted_head = page.locator("th[aria-sort=ascending]")
    assert (sorted_head.get_attribute("data-run"), sorted_head.get_attribute("data-field")) == ("baseline", "recall")

    page.locator("[data-testid=report-header-cell][data-run=baseline][data-field=support]").get_by_role("button", name="Support").click()
    wait_ready(page)
    by_support = sorted(range(NUM_CLASSES), key=lambda k: (-support[k], k))
    assert row_names(page)[:10] == [NAMES[k] for k in by_support[:10]]

    dashboard.testid("class-filter").fill("taxon_99")
    wait_ready(page)
    matching = [name for name in NAMES if "taxon_99" in name]
    assert dashboard.testid("class-count").text_content() == f"{len(matching)} of {NUM_CLASSES} classes"
    assert row_names(page)[:5] == sorted(matching, key=lambda name: (-support[NAMES.index(name)], NAMES.index(name)))[:5]
    dashboard.problems.assert_none()


def test_pivot_draws_only_the_rows_in_view_and_scrolls_to_every_class(dashboard, logged):
    _, written = logged
    recall = {run: written[run][LATEST].diagonal / np.maximum(written[run][LATEST].row_sums, 1) for run in RUNS}
    has_rows = written["baseline"][LATEST].row_sums > 0

    def check(rows):
        for row in rows:
            index = NAMES.index(row["name"])
            for run in RUNS:
                cell = row["cells"][run]
                if has_rows[index]:
                    assert cell["value"] == pytest.approx(recall[run][index], abs=1e-12), (row["name"], run)

    page = open_page(dashboard, view="pivot", metric="recall")
    assert dashboard.testid("pivot-row").count() < 100  # not 10,000 rows × 2 runs of cells
    (group,) = read_pivot(page)
    assert [row["name"] for row in group["rows"][:5]] == NAMES[:5]
    check(group["rows"])
    page.locator(".pivot-scroll").evaluate("scroller => { scroller.scrollTop = scroller.scrollHeight; }")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=pivot-row]')].at(-1)?.dataset.class === 'taxon_9999'")
    (group,) = read_pivot(page)
    assert len(group["rows"]) < 100 and group["rows"][-1]["name"] == NAMES[-1]
    check(group["rows"])
    heights = page.locator("[data-testid=pivot-row]").evaluate_all("rows => rows.map((row) => row.getBoundingClientRect().height)")
    assert set(heights) == {40}  # the height the virtual rows count with
    dashboard.problems.assert_none()


def test_long_tail_plot_draws_every_class(dashboard, logged):
    root, written = logged
    a = written["baseline"][LATEST]
    page = open_page(dashboard)
    # Above 1000 classes the points of one look are one path each, not 10,000 elements.
    assert dashboard.testid("class-point").count() == 0
    paths = dashboard.testid("class-points").evaluate_all(
        "paths => paths.map(p => [p.dataset.bucket, p.dataset.samples, Number(p.dataset.points), p.getAttribute('d')])"
    )
    train = _class_counts()
    bucket_of = lambda count: "many" if count > 100 else "few" if count < 20 else "medium"  # noqa: E731  (the route's default thresholds)
    expected: dict[tuple[str, str], int] = {}
    for k in range(NUM_CLASSES):
        key = (bucket_of(train[k]), "true" if a.row_sums[k] > 0 else "false")
        expected[key] = expected.get(key, 0) + 1
    assert {(bucket, samples): points for bucket, samples, points, _ in paths} == expected
    assert all(d.count("M") == points for _, _, points, d in paths)
    assert dashboard.testid("stat-classes").locator(".stat-value").text_content() == str(NUM_CLASSES)

    # Hovering a point names its class (as text) with its recall and training examples.
    few = next(d for bucket, samples, _, d in paths if (bucket, samples) == ("few", "true"))
    x, y = (float(value) for value in few[1:].split("a")[0].split(" "))
    chart = page.locator("[data-testid=recall-vs-count] svg")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    unit = box["width"] / 420
    page.mouse.move(box["x"] + (x + 3.5) * unit, box["y"] + y * unit)
    tooltip = dashboard.testid("class-point-tooltip")
    tooltip.wait_for(state="visible")
    name = tooltip.locator(".tooltip-title").text_content()
    k = NAMES.index(name)
    assert bucket_of(train[k]) == "few" and a.row_sums[k] > 0
    recall = a.diagonal[k] / a.row_sums[k]
    assert tooltip.inner_text().endswith(f"recall {recall:.4f}, {train[k]:,} training examples (few-shot)")
    assert page.locator("img").count() == 0
    assert_no_dense_matrix(page)
    dashboard.problems.assert_none()


def _class_counts() -> np.ndarray:
    prior = 1.0 / np.arange(1, NUM_CLASSES + 1) ** 0.8
    return np.maximum(1, np.round(prior / prior.sum() * 500_000)).astype(int)
