"""The background writer's CPU time per step: alone, beside a thread that wants the GIL or a busy process, cold.

Run in any environment (no Keras, no TensorFlow needed; ``--quick`` is a
smoke run)::

    .venv-jax/bin/python bench/writer_gil.py

Why. In a Keras fit on JAX the training thread runs Python almost all the
time, so the callback's background writer shares the GIL with a thread that
always wants it. Whenever the writer lets the GIL go (numpy on large arrays,
zlib, file writes), the training thread takes it and the writer blocks until
it gets it back: a hand-off. This script measures what that costs the writer.

Method. :meth:`tb_imbalance.writer.ReportWriter.write_report` of a 10-class
step as the callback writes it (matrix, scalars, picture, binned scores, PR
curves), ``--steps`` steps in a thread of its own, with the matrix the same at
every step (nothing to redraw) or changing in every row. Per step: the
writer thread's CPU time (``time.thread_time``) and its voluntary context
switches (``getrusage(RUSAGE_THREAD)``, one per block), medians over steps.
Three surroundings: alone; beside a thread running pure Python (wants the
GIL all the time, as a JAX fit's training thread does); beside a busy
process on the other core (shares the cores, not the GIL). Then, alone
again, each step after other work (a 16 MB sort and some Python, which
leave the writer's code and data out of the caches, as a training epoch
does) and each step after 0.2 s idle (the core the writer wakes on has
been idle since the last epoch): the same step, run once in a while, costs
more than back to back, with no GIL in the way. Last, the CPU time one
block-and-wake costs a thread here (``time.sleep(0.0001)``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

from tb_imbalance import core
from tb_imbalance.step import ReportStep
from tb_imbalance.writer import ReportWriter

CLASSES = 10


def steps(rows: int = 3600, seed: int = 0) -> tuple[ReportStep, ReportStep]:
    """Two steps of a long-tailed 10-class validation set whose matrices differ in every row."""
    rng = np.random.default_rng(seed)
    prior = 0.7 ** np.arange(CLASSES)
    truth = rng.choice(CLASSES, rows, p=prior / prior.sum())
    reports = []
    for shift in (0.0, 0.3):
        logits = rng.normal(size=(rows, CLASSES)) + 3.0 * np.eye(CLASSES)[truth] + shift
        scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        predicted = scores.argmax(axis=1)
        cm = core.confusion_matrix(truth, predicted, num_classes=CLASSES)
        reports.append(ReportStep.of(0, "confusion_matrix", cm, [f"class {k}" for k in range(CLASSES)],
                                     curves=core.curve_summary(scores, truth, predicted)))
    if (reports[0].matrix == reports[1].matrix).all(axis=1).any():
        raise RuntimeError("the two steps' matrices share a row: choose another seed")
    return reports[0], reports[1]


def _pure_python(stop: threading.Event) -> None:
    count = 0
    while not stop.is_set():
        count += 1


def _busy_process(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _evict_caches() -> None:
    """Other work between two steps, as a fit does between two epochs: sorts 16 MB, runs Python."""
    np.sort(np.random.default_rng(0).random(2_000_000))
    sum(k * 3 % 7 for k in range(20_000))


def _idle() -> None:
    time.sleep(0.2)


def write_steps(writer: ReportWriter, reports: list[ReportStep], first: int, count: int,
                before_step=None) -> tuple[float, float]:
    """Median CPU ms and voluntary context switches of ``count`` steps written in a thread of their own
    (``before_step`` runs before each, untimed)."""
    out: dict[str, tuple[float, float]] = {}

    def run() -> None:
        cpu, switches = [], []
        for k in range(count):
            report = reports[k % len(reports)]
            report = ReportStep.with_classes(first + k, report.name, report.matrix, report.classes,
                                             curves=report.curves, checked_curves=True)
            if before_step is not None:
                before_step()
            before, start = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw, time.thread_time()
            writer.write_report(report, per_class_scalars=True, image=True)
            cpu.append((time.thread_time() - start) * 1e3)
            switches.append(resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw - before)
        out["result"] = statistics.median(cpu), statistics.median(switches)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out["result"]


def block_and_wake_cost(count: int = 2000) -> float:
    """CPU µs a thread spends per ``time.sleep(0.0001)``: one block and one wake."""
    start = time.thread_time()
    for _ in range(count):
        time.sleep(0.0001)
    return (time.thread_time() - start) / count * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 steps each, figures meaningless")
    parser.add_argument("--backend", help="accepted for bench/smoke.py and ignored: the writer needs no Keras")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps = 10
    changing = steps()
    same = [changing[0]]
    print(f"{CLASSES} classes, {args.steps} steps each; medians per step of the writer thread")
    print(f"{'':44s} {'matrix the same':>24s} {'every row changes':>24s}")
    with tempfile.TemporaryDirectory() as log_dir, ReportWriter(log_dir) as writer:
        write_steps(writer, list(changing), 0, 20)  # warm-up: picture frame, glyphs, first file
        first = 100
        for label in ("alone", "beside a thread running Python", "beside a busy process"):
            stop, helper = threading.Event(), None
            if label == "beside a thread running Python":
                helper = threading.Thread(target=_pure_python, args=(stop,), daemon=True)
                helper.start()
            elif label == "beside a busy process":
                helper = multiprocessing.get_context("spawn").Process(target=_busy_process, args=(600.0,), daemon=True)
                helper.start()
                time.sleep(0.5)
            figures = []
            for reports in (same, list(changing)):
                figures.append(write_steps(writer, reports, first, args.steps))
                first += args.steps
            stop.set()
            if isinstance(helper, multiprocessing.process.BaseProcess):
                helper.terminate()
            if helper is not None:
                helper.join()
            cells = [f"{cpu:6.2f} ms, {switches:4.1f} blocks" for cpu, switches in figures]
            print(f"{label:44s} {cells[0]:>24s} {cells[1]:>24s}", flush=True)
    with tempfile.TemporaryDirectory() as log_dir, ReportWriter(log_dir) as writer:  # nothing beside the writer
        write_steps(writer, list(changing), 0, 20)
        first, cold_steps = 100, min(args.steps, 40)
        for label, before_step in (("alone, after other work (16 MB sort, Python)", _evict_caches),
                                   ("alone, after 0.2 s idle", _idle)):
            figures = []
            for reports in (same, list(changing)):
                figures.append(write_steps(writer, reports, first, cold_steps, before_step))
                first += cold_steps
            cells = [f"{cpu:6.2f} ms, {switches:4.1f} blocks" for cpu, switches in figures]
            print(f"{label:44s} {cells[0]:>24s} {cells[1]:>24s}", flush=True)
    print(f"one block and wake of a thread (time.sleep(0.0001)) costs it {block_and_wake_cost():.1f} µs of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
