"""Any framework's arrays to numpy, without importing a framework.

The writers accept lists, numpy arrays, PyTorch tensors (also on a GPU or
with ``requires_grad``), JAX arrays and TensorFlow eager tensors. They are
recognised by the module their type comes from, so a PyTorch user's process
never imports TensorFlow or JAX, and the other way round.

Example:
    >>> to_numpy(np.array([[0.2, 0.8]]), "predictions")
    array([[0.2, 0.8]])
    >>> to_numpy([0, 1], "labels")   # lists pass through: the core validates them
    [0, 1]
    >>> to_numpy(None, "sample_weight") is None
    True
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar

import numpy as np

from tb_imbalance.core import widen_low_precision_floats
from tb_imbalance.core.numeric_arrays import WHOLE_NUMBERS_UP_TO, _dtype_name, refuse_rounded_class_ids

__all__ = ["called_from_tf_py_function", "eager_under_torch_compile", "refuse_tf_graph_or_replica", "to_numpy"]

_Function = TypeVar("_Function", bound=Callable[..., Any])

_NUMPY_TORCH_FLOATS = ("torch.float16", "torch.float32", "torch.float64")
#: What each argument holds, for the refusal of a PRNG key array passed in its place.
_NOT_KEYS = {"labels": "class ids", "predictions": "class ids or scores", "sample_weight": "weights", "cm": "counts"}
#: A sparse torch tensor up to this many values dense is made dense (a 1000-class matrix: 10**6).
_DENSE_MAX_VALUES = 10**7


def _framework(value: Any) -> str:
    return type(value).__module__.split(".", 1)[0]


def eager_under_torch_compile(function: _Function) -> _Function:
    """``function``, run eagerly when ``torch.compile`` traces a call to it.

    A writer called inside a compiled function (``@torch.compile def
    evaluate(): ... log_report(...)``) is numpy and file work that Dynamo
    cannot trace; the call becomes a graph break, through
    ``torch.compiler.disable``. torch is never imported here: a process
    without it runs ``function`` as it is.
    """
    disabled: list[Callable[..., Any]] = []

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        compiler = getattr(sys.modules.get("torch"), "compiler", None)
        # torch.compiler.is_compiling from PyTorch 2.3; before, torch._dynamo's (loaded once anything compiles)
        is_compiling = getattr(compiler, "is_compiling", None) or getattr(
            sys.modules.get("torch._dynamo"), "is_compiling", None
        )
        if is_compiling is not None and is_compiling():
            if not disabled:
                disabled.append(compiler.disable(function))
            return disabled[0](*args, **kwargs)
        return function(*args, **kwargs)

    return run  # type: ignore[return-value]


def refuse_tf_graph_or_replica(entry: str) -> None:
    """Refuse, where TensorFlow is loaded, a call of ``entry`` traced by ``tf.function`` or made inside
    ``strategy.run``: a writer is eager numpy and file work, and logs one evaluation of all replicas.

    A traced call would write once, at tracing, and a replica's call its own rows under the step of all.
    A TF1-style program (numpy from ``sess.run``) calls it as Python, once a step: that is fine.
    TensorFlow is never imported here.
    """
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "inside_function"):
        return
    if tf.inside_function():
        raise RuntimeError(f"{entry} must run eagerly; call it outside tf.function")
    if tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
        raise RuntimeError(
            f"{entry} logs one evaluation of all replicas, and this call is in a replica context (inside "
            "strategy.run), where each replica would write its own rows under one step: return the labels and "
            "predictions from strategy.run, gather them (strategy.gather(value, axis=0)) and log outside it"
        )


def called_from_tf_py_function(*, in_its_own_thread: bool = False) -> bool:
    """Whether TensorFlow runs this call as the Python body of a ``tf.numpy_function`` / ``tf.py_function`` op.

    Such a body runs eagerly, so :func:`refuse_tf_graph_or_replica` lets it
    log; but inside ``strategy.run`` its op runs once per replica, each with
    that replica's rows, and nothing in the call tells the replicas apart.
    ``in_its_own_thread``: only where TensorFlow calls the body from a thread
    of its own (the op of a ``tf.function``, a ``tf.data`` map), with no Python
    caller beneath it, so the caller's ``writer.as_default()`` does not hold;
    an eager op calls it in the caller's thread. TensorFlow is never imported here.

    Example:
        >>> called_from_tf_py_function()
        False
    """
    if "tensorflow" not in sys.modules:
        return False
    frame, found, outermost = sys._getframe(1), False, None
    while frame is not None:
        outermost = frame.f_globals.get("__name__")
        found = found or outermost == "tensorflow.python.ops.script_ops"
        frame = frame.f_back
    return found and (not in_its_own_thread or outermost == "tensorflow.python.ops.script_ops")


def _refuse_counts_not_summed_over_replicas(value: Any, argument: str) -> None:
    """Refuse a ``tf.distribute`` variable of several replicas whose value is not the sum of their updates.

    Counts accumulated inside ``strategy.run`` (``cm.assign_add(tf.math.confusion_matrix(...))``) add
    up over replicas only with ``aggregation=SUM``: ``MEAN`` reads the mean of the replicas' counts,
    ``ONLY_FIRST_REPLICA`` the first replica's, numbers that look like counts and are not all rows'.
    """
    aggregation = getattr(getattr(value, "aggregation", None), "name", None)
    replicas = getattr(getattr(value, "distribute_strategy", None), "num_replicas_in_sync", 1)
    if aggregation in ("MEAN", "ONLY_FIRST_REPLICA") and isinstance(replicas, int) and replicas > 1:
        held = "the mean of the replicas' counts" if aggregation == "MEAN" else "the first replica's counts only"
        raise ValueError(
            f"`{argument}` is a tf.distribute variable of {replicas} replicas with aggregation={aggregation}: "
            f"it holds {held}, not the counts of every replica's rows. Create it with "
            "aggregation=tf.VariableAggregation.SUM (as Keras metrics keep their counts), or pass the counts "
            "summed over replicas, strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_counts, axis=None)"
        )


def to_numpy(value: Any, argument: str) -> Any:
    """Return a framework tensor as a numpy array; other values unchanged (see :func:`_read_as_numpy`).

    A count matrix (``argument == "cm"``, one tensor or a list of row tensors) of a float type narrower than
    float32 is refused where a cell reaches the whole numbers that type rounds (float16: 2049 to 2048): its
    counts may be off already. A matrix holding a negative cell is left to the count check, which names it.
    """
    array = _read_as_numpy(value, argument)
    if argument == "cm":
        _refuse_rounded_counts(value, array)
    if argument == "labels":
        _refuse_rounded_class_ids(value, array)
    return array


def _whole_number_limits(value: Any) -> tuple[list[Any], list[float]]:
    """``value``'s items (a list's or tuple's own: rows, batches or 0-d tensors, each of its own type; else
    ``value`` alone) and, for each, the whole number from which its type rounds (``inf``: none)."""
    items = list(value) if type(value) in (list, tuple) else [value]
    return items, [WHOLE_NUMBERS_UP_TO.get(_dtype_name(item), np.inf) for item in items]


def _refuse_rounded_class_ids(value: Any, array: Any) -> None:
    """Refuse ``labels`` of a narrow float type (read as ``array``, in float32) holding a class id that type
    may have rounded (:func:`tb_imbalance.core.numeric_arrays.refuse_rounded_class_ids`)."""
    items, limits = _whole_number_limits(value)
    limit = min(limits, default=np.inf)
    if limit == np.inf:
        return
    try:
        ids = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):  # ragged: the core says so
        return
    refuse_rounded_class_ids(ids, next(_dtype_name(item) for item, item_limit in zip(items, limits) if item_limit == limit))


def _refuse_rounded_counts(value: Any, array: Any) -> None:
    """Refuse ``cm`` (``array``, read from ``value``) where a cell of a narrow float type may have been rounded."""
    items, limits = _whole_number_limits(value)
    if min(limits, default=np.inf) == np.inf:
        return
    try:
        cells = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):  # ragged, or no numbers: the count check says so
        return
    if cells.ndim != 2 or not cells.size:
        return
    cells = np.where(np.isfinite(cells), cells, 0)
    if cells.min() < 0:  # a negative count is wrong however it was rounded: the count check says that first
        return
    rows = np.array(limits if len(items) == len(cells) else [limits[0]] * len(cells))[:, None]
    over = np.where(cells >= rows, cells, -1)
    if over.max() < 0:
        return
    row, column = np.unravel_index(np.argmax(over), over.shape)
    item = items[row] if len(items) == len(cells) else value
    dtype, limit = _dtype_name(item), int(rows[row, 0])
    raise ValueError(
        f"`cm` is {dtype}, whose whole numbers from {limit} on may be rounded ones ({limit + 1} rounds to "
        f"{limit}), and its cell at row {row}, column {column} is {cells[row, column]}: its counts may be "
        f"off (a matrix counted under torch.autocast, whose matmul gives {dtype}). Count in an integer type "
        "(torch.bincount, tensor.long()) or in float32, and pass that"
    )


def _read_as_numpy(value: Any, argument: str) -> Any:
    """Return a framework tensor as a numpy array; other values unchanged.

    ``None``, numpy arrays, lists and scalars are returned as they are (the
    core turns them into arrays with clear errors for ragged input), except
    that bfloat16 and float8 values become float32 (exactly), for numpy, and
    a list of PyTorch tensors (one a row, or batches) becomes a list of numpy
    arrays, each read as a tensor is.

    Args:
        value: a list (of numbers, rows or ``torch.Tensor``), numpy array,
            ``torch.Tensor``, JAX array or eager ``tf.Tensor`` / ``tf.Variable``.
        argument: the argument's name, for error messages.

    Raises:
        TypeError: a symbolic value (a Keras ``KerasTensor``, a TensorFlow
            graph tensor, a JAX tracer, a PyTorch ``meta`` tensor) that holds
            no numbers yet; a JAX PRNG key array; a torchmetrics metric object (its ``compute()``
            holds the values); a PyTorch ``DTensor`` of which this process
            holds a part (a replicated one is read from this process's copy).
    """
    if value is None:
        return value
    if isinstance(value, np.ndarray):
        return widen_low_precision_floats(value)
    if type(value) in (list, tuple) and value and all(_framework(item) == "torch" for item in value):  # not return_types
        # one tensor a row or a batch, as a loop appends them: each read as a tensor is (grad, GPU, bfloat16)
        return [_read_as_numpy(item, argument) for item in value]
    framework = _framework(value)
    if framework == "torchmetrics":  # the metric object, not its values
        raise TypeError(
            f"`{argument}` is a torchmetrics {type(value).__name__}, a metric object rather than its values: pass "
            "metric.compute() (a MetricCollection's compute() is a dict: pass the entry to log); under DDP call "
            "compute() on every rank, which sums all ranks' counts, and log on rank 0 only"
        )
    if framework == "torch" and not hasattr(value, "detach"):
        hint = ""
        if hasattr(value, "indices"):  # torch.return_types of max, topk, sort: (values, indices)
            hint = " (values, indices); pass its .indices as class ids, or the scores themselves"
        raise TypeError(f"`{argument}` is a {type(value).__module__}.{type(value).__name__}, not a tensor{hint}")
    if framework == "torch":
        tensor = value.detach()
        if hasattr(tensor, "placements") and hasattr(tensor, "to_local"):  # a DTensor: each rank holds its part
            local = tensor.to_local()
            if any(place.is_partial() for place in tensor.placements) or tuple(local.shape) != tuple(tensor.shape):
                raise TypeError(
                    f"`{argument}` is a DTensor spread over a device mesh (placements {tuple(tensor.placements)}): "
                    f"this process holds part of it. Gather it on every rank first, {argument}.full_tensor() (a "
                    "collective call), and log on rank 0 only (`if torch.distributed.get_rank() == 0:`)"
                )
            tensor = local  # replicated (or every row here): this rank's copy is the whole tensor
        if tensor.is_meta:
            raise TypeError(
                f"`{argument}` is a PyTorch tensor on the 'meta' device, which holds shapes but no "
                "values; log the outputs of a model whose weights are loaded onto a real device "
                "(e.g. model.to_empty(device='cpu') and load its state, or load it without device='meta')"
            )
        if str(tensor.layout) != "torch.strided":  # sparse (COO, CSR, …) or mkldnn: numpy needs it dense
            if "sparse" in str(tensor.layout) and tensor.numel() > _DENSE_MAX_VALUES:
                raise TypeError(
                    f"`{argument}` is a sparse PyTorch tensor ({tensor.layout}) of {tensor.numel():,} values "
                    "once dense; pass a matrix's non-empty cells as tb_imbalance.core.SparseMatrix"
                )
            tensor = tensor.to_dense()
        if tensor.is_neg():  # a lazily negated view (z.conj().imag): numpy reads its values once resolved
            tensor = tensor.resolve_neg()
        if tensor.is_quantized:  # a quantized model's output: the real values it stands for
            tensor = tensor.dequantize()
        if tensor.is_floating_point() and str(tensor.dtype) not in _NUMPY_TORCH_FLOATS:
            tensor = tensor.float()  # bfloat16, float8: numpy has no such dtype; float32 holds them exactly
        try:
            return tensor.cpu().numpy()
        except (TypeError, RuntimeError) as error:  # a dtype numpy has no counterpart for
            raise TypeError(
                f"`{argument}` is a PyTorch tensor of dtype {tensor.dtype}, which numpy cannot read ({error}); "
                "pass it as numbers numpy knows, e.g. tensor.float() or tensor.long()"
            ) from None
    if framework in ("jax", "jaxlib"):
        if "Tracer" in type(value).__name__:
            raise TypeError(
                f"`{argument}` is a JAX tracer inside a traced function (jax.jit, jax.grad); log outside "
                "it (e.g. after the step returns its outputs), or hand the arrays and the step to "
                "jax.debug.callback and log in it"
            )
        if str(getattr(value, "dtype", "")).startswith("key<"):  # jax.random.key(...): a PRNG key array
            holds = _NOT_KEYS.get(argument, "values")
            raise TypeError(
                f"`{argument}` is an array of JAX PRNG keys (dtype {value.dtype}), not of {holds}: a key was "
                f"passed by mistake; pass the {holds}"
            )
        if getattr(value, "is_deleted", lambda: False)():
            raise ValueError(
                f"`{argument}` is a JAX array whose buffer was deleted or donated (donate_argnums) to a later "
                "step; log it before it is donated, or pass a copy (np.asarray(array) first)"
            )
        if not getattr(value, "is_fully_addressable", True) and not getattr(value, "is_fully_replicated", False):
            raise TypeError(
                f"`{argument}` is a JAX array spread over several processes (this one holds part of it): gather it "
                "first, jax.experimental.multihost_utils.process_allgather(array), and log from process 0 only "
                "(if jax.process_index() == 0:)"
            )
        return widen_low_precision_floats(np.asarray(value))
    if framework in ("tensorflow", "tf_keras", "keras"):
        _refuse_counts_not_summed_over_replicas(value, argument)
        kind = type(value).__name__
        if hasattr(value, "numpy"):
            try:
                array = np.asarray(value.numpy())
            except (AttributeError, NotImplementedError, ValueError):
                pass
            else:
                if kind == "RaggedTensor" and array.dtype == object:  # rows of different lengths
                    lengths = [len(row) for row in array[:5]]
                    raise TypeError(
                        f"`{argument}` is a tf.RaggedTensor whose rows differ in length ({lengths}"
                        f"{', ...' if len(array) > 5 else ''}), where one class id or one row of C scores per "
                        f"example is needed: batches collected into it are joined by {argument}.merge_dims(0, 1)"
                    )
                return widen_low_precision_floats(array)
        if kind == "PerReplica":
            raise TypeError(
                f"`{argument}` is a tf.distribute PerReplica value (one part per replica): gather the "
                "parts first, strategy.gather(value, axis=0)"
            )
        if "Dataset" in kind or kind in ("SparseTensor", "IndexedSlices"):  # no array of values at all
            raise TypeError(
                f"`{argument}` is a {kind}, not an array of values: pass its values as an array (a "
                "dataset's batches joined with np.concatenate, a SparseTensor through tf.sparse.to_dense)"
            )
        raise TypeError(
            f"`{argument}` is a symbolic {kind} that holds no values yet; "
            "tb_imbalance computes in numpy: log eagerly, outside tf.function / the model graph"
        )
    return value
