"""Streaming confusion-matrix metrics, written with ``keras.ops``.

The same code runs on every Keras backend: TensorFlow (graph and XLA), JAX
(under the trainer's ``jit``) and PyTorch (eager and ``torch.compile``; there
the same calls go to ``torch`` directly, see
:mod:`tb_imbalance.keras.array_namespace`).
The state is the ``C * C`` cells of the matrix (row-major, exact integers)
followed by three counters: rows that could not be counted, single-column
scores outside ``[0, 1]``, rows masked out by ``sample_weight`` 0.
``update_state`` turns each row into the index of its cell (or of a
counter) and adds the batch in one scatter-add: O(batch) work, whatever
``C``. Keras calls ``result()`` after every batch, so it must be cheap:
up to :func:`dense_result_max_classes` classes it reduces the cells themselves;
above, the metric also keeps the matrix's marginals (per class: support,
predicted, correct) and ``result()`` reads those, O(C). The report's maths
stays in :mod:`tb_imbalance.core`; a test holds ``result()`` to it.

A binary model with one score column: pass ``from_logits=True`` when that
column holds logits (``Dense(1)`` without activation, a loss with
``from_logits=True``); it is then cut at 0, the same cut as
``sigmoid >= 0.5``. Without it, scores outside ``[0, 1]`` are refused.

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

from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from tb_imbalance import core
from tb_imbalance.keras import state_updates
from tb_imbalance.keras.array_namespace import array_namespace

__all__ = ["ConfusionMatrixMetric", "BalancedAccuracy", "MacroF1", "count_dtype", "dense_result_max_classes"]

#: Per Keras backend: up to this many classes ``result()`` reduces the
#: ``C * C`` cells on every batch; above, it reads marginals kept next to them,
#: which costs a second scatter-add per batch but only O(C) per ``result()``.
#: Each is about where the two cost the same per batch on a CPU.
DENSE_RESULT_MAX_CLASSES = {"tensorflow": 128, "jax": 128, "torch": 256}

# counters after the C*C cells: rows not countable, single-column scores
# outside [0, 1], rows with sample_weight 0
_COUNTERS = 3

# TensorFlow: the XLA-compiled functions per metric configuration (see
# ConfusionMatrixMetric._shared_xla_function)
_XLA_FUNCTIONS: dict[tuple[Any, ...], Any] = {}


def dense_result_max_classes() -> int:
    """Up to how many classes ``result()`` reduces the cells on this backend.

    Example:
        >>> dense_result_max_classes() >= 64
        True
    """
    return DENSE_RESULT_MAX_CLASSES.get(keras.backend.backend(), 64)


# Values that already live in host memory: checking them with numpy costs no
# device -> host copy. Framework tensors (and traced values) are never pulled
# to the host in update_state.
_HOST_TYPES = (np.ndarray, np.generic, list, tuple, int, float)


def _jax_x64() -> bool:
    import jax  # the backend is JAX, so JAX is already imported

    return bool(jax.config.jax_enable_x64)


def count_dtype() -> str:
    """Integer dtype of the counts on the current Keras backend.

    ``"int64"`` on TensorFlow, PyTorch and JAX with ``jax_enable_x64``;
    ``"int32"`` on JAX without 64-bit mode, where an int64 variable would be
    silently narrowed to int32 (with a warning) anyway.

    Example:
        >>> count_dtype() in ("int32", "int64")
        True
    """
    if keras.backend.backend() == "jax" and not _jax_x64():
        return "int32"
    return "int64"


def _float_dtype() -> str:
    """Float dtype for ``result()``'s intermediate sums (float64 where available)."""
    if keras.backend.backend() == "jax" and not _jax_x64():
        return "float32"
    return "float64"


# Up to this many columns XLA's own argmax is the faster one on a CPU (beyond
# it, it falls off a cliff: about 3x slower at 16 columns under TensorFlow).
_XLA_ARGMAX_MAX_COLUMNS = {"tensorflow": 14, "jax": 16}


