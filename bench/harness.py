"""Shared pieces of the benchmarks: backend selection, device names, paired statistics.

Nothing here imports Keras or a framework at import time: a benchmark sets
``KERAS_BACKEND`` with :func:`select_backend` first, and only then imports
Keras.

Example:
    >>> summary = paired_ratios([2.0, 2.2, 2.1], [1.0, 1.0, 1.0])
    >>> round(summary.median, 2), round(summary.low, 2), round(summary.high, 2)
    (2.1, 2.0, 2.2)
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import statistics
import sys
from typing import Any, Sequence

__all__ = [
    "BACKENDS",
    "select_backend",
    "tensorflow_available",
    "describe_device",
    "assert_no_tensorflow",
    "Ratio",
    "paired_ratios",
    "rotated",
    "time_writer_steps",
]

BACKENDS = ("tensorflow", "jax", "torch")


def tensorflow_available() -> bool:
    """Whether TensorFlow is installed (without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


def select_backend(backend: str) -> Any:
    """Set ``KERAS_BACKEND`` to ``backend``, then import and return ``keras``.

    Raises:
        ValueError: unknown backend name.
        SystemExit: Keras was imported earlier on another backend (the
            backend is fixed at Keras' first import).
    """
    if backend not in BACKENDS:
        raise ValueError(f"`backend` must be one of {BACKENDS}, received {backend!r}")
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() != backend:
        raise SystemExit(
            f"Keras was already imported on the {keras.backend.backend()!r} backend; run this "
            f"benchmark in a fresh process with --backend {backend}"
        )
    return keras


def describe_device(model: Any) -> str:
    """The device the backend put ``model``'s weights on, in words (e.g. ``"cpu"``, ``"cuda:0 (NVIDIA H200)"``)."""
    return describe_variable_device(model.weights[0])


def describe_variable_device(variable: Any) -> str:
    """The device of a Keras variable (a model's weight, a metric's state), in words, as :func:`describe_device`."""
    import keras

    backend = keras.backend.backend()
    value = variable.value
    if backend == "tensorflow":
        import tensorflow as tf

        device = value.device.split("device:")[-1] or "CPU:0"
        gpus = tf.config.list_physical_devices("GPU")
        if device.startswith("GPU") and gpus:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
            return f"{device} ({name})"
        return device
    if backend == "jax":
        (device,) = value.devices()
        return f"{device.platform}:{device.id} ({device.device_kind})"
    if backend == "torch":
        import torch

        device = value.device
        if device.type == "cuda":
            return f"{device} ({torch.cuda.get_device_name(device)})"
        return str(device)
    return "unknown"


def assert_no_tensorflow(backend: str) -> None:
    """On the JAX and PyTorch backends, fail if anything imported TensorFlow."""
    if backend != "tensorflow":
        assert "tensorflow" not in sys.modules, f"TensorFlow was imported on the {backend} backend"


@dataclasses.dataclass(frozen=True)
class Ratio:
    """Median and interquartile range of paired ratios (variant / base, one per round)."""

    median: float
    low: float
    high: float
    rounds: int

    def __str__(self) -> str:
        return f"{self.median:.3f}x (IQR {self.low:.3f}-{self.high:.3f})"


def paired_ratios(variant: Sequence[float], base: Sequence[float]) -> Ratio:
    """Ratios of the two measurements of each round, summarised by median and quartiles.

    Neighbours in time share the machine's state (which on a shared machine
    drifts by ±15 %), so each round's ratio is taken first and only then the
    median over rounds.
    """
    if len(variant) != len(base) or not variant:
        raise ValueError("paired_ratios needs the same, non-zero number of measurements on both sides")
    ratios = sorted(v / b for v, b in zip(variant, base))
    return Ratio(statistics.median(ratios), ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4], len(ratios))


def rotated(items: Sequence[Any], round_index: int) -> list[Any]:
    """The order of one round: rotated by the round index, reversed on odd rounds.

    Every item runs in every position equally often over ``2 * len(items)``
    rounds, so a drift of the machine does not favour one of them.

    Example:
        >>> [rotated("abc", r) for r in range(4)]
        [['a', 'b', 'c'], ['c', 'b', 'a'], ['b', 'c', 'a'], ['a', 'c', 'b']]
    """
    items = list(items)
    shift = (round_index // 2) % len(items)
    order = items[shift:] + items[:shift]
    return order if round_index % 2 == 0 else order[::-1]


def time_writer_steps() -> None:
    """Have each step a ``ClassificationReportCallback`` writes append the writing thread's CPU seconds for it
    to the callback's ``writer_cpu`` list, where the callback has one (a benchmark's subclass). The callback
    writes every step through its module's ``write_step(callback, ...)`` (on the background writer, or on the
    training thread with ``background=False``): that name is wrapped, once per process. Thread CPU time,
    not wall time: the writer's wall time includes its waits for the GIL."""
    import time

    from tb_imbalance.keras import callback as callback_module

    write_step = callback_module.write_step
    if getattr(write_step, "timed", False):
        return

    def timed(callback: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return write_step(callback, *args, **kwargs)
        finally:
            if getattr(callback, "writer_cpu", None) is not None:
                callback.writer_cpu.append(time.thread_time() - start)

    timed.timed = True  # type: ignore[attr-defined]
    callback_module.write_step = timed
