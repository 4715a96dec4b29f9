"""The examples behind each cell (format version 4): their blob sequence, metadata and index.

Example:
    >>> parse_examples_content(create_examples_metadata("cm").plugin_data.content)
    'cm'
    >>> examples_tag("cm")
    'cm_examples'
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_imbalance.format.versions import (
    EXAMPLES_SUFFIX,
    EXAMPLES_VERSION,
    PLUGIN_NAME,
    UnsupportedFormatError,
    _load_json_object,
)

__all__ = [
    "examples_tag",
    "create_examples_metadata",
    "parse_examples_content",
    "encode_examples",
    "decode_examples_index",
]

_EXAMPLES_KIND = "examples"

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
    if "numbers_as_text" in example:
        if example["kind"] != "values":  # it says which `values` are numbers: text and images have none
            raise UnsupportedFormatError(
                f"corrupt examples index: {example['kind']} example {example.get('id')!r} has `numbers_as_text` "
                "(want it on values examples only)"
            )
        _check_numbers_as_text(example)


def _check_numbers_as_text(example: dict) -> None:
    """Refuse a ``numbers_as_text`` that is not distinct positions of string ``values``."""
    values, positions = example.get("values"), example["numbers_as_text"]
    if not (
        isinstance(values, list)
        and isinstance(positions, list)
        and all(_is_int(k) and 0 <= k < len(values) and isinstance(values[k], str) for k in positions)
        and len(set(positions)) == len(positions)
    ):
        shown = repr(positions) if len(repr(positions)) <= 60 else repr(positions)[:60] + "…"
        raise UnsupportedFormatError(
            f"corrupt examples index: values example {example.get('id')!r} has malformed `numbers_as_text` "
            f"{shown} (want distinct positions in `values` of its strings)"
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
    the first few ``values``, with ``numbers_as_text`` when one is a string: the distinct positions
    of the strings that are numbers; a DataFrame's rows also ``names``, of the first columns).

    Raises:
        UnsupportedFormatError: not a valid index (a cell or an example the
            readers could not use, a malformed ``numbers_as_text`` or one
            on a text or image example, NaN or
            infinite numbers), or a newer version.
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
