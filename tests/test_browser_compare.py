"""Comparing runs in the Imbalance dashboard, side by side and in the pivot, in a real headless Chromium against a real ``tensorboard``.

Deltas against the baseline coloured only when significant (statsmodels'
Newcombe interval), changing the baseline, the pivot of 10 runs by 100
classes, one table per class set, run colours that stay.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import (
    CLASS_NAMES,
    FIELDS,
    LATEST,
    OTHER_CLASS_NAMES,
    PIVOT_CLASSES,
    PIVOT_RUNS,
    PIVOT_TAG,
    RUNS,
    assert_table_matches,
    fetch_json,
    read_pivot,
    read_table,
    row_names,
    wait_ready,
)
from support import HOSTILE_CLASS_NAME, make_logdir

pytest.importorskip("playwright.sync_api")


def significance_direction(cm: np.ndarray, baseline: np.ndarray, index: int, field: str) -> str:
    """What the table must show for a recall / precision difference: coloured only when significant."""
    axis = 1 if field == "recall" else 0
    k1, n1 = int(cm[index, index]), int(cm.sum(axis=axis)[index])
    k2, n2 = int(baseline[index, index]), int(baseline.sum(axis=axis)[index])
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    return "ns"


def test_default_selection_shows_runs_side_by_side_with_deltas(dashboard, matrices):
    _, written = matrices
    page = dashboard.open()
    run_heads = dashboard.testid("report-run-head").evaluate_all("heads => heads.map(h => h.dataset.run)")
    assert run_heads == list(RUNS)
    assert dashboard.testid("baseline-select").input_value() == "baseline"
    table = read_table(page)
    assert_table_matches(table, "baseline", written["baseline"][LATEST])
    assert_table_matches(table, "class_weights", written["class_weights"][LATEST])
    cm, baseline = written["class_weights"][LATEST], written["baseline"][LATEST]
    seen = set()
    for name in CLASS_NAMES + ["macro avg", "MCC"]:
        for field in ("precision", "recall", "f1"):
            if field not in table[name]["class_weights"]:
                continue
            cell = table[name]["class_weights"][field]
            expected = cell["value"] - table[name]["baseline"][field]["value"]
            assert cell["delta"] == pytest.approx(expected, abs=1e-12)
            if abs(expected) < 5e-5:
                continue
            if name in CLASS_NAMES and field != "f1":
                # Coloured only when significant (statsmodels' Newcombe interval excludes 0).
                direction = significance_direction(cm, baseline, CLASS_NAMES.index(name), field)
            else:
                direction = "untested"  # F1 and the summary rows have no test
            assert cell["direction"] == direction, (name, field)
            seen.add(direction)
        assert table[name]["baseline"].get("recall", {}).get("delta") is None
    assert {"better", "ns", "untested"} <= seen
    dashboard.problems.assert_none()


def test_significance_marks_colour_only_significant_differences(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(step=2)
    table = read_table(page)
    cm, baseline = written["class_weights"][2], written["baseline"][2]
    for index, name in enumerate(CLASS_NAMES):
        for field in ("recall", "precision"):
            cell = table[name]["class_weights"][field]
            axis = 1 if field == "recall" else 0
            low, high = confint_proportions_2indep(
                int(cm[index, index]), int(cm.sum(axis=axis)[index]),
                int(baseline[index, index]), int(baseline.sum(axis=axis)[index]),
                method="newcomb", compare="diff",
            )
            if low > 0 or high < 0:
                assert cell["direction"] == ("better" if low > 0 else "worse")
                assert cell["delta_title"].startswith("significant: 95% interval")
            else:
                assert cell["direction"] in ("ns", "same")
                assert cell["delta_title"].startswith("n.s. (not significant)")
    # dog's recall (+0.17) is significant at step 2, its precision (+0.08) is not.
    assert table["dog"]["class_weights"]["recall"]["direction"] == "better"
    assert table["dog"]["class_weights"]["precision"]["direction"] == "ns"
    colours = page.evaluate(
        """() => Object.fromEntries(["better", "ns", "untested"].map((kind) => {
            const delta = document.querySelector(`[data-testid=report-row] .delta.${kind}`);
            return [kind, delta ? getComputedStyle(delta).color : null];
        }))"""
    )
    assert colours["better"] == "rgb(46, 125, 50)"
    # Three looks: not significant is darker grey (and marked "n.s."), untested lighter.
    assert colours["ns"] == "rgb(97, 97, 97)" and colours["untested"] == "rgb(176, 176, 176)"
    dashboard.problems.assert_none()


def test_changing_the_baseline_flips_the_deltas(dashboard):
    page = dashboard.open()
    dashboard.testid("baseline-select").select_option("class_weights")
    wait_ready(page)
    table = read_table(page)
    assert table["macro avg"]["class_weights"]["recall"]["delta"] is None
    delta = table["macro avg"]["baseline"]["recall"]["delta"]
    assert delta == pytest.approx(
        table["macro avg"]["baseline"]["recall"]["value"] - table["macro avg"]["class_weights"]["recall"]["value"]
    )
    dashboard.problems.assert_none()


def run_colours(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
            "[data-testid=report-run-head], [data-testid=pivot-run-head]")].map(
            (head) => [head.dataset.run, getComputedStyle(head.querySelector(".swatch")).backgroundColor]))"""
    )


