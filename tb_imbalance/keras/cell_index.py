"""Each row of a batch to the index it adds 1 to in a streaming metric's counts.

The maths of :meth:`tb_imbalance.keras.ConfusionMatrixMetric.update_state`,
written with the backend's array namespace (``keras.ops``, or ``torch`` on
PyTorch): labels and predictions to class ids (the argmax of score rows, the
cut of one score column), then to the cell ``true * C + pred`` or a counter
of rows that cannot be counted. Traced once per batch shape under XLA and
JAX's ``jit``; nothing here copies data to the host.

Example:
    >>> from keras import ops
    >>> layout = CellLayout(num_classes=2, from_logits=False, count_dtype="int64", marginals=False, metric_name="m")
    >>> index = layout.cell_index(ops, ops.convert_to_tensor([0, 1, 1]), ops.convert_to_tensor([0.2, 0.9, 1.5]), None)[0]
    >>> [int(i) for i in ops.convert_to_numpy(index)]
    [0, 3, 5]
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tb_imbalance.keras.row_ops import (
    Picked,
    argmax_under_xla,
    countable_rows,
    dtype_name,
    is_float,
    rank,
    refuse_rounded_label_type,
    row_argmax,
)

__all__ = ["CellLayout", "COUNTERS", "REAL_WEIGHTS"]

#: The counters after the cells (first in the codes layout): rows not countable, single-column scores outside
#: [0, 1], rows with sample_weight 0, and rows counted once whose weight was neither 0 nor 1 (at :data:`REAL_WEIGHTS`)
COUNTERS = 4
REAL_WEIGHTS = 3


@dataclasses.dataclass(frozen=True)
class CellLayout:
    """Where a metric counts each row: ``C * C`` cells, then :data:`COUNTERS` counters.

    Attributes:
        num_classes: ``C``.
        from_logits: one score column holds logits (cut at 0), not probabilities.
        count_dtype: the counts' integer dtype.
        marginals: the metric also keeps the marginals, which need the ids of
            uncountable rows inside ``[0, C)``.
        metric_name: the metric's name, for error messages.
    """

    num_classes: int
    from_logits: bool
    count_dtype: str
    marginals: bool
    metric_name: str

    def class_ids(self, xp: Any, values: Any, argument: str, under_xla: bool = False) -> tuple[Any, Any, Any]:
        """Class ids ``[N]`` (count dtype), a boolean mask of the countable rows,
        and a mask of probability scores outside ``[0, 1]`` (``None`` when it
        cannot happen).

        ``[N, C]`` rows (one-hot labels or scores) give their argmax; ``[N]`` /
        ``[N, 1]`` hold class ids, or for ``y_pred`` with two classes one score
        (a probability, or a logit with ``from_logits``). Shape errors are
        raised while tracing. The ids of rows that are not countable are in
        ``[0, C)`` only where the marginals need it (the
        marginals layout): the cell index replaces them otherwise.
        ``under_xla``: the code is compiled by XLA (JAX, TensorFlow's fused
        update), which prefers another argmax (see :func:`argmax_under_xla`).
        """
        if isinstance(values, Picked):
            return xp.cast(values.ids, self.count_dtype), values.finite, None
        values = xp.convert_to_tensor(values)
        if rank(values) == 2 and values.shape[-1] == 1:
            values = xp.squeeze(values, axis=-1)
        if rank(values) == 2:
            if values.shape[-1] is not None and values.shape[-1] != self.num_classes:
                fix = "set num_classes to the model's output width"
                if argument == "y_true" and not is_float(values):  # ids, not one-hot rows: [N, T] of a sequence?
                    fix = (f"integer labels with a second axis are one-hot rows of another width than {self.num_classes}, "
                           "or one class per time step: the metric counts one class per row, so flatten that "
                           f"axis into rows (labels [N·T], scores [N·T, {self.num_classes}])")
                raise ValueError(
                    f"{self.metric_name}: `{argument}` rows must have shape [N, {self.num_classes}] "
                    f"(num_classes={self.num_classes}), received shape {tuple(values.shape)}; {fix}"
                )
            if argument == "y_pred" and under_xla and is_float(values):
                ids, finite = argmax_under_xla(xp, values, logits=self.from_logits)
                return xp.cast(ids, self.count_dtype), finite, None
            as_float = values
            if dtype_name(values.dtype) not in ("float32", "float64"):
                as_float = xp.cast(values, "float32")  # a sum of float16 scores could overflow
            valid = countable_rows(xp, as_float, logits=self.from_logits and argument == "y_pred")
            if argument == "y_true" or not is_float(values):
                # a one-hot row with no positive entry names no class (argmax would say 0), nor does a
                # multi-hot row, whose largest value is in several columns (argmax would say the first);
                # integer predictions (one-hot, thresholded) are refused on a tie as core refuses them
                top = xp.max(as_float, axis=-1, keepdims=True)
                once = xp.sum(xp.cast(as_float == top, "int32"), axis=-1) == 1
                valid = valid & once
            if argument == "y_true":
                valid = valid & (xp.squeeze(top, axis=-1) > 0)
                if not is_float(values):  # integer one-hot rows hold 0 and 1 (core's rule): not class ids [D, n]
                    valid = valid & (xp.squeeze(top, axis=-1) <= 1) & (xp.min(as_float, axis=-1) >= 0)
            return xp.cast(row_argmax(xp, values), self.count_dtype), valid, None
        if rank(values) != 1:
            raise ValueError(
                f"{self.metric_name}: `{argument}` must be class ids [N] or rows "
                f"[N, {self.num_classes}], received shape {tuple(values.shape)}"
            )
        if is_float(values) and argument == "y_pred":
            if self.num_classes != 2:
                raise ValueError(
                    f"{self.metric_name}: a single float `y_pred` column is read as a sigmoid "
                    f"probability, which needs num_classes=2, received "
                    f"num_classes={self.num_classes}; pass scores [N, {self.num_classes}] "
                    "or integer class ids"
                )
            finite = xp.logical_not(xp.isnan(values)) if self.from_logits else xp.isfinite(values)  # sigmoid(±inf): 0, 1
            if self.from_logits:
                return xp.cast(values > 0, self.count_dtype), finite, None  # = sigmoid > 0.5
            outside = (values < 0) | (values > 1)
            return xp.cast(values > 0.5, self.count_dtype), finite, outside  # a tie is negative, as in Keras
        if argument == "y_true":  # float16 / bfloat16 ids of more classes than the type holds: refused by type
            refuse_rounded_label_type(values, self.num_classes, self.metric_name)
        # Range (and, for float labels, wholeness) is checked on the values
        # themselves, so huge or NaN floats cannot wrap around into a valid id.
        valid = (values >= 0) & (values < self.num_classes)
        if is_float(values):
            valid = valid & (values == xp.round(values))
        if self.marginals:
            values = xp.where(valid, values, 0)
        if dtype_name(values.dtype) != self.count_dtype:
            values = xp.cast(values, self.count_dtype)
        return values, valid, None

    def cell_index(
        self, xp: Any, y_true: Any, y_pred: Any, sample_weight: Any, under_xla: bool = False
    ) -> tuple[Any, Any, Any]:
        """Per row the index it adds 1 to in ``counts``: its cell, or a counter.

        Returns ``(index, true_ids, pred_ids)``. Countable rows go to
        ``true * C + pred``; rows that cannot be counted to ``C * C``;
        single-column probabilities outside ``[0, 1]`` to ``C * C + 1``; rows
        with ``sample_weight`` 0 to ``C * C + 2``, whatever they hold (a
        negative or NaN weight cannot be counted: ``C * C``).
        """
        num, size = self.num_classes, self.num_classes * self.num_classes
        true_ids, true_ok = self.class_ids(xp, y_true, "y_true")[:2]
        pred_ids, pred_ok, outside = self.class_ids(xp, y_pred, "y_pred", under_xla)
        countable = true_ok & pred_ok
        index = xp.where(countable, true_ids * num + pred_ids, size)
        if outside is not None:  # a probability outside [0, 1]: a logit?
            index = xp.where(countable & outside, size + 1, index)
        if sample_weight is not None:
            weight = xp.reshape(xp.convert_to_tensor(sample_weight), (-1,))
            index = xp.where(weight != 0, index, size + 2)
            index = xp.where((weight < 0) | (weight != weight), size, index)  # negative or NaN
        return index, true_ids, pred_ids

    def real_weight_rows(self, xp: Any, index: Any, sample_weight: Any) -> Any:
        """How many rows of the batch went into a cell with a sample weight other than 0 and 1 (each counts
        once there: the weight is a mask); None without weights, which costs nothing.

        Example:
            >>> from keras import ops
            >>> layout = CellLayout(2, False, "int64", False, "m")
            >>> index = ops.convert_to_tensor([0, 3, 3, 6])  # the last row: weight 0, in its counter
            >>> int(layout.real_weight_rows(ops, index, ops.convert_to_tensor([0.5, 1.0, 3.0, 0.0])))
            2
        """
        if sample_weight is None:
            return None
        weight = xp.reshape(xp.convert_to_tensor(sample_weight), (-1,))
        in_cell = index < self.num_classes * self.num_classes  # weight 0, negative or NaN: a counter's row
        return xp.sum(xp.cast(in_cell & (weight != 1), self.count_dtype))
