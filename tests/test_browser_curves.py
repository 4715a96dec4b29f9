"""The Imbalance dashboard's curves panel and curve columns, in a real headless Chromium against a real ``tensorboard``.

Runs logged with scores (``log_report`` with probabilities) get the curves
panel (PR with the argmax decision's point, ROC, reliability) and the AP,
ROC-AUC and calibration error columns, which the table's "Columns" control
shows in place of precision, recall and F1 (so that three runs fit a 1280 px
window); a run logged with class ids has none. Every number on the page is
compared with the plugin's own routes.

Fixtures and the failure rules: ``tests/browser_support.py``; this module
writes its own logdir (``curves_logdir``).
"""

from __future__ import annotations

import csv
import io
import pathlib
import unicodedata
import urllib.parse
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser  # noqa: F401  (pytest fixture, used by name)
from browser_support import dashboard_page, fetch_json, read_pivot, read_table, row_names, wait_ready
from support import HOSTILE_CLASS_NAME, tensorboard_server

pytest.importorskip("playwright.sync_api")

CLASS_NAMES = ["ok", "fault", HOSTILE_CLASS_NAME, "rare"]
#: How strongly the scores point at each class: the hostile class is the hardest to rank.
SIGNAL = np.array([2.0, 1.6, 0.4, 1.2])
PRIORS = np.array([0.6, 0.2, 0.12, 0.08])
STEPS = (0, 1, 2)
LATEST = STEPS[-1]
TAG = "confusion_matrix"
SCORED = ("scored_a", "scored_b")
#: Three runs with scores of ten classes under their own tag, as the demo logs them: the width of three runs' columns.
DIGITS_TAG = "digits_matrix"
DIGITS_RUNS = ("digits/baseline", "digits/class_weights", "digits/oversampling")
DIGITS = [str(digit) for digit in range(10)]
IDS_ONLY = "ids_only"
CURVE_FIELDS = ("average_precision", "roc_auc", "calibration_error")
DECISION_FIELDS = ("precision", "recall", "f1")
CURVE_SUMMARY = {
    "macro AP": "macro_average_precision",
    "macro ROC-AUC": "macro_roc_auc",
    "ECE": "expected_calibration_error",
    "class-wise ECE": "classwise_calibration_error",
}


def _evaluation(seed: int, gain: float, rows: int = 800) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.choice(len(CLASS_NAMES), size=rows, p=PRIORS)
    logits = rng.normal(size=(rows, len(CLASS_NAMES))) + gain * SIGNAL * np.eye(len(CLASS_NAMES))[true]
    return true, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def curves_logdir(tmp_path_factory) -> pathlib.Path:
    """``scored_a`` and ``scored_b`` logged with probabilities, ``ids_only`` with class ids; steps 0–2.

    And ``digits/*``: three runs with probabilities of ten classes under ``digits_matrix``, step 0.
    """
    import tb_imbalance

    root = tmp_path_factory.mktemp("browser_curves")
    for offset, run in enumerate(DIGITS_RUNS):
        rng = np.random.default_rng(offset)
        true = rng.choice(len(DIGITS), size=600, p=np.geomspace(1, 0.05, len(DIGITS)) / np.geomspace(1, 0.05, len(DIGITS)).sum())
        logits = rng.normal(size=(len(true), len(DIGITS))) + (1.5 + offset / 2) * np.eye(len(DIGITS))[true]
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        tb_imbalance.log_report(root / run, true, probabilities, step=0, name=DIGITS_TAG, class_names=DIGITS, image=False)
    for offset, run in enumerate(SCORED):
        for step in STEPS:
            true, probabilities = _evaluation(10 * step + offset, gain=1.0 + step / 2 + offset / 3)
            tb_imbalance.log_report(root / run, true, probabilities, step=step, class_names=CLASS_NAMES, image=False)
    for step in STEPS:
        true, probabilities = _evaluation(100 + step, gain=1.5)
        tb_imbalance.log_report(root / IDS_ONLY, true, probabilities.argmax(axis=1), step=step, class_names=CLASS_NAMES, image=False)
    return root


@pytest.fixture(scope="module")
def curves_server(curves_logdir) -> Iterator[str]:
    with tensorboard_server(curves_logdir, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, curves_server, request):  # noqa: F811  (browser: the fixture above)
    yield from dashboard_page(browser, curves_server, request.node.name, accept_downloads=True)


