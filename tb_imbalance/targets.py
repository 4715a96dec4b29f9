"""Where :func:`tb_imbalance.log_report` writes: the accepted ``target`` objects.

A target is turned into a :class:`Sink` that writes one step's summary values
as one record, after refusing a step or class set that would mix two runs
(:mod:`tb_imbalance.run_history`):

================================================  ==============================================
``str`` / ``os.PathLike``                          a run directory; one :class:`ReportWriter` per
                                                   directory is kept open for the process (all
                                                   steps in one event file), flushed every step;
                                                   those of the last ``PICTURES_KEPT`` directories
                                                   used keep their pictures' static parts
:class:`tb_imbalance.ReportWriter`                 its event file
``torch.utils.tensorboard.SummaryWriter``          its own event file, next to the user's scalars
(or ``tensorboardX.SummaryWriter``)
a ``tf.summary`` writer (``create_file_writer``)   ``tf.summary.experimental.write_raw_pb``
================================================  ==============================================

Every target checks the step (a validated :class:`tb_imbalance.step.ReportStep`)
against its run's :class:`~tb_imbalance.run_history.RunHistory` before writing,
and refuses the same things with the same messages. What that history knows:
a directory, a :class:`ReportWriter` and a ``SummaryWriter`` (its
``get_logdir()``) read their directory's event files on first use and, for
local directories, what other writers (this process or another) add to them
later: the first time, a warning says how to keep both, and the tags those
writers hold are refused from then on, so two processes writing one tag are
refused in whichever order they start (:mod:`tb_imbalance.other_writers`; a
``SummaryWriter``'s own event file, where its user's scalars go too, is its
own, and a report's tag its user writes there later is refused too); they
take turns to check and write (:mod:`tb_imbalance.run_lock`). A
``tf.summary`` writer does not tell its directory (TensorFlow keeps
the ``logdir`` of ``create_file_writer`` inside the writer's resource), so
its history (:func:`history_of`, shared with :mod:`tb_imbalance.summary`)
holds what this process wrote through that writer object: steps that earlier
processes logged there, and another process writing the same tag at the same
time, are not checked, and a log line says so once per process.

Frameworks are recognised by their type's module, so a PyTorch user never
imports TensorFlow here, and the other way round.

Example:
    >>> import tempfile
    >>> sink = sink_for(tempfile.mkdtemp())
    >>> type(sink.writer).__name__
    'ReportWriter'
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import functools
import logging
import os
import socket
import threading
import time
import weakref
from typing import Any, Callable

from tensorboard.compat.proto import event_pb2, summary_pb2

from tb_imbalance.events import ReportBuilder
from tb_imbalance.lightning_sanity import LIGHTNING as _LIGHTNING, in_sanity_check
from tb_imbalance.other_writers import WatchedHistory
from tb_imbalance.run_history import ONE_PROCESS, RunHistory
from tb_imbalance.run_lock import one_writer_at_a_time
from tb_imbalance.run_location import run_directory, warn_unreadable_run_name
from tb_imbalance.step import ReportStep
from tb_imbalance.writer import ReportWriter, write_checked

__all__ = [
    "PICTURES_KEPT", "Sink", "sink_for", "directory_writer", "close_directory_writers", "history_of", "shared_write_lock",
]

#: Directory writers that keep their pictures' static parts (those used last); the others draw them again.
PICTURES_KEPT = 32

# Pictures for SummaryWriter / tf.summary targets, drawn once per tag and class set.
_SHARED_BUILDER = ReportBuilder()
# Held while a SummaryWriter / tf.summary target checks a step and writes it (and while the shared
# builder draws): two threads logging through one writer would otherwise both pass the check.
_SHARED_WRITE_LOCK = threading.RLock()
_DIRECTORY_WRITERS: dict[str, ReportWriter] = {}
_PICTURED: "collections.OrderedDict[str, ReportWriter]" = collections.OrderedDict()  # may keep pictures; last used last
# What each SummaryWriter / tf.summary writer already holds, per writer object.
_HISTORIES: "weakref.WeakKeyDictionary[Any, RunHistory | WatchedHistory]" = weakref.WeakKeyDictionary()
# The SummaryWriter object that writes each event file (tensorboardX names two of one second alike).
_FILE_WRITERS: "weakref.WeakValueDictionary[str, Any]" = weakref.WeakValueDictionary()
_LOCK = threading.Lock()
_LOG = logging.getLogger("tb_imbalance")


def _forget_after_fork() -> None:
    # A forked child has the parent's writers with their locks as they were, possibly held by the
    # parent's background writer thread, which the child does not have: it opens writers of its own.
    global _LOCK, _SHARED_WRITE_LOCK, _DIRECTORY_WRITERS, _PICTURED, _HISTORIES, _FILE_WRITERS
    _LOCK, _SHARED_WRITE_LOCK, _FILE_WRITERS = threading.Lock(), threading.RLock(), weakref.WeakValueDictionary()
    _DIRECTORY_WRITERS, _PICTURED, _HISTORIES = {}, collections.OrderedDict(), weakref.WeakKeyDictionary()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


class Sink:
    """A resolved target: writes one step's report through :func:`write_checked`."""

    def __init__(
        self, writer: Any, history: Callable[[], RunHistory], builder: ReportBuilder,
        write: Callable[[int, list], bool | None], lock: Any = None, recording: Callable[[], bool] = lambda: True,
        run_dir: str | None = None,
    ) -> None:
        self.writer = writer
        self._run_dir = run_dir  # local: processes take turns to check and write (one_writer_at_a_time)
        self._records = recording
        self._lock = lock if lock is not None else contextlib.nullcontext()
        self._history = history
        self._builder = builder
        self._write = write

    def recording(self) -> bool:
        """Whether a step would be written now (not inside ``tf.summary.record_if(False)``, nor in
        PyTorch Lightning's sanity check: :func:`~tb_imbalance.lightning_sanity.in_sanity_check`)."""
        return self._records() and not in_sanity_check()

    @property
    def history(self) -> RunHistory:
        """What this target's run already holds."""
        return self._history()

    def write_report(self, report: ReportStep, **options: Any) -> None:
        """Write the checked step ``report`` (``options``: per_class_scalars, image, description).

        Nothing is checked or written while the target does not record (``tf.summary.record_if(False)``).
        """
        with self._lock, one_writer_at_a_time(self._run_dir):
            if not self.recording():
                return
            write_checked(self._history(), self._builder, self._write, report, **options)


