"""What the host reads from a streaming metric's state: the matrix, the curve summary, the counters.

:class:`HostReads` is the part of
:class:`~tb_imbalance.keras.ConfusionMatrixMetric` that runs outside the
training step: it checks numpy / list batches before they are counted, copies
the variables to the host (one copy each), turns the counters of rows that
were not counted into errors that name the fix (and the rows of weights other
than 0 and 1, counted once each, into a warning), and the curve state into
:func:`tb_imbalance.core.curve_summary`'s array (see
:mod:`tb_imbalance.keras.curve_state`).

Example:
    >>> from tb_imbalance.keras import BalancedAccuracy
    >>> state = BalancedAccuracy(2).read_state()
    >>> state.matrix.tolist(), state.curves.shape, state.curves_reason
    ([[0, 0], [0, 0]], (3, 3, 75), '')
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import keras
import numpy as np

from tb_imbalance import core
from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.keras.cell_codes import read_cells
from tb_imbalance.keras.cell_index import COUNTERS, REAL_WEIGHTS
from tb_imbalance.keras.row_ops import host_row_mask
from tb_imbalance.keras.state_updates import in_stateless_scope, read_slice
from tb_imbalance.step_curves import warn_if_probabilities

__all__ = ["HostReads", "MetricState", "host_array", "host_copy"]


class MetricState(NamedTuple):
    """What :meth:`ConfusionMatrixMetric.read_state` reads to the host.

    Attributes:
        matrix: the ``[C, C]`` int64 matrix, or the ``ValueError`` that
            :meth:`~ConfusionMatrixMetric.confusion_matrix` raises.
        curves: the ``[C + 1, 3, B]`` curve summary, or None.
        curves_reason: why ``curves`` is None (``""`` otherwise).
    """

    matrix: Any
    curves: np.ndarray | None
    curves_reason: str


def host_copy(variable: Any) -> np.ndarray:
    """A metric variable's value as numpy, read the backend's own way: numpy 2 deprecates
    ``np.array`` of a Keras variable, a TensorFlow variable and a torch tensor (``__array__``
    without ``copy``), which fails where warnings are errors."""
    return host_array(variable.value)


def host_array(value: Any) -> np.ndarray:
    """A backend tensor (e.g. a slice of a metric variable) as numpy, as :func:`host_copy` reads."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return value.numpy()
    if backend == "torch":
        return value.detach().cpu().numpy()
    return np.asarray(value)


