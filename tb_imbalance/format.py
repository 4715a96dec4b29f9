"""The on-disk format of tb_imbalance summaries, in one place.

Every confusion matrix is one TensorBoard *tensor* summary:

* plugin name ``imbalance`` (:data:`PLUGIN_NAME`), ``data_class`` TENSOR;
* the tensor is the raw confusion matrix, shape ``[C, C]``, rows = true class,
  columns = predicted class (scikit-learn's convention), ``int64`` counts, or
  ``float64`` when sample weights were given;
* the plugin content is a small UTF-8 JSON object::

      {"version": 1, "num_classes": 3, "class_names": ["cat", "dog", "bird"],
       "weighted": false}

Readers accept every version up to :data:`FORMAT_VERSION` and refuse newer
ones with :class:`UnsupportedFormatError`. ``docs/format.md`` documents the
format for other tools; this module is the only code that knows it.

This module imports neither TensorFlow nor matplotlib: the TensorBoard plugin
uses it at start-up.

Example:
    >>> import numpy as np
    >>> meta = create_summary_metadata(["neg", "pos"])
    >>> info = parse_plugin_content(meta.plugin_data.content)
    >>> info.class_names, info.version
    (('neg', 'pos'), 1)
    >>> decode_matrix(encode_matrix(np.array([[3, 1], [0, 2]])), info).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

import dataclasses
import json
from typing import Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "UnsupportedFormatError",
    "MatrixInfo",
    "create_summary_metadata",
    "parse_plugin_content",
    "encode_matrix",
    "decode_matrix",
]

PLUGIN_NAME = "imbalance"
FORMAT_VERSION = 1


class UnsupportedFormatError(ValueError):
    """Raised for summaries this version of tb_imbalance cannot read."""


@dataclasses.dataclass(frozen=True)
class MatrixInfo:
    """What the plugin content of one confusion-matrix tag says.

    Attributes:
        version: format version the summary was written with.
        num_classes: ``C``, the side of the matrix.
        class_names: one name per class, in matrix order.
        weighted: whether counts are sums of sample weights (float64).
    """

    version: int
    num_classes: int
    class_names: tuple[str, ...]
    weighted: bool


def create_summary_metadata(
    class_names: Sequence[str],
    *,
    weighted: bool = False,
    description: str | None = None,
) -> summary_pb2.SummaryMetadata:
    """Build the ``SummaryMetadata`` written with every confusion matrix.

    Args:
        class_names: one display name per class (``len == C``).
        weighted: True when the counts are sums of sample weights.
        description: optional Markdown shown by TensorBoard.

    Returns:
        A ``SummaryMetadata`` proto with plugin ``imbalance`` and data class
        TENSOR.
    """
    names = [str(name) for name in class_names]
    content = {
        "version": FORMAT_VERSION,
        "num_classes": len(names),
        "class_names": names,
        "weighted": bool(weighted),
    }
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
    try:
        data = json.loads(bytes(content).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as error:
        raise UnsupportedFormatError(
            f"plugin content is not tb_imbalance JSON metadata ({error})"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise UnsupportedFormatError(
            "plugin content has no integer 'version' field; "
            "it was not written by tb_imbalance"
        )
    version = data["version"]
    if version > FORMAT_VERSION:
        raise UnsupportedFormatError(
            f"summary format version {version} is newer than this tb_imbalance "
            f"reads (up to {FORMAT_VERSION}); upgrade with "
            "`pip install --upgrade tb_imbalance`"
        )
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
    return MatrixInfo(
        version=version,
        num_classes=num_classes,
        class_names=tuple(str(name) for name in names),
        weighted=bool(data.get("weighted", False)),
    )


def encode_matrix(matrix: np.ndarray) -> np.ndarray:
    """Return the tensor to store for a ``[C, C]`` confusion matrix.

    Integer counts are stored as ``int64``; anything else as ``float64``.
    """
    matrix = np.asarray(matrix)
    if np.issubdtype(matrix.dtype, np.integer):
        return matrix.astype(np.int64, copy=False)
    return matrix.astype(np.float64, copy=False)


def decode_matrix(tensor: np.ndarray, info: MatrixInfo) -> np.ndarray:
    """Turn a stored tensor back into the ``[C, C]`` confusion matrix.

    Raises:
        UnsupportedFormatError: the tensor does not have shape ``[C, C]``.
    """
    tensor = np.asarray(tensor)
    expected = (info.num_classes, info.num_classes)
    if tensor.shape != expected:
        raise UnsupportedFormatError(
            f"stored confusion matrix has shape {tensor.shape}, expected {expected}"
        )
    return tensor