def directory_writer(path: str | os.PathLike) -> ReportWriter:
    """The process's one open :class:`ReportWriter` for a run directory.

    Every writer of the process (directory targets, Keras callbacks) shares
    it: two event files written at once in one directory lose data in
    TensorBoard's Python loader, which follows only the newest file.
    Only the writers of the last :data:`PICTURES_KEPT` directories used
    keep their pictures' static parts (about 0.4 MB at 10 classes, more
    with more classes), so that a process logging run after run (a
    notebook cell run again into new directories) keeps a few kB per run;
    an older writer used again draws them again.
    """
    location = run_directory(os.fspath(path))  # one spelling per directory: its writer's key
    with _LOCK:
        writer = _DIRECTORY_WRITERS.get(location)
        if writer is None:  # a deleted directory needs no new writer: the writer starts over by itself
            writer = _DIRECTORY_WRITERS[location] = ReportWriter(path)
        _PICTURED[location] = writer
        _PICTURED.move_to_end(location)
        older = [_PICTURED.popitem(last=False) for _ in range(len(_PICTURED) - PICTURES_KEPT)]
    for key, other in older:  # not under _LOCK, and never waiting for a step being written
        if other.lock.acquire(blocking=False):
            try:
                other.builder.forget_pictures()
            finally:
                other.lock.release()
        else:  # in use: its pictures are dropped at a later call
            with _LOCK:
                if key not in _PICTURED:
                    _PICTURED[key] = other
                    _PICTURED.move_to_end(key, last=False)
    return writer


