"""What a newcomer sees first, in a real headless Chromium against a real ``tensorboard``.

One ``tensorboard --load_fast=true`` process serves a logdir shaped like the
demo's: runs of three class sets under one tag, as training the same
strategies on several data sets gives them.

* ``cancer/*`` (2 classes, training counts given): ``baseline``,
  ``class_weights``, ``oversampling``;
* ``digits/*`` (10 long-tailed classes, training counts, the examples
  behind each cell): ``weighted`` and ``baseline`` (the baseline is not the
  set's first run);
* ``text/*`` (3 classes): ``first`` and ``second`` (no run named baseline).

Each class set must be compared with its own baseline with no error styling
(issue 17's first look), significance must read without hovering, the
header must count classes per class set, the trends must draw one class
set at a time, the tables must fit their card from 1280 px, and the plots
must have legends. Numbers are checked against scikit-learn / statsmodels
computed from the matrices the logdir was written with.

A log directory with no report yet (a ``tensorboard`` of its own) must say
how to start, and show the first run when it is written.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Any, Iterator

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from browser_support import browser  # noqa: F401  (pytest fixture, used by name)
from browser_support import Dashboard, dashboard_page, read_table, wait_ready
from support import labels_from_matrix, tensorboard_server

pytest.importorskip("playwright.sync_api")

TAG = "confusion_matrix"
STEPS = (0, 1)
CANCER = ["benign", "malignant"]
DIGITS = [str(digit) for digit in range(10)]
TEXT = ["a", "b", "c"]
DIGIT_SUPPORT = np.array([2, 2, 4, 6, 9, 16, 24, 37, 55, 90])
DIGIT_TRAIN_COUNTS = [3, 5, 8, 12, 19, 30, 46, 72, 112, 180]
CANCER_TRAIN_COUNTS = [357, 21]

# The runs in the order the dashboard lists them (by name), and each class set's default baseline.
RUNS = [
    "cancer/baseline", "cancer/class_weights", "cancer/oversampling",
    "digits/baseline", "digits/weighted",
    "text/first", "text/second",
]  # fmt: skip
DEFAULT_BASELINES = ["cancer/baseline", "digits/baseline", "text/first"]


def _digits_matrix(recalls: np.ndarray) -> np.ndarray:
    """Each class keeps ``recall`` of its rows; the rest goes to the next larger class."""
    cm = np.zeros((10, 10), dtype=np.int64)
    for index, (support, recall) in enumerate(zip(DIGIT_SUPPORT, recalls)):
        right = int(round(support * recall))
        cm[index, index] = right
        cm[index, (index + 1) % 10] = support - right
    return cm


MATRICES = {
    "cancer/baseline": np.array([[175, 3], [6, 5]]),
    "cancer/class_weights": np.array([[174, 4], [2, 9]]),
    "cancer/oversampling": np.array([[170, 8], [3, 8]]),
    "digits/baseline": _digits_matrix(np.array([0, 0, 0.25, 0.5, 0.55, 0.62, 0.7, 0.8, 0.9, 0.6])),
    "digits/weighted": _digits_matrix(np.array([0.5, 0.5, 0.75, 0.66, 0.78, 0.8, 0.8, 0.9, 0.93, 0.98])),
    "text/first": np.array([[30, 5, 5], [4, 20, 6], [2, 3, 25]]),
    "text/second": np.array([[34, 3, 3], [2, 25, 3], [2, 2, 26]]),
}


def _matrix_at(run: str, step: int) -> np.ndarray:
    """The last step is the matrix above; the first one moves a row off the diagonal."""
    cm = MATRICES[run].copy()
    if step == STEPS[0]:
        k = int(np.argmax(cm.diagonal()))
        cm[k, k] -= 1
        cm[k, (k + 1) % len(cm)] += 1
    return cm


def _write_logdir(root: pathlib.Path) -> None:
    import tb_imbalance

    rng = np.random.default_rng(17)
    for run in RUNS:
        names = CANCER if run.startswith("cancer") else DIGITS if run.startswith("digits") else TEXT
        counts = CANCER_TRAIN_COUNTS if run.startswith("cancer") else DIGIT_TRAIN_COUNTS if run.startswith("digits") else None
        for step in STEPS:
            cm = _matrix_at(run, step)
            if run.startswith("digits"):
                # Scores whose argmax is the matrix's prediction, and 8x8 pictures: the examples panel.
                y_true, y_pred = labels_from_matrix(cm)
                scores = rng.random((len(y_true), 10)) * 0.5
                scores[np.arange(len(y_true)), y_pred] += 1.0 + rng.random(len(y_true))
                scores /= scores.sum(axis=1, keepdims=True)
                pictures = rng.random((len(y_true), 8, 8)).astype("float32")
                tb_imbalance.log_report(
                    root / run, y_true, scores, step, name=TAG, class_names=names, image=False,
                    class_counts=counts, examples=pictures,
                )
            else:
                tb_imbalance.log_matrix(root / run, cm, step, name=TAG, class_names=names, image=False, class_counts=counts)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("first_look_logdir")
    _write_logdir(root)
    with tensorboard_server(root, load_fast=True) as base_url:
        yield base_url


def _dashboard(browser, server, request, width: int) -> Iterator[Dashboard]:
    # Tall enough that the tables' virtualised rows are all drawn (read_table reads drawn rows).
    yield from dashboard_page(browser, server, request.node.name, width=width, height=1600)


@pytest.fixture
def dashboard(browser, server, request) -> Iterator[Dashboard]:
    yield from _dashboard(browser, server, request, 1280)


@pytest.fixture(params=[1280, 1600])
def wide_dashboard(browser, server, request) -> Iterator[Dashboard]:
    yield from _dashboard(browser, server, request, request.param)


def _groups(page) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=report-group]:not([hidden])")].map((group) => ({
            runs: [...group.querySelectorAll("[data-testid=report-run-head]")].map((head) => head.dataset.run),
            baseline: [...group.querySelectorAll("[data-testid=report-run-head].is-baseline")].map((head) => head.dataset.run),
            deltas: group.querySelectorAll("[data-testid=report-row] .delta").length,
            title: group.querySelector("[data-testid=report-group-title]").textContent,
        }))"""
    )


