"""ConfusionMatrixMetric: the streaming confusion matrix, written with ``keras.ops``.

The base of :class:`~tb_imbalance.keras.BalancedAccuracy` and
:class:`~tb_imbalance.keras.MacroF1` (:mod:`tb_imbalance.keras.metrics`).

The same code runs on every Keras backend: TensorFlow (graph and XLA), JAX
(under the trainer's ``jit``) and PyTorch (eager and ``torch.compile``; there
the same calls go to ``torch`` directly, see
:mod:`tb_imbalance.keras.array_namespace`).
The state is the ``C * C`` cells of the matrix (row-major, exact integers;
above 1000 classes the rows' cell codes instead, :mod:`tb_imbalance.keras.cell_codes`)
followed by four counters: rows that could not be counted, single-column
scores outside ``[0, 1]``, rows masked out by ``sample_weight`` 0, rows
counted once whose ``sample_weight`` was neither 0 nor 1.
``update_state`` turns each row into the index of its cell (or of a
counter) and adds the batch in one scatter-add: O(batch) work, whatever
``C``. Keras calls ``result()`` after every batch, so it must be cheap:
up to :func:`dense_result_max_classes` classes it reduces the cells themselves;
above, the metric also keeps the matrix's marginals (per class: support,
predicted, correct) and ``result()`` reads those, O(C). The report's maths
stays in :mod:`tb_imbalance.core`; a test holds ``result()`` to it.

When the predictions are scores the metric also keeps, from the same rows,
the binned summary behind the PR, ROC and reliability curves
(:meth:`ConfusionMatrixMetric.curve_summary`, the state in
:mod:`tb_imbalance.keras.curve_state`); ``curves=False`` leaves it out.

``from_logits=True`` says the model outputs logits (no final activation, a
loss with ``from_logits=True``): a binary model's single score column is then
cut at 0, the same cut as ``sigmoid > 0.5``, and the curves read a sigmoid
of it, or a softmax of ``[N, C]`` logits. Without it, single-column scores
outside ``[0, 1]`` are refused, and ``[N, C]`` scores outside ``[0, 1]``
give no curves (their argmax, the matrix, is the same either way).

Example:
    >>> metric = ConfusionMatrixMetric(3)  # counts only: result() is for subclasses
    >>> metric.update_state([0, 1, 2, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1],
    ...                                    [0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    >>> metric.confusion_matrix().tolist()
    [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from tb_imbalance import core
from tb_imbalance.keras import state_updates
from tb_imbalance.keras.cell_codes import CODES_ABOVE_CLASSES, CodesLayout, refuse_replicas
from tb_imbalance.keras.cell_index import COUNTERS, REAL_WEIGHTS, CellLayout
from tb_imbalance.keras.curve_state import CurveLayout
from tb_imbalance.keras.metric_reads import HostReads, MetricState, host_array
from tb_imbalance.keras.array_namespace import array_namespace
from tb_imbalance.keras.row_ops import (
    HOST_TYPES, as_output_precision, countable_tensor, count_dtype, float_dtype, pick_with_tensorflow,
    tf_native_argmax_applies,
)

__all__ = ["ConfusionMatrixMetric", "MetricState", "count_dtype", "dense_result_max_classes", "DENSE_RESULT_MAX_CLASSES"]

#: Per Keras backend: up to this many classes ``result()`` reduces the
#: ``C * C`` cells on every batch; above, it reads marginals kept next to them,
#: which costs a second scatter-add per batch but only O(C) per ``result()``.
#: Each is about where the two cost the same per batch on a CPU.
DENSE_RESULT_MAX_CLASSES = {"tensorflow": 128, "jax": 128, "torch": 256}

# The XLA-compiled functions per metric configuration (ConfusionMatrixMetric._shared_xla_function),
# shared by the metrics of these modules
_XLA_FUNCTIONS: dict[tuple[Any, ...], Any] = {}
_OWN_MODULES = (__name__, "tb_imbalance.keras.metrics")


def dense_result_max_classes() -> int:
    """Up to how many classes ``result()`` reduces the cells on this backend.

    Example:
        >>> dense_result_max_classes() >= 64
        True
    """
    return DENSE_RESULT_MAX_CLASSES.get(keras.backend.backend(), 64)


class ConfusionMatrixMetric(HostReads, keras.metrics.Metric):
    """Base class: a metric whose state is the integer ``[C, C]`` confusion matrix.

    ``update_state(y_true, y_pred, sample_weight=None)`` accepts sparse labels ``[N]`` / ``[N, 1]``
    or one-hot labels ``[N, C]``, and predictions as scores ``[N, C]`` (argmax), class ids ``[N]``,
    or one score column ``[N]`` / ``[N, 1]`` when ``num_classes == 2``: a sigmoid probability above
    0.5 is class 1, or with ``from_logits=True`` a logit above 0 (the same decision). ``sample_weight`` is
    used as a mask only: rows with weight 0 are skipped, every other row counts once (counts stay
    exact integers); rows of other weights than 0 and 1 are counted aside too (:attr:`real_weight_rows`)
    and warned once, naming the fixes, when Keras resets the metric or its matrix is read.

    Invalid rows. Rows that cannot be counted (labels outside ``[0, C)``, fractional labels, one-hot
    label rows with no positive entry or their largest value in several columns, score rows holding
    NaN or an infinity (logits: NaN, +inf, or -inf everywhere), integer prediction rows with their largest value in several columns) and, with ``from_logits=False``, single-column scores outside ``[0, 1]``
    (logits read as probabilities) are never put in a wrong cell:

    * when ``y_true`` and ``y_pred`` are both numpy arrays or lists (data
      already on the host), they are checked with
      :func:`tb_imbalance.core.confusion_matrix` before anything is counted,
      and bad input raises ``ValueError`` at once (probabilities with
      ``from_logits=True`` warn once, as in :func:`tb_imbalance.log_report`);
    * framework tensors, which is what ``fit`` / ``evaluate`` pass on every
      backend (traced under TensorFlow's graph, XLA and JAX's ``jit``, eager
      on PyTorch), are never copied to the host for a check (no device sync
      per batch): bad rows go to the ``invalid_rows`` counter, scores outside
      ``[0, 1]`` to the ``logit_rows`` counter; ``result()`` is then NaN (so
      no number computed from part of the rows ever shows in ``logs``) and
      :meth:`confusion_matrix` raises ``ValueError`` naming the fix (the report callback stops
      training at the epoch's end; a metric only in ``logs`` warns once, when Keras resets it).

    Shape errors (wrong number of score columns) and label types that round class ids (:meth:`update_state`) raise while tracing.

    On TensorFlow (one replica), up to :func:`dense_result_max_classes` classes, a batch's whole update (cells,
    add, ``result()``) is one XLA-compiled call, compiled once per batch shape and shared by the
    metrics of the same configuration; ``result()`` then reads the value that call stored. Above,
    the rows' maths is one such call and the scatter-adds run outside it. On JAX, up to the same
    count, an eager ``result()`` (Keras' epoch logs) is one such call, and so is ``reset_state()``; on
    TensorFlow an eager ``reset_state()`` (outside tf.distribute) sets each variable with one op.

    Counts are ``int64``, except on JAX without ``jax_enable_x64`` where they are ``int32`` (see
    :func:`count_dtype`): there one cell can hold at most 2**31 - 1 = 2,147,483,647 rows before it
    wraps around. Enable 64-bit mode (``jax.config.update("jax_enable_x64", True)`` before building
    the model) to count more. :meth:`confusion_matrix` always returns ``int64``.

    Args:
        num_classes: ``C`` ≥ 2.
        name: metric name (the key in ``logs``).
        dtype: dtype of ``result()``.
        from_logits: the scores are logits: a binary model's single column
            is cut at 0 instead of 0.5, and the curves read their sigmoid
            (one column) or softmax (``[N, C]``). ``[N, C]`` scores give the
            same matrix either way.
        curves: keep the binned curve summary of score predictions
            (:meth:`curve_summary`): ``N × C`` more scatter-added counts per
            batch and ``2 (C + 1) × 75`` counts of state; None: up to 1000 classes.
            While :class:`~tb_imbalance.keras.ClassificationReportCallback` reads the metric in
            ``fit``, only validation batches are binned (``skip_training_curves``).
        max_rows: above 1000 classes, the rows of one pass whose cell codes
            are kept (default 2**22; :mod:`~tb_imbalance.keras.cell_codes`).

    Raises:
        TypeError: ``num_classes`` is not an int, ``from_logits`` or ``curves`` not a bool.
        ValueError: ``num_classes`` < 2.
    """

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        *,
        from_logits: bool = False,
        curves: bool | None = None,
        max_rows: int | None = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = core.validate_num_classes(num_classes)
        self.from_logits = core.validate_flag(from_logits, "from_logits")
        self._curves_default = curves is None and not self._needs_curves  # off above 1000 classes
        auto = self.num_classes <= CODES_ABOVE_CLASSES
        self.curves = core.validate_flag(auto if curves is None else curves, "curves") or self._needs_curves
        self._count_dtype = count_dtype()
        self._float_dtype = float_dtype()
        self._dense = self.num_classes <= dense_result_max_classes()
        self._layout = CellLayout(self.num_classes, self.from_logits, self._count_dtype, not self._dense, self.name)
        self.max_rows, codes = max_rows, CodesLayout.of(self.num_classes, max_rows, self._count_dtype, self.name)
        self._codes = codes if self.num_classes > CODES_ABOVE_CLASSES else None
        size = self.num_classes * self.num_classes
        if self._codes is None:
            # The C*C cells of the matrix (row-major), then the counters: rows that could not be counted, single-column
            # scores outside [0, 1] while from_logits=False, rows with weight 0, rows of weights other than 0 and 1.
            self.counts = self.add_variable(
                shape=(size + COUNTERS,), initializer="zeros", dtype=self._count_dtype, name="confusion_matrix"
            )
        else:  # above 1000 classes: the counters and the rows written, then the rows' cell codes
            self.counts, self.cell_codes = self._codes.add_variables(self, self._count_dtype)
        self.marginals = None
        if not self._dense:
            # The matrix's marginals, so that result() reads O(C) values, not C*C cells, every batch: per class the
            # row sums (support), column sums (predicted) and diagonal (correct), [3 * C], scatter-added as the cells.
            self.marginals = self.add_variable(
                shape=(3 * self.num_classes,), initializer="zeros", dtype=self._count_dtype, name="marginals"
            )
        self._curves = None
        if self.curves:  # the binned scores behind the curves (see curve_state)
            self._curves = CurveLayout(self.num_classes, self.from_logits, self.name, metric_type=type(self).__name__)
            self.curve_counts = self.add_variable(
                shape=(self._curves.count_length,), initializer="zeros", dtype=self._count_dtype, name="curve_counts"
            )
            self.curve_sums = self.add_variable(
                shape=(self._curves.sum_length,), initializer="zeros", dtype=self._float_dtype, name="curve_sums"
            )
        # TensorFlow, cells layout, one replica: one XLA call per batch updates the counts and stores the new
        # result() (see state_updates); a subclass that only overrides result() keeps the plain path.
        self._fused_tf = (
            self._dense
            and keras.backend.backend() == "tensorflow"
            and (type(self)._value is not ConfusionMatrixMetric._value or self._result_reads_curves)
            and not state_updates.replicated(self.counts)  # each replica's stored result() is of its rows alone
        )
        # JAX: an eager result() (Keras' epoch logs) and reset_state() are one compiled call each (_shared_xla_function)
        self._compiled_result = self._dense and keras.backend.backend() == "jax" and type(self).__module__ in _OWN_MODULES
        if self._fused_tf:
            self._last_result = self.add_variable(
                shape=(), initializer="zeros", dtype=self.dtype, name="last_result", aggregation="only_first_replica"
            )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch to the confusion matrix.

        Args:
            y_true: class ids ``[N]`` / ``[N, 1]`` or one-hot rows ``[N, C]``.
            y_pred: scores ``[N, C]``, class ids ``[N]``, or (two classes) one
                score per row ``[N]`` / ``[N, 1]``: a sigmoid probability, or a
                logit with ``from_logits=True``.
            sample_weight: optional ``[N]``, a mask: rows with weight 0 are skipped, others count once.

        Raises:
            ValueError: wrong shapes, or sparse float16 / bfloat16 labels of more classes than the type holds
                exactly, 2048 / 256 (any input); invalid rows in numpy / list input (class docs: framework tensors).
        """
        host_weight = sample_weight is None or isinstance(sample_weight, HOST_TYPES)
        if isinstance(y_true, HOST_TYPES) and isinstance(y_pred, HOST_TYPES) and host_weight:
            self._check_on_host(y_true, y_pred, sample_weight)
        if self._codes is not None:
            refuse_replicas(self.name)
        elif self._fused_tf:  # one copy of the counts: outside a strategy's scope, or of one replica
            state_updates.refuse_unreplicated(self.name)
        backend = keras.backend.backend()
        if backend == "tensorflow":  # tensors, booleans as 0 / 1, on every path (TensorFlow's comparisons refuse bools)
            y_true, y_pred, sample_weight = (countable_tensor(value) for value in (y_true, y_pred, sample_weight))
        if backend == "tensorflow" and state_updates.fused_tf_applies() and (self._fused_tf or not self._dense):
            if self._fused_tf:
                picked = y_pred
                if tf_native_argmax_applies(y_pred, self.num_classes):
                    picked = pick_with_tensorflow(y_pred, self.from_logits)
                curves = (None, None) if not self._keeps_curves else (self.curve_counts, self.curve_sums)
                self._shared_xla_function("update")(
                    y_true, picked, y_pred, sample_weight, self.counts.value.handle, self._last_result.value.handle,
                    *(None if variable is None else variable.value.handle for variable in curves),
                )
                return
            rows = self._shared_xla_function("rows")(y_true, y_pred, y_pred, sample_weight)  # the scatters: outside
        else:
            y_pred = as_output_precision(y_pred) if backend == "jax" else y_pred  # XLA's excess precision
            rows = self._rows(array_namespace(), y_true, y_pred, y_pred, sample_weight, backend == "jax")
        self._add_rows(array_namespace(), rows)
        if self._fused_tf:  # also in a strategy's cross-replica context: the one copy, read later outside it
            curve_counts = None if self._curves is None else self.curve_counts.value
            self._last_result.assign(self._value_of_state(ops, self.counts.value, curve_counts))

    def _rows(
        self, xp: Any, y_true: Any, y_pred: Any, scores: Any, sample_weight: Any, under_xla: bool, curves: Any = None
    ) -> tuple[Any, ...]:
        """The batch's additions to each variable, as ids (and values).

        ``(index, marginal_ids, marginal_counts, curve, real_weights)``: the rows' slots in ``counts`` (1 each); in the
        marginals layout the marginal ids and counts to add (only rows that went into a cell of the matrix
        count); with curves, the :class:`~tb_imbalance.keras.curve_state.CurveBatch` to add to
        ``curve_counts`` and ``curve_sums``; given weights, the rows of weights other than 0 and 1 (a scalar:
        :meth:`CellLayout.real_weight_rows`). Absent parts are None. ``y_pred`` may be the ``scores`` already reduced to
        :class:`~tb_imbalance.keras.row_ops.Picked` ids. ``curves``: bin the scores (None: unless a training
        batch is skipped, :attr:`skip_training_curves`).
        """
        num = self.num_classes
        index, true_ids, pred_ids = self._layout.cell_index(xp, y_true, y_pred, sample_weight, under_xla)
        marginal_ids = marginal_counts = None
        if not self._dense:
            in_matrix = xp.cast(index < num * num, self._count_dtype)
            on_diagonal = in_matrix * xp.cast(true_ids == pred_ids, self._count_dtype)
            marginal_ids = xp.concatenate([true_ids, pred_ids + num, true_ids + 2 * num])
            marginal_counts = xp.concatenate([in_matrix, in_matrix, on_diagonal])
        keeps = self._keeps_curves if curves is None else curves
        curve = self._curves.batch_ids(xp, scores, index, true_ids, pred_ids, num * num) if keeps else None
        return index, marginal_ids, marginal_counts, curve, self._layout.real_weight_rows(xp, index, sample_weight)

    def _add_rows(self, xp: Any, rows: tuple[Any, ...]) -> None:
        """Scatter-add :meth:`_rows`' additions into the variables, in place where the backend allows."""
        index, marginal_ids, marginal_counts, curve, real_weights = rows
        if self._codes is None:
            state_updates.scatter_count(self.counts, index)
        else:
            self._codes.write(xp, self.cell_codes, self.counts, index)
        if marginal_ids is not None:
            state_updates.scatter_add(self.marginals, marginal_ids, marginal_counts)
        if curve is not None:
            state_updates.add_curve_batch(self.curve_counts, self.curve_sums, curve)
        if real_weights is not None:
            state_updates.add_to_slot(self.counts, self._counters_start + REAL_WEIGHTS, real_weights)

    def _shared_xla_function(self, kind: str) -> Any:
        """The XLA-compiled function of this metric's configuration: on TensorFlow
        ``"update"`` (cells layout: the whole batch update) or ``"rows"`` (marginals
        layout: :meth:`_rows`); on JAX ``"result"`` (``result()`` of the variables' values)
        or ``"reset"`` (the counters of ``counts`` and zeros for every variable).

        XLA compiles once per input shape (tens of milliseconds on a CPU), so
        this package's metrics of the same type and configuration share the
        function: the second model of a sweep in one process compiles nothing again.
        The function reads only that configuration from the first such metric
        (kept alive for it: only metrics of the cells layout, whose state is small,
        build a ``"result"``); each call gets the caller's own inputs and variables.
        A subclass defined elsewhere may read any attribute of its own: its
        functions are its own.
        """
        curves = None if kind in ("result", "reset") else self._keeps_curves
        if type(self).__module__ not in _OWN_MODULES:
            functions, key = self.__dict__.setdefault("_own_functions", {}), (kind, curves)
        else:
            if "_configuration" not in self.__dict__:  # once: reading the variables costs more than the lookup
                layout = tuple((tuple(v.shape), str(v.dtype)) for v in self.variables)  # max_rows, curves
                self.__dict__["_configuration"] = (type(self), self.num_classes, self.from_logits, self.dtype,
                                                   self._count_dtype, self._float_dtype, layout)
            name = None if kind in ("result", "reset") else self.name  # named in the errors raised while tracing
            functions, key = _XLA_FUNCTIONS, (kind, name, curves, self.__dict__["_configuration"])
        function = functions.get(key)
        if function is None and kind == "result":
            function = functions[key] = state_updates.jax_function(self.stateless_result)
        elif function is None and kind == "reset":
            layout = [(tuple(variable.shape), variable.dtype) for variable in self.variables]
            function = functions[key] = state_updates.jax_fresh_state(self._counters_start, COUNTERS, layout)
        elif function is None:
            rows = lambda *batch: self._rows(ops, *batch, under_xla=True, curves=curves)  # noqa: E731
            if kind == "update":
                function = state_updates.fused_tf_update(
                    rows, lambda counts, curve_counts: self._value_of_state(ops, counts, curve_counts),
                    self.counts.shape[0], reads_curves=self._result_reads_curves, sum_dtype=self._float_dtype,
                    weights_slot=self._counters_start + REAL_WEIGHTS,
                )
            else:
                function = state_updates.xla_function(rows)
            functions[key] = function
        return function

    def reset_state(self) -> None:
        fresh = None  # JAX: the counters read and every variable's zeros in one call, not one dispatch for each
        if self._compiled_result and not state_updates.in_stateless_scope():
            fresh = self._shared_xla_function("reset")(self.counts.value)
        self._say_at_reset(None if fresh is None else host_array(fresh[0]))
        self.skip_training_curves, self.resets = False, self.resets + 1  # resets: see validation_pass
        state_updates.zero_variables(self.variables, None if fresh is None else fresh[1:])  # TensorFlow: an op each

    # -- outputs -----------------------------------------------------------
    #: whether :meth:`_value` reads the column sums (``predicted``)
    _uses_predicted = True
    #: whether ``result()`` is :meth:`_curve_value` (the curve state must be kept)
    _result_reads_curves = False
    _needs_curves = False
    #: the report callback sets it while ``fit`` trains, so that only validation batches are binned; reset_state()
    #: clears it (Keras resets before on_epoch_begin, evaluate(), *_on_batch: a fit that raised leaves none set)
    skip_training_curves = False
    resets = 0  # reset_state() calls (each Keras pass resets its metrics once)

    @property
    def _keeps_curves(self) -> bool:
        """Whether this batch adds to the curve state: kept, and not a training batch the callback skips."""
        return self._curves is not None and (self._result_reads_curves or not self.skip_training_curves)

    def _value(self, xp: Any, support: Any, predicted: Any, correct: Any) -> Any:
        """The scalar from the per-class float totals (``predicted`` is ``None``
        unless ``_uses_predicted``); ``nan`` handling and the cast are done by
        the caller."""
        raise NotImplementedError(f"{type(self).__name__} must define _value() or result()")

    def _value_of_counts(self, xp: Any, counts: Any) -> Any:
        """``result()`` from the whole ``counts`` vector (cells layout)."""
        num, size = self.num_classes, self.num_classes * self.num_classes
        cells = xp.cast(counts[:size], self._float_dtype)
        rows = xp.reshape(cells, (num, num))
        predicted = xp.sum(rows, axis=0) if self._uses_predicted else None
        correct = cells[:: num + 1]  # the diagonal: a strided slice, not a gather
        value = self._value(xp, xp.sum(rows, axis=1), predicted, correct)
        dropped = xp.any(counts[size : size + 2] > 0)
        return xp.cast(xp.where(dropped, float("nan"), value), self.dtype)

    def _curve_value(self, xp: Any, curve_counts: Any) -> Any:
        """The scalar from the curve counts, for a metric with ``_result_reads_curves``."""
        raise NotImplementedError(f"{type(self).__name__} must define _curve_value()")

    def _value_of_curves(self, xp: Any, dropped: Any, curve_counts: Any) -> Any:
        """``result()`` of a metric of the curves: NaN once a row was dropped by the
        matrix (``dropped``: its two counters) or held no probabilities."""
        not_counted = xp.any(dropped > 0) | xp.any(curve_counts[self._curves.not_probabilities : self._curves.class_id_rows + 1] > 0)
        return xp.cast(xp.where(not_counted, float("nan"), self._curve_value(xp, curve_counts)), self.dtype)

    def _value_of_state(self, xp: Any, counts: Any, curve_counts: Any) -> Any:
        """``result()`` from the whole ``counts`` (cells layout) and the curve counts."""
        if self._result_reads_curves:
            size = self.num_classes * self.num_classes
            return self._value_of_curves(xp, counts[size : size + 2], curve_counts)
        return self._value_of_counts(xp, counts)

    def _value_of_marginals(self, xp: Any) -> Any:
        """``result()`` from the marginals and the two counters of dropped rows.

        Cast before any sum: a total may exceed the count dtype's range (int32
        on JAX) even when every count fits.
        """
        num, start = self.num_classes, self._counters_start
        marginals = xp.cast(self.marginals.value, self._float_dtype)
        value = self._value(xp, marginals[:num], marginals[num : 2 * num], marginals[2 * num :])
        dropped = xp.any(state_updates.read_slice(self.counts, start, start + 2) > 0)
        return xp.cast(xp.where(dropped, float("nan"), value), self.dtype)

    def result(self) -> Any:
        """The metric on the rows seen so far; NaN once a row could not be counted (said once, when read eagerly)."""
        return self._explained(self._value_now())

    def _value_now(self) -> Any:
        if self._fused_tf and state_updates.fused_tf_applies():
            return ops.copy(self._last_result.value)  # a value: a kept result() must not follow the variable
        if self._compiled_result and not state_updates.in_stateless_scope():  # eager: one call, not a dozen ops
            return self._shared_xla_function("result")(*[variable.value for variable in self.variables])
        xp = array_namespace()
        if self._result_reads_curves:
            start = self._counters_start
            dropped = state_updates.read_slice(self.counts, start, start + 2)
            return self._value_of_curves(xp, dropped, self.curve_counts.value)
        if self._dense:
            return self._value_of_counts(xp, self.counts.value)
        return self._value_of_marginals(xp)

    @property
    def _counters_start(self) -> int:
        """Where the counters start in ``counts``: after the cells, or first in the codes layout."""
        return 0 if self._codes is not None else self.num_classes * self.num_classes

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "num_classes": self.num_classes, "from_logits": self.from_logits,
                  "max_rows": self.max_rows}
        return config if self._needs_curves else {**config, "curves": self.curves}

