"""The summary values of one step's curves: the binned scores, their scalars and TensorBoard PR curves.

Written with the matrix when the step carries curves
(:attr:`tb_imbalance.step.ReportStep.curves`, from scores):

==================================  ===============================================
``name + "_curves"``                the binned scores (Imbalance dashboard; format
                                    version 5, see :mod:`tb_imbalance.format`)
``<p>imbalance/<metric>``           :data:`tb_imbalance.core.CURVE_METRIC_NAMES`,
                                    each when defined
``<p>average_precision/<class>``    per class, with the per-class scalars, when
                                    defined (the class has validation rows)
``<p>pr_curve/<class>``             TensorBoard's PR Curves tab, one curve per
                                    class (default up to
                                    :data:`PR_CURVES_MAX_CLASSES` classes)
==================================  ===============================================

The PR Curves tab's thresholds are ``i / B`` for ``i = 0…B`` (B = 75 bins,
``num_thresholds = B + 1``, as ``tensorboard.plugins.pr_curve.summary.pb``
counts them): at threshold ``i`` a row is predicted positive when its score's
bin is ``i`` or above. A score of exactly 1.0 is in the last bin, so the last
threshold (1.0) predicts nothing.

Example:
    >>> import numpy as np
    >>> from tb_imbalance.step import ReportStep
    >>> scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    >>> curves = core.curve_summary(scores, np.array([0, 1, 1]), scores.argmax(axis=1))
    >>> report = ReportStep.of(0, "confusion_matrix", [[1, 0], [1, 1]], ["ok", "fraud"], curves=curves)
    >>> [value.tag for value in curve_values(report, per_class_scalars=True, pr_curves=True)][:3]
    ['confusion_matrix_curves', 'imbalance/macro_average_precision', 'imbalance/macro_roc_auc']
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
from tensorboard.plugins.pr_curve import metadata as pr_curve_metadata

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.core.curves import _curve_metrics, _threshold_table
from tb_imbalance.scalar_value import HEADLINE_PREFIX, blob_tensor, scalar_value
from tb_imbalance.step import ReportStep

__all__ = ["PR_CURVES_MAX_CLASSES", "AVERAGE_PRECISION_SECTION", "PR_CURVE_SECTION", "curve_values", "want_pr_curves"]

#: Up to this many classes the PR Curves tab gets one curve per class by default.
PR_CURVES_MAX_CLASSES = 20
#: Section of the per-class average-precision scalars.
AVERAGE_PRECISION_SECTION = "average_precision"
#: Section of the PR Curves tab's curves.
PR_CURVE_SECTION = "pr_curve"


def want_pr_curves(num_classes: int, requested: bool | None) -> bool:
    """Whether to write TensorBoard PR curves: as asked, else up to :data:`PR_CURVES_MAX_CLASSES` classes.

    Example:
        >>> want_pr_curves(10, None), want_pr_curves(50, None), want_pr_curves(50, True)
        (True, False, True)
    """
    if requested is not None:
        return core.validate_flag(requested, "pr_curves")
    return num_classes <= PR_CURVES_MAX_CLASSES


def _pr_curve_data(summary: np.ndarray) -> np.ndarray:
    """:func:`tb_imbalance.core.threshold_table` as float32 (float64 where sums of weights pass float32's range)."""
    data = _threshold_table(summary)
    return data.astype(np.float32) if data.max(initial=0.0) < np.finfo(np.float32).max else data


@functools.lru_cache(maxsize=4096)
def _pr_curve_template(tag: str, class_name: str, dtype: int, shape: tuple[int, int]) -> summary_pb2.Summary.Value:
    """The value of one class's curve but for its content: the proto make_tensor_proto(curve) builds, byte for byte."""
    metadata = pr_curve_metadata.create_summary_metadata(
        display_name=tag, description=f"One-vs-rest PR curve of class {class_name!r} (tb_imbalance)",
        num_thresholds=shape[1],
    )
    metadata.data_class = summary_pb2.DATA_CLASS_TENSOR
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in shape]
    tensor = tensor_pb2.TensorProto(dtype=dtype, tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=dims))
    return summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)


def _pr_curve_values(tags: list[str], summary: np.ndarray, names: Sequence[str]) -> list[summary_pb2.Summary.Value]:
    """One value per class for TensorBoard's PR Curves tab."""
    data = _pr_curve_data(summary)
    dtype = types_pb2.DT_FLOAT if data.dtype == np.float32 else types_pb2.DT_DOUBLE
    values = []
    for tag, name, curve in zip(tags, names, data):
        value = summary_pb2.Summary.Value()
        value.CopyFrom(_pr_curve_template(tag, name, dtype, curve.shape))  # copying a kept proto: a third of building it
        value.tensor.tensor_content = curve.tobytes()
        values.append(value)
    return values


def curve_values(
    report: ReportStep, *, prefix: str = "", per_class_scalars: bool, pr_curves: bool
) -> list[summary_pb2.Summary.Value]:
    """The values of ``report``'s curves (see the module docs); none when it has no curves.

    Args:
        report: a checked step.
        prefix: the report's scalar prefix (:func:`tb_imbalance.events.scalar_prefix`).
        per_class_scalars: write ``<p>average_precision/<class>``.
        pr_curves: write ``<p>pr_curve/<class>`` for TensorBoard's PR Curves tab.
    """
    summary = report.curves
    if summary is None:
        return []
    bins = summary.shape[2]
    values = [
        summary_pb2.Summary.Value(
            tag=fmt.curves_tag(report.name),
            metadata=fmt.create_curves_metadata(report.name, bins, core.CALIBRATION_BINS),
            tensor=blob_tensor(fmt.encode_curves(summary).tolist()),
        )
    ]
    computed = _curve_metrics(summary)  # the step's curves, checked by ReportStep: not checked again
    values += [
        scalar_value(f"{prefix}{HEADLINE_PREFIX}/{metric}", value)
        for metric, value in computed["metrics"].items()
        if value is not None
    ]
    names = report.classes.names
    if per_class_scalars:
        values += [
            scalar_value(f"{prefix}{AVERAGE_PRECISION_SECTION}/{name}", value)
            for name, value in zip(names, computed["per_class"]["average_precision"])
            if value is not None
        ]
    if pr_curves:
        tags = [f"{prefix}{PR_CURVE_SECTION}/{name}" for name in names]
        values += _pr_curve_values(tags, summary, names)
    return values
