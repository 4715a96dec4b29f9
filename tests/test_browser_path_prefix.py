"""The Imbalance tab where TensorBoard is deployed, in a real headless Chromium against a real ``tensorboard``.

One ``tensorboard --path_prefix /tb`` (``--load_fast=false``) serves this
module's logdir: two runs logged with scores, examples and training counts,
one of them named with a slash, a space, ``#`` and ``=``. The tab is opened

* in TensorBoard's own page under the prefix (``/tb/#imbalance``);
* through a reverse proxy that adds a prefix of its own
  (``/user/proxy/tb/…`` → ``/tb/…``), as a notebook server's proxy does;
* inside an iframe of another origin (another port of the same host), as a
  notebook's ``%tensorboard`` embeds TensorBoard.

Every number drawn is compared with the plugin's routes; every request of the
tab must stay below the prefix it was opened under. Fixtures and the failure
rules: ``tests/browser_support.py``.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import pathlib
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser  # noqa: F401  (pytest fixture, used by name)
from browser_support import dashboard_page, matrix_values, read_table, wait_ready
from support import free_port, get_json, tensorboard_server

pytest.importorskip("playwright.sync_api")

PREFIX = "/tb"
#: The proxy's own prefix, in front of TensorBoard's.
PROXY_PREFIX = "/user/proxy"
CLASS_NAMES = ["cat", "dog", "bird"]
RUNS = ("baseline", "sweep/lr=0.1 #1")
TAG = "confusion_matrix"
STEPS = (0, 1)
#: TensorBoard's own page asks for its fonts at ``/font-roboto/…``, outside any prefix (not the tab's requests).
TENSORBOARD_PAGE_FONTS = "/font-roboto/"


@pytest.fixture(scope="module")
def prefix_logdir(tmp_path_factory) -> pathlib.Path:
    import tb_imbalance

    root = tmp_path_factory.mktemp("browser_path_prefix")
    for offset, run in enumerate(RUNS):
        rng = np.random.default_rng(offset)
        for step in STEPS:
            true = rng.choice(len(CLASS_NAMES), size=300, p=[0.6, 0.3, 0.1])
            logits = rng.normal(size=(300, len(CLASS_NAMES))) + (1.5 + step + offset) * np.eye(len(CLASS_NAMES))[true]
            probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            tb_imbalance.log_report(
                root / run, true, probabilities, step=step, name=TAG, class_names=CLASS_NAMES, image=False,
                class_counts=[600, 300, 100], examples=rng.random((300, 8, 8)),
            )
    return root


@pytest.fixture(scope="module")
def prefixed(prefix_logdir) -> Iterator[str]:
    """TensorBoard's URL, ending with its ``--path_prefix``."""
    with tensorboard_server(prefix_logdir, load_fast=False, path_prefix=PREFIX) as base_url:
        assert base_url.endswith(PREFIX)
        yield base_url


