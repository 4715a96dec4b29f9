"""The process's background writer: report steps written off the training thread.

:class:`tb_imbalance.keras.ClassificationReportCallback` does at the end of
an epoch only what needs the training thread (reading the metric's counts,
or predicting), then hands the step to :func:`submit`. One thread per
process computes the report, draws the picture, builds the scalars, writes
and flushes, in the order the steps were handed over.

Guarantees:

* order: steps of every callback of the process are written one at a time,
  first handed first written;
* gathered writes: when the steps of one series (a callback's: one tag
  of one run) come less than :data:`GATHER_S` apart (short epochs), a step
  handed to an idle writer waits up to ``GATHER_S`` for the next ones, and
  the writer writes them back to back. A step run once an epoch on an idle
  core runs cold, at several times its cost back to back
  (``bench/writer_gil.py``); gathered, the writer wakes once for several
  epochs. Steps further apart are written at once, also when another
  series' step comes right before or after (two tags logged at the same
  epoch end);
* back-pressure: while the writer gathers, at most :data:`MAX_PENDING`
  steps wait (the writer starts when that many are pending); while it
  writes, at most :data:`MAX_BEHIND` wait or are in writing. A further
  :func:`submit` blocks until there is room. A process killed mid-fit
  therefore loses at most ``MAX_PENDING`` steps, its last ones, handed over
  within ``GATHER_S`` of one another (and earlier than that when it is
  killed while their writes take long), or ``MAX_BEHIND`` when its writer
  was behind;
* nothing after a gap: a step handed over with ``after=`` earlier steps, or
  in a :class:`Chain` one of whose earlier steps failed, is not written (it
  raises that step's error), so a step handed over before an earlier one's
  refusal was known never lands in a run after the hole (perhaps among
  another writer's steps). A chain's failure is recorded on the writer
  itself, so it counts also for a step whose caller never got its future (a
  ``KeyboardInterrupt`` from a signal handler right after the writer took
  it); :func:`wait` with ``chain=`` raises it;
* nothing late: :func:`wait` and :func:`flush` cut a gathering short, and
  :func:`wait` returns once the given steps are on disk and
  raises the first error of any of them (a full disk, a refused step), so
  the caller raises it on the training thread; a failed step is also logged
  when it fails (logger ``tb_imbalance``);
* nothing lost at exit: the interpreter runs every queued step before it
  exits (``concurrent.futures`` joins its worker threads at shutdown); its
  exit ends a gathering first (the writer starts at once, and gathers no
  more), so a script does not wait out ``GATHER_S`` at its end; a step
  handed over after that join (a ``fit`` in a thread that outlives the main
  thread) is written on the calling thread, after every step before it;
* after a ``fit`` that raised (Keras then skips ``on_train_end``), the
  finished epochs reach the disk moments later; :func:`flush` waits for them.

:func:`tb_imbalance.log_report` and :class:`tb_imbalance.ReportWriter` stay
synchronous: a step is on disk when they return.

Example:
    >>> written = []
    >>> step = submit(lambda: written.append(7))
    >>> wait([step]); written
    [7]
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.thread  # its exit hook registered before this module's, which runs before it
import logging
import math
import os
import threading
import time
from typing import Callable, Hashable, Iterable

__all__ = ["Chain", "GATHER_S", "MAX_BEHIND", "MAX_PENDING", "flush", "raise_failures", "submit", "wait"]

#: Steps that may wait at once while the writer gathers (what a killed process can lose).
MAX_PENDING = 8
#: Steps that may wait or be in writing at once while the writer writes.
MAX_BEHIND = 2
#: Seconds a step handed to an idle writer waits for the next ones, when its series' steps come faster than that
#: (0: every step written at once; ``math.inf``: until someone waits or MAX_PENDING steps are pending).
GATHER_S = 1.0

_LOCK = threading.Lock()
_EXECUTOR: concurrent.futures.ThreadPoolExecutor | None = None
_HANDING = threading.Lock()  # steps are handed over one at a time, so that _LAST is the one before the next
_LAST: concurrent.futures.Future | None = None  # the step handed over last: every earlier one is written before it
_SERIES_KEPT = 256  # series whose last hand-over is remembered (the least recent forgotten: its next step not gathered)


class Chain:
    """Steps of one caller (a callback's one training) of which none is written after one that failed: the first
    failure, recorded on the writer itself (where no signal handler raises)."""

    def __init__(self) -> None:
        self.failed: BaseException | None = None


class _Queue:
    """The steps pending, and when the writer starts on them: at once, or after a gathering."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.changed = threading.Condition()
        self.pending = 0  # handed over, not yet written
        self.writing = False  # the writer works through the pending steps (else it is idle or gathers)
        self.hurry = False  # someone waits for a pending step (wait, flush, a full queue): stop gathering
        self.exiting = False  # the interpreter exits: no gathering from now on
        self.last_handed: dict[Hashable, float] = {}  # clock() of each series' last hand-over, least recent first

    def enter(self, series: Hashable = None) -> tuple[float, float]:
        """Count a step in once there is room for it; the time it was handed over, and since its series' last."""
        with self.changed:
            self.changed.wait_for(lambda: self.pending < (MAX_PENDING if self.may_gather() else MAX_BEHIND))
            now = self.clock()
            self.pending += 1
            interval = now - self.last_handed.pop(series, -math.inf)
            self.last_handed[series] = now
            if len(self.last_handed) > _SERIES_KEPT:
                del self.last_handed[next(iter(self.last_handed))]
            if self.pending >= MAX_PENDING:
                self.hurry = True
                self.changed.notify_all()
            return now, interval

    def may_gather(self) -> bool:
        return GATHER_S > 0 and not self.writing and not self.exiting

    def start(self, handed_at: float, interval: float) -> None:
        """On the writer, before a step: if it was idle and the step's series comes fast, gather the next ones first."""
        with self.changed:
            if self.writing:
                return
            if interval < GATHER_S and not self.exiting:
                left = handed_at + GATHER_S - self.clock()  # GATHER_S = math.inf: until someone waits, or MAX_PENDING
                timeout = max(0.0, left) if math.isfinite(left) else None
                self.changed.wait_for(lambda: self.hurry or self.exiting, timeout=timeout)
            self.writing = True

    def leave(self) -> None:
        """Count a step out (written, failed, or never handed over)."""
        with self.changed:
            self.pending -= 1
            if self.pending == 0:
                self.writing = self.hurry = False
            self.changed.notify_all()

    def write_now(self) -> None:
        """End a gathering: someone waits for its steps."""
        with self.changed:
            if self.pending:
                self.hurry = True
                self.changed.notify_all()

    def exit(self) -> None:
        """End a gathering and gather no more: the interpreter exits, and joins the writer."""
        with self.changed:
            self.exiting = True
            self.changed.notify_all()


_QUEUE = _Queue()


def _at_exit() -> None:
    _QUEUE.exit()  # the queue of now: a forked child has its own


# Run by the interpreter's exit before concurrent.futures joins the writer (its hook, registered earlier,
# runs later), so that the join does not wait out a gathering (nor forever, with GATHER_S = math.inf).
try:
    threading._register_atexit(_at_exit)  # type: ignore[attr-defined]
except RuntimeError:  # imported once the interpreter's exit began (by a thread that outlives the main one):
    pass  # the writer is joined already, or about to be; later steps are written on the calling thread


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _EXECUTOR
    with _LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tb_imbalance_writer")
        return _EXECUTOR


def _forget_after_fork() -> None:
    # A forked child has the parent's executor object but not its thread.
    global _EXECUTOR, _LOCK, _QUEUE, _HANDING, _LAST
    _EXECUTOR, _LOCK, _QUEUE, _HANDING, _LAST = None, threading.Lock(), _Queue(), threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def submit(
    job: Callable[[], None], what: str = "a report step", after: Iterable[concurrent.futures.Future] = (),
    series: Hashable = None, chain: "Chain | None" = None,
) -> concurrent.futures.Future:
    """Run ``job`` on the background writer after every step handed over before it.

    Blocks while the queue is full (:data:`MAX_PENDING`, :data:`MAX_BEHIND`).
    Written at once, or gathered with the next steps when the steps of its
    ``series`` (any hashable, such as a callback's run and tag; steps without
    one are one series) come faster than :data:`GATHER_S` (see
    the module's docstring). Returns the step's
    future; pass it to :func:`wait` (or :func:`raise_failures`). ``what``
    names the step in the log line of a failure. ``job`` is skipped, raising
    their first error, if one of the steps ``after`` (handed over before it,
    so finished when it runs) failed, or an earlier step of its ``chain``.
    """
    after = tuple(after)
    global _LAST
    queue = _QUEUE
    given_back = threading.Lock()  # taken by whichever gives the place back first: once, never twice

    def give_back() -> None:
        if given_back.acquire(blocking=False):
            queue.leave()

    def run(gather: bool = True) -> None:
        if gather:
            queue.start(handed_at, interval)
        failed = next((step.exception() for step in after
                       if step.done() and not step.cancelled() and step.exception() is not None), None)
        if failed is None and chain is not None:  # also a step of the chain whose caller never got its future
            failed = chain.failed
        if failed is not None:  # said when it failed; this one is not written, and not said again
            give_back()
            raise failed
        try:
            job()
        except BaseException as error:
            if chain is not None and chain.failed is None:
                chain.failed = error
            logging.getLogger("tb_imbalance").error(
                "tb_imbalance: %s failed in the background writer: %s: %s "
                "(raised again at the callback's next epoch end or at the end of training)",
                what, type(error).__name__, error,
            )
            raise
        finally:
            give_back()

    handed_at, interval = queue.enter(series)
    handed = False
    try:
        with _HANDING:
            try:
                step = _executor().submit(run)
            except RuntimeError as error:
                if "shutdown" not in str(error):  # not the interpreter's exit (no thread could start, say)
                    raise
                step = _run_here(run, _LAST)  # the interpreter is shutting down and this thread still trains
            handed = True
            _LAST = step
        return step
    except BaseException:  # a Ctrl-C while handing over: the place is not kept (else later fits would hang)
        if not handed:
            give_back()
        raise


def _run_here(run: Callable[..., None], before: concurrent.futures.Future | None) -> concurrent.futures.Future:
    """``run`` on the calling thread once the step before it is written, as a finished future."""
    _QUEUE.write_now()
    if before is not None:
        concurrent.futures.wait([before])
    step: concurrent.futures.Future = concurrent.futures.Future()
    try:
        run(gather=False)
    except Exception as error:  # noqa: BLE001 - kept with the step, raised by wait() as a background one
        step.set_exception(error)
    else:
        step.set_result(None)
    return step


def flush() -> None:
    """Wait until every step handed over so far in this process is written.

    Errors stay with their steps (logged when they happened, raised by the
    callback that handed them over). Use it after a ``fit`` that raised,
    before reading its run directory.

    Example:
        >>> flush()
    """
    with _HANDING:
        last, executor = _LAST, _EXECUTOR
    _QUEUE.write_now()
    if executor is not None:  # also a step queued by a hand-over that a Ctrl-C cut short
        try:
            executor.submit(lambda: None).result()
        except RuntimeError:  # shut down with the interpreter: _LAST is the last one
            pass
    if last is not None:
        concurrent.futures.wait([last])  # one worker, first in first out: the last one handed over is written last


def raise_failures(steps: list[concurrent.futures.Future]) -> None:
    """Drop the finished steps from ``steps``; raise the first error among them."""
    finished = [step for step in steps if step.done()]
    for step in finished:
        steps.remove(step)
    for step in finished:
        error = step.exception()
        if error is not None:
            raise error


def wait(steps: Iterable[concurrent.futures.Future], chain: "Chain | None" = None) -> None:
    """Return once every step in ``steps`` is written; raise the first error among them. With ``chain``: once
    every step handed over so far is written, raising also the error of a failed step of that chain (one whose
    caller never got its future included)."""
    steps = list(steps)
    if not all(step.done() for step in steps):
        _QUEUE.write_now()
    concurrent.futures.wait(steps)
    if chain is not None:
        flush()
    for step in steps:
        error = step.exception()
        if error is not None:
            raise error
    if chain is not None and chain.failed is not None:
        raise chain.failed
