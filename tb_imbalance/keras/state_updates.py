"""How the streaming metrics add a batch to their variables, per Keras backend.

``keras.ops`` has no in-place scatter-add on every backend, and a dense
update (``segment_sum`` + ``assign_add``) costs O(C * C) per batch for a
matrix. These helpers add O(batch) values in place where the backend allows
it, and stay functional where Keras needs it (JAX's trainer, the stateless
API, a ``tf.distribute`` variable outside its replicas).

On TensorFlow, graph ops each cost about a microsecond to dispatch, which is
more than the arithmetic on a batch of a small matrix. :func:`fused_tf_update`
compiles a small-matrix metric's whole batch update with XLA into one call:
the batch's cells, the add, and the new ``result()`` value, kept in a
variable that ``result()`` then reads.

Example:
    >>> import keras
    >>> counts = keras.Variable([0, 0, 0], dtype="int64", trainable=False)
    >>> scatter_add(counts, keras.ops.convert_to_tensor([2, 0, 2]), keras.ops.convert_to_tensor([1, 1, 1]))
    >>> keras.ops.convert_to_numpy(counts).tolist()
    [1, 0, 2]
"""

from __future__ import annotations

from typing import Any, Callable

import keras
from keras import ops

__all__ = [
    "in_stateless_scope",
    "tf_cross_replica",
    "refuse_unreplicated",
    "scatter_add",
    "scatter_count",
    "scatter_count_and_add",
    "add_to_slot",
    "add_curve_batch",
    "scatter_set",
    "read_slice",
    "zero_variables",
    "fused_tf_update",
    "fused_tf_applies",
    "xla_function",
    "jax_function",
]


def in_stateless_scope() -> bool:
    """Whether variables are read and written through a ``keras.StatelessScope``
    (JAX's trainer, ``stateless_update_state``): then updates must be functional."""
    try:
        from keras.src.backend.common.stateless_scope import in_stateless_scope as keras_in_stateless_scope
    except ImportError:  # pragma: no cover - moved in a future Keras: stay functional
        return True
    return bool(keras_in_stateless_scope())


def tf_cross_replica() -> bool:
    """TensorFlow: inside a tf.distribute strategy's scope but outside its replicas."""
    import tensorflow as tf

    return tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()


