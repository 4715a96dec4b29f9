"""Reading the event files of a run directory without TensorFlow: list them, read their records.

The reading half of :mod:`tb_imbalance.event_file`: the run history
(:mod:`tb_imbalance.run_history`) and the other writers' checks read what
earlier steps left, through the same file-system layer the writer uses — a
local directory directly, a URL through TensorBoard's ``gfile``.

Example:
    >>> import tempfile
    >>> from tb_imbalance.event_file import EventFile
    >>> with EventFile(tempfile.mkdtemp()) as events:
    ...     events.write(1, [])
    >>> event_files(events.run_dir) == [events.path]
    True
    >>> [event.step for event in read_events(events.path)]  # the file's header, then step 1
    [0, 1]
"""

from __future__ import annotations

import os
import struct
from typing import Iterator

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import errors
from tensorboard.compat.tensorflow_stub.io import gfile

__all__ = ["event_files", "read_events", "read_events_from"]


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:  # a symlink loop, a link into a directory this user cannot read: not an event file to read
        return False


def event_files(run_dir: str) -> list[str]:
    """The event files of the run directory ``run_dir``, sorted: files whose name holds ``tfevents``.

    A directory is listed, never matched against a pattern (so any characters
    in its path are fine, ``[1]`` included, and TensorBoard's S3 layer, which
    globs only a trailing ``*``, finds them), leaving out hidden files (as
    ``glob`` does) and, locally, entries that are not files; a URL through
    TensorBoard's file layer. A directory that does not exist has none; a
    local one this user may not list raises ``PermissionError`` naming it (its
    steps could not be checked, nor read by TensorBoard); a URL that cannot be read (no credentials,
    no network, its package missing) raises ``OSError`` / ``ImportError``
    naming it, so a writer fails before it writes (the callback before it
    trains), not at the first step. Example: the module's.
    """
    if "://" in run_dir:
        try:
            names = gfile.listdir(run_dir) if gfile.exists(run_dir) else []
        except (FileNotFoundError, errors.NotFoundError):
            return []
        except Exception as error:  # no credentials, no network (botocore's, google-auth's errors), a package missing
            raise (ImportError if isinstance(error, ImportError) else OSError)(
                f"cannot read the run directory {run_dir!r} ({type(error).__name__}: {error}); check the "
                "store's credentials, network and packages (pyarrow for hdfs://, …), or pass a local directory"
            ) from error
        base = run_dir.rstrip("/") + "/"
        return sorted(base + name for name in names if "tfevents" in name and not name.startswith("."))
    try:
        with os.scandir(run_dir) as entries:
            names = [entry.name for entry in entries
                     if "tfevents" in entry.name and not entry.name.startswith(".") and _is_file(entry)]
    except PermissionError as error:  # writable, not readable (mode 333): writing unchecked would mix runs
        raise PermissionError(error.errno, f"cannot list the run directory {run_dir!r}: {error.strerror}; the steps "
                              "it holds cannot be checked before a write (nor read by TensorBoard): make it readable "
                              "(chmod u+r) or pass another log_dir") from None
    except OSError:  # missing, or a file (said where the run directory is made)
        return []
    return sorted(os.path.join(run_dir, name) for name in names)


def read_events(path: str) -> Iterator[event_pb2.Event]:
    """The events of one event file, stopping quietly at a truncated last record.

    Reads a local file directly and a remote URL through TensorBoard's file
    layer, as :class:`~tb_imbalance.event_file.EventFile` writes it. A record cut short by a crash ends
    the file, as in TensorBoard's loaders. Example: the module's.
    """
    yield from read_events_from(path)[0]


def read_events_from(path: str, start: int = 0) -> tuple[list[event_pb2.Event], int]:
    """The events of ``path`` from byte offset ``start`` (a record boundary), and where they end.

    Returns:
        ``(events, end)``: ``end`` is the offset just after the last complete
        record, where a later call continues once the file has grown.

    Example:
        >>> import tempfile
        >>> from tensorboard.compat.proto import summary_pb2
        >>> from tb_imbalance.event_file import EventFile
        >>> with EventFile(tempfile.mkdtemp()) as events:
        ...     events.write(2, [summary_pb2.Summary.Value(tag="x", simple_value=1.0)])
        >>> found, end = read_events_from(events.path)
        >>> [event.step for event in found], end == os.path.getsize(events.path)
        ([0, 2], True)
    """
    if "://" in path:  # TensorBoard's file layer reads whole files
        with gfile.GFile(path, "rb") as handle:
            data = handle.read()[start:]
    else:  # a local file is read from `start` on: a watched file is read again only for what it gained
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read()
    events: list[event_pb2.Event] = []
    offset = 0
    while offset + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        end = offset + 12 + length
        if end + 4 > len(data):
            break
        try:
            events.append(event_pb2.Event.FromString(data[offset + 12:end]))
        except Exception:  # noqa: BLE001 - a damaged record ends the readable part
            break
        offset = end + 4
    return events, start + offset
