"""Take the README's pictures from the demo's runs in the real Imbalance tab.

Usage::

    .venv/bin/python scripts/screenshot.py                 # train the demo into a temporary directory first
    .venv/bin/python scripts/screenshot.py --logdir runs   # use runs trained before (python -m demo --no-serve)

Writes ``docs/dashboard.png`` (the tab on first load: every demo run, each
class set compared with its own baseline) and ``docs/examples.png`` (the
digits behind the baseline's busiest mistake). It starts ``tensorboard`` on
the runs, opens the tab in Debian's Chromium through Playwright
(``/usr/bin/chromium``) and waits until the tab says it has drawn
(``document.body.dataset.state == "ready"``), so the pictures always show the
tab as the code draws it.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Sequence

REPO = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 1300}
DEMO_RUNS = 6
EXAMPLES_RUN = "digits/baseline/validation_imbalance"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", help="the demo's runs (default: train them into a temporary directory)")
    parser.add_argument("--out", default=str(REPO / "docs"), help="directory the pictures are written to (default: docs/)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run when training (default: the demo's)")
    args = parser.parse_args(argv)
    # Said now, not after a training run's traceback or two minutes' wait for runs that are not there.
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1, received {args.epochs}")
    if args.logdir is not None:
        if args.epochs is not None:
            parser.error("--epochs trains the runs, --logdir takes runs trained before: pass one of them")
        if not any(name.startswith("events.out.tfevents") for _, _, names in os.walk(args.logdir) for name in names):
            parser.error(
                f"--logdir: no TensorBoard runs in {args.logdir!r}; train them first "
                f"({sys.executable} -m demo --no-serve --logdir {args.logdir}) or leave --logdir out"
            )
    return args


def train(logdir: pathlib.Path, epochs: int | None) -> None:
    command = [sys.executable, "-m", "demo", "--no-serve", "--logdir", str(logdir)]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    print("Training the demo runs:", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


def wait_for_runs(base_url: str, count: int, timeout: float = 120.0) -> None:
    """Until the plugin lists ``count`` runs (TensorBoard loads the logdir in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/data/plugin/imbalance/runs", timeout=10) as response:
                if len(json.load(response)) >= count:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"TensorBoard did not list {count} runs within {timeout:.0f} s")
        time.sleep(1)


def tab_url(base_url: str, **params: str) -> str:
    query = urllib.parse.urlencode({"name": "imbalance", "poll": "0", **params})
    return f"{base_url}/data/plugin_entry.html?{query}"


def take(base_url: str, out: pathlib.Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEWPORT)
        ready = "document.body.dataset.state === 'ready'"

        # The first load, as a new user sees it.
        page.goto(tab_url(base_url))
        page.wait_for_function(ready, timeout=60_000)
        page.mouse.move(0, 0)
        page.screenshot(path=str(out / "dashboard.png"))

        # The digits behind the baseline's busiest mistake.
        page.goto(tab_url(base_url, runs=EXAMPLES_RUN))
        page.wait_for_function(ready, timeout=60_000)
        busiest = page.evaluate(
            """() => [...document.querySelectorAll("td[data-testid=matrix-cell]")]
                .filter((cell) => cell.dataset.true !== cell.dataset.pred)
                .sort((a, b) => Number(b.dataset.value) - Number(a.dataset.value))
                .map((cell) => [cell.dataset.true, cell.dataset.pred])[0]"""
        )
        page.locator(f"td[data-testid=matrix-cell][data-true='{busiest[0]}'][data-pred='{busiest[1]}']").click()
        page.wait_for_function(
            "() => { const p = document.querySelector('[data-testid=examples-panel]');"
            " return p && !p.hidden && p.dataset.state === 'ready'; }",
            timeout=60_000,
        )
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=examples-panel] img')].every((img) => img.complete)")
        page.mouse.move(0, 0)
        page.get_by_test_id("examples-panel").locator("xpath=..").screenshot(path=str(out / "examples.png"))
        browser.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from demo.serve import TensorBoardProcess, choose_port

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tb_imbalance_screenshot_") as scratch:
        logdir = pathlib.Path(args.logdir) if args.logdir else pathlib.Path(scratch) / "runs"
        if not args.logdir:
            train(logdir, args.epochs)
        with TensorBoardProcess(logdir, port=choose_port(6006)) as server:
            wait_for_runs(server.base_url, DEMO_RUNS)
            take(server.base_url, out)
    print(f"Wrote {out / 'dashboard.png'} and {out / 'examples.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
