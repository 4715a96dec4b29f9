"""The Imbalance dashboard's light and dark themes, in a real headless Chromium against a real ``tensorboard``.

The tab follows TensorBoard's theme: dark while TensorBoard's page body has the
class ``dark-mode`` (its default follows the system, its header's toggle sets
it), re-themed live when it changes; a page opened on its own follows the
system's colour scheme. Light looks as it always did; the matrix cells' text
stays readable on dark.

Fixtures, the logdir and the failure rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from browser_support import browser, matrices, server  # noqa: F401  (pytest fixtures, used by name)
from browser_support import ARTIFACTS, LATEST, dashboard_page, dashboard_url, wait_ready

pytest.importorskip("playwright.sync_api")

#: The light theme's colours, as they were before the dark theme existed.
LIGHT = {
    "background": "rgb(245, 245, 245)",
    "text": "rgb(33, 33, 33)",
    "surface": "rgb(255, 255, 255)",
    "border": "rgb(224, 224, 224)",
    "table_head": ("rgb(250, 250, 250)", "rgb(66, 66, 66)"),
    "link": "rgb(168, 67, 0)",
    "better": "rgb(46, 125, 50)",
    "worse": "rgb(198, 40, 40)",
    "top_cell": ("rgb(8, 48, 107)", "rgb(255, 255, 255)"),  # the Blues scale at its top, white text
}

_COLOURS = """() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  const head = style("[data-testid=report-table] thead th");
  return {
    theme: document.documentElement.dataset.theme,
    background: getComputedStyle(document.body).backgroundColor,
    text: getComputedStyle(document.documentElement).color,
    surface: style(".card").backgroundColor,
    border: style(".card").borderTopColor,
    table_head: [head.backgroundColor, head.color],
    link: style("[data-testid=view-link]").color,
  };
}"""

# Every matrix cell: [true, predicted, background, text colour].
_CELLS = """() => [...document.querySelectorAll("[data-testid=matrix-cell]")].map((cell) => {
  const style = getComputedStyle(cell);
  return [Number(cell.dataset.true), Number(cell.dataset.pred), style.backgroundColor, style.color];
})"""


def _rgb(text: str) -> tuple[float, float, float]:
    red, green, blue = (float(part) for part in re.findall(r"[\d.]+", text)[:3])
    return red, green, blue


def _luminance(text: str) -> float:
    channels = [value / 255 for value in _rgb(text)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _assert_dark(colours: dict) -> None:
    assert colours["theme"] == "dark"
    for key in ("background", "surface"):
        assert _luminance(colours[key]) < 0.05, (key, colours[key])
    assert _luminance(colours["text"]) > 0.8, colours["text"]
    assert _luminance(colours["table_head"][1]) > 0.6
    assert _contrast(colours["link"], colours["background"]) >= 4.5


def _top_cells(cells: list, cm: np.ndarray) -> list:
    """The cells at the top of the per-row scale: the largest of each row."""
    return [cell for cell in cells if cm[cell[0]].max() > 0 and cm[cell[0], cell[1]] == cm[cell[0]].max()]


def test_inside_a_dark_tensorboard_the_tab_is_dark_and_follows_its_toggle_live(browser, server, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST]
    for dashboard in dashboard_page(browser, server, "test_theme_inside_tensorboard", color_scheme="dark"):
        page = dashboard.page
        page.goto(f"{server}/#imbalance")
        frame = page.wait_for_selector('iframe[src*="plugin_entry.html?name=imbalance"]', timeout=30_000).content_frame()
        wait_ready(frame)
        # TensorBoard's default follows the system: its body is dark, and so is the tab.
        assert page.evaluate("document.body.classList.contains('dark-mode')")
        _assert_dark(frame.evaluate(_COLOURS))
        dark_cells = _top_cells(frame.evaluate(_CELLS), cm)
        assert dark_cells and all(cell[2] == "rgb(227, 241, 252)" for cell in dark_cells), dark_cells

        # TensorBoard's header menu (browser default / light / dark) sets the class on its body:
        # the tab follows, without reloading.
        frame.evaluate("window.__sameDocument = true")
        page.locator("button[title^='Current mode']").click()
        page.locator("[role=menuitem]", has_text="Light").click()
        page.wait_for_function("!document.body.classList.contains('dark-mode')")
        frame.wait_for_function("document.documentElement.dataset.theme === 'light'")
        colours = frame.evaluate(_COLOURS)
        assert {key: colours[key] for key in ("background", "text", "surface", "border", "link")} == {
            key: LIGHT[key] for key in ("background", "text", "surface", "border", "link")
        }
        light_cells = _top_cells(frame.evaluate(_CELLS), cm)
        assert all((cell[2], cell[3]) == LIGHT["top_cell"] for cell in light_cells), light_cells
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_theme_inside_tensorboard-light.png"))

        page.evaluate("document.body.classList.add('dark-mode')")  # the class alone is enough
        frame.wait_for_function("document.documentElement.dataset.theme === 'dark'")
        _assert_dark(frame.evaluate(_COLOURS))
        assert _top_cells(frame.evaluate(_CELLS), cm) == dark_cells
        page.evaluate("document.body.classList.remove('dark-mode')")
        frame.wait_for_function("document.documentElement.dataset.theme === 'light'")
        page.evaluate("document.body.classList.add('dark-mode')")
        frame.wait_for_function("document.documentElement.dataset.theme === 'dark'")
        assert frame.evaluate("window.__sameDocument") is True
        page.wait_for_timeout(300)
        dashboard.problems.assert_none(allowed_console=["Three.js"])


def test_light_looks_as_before(browser, server, matrices):
    _, written = matrices
    cm = written["baseline"][LATEST]
    for dashboard in dashboard_page(browser, server, "test_theme_light", color_scheme="light"):
        page = dashboard.open(runs=["baseline", "class_weights"])
        colours = page.evaluate(_COLOURS)
        assert colours.pop("theme") == "light"
        assert colours == {key: list(value) if isinstance(value, tuple) else value for key, value in LIGHT.items() if key in colours}
        cells = page.evaluate(_CELLS)
        top = _top_cells(cells, cm)
        assert top and all((cell[2], cell[3]) == LIGHT["top_cell"] for cell in top), top
        for cell in cells:  # text: white on the dark cells, black on the others (4.5:1 at least)
            assert cell[3] in (LIGHT["top_cell"][1], "rgb(0, 0, 0)")
        legend = "getComputedStyle(document.querySelector('[data-testid=legend-significant] .{}')).color"
        assert (page.evaluate(legend.format("better")), page.evaluate(legend.format("worse"))) == (LIGHT["better"], LIGHT["worse"])
        dashboard.problems.assert_none()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_matrix_cells_keep_their_text_readable(browser, server, scheme):
    """Every cell's text contrasts at least 4.5:1 with the cell, in every scale and in differences
    (light mid-scale cells had 2.8:1); better and worse stay apart on the page."""
    for dashboard in dashboard_page(browser, server, f"test_theme_{scheme}_contrast", color_scheme=scheme):
        page = dashboard.open(runs=["baseline", "class_weights"])
        assert page.evaluate("document.documentElement.dataset.theme") == scheme  # the system's scheme, on its own page
        seen = set()
        for compare in ("none", "runs"):
            dashboard.testid("matrix-diff-mode").select_option(compare)
            wait_ready(page)
            for normalize in ("none", "true", "all"):
                dashboard.testid("matrix-normalize").select_option(normalize)
                wait_ready(page)
                for colour in ("row", "linear", "log"):
                    dashboard.testid("matrix-colour").select_option(colour)
                    wait_ready(page)
                    for true, pred, background, text in page.evaluate(_CELLS):
                        seen.add(background)
                        assert _contrast(background, text) >= 4.5, (compare, normalize, colour, true, pred, background, text)
        assert len(seen) > 20  # many shades were checked, of both scales
        surface = page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor")
        better = page.evaluate("getComputedStyle(document.querySelector('.delta.better')).color")
        worse = page.evaluate("getComputedStyle(document.querySelector('.delta.worse')).color")
        for colour in (better, worse):  # the table's significant differences
            assert _contrast(colour, surface) >= 4.5, colour
        (br, bg, _), (wr, wg, _) = _rgb(better), _rgb(worse)
        assert bg - br > 50 and wr - wg > 50, (better, worse)  # green and red, not two greys
        dashboard.problems.assert_none()


def test_a_page_of_its_own_follows_the_system_scheme_live(browser, server, matrices):
    _, written = matrices
    empty = np.argwhere(written["wide"][max(written["wide"])] == 0)[0]  # an empty cell of the heat map: (row, column)
    for dashboard in dashboard_page(browser, server, "test_theme_standalone", color_scheme="light"):
        page = dashboard.open(tag="wide_matrix", runs=["wide"])
        corner = (
            "() => Array.from(document.querySelector('[data-testid=matrix-canvas]').getContext('2d')"
            f".getImageData({empty[1]}, {empty[0]}, 1, 1).data.slice(0, 3))"
        )
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        light_pixel = page.evaluate(corner)
        page.evaluate("window.__sameDocument = true")
        page.emulate_media(color_scheme="dark")
        page.wait_for_function("document.documentElement.dataset.theme === 'dark'")
        _assert_dark(page.evaluate(_COLOURS))
        dark_pixel = page.evaluate(corner)  # the heat map is redrawn in the dark scale
        assert _luminance(f"rgb({dark_pixel[0]}, {dark_pixel[1]}, {dark_pixel[2]})") < 0.1 < _luminance(
            f"rgb({light_pixel[0]}, {light_pixel[1]}, {light_pixel[2]})"
        ), (light_pixel, dark_pixel)
        page.emulate_media(color_scheme="light")
        page.wait_for_function("document.documentElement.dataset.theme === 'light'")
        assert page.evaluate(corner) == light_pixel
        assert page.evaluate("window.__sameDocument") is True
        dashboard.problems.assert_none()
