"""The predicted class of score rows: their argmax, in cache-sized chunks and, for large arrays, threads;
of a binary model's one score column, its cut (:func:`_binary_column_ids`).

:func:`_argmax_rows` also says whether every score is finite, without a
boolean array as large as the scores: the input checks of
:mod:`tb_imbalance.core.inputs` use it to refuse NaN and infinite scores.

Example:
    >>> ids, finite = _argmax_rows(np.array([[0.1, 0.9], [0.7, 0.3]]))
    >>> ids.tolist(), finite
    ([1, 0], True)
    >>> _binary_column_ids(np.array([0.2, 0.5, 0.7]), from_logits=False).tolist()
    [0, 0, 1]
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__: list[str] = []


_CHUNK_BYTES = 1 << 21


def _argmax_block(scores: np.ndarray) -> tuple[np.ndarray, bool]:
    """The rows' argmax, and whether every score in the block is finite.

    No boolean array as large as the scores: the argmax of a row holding NaN
    is its first NaN, and of a row holding +inf an +inf, so the picked scores
    are all finite exactly when no row holds NaN or +inf; the minimum then
    rules out -inf.
    """
    if scores.size == 0 or not np.issubdtype(scores.dtype, np.floating):
        return np.argmax(scores, axis=1), True
    ids = np.empty(len(scores), dtype=np.intp)
    finite = True
    rows = max(1, _CHUNK_BYTES // max(1, scores.itemsize * scores.shape[1]))
    positions = np.arange(min(rows, len(scores)))
    for start in range(0, len(scores), rows):
        chunk = scores[start : start + rows]
        chunk_ids = ids[start : start + rows]
        finite = finite and bool(chunk.min() > -np.inf)
        np.argmax(chunk, axis=1, out=chunk_ids)
        if finite:
            finite = bool(np.isfinite(chunk[positions[: len(chunk)], chunk_ids]).all())
    return ids, finite


# Above this many scores the rows are split across threads: argmax and min
# release the GIL and are memory-bound, and one core does not use the whole
# memory bandwidth (about 2x faster on 2 cores at 50,000 x 1000 float32).
_PARALLEL_MIN_SCORES = 1 << 22
_EXECUTOR: ThreadPoolExecutor | None = None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _forget_executor() -> None:
    # A forked child inherits the pool but not its threads: work handed to it
    # would wait forever, so the child starts a pool of its own when needed.
    global _EXECUTOR
    _EXECUTOR = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def _argmax_rows(scores: np.ndarray) -> tuple[np.ndarray, bool]:
    """``np.argmax(scores, axis=1)`` and whether every score is finite, large inputs in parallel."""
    global _EXECUTOR
    blocks = min(_usable_cores(), 4, len(scores))
    if scores.size < _PARALLEL_MIN_SCORES or blocks < 2:
        return _argmax_block(scores)
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tb_imbalance_argmax")
    parts = list(_EXECUTOR.map(_argmax_block, np.array_split(scores, blocks)))
    return np.concatenate([ids for ids, _ in parts]), all(finite for _, finite in parts)


def _binary_column_ids(column: np.ndarray, *, from_logits: bool) -> np.ndarray:
    """Class ids of a binary model's one score column: class 1 above 0.5 (a probability) or above 0 (a logit,
    the same cut as sigmoid > 0.5); a tie is class 0, as in Keras' and torchmetrics' binary metrics."""
    return (column > (0.0 if from_logits else 0.5)).astype(np.int64)