@atexit.register
def close_directory_writers() -> None:
    """Close the event files that directory targets opened (also run at exit)."""
    with _LOCK:
        writers = list(_DIRECTORY_WRITERS.values())
        _DIRECTORY_WRITERS.clear()
        _PICTURED.clear()
    for writer in writers:  # not under _LOCK: a step being written may need it (history_of)
        with writer.lock:  # not while a background step writes
            writer.close()


def history_of(target: Any, run_dir: str | None = None, own_file: str | None = None) -> RunHistory:
    """The run history of a ``SummaryWriter`` / ``tf.summary`` writer object, kept per object.

    When the writer's directory ``run_dir`` is known (``SummaryWriter.get_logdir()``),
    it is read on first use and, on later uses, with what other writers added
    there since (:mod:`tb_imbalance.other_writers`); ``own_file`` is the event
    file the writer itself writes (its user's scalars and these reports), never
    another writer's. A ``tf.summary`` writer does not tell its directory, so
    its history starts empty and holds what this process wrote through that
    writer object (see the module docs).
    """
    with _LOCK:
        found = _HISTORIES.get(target)
        if found is None:
            if run_dir:
                warn_unreadable_run_name(run_dir)
            if not run_dir:  # a tf.summary writer does not tell its directory
                found = RunHistory(_describe_writer(target))
            elif own_file is None:
                found = RunHistory.from_directory(run_dir)
                _LOG.warning(
                    "tb_imbalance: cannot tell which event file this %s writes, so other writers in %s are "
                    "not watched: its history is read once, now. Write %s.", type(target).__name__, run_dir, ONE_PROCESS,
                )
            else:
                found = WatchedHistory(run_dir)
            _HISTORIES[target] = found
    if isinstance(found, RunHistory):
        return found
    found.own(own_file, shared=True)
    return found.history()


def shared_write_lock() -> Any:
    """The lock held while a ``SummaryWriter`` / ``tf.summary`` writer checks a step and writes it
    (:mod:`tb_imbalance.summary` too): the check and the write of one step are one operation."""
    return _SHARED_WRITE_LOCK


def _describe_writer(target: Any) -> str:
    return f"this process's tf.summary writer {type(target).__name__} at {id(target):#x}"


def _summary_writer_history(target: Any) -> Callable[[], RunHistory]:
    def history() -> RunHistory:
        own = _own_event_file(target)  # opens the writer's file: with purge_step, its SessionLog.START
        _refuse_an_event_file_of_another_writer(target, own)
        if target not in _HISTORIES or "://" not in os.fspath(_logdir_of(target)):  # remote ones are read once
            target.flush()  # what the writer (and its user) queued is on disk before its directory is read
        return history_of(target, os.fspath(_logdir_of(target)), own)  # a pathlib.Path given to the writer

    return history


def _refuse_an_event_file_of_another_writer(target: Any, own: str | None) -> None:
    """Refuse a ``SummaryWriter`` whose event file another open one of this process writes too: tensorboardX names
    its file after the second and the host alone, so two made in one second open one file, each from its start,
    and each overwrites what the other wrote (the report of one step, the other's scalars) on disk."""
    if own is None:
        return
    other = _FILE_WRITERS.get(os.path.abspath(own))
    if other is not None and other is not target and getattr(other, "file_writer", None) is not None:
        raise RuntimeError(
            f"`target`: this {type(target).__name__} writes the event file {own}, which another open "
            f"{type(other).__name__} of this process writes too (tensorboardX names the file after the second it "
            "was made in and the host, so two writers made in one second share it, and opening the second emptied "
            "what the first had written), and each would overwrite what the other writes. Log through one "
            "SummaryWriter per directory, or give each its own filename_suffix (SummaryWriter(log_dir, "
            "filename_suffix='.eval'))"
        )
    _FILE_WRITERS[os.path.abspath(own)] = target


def _logdir_of(target: Any) -> Any:
    """A torch ``SummaryWriter``'s ``get_logdir()``; tensorboardX's ``logdir``."""
    return target.get_logdir() if hasattr(target, "get_logdir") else target.logdir


