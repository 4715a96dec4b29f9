"""Stored steps to matrices: how many steps a read asks for, and which steps cannot be shown.

:func:`decode_step` turns one stored tensor into the ``[C, C]`` matrix of its
tag, or says why it cannot be shown under that tag (another class set, counts
that are negative or not finite); :mod:`tb_imbalance.plugin.reader` leaves
such a step out as a :class:`~tb_imbalance.plugin.series.SkippedStep`.

Example:
    >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
    >>> decode_step(np.array([[5, 1], [0, 2]]), info)[0].tolist()
    [[5, 1], [0, 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.plugin.offers import describe_names

__all__ = ["ALL_STEPS", "REPLACED_REASON", "decode_step"]

#: ``downsample`` passed to ``read_tensors``: larger than any run's step count,
#: so every retained step comes back.
ALL_STEPS = 1_000_000_000


#: Why an earlier record of a step logged twice is not shown.
REPLACED_REASON = (
    "this step was logged more than once (e.g. by a re-run into the same directory); "
    "the record read last is shown, and steps only the earlier run logged stay shown "
    "until TensorBoard is restarted"
)


def _class_set_advice(info: fmt.MatrixInfo) -> str:
    return (
        f"this tag has {info.num_classes} ({describe_names(info.class_names)}): TensorBoard "
        "keeps a tag's class names from its first step only. Log a different set of classes "
        "under another tag or into a new run directory (a run directory deleted and logged "
        "again while TensorBoard runs keeps its first class names until TensorBoard is restarted)"
    )


def decode_step(tensor: Any, info: fmt.MatrixInfo) -> tuple[np.ndarray | core.SparseMatrix | None, str]:
    """Decode one stored step, or say why it cannot be shown under this tag.

    Above :data:`tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes a ``coo``
    step decodes to a :class:`tb_imbalance.core.SparseMatrix` (its stored
    cells, never the ``C²`` dense matrix).

    Returns:
        ``(matrix, "")``, or ``(None, reason)`` when the stored tensor does
        not fit the tag's metadata (another class set) or holds counts that
        are not finite and non-negative.

    Example:
        >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
        >>> decode_step(np.array([[5, 1], [0, 2]]), info)[0].tolist()
        [[5, 1], [0, 2]]
        >>> decode_step(np.eye(3, dtype=np.int64), info)[1][:44]
        'its confusion matrix has 3 classes (shape (3'
    """
    tensor = np.asarray(tensor)
    size = info.num_classes
    if not (np.issubdtype(tensor.dtype, np.integer) or np.issubdtype(tensor.dtype, np.floating)):
        return None, f"its stored tensor has dtype {tensor.dtype}, not counts"
    square = tensor.ndim == 2 and tensor.shape[0] == tensor.shape[1]
    if info.encoding == fmt.DENSE and square and tensor.shape[0] != size:
        return None, (
            f"its confusion matrix has {tensor.shape[0]} classes (shape {tensor.shape}), but "
            f"{_class_set_advice(info)}"
        )
    try:
        if info.encoding == fmt.COO and size > core.SPARSE_ABOVE_CLASSES:
            rows, columns, values = fmt.decode_cells(tensor, info)
            keep = values != 0
            matrix = core.SparseMatrix(size, rows[keep], columns[keep], values[keep])  # checked below
        else:
            matrix = fmt.decode_matrix(tensor, info)
    except fmt.UnsupportedFormatError as error:
        return None, (
            f"its confusion matrix does not fit this tag's classes ({error}); "
            f"{_class_set_advice(info)}"
        )
    if info.encoding == fmt.COO and tensor.shape[0] > 1:
        cells = tensor[:, 0].astype(np.int64) * size + tensor[:, 1].astype(np.int64)
        if np.any(np.diff(cells) <= 0):
            return None, (
                f"its stored tensor (shape {tensor.shape}) does not fit this tag's classes: read "
                "as coo cells it is not sorted by (true, predicted) without repeats, as every "
                f"matrix logged for this tag would be; {_class_set_advice(info)}"
            )
    counts = tensor if info.encoding == fmt.DENSE else tensor[:, 2]
    if counts.size:
        if np.issubdtype(counts.dtype, np.floating) and not np.isfinite(counts.sum()):  # a NaN, an inf, or sums past float64
            return None, "its confusion matrix holds NaN or infinite counts, or counts whose sum is past float64's range"
        if counts.min() < 0:
            return None, f"its confusion matrix holds a negative count ({counts.min()})"
        total = float(counts.sum(dtype=np.float64))  # in float64: an int64 sum could wrap around
        if np.issubdtype(counts.dtype, np.integer) and total >= 2**53:  # the writers refuse these
            return None, f"its confusion matrix counts {total:.6g} rows in all, past 2**53, where its sums stop being exact"
    return matrix, ""
