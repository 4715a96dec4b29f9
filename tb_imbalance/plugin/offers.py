"""How a message lists what to pass instead: steps, and run or tag names shown as ``repr`` and cut.

It also finds the runs to offer where a run lacks a tag's curves or examples (:func:`runs_with_blobs`).

The 404s a query parameter causes name it and the values it may take
(``query parameter `step` must be ...``); any text may come in a query or be a
run's name, so names are shown escaped and cut to a width.

Example:
    >>> step_fix("step", "a logged step", [0, 1, 2])
    'query parameter `step` must be a logged step: 0, 1, 2 (or left out for the latest)'
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from tensorboard.data import provider as tb_provider

from tb_imbalance import format as fmt
from tb_imbalance.plugin.errors import NotFoundError, provider_errors

__all__ = ["NAME_WIDTH", "describe_steps", "step_fix", "describe_names", "shown_names", "run_fix", "missing_run_or_tag",
           "runs_with_blobs"]

#: Run and tag names in messages are cut to this many characters: a request may send any text.
NAME_WIDTH = 120


def describe_steps(steps: Sequence[int]) -> str:
    """A short list of steps for messages.

    Example:
        >>> describe_steps([0, 1, 2]), describe_steps(list(range(50)))
        ('0, 1, 2', '50 steps from 0 to 49')
    """
    if not steps:
        return "none"
    if len(steps) <= 8:
        return ", ".join(str(step) for step in steps)
    return f"{len(steps)} steps from {steps[0]} to {steps[-1]}"


def step_fix(parameter: str, kind: str, steps: Sequence[int]) -> str:
    """What a step's 404 asks of query parameter ``parameter``: ``kind``, one of ``steps``, or left out."""
    return f"query parameter `{parameter}` must be {kind}: {describe_steps(steps)} (or left out for the latest)"


def describe_names(names: Sequence[str], limit: int = 5, width: int = 40) -> str:
    """Up to ``limit`` names for messages, each cut to ``width`` characters.

    Example:
        >>> describe_names(["ok", "fraud"])
        "'ok', 'fraud'"
        >>> describe_names([str(k) for k in range(9)], limit=2)
        "'0', '1', … (9 in all)"
    """
    shown = ", ".join(
        repr(name if len(name) <= width else name[: width - 1] + "…") for name in names[:limit]
    )
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def shown_names(names: Sequence[str]) -> str:
    """Run or tag names, sorted, as a message lists them (:func:`describe_names` at :data:`NAME_WIDTH`)."""
    return describe_names(sorted(names), width=NAME_WIDTH)


def missing_run_or_tag(everything: Mapping[str, Mapping[str, object]], run: str, tag: str, parameter: str) -> NotFoundError:
    """The 404 of ``run`` (from query parameter ``parameter``) without ``tag``; ``everything`` lists each run's tags.

    A ``baseline`` without the tag is compared at the run's tag: the fix offered is another baseline.

    Example:
        >>> print(missing_run_or_tag({"a": {"cm": 0}}, "b", "cm", "run"))
        no run 'b' with confusion matrices; query parameter `run` must be one of the runs the `runs` route lists: 'a'
        >>> print(missing_run_or_tag({"a": {"cm": 0}, "b": {"other": 0}}, "b", "cm", "baseline"))
        run 'b' has no confusion-matrix tag 'cm'; query parameter `baseline` must be a run with this tag: 'a' (run 'b' has tags 'other')
    """
    tags, shown_run = everything.get(run), shown_names([run])
    if tags and parameter == "baseline":
        with_tag = [name for name, its_tags in everything.items() if tag in its_tags]
        return NotFoundError(
            f"run {shown_run} has no confusion-matrix tag {shown_names([tag])}; query parameter `baseline` must be "
            f"a run with this tag: {shown_names(with_tag) or 'none yet'} (run {shown_run} has tags {shown_names(tags)})"
        )
    if tags:
        return NotFoundError(
            f"run {shown_run} has no confusion-matrix tag {shown_names([tag])}; "
            f"query parameter `tag` must be one of its tags: {shown_names(tags)}"
        )
    return NotFoundError(
        f"no run {shown_run} with confusion matrices; query parameter `{parameter}` "
        f"must be one of the runs the `runs` route lists: {shown_names(everything) or 'none yet'}"
    )


def run_fix(kind: str, runs: Sequence[str], parameter: str = "run") -> str:
    """What a 404 asks of query parameter ``parameter`` (``run``, ``baseline``): ``kind``, one of ``runs`` ("none yet" when empty).

    Example:
        >>> run_fix("a run with curves of this tag", ["b", "a"])
        "query parameter `run` must be a run with curves of this tag: 'a', 'b'"
    """
    return f"query parameter `{parameter}` must be {kind}: {shown_names(runs) or 'none yet'}"


def runs_with_blobs(
    data_provider: Any, ctx: Any, experiment_id: str, blob_tag: str, matrix_tag_of: Callable[[bytes], str], tag: str
) -> list[str]:
    """The runs holding ``blob_tag`` (the curves or examples of matrix tag ``tag``) written for ``tag``, sorted.

    ``matrix_tag_of`` reads the matrix tag from the blob tag's plugin content
    (:func:`tb_imbalance.format.parse_examples_content`, or the ``matrix_tag`` of
    :func:`tb_imbalance.format.parse_curves_content`); content it cannot read is passed over.
    """
    if data_provider is None:
        return []
    with provider_errors(f"listing the runs with tag {tag!r}"):
        listing = data_provider.list_blob_sequences(
            ctx, experiment_id=experiment_id, plugin_name=fmt.PLUGIN_NAME,
            run_tag_filter=tb_provider.RunTagFilter(tags=[blob_tag]),
        )
    runs = []
    for run, tags in listing.items():
        time_series = tags.get(blob_tag)
        try:
            if time_series is not None and time_series.max_length and matrix_tag_of(time_series.plugin_content) == tag:
                runs.append(run)
        except fmt.UnsupportedFormatError:
            continue
    return sorted(runs)