@pytest.fixture
def narrow_dashboard(browser, curves_server, request):  # noqa: F811  (browser: the fixture above)
    yield from dashboard_page(browser, curves_server, request.node.name, width=1280, height=1200)


def show_columns(dashboard, column_set: str) -> Any:
    """Choose the table's column set with its control; returns the page once redrawn."""
    dashboard.testid("table-columns").select_option(column_set)
    wait_ready(dashboard.page)
    return dashboard.page


def shown_fields(page: Any) -> dict[str, list[str]]:
    """The per-run field headers of the shown table, by run."""
    fields: dict[str, list[str]] = {}
    for cell in page.locator("[data-testid=report-header-cell][data-run]").all():
        fields.setdefault(cell.get_attribute("data-run"), []).append(cell.get_attribute("data-field"))
    return fields


def _report(page: Any, run: str, step: int = LATEST) -> dict:
    return fetch_json(page, "report", run=run, tag=TAG, step=step)


def _curves(page: Any, run: str, class_index: int, step: int = LATEST) -> dict:
    return fetch_json(page, "curves", run=run, tag=TAG, step=step, **{"class": class_index})


_READ_PANEL = """
() => {
  const panel = document.querySelector("[data-testid=curves]");
  const select = panel.querySelector("[data-testid=curves-class]");
  const attrs = (selector, names) => [...panel.querySelectorAll(selector)].map((node) =>
    Object.fromEntries(names.map((name) => [name, node.getAttribute(name)])));
  return {
    hidden: panel.hidden,
    class_name: select.selectedOptions[0]?.textContent ?? null,
    options: [...select.options].map((option) => option.textContent),
    caption: panel.querySelector("[data-testid=curves-caption]").textContent,
    charts: [...panel.querySelectorAll("[data-testid=curves-chart]")].map((chart) => chart.dataset.kind),
    lines: [...panel.querySelectorAll("[data-testid=curves-chart]")].map((chart) => ({
      kind: chart.dataset.kind,
      runs: [...chart.querySelectorAll("[data-testid=curve-line]")].map((line) => [line.dataset.run, line.getAttribute("stroke")]),
    })),
    points: attrs("[data-testid=operating-point]", ["data-run", "data-recall", "data-precision", "fill"]),
    bins: attrs("[data-testid=reliability-point]", ["data-run", "data-bin", "data-rows", "r"]),
    legend: attrs("[data-testid=curves-legend-item]", ["data-run", "data-colour", "data-step", "data-average-precision"]),
    missing: [...panel.querySelectorAll("[data-testid=curves-missing-run]")].map((item) => [item.dataset.run, item.textContent]),
  };
}
"""


def read_panel(page: Any) -> dict:
    """The curves panel as plain data (attributes as the page has them)."""
    return page.evaluate(_READ_PANEL)


def _argmin(values: list) -> int:
    defined = [(value, index) for index, value in enumerate(values) if value is not None]
    return min(defined)[1]


def test_panel_shows_the_worst_ap_class_with_the_routes_operating_point(dashboard):
    page = dashboard.open(runs=["scored_a"])
    panel = read_panel(page)
    assert not panel["hidden"]
    assert panel["charts"] == ["pr", "roc", "reliability"]
    report = _report(page, "scored_a")
    worst = _argmin(report["per_class"]["average_precision"])
    assert worst == CLASS_NAMES.index(HOSTILE_CLASS_NAME)  # the class the scores rank worst
    assert panel["class_name"] == CLASS_NAMES[worst]
    assert panel["options"] == CLASS_NAMES
    assert panel["caption"] == f"The class with the lowest average precision in scored_a at step {LATEST}"
    curves = _curves(page, "scored_a", worst)
    [point] = panel["points"]
    assert point["data-run"] == "scored_a"
    assert float(point["data-recall"]) == curves["operating_point"]["recall"]
    assert float(point["data-precision"]) == curves["operating_point"]["precision"]
    [legend] = panel["legend"]
    assert float(legend["data-average-precision"]) == curves["average_precision"] == report["per_class"]["average_precision"][worst]
    assert legend["data-step"] == str(LATEST)
    # One point per non-empty calibration bin, the fullest the largest.
    filled = [bin for bin, rows in enumerate(curves["reliability"]["rows"]) if rows > 0]
    assert [int(bin["data-bin"]) for bin in panel["bins"]] == filled
    fullest = max(panel["bins"], key=lambda bin: float(bin["data-rows"]))
    assert float(fullest["r"]) == max(float(bin["r"]) for bin in panel["bins"])
    assert panel["missing"] == []
    dashboard.problems.assert_none()


