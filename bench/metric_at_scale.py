"""Per-batch cost of the streaming metric at 1000 and 10,000 classes, against Keras' SparseCategoricalAccuracy.

Run (one backend per process)::

    .venv/bin/python bench/metric_at_scale.py                                   # TensorFlow
    KERAS_BACKEND=jax .venv-jax/bin/python bench/metric_at_scale.py --backend jax
    KERAS_BACKEND=torch .venv-torch/bin/python bench/metric_at_scale.py --backend torch

For each class count, batches of 256 softmax rows ``[256, C]`` float32 and
their labels go through each metric's ``update_state`` + ``result()`` as the
trainer runs them (``curve_metric_cost.compiled_step``: a ``tf.function`` on
TensorFlow, XLA-compiled only where there is an accelerator, as Keras'
``jit_compile="auto"`` decides; ``jax.jit`` with the state donated on JAX, eager on PyTorch; several batches
per compiled call, each batch its own array as a model's output is in
``fit``: XLA reads slices of one stacked array several times slower). Timed, in turns for ``--rounds`` rounds:
``BalancedAccuracy(C, curves=False)`` (at 1000 classes the ``C²`` cells, above
the rows' cell codes: :mod:`tb_imbalance.keras.cell_codes`) and
``keras.metrics.SparseCategoricalAccuracy()``; both take the argmax of the
same scores. Printed: ms per batch, the paired ratio (median and IQR over the
rounds) and each metric's state bytes. ``--xla``: on TensorFlow, XLA-compile
the step as ``fit`` does with ``jit_compile=True``. Target (issue "Long-tail scale"):
ratio ≤ 1 at 1000 and 10,000 classes, state ≤ 64 MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from curve_metric_cost import compiled_step  # noqa: E402
from harness import paired_ratios, rotated, select_backend  # noqa: E402


def state_bytes(metric) -> int:
    import numpy as np

    return int(sum(np.prod(v.shape) * np.dtype(v.dtype).itemsize for v in metric.variables))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "tensorflow"))
    parser.add_argument("--classes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--updates-per-call", type=int, default=4)
    parser.add_argument("--xla", action="store_true", help="TensorFlow: XLA-compile the step (fit's jit_compile=True)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of 2 calls (figures meaningless)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.updates_per_call, args.classes = 2, 2, 2, [1000, 1500]
    keras = select_backend(args.backend)
    import numpy as np
    from keras import ops

    from tb_imbalance.keras import BalancedAccuracy

    print(f"metric at scale: backend {args.backend} on {platform.processor() or platform.machine()} "
          f"({os.cpu_count()} CPUs), batch {args.batch}, {args.updates_per_call} updates per call, "
          f"{args.steps} calls x {args.rounds} rounds")
    for num_classes in args.classes:
        rng = np.random.default_rng(num_classes)
        shape = (args.updates_per_call, args.batch)
        scores = rng.random((*shape, num_classes), dtype=np.float32)
        scores /= scores.sum(axis=-1, keepdims=True)
        # each batch its own array, as a model's output is in fit
        labels = tuple(ops.convert_to_tensor(batch) for batch in rng.integers(0, num_classes, shape))
        scores = tuple(ops.convert_to_tensor(batch) for batch in scores)
        metrics = {
            "BalancedAccuracy(C, curves=False)": BalancedAccuracy(num_classes, curves=False),
            "SparseCategoricalAccuracy": keras.metrics.SparseCategoricalAccuracy(),
        }
        steps = {}
        for name, metric in metrics.items():
            step, wait = compiled_step(keras, metric, xla=args.xla or None)
            for _ in range(3):  # compile, warm up
                wait(step(labels, scores))
            steps[name] = (step, wait)
        times: dict[str, list[float]] = {name: [] for name in metrics}
        for round_index in range(args.rounds):
            for name in rotated(list(metrics), round_index):
                step, wait = steps[name]
                start = time.perf_counter()
                for _ in range(args.steps):
                    value = step(labels, scores)
                wait(value)
                times[name].append((time.perf_counter() - start) / (args.steps * args.updates_per_call) * 1e3)
        ours, base = times["BalancedAccuracy(C, curves=False)"], times["SparseCategoricalAccuracy"]
        ratio = paired_ratios(ours, base)
        ours_metric = metrics["BalancedAccuracy(C, curves=False)"]
        layout = "cell codes" if ours_metric._codes is not None else "C² cells"
        print(f"\nC = {num_classes} ({layout})")
        print(f"  {'metric':36s} {'ms/batch':>9s} {'state':>10s}")
        for name, metric in metrics.items():
            print(f"  {name:36s} {float(np.median(times[name])):9.3f} {state_bytes(metric) / 2**20:7.1f} MB")
        verdict = "met" if ratio.median <= 1.0 else "MISSED"
        print(f"  per batch, ours / SparseCategoricalAccuracy: {ratio.median:.2f}x "
              f"[{ratio.low:.2f}, {ratio.high:.2f}] (target <= 1: {verdict}); state <= 64 MB: "
              f"{'met' if state_bytes(ours_metric) <= 64 * 2**20 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
