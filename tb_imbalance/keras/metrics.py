"""Streaming metrics of the confusion matrix for ``compile(metrics=...)``, on any Keras backend.

:class:`BalancedAccuracy` and :class:`MacroF1` keep the integer confusion
matrix of the data seen (:class:`ConfusionMatrixMetric`, in
:mod:`tb_imbalance.keras.confusion_metric`, with its inputs, invalid rows and
count limits) and reduce it to the report's value, the same as
:mod:`tb_imbalance.core` computes from the matrix.
:class:`MacroAveragePrecision` reduces the binned scores kept beside it
(:mod:`tb_imbalance.keras.curve_state`) as
:func:`tb_imbalance.core.curve_metrics` does.

Example:
    >>> metric = MacroF1(3)
    >>> metric.update_state([0, 1, 2, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1],
    ...                                    [0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    >>> metric.confusion_matrix().tolist()
    [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    >>> round(float(metric.result()), 4)
    0.7778
"""

from __future__ import annotations

import warnings
from typing import Any

import keras

from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.keras.confusion_metric import (  # the base and its limits, importable from here too
    DENSE_RESULT_MAX_CLASSES,
    ConfusionMatrixMetric,
    count_dtype,
    dense_result_max_classes,
)
from tb_imbalance.keras.metric_reads import host_array
from tb_imbalance.keras.state_updates import in_stateless_scope, read_slice

__all__ = [
    "ConfusionMatrixMetric",
    "BalancedAccuracy",
    "MacroF1",
    "MacroAveragePrecision",
    "count_dtype",
    "dense_result_max_classes",
]


@keras.saving.register_keras_serializable(package="tb_imbalance")
class BalancedAccuracy(ConfusionMatrixMetric):
    """Balanced accuracy: mean recall over the classes present in the labels.

    Same value as ``sklearn.metrics.balanced_accuracy_score`` on the data seen,
    and as ``tb_imbalance.core.imbalance_metrics(cm)["balanced_accuracy"]`` on
    :meth:`confusion_matrix`. Higher is better: ``monitor="val_balanced_accuracy"``
    works with ``mode="auto"``. See :class:`ConfusionMatrixMetric` for inputs,
    invalid rows and the count limit on JAX.

    Args:
        num_classes: ``C`` ≥ 2.
        name: key in ``logs`` (``val_`` + name for validation).
        dtype: dtype of ``result()``.
        from_logits: the scores are logits: a binary model's single column
            is cut at 0 (not 0.5), the curves read their sigmoid or softmax.
        curves: also keep the binned scores behind the curves
            (:meth:`~ConfusionMatrixMetric.curve_summary`); None (default):
            up to 1000 classes.
        max_rows: above 1000 classes, the rows of one pass whose cell codes
            the metric keeps (default 4,194,304: 16 MB; see
            :mod:`tb_imbalance.keras.cell_codes`).

    Example:
        >>> metric = BalancedAccuracy(3)
        >>> metric.update_state([0, 0, 1, 2], [0, 1, 1, 1])
        >>> round(float(metric.result()), 4)
        0.5
    """

    _direction = "up"

    def __init__(
        self,
        num_classes: int,
        name: str = "balanced_accuracy",
        dtype: Any = None,
        *,
        from_logits: bool = False,
        curves: bool | None = None,
        max_rows: int | None = None,
    ) -> None:
        super().__init__(
            num_classes, name=name, dtype=dtype, from_logits=from_logits, curves=curves, max_rows=max_rows
        )

    _uses_predicted = False

    def _value(self, xp: Any, support: Any, predicted: Any, correct: Any) -> Any:
        # correct <= support: an absent class adds 0 / 1 = 0; no class seen gives 0
        recall_sum = xp.sum(correct / xp.maximum(support, 1.0))
        present = xp.sum(xp.cast(support > 0, self._float_dtype))
        return recall_sum / xp.maximum(present, 1.0)


