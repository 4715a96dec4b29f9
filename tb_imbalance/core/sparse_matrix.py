"""A confusion matrix kept as its non-empty cells, for problems with thousands of classes.

A validation set of N rows fills at most N cells of the ``[C, C]`` matrix:
at 10,000 classes the dense int64 matrix takes 800 MB, its non-empty cells
from 100,000 rows at most 2.4 MB. Above :data:`SPARSE_ABOVE_CLASSES`
classes, :func:`tb_imbalance.core.count_class_ids` (and so
:func:`tb_imbalance.log_report` and :mod:`tb_imbalance.summary`) count into a
:class:`SparseMatrix`; every score of :mod:`tb_imbalance.core.metrics` comes
from the diagonal, row sums and column sums, which it gives in O(cells + C).

It answers the few array methods the report maths use (``shape``,
``dtype``, ``sum``, ``diagonal``, ``astype``) and never turns itself into a
dense array unless asked (:meth:`SparseMatrix.toarray`).

Example:
    >>> cm = SparseMatrix.count(np.array([0, 1, 1, 2]), np.array([0, 1, 0, 2]), None, 3)
    >>> cm
    SparseMatrix(num_classes=3, cells=4, dtype=int64)
    >>> cm.diagonal().tolist(), cm.sum(axis=1).tolist(), cm.sum(axis=0).tolist()
    ([1, 1, 1], [1, 2, 1], [2, 1, 1])
    >>> cm.toarray().tolist()
    [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from tb_imbalance.core.numeric_arrays import check_integer_total, _check_sum

__all__ = ["SPARSE_ABOVE_CLASSES", "SparseMatrix", "row_blocks"]

#: Above this many classes counted matrices are :class:`SparseMatrix` values
#: (the dense int64 matrix would take more than 8 MB).
SPARSE_ABOVE_CLASSES = 1000

#: Cells a pass over a dense matrix reads at a time (2 MB of float64): a check of a 10,000-class matrix
#: needs no temporary of its 10**8 cells.
BLOCK_CELLS = 2**18

# The most classes whose cells' codes row * C + column fit in int64: floor(sqrt(2**63 - 1)).
_MOST_CODED_CLASSES = 3_037_000_499


def row_blocks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, block)``: ``array`` (1-D or 2-D) as views of consecutive rows of about
    :data:`BLOCK_CELLS` cells, in order, so that a check makes no temporary of the array's size.

    Example:
        >>> [(start, block.shape) for start, block in row_blocks(np.zeros((3, 2**19)))]
        [(0, (1, 524288)), (1, (1, 524288)), (2, (1, 524288))]
    """
    width = int(np.prod(array.shape[1:], dtype=np.int64)) or 1
    rows = max(1, BLOCK_CELLS // width)
    for start in range(0, array.shape[0], rows):
        yield start, array[start:start + rows]


class SparseMatrix:
    """A ``[C, C]`` confusion matrix as its non-empty cells (rows = true class).

    Build it with :meth:`count` (from class ids), :meth:`from_cells`
    (validates) or :meth:`from_dense`. Cells are unique, sorted row-major and
    hold positive values: ``int64`` counts or ``float64`` sums of weights.

    Attributes:
        num_classes: ``C``.
        rows, columns: the cells' true and predicted class ids (``int64 [K]``).
        values: the cells' counts or sums of weights (``[K]``, all > 0).
    """

    __slots__ = ("num_classes", "rows", "columns", "values")

    def __init__(self, num_classes: int, rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
        # Trusted: the classmethods check and normalise before calling this.
        self.num_classes = int(num_classes)
        self.rows, self.columns, self.values = rows, columns, values

    # -- construction ----------------------------------------------------
    @classmethod
    def count(cls, true: np.ndarray, predicted: np.ndarray, weights: np.ndarray | None, num_classes: int) -> "SparseMatrix":
        """Count checked class ids (``int64 [N]`` in ``[0, C)``), optionally weighted.

        Example:
            >>> SparseMatrix.count(np.array([1, 1]), np.array([0, 0]), np.array([0.5, 2.0]), 2).values.tolist()
            [2.5]
        """
        codes = true.astype(np.int64, copy=False) * num_classes + predicted
        cells, inverse = np.unique(codes, return_inverse=True)
        values = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(cells))
        if weights is None:
            values = values.astype(np.int64, copy=False)
        else:
            keep = values > 0  # rows of weight 0 count for nothing
            cells, values = cells[keep], values[keep]
        return cls(num_classes, cells // num_classes, cells % num_classes, values)

    @classmethod
    def from_cells(cls, num_classes: int, rows: Any, columns: Any, values: Any, argument: str = "cm") -> "SparseMatrix":
        """Check and normalise cells: repeated cells add up, zeros are dropped.

        Raises:
            ValueError: cells outside ``[0, C)``, negative or non-finite values,
                integer counts totalling 2**53 or more,
                or arrays of different lengths.

        Example:
            >>> SparseMatrix.from_cells(3, [2, 0, 2], [1, 0, 1], [1, 4, 2]).toarray().tolist()
            [[4, 0, 0], [0, 0, 0], [0, 3, 0]]
        """
        if num_classes > _MOST_CODED_CLASSES:  # row * C + column would wrap around in int64
            raise ValueError(
                f"`num_classes` must be at most {_MOST_CODED_CLASSES:,} for cells coded as row * C + column in "
                f"int64, received {num_classes:,}; map the ids seen to 0..C-1 first (np.unique(..., return_inverse=True))"
            )
        rows, columns, values = (np.asarray(a).reshape(-1) for a in (rows, columns, values))
        if not (len(rows) == len(columns) == len(values)):
            raise ValueError(
                f"`{argument}`: rows, columns and values must have one entry per cell, "
                f"received {len(rows)}, {len(columns)} and {len(values)}"
            )
        for ids, what in ((rows, "row"), (columns, "column")):
            if ids.size and not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"`{argument}` {what} ids must be integer class ids, received dtype {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
                raise ValueError(f"`{argument}` has {what} ids outside [0, {num_classes}): pass class ids")
        if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
            raise TypeError(f"`{argument}` values must be numbers, received dtype {values.dtype}")
        if values.size and not np.all(np.isfinite(values)):
            raise ValueError(f"`{argument}` contains NaN or infinite values; pass finite counts")
        if values.size and values.min() < 0:
            raise ValueError(f"`{argument}` must hold non-negative counts, received {values.min()}")
        _check_sum(values, argument)
        check_integer_total(values, argument)
        dtype = np.int64 if np.issubdtype(values.dtype, np.integer) else np.float64
        codes = rows.astype(np.int64) * num_classes + columns.astype(np.int64)
        cells, inverse = np.unique(codes, return_inverse=True)
        summed = np.zeros(len(cells), dtype=dtype)
        np.add.at(summed, inverse.reshape(-1), values.astype(dtype))
        keep = summed > 0
        cells = cells[keep]
        return cls(num_classes, cells // num_classes, cells % num_classes, summed[keep])

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> "SparseMatrix":
        """The non-empty cells of a checked dense ``[C, C]`` matrix.

        Example:
            >>> SparseMatrix.from_dense(np.array([[3, 0], [1, 2]])).values.tolist()
            [3, 1, 2]
        """
        width = matrix.shape[1]  # row-major, as np.nonzero; a bool mask (of one block of rows) is 4× faster
        cells = np.concatenate([np.flatnonzero(block != 0) + start * width for start, block in row_blocks(matrix)])
        rows, columns = np.divmod(cells, width)
        return cls(matrix.shape[0], rows, columns, matrix[rows, columns])

    # -- the array methods the report maths use --------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_classes, self.num_classes)

    ndim = 2

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def cells(self) -> int:
        """The number of non-empty cells."""
        return len(self.values)

    def astype(self, dtype: Any, copy: bool = True) -> "SparseMatrix":
        if np.dtype(dtype) == self.values.dtype and not copy:
            return self
        return SparseMatrix(self.num_classes, self.rows, self.columns, self.values.astype(dtype))

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, **more: Any) -> Any:
        """Like ``ndarray.sum`` (``np.sum`` calls it): the total, or the row sums (``axis=1``) / column sums
        (``axis=0``)."""
        if out is not None or keepdims or dtype is not None or more:
            raise TypeError("SparseMatrix.sum takes `axis` only; for out=, keepdims=, dtype= or initial= sum cm.toarray()")
        if isinstance(axis, tuple) and len(axis) == 1:
            axis = axis[0]
        if axis is None or (isinstance(axis, tuple) and sorted(int(a) % 2 for a in axis) == [0, 1]):
            return self.values.sum()
        if isinstance(axis, tuple) or axis not in (0, 1, -1, -2):
            raise np.exceptions.AxisError(f"axis {axis!r} is out of bounds for a [C, C] SparseMatrix")
        ids = {0: self.columns, 1: self.rows, -1: self.rows, -2: self.columns}[axis]
        sums = np.bincount(ids, weights=self.values, minlength=self.num_classes)
        return sums.astype(self.values.dtype, copy=False)

    def diagonal(self) -> np.ndarray:
        """The ``C`` diagonal cells (true positives per class)."""
        out = np.zeros(self.num_classes, dtype=self.values.dtype)
        on_diagonal = self.rows == self.columns
        out[self.rows[on_diagonal]] = self.values[on_diagonal]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # numpy would make a 0-d object array of it, which compares unequal to everything, silently
        raise TypeError(self._not_an_array())

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        # numpy's own functions: np.sum, np.shape and np.ndim work; the others would swallow the refusal
        # of __array__ (np.array_equal(cm, dense) is False) or make an object array of the matrix
        if func is np.sum and args[0] is self:
            return self.sum(*args[1:], **kwargs)
        if func in (np.shape, np.ndim) and args[0] is self:
            return self.shape if func is np.shape else 2
        raise TypeError(f"numpy.{func.__name__}: {self._not_an_array()}")

    def _not_an_array(self) -> str:
        return (
            f"a SparseMatrix ({self.num_classes} classes) is not turned into an array implicitly: call .toarray() "
            f"for the dense [C, C] matrix ({self.num_classes ** 2 * self.values.dtype.itemsize:,} bytes), or use "
            "its cells (.rows, .columns, .values), cm[true, predicted] or cm.sum(axis=1)"
        )

    def __getitem__(self, cell: tuple[int, int] | int) -> Any:
        """One cell's value, ``cm[true, predicted]`` (0 when empty), or one true class's dense row ``cm[true]``.

        Example:
            >>> cm = SparseMatrix.from_dense(np.array([[3, 0], [1, 2]]))
            >>> int(cm[1, 0]), int(cm[0, 1]), cm[1].tolist()
            (1, 0, [1, 2])
        """
        if isinstance(cell, (int, np.integer)) and not isinstance(cell, (bool, np.bool_)):
            if not 0 <= cell < self.num_classes:
                raise IndexError(f"row {cell} is outside [0, {self.num_classes})")
            row = np.zeros(self.num_classes, dtype=self.values.dtype)
            start, stop = np.searchsorted(self.rows, [cell, cell + 1])  # cells are sorted row-major
            row[self.columns[start:stop]] = self.values[start:stop]
            return row
        if not (isinstance(cell, tuple) and len(cell) == 2):
            raise TypeError(f"index a SparseMatrix by a true class id, cm[i], or a cell, cm[i, j], received {cell!r}")
        true, predicted = (int(k) for k in cell)
        if not (0 <= true < self.num_classes and 0 <= predicted < self.num_classes):
            raise IndexError(f"cell ({true}, {predicted}) is outside [0, {self.num_classes})")
        code = true * self.num_classes + predicted
        codes = self.rows * self.num_classes + self.columns
        at = int(np.searchsorted(codes, code))
        if at < len(codes) and codes[at] == code:
            return self.values[at]
        return self.values.dtype.type(0)

    def submatrix(self, classes: np.ndarray) -> np.ndarray:
        """The dense ``[k, k]`` matrix of ``classes`` (rows and columns in the given order).

        Example:
            >>> SparseMatrix.from_dense(np.array([[3, 0, 1], [1, 2, 0], [0, 5, 4]])).submatrix(np.array([2, 0])).tolist()
            [[4, 0], [1, 3]]
        """
        position = np.full(self.num_classes, -1, dtype=np.int64)
        position[classes] = np.arange(len(classes))
        i, j = position[self.rows], position[self.columns]
        inside = (i >= 0) & (j >= 0)
        out = np.zeros((len(classes), len(classes)), dtype=self.values.dtype)
        out[i[inside], j[inside]] = self.values[inside]
        return out

    def toarray(self) -> np.ndarray:
        """The dense ``[C, C]`` matrix (``C²`` cells: at 10,000 classes 800 MB of int64)."""
        out = np.zeros(self.shape, dtype=self.values.dtype)
        out[self.rows, self.columns] = self.values
        return out

    def __repr__(self) -> str:
        return f"SparseMatrix(num_classes={self.num_classes}, cells={self.cells}, dtype={self.dtype})"