def _write_event(target: Any, step: int, values: list) -> None:
    """One event of ``values`` at ``step`` into the ``SummaryWriter``'s own file, on disk when this returns."""
    file_writer = target._get_file_writer()
    if not _comes_from(target, ("tensorboardX",)):
        file_writer.add_summary(summary_pb2.Summary(value=values), step)
        file_writer.flush()
        return
    # tensorboardX queues events for a thread of its own, and its flush() does not wait for that queue:
    # the event goes to its file directly (its record writer is locked), in its own proto classes.
    events = file_writer.event_writer._ev_writer
    event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values))
    events._write_serialized_event(event.SerializeToString())
    events.flush()


def _refuse_a_writer_from_before_a_fork(target: Any) -> None:
    """A ``SummaryWriter`` made before a fork has no writing thread in the child: torch's flush would wait forever
    there, and tensorboardX's file would get the parent's buffered records again."""
    events = getattr(target._get_file_writer(), "event_writer", None)
    queue = getattr(events, "_async_writer", events)  # torch's thread sits one level down, tensorboardX's here
    worker = getattr(queue, "_worker", None)
    if worker is None or getattr(queue, "_closed", True) or worker.is_alive():
        return
    if getattr(worker, "exception", None) is None:  # a thread that died of an error (a full disk): torch raises it
        raise RuntimeError(
            "`target`: this SummaryWriter's writing thread does not run in this process: the writer was made "
            "before a fork (a DataLoader worker, multiprocessing), and writing through it here would wait "
            "forever. Make a SummaryWriter in this process, or log from the process that made it"
        )


def _before_a_tensorboardx_reopen(target: Any) -> None:
    """Before a closed tensorboardX ``SummaryWriter`` reopens (its ``_get_file_writer()`` does, as its own writes
    do), wait until the file it will open is not one that exists: it names the file after the current second
    (``events.out.tfevents.<seconds>.<host>``) and opens it with ``'wb'``, so a reopen within the second of the
    file it closed would replace that file, the run's earlier steps and scalars with it. Its ``purge_step`` is
    dropped, as torch's writer drops it after its first file: reopened, it would write that step's
    ``SessionLog.START`` again, and TensorBoard would drop every step logged since."""
    if getattr(target, "all_writers", None) is not None and getattr(target, "file_writer", None) is not None:
        return  # open: nothing is reopened
    if getattr(target, "purge_step", None) is not None:
        target.purge_step = None
    prefix = os.path.join(os.fspath(_logdir_of(target)), "events.out.tfevents.")
    suffix = "." + socket.gethostname() + getattr(target, "_filename_suffix", "")
    deadline = time.monotonic() + 3
    while os.path.exists(prefix + str(time.time())[:10] + suffix):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"`target`: this closed tensorboardX SummaryWriter would reopen as {prefix}…{suffix}, an existing "
                "event file it would replace; make a new SummaryWriter instead of writing through a closed one")
        time.sleep(0.02)


def _own_event_file(target: Any) -> str | None:
    """The event file a torch / tensorboardX ``SummaryWriter`` writes (reopened after close, as its writes do)."""
    events = getattr(target._get_file_writer(), "event_writer", None)
    events = getattr(events, "_ev_writer", events)  # tensorboardX keeps the file one level down
    name = getattr(events, "_file_name", None)
    return name if isinstance(name, str) else None


def _comes_from(target: Any, packages: tuple[str, ...]) -> bool:
    """Whether ``target``'s class, or a class it derives from, is defined in one of ``packages``."""
    return any(kind.__module__.split(".")[0] in packages for kind in type(target).__mro__)


def _is_summary_writer_with_file(target: Any) -> bool:
    # torch.utils.tensorboard.SummaryWriter and tensorboardX.SummaryWriter, and their subclasses
    return _comes_from(target, ("torch", "tensorboardX")) and hasattr(target, "_get_file_writer")


def _is_tf_summary_writer(target: Any) -> bool:
    return _comes_from(target, ("tensorflow",)) and hasattr(target, "as_default")


