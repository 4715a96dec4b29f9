"""What a run already holds, so a write can never mix two runs or change a tag's classes.

TensorBoard's two loaders disagree on a run directory written twice from
step 0: the Python loader serves both runs' steps interleaved
(``[0, 0, 1, 1, 2, 2, 3, 4]``), the Rust loader drops the older steps.
And TensorBoard keeps only the first metadata of a tag, so matrices of a new
class set written into an old tag cannot be read. tb_imbalance therefore
refuses, before anything is written:

* a step that is not after the last step already logged for the tag
  (continuing a run with larger steps is fine: ``fit(initial_epoch=k)``);
* class names that differ from those the tag was first written with;
* ``class_counts`` or ``class_groups`` that differ from those the tag was
  first written with (None — not given — counts as a value: a tag first
  written without counts cannot get them later, nor the other way round).

:class:`RunHistory` holds, per matrix tag, the class names and the last
step; :meth:`RunHistory.from_directory` reads them from the event files a
directory already has (earlier processes included).

Example:
    >>> history = RunHistory()
    >>> history.check("confusion_matrix", 0, ["a", "b"]); history.record("confusion_matrix", 0, ["a", "b"])
    >>> history.check("confusion_matrix", 0, ["a", "b"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: step 0 of tag 'confusion_matrix' is not after the last step already logged (0): writing it would mix two runs in one. ...
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Sequence

from tb_imbalance import format as fmt
from tb_imbalance.event_file import read_events

__all__ = ["RunHistory", "TagHistory"]


@dataclasses.dataclass
class TagHistory:
    class_names: tuple[str, ...]
    last_step: int
    class_counts: tuple[int, ...] | None = None
    class_groups: tuple[tuple[str, tuple[str, ...]], ...] | None = None


def _counts_key(class_counts: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if class_counts is None else tuple(int(count) for count in class_counts)


def _groups_key(class_groups: Mapping[str, Sequence[str]] | None) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    if class_groups is None:
        return None
    return tuple((str(group), tuple(str(name) for name in members)) for group, members in class_groups.items())


def _short(values: Sequence | None) -> str:
    if values is None:
        return "none"
    values = list(values)
    return f"{values[:8]}{'…' if len(values) > 8 else ''}"


class RunHistory:
    """Class names and last step per matrix tag of one run (see the module docs).

    Args:
        location: the run directory, named in error messages.
    """

    def __init__(self, location: str | None = None) -> None:
        self.location = location
        self.tags: dict[str, TagHistory] = {}

    @classmethod
    def from_directory(cls, run_dir: str | os.PathLike) -> "RunHistory":
        """Read the matrix tags already logged in ``run_dir`` (empty if it does not exist)."""
        from tensorboard.compat.tensorflow_stub.io import gfile

        location = os.fspath(run_dir)
        history = cls(location)
        if not gfile.exists(location):
            return history
        pattern = location.rstrip("/") + "/*tfevents*"
        for path in sorted(gfile.glob(pattern)):
            for event in read_events(path):
                for value in event.summary.value:
                    history._absorb(value, event.step)
        return history

    def _absorb(self, value, step: int) -> None:
        tag = self.tags.get(value.tag)
        if tag is None:
            if value.metadata.plugin_data.plugin_name != fmt.PLUGIN_NAME:
                return
            try:
                info = fmt.parse_plugin_content(value.metadata.plugin_data.content)
            except ValueError:
                return  # a newer format: the plugin reports it; nothing to compare here
            self.tags[value.tag] = TagHistory(
                tuple(info.class_names), int(step), info.class_counts, info.class_groups
            )
        else:
            tag.last_step = max(tag.last_step, int(step))

    def _where(self) -> str:
        return f" in {self.location}" if self.location else ""

    def check(
        self,
        name: str,
        step: int,
        class_names: Sequence[str],
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Raise ``ValueError`` if writing ``name`` at ``step`` with these classes would mix runs.

        ``class_counts`` and ``class_groups`` must equal the tag's first ones
        (None included), like ``class_names``.
        """
        tag = self.tags.get(name)
        if tag is not None and tuple(class_names) != tag.class_names:
            raise ValueError(
                f"tag {name!r}{self._where()} already holds {len(tag.class_names)} classes "
                f"{list(tag.class_names)[:8]}{'…' if len(tag.class_names) > 8 else ''}; a tag's classes "
                f"cannot change (received {len(class_names)}: {list(class_names)[:8]}). Log under "
                "another `name`, or into a new run directory"
            )
        if tag is not None and _counts_key(class_counts) != tag.class_counts:
            raise ValueError(
                f"tag {name!r}{self._where()} already holds `class_counts` {_short(tag.class_counts)}; a "
                f"tag's class_counts cannot change (received {_short(_counts_key(class_counts))}): "
                "TensorBoard keeps only a tag's first metadata. Pass the same class_counts, log under "
                "another `name`, or into a new run directory"
            )
        if tag is not None and _groups_key(class_groups) != tag.class_groups:
            shown = None if tag.class_groups is None else dict(tag.class_groups)
            received = None if class_groups is None else dict(_groups_key(class_groups))
            raise ValueError(
                f"tag {name!r}{self._where()} already holds `class_groups` {shown}; a tag's "
                f"class_groups cannot change (received {received}): TensorBoard keeps only a tag's "
                "first metadata. Pass the same class_groups, log under another `name`, or into a "
                "new run directory"
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
                    f"own `name` (e.g. name='train_{name}') or its own run directory / writer"
                )
            raise ValueError(
                f"step {step} of tag {name!r} is not after the last step already logged "
                f"({tag.last_step}){self._where()}: writing it would mix two runs in one. To start "
                "a fresh run, use a new log directory (e.g. runs/<experiment>-2) or delete the old "
                f"one; to continue this run, start after step {tag.last_step} (Keras: "
                f"model.fit(..., initial_epoch={tag.last_step + 1})){twice}"
            )

    def record(
        self,
        name: str,
        step: int,
        class_names: Sequence[str],
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Remember a successful write."""
        tag = self.tags.get(name)
        if tag is None:
            self.tags[name] = TagHistory(
                tuple(class_names), int(step), _counts_key(class_counts), _groups_key(class_groups)
            )
        else:
            tag.last_step = max(tag.last_step, int(step))
