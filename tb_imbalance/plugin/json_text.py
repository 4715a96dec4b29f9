"""The routes' JSON text: compact, strict (no NaN), wide count matrices fast.

Example:
    >>> to_json({"confusion_matrix": np.array([[3, 0], [12, 5]]), "step": 2})
    '{"confusion_matrix":[[3,0],[12,5]],"step":2}'
"""

from __future__ import annotations

import functools
import json
from typing import Any, Mapping

import numpy as np

__all__ = ["to_json"]


@functools.lru_cache(maxsize=4)
def _zero_matrix_json(num_rows: int, num_columns: int) -> str:
    row = ",".join(["0"] * num_columns)
    return "[[" + "],[".join([row] * num_rows) + "]]"


def _count_matrix_json(matrix: np.ndarray) -> str:
    """JSON list of rows for an integer matrix, fast when it is mostly zeros.

    A wide confusion matrix (1000 classes: a million cells) has about 1%
    non-zero cells: they are spliced into a cached all-zero text, which is
    over ten times faster than ``json.dumps(matrix.tolist())``.
    """
    num_rows, num_columns = matrix.shape
    flat = matrix.reshape(-1)
    nonzero = np.flatnonzero(flat)
    if nonzero.size * 8 > flat.size:
        return json.dumps(matrix.tolist(), separators=(",", ":"))
    template = _zero_matrix_json(num_rows, num_columns)
    row_stride = 2 * num_columns + 2
    positions = 2 + (nonzero // num_columns) * row_stride + 2 * (nonzero % num_columns)
    pieces = []
    previous = 0
    for position, value in zip(positions.tolist(), flat[nonzero].tolist()):
        pieces.append(template[previous:position])
        pieces.append(str(value))
        previous = position + 1
    pieces.append(template[previous:])
    return "".join(pieces)


def _value_json(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.size and np.issubdtype(value.dtype, np.integer):
            return _count_matrix_json(value)
        value = value.tolist()
    return json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def to_json(payload: Mapping[str, Any]) -> str:
    """Serialise a payload of this module (numpy arrays allowed as top-level values).

    Args:
        payload: a dict from :func:`report_payload`, :func:`series_payload`
            or :meth:`ImbalanceData.runs`.

    Returns:
        Compact JSON text (UTF-8 safe; NaN is never written).

    Raises:
        ValueError: a value is NaN or infinite.

    Example:
        >>> to_json({"confusion_matrix": np.array([[3, 0], [12, 5]]), "step": 2})
        '{"confusion_matrix":[[3,0],[12,5]],"step":2}'
    """
    members = (
        f"{json.dumps(str(key), ensure_ascii=False)}:{_value_json(value)}"
        for key, value in payload.items()
    )
    return "{" + ",".join(members) + "}"

