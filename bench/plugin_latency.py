"""Server-side latency of the Imbalance dashboard on a wide run.

Writes (or reuses, with ``--logdir``) one run of 1000 classes and 100 logged
steps — about 50,000 validation rows per step, mostly diagonal with
confusions between neighbouring classes — plus a ``loss`` scalar in the same
run, starts the real ``tensorboard`` on it, and times:

* the plugin's ``report`` route at varying steps (median and p95, after one
  warm-up request that fills the cache);
* TensorBoard's own ``/data/plugin/scalars/scalars`` route on the same run,
  as a yardstick, and the ratio of the two medians;
* in headless Chromium, the dashboard page from navigation to a rendered
  side-by-side report table of 10 runs × 100 classes (runs ``page_00`` …
  ``page_09``, tag ``page_matrix``, written next to the wide run), and from
  navigation to a rendered pivot of the same runs (``view=pivot``: recall,
  runs as columns, classes as rows; target ≤ 1 s).

Usage::

    python bench/plugin_latency.py                   # temp logdir, --load_fast=true
    python bench/plugin_latency.py --load-fast false --requests 100
    python bench/plugin_latency.py --logdir /tmp/wide  # reuse (written if empty)

Example:
    >>> figures = measure_report_latency("http://127.0.0.1:6006", run="wide",
    ...                                  tag="confusion_matrix", requests=50)
    >>> sorted(figures)
    ['available_steps', 'first_ms', 'latencies_ms', 'median_ms', 'p95_ms', 'response_bytes']
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Any, Sequence

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import support  # noqa: E402  (tests/support.py: the real-server helper)

__all__ = [
    "write_wide_run",
    "write_page_runs",
    "measure_report_latency",
    "measure_scalars_latency",
    "measure_page_render",
    "main",
]

RUN = "wide"
TAG = "confusion_matrix"
SCALAR_TAG = "loss"
PAGE_TAG = "page_matrix"
PAGE_RUNS = tuple(f"page_{index:02d}" for index in range(10))
PAGE_CLASSES = 100
PAGE_STEPS = 5


def write_wide_run(
    logdir: str | pathlib.Path,
    *,
    num_classes: int = 1000,
    num_steps: int = 100,
    rows_per_step: int = 50_000,
    seed: int = 0,
) -> None:
    """Write ``logdir/wide``: one confusion matrix and one ``loss`` scalar per step.

    Class frequencies follow a Zipf-like law; each class is recognised with a
    probability between 0.5 and 0.95 (improving over the steps), and errors
    go mostly to the three neighbouring classes on either side, sometimes to
    any class.

    Args:
        logdir: the logdir to write into.
        num_classes: ``C``.
        num_steps: logged steps ``0 .. num_steps - 1``.
        rows_per_step: validation rows behind each matrix.
        seed: random seed.
    """
    import tensorflow as tf

    from tb_imbalance import summary as tbs

    rng = np.random.default_rng(seed)
    priors = 1.0 / np.arange(1, num_classes + 1) ** 0.8
    priors /= priors.sum()
    base_recall = rng.uniform(0.5, 0.95, size=num_classes)
    class_names = [f"class_{index:04d}" for index in range(num_classes)]
    writer = tf.summary.create_file_writer(str(pathlib.Path(logdir) / RUN))
    with writer.as_default():
        for step in range(num_steps):
            progress = step / max(1, num_steps - 1)
            labels = rng.choice(num_classes, size=rows_per_step, p=priors)
            recall = np.clip(base_recall * (0.8 + 0.2 * progress), 0.0, 1.0)
            correct = rng.random(rows_per_step) < recall[labels]
            offsets = rng.integers(1, 4, size=rows_per_step) * rng.choice([-1, 1], size=rows_per_step)
            neighbour = (labels + offsets) % num_classes
            anywhere = rng.integers(0, num_classes, size=rows_per_step)
            wrong = np.where(rng.random(rows_per_step) < 0.8, neighbour, anywhere)
            predictions = np.where(correct, labels, wrong)
            tbs.confusion_matrix(
                TAG, labels, predictions, step=step, num_classes=num_classes, class_names=class_names
            )
            tf.summary.scalar(SCALAR_TAG, 2.0 / (1.0 + step), step=step)
    writer.close()


def _timed_get(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {url} answered {response.status}")
    return (time.perf_counter() - started) * 1000.0, len(body)


def _summary(latencies: Sequence[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p95_index = min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))
    return {"median_ms": statistics.median(ordered), "p95_ms": ordered[p95_index]}


def measure_report_latency(
    base_url: str, *, run: str = RUN, tag: str = TAG, requests: int = 50
) -> dict[str, Any]:
    """Time ``report`` requests at varying steps, after one warm-up request.

    Args:
        base_url: the TensorBoard URL, e.g. ``http://127.0.0.1:6006``.
        run, tag: the series to report.
        requests: number of timed requests.

    Returns:
        ``first_ms`` (warm-up request, cold cache), ``median_ms``, ``p95_ms``,
        ``latencies_ms``, ``available_steps`` (steps served),
        ``response_bytes`` (size of one report).

    Example:
        >>> measure_report_latency(url, requests=10)["median_ms"] < 1000
        True
    """
    route = f"{base_url}{support.PLUGIN_ROUTE}/report?"
    query = {"run": run, "tag": tag}
    first_ms, _ = _timed_get(route + urllib.parse.urlencode(query))
    steps = support.get_json(route + urllib.parse.urlencode(query))["steps"]
    latencies = []
    response_bytes = 0
    for index in range(requests):
        step = steps[(index * 7) % len(steps)]
        elapsed, response_bytes = _timed_get(route + urllib.parse.urlencode({**query, "step": step}))
        latencies.append(elapsed)
    return {
        "first_ms": first_ms,
        "latencies_ms": latencies,
        "available_steps": len(steps),
        "response_bytes": response_bytes,
        **_summary(latencies),
    }


def measure_scalars_latency(
    base_url: str, *, run: str = RUN, tag: str = SCALAR_TAG, requests: int = 50
) -> dict[str, Any]:
    """Time TensorBoard's own scalars route on the same run (after one warm-up).

    Returns:
        ``median_ms``, ``p95_ms``, ``latencies_ms``.
    """
    url = f"{base_url}/data/plugin/scalars/scalars?" + urllib.parse.urlencode({"run": run, "tag": tag})
    _timed_get(url)
    latencies = [_timed_get(url)[0] for _ in range(requests)]
    return {"latencies_ms": latencies, **_summary(latencies)}


def write_page_runs(
    logdir: str | pathlib.Path,
    *,
    runs: Sequence[str] = PAGE_RUNS,
    num_classes: int = PAGE_CLASSES,
    num_steps: int = PAGE_STEPS,
) -> None:
    """Write the runs the page benchmark compares (those not in ``logdir`` yet).

    Args:
        logdir: the logdir to write into.
        runs: run names; each gets ``num_steps`` matrices of tag :data:`PAGE_TAG`.
        num_classes: ``C``.
        num_steps: logged steps per run.
    """
    missing = [run for run in runs if not (pathlib.Path(logdir) / run).is_dir()]
    if missing:
        support.make_logdir(logdir, runs=missing, num_classes=num_classes, num_steps=num_steps, tag=PAGE_TAG)


def measure_page_render(
    base_url: str,
    *,
    runs: Sequence[str] = PAGE_RUNS,
    tag: str = PAGE_TAG,
    num_classes: int = PAGE_CLASSES,
    loads: int = 5,
    view: str = "table",
) -> dict[str, Any]:
    """Time the dashboard page from navigation to its first full render.

    Opens ``plugin_entry.html?name=imbalance`` with ``runs`` selected in
    headless Chromium, ``loads`` times (a fresh browser context each time),
    and reads the ``imbalance-first-render`` performance mark the page sets
    once the side-by-side table, or with ``view="pivot"`` the pivot (and the
    other views), are drawn. Each load checks that the table or pivot shows
    every run and ``num_classes`` classes.

    Args:
        base_url: the TensorBoard URL.
        runs, tag: what the page shows.
        num_classes: expected number of class rows.
        loads: page loads; the first one also fills the server's cache.
        view: ``"table"`` (side by side) or ``"pivot"``.

    Returns:
        ``first_ms`` (first load), ``median_ms`` (median of the later loads,
        or the first when ``loads`` is 1), ``loads_ms`` (all loads, in-page
        time since navigation start) and ``wall_ms`` (the same loads timed
        from Python, navigation call to ready).

    Example:
        >>> measure_page_render("http://127.0.0.1:6006", loads=3)["median_ms"] < 2000
        True
    """
    from playwright.sync_api import sync_playwright

    import browser_support  # tests/browser_support.py

    presets: dict[str, Any] = {"runs": list(runs), "baseline": runs[0], "tag": tag}
    if view != "table":
        presets["view"] = view
    url = browser_support.dashboard_url(base_url, **presets)
    loads_ms: list[float] = []
    wall_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = browser_support.launch_chromium(playwright)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url)
                browser_support.wait_ready(page, timeout_ms=120_000)
                wall_ms.append((time.perf_counter() - started) * 1000.0)
                loads_ms.append(
                    page.evaluate("performance.getEntriesByName('imbalance-first-render')[0].startTime")
                )
                if view == "pivot":
                    shown_runs = page.get_by_test_id("pivot-run-head").count()
                    shown_classes = f"{page.get_by_test_id('pivot-row').count()} classes"
                else:
                    shown_runs = page.get_by_test_id("report-run-head").count()
                    shown_classes = page.get_by_test_id("class-count").text_content()
                context.close()
                if shown_runs != len(runs) or shown_classes != f"{num_classes} classes":
                    raise RuntimeError(
                        f"the page showed {shown_runs} runs and {shown_classes!r}, expected "
                        f"{len(runs)} runs and {num_classes} classes"
                    )
        finally:
            browser.close()
    later = loads_ms[1:] or loads_ms
    return {
        "first_ms": loads_ms[0],
        "median_ms": statistics.median(later),
        "loads_ms": loads_ms,
        "wall_ms": wall_ms,
    }


def _wait_for_page_runs(base_url: str, timeout: float) -> None:
    for run in PAGE_RUNS:
        url = f"{base_url}{support.PLUGIN_ROUTE}/report?" + urllib.parse.urlencode({"run": run, "tag": PAGE_TAG})
        support.wait_for_json(url, lambda payload: len(payload["steps"]) == PAGE_STEPS, timeout=timeout, interval=1.0)


def _wait_for_latest_step(base_url: str, expected_step: int, timeout: float) -> None:
    url = f"{base_url}{support.PLUGIN_ROUTE}/report?" + urllib.parse.urlencode({"run": RUN, "tag": TAG})
    support.wait_for_json(url, lambda payload: payload["step"] >= expected_step, timeout=timeout, interval=1.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints labelled figures.

    Returns:
        The process exit status (0).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logdir", help="reuse this logdir (the wide run is written if missing)")
    parser.add_argument("--load-fast", choices=("true", "false"), default="true")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rows", type=int, default=50_000, help="validation rows per step")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument("--page-loads", type=int, default=5, help="browser page loads (0 skips the browser)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tb_imbalance_bench_") as scratch:
        logdir = pathlib.Path(args.logdir or scratch)
        if not (logdir / RUN).is_dir():
            started = time.perf_counter()
            write_wide_run(logdir, num_classes=args.classes, num_steps=args.steps, rows_per_step=args.rows)
            print(f"wrote logdir:           {logdir} in {time.perf_counter() - started:.1f} s")
        else:
            print(f"reusing logdir:         {logdir}")
        if args.page_loads > 0:
            write_page_runs(logdir)
        load_fast = args.load_fast == "true"
        with support.tensorboard_server(
            logdir, load_fast=load_fast, startup_timeout=args.startup_timeout
        ) as base_url:
            _wait_for_latest_step(base_url, args.steps - 1, args.startup_timeout)
            report = measure_report_latency(base_url, requests=args.requests)
            scalars = measure_scalars_latency(base_url, requests=args.requests)
            page = pivot = None
            if args.page_loads > 0:
                _wait_for_page_runs(base_url, args.startup_timeout)
                page = measure_page_render(base_url, loads=args.page_loads)
                pivot = measure_page_render(base_url, loads=args.page_loads, view="pivot")

    print(f"loader:                 --load_fast={args.load_fast}")
    print(f"run:                    {args.classes} classes, {args.steps} logged steps, "
          f"{args.rows} rows per step")
    print(f"steps served:           {report['available_steps']}")
    print(f"report response size:   {report['response_bytes'] / 1e6:.2f} MB")
    print(f"report warm-up:         {report['first_ms']:.1f} ms")
    print(f"report median:          {report['median_ms']:.1f} ms  (n={args.requests})")
    print(f"report p95:             {report['p95_ms']:.1f} ms")
    print(f"scalars median:         {scalars['median_ms']:.1f} ms  (n={args.requests})")
    print(f"scalars p95:            {scalars['p95_ms']:.1f} ms")
    print(f"ratio report/scalars:   {report['median_ms'] / scalars['median_ms']:.1f}x (medians)")
    if page is not None:
        print(f"page render first:      {page['first_ms']:.0f} ms  (navigation to a rendered table of "
              f"{len(PAGE_RUNS)} runs x {PAGE_CLASSES} classes, headless Chromium, cold server cache)")
        print(f"page render median:     {page['median_ms']:.0f} ms  (n={max(1, args.page_loads - 1)}, "
              f"target <= 2000 ms)")
    if pivot is not None:
        print(f"pivot render first:     {pivot['first_ms']:.0f} ms  (navigation to a rendered pivot of "
              f"{len(PAGE_RUNS)} runs x {PAGE_CLASSES} classes, headless Chromium)")
        print(f"pivot render median:    {pivot['median_ms']:.0f} ms  (n={max(1, args.page_loads - 1)}, "
              f"target <= 1000 ms)")
    figures = {"report_median_ms": round(report["median_ms"], 1),
               "report_p95_ms": round(report["p95_ms"], 1),
               "scalars_median_ms": round(scalars["median_ms"], 1)}
    if page is not None:
        figures["page_render_median_ms"] = round(page["median_ms"])
    if pivot is not None:
        figures["pivot_render_median_ms"] = round(pivot["median_ms"])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
