"""The binned curve summary as streaming state: what PR, ROC and reliability curves are drawn from.

:class:`~tb_imbalance.keras.ConfusionMatrixMetric` keeps, next to the
matrix, the state of :func:`tb_imbalance.core.curve_summary` over the rows
it counted, whenever the predictions are scores: per class and equal-width
bin ``k = min(floor(p × B), B − 1)`` (``B`` =
:data:`tb_imbalance.core.CURVE_BINS`, in the scores' own float precision)
of the class's probability ``p``, the rows and the positives (integers, in
the metric's count dtype) and the sum of the scores (float64, float32 on JAX
without 64-bit mode); one more row does the same for the top label (the
argmax's probability: rows, correct rows, confidence sum).

A batch adds ``N × C + 3N`` ones to the counts (``4N`` with ``from_logits``) and ``N × C + N`` scores to
the sums (:class:`CurveBatch`): the bin of every score, which adds 1 to the
counts and the score to the sums (on JAX in one scatter of ``(1, score)``
pairs, :func:`~tb_imbalance.keras.state_updates.scatter_count_and_add`),
then the top label's bin and the bin of each row's true class; no
device→host copy.
Rows the matrix does not count (invalid rows, ``sample_weight`` 0) go to a
slot that is never read.

Scores become probabilities as :func:`tb_imbalance.core.curve_probabilities`
says: ``[N, C]`` rows as they are, or a softmax with ``from_logits``; one
sigmoid column ``p`` as ``[1 − p, p]`` (``p = sigmoid(x)`` with
``from_logits``). ``[N, C]`` rows with a score outside ``[0, 1]`` without
``from_logits`` are not probabilities: they are counted aside, and the
metric then has no curves (the reason names ``from_logits=True``); so do
predictions given as class ids.

With ``from_logits``, rows that read as probabilities (scores in ``[0, 1]``;
``[N, C]`` rows that also sum to 1) are counted too: when every row binned
since the last reset is one, :meth:`CurveLayout.probabilities_as_logits`
says so (a model that ends in a softmax or sigmoid the set-up checks could
not see, with a metric told ``from_logits=True``).

Layout of the counts (``cells = (C + 1) × B``): the rows per class and bin
(the top label last), a slot for the rows not counted, the positives per
class and bin (then the top label's correct rows), then three counters: rows
whose scores are not probabilities, rows given as class ids, and rows of
logits that read as probabilities. The sums have the same first
``cells + 1`` slots.

Example:
    >>> import numpy as np
    >>> from keras import ops
    >>> layout = CurveLayout(num_classes=2, from_logits=False, metric_name="m", bins=5)
    >>> counts, sums = np.zeros(layout.count_length, "int64"), np.zeros(layout.sum_length)
    >>> batch = layout.batch_ids(ops, ops.convert_to_tensor([[0.75, 0.25]]),
    ...     ops.convert_to_tensor([0]), ops.convert_to_tensor([1]), ops.convert_to_tensor([0]), 4)
    >>> for ids, values in batch.binned:
    ...     np.add.at(counts, ops.convert_to_numpy(ids), 1)
    ...     np.add.at(sums, ops.convert_to_numpy(ids), ops.convert_to_numpy(values))
    >>> for ids in batch.count_ids:
    ...     np.add.at(counts, ops.convert_to_numpy(ids), 1)
    >>> for ids, values in batch.sum_updates:
    ...     np.add.at(sums, ops.convert_to_numpy(ids), ops.convert_to_numpy(values))
    >>> summary, why = layout.summary(counts, sums)
    >>> summary[0].tolist()  # class 0: one negative in bin 3, its score 0.75
    [[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.75, 0.0]]
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np
from keras import ops

from tb_imbalance import core
from tb_imbalance.core.binned_scores import NEGATIVES, POSITIVES, SCORE_SUM
from tb_imbalance.keras.row_ops import dtype_name, is_float, rank

__all__ = ["CurveBatch", "CurveLayout"]


class CurveBatch(NamedTuple):
    """A batch's additions to the curve state, as scatter-adds.

    Each ``(ids, values)`` pair of ``binned`` adds 1 per id to the counts
    and the values to the sums (ids below the sums' length); each array of
    ``count_ids`` adds 1 per id to the counts; each ``(ids, values)`` pair of
    ``sum_updates`` adds the values to the sums, at ids from ``sums_from``
    on (the top label's bins and the unused slot). The ``N × C`` class bins
    are ``binned``, apart from the ``3N`` other ids: concatenated with them,
    XLA's CPU scatter costs about twice as much.
    """

    binned: tuple[tuple[Any, Any], ...]
    count_ids: tuple[Any, ...]
    sum_updates: tuple[tuple[Any, Any], ...]
    sums_from: int = 0


@dataclasses.dataclass(frozen=True)
class CurveLayout:
    """Where a metric counts each score: see the module docs.

    Attributes:
        num_classes: ``C``.
        from_logits: scores are logits (softmax for ``[N, C]``, sigmoid for one column).
        metric_name: the metric's name, for messages.
        bins: the number of equal-width bins.
        metric_type: the metric's class name, for messages.
    """

    num_classes: int
    from_logits: bool
    metric_name: str
    bins: int = core.CURVE_BINS
    metric_type: str = "BalancedAccuracy"

    @property
    def cells(self) -> int:
        """Bins of the classes and the top label: ``(C + 1) × B``."""
        return (self.num_classes + 1) * self.bins

    @property
    def count_length(self) -> int:
        """Length of the counts: rows, the unused slot, positives, three counters."""
        return 2 * self.cells + 4

    @property
    def sum_length(self) -> int:
        """Length of the score sums: per bin, then the unused slot."""
        return self.cells + 1

    @property
    def not_probabilities(self) -> int:
        """Index of the counter of ``[N, C]`` rows with a score outside ``[0, 1]``."""
        return 2 * self.cells + 1

    @property
    def class_id_rows(self) -> int:
        """Index of the counter of rows whose predictions were class ids."""
        return 2 * self.cells + 2

    @property
    def probability_rows(self) -> int:
        """Index of the counter of rows given with ``from_logits`` that read as probabilities."""
        return 2 * self.cells + 3

    # -- per batch (traced; no host copies) --------------------------------
    def probabilities(self, xp: Any, y_pred: Any) -> tuple[Any, Any, Any]:
        """``[N, C]`` probabilities of float predictions, a mask of rows that
        are not probabilities (``None`` when it cannot happen) and, with
        ``from_logits``, a mask of rows that read as probabilities (else ``None``).

        Rows read as probabilities as :func:`tb_imbalance.core.rows_are_probabilities`
        reads them: scores in ``[0, 1]`` that sum to 1 within 1e-3 (2**-7 for 16-bit scores).
        """
        scores = y_pred
        tolerance = 1e-3
        if dtype_name(scores.dtype) not in ("float32", "float64"):
            scores = xp.cast(scores, "float32")  # float16 is too coarse for the bin edges
            tolerance = 2.0**-7
        if rank(scores) == 2 and scores.shape[-1] == 1:
            scores = xp.squeeze(scores, axis=-1)
        in_unit_range = None
        if self.from_logits:
            low, high = (scores, scores) if rank(scores) == 1 else (xp.min(scores, axis=-1), xp.max(scores, axis=-1))
            in_unit_range = (low >= 0) & (high <= 1)
        if rank(scores) == 1:  # one sigmoid column (cell_index checked C == 2)
            positive = 1.0 / (1.0 + xp.exp(-scores)) if self.from_logits else scores
            return xp.stack([1.0 - positive, positive], axis=1), None, in_unit_range
        if self.from_logits:
            sums_to_one = xp.abs(xp.sum(scores, axis=-1) - 1.0) <= tolerance
            shifted = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
            return shifted / xp.sum(shifted, axis=-1, keepdims=True), None, in_unit_range & sums_to_one
        if xp is ops:  # traced: XLA fuses this into one pass over the scores
            return scores, xp.any((scores < 0) | (scores > 1), axis=-1), None
        return scores, (xp.min(scores, axis=-1) < 0) | (xp.max(scores, axis=-1) > 1), None  # eager: two reductions

    def batch_ids(
        self, xp: Any, y_pred: Any, index: Any, true_ids: Any, pred_ids: Any, matrix_cells: int
    ) -> CurveBatch:
        """The batch's additions, a :class:`CurveBatch` (no sums for class-id predictions).

        ``index`` is each row's slot in the matrix counts, ``matrix_cells``
        = ``C × C``: rows below it are counted, a one-column score outside
        ``[0, 1]`` is at ``matrix_cells + 1``.
        """
        num, bins, unused = self.num_classes, self.bins, self.cells
        y_pred = xp.convert_to_tensor(y_pred)
        kept = index < matrix_cells
        if not is_float(y_pred):
            return CurveBatch(binned=(), count_ids=(xp.where(kept, self.class_id_rows, unused),), sum_updates=())
        probabilities, outside, read_as_probabilities = self.probabilities(xp, y_pred)
        if outside is None:
            flagged = index == matrix_cells + 1  # one column outside [0, 1]: the matrix's logit rows
        else:
            flagged = kept & outside
            kept = kept & ~outside
        scale = float(bins)  # a Python float keeps the scores' dtype
        binned = xp.minimum(xp.cast(probabilities * scale, "int32"), bins - 1)
        cells = binned + xp.arange(0, num * bins, bins, dtype="int32")
        class_ids = xp.reshape(xp.where(kept[:, None], cells, unused), (-1,))
        true_ids = xp.clip(xp.cast(true_ids, "int32"), 0, num - 1)  # padding labels (-1) are not kept
        pred_ids = xp.clip(xp.cast(pred_ids, "int32"), 0, num - 1)
        own_bin = xp.take_along_axis(binned, true_ids[:, None], axis=1)[:, 0]
        confidence = xp.max(probabilities, axis=1)  # the predicted class's: an argmax (ties hold equal values)
        top_bin = xp.minimum(xp.cast(confidence * scale, "int32"), bins - 1)
        top_ids = xp.where(kept, num * bins + top_bin, unused)
        positives = unused + 1
        not_kept = xp.where(flagged, self.not_probabilities, unused)
        own_ids = xp.where(kept, positives + true_ids * bins + own_bin, not_kept)
        correct_ids = xp.where(kept & (true_ids == pred_ids), positives + num * bins + top_bin, unused)
        counted = [top_ids, own_ids, correct_ids]
        if read_as_probabilities is not None:
            counted.append(xp.where(kept & read_as_probabilities, self.probability_rows, unused))
        return CurveBatch(
            binned=((class_ids, xp.reshape(probabilities, (-1,))),),
            count_ids=(xp.concatenate(counted),),
            sum_updates=((top_ids, confidence),),
            sums_from=num * bins,
        )

    def macro_average_precision(self, xp: Any, counts: Any, float_dtype: str) -> Any:
        """Mean over the classes with positives of each class's average precision
        (:func:`tb_imbalance.core.curve_metrics`), from the counts; 0 before any positive.

        Per class, ``AP = Σ_k pos_k × TP_k / rows_k / P``: ``TP_k`` and
        ``rows_k`` count the positives and rows in bins ``k`` and above, ``P``
        all positives (scikit-learn's ``Σ (R_k − R_{k+1}) P_k``).
        """
        num, bins = self.num_classes, self.bins
        rows = xp.reshape(xp.cast(counts[: num * bins], float_dtype), (num, bins))
        positives = xp.reshape(xp.cast(counts[self.cells + 1 : self.cells + 1 + num * bins], float_dtype), (num, bins))
        total = xp.sum(positives, axis=1)
        from_top = total[:, None] - xp.cumsum(positives, axis=1) + positives
        rows_from_top = xp.sum(rows, axis=1)[:, None] - xp.cumsum(rows, axis=1) + rows
        precision_sum = xp.sum(positives * from_top / xp.maximum(rows_from_top, 1.0), axis=1)
        present = total > 0
        average_precision = xp.where(present, precision_sum / xp.maximum(total, 1.0), 0.0)
        return xp.sum(average_precision) / xp.maximum(xp.sum(xp.cast(present, float_dtype)), 1.0)

    # -- on the host -------------------------------------------------------
    def unavailable(self, counters: np.ndarray) -> str:
        """Why there are no curves, from the counters ``counts[not_probabilities : class_id_rows + 1]``; ``""`` if none.

        Example:
            >>> CurveLayout(2, False, "m").unavailable(np.array([0, 0]))
            ''
        """
        not_probabilities, class_ids = (int(count) for count in counters)
        if class_ids:
            return (
                f"{self.metric_name}: the predictions are class ids, not scores ({class_ids} rows), so there "
                "are no curves; pass the model's scores [N, C] (or its sigmoid column) to the metric"
            )
        if not_probabilities:
            return (
                f"{self.metric_name}: {not_probabilities} rows hold scores outside [0, 1], so they are not "
                "probabilities and there are no curves: if the model outputs logits pass from_logits=True "
                f"to the metric ({self.metric_type}({self.num_classes}, from_logits=True)), or end the "
                "model with a softmax"
            )
        return ""

    def probabilities_as_logits(self, counts: np.ndarray) -> str:
        """What to say when, with ``from_logits``, every row binned in the curve ``counts`` (read to the
        host) read as probabilities (the counter at :attr:`probability_rows`); ``""`` otherwise.

        Said, not refused: logits of a few rows may all lie in ``[0, 1]``.

        Example:
            >>> layout = CurveLayout(3, True, "m", bins=5)
            >>> counts = np.zeros(layout.count_length, "int64")
            >>> counts[layout.num_classes * layout.bins] = 40  # the top label's first bin: 40 rows
            >>> counts[layout.probability_rows] = 39
            >>> layout.probabilities_as_logits(counts)
            ''
            >>> counts[layout.probability_rows] = 40
            >>> layout.probabilities_as_logits(counts)[:46]
            'm: from_logits=True, but all 40 rows it binned'
        """
        rows = int(np.sum(counts[self.num_classes * self.bins : self.cells]))
        if not self.from_logits or not rows or int(counts[self.probability_rows]) != rows:
            return ""
        scores = "scores in [0, 1] that sum to 1"
        if self.num_classes == 2:
            scores = "scores in [0, 1] (one sigmoid column, or rows that sum to 1)"
        return (
            f"{self.metric_name}: from_logits=True, but all {rows} rows it binned since its last reset hold "
            f"{scores}, as probabilities do: read as logits, its curves, average precision and calibration are "
            "those of a softmax of probabilities"
            + (" (of one column, every row above 0 is also counted as predicted positive)" if self.num_classes == 2 else "")
            + ". If the model ends in a softmax or sigmoid, pass from_logits=False to the metric "
            f"({self.metric_type}({self.num_classes})) and to the loss"
        )

    def summary(self, counts: np.ndarray, sums: np.ndarray) -> tuple[np.ndarray | None, str]:
        """The float64 ``[C + 1, 3, B]`` summary of the state read to the host, or None and why.

        Example:
            >>> layout = CurveLayout(2, False, "m", bins=15)
            >>> counts = np.zeros(layout.count_length, "int64"); counts[layout.class_id_rows] = 4
            >>> layout.summary(counts, np.zeros(layout.sum_length))[1][:38]
            'm: the predictions are class ids, not '
        """
        counts = np.asarray(counts).astype(np.int64)
        why = self.unavailable(counts[self.not_probabilities : self.class_id_rows + 1])
        if why:
            return None, why
        shape = (self.num_classes + 1, self.bins)
        rows = counts[: self.cells].reshape(shape)
        positives = counts[self.cells + 1 : 2 * self.cells + 1].reshape(shape)
        summary = np.empty((self.num_classes + 1, 3, self.bins))
        summary[:, POSITIVES] = positives
        summary[:, NEGATIVES] = rows - positives
        summary[:, SCORE_SUM] = np.asarray(sums, dtype=np.float64)[: self.cells].reshape(shape)
        return summary, ""
