"""The writers at thousands of classes: ``log_report`` time, peak memory above the inputs, bytes per step.

Run::

    .venv/bin/python bench/many_classes.py --classes 10000   # calls this part
    .venv/bin/python bench/writers_at_scale.py --classes 10000 50000
    python bench/writers_at_scale.py --classes 2000 --quick   # smoke run, figures meaningless
    .venv/bin/python bench/writers_at_scale.py --classes 10000 --dense-float   # log_matrix of a dense matrix

For each class count C: long-tailed labels (Zipf-like, exponent 0.8) and

* ``ids``: 100,000 rows of predicted class ids (right for 60 % of the rows,
  a random class otherwise): ``log_report(run, labels, predicted, step,
  num_classes=C)``;
* ``scores``: 20,000 rows of float32 scores ``[N, C]`` (argmax right for
  60 %): ``log_report(run, labels, scores, step)`` (curves off above 1000
  classes by default, as the library says once);

each into a run of its own, one warm-up step (printed as "first": the
picture's static parts and the class names' metadata are built then) and
``--steps`` timed steps. Printed per variant: median and max seconds per
step, the peak memory the call allocates above its inputs (``tracemalloc``,
which numpy reports its arrays to), and the event-file bytes per step.
Targets (issue "Long-tail scale"): at 10,000 classes ``ids`` ≤ 1 s and
≤ 500 MB, ``scores`` ≤ 1.5 s; at 50,000 classes ``ids`` ≤ 2 s and ≤ 1 GB;
event bytes per step ≤ 2 MB.

``--dense-float`` measures instead a matrix counted elsewhere and passed dense:
whole counts on the diagonal and in about 1 % of the other cells, as ``int64``,
``float32`` and ``float64`` (the float ones as sums of weights, the default,
and with ``weighted=False``), through ``log_matrix`` and
``ReportWriter.write_matrix``. Each step is timed without ``tracemalloc`` (it
slows the writer's Python code); one more step gives the peak above the input
(``log_matrix`` returns the matrix converted: 8 bytes a cell of it).
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
import tracemalloc

import numpy as np

import tb_imbalance

TARGETS = {  # classes: {variant: (seconds, megabytes or None)}
    10_000: {"ids": (1.0, 500), "scores": (1.5, None)},
    50_000: {"ids": (2.0, 1000)},
}


def inputs(classes: int, rows: int, scores: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    prior = 1.0 / np.arange(1, classes + 1) ** 0.8
    labels = rng.choice(classes, rows, p=prior / prior.sum())
    predicted = np.where(rng.random(rows) < 0.6, labels, rng.integers(0, classes, rows))
    if not scores:
        return labels, predicted
    values = rng.random((rows, classes), dtype=np.float32)
    values[np.arange(rows), predicted] += 1.0
    return labels, values


def measure(classes: int, variant: str, rows: int, steps: int, folder: pathlib.Path) -> dict:
    labels, predictions = inputs(classes, rows, scores=variant == "scores")
    options = {"num_classes": classes} if variant == "ids" else {}
    run = folder / f"{variant}_{classes}"
    seconds, peaks, sizes = [], [], []
    for step in range(steps + 1):
        before = sum(f.stat().st_size for f in run.glob("*")) if run.exists() else 0
        tracemalloc.start()
        start = time.perf_counter()
        tb_imbalance.log_report(run, labels, predictions, step, **options)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        sizes.append(sum(f.stat().st_size for f in run.glob("*")) - before)
        seconds.append(elapsed)
        peaks.append(peak)
    return {"first": seconds[0], "seconds": seconds[1:], "peak_mb": max(peaks) / 1e6,
            "bytes": statistics.median(sizes[1:]), "input_mb": (labels.nbytes + predictions.nbytes) / 1e6}


def run(classes_list, steps: int = 5, ids_rows: int = 100_000, score_rows: int = 20_000, keep: str | None = None) -> pathlib.Path:
    logging.getLogger("tb_imbalance").setLevel(logging.ERROR)  # the once-said notes are not figures
    folder = pathlib.Path(keep or tempfile.mkdtemp(prefix="writers_at_scale_"))
    print(f"writers at scale: log_report, {steps} timed steps after one warm-up step; logdir {folder}")
    print(f"  {'classes':>7s} {'variant':7s} {'rows':>7s} {'median':>8s} {'max':>8s} {'first':>8s} "
          f"{'peak above inputs':>18s} {'inputs':>8s} {'bytes/step':>11s}  targets")
    for classes in classes_list:
        for variant, rows in (("ids", ids_rows), ("scores", score_rows)):
            if variant == "scores" and classes * rows * 4 >= 4e9:
                print(f"  {classes:7d} {variant:7s} skipped: {classes * rows * 4 / 1e9:.0f} GB of scores")
                continue
            figures = measure(classes, variant, rows, steps, folder)
            median = statistics.median(figures["seconds"])
            target = TARGETS.get(classes, {}).get(variant)
            verdict = ""
            if target:
                met = median <= target[0] and (target[1] is None or figures["peak_mb"] <= target[1])
                limit = f"<= {target[0]:g} s" + ("" if target[1] is None else f", <= {target[1]} MB")
                verdict = f"{limit}: {'met' if met else 'MISSED'}"
            size_verdict = "met" if figures["bytes"] <= 2e6 else "MISSED"
            print(f"  {classes:7d} {variant:7s} {rows:7d} {median:7.3f}s {max(figures['seconds']):7.3f}s "
                  f"{figures['first']:7.3f}s {figures['peak_mb']:15.0f} MB {figures['input_mb']:5.0f} MB "
                  f"{figures['bytes'] / 1e3:8.0f} kB  {verdict}{'; ' if verdict else ''}bytes <= 2 MB: {size_verdict}",
                  flush=True)
    return folder


DENSE_VARIANTS = (  # (dtype, log_matrix's weighted=)
    ("int64", None), ("float32", None), ("float64", None), ("float32", False), ("float64", False),
)


def dense_counts(classes: int, dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cm = np.diag(np.full(classes, 5, dtype))
    cells = rng.integers(0, classes, (max(classes * classes // 100, classes), 2))
    np.add.at(cm, (cells[:, 0], cells[:, 1]), 1)
    return cm


def measure_dense(cm: np.ndarray, call, steps: int) -> dict:
    call(0)  # the first step builds what a tag keeps (its class names, the picture's static parts)
    seconds = []
    for step in range(1, steps + 1):
        start = time.perf_counter()
        call(step)
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    call(steps + 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mb": peak / 1e6}


def run_dense(classes_list, steps: int = 5, keep: str | None = None) -> pathlib.Path:
    logging.getLogger("tb_imbalance").setLevel(logging.ERROR)
    folder = pathlib.Path(keep or tempfile.mkdtemp(prefix="writers_at_scale_dense_"))
    print(f"writers at scale, dense matrices: {steps} timed steps after one warm-up step; logdir {folder}")
    print(f"  {'classes':>7s} {'entry':12s} {'dtype':8s} {'weighted':8s} {'median':>8s} {'max':>8s} "
          f"{'peak above inputs':>18s} {'input':>8s}")
    for classes in classes_list:
        if classes * classes * 8 >= 4e9:
            print(f"  {classes:7d} skipped: {classes * classes * 8 / 1e9:.0f} GB a dense matrix")
            continue
        for dtype, weighted in DENSE_VARIANTS:
            cm = dense_counts(classes, dtype)
            options = {} if weighted is None else {"weighted": weighted}
            tag = f"{dtype}_{weighted}"
            with tb_imbalance.ReportWriter(folder / f"write_matrix_{classes}") as writer:
                entries = {
                    "log_matrix": lambda step: tb_imbalance.log_matrix(
                        folder / f"log_matrix_{classes}", cm, step, name=tag, **options),
                    "write_matrix": lambda step: writer.write_matrix(step, tag, cm, **options),
                }
                for entry, call in entries.items():
                    figures = measure_dense(cm, call, steps)
                    print(f"  {classes:7d} {entry:12s} {dtype:8s} {str(weighted):8s} "
                          f"{statistics.median(figures['seconds']):7.3f}s {max(figures['seconds']):7.3f}s "
                          f"{figures['peak_mb']:15.0f} MB {cm.nbytes / 1e6:5.0f} MB", flush=True)
            del cm
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--keep", help="write the runs here instead of a temporary folder")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 step, 2,000 / 500 rows")
    parser.add_argument("--backend", help="ignored (for bench/smoke.py): the writers use no Keras backend")
    parser.add_argument("--dense-float", action="store_true",
                        help="log_matrix / write_matrix of dense int64, float32 and float64 counts instead")
    args = parser.parse_args(argv)
    if args.dense_float:
        folder = run_dense(args.classes, steps=1 if args.quick else args.steps, keep=args.keep)
        if args.quick and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    elif args.quick:
        folder = run(args.classes, steps=1, ids_rows=2_000, score_rows=500, keep=args.keep)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)  # a smoke run leaves nothing behind
    else:
        run(args.classes, steps=args.steps, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
