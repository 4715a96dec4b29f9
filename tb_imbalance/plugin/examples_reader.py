"""The dashboard's reads of the examples behind each cell (the ``examples`` and ``example_image`` routes).

:class:`ExampleReads` is the part of
:class:`~tb_imbalance.plugin.reader.ImbalanceData` that lists a tag's
example steps (``list_blob_sequences``), reads one step's index and
thumbnails (``read_blob``) and hands them to
:func:`tb_imbalance.plugin.examples.examples_payload`. Like the rest of the
reader it reads only through the data provider.

Example:
    >>> from tensorboard.context import RequestContext
    >>> from tb_imbalance.plugin.reader import ImbalanceData
    >>> ImbalanceData(None).examples(RequestContext(), "", "r", "cm", None, 0, 1)
    Traceback (most recent call last):
    ...
    tb_imbalance.plugin.errors.NotFoundError: no run 'r' with confusion matrices; query parameter `run` must be one of the runs the `runs` route lists: none yet
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
from tensorboard.data import provider as tb_provider

from tb_imbalance import format as fmt
from tb_imbalance.format.blob_names import blob_key_trouble
from tb_imbalance.plugin import examples as plugin_examples
from tb_imbalance.plugin.decode import ALL_STEPS
from tb_imbalance.plugin.offers import runs_with_blobs
from tb_imbalance.plugin.unnamed_classes import visible_class_names
from tb_imbalance.plugin.errors import (
    BadRequestError,
    DashboardError,
    NotFoundError,
    UnreadableDataError,
    provider_errors,
)

__all__ = ["ExampleReads"]

# Logged under the reader's name, where these warnings always were.
logger = logging.getLogger("tb_imbalance.plugin.reader")


class ExampleReads:
    """Reads of a tag's examples; mixed into :class:`~tb_imbalance.plugin.reader.ImbalanceData`.

    Uses the host's ``_provider``, ``cache``, ``_describe`` and ``series_for``.
    """

    def examples(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        step: int | None,
        true: int,
        pred: int,
    ) -> dict[str, Any]:
        """The ``examples`` route's payload: the examples behind one cell.

        Args:
            tag: the matrix tag; its examples are under
                :func:`tb_imbalance.format.examples_tag` of it.
            step: a step holding examples; the latest such step when None.
            true, pred: the cell (true class, predicted class).

        Returns:
            See :func:`tb_imbalance.plugin.examples.examples_payload`.

        Raises:
            BadRequestError: ``true`` or ``pred`` outside ``[0, C)``.
            NotFoundError: unknown run or tag, no examples logged for them, or
                none at ``step``.
            UnreadableDataError: written by a newer tb_imbalance, or a
                corrupt index.
            DataUnavailableError: reading failed.
        """
        info = self._matrix_info(ctx, experiment_id, run, tag)
        for name, value in (("true", true), ("pred", pred)):
            if not 0 <= value < info.num_classes:
                raise BadRequestError(
                    f"query parameter `{name}` must be a class index in [0, {info.num_classes - 1}] "
                    f"(run {run!r}, tag {tag!r} has {info.num_classes} classes), received {value}"
                )
        steps = self._require_example_steps(ctx, experiment_id, run, tag)
        chosen, keys, shown = self._shown_keys(ctx, experiment_id, run, tag, steps, step)
        index = self._example_index(ctx, experiment_id, run, tag, steps, chosen, keys)
        return plugin_examples.examples_payload(
            index,
            run=run,
            tag=tag,
            step=chosen,
            steps=shown,
            true=int(true),
            pred=int(pred),
            class_names=info.class_names,
            num_blobs=len(keys),
            unlisted_count=lambda: self._cell_count(ctx, experiment_id, run, tag, chosen, int(true), int(pred)),
        )

    def _cell_count(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int, true: int, pred: int
    ) -> int | None:
        """Rows in a cell, read from the step's matrix when it holds counts; None when unknown."""
        try:
            series = self.series_for(ctx, experiment_id, run, tag)
            if step not in series.steps:
                return None
            cm = series.matrix(step)
        except DashboardError:
            return None
        value = cm[true, pred]
        if value == 0:  # no row of positive weight: none counted in the index either
            return 0
        return int(value) if np.issubdtype(cm.dtype, np.integer) else None

    def example_image(
        self, ctx: Any, experiment_id: str, run: str, tag: str, step: int | None, index: int
    ) -> bytes:
        """The PNG bytes of thumbnail ``index`` (blob position, 1 or more) at ``step``.

        Raises:
            NotFoundError: unknown run or tag, no examples, none at ``step``,
                or ``index`` past the step's thumbnails.
            UnreadableDataError: a newer format, or the blob is not a PNG.
            DataUnavailableError: reading failed.
        """
        self._describe(ctx, experiment_id, [run], tag)
        steps = self._require_example_steps(ctx, experiment_id, run, tag)
        chosen, keys, _ = self._shown_keys(ctx, experiment_id, run, tag, steps, step)
        if not 1 <= index < len(keys):  # the route answers an index below 1 with a 400 first
            held = (f", 1 to {len(keys) - 1}" if len(keys) > 2 else ", 1 (this step holds one)" if len(keys) == 2
                    else " (this step holds none)")
            raise NotFoundError(
                f"run {run!r}, tag {tag!r}, step {chosen}: query parameter `index` must be a thumbnail's "
                f"position{held}, as in the `image` URL of an example from the `examples` route, received {index}"
            )
        with provider_errors(f"reading thumbnail {index} of run {run!r}, tag {tag!r}, step {chosen}"):
            blob = self._provider.read_blob(ctx, blob_key=keys[index])
        return plugin_examples.check_png(blob, run=run, tag=tag, step=chosen, index=index)

    def _shown_keys(
        self, ctx: Any, experiment_id: str, run: str, tag: str, steps: plugin_examples.ExampleSteps, step: int | None
    ) -> tuple[int, tuple[str, ...], list[int]]:
        """The step (the latest shown when None), its blob keys, and the steps with examples whose matrix is shown.

        Raises:
            NotFoundError, UnreadableDataError: no such step, or its matrix is
                not shown (left out, or not in TensorBoard's sample).
        """
        series = self.series_for(ctx, experiment_id, run, tag)
        shown = series.shown_of(steps.blob_keys)
        if step is None and not shown:
            raise NotFoundError(series.none_shown_message(
                run, tag, "examples", steps.steps, self._example_runs(ctx, experiment_id, run, tag)
            ))
        chosen, keys = steps.keys_at(run, tag, step, shown)
        series.position(chosen, offered=("examples", shown))  # 404 / 422 when the step's matrix is not shown
        return chosen, keys, shown

    def _matrix_info(self, ctx: Any, experiment_id: str, run: str, tag: str) -> fmt.MatrixInfo:
        """The matrix tag's metadata (class names), without reading its matrices."""
        time_series = self._describe(ctx, experiment_id, [run], tag)[run]
        try:
            return visible_class_names(fmt.parse_plugin_content(time_series.plugin_content))
        except fmt.UnsupportedFormatError as error:
            raise UnreadableDataError(f"run {run!r}, tag {tag!r}: {error}") from None

    def _example_steps(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> tuple[bytes, plugin_examples.ExampleSteps] | None:
        """The examples tag's plugin content and steps, or None when it holds none."""
        if self._provider is None:
            return None
        examples_tag = fmt.examples_tag(tag)
        with provider_errors(f"listing the examples of run {run!r}, tag {tag!r}"):
            listing = self._provider.list_blob_sequences(
                ctx,
                experiment_id=experiment_id,
                plugin_name=fmt.PLUGIN_NAME,
                run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[examples_tag]),
            )
        time_series = listing.get(run, {}).get(examples_tag)
        if time_series is None:
            return None
        version = (time_series.max_step, time_series.max_wall_time)

        def load() -> plugin_examples.ExampleSteps:
            with provider_errors(f"reading the examples of run {run!r}, tag {tag!r}"):
                result = self._provider.read_blob_sequences(
                    ctx,
                    experiment_id=experiment_id,
                    plugin_name=fmt.PLUGIN_NAME,
                    downsample=ALL_STEPS,
                    run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[examples_tag]),
                )
            keys = {
                int(datum.step): tuple(reference.blob_key for reference in datum.values)
                for datum in result.get(run, {}).get(examples_tag, ())
                if datum.values
            }
            return plugin_examples.ExampleSteps(version, keys)

        steps = self.cache.get(("examples", experiment_id, run, tag), version, load)
        if not steps.blob_keys:
            return None
        return time_series.plugin_content, steps

    def _require_example_steps(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> plugin_examples.ExampleSteps:
        found = self._example_steps(ctx, experiment_id, run, tag)
        if found is None:
            raise self._no_examples(ctx, experiment_id, run, tag)
        content, steps = found
        try:
            matrix_tag = fmt.parse_examples_content(content)
        except fmt.UnsupportedFormatError as error:
            raise UnreadableDataError(f"run {run!r}, tag {fmt.examples_tag(tag)!r}: {error}") from None
        if matrix_tag != tag:
            raise self._no_examples(ctx, experiment_id, run, tag)
        return steps

    def _no_examples(self, ctx: Any, experiment_id: str, run: str, tag: str) -> NotFoundError:
        """The 404 of a run and tag without examples, offering the runs whose tag holds some."""
        return NotFoundError(plugin_examples.no_examples_message(run, tag, runs=self._example_runs(ctx, experiment_id, run, tag)))

    def _example_runs(self, ctx: Any, experiment_id: str, run: str, tag: str) -> list[str]:
        """The runs but ``run`` whose ``tag`` holds examples."""
        runs = runs_with_blobs(self._provider, ctx, experiment_id, fmt.examples_tag(tag), fmt.parse_examples_content, tag)
        return [name for name in runs if name != run]

    def _example_index(
        self,
        ctx: Any,
        experiment_id: str,
        run: str,
        tag: str,
        steps: plugin_examples.ExampleSteps,
        step: int,
        keys: Sequence[str],
    ) -> Mapping[str, Any]:
        def load() -> plugin_examples.ExampleIndex:
            with provider_errors(f"reading the examples index of run {run!r}, tag {tag!r}, step {step}"):
                blob = self._provider.read_blob(ctx, blob_key=keys[0])
            try:
                index = fmt.decode_examples_index(bytes(blob))
            except fmt.UnsupportedFormatError as error:
                raise UnreadableDataError(f"run {run!r}, tag {tag!r}, step {step}: {error}") from None
            return plugin_examples.ExampleIndex(steps.version, index, 1000 + 8 * len(blob))

        key = ("examples-index", experiment_id, run, tag, step)
        return self.cache.get(key, steps.version, load).index

    def _examples_or_error(self, ctx: Any, experiment_id: str, run: str, tag: str, step: int) -> tuple[bool, str | None]:
        """Whether ``step`` of (``run``, ``tag``) holds examples that can be read, and why not (None: it can, or there are none)."""
        try:
            found = self._example_steps(ctx, experiment_id, run, tag)
            if found is None or step not in found[1].blob_keys:
                return False, None
            if blob_key_trouble(run) or blob_key_trouble(tag):  # listed, but the data server may not read them
                self._example_index(ctx, experiment_id, run, tag, found[1], step, found[1].blob_keys[step])
            return True, None
        except DashboardError as error:
            logger.warning("Reading the examples of run %r, tag %r failed: %s", run, tag, error)
            return False, str(error)