def replicated(variable: Any) -> bool:
    """TensorFlow: whether ``variable`` has a copy per replica (created in the scope of a tf.distribute strategy
    of more than one replica), whose values only add up when read outside the replicas. Under
    ``MultiWorkerMirroredStrategy`` a worker of one device holds one of the copies."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    value = variable.value
    if not isinstance(value, tf.distribute.DistributedValues):
        return False
    strategy = getattr(value, "distribute_strategy", None)
    replicas = getattr(strategy, "num_replicas_in_sync", None) or len(getattr(value, "values", ()))
    return replicas > 1


def refuse_unreplicated(metric_name: str) -> None:
    """TensorFlow: raise when a metric whose variables have one copy (created outside a tf.distribute
    strategy's scope) is updated on the strategy's several replicas, each on its own device. An update in
    the strategy's cross-replica context (``with strategy.scope(): metric.update_state(...)``) is one update
    of the one copy: fine."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()  # None in cross-replica context
    replicas = context.num_replicas_in_sync if context is not None else 1
    if replicas > 1:
        raise ValueError(
            f"{metric_name} was created outside the tf.distribute strategy's scope, and is updated on its "
            f"{replicas} replicas, which cannot all write its one copy of the counts: create the metric inside "
            "`with strategy.scope():`, e.g. model.compile(metrics=[BalancedAccuracy(num_classes)]) there"
        )


def scatter_add(variable: Any, ids: Any, values: Any) -> None:
    """``variable[ids] += values`` (repeated ids add up) in O(len(ids)) work.

    In place where the backend allows it (TensorFlow resource scatter, also
    under XLA and tf.distribute; torch ``index_add_``); functional inside a
    stateless scope and on JAX, where XLA updates the buffer in place under
    ``jit``. ``keras.ops`` has no scatter-add into an existing tensor on
    every backend, and ``segment_sum`` / ``bincount`` build a dense vector as
    long as the variable.
    """
    _scatter(variable, ids, values, add=True)


def scatter_count(variable: Any, ids: Any) -> None:
    """``variable[ids] += 1`` (repeated ids add up): :func:`scatter_add` of ones.

    On PyTorch the ones are one cached element seen ``len(ids)`` times (a
    stride-0 view), so a batch launches no kernel to make them.

    Example:
        >>> import keras
        >>> counts = keras.Variable([0, 0, 0], dtype="int64", trainable=False)
        >>> scatter_count(counts, keras.ops.convert_to_tensor([2, 0, 2]))
        >>> keras.ops.convert_to_numpy(counts).tolist()
        [1, 0, 2]
    """
    if keras.backend.backend() == "torch":
        value = variable.value
        key = (value.dtype, value.device)
        one = _TORCH_ONES.get(key)
        if one is None:
            import torch

            one = _TORCH_ONES[key] = torch.ones((), dtype=value.dtype, device=value.device)
        _scatter(variable, ids, one.expand(ids.shape[0]), add=True)
        return
    _scatter(variable, ids, ops.ones_like(ids), add=True)


#: PyTorch: one element 1 per (dtype, device), read by :func:`scatter_count`
_TORCH_ONES: dict[Any, Any] = {}


#: :func:`scatter_count_and_add` on JAX: the fewest ids per slot of the sums for which one scatter of pairs
#: into a zeroed buffer is faster than two scatters
PAIRS_PER_SLOT = 3.0


def scatter_count_and_add(counts: Any, sums: Any, ids: Any, values: Any) -> None:
    """``counts[ids] += 1`` and ``sums[ids] += values``; every id below ``len(sums)``.

    On JAX, one scatter of ``(1, value)`` pairs into a zeroed ``[len(sums),
    2]`` buffer of the sums' float dtype, then two dense adds: XLA's CPU
    scatter costs about as much per entry for a pair as for one number.
    The batch's counts are exact in the buffer while it has fewer ids than
    the float's integers (2**24 in float32); a longer batch takes the two
    scatters. Elsewhere :func:`scatter_count` and :func:`scatter_add`.

    Example:
        >>> import keras
        >>> counts = keras.Variable([0, 0, 0, 0], dtype="int32", trainable=False)
        >>> sums = keras.Variable([0.0, 0.0, 0.0], dtype="float32", trainable=False)
        >>> ids = keras.ops.convert_to_tensor([2, 0, 2])
        >>> scatter_count_and_add(counts, sums, ids, keras.ops.convert_to_tensor([0.5, 0.25, 0.125]))
        >>> keras.ops.convert_to_numpy(counts).tolist(), keras.ops.convert_to_numpy(sums).tolist()
        ([1, 0, 2, 0], [0.25, 0.0, 0.625])
    """
    if keras.backend.backend() == "jax":
        import jax.numpy as jnp

        float_dtype = sums.value.dtype
        length = sums.shape[0]
        if PAIRS_PER_SLOT * length <= ids.shape[0] < 2 ** (jnp.finfo(float_dtype).nmant + 1):
            pairs = jnp.stack([jnp.ones(ids.shape, float_dtype), jnp.asarray(values, float_dtype)], axis=1)
            added = jnp.zeros((length, 2), float_dtype).at[ids].add(pairs)
            counts.assign(counts.value.at[:length].add(added[:, 0].astype(counts.value.dtype)))
            sums.assign(sums.value + added[:, 1])
            return
    scatter_count(counts, ids)
    scatter_add(sums, ids, values)


def add_to_slot(variable: Any, slot: int, amount: Any) -> None:
    """``variable[slot] += amount``: a batch's total (a scalar tensor) added to one counter, as :func:`scatter_add`.

    Example:
        >>> import keras
        >>> counts = keras.Variable([0, 0, 0], dtype="int64", trainable=False)
        >>> add_to_slot(counts, 1, keras.ops.convert_to_tensor(5))
        >>> keras.ops.convert_to_numpy(counts).tolist()
        [0, 5, 0]
    """
    if keras.backend.backend() == "torch":  # on the amount's device: Keras' symbolic build runs metrics on "meta"
        import torch

        amount = amount.reshape(1)
        _scatter(variable, torch.full((1,), slot, dtype=torch.int64, device=amount.device), amount, add=True)
        return
    _scatter(variable, ops.full((1,), slot, dtype="int32"), ops.reshape(amount, (1,)), add=True)


def add_curve_batch(counts: Any, sums: Any, batch: Any) -> None:
    """Add a :class:`~tb_imbalance.keras.curve_state.CurveBatch` to the curve state's two variables.

    On JAX the ``sum_updates`` (the top label's confidences, up to every row
    of a pass in one of its few bins) are summed per batch in a zeroed buffer
    of the slots from ``batch.sums_from`` on and then added, as
    :func:`scatter_count_and_add` sums the class bins: scattered into float32
    state, each row would be rounded to the running total's precision (2e-4
    off after a million rows).
    """
    for ids, values in batch.binned:
        scatter_count_and_add(counts, sums, ids, values)
    for ids in batch.count_ids:
        scatter_count(counts, ids)
    for ids, values in batch.sum_updates:
        if keras.backend.backend() == "jax":
            import jax.numpy as jnp

            dtype, start = sums.value.dtype, batch.sums_from
            summed = jnp.zeros((sums.shape[0] - start,), dtype).at[ids - start].add(jnp.asarray(values, dtype))
            sums.assign(sums.value.at[start:].add(summed))
        else:
            scatter_add(sums, ids, values)


def scatter_set(variable: Any, ids: Any, values: Any) -> None:
    """``variable[ids] = values`` in O(len(ids)) work (of repeated ids one value wins).

    In place and functional where :func:`scatter_add` is.
    """
    _scatter(variable, ids, values, add=False)


def _scatter(variable: Any, ids: Any, values: Any, *, add: bool) -> None:
    backend = keras.backend.backend()
    stateless = in_stateless_scope()
    if backend == "tensorflow":
        import tensorflow as tf

        ids = tf.cast(ids, "int64")
        values = tf.cast(values, variable.dtype)
        if stateless or tf_cross_replica():
            # dense, as assign_add: a distributed variable outside a replica
            # has no single buffer to scatter into
            dense = tf.tensor_scatter_nd_add if add else tf.tensor_scatter_nd_update
            variable.assign(dense(variable.value, ids[:, None], values))
        else:
            # the handle of this replica's copy under tf.distribute (metric
            # variables sync on read, which has no scatter_add method)
            in_place = tf.raw_ops.ResourceScatterAdd if add else tf.raw_ops.ResourceScatterUpdate
            in_place(resource=variable.value.handle, indices=ids, updates=values)
        return
    if backend == "torch":
        import torch

        if ids.dtype != torch.int64 and not (add and ids.dtype == torch.int32):  # index_add_ takes int32 too
            ids = ids.to(torch.int64)
        values = values.to(variable.value.dtype)
        if stateless:
            new = variable.value.index_add if add else variable.value.index_copy
            variable.assign(new(0, ids, values))
        else:
            (variable.value.index_add_ if add else variable.value.index_copy_)(0, ids, values)
        return
    if backend == "jax":
        at = variable.value.at[ids]
        values = values.astype(variable.value.dtype)
        variable.assign(at.add(values) if add else at.set(values))
        return
    # any other backend: dense but correct
    if add:
        variable.assign_add(ops.cast(ops.segment_sum(values, ids, num_segments=variable.shape[0]), variable.dtype))
    else:
        variable.assign(ops.scatter_update(variable.value, ops.expand_dims(ids, -1), ops.cast(values, variable.dtype)))


def read_slice(variable: Any, start: int, stop: int) -> Any:
    """``variable[start:stop]`` without reading the whole variable.

    On TensorFlow a resource variable that was scatter-updated copies its
    whole buffer on a dense read; a gather reads only the cells asked for.
    """
    if keras.backend.backend() == "tensorflow" and not in_stateless_scope() and not tf_cross_replica():
        import tensorflow as tf

        indices = _TF_INDICES.get((start, stop)) if tf.executing_eagerly() else None
        if indices is None:
            indices = tf.range(start, stop)
            if stop - start <= 4 and tf.executing_eagerly():  # the counters a reset reads
                _TF_INDICES[(start, stop)] = indices
        return tf.raw_ops.ResourceGather(resource=variable.value.handle, indices=indices, dtype=variable.value.dtype)
    return variable.value[start:stop]


#: TensorFlow: :func:`read_slice`'s eager indices of up to four entries, per (start, stop): an eager
#: ``tf.range`` dispatches several ops, which cost more than the gather (each reset reads four counters)
_TF_INDICES: dict[tuple[int, int], Any] = {}


def zero_variables(variables: list[Any], zeros: Any = None) -> None:
    """Set each variable to zeros: to ``zeros``' values where given (JAX's compiled reset,
    :func:`jax_fresh_state`), else with :func:`tf_zero_in_place` where it applies, else with
    each variable's ``assign``."""
    if zeros is None and tf_zero_in_place(variables):
        return
    for k, variable in enumerate(variables):
        variable.assign(ops.zeros(variable.shape, dtype=variable.dtype) if zeros is None else zeros[k])


#: TensorFlow: the zeros :func:`tf_zero_in_place` assigns, per (shape, dtype, device), made once each;
#: kept up to this many elements (a larger variable gets new zeros each time: keeping them would double its memory)
TF_KEPT_ZEROS_MAX = 2**16
_TF_ZEROS: dict[tuple[Any, ...], Any] = {}


def tf_zero_in_place(variables: list[Any]) -> bool:
    """TensorFlow, eagerly, outside tf.distribute and stateless scopes: set each variable to zeros with one
    ``AssignVariableOp`` and return True; elsewhere do nothing and return False.

    ``variable.assign(ops.zeros(...))`` dispatches two eager ops per variable and Keras' checks (about
    0.1 ms each on a CPU); here the zeros are made once per shape, dtype and device. Assigning them copies
    them into the variable's own buffer, and the in-place updates that follow copy a buffer that is not
    theirs alone first, so the kept zeros stay zeros. A variable with a copy per replica, or a reset inside
    ``tf.function``, takes the variable's own ``assign``.
    """
    if keras.backend.backend() != "tensorflow" or in_stateless_scope():
        return False
    import tensorflow as tf

    if not tf.executing_eagerly() or tf.distribute.has_strategy():
        return False
    values = [variable.value for variable in variables]
    if not all(isinstance(value, tf.Variable) and not isinstance(value, tf.distribute.DistributedValues)
               for value in values):
        return False
    for value in values:
        key = (tuple(value.shape), value.dtype, value.device)
        zeros = _TF_ZEROS.get(key)
        if zeros is None:
            with tf.device(value.device):
                zeros = tf.zeros(value.shape, value.dtype)
            if value.shape.num_elements() <= TF_KEPT_ZEROS_MAX:
                _TF_ZEROS[key] = zeros
        tf.raw_ops.AssignVariableOp(resource=value.handle, value=zeros)
    return True


def fused_tf_applies() -> bool:
    """Whether :func:`fused_tf_update`'s function may run here: TensorFlow,
    variables read in place (not a stateless scope), inside a replica."""
    return keras.backend.backend() == "tensorflow" and not in_stateless_scope() and not tf_cross_replica()


def fused_tf_update(
    batch_rows: Callable[..., tuple[Any, ...]],
    value_of_state: Callable[[Any, Any], Any],
    length: int,
    *,
    reads_curves: bool = False,
    sum_dtype: str = "float64",
    weights_slot: int = -1,
) -> Callable[..., None]:
    """An XLA-compiled ``update(y_true, y_pred, scores, sample_weight, counts, value, curve_counts, curve_sums)``.

    ``counts`` and ``value`` are the resource handles of the count vector
    (``length`` entries) and of the cached ``result()`` value;
    ``curve_counts`` and ``curve_sums`` those of the curve state, or None.
    ``batch_rows(y_true, y_pred, scores, sample_weight)`` gives the batch's
    additions (:meth:`ConfusionMatrixMetric._rows
    <tb_imbalance.keras.ConfusionMatrixMetric>`): the rows' slots are added
    to the counts (and the batch's rows of weights other than 0 and 1, given
    sample weights, to slot ``weights_slot``), the curve ids and scores scattered into the curve state,
    then ``value_of_state(counts, curve_counts)`` of the new state (the curve
    counts only when ``reads_curves``, else None) is stored in ``value``.
    ``sum_dtype``: the dtype of the score sums.
    XLA fuses this into one call per batch (and inlines it where the caller
    is XLA-compiled itself).
    """
    import tensorflow as tf

    def update(
        y_true: Any, y_pred: Any, scores: Any, sample_weight: Any, counts: Any, value: Any, curve_counts: Any,
        curve_sums: Any,
    ) -> None:
        flat, _, _, curve, real_weights = batch_rows(y_true, y_pred, scores, sample_weight)
        added = tf.math.unsorted_segment_sum(tf.ones_like(flat), flat, length)
        if real_weights is not None:
            real_weights = tf.reshape(tf.cast(real_weights, added.dtype), [1])
            added = tf.tensor_scatter_nd_add(added, [[weights_slot]], real_weights)
        tf.raw_ops.AssignAddVariableOp(resource=counts, value=added)
        for ids, values in () if curve is None else curve.binned:
            ones = tf.ones_like(ids, dtype=added.dtype)
            tf.raw_ops.ResourceScatterAdd(resource=curve_counts, indices=ids, updates=ones)
            tf.raw_ops.ResourceScatterAdd(resource=curve_sums, indices=ids, updates=tf.cast(values, sum_dtype))
        for ids in () if curve is None else curve.count_ids:
            ones = tf.ones_like(ids, dtype=added.dtype)
            tf.raw_ops.ResourceScatterAdd(resource=curve_counts, indices=ids, updates=ones)
        for ids, values in () if curve is None else curve.sum_updates:
            tf.raw_ops.ResourceScatterAdd(resource=curve_sums, indices=ids, updates=tf.cast(values, sum_dtype))
        total = tf.raw_ops.ReadVariableOp(resource=counts, dtype=added.dtype)
        curve_total = None
        if reads_curves:
            curve_total = tf.raw_ops.ReadVariableOp(resource=curve_counts, dtype=added.dtype)
        tf.raw_ops.AssignVariableOp(resource=value, value=value_of_state(total, curve_total))

    return xla_function(update)


def jax_function(stateless: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    """JAX: ``stateless(values)`` (a metric's ``stateless_result``) as one compiled call of the values."""
    import jax

    return jax.jit(lambda *values: stateless(list(values)))


def jax_fresh_state(
    counters_start: int, counters: int, layout: list[tuple[tuple[int, ...], str]]
) -> Callable[[Any], tuple[Any, ...]]:
    """JAX: one compiled call of a metric's ``counts`` giving its ``counters`` counters (from ``counters_start``)
    and zeros for each variable of ``layout`` (shape, dtype): a reset's read and new values, each a new buffer."""
    import jax
    import jax.numpy as jnp

    stop = counters_start + counters
    return jax.jit(lambda counts: (counts[counters_start:stop], *(jnp.zeros(s, d) for s, d in layout)))


def xla_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """TensorFlow: ``function`` (tensors in, tensors out, no variables) as one XLA-compiled call."""
    import tensorflow as tf

    return tf.function(function, jit_compile=True, autograph=False)
