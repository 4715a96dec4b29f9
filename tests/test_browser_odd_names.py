"""Names the page could show wrongly, in a real headless Chromium against a real ``tensorboard``.

A right-to-left override in a run or class name must not reorder the text
around it (each name in its own ``<bdi>``, no invisible marks in the text), and
a class or run name's bidi controls show as their code points (``⟨U+202E⟩evil``)
while requests and links keep the name as it is;
class names that differ only in white space stay apart on screen; long names, and short ones as wide
(11 CJK characters), keep their end in sight where they are cut; a
Markdown export's heading keeps a baseline name ending in ``#``.

The logdir: class set 1 — runs ``base`` and ``\\u202ebinary`` with the classes
``\\u202eevil``, ``ok``, ``fine``; class set 2 — runs ``exp #`` (its default
baseline) and ``exp2`` with ``cat``, ``cat `` and `` cat`` (written as earlier versions did: the writers now
refuse names with white space at their ends); each logs its classes' training counts.
A second logdir holds runs named like the properties of every JavaScript object (``__proto__``,
``constructor``, ``toString``) beside ``baseline``: each gets its own colour, values and no error.

Fixtures and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Iterator

import numpy as np
import pytest

from browser_support import browser, dashboard_page, read_pivot, read_table, wait_ready  # noqa: F401  (browser: a pytest fixture)
from support import tensorboard_server

pytest.importorskip("playwright.sync_api")

EVIL_RUN = "\u202ebinary"
EVIL_RUN_SHOWN = "⟨U+202E⟩binary"
EVIL_CLASS = "\u202eevil"
SETS = {("base", EVIL_RUN): ["ok", EVIL_CLASS, "fine"], ("exp #", "exp2"): ["cat", "cat ", " cat"]}
TAG = "confusion_matrix"
#: Training examples per class, so that the imbalance card plots each class as a point.
CLASS_COUNTS = [500, 8, 60]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("odd_names_logdir")
    rng = np.random.default_rng(0)
    for runs, names in SETS.items():
        for run in runs:
            labels = rng.integers(0, 3, 120)
            scores = rng.random((120, 3)) + 2.0 * np.eye(3)[labels]
            if names == [name.strip() for name in names]:
                tb_imbalance.log_report(root / run, labels, scores / scores.sum(1, keepdims=True), 0,
                                        class_names=names, image=False, class_counts=CLASS_COUNTS)
            else:
                _log_as_written_before(root / run, labels, scores / scores.sum(1, keepdims=True), names)
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


def _log_as_written_before(run_dir: pathlib.Path, labels: np.ndarray, scores: np.ndarray, names: list[str]) -> None:
    """``log_report`` of class names the writers now refuse (``"cat "`` beside ``"cat"``), as earlier versions wrote
    them: the step checked with stand-in names, then given ``names``. The dashboard still reads such runs."""
    import dataclasses

    from tb_imbalance import ReportWriter, core
    from tb_imbalance.step import ClassSet, ReportStep

    predicted = scores.argmax(axis=1)
    report = ReportStep.of(0, TAG, core.confusion_matrix(labels, predicted, num_classes=len(names)),
                           class_counts=CLASS_COUNTS, curves=core.curve_summary(scores, labels, predicted))
    report = dataclasses.replace(report, classes=ClassSet(tuple(names), tuple(CLASS_COUNTS)))
    with ReportWriter(run_dir) as writer:
        writer.write_report(report, image=False)


@pytest.fixture
def dashboard(browser, server, request):
    yield from dashboard_page(browser, server, request.node.name, accept_downloads=True)


_TEXT_AND_ISOLATED = "element => [element.textContent, [...element.querySelectorAll('bdi')].map(b => b.textContent)]"


def test_names_in_titles_and_captions_are_isolated_without_invisible_marks(dashboard):
    page = dashboard.open(runs=["base", EVIL_RUN, "exp #", "exp2"], matrix_run=EVIL_RUN)
    titles = dashboard.testid("report-group-title").evaluate_all(f"elements => elements.map({_TEXT_AND_ISOLATED})")
    # an override in "\u202eevil" turned "…, fine), compared with its baseline base" around on screen
    assert titles[0] == [
        "Class set 1: 3 classes (ok, ⟨U+202E⟩evil, fine), compared with its baseline base", ["ok", "⟨U+202E⟩evil", "fine", "base"]
    ]
    assert titles[1][1] == ["cat", "cat\u2423", "\u2423cat", "exp #"]
    caption = dashboard.testid("matrix-caption").evaluate(_TEXT_AND_ISOLATED)
    assert caption[0].startswith(f"{EVIL_RUN_SHOWN} at step 0 · 3 classes") and caption[1] == [EVIL_RUN_SHOWN]
    assert "\u2068" not in page.evaluate("document.body.innerText")
    dashboard.problems.assert_none()


def test_class_names_that_differ_in_white_space_stay_apart_and_exports_keep_them(dashboard):
    page = dashboard.open(runs=["exp #", "exp2", "base"])
    shown = page.locator("[data-testid=report-group]").nth(1).locator("th.class-name").evaluate_all(
        "cells => cells.map(c => c.textContent)")
    assert [name for name in shown if "cat" in name] == ["cat", "cat\u2423", "\u2423cat"]  # all three were "cat"
    with page.expect_download() as download:
        dashboard.testid("export-markdown").click()
    markdown = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
    # CommonMark took " #" at a heading's end for its closing mark: the baseline "exp #" became "exp"
    assert "compared with its baseline exp \\#\n" in markdown
    assert "\u2068" not in markdown and "\u2423" not in markdown  # headings and cells hold the names as they are
    assert "### Class set 2: 3 classes (cat, cat ,  cat), compared with its baseline exp \\#\n" in markdown
    cells = [line for line in markdown.splitlines() if line.startswith("|")]
    assert any(line.startswith("| cat  |") for line in cells) and any(line.startswith("|  cat |") for line in cells)
    dashboard.problems.assert_none()


def test_bidi_controls_in_class_names_show_as_code_points_in_table_matrix_and_tooltip(dashboard):
    page = dashboard.open(runs=["base"])
    shown = "⟨U+202E⟩evil"  # the override showed "evil" as "live", and "\u202eok" would have passed for "ko"
    names = dashboard.testid("report-group").first.locator("th.class-name").evaluate_all(
        "cells => cells.map(c => c.textContent)")
    assert [name for name in names if name in ("ok", shown, "fine")] == ["ok", shown, "fine"]
    rows = page.locator("th.row-label").evaluate_all("cells => cells.map(c => [c.textContent, c.title])")
    columns = page.locator("th.col-label").evaluate_all("cells => cells.map(c => [c.textContent, c.title])")
    assert rows == columns == [["ok", "ok"], [shown, EVIL_CLASS], ["fine", "fine"]]  # titles keep the name as it is
    page.locator('[data-testid=matrix-cell][data-true="1"][data-pred="0"]').hover()
    tooltip = dashboard.testid("matrix-tooltip")
    tooltip.wait_for(state="visible")
    assert tooltip.locator(".tooltip-title").text_content() == f"{shown} → ok"
    assert "\u202e" not in dashboard.testid("report-group").first.inner_text()
    dashboard.problems.assert_none()


_RUN_TEXTS = """run => ({
    runList: [...document.querySelectorAll('.run-item')].filter(item => item.title === run)
        .map(item => item.querySelector('.run-name').textContent),
    options: [...document.querySelectorAll('option')].filter(option => option.value === run).map(option => option.textContent),
    columnHead: [...document.querySelectorAll('[data-testid=report-run-head]')].filter(head => head.dataset.run === run)
        .map(head => head.querySelector('.run-name').textContent),
    trendsLegend: [...document.querySelectorAll('[data-testid=trends] .legend-item')].filter(item => item.title === run)
        .map(item => item.querySelector('.run-name').textContent),
    curvesLegend: [...document.querySelectorAll('[data-testid=curves-legend-item]')].filter(item => item.dataset.run === run)
        .map(item => item.querySelector('.run-name').textContent),
    pivotHead: [...document.querySelectorAll('[data-testid=pivot-run-head]')].filter(head => head.dataset.run === run)
        .map(head => head.querySelector('.run-name').textContent),
})"""


def test_bidi_controls_in_run_names_show_as_code_points_wherever_the_run_is_shown(dashboard):
    page = dashboard.open(runs=["base", EVIL_RUN], matrix_run=EVIL_RUN)
    shown = page.evaluate(_RUN_TEXTS, EVIL_RUN)
    # the override showed "binary" as "yranib" in the run list, the selects, the column head and the legends
    assert shown["runList"] == shown["columnHead"] == shown["trendsLegend"] == shown["curvesLegend"] == [EVIL_RUN_SHOWN]
    assert len(shown["options"]) >= 3 and set(shown["options"]) == {EVIL_RUN_SHOWN}  # baseline, matrix, imbalance
    caption = dashboard.testid("matrix-caption").evaluate(_TEXT_AND_ISOLATED)
    assert caption[0].startswith(f"{EVIL_RUN_SHOWN} at step 0") and caption[1] == [EVIL_RUN_SHOWN]
    # The compare view: run A − run B.
    dashboard.testid("matrix-run").select_option("base")
    wait_ready(page)
    dashboard.testid("matrix-diff-mode").select_option("runs")
    wait_ready(page)
    assert dashboard.testid("matrix-diff-run").input_value() == EVIL_RUN  # the data keep the name as it is
    caption = dashboard.testid("matrix-caption").evaluate(_TEXT_AND_ISOLATED)
    assert caption[0].startswith(f"A = base, step 0, B = {EVIL_RUN_SHOWN}, step 0: cells show A − B"), caption
    assert caption[1] == ["base", EVIL_RUN_SHOWN]
    assert "\u202e" not in page.evaluate("document.body.innerText")
    assert urllib.parse.quote(EVIL_RUN) in page.url  # the link holds the run's name
    page = dashboard.open(runs=["base", EVIL_RUN], view="pivot")
    assert page.evaluate(_RUN_TEXTS, EVIL_RUN)["pivotHead"] == [EVIL_RUN_SHOWN]
    assert "\u202e" not in page.evaluate("document.body.innerText")
    dashboard.problems.assert_none()


_RUN_SVG_TEXTS = """run => {
    const titles = (selector) => [...document.querySelectorAll(selector)].filter((node) => node.dataset.run === run)
        .map((node) => node.querySelector(':scope > title').textContent);
    const named = [...document.querySelectorAll('title')].map((title) => title.textContent)
        .concat([...document.querySelectorAll('[aria-label]')].map((node) => node.getAttribute('aria-label')));
    return {
        trendLines: titles('[data-testid=trends-chart] polyline'),
        curveLines: titles('[data-testid=curve-line]'),
        operatingPoints: titles('[data-testid=operating-point]'),
        reliabilityPoints: titles('[data-testid=reliability-point]'),
        trendCharts: [...document.querySelectorAll('[data-testid=trends-chart] svg[role=img]')]
            .map((chart) => [chart.getAttribute('aria-label'), chart.querySelector(':scope > title').textContent]),
        naming: named.filter((text) => text.includes('binary')),
    };
}"""


def test_bidi_controls_in_run_names_show_as_code_points_in_svg_titles_and_aria_labels(dashboard):
    page = dashboard.open(runs=["base", EVIL_RUN])
    texts = page.evaluate(_RUN_SVG_TEXTS, EVIL_RUN)  # found by data-run: the data keep the name as it is
    run = f"\u2068{EVIL_RUN_SHOWN}\u2069"  # as the legends show it, isolated from the text around it
    assert texts["trendLines"] and set(texts["trendLines"]) == {f"{run} · recall"}
    assert sorted(title.split(" · ")[1].split(" ")[0] for title in texts["curveLines"]) == ["AP", "ROC-AUC", "calibration"]
    assert all(title.startswith(f"{run} · ") for title in texts["curveLines"])
    assert len(texts["operatingPoints"]) == 1 and texts["operatingPoints"][0].startswith(f"{run} · argmax decision: precision ")
    assert texts["reliabilityPoints"] and all(title.startswith(f"{run} · scores ") for title in texts["reliabilityPoints"])
    # Each trends chart names the run's latest value, in its aria-label and its title.
    assert len(texts["trendCharts"]) == 3
    for label, title in texts["trendCharts"]:
        assert f"{run} recall " in label and f"{run} recall " in title, (label, title)
    # the override turned "binary · recall" into "llacer · yranib" in a tooltip and a screen reader's text
    assert texts["naming"] and not [text for text in texts["naming"] if EVIL_RUN in text or EVIL_RUN_SHOWN not in text]
    dashboard.problems.assert_none()


_CLASS_SVG_TEXTS = """name => {
    const labelOf = (selector) => [...document.querySelectorAll(selector)].map((node) => node.getAttribute('aria-label'));
    const named = [...document.querySelectorAll('title')].map((title) => title.textContent)
        .concat(labelOf('[aria-label]'));
    return {
        trendCharts: [...document.querySelectorAll('[data-testid=trends-chart]')].filter((chart) => chart.dataset.class === name)
            .map((chart) => chart.querySelector('svg[role=img]').getAttribute('aria-label')),
        curveCharts: labelOf('[data-testid=curves-chart] svg[role=img]'),
        points: [...document.querySelectorAll('[data-testid=class-point]')].filter((point) => point.dataset.class === name)
            .map((point) => point.querySelector(':scope > title').textContent),
        bars: [...document.querySelectorAll('[data-testid=imbalance-row]')].filter((row) => row.dataset.class === name)
            .map((row) => row.title),
        cells: [...document.querySelectorAll('[data-testid=matrix-cell]')]
            .map((cell) => [cell.dataset.true, cell.dataset.pred, cell.getAttribute('aria-label'), cell.dataset.value]),
        naming: named.filter((text) => text.includes('evil')),
    };
}"""


def test_bidi_controls_in_class_names_show_as_code_points_in_svg_titles_and_aria_labels(dashboard):
    page = dashboard.open(runs=["base"], curve_class=EVIL_CLASS)
    texts = page.evaluate(_CLASS_SVG_TEXTS, EVIL_CLASS)  # found by data-class: the data keep the name as it is
    name = "\u2068⟨U+202E⟩evil\u2069"  # as the table shows it, isolated from the text around it
    assert len(texts["trendCharts"]) == 1 and texts["trendCharts"][0].startswith(f"{name}: \u2068base\u2069 recall ")
    assert texts["curveCharts"] == [
        f"Precision-recall curve of {name}; dots: the argmax decision",
        f"ROC curve of {name}",
        f"Reliability diagram of {name}; point area by rows",
    ]
    assert len(texts["points"]) == 1 and texts["points"][0].startswith(f"{name}: recall "), texts["points"]
    assert ", 8 training examples (" in texts["points"][0]  # CLASS_COUNTS[1]
    # the support-and-predicted chart's tooltip: the class as the chart's label shows it, not reordered nor hidden
    assert len(texts["bars"]) == 1 and texts["bars"][0].startswith(f"{name}: support "), texts["bars"]
    # The matrix's cells, as a screen reader reads them: ok is class 0, the override's class 1.
    cells = {(int(i), int(j)): (label, value) for i, j, label, value in texts["cells"]}
    assert len(cells) == 9
    assert cells[(1, 0)][0] == f"{name} → \u2068ok\u2069: {int(float(cells[(1, 0)][1])):,}"
    assert cells[(0, 1)][0] == f"\u2068ok\u2069 → {name}: {int(float(cells[(0, 1)][1])):,}"
    # the override turned "evil: …" into "… :live" in a tooltip and a screen reader's text
    assert texts["naming"] and not [text for text in texts["naming"] if EVIL_CLASS in text or name not in text]
    dashboard.problems.assert_none()


_TITLES = """([run, name]) => ({
    curvesLegend: [...document.querySelectorAll('[data-testid=curves-legend-item]')].filter((item) => item.dataset.run === run)
        .map((item) => item.title),
    imbalanceRows: [...document.querySelectorAll('[data-testid=imbalance-row]')].filter((row) => row.dataset.class === name)
        .map((row) => row.title),
    classHeads: [...document.querySelectorAll('[data-testid=report-row]')].filter((row) => row.dataset.class === name)
        .map((row) => row.querySelector('th.class-name').title),
    pivotHeads: [...document.querySelectorAll('[data-testid=pivot-run-head]')].filter((head) => head.dataset.run === run)
        .map((head) => head.title),
    // a title that says more than the name holds it as shown; a name's own tooltip keeps it as it is
    raw: [...document.querySelectorAll('[title]')].map((node) => node.title)
        .filter((title) => /[\\u202e]/.test(title) && title !== run && title !== name),
})"""

_TOP_CONFUSION_TITLE = """async (names) => {
    const { renderTopConfusions } = await import('/data/plugin/imbalance/static/views/top-confusions.js');
    const list = renderTopConfusions({
        ranked: [{ trueIndex: 1, predictedIndex: 0, value: 3 }], names, comparing: false,
        detail: () => ({ count: 3, shareOfTrue: 0.5, shareOfPredicted: 0.5 }), formatValue: String, caption: '',
        onOpen: () => {},
    });
    return list.querySelector('[data-testid=top-confusion-row]').title;
}"""


def test_bidi_controls_in_names_show_as_code_points_in_html_tooltips(dashboard):
    page = dashboard.open(runs=["base", EVIL_RUN], curve_class=EVIL_CLASS, imbalance_run=EVIL_RUN, min_support=1000)
    run, name = f"\u2068{EVIL_RUN_SHOWN}\u2069", "\u2068⟨U+202E⟩evil\u2069"
    titles = page.evaluate(_TITLES, [EVIL_RUN, EVIL_CLASS])  # found by data-run and data-class: they keep the names
    # the override turned "binary, step 0: AP …" into "… :PA 0 pets ,yranib" in the tooltip
    assert len(titles["curvesLegend"]) == 1 and titles["curvesLegend"][0].startswith(f"{run}, step 0: AP "), titles
    assert len(titles["imbalanceRows"]) == 1
    assert titles["imbalanceRows"][0].startswith(f"{name}: support "), titles  # and "evil: support 40" into "04 troppus :live"
    # every class has fewer than 1000 examples in both runs
    assert titles["classHeads"] == [f"{name} — fewer than 1000 examples in \u2068base\u2069, {run}"]
    assert titles["raw"] == []
    assert page.evaluate(_TOP_CONFUSION_TITLE, ["ok", EVIL_CLASS]) == f"Show the examples of {name} → \u2068ok\u2069"
    page = dashboard.open(runs=["base", EVIL_RUN], view="pivot")
    titles = page.evaluate(_TITLES, [EVIL_RUN, EVIL_CLASS])
    assert titles["pivotHeads"] == [f"{run}, step 0"]
    assert titles["raw"] == []
    dashboard.problems.assert_none()


#: Runs named like the properties every JavaScript object has, and the recall of class "a" in each.
OBJECT_NAMED = {"baseline": 0.9, "__proto__": 0.6, "constructor": 0.7, "toString": 0.8}


@pytest.fixture(scope="module")
def object_named_server(tmp_path_factory) -> Iterator[str]:
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("object_named_logdir")
    for run, recall in OBJECT_NAMED.items():
        hits = round(recall * 10)
        for step in range(2):
            cm = np.array([[hits, 10 - hits, 0], [1, 8, 1], [0, 2, 8]]) + step
            tb_imbalance.log_matrix(root / run, cm, step, class_names=["a", "b", "c"], image=False)
    close_directory_writers()
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


_LOOKS = """() => ({
    picker: [...document.querySelectorAll('.run-item')].map(item =>
        [item.title, item.querySelector('.swatch').style.background, Boolean(item.querySelector('.badge-error'))]),
    heads: [...document.querySelectorAll('[data-testid=report-run-head]')].map(head =>
        [head.dataset.run, head.querySelector('.swatch')?.style.background ?? null]),
    recall: [...document.querySelectorAll('[data-testid=report-row][data-class=a] [data-testid=report-cell][data-field=recall]')]
        .map(cell => [cell.dataset.run, Number(cell.dataset.value), cell.querySelector('.delta') ? Number(cell.querySelector('.delta').dataset.delta) : null]),
    lines: [...document.querySelector('[data-testid=trends-chart]').querySelectorAll('polyline')]
        .map(line => [line.querySelector('title').textContent.replace(/[\\u2068\\u2069]/g, ''), line.getAttribute('stroke')]),
})"""

_LOOKS_PIVOT = """() => [...document.querySelectorAll('[data-testid=pivot-run-head]')].map(head =>
    [head.dataset.run, head.querySelector('.swatch').style.background])"""


def test_runs_named_like_object_properties_get_their_colours_values_and_no_false_errors(browser, object_named_server, request):
    runs = ["baseline", "__proto__", "constructor"]
    for dashboard in dashboard_page(browser, object_named_server, request.node.name):
        page = dashboard.open(runs=runs, baseline="baseline")
        looks = page.evaluate(_LOOKS)
        # "__proto__" had no colour (a swatch and a trend line drawn with "[object Object]"), and
        # "__proto__", "constructor" and "toString" an error badge titled with Object's functions
        assert [run for run, _, _ in looks["picker"]] == ["__proto__", "baseline", "constructor", "toString"]
        assert [badge for _, _, badge in looks["picker"]] == [False] * 4
        colours = {run: colour for run, colour, _ in looks["picker"]}
        assert all(colour.startswith("rgb(") for colour in colours.values()) and len(set(colours.values())) == 4
        assert sorted(looks["heads"]) == sorted([run, colours[run]] for run in runs)
        recall = {run: (value, delta) for run, value, delta in looks["recall"]}
        # class "a" at the latest step: [hits + 1, 11 - hits, 1] of 13
        latest = {run: (round(share * 10) + 1) / 13 for run, share in OBJECT_NAMED.items()}
        assert recall.keys() == set(runs)
        for run in runs:
            assert recall[run][0] == pytest.approx(latest[run])
            assert recall[run][1] == (None if run == "baseline" else pytest.approx(latest[run] - latest["baseline"]))
        # The tests' own reader of the table keys its rows and runs by name as well.
        table = read_table(page)
        assert {run: table["a"][run]["recall"]["value"] for run in runs} == pytest.approx({run: latest[run] for run in runs})
        hex_colours = {title.split(" · ")[0]: stroke for title, stroke in looks["lines"]}
        assert hex_colours.keys() == set(runs)
        for run in runs:
            rgb = tuple(int(hex_colours[run][index:index + 2], 16) for index in (1, 3, 5))
            assert colours[run] == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
        dashboard.open(runs=runs, baseline="baseline", view="pivot")
        [group] = read_pivot(page)
        assert group["runs"] == runs
        cells = group["rows"][0]["cells"]
        assert {run: cells[run]["value"] for run in runs} == pytest.approx({run: latest[run] for run in runs})
        assert cells["__proto__"]["delta"] == pytest.approx(latest["__proto__"] - latest["baseline"])
        assert [head[1] for head in page.evaluate(_LOOKS_PIVOT)] == [colours[run] for run in runs]
        dashboard.problems.assert_none()


def test_long_class_names_that_share_their_start_stay_apart_where_they_are_cut(browser, tmp_path, request):
    # Cut at their end, names that share a long start all read "a_very_long_…" in the table, the
    # matrix, the imbalance card and the trends: which row is which only their tooltips said.
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    names = ["a_very_long_common_start_of_the_class_names_" + "x" * 40 + leaf for leaf in ("_cat", "_dog", "_golden_retriever", "_labrador_retriever")]
    for run in ("base", "other"):
        tb_imbalance.log_matrix(tmp_path / run, np.eye(4, dtype=int) * 20 + 3, 0, class_names=names, image=False, class_counts=[500, 80, 12, 3])
    close_directory_writers()
    with tensorboard_server(tmp_path, load_fast=False) as base_url:
        for dashboard in dashboard_page(browser, base_url, request.node.name):
            page = dashboard.open(runs=["base", "other"])
            shown = page.evaluate("""() => Object.fromEntries(Object.entries({
                table: '[data-testid=report-table] tr.class-row th.class-name',
                matrix: '.matrix-grid th.row-label',
                bars: '[data-testid=imbalance-row] .bar-label',
                trends: '[data-testid=trends-chart] .chart-title',
              }).map(([part, selector]) => [part, [...document.querySelectorAll(selector)].map((label) => {
                const end = label.querySelector('.class-label-end');
                const box = label.getBoundingClientRect();
                const text = document.createRange();  // the end's letters, however wide its box is drawn
                if (end) text.selectNodeContents(end);
                return {
                  text: label.textContent,
                  end: end && end.textContent,
                  // Not shrunk by the least: a box narrower than its letters draws an ellipsis over the last ones.
                  endInSight: Boolean(end) && text.getBoundingClientRect().width <= end.getBoundingClientRect().width + 0.01
                    && end.getBoundingClientRect().right <= box.right + 1,
                  cut: label.scrollWidth > label.clientWidth || label.querySelector('.class-label-start')?.scrollWidth > label.querySelector('.class-label-start')?.clientWidth,
                };
              })]))""")
            for part, labels in shown.items():
                assert sorted(label["text"] for label in labels) == sorted(names), part
                assert all(label["endInSight"] for label in labels), (part, [(label["end"], label["endInSight"], label["cut"]) for label in labels])
                assert sorted(label["end"] for label in labels) == sorted(name[-12:] for name in names), part
                assert all(label["cut"] for label in labels), part  # too long for each place: cut, at their start
            dashboard.problems.assert_none()


def test_short_but_wide_cjk_names_keep_their_end_where_they_are_cut(browser, tmp_path, request):
    # 11 CJK characters are as wide as 22 Latin letters: counted as 11 characters they were not
    # split, and the matrix's row labels (130 pixels) cut their ends off with an ellipsis.
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    names = ["急性骨髓性白血病患者群", "慢性閉塞性肺疾患の増悪", "cat", "dog"]
    tb_imbalance.log_matrix(tmp_path / "base", np.eye(4, dtype=int) * 20 + 3, 0, class_names=names, image=False)
    close_directory_writers()
    with tensorboard_server(tmp_path, load_fast=False) as base_url:
        for dashboard in dashboard_page(browser, base_url, request.node.name):
            page = dashboard.open(runs=["base"])
            labels = page.evaluate("""() => [...document.querySelectorAll('.matrix-grid th.row-label .class-label')].map((label) => {
                const [start, end] = ['.class-label-start', '.class-label-end'].map((part) => label.querySelector(part));
                const letters = document.createRange();  // the end's letters, however wide its box is drawn
                letters.selectNodeContents(end);
                return {
                  text: label.textContent,
                  start: start && start.textContent,
                  end: end.textContent,
                  endInSight: letters.getBoundingClientRect().width <= end.getBoundingClientRect().width + 0.01
                    && end.getBoundingClientRect().right <= label.getBoundingClientRect().right + 1,
                  startCut: Boolean(start) && start.scrollWidth > start.clientWidth,
                };
              })""")
            assert [label["text"] for label in labels] == names
            for label, (start, end) in zip(labels[:2], [("急性骨髓性", "白血病患者群"), ("慢性閉塞性", "肺疾患の増悪")]):
                assert (label["start"], label["end"]) == (start, end), label  # the last 12 columns: 6 CJK characters
                assert label["endInSight"] and label["startCut"], label  # too wide for the label: cut at its start
            assert [(label["start"], label["end"], label["endInSight"]) for label in labels[2:]] == [(None, "cat", True), (None, "dog", True)]
            dashboard.problems.assert_none()


def _with_class_names(source: pathlib.Path, run_dir: pathlib.Path, names: list[str]) -> None:
    """``source``'s events written again into ``run_dir``, their matrix tag holding ``names`` (unchecked,
    as the format module writes what it is given): an event file of an earlier version."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    from tb_imbalance import format as fmt
    from tb_imbalance.event_file import EventFile

    with EventFile(run_dir) as events:
        for path in sorted(source.glob("events.*")):
            for event in EventFileLoader(str(path)).Load():
                for value in event.summary.value:
                    if value.metadata.plugin_data.plugin_name != fmt.PLUGIN_NAME:
                        continue
                    try:
                        info = fmt.parse_plugin_content(value.metadata.plugin_data.content)
                    except fmt.UnsupportedFormatError:  # the curves' own tag
                        continue
                    value.metadata.plugin_data.content = fmt.create_summary_metadata(names, weighted=info.weighted).plugin_data.content
                if event.summary.value:
                    events.write(event.step, list(event.summary.value))