def _baseline_selects(page) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=baseline-select]")].filter((s) => s.offsetParent !== null)
            .map((select) => ({value: select.value, options: [...select.options].map((o) => o.value),
                               label: select.closest("label").querySelector(".field-label").textContent}))"""
    )


def _newcombe_direction(cm: np.ndarray, base: np.ndarray, index: int, field: str) -> str:
    axis = 1 if field == "recall" else 0
    low, high = confint_proportions_2indep(
        int(cm[index, index]), int(cm.sum(axis=axis)[index]),
        int(base[index, index]), int(base.sum(axis=axis)[index]),
        method="newcomb", compare="diff",
    )  # fmt: skip
    return "better" if low > 0 else "worse" if high < 0 else "ns"


def _visible_error_boxes(page) -> list[str]:
    """Texts of visible boxes drawn in the error colours (pink background or red text)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".section-message, .pivot-message, .page-message, [role=alert]")]
            .filter((node) => node.offsetParent !== null && node.textContent.trim())
            .map((node) => node.textContent)"""
    )


# --------------------------------------------------------------------------
# 1. Each class set compared with its own baseline
# --------------------------------------------------------------------------


def test_first_load_compares_each_class_set_with_its_own_baseline_and_shows_no_error(dashboard):
    page = dashboard.open()
    assert page.evaluate("document.body.dataset.view") == "report"
    assert _visible_error_boxes(page) == []
    groups = _groups(page)
    # One table per class set, each led by its baseline: named "baseline", else the set's first run.
    assert [group["baseline"] for group in groups] == [[run] for run in DEFAULT_BASELINES]
    assert [group["runs"] for group in groups] == [
        ["cancer/baseline", "cancer/class_weights", "cancer/oversampling"],
        ["digits/baseline", "digits/weighted"],
        ["text/first", "text/second"],
    ]
    assert all(group["deltas"] > 0 for group in groups)  # every class set has differences
    assert groups[1]["title"].endswith("compared with its baseline digits/baseline")
    # One baseline picker per class set, each offering only its set's runs.
    selects = _baseline_selects(page)
    assert [select["value"] for select in selects] == DEFAULT_BASELINES
    assert selects[2]["options"] == ["text/first", "text/second"]
    assert selects[1]["label"] == "Baseline · class set 2 (10 classes)"
    # The numbers: differences to each set's own baseline, significant exactly where Newcombe says.
    table = read_table(page)
    for run, base in (("cancer/class_weights", "cancer/baseline"), ("digits/weighted", "digits/baseline"), ("text/second", "text/first")):
        names = CANCER if run.startswith("cancer") else DIGITS if run.startswith("digits") else TEXT
        cm, base_cm = MATRICES[run], MATRICES[base]
        for index, name in enumerate(names):
            recall = cm[index, index] / cm[index].sum()
            base_recall = base_cm[index, index] / base_cm[index].sum()
            cell = table[name][run]["recall"]
            assert cell["delta"] == pytest.approx(recall - base_recall, abs=1e-12), (run, name)
            if abs(recall - base_recall) >= 5e-5:
                assert cell["direction"] == _newcombe_direction(cm, base_cm, index, "recall"), (run, name)
    # The URL keeps one baseline per class set.
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["baseline"] == DEFAULT_BASELINES
    dashboard.problems.assert_none()


def test_the_matrix_offers_to_subtract_only_runs_of_its_class_set(dashboard):
    page = dashboard.open()
    dashboard.testid("matrix-run").select_option("digits/baseline")
    wait_ready(page)
    dashboard.testid("matrix-diff-mode").select_option("runs")
    wait_ready(page)
    offered = dashboard.testid("matrix-diff-run").evaluate("(select) => [...select.options].map((option) => option.value)")
    assert offered == ["digits/weighted"]  # runs of other class sets could never be subtracted
    assert _visible_error_boxes(page) == []
    dashboard.problems.assert_none()


def test_an_unknown_normalisation_in_a_link_falls_back_to_counts(dashboard):
    page = dashboard.open(normalize="bogus")
    assert dashboard.testid("matrix-normalize").input_value() == "none"
    assert _visible_error_boxes(page) == []
    dashboard.problems.assert_none()


def test_changing_one_class_sets_baseline_keeps_the_others_and_the_link_reproduces_it(dashboard):
    page = dashboard.open()
    dashboard.testid("baseline-select").nth(1).select_option("digits/weighted")
    wait_ready(page)
    groups = _groups(page)
    assert [group["baseline"] for group in groups] == [["cancer/baseline"], ["digits/weighted"], ["text/first"]]
    assert groups[1]["runs"] == ["digits/baseline", "digits/weighted"]  # display order kept; the badge moved
    table = read_table(page)
    cm, base = MATRICES["digits/baseline"], MATRICES["digits/weighted"]
    assert table["9"]["digits/baseline"]["recall"]["delta"] == pytest.approx(cm[9, 9] / 90 - base[9, 9] / 90, abs=1e-12)
    assert table["9"]["digits/baseline"]["recall"]["direction"] == "worse"
    assert table["9"]["digits/weighted"]["recall"]["delta"] is None
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["baseline"] == ["cancer/baseline", "digits/weighted", "text/first"]
    # Inside TensorBoard's tab the address bar keeps #imbalance: the header's link is this page's URL.
    assert dashboard.testid("view-link").get_attribute("href") == page.url
    # The link reproduces the choice.
    page.goto(page.url)
    wait_ready(page)
    assert [select["value"] for select in _baseline_selects(page)] == ["cancer/baseline", "digits/weighted", "text/first"]
    assert [group["baseline"] for group in _groups(page)][1] == ["digits/weighted"]
    # The pivot follows the same baselines.
    dashboard.testid("view-pivot").click()
    wait_ready(page)
    pivot_baselines = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=pivot-group]")].map((group) =>
            [...group.querySelectorAll("[data-testid=pivot-run-head].is-baseline")].map((head) => head.dataset.run))"""
    )
    assert pivot_baselines == [["cancer/baseline"], ["digits/weighted"], ["text/first"]]
    assert _visible_error_boxes(page) == []
    dashboard.problems.assert_none()