def _backend_argmax(values: Any) -> Any:
    """The backend's own argmax over the last axis (the first of ties, as numpy).

    ``keras.ops.argmax`` first maps -0.0 below +0.0 (a workaround for
    jax-ml/jax#24280), an extra pass that keeps XLA from fusing the argmax
    with the row maximum next to it; numpy, whose argmax the matrix must
    match, treats the two zeros as equal anyway.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.argmax(values, axis=-1)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.math.argmax(values, axis=-1)
    return ops.argmax(values, axis=-1)


def _argmax_under_xla(xp: Any, scores: Any) -> tuple[Any, Any]:
    """Row argmax (the first of ties) and whether each row is all finite, as
    XLA runs them fastest.

    NaN and ±inf are first marked +inf, so a row's pick is not finite exactly
    when the row holds a score that is not. XLA's argmax, a reduction over
    (value, index) pairs, is slow on a CPU beyond a few columns (about 550 µs
    for 256 x 1000 scores); the row's maximum and then the first column that
    holds it are two plain reductions (about 70 µs).
    """
    marked = xp.where(xp.isfinite(scores), scores, float("inf"))
    width = scores.shape[-1]
    if width <= _XLA_ARGMAX_MAX_COLUMNS.get(keras.backend.backend(), 0):
        return _backend_argmax(marked), xp.max(marked, axis=-1) < float("inf")
    top = xp.max(marked, axis=-1, keepdims=True)
    ids = xp.min(xp.where(marked == top, xp.arange(width, dtype="int32"), width), axis=-1)
    return ids, top[:, 0] < float("inf")


class _Picked(NamedTuple):
    """Scores already reduced to each row's argmax and whether the row is all finite."""

    ids: Any
    finite: Any


# Column counts at which TensorFlow's own argmax kernel, run before the XLA
# call, beats both argmaxes inside it on a CPU (XLA's reductions over about
# 17 to 40 columns are 2-3x slower than at 16 or 48).
_TF_NATIVE_ARGMAX_COLUMNS = range(17, 41)


def _pick_with_tensorflow(scores: Any) -> _Picked:
    """Each row's argmax by TensorFlow's own kernel, and whether the row is all
    finite (by its sum: TensorFlow's argmax skips NaN, so it cannot tell)."""
    import tensorflow as tf

    as_float = scores if scores.dtype in (tf.float32, tf.float64) else tf.cast(scores, tf.float32)
    return _Picked(tf.math.argmax(scores, axis=-1), tf.math.is_finite(tf.reduce_sum(as_float, axis=-1)))


