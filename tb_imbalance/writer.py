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
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from tb_imbalance import core
from tb_imbalance.event_file import EventFile
from tb_imbalance.events import ReportBuilder
from tb_imbalance.examples import ExampleSet
from tb_imbalance.run_history import RunHistory

__all__ = ["ReportWriter", "validate_step", "validate_tag", "write_checked"]


#: Largest step an event file holds (its ``step`` field is an int64).
MAX_STEP = 2**63 - 1


def validate_step(step: Any) -> int:
    """Return ``step`` as a non-negative int (numpy and 0-d framework integers too).

    Raises:
        TypeError: not a non-negative int.
        ValueError: past :data:`MAX_STEP`.

    Example:
        >>> validate_step(np.int64(3))
        3
    """
    if hasattr(step, "shape") and tuple(getattr(step, "shape")) == () and hasattr(step, "item"):
        step = step.item()  # 0-d numpy / torch / JAX / TF value
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise TypeError(
            f"`step` must be a non-negative int (the epoch or batch index), received {step!r}"
        )
    if step > MAX_STEP:
        raise ValueError(
            f"`step` must be at most 2**63 - 1 ({MAX_STEP}), the largest step an event file holds, "
            f"received {step!r}; pass the epoch or batch index"
        )
    return int(step)


class ReportWriter:
    """Writes classification reports into the run directory ``log_dir``.

    Each :meth:`write_matrix` appends one event (matrix, scalars, picture)
    and flushes it, so a crash later loses nothing already written.

    Args:
        log_dir: the run directory (created if missing); a local path or a
            URL TensorBoard's file layer knows (``s3://``, ``gs://`` with
            ``gcsfs``, other ``fsspec`` protocols), see
            :mod:`tb_imbalance.event_file`.

    Raises:
        TypeError: ``log_dir`` is not a string or path.
    """

    def __init__(self, log_dir: str | os.PathLike) -> None:
        if not isinstance(log_dir, (str, os.PathLike)) or not os.fspath(log_dir):
            raise TypeError(
                f"`log_dir` must be a non-empty directory path or URL, received {log_dir!r}"
            )
        self.log_dir = os.fspath(log_dir)
        self._events = EventFile(self.log_dir)
        self.builder = ReportBuilder()
        self._history: RunHistory | None = None

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

        Raises:
            ValueError / TypeError: bad ``step``, ``name``, ``cm``,
                ``class_names``, ``class_counts`` or ``class_groups``, a step
                not after the tag's last logged step, or class names, counts
                or groups that differ from the tag's (see
                :mod:`tb_imbalance.run_history`); nothing is written then.
        """
        write_checked(
            self.history, self.builder, self._write_values, step, name, cm, class_names,
            per_class_scalars=per_class_scalars, image=image, description=description,
            class_counts=class_counts, class_groups=class_groups, examples=examples,
        )

    @property
    def history(self) -> RunHistory:
        """What the run directory holds (read from disk on first use)."""
        if self._history is None:
            self._history = RunHistory.from_directory(self.log_dir)
        return self._history

    def _write_values(self, step: int, values: list) -> None:
        self._events.write(step, values)
        self._events.flush()

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


def write_checked(
    history: RunHistory,
    builder: ReportBuilder,
    write: Callable[[int, list], None],
    step: Any,
    name: Any,
    cm: Any,
    class_names: Sequence[str] | None,
    *,
    class_counts: Any = None,
    class_groups: Any = None,
    **options: Any,
) -> None:
    """Validate everything, refuse a write that would mix runs, then write one step.

    The one write path of the callback, :class:`ReportWriter` and
    :func:`tb_imbalance.log_report` (whatever the target).
    """
    step = validate_step(step)
    name = validate_tag(name)
    cm = core.validate_matrix(cm, "cm")
    names = core.validate_class_names(class_names, cm.shape[0])
    counts = core.validate_class_counts(class_counts, cm.shape[0])
    groups = core.validate_class_groups(class_groups, names)
    history.check(name, step, names, counts, groups)
    write(step, builder.values(name, cm, names, class_counts=counts, class_groups=groups, **options))
    history.record(name, step, names, counts, groups)


def validate_tag(name: Any) -> str:
    """Return ``name`` if it is a usable tag, else raise ``ValueError``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"`name` must be a non-empty tag string, received {name!r}")
    return name
