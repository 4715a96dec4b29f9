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

from tb_imbalance.core.numeric_arrays import WHOLE_NUMBERS_UP_TO

__all__ = [
    "HOST_TYPES",
    "jax_x64",
    "count_dtype",
    "float_dtype",
    "argmax_under_xla",
    "row_argmax",
    "BLOCKED_ARGMAX_ABOVE_COLUMNS",
    "Picked",
    "TF_NATIVE_ARGMAX_COLUMNS",
    "tf_native_argmax_applies",
    "pick_with_tensorflow",
    "countable_rows",
    "host_row_mask",
    "refuse_rounded_label_type",
    "dtype_name",
    "as_output_precision",
    "is_float",
    "rank",
]

# Values that already live in host memory: checking them with numpy costs no
# device -> host copy. Framework tensors (and traced values) are never pulled
# to the host in update_state.
HOST_TYPES = (np.ndarray, np.generic, list, tuple, int, float)


def host_row_mask(sample_weight: Any, rows: int) -> np.ndarray | None:
    """Host ``sample_weight`` as the float 0/1 mask of the ``rows`` it keeps (a scalar for every row); None for all.

    Example:
        >>> host_row_mask([2.0, 0.0], 2).tolist(), host_row_mask(3.0, 2).tolist(), host_row_mask(None, 2)
        ([1.0, 0.0], [1.0, 1.0], None)
    """
    if sample_weight is None:
        return None
    kept = (np.asarray(sample_weight, dtype=np.float64) != 0).astype(np.float64)
    return np.full(rows, kept.reshape(-1)[0]) if kept.size == 1 else kept


def jax_x64() -> bool:
    import jax  # the backend is JAX, so JAX is already imported

    return bool(jax.config.jax_enable_x64)


def count_dtype() -> str:
    """Integer dtype of the counts on the current Keras backend.

    ``"int64"`` on TensorFlow, PyTorch and JAX with ``jax_enable_x64``;
    ``"int32"`` on JAX without 64-bit mode, where an int64 variable would be
    silently narrowed to int32 (with a warning) anyway.

    Example:
        >>> count_dtype() in ("int32", "int64")
        True
    """
    if keras.backend.backend() == "jax" and not jax_x64():
        return "int32"
    return "int64"


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


#: Above this many columns JAX and PyTorch find the rows' argmax through the
#: maxima of blocks of :data:`_BLOCK` columns (:func:`_blocked_argmax`);
#: PyTorch runs its dozen small operations one by one, which pays from about
#: 2000 columns.
BLOCKED_ARGMAX_ABOVE_COLUMNS = {"jax": 256, "torch": 2048}
_BLOCK = 64