class _FrontHandler(http.server.BaseHTTPRequestHandler):
    """``/notebook.html``: a page embedding TensorBoard; ``/user/proxy/tb/…``: proxied to TensorBoard."""

    upstream = ""  # TensorBoard's URL with its prefix, set per server

    def do_GET(self) -> None:
        if self.path == "/notebook.html":
            frame = json.dumps(self.upstream + "/#imbalance")
            body = f'<!doctype html><title>notebook</title><iframe id="tb" width="1350" height="950" src={frame}></iframe>'
            self._answer(200, {"Content-Type": "text/html; charset=utf-8"}, body.encode())
            return
        proxied = PROXY_PREFIX + PREFIX
        if not self.path.startswith(proxied + "/"):
            self._answer(404, {"Content-Type": "text/plain"}, b"not proxied")
            return
        request = urllib.request.Request(self.upstream + self.path[len(proxied):])
        for name in ("Accept", "User-Agent"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        kept = {name: value for name, value in headers.items() if name.lower() not in ("content-length", "connection", "transfer-encoding")}
        self._answer(status, kept, body)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front(prefixed) -> Iterator[str]:
    """A server on another port: the notebook page and the reverse proxy."""
    handler = type("Handler", (_FrontHandler,), {"upstream": prefixed})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def dashboard(browser, prefixed, request):  # noqa: F811
    yield from dashboard_page(browser, prefixed, request.node.name, accept_downloads=True)


@contextlib.contextmanager
def recorded_requests(page: Any) -> Iterator[list[str]]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    yield urls


def route(base_url: str, name: str, **params: Any) -> Any:
    return get_json(f"{base_url}/data/plugin/imbalance/{name}?{urllib.parse.urlencode(params)}")


def plugin_frame(target: Any) -> Any:
    """The Imbalance tab's iframe in TensorBoard's page, once drawn."""
    frame = target.wait_for_selector('iframe[src*="plugin_entry.html?name=imbalance"]', timeout=60_000).content_frame()
    wait_ready(frame, timeout_ms=60_000)
    return frame


def assert_tab_matches_routes(frame: Any, base_url: str) -> None:
    """The table of both runs, the matrix of the first and the curves' AP equal the routes' answers."""
    table = read_table(frame)
    for run in RUNS:
        report = route(base_url, "report", run=run, tag=TAG)
        assert report["step"] == STEPS[-1]
        for index, name in enumerate(CLASS_NAMES):
            for field in ("precision", "recall", "f1"):
                assert table[name][run][field]["value"] == pytest.approx(report["per_class"][field][index], abs=1e-12)
            assert table[name][run]["support"]["value"] == report["per_class"]["support"][index]
    matrix_run = frame.get_by_test_id("matrix-run").input_value()
    assert matrix_run in RUNS
    np.testing.assert_array_equal(matrix_values(frame), route(base_url, "report", run=matrix_run, tag=TAG)["confusion_matrix"])
    legend = frame.get_by_test_id("curves-legend-item").evaluate_all(
        "items => items.map(item => [item.dataset.run, item.textContent])"
    )
    assert [run for run, _ in legend] == list(RUNS)
    class_index = int(frame.get_by_test_id("curves-class").input_value())
    for run, text in legend:
        curves = route(base_url, "curves", run=run, tag=TAG, **{"class": class_index})
        assert text.startswith(run) and f"AP {curves['average_precision']:.4f}" in text


def test_the_tab_under_a_path_prefix_draws_every_card_from_the_prefixed_routes(dashboard, prefixed):
    page = dashboard.page
    with recorded_requests(page) as urls:
        page.goto(f"{prefixed}/#imbalance")
        frame = plugin_frame(page)
        frame.get_by_test_id("runs-all").click()
        wait_ready(frame)
        assert_tab_matches_routes(frame, prefixed)
        # An example's thumbnail, behind the first cell of the matrix.
        frame.get_by_test_id("matrix-cell").first.click()
        frame.wait_for_function(
            "() => { const images = [...document.querySelectorAll('[data-testid=examples-panel] img')];"
            " return images.length > 0 && images.every((image) => image.complete); }"
        )
        widths = frame.locator("[data-testid=examples-panel] img").evaluate_all("images => images.map(image => image.naturalWidth)")
        assert widths and set(widths) == {8}
        link = frame.get_by_test_id("view-link").get_attribute("href")
    tab_requests = [url for url in urls if TENSORBOARD_PAGE_FONTS not in url and not url.startswith(("blob:", "data:"))]
    assert tab_requests and all(url.startswith(prefixed + "/") for url in tab_requests), tab_requests
    assert any("/data/plugin/imbalance/example_image?" in url for url in tab_requests)
    # The link to this view is the frame's URL under the prefix, and opens the same runs.
    assert link.startswith(f"{prefixed}/data/plugin_entry.html?name=imbalance&")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["runs"] == [",".join(RUNS)]
    page.goto(link)
    wait_ready(page)
    assert page.get_by_test_id("report-run-head").evaluate_all("heads => heads.map(h => h.dataset.run)") == list(RUNS)
    dashboard.problems.assert_none(allowed_console=["Three.js", TENSORBOARD_PAGE_FONTS])


def test_the_tab_behind_a_proxy_that_adds_its_own_prefix(dashboard, front, prefixed):
    page = dashboard.page
    proxied = front + PROXY_PREFIX + PREFIX
    with recorded_requests(page) as urls:
        page.goto(f"{proxied}/data/plugin_entry.html?name=imbalance&poll=0&runs={urllib.parse.quote(','.join(RUNS))}")
        wait_ready(page)
        assert_tab_matches_routes(page, prefixed)
    assert urls and all(url.startswith(proxied + "/") for url in urls), urls
    assert page.get_by_test_id("view-link").get_attribute("href").startswith(f"{proxied}/data/plugin_entry.html?")
    dashboard.problems.assert_none()


def test_copy_in_a_notebook_iframe_of_another_origin_copies_the_csv_without_a_console_error(dashboard, front, prefixed):
    # A notebook's %tensorboard puts TensorBoard in an iframe of another port: the clipboard API is
    # not allowed there, so the copy goes through the page's fallback, with nothing in the console.
    page = dashboard.page
    page.goto(f"{front}/notebook.html")
    tensorboard_frame = page.wait_for_selector("#tb").content_frame()
    frame = plugin_frame(tensorboard_frame)
    assert frame.evaluate("document.featurePolicy.allowsFeature('clipboard-write')") is False
    with page.expect_download() as download:
        frame.get_by_test_id("export-csv").click()
    downloaded = pathlib.Path(download.value.path()).read_bytes().decode("utf-8")
    assert downloaded.startswith(f"class,{RUNS[0]} step,")
    frame.get_by_test_id("copy-csv").click()
    frame.wait_for_function("document.querySelector('.copy-status').textContent === 'Copied'")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    reader = page.context.new_page()
    reader.goto(f"{prefixed}/data/plugin_entry.html?name=imbalance&poll=0")
    assert reader.evaluate("navigator.clipboard.readText()") == downloaded
    dashboard.problems.assert_none(allowed_console=["Three.js", TENSORBOARD_PAGE_FONTS])
