"""A TensorBoard event file written without TensorFlow, one synchronous record per step.

Event files are TFRecord files of ``Event`` protos. :class:`EventFile` writes
them with TensorBoard's own pieces — its file-system layer
(``tensorboard.compat.tensorflow_stub.io.gfile``) and its
``RecordWriter`` — so the callback, :func:`tb_imbalance.log_report` and
:class:`tb_imbalance.ReportWriter` need neither TensorFlow nor a background
thread: a record is on disk when :meth:`EventFile.flush` returns.

Each record carries two masked CRC32C checksums. TensorBoard's fallback
computes them in pure Python (about 140 ns a byte: 55 ms for a 400 kB step
at 1000 classes); when ``google-crc32c`` or ``crc32c`` is installed (the
``tb_imbalance`` package depends on ``google-crc32c``) the same checksum
takes microseconds. :data:`CRC_IMPLEMENTATION` says which one is in use.

A local file is kept open between steps and written directly, one ``write``
a step with nothing buffered (reopening it by its path cost seven system calls
a step); a file deleted meanwhile is noticed, as appending by its path would.
At most :data:`KEPT_OPEN_MAX` (32) stay open in a process; the least recently
written are let go and reopened at their next step.

Where it can write: a local directory, and every URL TensorBoard's
file-system layer knows — ``s3://`` with ``boto3`` installed, and any
protocol of ``fsspec`` (``gs://`` with ``gcsfs``, ``az://`` / ``abfs://``
with ``adlfs``, ``hdfs://``, ``memory://``, …). Remote stores that cannot
append keep the file in a local temporary file and upload it whole at each
flush.

Example:
    >>> import tempfile
    >>> from tensorboard.compat.proto import summary_pb2
    >>> run_dir = tempfile.mkdtemp()
    >>> with EventFile(run_dir) as events:
    ...     events.write(0, [summary_pb2.Summary.Value(tag="loss", simple_value=0.5)])
    >>> sorted(os.listdir(run_dir))[0].startswith("events.out.tfevents.")
    True
"""

from __future__ import annotations

import collections
import errno
import io
import itertools
import os
import socket
import struct
import threading
import time
import weakref
from typing import Callable, Sequence

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.io import gfile
from tensorboard.summary.writer.record_writer import RecordWriter

from tb_imbalance.run_location import file_in_the_way

__all__ = ["EventFile", "CRC_IMPLEMENTATION", "kept_open_here", "masked_crc32c"]

_MASK_DELTA = 0xA282EAD8


def _fast_crc32c() -> tuple[Callable[[bytes], int] | None, str]:
    try:
        import google_crc32c

        if google_crc32c.implementation == "c":
            return google_crc32c.value, "google-crc32c"
    except ImportError:
        pass
    try:
        import crc32c

        return crc32c.crc32c, "crc32c"
    except ImportError:
        return None, "pure Python (install google-crc32c for speed)"


_CRC32C, CRC_IMPLEMENTATION = _fast_crc32c()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C of ``data``, the same value as TensorBoard's.

    Example:
        >>> from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as slow
        >>> masked_crc32c(b"tb_imbalance") == slow(b"tb_imbalance")
        True
    """
    if _CRC32C is None:
        from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as slow

        return slow(data)
    crc = _CRC32C(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


class _FastRecordWriter(RecordWriter):
    """TensorBoard's record layout, with the fast checksum when one is installed."""

    def write(self, data: bytes) -> None:
        header = struct.pack("<Q", len(data))
        footer = struct.pack("<I", masked_crc32c(data))
        self._writer.write(header + struct.pack("<I", masked_crc32c(header)) + data + footer)


_FILE_COUNTER = itertools.count()
_KEPT_OPEN: dict[str, int] = {}  # the real path of each local event file an EventFile keeps open, and its process


def kept_open_here(path: str) -> bool:
    """Whether an :class:`EventFile` of this process keeps the local file ``path`` (a real path) open between steps.

    Example:
        >>> import tempfile
        >>> with EventFile(tempfile.mkdtemp()) as events:
        ...     events.write(0, [])
        ...     kept_open_here(os.path.realpath(events.path))
        True
        >>> kept_open_here(os.path.realpath(events.path))
        False
    """
    return _KEPT_OPEN.get(path) == os.getpid()


