"""What one XLA-compiled call costs inside a TensorFlow step on a CPU, per process, and where it goes.

TensorFlow environment only (``--quick`` is a smoke run)::

    env -u KERAS_BACKEND .venv/bin/python bench/tf_xla_call.py
    env -u KERAS_BACKEND .venv/bin/python bench/tf_xla_call.py --inter-op-threads 1

Why. On a CPU-only machine Keras compiles ``fit``'s step as a ``tf.function``
without XLA; the streaming metrics' ``update_state`` is one XLA-compiled
function called from that step (its scatters are slower as plain TensorFlow
ops). This script measures what such a call costs per batch next to the
same work done as plain graph ops, and the whole ``update_state`` +
``result()`` of ``BalancedAccuracy(10)`` against Keras'
``SparseCategoricalAccuracy``.

Method. Each variant runs ``--calls`` batches (of 8 stacked batches of 256
softmax rows, 10 classes) in one ``tf.function`` loop, as the step calls it;
``--blocks`` blocks per variant, alternated; per batch, the wall time and the
process CPU time (all threads: TensorFlow runs an op it deems expensive on
its inter-op thread pool, and that hand-off costs CPU on both threads), net
of the empty loop, medians over blocks. TensorFlow's thread pools are set
per process, so the whole measurement runs in ``--processes`` fresh
processes, one line each. ``--inter-op-threads N`` sets
``tf.config.threading.set_inter_op_parallelism_threads(N)`` in each (a
process-wide setting: a user's choice, which the package never makes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CLASSES, BATCH, STACKED = 10, 256, 8
VARIANTS = ("one XLA call", "the same ops, no XLA", "BalancedAccuracy(10)", "BalancedAccuracy(10, curves=False)",
            "SparseCategoricalAccuracy")


def measure(calls: int, blocks: int, inter_op_threads: int | None) -> dict[str, dict[str, float]]:
    """Per variant, µs of wall and of process CPU time per batch, net of the empty loop (medians over blocks)."""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    if inter_op_threads is not None:
        tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads)
    import keras

    from tb_imbalance import keras as tbk

    rng = np.random.default_rng(0)
    labels = tf.constant(rng.integers(0, CLASSES, (STACKED, BATCH)))
    logits = rng.normal(size=(STACKED, BATCH, CLASSES)).astype("float32")
    scores = tf.nn.softmax(tf.constant(logits), axis=-1)
    counts = tf.Variable(tf.zeros([CLASSES * CLASSES], tf.int64))

    def add_cells(y_true, y_pred):  # a small piece of the metric's work: the rows' cells, added to a variable
        cells = y_true * CLASSES + tf.argmax(y_pred, axis=-1)
        counts.scatter_add(tf.IndexedSlices(tf.ones_like(cells), cells))

    xla_add_cells = tf.function(add_cells, jit_compile=True, autograph=False)
    metrics = {
        "BalancedAccuracy(10)": tbk.BalancedAccuracy(CLASSES),
        "BalancedAccuracy(10, curves=False)": tbk.BalancedAccuracy(CLASSES, curves=False),
        "SparseCategoricalAccuracy": keras.metrics.SparseCategoricalAccuracy(),
    }

    def loop_of(body):
        @tf.function
        def loop(n):
            total = tf.constant(0.0)
            for i in tf.range(n):
                k = i % STACKED
                value = body(labels[k], scores[k])
                if value is not None:
                    total += tf.cast(value, tf.float32)
            return total

        return loop

    def metric_body(metric):
        def body(y_true, y_pred):
            metric.update_state(y_true, y_pred)
            return metric.result()

        return body

    loops = {"empty": loop_of(lambda y_true, y_pred: None), "one XLA call": loop_of(xla_add_cells),
             "the same ops, no XLA": loop_of(add_cells)}
    loops.update({name: loop_of(metric_body(metric)) for name, metric in metrics.items()})
    for loop in loops.values():  # tracing, compilation, warm-up
        loop(tf.constant(20))
        loop(tf.constant(calls))
    wall: dict[str, list[float]] = {name: [] for name in loops}
    cpu: dict[str, list[float]] = {name: [] for name in loops}
    names = list(loops)
    for block in range(blocks):
        shift = block % len(names)
        for name in names[shift:] + names[:shift]:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            loops[name](tf.constant(calls))
            wall[name].append((time.perf_counter() - start_wall) / calls * 1e6)
            cpu[name].append((time.process_time() - start_cpu) / calls * 1e6)
    net = lambda values, name: statistics.median(v - e for v, e in zip(values[name], values["empty"]))  # noqa: E731
    return {name: {"wall_us": net(wall, name), "cpu_us": net(cpu, name)} for name in VARIANTS}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=4, help="fresh processes, one line each")
    parser.add_argument("--calls", type=int, default=2000, help="batches per block")
    parser.add_argument("--blocks", type=int, default=7, help="blocks per variant and process")
    parser.add_argument("--inter-op-threads", type=int, default=None)
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow"], help="TensorFlow only")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 process, few calls, figures meaningless")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.processes, args.calls, args.blocks = 1, 50, 2
    if args.child:
        print(json.dumps(measure(args.calls, args.blocks, args.inter_op_threads)))
        return 0
    child = [sys.executable, os.path.abspath(__file__), "--child", "--calls", str(args.calls), "--blocks", str(args.blocks)]
    if args.inter_op_threads is not None:
        child += ["--inter-op-threads", str(args.inter_op_threads)]
    threads = "default" if args.inter_op_threads is None else args.inter_op_threads
    print(f"{CLASSES} classes, batches of {BATCH}, {args.calls} batches a block, {args.blocks} blocks; "
          f"inter-op threads: {threads}; µs per batch net of the empty loop, CPU / wall, one line per process")
    print(f"{'process':8s} " + " ".join(f"{name:>36s}" for name in VARIANTS))
    for index in range(args.processes):
        env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
        done = subprocess.run(child, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return done.returncode
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        cells = [f"{figures[name]['cpu_us']:7.1f} / {figures[name]['wall_us']:5.1f}" for name in VARIANTS]
        print(f"{index + 1:<8d} " + " ".join(f"{cell:>36s}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
