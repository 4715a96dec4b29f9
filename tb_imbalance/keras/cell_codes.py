"""Above 1000 classes the streaming metric keeps its rows' cell codes, not the ``C²`` cells.

A ``[C, C]`` int64 matrix takes 800 MB at 10,000 classes and 20 GB at
50,000, yet the validation pass of N rows fills at most N cells. Above
:data:`CODES_ABOVE_CLASSES` classes a
:class:`~tb_imbalance.keras.ConfusionMatrixMetric` therefore writes each
row's cell code ``true * C + pred`` (or the slot of the counter the row goes
to) into a buffer of ``max_rows`` codes, one scatter of the batch per
``update_state`` at the position a row counter says (no host sync), and the
host counts the codes when it reads the matrix (:func:`read_cells`: a
:class:`tb_imbalance.core.SparseMatrix`, exact). ``result()`` still reads the
marginals kept next to it, so it never needs the codes.

What bounds it: ``max_rows`` codes of 4 bytes (8 above 46,340 classes) —
4,194,304 rows, 16 MB, by default; Keras resets the metric before each
training epoch and before each validation pass, so only one pass must fit.
A pass of more rows still gives the right ``result()`` (the marginals), but
reading its matrix raises ``ValueError`` naming ``max_rows=`` (rows beyond
the buffer go to a slot that is never read, never into a wrong cell).

Example:
    >>> layout = CodesLayout.of(2000, None, "int64", "balanced_accuracy")
    >>> layout.max_rows, layout.code_dtype, layout.state_bytes // 2**20
    (4194304, 'int32', 16)
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from tb_imbalance import core
from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.keras import state_updates
from tb_imbalance.keras.cell_index import COUNTERS

__all__ = ["CODES_ABOVE_CLASSES", "DEFAULT_MAX_ROWS", "COUNTER_SLOTS", "CodesLayout", "refuse_replicas", "read_cells"]

#: Above this many classes the metric keeps cell codes (:mod:`tb_imbalance.core.sparse_matrix`'s size).
CODES_ABOVE_CLASSES = core.SPARSE_ABOVE_CLASSES

#: Codes kept per pass by default (16 MB of int32 codes).
DEFAULT_MAX_ROWS = 2**22

#: The counters of the codes layout: those after the cells of the dense layout
#: (:data:`~tb_imbalance.keras.cell_index.COUNTERS`: rows not countable,
#: single-column scores outside [0, 1], rows with sample_weight 0, rows of
#: other weights than 0 and 1), then the rows written so far.
COUNTER_SLOTS = COUNTERS + 1
_ROWS_SLOT = COUNTERS


@dataclasses.dataclass(frozen=True)
class CodesLayout:
    """The code buffer of one metric: its size and dtype; :meth:`write` adds a batch.

    Attributes:
        num_classes: ``C``.
        max_rows: codes kept per pass (the buffer has one more slot, where
            rows past the end go and which is never read).
        code_dtype: ``"int32"`` while every code fits, else ``"int64"``.
    """

    num_classes: int
    max_rows: int
    code_dtype: str

    @classmethod
    def of(cls, num_classes: int, max_rows: Any, count_dtype: str, metric_name: str) -> "CodesLayout":
        """Check ``max_rows`` (None: :data:`DEFAULT_MAX_ROWS`) and pick the code dtype.

        Warns once per metric when ``max_rows`` is given for ``C`` ≤ 1000 (it
        has no effect there).

        Raises:
            TypeError / ValueError: ``max_rows`` is not a positive int, or the
                codes need int64 where the counts are int32 (JAX without 64-bit mode).
        """
        given = max_rows
        if max_rows is None:
            max_rows = DEFAULT_MAX_ROWS
        if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 1:
            raise TypeError(
                f"{metric_name}: `max_rows` must be a positive int (the rows of one validation pass "
                f"the metric can count above {CODES_ABOVE_CLASSES} classes), received {max_rows!r}"
            )
        if given is not None and num_classes <= CODES_ABOVE_CLASSES:
            warnings.warn(
                f"{metric_name}: max_rows={given} has no effect with {num_classes} classes: up to "
                f"{CODES_ABOVE_CLASSES} classes the metric counts the {num_classes}² cells themselves, "
                "whatever the rows; leave max_rows out",
                UserWarning, stacklevel=user_stacklevel(),
            )
        largest = num_classes * num_classes + COUNTER_SLOTS
        code_dtype = "int32" if largest < 2**31 else "int64"
        if code_dtype == "int64" and count_dtype == "int32":
            raise ValueError(
                f"{metric_name}: {num_classes} classes need 64-bit cell codes, and JAX runs without "
                "64-bit mode; call jax.config.update('jax_enable_x64', True) before building the model"
            )
        return cls(num_classes, int(max_rows), code_dtype)

    def add_variables(self, metric: Any, count_dtype: str) -> tuple[Any, Any]:
        """The metric's counters (:data:`COUNTER_SLOTS`) and code buffer variables."""
        counters = metric.add_variable(shape=(COUNTER_SLOTS,), initializer="zeros", dtype=count_dtype, name="counters")
        codes = metric.add_variable(
            shape=(self.max_rows + 1,), initializer="zeros", dtype=self.code_dtype, name="cell_codes"
        )
        return counters, codes

    @property
    def state_bytes(self) -> int:
        """Bytes of the code buffer."""
        return (self.max_rows + 1) * np.dtype(self.code_dtype).itemsize

    def write(self, xp: Any, codes: Any, counters: Any, index: Any) -> None:
        """Add a batch: each row's slot ``index`` (a cell code below ``C²``, else a counter's).

        The rows' codes go to the buffer from the position the rows counter
        holds (past ``max_rows``: the spare slot); counter rows also add 1 to
        their counter. O(batch), in place where the backend allows.
        """
        size = self.num_classes * self.num_classes
        ones = xp.ones_like(index)
        is_counter = xp.cast(index >= size, index.dtype)
        counter_ids = is_counter * (index - size) + (1 - is_counter) * _ROWS_SLOT  # a cell row adds 0 there
        position = state_updates.read_slice(counters, _ROWS_SLOT, _ROWS_SLOT + 1)
        slots = xp.minimum(xp.cast(position, index.dtype) + xp.cumsum(ones, axis=0) - 1, self.max_rows)
        state_updates.scatter_set(codes, slots, xp.cast(index, self.code_dtype))
        rows_slot = xp.cast(ones * _ROWS_SLOT, index.dtype)
        state_updates.scatter_add(
            counters, xp.concatenate([counter_ids, rows_slot]), xp.concatenate([is_counter, ones])
        )


