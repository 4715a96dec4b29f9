"""What the curves cost: ``log_report`` time, bytes per logged step and the ``curves`` route's latency.

Run::

    .venv/bin/python bench/curves_cost.py            # 100 and 1000 classes x 50,000 rows
    .venv/bin/python bench/curves_cost.py --quick    # smoke run, figures meaningless

The inputs: seeded long-tailed labels and float32 softmax scores of a model
that is right for most rows (logits with the true class raised), at each
class count. Printed, per class count:

* ``log_report`` per step with curves (the default) and with
  ``curves=False``, in rotated order, no picture: medians and their paired
  ratio (targets: with curves ≤ 0.1 s at 100 classes, ≤ 0.5 s at 1000);
* the bytes one step's curves add to the event file (the ``<name>_curves``
  blob and its summary value; target ≤ 100 kB at 100 classes), and the
  bytes of their scalars;
* the ``curves`` route through the plugin (TensorBoard's WSGI app, Python
  loader) on that run: the first request of a step (reads and decodes the
  blob) and later ones (cached), medians over steps (target ≤ 50 ms at 1000
  classes), and the ``report`` route with its curve fields.

The streaming Keras metric's cost per batch is measured by
``bench/curve_metric_cost.py``.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import harness  # noqa: E402


def make_inputs(classes: int, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Long-tailed labels and float32 softmax scores, right for most rows."""
    rng = np.random.default_rng(seed)
    frequency = 1.0 / np.arange(1, classes + 1) ** 0.8
    labels = rng.choice(classes, size=rows, p=frequency / frequency.sum())
    logits = rng.normal(size=(rows, classes)).astype(np.float32) * 1.5
    logits[np.arange(rows), labels] += 4.0
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return labels, logits


def curve_bytes(labels: np.ndarray, scores: np.ndarray) -> tuple[int, int]:
    """Serialized bytes of one step's curves blob value, and of its scalars (no per-class scalars)."""
    from tb_imbalance import core
    from tb_imbalance.curve_values import curve_values
    from tb_imbalance.step import ReportStep

    ids = core.class_ids(labels, scores)
    report = ReportStep.of(0, "confusion_matrix", core.count_class_ids(ids),
                           curves=core.curve_summary(scores, ids.true, ids.predicted))
    values = curve_values(report, per_class_scalars=False, pr_curves=False)
    blob, scalars = values[0], values[1:]
    return blob.ByteSize(), sum(value.ByteSize() for value in scalars)


def time_log_report(root: str, labels: np.ndarray, scores: np.ndarray, steps: int) -> dict[str, list[float]]:
    import tb_imbalance

    seconds: dict[str, list[float]] = {"with curves": [], "curves=False": []}

    def with_curves(step: int) -> None:
        tb_imbalance.log_report(f"{root}/curves", labels, scores, step, image=False)

    def without(step: int) -> None:
        tb_imbalance.log_report(f"{root}/plain", labels, scores, step, image=False, curves=False)

    variants = {"with curves": with_curves, "curves=False": without}
    for variant in variants.values():
        variant(0)  # warm-up
    for round_index in range(steps):
        for name in harness.rotated(list(variants), round_index):
            start = time.perf_counter()
            variants[name](round_index + 1)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def time_routes(run_dir: str, classes: int, steps: int) -> dict[str, float]:
    from support import plugin_client

    client = plugin_client(pathlib.Path(run_dir).parent)
    run = pathlib.Path(run_dir).name
    first, cached, report = [], [], []
    for step in range(1, steps + 1):
        for bucket in (first, cached, cached):
            start = time.perf_counter()
            response = client.get("/data/plugin/imbalance/curves",
                                  query_string={"run": run, "tag": "confusion_matrix", "step": step,
                                                "class": (7 * step) % classes})
            bucket.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data(as_text=True)
        start = time.perf_counter()
        response = client.get("/data/plugin/imbalance/report",
                              query_string={"run": run, "tag": "confusion_matrix", "step": step})
        report.append(time.perf_counter() - start)
        assert response.status_code == 200
    return {"first": statistics.median(first), "cached": statistics.median(cached),
            "report": statistics.median(report)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=7, help="timed rounds")
    parser.add_argument("--quick", action="store_true", help="smoke run: figures meaningless")
    parser.add_argument("--backend", choices=harness.BACKENDS, help="accepted for bench/smoke.py; no Keras here")
    args = parser.parse_args()
    if args.quick:
        args.classes, args.rows, args.steps = [20], 2000, 2
    for classes in args.classes:
        labels, scores = make_inputs(classes, args.rows)
        blob_bytes, scalar_bytes = curve_bytes(labels, scores)
        with tempfile.TemporaryDirectory() as root:
            seconds = time_log_report(root, labels, scores, args.steps)
            routes = time_routes(f"{root}/curves", classes, args.steps)
        ratio = harness.paired_ratios(seconds["with curves"], seconds["curves=False"])
        print(f"{classes} classes x {args.rows} rows of float32 scores, {args.steps} rounds")
        for name, values in seconds.items():
            print(f"  log_report {name:13s} median {statistics.median(values) * 1e3:7.1f} ms "
                  f"(min {min(values) * 1e3:.1f}, max {max(values) * 1e3:.1f})")
        print(f"  with curves / curves=False: {ratio.median:.2f}x (range {ratio.low:.2f}-{ratio.high:.2f})")
        print(f"  curves per step: {blob_bytes / 1000:.1f} kB blob + {scalar_bytes} B of scalars")
        print(f"  curves route: first request of a step {routes['first'] * 1e3:.1f} ms, cached "
              f"{routes['cached'] * 1e3:.1f} ms; report route {routes['report'] * 1e3:.1f} ms (medians)")


if __name__ == "__main__":
    main()
