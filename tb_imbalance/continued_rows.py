"""A run continued on other validation rows: its first new step against the last step it holds.

A run is continued when a writer logs a tag after the steps its run directory
already holds: a new process (``log_report`` into the same directory, a new
``ClassificationReportCallback`` with ``fit(initial_epoch=k)``), or a new
``fit`` in the same process. When the first new step's rows per class (its
support: the matrix's row sums) differ from those of the tag's last step, the
run's line per metric joins reports of different rows (another split, another
subset, another validation set): said once, naming the tag, the step, the first
class whose count changed and the fixes. Each tag is compared on its own: a run
may hold reports of different sets under different tags (``train`` and ``val``).

:class:`LastRows` is what a :class:`~tb_imbalance.run_history.RunHistory` keeps
of a tag's last step for this: the tensor read from its event file, decoded only
when compared, or the matrix written. A stored step that cannot be decoded (a
tensor that does not fit its tag, counts that are negative or not finite) is not
compared: nothing is said, and the run on disk is never touched.

Example:
    >>> import numpy as np
    >>> last = LastRows.of_matrix(4, np.array([[50, 10], [5, 35]]))
    >>> rows_changed("confusion_matrix", [50, 40], last, ("ok", "fraud"), now="step 5", fixes="…")[:79]
    "step 5 counted 90 rows, 50 of class 'ok'; the run's last step of tag 'confusion"
    >>> rows_changed("confusion_matrix", [60, 40], last, ("ok", "fraud"), now="step 5", fixes="…") is None
    True
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from tensorboard.util import tensor_util

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.core.caller import user_stacklevel

__all__ = ["LOG_REPORT_FIXES", "LastRows", "SUMS_RTOL", "rows_changed", "warn_if_rows_changed"]

#: What to do about other rows, for a continuation through ``log_report`` / ``ReportWriter``.
LOG_REPORT_FIXES = (
    "To continue this run, log the same validation rows; to log another validation set, log it into a new run "
    "directory or under another `name`"
)


class LastRows:
    """The rows per class of a tag's last step ``step``: read from its stored tensor, or from the matrix written.

    Example:
        >>> LastRows.of_matrix(2, np.array([[3, 1], [0, 2]])).support().tolist()
        [4, 2]
    """

    def __init__(self, step: int, support: Any = None, *, matrix: Any = None) -> None:
        self.step = int(step)
        self._support = None if support is None else np.asarray(support)
        self._matrix = matrix

    @classmethod
    def of_stored(cls, step: int, tensor: Any, info: fmt.MatrixInfo) -> "LastRows":
        """A step read from an event file: its ``TensorProto``, decoded now with the tag's metadata ``info``
        (no reference to the event read is kept); its rows are unknown where it cannot be decoded."""
        matrix = _decoded(tensor, info)
        return cls(step, None if matrix is None else matrix.sum(axis=1))

    @classmethod
    def of_matrix(cls, step: int, matrix: Any) -> "LastRows":
        """A step written: its ``[C, C]`` matrix (an array or a :class:`~tb_imbalance.core.SparseMatrix`).

        Up to :data:`~tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes, and as its cells, the matrix is
        kept and summed only when compared (8 MB at most); a larger dense one is summed now, rather than
        keep its C² cells alive until the next step.
        """
        if isinstance(matrix, np.ndarray) and matrix.shape[0] > core.SPARSE_ABOVE_CLASSES:
            return cls(step, matrix.sum(axis=1))
        return cls(step, matrix=matrix)

    def support(self) -> np.ndarray | None:
        """The rows of each class, or None when the stored step could not be decoded."""
        if self._matrix is not None:
            self._support, self._matrix = np.asarray(self._matrix.sum(axis=1)), None
        return self._support


def _decoded(tensor: Any, info: fmt.MatrixInfo) -> Any:
    """The checked matrix of a stored ``TensorProto``, or None where it does not fit ``info`` or holds
    counts that are negative or not finite (the dashboard leaves such a step out too)."""
    if not tensor.tensor_content:  # matrices are written as bytes; other forms expand to any shape a record claims
        return None
    try:
        array = tensor_util.make_ndarray(tensor)
        if info.encoding == fmt.COO:
            return core.SparseMatrix.from_cells(info.num_classes, *fmt.decode_cells(array, info))
        return core.validate_matrix(fmt.decode_matrix(array, info))
    except (ValueError, TypeError):  # fmt.UnsupportedFormatError is a ValueError
        return None


#: How far two sums of weights of one class may differ, relatively, and still be the same rows. A matrix summed
#: in float32 (a torch tensor or tf.Variable added to batch by batch) rounds the same rows' weights otherwise for
#: another batch size, another order of rows, or a GPU's atomic adds: by about 1e-5 at a million rows.
SUMS_RTOL = 1e-4


def _changed(support: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per class, whether its rows changed: sums of weights allow for the rounding of another order of adding.

    Example:
        >>> _changed(np.array([1755.2683, 90.0]), np.array([1755.2681, 90.0])).tolist()  # float32 roundings
        [False, False]
        >>> _changed(np.array([1755.5, 90.0]), np.array([1755.2681, 90.0])).tolist()  # other rows
        [True, False]
    """
    if support.dtype.kind == "f" or before.dtype.kind == "f":
        return ~np.isclose(support, before, rtol=SUMS_RTOL, atol=0.0)
    return support != before


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (float, np.floating)) else str(int(value))


def rows_changed(
    name: str, support: Any, last: LastRows, class_names: Sequence[str], *, now: str, fixes: str, where: str = "",
) -> str | None:
    """What to say when the first step of tag ``name`` that continues a run (``now`` describes it:
    ``"step 5"``, ``"the validation pass of epoch 5"``), counts other rows per class (``support``) than the
    tag's last step ``last``; None when they are the same, or the last step's cannot be read.

    ``where``: the run directory, for the message; ``fixes``: what to do, for the caller's user.
    """
    before = last.support()
    support = np.asarray(support)
    if before is None or before.shape != support.shape:
        return None
    changed = np.flatnonzero(_changed(support, before))
    if not changed.size:
        return None
    k = int(changed[0])
    class_name = class_names[k] if k < len(class_names) else str(k)
    place = f" in {where}" if where else ""
    return (
        f"{now} counted {_number(support.sum())} rows, {_number(support[k])} of class {class_name!r}; the run's "
        f"last step of tag {name!r}{place} (step {last.step}) counted {_number(before.sum())}, "
        f"{_number(before[k])} of class {class_name!r}. This run continues on other rows (another split, "
        "subset or validation set): its steps before and after describe different rows, and TensorBoard "
        f"draws them as one line per metric. {fixes}"
    )


def warn_if_rows_changed(history: Any, report: Any) -> None:
    """Warn (``UserWarning``) when ``report`` (a :class:`~tb_imbalance.step.ReportStep` about to be written) is
    the first step ``history`` (a :class:`~tb_imbalance.run_history.RunHistory`) writes of a tag it read from
    the run's files, and counts other rows per class than the tag's last step there.

    Once per tag: the tag is marked compared (as :meth:`~tb_imbalance.run_history.RunHistory.record` marks a tag
    written), whatever was said.
    """
    tag = history.tags.get(report.name)
    if tag is None or tag.rows_compared or tag.last_rows is None:
        return
    tag.rows_compared = True
    message = rows_changed(
        report.name, report.matrix.sum(axis=1), tag.last_rows, report.classes.names,
        now=f"step {report.step}", fixes=LOG_REPORT_FIXES, where=history.location or "",
    )
    if message is not None:
        warnings.warn(f"tb_imbalance: {message}", UserWarning, stacklevel=user_stacklevel())
