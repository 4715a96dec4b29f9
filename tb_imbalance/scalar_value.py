"""One float32 scalar summary value (Scalars tab), and tensors of arrays and blobs, built fast and without TensorFlow.

Example:
    >>> scalar_value("imbalance/mcc", 0.5).tag
    'imbalance/mcc'
    >>> blob_tensor([b"320", b"213"]).string_val[1]
    b'213'
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.scalar import metadata as scalar_metadata

__all__ = ["HEADLINE_PREFIX", "array_tensor", "blob_tensor", "scalar_value"]

#: Section of the headline scalars (``<p>imbalance/<metric>``).
HEADLINE_PREFIX = "imbalance"


def _scalar_metadata() -> summary_pb2.SummaryMetadata:
    metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)
    metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    return metadata


_SCALAR_METADATA = _scalar_metadata()
_SCALAR_SHAPE = tensor_shape_pb2.TensorShapeProto()


@functools.lru_cache(maxsize=16384)  # a report's tags recur every step: 4 per class, up to 4000 classes
def _template(tag: str) -> summary_pb2.Summary.Value:
    # The proto make_tensor_proto(np.float32(value)) builds, byte for byte, in a seventh of its time.
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_SCALAR_METADATA,
        tensor=tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=_SCALAR_SHAPE, float_val=[0.0]),
    )


def scalar_value(tag: str, value: float) -> summary_pb2.Summary.Value:
    """The scalar summary value ``tag`` holding ``value`` as float32."""
    result = summary_pb2.Summary.Value()
    result.CopyFrom(_template(tag))  # copying a kept proto: less than half the time of building it
    result.tensor.float_val[0] = value
    return result


def blob_tensor(blobs: Sequence[bytes]) -> tensor_pb2.TensorProto:
    """The ``[len(blobs)]`` string tensor of ``blobs``: the proto ``make_tensor_proto`` builds of them, byte for byte."""
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=len(blobs))])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_shape=shape, string_val=blobs)


def array_tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    """The tensor of an int64 or float64 ``array`` of two values or more: make_tensor_proto's proto, byte for byte."""
    dtype = types_pb2.DT_INT64 if array.dtype == np.int64 else types_pb2.DT_DOUBLE
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in array.shape])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape, tensor_content=array.tobytes())
