"""The confusion-matrix summary: its metadata (class names, counts, groups) and its two encodings.

Example:
    >>> info = parse_plugin_content(create_summary_metadata(["neg", "pos"]).plugin_data.content)
    >>> decode_matrix(encode_matrix(np.array([[3, 1], [0, 2]])), info).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_imbalance.format.versions import EXTRAS_VERSION, PLUGIN_NAME, UnsupportedFormatError, _load_json_object

__all__ = [
    "DENSE",
    "COO",
    "DENSE_MAX_CLASSES",
    "encoding_for",
    "MatrixInfo",
    "create_summary_metadata",
    "parse_plugin_content",
    "encode_matrix",
    "decode_matrix",
    "decode_cells",
]

#: Up to this many classes matrices are stored dense (80 KB per step at most).
DENSE_MAX_CLASSES = 100
DENSE, COO = "dense", "coo"
_ENCODING_VERSION = {DENSE: 1, COO: 2}


def encoding_for(num_classes: int) -> str:
    """The encoding used for matrices with ``num_classes`` classes."""
    return DENSE if num_classes <= DENSE_MAX_CLASSES else COO


@dataclasses.dataclass(frozen=True)
class MatrixInfo:
    """What the plugin content of one confusion-matrix tag says.

    Attributes:
        version: format version the summary was written with.
        num_classes: ``C``, the side of the matrix.
        class_names: one name per class, in matrix order.
        weighted: whether the tag's first step holds sums of sample weights
            (float64). Each step says it in its own tensor's dtype (int64
            counts, float64 sums), which readers use per step: TensorBoard
            keeps a tag's metadata from its first step only.
        encoding: ``"dense"`` or ``"coo"``.
        class_counts: training examples per class (C ints), or None when
            not logged (always None before format version 3).
        class_groups: ``((group name, (class names…)), …)`` in logged order,
            or None when not logged (always None before format version 3).
    """

    version: int
    num_classes: int
    class_names: tuple[str, ...]
    weighted: bool
    encoding: str = DENSE
    class_counts: tuple[int, ...] | None = None
    class_groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    def groups_dict(self) -> dict[str, list[str]] | None:
        """``class_groups`` as ``{"group name": [class names…]}``, or None."""
        if self.class_groups is None:
            return None
        return {group: list(members) for group, members in self.class_groups}


def create_summary_metadata(
    class_names: Sequence[str],
    *,
    weighted: bool = False,
    description: str | None = None,
    class_counts: Sequence[int] | None = None,
    class_groups: Mapping[str, Sequence[str]] | None = None,
) -> summary_pb2.SummaryMetadata:
    """Build the ``SummaryMetadata`` written with every confusion matrix.

    Args:
        class_names: one display name per class (``len == C``).
        weighted: True when the counts are sums of sample weights.
        description: optional Markdown shown by TensorBoard.
        class_counts: training examples per class (already validated, see
            :func:`tb_imbalance.core.validate_class_counts`), or None.
        class_groups: ``{"group name": [class names…]}`` (already validated,
            see :func:`tb_imbalance.core.validate_class_groups`), or None.
        Either of the last two stamps the summary with format version 3.

    Returns:
        A ``SummaryMetadata`` proto with plugin ``imbalance`` and data class
        TENSOR.
    """
    names = [str(name) for name in class_names]
    encoding = encoding_for(len(names))
    version = _ENCODING_VERSION[encoding]
    content: dict = {
        "version": version,
        "num_classes": len(names),
        "class_names": names,
        "weighted": bool(weighted),
        "encoding": encoding,
    }
    if class_counts is not None:
        content["class_counts"] = [int(count) for count in class_counts]
        content["version"] = max(version, EXTRAS_VERSION)
    if class_groups is not None:
        content["class_groups"] = {str(group): [str(name) for name in members] for group, members in class_groups.items()}
        content["version"] = max(version, EXTRAS_VERSION)
    return summary_pb2.SummaryMetadata(
        summary_description=description or "",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME,
            content=json.dumps(content, ensure_ascii=False).encode("utf-8"),
        ),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )


def parse_plugin_content(content: bytes) -> MatrixInfo:
    """Parse the plugin content of an ``imbalance`` summary.

    Args:
        content: ``SummaryMetadata.plugin_data.content`` bytes.

    Returns:
        The parsed :class:`MatrixInfo`.

    Raises:
        UnsupportedFormatError: the content was written by a newer
            tb_imbalance (``version`` > :data:`FORMAT_VERSION`) or is not a
            tb_imbalance JSON object at all.
    """
    data = _load_json_object(content, "plugin content")
    version = data["version"]
    if version < 1:
        raise UnsupportedFormatError(f"summary format version {version} is invalid")
    names = data.get("class_names")
    num_classes = data.get("num_classes")
    if (
        not isinstance(names, list)
        or not isinstance(num_classes, int)
        or len(names) != num_classes
    ):
        raise UnsupportedFormatError(
            "plugin content needs 'num_classes' and a 'class_names' list of that length"
        )
    encoding = data.get("encoding", DENSE)
    if encoding not in _ENCODING_VERSION or _ENCODING_VERSION[encoding] > version:
        raise UnsupportedFormatError(
            f"unknown matrix encoding {encoding!r} for format version {version}"
        )
    class_names = tuple(str(name) for name in names)
    return MatrixInfo(
        version=version,
        num_classes=num_classes,
        class_names=class_names,
        weighted=bool(data.get("weighted", False)),
        encoding=encoding,
        class_counts=_parse_class_counts(data.get("class_counts"), num_classes),
        class_groups=_parse_class_groups(data.get("class_groups"), class_names),
    )


def _parse_class_counts(value: object, num_classes: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != num_classes
        or not all(isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in value)
    ):
        raise UnsupportedFormatError(
            f"plugin content 'class_counts' must be a list of {num_classes} non-negative integers"
        )
    return tuple(value)


def _parse_class_groups(value: object, class_names: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if value is None:
        return None
    known = set(class_names)
    if not isinstance(value, dict) or not all(
        isinstance(members, list) and all(isinstance(name, str) and name in known for name in members)
        for members in value.values()
    ):
        raise UnsupportedFormatError(
            "plugin content 'class_groups' must map group names to lists of the tag's class names"
        )
    return tuple((str(group), tuple(members)) for group, members in value.items())


def encode_matrix(matrix: Any) -> np.ndarray:
    """Return the tensor to store for a ``[C, C]`` confusion matrix.

    Integer counts are stored as ``int64``, anything else as ``float64``;
    the encoding follows :func:`encoding_for`. ``matrix`` is an array, or an
    object with the non-empty cells as ``rows``, ``columns`` and ``values``
    sorted row-major (:class:`tb_imbalance.core.SparseMatrix`), stored as
    the same tensor its dense matrix would give.

    Example:
        >>> encode_matrix(np.eye(101, dtype=np.int64))[:2].tolist()
        [[0, 0, 1], [1, 1, 1]]
    """
    if hasattr(matrix, "values") and hasattr(matrix, "rows"):
        if encoding_for(matrix.num_classes) == DENSE:
            return encode_matrix(matrix.toarray())
        dtype = np.int64 if np.issubdtype(matrix.values.dtype, np.integer) else np.float64
        return np.stack([matrix.rows.astype(dtype), matrix.columns.astype(dtype), matrix.values.astype(dtype)], axis=1)
    matrix = np.asarray(matrix)
    dtype = np.int64 if np.issubdtype(matrix.dtype, np.integer) else np.float64
    matrix = matrix.astype(dtype, copy=False)
    if encoding_for(matrix.shape[0]) == DENSE:
        return matrix
    true_ids, predicted_ids = np.nonzero(matrix)
    return np.stack([true_ids.astype(dtype), predicted_ids.astype(dtype), matrix[true_ids, predicted_ids]], axis=1)


def decode_matrix(tensor: np.ndarray, info: MatrixInfo) -> np.ndarray:
    """Turn a stored tensor back into the ``[C, C]`` confusion matrix.

    Raises:
        UnsupportedFormatError: the tensor does not fit the metadata.
    """
    tensor = np.asarray(tensor)
    size = info.num_classes
    if info.encoding == DENSE:
        if tensor.shape != (size, size):
            raise UnsupportedFormatError(
                f"stored confusion matrix has shape {tensor.shape}, expected {(size, size)}"
            )
        return tensor
    rows, columns, values = decode_cells(tensor, info)
    matrix = np.zeros((size, size), dtype=tensor.dtype)
    matrix[rows, columns] = values
    return matrix


def decode_cells(tensor: np.ndarray, info: MatrixInfo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells of a stored ``coo`` tensor: ``(true ids, predicted ids, values)``, without the dense matrix.

    Raises:
        UnsupportedFormatError: the tensor is not ``[K, 3]`` or names a class outside ``[0, C)``.

    Example:
        >>> info = MatrixInfo(2, 200, tuple(map(str, range(200))), False, COO)
        >>> [a.tolist() for a in decode_cells(encode_matrix(np.diag(np.arange(200))), info)][0][:3]
        [1, 2, 3]
    """
    tensor = np.asarray(tensor)
    size = info.num_classes
    if tensor.ndim != 2 or tensor.shape[1] != 3:
        raise UnsupportedFormatError(f"stored coo matrix has shape {tensor.shape}, expected [K, 3]")
    cells = tensor[:, :2].astype(np.int64)
    if cells.size and (cells.min() < 0 or cells.max() >= size):
        raise UnsupportedFormatError(f"stored coo matrix has cell indices outside [0, {size})")
    return cells[:, 0], cells[:, 1], tensor[:, 2]
