"""Format versions, the plugin's name and the strict JSON every reader parses stored text with.

Example:
    >>> _load_json_object(b'{"version": 1, "weighted": false}', "plugin content")
    {'version': 1, 'weighted': False}
    >>> _load_json_object(b'{"version": 1, "x": 1e999}', "plugin content")
    Traceback (most recent call last):
    ...
    tb_imbalance.format.UnsupportedFormatError: plugin content is not tb_imbalance JSON (the number 1e999 is too large for a float)
"""

from __future__ import annotations

import json
import math

__all__ = [
    "PLUGIN_NAME",
    "FORMAT_VERSION",
    "EXTRAS_VERSION",
    "EXAMPLES_VERSION",
    "EXAMPLES_SUFFIX",
    "CURVES_VERSION",
    "CURVES_SUFFIX",
    "UnsupportedFormatError",
    "newer_version",
]

PLUGIN_NAME = "imbalance"
FORMAT_VERSION = 5
#: The version that added ``class_counts`` and ``class_groups``.
EXTRAS_VERSION = 3
#: The version that added the examples behind each cell.
EXAMPLES_VERSION = 4
#: Suffix of the examples tag of a matrix tag.
EXAMPLES_SUFFIX = "_examples"
#: The version that added the binned scores behind the PR, ROC and reliability curves.
CURVES_VERSION = 5
#: Suffix of the curves tag of a matrix tag.
CURVES_SUFFIX = "_curves"


class UnsupportedFormatError(ValueError):
    """Raised for summaries this version of tb_imbalance cannot read."""


UnsupportedFormatError.__module__ = "tb_imbalance.format"  # where users import it from


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
        label = "summary format version" if what == "plugin content" else f"{what}: format version"
        raise UnsupportedFormatError(
            f"{label} {data['version']} is newer than this tb_imbalance reads (up to {FORMAT_VERSION}); "
            "upgrade with `pip install --upgrade tb_imbalance`"
        )
    return data


def newer_version(content: bytes) -> int | None:
    """The ``version`` of stored plugin content when a newer tb_imbalance wrote it, else None.

    Writers use it to leave a tag of a newer format alone: a step appended to it
    would sit under the newer metadata, which TensorBoard keeps for the tag.

    Example:
        >>> newer_version(b'{"version": 99, "kind": "curves"}'), newer_version(b'{"version": 1}')
        (99, None)
    """
    try:
        data = json.loads(bytes(content).decode("utf-8"))
    except (RecursionError, UnicodeDecodeError, ValueError, TypeError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        return version
    return None