def test_blank_class_names_of_an_old_file_show_as_placeholders_wherever_a_class_is_named(browser, tmp_path, request):
    # Earlier versions wrote blank class names (the writers refuse them now): blank rows, labels and options.
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, 200)
    scores = rng.random((200, 4)) + 2.0 * np.eye(4)[labels]
    tb_imbalance.log_report(tmp_path / "new", labels, scores / scores.sum(1, keepdims=True), 0, class_names=["cat", "b", "dog", "d"], image=False)
    close_directory_writers()
    _with_class_names(tmp_path / "new", tmp_path / "logs" / "old", ["cat", "", "dog", " \t"])
    shown = ["cat", "(unnamed class 1)", "dog", "(unnamed class 3)"]
    with tensorboard_server(tmp_path / "logs", load_fast=False) as base_url:
        for dashboard in dashboard_page(browser, base_url, request.node.name):
            page = dashboard.open(runs=["old"])
            table_labels = page.locator("[data-testid=report-row] th.class-name")
            assert table_labels.evaluate_all("heads => heads.map((head) => [head.textContent, head.title])") == [[name, name] for name in shown]
            placeholders = page.locator("[data-testid=report-row] th.class-name .class-label.unnamed-class")
            assert placeholders.all_text_contents() == [shown[1], shown[3]]
            assert placeholders.first.evaluate("label => getComputedStyle(label).fontStyle") == "italic"
            assert page.locator(".matrix-grid th.row-label").all_text_contents() == shown
            assert page.locator(".matrix-grid th.row-label .unnamed-class").count() == 2
            assert page.locator(".matrix-grid th.col-label").evaluate_all("heads => heads.map((head) => head.title)") == shown
            options = dashboard.testid("curves-class").locator("option").all_text_contents()
            assert sorted(options) == sorted(shown)
            trend_titles = page.locator("[data-testid=trends-chart] .chart-title").evaluate_all("titles => titles.map((title) => title.title)")
            assert sorted(trend_titles) == sorted(shown)
            dashboard.testid("class-filter").fill("unnamed")
            wait_ready(page)
            assert page.locator("[data-testid=report-row]").evaluate_all("rows => rows.map((row) => row.dataset.class)") == [shown[1], shown[3]]
            dashboard.problems.assert_none()
