"""How a message lists what to pass instead: steps, and run or tag names shown as ``repr`` and cut.

The 404s a query parameter causes name it and the values it may take
(``query parameter `step` must be ...``); any text may come in a query or be a
run's name, so names are shown escaped and cut to a width.

Example:
    >>> step_fix("step", "a logged step", [0, 1, 2])
    'query parameter `step` must be a logged step: 0, 1, 2 (or left out for the latest)'
"""

from __future__ import annotations

from typing import Mapping, Sequence

from tb_imbalance.plugin.errors import NotFoundError

__all__ = ["NAME_WIDTH", "describe_steps", "step_fix", "describe_names", "shown_names", "missing_run_or_tag"]

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