def test_columns_control_swaps_in_the_curve_columns_equal_to_the_report(dashboard):
    page = dashboard.open(runs=["scored_a"])
    report = _report(page, "scored_a")
    # By default the decision's columns; the control offers the ranking and calibration ones.
    control = dashboard.testid("table-columns")
    assert control.is_visible()
    assert control.input_value() == "decision"
    assert shown_fields(page) == {"scored_a": [*DECISION_FIELDS, "support"]}
    assert "macro AP" not in read_table(page)
    show_columns(dashboard, "ranking")
    assert "columns=ranking" in page.url
    assert shown_fields(page) == {"scored_a": [*CURVE_FIELDS, "support"]}
    table = read_table(page)
    for index, name in enumerate(CLASS_NAMES):
        assert list(table[name]["scored_a"]) == [*CURVE_FIELDS, "support"], name
        for field in CURVE_FIELDS:
            cell = table[name]["scored_a"][field]
            expected = report["per_class"][field][index]
            assert cell["value"] == expected, (name, field)
            assert cell["text"] == f"{expected:.4f}"
        assert table[name]["scored_a"]["support"]["value"] == report["per_class"]["support"][index]
    # The summary rows are the curves' headline metrics, each in the column it summarises.
    summary = page.locator("[data-testid=summary-row]").evaluate_all("rows => rows.map((row) => row.dataset.class)")
    assert summary == list(CURVE_SUMMARY)
    for label, key in CURVE_SUMMARY.items():
        cells = table[label]["scored_a"]
        assert list(cells) == [{"macro AP": "average_precision", "macro ROC-AUC": "roc_auc"}.get(label, "calibration_error")]
        assert next(iter(cells.values()))["value"] == pytest.approx(report["metrics"][key], abs=1e-12)
    # Sortable like the other columns: best AP first, then the lowest calibration error first.
    ap = report["per_class"]["average_precision"]
    header = page.locator("[data-testid=report-header-cell][data-run=scored_a][data-field=average_precision]")
    header.get_by_role("button", name="AP").click()
    wait_ready(page)
    assert header.get_attribute("aria-sort") == "descending"
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (-ap[i], i))]
    error = report["per_class"]["calibration_error"]
    page.locator("[data-testid=report-header-cell][data-run=scored_a][data-field=calibration_error]").get_by_role("button", name="Cal. error").click()
    wait_ready(page)
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (error[i], i))]
    # Back to the decision's columns: a sort by a column no longer shown falls back to class order.
    show_columns(dashboard, "decision")
    assert "columns=" not in page.url
    assert shown_fields(page) == {"scored_a": [*DECISION_FIELDS, "support"]}
    assert row_names(page) == CLASS_NAMES
    assert page.locator("[data-testid=report-header-cell][aria-sort=ascending], [data-testid=report-header-cell][aria-sort=descending]").count() == 0
    assert {"macro avg", "MCC"} <= set(read_table(page))
    # Support is in both sets: its sort is kept across the switch.
    support = report["per_class"]["support"]
    page.locator("[data-testid=report-header-cell][data-run=scored_a][data-field=support]").get_by_role("button", name="Support").click()
    wait_ready(page)
    by_support = row_names(page)
    assert by_support == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (-support[i], i))]
    show_columns(dashboard, "ranking")
    assert row_names(page) == by_support
    dashboard.problems.assert_none()


