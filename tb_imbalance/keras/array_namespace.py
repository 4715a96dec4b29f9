"""The array functions the streaming metrics compute with, per Keras backend.

On TensorFlow and JAX this is ``keras.ops`` itself: ``fit`` traces the
metric once, so ``keras.ops``' argument handling costs nothing per batch.
On PyTorch Keras runs metrics eagerly, one call per batch, and each
``keras.ops`` call converts and checks its arguments in Python, several
microseconds per call, more than the arithmetic on a batch. There the same
functions are called on ``torch`` directly (same names, same semantics, for
the arguments the metrics pass); anything not listed here is
``keras.ops``'s own.

Example:
    >>> from keras import ops
    >>> xp = array_namespace()
    >>> ops.convert_to_numpy(xp.argmax(ops.convert_to_tensor([[0.1, 0.9], [0.8, 0.2]]), axis=-1)).tolist()
    [1, 0]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["array_namespace"]


class _TorchOps:
    """``keras.ops`` functions the metrics call per batch, on torch tensors directly."""

    def __init__(self) -> None:
        import torch  # the backend is PyTorch, so torch is already imported
        from keras.src.backend.torch.core import get_device

        self._torch = torch
        self._device = get_device
        self._devices: dict[Any, Any] = {}  # Keras' device name ("cpu", "cuda:0") -> torch.device
        self._dtypes: dict[Any, Any] = {}  # dtype name -> torch dtype

    def __getattr__(self, name: str) -> Any:  # everything else: keras.ops
        return getattr(ops, name)

    def convert_to_tensor(self, value: Any) -> Any:
        # Detached: a training batch's outputs carry autograd history, and Keras updates the
        # metrics with gradients on. Each op on them would add to the graph, and the scores
        # index_add_-ed into a variable would make it require grad and keep every batch's graph
        # alive. A tensor elsewhere than Keras' device (CPU labels for a model on a GPU) is moved
        # there by keras.ops, as the variables live there.
        if isinstance(value, self._torch.Tensor) and value.device == self._keras_device():
            return value.detach()
        return ops.convert_to_tensor(value).detach()

    def _keras_device(self) -> Any:
        # Keras names its device with a string, which never equals a
        # torch.device; "cuda" (no index) does not equal "cuda:0" either, so
        # such tensors take keras.ops' path, which leaves them where they are.
        name = self._device()
        device = self._devices.get(name)
        if device is None:
            device = self._devices[name] = self._torch.device(name)
        return device

    def cast(self, value: Any, dtype: str) -> Any:
        torch_dtype = self._dtypes.get(dtype)
        if torch_dtype is None:
            torch_dtype = self._dtypes[dtype] = getattr(self._torch, keras.backend.standardize_dtype(dtype))
        return value.to(torch_dtype)

    def argmax(self, value: Any, axis: int) -> Any:
        # the indices of max(dim): the same first-of-ties pick, about 25 % faster on a CPU
        return self._torch.max(value, dim=axis).indices

    def sum(self, value: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self._torch.sum(value) if axis is None else self._torch.sum(value, dim=axis, keepdim=keepdims)

    def max(self, value: Any, axis: int, keepdims: bool = False) -> Any:
        return self._torch.amax(value, dim=axis, keepdim=keepdims)

    def min(self, value: Any, axis: int) -> Any:
        return self._torch.amin(value, dim=axis)

    def minimum(self, value: Any, ceiling: float) -> Any:
        return self._torch.clamp_max(value, ceiling)

    def clip(self, value: Any, low: float, high: float) -> Any:
        return self._torch.clamp(value, low, high)

    def exp(self, value: Any) -> Any:
        return self._torch.exp(value)

    def cumsum(self, value: Any, axis: int) -> Any:
        return self._torch.cumsum(value, dim=axis)

    def stack(self, values: list[Any], axis: int = 0) -> Any:
        return self._torch.stack(values, dim=axis)

    def take_along_axis(self, value: Any, indices: Any, axis: int) -> Any:
        return self._torch.gather(value, axis, indices.to(self._torch.int64))

    def arange(self, start: int, stop: int, step: int = 1, dtype: str = "int32") -> Any:
        torch_dtype = getattr(self._torch, dtype)
        return self._torch.arange(start, stop, step, dtype=torch_dtype, device=self._keras_device())

    def any(self, value: Any) -> Any:
        return self._torch.any(value)

    def mean(self, value: Any) -> Any:
        return self._torch.mean(value)

    def isfinite(self, value: Any) -> Any:
        return self._torch.isfinite(value)

    def isnan(self, value: Any) -> Any:
        return self._torch.isnan(value)

    def logical_not(self, value: Any) -> Any:
        return self._torch.logical_not(value)

    def round(self, value: Any) -> Any:
        return self._torch.round(value)

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        return self._torch.where(condition, x, y)

    def maximum(self, value: Any, floor: float) -> Any:
        return self._torch.clamp_min(value, floor)

    def expand_dims(self, value: Any, axis: int) -> Any:
        return self._torch.unsqueeze(value, axis)

    def squeeze(self, value: Any, axis: int) -> Any:
        return self._torch.squeeze(value, dim=axis)

    def reshape(self, value: Any, shape: tuple[int, ...]) -> Any:
        return self._torch.reshape(value, shape)

    def ones_like(self, value: Any) -> Any:
        return self._torch.ones_like(value)

    def concatenate(self, values: list[Any]) -> Any:
        return self._torch.cat(values)


_TORCH_OPS: _TorchOps | None = None


def array_namespace() -> Any:
    """``keras.ops``, or on the PyTorch backend its eager stand-in for the metrics' calls."""
    global _TORCH_OPS
    if keras.backend.backend() != "torch":
        return ops
    if _TORCH_OPS is None:
        _TORCH_OPS = _TorchOps()
    return _TORCH_OPS
