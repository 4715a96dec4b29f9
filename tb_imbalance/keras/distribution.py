"""Training on several processes or devices: which process writes the report, and what the callback's
own predictions need.

Every process computes the matrix (Keras sums the metric state across
replicas), but only one may write it, or TensorBoard shows the same epoch
several times. The rules, checked in this order:

* TensorFlow (``tf.distribute``): the chief (see :func:`is_chief`); only the
  TensorFlow trainer has ``model.distribute_strategy``.
* JAX backend: process 0 (``jax.process_index() == 0``).
* PyTorch: rank 0 of ``torch.distributed`` when it is available and
  initialised (torch already imported by the user; never imported here).

Example:
    >>> class Resolver:
    ...     task_type, task_id = "worker", 1
    ...     def cluster_spec(self):
    ...         return None
    >>> class Strategy:
    ...     cluster_resolver = Resolver()
    >>> is_chief(Strategy())
    False
"""

from __future__ import annotations

import sys
from typing import Any

import keras

__all__ = ["check_own_predictions", "is_chief", "is_writer", "predict_batch"]


def is_chief(strategy: Any) -> bool:
    """Whether this process should write summaries under a ``tf.distribute`` ``strategy``.

    Single-process strategies (default, Mirrored) always write. Under
    multi-worker training only the chief writes: the ``chief`` task, or worker
    0 when the cluster has no chief (TensorFlow's rule).

    Args:
        strategy: a ``tf.distribute.Strategy`` (or ``None``).

    Returns:
        ``True`` when this process is the one that writes.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    if resolver.task_type == "chief":
        return True
    spec = resolver.cluster_spec()
    cluster = spec.as_dict() if spec else {}
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def _jax_process_index() -> int:
    import jax  # only called on the JAX backend, where JAX is already imported

    return int(jax.process_index())


def _torch_rank() -> int | None:
    """Rank in the default ``torch.distributed`` group, or ``None`` when not initialised."""
    torch = sys.modules.get("torch")
    if torch is None:  # nobody imported torch: no process group can exist
        return None
    distributed = getattr(torch, "distributed", None)
    if distributed is None or not distributed.is_available() or not distributed.is_initialized():
        return None
    return int(distributed.get_rank())


def _batch_shards() -> int:
    """Into how many parts ``keras.distribution``'s distribution (``DataParallel``, ``ModelParallel``) splits a batch."""
    distribution = keras.distribution.distribution()
    mesh = getattr(distribution, "device_mesh", None)
    axis = getattr(distribution, "batch_dim_name", None) or getattr(distribution, "_batch_dim_name", None)
    if mesh is None or axis not in tuple(mesh.axis_names):
        return 1
    return int(mesh.shape[tuple(mesh.axis_names).index(axis)])


def check_own_predictions(argument: str, rows: int | None, batch_size: int, *, capped: bool = False) -> None:
    """Refuse, before training, what ``model.predict`` cannot do with the callback's ``validation_data`` or
    ``examples`` under ``keras.distribution``: rows spread over several JAX processes, or batches (the
    last one too) that the devices cannot share out evenly. ``rows``: the rows predicted, None when unknown;
    ``capped``: ``validation_steps`` limits them."""
    if keras.backend.backend() == "jax" and _jax_process_count() > 1:
        raise ValueError(
            f"`{argument}` of ClassificationReportCallback cannot be predicted under {_jax_process_count()} JAX "
            "processes (model.predict returns arrays spread over them): compile a tb_imbalance.keras metric "
            "(e.g. BalancedAccuracy(num_classes)) and pass the validation set to fit(validation_data=...) instead"
        )
    shards = _batch_shards()
    if shards == 1 or rows is None:
        return
    what = f"`{argument}` ({rows} rows{', the validation_steps batches read' if capped else ''})"
    fixes = [f"give it at least {shards} rows (one per device)" if rows < shards else
             f"trim its rows to a multiple of {shards}, x[:{rows // shards * shards}]"] if rows % shards else []
    batch_fix = f"pass batch_size={max(shards, batch_size // shards * shards)} to ClassificationReportCallback"
    if rows <= batch_size:  # one batch of all the rows
        if fixes:
            fix = batch_fix if capped and rows == batch_size else fixes[0]  # validation_steps=1 reads one batch
            raise ValueError(
                f"{what} is predicted in one batch, which keras.distribution shares out over {shards} devices: it "
                f"must hold a multiple of {shards} rows (JAX raises IndivisibleError otherwise); {fix}"
            )
        return
    last = rows % batch_size
    if batch_size % shards or last % shards:
        if batch_size % shards:
            fixes.insert(0, batch_fix)
        raise ValueError(
            f"{what} is predicted in batches of `batch_size={batch_size}`, the last of {last or batch_size} rows, which "
            f"keras.distribution shares out over {shards} devices: every batch must hold a multiple of {shards} rows "
            f"(JAX raises IndivisibleError otherwise); {' and '.join(fixes)}"
        )


def predict_batch(model: Any, x: Any) -> Any:
    """``model``'s predictions of one batch ``x`` of the callback's ``validation_data``, one row per row.

    ``model.predict_on_batch`` under a ``tf.distribute`` strategy of several replicas hands every replica
    the whole batch and returns all their rows (twice the batch on two replicas): the first replica's
    are kept. ``model.predict`` of the batch, which shares it out over the replicas, is a hundred times
    slower a batch; it is the fallback for any other number of rows.
    """
    predicted = model.predict_on_batch(x)
    replicas = getattr(getattr(model, "distribute_strategy", None), "num_replicas_in_sync", 1)
    if replicas <= 1:
        return predicted
    rows = int(keras.tree.flatten(x)[0].shape[0])
    got = int(keras.tree.flatten(predicted)[0].shape[0])
    if got == rows:
        return predicted
    if got == rows * replicas:
        return keras.tree.map_structure(lambda output: output[:rows], predicted)
    return model.predict(x, batch_size=max(rows, 1), verbose=0)


def _jax_process_count() -> int:
    import jax  # only called on the JAX backend

    return int(jax.process_count())


def is_writer(model: Any) -> bool:
    """Whether this process writes the report of ``model``'s training (see module docs).

    Args:
        model: the model being trained (``callback.model``).
    """
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is not None and not is_chief(strategy):
        return False
    if keras.backend.backend() == "jax" and _jax_process_index() != 0:
        return False
    rank = _torch_rank()
    return rank is None or rank == 0
