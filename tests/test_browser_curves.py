"""The Imbalance dashboard's curves panel and curve columns, in a real headless Chromium against a real ``tensorboard``.

Runs logged with scores (``log_report`` with probabilities) get the curves
panel (PR with the argmax decision's point, ROC, reliability) and the AP,
ROC-AUC and calibration error columns; a run logged with class ids has none.
Every number on the page is compared with the plugin's own routes.

Fixtures and the failure rules: ``tests/browser_support.py``; this module
writes its own logdir (``curves_logdir``).
"""

from __future__ import annotations

import csv
import io
import pathlib
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
IDS_ONLY = "ids_only"
CURVE_FIELDS = ("average_precision", "roc_auc", "calibration_error")
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
    """``scored_a`` and ``scored_b`` logged with probabilities, ``ids_only`` with class ids; steps 0–2."""
    import tb_imbalance

    root = tmp_path_factory.mktemp("browser_curves")
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


def test_curve_columns_and_headline_metrics_equal_the_report(dashboard):
    page = dashboard.open(runs=["scored_a"])
    report = _report(page, "scored_a")
    table = read_table(page)
    for index, name in enumerate(CLASS_NAMES):
        for field in CURVE_FIELDS:
            cell = table[name]["scored_a"][field]
            expected = report["per_class"][field][index]
            assert cell["value"] == expected, (name, field)
            assert cell["text"] == f"{expected:.4f}"
    for label, key in CURVE_SUMMARY.items():
        cells = table[label]["scored_a"]
        assert list(cells) == [{"macro AP": "average_precision", "macro ROC-AUC": "roc_auc"}.get(label, "calibration_error")]
        assert next(iter(cells.values()))["value"] == pytest.approx(report["metrics"][key], abs=1e-12)
    # Sortable like the other columns: best AP first, then the lowest calibration error first.
    ap = report["per_class"]["average_precision"]
    header = page.locator("[data-testid=report-header-cell][data-run=scored_a][data-field=average_precision]")
    header.click()
    wait_ready(page)
    assert header.get_attribute("aria-sort") == "descending"
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (-ap[i], i))]
    error = report["per_class"]["calibration_error"]
    page.locator("[data-testid=report-header-cell][data-run=scored_a][data-field=calibration_error]").click()
    wait_ready(page)
    assert row_names(page) == [CLASS_NAMES[i] for i in sorted(range(4), key=lambda i: (error[i], i))]
    dashboard.problems.assert_none()


def test_two_runs_overlay_in_their_colours_and_the_ap_difference_is_compares(dashboard):
    page = dashboard.open(runs=list(SCORED), baseline="scored_a")
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
    # The compared run's AP cell shows compare's difference next to the recall and precision ones.
    comparison = fetch_json(page, "compare", run="scored_b", tag=TAG, baseline="scored_a")
    table = read_table(page)
    for index, name in enumerate(CLASS_NAMES):
        assert table[name]["scored_b"]["average_precision"]["delta"] == pytest.approx(
            comparison["per_class"]["average_precision_difference"][index], abs=1e-12
        )
        assert table[name]["scored_b"]["average_precision"]["direction"] in ("untested", "same")
        assert table[name]["scored_b"]["recall"]["delta"] is not None
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
    page = dashboard.open(runs=["scored_a", IDS_ONLY])
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

    page = dashboard.open(runs=[IDS_ONLY])
    assert dashboard.testid("curves").is_hidden()
    assert page.locator("[data-testid=report-header-cell][data-field=average_precision]").count() == 0
    assert "macro AP" not in read_table(page)
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

    page = dashboard.open(runs=["scored_a"])
    with page.expect_download() as download:
        dashboard.testid("export-csv").click()
    rows = list(csv.reader(io.StringIO(pathlib.Path(download.value.path()).read_text(encoding="utf-8"))))
    header = rows[0]
    assert header[2:9] == [
        f"scored_a {key}" for key in ("precision", "recall", "f1-score", "support", *CURVE_FIELDS)
    ]
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    for index, name in enumerate(CLASS_NAMES):
        for field in CURVE_FIELDS:
            assert float(by_name[name][f"scored_a {field}"]) == report["per_class"][field][index]
    assert float(by_name["macro AP"]["scored_a average_precision"]) == report["metrics"]["macro_average_precision"]
    dashboard.problems.assert_none()