def sink_for(target: Any) -> Sink:
    """Resolve ``target`` (see the module docs) or raise ``TypeError`` naming the accepted kinds."""
    if isinstance(target, (str, os.PathLike)) and not isinstance(target, ReportWriter):
        target = directory_writer(target)
    if isinstance(target, ReportWriter):
        return Sink(target, lambda: target.history, target.builder, target._write_values, target.lock,
                    run_dir=target.log_dir)
    if _is_summary_writer_with_file(target):
        if _comes_from(target, ("tensorboardX",)) and getattr(target, "_write_to_disk", True):
            _before_a_tensorboardx_reopen(target)
        if not hasattr(target._get_file_writer(), "event_writer"):  # tensorboardX's write_to_disk=False (other ranks)
            return Sink(target, lambda: RunHistory(f"{type(target).__name__} that writes nothing"), _SHARED_BUILDER,
                        lambda step, values: False, recording=lambda: False)
        _refuse_a_writer_from_before_a_fork(target)

        return Sink(
            target, _summary_writer_history(target), _SHARED_BUILDER, functools.partial(_write_event, target),
            shared_write_lock(), run_dir=os.fspath(_logdir_of(target)),
        )
    if _is_tf_summary_writer(target):
        import tensorflow as tf

        from tb_imbalance.summary import _say_history_scope, write_values  # TensorFlow is loaded already

        if not tf.executing_eagerly():
            raise RuntimeError(
                "`target`: a tf.summary writer writes only in eager execution, and this runs in a TF1-style "
                "graph; pass the run directory instead (log_report('runs/<run>', ...), the numpy of sess.run)")
        _say_history_scope()

        def recording() -> bool:  # inside tf.summary.record_if(False): nothing checked or written, as tf.summary does
            with target.as_default():
                return bool(tf.summary.should_record_summaries())

        def write_to_tf_writer(step: int, values: list) -> bool:
            with target.as_default():
                if not write_values(values, step):
                    raise RuntimeError("the tf.summary writer did not write (is it closed?)")
            target.flush()
            return True

        return Sink(target, lambda: history_of(target), _SHARED_BUILDER, write_to_tf_writer, shared_write_lock(),
                    recording)
    if _comes_from(target, _LIGHTNING) and "Dummy" in type(target).__name__:
        raise TypeError(
            "`target` is PyTorch Lightning's stand-in for the logger on a process other than rank 0 "
            "(self.logger.experiment there writes nothing), and rank 0 would log its own rows only: gather "
            "every rank's rows (self.all_gather) and log on rank 0 alone (`if self.trainer.is_global_zero:`); "
            "see docs/pytorch.md"
        )
    if _comes_from(target, _LIGHTNING):  # a logger, its CSVLogger's writer (self.logger.experiment), a module...
        kind = type(target).__name__
        logger = isinstance(getattr(type(target), "experiment", None), property)
        if logger and any("TensorBoard" in base.__name__ for base in type(target).__mro__):
            raise TypeError(f"`target` is Lightning's {kind}, not its SummaryWriter: pass logger.experiment "
                            "(in a LightningModule, self.logger.experiment), the writer of the run its scalars go to")
        if "ExperimentWriter" in kind:
            kind += " (a CSVLogger's .experiment: self.logger.experiment where the Trainer's first logger is one)"
        raise TypeError(
            f"`target` is Lightning's {kind}, which writes no TensorBoard events: add a TensorBoardLogger "
            "(Trainer(logger=[TensorBoardLogger(...), ...])) and pass its writer, its .experiment (self.logger.experiment "
            "where it is the first logger), or pass a run directory"
        )
    none = "" if target is not None else (
        " (under DDP, a rank made without a writer, `writer = SummaryWriter(...) if rank == 0 else None`? Gather "
        "every rank's rows and call this on rank 0 alone, where the writer is)"
    )
    raise TypeError(
        "`target` must be a run directory (str or os.PathLike), a tb_imbalance.ReportWriter, "
        "a torch.utils.tensorboard.SummaryWriter or a tf.summary writer, received "
        f"{type(target).__module__}.{type(target).__name__}{none}"
    )