#: Local event files kept open at once: a process that logs into hundreds of run directories (each keeps
#: its writer) would otherwise run out of file descriptors. The least recently written are let go, and
#: reopened (never re-created) at their next step.
KEPT_OPEN_MAX = 32
_OPEN_LOCK = threading.RLock()  # re-entrant: a dropped file's __del__ may run while this thread holds it
_OPEN: "collections.OrderedDict[int, weakref.ref[_LocalFile]]" = collections.OrderedDict()  # least recently written first


_FORKS = 0  # forks between the process that started Python and this one: an EventFile opened at another is inherited


def _reset_after_fork() -> None:
    global _OPEN_LOCK, _FORKS
    _OPEN_LOCK = threading.RLock()  # a child has no thread that could release the parent's
    _OPEN.clear()  # its writers start files of their own (EventFile.write); the parent's handles go with them
    _FORKS += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _LocalFile:
    """A local event file kept open between steps: one ``write`` a record, nothing buffered in this process.

    Reopening the file by its path at every step costs seven system calls, and each lets the GIL go (a
    background writer beside a JAX fit then blocks and wakes again). Nothing buffered: a failed write leaves
    nothing that closing would write again. Once the file is deleted (its run directory removed by another
    process), a write raises ``FileNotFoundError`` as appending by the path would, not going to the
    deleted file unseen. At most :data:`KEPT_OPEN_MAX` files of the process stay open between steps.
    """

    def __init__(self, path: str) -> None:
        self.path, self._real = path, os.path.realpath(path)
        self._file: io.FileIO | None = None  # None while let go for other files
        self._closed = self._busy = False
        with _OPEN_LOCK:
            self._open(os.O_CREAT)

    def _open(self, create: int) -> None:  # under _OPEN_LOCK
        self._file = io.FileIO(os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | create,
                                       0o666), "ab")
        _KEPT_OPEN[self._real] = os.getpid()
        _OPEN[id(self)] = weakref.ref(self)  # weak: a writer dropped unclosed still closes its file
        while len(_OPEN) > KEPT_OPEN_MAX:
            for key, ref in list(_OPEN.items()):  # the least recently written that is not being written
                other = ref()
                if other is None or not other._busy:
                    _OPEN.pop(key)
                    if other is not None:
                        other._let_go()
                    break
            else:
                break

    def _let_go(self) -> None:  # under _OPEN_LOCK
        _OPEN.pop(id(self), None)
        if _KEPT_OPEN.get(self._real) == os.getpid():
            del _KEPT_OPEN[self._real]
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, data: bytes) -> None:
        with _OPEN_LOCK:
            if self._closed:
                raise ValueError(f"the event file {self.path!r} is closed")
            if self._file is None:
                self._open(0)  # let go for another file: reopened, not re-created (deleted: FileNotFoundError)
            else:
                _OPEN.move_to_end(id(self))
            self._busy = True  # not let go while written (the write is not under the lock)
        try:
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]
            if os.fstat(self._file.fileno()).st_nlink == 0:
                raise FileNotFoundError(errno.ENOENT, "the event file was deleted while a step was written", self.path)
        finally:
            self._busy = False

    def flush(self) -> None:
        pass

    def __del__(self) -> None:  # a writer dropped unclosed: its handle goes with it, without a ResourceWarning
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit, the module's globals may be gone
            pass

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with _OPEN_LOCK:
            self._closed = True
            self._let_go()