# --------------------------------------------------------------------------
# 2. Significance at a glance
# --------------------------------------------------------------------------


def test_not_significant_reads_as_text_and_the_three_looks_differ(dashboard):
    page = dashboard.open(runs=["cancer/baseline", "cancer/class_weights", "digits/baseline", "digits/weighted"])
    table = read_table(page)
    # cancer/class_weights' malignant recall: 9/11 against 5/11, Newcombe's interval includes 0.
    cell = table["malignant"]["cancer/class_weights"]["recall"]
    assert _newcombe_direction(MATRICES["cancer/class_weights"], MATRICES["cancer/baseline"], 1, "recall") == "ns"
    assert cell["direction"] == "ns"
    shown = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=report-row] .delta.ns")].map((delta) => ({
            text: delta.innerText, visible: delta.querySelector("[data-testid=ns-mark]")?.getBoundingClientRect().width > 0}))"""
    )
    assert shown and all(item["text"].endswith("n.s.") and item["visible"] for item in shown), shown
    # digits/weighted's recall of "9" (88/90 against 54/90) is significant; its F1 is not tested.
    assert table["9"]["digits/weighted"]["recall"]["direction"] == "better"
    assert table["9"]["digits/weighted"]["f1"]["direction"] == "untested"
    looks = page.evaluate(
        """() => Object.fromEntries(["better", "ns", "untested"].map((kind) => {
            const delta = document.querySelector(`[data-testid=report-row] .delta.${kind}`);
            const style = getComputedStyle(delta);
            return [kind, {color: style.color, weight: style.fontWeight, style: style.fontStyle, text: delta.innerText}];
        }))"""
    )
    assert len({(look["color"], look["weight"], look["style"]) for look in looks.values()}) == 3, looks
    assert looks["better"]["weight"] == "700" and looks["untested"]["style"] == "italic"
    assert "n.s." in looks["ns"]["text"] and "n.s." not in looks["untested"]["text"]
    # A one-line legend on the card explains the three looks and the bar.
    legend = dashboard.testid("significance-legend")
    assert legend.is_visible()
    text = legend.inner_text()
    for words in ("significant", "n.s.", "not significant", "not tested", "95% interval"):
        assert words in text
    tops = legend.locator(".legend-item").evaluate_all("items => items.map((item) => Math.round(item.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops  # one line at 1280 px
    dashboard.problems.assert_none()


def test_with_one_run_per_class_set_the_legend_explains_only_the_bar(dashboard):
    def legend_state() -> dict[str, Any]:
        return page.evaluate(
            """() => {
                const legend = document.querySelector('[data-testid=significance-legend]');
                return {shown: legend.offsetParent !== null, text: legend.innerText.replace(/\\s+/g, " ").trim(), title: legend.title,
                        items: [...legend.querySelectorAll('.legend-item')].filter((item) => item.offsetParent !== null)
                            .map((item) => item.dataset.testid ?? item.textContent)};
            }"""
        )

    bar = "The bar under recall and precision spans scores 0 to 1; its dark part is the score's 95% Wilson interval."
    # One run, then two runs of different class sets: no difference to the baseline anywhere on the card.
    for runs in (["cancer/baseline"], ["cancer/baseline", "text/first"]):
        page = dashboard.open(runs=runs)
        assert page.locator("[data-testid=report-row] .delta").count() == 0
        assert legend_state() == {"shown": True, "text": "95% interval", "title": bar, "items": ["legend-interval"]}, runs
        assert dashboard.testid("compare-alone-hint").is_visible()  # the sidebar says what a comparison needs
    # A second run of the class set: its differences, and the legend's part on them, come back.
    page.locator('[data-testid=run-checkbox][data-run="cancer/class_weights"]').check()
    wait_ready(page)
    state = legend_state()
    assert state["items"] == ["Difference to the baseline:", "legend-significant", "legend-ns", "legend-untested", "legend-interval"]
    assert state["title"].startswith("Recall and precision differences are tested at 95%") and state["title"].endswith(bar)
    assert page.locator("[data-testid=report-row] .delta").count() > 0
    dashboard.problems.assert_none()


def test_summary_rows_say_they_are_not_tested(dashboard):
    page = dashboard.open(runs=["cancer/baseline", "cancer/class_weights"])
    table = read_table(page)
    for row in ("macro avg", "weighted avg", "MCC"):
        for field in ("recall", "precision", "f1"):
            cell = table[row]["cancer/class_weights"].get(field)
            if cell is None or cell["delta"] is None or abs(cell["delta"]) < 5e-5:
                continue
            assert cell["direction"] == "untested", (row, field)
            assert cell["delta_title"].startswith("not tested: only per-class recall and precision are tested"), (row, field)
            assert "no examples or predictions of this class" not in cell["delta_title"]
    dashboard.problems.assert_none()


def _bar_geometry(page, cell_selector: str) -> list[dict[str, float]]:
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter((cell) => cell.offsetParent !== null).map((cell) => {
            const value = cell.querySelector(".value");
            const bar = cell.querySelector("[data-testid=interval-bar]");
            const range = bar.querySelector(".interval-range");
            const text = document.createRange();
            text.selectNodeContents(value.firstChild);
            const valueBox = text.getBoundingClientRect();
            const barBox = bar.getBoundingClientRect();
            const colour = getComputedStyle(range).backgroundColor.match(/[\\d.]+/g).map(Number);
            return {height: barBox.height, gap: barBox.top - valueBox.bottom, rangeWidth: range.getBoundingClientRect().width,
                    alpha: colour.length > 3 ? colour[3] : 1, rgb: colour.slice(0, 3), opacity: Number(getComputedStyle(bar).opacity)};
        })""",
        cell_selector,
    )


