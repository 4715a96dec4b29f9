"""Reading the dashboard's data through TensorBoard's data provider.

:class:`ImbalanceData` answers the routes' questions: it lists runs and tags
(``list_tensors``), reads and decodes a (run, tag)'s matrices
(``read_tensors``) into a :class:`~tb_imbalance.plugin.series.MatrixSeries`
kept in a :class:`~tb_imbalance.plugin.cache.SeriesCache`, and hands series
to :mod:`tb_imbalance.plugin.payloads`. It reads only through
``context.data_provider``, so it answers the same for the Python loader and
the Rust data server, and never reads the logdir itself.

Steps that cannot be shown never hide the others. TensorBoard keeps only the
first summary metadata of a tag, so a step logged later with another class
set (a re-run into the same directory, a second writer) is stored under the
first step's class names. Such a step — or one whose counts are negative or
not finite — is left out of the series as a
:class:`~tb_imbalance.plugin.series.SkippedStep` with the reason; every
payload lists them as ``skipped_steps``, and asking for one of them answers
422 with that reason.

Which stored steps can be shown is decided in :mod:`tb_imbalance.plugin.decode`,
and the examples routes' reads live in :mod:`tb_imbalance.plugin.examples_reader`
(:class:`ImbalanceData` inherits them).

Data-provider failures become :mod:`tb_imbalance.plugin.errors`: an unknown
run or tag is a ``NotFoundError`` (404), a newer format an
``UnreadableDataError`` (422), a failed read a ``DataUnavailableError`` (503).

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

import logging
import threading
from typing import Any, Hashable, Mapping, Sequence

import numpy as np
from tensorboard import errors as tb_errors
from tensorboard.data import provider as tb_provider

from tb_imbalance import format as fmt
from tb_imbalance.plugin.cache import SeriesCache
from tb_imbalance.plugin.decode import ALL_STEPS, REPLACED_REASON, decode_step
from tb_imbalance.plugin.errors import NotFoundError, UnreadableDataError, provider_errors
from tb_imbalance.plugin.curves import average_precision_differences, report_curve_fields
from tb_imbalance.plugin.curves_reader import CurveReads
from tb_imbalance.plugin.examples_reader import ExampleReads
from tb_imbalance.plugin.offers import describe_steps, missing_run_or_tag, run_fix
from tb_imbalance.plugin.payloads import compare_payload, report_payload, series_payload
from tb_imbalance.plugin.series import (
    MatrixSeries,
    PackedMatrix,
    SkippedStep,
    check_class_names,
    check_served_classes,
)
from tb_imbalance.plugin.unnamed_classes import visible_class_names

__all__ = ["ALL_STEPS", "READ_BUDGET_BYTES", "ImbalanceData", "decode_step"]

logger = logging.getLogger(__name__)

#: Largest read attempted after a full read failed. TensorBoard's data server
#: client refuses responses above 256 MiB, so a series of very wide matrices
#: is then read as a sample of this many bytes (always including the latest
#: step).
READ_BUDGET_BYTES = 192 * 1024 * 1024

class ImbalanceData(ExampleReads, CurveReads):
    """Answers the dashboard's questions from a TensorBoard data provider.

    Args:
        data_provider: ``context.data_provider`` (may be ``None``: nothing is
            then found).
        cache: where decoded series are kept; a new
            :class:`SeriesCache` of
            :data:`~tb_imbalance.plugin.cache.DEFAULT_CACHE_BYTES` by default.
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
        tb_imbalance.plugin.errors.NotFoundError: no run 'baseline' with confusion matrices; query parameter `run` must be one of the runs the `runs` route lists: none yet
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
        self._sampled: set[Hashable] = set()  # (experiment, run, tag) whose full read failed
        self._sampled_lock = threading.Lock()

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
        time_series = self._describe(ctx, experiment_id, [run], tag)[run]
        return self._series_of(ctx, experiment_id, run, tag, time_series)

    def _series_of(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        time_series: tb_provider.TensorTimeSeries,
        parameter: str = "run",
    ) -> MatrixSeries:
        """The series of a listed (``run``, ``tag``); ``parameter`` is the query parameter ``run`` came from."""
        try:
            info = visible_class_names(fmt.parse_plugin_content(time_series.plugin_content))
        except fmt.UnsupportedFormatError as error:
            raise UnreadableDataError(f"run {run!r}, tag {tag!r}: {error}") from None
        check_served_classes(info, run, tag)
        check_class_names(info, run, tag)
        version = (time_series.max_step, time_series.max_wall_time)
        key = (experiment_id, run, tag)
        return self.cache.get(
            key, version, lambda: self._load(ctx, experiment_id, run, tag, info, version, parameter)
        )

    def report(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        step: int | None = None,
        *,
        many: int | None = None,
        few: int | None = None,
        group: bool = False,
    ) -> dict[str, Any]:
        """The ``report`` route's payload; see :func:`report_payload`.

        The payload also holds ``has_examples``: whether the step reported
        holds examples (see :meth:`examples`); False when they cannot be
        listed or read, and ``examples_error`` then says why. ``has_curves`` says whether it holds curves (never with
        ``group``), and ``curves_error`` why curves it holds could not be read
        (None when they were, or there are none); ``per_class`` then also has ``average_precision``,
        ``roc_auc`` and ``calibration_error``, and ``metrics`` has
        :data:`tb_imbalance.core.CURVE_METRIC_NAMES`
        (:func:`tb_imbalance.core.curve_metrics`; all None without curves or
        where undefined).

        Args:
            step: the step to report; the latest when None.
            many, few, group: see :func:`report_payload`.

        Raises:
            NotFoundError, UnreadableDataError, DataUnavailableError: see
                :meth:`series_for`; also an unavailable ``step``.
        """
        series = self.series_for(ctx, experiment_id, run, tag)
        payload = report_payload(series, run=run, tag=tag, step=step, many=many, few=few, group=group)
        payload["has_examples"], payload["examples_error"] = self._examples_or_error(
            ctx, experiment_id, run, tag, payload["step"]
        )
        curves, curves_error = (
            (None, None)
            if group
            else self._curves_or_error(ctx, experiment_id, run, tag, payload["step"], series.info.num_classes)
        )
        fields = report_curve_fields(curves, payload["num_classes"])
        payload["has_curves"] = curves is not None
        payload["curves_error"] = curves_error
        payload["per_class"].update(fields["per_class"])
        payload["metrics"].update(fields["metrics"])
        return payload

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

    def compare(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        step: int | None,
        baseline: str,
        baseline_step: int | None = None,
    ) -> dict[str, Any]:
        """The ``compare`` route's payload; see :func:`compare_payload`.

        Args:
            run, step: the run compared, at ``step`` (its latest when None).
            baseline, baseline_step: the run compared with, at
                ``baseline_step`` (its latest when None).

        The payload's ``per_class`` also holds ``average_precision``,
        ``baseline_average_precision`` and ``average_precision_difference``
        (run minus baseline; None where a step has no curves or the class
        no positives).

        Raises:
            BadRequestError: the two runs have different classes.
            NotFoundError, UnreadableDataError, DataUnavailableError: see
                :meth:`series_for`, for either run; also an unavailable step.
        """
        # One listing for both runs: with the data server (--load_fast) every
        # call is a round trip that costs more than the whole comparison.
        listing = self._describe(ctx, experiment_id, [run, baseline], tag, ("run", "baseline"))
        series = self._series_of(ctx, experiment_id, run, tag, listing[run])
        baseline_series = self._series_of(ctx, experiment_id, baseline, tag, listing[baseline], "baseline")
        payload = compare_payload(
            series,
            baseline_series,
            run=run,
            tag=tag,
            step=step,
            baseline=baseline,
            baseline_step=baseline_step,
        )
        num_classes = series.info.num_classes
        curves = self._curves_at(ctx, experiment_id, run, tag, payload["step"], num_classes)
        baseline_curves = self._curves_at(ctx, experiment_id, baseline, tag, payload["baseline_step"], num_classes)
        payload["per_class"].update(average_precision_differences(curves, baseline_curves, num_classes))
        return payload

    def _list(
        self, ctx: Any, experiment_id: str, run_tag_filter: tb_provider.RunTagFilter | None
    ) -> Mapping[str, Mapping[str, tb_provider.TensorTimeSeries]]:
        if self._provider is None:
            return {}
        with provider_errors("listing confusion matrices"):
            return self._provider.list_tensors(
                ctx,
                experiment_id=experiment_id,
                plugin_name=fmt.PLUGIN_NAME,
                run_tag_filter=run_tag_filter,
            )

    def _describe(
        self,
        ctx: Any,
        experiment_id: str,
        runs: Sequence[str],
        tag: str,
        parameters: Sequence[str] = ("run",),
    ) -> dict[str, tb_provider.TensorTimeSeries]:
        """The listing of ``tag`` in each of ``runs``, from one ``list_tensors`` call.

        ``parameters`` names the query parameter each of ``runs`` came from,
        for the 404 of a run that is not there.
        """
        wanted = list(dict.fromkeys(runs))
        parameter_of: dict[str, str] = {}
        for run, parameter in zip(runs, parameters):
            parameter_of.setdefault(run, parameter)
        listing = self._list(ctx, experiment_id, tb_provider.RunTagFilter(runs=wanted, tags=[tag]))
        found: dict[str, tb_provider.TensorTimeSeries] = {}
        for run in wanted:
            time_series = listing.get(run, {}).get(tag)
            if time_series is None:
                everything = self._list(ctx, experiment_id, None)  # what to pass instead
                raise missing_run_or_tag(everything, run, tag, parameter_of.get(run, "run"))
            found[run] = time_series
        return found

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
        with self._sampled_lock:
            sampled = key in self._sampled
        if not sampled:
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
            with self._sampled_lock:
                self._sampled.add(key)
        # Sized by the latest step at every read: a run logged again under the
        # same name may hold matrices of another size.
        latest = self._read(ctx, experiment_id, run, tag, 1)
        if not latest:
            return latest
        step_bytes = max(1, int(np.asarray(latest[-1].numpy).nbytes))
        return self._read(ctx, experiment_id, run, tag, max(1, self._read_budget_bytes // step_bytes))

    def _load(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        info: fmt.MatrixInfo,
        version: Hashable,
        parameter: str,
    ) -> MatrixSeries:
        with provider_errors(f"reading run {run!r}, tag {tag!r}"):
            points = self._read_points(ctx, experiment_id, run, tag)
        if not points:  # listed, but nothing read yet: the runs to pass instead
            listing = self._list(ctx, experiment_id, tb_provider.RunTagFilter(tags=[tag]))
            others = [name for name, tags in listing.items() if tag in tags and name != run]
            raise NotFoundError(f"run {run!r}, tag {tag!r} has no confusion matrices yet; "
                                f"{run_fix('another run with this tag', others, parameter)}")
        # Stable: a step logged twice keeps the order the loader read it in.
        points.sort(key=lambda point: point.step)
        kept: dict[int, tuple[float, PackedMatrix]] = {}
        skipped: list[SkippedStep] = []
        for point in points:
            step = int(point.step)
            matrix, reason = decode_step(point.numpy, info)
            if matrix is None:
                skipped.append(SkippedStep(step, reason))
                continue
            if step in kept:
                skipped.append(SkippedStep(step, REPLACED_REASON))
            kept[step] = (float(point.wall_time), PackedMatrix.pack(matrix))
        if skipped:
            logger.warning(
                "Run %r, tag %r: %d logged step(s) left out (%s); first reason: %s",
                run, tag, len(skipped), describe_steps([entry.step for entry in skipped]),
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
