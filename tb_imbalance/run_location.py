"""What a run directory's path must be: checked when a writer is made for it, before anything is written.

* :func:`run_directory`: the directory a ``log_dir`` names, as the writers
  use it: a ``file://`` URL is its local path (as TensorFlow's file writers
  read it), so it is watched and locked as a local directory and shares one
  writer with the path itself; a local path is made absolute, its symbolic
  links resolved (:func:`directory_key`);
* :func:`check_location`: a path that can become a directory (no file or
  link to nothing in the way, no ``://`` that is no URL, no unexpanded ``~``,
  no Windows path elsewhere), refused at once rather than when the first step
  is written;
* :func:`log_dir_text`, :func:`callback_log_dir`: the ``log_dir`` argument
  of :class:`tb_imbalance.ReportWriter` and of the Keras callback, checked
  when they are made;
* :func:`warn_unreadable_run_name`: a path part that TensorBoard's default
  loader cannot read the curves and examples under
  (:mod:`tb_imbalance.format.blob_names`), warned once.

Example:
    >>> import tempfile
    >>> check_location(tempfile.mkdtemp() + "/runs/baseline")  # missing directories are fine
"""

from __future__ import annotations

import os
import pathlib
import re
import warnings
from typing import Any

from tensorboard.compat.tensorflow_stub.io import gfile

from tb_imbalance.core.caller import user_stacklevel
from tb_imbalance.format.blob_names import BLOB_NAME_ADVICE, blob_key_trouble

__all__ = [
    "callback_log_dir", "check_location", "directory_key", "file_in_the_way", "log_dir_text", "run_directory",
    "warn_unreadable_run_name",
]

_WARNED_RUN_DIRS: set[str] = set()


def log_dir_text(log_dir: Any) -> str:
    """``log_dir`` as a str, or a ``TypeError`` naming the argument: a non-empty path (str or ``os.PathLike``) or URL."""
    location = os.fspath(log_dir) if isinstance(log_dir, (str, bytes, os.PathLike)) else None
    if not isinstance(location, str) or not location:
        fix = "; decode a bytes path first: os.fsdecode(log_dir)" if isinstance(location, bytes) else ""
        raise TypeError(f"`log_dir` must be a non-empty directory path or URL (a str or os.PathLike), received {log_dir!r}{fix}")
    return location


def callback_log_dir(log_dir: Any, run_name: Any) -> str:
    """The callback's ``log_dir`` as a str, once it and its run directory ``<log_dir>/<run_name>`` are checked
    (:func:`run_directory`): refused when the callback is made, not when training starts."""
    location = log_dir_text(log_dir)
    if not isinstance(run_name, str) or not run_name or os.path.isabs(run_name) or ".." in run_name.split("/"):
        raise ValueError(f"`run_name` must be a directory inside `log_dir` (e.g. 'test_set'), received {run_name!r}")
    run_directory(os.path.join(location, run_name))
    return location


def run_directory(log_dir: str) -> str:
    """The run directory ``log_dir`` names, checked (:func:`check_location`), as :func:`directory_key` spells it.

    Raises:
        ValueError: a ``file://`` URL that names no absolute local path
            (``file://runs/a``, ``file://host/runs/a``), or what
            :func:`check_location` refuses.
    """
    if log_dir[:7].lower() == "file://":
        if _file_url_path(log_dir) is None:
            raise ValueError(
                f"the run directory {log_dir!r} is a file:// URL without an absolute local path after it "
                f"(file:///runs/a is the directory /runs/a); pass the path itself ({log_dir[7:]!r}), "
                "or file:/// followed by the absolute path"
            )
        log_dir = _file_url_path(log_dir)
    check_location(log_dir)
    return directory_key(log_dir)


def directory_key(run_dir: str) -> str:
    """One spelling per run directory: a local path absolute, from the working directory of now, with its
    symbolic links resolved (``runs/a``, ``./runs//a/`` and a link to it are one directory, and a later
    ``os.chdir`` or a link changed does not move a writer made now); ``file:///x`` as ``/x``; other URLs
    without trailing slashes (``s3://bucket/runs/a/`` is ``s3://bucket/runs/a``; ``s3://bucket/`` stays)."""
    run_dir = _file_url_path(run_dir) or run_dir
    if "://" not in run_dir:
        return os.path.realpath(run_dir)
    scheme, rest = run_dir.split("://", 1)
    return f"{scheme}://{rest.rstrip('/')}" if "/" in rest.rstrip("/") else run_dir


def _file_url_path(url: str) -> str | None:
    """The local path of a ``file:///path`` or ``file://localhost/path`` URL, else None."""
    host, slash, path = url[7:].partition("/") if url[:7].lower() == "file://" else ("-", "", "")
    if not slash or host.lower() not in ("", "localhost"):
        return None
    return path if os.name == "nt" and re.match(r"[A-Za-z]:", path) else "/" + path  # file:///C:/runs


