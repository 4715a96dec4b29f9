"""Helpers for driving the Imbalance dashboard in headless Chromium.

* :func:`launch_chromium` starts Debian's Chromium through Playwright.
* :class:`PageProblems` records console errors, uncaught exceptions, dialogs
  (``alert``) and Content-Security-Policy violations of a page.
* :func:`dashboard_url` builds the plugin iframe URL with selection presets.
* :func:`wait_ready` waits until the dashboard finished rendering.
* :func:`read_table` returns the classification-report table as numbers.

Example:
    >>> with sync_playwright() as playwright:
    ...     browser = launch_chromium(playwright)
    ...     page = browser.new_page()
    ...     problems = PageProblems(page)
    ...     page.goto(dashboard_url(base_url, runs=["baseline"]))
    ...     wait_ready(page)
    ...     problems.assert_none()
"""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Any, Iterable, Iterator

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ARTIFACTS",
    "launch_chromium",
    "PageProblems",
    "dashboard_url",
    "wait_ready",
    "Dashboard",
    "dashboard_page",
    "fetch_json",
    "read_table",
]

#: Debian's Chromium; tests never download a browser.
CHROMIUM = "/usr/bin/chromium"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: Screenshots and downloads of the browser tests (git-ignored).
ARTIFACTS = pathlib.Path(__file__).resolve().parent.parent / "test-artifacts"

# Runs before any page script (injected by the browser, so the page's CSP
# does not apply to it) and records CSP violations.
_CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def launch_chromium(playwright: Any) -> Any:
    """Launch headless Chromium from :data:`CHROMIUM`.

    Args:
        playwright: the object ``sync_playwright()`` yields.

    Returns:
        A Playwright ``Browser``.
    """
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class PageProblems:
    """Everything that went wrong in a page, recorded from the moment of creation.

    Args:
        page: a Playwright ``Page`` (before its first navigation).

    Attributes:
        console_errors: ``console.error`` messages, "Failed to load resource"
            included (the browser's own ``/favicon.ico`` request is ignored).
        page_errors: uncaught exceptions.
        dialogs: messages of ``alert`` / ``confirm`` / ``prompt`` dialogs
            (dismissed automatically).
    """

    def __init__(self, page: Any):
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        page.add_init_script(_CSP_RECORDER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._on_dialog)

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def csp_violations(self) -> list[str]:
        """CSP violations reported in the main frame and every child frame."""
        found: list[str] = []
        for frame in self.page.frames:
            try:
                found.extend(frame.evaluate("window.__cspViolations || []"))
            except Exception:  # a frame that navigated away or closed
                continue
        return found

    def assert_none(self, *, allowed_console: Iterable[str] = ()) -> None:
        """Fail if anything was recorded.

        Args:
            allowed_console: substrings of console errors the test expects
                (e.g. the 4xx of a route it calls on purpose).
        """
        allowed = tuple(allowed_console)
        console = [text for text in self.console_errors if not any(part in text for part in allowed)]
        assert not console, f"console errors: {console}"
        assert not self.page_errors, f"uncaught exceptions: {self.page_errors}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"
        violations = self.csp_violations()
        assert not violations, f"CSP violations: {violations}"


def dashboard_url(base_url: str, **presets: Any) -> str:
    """The plugin iframe URL with selection presets.

    Args:
        base_url: TensorBoard's URL.
        presets: query parameters; lists are joined with commas
            (``runs=["a", "b"]`` → ``runs=a,b``). ``poll`` defaults to 0
            (no polling) so pages stay still while tests read them.

    Returns:
        ``<base_url>/data/plugin_entry.html?name=imbalance&...``
    """
    query: dict[str, Any] = {"name": "imbalance", "poll": 0}
    for key, value in presets.items():
        query[key] = ",".join(value) if isinstance(value, (list, tuple)) else value
    return f"{base_url}/data/plugin_entry.html?{urllib.parse.urlencode(query)}"


def wait_ready(target: Any, *, timeout_ms: float = 20_000) -> None:
    """Wait until the dashboard's current render finished.

    Every user action that changes the selection marks the page as loading
    synchronously, so calling this right after an action waits for that
    action's render.

    Args:
        target: a Playwright ``Page`` or ``Frame``.
        timeout_ms: how long to wait.
    """
    target.wait_for_function("document.body.dataset.state === 'ready'", timeout=timeout_ms)


class Dashboard:
    """A page of the dashboard plus what went wrong in it."""

    def __init__(self, page: Any, base_url: str):
        self.page = page
        self.base_url = base_url
        self.problems = PageProblems(page)

    def open(self, **presets: Any) -> Any:
        self.page.goto(dashboard_url(self.base_url, **presets))
        wait_ready(self.page)
        return self.page

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)


def fetch_json(page: Any, route: str, **params: Any) -> dict[str, Any]:
    """A plugin route's JSON, fetched by the page itself."""
    return page.evaluate(
        """async ([route, params]) => {
            const response = await fetch(`/data/plugin/imbalance/${route}?` + new URLSearchParams(params));
            return response.json();
        }""",
        [route, {key: str(value) for key, value in params.items()}],
    )


_READ_TABLE = """
() => {
  const table = {};
  const rows = document.querySelectorAll("[data-testid=summary-row], [data-testid=report-row]");
  for (const row of rows) {
    const runs = {};
    for (const cell of row.querySelectorAll("[data-testid=report-cell]")) {
      const delta = cell.querySelector(".delta");
      const bar = cell.querySelector("[data-testid=interval-bar]");
      (runs[cell.dataset.run] ??= {})[cell.dataset.field] = {
        value: Number(cell.dataset.value),
        text: cell.querySelector(".value").textContent,
        delta: delta ? Number(delta.dataset.delta) : null,
        direction: delta ? delta.classList[1] : null,
        delta_title: delta ? delta.title : null,
        interval: bar ? [Number(bar.dataset.low), Number(bar.dataset.high)] : null,
        title: cell.title,
        low_support: cell.dataset.lowSupport === "true",
      };
    }
    table[row.dataset.class] = runs;
  }
  return table;
}
"""


def read_table(page: Any) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """The report table as ``{row name: {run: {field: cell}}}``.

    Each cell is ``{"value": float, "text": str, "delta": float | None,
    "direction": "better" | "worse" | "ns" | "same" | "untested" | "neutral" | None,
    "delta_title": str | None, "interval": [low, high] | None, "title": str,
    "low_support": bool}``: ``direction`` is "better" / "worse" only for a
    significant difference, ``interval`` the 95% interval its bar draws,
    ``title`` the cell's tooltip. Rows are class names and the summary rows'
    labels (``"macro avg"``, ``"MCC"``, …).
    """
    return page.evaluate(_READ_TABLE)


def dashboard_page(
    browser: Any, server: str, name: str, *, width: int = 1400, height: int = 1000, **context_options: Any
) -> Iterator["Dashboard"]:
    """Body of a pytest fixture: a :class:`Dashboard` on a fresh page of ``width`` × ``height``.

    When the test ends, a full-page screenshot goes to ``ARTIFACTS/<name>.png``
    and the page's context is closed. Use it as ``yield from
    dashboard_page(browser, server, request.node.name)``.
    """
    context = browser.new_context(viewport={"width": width, "height": height}, **context_options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield Dashboard(page, server)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