def test_interval_bars_are_visible_without_hovering_in_the_table_and_the_pivot(dashboard):
    page = dashboard.open(runs=["digits/baseline", "digits/weighted"])
    bars = _bar_geometry(page, "[data-testid=report-row] [data-testid=report-cell]:has([data-testid=interval-bar])")
    assert len(bars) == 2 * 2 * len(DIGITS)  # recall and precision of both runs (no class is never predicted)
    for bar in bars:
        assert bar["height"] >= 3
        assert -2 <= bar["gap"] <= 4  # right under the number, not a row away
        assert bar["alpha"] >= 0.9 and bar["opacity"] == 1
        assert max(bar["rgb"]) - min(bar["rgb"]) > 40 or max(bar["rgb"]) < 160  # a colour, not a pale grey
    assert any(bar["rangeWidth"] >= 10 for bar in bars)
    dashboard.testid("view-pivot").click()
    wait_ready(page)
    bars = _bar_geometry(page, "[data-testid=pivot-cell]:has([data-testid=interval-bar])")
    assert len(bars) == 2 * len(DIGITS)  # recall of both runs
    assert all(bar["height"] >= 3 and -2 <= bar["gap"] <= 4 and bar["alpha"] >= 0.9 for bar in bars)
    pivot_bar = page.locator("[data-testid=pivot-cell][data-run='digits/weighted'][data-class='9'] [data-testid=interval-bar]")
    low, high = float(pivot_bar.get_attribute("data-low")), float(pivot_bar.get_attribute("data-high"))
    assert low < 88 / 90 < high
    dashboard.problems.assert_none()


