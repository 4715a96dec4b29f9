"""The dashboard's reads of the binned scores behind the curves (the ``curves`` route, report and compare fields).

:class:`CurveReads` is the part of
:class:`~tb_imbalance.plugin.reader.ImbalanceData` that lists a tag's curve
steps (``list_blob_sequences`` / ``read_blob_sequences`` of
``<tag>_curves``), reads and decodes one step's summary (``read_blob``) and
hands it to :mod:`tb_imbalance.plugin.curves`. Like the rest of the reader it
reads only through the data provider, and keeps what it decoded in the
reader's cache.

Example:
    >>> from tensorboard.context import RequestContext
    >>> from tb_imbalance.plugin.reader import ImbalanceData
    >>> ImbalanceData(None).curves(RequestContext(), "", "r", "cm", None, 0)
    Traceback (most recent call last):
    ...
    tb_imbalance.plugin.errors.NotFoundError: no run 'r' with confusion matrices; query parameter `run` must be one of the runs the `runs` route lists: none yet
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from tensorboard.data import provider as tb_provider

from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.plugin import curves as plugin_curves
from tb_imbalance.plugin.decode import ALL_STEPS
from tb_imbalance.plugin.offers import runs_with_blobs
from tb_imbalance.plugin.offers import step_fix
from tb_imbalance.plugin.series import invalid_matrix_is_unreadable
from tb_imbalance.plugin.errors import (
    BadRequestError,
    DashboardError,
    NotFoundError,
    UnreadableDataError,
    provider_errors,
)

__all__ = ["CurveReads"]

logger = logging.getLogger("tb_imbalance.plugin.reader")


class CurveReads:
    """Reads of a tag's curves; mixed into :class:`~tb_imbalance.plugin.reader.ImbalanceData`.

    Uses the host's ``_provider``, ``cache`` and ``series_for``.
    """

    def curves(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int | None, class_index: int
    ) -> dict[str, Any]:
        """The ``curves`` route's payload: one class's PR, ROC and reliability curves at one step.

        Args:
            step: a step holding curves; the latest such step when None.
            class_index: the class, in ``[0, C)``.

        Returns:
            See :func:`tb_imbalance.plugin.curves.curves_payload`.

        Raises:
            BadRequestError: ``class_index`` outside ``[0, C)``.
            NotFoundError: unknown run or tag, no curves logged, or none at ``step``.
            UnreadableDataError: a newer format or a corrupt summary; the
                step's matrix cannot be shown.
            DataUnavailableError: reading failed.
        """
        series = self.series_for(ctx, experiment_id, run, tag)
        num_classes = series.info.num_classes
        if not 0 <= class_index < num_classes:
            raise BadRequestError(
                f"query parameter `class` must be a class index in [0, {num_classes - 1}] "
                f"(run {run!r}, tag {tag!r} has {num_classes} classes), received {class_index}"
            )
        steps = self._curve_steps(ctx, experiment_id, run, tag)
        if steps is None:
            raise self._no_curves(ctx, experiment_id, run, tag)
        shown = series.shown_of(steps.blob_keys)
        if step is None and not shown:
            raise NotFoundError(series.none_shown_message(
                run, tag, "curves", sorted(steps.blob_keys), self._curve_runs(ctx, experiment_id, run, tag)
            ))
        chosen = shown[-1] if step is None else int(step)
        if chosen not in steps.blob_keys:
            raise NotFoundError(
                f"run {run!r}, tag {tag!r}: step {chosen} holds no curves; {step_fix('step', 'a step with curves', shown)}"
            )
        series.position(chosen, offered=("curves", shown))  # 404 / 422 when the step's matrix cannot be shown
        summary = self._decoded_curves(ctx, experiment_id, run, tag, steps, chosen, num_classes)
        with invalid_matrix_is_unreadable(chosen, run, tag):
            cm = core.validate_matrix(series.matrix(chosen))
        return plugin_curves.curves_payload(
            summary,
            cm,
            class_names=series.info.class_names,
            class_index=int(class_index),
            run=run,
            tag=tag,
            step=chosen,
            steps=shown,
        )

    def _no_curves(self, ctx: Any, experiment_id: str, run: str, tag: str) -> NotFoundError:
        """The 404 of a run and tag without curves, offering the runs whose tag holds some."""
        return NotFoundError(plugin_curves.no_curves_message(run, tag, runs=self._curve_runs(ctx, experiment_id, run, tag)))

    def _curve_runs(self, ctx: Any, experiment_id: str, run: str, tag: str) -> list[str]:
        """The runs but ``run`` whose ``tag`` holds curves."""
        runs = runs_with_blobs(self._provider, ctx, experiment_id, fmt.curves_tag(tag),
                               lambda content: fmt.parse_curves_content(content).matrix_tag, tag)
        return [name for name in runs if name != run]

    def _curves_at(self, ctx: Any, experiment_id: str, run: str, tag: str, step: int, num_classes: int) -> np.ndarray | None:
        """The summary at ``step``, or None when there is none or it cannot be read (logged)."""
        return self._curves_or_error(ctx, experiment_id, run, tag, step, num_classes)[0]

    def _curves_or_error(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int, num_classes: int
    ) -> tuple[np.ndarray | None, str | None]:
        """The summary at ``step`` (None when there is none), and why it could not be read (logged)."""
        try:
            steps = self._curve_steps(ctx, experiment_id, run, tag)
            if steps is None or step not in steps.blob_keys:
                return None, None
            return self._decoded_curves(ctx, experiment_id, run, tag, steps, step, num_classes), None
        except DashboardError as error:
            logger.warning("Reading the curves of run %r, tag %r, step %d failed: %s", run, tag, step, error)
            return None, str(error)

    def _curve_steps(self, ctx: Any, experiment_id: str, run: str, tag: str) -> plugin_curves.CurveSteps | None:
        """The curves tag's steps and blob keys, or None when it holds none."""
        if self._provider is None:
            return None
        curves_tag = fmt.curves_tag(tag)
        run_tag_filter = tb_provider.RunTagFilter(runs=[run], tags=[curves_tag])
        with provider_errors(f"listing the curves of run {run!r}, tag {tag!r}"):
            listing = self._provider.list_blob_sequences(
                ctx, experiment_id=experiment_id, plugin_name=fmt.PLUGIN_NAME, run_tag_filter=run_tag_filter
            )
        time_series = listing.get(run, {}).get(curves_tag)
        if time_series is None:
            return None
        version = (time_series.max_step, time_series.max_wall_time)

        def load() -> plugin_curves.CurveSteps:
            with provider_errors(f"reading the curves of run {run!r}, tag {tag!r}"):
                result = self._provider.read_blob_sequences(
                    ctx,
                    experiment_id=experiment_id,
                    plugin_name=fmt.PLUGIN_NAME,
                    downsample=ALL_STEPS,
                    run_tag_filter=run_tag_filter,
                )
            keys = {
                int(datum.step): datum.values[0].blob_key
                for datum in result.get(run, {}).get(curves_tag, ())
                if datum.values
            }
            return plugin_curves.CurveSteps(version, keys, bytes(time_series.plugin_content))

        steps = self.cache.get(("curves", experiment_id, run, tag), version, load)
        return steps if steps.blob_keys else None

    def _decoded_curves(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        steps: plugin_curves.CurveSteps,
        step: int,
        num_classes: int,
    ) -> np.ndarray:
        try:
            info = fmt.parse_curves_content(steps.content)
        except fmt.UnsupportedFormatError as error:
            raise UnreadableDataError(f"run {run!r}, tag {fmt.curves_tag(tag)!r}: {error}") from None
        if info.matrix_tag != tag:
            raise self._no_curves(ctx, experiment_id, run, tag)
        if info.bins % core.CALIBRATION_BINS:  # the one check of what the curves' maths take as given
            raise UnreadableDataError(
                f"run {run!r}, tag {fmt.curves_tag(tag)!r}: its {info.bins} score bins do not merge into the "
                f"{core.CALIBRATION_BINS} calibration bins the dashboard draws (no tb_imbalance writer stores such "
                f"curves: log them again, {core.CURVE_BINS} bins)"
            )

        def load() -> plugin_curves.CurveSummary:
            with provider_errors(f"reading the curves of run {run!r}, tag {tag!r}, step {step}"):
                blob = self._provider.read_blob(ctx, blob_key=steps.blob_keys[step])
            try:
                summary = fmt.decode_curves(blob, info, num_classes)
            except fmt.UnsupportedFormatError as error:
                raise UnreadableDataError(f"run {run!r}, tag {tag!r}, step {step}: {error}") from None
            return plugin_curves.CurveSummary(steps.version, summary)

        key = ("curves-step", experiment_id, run, tag, step)
        return self.cache.get(key, steps.version, load).summary
