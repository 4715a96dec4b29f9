"""ReportWriter: one run directory's reports, written without TensorFlow.

The Keras callback writes through it, and so does
:func:`tb_imbalance.log_report` when its target is a directory: the same
tags, format and picture whatever you train with. Reuse one writer across
steps: the picture's static parts are drawn once, and all steps land in one
event file.

Example:
    >>> import tempfile, numpy as np
    >>> with ReportWriter(tempfile.mkdtemp()) as writer:
    ...     writer.write_matrix(0, "confusion_matrix", np.array([[5, 1], [2, 2]]), ["ok", "fraud"])
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Callable, Mapping, Sequence

from tb_imbalance.continued_rows import warn_if_rows_changed
from tb_imbalance.event_file import EventFile
from tb_imbalance.events import ReportBuilder
from tb_imbalance.examples import ExampleSet
from tb_imbalance.lightning_sanity import in_sanity_check
from tb_imbalance.other_writers import WatchedHistory
from tb_imbalance.run_history import RunHistory
from tb_imbalance.run_lock import one_writer_at_a_time
from tb_imbalance.run_location import log_dir_text, run_directory, warn_unreadable_run_name
from tb_imbalance.step import ReportStep, validate_step, validate_tag
from tb_imbalance.tensors import refuse_tf_graph_or_replica, to_numpy

__all__ = ["ReportWriter", "validate_step", "validate_tag", "write_checked"]

_WRITERS: "weakref.WeakSet[ReportWriter]" = weakref.WeakSet()  # every writer of the process, for a fork


def _own_file_after_fork() -> None:
    # A writer made before a fork: the child would append to the parent's event file (each step twice, out of
    # order) and could wait forever for a lock held by a parent's thread it does not have. It takes a lock and
    # a file of its own, and reads the directory again: the parent's file is then another running writer's.
    for writer in list(_WRITERS):
        writer.lock = threading.RLock()
        writer._start_over()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_own_file_after_fork)


class ReportWriter:
    """Writes classification reports into the run directory ``log_dir``.

    Each :meth:`write_matrix` appends one event (matrix, scalars, picture)
    and flushes it, so a crash later loses nothing already written.
    A writer inherited by a forked child writes there into a new event file
    of its own, its parent's file being another writer's.

    Args:
        log_dir: the run directory (created if missing); a local path or a
            URL TensorBoard's file layer knows (``s3://``, ``gs://`` with
            ``gcsfs``, other ``fsspec`` protocols), see
            :mod:`tb_imbalance.event_file`; ``file:///abs/path`` is the
            local directory ``/abs/path``. A local path is resolved now
            (from the working directory, symbolic links followed) and kept
            as :attr:`log_dir`: a later ``os.chdir``, or a link changed
            between steps, does not move the run.

    Raises:
        TypeError: ``log_dir`` is not a string or path.
        NotADirectoryError: a file is where the run directory would be.
        FileNotFoundError: a symbolic link to a missing directory is
            where the run directory or a parent would be.
        ValueError: ``log_dir`` holds ``'://'`` but is no URL TensorBoard's
            file layer knows, is an S3 bucket without a path, is a URL
            with a slash lost (``s3:/bucket/runs``), is a ``file://`` URL
            without an absolute path (``file://runs/a``), or is a Windows
            path (``C:\\runs\\a``) on another system.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        given = log_dir_text(log_dir)
        self.log_dir = run_directory(given)
        warn_unreadable_run_name(given)  # the parts given: the run's name is a path below --logdir
        self._events = EventFile(self.log_dir)
        self.builder = ReportBuilder()
        self._watched = WatchedHistory(self.log_dir)
        #: Held while a step is checked against the history and written: the
        #: callback's background writer and the caller's thread may share this writer.
        self.lock = threading.RLock()
        _WRITERS.add(self)

    def write_matrix(
        self,
        step: int,
        name: str,
        cm: Any,
        class_names: Sequence[str] | None = None,
        *,
        per_class_scalars: bool | None = None,
        image: bool = True,
        description: str | None = None,
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        examples: ExampleSet | None = None,
        curves: Any = None,
        pr_curves: bool | None = None,
        weighted: bool | None = None,
    ) -> None:
        """Write the report of the counted matrix ``cm`` at ``step``.

        Args:
            step: non-negative int.
            name: tag of the matrix; the picture is ``name + "_image"``.
            cm: ``[C, C]`` matrix, rows = true class (int counts, or float
                sums of sample weights).
            class_names: C display names (default ``"0"…"C-1"``).
            per_class_scalars: write ``precision/``, ``recall/``, ``f1/`` scalars;
                ``None`` (default): up to 100 classes, and above that a log line
                saying they are left out (``True`` writes them at any size).
            image: write the picture.
            description: Markdown description of the matrix tag.
            class_counts: training examples per class (C non-negative
                ints, e.g. ``np.bincount(y_train, minlength=C)``), stored
                with the matrix: the dashboard then reports recall by
                many-/medium-/few-shot bucket, and the
                ``imbalance/<bucket>_shot_recall`` scalars are written.
            class_groups: ``{"group name": [class names…]}``, stored with the
                matrix (see :func:`tb_imbalance.core.validate_class_groups`).
            examples: the examples behind each cell, as
                :func:`tb_imbalance.examples.collect_examples` chose them
                (``log_report(writer, labels, scores, step, examples=inputs)``
                does this for you).
            curves: the binned scores behind the PR, ROC and reliability
                curves, ``[C + 1, 3, 75]`` from
                :func:`tb_imbalance.core.curve_summary` (summaries of batches
                add up), or None (``log_report`` with scores computes them);
                not a flag: ``True`` and ``False`` are refused.
            pr_curves: also write TensorBoard PR curves for a step with
                ``curves`` (``True`` without them is refused); ``None`` (default): up to 20 classes.
            weighted: whether ``cm`` holds sums of sample weights, as in
                :func:`tb_imbalance.log_matrix` (``None``: a float matrix
                does; ``False``: whole-number counts given as floats).

        Raises:
            ValueError / TypeError: bad ``step``, ``name``, ``cm``,
                ``class_names``, ``class_counts`` or ``class_groups``, a step
                not after the tag's last logged step, or class names, counts
                or groups that differ from the tag's (see
                :mod:`tb_imbalance.run_history`); nothing is written then.
        """
        refuse_tf_graph_or_replica("ReportWriter.write_matrix")
        report = ReportStep.of(  # framework tensors (a torch matrix with requires_grad too) as numpy
            step, name, to_numpy(cm, "cm"), class_names, class_counts=to_numpy(class_counts, "class_counts"),
            class_groups=class_groups, examples=examples, curves=to_numpy(curves, "curves"), weighted=weighted,
        )
        if in_sanity_check():  # validated, not written: as log_report's targets (tb_imbalance.lightning_sanity)
            return
        self.write_report(
            report, per_class_scalars=per_class_scalars, image=image, description=description, pr_curves=pr_curves
        )

    def write_report(self, report: ReportStep, **options: Any) -> None:
        """Write a step validated before (:class:`tb_imbalance.step.ReportStep`).

        ``options``: ``per_class_scalars``, ``image``, ``description`` and
        ``pr_curves`` as in :meth:`write_matrix`. Raises ``ValueError`` for a step the run history
        refuses; nothing is written then.
        """
        with self.lock, one_writer_at_a_time(self.log_dir):
            write_checked(self.history, self.builder, self._write_values, report, **options)

    def prepare_picture(self, name: str, class_names: Sequence[str]) -> None:
        """Draw the static parts of the picture of report ``name`` (fonts, frame, labels) before its first step.

        Only ahead of time: a picture that cannot be drawn is left to the step, which raises then.
        """
        try:
            with self.lock:
                self.builder.prepare_picture(name, class_names)
        except Exception:  # noqa: BLE001 - the step draws it again and raises, with the step's context
            pass

    @property
    def history(self) -> RunHistory:
        """What the run directory holds (read from disk on first use).

        Later uses also take in what other writers added to the directory's
        event files since, and say so once (:mod:`tb_imbalance.other_writers`).
        Once the run directory this writer wrote into (or read steps from) is
        deleted, or its event file is (a fresh start in the same process), the
        writer starts over: the history is read again, and the next step opens
        a new file; so does a step whose file is deleted (by another process)
        while it is written.
        """
        with self.lock:
            if self._run_deleted(listing_next=True):
                self._start_over()
            return self._watched.history()

    def _start_over(self) -> None:
        # Dropped, not closed: TensorBoard's file layer reopens the path to write, so anything
        # still buffered would re-create the deleted file.
        self._events.drop()
        self._events = EventFile(self.log_dir)
        self._watched = WatchedHistory(self.log_dir)

    def _run_deleted(self, listing_next: bool = False) -> bool:
        """Whether the (local) run directory was deleted since this writer wrote into it or read its steps.

        ``listing_next``: the history is read next; the directory's times, read for the history's listing,
        say where nothing was removed since (:meth:`WatchedHistory.holds`).
        """
        if "://" in self.log_dir:
            return False
        if self._events.path is not None:
            if listing_next:
                return not self._watched.holds(self._events.path)
            return not os.path.exists(self._events.path)
        files = self._watched.files_read  # steps read, none written: were the files that held them deleted?
        return bool(files) and not any(os.path.exists(path) for path in files)

    def _write_values(self, step: int, values: list) -> None:
        try:
            self._events.write(step, values)
            self._events.flush()
        except FileNotFoundError:
            if not self._run_deleted():
                raise
            # Deleted by another process after the step was checked: a fresh start, as at the next step.
            self._start_over()
            self._events.write(step, values)
            self._events.flush()
        self._watched.own(self._events.path)

    def flush(self) -> None:
        self._events.flush()

    def close(self) -> None:
        """Close the event file; a later write opens a new one."""
        self._events.close()

    def __enter__(self) -> "ReportWriter":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReportWriter({self.log_dir!r})"

    def __reduce__(self) -> Any:
        """Refused, naming the fix: a process started by 'spawn' or 'forkserver' is handed its arguments
        pickled, and pickle failed on the open event file or the lock, naming neither."""
        raise TypeError(
            "a ReportWriter cannot be pickled, and a process started with multiprocessing's 'spawn' or 'forkserver' "
            "method (the default from Python 3.14 on Linux; a DataLoader's workers under them) is handed its "
            "arguments pickled: the writer's open event file and lock are this process's. Pass that process the run "
            f"directory, writer.log_dir ({self.log_dir!r}), and log there with tb_imbalance.log_report(log_dir, "
            "...); give each process its own run directory, or its own `name`"
        )


def write_checked(
    history: RunHistory,
    builder: ReportBuilder,
    write: Callable[[int, list], bool | None],
    report: ReportStep,
    **options: Any,
) -> None:
    """Refuse a write that would mix runs, then write one checked step.

    The one write path of the callback, :class:`ReportWriter`,
    :func:`tb_imbalance.log_report` (whatever the target) and
    :mod:`tb_imbalance.summary`: ``report`` was validated once by
    :meth:`tb_imbalance.step.ReportStep.of`; ``history`` refuses what would
    mix runs (:mod:`tb_imbalance.run_history`); ``options`` are
    ``per_class_scalars``, ``image`` and ``description`` of
    :meth:`tb_imbalance.events.ReportBuilder.step_values`. ``write`` returns
    False when it wrote nothing (no default ``tf.summary`` writer, or
    ``tf.summary.record_if(False)``): the step is then not recorded. The first
    step of a tag read from the run's files is compared with the tag's last
    step there, and a warning says when it counts other rows per class
    (:mod:`tb_imbalance.continued_rows`).
    """
    history.check_report(report)
    warn_if_rows_changed(history, report)  # the first step of a run continued on other validation rows?
    if write(report.step, builder.step_values(report, **options)) is not False:
        history.record(report)
