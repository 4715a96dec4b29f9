"""``run_in_threads``: run a function in several threads that take turns often, as on a busy machine.

Example:
    >>> seen = []
    >>> run_in_threads(seen.append, [(1,), (2,)])
    >>> sorted(seen)
    [1, 2]
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Sequence


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
