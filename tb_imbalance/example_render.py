"""How one example row is shown: a PNG thumbnail, text, or its first values.

:func:`render_example` turns one input row into the JSON fields the
examples index stores (see :func:`tb_imbalance.format.decode_examples_index`)
and, for pictures, the PNG bytes of a thumbnail:

* a numeric array ``[H, W]``, ``[H, W, 1|3|4]`` or channels-first
  ``[1|3, H, W]``: a PNG of at most :data:`THUMBNAIL_MAX_PX` pixels a side
  (smaller pictures keep their size; the dashboard scales them up). uint8
  and other integers in [0, 255] are kept as they are, booleans become
  0 / 255, floats in [0, 1] are multiplied by 255, and anything else is
  stretched from its minimum to its maximum (``"scale": "min-max"``);
  NaN and -inf pixels are drawn as the lowest finite value, +inf as the highest;
* a string (or UTF-8 bytes): its first :data:`TEXT_MAX_CHARS` characters and
  its full ``length``;
* anything else: its ``shape`` and first :data:`VALUES_SHOWN` values (a row of
  numbers, strings, dates and missing values, as a DataFrame of mixed columns
  has, too: each string its first 64 characters, a date or a missing value as
  its text). Numbers JSON cannot hold exactly are written as strings, NaN and
  infinities as ``"nan"``, ``"inf"``, ``"-inf"`` and integers from 2**53 on as
  their digits; whenever ``values`` holds a string, ``numbers_as_text`` lists
  the positions of those numbers, so that a string ``"nan"`` stays text.

Example:
    >>> import numpy as np
    >>> fields, png = render_example(np.eye(8))
    >>> fields["kind"], fields["width"], fields["height"], png[:4]
    ('image', 8, 8, b'\\x89PNG')
    >>> render_example("a" * 500)[0]["length"]
    500
    >>> render_example(np.array([0.5, 1.0, np.nan]))[0]
    {'kind': 'values', 'shape': [3], 'values': [0.5, 1.0, 'nan'], 'numbers_as_text': [2]}
    >>> render_example(np.array([37, 55.5, "Lyon"], dtype=object))[0]["values"]
    [37, 55.5, 'Lyon']
    >>> render_example(np.array([2**53 + 1, float("nan"), "nan"], dtype=object))[0]
    {'kind': 'values', 'shape': [3], 'values': ['9007199254740993', 'nan', 'nan'], 'numbers_as_text': [0, 1]}
"""

from __future__ import annotations

import datetime
import io
import math
import numbers
from typing import Any

import numpy as np

from tb_imbalance.tensors import to_numpy

__all__ = ["THUMBNAIL_MAX_PX", "TEXT_MAX_CHARS", "VALUES_SHOWN", "render_example"]

#: Longest side of a thumbnail, in pixels.
THUMBNAIL_MAX_PX = 64
#: Characters of a text example that are kept.
TEXT_MAX_CHARS = 200
#: Values of a non-picture array that are kept.
VALUES_SHOWN = 8


def render_example(row: Any) -> tuple[dict, bytes | None]:
    """The index fields of one example row, and its PNG thumbnail (or None)."""
    if not isinstance(row, np.ndarray) and (hasattr(row, "__array__") or hasattr(row, "__array_interface__")):
        try:  # a row of a list: a framework tensor (requires_grad, bfloat16, on a device) or a PIL image
            row = np.asarray(to_numpy(row, "examples"))
        except (TypeError, ValueError, RuntimeError):
            pass  # shown as its text
    if isinstance(row, np.ndarray) and (row.ndim == 0 or (row.size == 1 and row.dtype.kind in "USO")):
        row = row.reshape(()).item()  # a text model's row is [1] string (Input((1,), dtype="string"))
    if isinstance(row, bytes):
        row = row.decode("utf-8", errors="replace")
    if isinstance(row, str):
        return {"kind": "text", "text": readable_text(row[:TEXT_MAX_CHARS]), "length": len(row)}, None
    try:
        array = np.asarray(row) if isinstance(row, (np.ndarray, list, tuple, int, float, np.number)) else None
    except (TypeError, ValueError):  # a record of parts of different shapes, ("text", [3, 7]): shown as its text
        array = None
    if array is not None and array.dtype == object and array.ndim == 1 and all(map(_is_scalar, array)):
        # a row of a DataFrame of mixed columns (numbers, strings, dates, NA): its values, not numpy's repr
        return _values_fields(array.shape, [_json_value(v) for v in array[:VALUES_SHOWN]]), None
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        text = repr(row)
        return {"kind": "text", "text": readable_text(text[:TEXT_MAX_CHARS]), "length": len(text)}, None
    pixels = _as_picture(array)
    if pixels is not None and max(pixels.shape[:2]) >= 8 * THUMBNAIL_MAX_PX:
        # Every 4th-or-more pixel is plenty for a thumbnail: converting all of a huge picture costs seconds.
        stride = max(pixels.shape[:2]) // (4 * THUMBNAIL_MAX_PX)
        pixels = pixels[::stride, ::stride]
    if pixels is None:
        flat = array.reshape(-1)[:VALUES_SHOWN]
        return _values_fields(array.shape, [_json_number(v) for v in flat]), None
    picture, scale = _to_uint8(pixels)
    png, width, height = _thumbnail_png(picture)
    fields = {"kind": "image", "width": width, "height": height, "shape": list(array.shape)}
    if scale:
        fields["scale"] = scale
    return fields, png


