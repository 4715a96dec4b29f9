"""The Imbalance dashboard's error and empty states, live updates and place in TensorBoard's UI, in a real headless Chromium against a real ``tensorboard``.

Error and empty states, new steps appearing while a moved slider stays, the
tab inside TensorBoard's own UI.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from browser_support import browser, dashboard, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import ARTIFACTS, CLASS_NAMES, RUNS, dashboard_page, wait_ready

pytest.importorskip("playwright.sync_api")


def test_error_and_empty_states(dashboard):
    page = dashboard.open(tag="future_matrix", runs=["future"])
    message = page.locator("[data-testid=report] .section-message")
    assert message.is_visible()
    assert "future" in message.text_content()
    assert dashboard.testid("report-table").is_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_error_and_empty_states-error.png"), full_page=True)
    dashboard.problems.assert_none(allowed_console=["status of 422", "status of 404", "status of 400"])

    page = dashboard.open(runs=["no_such_run"])  # a link to runs not here: said, and the first runs shown
    assert page.evaluate("document.body.dataset.view") == "report"
    assert "no_such_run" in dashboard.testid("link-note").text_content()
    dashboard.testid("runs-none").click()
    page.wait_for_function("document.body.dataset.view === 'empty'")
    assert "No run selected" in dashboard.testid("page-message").text_content()
    assert dashboard.testid("link-note").is_hidden()
    # With no run the page finished its render: no exception, no "Loading…" left in the header.
    wait_ready(page)
    assert dashboard.testid("page-status").text_content().startswith("Loaded ")  # poll=0: no check after the first load
    dashboard.problems.assert_none(allowed_console=["status of 422", "status of 404", "status of 400"])


def test_the_pivot_names_a_run_it_cannot_show_isolated_without_invisible_marks(dashboard):
    page = dashboard.open(tag="future_matrix", runs=["future"], view="pivot")
    message = dashboard.testid("pivot-message")
    text, isolated = message.evaluate("e => [e.textContent, [...e.querySelectorAll('bdi')].map(b => b.textContent)]")
    assert text.startswith("future: ") and "summary format version 6 is newer" in text
    assert isolated == ["future"]  # the run name in a <bdi>, as the side-by-side view's message has it
    assert "\u2068" not in text and "\u2069" not in text  # no FSI/PDI left in the text to copy
    assert "\u2068" not in page.evaluate("document.body.innerText")
    dashboard.problems.assert_none(allowed_console=["status of 422"])


def test_the_pivot_of_groups_notes_the_untested_run_isolated_without_invisible_marks(browser, tmp_path):
    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    from support import tensorboard_server

    for index, run in enumerate(("base", "other")):
        tb_imbalance.log_matrix(tmp_path / run, [[5, 1, 0], [1, 4, 2], [0, 1, 6 + index]], 0, class_names=["cat", "dog", "fox"],
                                image=False, class_groups={"pets": ["cat", "dog"], "wild": ["fox"]})
    close_directory_writers()
    with tensorboard_server(tmp_path, load_fast=False) as url:
        for dashboard in dashboard_page(browser, url, "test_the_pivot_of_groups_notes"):
            dashboard.open(runs=["base", "other"], baseline="base", view="pivot", group=1)
            note = dashboard.testid("pivot-note")
            text, isolated = note.evaluate("e => [e.textContent, [...e.querySelectorAll('bdi')].map(b => b.textContent)]")
            assert text == "Differences to the baseline are not tested for other: differences of groups are not tested."
            assert isolated == ["other"]
            dashboard.problems.assert_none()


def test_new_steps_appear_and_a_moved_slider_stays(dashboard, matrices):
    root, _ = matrices
    page = dashboard.open(tag="live_matrix", runs=["live"], poll=1)
    assert dashboard.testid("table-step-label").text_content() == "2"
    dashboard.testid("matrix-step-slider").fill("1")
    wait_ready(page)
    dashboard.testid("class-filter").focus()  # a keyboard user is at work in the table

    import tensorflow as tf

    from tb_imbalance import summary as tbs

    writer = tf.summary.create_file_writer(str(root / "live"))
    with writer.as_default():
        for step in (3, 4):
            cm_labels = np.array([0, 1, 2, 3, 0, 1])
            tbs.confusion_matrix("live_matrix", cm_labels, cm_labels, step=step, num_classes=4)
    writer.close()

    page.wait_for_function(
        "document.querySelector('[data-testid=table-step-label]').textContent === '4'", timeout=30_000
    )
    wait_ready(page)
    assert dashboard.testid("matrix-step-label").text_content() == "1"
    assert page.evaluate("document.activeElement.dataset.testid") == "class-filter"  # the redraw took no focus
    assert dashboard.testid("table-step-latest").is_visible()
    assert dashboard.testid("matrix-step-latest").is_hidden()
    dashboard.problems.assert_none()


def test_the_status_line_moves_with_every_check_that_finds_nothing_new(dashboard):
    # The line said "Updated <time of the last redraw>": a check that found nothing left it at that
    # time, so a page that was live read like a stuck one.
    page = dashboard.open(runs=list(RUNS), poll=1)
    status = dashboard.testid("page-status")
    first = status.text_content()
    script = "t => document.querySelector('[data-testid=page-status]').textContent !== t"
    page.wait_for_function(script, arg=first, timeout=15_000)  # the next checks, a second apart, change it
    second = status.text_content()
    assert re.fullmatch(r"Checked [0-9:]+( [AP]M)?", first), first
    assert status.get_attribute("title").startswith("The page asks the server for new runs and steps every 1 s")
    checked, since = re.fullmatch(r"Checked (.+) · nothing new since (.+)", second).groups()
    assert since == first.removeprefix("Checked ") and checked != since
    page.wait_for_function(script, arg=second, timeout=15_000)  # and on with the next checks
    later, since_later = re.fullmatch(r"Checked (.+) · nothing new since (.+)", status.text_content()).groups()
    assert since_later == since and later != checked
    assert page.evaluate("document.body.dataset.state") == "ready"  # the checks redrew nothing
    dashboard.problems.assert_none()


def test_a_check_that_gets_no_answer_keeps_the_report_on_screen_and_says_so_in_the_status_line(dashboard):
    # One check without an answer (TensorBoard restarting, the network) replaced every card with
    # "Could not load runs: …" until an answer came.
    page = dashboard.open(runs=list(RUNS), poll=1)
    status = dashboard.testid("page-status")
    page.wait_for_function("document.querySelector('[data-testid=page-status]').textContent.includes('nothing new since')", timeout=15_000)
    since = status.text_content().split("nothing new since ")[1]
    page.route("**/data/plugin/imbalance/runs*", lambda route: route.abort())
    page.wait_for_function("document.querySelector('[data-testid=page-status]').textContent.startsWith('Check failed ')", timeout=15_000)
    page.wait_for_timeout(1500)  # more checks without an answer
    assert page.evaluate("document.body.dataset.view") == "report"
    assert dashboard.testid("page-message").is_hidden()
    assert dashboard.testid("report-table").is_visible()
    assert re.fullmatch(r"Check failed [0-9:]+( [AP]M)? · last answer [0-9:]+( [AP]M)?", status.text_content()), status.text_content()
    assert "error" in status.get_attribute("class").split()
    assert status.get_attribute("title").startswith("Cannot reach TensorBoard")
    assert page.locator("[data-testid=report-run-head]").count() == len(RUNS)
    page.unroute("**/data/plugin/imbalance/runs*")
    page.wait_for_function("document.querySelector('[data-testid=page-status]').textContent.startsWith('Checked ')", timeout=15_000)
    wait_ready(page)
    assert "error" not in status.get_attribute("class").split()
    assert status.text_content().endswith(f"nothing new since {since}")  # the answer again is not new data
    assert page.locator("[data-testid=report-run-head]").count() == len(RUNS)
    dashboard.problems.assert_none(allowed_console=["net::ERR_FAILED"])


def test_tensorboard_ui_loads_the_plugin_tab(dashboard):
    page = dashboard.page
    page.goto(f"{dashboard.base_url}/#imbalance")
    frame_element = page.wait_for_selector('iframe[src*="plugin_entry.html?name=imbalance"]', timeout=30_000)
    frame = frame_element.content_frame()
    wait_ready(frame)
    assert frame.locator("[data-testid=report-row]").count() == len(CLASS_NAMES)
    assert frame.locator("[data-testid=report-run-head]").count() == len(RUNS)
    # The address bar stays at #imbalance; the header links to the frame's own URL, which holds the view.
    link = frame.locator("[data-testid=view-link]").get_attribute("href")
    assert "plugin_entry.html?name=imbalance" in link and "runs=" in link and link == frame.url
    assert page.url.endswith("/#imbalance")
    page.wait_for_timeout(300)
    dashboard.problems.assert_none(allowed_console=["Three.js"])


def test_a_baseline_that_leaves_the_log_directory_is_said_and_selected_again_when_it_returns(browser, tmp_path):
    """A run deleted and logged again (a re-run) vanishes for a while: the page says so, and takes it
    back, as the baseline it was, when it returns (the Rust loader drops a deleted run)."""
    import shutil

    from browser_support import dashboard_page
    from support import make_logdir, tensorboard_server

    logs = tmp_path / "logs"
    make_logdir(logs, runs=("base", "other", "third"), num_steps=2, seed=3)
    with tensorboard_server(logs, load_fast=True) as url:
        for dashboard in dashboard_page(browser, url, "test_a_baseline_that_leaves"):
            page = dashboard.open(runs=["base", "other", "third"], baseline="other", poll=1)
            assert dashboard.testid("baseline-select").input_value() == "other"
            shutil.move(str(logs / "other"), str(tmp_path / "other"))
            message = page.locator("[data-testid=report] .section-message")
            message.wait_for(state="visible", timeout=60_000)
            assert re.match(r"other: not in the log directory since [0-9:]+( [AP]M)? \(deleted, moved, or being written again\)", message.text_content())
            assert "as baseline" in message.text_content()
            shutil.move(str(tmp_path / "other"), str(logs / "other"))
            page.wait_for_function(
                "document.querySelector('[data-testid=baseline-select]')?.value === 'other'", timeout=60_000
            )
            wait_ready(page)
            assert message.is_hidden()
            assert "baseline=other" in page.evaluate("location.search")
            # The only selected run leaves: the page says which, not "No run selected"
            page = dashboard.open(runs=["third"], poll=1)
            shutil.move(str(logs / "third"), str(tmp_path / "third"))
            page_message = dashboard.testid("page-message")
            page_message.wait_for(state="visible", timeout=60_000)
            assert page_message.text_content().startswith("third: not in the log directory since ")
            shutil.move(str(tmp_path / "third"), str(logs / "third"))
            page_message.wait_for(state="hidden", timeout=60_000)
            wait_ready(page)
            assert [head.get_attribute("data-run") for head in page.locator("[data-testid=report-run-head]").all()] == ["third"]
            # Every run leaves: the selected ones are still named, one line each, not "no confusion matrices found"
            page = dashboard.open(runs=["other", "third"], poll=1)
            for run in ("base", "other", "third"):
                shutil.move(str(logs / run), str(tmp_path / run))
            page.wait_for_function(
                "document.querySelector('[data-testid=page-message]')?.textContent.startsWith('other: not in the log')",
                timeout=60_000,
            )
            lines = dashboard.testid("page-message").inner_text().split("\n")
            assert [line.split(":")[0] for line in lines] == ["other", "third"], lines
            assert all(line.endswith("(choosing runs in the list forgets it)") for line in lines), lines
            dashboard.open(runs=["third"], poll=1)  # a fresh page on the empty directory: no reload needed
            assert dashboard.testid("page-message").text_content().endswith("New runs appear here as they are written.")
            dashboard.problems.assert_none(allowed_console=["status of 404"])


def test_a_selected_run_moved_to_a_new_name_is_selected_in_its_place(browser, tmp_path):
    """A selected baseline's directory renamed while the page is open: the page said the old name was
    not in the log directory, with the new name unselected in the run list, for as long as it stayed open."""
    import shutil

    from browser_support import dashboard_page
    from support import make_logdir, tensorboard_server

    logs = tmp_path / "logs"
    make_logdir(logs, runs=("base", "other", "third"), num_steps=2, seed=3)
    with tensorboard_server(logs, load_fast=True) as url:
        for dashboard in dashboard_page(browser, url, "test_a_selected_run_moved"):
            page = dashboard.open(runs=["base", "other", "third"], baseline="other", poll=1)
            page.wait_for_timeout(2500)  # checks have read when each run's steps were logged
            shutil.move(str(logs / "other"), str(logs / "other_v2"))
            page.wait_for_function(
                "document.querySelector('[data-testid=baseline-select]')?.value === 'other_v2'", timeout=60_000
            )
            wait_ready(page)
            heads = [head.get_attribute("data-run") for head in page.locator("[data-testid=report-run-head]").all()]
            assert heads == ["base", "other_v2", "third"]
            message = page.locator("[data-testid=report] .section-message")
            assert message.is_hidden()
            assert dashboard.testid("link-note").text_content() == (
                "other is other_v2 now (moved or renamed: the same steps, logged at the same times); selected in its place."
            )
            assert "baseline=other_v2" in page.evaluate("location.search")
            # A run that does not come back: said since when; choosing runs in the list forgets it.
            shutil.rmtree(logs / "third")
            message.wait_for(state="visible", timeout=60_000)
            assert re.fullmatch(
                r"third: not in the log directory since [0-9:]+( [AP]M)? \(deleted, moved, or being written again\); selected again "
                r"when it comes back, also under a new name with the steps it had \(choosing runs in the list forgets it\)",
                message.text_content(),
            ), message.text_content()
            page.locator("[data-testid=run-checkbox][data-run=base]").uncheck()
            wait_ready(page)
            assert message.is_hidden() and dashboard.testid("link-note").is_hidden()
            assert [head.get_attribute("data-run") for head in page.locator("[data-testid=report-run-head]").all()] == ["other_v2"]
            dashboard.problems.assert_none(allowed_console=["status of 404"])


def test_choosing_a_tag_none_of_whose_runs_is_selected_selects_its_runs(dashboard):
    page = dashboard.open(runs=list(RUNS))
    dashboard.testid("tag-select").select_option("live_matrix")
    wait_ready(page)
    assert dashboard.testid("page-message").is_hidden()
    assert [head.get_attribute("data-run") for head in page.locator("[data-testid=report-run-head]").all()] == ["live"]
    # Back to the first tag: its runs are still selected.
    dashboard.testid("tag-select").select_option("confusion_matrix")
    wait_ready(page)
    assert page.locator("[data-testid=report-run-head]").count() == len(RUNS)
    dashboard.problems.assert_none()


def test_a_narrow_window_stacks_the_run_list_above_cards_that_fit_it(browser, server, request):
    # The sidebar kept its 248 px column: at 400 px the cards were 112 px wide, the page 732 px, and
    # the table's controls stuck out of their card.
    for dashboard in dashboard_page(browser, server, request.node.name, width=400, height=900):
        dashboard.open()
        layout = dashboard.page.evaluate("""() => {
          const card = document.querySelector('[data-testid=report-table]').closest('.card');
          const box = card.getBoundingClientRect();
          // The table's own header buttons scroll with it, inside its card: only the controls around it count.
          const outside = [...document.querySelectorAll('.card select, .card input, .card button')]
            .filter(e => e.offsetParent && !e.closest('table') && e.getBoundingClientRect().right > box.right + 1);
          return {page: document.documentElement.scrollWidth, card: box.width, outside: outside.length,
                  sidebarAbove: document.querySelector('.sidebar').getBoundingClientRect().bottom <= box.top};
        }""")
        assert layout == {"page": 400, "card": pytest.approx(380, abs=2), "outside": 0, "sidebarAbove": True}
        dashboard.problems.assert_none()


def test_a_window_of_900_px_keeps_the_status_line_and_subtitle_on_one_line_each(browser, server, request):
    # The header's items shared one row: at 900 px the status line stood in a column 4 lines high.
    for dashboard in dashboard_page(browser, server, request.node.name, width=900, height=700):
        page = dashboard.open(runs=list(RUNS), poll=1)
        page.wait_for_function("document.querySelector('[data-testid=page-status]').textContent.includes('nothing new since')", timeout=15_000)
        lines = page.evaluate("""() => Object.fromEntries(['page-status', 'page-subtitle'].map(id => {
            const text = document.createRange();  // its lines: the distinct tops of its text's boxes
            text.selectNodeContents(document.querySelector(`[data-testid=${id}]`));
            return [id, new Set([...text.getClientRects()].map(box => Math.round(box.top))).size];
          }))""")
        assert lines == {"page-status": 1, "page-subtitle": 1}, lines
        assert page.evaluate("document.documentElement.scrollWidth") == 900
        dashboard.problems.assert_none()


def test_each_step_slider_says_which_view_it_steps(dashboard):
    page = dashboard.open()
    for name, testid in (("Report step", "table"), ("Matrix step", "matrix"), ("Imbalance step", "imbalance")):
        slider = page.get_by_role("slider", name=name, exact=True)
        assert slider.count() == 1 and slider.get_attribute("data-testid") == f"{testid}-step-slider"
        assert slider.get_attribute("aria-valuetext") == "step 5"
    dashboard.testid("view-pivot").click()
    wait_ready(page)
    assert page.get_by_role("slider", name="Report step", exact=True).get_attribute("data-testid") == "pivot-step-slider"
    dashboard.problems.assert_none()


def test_the_loading_ring_stays_still_for_reduced_motion(dashboard):
    page = dashboard.open()
    spinning = """() => { const status = document.querySelector('[data-testid=page-status]');
        status.classList.add('busy');
        const style = getComputedStyle(status, '::before');
        return [style.animationName, style.display]; }"""
    assert page.evaluate(spinning) == ["spin", "inline-block"]
    page.emulate_media(reduced_motion="reduce")
    assert page.evaluate(spinning) == ["none", "inline-block"]
    # Nothing else on the page animates or transitions.
    moving = page.evaluate("""() => [...document.querySelectorAll('*')].filter(e => {
        const s = getComputedStyle(e); return s.animationName !== 'none' || s.transitionDuration.split(',').some(d => parseFloat(d) > 0);
      }).map(e => e.className)""")
    assert moving == []
    dashboard.problems.assert_none()