def test_pivot_of_10_runs_by_100_classes_fits_1400px_without_sideways_scrolling(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(tag=PIVOT_TAG, runs=list(PIVOT_RUNS), view="pivot")
    assert page.viewport_size["width"] == 1400
    assert dashboard.testid("pivot-view").is_visible()
    assert dashboard.testid("table-view").is_hidden()
    (group,) = read_pivot(page)
    assert group["runs"] == list(PIVOT_RUNS)
    assert len(group["rows"]) == PIVOT_CLASSES
    cm = written["pivot_03"][1]
    recall = np.diag(cm) / np.where(cm.sum(axis=1) == 0, 1, cm.sum(axis=1))  # 0 without support
    for index in (0, 50, 99):
        assert group["rows"][index]["cells"]["pivot_03"]["value"] == pytest.approx(recall[index], abs=1e-12)
    widths = page.evaluate(
        """() => ({
            page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
            tables: [...document.querySelectorAll("[data-testid=pivot-table]")].map((t) => [t.scrollWidth, t.clientWidth]),
            scrollers: [...document.querySelectorAll(".pivot-scroll")].map((s) => [s.scrollWidth, s.clientWidth]),
        })"""
    )
    assert widths["page"][0] <= widths["page"][1], widths
    for scroll_width, client_width in widths["tables"] + widths["scrollers"]:
        assert scroll_width <= client_width, widths
    # Every number is readable: no cell's value is cut off.
    cut = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=pivot-cell] .value, [data-testid=pivot-cell] .delta")]
            .filter((span) => span.scrollWidth > span.clientWidth + 1).length"""
    )
    assert cut == 0
    # The interval bar under each value leaves the delta below it readable.
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=pivot-cell]")].filter((cell) => {
            const bar = cell.querySelector(".interval"), delta = cell.querySelector(".delta");
            if (!bar || !delta) return false;
            const a = bar.getBoundingClientRect(), b = delta.getBoundingClientRect();
            return a.bottom > b.top && a.top < b.bottom;
        }).length"""
    )
    with_both = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=pivot-cell]")]
            .filter((cell) => cell.querySelector(".interval") && cell.querySelector(".delta")).length"""
    )
    assert with_both > 0 and overlaps == 0, (with_both, overlaps)
    dashboard.problems.assert_none()


def test_pivot_significance_marks_match_compare(dashboard):
    runs = list(PIVOT_RUNS[:4])
    page = dashboard.open(tag=PIVOT_TAG, runs=runs, view="pivot", step=0)
    comparisons = {
        run: fetch_json(page, "compare", run=run, tag=PIVOT_TAG, step=0, baseline=runs[0], baseline_step=0)
        for run in runs[1:]
    }
    seen = set()
    for metric in ("recall", "precision", "f1"):
        dashboard.testid("pivot-metric").select_option(metric)
        wait_ready(page)
        (group,) = read_pivot(page)
        assert group["runs"] == runs
        for index, row in enumerate(group["rows"]):
            assert row["cells"][runs[0]]["delta"] is None
            for run, comparison in comparisons.items():
                cell = row["cells"][run]
                if metric == "f1":
                    assert cell["direction"] in ("untested", "same"), (run, index)  # F1 has no test
                    continue
                per_class = comparison["per_class"]
                delta, significant = per_class[f"{metric}_delta"][index], per_class[f"{metric}_significant"][index]
                if delta is None:  # undefined: no examples (or no predictions) in either run
                    assert cell["delta"] is None and cell["direction"] is None, (metric, run, index)
                    continue
                assert cell["delta"] == pytest.approx(delta, abs=1e-4), (metric, run, index)
                if significant is True:
                    expected = "better" if delta > 0 else "worse"
                elif significant is False:
                    expected = "ns" if abs(cell["delta"]) >= 5e-5 else "same"
                else:
                    expected = "untested" if abs(cell["delta"]) >= 5e-5 else "same"
                assert cell["direction"] == expected, (metric, run, index)
                seen.add(expected)
    assert "ns" in seen and seen & {"better", "worse"}, seen
    colours = page.evaluate(
        """() => Object.fromEntries(["better", "worse", "ns"].map((kind) => {
            const delta = document.querySelector(`[data-testid=pivot-cell] .delta.${kind}`);
            return [kind, delta ? getComputedStyle(delta).color : null];
        }))"""
    )
    assert colours["ns"] in (None, "rgb(97, 97, 97)")
    dashboard.problems.assert_none()


def test_pivot_groups_runs_with_other_classes_apart_and_keeps_names_as_text(dashboard):
    page = dashboard.open(tag=PIVOT_TAG, runs=["pivot_00", "pivot_01", "pivot_other"], view="pivot", metric="f1")
    groups = read_pivot(page)
    assert [group["runs"] for group in groups] == [["pivot_00", "pivot_01"], ["pivot_other"]]
    # Each class set has its own baseline; pivot_other is alone in its set: nothing to compare.
    assert [group["baseline_group"] for group in groups] == [True, True]
    assert len(groups[0]["rows"]) == PIVOT_CLASSES  # no empty rows for the other class set
    assert [row["name"] for row in groups[1]["rows"]] == OTHER_CLASS_NAMES
    assert all(cell["delta"] is None for row in groups[1]["rows"] for cell in row["cells"].values())
    assert "one run, nothing to compare with" in groups[1]["title"] and HOSTILE_CLASS_NAME in groups[1]["title"]
    assert page.locator("[data-testid=pivot] img, [data-testid=pivot] b, [data-testid=pivot] script").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dashboard.problems.dialogs == []
    # The side-by-side table's classes are unchanged by the switch.
    dashboard.testid("view-table").click()
    wait_ready(page)
    assert dashboard.testid("table-view").is_visible() and dashboard.testid("pivot-view").is_hidden()
    dashboard.problems.assert_none()


def test_side_by_side_has_one_table_per_class_set_and_no_empty_rows(dashboard):
    page = dashboard.open(tag=PIVOT_TAG, runs=["pivot_00", "pivot_01", "pivot_other"])
    assert dashboard.testid("table-view").is_visible()
    groups = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=report-group]:not([hidden])")].map((group) => ({
            baseline_group: group.dataset.baselineGroup === "true",
            title: group.querySelector("[data-testid=report-group-title]").textContent,
            tables: group.querySelectorAll("[data-testid=report-table]").length,
            runs: [...group.querySelectorAll("[data-testid=report-run-head]")].map((head) => head.dataset.run),
            rows: [...group.querySelectorAll("[data-testid=report-row]")].map((row) => ({
                name: row.dataset.class,
                cells: row.querySelectorAll("[data-testid=report-cell]").length,
                blanks: row.querySelectorAll("td:not([data-testid=report-cell])").length,
            })),
            deltas: group.querySelectorAll("[data-testid=report-row] .delta").length,
        }))"""
    )
    # One table per class set: the baseline's first, then the other class set's.
    assert [group["runs"] for group in groups] == [["pivot_00", "pivot_01"], ["pivot_other"]]
    assert [group["tables"] for group in groups] == [1, 1]
    assert dashboard.testid("report-table").count() == 2
    assert [group["baseline_group"] for group in groups] == [True, True]  # each set has its own baseline
    assert "compared with its baseline pivot_00" in groups[0]["title"]
    assert "one run, nothing to compare with" in groups[1]["title"] and HOSTILE_CLASS_NAME in groups[1]["title"]
    # No empty rows: every row has a value in every field of every run of its table.
    for group in groups:
        assert group["rows"], group["title"]
        for row in group["rows"]:
            assert row["blanks"] == 0 and row["cells"] == len(group["runs"]) * len(FIELDS), (group["title"], row)
    assert not {row["name"] for row in groups[0]["rows"]} & set(OTHER_CLASS_NAMES)
    assert [row["name"] for row in groups[1]["rows"]] == OTHER_CLASS_NAMES
    assert groups[0]["deltas"] > 0 and groups[1]["deltas"] == 0  # the other class set is not compared
    assert dashboard.testid("class-count").text_content() == f"{PIVOT_CLASSES + len(OTHER_CLASS_NAMES)} classes"
    assert page.locator("[data-testid=table-view] b, [data-testid=table-view] script, [data-testid=table-view] img").count() == 0
    # The filter applies to every table.
    dashboard.testid("class-filter").fill("bold")
    wait_ready(page)
    assert row_names(page) == [OTHER_CLASS_NAMES[0]]
    assert dashboard.testid("class-count").text_content() == f"1 of {PIVOT_CLASSES + len(OTHER_CLASS_NAMES)} classes"
    page.wait_for_timeout(300)
    assert dashboard.problems.dialogs == []
    dashboard.problems.assert_none()


