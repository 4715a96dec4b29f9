"""The Imbalance dashboard's exports, in a real headless Chromium against a real ``tensorboard``.

CSV and Markdown downloads that match the table, each run's step and the
left-out steps' note, formula-like cells neutralised, the copy buttons.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import csv
import io
import pathlib

import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import (
    ARTIFACTS,
    CLASS_NAMES,
    FIELDS,
    FORMULA_NAMES,
    LATEST,
    RERUN_TAG,
    RUNS,
    read_table,
    sklearn_report,
)
from support import HOSTILE_CLASS_NAME

pytest.importorskip("playwright.sync_api")


def test_csv_and_markdown_export_match_the_table(dashboard, matrices):
    _, written = matrices
    page = dashboard.open()
    with page.expect_download() as download:
        dashboard.testid("export-csv").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
    (ARTIFACTS / "export.csv").write_text(text, encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:6] == [
        "class", "baseline step", "baseline precision", "baseline recall", "baseline f1-score", "baseline support",
    ]
    assert header[6] == "class_weights step"
    assert "class_weights recall delta" in header
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert list(by_name)[:3] == ["accuracy", "macro avg", "weighted avg"]
    for run in RUNS:
        assert {row[f"{run} step"] for row in by_name.values()} == {str(LATEST)}
        expected = sklearn_report(written[run][LATEST])
        for name in CLASS_NAMES + ["macro avg", "weighted avg"]:
            for field, key in FIELDS.items():
                assert float(by_name[name][f"{run} {key}"]) == pytest.approx(expected[name][key], abs=1e-12)
        assert float(by_name["accuracy"][f"{run} f1-score"]) == pytest.approx(expected["accuracy"])
        assert float(by_name["MCC"][f"{run} f1-score"]) == pytest.approx(expected["MCC"], abs=1e-9)
    base = sklearn_report(written["baseline"][LATEST])
    weights = sklearn_report(written["class_weights"][LATEST])
    assert float(by_name["dog"]["class_weights recall delta"]) == pytest.approx(
        weights["dog"]["recall"] - base["dog"]["recall"], abs=1e-12
    )

    with page.expect_download() as download:
        dashboard.testid("export-markdown").click()
    markdown = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
    (ARTIFACTS / "export.md").write_text(markdown, encoding="utf-8")
    lines = markdown.strip().split("\n")
    assert lines[0].startswith(f"| class | baseline (step {LATEST}) precision |")
    assert lines[1].startswith("| --- | ---: |")
    escaped = HOSTILE_CLASS_NAME.replace("<", "\\<").replace(">", "\\>")  # text in every Markdown renderer
    hostile_line = next(line for line in lines if escaped in line)
    recall = base[HOSTILE_CLASS_NAME]["recall"]
    assert hostile_line.startswith(f"| {escaped} | {base[HOSTILE_CLASS_NAME]['precision']:.4f} | {recall:.4f} |")
    assert len(lines) == 2 + 9 + len(CLASS_NAMES)
    dashboard.problems.assert_none()


def test_left_out_steps_get_a_note_and_exports_say_each_runs_step(dashboard, matrices):
    _, written = matrices
    page = dashboard.open(tag=RERUN_TAG, runs=["rerun", "steady"])
    note = dashboard.testid("skipped-steps-note")
    assert note.is_visible()
    (item,) = dashboard.testid("skipped-steps-item").all()
    assert item.get_attribute("data-run") == "rerun"
    assert item.get_attribute("data-steps") == "3,4"
    text = item.text_content()
    assert text.startswith("rerun, steps 3, 4: ")
    assert "3 classes" in text and "this tag has 4" in text and FORMULA_NAMES[1] in text
    # The good steps are shown: each run at its own latest step.
    steps = dashboard.testid("report-run-step").evaluate_all("cells => cells.map(c => c.textContent)")
    assert steps == ["step 2", "step 4"]
    table = read_table(page)
    for run, step in (("rerun", 2), ("steady", 4)):
        expected = sklearn_report(written[run][step], FORMULA_NAMES)
        for name in FORMULA_NAMES:
            assert table[name][run]["recall"]["value"] == pytest.approx(expected[name]["recall"], abs=1e-12)

    with page.expect_download() as download:
        dashboard.testid("export-csv").click()
    text = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
    (ARTIFACTS / "export-rerun.csv").write_text(text, encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:3] == ["class", "rerun step", "rerun precision"]
    assert "steady step" in header
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert {row["rerun step"] for row in by_name.values()} == {"2"}
    assert {row["steady step"] for row in by_name.values()} == {"4"}
    # Formula-like class names are neutralised with a leading apostrophe.
    assert [name for name in by_name if name.startswith("'")] == ["'" + name for name in FORMULA_NAMES]
    for name in FORMULA_NAMES:
        row = by_name["'" + name]
        expected = sklearn_report(written["steady"][4], FORMULA_NAMES)[name]
        assert float(row["steady recall"]) == pytest.approx(expected["recall"], abs=1e-12)
    assert not any(cell[:1] in "=+-@" for row in rows for cell in row if cell and not _is_number(cell))

    with page.expect_download() as download:
        dashboard.testid("export-markdown").click()
    markdown = pathlib.Path(download.value.path()).read_text(encoding="utf-8")
    assert "| rerun (step 2) precision |" in markdown
    assert "| steady (step 4) precision |" in markdown
    dashboard.problems.assert_none()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_cells_are_neutralised_and_quoted(dashboard):
    page = dashboard.open(runs=["baseline"])
    cells = ["=1+1", "+1", "-x", "@A1", "\tx", "a,b", 'say "hi"', "line\nbreak", "plain", -0.5, 3]
    csv_text = page.evaluate(
        """async (cells) => {
            const { toCsv } = await import("/data/plugin/imbalance/static/format.js");
            return toCsv({ header: ["=run step", "b"], rows: [cells] });
        }""",
        cells,
    )
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["'=run step", "b"]
    assert rows[1] == ["'=1+1", "'+1", "'-x", "'@A1", "'\tx", "a,b", 'say "hi"', "line\nbreak", "plain", "-0.5", "3"]
    dashboard.problems.assert_none()


def test_copy_buttons_put_the_export_on_the_clipboard(dashboard):
    page = dashboard.open(runs=["baseline"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dashboard.testid("copy-markdown").click()
    page.wait_for_function("document.querySelector('.copy-status').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("| class | baseline (step 5) precision |")
    assert HOSTILE_CLASS_NAME.replace("<", "\\<").replace(">", "\\>") in copied
    dashboard.problems.assert_none()


def test_copy_without_the_clipboard_api_copies_the_csv_as_it_is(dashboard):
    page = dashboard.open(runs=["baseline"])
    with page.expect_download() as download:
        dashboard.testid("export-csv").click()
    downloaded = pathlib.Path(download.value.path()).read_bytes().decode("utf-8")
    # the asynchronous clipboard API refused (an iframe without the permission): the textarea fallback
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: {writeText: () => Promise.reject(new Error('blocked'))}})")
    dashboard.testid("copy-csv").click()
    page.wait_for_function("document.querySelector('.copy-status').textContent === 'Copied'")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reader = page.context.new_page()
    reader.goto(page.url)
    copied = reader.evaluate("navigator.clipboard.readText()")
    assert copied == downloaded and "\r\n" in copied  # the fallback copied LF row ends
    dashboard.problems.assert_none()
