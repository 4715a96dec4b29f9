"""The binned score summary behind the curves (format version 5): its blob sequence and metadata.

Example:
    >>> info = parse_curves_content(create_curves_metadata("cm", 75).plugin_data.content)
    >>> info.matrix_tag, info.bins, curves_tag("cm")
    ('cm', 75, 'cm_curves')
    >>> summary = np.zeros((3, 3, 75)); summary[0, 0, 74] = 4
    >>> float(decode_curves(encode_curves(summary)[0], info, 2)[0, 0, 74])
    4.0
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_imbalance.format.versions import CURVES_SUFFIX, CURVES_VERSION, PLUGIN_NAME, UnsupportedFormatError, _load_json_object

__all__ = ["CurvesInfo", "curves_tag", "create_curves_metadata", "parse_curves_content", "encode_curves", "decode_curves"]

_CURVES_KIND = "curves"
#: float32 holds whole counts exactly up to 2**24; a summary with larger values is stored as float64.
_FLOAT32_EXACT = 2.0**24
#: Below this (float32's smallest normal number) float32 loses digits, then everything: sums of tiny weights.
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


@dataclasses.dataclass(frozen=True)
class CurvesInfo:
    """What the plugin content of a curves tag says.

    Attributes:
        matrix_tag: the confusion-matrix tag the curves belong to.
        bins: equal-width score bins on ``[0, 1]`` (B).
        calibration_bins: bins of the calibration errors (B is a multiple).
    """

    matrix_tag: str
    bins: int
    calibration_bins: int


def curves_tag(name: str) -> str:
    """The tag holding the curves of matrix tag ``name``.

    Example:
        >>> curves_tag("confusion_matrix")
        'confusion_matrix_curves'
    """
    return name + CURVES_SUFFIX


def create_curves_metadata(matrix_tag: str, bins: int, calibration_bins: int = 15) -> summary_pb2.SummaryMetadata:
    """The ``SummaryMetadata`` of a curves blob sequence (see :mod:`tb_imbalance.format`)."""
    content = {
        "version": CURVES_VERSION,
        "kind": _CURVES_KIND,
        "matrix_tag": str(matrix_tag),
        "bins": int(bins),
        "calibration_bins": int(calibration_bins),
    }
    return summary_pb2.SummaryMetadata(
        summary_description="Binned per-class scores behind the PR, ROC and reliability curves (Imbalance dashboard)",
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name=PLUGIN_NAME, content=json.dumps(content, ensure_ascii=False).encode("utf-8")
        ),
        data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
    )


def parse_curves_content(content: bytes) -> CurvesInfo:
    """The matrix tag and bins named by a curves summary's plugin content.

    Raises:
        UnsupportedFormatError: not curves metadata, or a newer version.
    """
    data = _load_json_object(content, "curves plugin content")
    bins, calibration_bins = data.get("bins"), data.get("calibration_bins")
    if (
        data.get("kind") != _CURVES_KIND
        or not isinstance(data.get("matrix_tag"), str)
        or not all(isinstance(value, int) and not isinstance(value, bool) and value >= 1 for value in (bins, calibration_bins))
        or bins % calibration_bins
    ):
        raise UnsupportedFormatError(
            "plugin content is not tb_imbalance curves metadata (kind 'curves', a 'matrix_tag', "
            "'bins' a multiple of 'calibration_bins')"
        )
    return CurvesInfo(data["matrix_tag"], bins, calibration_bins)


def encode_curves(summary: np.ndarray) -> np.ndarray:
    """The blobs of one step's curves: one NPY array (``numpy.save``), float32 while that is exact.

    ``summary`` is the float64 ``[C + 1, 3, B]`` array of
    :func:`tb_imbalance.core.curve_summary`. Whole counts up to 2**24 and the
    score sums fit float32 (the sums to about 7 digits); a larger value,
    or a positive one too small for float32 (sums of tiny weights), stores
    the step as float64.
    """
    summary = np.asarray(summary, dtype=np.float64)
    wide = summary.size and (summary.max() >= _FLOAT32_EXACT or np.any((summary > 0) & (summary < _FLOAT32_TINY)))
    stored = np.ascontiguousarray(summary if wide else summary.astype("<f4"))
    return np.array([_npy_header(stored.dtype.str, stored.shape) + stored.tobytes()], dtype=object)


@functools.lru_cache(maxsize=64)
def _npy_header(dtype: str, shape: tuple[int, ...]) -> bytes:
    """The header ``numpy.save`` writes before a C-ordered array's bytes (it depends on the dtype and shape only)."""
    buffer = io.BytesIO()
    empty = np.zeros(shape, dtype=dtype)
    np.save(buffer, empty, allow_pickle=False)
    return buffer.getvalue()[: buffer.tell() - empty.nbytes]


def decode_curves(blob: bytes, info: CurvesInfo, num_classes: int) -> np.ndarray:
    """One step's summary as float64 ``[C + 1, 3, B]``, checked against the metadata.

    Raises:
        UnsupportedFormatError: not an NPY float array of that shape, or
            negative / non-finite values.
    """
    try:
        array = np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise UnsupportedFormatError(f"stored curves are not an NPY array ({str(error)[:200]})") from None
    expected = (num_classes + 1, 3, info.bins)
    if array.dtype not in (np.float32, np.float64) or array.shape != expected:
        raise UnsupportedFormatError(
            f"stored curves are {array.dtype} {array.shape}, expected float {expected}"
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all() or (array.size and array.min() < 0):
        raise UnsupportedFormatError("stored curves hold negative or non-finite values")
    return array