def test_run_colours_stay_when_a_run_is_added(dashboard, matrices):
    root, _ = matrices
    page = dashboard.open(runs=list(RUNS), poll=1)
    before = run_colours(page)
    assert set(before) == set(RUNS) and len(set(before.values())) == len(RUNS)
    # A run that sorts before all others appears (under its own tag).
    make_logdir(root, runs=("aaa_late",), num_steps=1, tag="late_matrix", seed=5)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=tag-select] option')].some(o => o.value === 'late_matrix')",
        timeout=30_000,
    )
    wait_ready(page)
    assert run_colours(page) == before
    dashboard.testid("view-pivot").click()
    wait_ready(page)
    assert run_colours(page) == before
    dashboard.problems.assert_none()


def test_pivot_headers_show_whole_run_names_that_share_a_long_prefix(dashboard, matrices):
    root, _ = matrices
    runs = [f"experiment_2026_12_05_{suffix}" for suffix in ("baseline", "class_weights", "oversampled")]
    runs += [f"experiment_2026_12_05_seed_{seed}" for seed in range(7)]  # 10 runs: narrow columns at 1400 px
    make_logdir(root, runs=runs, num_steps=1, num_classes=3, tag="long_names_matrix", seed=6)
    page = dashboard.open(runs=runs, poll=1)
    page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=tag-select] option')].some(o => o.value === 'long_names_matrix')",
        timeout=30_000,
    )
    page = dashboard.open(tag="long_names_matrix", runs=runs, view="pivot")
    heads = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=pivot-run-head] .run-name")].map((name) => ({
            text: name.textContent,
            cut: name.scrollWidth > name.clientWidth + 1 || name.scrollHeight > name.clientHeight + 1,
        }))"""
    )
    # Names that differ only after "experiment_2026_12_05_" are told apart: each is shown whole, wrapped,
    # in the pivot's header and in the run list.
    assert [head["text"] for head in heads] == runs
    assert [head["text"] for head in heads if head["cut"]] == []
    listed = page.evaluate(
        """() => [...document.querySelectorAll(".run-item .run-name")].filter((name) =>
            name.scrollWidth > name.clientWidth + 1 || name.scrollHeight > name.clientHeight + 1).map((n) => n.textContent)"""
    )
    assert listed == []
    dashboard.problems.assert_none()


def test_each_pivot_table_is_named_by_its_metric_and_class_set(dashboard):
    page = dashboard.open(tag=PIVOT_TAG, runs=["pivot_00", "pivot_01", "pivot_other"], view="pivot", metric="f1")
    for index in (1, 2):
        table = page.get_by_role("table", name=f"Pivot: F1 of each run, class set {index}")
        assert table.count() == 1 and table.is_visible()
    dashboard.problems.assert_none()
