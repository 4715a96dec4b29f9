"""Another writer in a target's local run directory: noticed, said once, and its tags refused.

TensorBoard's Python loader (``--load_fast=false``) reads only the newest
event file of a directory, so another writer appending to its own file next
to a target's loses events there; and two writers of one tag (two processes
under DDP without a rank guard) lose each other's steps. A
:class:`WatchedHistory` is the :class:`~tb_imbalance.run_history.RunHistory`
of a target whose directory is known — a directory or
:class:`tb_imbalance.ReportWriter`, a PyTorch ``SummaryWriter``: read from the
directory on first use, and on every later use it takes in what the
directory's other event files gained since (written by this process or
another), warning once how to keep both; the tags they hold are refused from
then on (:meth:`RunHistory.absorb_events`). The target's own event files
(:meth:`WatchedHistory.own`) are never another writer's. Remote directories
(``s3://``, ``gs://``, …) are read on first use only: listing them every step
would cost a request. A local directory's other files are looked at every
step; the directory is listed again whenever its times say an entry may have
been made, removed or renamed since the last listing (on a file system of
:data:`LOCAL_FILE_SYSTEMS`, once it had been unchanged for
:data:`QUIET_NS`; at every step elsewhere, and while it changes).

An event file found on first use belongs to an earlier run, unless its name
says it is written by another process of this host that is still running
(:func:`running_writer`: TensorFlow, PyTorch and tb_imbalance name their
files ``events.out.tfevents.<time>.<host>.<pid>.<n>…``): two DDP ranks
without a rank guard are then told so, whichever starts second, instead of
the second being told its steps are not after the first's. Nor does a file
that this process holds open for writing (:func:`files_written_here`: a
``tf.summary`` writer of the same directory, whose steps ``log_report`` to
the directory would otherwise continue as an earlier run's); the files that
tb_imbalance's own writers keep open between steps (:func:`kept_open_here`)
are not such files. Two that start
writing at once take turns where the system can lock the directory
(:mod:`tb_imbalance.run_lock`): the second finds the first's file and is
refused from its first step.

Example:
    >>> import tempfile, warnings, numpy as np
    >>> from tb_imbalance import ReportWriter
    >>> run_dir = tempfile.mkdtemp()
    >>> watched = WatchedHistory(run_dir)
    >>> watched.history().tags
    {}
    >>> with ReportWriter(run_dir) as other:
    ...     other.write_matrix(0, "confusion_matrix", np.eye(2, dtype=int), image=False)
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     watched.history().tags["confusion_matrix"].other_writer.startswith(run_dir)
    True
    >>> "another writer is adding to" in str(said[0].message)
    True
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import warnings

from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.event_file import kept_open_here
from tb_imbalance.event_reading import event_files, read_events_from
from tb_imbalance.run_history import ONE_PROCESS, RunHistory

__all__ = [
    "LOCAL_FILE_SYSTEMS", "QUIET_NS", "WatchedHistory", "file_system_type", "files_written_here", "running_writer",
]


def running_writer(path: str) -> int | None:
    """The process id of another process of this host, still running, that named the event file ``path``.

    None when the name does not say (another naming, a URL), when it names
    another host, this process, a process that has ended, or one that started
    after the file was named (its id given again; where ``/proc`` tells).

    Example:
        >>> import os, socket
        >>> running_writer(f"run/events.out.tfevents.1700000000.{socket.gethostname()}.{os.getpid()}.000001.v2")
        >>> running_writer("run/events.out.tfevents.1700000000.elsewhere.1.0.v2")
    """
    if "://" in path or os.name != "posix":
        return None
    # The host is this one's, matched as text: a host name may hold dots and digits, and a writer's
    # filename_suffix may follow the counter with anything (".1", "_rank0"), so neither can be split off by a pattern.
    host = re.escape(socket.gethostname())
    match = re.search(rf"tfevents\.(?P<time>\d+)\.{host}\.(?P<pid>\d+)\.\d+", os.path.basename(path))
    if match is None:
        return None
    pid = int(match["pid"])
    if pid == os.getpid() or not 0 < pid < 2**31:
        return None
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except PermissionError:
        pass  # it exists, as another user's
    except OSError:
        return None
    started = _process_start(pid)
    # Started after the file was named: the id was given again. A minute of slack: the boot time /proc gives
    # moves when the clock is set (NTP at boot, a resumed VM), and the name's time is whole seconds.
    if started is not None and started > int(match["time"]) + 60:
        return None
    return pid


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch, ±1 s), where ``/proc`` tells (Linux), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])  # field 22, starttime; the name may hold spaces
        with open("/proc/stat", "rb") as system:
            boot = next(int(line.split()[1]) for line in system if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def files_written_here() -> set[str]:
    """The real paths of the files this process holds open for writing, where ``/proc`` tells (Linux; else empty).

    A writer of this process other than the target's own (a ``tf.summary``
    writer made with ``create_file_writer`` on the same directory) keeps its
    event file open until it is closed; a file read, or closed, is not one.
    Read once per directory read: one look at each descriptor, however many
    event files the directory holds.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile("w") as open_file:
        ...     (os.path.realpath(open_file.name) in files_written_here()) == os.path.exists("/proc/self/fdinfo")
        True
        >>> os.path.realpath(__file__) in files_written_here()
        False
    """
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return set()
    written = set()
    for fd in descriptors:
        try:
            with open(f"/proc/self/fdinfo/{fd}") as info:
                flags = next(int(line.split()[1], 8) for line in info if line.startswith("flags:"))
            if flags & (os.O_WRONLY | os.O_RDWR):
                written.add(os.readlink(f"/proc/self/fd/{fd}"))
        except (OSError, ValueError, IndexError, StopIteration):
            continue
    return written


#: File systems whose directories' times change whenever an entry is made, removed or renamed, here, at once:
#: on them a directory listed once is listed again only when its times say it changed (not over the network,
#: where a directory's times may be cached or set by another machine's clock).
LOCAL_FILE_SYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs", "zfs"})
#: A listing is reused only once the directory had not changed for this long before it was listed: above the
#: coarsest times of those file systems (a second) and the kernel clock's tick, so that an entry made later
#: gives the directory another time even within one tick of that clock.
QUIET_NS = 3_000_000_000


def file_system_type(path: str) -> str | None:
    """The type of the file system that holds the local absolute ``path`` (``ext4``, ``nfs``…), where
    ``/proc/self/mountinfo`` tells (Linux), else None.

    Example:
        >>> file_system_type("/proc/self") in ("proc", None)
        True
    """
    found, longest = None, -1
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields = line.split()
                point = re.sub(r"\\([0-7]{3})", lambda octal: chr(int(octal[1], 8)), fields[4])
                inside = path == point or path.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= longest:  # the deepest mount, the last one made over it
                    found, longest = fields[fields.index("-") + 1], len(point)
    except (OSError, ValueError, IndexError):
        return None
    return found


class WatchedHistory:
    """The run history of the directory ``log_dir``, with what other writers add to it later.

    Args:
        log_dir: the target's run directory (a local path or a URL; URLs are
            not watched after the first read).
    """

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self._history: RunHistory | None = None
        self._read_up_to: dict[str, int] = {}
        self._sizes: dict[str, int] = {}  # each other file's size when last read
        self._own: list[str] = []
        self._shared: set[str] = set()  # own files a SummaryWriter's user writes too
        self._said = False
        self._lock = threading.Lock()
        self._listed: list[str] = []  # the last listing, and the directory's identity and times then
        self._listed_as: tuple | None = None  # None: list it again
        self._local: dict[int, bool] = {}  # st_dev: whether that file system's directory times can be trusted
        self._looked: tuple[int, tuple | None] | None = None  # the directory's times read by holds(), for history()

    @property
    def read(self) -> RunHistory | None:
        """The history as far as it was read, or None before the first :meth:`history` (nothing read)."""
        return self._history

    @property
    def files_read(self) -> list[str]:
        """The event files other than the target's own that the history was read from (first use and since)."""
        return list(self._read_up_to)

    def own(self, path: str | None, *, shared: bool = False) -> None:
        """Count the event file ``path`` as the target's own (None: nothing to add).

        ``shared``: its writer's user writes to it too (a ``SummaryWriter``'s
        scalars): the tags they add after the first read are refused as theirs.
        """
        if path is None:
            return
        if os.path.abspath(path) not in self._own:
            self._own.append(os.path.abspath(path))
        if shared:
            self._shared.add(os.path.abspath(path))

    def history(self) -> RunHistory:
        """What the run directory holds: read on first use, then with what other writers added since."""
        with self._lock:
            if self._history is None:
                self._looked = None
                running: list[str] = []
                written: list[set[str]] = []  # files_written_here(), read at the first file that needs it

                def another_writer(path: str) -> bool:
                    if os.path.abspath(path) in self._own:
                        return False
                    if running_writer(path) is None:
                        if "://" in path:
                            return False
                        if not written:
                            written.append(files_written_here())
                        real = os.path.realpath(path)
                        if real not in written[0] or kept_open_here(real):  # another writer's of tb_imbalance
                            return False
                    running.append(path)
                    return True

                self._history = RunHistory.from_directory(self.log_dir, another_writer)
                self._read_up_to = dict(self._history.file_ends)
                if running:
                    self._say(running)
            else:
                self._look_for_other_writers()
            return self._history

    def _look_for_other_writers(self) -> None:
        """Take in, and say once, what another writer added to this (local) directory."""
        if "://" in self.log_dir:
            return
        others = []
        for path in self._event_files():
            if os.path.abspath(path) in self._own:
                if os.path.abspath(path) in self._shared:
                    events, self._read_up_to[path] = read_events_from(path, self._read_up_to.get(path, 0))
                    self._history.absorb_user_events(events)
                continue
            start = self._read_up_to.get(path, 0)
            try:
                size = os.path.getsize(path)
            except OSError:
                continue
            if size <= start or size == self._sizes.get(path):  # nothing new (a record cut by a crash stays cut)
                continue
            self._sizes[path] = size
            events, self._read_up_to[path] = read_events_from(path, start)
            if events:
                others.append(path)
                self._history.absorb_events(events, other_writer=path)
        if others:
            self._say(others)

    def holds(self, path: str) -> bool:
        """Whether the local run directory still holds the file ``path``, by the directory's times where they
        say nothing was removed or renamed since a listing that held it, else by looking.

        The times read are those the next :meth:`history` lists the directory by: call it next.
        """
        self._looked = self._directory_times()
        if self._looked[1] is not None and self._looked[1] == self._listed_as and path in self._listed:
            return True
        return os.path.exists(path)

    def _directory_times(self) -> tuple[int, tuple | None]:
        now = time.time_ns()  # before the directory's times are read: an entry made later gets a later time
        try:
            seen = os.stat(self.log_dir)
        except OSError:
            return now, None
        return now, (seen.st_dev, seen.st_ino, seen.st_mtime_ns, seen.st_ctime_ns, seen.st_size)

    def _event_files(self) -> list[str]:
        """The directory's event files, named as RunHistory.from_directory names them; listed again
        whenever an entry may have been made, removed or renamed since the last listing."""
        (now, times), self._looked = self._looked or self._directory_times(), None
        if times is not None and times == self._listed_as:
            return self._listed
        self._listed, self._listed_as = event_files(self.log_dir), None
        if times is not None and now - max(times[2], times[3]) > QUIET_NS and self._local_times(times[0]):
            self._listed_as = times
        return self._listed

    def _local_times(self, device: int) -> bool:
        if device not in self._local:
            self._local[device] = file_system_type(os.path.realpath(self.log_dir)) in LOCAL_FILE_SYSTEMS
        return self._local[device]

    def _say(self, others: list[str]) -> None:
        """Say once that another writer adds to the event file ``others[0]``."""
        if not self._said:
            self._said = True
            own = f" {self._own[-1]}" if self._own else ""
            warnings.warn(
                f"tb_imbalance: another writer is adding to {others[0]} in {self.log_dir}, next to "
                f"this writer's own event file{own}. TensorBoard's Python loader (--load_fast=false) "
                "reads only the newest event file of a directory, so the older file's later events "
                "(your loss, or these reports) will not show there while it runs. To keep both, "
                "write everything through one writer (pass your SummaryWriter itself as the target, "
                f"log_report(writer, ...), rather than its directory), write {ONE_PROCESS}, or log into "
                "another directory. Said once per writer.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
