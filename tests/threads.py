"""Threads for tests: ``run_in_threads`` runs a function in several threads that take turns often, as on
a busy machine; ``held_by_another_thread`` keeps a lock held by another thread meanwhile.

Example:
    >>> seen = []
    >>> run_in_threads(seen.append, [(1,), (2,)])
    >>> sorted(seen)
    [1, 2]
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any, Callable, Iterator, Sequence


def run_in_threads(target: Callable[..., Any], arguments: Sequence[tuple], switch_interval: float = 1e-6) -> None:
    """Call ``target(*args)`` for each ``args`` of ``arguments``, each in its own thread, and wait for all.

    The interpreter switches threads every ``switch_interval`` seconds meanwhile (5 ms by default
    otherwise), so races between them show up in a few hundred calls.
    """
    switch = sys.getswitchinterval()
    sys.setswitchinterval(switch_interval)
    try:
        threads = [threading.Thread(target=target, args=args) for args in arguments]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)


@contextlib.contextmanager
def held_by_another_thread(lock: Any) -> Iterator[None]:
    """Hold ``lock`` in another thread for the ``with`` block: a fork inside it copies the lock held, as a
    background writer thread holds it while it writes a step.

    Example:
        >>> lock = threading.Lock()
        >>> with held_by_another_thread(lock):
        ...     lock.acquire(blocking=False)
        False
        >>> lock.acquire(blocking=False)
        True
    """
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()
