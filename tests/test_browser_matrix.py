"""The Imbalance dashboard's confusion matrix, in a real headless Chromium against a real ``tensorboard``.

Normalisation, the tooltip, differences between runs and between steps, 1000
classes as top confusions with virtualised rows; long and hostile class names as column heads.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import LATEST, PIVOT_TAG, WIDE_CLASSES, dashboard_page, matrix_values, row_names, wait_ready
from support import tensorboard_server

pytest.importorskip("playwright.sync_api")


def test_normalisation_toggle_changes_matrix_cells(dashboard, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST].astype(float)
    page = dashboard.open(runs=["baseline"])
    np.testing.assert_array_equal(matrix_values(page), cm)
    first_cell = page.locator('[data-testid=matrix-cell][data-true="0"][data-pred="0"]')
    assert first_cell.text_content() == f"{int(cm[0, 0]):,}"
    expectations = {
        "true": cm / cm.sum(axis=1, keepdims=True),
        "pred": cm / np.where(cm.sum(axis=0, keepdims=True) == 0, 1, cm.sum(axis=0, keepdims=True)),
        "all": cm / cm.sum(),
    }
    for mode, expected in expectations.items():
        dashboard.testid("matrix-normalize").select_option(mode)
        wait_ready(page)
        np.testing.assert_allclose(matrix_values(page), expected, atol=1e-12)
    dashboard.testid("matrix-normalize").select_option("true")
    wait_ready(page)
    assert first_cell.text_content() == f"{100 * cm[0, 0] / cm[0].sum():.1f}%"
    dashboard.problems.assert_none()


def test_matrix_tooltip_shows_count_and_both_shares(dashboard, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST]
    page = dashboard.open(runs=["baseline"])
    page.locator('[data-testid=matrix-cell][data-true="1"][data-pred="0"]').hover()
    tooltip = dashboard.testid("matrix-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "dog → cat" in text
    assert f"Count: {cm[1, 0]}" in text
    assert f"{100 * cm[1, 0] / cm[1].sum():.1f}% of true class" in text
    assert f"{100 * cm[1, 0] / cm[:, 0].sum():.1f}% of predicted class" in text
    dashboard.problems.assert_none()


def test_difference_view_between_runs_and_between_steps(dashboard, matrices):
    _, written = matrices
    page = dashboard.open()
    dashboard.testid("matrix-diff-mode").select_option("runs")
    wait_ready(page)
    assert dashboard.testid("matrix-diff-run").input_value() == "class_weights"
    expected = written["baseline"][LATEST] - written["class_weights"][LATEST]
    np.testing.assert_array_equal(matrix_values(page), expected)
    diagonal = page.locator('[data-testid=matrix-cell][data-true="0"][data-pred="0"]')
    sign = "+" if expected[0, 0] > 0 else "−" if expected[0, 0] < 0 else ""
    assert diagonal.text_content() == f"{sign}{abs(expected[0, 0])}"

    dashboard.testid("matrix-diff-mode").select_option("steps")
    wait_ready(page)
    dashboard.testid("matrix-step-slider").fill("4")
    wait_ready(page)
    dashboard.testid("matrix-diff-step").select_option("1")
    wait_ready(page)
    expected = written["baseline"][4] - written["baseline"][1]
    np.testing.assert_array_equal(matrix_values(page), expected)
    assert "step 4" in dashboard.testid("matrix-caption").text_content()
    dashboard.problems.assert_none()


def test_comparing_runs_with_one_run_says_what_it_needs_in_a_note_not_an_error(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(runs=["baseline"])
    dashboard.testid("matrix-diff-mode").select_option("runs")
    wait_ready(page)
    # One run has nothing to be compared with: an explanation in the page's hint look, not the error box.
    assert page.locator("[data-testid=matrix] .section-message:not([hidden])").count() == 0
    note = dashboard.testid("matrix-note")
    assert note.is_visible()
    assert note.text_content() == "Nothing to compare with yet: select a second run with the same classes in the run list."
    looks = page.evaluate(
        """() => ['matrix-note', 'compare-alone-hint'].map((testid) => {
            const style = getComputedStyle(document.querySelector(`[data-testid=${testid}]`));
            return [style.color, style.backgroundColor, style.borderTopStyle, style.fontSize];
        })"""
    )
    assert looks[0] == looks[1] and looks[0][1:3] == ["rgba(0, 0, 0, 0)", "none"], looks
    np.testing.assert_array_equal(matrix_values(page), written["baseline"][LATEST])  # A's counts stay on screen
    # With a second run, the difference: no note left.
    page.locator('[data-testid=run-checkbox][data-run="class_weights"]').check()
    wait_ready(page)
    assert note.is_hidden()
    np.testing.assert_array_equal(matrix_values(page), written["baseline"][LATEST] - written["class_weights"][LATEST])
    dashboard.problems.assert_none()


def test_comparing_runs_without_a_run_of_the_same_classes_says_so_in_a_note_not_an_error(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(tag=PIVOT_TAG, runs=["pivot_00", "pivot_01", "pivot_other"], matrix_run="pivot_other")
    dashboard.testid("matrix-diff-mode").select_option("runs")
    wait_ready(page)
    # Other runs, but none with pivot_other's classes: what the selection lacks, not an error.
    assert page.locator("[data-testid=matrix] .section-message:not([hidden])").count() == 0
    note = dashboard.testid("matrix-note")
    assert note.is_visible()
    assert note.text_content() == (
        "No other selected run has this run's classes: select one with the same class names (in the same order) in the run list."
    )
    np.testing.assert_array_equal(matrix_values(page), written["pivot_other"][1])  # A's counts stay on screen
    # A matrix run that has another run of its classes: the difference, no note left.
    dashboard.testid("matrix-run").select_option("pivot_00")
    wait_ready(page)
    assert note.is_hidden()
    assert dashboard.testid("matrix-caption").text_content() == (
        "A = pivot_00, step 1, B = pivot_01, step 1: cells show A − B (counts)."
    )
    dashboard.problems.assert_none()


def test_many_classes_show_top_confusions_and_stay_virtualised(dashboard, matrices):
    _, written = matrices
    cm = written["wide"][1]
    page = dashboard.open(tag="wide_matrix", runs=["wide"])
    assert dashboard.testid("matrix-grid").count() == 0
    assert dashboard.testid("matrix-canvas").is_visible()
    rows = dashboard.testid("top-confusion-row")
    assert 0 < rows.count() <= 50
    off_diagonal = cm - np.diag(np.diag(cm))
    first = rows.first
    i, j = int(first.get_attribute("data-true")), int(first.get_attribute("data-pred"))
    assert cm[i, j] == off_diagonal.max()
    counts = rows.evaluate_all("rows => rows.map(r => Number(r.dataset.value))")
    assert counts == sorted(counts, reverse=True)
    assert first.locator("td").nth(1).text_content() == str(i)
    assert first.locator("td").nth(4).text_content() == f"{cm[i, j]:,}"
    assert first.locator("td").nth(5).text_content() == f"{100 * cm[i, j] / cm[i].sum():.1f}%"

    # 1000 classes: only the rows in view exist, and sorting still works.
    assert dashboard.testid("class-count").text_content() == f"{WIDE_CLASSES} classes"
    assert dashboard.testid("report-row").count() < 100
    started = time.perf_counter()
    page.locator('[data-testid=report-header-cell][data-run=wide][data-field=support]').get_by_role("button", name="Support").click()
    wait_ready(page)
    assert time.perf_counter() - started < 2.0
    support = cm.sum(axis=1)
    expected_first = [str(k) for k in sorted(range(WIDE_CLASSES), key=lambda k: (-support[k], k))[:5]]
    assert row_names(page)[:5] == expected_first
    dashboard.testid("class-filter").fill("99")
    wait_ready(page)
    assert dashboard.testid("class-count").text_content() == f"{sum('99' in str(k) for k in range(WIDE_CLASSES))} of {WIDE_CLASSES} classes"
    dashboard.problems.assert_none()


@pytest.fixture
def narrow_dashboard(browser, server, request):  # noqa: F811  (browser, server: the fixtures above)
    yield from dashboard_page(browser, server, request.node.name, width=400, height=900)


def test_a_screen_reader_reads_every_cell_where_its_number_does_not_fit(narrow_dashboard, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST]
    page = narrow_dashboard.open(runs=["baseline"])
    cell = page.locator('[data-testid=matrix-cell][data-true="1"][data-pred="0"]')
    assert cell.text_content() == ""  # 400 px wide: too small for its number
    assert f"\u2068dog\u2069 → \u2068cat\u2069: {cm[1, 0]:,}" in cell.aria_snapshot()
    names = page.locator("[data-testid=matrix-cell]").evaluate_all("cells => cells.map(cell => cell.getAttribute('aria-label'))")
    assert len(names) == cm.size and all(names)
    narrow_dashboard.problems.assert_none()


def test_keyboard_moves_through_the_cells_and_shows_what_hovering_shows(narrow_dashboard, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST]
    page = narrow_dashboard.open(runs=["baseline"])  # no examples logged: cells open nothing
    cells = page.locator("[data-testid=matrix-cell]")
    assert cells.evaluate_all("cells => cells.filter(c => c.tabIndex === 0).length") == 1  # one tab stop
    dashboard = narrow_dashboard
    dashboard.testid("matrix-diff-mode").focus()
    page.keyboard.press("Tab")
    focused = "() => [document.activeElement.dataset.testid, document.activeElement.dataset.true, document.activeElement.dataset.pred]"
    assert page.evaluate(focused) == ["matrix-cell", "0", "0"]
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == ["matrix-cell", "1", "0"]
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    tooltip = dashboard.testid("matrix-tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "dog → cat" in text and f"Count: {cm[1, 0]}" in text
    assert f"{100 * cm[1, 0] / cm[1].sum():.1f}% of true class" in text
    page.keyboard.press("Escape")
    assert tooltip.is_hidden()
    page.keyboard.press("Enter")  # opens nothing without examples
    assert dashboard.testid("examples-panel").is_hidden()
    page.keyboard.press("Tab")  # out of the grid: one tab stop, no trap
    assert page.evaluate("() => document.activeElement.dataset.testid") != "matrix-cell"
    assert dashboard.page.locator("[role=tooltip]:visible").count() == 0
    dashboard.problems.assert_none()


def test_the_matrix_table_is_named(dashboard):
    page = dashboard.open(runs=["baseline"])
    table = page.get_by_role("table", name="Confusion matrix: rows are true classes, columns predicted classes")
    assert table.count() == 1 and table.is_visible()
    dashboard.problems.assert_none()


def test_a_new_step_redraws_the_matrix_and_keeps_the_focused_cell(dashboard, matrices):
    root, _ = matrices
    page = dashboard.open(tag="live_matrix", runs=["live"], poll=1)
    page.locator('[data-testid=matrix-cell][data-true="1"][data-pred="0"]').focus()
    page.keyboard.press("ArrowRight")
    focused = "() => [document.activeElement.dataset.testid, document.activeElement.dataset.true, document.activeElement.dataset.pred]"
    assert page.evaluate(focused) == ["matrix-cell", "1", "1"]

    import tensorflow as tf

    from tb_imbalance import summary as tbs

    writer = tf.summary.create_file_writer(str(root / "live"))
    with writer.as_default():
        labels = np.array([0, 1, 2, 3, 0, 1, 1])
        tbs.confusion_matrix("live_matrix", labels, np.roll(labels, 1), step=3, num_classes=4)
    writer.close()
    page.wait_for_function("document.querySelector('[data-testid=matrix-step-label]').textContent === '3'", timeout=30_000)
    wait_ready(page)
    assert page.evaluate(focused) == ["matrix-cell", "1", "1"]  # on the new grid's cell, not on the page
    dashboard.problems.assert_none()


#: Names that share a long start, a hostile one, one of upright glyphs and one longer than any head.
LONG_NAMES = [
    "transaction_type_wire_domestic_small", "transaction_type_wire_domestic_large", "<script>alert(1)</script>",
    "名前が長いクラス", "a" * 80, *(f"transaction_type_card_present_{k:03d}" for k in range(5)),
]


@pytest.fixture(scope="module")
def long_names_server(tmp_path_factory) -> Iterator[str]:
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("long_names_logdir")
    rng = np.random.default_rng(11)
    labels = rng.integers(0, len(LONG_NAMES), 400)
    predictions = np.where(rng.random(400) < 0.2, rng.integers(0, len(LONG_NAMES), 400), labels)
    tb_imbalance.log_report(root / "long", labels, predictions, 0, class_names=LONG_NAMES, image=False, curves=False)
    # 100 classes: a heat map and its top confusions, the two wire classes mistaken for each other most.
    many = [*LONG_NAMES, *(f"transaction_type_card_present_{k:03d}" for k in range(5, 96))]
    labels = np.concatenate([np.zeros(40, int), np.ones(30, int), rng.integers(0, 100, 1000)])
    predictions = np.concatenate([np.repeat([0, 1], 20), np.repeat([1, 0], 15), labels[70:]])
    predictions[70::50] = (predictions[70::50] + 7) % 100  # single mistakes elsewhere
    tb_imbalance.log_report(root / "long", labels, predictions, 0, name="many_names", class_names=many, image=False,
                            curves=False, per_class_scalars=False)
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


# Each name cell's characters drawn inside every box that clips them (an ellipsis's characters count
# as drawn), and the box of its text.
_SHOWN_NAMES = """heads => heads.map((head) => {
  const walker = document.createTreeWalker(head, NodeFilter.SHOW_TEXT);
  let shown = "";
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const own = [];
    for (let node = text.parentElement; node !== head.parentElement; node = node.parentElement)
      if (getComputedStyle(node).overflow !== "visible") own.push(node.getBoundingClientRect());
    let offset = 0;
    for (const character of Array.from(text.data)) {
      const range = document.createRange();
      range.setStart(text, offset);
      range.setEnd(text, offset + character.length);
      offset += character.length;
      const r = range.getBoundingClientRect();
      const x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
      if (own.every((c) => x >= c.left && x <= c.right && y >= c.top && y <= c.bottom)) shown += character;
    }
  }
  const line = head.querySelector("span") ?? head;
  const box = line.getBoundingClientRect();
  return { shown, title: head.title, text: head.textContent, box: [box.left, box.right, box.top, box.bottom],
           orientation: getComputedStyle(line).textOrientation };
})"""


def test_long_column_heads_keep_their_distinct_ends_in_sight_and_do_not_overlap(browser, long_names_server):
    for width in (1400, 700):
        for dashboard in dashboard_page(browser, long_names_server, f"long_column_heads_{width}", width=width):
            page = dashboard.open(runs=["long"])
            assert dashboard.testid("matrix-grid").get_attribute("class") == "matrix-grid"  # heads read upwards
            heads: list[dict[str, Any]] = page.locator("th.col-label").evaluate_all(_SHOWN_NAMES)
            assert [head["title"] for head in heads] == [head["text"] for head in heads] == LONG_NAMES
            small, large = heads[0]["shown"], heads[1]["shown"]
            # Cut at their end, both heads read "transaction_type_wire_do…".
            assert small != large and small.endswith("mestic_small") and large.endswith("mestic_large"), (small, large)
            assert heads[2]["shown"].endswith("(1)</script>") and heads[3]["shown"] == "名前が長いクラス"
            assert heads[4]["shown"].endswith("a" * 12) and len(heads[4]["shown"]) < 20
            assert heads[5]["shown"].endswith("_present_000")
            assert page.locator("[data-testid=matrix-grid] thead script").count() == 0  # shown as text
            assert {head["orientation"] for head in heads} == {"sideways"}  # upright glyphs do not stand on their heads
            boxes = [head["box"] for head in heads]
            for left, right in zip(boxes, boxes[1:]):
                assert left[1] <= right[0], (left, right)  # side by side, apart
                assert left[3] - left[2] <= 111 and left[1] - left[0] < 20
            dashboard.problems.assert_none()


def test_top_confusions_keep_the_distinct_ends_of_long_names_in_sight(browser, long_names_server):
    for dashboard in dashboard_page(browser, long_names_server, "long_names_top_confusions"):
        page = dashboard.open(tag="many_names", runs=["long"])
        rows = dashboard.testid("top-confusion-row")
        assert [rows.nth(k).get_attribute(f"data-{end}") for k in (0, 1) for end in ("true", "pred")] == ["0", "1", "1", "0"]
        names = [rows.nth(k).locator("td.name").evaluate_all(_SHOWN_NAMES) for k in (0, 1)]
        assert [[name["title"] for name in row] for row in names] == [LONG_NAMES[:2], LONG_NAMES[1::-1]]
        shown = [[name["shown"] for name in row] for row in names]
        # Cut at their end, all four read "transact…".
        assert [name[-8:] for row in shown for name in row] == ["ic_small", "ic_large", "ic_large", "ic_small"], shown
        assert all(len(name) < len(LONG_NAMES[0]) for row in shown for name in row), shown  # cut, to fit
        dashboard.problems.assert_none()
