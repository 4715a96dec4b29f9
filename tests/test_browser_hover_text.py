"""What hovering shows for hostile class names and for a large matrix's top confusions, in a real headless
Chromium against a real ``tensorboard``.

The long-tail plot's hover box (above 1000 classes, where its points are paths) shows a class name
as text, never markup, in its own ``<bdi>``, with characters drawn as nothing as their code points
and white space the page would hide as "␣" (``shownName`` in ``plugin_static/format.js``); the top
confusions of a matrix of more than 50 classes with examples behind its cells say, on hover, which
cell's examples a click opens, each name as the page writes a name inside text (``classText``:
as shown, between U+2068 and U+2069), while a name cell's own tooltip keeps the name as it is.

The logdir: ``hostile`` — 1001 classes, five of them named to break the page, each with its own
training count and a recall of 1 (every other class: 1 training example, recall 0), tag
``hover_matrix``; ``wide`` — 60 classes (the same five hostile names first), 600 rows with planted
confusions and value rows as examples, tag ``wide_matrix``.

Fixtures and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterator

import numpy as np
import pytest

from browser_support import browser, dashboard_page  # noqa: F401  (browser: a pytest fixture)
from support import HOSTILE_CLASS_NAME, tensorboard_server

pytest.importorskip("playwright.sync_api")

LONG_NAME = "long_" + "abcdefghij" * 40
#: (name, as the page shows it): markup, a right-to-left override, emoji joined by zero-width
#: joiners (kept: they draw as one glyph), a 405-character name, a name with a line break.
HOSTILE = [
    (HOSTILE_CLASS_NAME, HOSTILE_CLASS_NAME),
    ("\u202eexe.txt", "⟨U+202E⟩exe.txt"),
    ("coder \U0001F469\u200d\U0001F4BB", "coder \U0001F469\u200d\U0001F4BB"),
    (LONG_NAME, LONG_NAME),
    ("first line\nsecond", "first\u2423line\u2423second"),
]
#: Training examples of the hostile classes: a decade apart, so that their points lie apart.
HOSTILE_COUNTS = [10, 100, 1_000, 10_000, 100_000]
HOVER_TAG = "hover_matrix"
HOVER_CLASSES = 1001

WIDE_TAG = "wide_matrix"
WIDE_CLASSES = 60
WIDE_NAMES = [name for name, _ in HOSTILE] + [f"class_{index}" for index in range(len(HOSTILE), WIDE_CLASSES)]
#: Planted confusions (true, predicted, rows), more rows than any confusion of the rest.
PLANTED = [(0, 1, 30), (1, 0, 26), (2, 3, 22), (3, 4, 18), (4, 2, 15), (7, 4, 12), (3, 9, 11)]
WIDE_ROWS = 600
LIST_PAGE = 50  # plugin_static/views/matrix.js


def _hover_run() -> tuple[np.ndarray, np.ndarray, list[str], list[int]]:
    """Labels and predictions of ``hostile``: each hostile class right, every other class wrong."""
    names = [name for name, _ in HOSTILE] + [f"taxon_{index}" for index in range(len(HOSTILE), HOVER_CLASSES)]
    labels = np.concatenate([np.repeat(np.arange(len(HOSTILE)), 4), np.arange(len(HOSTILE), HOVER_CLASSES)])
    predictions = labels.copy()
    rest = labels >= len(HOSTILE)
    predictions[rest] = np.where(labels[rest] + 1 < HOVER_CLASSES, labels[rest] + 1, len(HOSTILE))
    counts = HOSTILE_COUNTS + [1] * (HOVER_CLASSES - len(HOSTILE))
    return labels, predictions, names, counts


def _wide_run() -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions of ``wide``: mostly right, the planted confusions, a few random ones."""
    rng = np.random.default_rng(5)
    labels, predictions = [], []
    for true, predicted, rows in PLANTED:
        labels += [true] * rows
        predictions += [predicted] * rows
    rest = WIDE_ROWS - len(labels)
    true = rng.integers(0, WIDE_CLASSES, rest)
    wrong = rng.random(rest) < 0.15
    labels += true.tolist()
    predictions += np.where(wrong, rng.integers(0, WIDE_CLASSES, rest), true).tolist()
    return np.array(labels), np.array(predictions)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("hover_text_logdir")
    labels, predictions, names, counts = _hover_run()
    tb_imbalance.log_report(root / "hostile", labels, predictions, 0, name=HOVER_TAG, class_names=names,
                            image=False, per_class_scalars=False, class_counts=counts, curves=False)
    labels, predictions = _wide_run()
    rng = np.random.default_rng(6)
    scores = 0.9 * np.eye(WIDE_CLASSES)[predictions] + 0.1 / WIDE_CLASSES  # examples need scores; argmax: predictions
    tb_imbalance.log_report(root / "wide", labels, scores, 0, name=WIDE_TAG, class_names=WIDE_NAMES,
                            image=False, per_class_scalars=False, curves=False, examples=rng.normal(size=(len(labels), 8)))
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, server, request):
    yield from dashboard_page(browser, server, request.node.name)