# --------------------------------------------------------------------------
# 3. Header, trends, widths, examples
# --------------------------------------------------------------------------


def test_header_counts_classes_per_class_set(dashboard):
    page = dashboard.open()
    subtitle = dashboard.testid("page-subtitle")
    assert subtitle.text_content() == f"{TAG} · 15 classes in 3 class sets (2 + 10 + 3) · 7 of 7 runs"
    page = dashboard.open(runs=["digits/baseline", "digits/weighted"])
    assert subtitle.text_content() == f"{TAG} · 10 classes · 2 of 7 runs"
    dashboard.problems.assert_none()


def _trends(page) -> dict[str, Any]:
    return page.evaluate(
        """() => ({
            caption: document.querySelector("[data-testid=trends-caption]").textContent,
            charts: [...document.querySelectorAll("[data-testid=trends-chart]")].map((chart) => ({
                name: chart.dataset.class, lines: chart.querySelectorAll("polyline").length})),
            legend: [...document.querySelectorAll("[data-testid=trends] .run-legend .legend-item[title]")].map((item) => item.title),
        })"""
    )


def test_trends_draw_one_class_set_at_a_time(dashboard):
    page = dashboard.open()
    chooser = dashboard.testid("trends-class-set")
    assert chooser.is_visible()
    assert chooser.locator("option").all_text_contents() == [
        "class set 1 (2 classes)", "class set 2 (10 classes)", "class set 3 (3 classes)",
    ]  # fmt: skip
    trends = _trends(page)
    assert trends["caption"] == "All 2 classes"
    assert trends["legend"] == ["cancer/baseline", "cancer/class_weights", "cancer/oversampling"]
    assert [chart["name"] for chart in trends["charts"]] == CANCER
    assert all(chart["lines"] == 3 for chart in trends["charts"])
    chooser.select_option(label="class set 2 (10 classes)")
    wait_ready(page)
    trends = _trends(page)
    assert trends["caption"] == "All 10 classes"
    assert trends["legend"] == ["digits/baseline", "digits/weighted"]
    assert [chart["name"] for chart in trends["charts"]] == DIGITS
    assert all(chart["lines"] == 2 for chart in trends["charts"])
    # Each chart's headline is its set's baseline's latest recall.
    headline = page.locator("[data-testid=trends-chart][data-class='9'] .chart-value").text_content()
    assert headline == f"{MATRICES['digits/baseline'][9, 9] / 90:.4f}"
    dashboard.problems.assert_none()