def refuse_replicas(metric_name: str) -> None:
    """Raise when the state would be summed across replicas, which corrupts a list of codes."""
    import keras

    replicas = 1
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.distribute.has_strategy():
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
    elif backend == "jax" and keras.distribution.distribution() is not None:
        replicas = 2  # a keras.distribution layout shards or replicates the state
    if replicas > 1:
        raise ValueError(
            f"{metric_name}: above {CODES_ABOVE_CLASSES} classes the metric keeps the rows' cell codes, "
            "which cannot be summed across replicas; train on one replica, or leave the metric out and "
            "give the report callback validation_data= (it predicts the validation rows itself)"
        )


def read_cells(layout: CodesLayout, codes: Any, counters: np.ndarray, metric_name: str) -> core.SparseMatrix:
    """The matrix of the codes written this pass (host side).

    Args:
        codes: the buffer variable.
        counters: the counters, on the host.

    Raises:
        ValueError: the pass had more rows than ``max_rows``.
    """
    rows = int(counters[_ROWS_SLOT])
    if rows > layout.max_rows:
        raise ValueError(
            f"{metric_name}: this pass counted {rows:,} rows, but above {CODES_ABOVE_CLASSES} classes the "
            f"metric keeps the cell codes of at most max_rows={layout.max_rows:,} rows; pass "
            f"max_rows={rows:,} or more to the metric ({np.dtype(layout.code_dtype).itemsize} bytes a row)"
        )
    from keras import ops

    written = np.asarray(ops.convert_to_numpy(state_updates.read_slice(codes, 0, rows))).astype(np.int64)
    size = layout.num_classes * layout.num_classes
    cells, counts = np.unique(written[written < size], return_counts=True)
    num = layout.num_classes
    return core.SparseMatrix(num, cells // num, cells % num, counts.astype(np.int64))