def _points(d: str) -> list[tuple[float, float]]:
    """The centres' left edges of the circles a ``class-points`` path draws (``M x y a …`` each)."""
    return [(float(x), float(y)) for x, y in re.findall(r"M\s*(-?[\d.]+)[ ,](-?[\d.]+)", d)]


_TOOLTIP_PARTS = """box => ({
    title: box.querySelector('.tooltip-title').textContent,
    isolated: [...box.querySelectorAll('.tooltip-title bdi')].map((bdi) => bdi.textContent),
    lines: [...box.children].slice(1).map((line) => line.textContent),
    elements: [...box.querySelectorAll('*')].map((node) => node.tagName.toLowerCase()),
    right: box.getBoundingClientRect().right,
    width: box.getBoundingClientRect().width,
    scrollWidth: box.scrollWidth,
})"""


def test_long_tail_hover_box_shows_hostile_class_names_as_text(dashboard):
    page = dashboard.open(runs=["hostile"], tag=HOVER_TAG, imbalance_run="hostile")
    assert dashboard.testid("class-point").count() == 0  # above 1000 classes: paths, the hover box names a point
    paths = dashboard.testid("class-points").evaluate_all("paths => paths.map(p => p.getAttribute('d'))")
    points = [point for d in paths for point in _points(d)]
    assert len(points) == HOVER_CLASSES
    # Recall 1 (the top of the plot) only for the hostile classes, left to right by training count.
    top = min(y for _, y in points)
    hostile_points = sorted(point for point in points if point[1] == top)
    assert len(hostile_points) == len(HOSTILE)
    chart = page.locator("[data-testid=recall-vs-count] svg")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    unit = box["width"] / 420  # plugin_static/views/imbalance.js PLOT.width
    viewport = page.viewport_size["width"]
    buckets = ["few-shot", "medium-shot", "many-shot", "many-shot", "many-shot"]  # the route's default thresholds: 20, 100
    for (name, shown), count, bucket, (x, y) in zip(HOSTILE, HOSTILE_COUNTS, buckets, hostile_points):
        page.mouse.move(box["x"] + (x + 3.5) * unit, box["y"] + y * unit)  # "M" starts at the circle's left edge
        tooltip = dashboard.testid("class-point-tooltip")
        tooltip.wait_for(state="visible")
        line = f"recall 1.0000, {count:,} training examples ({bucket})"
        page.wait_for_function("line => document.querySelector('[data-testid=class-point-tooltip]')?.textContent.endsWith(line)", arg=line)
        parts = tooltip.evaluate(_TOOLTIP_PARTS)
        assert parts["title"] == shown and parts["isolated"] == [shown], (name, parts)
        assert parts["lines"] == [line]
        # the name's markup stayed text: the box holds only its own elements
        assert parts["elements"] == ["div", "bdi", "div"]
        # the long name wraps inside the box, which stays on the page
        assert parts["scrollWidth"] <= parts["width"] + 1 and parts["right"] <= viewport, parts
    assert page.locator("img").count() == 0
    assert "\u202e" not in page.evaluate("document.body.innerText")
    dashboard.problems.assert_none()


def _expected_top_confusions() -> list[tuple[int, int, int]]:
    """The off-diagonal cells of ``wide`` by count, largest first (ties: true class, then predicted)."""
    labels, predictions = _wide_run()
    matrix = np.zeros((WIDE_CLASSES, WIDE_CLASSES), dtype=int)
    np.add.at(matrix, (labels, predictions), 1)
    cells = [(i, j, int(matrix[i, j])) for i in range(WIDE_CLASSES) for j in range(WIDE_CLASSES) if i != j and matrix[i, j]]
    return sorted(cells, key=lambda cell: (-cell[2], cell[0], cell[1]))


def _percent(fraction: float) -> str:
    """A share as the page writes it: ``(fraction * 100).toFixed(1)`` (a tie rounds up), and "%"."""
    return f"{Decimal(fraction * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