def test_two_runs_overlay_in_their_colours_and_the_ap_difference_is_compares(dashboard):
    page = dashboard.open(runs=list(SCORED), baseline="scored_a", columns="ranking")
    assert dashboard.testid("table-columns").input_value() == "ranking"
    panel = read_panel(page)
    colours = {
        run: page.locator(f"[data-testid=report-run-head][data-run={run}] .swatch").evaluate("node => getComputedStyle(node).backgroundColor")
        for run in SCORED
    }
    assert len(set(colours.values())) == 2
    for chart in panel["lines"]:
        assert [run for run, _ in chart["runs"]] == list(SCORED), chart["kind"]
        for run, stroke in chart["runs"]:
            swatch = page.evaluate("colour => { const node = document.createElement('i'); node.style.color = colour; document.body.append(node); const value = getComputedStyle(node).color; node.remove(); return value; }", stroke)
            assert swatch == colours[run]
    assert {point["data-run"] for point in panel["points"]} == set(SCORED)
    assert len({point["fill"] for point in panel["points"]}) == 2
    # Colour is not all that tells the runs apart: each has its dash pattern, in every chart and in its legend swatch.
    dashes = page.evaluate("""() => [...document.querySelectorAll('[data-testid=curves-chart]')].map((chart) =>
        [...chart.querySelectorAll('[data-testid=curve-line]')].map((line) => [line.dataset.run, getComputedStyle(line).strokeDasharray]))""")
    legend = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-testid=curves-legend-item]')].map((item) =>
        [item.dataset.run, getComputedStyle(item.querySelector('[data-testid=line-swatch] line')).strokeDasharray]))""")
    assert sorted(legend) == sorted(SCORED) and len(set(legend.values())) == 2
    assert len(dashes) == 3 and all(dict(chart) == legend for chart in dashes)
    # The compared run's AP cell shows compare's difference (the baseline's none).
    comparison = fetch_json(page, "compare", run="scored_b", tag=TAG, baseline="scored_a")
    table = read_table(page)
    for index, name in enumerate(CLASS_NAMES):
        assert table[name]["scored_b"]["average_precision"]["delta"] == pytest.approx(
            comparison["per_class"]["average_precision_difference"][index], abs=1e-12
        )
        assert table[name]["scored_b"]["average_precision"]["direction"] in ("untested", "same")
        assert table[name]["scored_a"]["average_precision"]["delta"] is None
    assert table["macro AP"]["scored_b"]["average_precision"]["delta"] == pytest.approx(
        _report(page, "scored_b")["metrics"]["macro_average_precision"] - _report(page, "scored_a")["metrics"]["macro_average_precision"],
        abs=1e-12,
    )
    # The decision's columns keep their tested differences.
    show_columns(dashboard, "decision")
    table = read_table(page)
    for name in CLASS_NAMES:
        assert table[name]["scored_b"]["recall"]["delta"] is not None
        assert "average_precision" not in table[name]["scored_b"]
    dashboard.problems.assert_none()


def test_moving_the_step_slider_refetches_the_curves(dashboard):
    page = dashboard.open(runs=["scored_a"])
    requested: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: requested.append(dict(urllib.parse.parse_qsl(urllib.parse.urlparse(request.url).query)))
        if urllib.parse.urlparse(request.url).path.endswith("/curves")
        else None,
    )
    dashboard.testid("table-step-slider").fill("0")
    wait_ready(page)
    panel = read_panel(page)
    assert [legend["data-step"] for legend in panel["legend"]] == ["0"]
    worst = _argmin(_report(page, "scored_a", step=0)["per_class"]["average_precision"])
    assert panel["class_name"] == CLASS_NAMES[worst]
    assert {"run": "scored_a", "tag": TAG, "step": "0", "class": str(worst)} in requested
    curves = _curves(page, "scored_a", worst, step=0)
    [point] = panel["points"]
    assert (float(point["data-recall"]), float(point["data-precision"])) == (
        curves["operating_point"]["recall"],
        curves["operating_point"]["precision"],
    )
    dashboard.problems.assert_none()


def test_class_picker_chooses_by_name_and_keeps_hostile_names_as_text(dashboard):
    page = dashboard.open(runs=list(SCORED))
    dashboard.testid("curves-class").select_option(label="rare")
    wait_ready(page)
    panel = read_panel(page)
    assert panel["class_name"] == "rare"
    assert panel["caption"] == "The chosen class"
    curves = _curves(page, "scored_b", CLASS_NAMES.index("rare"))
    point = next(point for point in panel["points"] if point["data-run"] == "scored_b")
    assert float(point["data-recall"]) == curves["operating_point"]["recall"]
    assert "curve_class=rare" in page.url
    # The link reproduces the choice; the hostile name is text everywhere.
    page.goto(page.url.replace("curve_class=rare", "curve_class=" + urllib.parse.quote(HOSTILE_CLASS_NAME)))
    wait_ready(page)
    panel = read_panel(page)
    assert panel["class_name"] == HOSTILE_CLASS_NAME
    label = page.locator("[data-testid=curves-chart][data-kind=pr] svg").get_attribute("aria-label")
    assert HOSTILE_CLASS_NAME in label
    assert page.locator("img").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    dashboard.testid("curves-worst").click()
    wait_ready(page)
    assert "curve_class" not in page.url
    dashboard.problems.assert_none()


def test_run_without_curves_is_listed_and_alone_shows_no_panel(dashboard):
    page = dashboard.open(runs=["scored_a", IDS_ONLY], columns="ranking")
    panel = read_panel(page)
    assert not panel["hidden"]
    [(run, text)] = panel["missing"]
    assert run == IDS_ONLY
    assert text.startswith(f"{IDS_ONLY}: no curves at step {LATEST}") and "probabilities" in text
    assert [line[0] for chart in panel["lines"] for line in chart["runs"]] == ["scored_a"] * 3
    table = read_table(page)
    for name in CLASS_NAMES:
        cell = table[name][IDS_ONLY]["average_precision"]
        assert cell["text"] == "–" and cell["delta"] is None
    dashboard.problems.assert_none()

    # Alone, it has no curve columns and no control, even when the link asks for them.
    for preset in ({}, {"columns": "ranking"}):
        page = dashboard.open(runs=[IDS_ONLY], **preset)
        assert dashboard.testid("curves").is_hidden()
        assert dashboard.testid("table-columns").is_hidden()
        assert shown_fields(page) == {IDS_ONLY: [*DECISION_FIELDS, "support"]}
        assert "macro AP" not in read_table(page)
        assert "macro avg" in read_table(page)
    dashboard.problems.assert_none()


def test_pivot_and_export_carry_the_curve_columns(dashboard):
    page = dashboard.open(runs=["scored_a", IDS_ONLY], view="pivot", metric="average_precision")
    report = _report(page, "scored_a")
    [group] = read_pivot(page)
    assert [row["name"] for row in group["rows"]] == CLASS_NAMES
    for index, row in enumerate(group["rows"]):
        assert row["cells"]["scored_a"]["value"] == report["per_class"]["average_precision"][index]
        assert IDS_ONLY not in row["cells"]
    assert page.locator(f"[data-testid=pivot-cell-undefined][data-run={IDS_ONLY}]").all_text_contents() == ["–"] * 4

    # Exports hold every column and summary row, whichever column set the table shows.
    for column_set in ("decision", "ranking"):
        page = dashboard.open(runs=["scored_a"], columns=column_set)
        with page.expect_download() as download:
            dashboard.testid("export-csv").click()
        rows = list(csv.reader(io.StringIO(pathlib.Path(download.value.path()).read_text(encoding="utf-8"))))
        header = rows[0]
        assert header[2:9] == [
            f"scored_a {key}" for key in ("precision", "recall", "f1-score", "support", *CURVE_FIELDS)
        ], column_set
        by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
        for index, name in enumerate(CLASS_NAMES):
            for field in CURVE_FIELDS:
                assert float(by_name[name][f"scored_a {field}"]) == report["per_class"][field][index]
            assert float(by_name[name]["scored_a recall"]) == report["per_class"]["recall"][index]
        assert float(by_name["macro AP"]["scored_a average_precision"]) == report["metrics"]["macro_average_precision"]
        assert float(by_name["macro avg"]["scored_a f1-score"]) == report["report"]["macro avg"]["f1-score"]
    dashboard.problems.assert_none()


_FITS = """
() => [...document.querySelectorAll("[data-testid=report] table.report-table")].filter((t) => t.offsetParent !== null).map((table) => {
    const card = table.closest(".card").getBoundingClientRect();
    const scroller = table.parentElement;
    return {table: table.getBoundingClientRect().right, card: card.right,
            scroll: scroller.scrollWidth, client: scroller.clientWidth};
})
"""


def test_three_runs_columns_fit_their_card_at_1280_px_in_either_column_set(narrow_dashboard):
    runs = list(DIGITS_RUNS)
    page = narrow_dashboard.open(runs=runs, tag=DIGITS_TAG)
    for column_set in ("ranking", "decision", "ranking"):
        show_columns(narrow_dashboard, column_set)
        expected = [*(CURVE_FIELDS if column_set == "ranking" else DECISION_FIELDS), "support"]
        assert shown_fields(page) == {run: expected for run in runs}, column_set
        [fit] = page.evaluate(_FITS)
        assert fit["scroll"] <= fit["client"] + 1, (column_set, fit)  # nothing hidden behind a scroll
        assert fit["table"] <= fit["card"], (column_set, fit)
    narrow_dashboard.problems.assert_none()


def test_curves_the_default_loader_cannot_read_are_explained_even_alone(browser, tmp_path):  # noqa: F811
    """Under a run name with a double quote TensorBoard's Rust loader cannot read blobs: the panel
    says why, with the run alone too (it had hidden itself as if no curves were logged)."""
    import warnings

    import tb_imbalance

    true, probabilities = _evaluation(7, gain=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the writer's own warning about the name
        tb_imbalance.log_report(tmp_path / 'q"uote', true, probabilities, step=0, class_names=CLASS_NAMES, image=False,
                                examples=[f"row {i}" for i in range(len(true))])
    tb_imbalance.log_report(tmp_path / "plain", true, probabilities, step=0, class_names=CLASS_NAMES, image=False)
    with tensorboard_server(tmp_path, load_fast=True) as url:
        for dashboard in dashboard_page(browser, url, "test_curves_the_default_loader_cannot_read"):
            for runs in (["plain", 'q"uote'], ['q"uote']):
                page = dashboard.open(runs=runs)
                panel = read_panel(page)
                assert not panel["hidden"]
                [(run, text)] = panel["missing"]
                assert run == 'q"uote' and "--load_fast=false" in text and "double quote" in text
                if runs == ['q"uote']:
                    assert panel["charts"] == [] and dashboard.testid("curves-class").is_hidden()
                    assert panel["caption"] == "No selected run's curves can be read here:"
                    hint = dashboard.testid("examples-hint").text_content()  # the examples say why too
                    assert hint.startswith("The examples logged behind the cells cannot be shown") and "double quote" in hint
                else:
                    assert [line[0] for chart in panel["lines"] for line in chart["runs"]] == ["plain"] * 3
            dashboard.problems.assert_none(allowed_console=["status of 422"])


#: 100 class names: two that share a long start, a hostile one, a short upright one, one of 80 letters; then
#: more that share their start, upright (CJK) and emoji ones drawn wider than latin letters, narrow ones
#: of more than 32 letters, and right-to-left ones.
LONG_NAMES = (["transaction_type_wire_domestic_small", "transaction_type_wire_domestic_large", "<script>alert(1)</script>",
               "名前が長いクラス", "a" * 80]
              + [f"transaction_type_wire_international_{k:02d}_large" for k in range(60)]
              + [f"国際電信送金の取引種別クラス国際電信送金の取引種別{k:02d}" for k in range(15)]
              + [f"{'🐈' * 30}_{k:02d}" for k in range(5)]
              + [f"illicit_ill_lilt_{k:02d}_" + "il" * 10 for k in range(10)]
              + [f"فئة_المعاملات_الدولية_الكبيرة_{k:02d}" for k in range(5)])

# The picker's room (what its closed line shows), its box and its card's, and each option's text with how wide
# the select's own font draws it, and how wide it would be with one more letter of its name's start (and its end).
_PICKER = """(select, names) => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const width = (text) => context.measureText(text).width;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;  // less the arrow
  const box = (node) => { const { left, right } = node.getBoundingClientRect(); return { left, right }; };
  return { title: select.title, room, select: box(select), card: box(select.closest(".card-body")),
           options: [...select.options].map((option, index) => {
             const text = option.textContent, name = Array.from(names[index]);
             const [start, end] = text.split("…").map((part) => Array.from(part));
             const longer = name.slice(0, start.length + 1).join("") + "…" + (end ?? []).join("");
             return { text, width: width(text), longer: width(longer) };
           }) };
}"""


def _kept_end(name: str) -> str:
    """A name's last characters up to 12 columns wide, a CJK character or emoji two, as the matrix's labels keep it."""
    end, columns = "", 0
    for character in reversed(name):
        width = 2 if unicodedata.east_asian_width(character) in "WF" else 1
        if end and columns + width > 12:
            break
        end, columns = character + end, columns + width
    return end


def _assert_picker_fits(picker: dict) -> None:
    """Each option is its name, or its name's start and last 12 columns cut to the picker's room, using it."""
    assert picker["card"]["left"] <= picker["select"]["left"] and picker["select"]["right"] <= picker["card"]["right"], picker
    for name, option in zip(LONG_NAMES, picker["options"]):
        text = option["text"]
        assert option["width"] <= picker["room"], (name, option, picker["room"])
        if text == name:
            continue
        start, end = text.split("…")
        assert name.startswith(start) and end == _kept_end(name), (name, text)  # whole code points
        assert option["longer"] > picker["room"] or not start, (name, option, picker["room"])  # not cut shorter than the room


def test_class_picker_cuts_long_names_to_its_width_keeping_their_distinct_end(browser, tmp_path):  # noqa: F811
    import tb_imbalance

    rng = np.random.default_rng(12)
    true = rng.integers(0, len(LONG_NAMES), 2000)
    logits = rng.normal(size=(2000, len(LONG_NAMES))) + 3.0 * np.eye(len(LONG_NAMES))[true]
    tb_imbalance.log_report(tmp_path / "long", true, np.exp(logits) / np.exp(logits).sum(1, keepdims=True), 0,
                            class_names=LONG_NAMES, image=False)
    with tensorboard_server(tmp_path, load_fast=False) as url:
        for dashboard in dashboard_page(browser, url, "test_class_picker_cuts_long_names_to_its_width_keeping_their_distinct_end"):
            page = dashboard.open(runs=["long"], curve_class=LONG_NAMES[1])
            picker = dashboard.testid("curves-class").evaluate(_PICKER, LONG_NAMES)
            _assert_picker_fits(picker)
            shown = {name: option["text"] for name, option in zip(LONG_NAMES, picker["options"])}
            # Cut at their end, the wire names would all show "transaction_type_wire_international_" closed.
            assert [shown[name][-13:] for name in LONG_NAMES[5:8]] == ["…nal_00_large", "…nal_01_large", "…nal_02_large"]
            for name in LONG_NAMES[:4] + ["illicit_ill_lilt_00_" + "il" * 10]:
                assert shown[name] == name  # fits: whole, though the wire names have 36 letters and the narrow one 40
            upright, latin = shown[LONG_NAMES[65]], shown[LONG_NAMES[5]]
            assert "…" in upright and len(upright) < len(latin) - 8, (upright, latin)  # wide glyphs: fewer of them
            assert upright.endswith("…の取引種別00"), upright  # 12 columns, as the matrix's labels keep it, not 12 characters
            assert all("…" in shown[name] for name in LONG_NAMES[80:85]), [shown[name] for name in LONG_NAMES[80:85]]
            assert picker["title"] == LONG_NAMES[1]  # the chosen name whole

            # A narrower window: the picker's names are cut again, to its new width.
            page.set_viewport_size({"width": 300, "height": 900})
            page.wait_for_function("([select, shown]) => select.options[5].textContent !== shown",
                                   arg=[dashboard.testid("curves-class").element_handle(), latin])
            narrow = dashboard.testid("curves-class").evaluate(_PICKER, LONG_NAMES)
            assert narrow["room"] < picker["room"] - 40, (narrow["room"], picker["room"])
            _assert_picker_fits(narrow)
            assert len(narrow["options"][5]["text"]) < len(latin)

            dashboard.testid("curves-class").select_option(label="<script>alert(1)</script>")
            wait_ready(page)
            assert read_panel(page)["class_name"] == LONG_NAMES[2]
            assert LONG_NAMES[2] in page.locator("[data-testid=curves-chart][data-kind=pr] svg").get_attribute("aria-label")
            assert page.locator("[data-testid=curves-chart] script, [data-testid=curves-class] script").count() == 0  # text
            assert dashboard.testid("curves-class").get_attribute("title") == LONG_NAMES[2]
            dashboard.problems.assert_none()


def _log_long_names(run_dir, seed: int) -> None:
    """One step of 500 rows of :data:`LONG_NAMES`, each scored half on its own class (an exact matrix)."""
    import tb_imbalance

    true = np.random.default_rng(seed).integers(0, len(LONG_NAMES), 500)
    tb_imbalance.log_report(run_dir, true, np.eye(len(LONG_NAMES))[true] * 0.5 + 0.5 / len(LONG_NAMES), 0,
                            class_names=LONG_NAMES, image=False)


# Narrows the picker's toolbar every frame (from 410 to 200 pixels), as a dragged window does, and counts the writes to the first
# option's text during the drag and once it has settled (a cut writes each option once), with the gaps between
# the widths the page saw.
_DRAG = """async (select) => {
  const toolbar = select.closest(".toolbar");
  const writes = [], widths = [];
  new MutationObserver((records) => writes.push(...records)).observe(select.options[0], { childList: true });
  new ResizeObserver(() => widths.push(performance.now())).observe(toolbar);
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  await frame();
  await frame();  // past the frame that tells the new observer the width it starts at
  for (let step = 1; step <= 8; step++) {
    toolbar.style.width = `${440 - 30 * step}px`;
    await frame();
  }
  widths.push(performance.now());
  const during = writes.length;
  await new Promise((resolve) => setTimeout(resolve, 800));
  const gaps = widths.slice(2).map((time, index) => time - widths[index + 1]);
  return { during, after: writes.length - during, seen: widths.length - 2, gaps };
}"""


def test_class_picker_cuts_its_names_again_once_a_drag_settles(browser, tmp_path, request):  # noqa: F811
    # Cut again at every width a dragged window passed through, 1,000 names took about 60 ms a frame.
    _log_long_names(tmp_path / "long", seed=13)
    with tensorboard_server(tmp_path, load_fast=False) as url:
        for dashboard in dashboard_page(browser, url, request.node.name, width=600):  # narrow: the picker takes the card's width
            dashboard.open(runs=["long"], curve_class=LONG_NAMES[1])
            picker = dashboard.testid("curves-class")
            before = picker.evaluate(_PICKER, LONG_NAMES)
            drag = picker.evaluate(_DRAG)
            assert drag["seen"] == 8, drag  # one width a frame
            # A frame slower than the wait (a busy machine) may let one cut through; without the wait, each width was.
            assert drag["during"] <= sum(gap >= 150 for gap in drag["gaps"]), drag
            assert drag["after"] == 1, drag  # once, to the last width
            after = picker.evaluate(_PICKER, LONG_NAMES)
            assert after["room"] < before["room"] - 100, (after["room"], before["room"])
            _assert_picker_fits(after)
            dashboard.problems.assert_none()


# Sets the toolbar's width to each of `widths` in turn, letting each settle (past the 150 ms wait and a cut), and
# counts the writes to the first option's text each width caused, with the picker's room after it.
_RESIZE = """async (select, widths) => {
  const toolbar = select.closest(".toolbar");
  let writes = 0;
  new MutationObserver((records) => (writes += records.length)).observe(select.options[0], { childList: true });
  const style = getComputedStyle(select);
  const steps = [];
  for (const width of widths) {
    const before = writes;
    toolbar.style.width = `${width}px`;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    steps.push({ width, writes: writes - before, room, first: select.options[0].textContent });
  }
  return steps;
}"""


def test_class_picker_cuts_its_names_again_only_when_its_own_width_changes(browser, tmp_path, request):  # noqa: F811
    # Decided by the toolbar's width, every change of it cut all the names again, though on a wide page the
    # picker keeps its width (its field does not shrink): about 60 ms at 1,000 classes, for nothing.
    _log_long_names(tmp_path / "long", seed=14)
    with tensorboard_server(tmp_path, load_fast=False) as url:
        for dashboard in dashboard_page(browser, url, request.node.name):
            dashboard.open(runs=["long"], curve_class=LONG_NAMES[1])
            picker = dashboard.testid("curves-class")
            wide = picker.evaluate(_PICKER, LONG_NAMES)
            _assert_picker_fits(wide)
            steps = picker.evaluate(_RESIZE, [1000, 700, 420, 1100, 250, 1100])
            assert [step["writes"] for step in steps] == [0] * 6, steps
            assert {step["room"] for step in steps} == {wide["room"]}, steps

            # Narrow, the picker takes the toolbar's width: narrowed, then widened again, its names are cut to each.
            dashboard.page.set_viewport_size({"width": 600, "height": 900})
            dashboard.page.wait_for_timeout(400)
            steps = picker.evaluate(_RESIZE, [500, 200, 500])
            assert [step["writes"] for step in steps] == [1, 1, 1], steps  # each option written once: its cut name
            assert steps[1]["room"] < steps[0]["room"] - 200 and steps[2]["room"] == steps[0]["room"], steps
            assert [step["first"] for step in steps] == [LONG_NAMES[0], "transactio…mestic_small", LONG_NAMES[0]], steps
            _assert_picker_fits(picker.evaluate(_PICKER, LONG_NAMES))
            dashboard.problems.assert_none()