def _block_maxima(scores: Any) -> Any:
    """``[N, ceil(C / 64)]``: the maximum of each row's blocks of 64 columns (the last one shorter).

    A plain maximum is a vectorised pass on a CPU; an argmax, or a search for
    the column holding the maximum, is several times slower per score.
    """
    if keras.backend.backend() == "jax":
        import jax

        width = scores.shape[-1]
        blocks = -(-width // _BLOCK)
        lowest = jax.numpy.array(-float("inf"), scores.dtype)
        return jax.lax.reduce_window(
            scores, lowest, jax.lax.max, (1, _BLOCK), (1, _BLOCK), padding=((0, 0), (0, blocks * _BLOCK - width))
        )
    rows, width = scores.shape
    if keras.backend.backend() == "torch":
        import torch

        whole = width // _BLOCK * _BLOCK  # a view of the whole blocks, no copy
        maxima = torch.amax(scores[:, :whole].reshape(rows, width // _BLOCK, _BLOCK), dim=-1)
        if whole == width:
            return maxima
        return torch.cat([maxima, torch.amax(scores[:, whole:], dim=-1, keepdim=True)], dim=-1)
    blocks = -(-width // _BLOCK)  # any other backend: padded with -inf, a copy
    padded = ops.pad(scores, ((0, 0), (0, blocks * _BLOCK - width)), constant_values=-float("inf"))
    return ops.max(ops.reshape(padded, (rows, blocks, _BLOCK)), axis=-1)


def _first_equal(xp: Any, values: Any, target: Any) -> Any:
    """Per row the first column of ``values`` equal to ``target`` ``[N, 1]`` (the width if none)."""
    width = values.shape[-1]
    return xp.min(xp.where(values == target, xp.arange(0, width, dtype="int32"), width), axis=-1)


def _blocked_argmax(xp: Any, scores: Any) -> Any:
    """Row argmax (the first of ties) of float ``[N, C]`` scores: the first block holding the row's
    maximum, then the first of its 64 columns that does; in ``[0, C)`` for any row.

    Example (on the current backend; the two ties in row 0 give the first):
        >>> scores = np.zeros((2, 300), "float32"); scores[0, [70, 200]] = 1.0; scores[1, 299] = 2.0
        >>> ops.convert_to_numpy(_blocked_argmax(ops, ops.convert_to_tensor(scores))).tolist()
        [70, 299]
    """
    width = scores.shape[-1]
    maxima = _block_maxima(scores)
    blocks = maxima.shape[-1]
    top = xp.max(maxima, axis=-1, keepdims=True)  # NaN only in rows that are refused anyway
    block = xp.minimum(_first_equal(xp, maxima, top), blocks - 1)
    columns = xp.minimum(xp.expand_dims(block * _BLOCK, -1) + xp.arange(0, _BLOCK, dtype="int32"), width - 1)
    within = xp.take_along_axis(scores, columns, axis=1)
    return xp.minimum(block * _BLOCK + _first_equal(xp, within, top), width - 1)


def _blocked_applies(scores: Any) -> bool:
    above = BLOCKED_ARGMAX_ABOVE_COLUMNS.get(keras.backend.backend())
    return (
        above is not None
        and scores.shape[-1] > above
        and dtype_name(scores.dtype) in ("float16", "bfloat16", "float32", "float64")
    )


def row_argmax(xp: Any, scores: Any) -> Any:
    """The argmax of each ``[N, C]`` row (the first of ties, as numpy) for
    rows without NaN, as the backend runs it fastest outside XLA.

    PyTorch's own argmax takes about 4 ms for 256 x 10,000 scores on a
    CPU, the block maxima about 1.2 ms.
    """
    if _blocked_applies(scores):
        return _blocked_argmax(xp, scores)
    return xp.argmax(scores, axis=-1)


def argmax_under_xla(xp: Any, scores: Any, logits: bool = False) -> tuple[Any, Any]:
    """Row argmax (the first of ties) and whether each row is all finite, as
    XLA runs them fastest (``logits``: whether it can be counted, see :func:`countable_rows`).

    NaN and ±inf are first marked +inf, so a row's pick is not finite exactly
    when the row holds a score that is not (logits keep -inf: a row all -inf
    is not countable). XLA's argmax, a reduction over
    (value, index) pairs, is slow on a CPU beyond a few columns (about 550 µs
    for 256 x 1000 scores); the row's maximum and then the first column that
    holds it are two plain reductions (about 70 µs). Above
    :data:`BLOCKED_ARGMAX_ABOVE_COLUMNS` JAX takes the block maxima instead
    (1 ms against 4-6 ms at 10,000 columns; a multiplication by 0 makes every
    non-finite score NaN for the check).
    """
    if keras.backend.backend() == "jax" and _blocked_applies(scores):
        import jax

        # the scores once in memory: XLA would otherwise recompute their producer (a softmax)
        # inside each of the three reads below
        scores = jax.lax.optimization_barrier(scores)
        if logits:
            return _blocked_argmax(xp, scores), countable_rows(xp, scores, logits=True)
        return _blocked_argmax(xp, scores), xp.logical_not(xp.isnan(xp.sum(scores * 0, axis=-1)))
    if logits:
        marked = xp.where(xp.isnan(scores), float("inf"), scores)  # -inf rules a class out: kept
    else:
        marked = xp.where(xp.isfinite(scores), scores, float("inf"))
    width = scores.shape[-1]
    if width <= _XLA_ARGMAX_MAX_COLUMNS.get(keras.backend.backend(), 0):
        top = xp.max(marked, axis=-1)
        return _backend_argmax(marked), (top < float("inf")) & (top > float("-inf")) if logits else top < float("inf")
    top = xp.max(marked, axis=-1, keepdims=True)
    ids = xp.min(xp.where(marked == top, xp.arange(width, dtype="int32"), width), axis=-1)
    return ids, (top[:, 0] < float("inf")) & (top[:, 0] > float("-inf")) if logits else top[:, 0] < float("inf")


def countable_rows(xp: Any, scores: Any, logits: bool = False) -> Any:
    """Whether each row of float scores ``[N, C]`` can be counted: every score finite, or for logits
    none NaN nor +inf and one above -inf (-inf rules a class out, as a masked softmax does).

    Example:
        >>> from keras import ops
        >>> rows = ops.convert_to_tensor([[0.5, float("-inf")], [float("-inf"), float("-inf")]])
        >>> [bool(v) for v in countable_rows(ops, rows)], [bool(v) for v in countable_rows(ops, rows, logits=True)]
        ([False, False], [True, False])
    """
    total = xp.sum(scores, axis=-1)  # NaN with a NaN or with both infinities; -inf with -inf alone
    if not logits:
        return xp.isfinite(total)
    return xp.logical_not(xp.isnan(total)) & (total < float("inf")) & (xp.max(scores, axis=-1) > float("-inf"))


class Picked(NamedTuple):
    """Scores already reduced to each row's argmax and whether the row is all finite."""

    ids: Any
    finite: Any


# Column counts at which TensorFlow's own argmax kernel, run before the XLA
# call, beats both argmaxes inside it on a CPU (XLA's reductions over about
# 17 to 40 columns are 2-3x slower than at 16 or 48).
TF_NATIVE_ARGMAX_COLUMNS = range(17, 41)


def tf_native_argmax_applies(scores: Any, num_classes: int) -> bool:
    """Whether :func:`pick_with_tensorflow` is the faster pick: float scores ``[N, C]`` of such a width
    (integer rows are checked for ties inside the XLA call instead)."""
    return len(scores.shape) == 2 and scores.shape[-1] == num_classes in TF_NATIVE_ARGMAX_COLUMNS and is_float(scores)


def pick_with_tensorflow(scores: Any, logits: bool = False) -> Picked:
    """Each row's argmax by TensorFlow's own kernel, and whether the row can be counted
    (:func:`countable_rows`, by its sum: TensorFlow's argmax skips NaN, so it cannot tell)."""
    import tensorflow as tf

    as_float = scores if scores.dtype in (tf.float32, tf.float64) else tf.cast(scores, tf.float32)
    if not logits:  # TensorFlow's own ops: keras.ops' dispatch would cost 15 µs a batch in eager updates
        return Picked(tf.math.argmax(scores, axis=-1), tf.math.is_finite(tf.reduce_sum(as_float, axis=-1)))
    return Picked(tf.math.argmax(scores, axis=-1), countable_rows(keras.ops, as_float, logits=True))


_DTYPE_NAMES: dict[Any, str] = {}


def dtype_name(dtype: Any) -> str:
    """``keras.backend.standardize_dtype``, remembered per dtype object: the
    metrics ask on every batch, which PyTorch runs eagerly. A plain dict, not
    ``functools.lru_cache``, which torch.compile (``jit_compile=True``) warns about."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = keras.backend.standardize_dtype(dtype)
    return name


#: (exponent, mantissa) bits of the float dtypes narrower than float32
_NARROW_FLOATS = {"bfloat16": (8, 7), "float16": (5, 10)}


def as_output_precision(y_pred: Any) -> Any:
    """JAX: bfloat16 / float16 scores rounded to their dtype, as ``model.predict`` returns them.

    Inside one jitted step XLA may hand the metric more precision than the
    model's output dtype holds (``xla_allow_excess_precision``, on by
    default): its argmax and score bins would then differ from those of the
    outputs ``predict`` returns. Other values are returned as they are.
    """
    bits = _NARROW_FLOATS.get(dtype_name(y_pred.dtype)) if hasattr(y_pred, "dtype") else None
    if bits is None:
        return y_pred
    import jax

    return jax.lax.reduce_precision(y_pred, exponent_bits=bits[0], mantissa_bits=bits[1])


def countable_tensor(value: Any) -> Any:
    """``value`` as a tensor (None stays None), booleans (``is_fraud`` labels, a mask of weights) as
    int32 0 / 1: TensorFlow's comparisons and arithmetic refuse booleans, which JAX and PyTorch promote."""
    if value is None:
        return None
    value = ops.convert_to_tensor(value)
    return ops.cast(value, "int32") if dtype_name(value.dtype) == "bool" else value


def refuse_rounded_label_type(labels: Any, num_classes: int, metric_name: str) -> None:
    """Refuse sparse ``y_true`` of a float type narrower than float32 that rounds some of the class ids of
    ``num_classes`` classes (float16: 2049 to 2048, bfloat16: 257 to 256), as the core refuses such labels
    (:func:`tb_imbalance.core.numeric_arrays.refuse_rounded_class_ids`). While tracing the values are not
    known, the type and the class count are: a rounded id would land in another class's row unseen.

    Example:
        >>> refuse_rounded_label_type(np.zeros(2, "float16"), 2048, "m")  # ids 0..2047: exact in float16
        >>> refuse_rounded_label_type(np.zeros(2, "float16"), 2049, "m")
        Traceback (most recent call last):
        ...
        ValueError: m: `y_true` is float16, whose whole numbers from 2048 on may be rounded ones (2049 rounds to 2048), ...
    """
    dtype = dtype_name(labels.dtype)
    limit = WHOLE_NUMBERS_UP_TO.get(dtype)
    if limit is not None and num_classes > limit:
        raise ValueError(
            f"{metric_name}: `y_true` is {dtype}, whose whole numbers from {limit} on may be rounded ones "
            f"({limit + 1} rounds to {limit}), and the metric counts {num_classes} classes: a class id from {limit} "
            f"on may be another class's, rounded, and would be counted in the wrong row. Cast the labels to int32 "
            f"in the dataset, from the class ids as they were before any cast to {dtype} (tf.data: "
            "ds.map(lambda x, y: (x, tf.cast(y, tf.int32))); numpy: y.astype('int32')), or pass one-hot rows"
        )


def is_float(value: Any) -> bool:
    return dtype_name(value.dtype).startswith(("float", "bfloat"))


def rank(value: Any) -> int:
    return len(value.shape)
