"""Streaming confusion-matrix metrics, written with ``keras.ops`` only.

The same code runs on every Keras backend: TensorFlow (graph and XLA), JAX
(under the trainer's ``jit``) and PyTorch (eager and ``torch.compile``). The
state is two integer variables: the ``C * C`` cells of the matrix
(row-major) with the counters of rows that could not be counted, and the
matrix's marginals (per class: support, predicted, correct).
``update_state`` only accumulates, by a scatter-add of the batch's rows
(O(batch) work, whatever ``C``); ``result`` derives a scalar from the
marginals (O(C)), and the report's maths stays in :mod:`tb_imbalance.core`.

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

from typing import Any

import keras
import numpy as np
from keras import ops

from tb_imbalance import core

__all__ = ["ConfusionMatrixMetric", "BalancedAccuracy", "MacroF1", "count_dtype"]

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


def _is_float(value: Any) -> bool:
    return keras.backend.standardize_dtype(value.dtype).startswith(("float", "bfloat"))


def _rank(value: Any) -> int:
    return len(value.shape)


def _in_stateless_scope() -> bool:
    """Whether variables are read and written through a ``keras.StatelessScope``
    (JAX's trainer, ``stateless_update_state``): then updates must be functional."""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope
    except ImportError:  # pragma: no cover - moved in a future Keras: stay functional
        return True
    return bool(in_stateless_scope())


def _tf_cross_replica() -> bool:
    """TensorFlow: inside a tf.distribute strategy's scope but outside its replicas."""
    import tensorflow as tf

    return tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()


def _scatter_add(variable: Any, ids: Any, values: Any) -> None:
    """``variable[ids] += values`` (repeated ids add up) in O(len(ids)) work.

    In place where the backend allows it (TensorFlow resource scatter, also
    under XLA and tf.distribute; torch ``index_add_``); functional inside a
    stateless scope and on JAX, where XLA updates the buffer in place under
    ``jit``. ``keras.ops`` has no scatter-add into an existing tensor on
    every backend, and ``segment_sum`` / ``bincount`` build a dense vector as
    long as the variable.
    """
    backend = keras.backend.backend()
    stateless = _in_stateless_scope()
    if backend == "tensorflow":
        import tensorflow as tf

        ids = tf.cast(ids, "int64")
        values = tf.cast(values, variable.dtype)
        if stateless or _tf_cross_replica():
            # dense, as assign_add: a distributed variable outside a replica
            # has no single buffer to scatter into
            variable.assign(tf.tensor_scatter_nd_add(variable.value, ids[:, None], values))
        else:
            # the handle of this replica's copy under tf.distribute (metric
            # variables sync on read, which has no scatter_add method)
            tf.raw_ops.ResourceScatterAdd(resource=variable.value.handle, indices=ids, updates=values)
        return
    if backend == "torch":
        import torch

        ids = ids.to(torch.int64)
        values = values.to(variable.value.dtype)
        if stateless:
            variable.assign(variable.value.index_add(0, ids, values))
        else:
            variable.value.index_add_(0, ids, values)
        return
    if backend == "jax":
        variable.assign(variable.value.at[ids].add(values.astype(variable.value.dtype)))
        return
    # any other backend: dense but correct
    variable.assign_add(ops.cast(ops.segment_sum(values, ids, num_segments=variable.shape[0]), variable.dtype))


def _read_slice(variable: Any, start: int, stop: int) -> Any:
    """``variable[start:stop]`` without reading the whole variable.

    On TensorFlow a resource variable that was scatter-updated copies its
    whole buffer on a dense read; a gather reads only the cells asked for.
    """
    if keras.backend.backend() == "tensorflow" and not _in_stateless_scope() and not _tf_cross_replica():
        import tensorflow as tf

        return tf.raw_ops.ResourceGather(
            resource=variable.value.handle, indices=tf.range(start, stop), dtype=variable.value.dtype
        )
    return ops.convert_to_tensor(variable)[start:stop]


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
    fractional labels, one-hot label rows with no positive entry, NaN scores)
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
        size = self.num_classes * self.num_classes
        # The C*C cells of the matrix (row-major), then the counter of rows
        # that could not be counted, then the counter of single-column scores
        # outside [0, 1] while from_logits=False.
        self.counts = self.add_variable(
            shape=(size + 2,), initializer="zeros", dtype=self._count_dtype, name="confusion_matrix"
        )
        # The matrix's marginals, kept next to it so that result() reads O(C)
        # values instead of reducing C*C cells on every batch: per class the
        # row sums (support), the column sums (predicted) and the diagonal
        # (correct), stored as [3 * C]. Both variables are updated by a
        # scatter-add of the batch's rows: O(batch) work, exact integers.
        self.marginals = self.add_variable(
            shape=(3 * self.num_classes,), initializer="zeros", dtype=self._count_dtype, name="marginals"
        )

    # -- inputs ------------------------------------------------------------
    def _class_ids(self, values: Any, argument: str) -> tuple[Any, Any, Any]:
        """Class ids ``[N]`` (count dtype), a boolean mask of the countable rows,
        and a mask of probability scores outside ``[0, 1]`` (``None`` when it
        cannot happen).

        ``[N, C]`` rows (one-hot labels or scores) give their argmax; ``[N]`` /
        ``[N, 1]`` hold class ids, or for ``y_pred`` with two classes one score
        (a probability, or a logit with ``from_logits``). Shape errors are
        raised while tracing.
        """
        values = ops.convert_to_tensor(values)
        if _rank(values) == 2 and values.shape[-1] == 1:
            values = ops.squeeze(values, axis=-1)
        if _rank(values) == 2:
            if values.shape[-1] is not None and values.shape[-1] != self.num_classes:
                raise ValueError(
                    f"{self.name}: `{argument}` rows must have shape [N, {self.num_classes}] "
                    f"(num_classes={self.num_classes}), received shape {tuple(values.shape)}; "
                    "set num_classes to the model's output width"
                )
            as_float = ops.cast(values, "float32")
            valid = ops.isfinite(ops.sum(as_float, axis=-1))
            if argument == "y_true":
                # a one-hot row with no positive entry names no class (argmax would say 0)
                valid = ops.logical_and(valid, ops.max(as_float, axis=-1) > 0)
            return ops.cast(ops.argmax(values, axis=-1), self._count_dtype), valid, None
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
            finite = ops.isfinite(values)
            if self.from_logits:
                return ops.cast(values >= 0, self._count_dtype), finite, None  # = sigmoid >= 0.5
            outside = ops.logical_or(values < 0, values > 1)
            return ops.cast(values >= 0.5, self._count_dtype), finite, outside
        # Range (and, for float labels, wholeness) is checked before the cast,
        # so huge or NaN floats cannot wrap around into a valid id.
        valid = ops.logical_and(values >= 0, values < self.num_classes)
        if _is_float(values):
            valid = ops.logical_and(valid, ops.equal(values, ops.round(values)))
        ids = ops.cast(ops.where(valid, values, ops.zeros_like(values)), self._count_dtype)
        return ids, valid, None

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
        num, size = self.num_classes, self.num_classes * self.num_classes
        true_ids, true_ok = self._class_ids(y_true, "y_true")[:2]
        pred_ids, pred_ok, outside = self._class_ids(y_pred, "y_pred")
        countable = ops.logical_and(true_ok, pred_ok)
        # in [0, size) for every row: the ids of invalid rows are in range too
        cell = true_ids * num + pred_ids
        flat = ops.where(countable, cell, ops.full_like(cell, size))  # id size: invalid rows
        if outside is not None:  # id size + 1: a probability outside [0, 1] (a logit?)
            flat = ops.where(ops.logical_and(countable, outside), ops.full_like(flat, size + 1), flat)
        in_matrix = flat < size
        if sample_weight is None:
            ones = ops.ones_like(flat)
        else:  # rows with weight 0 add 0 (scatter-add keeps every id in range)
            kept = ops.not_equal(ops.reshape(ops.convert_to_tensor(sample_weight), (-1,)), 0)
            in_matrix = ops.logical_and(in_matrix, kept)
            ones = ops.cast(kept, self._count_dtype)
        _scatter_add(self.counts, flat, ones)
        # marginals: only the rows that went into a cell of the matrix
        in_matrix = ops.cast(in_matrix, self._count_dtype)
        on_diagonal = in_matrix * ops.cast(ops.equal(true_ids, pred_ids), self._count_dtype)
        _scatter_add(
            self.marginals,
            ops.concatenate([true_ids, pred_ids + num, true_ids + 2 * num]),
            ops.concatenate([in_matrix, in_matrix, on_diagonal]),
        )

    def reset_state(self) -> None:
        self.counts.assign(ops.zeros(self.counts.shape, dtype=self._count_dtype))
        self.marginals.assign(ops.zeros(self.marginals.shape, dtype=self._count_dtype))

    # -- outputs -----------------------------------------------------------
    def _marginals(self) -> tuple[Any, Any, Any]:
        """Per class (support, predicted, correct) as floats (float64 where available).

        Cast before any sum: a total may exceed the count dtype's range (int32
        on JAX) even when every count fits.
        """
        num = self.num_classes
        values = ops.cast(ops.convert_to_tensor(self.marginals), self._float_dtype)
        return values[:num], values[num : 2 * num], values[2 * num :]

    def _unless_rows_were_dropped(self, value: Any) -> Any:
        """``value``, or NaN once any row could not be counted (see the class docs)."""
        size = self.num_classes * self.num_classes
        dropped = ops.sum(_read_slice(self.counts, size, size + 2))
        return ops.where(dropped > 0, ops.cast(float("nan"), value.dtype), value)

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

    def result(self) -> Any:
        support, _, correct = self._marginals()
        # correct <= support: an absent class adds 0 / 1 = 0; no class seen gives 0
        recall_sum = ops.sum(correct / ops.maximum(support, 1.0))
        present = ops.sum(ops.cast(support > 0, self._float_dtype))
        return ops.cast(self._unless_rows_were_dropped(recall_sum / ops.maximum(present, 1.0)), self.dtype)


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

    def result(self) -> Any:
        support, predicted, correct = self._marginals()
        f1 = 2 * correct / ops.maximum(support + predicted, 1.0)  # 0 / 1 for an absent, never predicted class
        return ops.cast(self._unless_rows_were_dropped(ops.mean(f1)), self.dtype)
