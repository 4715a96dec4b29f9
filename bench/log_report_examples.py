"""``log_report`` with the examples behind each cell: its cost next to the report alone.

Run::

    .venv/bin/python bench/log_report_examples.py                 # 1000 classes x 50,000 rows
    .venv/bin/python bench/log_report_examples.py --classes 100 --rows 20000
    .venv/bin/python bench/log_report_examples.py --quick         # smoke run, figures meaningless

The inputs: seeded labels with long-tailed class frequencies and float32
scores ``[N, C]`` whose argmax is right for 60 % of the rows (as in
``bench/many_classes.py``), and one integer id per row as the examples (their
rendering is not what is measured). Each round writes one step with
``log_report(..., examples=ids)`` and one without, in rotated order, each into
a directory of its own, without the picture. Printed: the median seconds per
step of each, their paired ratio, and how many times the core took the
argmax over the ``[N, C]`` scores in one ``log_report`` with examples (the
target is once: the examples reuse the class ids the matrix was counted from).
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

import harness  # noqa: E402


def make_inputs(classes: int, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Long-tailed labels and float32 scores whose argmax is right for 60 % of the rows."""
    rng = np.random.default_rng(seed)
    frequency = 1.0 / np.arange(1, classes + 1) ** 0.8
    labels = rng.choice(classes, size=rows, p=frequency / frequency.sum())
    predicted = labels.copy()
    neighbour = rng.random(rows) < 0.3
    predicted[neighbour] = (labels[neighbour] + 1) % classes
    wrong = rng.random(rows) < 0.1
    predicted[wrong] = rng.integers(0, classes, wrong.sum())
    scores = rng.random((rows, classes), dtype=np.float32)
    scores[np.arange(rows), predicted] += 1.0
    scores /= scores.sum(axis=1, keepdims=True)  # probabilities
    return labels, scores


def count_argmax() -> list:
    """Record each argmax the core takes over score rows."""
    from tb_imbalance.core import inputs

    calls: list = []
    original = inputs._argmax_rows

    def counted(array):
        calls.append(array.shape)
        return original(array)

    inputs._argmax_rows = counted
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--steps", type=int, default=9, help="timed rounds")
    parser.add_argument("--quick", action="store_true", help="smoke run: figures meaningless")
    parser.add_argument("--backend", choices=harness.BACKENDS, help="accepted for bench/smoke.py; no Keras here")
    args = parser.parse_args()
    if args.quick:
        args.classes, args.rows, args.steps = 50, 2000, 2
    import tb_imbalance

    labels, scores = make_inputs(args.classes, args.rows)
    ids = np.arange(args.rows)
    seconds: dict[str, list[float]] = {"with examples": [], "report only": []}
    with tempfile.TemporaryDirectory() as root:

        def with_examples(step: int) -> None:
            tb_imbalance.log_report(f"{root}/examples", labels, scores, step, image=False, examples=ids)

        def report_only(step: int) -> None:
            tb_imbalance.log_report(f"{root}/report", labels, scores, step, image=False)

        variants = {"with examples": with_examples, "report only": report_only}
        for variant in variants.values():
            variant(0)  # warm-up
        calls = count_argmax()
        with_examples(1)
        argmax_count = len(calls)
        for round_index in range(args.steps):
            for name in harness.rotated(list(variants), round_index):
                start = time.perf_counter()
                variants[name](round_index + 2)
                seconds[name].append(time.perf_counter() - start)
    print(f"log_report at {args.classes} classes x {args.rows} rows of float32 scores, no picture, "
          f"{args.steps} rounds")
    for name, values in seconds.items():
        print(f"  {name:14s} median {statistics.median(values) * 1e3:7.1f} ms  (min {min(values) * 1e3:.1f}, "
              f"max {max(values) * 1e3:.1f})")
    ratio = harness.paired_ratios(seconds["with examples"], seconds["report only"])
    print(f"  with examples / report only: {ratio.median:.2f}x (range {ratio.low:.2f}-{ratio.high:.2f})")
    print(f"  argmax over the [N, C] scores per log_report with examples: {argmax_count} (target: 1)")


if __name__ == "__main__":
    main()
