"""What the streaming metrics launch per batch on PyTorch: torch calls, device kernels, host syncs, time.

Keras runs metrics eagerly on PyTorch: every torch call of ``update_state``
and ``result()`` is dispatched from Python on every batch, and on a GPU each
one launches at least one kernel. This script counts, for one batch of 256
rows in a steady state (after warm-up):

* torch calls made from Python (a ``TorchFunctionMode``; no-op calls
  such as ``detach`` and ``to`` into the same dtype are counted too);
* on CUDA, device kernels (``torch.profiler``, over 4 batches);
* on CUDA, synchronizing calls (``torch.cuda.set_sync_debug_mode("warn")``,
  which PyTorch calls a prototype that "does not yet detect all
  synchronizing operations"): a device→host read per batch would stall
  the training loop;
* time per batch: median of 5 blocks of 200 calls, synchronized at each
  block's ends.

For ``BalancedAccuracy(10)`` with and without curves, ``MacroF1(10)`` on
one-hot labels with sample weights, ``MacroAveragePrecision(10)``,
``BalancedAccuracy(1000)`` and Keras' own ``SparseCategoricalAccuracy``.
Then a short fit (2 epochs of 4 training and 4 validation batches) with
``ClassificationReportCallback``: the synchronizing calls made from
tb_imbalance's files (on CUDA).

Run in the PyTorch environment (no TensorFlow)::

    KERAS_BACKEND=torch .venv-torch/bin/python bench/torch_kernels.py
    KERAS_BACKEND=torch .venv-torch/bin/python bench/torch_kernels.py --quick   # smoke run
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from harness import describe_variable_device, select_backend  # noqa: E402

PACKAGE = str(pathlib.Path(__file__).resolve().parents[1] / "tb_imbalance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="torch", choices=["torch"], help="PyTorch only")
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer timed calls (figures meaningless)")
    args = parser.parse_args()
    keras = select_backend("torch")
    import numpy as np
    import torch
    from torch.overrides import TorchFunctionMode

    from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroAveragePrecision, MacroF1

    cuda = torch.cuda.is_available()
    rng = np.random.default_rng(0)
    device = describe_variable_device(BalancedAccuracy(2).variables[0])
    print(f"torch kernels: torch {torch.__version__}, keras {keras.__version__}, device {device}")

    class CountCalls(TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if getattr(func, "__name__", "") not in ("__get__", "dim", "size", "__len__"):
                self.calls += 1
            return func(*args, **(kwargs or {}))

    def batch(num_classes: int, one_hot: bool = False, weights: bool = False):
        scores = rng.random((256, num_classes)).astype("float32")
        scores /= scores.sum(axis=1, keepdims=True)
        labels = rng.integers(0, num_classes, 256)
        y_true = np.eye(num_classes, dtype="float32")[labels] if one_hot else labels.astype("int32")
        weight = keras.ops.convert_to_tensor(rng.random(256).astype("float32")) if weights else None
        return keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(scores), weight

    def sync_callers(run) -> collections.Counter:
        if not cuda:
            run()
            return collections.Counter()
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run()
        finally:
            torch.cuda.set_sync_debug_mode(0)
        return collections.Counter(
            f"{os.path.relpath(w.filename)}:{w.lineno}" for w in caught if "synchroniz" in str(w.message).lower()
        )

    cases = [
        ("BalancedAccuracy(10)", lambda: BalancedAccuracy(10), 10, {}),
        ("BalancedAccuracy(10, curves=False)", lambda: BalancedAccuracy(10, curves=False), 10, {}),
        ("MacroF1(10), one-hot, weights", lambda: MacroF1(10), 10, {"one_hot": True, "weights": True}),
        ("MacroAveragePrecision(10)", lambda: MacroAveragePrecision(10), 10, {}),
        ("BalancedAccuracy(1000)", lambda: BalancedAccuracy(1000), 1000, {}),
        ("keras SparseCategoricalAccuracy", keras.metrics.SparseCategoricalAccuracy, 10, {}),
    ]
    calls_per_block = 20 if args.quick else 200
    print(f"  {'metric, per batch of 256':38s} {'torch calls':>11s} {'kernels':>8s} {'syncs':>6s} {'us/batch':>9s}")
    for label, make, num_classes, options in cases:
        metric = make()
        batches = [batch(num_classes, **options) for _ in range(4)]

        def step(index: int) -> None:
            y_true, y_pred, weight = batches[index % 4]
            if isinstance(metric, keras.metrics.SparseCategoricalAccuracy) and y_true.ndim == 2:
                y_true = torch.argmax(y_true, dim=1)
            metric.update_state(y_true, y_pred, sample_weight=weight)
            metric.result()

        for index in range(8):  # warm-up
            step(index)
        with CountCalls() as counter:
            step(0)
        syncs = sum(sync_callers(lambda: [step(index) for index in range(4)]).values()) / 4
        kernels = "-"
        if cuda:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as profiled:
                for index in range(4):
                    step(index)
                torch.cuda.synchronize()
            launched = sum(e.count for e in profiled.key_averages() if e.device_time_total > 0 and not e.is_user_annotation
                           and "CUDA" in str(getattr(e, "device_type", "")))
            kernels = f"{launched / 4:.0f}"
        times = []
        for _ in range(5):
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            for index in range(calls_per_block):
                step(index)
            if cuda:
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) / calls_per_block * 1e6)
        print(f"  {label:38s} {counter.calls:11d} {kernels:>8s} {syncs:6.1f} {float(np.median(times)):9.1f}")

    inputs = rng.random((2048, 16)).astype("float32")
    labels = rng.integers(0, 10, 2048)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(10)])
    callback = ClassificationReportCallback(tempfile.mkdtemp(), class_names=[str(k) for k in range(10)], verbose=0)
    data = {"x": inputs[:1024], "y": labels[:1024], "validation_data": (inputs[1024:], labels[1024:]),
            "batch_size": 256, "verbose": 0, "callbacks": [callback]}
    model.fit(epochs=1, **data)
    callers = sync_callers(lambda: model.fit(initial_epoch=1, epochs=3, **data))
    ours = {where: count for where, count in callers.items() if os.path.abspath(where.split(":")[0]).startswith(PACKAGE)}
    print(f"  fit with the callback, 2 epochs x (4 + 4 batches): synchronizing calls from tb_imbalance: "
          f"{sum(ours.values())} {ours or ''}; from elsewhere (Keras' trainer): {sum(callers.values()) - sum(ours.values())}"
          + ("" if cuda else " (not on CUDA: not checked)"))


if __name__ == "__main__":
    main()