def test_tables_fit_their_card_from_1280_px(wide_dashboard):
    page = wide_dashboard.open()
    for view in ("table", "pivot"):
        if view == "pivot":
            wide_dashboard.testid("view-pivot").click()
            wait_ready(page)
        fits = page.evaluate(
            """() => [...document.querySelectorAll("[data-testid=report] table.report-table")].filter((t) => t.offsetParent !== null).map((table) => {
                const card = table.closest(".card").getBoundingClientRect();
                const scroller = table.parentElement;
                return {table: table.getBoundingClientRect().right, card: card.right,
                        scroll: scroller.scrollWidth, client: scroller.clientWidth};
            })"""
        )
        assert len(fits) == 3, view
        for fit in fits:
            assert fit["scroll"] <= fit["client"] + 1, (view, fit)  # nothing hidden behind a scroll
            assert fit["table"] <= fit["card"], (view, fit)
    wide_dashboard.problems.assert_none()


def test_examples_panel_columns_line_up(dashboard):
    page = dashboard.open(runs=["digits/baseline"])
    # The busiest mistake of the last step: every one of its rows is an example.
    cm = MATRICES["digits/baseline"]
    off = cm - np.diag(np.diag(cm))
    true, pred = np.unravel_index(np.argmax(off), off.shape)
    page.locator(f"td[data-testid=matrix-cell][data-true='{true}'][data-pred='{pred}']").click()
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-testid=examples-panel]'); return p && !p.hidden && p.dataset.state === 'ready'; }"
    )
    layout = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=example]")].map((card) => ({
            caption: card.querySelector(".example-top-caption").getBoundingClientRect().height,
            captionLine: parseFloat(getComputedStyle(card.querySelector(".example-top-caption")).lineHeight) || 16,
            scores: [...card.querySelectorAll("[data-testid=example-score]")].map((score) => {
                const box = score.getBoundingClientRect(); return {left: box.left - card.getBoundingClientRect().left,
                right: box.right - card.getBoundingClientRect().left}; }),
        }))"""
    )
    assert len(layout) >= 2
    assert len({round(card["caption"]) for card in layout}) == 1  # the caption wraps in no card
    assert all(card["caption"] < 2 * card["captionLine"] for card in layout)
    columns = {(round(score["left"]), round(score["right"])) for card in layout for score in card["scores"]}
    assert len(columns) == 1, columns  # one score column, at the same place in every card
    dashboard.problems.assert_none()


# --------------------------------------------------------------------------
# 5. The long-tail view and its legend
# --------------------------------------------------------------------------


def test_long_tail_plot_has_a_legend_with_the_thresholds(dashboard):
    page = dashboard.open(runs=["digits/baseline", "digits/weighted"])
    plot = dashboard.testid("recall-vs-count")
    assert plot.is_visible()
    points = plot.locator("[data-testid=class-point]")
    assert points.count() == len(DIGITS)
    legend = dashboard.testid("recall-vs-count-legend")
    assert legend.is_visible()
    items = legend.locator("[data-testid=legend-item]")
    assert items.evaluate_all("items => items.map((item) => item.dataset.bucket)") == ["many", "medium", "few", "none", "threshold"]
    assert items.all_inner_texts()[:3] == ["many-shot (> 100)", "medium-shot (20–100)", "few-shot (< 20)"]
    # Each bucket's swatch has the colour of its points.
    colours = page.evaluate(
        """() => Object.fromEntries(["many", "medium", "few"].map((bucket) => [bucket, [
            getComputedStyle(document.querySelector(`[data-testid=recall-vs-count-legend] [data-bucket=${bucket}] .swatch`)).backgroundColor,
            getComputedStyle(document.querySelector(`[data-testid=class-point].bucket-${bucket}`)).fill]]))"""
    )
    for bucket, (swatch, point) in colours.items():
        assert swatch == point, bucket
    # New thresholds redraw the legend.
    dashboard.testid("threshold-many").fill("50")
    dashboard.testid("threshold-many").dispatch_event("change")
    wait_ready(page)
    assert items.all_inner_texts()[0] == "many-shot (> 50)"
    dashboard.problems.assert_none()


# --------------------------------------------------------------------------
# 6. Before the first report: an empty log directory says how to start
# --------------------------------------------------------------------------


def test_an_empty_log_directory_says_how_to_log_and_shows_the_first_run_when_it_arrives(browser, request, tmp_path):
    import tb_imbalance

    # Only what Keras' own TensorBoard callback writes: scalars, no report.
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(tmp_path / "fit" / "validation"))
    with writer.as_default():
        tf.summary.scalar("epoch_loss", 0.5, step=0)
    writer.close()
    with tensorboard_server(tmp_path, load_fast=True, wait_for_runs=False) as base_url:
        for dashboard in dashboard_page(browser, base_url, request.node.name, width=1280, height=800):
            page = dashboard.open(poll=1)
            assert page.evaluate("document.body.dataset.view") == "empty"
            assert dashboard.testid("page-status").text_content().startswith("Checked ")
            message = dashboard.testid("page-message")
            assert "No confusion matrices" in message.text_content()
            steps = dashboard.testid("get-started")
            assert steps.is_visible()
            code = steps.locator("code").all_text_contents()
            assert 'ClassificationReportCallback("runs/my_run", class_names=[...])' in code[0]
            assert 'tb_imbalance.log_report("runs/my_run", y_true, y_pred, step, class_names=[...])' in code[1]
            assert "Scalars tab" in steps.text_content()
            assert dashboard.testid("baseline-fields").is_hidden()  # no baseline picker without runs
            assert "error" not in (message.get_attribute("class") or "")
            # The first report appears without a reload, and the instructions go.
            tb_imbalance.log_matrix(tmp_path / "fit" / "validation_imbalance", np.array([[9, 1], [2, 3]]), 0, class_names=["ok", "fraud"], image=False)
            page.wait_for_function("document.body.dataset.view === 'report'", timeout=30_000)
            wait_ready(page)
            assert dashboard.testid("get-started").count() == 0
            assert page.get_by_test_id("report-row").count() == 2
            assert dashboard.testid("compare-alone-hint").is_visible()  # one run: nothing to compare yet
            dashboard.problems.assert_none()


# --------------------------------------------------------------------------
# 7. Edge states: one step so far; scores scikit-learn leaves undefined
# --------------------------------------------------------------------------

ONE_STEP_TAG = "first_epoch"
UNDEFINED_TAG = "undefined_scores"
UNDEFINED_NAMES = ["common", "rare", "never_predicted", "no_support"]
UNDEFINED_MATRIX = np.array([[51, 5, 0, 0], [4, 31, 0, 0], [3, 2, 0, 0], [0, 0, 0, 0]])


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory) -> Iterator[str]:
    """``one_step``: 3 classes, only step 0 (tag ``first_epoch``); ``one_step_later``: the same
    classes, only step 4; ``undefined``: a class never predicted and a class without examples
    (tag ``undefined_scores``), steps 0–1."""
    import tb_imbalance

    root = tmp_path_factory.mktemp("edge_logdir")
    tb_imbalance.log_matrix(root / "one_step", np.array([[40, 3, 2], [4, 20, 1], [1, 2, 9]]), 0, name=ONE_STEP_TAG, class_names=TEXT, image=False)
    tb_imbalance.log_matrix(root / "one_step_later", np.array([[38, 4, 3], [5, 19, 1], [1, 3, 8]]), 4, name=ONE_STEP_TAG, class_names=TEXT, image=False)
    for step in (0, 1):
        cm = UNDEFINED_MATRIX - (1 - step) * np.diag([1, 1, 0, 0])
        tb_imbalance.log_matrix(root / "undefined", cm, step, name=UNDEFINED_TAG, class_names=UNDEFINED_NAMES, image=False)
    with tensorboard_server(root, load_fast=True) as base_url:
        yield base_url


@pytest.fixture
def edge_dashboard(browser, edge_server, request) -> Iterator[Dashboard]:
    yield from dashboard_page(browser, edge_server, request.node.name, width=1280, height=800)


def test_a_run_of_one_step_draws_dots_over_one_step_label_and_says_why_there_is_no_line(edge_dashboard):
    page = edge_dashboard.open(tag=ONE_STEP_TAG, runs=["one_step"])
    # One run: the sidebar says what a comparison needs, not how one reads.
    assert edge_dashboard.testid("compare-hint").is_hidden()
    assert edge_dashboard.testid("compare-alone-hint").text_content().startswith("Nothing to compare yet: select a second run")
    caption = edge_dashboard.testid("trends-caption").text_content()
    assert caption == "All 3 classes · one step logged so far (step 0): a line starts at the second"
    charts = page.locator("[data-testid=trends-chart]")
    assert charts.count() == 3
    for index in range(3):
        chart = charts.nth(index)
        assert chart.locator("[data-testid=trends-step-label]").all_text_contents() == ["step 0"]  # not "0" at both ends
        assert chart.locator("circle").count() == 1
    edge_dashboard.problems.assert_none()


def test_runs_of_one_step_at_different_steps_say_each_run_has_one_and_which(edge_dashboard):
    page = edge_dashboard.open(tag=ONE_STEP_TAG, runs=["one_step", "one_step_later"])
    caption = edge_dashboard.testid("trends-caption").text_content()
    assert caption == "All 3 classes · each run has one step logged so far (steps 0, 4): a line starts at its second"
    charts = page.locator("[data-testid=trends-chart]")
    assert charts.count() == 3
    assert charts.nth(0).locator("circle").count() == 2  # a dot per run, no line
    edge_dashboard.problems.assert_none()


def test_with_no_run_selected_the_sidebar_says_to_select_runs_to_compare(edge_dashboard):
    page = edge_dashboard.open(tag=ONE_STEP_TAG, runs=["one_step"])
    edge_dashboard.testid("runs-none").click()
    page.wait_for_function("document.body.dataset.view === 'empty'")
    hint = edge_dashboard.testid("compare-alone-hint")
    assert hint.is_visible()
    assert hint.text_content() == "No run selected: select runs (at least two with the same classes) to compare them."
    edge_dashboard.problems.assert_none()


def test_comparing_steps_of_a_run_of_one_step_says_why_nothing_is_subtracted(edge_dashboard):
    page = edge_dashboard.open(tag=ONE_STEP_TAG, runs=["one_step"])
    edge_dashboard.testid("matrix-diff-mode").select_option("steps")
    wait_ready(page)
    # Not an error: the explanation is a note, the error box stays hidden.
    assert page.locator("[data-testid=matrix] .section-message:not([hidden])").count() == 0
    note = edge_dashboard.testid("matrix-note")
    assert note.is_visible()
    assert note.text_content() == "Only one step of this run is logged (step 0): there is no other step to compare it with yet."
    # The counts stay on screen, not a matrix of zeros (step 0 minus step 0).
    cells = page.get_by_test_id("matrix-cell").evaluate_all("cells => cells.map((cell) => cell.textContent)")
    assert cells[:3] == ["40", "3", "2"]
    edge_dashboard.problems.assert_none()


def test_scores_scikit_learn_leaves_undefined_show_its_zero_and_say_undefined(edge_dashboard):
    from sklearn.metrics import classification_report

    page = edge_dashboard.open(tag=UNDEFINED_TAG, runs=["undefined"])
    table = read_table(page)
    y_true, y_pred = labels_from_matrix(UNDEFINED_MATRIX)
    expected = classification_report(
        y_true, y_pred, labels=range(4), target_names=UNDEFINED_NAMES, output_dict=True, zero_division=0
    )
    for name in UNDEFINED_NAMES + ["macro avg", "weighted avg"]:
        for field, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert table[name]["undefined"][field]["value"] == pytest.approx(expected[name][key], abs=1e-12), (name, field)
    never, empty = table["never_predicted"]["undefined"], table["no_support"]["undefined"]
    assert never["precision"]["text"] == "0.0000" and never["precision"]["interval"] is None
    assert never["precision"]["title"].startswith("precision undefined: the class is never predicted at this step; shown as 0")
    assert never["recall"]["title"].startswith("recall 0.0000 · 95% interval 0.0000–")  # 0 of 5: measured, not undefined
    assert never["f1"]["title"] == ""  # 0 / (0 + 0 + 5): defined
    assert empty["recall"]["title"].startswith("recall undefined: the class has no examples at this step; shown as 0")
    assert empty["f1"]["title"].startswith("F1 undefined: the class has no examples and is never predicted")
    assert empty["support"]["title"].startswith("No examples of this class at this step: its recall is undefined")
    assert never["support"]["title"] == "Only 5 examples (below 30): this class's scores are uncertain"
    edge_dashboard.problems.assert_none()
