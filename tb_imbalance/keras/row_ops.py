"""The per-batch pieces of the streaming metrics that depend on the Keras backend.

Dtype names, where the data lives (host or device), and the rows' argmax as
each backend's compiler runs it fastest (XLA's own argmax is slow on a CPU
beyond a few columns). :mod:`tb_imbalance.keras.metrics` builds
``update_state`` from them.

Example:
    >>> dtype_name(np.dtype("float16")), is_float(np.zeros(2, "float16")), rank(np.zeros((4, 3)))
    ('float16', True, 2)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

__all__ = [
    "HOST_TYPES",
    "jax_x64",
    "float_dtype",
    "argmax_under_xla",
    "Picked",
    "TF_NATIVE_ARGMAX_COLUMNS",
    "pick_with_tensorflow",
    "dtype_name",
    "is_float",
    "rank",
]

# Values that already live in host memory: checking them with numpy costs no
# device -> host copy. Framework tensors (and traced values) are never pulled
# to the host in update_state.
HOST_TYPES = (np.ndarray, np.generic, list, tuple, int, float)


def jax_x64() -> bool:
    import jax  # the backend is JAX, so JAX is already imported

    return bool(jax.config.jax_enable_x64)


def float_dtype() -> str:
    """Float dtype for ``result()``'s intermediate sums (float64 where available)."""
    if keras.backend.backend() == "jax" and not jax_x64():
        return "float32"
    return "float64"


# Up to this many columns XLA's own argmax is the faster one on a CPU (beyond
# it, it falls off a cliff: about 3x slower at 16 columns under TensorFlow).
_XLA_ARGMAX_MAX_COLUMNS = {"tensorflow": 14, "jax": 16}


def _backend_argmax(values: Any) -> Any:
    """The backend's own argmax over the last axis (the first of ties, as numpy).

    ``keras.ops.argmax`` first maps -0.0 below +0.0 (a workaround for
    jax-ml/jax#24280), an extra pass that keeps XLA from fusing the argmax
    with the row maximum next to it; numpy, whose argmax the matrix must
    match, treats the two zeros as equal anyway.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.argmax(values, axis=-1)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.math.argmax(values, axis=-1)
    return ops.argmax(values, axis=-1)


def argmax_under_xla(xp: Any, scores: Any) -> tuple[Any, Any]:
    """Row argmax (the first of ties) and whether each row is all finite, as
    XLA runs them fastest.

    NaN and ±inf are first marked +inf, so a row's pick is not finite exactly
    when the row holds a score that is not. XLA's argmax, a reduction over
    (value, index) pairs, is slow on a CPU beyond a few columns (about 550 µs
    for 256 x 1000 scores); the row's maximum and then the first column that
    holds it are two plain reductions (about 70 µs).
    """
    marked = xp.where(xp.isfinite(scores), scores, float("inf"))
    width = scores.shape[-1]
    if width <= _XLA_ARGMAX_MAX_COLUMNS.get(keras.backend.backend(), 0):
        return _backend_argmax(marked), xp.max(marked, axis=-1) < float("inf")
    top = xp.max(marked, axis=-1, keepdims=True)
    ids = xp.min(xp.where(marked == top, xp.arange(width, dtype="int32"), width), axis=-1)
    return ids, top[:, 0] < float("inf")


class Picked(NamedTuple):
    """Scores already reduced to each row's argmax and whether the row is all finite."""

    ids: Any
    finite: Any


# Column counts at which TensorFlow's own argmax kernel, run before the XLA
# call, beats both argmaxes inside it on a CPU (XLA's reductions over about
# 17 to 40 columns are 2-3x slower than at 16 or 48).
TF_NATIVE_ARGMAX_COLUMNS = range(17, 41)


def pick_with_tensorflow(scores: Any) -> Picked:
    """Each row's argmax by TensorFlow's own kernel, and whether the row is all
    finite (by its sum: TensorFlow's argmax skips NaN, so it cannot tell)."""
    import tensorflow as tf

    as_float = scores if scores.dtype in (tf.float32, tf.float64) else tf.cast(scores, tf.float32)
    return Picked(tf.math.argmax(scores, axis=-1), tf.math.is_finite(tf.reduce_sum(as_float, axis=-1)))


_DTYPE_NAMES: dict[Any, str] = {}


def dtype_name(dtype: Any) -> str:
    """``keras.backend.standardize_dtype``, remembered per dtype object: the
    metrics ask on every batch, which PyTorch runs eagerly. A plain dict, not
    ``functools.lru_cache``, which torch.compile (``jit_compile=True``) warns about."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = keras.backend.standardize_dtype(dtype)
    return name


def is_float(value: Any) -> bool:
    return dtype_name(value.dtype).startswith(("float", "bfloat"))


def rank(value: Any) -> int:
    return len(value.shape)
