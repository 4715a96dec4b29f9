"""Per-batch cost of the streaming metrics with and without the curve state, against Keras' AUC.

Run (one backend per process)::

    .venv/bin/python bench/curve_metric_cost.py                                   # TensorFlow
    KERAS_BACKEND=jax .venv-jax/bin/python bench/curve_metric_cost.py --backend jax
    KERAS_BACKEND=torch .venv-torch/bin/python bench/curve_metric_cost.py --backend torch

For 10 and 100 classes and batches of 256 softmax rows, each metric's
``update_state`` + ``result()`` runs as the trainer runs it: inside one
``tf.function`` on TensorFlow (XLA-compiled only where there is an
accelerator: Keras' ``jit_compile="auto"`` leaves XLA off on a CPU-only
machine), ``jax.jit`` of the stateless API
on JAX, eagerly on PyTorch. In ``fit`` the update is a part of the compiled
step, whose call costs the same with or without the metric; so each compiled
call here updates the metric with ``--updates-per-call`` different batches
(unrolled), which spreads the cost of the call itself, and the figures are
per batch. ``--updates-per-call 1`` measures one call per batch. Timed: ``BalancedAccuracy(C, curves=False)`` (the
matrix only), ``BalancedAccuracy(C)`` (matrix and curve state),
``MacroAveragePrecision(C)`` and ``keras.metrics.AUC(curve="PR",
multi_label=True, num_labels=C, num_thresholds=75)`` (Keras' own binned PR
curves, fed one-hot labels) and, for the fixed cost of any metric on the
backend, ``keras.metrics.SparseCategoricalAccuracy()``. The metrics take turns for ``--rounds`` rounds
of ``--steps`` calls each; printed: the median ms per batch, and the
median and interquartile range over the rounds of the paired ratios to the matrix-only
metric and to AUC, and what the curve state adds to the matrix (the difference of the
two ``BalancedAccuracy`` rows in each round) against AUC.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import describe_variable_device, paired_ratios, rotated, select_backend  # noqa: E402


def _batches(labels) -> int:
    return len(labels) if isinstance(labels, (list, tuple)) else labels.shape[0]


def compiled_step(keras, metric, xla=None):
    """``step(labels, scores)``: one update per batch, then ``result()``, as the trainer runs them on this backend.

    ``labels`` and ``scores`` are tuples of K batches, each its own array as
    a model's output is in ``fit`` (slices of one stacked array would be read
    differently by XLA), or stacked ``[K, B, ...]`` arrays. ``xla``: on
    TensorFlow, XLA-compile the step (None: as Keras' ``jit_compile="auto"``).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # as Keras' jit_compile="auto" resolves it: XLA only where there is an accelerator
        if xla is None:
            xla = any(device.device_type != "CPU" for device in tf.config.list_physical_devices())

        @tf.function(jit_compile=xla)
        def step(labels, scores):
            for index in range(_batches(labels)):
                metric.update_state(labels[index], scores[index])
            return metric.result()

        return step, lambda value: value.numpy()
    if backend == "jax":
        import jax

        @functools.partial(jax.jit, donate_argnums=0)  # the state updated in place, as Keras' trainer does
        def stateless(values, labels, scores):
            for index in range(_batches(labels)):
                values = metric.stateless_update_state(values, labels[index], scores[index])
            return values, metric.stateless_result(values)

        state = {"values": [v.value for v in metric.variables]}

        def step(labels, scores):
            state["values"], result = stateless(state["values"], labels, scores)
            return result

        return step, lambda value: value.block_until_ready()

    def step(labels, scores):
        for index in range(_batches(labels)):
            metric.update_state(labels[index], scores[index])
        return metric.result()

    return step, lambda value: float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--updates-per-call", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of 3 calls (figures meaningless)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps, args.updates_per_call = 2, 3, 2
    keras = select_backend(args.backend)
    import numpy as np
    from keras import ops

    from tb_imbalance.keras import BalancedAccuracy, MacroAveragePrecision

    import platform

    device = describe_variable_device(BalancedAccuracy(2).variables[0])
    print(f"backend {args.backend} on {platform.processor() or platform.machine()} ({os.cpu_count()} CPUs), "
          f"device {device}, "
          f"batch {args.batch}, {args.updates_per_call} updates per call, {args.steps} calls x {args.rounds} rounds")
    for num_classes in args.classes:
        rng = np.random.default_rng(num_classes)
        shape = (args.updates_per_call, args.batch)
        labels = rng.integers(0, num_classes, shape)
        logits = rng.normal(size=(*shape, num_classes)).astype("float32")
        scores = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        # each batch its own array, as a model's output is in fit
        sparse = tuple(ops.convert_to_tensor(batch) for batch in labels)
        one_hot = tuple(ops.convert_to_tensor(np.eye(num_classes, dtype="float32")[batch]) for batch in labels)
        scores = tuple(ops.convert_to_tensor(batch.astype("float32")) for batch in scores)
        metrics = {
            "matrix only (curves=False)": (BalancedAccuracy(num_classes, curves=False), sparse),
            "matrix + curves": (BalancedAccuracy(num_classes), sparse),
            "MacroAveragePrecision": (MacroAveragePrecision(num_classes), sparse),
            "keras AUC(PR, 75)": (
                keras.metrics.AUC(curve="PR", multi_label=True, num_labels=num_classes, num_thresholds=75),
                one_hot,
            ),
            # the fixed cost of a metric on this backend: Keras' simplest one
            "keras SparseCategoricalAcc.": (keras.metrics.SparseCategoricalAccuracy(), sparse),
        }
        steps = {}
        for name, (metric, given) in metrics.items():
            step, wait = compiled_step(keras, metric)
            for _ in range(5):  # compile, warm up
                wait(step(given, scores))
            steps[name] = (step, wait, given)
        times: dict[str, list[float]] = {name: [] for name in metrics}
        for round_index in range(args.rounds):
            for name in rotated(list(metrics), round_index):
                step, wait, given = steps[name]
                start = time.perf_counter()
                for _ in range(args.steps):
                    value = step(given, scores)
                wait(value)
                times[name].append((time.perf_counter() - start) / (args.steps * args.updates_per_call) * 1e3)
        base, auc = times["matrix only (curves=False)"], times["keras AUC(PR, 75)"]
        print(f"\nC = {num_classes}")
        print(f"  {'metric':28s} {'ms/batch':>9s}  {'vs matrix only':>22s}  {'vs keras AUC':>22s}")
        for name, values in times.items():
            to_base, to_auc = paired_ratios(values, base), paired_ratios(values, auc)
            print(
                f"  {name:28s} {float(np.median(values)):9.3f}  "
                f"{to_base.median:6.2f}x [{to_base.low:5.2f}, {to_base.high:5.2f}]  "
                f"{to_auc.median:6.2f}x [{to_auc.low:5.2f}, {to_auc.high:5.2f}]"
            )
        # what the curve state adds to the matrix, paired within each round
        added = [with_curves - matrix for with_curves, matrix in zip(times["matrix + curves"], base)]
        to_auc = paired_ratios(added, auc)
        print(
            f"  {'curves alone (the difference)':28s} {float(np.median(added)):9.3f}  {'':22s}  "
            f"{to_auc.median:6.2f}x [{to_auc.low:5.2f}, {to_auc.high:5.2f}]"
        )


if __name__ == "__main__":
    main()
