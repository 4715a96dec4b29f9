"""Helpers for driving the Imbalance dashboard in headless Chromium.

* :func:`launch_chromium` starts Debian's Chromium through Playwright.
* :class:`PageProblems` records console errors, uncaught exceptions, dialogs
  (``alert``) and Content-Security-Policy violations of a page.
* :func:`dashboard_url` builds the plugin iframe URL with selection presets.
* :func:`wait_ready` waits until the dashboard finished rendering.
* :func:`read_table` returns the classification-report table as numbers.
* The dashboard's generated logdir of the ``tests/test_browser_<part>.py``
  files: the ``matrices``, ``server``, ``browser`` and ``dashboard`` fixtures
  (import them into a test module to use them), its constants, and the
  references :func:`sklearn_report`, :func:`assert_table_matches`,
  :func:`matrix_values`, :func:`row_names` and :func:`read_pivot`.

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
import time
import urllib.parse
from typing import Any, Iterable, Iterator

import numpy as np
import pytest

from support import HOSTILE_CLASS_NAME, labels_from_matrix, make_logdir, tensorboard_server, write_newer_format_run

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
    "CLASS_NAMES",
    "NUM_STEPS",
    "LATEST",
    "WIDE_CLASSES",
    "RUNS",
    "FIELDS",
    "PIVOT_TAG",
    "PIVOT_RUNS",
    "PIVOT_CLASSES",
    "OTHER_CLASS_NAMES",
    "FORMULA_NAMES",
    "RERUN_TAG",
    "RERUN_GOOD_STEPS",
    "RERUN_SKIPPED_STEPS",
    "LONG_TAIL_TAG",
    "LONG_TAIL_NAMES",
    "LONG_TAIL_COUNTS",
    "HOSTILE_GROUP_NAME",
    "LONG_TAIL_GROUPS",
    "LONG_TAIL_MATRIX",
    "matrices",
    "server",
    "browser",
    "dashboard",
    "sklearn_report",
    "assert_table_matches",
    "matrix_values",
    "row_names",
    "read_pivot",
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
() => [...document.querySelectorAll("[data-testid=summary-row], [data-testid=report-row]")].map((row) => [
  row.dataset.class,
  [...row.querySelectorAll("[data-testid=report-cell]")].map((cell) => {
    const delta = cell.querySelector(".delta");
    const bar = cell.querySelector("[data-testid=interval-bar]");
    return [cell.dataset.run, cell.dataset.field, {
      value: Number(cell.dataset.value),
      text: cell.querySelector(".value").textContent,
      delta: delta ? Number(delta.dataset.delta) : null,
      direction: delta ? delta.classList[1] : null,
      delta_title: delta ? delta.title : null,
      interval: bar ? [Number(bar.dataset.low), Number(bar.dataset.high)] : null,
      title: cell.title,
      low_support: cell.dataset.lowSupport === "true",
    }];
  }),
])
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
    # Read as lists: a page's object keyed by name would take a run named "__proto__" for its
    # prototype, and Playwright leaves such a key out of the objects it hands back.
    table: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for name, cells in page.evaluate(_READ_TABLE):
        runs = table[name] = {}
        for run, field, cell in cells:
            runs.setdefault(run, {})[field] = cell
    return table


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


# --------------------------------------------------------------------------
# The dashboard's generated logdir, shared by the tests/test_browser_<part>.py
# files. Each module runs one ``tensorboard --load_fast=false`` process on it:
#
# * ``baseline`` and ``class_weights``: 4 classes (one named like an HTML
#   injection), tag ``confusion_matrix``, steps 0–5;
# * ``wide``: 1000 classes, tag ``wide_matrix``, steps 0–1;
# * ``future``: written by a newer format version, tag ``future_matrix``;
# * ``live``: tag ``live_matrix``, gains steps while a test watches;
# * ``rerun`` and ``steady``: tag ``rerun_matrix``, classes named like
#   spreadsheet formulas. ``rerun`` logged steps 0–2 with 4 classes, then steps
#   3–4 with 3 classes (as a re-run into the same directory would), which the
#   dashboard must leave out with a visible note; ``steady`` has steps 0–4;
# * ``pivot_00`` … ``pivot_09``: 100 classes, tag ``pivot_matrix``, steps 0–1,
#   and ``pivot_other`` with 3 other (hostile) class names under the same tag,
#   for the pivot view;
# * ``long_tail``: 5 classes with training counts and two class groups (one
#   hostile name), tag ``long_tail_matrix``, steps 0–1.
#
# Numbers on the page are compared with scikit-learn (and imbalanced-learn)
# computed from the matrices the logdir was written with.
# --------------------------------------------------------------------------


CLASS_NAMES = ["cat", "dog", HOSTILE_CLASS_NAME, "bird"]
NUM_STEPS = 6
LATEST = NUM_STEPS - 1
WIDE_CLASSES = 1000
RUNS = ("baseline", "class_weights")
FIELDS = {"precision": "precision", "recall": "recall", "f1": "f1-score", "support": "support"}


@pytest.fixture(scope="module")
def matrices(tmp_path_factory) -> tuple[pathlib.Path, dict[str, dict[int, np.ndarray]]]:
    root = tmp_path_factory.mktemp("browser_logdir")
    written = make_logdir(root, runs=RUNS, num_steps=NUM_STEPS, class_names=CLASS_NAMES)
    written.update(make_logdir(root, runs=("wide",), num_steps=2, num_classes=WIDE_CLASSES, tag="wide_matrix", seed=1))
    written.update(make_logdir(root, runs=("live",), num_steps=3, tag="live_matrix", seed=2))
    write_newer_format_run(root, "future", tag="future_matrix")
    written.update(_write_rerun_runs(root))
    written.update(make_logdir(root, runs=PIVOT_RUNS, num_steps=2, num_classes=PIVOT_CLASSES, tag=PIVOT_TAG, seed=3))
    written.update(
        make_logdir(root, runs=("pivot_other",), num_steps=2, num_classes=3, class_names=OTHER_CLASS_NAMES, tag=PIVOT_TAG, seed=4)
    )
    written.update(_write_long_tail_run(root))
    return root, written


PIVOT_TAG = "pivot_matrix"
PIVOT_RUNS = tuple(f"pivot_{index:02d}" for index in range(10))
PIVOT_CLASSES = 100
#: A class set other than the pivot runs', named to tempt an HTML parser.
OTHER_CLASS_NAMES = ["<b>bold</b>", HOSTILE_CLASS_NAME, "&amp; <script>alert(2)</script>"]


#: Class names a spreadsheet would run as formulas if exported unescaped.
FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)"]
RERUN_TAG = "rerun_matrix"
RERUN_GOOD_STEPS = (0, 1, 2)
RERUN_SKIPPED_STEPS = (3, 4)


LONG_TAIL_TAG = "long_tail_matrix"
LONG_TAIL_NAMES = ["cat", "dog", "fox", HOSTILE_CLASS_NAME, "bat"]
LONG_TAIL_COUNTS = [500, 300, 60, 25, 8]
HOSTILE_GROUP_NAME = '<svg onload=alert(2)>"wild"'
LONG_TAIL_GROUPS = {"pets": ["cat", "dog"], HOSTILE_GROUP_NAME: ["fox", HOSTILE_CLASS_NAME]}
LONG_TAIL_MATRIX = np.array(
    [[90, 6, 2, 1, 1], [8, 70, 1, 1, 0], [3, 2, 20, 4, 1], [1, 1, 5, 12, 1], [2, 1, 1, 2, 4]]
)


def _write_long_tail_run(root: pathlib.Path) -> dict[str, dict[int, np.ndarray]]:
    """``long_tail``: 5 classes with training counts and two class groups (one hostile name)."""
    import tb_imbalance

    written = {}
    for step in range(2):
        cm = LONG_TAIL_MATRIX + step * np.eye(5, dtype=int)
        tb_imbalance.log_matrix(
            root / "long_tail", cm, step, name=LONG_TAIL_TAG, class_names=LONG_TAIL_NAMES,
            image=False, class_counts=LONG_TAIL_COUNTS, class_groups=LONG_TAIL_GROUPS,
        )
        written[step] = cm
    return {"long_tail": written}


def _write_rerun_runs(root: pathlib.Path) -> dict[str, dict[int, np.ndarray]]:
    """Write ``rerun`` (a changed class set from step 3 on) and ``steady``.

    The mismatched steps are written through the low-level event-file path,
    which checks nothing, as a second process writing into the directory would.
    """
    from tb_imbalance.event_file import EventFile
    from tb_imbalance.events import report_values

    rng = np.random.default_rng(7)
    written: dict[str, dict[int, np.ndarray]] = {"rerun": {}, "steady": {}}

    def matrix(size: int) -> np.ndarray:
        return rng.integers(0, 9, size=(size, size)) + np.diag(rng.integers(10, 40, size=size))

    with EventFile(root / "rerun") as events:
        for step in RERUN_GOOD_STEPS:
            written["rerun"][step] = matrix(4)
            events.write(step, report_values(RERUN_TAG, written["rerun"][step], FORMULA_NAMES, image=None))
    # A later second: event-file names sort by their timestamp first, so the
    # second file is read second (as a later process's would be).
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.05)
    with EventFile(root / "rerun") as events:
        for step in RERUN_SKIPPED_STEPS:
            events.write(step, report_values(RERUN_TAG, matrix(3), ["x", "y", "z"], image=None))
    with EventFile(root / "steady") as events:
        for step in range(5):
            written["steady"][step] = matrix(4)
            events.write(step, report_values(RERUN_TAG, written["steady"][step], FORMULA_NAMES, image=None))
    return written


@pytest.fixture(scope="module")
def server(matrices) -> Iterator[str]:
    root, _ = matrices
    with tensorboard_server(root, load_fast=False) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Fixture: Debian's Chromium through Playwright, one per test module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def dashboard(browser, server, request) -> Iterator[Dashboard]:
    yield from dashboard_page(browser, server, request.node.name, accept_downloads=True)


def sklearn_report(cm: np.ndarray, names: list[str] = CLASS_NAMES) -> dict[str, Any]:
    from imblearn.metrics import geometric_mean_score
    from sklearn import metrics as skm

    y_true, y_pred = labels_from_matrix(cm)
    labels = list(range(cm.shape[0]))
    report = skm.classification_report(
        y_true, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
    )
    report["balanced accuracy"] = skm.balanced_accuracy_score(y_true, y_pred)
    report["MCC"] = skm.matthews_corrcoef(y_true, y_pred)
    report["Cohen's kappa"] = skm.cohen_kappa_score(y_true, y_pred)
    report["macro F1"] = skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    report["geometric mean"] = geometric_mean_score(y_true, y_pred, average="multiclass")
    return report


def assert_table_matches(table: dict, run: str, cm: np.ndarray) -> None:
    """Every number of `run`'s column group equals scikit-learn's."""
    expected = sklearn_report(cm)
    for name in CLASS_NAMES + ["macro avg", "weighted avg"]:
        for field, key in FIELDS.items():
            cell = table[name][run][field]
            assert cell["value"] == pytest.approx(expected[name][key], abs=1e-12), (name, field)
            if field == "support":
                assert cell["text"] == f"{int(expected[name][key]):,}"
            else:
                assert cell["text"] == f"{expected[name][key]:.4f}", (name, field)
    assert table["accuracy"][run]["f1"]["value"] == pytest.approx(expected["accuracy"], abs=1e-12)
    for name in ("balanced accuracy", "MCC", "Cohen's kappa", "macro F1", "geometric mean"):
        assert table[name][run]["f1"]["value"] == pytest.approx(expected[name], abs=1e-9), name
    recalls = [expected[name]["recall"] for name in CLASS_NAMES if expected[name]["support"] > 0]
    assert table["worst-class recall"][run]["f1"]["value"] == pytest.approx(min(recalls), abs=1e-12)


def matrix_values(page: Any) -> np.ndarray:
    cells = page.get_by_test_id("matrix-cell").evaluate_all(
        "cells => cells.map(c => [Number(c.dataset.true), Number(c.dataset.pred), Number(c.dataset.value), c.textContent])"
    )
    size = int(round(len(cells) ** 0.5))
    values = np.zeros((size, size))
    for i, j, value, _ in cells:
        values[i, j] = value
    return values


def row_names(page: Any) -> list[str]:
    return page.get_by_test_id("report-row").evaluate_all("rows => rows.map(r => r.dataset.class)")


_READ_PIVOT = """
() => [...document.querySelectorAll("[data-testid=pivot-group]")].map((group) => ({
  baseline_group: group.dataset.baselineGroup === "true",
  title: group.querySelector("[data-testid=pivot-group-title]").textContent,
  runs: [...group.querySelectorAll("[data-testid=pivot-run-head]")].map((head) => head.dataset.run),
  rows: [...group.querySelectorAll("[data-testid=pivot-row]")].map((row) => ({
    name: row.querySelector("th").textContent,
    cells: [...row.querySelectorAll("[data-testid=pivot-cell]")].map((cell) => {
      const delta = cell.querySelector(".delta");
      return [cell.dataset.run, {
        value: Number(cell.dataset.value),
        delta: delta ? Number(delta.dataset.delta) : null,
        direction: delta ? delta.classList[1] : null,
      }];
    }),
  })),
}))
"""


def read_pivot(page: Any) -> list[dict[str, Any]]:
    """The pivot as ``[{baseline_group, title, runs, rows: [{name, cells: {run: cell}}]}]``."""
    groups = page.evaluate(_READ_PIVOT)
    for group in groups:
        for row in group["rows"]:
            row["cells"] = dict(row["cells"])  # read as pairs: Playwright leaves a "__proto__" key out of objects
    return groups