class EventFile:
    """Appends events to a new event file in ``run_dir`` (created on first write).

    The directory should belong to this writer alone: TensorBoard's Python
    loader follows only the newest event file of a directory, so two writers
    sharing one lose data there. A writer inherited by a forked child never
    writes to, flushes or closes its parent's file: its next step starts a
    new file of the child's own (its :meth:`flush` and :meth:`close` let the
    parent's go).

    Args:
        run_dir: local directory or URL of the run.

    Example:
        >>> import tempfile
        >>> events = EventFile(tempfile.mkdtemp())
        >>> events.write(3, [summary_pb2.Summary.Value(tag="x", simple_value=1.0)])
        >>> events.close()
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = os.fspath(run_dir)
        self.path: str | None = None
        self._records: _FastRecordWriter | None = None
        self._forks = _FORKS

    def _inherited(self) -> bool:
        """Whether the open file is a parent's, from before a fork: dropped, so that the child never writes to it
        (appending by its path, or through the kept-open handle), nor flushes or closes it (a remote store's
        upload of what it held at the fork would overwrite the parent's later steps)."""
        if self._records is None or self._forks == _FORKS:
            return False
        self.drop()
        return True

    def _open(self) -> None:
        fix = "pass a log_dir this process can write to"
        try:
            gfile.makedirs(self.run_dir)
        except OSError as error:  # no permission, a read-only or special file system, a file in its place
            blocking = file_in_the_way(self.run_dir)
            if blocking is not None:
                fix = f"{blocking!r} is a file, not a directory: move it out of the way, or pass another log_dir"
            raise type(error)(error.errno, f"cannot make the run directory {self.run_dir!r}: {error.strerror}; {fix}") from None
        name = "events.out.tfevents.%010d.%s.%d.%06d.v2" % (
            time.time(), socket.gethostname(), os.getpid(), next(_FILE_COUNTER)
        )
        path = self.run_dir.rstrip("/") + "/" + name if "://" in self.run_dir else os.path.join(self.run_dir, name)
        try:
            writer = _LocalFile(path) if "://" not in path else gfile.GFile(path, "wb")
        except OSError as error:  # a run directory that exists but is read-only, or not this user's to write in
            raise type(error)(error.errno, f"cannot make an event file in the run directory {self.run_dir!r}: "
                              f"{error.strerror}; {fix}") from None
        self.path, self._forks = path, _FORKS
        self._records = _FastRecordWriter(writer)

    def write(self, step: int, values: Sequence[summary_pb2.Summary.Value]) -> None:
        """Append one event holding ``values`` at ``step``.

        A write or flush that fails (a full disk) may leave a record cut
        short at the file's end, where readers stop: the events after it go
        to a new file, which readers take up next.
        """
        event = event_pb2.Event(wall_time=time.time(), step=int(step))
        event.summary.value.extend(values)  # copied once (a Summary(value=values) would be copied into the event again)
        try:
            opened = self._records is None or self._inherited()
            if opened:
                self._open()  # its own errors name the run directory and the fix
            header = [event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")] if opened else []
            try:
                for record in header + [event]:
                    self._records.write(record.SerializeToString())
            except OSError as error:
                raise self._unwritten(error) from error
        except BaseException:
            self.drop()
            raise

    def flush(self) -> None:
        """Put everything written on disk (or upload it, for remote stores)."""
        if self._records is not None and not self._inherited():
            try:
                self._records.flush()
            except OSError as error:
                self.drop()
                raise self._unwritten(error) from error
            except BaseException:
                self.drop()
                raise

    def _unwritten(self, error: OSError) -> OSError:
        """``error`` of a step's write (a full disk), as an ``OSError`` of its ``errno`` naming the file and the fix."""
        return type(error)(error.errno, f"a step could not be written to {self.path!r}: {error.strerror or error}. The "
                           "steps written before it stay readable; free space on that disk (or make it writable), then "
                           "write again: the next step starts a new event file")

    def drop(self) -> None:
        """Let the file go without writing anything more to it; a later :meth:`write` opens a new one.

        A remote file's buffer is dropped, not closed: closing would write a cut record, or re-create
        a deleted file, again. A local one has nothing buffered: its handle is closed.
        """
        records, self._records = self._records, None
        if records is not None and isinstance(records._writer, _LocalFile):
            records._writer.close()

    def close(self) -> None:
        """Flush and close the file; a later :meth:`write` opens a new one."""
        if self._records is not None and not self._inherited():
            self._records.close()
            self._records = None

    def __enter__(self) -> "EventFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
