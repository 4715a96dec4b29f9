"""Plain functions behind the Imbalance dashboard's HTTP routes.

Everything here turns data-provider reads into JSON-ready dicts, using
:mod:`tb_imbalance.format` to decode summaries and :mod:`tb_imbalance.core` for
every number. Nothing here knows about HTTP requests: the routes in
:mod:`tb_imbalance.plugin.backend` parse parameters and call these functions,
which raise a :class:`DashboardError` (carrying an HTTP status) when a request
cannot be answered.

Reading is cached. ``read_tensors`` returns every retained step of a
(run, tag) at once, and decoded, 100 steps of a 1000-class matrix are 800 MB
of dense int64. :class:`ImbalanceData` therefore keeps the matrices of each
(experiment, run, tag) in a thread-safe :class:`SeriesCache`, bounded in
bytes (least recently used first out), stored sparsely when mostly zero, and
reads again only when ``list_tensors`` reports a new ``max_step`` or
``max_wall_time``.

Steps that cannot be shown never hide the others. TensorBoard keeps only the
first summary metadata of a tag, so a step logged later with another class
set (a re-run into the same directory, a second writer) is stored under the
first step's class names. Such a step — or one whose counts are negative or
not finite — is left out of the series as a :class:`SkippedStep` with the
reason; every payload lists them as ``skipped_steps``, and asking for one of
them answers 422 with that reason.

Example:
    >>> import tempfile
    >>> import tb_imbalance
    >>> from tensorboard.backend.event_processing import data_provider
    >>> from tensorboard.backend.event_processing import plugin_event_multiplexer
    >>> from tensorboard.context import RequestContext
    >>> logdir = tempfile.mkdtemp()
    >>> with tb_imbalance.ReportWriter(f"{logdir}/baseline") as writer:
    ...     writer.write_matrix(0, "confusion_matrix", [[50, 2], [3, 5]], ["ok", "fraud"])
    >>> multiplexer = plugin_event_multiplexer.EventMultiplexer(
    ...     tensor_size_guidance={"imbalance": 0})
    >>> _ = multiplexer.AddRunsFromDirectory(logdir).Reload()
    >>> data = ImbalanceData(data_provider.MultiplexerDataProvider(multiplexer, logdir))
    >>> ctx = RequestContext()
    >>> data.runs(ctx, "")
    {'baseline': ['confusion_matrix']}
    >>> payload = data.report(ctx, "", "baseline", "confusion_matrix")
    >>> payload["metrics"]["balanced_accuracy"]
    0.79...
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import json
import logging
import os
import pathlib
import threading
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Sequence

import numpy as np
from tensorboard import errors as tb_errors
from tensorboard.data import provider as tb_provider

from tb_imbalance import core
from tb_imbalance import format as fmt

__all__ = [
    "ALL_STEPS",
    "DEFAULT_CACHE_BYTES",
    "READ_BUDGET_BYTES",
    "STATIC_CONTENT_TYPES",
    "DashboardError",
    "BadRequestError",
    "NotFoundError",
    "UnreadableDataError",
    "DataUnavailableError",
    "PackedMatrix",
    "SkippedStep",
    "MatrixSeries",
    "Trends",
    "SeriesCache",
    "ImbalanceData",
    "report_payload",
    "series_payload",
    "to_json",
    "find_static_dir",
    "read_static_file",
]

logger = logging.getLogger(__name__)

#: ``downsample`` passed to ``read_tensors``: larger than any run's step count,
#: so every retained step comes back.
ALL_STEPS = 1_000_000_000

#: Default memory bound of the decoded-matrix cache.
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024

#: Largest read attempted after a full read failed. TensorBoard's data server
#: client refuses responses above 256 MiB, so a series of very wide matrices
#: is then read as a sample of this many bytes (always including the latest
#: step).
READ_BUDGET_BYTES = 192 * 1024 * 1024

#: File extensions served from the static folder, and their content types.
STATIC_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}

_PER_CLASS_FIELDS = ("support", "predicted", "precision", "recall", "f1", "specificity")
_TREND_FIELDS = ("recall", "precision", "f1", "support", "predicted")


# --------------------------------------------------------------------------
# Errors: each carries the HTTP status the dashboard answers with
# --------------------------------------------------------------------------


class DashboardError(Exception):
    """A request the dashboard cannot answer; ``status`` is the HTTP status.

    Args:
        message: shown to the user as the JSON body's ``error``.
        status: overrides the class's HTTP status.

    Example:
        >>> NotFoundError("no run 'x'").status
        404
    """

    status = 400

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequestError(DashboardError):
    """Malformed request parameters (HTTP 400)."""

    status = 400


class NotFoundError(DashboardError):
    """Unknown run, tag or step (HTTP 404)."""

    status = 404


class UnreadableDataError(DashboardError):
    """Stored data this version cannot interpret, e.g. a newer format (HTTP 422)."""

    status = 422


class DataUnavailableError(DashboardError):
    """Reading the data failed (HTTP 503); other runs are unaffected."""

    status = 503


# --------------------------------------------------------------------------
# Cached, decoded series
# --------------------------------------------------------------------------


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

    __slots__ = ("shape", "dtype", "_dense", "_indices", "_values")

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

    @classmethod
    def pack(cls, matrix: np.ndarray) -> "PackedMatrix":
        """Store ``matrix`` sparsely when that takes under half the bytes.

        Args:
            matrix: a decoded confusion matrix.

        Returns:
            A :class:`PackedMatrix` that owns its data (``matrix`` may be
            reused by the caller).
        """
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
        """Whether the matrix is stored as (flat index, value) pairs."""
        return self._dense is None

    @property
    def nbytes(self) -> int:
        """Bytes held by this matrix."""
        if self._dense is not None:
            return int(self._dense.nbytes)
        return int(self._indices.nbytes + self._values.nbytes)

    def unpack(self) -> np.ndarray:
        """Return the dense matrix (read-only; copy it before modifying)."""
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
        trends_bytes = len(_TREND_FIELDS) * len(self.steps) * num_classes * 8
        return sum(matrix.nbytes for matrix in self._matrices) + trends_bytes

    def position(self, step: int) -> int:
        """Index of ``step`` in :attr:`steps`.

        Raises:
            UnreadableDataError: the step was logged but left out (see
                :attr:`skipped`); the message gives the reason.
            NotFoundError: the step was not logged (or not kept).
        """
        try:
            return self._index[step]
        except KeyError:
            pass
        entry = self._skipped_index.get(step)
        if entry is not None:
            raise UnreadableDataError(
                f"step {step} was left out: {entry.reason}. Steps that can be shown: "
                f"{_describe_steps(self.steps)}"
            )
        raise NotFoundError(
            f"step {step} is not available; available steps: {_describe_steps(self.steps)}"
        )

    def skipped_json(self) -> list[dict[str, Any]]:
        """The payloads' ``skipped_steps``: ``[{"step": 3, "reason": "..."}]``."""
        return [entry.as_json() for entry in self.skipped]

    def require_steps(self, run: str, tag: str) -> None:
        """Raise unless at least one step can be shown.

        Raises:
            UnreadableDataError: every logged step was left out (the message
                gives the first reason).
            NotFoundError: nothing was logged yet.
        """
        if self.steps:
            return
        if self.skipped:
            first = self.skipped[0]
            raise UnreadableDataError(
                f"run {run!r}, tag {tag!r}: no step can be shown, every logged step was left "
                f"out ({_describe_steps([entry.step for entry in self.skipped])}); "
                f"step {first.step}: {first.reason}"
            )
        raise NotFoundError(f"run {run!r}, tag {tag!r} has no confusion matrices yet")

    def matrix(self, step: int) -> np.ndarray:
        """The confusion matrix logged at ``step`` (read-only).

        Raises:
            UnreadableDataError: the step was left out.
            NotFoundError: the step is not available.
        """
        return self._matrices[self.position(step)].unpack()

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
        columns: dict[str, list[np.ndarray]] = {field: [] for field in _TREND_FIELDS}
        metrics: dict[str, list[float]] = {name: [] for name in core.METRIC_NAMES}
        for step, packed in zip(self.steps, self._matrices):
            cm = packed.unpack()
            with _invalid_matrix_is_unreadable(step):
                stats = core.per_class_metrics(cm)
                headline = core.imbalance_metrics(cm)
            for field in _TREND_FIELDS:
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
def _invalid_matrix_is_unreadable(step: int) -> Iterator[None]:
    """Turn core's ``ValueError``/``TypeError`` into :class:`UnreadableDataError`."""
    try:
        yield
    except (ValueError, TypeError) as error:
        raise UnreadableDataError(
            f"the confusion matrix stored at step {step} cannot be reported: {error}"
        ) from error