_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    """``keras.backend.standardize_dtype``, remembered per dtype object: the
    metrics ask on every batch, which PyTorch runs eagerly. A plain dict, not
    ``functools.lru_cache``, which torch.compile (``jit_compile=True``) warns about."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = keras.backend.standardize_dtype(dtype)
    return name


def _is_float(value: Any) -> bool:
    return _dtype_name(value.dtype).startswith(("float", "bfloat"))


def _rank(value: Any) -> int:
    return len(value.shape)


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Base class: a metric whose state is the integer ``[C, C]`` confusion matrix.

    ``update_state(y_true, y_pred, sample_weight=None)`` accepts sparse labels
    ``[N]`` / ``[N, 1]`` or one-hot labels ``[N, C]``, and predictions as scores
    ``[N, C]`` (argmax), class ids ``[N]``, or one score column ``[N]`` /
    ``[N, 1]`` when ``num_classes == 2``: a sigmoid probability cut at 0.5, or
    with ``from_logits=True`` a logit cut at 0 (the same decision).
    ``sample_weight`` is used as a mask only: rows with weight 0 are skipped,
    every other row counts once (counts stay exact integers).

    Invalid rows. Rows that cannot be counted (labels outside ``[0, C)``,
    fractional labels, one-hot label rows with no positive entry, score rows
    holding NaN or an infinity)
    and, with ``from_logits=False``, single-column scores outside ``[0, 1]``
    (logits read as probabilities) are never put in a wrong cell:

    * when ``y_true`` and ``y_pred`` are both numpy arrays or lists (data
      already on the host), they are checked with
      :func:`tb_imbalance.core.confusion_matrix` before anything is counted,
      and bad input raises ``ValueError`` at once;
    * framework tensors, which is what ``fit`` / ``evaluate`` pass on every
      backend (traced under TensorFlow's graph, XLA and JAX's ``jit``, eager
      on PyTorch), are never copied to the host for a check (no device sync
      per batch): bad rows go to the ``invalid_rows`` counter, scores outside
      ``[0, 1]`` to the ``logit_rows`` counter; ``result()`` is then NaN (so
      no number computed from part of the rows ever shows in ``logs``) and
      :meth:`confusion_matrix` raises ``ValueError`` naming the fix (so the
      report callback stops training at the epoch's end).

    Shape errors (wrong number of score columns) raise while tracing on every
    backend.

    On TensorFlow, up to :func:`dense_result_max_classes` classes, a batch's
    whole update (cells, add, ``result()``) is one XLA-compiled call, compiled
    once per batch shape and shared by the metrics of the same configuration;
    ``result()`` then reads the value that call stored. Above, the rows'
    maths is one such call and the scatter-adds run outside it.

    Counts are ``int64``, except on JAX without ``jax_enable_x64`` where they
    are ``int32`` (see :func:`count_dtype`): there one cell can hold at most
    2**31 - 1 = 2,147,483,647 rows before it wraps around. Enable 64-bit mode
    (``jax.config.update("jax_enable_x64", True)`` before building the model)
    to count more. :meth:`confusion_matrix` always returns ``int64``.

    Args:
        num_classes: ``C`` ≥ 2.
        name: metric name (the key in ``logs``).
        dtype: dtype of ``result()``.
        from_logits: a binary model's single score column holds logits (cut
            at 0) instead of sigmoid probabilities (cut at 0.5). ``[N, C]``
            scores give the same argmax either way.

    Raises:
        TypeError: ``num_classes`` is not an int, ``from_logits`` not a bool.
        ValueError: ``num_classes`` < 2.
    """

    def __init__(
        self, num_classes: int, name: str | None = None, dtype: Any = None, *, from_logits: bool = False
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.num_classes = core.validate_num_classes(num_classes)
        self.from_logits = core.validate_flag(from_logits, "from_logits")
        self._count_dtype = count_dtype()
        self._float_dtype = _float_dtype()
        self._dense = self.num_classes <= dense_result_max_classes()
        size = self.num_classes * self.num_classes
        # The C*C cells of the matrix (row-major), then the counters of rows
        # that could not be counted, of single-column scores outside [0, 1]
        # while from_logits=False, and of rows with sample_weight 0.
        self.counts = self.add_variable(
            shape=(size + _COUNTERS,), initializer="zeros", dtype=self._count_dtype, name="confusion_matrix"
        )
        self.marginals = None
        if not self._dense:
            # The matrix's marginals, kept next to it so that result() reads
            # O(C) values instead of reducing C*C cells on every batch: per
            # class the row sums (support), the column sums (predicted) and
            # the diagonal (correct), stored as [3 * C], updated by a
            # scatter-add of the batch's rows like the cells.
            self.marginals = self.add_variable(
                shape=(3 * self.num_classes,), initializer="zeros", dtype=self._count_dtype, name="marginals"
            )
        # TensorFlow, cells layout: one XLA call per batch updates the counts
        # and stores the new result() (see state_updates); a subclass that
        # only overrides result() keeps the plain path.
        self._fused_tf = (
            self._dense
            and keras.backend.backend() == "tensorflow"
            and type(self)._value is not ConfusionMatrixMetric._value
        )
        self._fused_update = None
        if self._fused_tf:
            self._last_result = self.add_variable(
                shape=(), initializer="zeros", dtype=self.dtype, name="last_result", aggregation="only_first_replica"
            )

    # -- inputs ------------------------------------------------------------
    def _class_ids(self, xp: Any, values: Any, argument: str, under_xla: bool = False) -> tuple[Any, Any, Any]:
        """Class ids ``[N]`` (count dtype), a boolean mask of the countable rows,
        and a mask of probability scores outside ``[0, 1]`` (``None`` when it
        cannot happen).

        ``[N, C]`` rows (one-hot labels or scores) give their argmax; ``[N]`` /
        ``[N, 1]`` hold class ids, or for ``y_pred`` with two classes one score
        (a probability, or a logit with ``from_logits``). Shape errors are
        raised while tracing. The ids of rows that are not countable are in
        ``[0, C)`` only where the marginals need it (above
        :func:`dense_result_max_classes`): the cell index replaces them otherwise.
        ``under_xla``: the code is compiled by XLA (JAX, TensorFlow's fused
        update), which prefers another argmax (see :func:`_argmax_under_xla`).
        """
        if isinstance(values, _Picked):
            return xp.cast(values.ids, self._count_dtype), values.finite, None
        values = xp.convert_to_tensor(values)
        if _rank(values) == 2 and values.shape[-1] == 1:
            values = xp.squeeze(values, axis=-1)
        if _rank(values) == 2:
            if values.shape[-1] is not None and values.shape[-1] != self.num_classes:
                raise ValueError(
                    f"{self.name}: `{argument}` rows must have shape [N, {self.num_classes}] "
                    f"(num_classes={self.num_classes}), received shape {tuple(values.shape)}; "
                    "set num_classes to the model's output width"
                )
            if argument == "y_pred" and under_xla:
                ids, finite = _argmax_under_xla(xp, values)
                return xp.cast(ids, self._count_dtype), finite, None
            as_float = values
            if _dtype_name(values.dtype) not in ("float32", "float64"):
                as_float = xp.cast(values, "float32")  # a sum of float16 scores could overflow
            valid = xp.isfinite(xp.sum(as_float, axis=-1))
            if argument == "y_true":
                # a one-hot row with no positive entry names no class (argmax would say 0)
                valid = valid & (xp.max(as_float, axis=-1) > 0)
            return xp.cast(xp.argmax(values, axis=-1), self._count_dtype), valid, None
        if _rank(values) != 1:
            raise ValueError(
                f"{self.name}: `{argument}` must be class ids [N] or rows "
                f"[N, {self.num_classes}], received shape {tuple(values.shape)}"
            )
        if _is_float(values) and argument == "y_pred":
            if self.num_classes != 2:
                raise ValueError(
                    f"{self.name}: a single float `y_pred` column is read as a sigmoid "
                    f"probability, which needs num_classes=2, received "
                    f"num_classes={self.num_classes}; pass scores [N, {self.num_classes}] "
                    "or integer class ids"
                )
            finite = xp.isfinite(values)
            if self.from_logits:
                return xp.cast(values >= 0, self._count_dtype), finite, None  # = sigmoid >= 0.5
            outside = (values < 0) | (values > 1)
            return xp.cast(values >= 0.5, self._count_dtype), finite, outside
        # Range (and, for float labels, wholeness) is checked on the values
        # themselves, so huge or NaN floats cannot wrap around into a valid id.
        valid = (values >= 0) & (values < self.num_classes)
        if _is_float(values):
            valid = valid & (values == xp.round(values))
        if not self._dense:
            values = xp.where(valid, values, 0)
        if _dtype_name(values.dtype) != self._count_dtype:
            values = xp.cast(values, self._count_dtype)
        return values, valid, None

    def _cell_ids(
        self, xp: Any, y_true: Any, y_pred: Any, sample_weight: Any, under_xla: bool = False
    ) -> tuple[Any, Any, Any]:
        """Per row the index it adds 1 to in ``counts``: its cell, or a counter.

        Returns ``(index, true_ids, pred_ids)``. Countable rows go to
        ``true * C + pred``; rows that cannot be counted to ``C * C``;
        single-column probabilities outside ``[0, 1]`` to ``C * C + 1``; rows
        with ``sample_weight`` 0 to ``C * C + 2``, whatever they hold.
        """
        num, size = self.num_classes, self.num_classes * self.num_classes
        true_ids, true_ok = self._class_ids(xp, y_true, "y_true")[:2]
        pred_ids, pred_ok, outside = self._class_ids(xp, y_pred, "y_pred", under_xla)
        countable = true_ok & pred_ok
        index = xp.where(countable, true_ids * num + pred_ids, size)
        if outside is not None:  # a probability outside [0, 1]: a logit?
            index = xp.where(countable & outside, size + 1, index)
        if sample_weight is not None:
            kept = xp.reshape(xp.convert_to_tensor(sample_weight), (-1,)) != 0
            index = xp.where(kept, index, size + 2)
        return index, true_ids, pred_ids

    def _check_on_host(self, y_true: Any, y_pred: Any) -> None:
        """Precise errors for numpy / list input, before anything is counted."""
        if np.size(y_true) == 0 and np.size(y_pred) == 0:
            return
        try:
            core.confusion_matrix(
                np.asarray(y_true), np.asarray(y_pred), num_classes=self.num_classes, from_logits=self.from_logits
            )
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"{self.name}.update_state (`labels` = y_true, `predictions` = y_pred): {error}"
            ) from None

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch to the confusion matrix.

        Args:
            y_true: class ids ``[N]`` / ``[N, 1]`` or one-hot rows ``[N, C]``.
            y_pred: scores ``[N, C]``, class ids ``[N]``, or (two classes) one
                score per row ``[N]`` / ``[N, 1]``: a sigmoid probability, or a
                logit with ``from_logits=True``.
            sample_weight: optional ``[N]``; rows with weight 0 are skipped.

        Raises:
            ValueError: wrong shapes (any input), or invalid rows in numpy /
                list input (see the class docs for framework tensors).
        """
        if isinstance(y_true, _HOST_TYPES) and isinstance(y_pred, _HOST_TYPES):
            self._check_on_host(y_true, y_pred)
        xp = array_namespace()
        if self._fused_tf and state_updates.fused_tf_applies():
            if self._fused_update is None:
                self._fused_update = self._shared_xla_function("update")
            y_pred = ops.convert_to_tensor(y_pred)
            if _rank(y_pred) == 2 and y_pred.shape[-1] == self.num_classes in _TF_NATIVE_ARGMAX_COLUMNS:
                y_pred = _pick_with_tensorflow(y_pred)
            self._fused_update(
                ops.convert_to_tensor(y_true),
                y_pred,
                None if sample_weight is None else ops.convert_to_tensor(sample_weight),
                self.counts.value.handle,
                self._last_result.value.handle,
            )
            return
        if self._dense:
            under_xla = keras.backend.backend() == "jax"  # the trainer's jit
            index = self._cell_ids(xp, y_true, y_pred, sample_weight, under_xla)[0]
            state_updates.scatter_add(self.counts, index, xp.ones_like(index))
        else:
            if keras.backend.backend() == "tensorflow" and state_updates.fused_tf_applies():
                # the rows' maths in one XLA call; the scatters stay in place outside it
                rows = self._shared_xla_function("rows")(
                    ops.convert_to_tensor(y_true),
                    ops.convert_to_tensor(y_pred),
                    None if sample_weight is None else ops.convert_to_tensor(sample_weight),
                )
            else:
                rows = self._rows(xp, y_true, y_pred, sample_weight, keras.backend.backend() == "jax")
            index, marginal_ids, marginal_counts = rows
            state_updates.scatter_add(self.counts, index, xp.ones_like(index))
            state_updates.scatter_add(self.marginals, marginal_ids, marginal_counts)
        if self._fused_tf and not state_updates.tf_cross_replica():
            self._last_result.assign(self._value_of_counts(ops, self.counts.value))  # keep it true

    def _rows(self, xp: Any, y_true: Any, y_pred: Any, sample_weight: Any, under_xla: bool) -> tuple[Any, Any, Any]:
        """Marginals layout: the rows' cell indices, and the marginal ids and
        counts to add (only rows that went into a cell of the matrix count)."""
        num = self.num_classes
        index, true_ids, pred_ids = self._cell_ids(xp, y_true, y_pred, sample_weight, under_xla)
        in_matrix = xp.cast(index < num * num, self._count_dtype)
        on_diagonal = in_matrix * xp.cast(true_ids == pred_ids, self._count_dtype)
        marginal_ids = xp.concatenate([true_ids, pred_ids + num, true_ids + 2 * num])
        return index, marginal_ids, xp.concatenate([in_matrix, in_matrix, on_diagonal])

    def _shared_xla_function(self, kind: str) -> Any:
        """TensorFlow: the XLA-compiled ``"update"`` (cells layout: the whole
        batch update) or ``"rows"`` (marginals layout: :meth:`_rows`) for
        this metric's configuration.

        XLA compiles once per batch shape (tens of milliseconds on a CPU), so
        metrics of the same type, name and configuration share the function:
        the second model of a sweep in one process compiles nothing again.
        The function reads only that configuration from the first such metric
        (kept alive for it); each call gets the caller's own inputs and
        variables.
        """
        key = (kind, type(self), self.name, self.num_classes, self.from_logits, self.dtype, self._count_dtype,
               self._float_dtype)
        function = _XLA_FUNCTIONS.get(key)
        if function is None:
            if kind == "update":
                function = state_updates.fused_tf_update(
                    lambda *batch: self._cell_ids(ops, *batch, under_xla=True)[0],
                    lambda counts: self._value_of_counts(ops, counts),
                    self.counts.shape[0],
                )
            else:
                function = state_updates.xla_function(lambda *batch: self._rows(ops, *batch, under_xla=True))
            _XLA_FUNCTIONS[key] = function
        return function

    def reset_state(self) -> None:
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    # -- outputs -----------------------------------------------------------
    #: whether :meth:`_value` reads the column sums (``predicted``)
    _uses_predicted = True

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

    def _value_of_marginals(self, xp: Any) -> Any:
        """``result()`` from the marginals and the two counters of dropped rows.

        Cast before any sum: a total may exceed the count dtype's range (int32
        on JAX) even when every count fits.
        """
        num, size = self.num_classes, self.num_classes * self.num_classes
        marginals = xp.cast(self.marginals.value, self._float_dtype)
        value = self._value(xp, marginals[:num], marginals[num : 2 * num], marginals[2 * num :])
        dropped = xp.any(state_updates.read_slice(self.counts, size, size + 2) > 0)
        return xp.cast(xp.where(dropped, float("nan"), value), self.dtype)

    def result(self) -> Any:
        """The metric on the rows seen so far; NaN once a row could not be counted."""
        if self._fused_tf and state_updates.fused_tf_applies():
            return self._last_result.value
        xp = array_namespace()
        if self._dense:
            return self._value_of_counts(xp, self.counts.value)
        return self._value_of_marginals(xp)

    def _host_counts(self) -> np.ndarray:
        return np.asarray(ops.convert_to_numpy(self.counts)).astype(np.int64)

    @property
    def invalid_rows(self) -> int:
        """Rows that could not be counted so far (see the class docs)."""
        return int(self._host_counts()[self.num_classes**2])

    @property
    def logit_rows(self) -> int:
        """Rows whose single score was outside ``[0, 1]`` while ``from_logits=False``."""
        return int(self._host_counts()[self.num_classes**2 + 1])

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated ``[C, C]`` int64 matrix (summed over replicas).

        Raises:
            ValueError: some rows could not be counted, or single-column
                scores were outside ``[0, 1]`` with ``from_logits=False`` (see
                the class docs); the message names the fix.
        """
        counts = self._host_counts()
        size = self.num_classes**2
        invalid, logits = int(counts[size]), int(counts[size + 1])
        problems = []
        if invalid:
            problems.append(
                f"{invalid} rows could not be counted: labels (y_true) must be whole class ids "
                f"in [0, {self.num_classes - 1}] or one-hot rows with a positive entry, and "
                f"scores (y_pred) finite (num_classes={self.num_classes}); check the labels, "
                "the model's output for NaN, and `num_classes`"
            )
        if logits:
            problems.append(
                f"{logits} rows have a single score outside [0, 1], so it is not a sigmoid "
                "probability: the model outputs logits (e.g. Dense(1) without activation, "
                f"trained with from_logits=True); pass from_logits=True to "
                f"{type(self).__name__}({self.num_classes}, from_logits=True) to cut them at 0, "
                "or end the model with a sigmoid"
            )
        if problems:
            raise ValueError(f"{self.name}: " + "; and ".join(problems))
        return counts[:size].reshape(self.num_classes, self.num_classes)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_classes": self.num_classes, "from_logits": self.from_logits}


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
        from_logits: a binary model's single score column holds logits
            (cut at 0), not sigmoid probabilities (cut at 0.5).

    Example:
        >>> metric = BalancedAccuracy(3)
        >>> metric.update_state([0, 0, 1, 2], [0, 1, 1, 1])
        >>> round(float(metric.result()), 4)
        0.5
    """

    _direction = "up"

    def __init__(
        self, num_classes: int, name: str = "balanced_accuracy", dtype: Any = None, *, from_logits: bool = False
    ) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, from_logits=from_logits)

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
        from_logits: a binary model's single score column holds logits
            (cut at 0), not sigmoid probabilities (cut at 0.5).

    Example:
        >>> metric = MacroF1(2)
        >>> metric.update_state([0, 1, 1], [[0.9, 0.1], [0.4, 0.6], [0.8, 0.2]])
        >>> round(float(metric.result()), 4)
        0.6667
    """

    _direction = "up"

    def __init__(
        self, num_classes: int, name: str = "macro_f1", dtype: Any = None, *, from_logits: bool = False
    ) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, from_logits=from_logits)

    def _value(self, xp: Any, support: Any, predicted: Any, correct: Any) -> Any:
        f1 = 2 * correct / xp.maximum(support + predicted, 1.0)  # 0 / 1 for an absent, never predicted class
        return xp.mean(f1)