class HostReads:
    """Host-side reads of a :class:`~tb_imbalance.keras.ConfusionMatrixMetric` (a mix-in: it uses the
    metric's ``num_classes``, ``name``, ``counts`` and curve variables)."""

    def _check_on_host(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """Precise errors for numpy / list input, before anything is counted (rows of weight 0 are skipped);
        with ``from_logits``, probabilities warned once per metric, as :func:`tb_imbalance.log_report` warns them."""
        kept = host_row_mask(sample_weight, np.shape(y_true)[0] if np.ndim(y_true) else 1)
        if (np.size(y_true) == 0 and np.size(y_pred) == 0) or (kept is not None and not kept.any()):
            return
        try:
            core.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), num_classes=self.num_classes,
                                  from_logits=self.from_logits, sample_weight=kept)
        except (TypeError, ValueError) as error:
            raise core.reworded(error, f"{self.name}.update_state (`labels` = y_true, `predictions` = y_pred): {error}") from None
        if self.from_logits and warn_if_probabilities(self, self.name, np.asarray(y_pred)):
            self._said_probabilities_as_logits = True  # said here: the same from the counters at the next read is not

    def _host_counts(self) -> np.ndarray:
        counts = host_copy(self.counts)
        # An array that owns its memory and may be written is a fresh copy, ours to keep; anything
        # else (a view of a backend's buffer) is copied: the metric goes on counting and the
        # background writer reads this later.
        return counts.astype(np.int64, copy=not (counts.flags.owndata and counts.flags.writeable))

    @property
    def invalid_rows(self) -> int:
        """Rows that could not be counted so far (see the class docs)."""
        return int(self._host_counts()[self._counters_start])

    @property
    def logit_rows(self) -> int:
        """Rows whose single score was outside ``[0, 1]`` while ``from_logits=False``."""
        return int(self._host_counts()[self._counters_start + 1])

    @property
    def real_weight_rows(self) -> int:
        """Rows counted so far whose ``sample_weight`` was neither 0 nor 1 (each counts once: a mask)."""
        return int(self._host_counts()[self._counters_start + REAL_WEIGHTS])

    def confusion_matrix(self) -> Any:
        """The accumulated ``[C, C]`` int64 matrix (summed over replicas); above
        1000 classes a :class:`tb_imbalance.core.SparseMatrix` of its cells
        (see :mod:`tb_imbalance.keras.cell_codes`).

        Raises:
            ValueError: some rows could not be counted, or single-column
                scores were outside ``[0, 1]`` with ``from_logits=False`` (see
                the class docs), or above 1000 classes the pass had more rows
                than ``max_rows``; the message names the fix.
        """
        counts = self._host_counts()
        size = self._counters_start
        self._say_if_weights_not_a_mask(counts[size : size + COUNTERS])
        problems = self._uncounted(int(counts[size]), int(counts[size + 1]))
        if problems:
            raise ValueError(f"{self.name}: {problems}")
        if self._codes is not None:
            return read_cells(self._codes, self.cell_codes, counts, self.name)
        return counts[:size].reshape(self.num_classes, self.num_classes)

    _said_uncounted = False

    def _say_at_reset(self, counters: np.ndarray | None = None) -> None:
        """What a reset says of the pass before it (Keras resets eagerly, between passes): scores that give
        MacroAveragePrecision no value, rows not counted, weights other than 0 and 1, probabilities given as
        logits; ``counters``: the counters, read already. Each state variable is read once at most."""
        if counters is None and not (self._said_uncounted and self._said_real_weights):
            counters = self._host_counters()
        curve_counts = None  # read once for the two checks of the curve state that need it
        if self.from_logits and self._curves is not None and not self._said_probabilities_as_logits:
            curve_counts = self._host_curve_counts()
        self._say_why_nan(curve_counts)  # said first
        self._say_why_uncounted(counters)
        self._say_if_weights_not_a_mask(counters)
        self._say_if_probabilities_as_logits(curve_counts)

    def _say_why_nan(self, curve_counts: np.ndarray | None = None) -> None:
        """Why the value is NaN, for a metric whose value is the curves (MacroAveragePrecision: scores that are
        not probabilities); nothing for the others. ``curve_counts``: the curve state's counts, read already."""

    def _host_counters(self) -> np.ndarray | None:
        """The :data:`~tb_imbalance.keras.cell_index.COUNTERS` counters on the host (one read); None while
        they are symbolic (a reset inside tf.function or a traced function) or read through a stateless scope."""
        if in_stateless_scope():
            return None
        start = self._counters_start
        try:
            return host_array(read_slice(self.counts, start, start + COUNTERS))
        except Exception:  # a symbolic value
            return None

    def _host_curve_counts(self) -> np.ndarray | None:
        """The curve state's counts on the host (one read); None where :meth:`_host_counters` is None."""
        if in_stateless_scope():
            return None
        try:
            return host_copy(self.curve_counts)
        except Exception:  # a symbolic value
            return None

    def _say_why_uncounted(self, counters: np.ndarray | None = None) -> None:
        """Warn once when rows since the last reset could not be counted (``result()`` was NaN), mid-pass or at its end.

        Keras resets metrics eagerly, between passes: the two counters are read there (or given, read already),
        not per batch. A fit that only monitors the metric (``EarlyStopping``) has no report callback to raise
        the error.
        """
        if self._said_uncounted or in_stateless_scope():
            return
        counters = self._host_counters() if counters is None else counters
        if counters is None:  # symbolic: a reset inside tf.function or a traced function says nothing
            return
        invalid, logits = (int(count) for count in counters[:2])
        if invalid or (logits and not getattr(self, "_said_why_nan", False)):  # MacroAveragePrecision said it
            self._said_uncounted = True
            warnings.warn(f"{self.name}: since its last reset, {self._uncounted(invalid, logits)}; its "
                          "result() was NaN (said once).", UserWarning, stacklevel=user_stacklevel())

    _said_real_weights = False

    def _say_if_weights_not_a_mask(self, counters: np.ndarray | None = None) -> None:
        """Warn once when rows since the last reset had sample weights other than 0 and 1: each counted once, so
        the matrix is not scikit-learn's of those weights. At each reset and each read of the matrix."""
        if self._said_real_weights or in_stateless_scope():
            return
        counters = self._host_counters() if counters is None else counters
        rows = 0 if counters is None else int(counters[REAL_WEIGHTS])
        if rows:
            self._said_real_weights = True
            warnings.warn(
                f"{self.name}: since its last reset, {rows} rows had sample weights other than 0 and 1 (Keras hands "
                "weighted_metrics=[...] fit's sample_weight, class_weight's weights of the training batches and "
                "validation_data=(x, y, w)'s); each was counted once: the matrix counts rows, and sample_weight is "
                "a mask (0 skips a row), so it is not scikit-learn's confusion_matrix(y, p, sample_weight=w). For "
                "a matrix of summed weights give ClassificationReportCallback(validation_data=(x, y, w)): it "
                "predicts those rows itself and weights them as scikit-learn does; to count rows without weights "
                "compile the metric in metrics=[...] instead of weighted_metrics=[...]; or pass weights of 0 and 1 "
                "as a mask (said once).", UserWarning, stacklevel=user_stacklevel(),
            )

    _said_probabilities_as_logits = False

    def _say_if_probabilities_as_logits(self, curve_counts: np.ndarray | None = None) -> None:
        """Warn once when a metric with ``from_logits=True`` binned only rows that read as probabilities
        (:meth:`~tb_imbalance.keras.curve_state.CurveLayout.probabilities_as_logits`): at each read of the
        state, and at each reset (a metric compiled without the report callback)."""
        if not self.from_logits or self._curves is None or self._said_probabilities_as_logits or in_stateless_scope():
            return
        counts = self._host_curve_counts() if curve_counts is None else curve_counts
        if counts is None:  # symbolic: a reset inside tf.function or a traced function says nothing
            return
        why = self._curves.probabilities_as_logits(counts)
        if why:
            self._said_probabilities_as_logits = True
            warnings.warn(f"{why} (said once).", UserWarning, stacklevel=user_stacklevel())

    def _explained(self, value: Any) -> Any:
        """``value``, a ``result()``, after saying why it is NaN when it is read eagerly, as a reset does:
        ``model.evaluate()`` alone resets nothing after its pass (JAX's losses take out-of-range labels, every
        backend's an all-zero one-hot row). Keras' PyTorch trainer calls ``result()`` eagerly every batch:
        there the value is looked at only on the CPU."""
        if self._said_uncounted or in_stateless_scope() or (
                keras.backend.backend() == "torch" and self.counts.value.device.type != "cpu"):
            return value
        try:
            nan = bool(np.isnan(host_array(value)))
        except Exception:  # a symbolic value (inside tf.function or a trace): nothing to say
            return value
        if nan:
            self._say_why_nan()
            self._say_why_uncounted()
        return value

    def _uncounted(self, invalid: int, logits: int) -> str:
        """What :meth:`confusion_matrix` says of rows the counters hold (``""`` for none)."""
        problems = []
        if invalid:
            problems.append(
                f"{invalid} rows could not be counted: labels (y_true) must be whole class ids "
                f"in [0, {self.num_classes - 1}] or one-hot rows with one largest, positive entry, "
                "scores (y_pred) finite (logits: -inf rules a class out, one finite per row; integer rows, "
                "one-hot or thresholded, with one largest entry), and sample weights non-negative "
                f"(num_classes={self.num_classes}); "
                "check the labels, the model's output for NaN, the weights and `num_classes`. Rows a loss "
                "ignores (ignore_class=-1, padding) are invalid here: give them sample weight 0 (fit's "
                "sample_weight and compile(weighted_metrics=[...])), and they are skipped"
            )
        if logits:
            problems.append(
                f"{logits} rows have a single score outside [0, 1], so it is not a sigmoid "
                "probability: the model outputs logits (e.g. Dense(1) without activation, "
                f"trained with from_logits=True); pass from_logits=True to "
                f"{type(self).__name__}({self.num_classes}, from_logits=True) to cut them at 0, "
                "or end the model with a sigmoid"
            )
        return "; and ".join(problems)

    def curve_summary(self) -> np.ndarray | None:
        """The float64 ``[C + 1, 3, B]`` summary of the scores seen, as
        :func:`tb_imbalance.core.curve_summary` computes it on the same rows;
        None without one (:meth:`curves_unavailable` says why).

        Example:
            >>> from tb_imbalance.keras import ConfusionMatrixMetric
            >>> metric = ConfusionMatrixMetric(2)
            >>> metric.update_state([0, 1], [[0.9, 0.1], [0.2, 0.8]])
            >>> metric.curve_summary()[1, 0].nonzero()[0].tolist()  # class 1's positive: bin of 0.8
            [60]
        """
        return self.read_state().curves

    def curves_unavailable(self) -> str:
        """Why :meth:`curve_summary` is None (class ids, scores outside ``[0, 1]``,
        ``curves=False``, rows that could not be counted, training batches the
        report callback left out); ``""`` when it is not."""
        return self.read_state().curves_reason

    def read_state(self) -> "MetricState":
        """The matrix (or the error :meth:`confusion_matrix` raises) and the curve summary, read once."""
        try:
            matrix: np.ndarray | ValueError = self.confusion_matrix()
        except ValueError as error:
            matrix = error
            if self._curves is not None:  # curves of the other rows would be numbers from part of them
                return MetricState(matrix, None, str(error))
        if self._curves is None:
            if self._curves_default:
                return MetricState(matrix, None, (
                    f"{self.name}: above 1000 classes the metric keeps no curve summary by default "
                    f"({self.num_classes} classes: N × C more counts a batch); pass curves=True to keep it"
                ))
            return MetricState(matrix, None, f"{self.name}: curves=False, so no curve summary is kept")
        curve_counts = host_copy(self.curve_counts)
        self._say_if_probabilities_as_logits(curve_counts)
        curves, reason = self._curves.summary(curve_counts, host_copy(self.curve_sums))
        if curves is not None and not isinstance(matrix, ValueError):
            binned, counted = float(curves[-1, :2].sum()), float(np.sum(getattr(matrix, "values", matrix)))
            if abs(binned - counted) > 0.5:  # e.g. a train function compiled while the report callback skipped
                return MetricState(matrix, None, (
                    f"{self.name}: the curve state holds {binned:.0f} rows, the matrix {counted:.0f}: "
                    "ClassificationReportCallback leaves fit's training batches out of the curves (in its fit, and "
                    "in a train function compiled then); read them after a validation pass (or evaluate()), or "
                    "rebuild the train function: model.make_train_function(force=True)"
                ))
        return MetricState(matrix, curves, reason)
