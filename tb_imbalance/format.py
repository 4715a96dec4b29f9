"""The on-disk format of tb_imbalance summaries, in one place.

Every confusion matrix is one TensorBoard *tensor* summary:

* plugin name ``imbalance`` (:data:`PLUGIN_NAME`), ``data_class`` TENSOR;
* the tensor holds the raw confusion matrix (rows = true class, columns =
  predicted class, scikit-learn's convention) as ``int64`` counts, or
  ``float64`` sums when sample weights were given, in one of two encodings:

  - ``dense`` (format version 1): the ``[C, C]`` matrix itself;
  - ``coo`` (format version 2, used above :data:`DENSE_MAX_CLASSES` classes):
    the non-zero cells as rows ``[true, predicted, count]``, shape ``[K, 3]``,
    sorted by (true, predicted). A 1000-class matrix is 8 MB dense but only
    ``24 × K`` bytes here, and K ≤ number of validation rows;
* the plugin content is a small UTF-8 JSON object::

      {"version": 1, "num_classes": 3, "class_names": ["cat", "dog", "bird"],
       "weighted": false, "encoding": "dense"}

  Format version 3 adds two optional fields, present only when given:
  ``class_counts`` (training examples per class, C non-negative ints) and
  ``class_groups`` (``{"group name": [class names…]}``).

Format version 4 adds the examples behind each cell: a *blob sequence*
summary (``data_class`` BLOB_SEQUENCE, plugin ``imbalance``) under the tag
``name + "_examples"`` (:func:`examples_tag`), written in the same step as
the matrix ``name``. Its plugin content is
``{"version": 4, "kind": "examples", "matrix_tag": name}``; its blobs are
a UTF-8 JSON index (blob 0, :func:`decode_examples_index`) followed by the
PNG thumbnails it refers to by blob position. Readers of versions 1–3 list
tensor summaries only, so they never see these tags.

``version`` is the oldest format version able to read the summary: 1 for
dense, 2 for coo, 3 with ``class_counts`` or ``class_groups``, so older
readers keep reading what they can fully show. The encoding
depends only on C, so it never changes within a tag (TensorBoard keeps only a
tag's first metadata). Readers accept every version up to
:data:`FORMAT_VERSION` and refuse newer ones with
:class:`UnsupportedFormatError`. ``docs/format.md`` documents the format for
other tools; this module is the only code that knows it.

This module imports neither TensorFlow nor matplotlib: the TensorBoard plugin
uses it at start-up.

Example:
    >>> import numpy as np
    >>> meta = create_summary_metadata(["neg", "pos"])
    >>> info = parse_plugin_content(meta.plugin_data.content)
    >>> info.class_names, info.version, info.encoding
    (('neg', 'pos'), 1, 'dense')
    >>> decode_matrix(encode_matrix(np.array([[3, 1], [0, 2]])), info).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "DENSE_MAX_CLASSES",
    "EXTRAS_VERSION",
    "encoding_for",
    "UnsupportedFormatError",
    "MatrixInfo",
    "create_summary_metadata",
    "parse_plugin_content",
    "encode_matrix",
    "decode_matrix",
    "EXAMPLES_VERSION",
    "EXAMPLES_SUFFIX",
    "examples_tag",
    "create_examples_metadata",
    "parse_examples_content",
    "encode_examples",
    "decode_examples_index",
]

PLUGIN_NAME = "imbalance"
FORMAT_VERSION = 4
#: The version that added ``class_counts`` and ``class_groups``.
EXTRAS_VERSION = 3
#: Up to this many classes matrices are stored dense (80 KB per step at most).
DENSE_MAX_CLASSES = 100
#: The version that added the examples behind each cell.
EXAMPLES_VERSION = 4
#: Suffix of the examples tag of a matrix tag.
EXAMPLES_SUFFIX = "_examples"
_EXAMPLES_KIND = "examples"
DENSE, COO = "dense", "coo"
_ENCODING_VERSION = {DENSE: 1, COO: 2}


def encoding_for(num_classes: int) -> str:
    """The encoding used for matrices with ``num_classes`` classes."""
    return DENSE if num_classes <= DENSE_MAX_CLASSES else COO


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


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large for a float")
    return value


def _load_json_object(content: bytes, what: str) -> dict:
    """Parse stored JSON the way every reader must: refused, never crashed on.

    ``NaN``, ``Infinity`` and numbers past a float's range (``1e999``) are
    refused (the writers never store them); so is nesting deeper than
    Python's recursion limit and an integer longer than Python parses.
    """
    try:
        data = json.loads(bytes(content).decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise UnsupportedFormatError(f"{what} is not tb_imbalance JSON (nested too deeply)") from None
    except (UnicodeDecodeError, ValueError, TypeError) as error:
        raise UnsupportedFormatError(f"{what} is not tb_imbalance JSON ({str(error)[:200]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int) or isinstance(data["version"], bool):
        raise UnsupportedFormatError(f"{what} has no integer 'version' field; it was not written by tb_imbalance")
    if data["version"] > FORMAT_VERSION:
        label = "summary format version" if what == "plugin content" else f"{what} has format version"
        raise UnsupportedFormatError(
            f"{label} {data['version']} is newer than this tb_imbalance reads (up to {FORMAT_VERSION}); "
            "upgrade with `pip install --upgrade tb_imbalance`"
        )
    return data


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


def encode_matrix(matrix: np.ndarray) -> np.ndarray:
    """Return the tensor to store for a ``[C, C]`` confusion matrix.

    Integer counts are stored as ``int64``, anything else as ``float64``;
    the encoding follows :func:`encoding_for`.
    """
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
    if tensor.ndim != 2 or tensor.shape[1] != 3:
        raise UnsupportedFormatError(f"stored coo matrix has shape {tensor.shape}, expected [K, 3]")
    cells = tensor[:, :2].astype(np.int64)
    if cells.size and (cells.min() < 0 or cells.max() >= size):
        raise UnsupportedFormatError(f"stored coo matrix has cell indices outside [0, {size})")
    matrix = np.zeros((size, size), dtype=tensor.dtype)
    matrix[cells[:, 0], cells[:, 1]] = tensor[:, 2]
    return matrix


# --------------------------------------------------------------------------
# The examples behind each cell (format version 4)
# --------------------------------------------------------------------------


def examples_tag(name: str) -> str:
    """The tag holding the examples of matrix tag ``name``.

    Example:
        >>> examples_tag("confusion_matrix")
        'confusion_matrix_examples'
    """
    return name + EXAMPLES_SUFFIX


def create_examples_metadata(matrix_tag: str) -> summary_pb2.SummaryMetadata:
    """The ``SummaryMetadata`` of an examples blob sequence (see the module docs)."""
    content = {"version": EXAMPLES_VERSION, "kind": _EXAMPLES_KIND, "matrix_tag": str(matrix_tag)}
    return summary_pb2.SummaryMetadata(
        summary_description="Examples behind each confusion-matrix cell (Imbalance dashboard)",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=json.dumps(content, ensure_ascii=False).encode("utf-8")
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )




def parse_examples_content(content: bytes) -> str:
    """The matrix tag named by an examples summary's plugin content.

    Raises:
        UnsupportedFormatError: not examples metadata, or a newer version.

    Example:
        >>> parse_examples_content(create_examples_metadata("cm").plugin_data.content)
        'cm'
    """
    data = _load_json_object(content, "examples plugin content")
    if data.get("kind") != _EXAMPLES_KIND or not isinstance(data.get("matrix_tag"), str):
        raise UnsupportedFormatError("plugin content is not tb_imbalance examples metadata")
    return data["matrix_tag"]


def encode_examples(index: Mapping, thumbnails: Sequence[bytes]) -> np.ndarray:
    """The blobs of one step's examples: the JSON ``index``, then the PNG ``thumbnails``.

    An image example refers to its thumbnail by blob position
    (``"image": 1`` is the first thumbnail).
    """
    body = json.dumps(dict(index, version=EXAMPLES_VERSION), ensure_ascii=False, allow_nan=False)
    return np.array([body.encode("utf-8"), *thumbnails], dtype=object)


_EXAMPLE_KINDS = ("image", "text", "values")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_example(example: dict, num_classes: int) -> None:
    """Refuse an example whose ``top`` or thumbnail position the readers could not use."""
    top = example.get("top")
    if not isinstance(top, list) or not all(
        isinstance(pair, list)
        and len(pair) == 2
        and _is_int(pair[0])
        and 0 <= pair[0] < num_classes
        and isinstance(pair[1], (int, float))
        and not isinstance(pair[1], bool)
        for pair in top
    ):
        raise UnsupportedFormatError(
            f"corrupt examples index: example {example.get('id')!r} has malformed scores `top` "
            f"(want [[class in [0, {num_classes}), score], ...])"
        )
    if example["kind"] == "image" and not (_is_int(example.get("image")) and example["image"] >= 1):
        raise UnsupportedFormatError(
            f"corrupt examples index: image example {example.get('id')!r} has thumbnail position "
            f"{example.get('image')!r} (want a blob position of 1 or more)"
        )


def decode_examples_index(blob: bytes) -> dict:
    """Parse and check the JSON index (blob 0) of one step's examples.

    The index holds ``num_classes``, ``rows`` (how many rows the examples
    were chosen from), ``examples_per_cell``, ``scores`` (``"probability"``
    or ``"raw"``), ``max_bytes``, ``cut`` (``null``, or ``{"kept": k,
    "chosen": m}`` when the byte bound dropped examples) and ``cells``: one
    ``{"true": i, "pred": j, "count": n, "examples": [...]}`` per cell with
    examples, where ``count`` is the number of rows in the cell. Each
    example has ``id`` (the user's id or the row index), ``row``, ``top``
    (up to three ``[class, score]`` pairs, highest first) and ``kind``:
    ``"image"`` (with ``image``, the blob position of its PNG, and
    ``width`` / ``height`` / ``shape``), ``"text"`` (``text``, and
    ``length``, the length before truncation) or ``"values"`` (``shape`` and
    the first few ``values``).

    Raises:
        UnsupportedFormatError: not a valid index (a cell or an example the
            readers could not use, NaN or infinite numbers), or a newer version.
    """
    data = _load_json_object(blob, "examples index")
    num_classes = data.get("num_classes")
    cells = data.get("cells")
    if not isinstance(num_classes, int) or num_classes < 2 or not isinstance(cells, list):
        raise UnsupportedFormatError("examples index needs an integer 'num_classes' and a 'cells' list")
    if not isinstance(data.get("cells_complete", True), bool):
        raise UnsupportedFormatError("examples index 'cells_complete' must be true or false")
    for cell in cells:
        if (
            not isinstance(cell, dict)
            or not all(_is_int(cell.get(key)) and 0 <= cell[key] < num_classes for key in ("true", "pred"))
            or not isinstance(cell.get("examples"), list)
            or not all(isinstance(example, dict) and example.get("kind") in _EXAMPLE_KINDS for example in cell["examples"])
        ):
            raise UnsupportedFormatError(
                "examples index 'cells' must hold {true, pred, examples} with class ids in "
                f"[0, {num_classes}) and examples of kind {', '.join(_EXAMPLE_KINDS)}"
            )
        count = cell.get("count")
        if not (_is_int(count) and count >= 0):
            raise UnsupportedFormatError(
                f"corrupt examples index: cell ({cell['true']}, {cell['pred']}) has count {count!r}"
            )
        for example in cell["examples"]:
            _check_example(example, num_classes)
    return data