def _as_picture(array: np.ndarray) -> np.ndarray | None:
    """``[H, W]`` or ``[H, W, channels]`` pixels of a picture-shaped row, else None."""
    if array.ndim == 2 and min(array.shape) >= 2:
        return array
    if array.ndim == 3 and min(array.shape[:2]) >= 2 and array.shape[2] in (1, 3, 4):
        return array[:, :, 0] if array.shape[2] == 1 else array
    if array.ndim == 3 and array.shape[0] in (1, 3) and min(array.shape[1:]) >= 2:
        array = np.moveaxis(array, 0, -1)  # channels first, as PyTorch keeps images
        return array[:, :, 0] if array.shape[2] == 1 else array
    return None


def _to_uint8(pixels: np.ndarray) -> tuple[np.ndarray, str | None]:
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255, None
    if pixels.dtype == np.uint8:
        return pixels, None
    values = pixels.astype(np.float64)
    finite = np.isfinite(values)
    low, high = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0.0, 0.0)
    values = np.where(finite, values, np.where(values == np.inf, high, low))  # +inf as the brightest, NaN the darkest
    if np.issubdtype(pixels.dtype, np.integer) and low >= 0 and high <= 255:
        return values.astype(np.uint8), None
    if np.issubdtype(pixels.dtype, np.floating) and low >= 0 and high <= 1:
        return np.round(values * 255).astype(np.uint8), None
    half_span = high / 2 - low / 2  # halves: high - low overflows for values near ±1.8e308
    if half_span <= 0:
        return np.full(values.shape, 128, dtype=np.uint8), "min-max"
    stretched = (values / 2 - low / 2) / half_span * 255.0
    return np.clip(np.round(stretched), 0, 255).astype(np.uint8), "min-max"


def _thumbnail_png(picture: np.ndarray) -> tuple[bytes, int, int]:
    from PIL import Image

    image = Image.fromarray(picture)
    height, width = picture.shape[:2]
    longest = max(height, width)
    if longest > THUMBNAIL_MAX_PX:
        width = max(1, round(width * THUMBNAIL_MAX_PX / longest))
        height = max(1, round(height * THUMBNAIL_MAX_PX / longest))
        image = image.resize((width, height), Image.Resampling.BOX)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue(), width, height


#: Characters kept of a string among a row's values.
_VALUE_MAX_CHARS = 64


def _is_scalar(value: Any) -> bool:
    """One cell of a table's row: text, a number, a date or time, or a missing value (None, pandas' NA, NaT)."""
    return isinstance(value, (str, bytes, numbers.Number, np.generic, datetime.date, datetime.time, datetime.timedelta)) or (
        value is None or type(value).__name__ in ("NAType", "NaTType"))


class _NumberText(str):
    """A number written as a string (NaN, an infinity, an integer from 2**53 on): JSON holds no exact number for it."""


def _values_fields(shape: tuple[int, ...], values: list) -> dict:
    """A ``values`` example; with ``numbers_as_text`` (which strings are numbers) whenever a value is a string."""
    fields = {"kind": "values", "shape": list(shape), "values": [str(v) if isinstance(v, str) else v for v in values]}
    if any(isinstance(value, str) for value in values):
        fields["numbers_as_text"] = [k for k, value in enumerate(values) if isinstance(value, _NumberText)]
    return fields


def _json_value(value: Any) -> int | float | bool | str:
    """One value of a row of mixed types: a string as its text (its first characters), else a number."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, (str, np.str_)):
        return readable_text(str(value)[:_VALUE_MAX_CHARS])
    return "None" if value is None else _json_number(value)


def _json_number(value: Any) -> int | float | bool | str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return _NumberText(value)  # its digits: a reader of JSON numbers as doubles (the page) would round it
    if isinstance(value, (bool, int)):
        return value
    try:
        value = float(value)  # np.longdouble stays itself through .item(), and JSON has no such number
    except (TypeError, ValueError):  # a timedelta, a datetime: shown as text
        return str(value)
    if not math.isfinite(value):
        return _NumberText("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    return value


def readable_text(text: str) -> str:
    """``text`` with each lone surrogate (a file name decoded by ``os.fsdecode`` from bytes that are
    not UTF-8) replaced by U+FFFD, as undecodable bytes are: the index is UTF-8.

    Example:
        >>> readable_text("caf\\udce9.png")
        'caf\ufffd.png'
    """
    if not any("\ud800" <= character <= "\udfff" for character in text):
        return text
    return "".join("\ufffd" if "\ud800" <= character <= "\udfff" else character for character in text)
