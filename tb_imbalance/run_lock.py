"""Processes take turns to check a step against a local run directory and write it.

Two processes that start logging one run at once (DDP ranks without a rank
guard) would otherwise both read a directory without the other's file, and
both write their first step. :func:`one_writer_at_a_time` holds an exclusive
``flock`` on the directory while a writer checks a step against what the
directory holds and writes it: the second process then finds the first's
file and is refused (:mod:`tb_imbalance.other_writers`).

Within a process, the lock is re-entrant for the thread holding it (a
thread that holds a directory's lock takes it again without waiting); other
threads wait their turn. A directory is known by its real path, so every
spelling of it shares one turn: a plain path's is resolved at its first turn
only, one that goes through a symbolic link at every turn, so that a link
repointed mid-run is followed to the directory it names now. A forked child
closes the handles it inherited, so that it never keeps its parent's lock (a
``DataLoader`` worker forked while the background writer writes a step).
Nothing is held for a URL, on a system without ``flock`` (Windows) or where
the file system refuses it (some NFS mounts): there the two first steps can
still meet.

Example:
    >>> import tempfile
    >>> run_dir = tempfile.mkdtemp()
    >>> with one_writer_at_a_time(run_dir):
    ...     with one_writer_at_a_time(run_dir):  # the same thread again: no wait
    ...         "checked and written"
    'checked and written'
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["one_writer_at_a_time"]


class _DirectoryLock:
    """One directory's lock in this process: a thread's turn, and the ``flock`` handle while it is held."""

    def __init__(self) -> None:
        self.turn = threading.RLock()
        self.depth = 0
        self.handle: int | None = None


_GUARD = threading.Lock()
_LOCKS: dict[str, _DirectoryLock] = {}
_HANDLES: set[int] = set()  # every handle that holds (or is about to hold) an flock now
_KEYS: dict[str, str] = {}  # each spelling's real path, the first time it was locked; "" if it went through a link


def _forget_after_fork() -> None:
    # The child's copies of the parent's handles share the parent's locks: closed, so the parent's close
    # releases them. Its thread locks may be held by threads the child does not have: new ones.
    global _GUARD, _LOCKS, _KEYS
    for handle in list(_HANDLES):
        with contextlib.suppress(OSError):
            os.close(handle)
    _HANDLES.clear()
    _GUARD, _LOCKS, _KEYS = threading.Lock(), {}, {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _locked_handle(directory: str) -> int | None:
    """A handle of ``directory`` (made if missing) holding its exclusive ``flock``, or None where none can be had.

    Opened first and made only when missing: one system call a step, not four, for a directory that exists.
    """
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        handle = os.open(directory, flags)
    except FileNotFoundError:  # deleted mid-run, or a new run: made again
        try:
            os.makedirs(directory, exist_ok=True)
            handle = os.open(directory, flags)
        except OSError:  # no permission: the write says so, naming the directory
            return None
    except OSError:  # a file where the directory would be, no permission: the write says so
        return None
    _HANDLES.add(handle)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
    except OSError:  # a file system without locks
        _HANDLES.discard(handle)
        os.close(handle)
        return None
    return handle


@contextlib.contextmanager
def one_writer_at_a_time(run_dir: str | None) -> Iterator[None]:
    """Held while a step is checked against the local directory ``run_dir`` and written (made first)."""
    if not run_dir or "://" in run_dir or fcntl is None:
        yield
        return
    # The spelling's real path: resolved once where no part of it was a symbolic link then (writers pass the path
    # they write to, resolved when they were made: run_location.directory_key), so that a turn costs no more
    # system calls; at every turn where one was (a SummaryWriter's own log_dir), as a repointed link sends the
    # steps to its new target. The handle is opened from the same spelling, so it locks the directory it names now.
    key = _KEYS.get(run_dir)
    if not key:
        key = os.path.realpath(run_dir)
        with _GUARD:
            _KEYS.setdefault(run_dir, key if key == os.path.abspath(run_dir) else "")
    with _GUARD:
        lock = _LOCKS.setdefault(key, _DirectoryLock())
    with lock.turn:
        lock.depth += 1
        try:
            if lock.depth == 1:
                lock.handle = _locked_handle(run_dir)
            yield
        finally:
            lock.depth -= 1
            if lock.depth == 0 and lock.handle is not None:
                _HANDLES.discard(lock.handle)
                os.close(lock.handle)  # releases the lock
                lock.handle = None
