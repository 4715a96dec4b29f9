"""What one logged report consists of, and a lean event-file sink for it.

:func:`report_values` turns a confusion matrix into the summary values of one
step — the matrix tensor (plugin ``imbalance``), per-class and headline
scalars, the picture — as plain protos, without TensorFlow. Two sinks write
them:

* :mod:`tb_imbalance.summary` sends each value through ``tf.summary.write``
  (the default writer of a custom training loop);
* :class:`ReportEventWriter` appends them as one event to an event file of its
  own directory, for the Keras callback: one record per step instead of a
  TensorFlow summary op per scalar, written synchronously, so logging a whole
  report costs about a millisecond plus the picture.

Tags (``<class>`` is the class name, unchanged):

=============================  =====================================
``name``                       confusion matrix (Imbalance dashboard)
``name + "_image"``            picture (Images tab)
``precision/<class>``          per-class scalars (Scalars tab: one
``recall/<class>``             section per metric)
``f1/<class>``
``imbalance/<metric>``         headline scalars, see
                               :data:`tb_imbalance.core.METRIC_NAMES`
=============================  =====================================

Example:
    >>> import numpy as np
    >>> values = report_values("confusion_matrix", np.array([[3, 1], [0, 2]]), ["a", "b"], image=None)
    >>> [v.tag for v in values][:3]
    ['confusion_matrix', 'imbalance/accuracy', 'imbalance/balanced_accuracy']
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from typing import Any, Sequence

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.image import metadata as image_metadata
from tensorboard.plugins.scalar import metadata as scalar_metadata
from tensorboard.util import tensor_util

from tb_imbalance import core, format as fmt
from tb_imbalance.image import ConfusionMatrixImage, encode_png

__all__ = ["PER_CLASS_METRICS", "HEADLINE_PREFIX", "matrix_value", "report_values", "ReportEventWriter"]

#: Per-class scalar sections: tag prefix -> key of :func:`tb_imbalance.core.per_class_metrics`.
PER_CLASS_METRICS = {"precision": "precision", "recall": "recall", "f1": "f1"}
#: Section of the headline scalars.
HEADLINE_PREFIX = "imbalance"
IMAGE_SUFFIX = "_image"


def _scalar_metadata() -> summary_pb2.SummaryMetadata:
    metadata = scalar_metadata.create_summary_metadata(display_name=None, description=None)
    metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    return metadata


_SCALAR_METADATA = _scalar_metadata()
_IMAGE_METADATA = image_metadata.create_summary_metadata(
    display_name=None, description="Confusion matrix (colour: share of the true class)"
)
_IMAGE_METADATA.data_class = summary_pb2.DATA_CLASS_BLOB_SEQUENCE


def _scalar(tag: str, value: float) -> summary_pb2.Summary.Value:
    return summary_pb2.Summary.Value(
        tag=tag,
        metadata=_SCALAR_METADATA,
        tensor=tensor_util.make_tensor_proto(np.float32(value)),
    )


def matrix_value(
    name: str, cm: np.ndarray, class_names: Sequence[str], *, description: str | None = None
) -> summary_pb2.Summary.Value:
    """The confusion-matrix summary value (plugin ``imbalance``) of one step.

    ``cm`` and ``class_names`` must already be valid (see :mod:`tb_imbalance.core`).
    """
    weighted = not np.issubdtype(np.asarray(cm).dtype, np.integer)
    return summary_pb2.Summary.Value(
        tag=name,
        metadata=fmt.create_summary_metadata(class_names, weighted=weighted, description=description),
        tensor=tensor_util.make_tensor_proto(fmt.encode_matrix(cm)),
    )


def report_values(
    name: str,
    cm: np.ndarray,
    class_names: Sequence[str],
    *,
    per_class_scalars: bool = True,
    image: ConfusionMatrixImage | None = None,
    description: str | None = None,
) -> list[summary_pb2.Summary.Value]:
    """All summary values of one logged report, matrix first.

    Args:
        name: tag of the matrix; the picture is ``name + "_image"``.
        cm: ``[C, C]`` confusion matrix (validated here).
        class_names: C names (validated here).
        per_class_scalars: include ``precision/``, ``recall/``, ``f1/`` tags.
        image: a renderer for the picture, or None for no picture.
        description: Markdown description of the matrix tag.

    Raises:
        ValueError / TypeError: invalid matrix or names (nothing is built).
    """
    cm = core.validate_matrix(cm, "cm")
    names = core.validate_class_names(class_names, cm.shape[0])
    stats = core.per_class_metrics(cm)
    values = [matrix_value(name, cm, names, description=description)]
    values += [
        _scalar(f"{HEADLINE_PREFIX}/{metric}", value)
        for metric, value in core.imbalance_metrics(cm).items()
    ]
    if per_class_scalars:
        for prefix, key in PER_CLASS_METRICS.items():
            values += [_scalar(f"{prefix}/{class_name}", v) for class_name, v in zip(names, stats[key])]
    if image is not None:
        pixels = image.render(cm)
        height, width = pixels.shape[:2]
        blobs = np.array([str(width).encode(), str(height).encode(), encode_png(pixels)], dtype=object)
        values.append(
            summary_pb2.Summary.Value(
                tag=name + IMAGE_SUFFIX,
                metadata=_IMAGE_METADATA,
                tensor=tensor_util.make_tensor_proto(blobs),
            )
        )
    return values


_FILE_COUNTER = itertools.count()


class ReportEventWriter:
    """Appends reports to an event file in ``run_dir`` (created on first write).

    Records are written synchronously with TensorFlow's TFRecord writer (event
    files are TFRecord files of ``Event`` protos); :meth:`flush` puts them on
    disk at once. The directory must belong to this writer alone:
    TensorBoard's Python loader follows only the newest event file of a
    directory, so two writers sharing one lose data there.

    Example:
        >>> writer = ReportEventWriter("/tmp/runs/demo/validation_imbalance")
        >>> writer.write(0, report_values("cm", np.eye(2, dtype=int), ["a", "b"]))
        >>> writer.flush(); writer.close()
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = os.fspath(run_dir)
        self._records: Any = None

    def _open(self) -> None:
        import tensorflow as tf  # the callback's process has it loaded already

        os.makedirs(self.run_dir, exist_ok=True)
        name = "events.out.tfevents.%010d.%s.%d.%d.v2" % (
            time.time(), socket.gethostname(), os.getpid(), next(_FILE_COUNTER)
        )
        self._records = tf.io.TFRecordWriter(os.path.join(self.run_dir, name))
        self._records.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())

    def write(self, step: int, values: list[summary_pb2.Summary.Value]) -> None:
        """Append one event holding ``values`` at ``step``."""
        if self._records is None:
            self._open()
        event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values))
        self._records.write(event.SerializeToString())

    def flush(self) -> None:
        """Put everything written on disk."""
        if self._records is not None:
            self._records.flush()

    def close(self) -> None:
        """Flush and close the file; a later :meth:`write` opens a new one."""
        if self._records is not None:
            self._records.close()
            self._records = None
