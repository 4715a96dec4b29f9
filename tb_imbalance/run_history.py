"""What a run already holds, so a write can never mix two runs or change a tag's classes.

TensorBoard's two loaders disagree on a run directory written twice from
step 0: the Python loader serves both runs' steps interleaved
(``[0, 0, 1, 1, 2, 2, 3, 4]``), the Rust loader drops the older steps.
And TensorBoard keeps only the first metadata of a tag, so matrices of a new
class set written into an old tag cannot be read. tb_imbalance therefore
refuses, before anything is written:

* a step that is not after the last step already logged for the tag
  (continuing a run with larger steps is fine: ``fit(initial_epoch=k)``;
  so is logging steps from ``s`` on again after a restart that TensorBoard
  purges them at: a ``SessionLog.START`` event at ``s``, which
  ``SummaryWriter(purge_step=s)`` writes, following an earlier START);
* class names that differ from those the tag was first written with (a tag an
  earlier version wrote with names the writers now refuse cannot be continued:
  the message names the stored name and a new run directory or ``name``);
* ``class_counts`` or ``class_groups`` that differ from those the tag was
  first written with (None — not given — counts as a value: a tag first
  written without counts cannot get them later, nor the other way round);
* a report ``name`` whose tags would overlap another report's tags in the
  same run (:func:`tb_imbalance.events.tag_collision`), naming both;
* a report that would write a tag the run's files already hold values of
  that tb_imbalance did not write (the user's own scalar ``recall/fraud``,
  or one named ``confusion_matrix``): TensorBoard would mix the two series,
  or keep the first kind of a tag and drop the other;
* a tag that another writer (another process, or another writer of this
  process) added steps to since this history was read: two writers of one
  tag lose each other's steps in TensorBoard.

:class:`RunHistory` holds, per matrix tag, the :class:`tb_imbalance.step.ClassSet`
and the last step; :meth:`RunHistory.from_directory` reads them from the event
files a directory already has (earlier processes included). Every target
checks a :class:`tb_imbalance.step.ReportStep` against it before writing
(:func:`tb_imbalance.writer.write_checked`), so all refuse the same things
with the same messages.

Example:
    >>> from tb_imbalance.step import ReportStep
    >>> history = RunHistory()
    >>> report = ReportStep.of(0, "confusion_matrix", [[3, 1], [0, 2]], ["a", "b"])
    >>> history.check_report(report); history.record(report)
    >>> history.check_report(report)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: step 0 of tag 'confusion_matrix' is not after the last step already logged (0): writing it would mix two runs in one. ...
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Callable, Iterable, Sequence

from tensorboard.compat.proto import event_pb2

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.continued_rows import LastRows
from tb_imbalance.event_reading import event_files, read_events_from
from tb_imbalance.events import tag_collision, tag_written_among
from tb_imbalance.step import ClassSet, ReportStep
from tb_imbalance.tensors import called_from_tf_py_function

__all__ = ["ONE_PROCESS", "RunHistory", "TagHistory"]

_SESSION_START = event_pb2.SessionLog.START

#: Where the processes of one training (DDP ranks, workers) write a report from, after 'write'.
ONE_PROCESS = "from one process only (under DDP: gather every rank's rows first, then log `if rank == 0:`)"


@dataclasses.dataclass
class TagHistory:
    """What one matrix tag of a run already holds.

    Attributes:
        classes: the tag's class set (names, counts, groups).
        last_step: the largest step logged.
        other_writer: the event file of another writer that added steps to
            this tag since the history was read, or None.
        step_before: the largest step logged before ``last_step``, or None
            (how far apart the steps are: :mod:`tb_imbalance.keras.resume`).
        last_rows: the rows per class of step ``last_step``, or None where unknown
            (:mod:`tb_imbalance.continued_rows`).
        rows_compared: whether the first step written after those read from
            the run's files was compared with ``last_rows`` (or written).
        info: the tag's metadata as read from the run's files (how its stored
            steps decode), or None for a tag first written by this history.
    """

    classes: ClassSet
    last_step: int
    other_writer: str | None = None
    step_before: int | None = None
    last_rows: LastRows | None = None
    rows_compared: bool = False
    info: fmt.MatrixInfo | None = None

    def add_step(self, step: int) -> None:
        """Note a step of this tag read or written."""
        if step > self.last_step:
            self.step_before, self.last_step = self.last_step, step
        elif step < self.last_step and (self.step_before is None or step > self.step_before):
            self.step_before = step

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.classes.names

    @property
    def class_counts(self) -> tuple[int, ...] | None:
        return self.classes.counts

    @property
    def class_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        return self.classes.groups


def _short(values: Sequence | None) -> str:
    if values is None:
        return "none"
    values = list(values)
    return f"{values[:8]}{'…' if len(values) > 8 else ''}"


def _first_difference(known: Sequence, received: Sequence, what: str) -> str:
    """Where two lists of one length first differ, for a message that shows their first 8 entries only
    (:func:`_short`): the lists may hold 10,000."""
    if len(known) != len(received):
        return ""
    at = next((k for k, (a, b) in enumerate(zip(known, received)) if a != b), None)
    if at is None or at < 8:
        return ""
    return f"; the first difference: {what} {at} was {known[at]!r}, received {received[at]!r}"


def _refused_now(classes: ClassSet) -> tuple[str, str] | None:
    """What of a stored tag's class set this version's writers refuse (``"class names"`` or ``"class groups"``) and
    why (the refusal before its fix), or None.

    Example:
        >>> _refused_now(ClassSet(("ok", ""))), _refused_now(ClassSet(("ok", "fraud"))) is None
        (('class names', '`class_names`[1] is empty, which shows as a blank row'), True)
    """
    try:
        core.validate_class_names(classes.names, len(classes.names))
    except ValueError as error:
        return "class names", str(error).split("; ")[0]
    try:
        core.validate_class_groups(None if classes.groups is None else dict(classes.groups), classes.names)
    except (ValueError, TypeError) as error:
        return "class groups", str(error).split("; ")[0]
    return None


def _group_sets(groups: Sequence | None) -> dict[str, frozenset[str]] | None:
    """Which classes each group holds: the order of groups and of their members aside."""
    return None if groups is None else {group: frozenset(members) for group, members in groups}


def _short_groups(groups: Sequence | None) -> str:
    if groups is None:
        return "None"
    shown = ", ".join(f"{group!r}: {_short(members)}" for group, members in groups[:8])
    return "{" + shown + (", …" if len(groups) > 8 else "") + "}"


def _first_group_difference(known: Sequence | None, received: Sequence | None) -> str:
    before, now = dict(known or ()), dict(received or ())
    group = next(group for group in [*before, *now] if set(before.get(group, ())) != set(now.get(group, ())))
    if group not in before or group not in now:
        return (f"; the first difference: group {group!r} held {_short(before.get(group))}, "
                f"received {_short(now.get(group))}")
    left, joined = sorted(set(before[group]) - set(now[group])), sorted(set(now[group]) - set(before[group]))
    return (f"; the first difference: group {group!r} received without {_short(left) if left else 'nothing'} and "
            f"with {_short(joined) if joined else 'nothing'} more")


class RunHistory:
    """Class sets and last step per matrix tag of one run (see the module docs).

    Args:
        location: the run directory, named in error messages.
    """

    def __init__(self, location: str | None = None) -> None:
        self.location = location
        self.tags: dict[str, TagHistory] = {}
        #: Event file -> byte offset after its last complete record read.
        self.file_ends: dict[str, int] = {}
        #: Whether a SessionLog.START event was read, and a later one purged steps (:meth:`absorb_events`).
        self.session_started = self.purged = False
        #: Tags of the events read that tb_imbalance did not write (a report's step is one event; the first
        #: versions wrote its other values after its matrix, at its step, as events of their own).
        self.other_tags: set[str] = set()
        #: Tags written by a newer tb_imbalance -> their format version (never continued: :meth:`check_classes`).
        self.newer_tags: dict[str, int] = {}
        #: While events are absorbed: per matrix tag, its last step's tensor among them (decoded once, after).
        self._last_tensors: dict[str, tuple[int, object]] = {}

    @classmethod
    def from_directory(
        cls, run_dir: str | os.PathLike, another_writer: Callable[[str], bool] | None = None
    ) -> "RunHistory":
        """Read the matrix tags already logged in ``run_dir`` (empty if it does not exist).

        ``another_writer(path)``: whether the event file ``path`` is being
        written by another writer now (its tags are then refused, as
        :meth:`absorb_events` says), rather than by an earlier run.
        """
        location = os.fspath(run_dir)
        history = cls(location)
        for path in event_files(location):
            events, history.file_ends[path] = read_events_from(path)
            history.absorb_events(events, other_writer=path if another_writer and another_writer(path) else None)
        return history

    def absorb_events(self, events: Iterable, *, other_writer: str | None = None) -> None:
        """Take in the matrix tags of ``events`` (read from an event file).

        ``other_writer``: the event file, when another writer wrote these
        events after this history was read, or is still writing them (another
        process, still running); later writes of its tags are refused.
        """
        for event in events:
            if event.session_log.status == _SESSION_START:
                self._restart(event.step)
            values = event.summary.value
            if not any(value.tag in self.tags or value.metadata.plugin_data.plugin_name == fmt.PLUGIN_NAME
                       for value in values):
                if not all(self._written_with_a_report(value.tag, event.step) for value in values):
                    self.other_tags.update(value.tag for value in values)
                continue
            for value in values:
                self._absorb(value, event.step, other_writer)
        for name, (step, tensor) in self._last_tensors.items():
            tag = self.tags[name]
            if step == tag.last_step:
                tag.last_rows = LastRows.of_stored(step, tensor, tag.info)
        self._last_tensors.clear()

    def absorb_user_events(self, events: Iterable) -> None:
        """Take in what a ``SummaryWriter``'s user wrote, since it was read, into the event file the reports
        share with them: each report is one event holding its matrix, so every other event's tags are theirs."""
        for event in events:
            values = event.summary.value
            if not any(value.metadata.plugin_data.plugin_name == fmt.PLUGIN_NAME for value in values):
                self.other_tags.update(value.tag for value in values)

    def _written_with_a_report(self, tag: str, step: int) -> bool:
        """Whether ``tag`` is one a report read already wrote at ``step``: the first tb_imbalance wrote a
        report's values as events of their own, after its matrix's."""
        return any(
            history.last_step == step and tag_written_among(name, history.classes.names, (tag,)) is not None
            for name, history in self.tags.items()
        )

    def _restart(self, step: int) -> None:
        """A ``SessionLog.START`` event at ``step`` (``SummaryWriter(purge_step=step)`` writes one).

        TensorBoard drops the steps from ``step`` on at a START that follows an earlier START of
        the run (both loaders; at the run's first START only the Rust loader, which cuts a tag back
        whenever its step goes backwards): from then on those steps may be logged again.
        """
        if self.session_started:
            self.purged = True
            for name, tag in self.tags.items():
                if tag.last_step >= step:  # the rows of step - 1, now the last, were not kept
                    tag.last_step, tag.step_before, tag.last_rows = int(step) - 1, None, None
                    self._last_tensors.pop(name, None)
        self.session_started = True

    def _absorb(self, value, step: int, other_writer: str | None = None) -> None:
        tag = self.tags.get(value.tag)
        if tag is None:
            if value.metadata.plugin_data.plugin_name != fmt.PLUGIN_NAME:
                return
            content = value.metadata.plugin_data.content
            newer = fmt.newer_version(content)
            if newer is not None:
                self.newer_tags[value.tag] = newer
                return
            try:
                info = fmt.parse_plugin_content(content)
            except ValueError:
                return  # the examples or curves of a matrix tag: nothing to compare here
            tag = self.tags[value.tag] = TagHistory(ClassSet.from_info(info), int(step), info=info)
        else:
            tag.add_step(int(step))
        if step >= tag.last_step:
            if tag.info is None:  # a tag this history wrote first: another writer's step (refused), rows unknown
                tag.last_rows = None
            else:
                self._last_tensors[value.tag] = (int(step), value.tensor)
        if other_writer is not None:
            tag.other_writer = other_writer

    def _where(self) -> str:
        return f" in {self.location}" if self.location else ""

    def check_report(self, report: ReportStep) -> None:
        """Raise ``ValueError`` if writing ``report`` would mix runs, change a tag's class set or
        overlap another report's tags (nothing is written then)."""
        self.check_classes(report.name, report.step, report.classes)

    def check_classes(self, name: str, step: int, classes: ClassSet) -> None:
        """:meth:`check_report` of the tag ``name`` at ``step`` with the class set ``classes``."""
        for tag in (name, fmt.examples_tag(name), fmt.curves_tag(name)):
            if tag in self.newer_tags:
                raise ValueError(
                    f"tag {tag!r}{self._where()} was written by a newer tb_imbalance (format version "
                    f"{self.newer_tags[tag]}; this one writes version {fmt.FORMAT_VERSION}): a step of the "
                    "older format appended to it would be read as the newer one, or not at all. To continue "
                    "this run, upgrade with `pip install --upgrade tb_imbalance`; or log under another "
                    "`name`, or into a new run directory"
                )
        for other in self.tags:
            tag = tag_collision(name, other)
            if tag is not None:
                raise ValueError(
                    f"`name={name!r}`: its tags would overlap those of the report {other!r} already "
                    f"logged{self._where()} (both would write {tag!r}), and TensorBoard would show "
                    f"one of them only. Pick a name that is not {other!r} plus '_image', '_examples' or "
                    "'_curves' and not under another report's 'precision/', 'recall/', 'f1/', "
                    "'average_precision/', 'pr_curve/' or 'imbalance/' sections (e.g. name='test_set'), "
                    "or log into another run directory"
                )
        other = tag_written_among(name, classes.names, self.other_tags)
        if other is not None:
            raise ValueError(
                f"`name={name!r}`: the report would write the tag {other!r}, which{self._where()} already "
                "holds values tb_imbalance did not write (your own scalars?): TensorBoard would mix the two "
                "series in one, or keep one kind of value and drop the other. Rename your tag, or log the "
                "report under another `name` (e.g. name='val_report': its scalars then start with "
                "'val_report/'), or into another run directory"
            )
        tag = self.tags.get(name)
        if tag is None:
            return
        known = tag.classes
        refused = _refused_now(known) if classes != known else None
        if refused is not None:  # "pass the same class_names / class_groups" would be refused in turn
            raise ValueError(
                f"tag {name!r}{self._where()} was written by an earlier tb_imbalance with {refused[0]} this one "
                f"refuses (stored {refused[1]}), and a tag's classes cannot change: this tag cannot be continued. "
                "Log into a new run directory (a new log_dir, e.g. runs/<experiment>-2), or under another "
                "`name`; the steps logged so far are still shown"
            )
        if classes.names != known.names:
            raise ValueError(
                f"tag {name!r}{self._where()} already holds {len(known.names)} classes "
                f"{_short(known.names)}; a tag's classes cannot change (received "
                f"{len(classes.names)}: {_short(classes.names)}"
                f"{_first_difference(list(known.names), list(classes.names), 'class')}). "
                + ("Pass the same class_names to continue this run, log under another `name`, or into a new "
                   "run directory" if len(classes.names) == len(known.names) else
                   "Log under another `name`, or into a new run directory")
            )
        if classes.counts != known.counts:
            raise ValueError(
                f"tag {name!r}{self._where()} already holds `class_counts` {_short(known.counts)}; a "
                f"tag's class_counts cannot change (received {_short(classes.counts)}"
                f"{_first_difference(known.counts or [], classes.counts or [], 'the count of class')}): "
                "TensorBoard keeps only a tag's first metadata. Pass the same class_counts, log under "
                "another `name`, or into a new run directory"
            )
        if _group_sets(classes.groups) != _group_sets(known.groups):  # the same groups in another order are the same
            difference = "" if known.groups is None or classes.groups is None else _first_group_difference(
                known.groups, classes.groups)
            raise ValueError(
                f"tag {name!r}{self._where()} already holds `class_groups` {_short_groups(known.groups)}; a "
                f"tag's class_groups cannot change (received {_short_groups(classes.groups)}{difference}): "
                "TensorBoard keeps only a tag's first metadata. Pass the same class_groups, log under "
                "another `name`, or into a new run directory"
            )
        if tag.other_writer is not None:
            raise ValueError(
                f"tag {name!r}{self._where()} is also being written by another writer (event file "
                f"{tag.other_writer}, written by another running process or by another writer of this one, "
                f"holds steps up to {tag.last_step}): two writers of one tag lose each other's steps in "
                f"TensorBoard. Write {ONE_PROCESS}, through one writer (a tf.summary writer of this directory: "
                "log_report(writer, ...) with the writer itself, or tb_imbalance.summary under it), or give each "
                "writer its own `name` or run directory (also when that process, still running, no longer writes: "
                "its file's name tells only that it runs)"
            )
        self.check_step(name, step)

    def check_step(self, name: str, step: int) -> None:
        """Raise ``ValueError`` if ``step`` is not after the last step logged for ``name``."""
        tag = self.tags.get(name)
        if tag is not None and step <= tag.last_step:
            twice = ""
            if step == tag.last_step:
                twice = (
                    f". Logging two reports per step (say training and validation)? Give each its "
                    f"own `name` (e.g. name='train_{name}') or its own run directory / writer. One "
                    "per device or shard (jax shard_map, a partitioned callback, each DDP rank)? Log "
                    "once per step, with every device's rows gathered"
                )
                if called_from_tf_py_function():
                    twice += (
                        ". This call comes from a tf.numpy_function / tf.py_function: inside strategy.run it runs "
                        f"once per replica, with that replica's rows, so step {step} already logged may hold one "
                        "replica's rows only. Return the labels and predictions from strategy.run, gather them "
                        "(strategy.gather(value, axis=0)) and log outside it, into a new run directory"
                    )
                if "lightning" in sys.modules or "pytorch_lightning" in sys.modules:
                    twice += (
                        ". Under PyTorch Lightning, trainer.validate() before fit runs validation at the same "
                        "epoch as fit's first: log those under another `name`, or skip them in the hook with "
                        "`if self.trainer.state.fn == 'fit':`"
                    )
            purge = ""
            if self.session_started and not self.purged:
                purge = (
                    ". A SummaryWriter(purge_step=k) makes TensorBoard's Python loader drop the steps from k "
                    "on only when an earlier writer of the run also started with purge_step (e.g. purge_step=0)"
                )
            raise ValueError(
                f"step {step} of tag {name!r} is not after the last step already logged "
                f"({tag.last_step}){self._where()}: writing it would mix two runs in one. To start "
                "a fresh run, use a new log directory (e.g. runs/<experiment>-2) or delete the old "
                f"one; to continue this run, start after step {tag.last_step} (Keras: "
                f"model.fit(..., initial_epoch={tag.last_step + 1})){twice}{purge}"
            )

    def record(self, report: ReportStep) -> None:
        """Remember a successful write of ``report``."""
        name, step, classes = report.name, report.step, report.classes
        tag = self.tags.get(name)
        if tag is None:
            tag = self.tags[name] = TagHistory(classes, int(step))
        else:
            tag.add_step(int(step))
        tag.last_rows, tag.rows_compared = LastRows.of_matrix(step, report.matrix), True
