"""Which process writes the report when training runs on several processes.

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

__all__ = ["is_chief", "is_writer"]


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