_ROWS = """rows => rows.map((row) => ({
    true: Number(row.dataset.true), pred: Number(row.dataset.pred), title: row.title,
    cells: [...row.cells].map((cell) => cell.textContent), nameTitles: [...row.querySelectorAll('td.name')].map((cell) => cell.title),
}))"""

_TITLE_AT = """([x, y]) => {
    const under = document.elementFromPoint(x, y);
    return [under.closest('td, th')?.tagName.toLowerCase() ?? null, under.closest('[title]')?.title ?? null];  // the cell, or a name in it
}"""


def test_top_confusions_say_on_hover_which_examples_a_row_opens(dashboard):
    page = dashboard.open(runs=["wide"], tag=WIDE_TAG, matrix_run="wide")
    assert dashboard.testid("matrix-canvas").is_visible()  # more than 50 classes: the heat map and the list
    expected = _expected_top_confusions()
    assert expected[: len(PLANTED)] == sorted(PLANTED, key=lambda cell: -cell[2])
    labels, predictions = _wide_run()
    row_sums = np.bincount(labels, minlength=WIDE_CLASSES)
    col_sums = np.bincount(predictions, minlength=WIDE_CLASSES)
    isolated = {index: f"\u2068{shown}\u2069" for index, (_, shown) in enumerate(HOSTILE)}
    rows = dashboard.testid("top-confusion-row").evaluate_all(_ROWS)
    assert len(rows) == LIST_PAGE < len(expected)
    for rank, (row, (i, j, count)) in enumerate(zip(rows, expected), start=1):
        assert (row["true"], row["pred"]) == (i, j)
        text_i, text_j = isolated.get(i, f"\u2068{WIDE_NAMES[i]}\u2069"), isolated.get(j, f"\u2068{WIDE_NAMES[j]}\u2069")
        assert row["title"] == f"Show the examples of {text_i} → {text_j}"
        assert row["nameTitles"] == [WIDE_NAMES[i], WIDE_NAMES[j]]  # a name's own tooltip keeps it as it is
        shown_i, shown_j = (text.strip("\u2068\u2069") for text in (text_i, text_j))
        assert row["cells"] == [
            str(rank), shown_i, "→", shown_j, str(count), _percent(count / row_sums[i]), _percent(count / col_sums[j])
        ]

    # A long name is cut (its tooltip keeps it): the counts and shares stay in the box, no scrolling sideways.
    fits = dashboard.testid("top-confusions").evaluate(
        "box => ({table: box.querySelector('table').scrollWidth, box: box.clientWidth})")
    assert fits["table"] <= fits["box"], fits

    # Hovering a row shows its title; hovering a name cell, that name's own tooltip.
    first = dashboard.testid("top-confusion-row").first
    rank_cell, true_cell = first.locator("td").nth(0), first.locator("td.name").first
    for cell, want in ((rank_cell, f"Show the examples of {isolated[0]} → {isolated[1]}"), (true_cell, WIDE_NAMES[0])):
        cell.hover()
        cell_box = cell.bounding_box()
        under = page.evaluate(_TITLE_AT, [cell_box["x"] + cell_box["width"] / 2, cell_box["y"] + cell_box["height"] / 2])
        assert under == ["td", want]

    # The heat map's hover box names the same cell, as text.
    canvas = dashboard.testid("matrix-canvas")
    canvas_box = canvas.bounding_box()
    size = canvas_box["width"] / WIDE_CLASSES
    canvas.hover(position={"x": 1.5 * size, "y": 0.5 * size})  # true class 0, predicted as class 1
    tooltip = dashboard.testid("matrix-tooltip")
    tooltip.wait_for(state="visible")
    parts = tooltip.evaluate(_TOOLTIP_PARTS)
    assert parts["title"] == f"{HOSTILE[0][1]} → {HOSTILE[1][1]}" and parts["isolated"] == [HOSTILE[0][1], HOSTILE[1][1]]
    count = PLANTED[0][2]
    assert parts["lines"] == [
        f"Count: {count}",
        f"{_percent(count / row_sums[0])} of true class ({row_sums[0]})",
        f"{_percent(count / col_sums[1])} of predicted class ({col_sums[1]})",
    ]
    assert parts["elements"] == ["div", "span", "bdi", "bdi", "div", "div", "div"]
    assert page.locator("[data-testid=top-confusions] img").count() == 0
    assert "\u202e" not in dashboard.testid("top-confusions").inner_text()
    dashboard.problems.assert_none()
