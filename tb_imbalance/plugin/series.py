"""The decoded confusion matrices of one run and tag: what the dashboard reports from.

* :class:`PackedMatrix` holds one matrix compactly (sparse when mostly zero).
* :class:`MatrixSeries` holds every step of one (run, tag), ascending, with the
  steps left out (:class:`SkippedStep`) and the per-step statistics
  (:class:`Trends`, computed once through :mod:`tb_imbalance.core`).

Nothing here reads data or knows about HTTP: :mod:`tb_imbalance.plugin.reader`
builds series, :mod:`tb_imbalance.plugin.cache` keeps them and
:mod:`tb_imbalance.plugin.payloads` turns them into answers. How messages list
steps and names is :mod:`tb_imbalance.plugin.offers`'s.

Example:
    >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
    >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
    ...     [PackedMatrix.pack(np.array([[50, 2], [3, 5]]))] * 2)
    >>> series.steps, series.matrix(1).tolist()
    ((0, 1), [[50, 2], [3, 5]])
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Any, Hashable, Iterable, Iterator, Sequence

import numpy as np

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.core.metrics import _imbalance_metrics, _per_class_metrics
from tb_imbalance.core.validators import REPORT_KEYS
from tb_imbalance.plugin.errors import NotFoundError, UnreadableDataError, shown_value
from tb_imbalance.plugin.offers import describe_steps, run_fix, step_fix

__all__ = [
    "PackedMatrix",
    "Trends",
    "SkippedStep",
    "MatrixSeries",
    "TREND_FIELDS",
    "invalid_matrix_is_unreadable",
    "MAX_SERVED_CLASSES",
    "check_served_classes",
    "check_class_names",
]

#: Largest class count the dashboard serves. Above
#: :data:`tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes its answers come
#: from the stored cells, but the per-step trends still take 5 × 8 bytes a
#: class and step (2 MB a step at this size) and the page one table row a
#: class. A tag with more classes answers 422 for ``report``, ``series`` and
#: ``compare`` before any matrix is read.
MAX_SERVED_CLASSES = 50_000


def check_served_classes(info: fmt.MatrixInfo, run: str, tag: str) -> None:
    """Refuse a tag with more than :data:`MAX_SERVED_CLASSES` classes (422), before reading it.

    Example:
        >>> check_served_classes(fmt.MatrixInfo(2, 200_000, ("",) * 200_000, False, "coo"), "r", "t")
        Traceback (most recent call last):
        ...
        tb_imbalance.plugin.errors.UnreadableDataError: run 'r', tag 't' has 200,000 classes; ...
    """
    if info.num_classes > MAX_SERVED_CLASSES:
        raise UnreadableDataError(
            f"run {run!r}, tag {tag!r} has {info.num_classes:,} classes; the dashboard serves tags of "
            f"at most {MAX_SERVED_CLASSES:,} classes (per-class trends and table rows grow with C). "
            "To see it here, log the same predictions under another tag with fewer classes "
            "(for example each class mapped to its group)"
        )


def check_class_names(info: fmt.MatrixInfo, run: str, tag: str) -> None:
    """Refuse (422) a tag whose class names no writer stores (repeated, a report's own key): every route alike.

    Example:
        >>> check_class_names(fmt.MatrixInfo(1, 3, ("a", "b", "a"), False), "r", "t")
        Traceback (most recent call last):
        ...
        tb_imbalance.plugin.errors.UnreadableDataError: run 'r', tag 't': its class names cannot be shown: ...
    """
    names = info.class_names
    if len(set(names)) == len(names) and REPORT_KEYS.isdisjoint(names):
        return  # the check below costs 50 ms at 50,000 classes: only to say what is wrong
    try:
        core.validate_class_names(names, len(names))
    except (TypeError, ValueError) as error:
        raise UnreadableDataError(
            f"run {shown_value(run)}, tag {shown_value(tag)}: its class names cannot be shown: {error} "
            "(no tb_imbalance writer stores such names: log the run again)"
        ) from None


#: Per-step statistics kept by :meth:`MatrixSeries.trends`.
TREND_FIELDS = ("recall", "precision", "f1", "support", "predicted")


class PackedMatrix:
    """One confusion matrix held compactly: sparse when mostly zeros.

    Wide, mostly diagonal matrices (1000 classes, 50,000 examples) have about
    1% non-zero cells; storing flat indices and values instead of the dense
    array keeps the cache small, and :meth:`unpack` rebuilds it in well
    under a millisecond.

    Example:
        >>> packed = PackedMatrix.pack(np.diag([5, 7, 9, 11, 13]))
        >>> packed.is_sparse, int(packed.unpack().trace())
        (True, 45)
    """

    __slots__ = ("shape", "dtype", "_dense", "_indices", "_values", "_cells")

    def __init__(
        self,
        shape: tuple[int, ...],
        dtype: np.dtype,
        *,
        dense: np.ndarray | None = None,
        indices: np.ndarray | None = None,
        values: np.ndarray | None = None,
    ):
        self.shape = shape
        self.dtype = dtype
        self._dense = dense
        self._indices = indices
        self._values = values
        self._cells: core.SparseMatrix | None = None

    @classmethod
    def pack(cls, matrix: np.ndarray) -> "PackedMatrix":
        """Store ``matrix`` sparsely when that takes under half the bytes.

        Args:
            matrix: a decoded confusion matrix.

        Returns:
            A :class:`PackedMatrix` that owns its data (``matrix`` may be
            reused by the caller).
        """
        if isinstance(matrix, core.SparseMatrix):  # above 1000 classes: kept as decoded, served as is
            packed = cls(matrix.shape, matrix.dtype)
            packed._cells = matrix
            return packed
        matrix = np.asarray(matrix)
        flat = matrix.reshape(-1)
        nonzero = np.flatnonzero(flat)
        index_dtype = np.int32 if flat.size < 2**31 else np.int64
        sparse_bytes = nonzero.size * (np.dtype(index_dtype).itemsize + matrix.itemsize)
        if sparse_bytes * 2 < matrix.nbytes:
            return cls(
                matrix.shape,
                matrix.dtype,
                indices=nonzero.astype(index_dtype),
                values=flat[nonzero].copy(),
            )
        dense = np.array(matrix, copy=True)
        dense.setflags(write=False)
        return cls(matrix.shape, matrix.dtype, dense=dense)

    @property
    def is_sparse(self) -> bool:
        """Whether the matrix is stored as (flat index, value) pairs or cells."""
        return self._dense is None

    @property
    def nbytes(self) -> int:
        """Bytes held by this matrix."""
        if self._cells is not None:
            cells = self._cells
            return int(cells.rows.nbytes + cells.columns.nbytes + cells.values.nbytes)
        if self._dense is not None:
            return int(self._dense.nbytes)
        return int(self._indices.nbytes + self._values.nbytes)

    def unpack(self) -> np.ndarray | core.SparseMatrix:
        """Return the dense matrix (read-only; copy it before modifying), or the :class:`~tb_imbalance.core.SparseMatrix` packed."""
        if self._cells is not None:
            return self._cells
        if self._dense is not None:
            return self._dense
        flat = np.zeros(int(np.prod(self.shape)), dtype=self.dtype)
        flat[self._indices] = self._values
        dense = flat.reshape(self.shape)
        dense.setflags(write=False)
        return dense


@dataclasses.dataclass(frozen=True)
class Trends:
    """Per-class and headline statistics of every step of one series.

    Attributes:
        recall, precision, f1, support, predicted: arrays ``[S, C]`` (step,
            class), from :func:`tb_imbalance.core.per_class_metrics`.
        metrics: :data:`tb_imbalance.core.METRIC_NAMES` -> one value per step,
            from :func:`tb_imbalance.core.imbalance_metrics`.
    """

    recall: np.ndarray
    precision: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    metrics: dict[str, list[float]]


@dataclasses.dataclass(frozen=True)
class SkippedStep:
    """A logged step the dashboard leaves out, and why.

    Attributes:
        step: the step.
        reason: a sentence for the user, e.g. why the stored matrix does not
            fit the tag's class names and what to do about it.

    Example:
        >>> SkippedStep(3, "its confusion matrix has 4 classes").as_json()
        {'step': 3, 'reason': 'its confusion matrix has 4 classes'}
    """

    step: int
    reason: str

    def as_json(self) -> dict[str, Any]:
        """The ``skipped_steps`` entry: ``{"step": ..., "reason": ...}``."""
        return {"step": self.step, "reason": self.reason}


class MatrixSeries:
    """The decoded confusion matrices of one (run, tag), ascending by step.

    Args:
        info: the tag's :class:`tb_imbalance.format.MatrixInfo`.
        version: what ``list_tensors`` reported when it was read
            (``(max_step, max_wall_time)``); a different value means stale.
        steps: ascending steps.
        wall_times: one wall time per step.
        matrices: one :class:`PackedMatrix` per step.
        skipped: logged steps left out (not in ``steps``, except a step
            logged twice whose earlier record was replaced), ascending.

    Example:
        >>> info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
        >>> series = MatrixSeries(info, (1, 1.0), [0, 1], [0.0, 1.0],
        ...     [PackedMatrix.pack(np.eye(2, dtype=np.int64))] * 2)
        >>> series.matrix(1).tolist()
        [[1, 0], [0, 1]]
    """

    def __init__(
        self,
        info: fmt.MatrixInfo,
        version: Hashable,
        steps: Sequence[int],
        wall_times: Sequence[float],
        matrices: Sequence[PackedMatrix],
        skipped: Sequence[SkippedStep] = (),
    ):
        if not (len(steps) == len(wall_times) == len(matrices)):
            raise ValueError(
                "`steps`, `wall_times` and `matrices` must have the same length, received "
                f"{len(steps)}, {len(wall_times)} and {len(matrices)}"
            )
        self.info = info
        self.version = version
        self.steps: tuple[int, ...] = tuple(int(step) for step in steps)
        self.wall_times: tuple[float, ...] = tuple(float(wall) for wall in wall_times)
        self._matrices = tuple(matrices)
        self._index = {step: position for position, step in enumerate(self.steps)}
        self.skipped: tuple[SkippedStep, ...] = tuple(sorted(skipped, key=lambda entry: entry.step))
        self._skipped_index = {entry.step: entry for entry in self.skipped}
        self._trends: Trends | None = None
        self._trends_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def nbytes(self) -> int:
        """Bytes held, counting the per-step trends (computed on demand)."""
        num_classes = self.info.num_classes
        trends_bytes = len(TREND_FIELDS) * len(self.steps) * num_classes * 8
        return sum(matrix.nbytes for matrix in self._matrices) + trends_bytes

    def position(self, step: int, *, parameter: str = "step", offered: tuple[str, Sequence[int]] | None = None) -> int:
        """Index of ``step`` in :attr:`steps`.

        Raises:
            UnreadableDataError: the step was logged but left out (see
                :attr:`skipped`); the message gives the reason.
            NotFoundError: the step was not logged (or not kept); the message names query parameter
                ``parameter`` and offers this series' steps, or ``offered``: ``(what, steps)``, the
                steps holding ``what`` (curves, examples) whose matrix is shown.
        """
        try:
            return self._index[step]
        except KeyError:
            pass
        entry = self._skipped_index.get(step)
        if entry is not None:
            raise UnreadableDataError(
                f"step {step} was left out: {entry.reason}. Steps that can be shown: "
                f"{describe_steps(self.steps)}"
            )
        if offered is None:
            raise NotFoundError(f"step {step} is not available; {step_fix(parameter, 'a logged step', self.steps)}")
        what, steps = offered
        raise NotFoundError(
            f"step {step} holds {what} but no matrix that is shown; {step_fix(parameter, f'a step with {what}', steps)}"
        )

    def shown_of(self, steps: Iterable[int]) -> list[int]:
        """Those of ``steps`` (a blob tag's: curves, examples) whose matrix this series shows, ascending.

        TensorBoard samples each tag apart (``--samples_per_plugin imbalance=N``)
        and a re-run's steps may be left out: a blob step without its shown
        matrix is not offered.
        """
        return sorted(step for step in steps if step in self._index)

    def none_shown_message(
        self, run: str, tag: str, what: str, logged: Sequence[int], runs: Sequence[str] | None = None
    ) -> str:
        """The 404 message when none of the steps ``logged`` with ``what`` (curves, examples) is shown.

        ``runs``, the other runs whose tag holds ``what``, are offered for query parameter ``run``.
        """
        fix = "" if runs is None else f"; {run_fix(f'another run with {what} of this tag', runs)}"
        left_out = [self._skipped_index[step] for step in logged if step in self._skipped_index]
        if left_out:
            return (
                f"run {run!r}, tag {tag!r}: the {what} were logged at steps that are left out "
                f"({describe_steps([entry.step for entry in left_out])}; step {left_out[-1].step}: "
                f"{left_out[-1].reason}). Steps that can be shown: {describe_steps(self.steps)}{fix}"
            )
        return (
            f"run {run!r}, tag {tag!r}: the {what} kept (steps {describe_steps(logged)}) are at none of the "
            f"steps whose matrix is shown ({describe_steps(self.steps)}){fix}. TensorBoard keeps a sample of each "
            "tag apart when started with --samples_per_plugin imbalance=N: start it without that (the "
            "Imbalance tab keeps every step) or with imbalance=0"
        )

    def skipped_json(self) -> list[dict[str, Any]]:
        """The payloads' ``skipped_steps``: ``[{"step": 3, "reason": "..."}]``."""
        return [entry.as_json() for entry in self.skipped]

    def require_steps(self, run: str, tag: str, parameter: str = "run") -> None:
        """Raise unless at least one step can be shown.

        Raises:
            UnreadableDataError: every logged step was left out (the message
                gives the first reason).
            NotFoundError: nothing was logged yet; the message names query
                parameter ``parameter``, the one ``run`` came from.
        """
        if self.steps:
            return
        if self.skipped:
            first = self.skipped[0]
            raise UnreadableDataError(
                f"run {run!r}, tag {tag!r}: no step can be shown, every logged step was left "
                f"out ({describe_steps([entry.step for entry in self.skipped])}); "
                f"step {first.step}: {first.reason}"
            )
        raise NotFoundError(f"run {run!r}, tag {tag!r} has no confusion matrices yet; query parameter `{parameter}` "
                            "must be another run with this tag, as the `runs` route lists them")

    def matrix(self, step: int) -> np.ndarray | core.SparseMatrix:
        """The confusion matrix logged at ``step`` (read-only; its cells above 1000 classes).

        Raises:
            UnreadableDataError: the step was left out.
            NotFoundError: the step is not available.
        """
        return self._matrices[self.position(step)].unpack()

    def weighted(self, step: int) -> bool:
        """Whether the matrix logged at ``step`` holds sums of sample weights.

        Read from the step itself (its stored dtype: ``float64`` sums of
        weights, ``int64`` counts), not from the tag's metadata, which
        TensorBoard takes from the tag's first step only: a tag may mix
        weighted and unweighted steps.

        Example:
            >>> info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
            >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
            ...     [PackedMatrix.pack(np.eye(2, dtype=np.int64)), PackedMatrix.pack(np.eye(2) * 2.5)])
            >>> series.weighted(0), series.weighted(1)
            (False, True)
        """
        return not np.issubdtype(self._matrices[self.position(step)].dtype, np.integer)

    def trends(self) -> Trends:
        """Statistics of every step, computed once through :mod:`tb_imbalance.core`.

        Raises:
            UnreadableDataError: a stored matrix is not a valid confusion matrix.
        """
        with self._trends_lock:
            if self._trends is None:
                self._trends = self._compute_trends()
            return self._trends

    def _compute_trends(self) -> Trends:
        columns: dict[str, list[np.ndarray]] = {field: [] for field in TREND_FIELDS}
        metrics: dict[str, list[float]] = {name: [] for name in core.METRIC_NAMES}
        for step, packed in zip(self.steps, self._matrices):
            with invalid_matrix_is_unreadable(step):
                cm = core.validate_matrix(packed.unpack())  # each step's matrix checked once, then trusted
            stats = _per_class_metrics(cm)
            headline = _imbalance_metrics(cm, stats)
            for field in TREND_FIELDS:
                columns[field].append(stats[field])
            for name in core.METRIC_NAMES:
                metrics[name].append(headline[name])
        num_classes = self.info.num_classes
        stacked = {
            field: (np.stack(rows) if rows else np.zeros((0, num_classes)))
            for field, rows in columns.items()
        }
        return Trends(metrics=metrics, **stacked)


@contextlib.contextmanager
def invalid_matrix_is_unreadable(step: int, run: str | None = None, tag: str | None = None) -> Iterator[None]:
    """Turn core's ``ValueError``/``TypeError`` into :class:`UnreadableDataError` (naming ``run`` and ``tag``).

    Example:
        >>> with invalid_matrix_is_unreadable(3, "b", "cm"):
        ...     core.per_class_metrics([[1, -1], [0, 2]])
        Traceback (most recent call last):
        ...
        tb_imbalance.plugin.errors.UnreadableDataError: run 'b', tag 'cm': the confusion matrix stored at step 3 ...
    """
    try:
        yield
    except (ValueError, TypeError) as error:
        where = "" if run is None or tag is None else f"run {shown_value(run)}, tag {shown_value(tag)}: "
        raise UnreadableDataError(
            f"{where}the confusion matrix stored at step {step} cannot be reported: {error}"
        ) from error