@keras.saving.register_keras_serializable(package="tb_imbalance")
class MacroF1(ConfusionMatrixMetric):
    """Macro-averaged F1 over all C classes (absent classes count as 0).

    Same value as ``sklearn.metrics.f1_score(average="macro",
    labels=range(C), zero_division=0)`` on the data seen, and as
    ``tb_imbalance.core.imbalance_metrics(cm)["macro_f1"]``. Higher is
    better: ``monitor="val_macro_f1"`` works with ``mode="auto"``. See
    :class:`ConfusionMatrixMetric` for inputs, invalid rows and the count
    limit on JAX.

    Args:
        num_classes: ``C`` ≥ 2.
        name: key in ``logs`` (``val_`` + name for validation).
        dtype: dtype of ``result()``.
        from_logits: the scores are logits: a binary model's single column
            is cut at 0 (not 0.5), the curves read their sigmoid or softmax.
        curves: also keep the binned scores behind the curves
            (:meth:`~ConfusionMatrixMetric.curve_summary`); None (default):
            up to 1000 classes.
        max_rows: above 1000 classes, the rows of one pass whose cell codes
            the metric keeps (default 4,194,304: 16 MB; see
            :mod:`tb_imbalance.keras.cell_codes`).

    Example:
        >>> metric = MacroF1(2)
        >>> metric.update_state([0, 1, 1], [[0.9, 0.1], [0.4, 0.6], [0.8, 0.2]])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    _direction = "up"

    def __init__(
        self,
        num_classes: int,
        name: str = "macro_f1",
        dtype: Any = None,
        *,
        from_logits: bool = False,
        curves: bool | None = None,
        max_rows: int | None = None,
    ) -> None:
        super().__init__(
            num_classes, name=name, dtype=dtype, from_logits=from_logits, curves=curves, max_rows=max_rows
        )

    def _value(self, xp: Any, support: Any, predicted: Any, correct: Any) -> Any:
        f1 = 2 * correct / xp.maximum(support + predicted, 1.0)  # 0 / 1 for an absent, never predicted class
        return xp.sum(f1) / self.num_classes  # not keras.ops.mean: on JAX it averages float64 in float32


@keras.saving.register_keras_serializable(package="tb_imbalance")
class MacroAveragePrecision(ConfusionMatrixMetric):
    """Macro average precision: the mean over the classes present in the labels of
    each class's one-vs-rest average precision, on the binned scores.

    Streaming: the state is the binned summary of
    :func:`tb_imbalance.core.curve_summary` (``C + 1`` rows of
    :data:`~tb_imbalance.core.CURVE_BINS` bins, see
    :mod:`tb_imbalance.keras.curve_state`) beside the confusion matrix, and
    ``result()`` is ``tb_imbalance.core.curve_metrics(summary)["metrics"]
    ["macro_average_precision"]`` computed from it in ``keras.ops``: per
    class scikit-learn's ``average_precision_score`` on the scores replaced
    by their bin's lower edge (:func:`tb_imbalance.core.quantise_scores`),
    averaged over the classes with positives (0 before any). Higher is
    better: ``monitor="val_macro_average_precision"`` works with
    ``mode="auto"``.

    Predictions must be scores: ``[N, C]`` probabilities (or logits with
    ``from_logits=True``, read through a softmax) or, for two classes, one
    sigmoid column (a logit with ``from_logits=True``). ``result()`` is NaN
    once rows could not be counted (see :class:`ConfusionMatrixMetric`), held
    scores outside ``[0, 1]`` without ``from_logits``, or were class ids;
    :meth:`~ConfusionMatrixMetric.curves_unavailable` says why, and for the
    last two a warning says so once, when Keras resets the metric after the
    pass (a ``fit`` that only monitors the metric has no callback to refuse
    the set-up before training).
    ``sample_weight`` is a mask, as for the matrix.

    Args:
        num_classes: ``C`` ≥ 2.
        name: key in ``logs`` (``val_`` + name for validation).
        dtype: dtype of ``result()``.
        from_logits: the scores are logits (softmax; sigmoid for one column).
        max_rows: as for :class:`BalancedAccuracy`.

    Example:
        >>> metric = MacroAveragePrecision(2)
        >>> metric.update_state([0, 1, 1], [[0.3, 0.7], [0.4, 0.6], [0.8, 0.2]])
        >>> round(float(metric.result()), 4)  # class 0: AP 1/3 (its row ranks last); class 1: (1/2 + 2/3) / 2
        0.4583
    """

    _direction = "up"
    _needs_curves = True
    _result_reads_curves = True

    def __init__(
        self,
        num_classes: int,
        name: str = "macro_average_precision",
        dtype: Any = None,
        *,
        from_logits: bool = False,
        max_rows: int | None = None,
    ) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, from_logits=from_logits, max_rows=max_rows)
        self._said_why_nan = False

    def _say_why_nan(self, curve_counts: Any = None) -> None:
        """Warn once when the pass that ended held scores that give no value (logits, class ids).

        Keras resets metrics eagerly, between passes: two counters are read there (the
        ``curve_counts`` a reset read already, when given), not per batch.
        """
        if self._said_why_nan or getattr(self, "_curves", None) is None or in_stateless_scope():
            return
        start = self._curves.not_probabilities
        try:
            counters = (host_array(read_slice(self.curve_counts, start, start + 2)) if curve_counts is None
                        else curve_counts[start : start + 2])
        except Exception:  # a symbolic value: reset inside tf.function or a traced function says nothing
            return
        why = self._curves.unavailable(counters)
        if why:
            self._said_why_nan = True
            warnings.warn(f"{why}; until then its result() is NaN.", UserWarning, stacklevel=user_stacklevel())

    def _curve_value(self, xp: Any, curve_counts: Any) -> Any:
        return self._curves.macro_average_precision(xp, curve_counts, self._float_dtype)
