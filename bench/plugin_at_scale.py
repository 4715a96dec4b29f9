"""The dashboard's routes at thousands of classes, through the real ``tensorboard``, in both loader modes.

Run::

    .venv/bin/python bench/plugin_at_scale.py --classes 10000
    .venv/bin/python bench/many_classes.py --classes 10000      # calls this part too
    python bench/plugin_at_scale.py --classes 2000 --quick     # smoke run, figures meaningless

Writes two runs (``baseline``, ``weighted``) of ``--steps`` steps each with
``log_report`` on 100,000 rows of class ids per step (long-tailed labels,
right for 60 % of the rows, as :mod:`writers_at_scale`), with class counts,
then starts ``tensorboard --load_fast=true`` (the Rust data server) and
``--load_fast=false`` (the Python loader) on it and times, after one warm-up
request each: ``report`` (latest step and a random step), ``compare`` of the
two runs and ``series`` of one class, ``--requests`` requests each (median,
p95, bytes). Also printed: the bytes the plugin's cache holds per run
(``MatrixSeries.nbytes``, read in process), next to the stored cells.
Targets (issue "Long-tail scale", 10,000 classes): ``report`` ≤ 300 ms and
≤ 5 MB, ``compare`` ≤ 300 ms, ``series`` of one class ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

import numpy as np

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

import support  # noqa: E402
from writers_at_scale import inputs  # noqa: E402

TAG = "confusion_matrix"
RUNS = ("baseline", "weighted")
TARGETS_MS = {"report": 300, "report (random step)": 300, "compare": 300, "series (1 class)": 100}


def write_runs(root: pathlib.Path, classes: int, steps: int, rows: int) -> None:
    import tb_imbalance

    logging.getLogger("tb_imbalance").setLevel(logging.ERROR)
    for seed, run in enumerate(RUNS):
        for step in range(steps):
            labels, predicted = inputs(classes, rows, scores=False, seed=seed * 1000 + step)
            tb_imbalance.log_report(root / run, labels, predicted, step, num_classes=classes,
                                    class_counts=np.arange(classes, 0, -1))


def timed(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as response:
        body = response.read()
    return (time.perf_counter() - start) * 1e3, len(body)


def measure(base_url: str, steps: int, requests: int, classes: int) -> dict[str, tuple[float, float, int]]:
    route = f"{base_url}/data/plugin/imbalance"
    rng = np.random.default_rng(0)
    urls = {
        "report": lambda: f"{route}/report?run=baseline&tag={TAG}",
        "report (random step)": lambda: f"{route}/report?run=baseline&tag={TAG}&step={rng.integers(steps)}",
        "compare": lambda: f"{route}/compare?run=weighted&tag={TAG}&baseline=baseline",
        "series (1 class)": lambda: f"{route}/series?run=baseline&tag={TAG}&classes={rng.integers(classes)}",
    }
    figures = {}
    for name, url in urls.items():
        timed(url())  # warm-up: the cache is filled
        samples = [timed(url()) for _ in range(requests)]
        latencies = sorted(ms for ms, _ in samples)
        figures[name] = (statistics.median(latencies), latencies[int(round(0.95 * (len(latencies) - 1)))],
                         samples[-1][1])
    return figures


def cache_bytes(root: pathlib.Path) -> int:
    """Bytes the plugin keeps for the baseline run (Python loader, in process)."""
    from tb_imbalance.plugin.reader import ImbalanceData
    from tensorboard import context

    provider, _ = support.plugin_provider(root)
    data = ImbalanceData(provider)
    return data.series_for(context.RequestContext(), "", "baseline", TAG).nbytes


def run(classes_list, steps: int, rows: int, requests: int, keep: str | None = None) -> pathlib.Path:
    folder = pathlib.Path(keep or tempfile.mkdtemp(prefix="plugin_at_scale_"))
    for classes in classes_list:
        root = folder / f"classes_{classes}"
        if not root.exists():
            write_runs(root, classes, steps, rows)
        stored = sum(f.stat().st_size for f in (root / "baseline").iterdir())
        print(f"plugin at scale: {classes} classes, 2 runs x {steps} steps of {rows} rows, {requests} requests "
              f"per route; baseline run on disk {stored / 1e6:.1f} MB, in the plugin's cache "
              f"{cache_bytes(root) / 1e6:.1f} MB ({classes} x {classes} int64 would be {classes**2 * 8 / 1e6:.0f} MB a step)")
        for load_fast in (True, False):
            with support.tensorboard_server(root, load_fast=load_fast, startup_timeout=600) as base_url:
                figures = measure(base_url, steps, requests, classes)
            print(f"  --load_fast={str(load_fast).lower()}")
            print(f"    {'route':22s} {'median':>9s} {'p95':>9s} {'bytes':>9s}  target")
            for name, (median, p95, size) in figures.items():
                target = TARGETS_MS[name] if classes == 10_000 else None
                verdict = ""
                if target is not None:
                    met = median <= target and (not name.startswith("report") or size <= 5e6)
                    verdict = f"<= {target} ms" + (", <= 5 MB" if name.startswith("report") else "")
                    verdict += f": {'met' if met else 'MISSED'}"
                print(f"    {name:22s} {median:6.0f} ms {p95:6.0f} ms {size / 1e6:6.2f} MB  {verdict}", flush=True)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--keep", help="write (or reuse) the logdirs here instead of a temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 steps, 5,000 rows, 2 requests")
    parser.add_argument("--backend", help="ignored (for bench/smoke.py): no Keras here")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.rows, args.requests = 2, 5_000, 2
    folder = run(args.classes, args.steps, args.rows, args.requests, keep=args.keep)
    if args.quick and not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