def check_location(run_dir: str) -> None:
    """Refuse at once, not when the first step is written, a run directory that cannot be made:
    a path with a NUL character, a local path with ``://`` that is no URL, a URL whose file system
    TensorBoard's file layer cannot open here, a local path starting with an unexpanded ``~`` (made
    as a directory named ``~``, where TensorBoard's ``--logdir`` reads the home directory), a Windows
    path (``C:\\runs``) elsewhere than on Windows, a file where the directory or a parent would be, or a
    symbolic link there whose target does not exist."""
    if "\0" in run_dir:
        raise ValueError(
            f"the run directory {run_dir!r} holds a NUL character, which no file system accepts in a "
            "path; choose a name without it"
        )
    if "://" in run_dir:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", run_dir.split("://", 1)[0]):
            raise ValueError(
                f"the run directory {run_dir!r} holds '://' but does not start with a URL scheme (s3://, "
                "gs://, …): TensorBoard's file layer would read it as a URL. Choose a name without '://'"
            )
        try:
            gfile.get_filesystem(run_dir)
        except (ValueError, ImportError) as error:  # fsspec: "Protocol not known: foo", "Install s3fs …"
            package = "boto3 (TensorBoard's own S3 layer) or s3fs" if run_dir[:5].lower() == "s3://" else \
                "the fsspec package of its scheme (gcsfs, adlfs, …)"
            raise type(error)(
                f"the run directory {run_dir!r} is a URL that TensorBoard's file layer cannot open here "
                f"({error}); install {package} or pass a local path"
            ) from None
        scheme, rest = run_dir.split("://", 1)
        if scheme.lower() == "s3" and "/" not in rest:  # TensorBoard's S3 layer splits bucket from path at a "/"
            raise ValueError(
                f"the run directory {run_dir!r} is a bucket without a path after it, which TensorBoard's S3 "
                f"layer cannot read or write; pass {run_dir + '/'!r} or a prefix such as {run_dir + '/runs/<run>'!r}"
            )
        return
    if run_dir.startswith("~") and os.path.expanduser(run_dir) != run_dir:
        head = run_dir.replace(os.sep, "/").split("/", 1)[0]
        raise ValueError(
            f"the run directory {run_dir!r} starts with {head!r}, which Python does not expand: it would be made as "
            f"a directory named {head!r} in the working directory ({os.getcwd()}), where `tensorboard --logdir` "
            f"given {head + '/…'!r} does not look (TensorBoard expands it). Pass the path through os.path.expanduser "
            f"({head!r} is {os.path.expanduser(head)!r} here), and the same expanded path to keras.callbacks.TensorBoard "
            "or a SummaryWriter, which do not expand it either"
        )
    lost_slash = re.match(r"([A-Za-z][A-Za-z0-9+.-]+):/(?!/)", run_dir)
    if lost_slash and _is_url_scheme(lost_slash.group(1)):
        scheme = lost_slash.group(1)
        raise ValueError(
            f"the run directory {run_dir!r} reads as a {scheme}:// URL with a slash lost "
            f"(pathlib.Path('{scheme}://bucket/runs') gives '{scheme}:/bucket/runs') and would be made as a "
            f"local directory named {scheme + ':'!r}; pass the URL as a str, with '://'"
        )
    if os.name != "nt" and re.match(r"[A-Za-z]:[\\/]", run_dir):
        raise ValueError(
            f"the run directory {run_dir!r} is a Windows path, and this system is not Windows: it would be "
            f"made as a directory named {run_dir.split('/')[0]!r} in the working directory; pass a path of this "
            "system (runs/<run>, /data/runs/<run>)"
        )
    path = os.path.abspath(run_dir)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        if os.path.islink(path):  # followed, its target would be made: wherever it points
            raise FileNotFoundError(
                f"the run directory {run_dir!r} cannot be made: {path!r} is a symbolic link to "
                f"{os.readlink(path)!r}, which does not exist (or leads back to itself); make the link's "
                "target first, or pass another directory"
            )
        path = os.path.dirname(path)
    blocking = file_in_the_way(run_dir)
    if blocking is not None:
        raise NotADirectoryError(
            f"the run directory {run_dir!r} cannot be made: {blocking!r} is a file, not a directory; pass "
            "a directory path (missing directories are made)"
        )


def file_in_the_way(run_dir: str) -> str | None:
    """The file at a local ``run_dir``, or at the nearest existing path above it, that keeps the directory from
    being made (None: there is none, or ``run_dir`` is a URL). Read at the start and when a later write finds
    the directory gone.

    Example:
        >>> import tempfile
        >>> parent = tempfile.mkdtemp()
        >>> open(os.path.join(parent, "runs"), "w").close()
        >>> file_in_the_way(os.path.join(parent, "runs", "baseline")) == os.path.join(parent, "runs")
        True
        >>> file_in_the_way(os.path.join(parent, "other", "baseline")) is None
        True
    """
    if "://" in run_dir:
        return None
    path = os.path.abspath(run_dir)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path if os.path.lexists(path) and not os.path.isdir(path) else None


def _is_url_scheme(scheme: str) -> bool:
    """Whether TensorBoard's file layer knows ``scheme`` (its package installed or not)."""
    try:
        gfile.get_filesystem(f"{scheme}://")
    except ImportError:  # known, its package missing
        return True
    except ValueError:  # fsspec: "Protocol not known"
        return False
    return True


def warn_unreadable_run_name(run_dir: str) -> None:
    """Warn once per directory when a part of ``run_dir``'s path holds a character that
    TensorBoard's default loader cannot read curves and examples under
    (:mod:`tb_imbalance.format.blob_names`): the run's name is its path below ``--logdir``."""
    if run_dir in _WARNED_RUN_DIRS:
        return
    path = run_dir.split("://", 1)[-1] if "://" in run_dir else run_dir
    for part in pathlib.PurePath(path).parts:
        trouble = blob_key_trouble(part)
        if trouble is not None:
            _WARNED_RUN_DIRS.add(run_dir)
            warnings.warn(
                f"tb_imbalance: the run directory {run_dir!r} has {trouble} in {part!r}. If that part "
                f"is in the run's name (its path below tensorboard --logdir), {BLOB_NAME_ADVICE}: "
                "rename the directory, or start TensorBoard with --load_fast=false. The matrix and "
                "scalars are unaffected.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            return