def _describe_steps(steps: Sequence[int]) -> str:
    if not steps:
        return "none"
    if len(steps) <= 8:
        return ", ".join(str(step) for step in steps)
    return f"{len(steps)} steps from {steps[0]} to {steps[-1]}"


class SeriesCache:
    """Thread-safe LRU cache of :class:`MatrixSeries`, bounded in bytes.

    Each key is loaded by at most one thread at a time: concurrent requests
    for the same series wait for that one read instead of repeating it, while
    different series load in parallel. The most recent entry is kept even if
    it alone exceeds ``max_bytes``.

    Args:
        max_bytes: memory bound (``MatrixSeries.nbytes`` summed).

    Example:
        >>> cache = SeriesCache(max_bytes=10_000_000)
        >>> info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
        >>> load = lambda: MatrixSeries(info, "v1", [], [], [])
        >>> cache.get(("", "run", "tag"), "v1", load) is cache.get(("", "run", "tag"), "v1", load)
        True
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        if max_bytes < 0:
            raise ValueError(f"`max_bytes` must be non-negative, received {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._entries: collections.OrderedDict[Hashable, MatrixSeries] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._load_locks: dict[Hashable, threading.Lock] = {}

    @property
    def nbytes(self) -> int:
        """Bytes currently held."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get(
        self, key: Hashable, version: Hashable, load: Callable[[], MatrixSeries]
    ) -> MatrixSeries:
        """Return the cached series for ``key`` if it has ``version``, else ``load()`` it.

        Args:
            key: e.g. ``(experiment_id, run, tag)``.
            version: the current version; a cached entry with another one is
                replaced.
            load: reads the series; its exceptions propagate (nothing is
                cached then).

        Returns:
            The cached or freshly loaded series.
        """
        with self._lock:
            cached = self._lookup(key, version)
            if cached is not None:
                return cached
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:
            with self._lock:
                cached = self._lookup(key, version)
                if cached is not None:
                    return cached
            series = load()
            with self._lock:
                self._store(key, series)
            return series

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _lookup(self, key: Hashable, version: Hashable) -> MatrixSeries | None:
        series = self._entries.get(key)
        if series is None or series.version != version:
            return None
        self._entries.move_to_end(key)
        return series

    def _store(self, key: Hashable, series: MatrixSeries) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= previous.nbytes
        self._entries[key] = series
        self._bytes += series.nbytes
        while self._bytes > self.max_bytes and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes


# --------------------------------------------------------------------------
# Reading through the data provider
# --------------------------------------------------------------------------


class ImbalanceData:
    """Answers the dashboard's questions from a TensorBoard data provider.

    Args:
        data_provider: ``context.data_provider`` (may be ``None``: nothing is
            then found).
        cache: where decoded series are kept; a new
            :class:`SeriesCache` of :data:`DEFAULT_CACHE_BYTES` by default.
        read_budget_bytes: size of the sampled read used when reading a whole
            series in one response fails (see :data:`READ_BUDGET_BYTES`).

    Example:
        >>> from tensorboard.context import RequestContext
        >>> data = ImbalanceData(None)          # no data provider: nothing is found
        >>> data.runs(RequestContext(), "")
        {}
        >>> data.report(RequestContext(), "", "baseline", "confusion_matrix")
        Traceback (most recent call last):
        ...
        tb_imbalance.plugin.data.NotFoundError: no run 'baseline' with confusion matrices
    """

    def __init__(
        self,
        data_provider: tb_provider.DataProvider | None,
        *,
        cache: SeriesCache | None = None,
        read_budget_bytes: int = READ_BUDGET_BYTES,
    ):
        self._provider = data_provider
        self.cache = cache if cache is not None else SeriesCache()
        self._read_budget_bytes = int(read_budget_bytes)
        self._sample_sizes: dict[Hashable, int] = {}
        self._sample_sizes_lock = threading.Lock()

    def has_data(self, ctx: Any, experiment_id: str) -> bool:
        """Whether any run holds ``imbalance`` summaries (False when unknown).

        Example:
            >>> from tensorboard.context import RequestContext
            >>> ImbalanceData(None).has_data(RequestContext(), "")
            False
        """
        if self._provider is None:
            return False
        try:
            plugins = self._provider.list_plugins(ctx, experiment_id=experiment_id)
        except Exception:
            logger.warning("Listing plugins failed", exc_info=True)
            return False
        return fmt.PLUGIN_NAME in (plugins or ())

    def runs(self, ctx: Any, experiment_id: str) -> dict[str, list[str]]:
        """Runs holding confusion matrices, each with its sorted tags.

        Args:
            ctx: TensorBoard ``RequestContext``.
            experiment_id: from ``plugin_util.experiment_id(environ)``.

        Returns:
            ``{run: [tag, ...]}``, runs sorted by name.

        Raises:
            DataUnavailableError: the data provider failed.

        Example:
            >>> from tensorboard.context import RequestContext
            >>> ImbalanceData(None).runs(RequestContext(), "")   # see the module example for a real logdir
            {}
        """
        listing = self._list(ctx, experiment_id, None)
        return {run: sorted(listing[run]) for run in sorted(listing)}

    def series_for(self, ctx: Any, experiment_id: str, run: str, tag: str) -> MatrixSeries:
        """The decoded matrices of (``run``, ``tag``), from the cache when current.

        Raises:
            NotFoundError: no such run or tag, or no data yet.
            UnreadableDataError: the summary was written by a newer format
                version, or its tensors do not decode.
            DataUnavailableError: reading failed.
        """
        time_series = self._describe(ctx, experiment_id, run, tag)
        try:
            info = fmt.parse_plugin_content(time_series.plugin_content)
        except fmt.UnsupportedFormatError as error:
            raise UnreadableDataError(f"run {run!r}, tag {tag!r}: {error}") from None
        version = (time_series.max_step, time_series.max_wall_time)
        key = (experiment_id, run, tag)
        return self.cache.get(
            key, version, lambda: self._load(ctx, experiment_id, run, tag, info, version)
        )

    def report(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int | None = None
    ) -> dict[str, Any]:
        """The ``report`` route's payload; see :func:`report_payload`.

        Args:
            step: the step to report; the latest when None.

        Raises:
            NotFoundError, UnreadableDataError, DataUnavailableError: see
                :meth:`series_for`; also an unavailable ``step``.
        """
        series = self.series_for(ctx, experiment_id, run, tag)
        return report_payload(series, run=run, tag=tag, step=step)

    def series(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        class_indices: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """The ``series`` route's payload; see :func:`series_payload`.

        Raises:
            BadRequestError: a class index outside ``[0, C)``.
            NotFoundError, UnreadableDataError, DataUnavailableError: see
                :meth:`series_for`.
        """
        series = self.series_for(ctx, experiment_id, run, tag)
        return series_payload(series, run=run, tag=tag, class_indices=class_indices)

    def _list(
        self, ctx: Any, experiment_id: str, run_tag_filter: tb_provider.RunTagFilter | None
    ) -> Mapping[str, Mapping[str, tb_provider.TensorTimeSeries]]:
        if self._provider is None:
            return {}
        with _provider_errors("listing confusion matrices"):
            return self._provider.list_tensors(
                ctx,
                experiment_id=experiment_id,
                plugin_name=fmt.PLUGIN_NAME,
                run_tag_filter=run_tag_filter,
            )

    def _describe(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> tb_provider.TensorTimeSeries:
        listing = self._list(ctx, experiment_id, tb_provider.RunTagFilter(runs=[run], tags=[tag]))
        found = listing.get(run, {}).get(tag)
        if found is not None:
            return found
        if self._list(ctx, experiment_id, tb_provider.RunTagFilter(runs=[run])).get(run):
            raise NotFoundError(f"run {run!r} has no confusion-matrix tag {tag!r}")
        raise NotFoundError(f"no run {run!r} with confusion matrices")

    def _read(
        self, ctx: Any, experiment_id: str, run: str, tag: str, downsample: int
    ) -> list[tb_provider.TensorDatum]:
        result = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=fmt.PLUGIN_NAME,
            downsample=downsample,
            run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        return list(result.get(run, {}).get(tag, ()))

    def _read_points(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> list[tb_provider.TensorDatum]:
        key = (experiment_id, run, tag)
        with self._sample_sizes_lock:
            sample_size = self._sample_sizes.get(key)
        if sample_size is None:
            try:
                return self._read(ctx, experiment_id, run, tag, ALL_STEPS)
            except tb_errors.PublicError:
                raise
            except Exception as error:
                logger.warning(
                    "Reading all steps of run %r, tag %r failed (%s); reading a sample of "
                    "at most %d bytes instead",
                    run,
                    tag,
                    error,
                    self._read_budget_bytes,
                )
            latest = self._read(ctx, experiment_id, run, tag, 1)
            if not latest:
                return latest
            step_bytes = max(1, int(np.asarray(latest[-1].numpy).nbytes))
            sample_size = max(1, self._read_budget_bytes // step_bytes)
            with self._sample_sizes_lock:
                self._sample_sizes[key] = sample_size
        return self._read(ctx, experiment_id, run, tag, sample_size)

    def _load(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        info: fmt.MatrixInfo,
        version: Hashable,
    ) -> MatrixSeries:
        with _provider_errors(f"reading run {run!r}, tag {tag!r}"):
            points = self._read_points(ctx, experiment_id, run, tag)
        if not points:
            raise NotFoundError(f"run {run!r}, tag {tag!r} has no confusion matrices yet")
        # Stable: a step logged twice keeps the order the loader read it in.
        points.sort(key=lambda point: point.step)
        kept: dict[int, tuple[float, PackedMatrix]] = {}
        skipped: list[SkippedStep] = []
        for point in points:
            step = int(point.step)
            matrix, reason = _decode_step(point.numpy, info)
            if matrix is None:
                skipped.append(SkippedStep(step, reason))
                continue
            if step in kept:
                skipped.append(SkippedStep(step, _REPLACED_REASON))
            kept[step] = (float(point.wall_time), PackedMatrix.pack(matrix))
        if skipped:
            logger.warning(
                "Run %r, tag %r: %d logged step(s) left out (%s); first reason: %s",
                run, tag, len(skipped), _describe_steps([entry.step for entry in skipped]),
                skipped[0].reason,
            )
        steps = sorted(kept)
        return MatrixSeries(
            info,
            version,
            steps,
            [kept[step][0] for step in steps],
            [kept[step][1] for step in steps],
            skipped,
        )


#: Why an earlier record of a step logged twice is not shown.
_REPLACED_REASON = (
    "this step was logged more than once (e.g. by a re-run into the same directory); "
    "the record read last is shown"
)


def _describe_names(names: Sequence[str], limit: int = 5, width: int = 40) -> str:
    shown = ", ".join(
        repr(name if len(name) <= width else name[: width - 1] + "…") for name in names[:limit]
    )
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _class_set_advice(info: fmt.MatrixInfo) -> str:
    return (
        f"this tag has {info.num_classes} ({_describe_names(info.class_names)}): TensorBoard "
        "keeps a tag's class names from its first step only. Log a different set of classes "
        "under another tag or into a new run directory"
    )


def _decode_step(tensor: Any, info: fmt.MatrixInfo) -> tuple[np.ndarray | None, str]:
    """Decode one stored step, or say why it cannot be shown under this tag.

    Returns:
        ``(matrix, "")``, or ``(None, reason)`` when the stored tensor does
        not fit the tag's metadata (another class set) or holds counts that
        are not finite and non-negative.
    """
    tensor = np.asarray(tensor)
    size = info.num_classes
    if not (np.issubdtype(tensor.dtype, np.integer) or np.issubdtype(tensor.dtype, np.floating)):
        return None, f"its stored tensor has dtype {tensor.dtype}, not counts"
    square = tensor.ndim == 2 and tensor.shape[0] == tensor.shape[1]
    if info.encoding == fmt.DENSE and square and tensor.shape[0] != size:
        return None, (
            f"its confusion matrix has {tensor.shape[0]} classes (shape {tensor.shape}), but "
            f"{_class_set_advice(info)}"
        )
    try:
        matrix = fmt.decode_matrix(tensor, info)
    except fmt.UnsupportedFormatError as error:
        return None, (
            f"its confusion matrix does not fit this tag's classes ({error}); "
            f"{_class_set_advice(info)}"
        )
    if info.encoding == fmt.COO and tensor.shape[0] > 1:
        cells = tensor[:, 0].astype(np.int64) * size + tensor[:, 1].astype(np.int64)
        if np.any(np.diff(cells) <= 0):
            return None, (
                f"its stored tensor (shape {tensor.shape}) does not fit this tag's classes: read "
                "as coo cells it is not sorted by (true, predicted) without repeats, as every "
                f"matrix logged for this tag would be; {_class_set_advice(info)}"
            )
    counts = tensor if info.encoding == fmt.DENSE else tensor[:, 2]
    if counts.size:
        if np.issubdtype(counts.dtype, np.floating) and not np.all(np.isfinite(counts)):
            return None, "its confusion matrix holds NaN or infinite counts"
        if counts.min() < 0:
            return None, f"its confusion matrix holds a negative count ({counts.min()})"
    return matrix, ""


@contextlib.contextmanager
def _provider_errors(action: str) -> Iterator[None]:
    """Map data-provider failures to :class:`DashboardError` subclasses."""
    try:
        yield
    except DashboardError:
        raise
    except tb_errors.NotFoundError as error:
        raise NotFoundError(f"{action}: {error}") from error
    except tb_errors.PublicError as error:
        raise DashboardError(f"{action}: {error}", status=error.http_code) from error
    except Exception as error:
        logger.warning("%s failed", action, exc_info=True)
        raise DataUnavailableError(f"{action} failed: {error}") from error


# --------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------


def report_payload(
    series: MatrixSeries, *, run: str, tag: str, step: int | None = None
) -> dict[str, Any]:
    """Everything the dashboard shows for one step of one (run, tag).

    Args:
        series: the decoded series.
        run, tag: echoed back.
        step: the step to report; the latest when None.

    Returns:
        A dict with ``run``, ``tag``, ``step``, ``wall_time``, ``steps``,
        ``skipped_steps`` (logged steps left out, each ``{"step", "reason"}``),
        ``class_names``, ``num_classes``, ``weighted``, ``confusion_matrix``
        (numpy ``[C, C]``; :func:`to_json` writes it as a list of rows),
        ``report`` (:func:`tb_imbalance.core.classification_report`),
        ``metrics`` (:func:`tb_imbalance.core.imbalance_metrics`) and
        ``per_class`` (lists of length C from
        :func:`tb_imbalance.core.per_class_metrics`).

    Raises:
        NotFoundError: ``step`` was not logged, or nothing was.
        UnreadableDataError: ``step`` was left out (the message says why),
            every step was, or the class names are invalid.

    Example:
        >>> info = fmt.MatrixInfo(1, 2, ("ok", "fraud"), False)
        >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
        ...     [PackedMatrix.pack(np.array([[50, 2], [3, 5]]))] * 2)
        >>> payload = report_payload(series, run="baseline", tag="confusion_matrix")
        >>> payload["step"], payload["report"]["fraud"]["recall"]
        (1, 0.625)
    """
    series.require_steps(run, tag)
    chosen = series.steps[-1] if step is None else int(step)
    position = series.position(chosen)
    cm = series.matrix(chosen)
    class_names = list(series.info.class_names)
    with _invalid_matrix_is_unreadable(chosen):
        report = core.classification_report(cm, class_names)
        metrics = core.imbalance_metrics(cm)
        stats = core.per_class_metrics(cm)
    return {
        "run": run,
        "tag": tag,
        "step": chosen,
        "wall_time": series.wall_times[position],
        "steps": list(series.steps),
        "skipped_steps": series.skipped_json(),
        "class_names": class_names,
        "num_classes": series.info.num_classes,
        "weighted": series.info.weighted,
        "confusion_matrix": cm,
        "report": report,
        "metrics": metrics,
        "per_class": {field: stats[field].tolist() for field in _PER_CLASS_FIELDS},
    }


def series_payload(
    series: MatrixSeries,
    *,
    run: str,
    tag: str,
    class_indices: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Per-class and headline trends across all steps of one (run, tag).

    Args:
        series: the decoded series.
        run, tag: echoed back.
        class_indices: limit the per-class arrays (and ``class_names``) to
            these classes, in this order; all classes when None.

    Returns:
        A dict with ``run``, ``tag``, ``class_names``, ``steps``,
        ``skipped_steps`` (as in :func:`report_payload`), ``wall_times``,
        ``recall``, ``precision``, ``f1``, ``support``, ``predicted`` (each
        ``[S][K]``: one row per step, one column per listed class),
        ``metrics`` (name -> one value per step) and, when ``class_indices``
        is given, ``class_indices``.

    Raises:
        BadRequestError: a class index outside ``[0, C)``, or none given.
        NotFoundError: nothing was logged.
        UnreadableDataError: every logged step was left out.

    Example:
        >>> info = fmt.MatrixInfo(1, 4, ("a", "b", "c", "d"), False)
        >>> series = MatrixSeries(info, "v1", [0, 1], [0.0, 1.0],
        ...     [PackedMatrix.pack(np.diag([5, 6, 7, 8]))] * 2)
        >>> payload = series_payload(series, run="baseline", tag="confusion_matrix",
        ...                          class_indices=[3])
        >>> len(payload["recall"][0]), payload["class_indices"]
        (1, [3])
    """
    series.require_steps(run, tag)
    num_classes = series.info.num_classes
    names = list(series.info.class_names)
    trends = series.trends()
    payload: dict[str, Any] = {
        "run": run,
        "tag": tag,
        "class_names": names,
        "steps": list(series.steps),
        "skipped_steps": series.skipped_json(),
        "wall_times": list(series.wall_times),
    }
    if class_indices is None:
        columns = None
    else:
        columns = _checked_class_indices(class_indices, num_classes)
        payload["class_names"] = [names[index] for index in columns]
    for field in _TREND_FIELDS:
        values = getattr(trends, field)
        if columns is not None:
            values = values[:, columns]
        payload[field] = values
    payload["metrics"] = {name: list(values) for name, values in trends.metrics.items()}
    if columns is not None:
        payload["class_indices"] = columns
    return payload


def _checked_class_indices(class_indices: Iterable[int], num_classes: int) -> list[int]:
    columns = [int(index) for index in class_indices]
    if not columns:
        raise BadRequestError("`classes` must list at least one class index")
    for index in columns:
        if not 0 <= index < num_classes:
            raise BadRequestError(
                f"`classes` must hold class indices in [0, {num_classes - 1}], received {index}"
            )
    return columns


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _zero_matrix_json(num_rows: int, num_columns: int) -> str:
    row = ",".join(["0"] * num_columns)
    return "[[" + "],[".join([row] * num_rows) + "]]"


def _count_matrix_json(matrix: np.ndarray) -> str:
    """JSON list of rows for an integer matrix, fast when it is mostly zeros.

    A wide confusion matrix (1000 classes: a million cells) has about 1%
    non-zero cells: they are spliced into a cached all-zero text, which is
    over ten times faster than ``json.dumps(matrix.tolist())``.
    """
    num_rows, num_columns = matrix.shape
    flat = matrix.reshape(-1)
    nonzero = np.flatnonzero(flat)
    if nonzero.size * 8 > flat.size:
        return json.dumps(matrix.tolist(), separators=(",", ":"))
    template = _zero_matrix_json(num_rows, num_columns)
    row_stride = 2 * num_columns + 2
    positions = 2 + (nonzero // num_columns) * row_stride + 2 * (nonzero % num_columns)
    pieces = []
    previous = 0
    for position, value in zip(positions.tolist(), flat[nonzero].tolist()):
        pieces.append(template[previous:position])
        pieces.append(str(value))
        previous = position + 1
    pieces.append(template[previous:])
    return "".join(pieces)


def _value_json(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 2 and value.size and np.issubdtype(value.dtype, np.integer):
            return _count_matrix_json(value)
        value = value.tolist()
    return json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def to_json(payload: Mapping[str, Any]) -> str:
    """Serialise a payload of this module (numpy arrays allowed as top-level values).

    Args:
        payload: a dict from :func:`report_payload`, :func:`series_payload`
            or :meth:`ImbalanceData.runs`.

    Returns:
        Compact JSON text (UTF-8 safe; NaN is never written).

    Raises:
        ValueError: a value is NaN or infinite.

    Example:
        >>> to_json({"confusion_matrix": np.array([[3, 0], [12, 5]]), "step": 2})
        '{"confusion_matrix":[[3,0],[12,5]],"step":2}'
    """
    members = (
        f"{json.dumps(str(key), ensure_ascii=False)}:{_value_json(value)}"
        for key, value in payload.items()
    )
    return "{" + ",".join(members) + "}"


# --------------------------------------------------------------------------
# Static files
# --------------------------------------------------------------------------


def find_static_dir() -> pathlib.Path | None:
    """Locate the dashboard's static folder.

    An installed wheel ships it inside the package
    (``tb_imbalance/plugin_static/``); a source or editable checkout has it
    next to the package (``<repo>/plugin_static/``). The first one that
    exists wins.

    Returns:
        The folder, or None when neither exists.

    Example:
        >>> find_static_dir().name
        'plugin_static'
    """
    package_dir = pathlib.Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "plugin_static", package_dir.parent / "plugin_static"):
        if candidate.is_dir():
            return candidate
    return None


def read_static_file(static_dir: pathlib.Path | None, relative_path: str) -> tuple[bytes, str]:
    """Read one file of the static folder, refusing anything outside it.

    Args:
        static_dir: from :func:`find_static_dir`.
        relative_path: the (already URL-decoded) path below the folder, e.g.
            ``"views/table.js"``.

    Returns:
        ``(content, content_type)``.

    Raises:
        NotFoundError: no such file, a path that leaves the folder (``..``,
            absolute paths, symlinks pointing outside) or an extension not in
            :data:`STATIC_CONTENT_TYPES`.

    Example:
        >>> read_static_file(find_static_dir(), "index.js")[1]
        'text/javascript'
    """
    not_found = NotFoundError(f"no static file {relative_path!r}")
    if static_dir is None or not relative_path or "\x00" in relative_path or "\\" in relative_path:
        raise not_found
    parts = relative_path.split("/")
    if relative_path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise not_found
    content_type = STATIC_CONTENT_TYPES.get(os.path.splitext(parts[-1])[1].lower())
    if content_type is None:
        raise not_found
    root = static_dir.resolve()
    try:
        target = root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        raise not_found from None
    if root not in target.parents or not target.is_file():
        raise not_found
    try:
        return target.read_bytes(), content_type
    except OSError:
        raise not_found from None

