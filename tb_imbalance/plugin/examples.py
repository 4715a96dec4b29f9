"""The examples behind a confusion-matrix cell: which steps hold them, and the route's answer.

A run that logged ``examples=`` (format version 4) holds, next to each
matrix tag ``name``, a blob sequence ``name + "_examples"`` per step: blob 0
is a JSON index (:func:`tb_imbalance.format.decode_examples_index`), blobs
1.. the PNG thumbnails the index refers to by position.
:mod:`tb_imbalance.plugin.reader` reads them through the data provider and
keeps two kinds of cache entries here: :class:`ExampleSteps` (the blob keys of
every step of a run and tag) and :class:`ExampleIndex` (one step's decoded
index). :func:`examples_payload` turns one cell of an index into the
``examples`` route's answer; nothing here reads data or knows about HTTP.

Example:
    >>> index = {"num_classes": 2, "rows": 4, "examples_per_cell": 8, "scores": "probability",
    ...          "cut": None, "cells": [{"true": 1, "pred": 0, "count": 1, "examples": [
    ...              {"id": "mail-9", "row": 3, "top": [[0, 0.7], [1, 0.3]], "kind": "text",
    ...               "text": "win", "length": 3}]}]}
    >>> payload = examples_payload(index, run="r", tag="cm", step=0, steps=[0], true=1, pred=0,
    ...                            class_names=["ok", "spam"], num_blobs=1)
    >>> payload["true_name"], payload["count"], payload["examples"][0]["top"][0]
    ('spam', 1, {'class': 0, 'name': 'ok', 'score': 0.7})
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Any, Callable, Hashable, Mapping, Sequence

from tb_imbalance.plugin.errors import NotFoundError, UnreadableDataError
from tb_imbalance.plugin.offers import run_fix
from tb_imbalance.plugin.offers import step_fix

__all__ = [
    "IMAGE_ROUTE",
    "PNG_SIGNATURE",
    "ExampleSteps",
    "ExampleIndex",
    "no_examples_message",
    "examples_payload",
    "check_png",
]

#: The thumbnail route, relative to the ``examples`` route.
IMAGE_ROUTE = "example_image"
#: The first bytes of every PNG file.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class ExampleSteps:
    """The blob keys of every step of one run's examples tag (a cache entry).

    Attributes:
        version: the listing's ``(max_step, max_wall_time)``; a new step
            changes it.
        blob_keys: ``{step: (key of blob 0, key of blob 1, ...)}``.

    Example:
        >>> steps = ExampleSteps("v1", {3: ("k0", "k1"), 1: ("k0",)})
        >>> steps.steps, steps.nbytes > 0
        ([1, 3], True)
    """

    version: Hashable
    blob_keys: Mapping[int, tuple[str, ...]]

    @property
    def steps(self) -> list[int]:
        """The steps holding examples, ascending."""
        return sorted(self.blob_keys)

    @property
    def nbytes(self) -> int:
        """Rough memory held (for the cache's bound)."""
        return 200 + sum(100 + sum(len(key) + 50 for key in keys) for keys in self.blob_keys.values())

    def keys_at(self, run: str, tag: str, step: int | None, shown: Sequence[int]) -> tuple[int, tuple[str, ...]]:
        """The step asked for (when None the latest of ``shown``, the steps offered, not empty) and its blob keys.

        Raises:
            NotFoundError: ``step`` holds no examples; the message names query
                parameter ``step`` and lists ``shown``.
        """
        chosen = shown[-1] if step is None else int(step)
        keys = self.blob_keys.get(chosen)
        if keys is None:
            raise NotFoundError(
                f"run {run!r}, tag {tag!r}: step {chosen} holds no examples; "
                f"{step_fix('step', 'a step with examples', shown)}"
            )
        return chosen, keys


@dataclasses.dataclass(frozen=True)
class ExampleIndex:
    """One step's decoded examples index (a cache entry).

    Attributes:
        version: as :attr:`ExampleSteps.version`.
        index: the dict :func:`tb_imbalance.format.decode_examples_index` returned.
        nbytes: rough memory held (a multiple of the JSON text's length).
    """

    version: Hashable
    index: Mapping[str, Any]
    nbytes: int


def no_examples_message(run: str, tag: str, *, runs: Sequence[str] | None = None) -> str:
    """The 404 message for a run and tag that logged no examples, saying how to log them.

    ``runs``, the runs that hold examples of ``tag``, are offered for query parameter ``run``.

    Example:
        >>> no_examples_message("r", "cm", runs=[]).split(". ")[0]
        "run 'r', tag 'cm': this run/tag logged no examples; query parameter `run` must be a run with examples of this tag: none yet"
    """
    fix = "" if runs is None else f"; {run_fix('a run with examples of this tag', runs)}"
    return (
        f"run {run!r}, tag {tag!r}: this run/tag logged no examples{fix}. To see the examples "
        "behind each cell, pass `examples=` (the validation inputs, one row per label) to "
        "`ClassificationReportCallback` or `tb_imbalance.log_report`"
    )


def _corrupt(run: str, tag: str, step: int, what: str) -> UnreadableDataError:
    return UnreadableDataError(f"run {run!r}, tag {tag!r}, step {step}: corrupt examples index: {what}")


def _top_json(top: Sequence[Sequence[Any]], class_names: Sequence[str]) -> list[dict[str, Any]]:
    """``[[class, score], ...]`` (checked by the format reader) as ``[{"class", "name", "score"}, ...]``."""
    return [{"class": klass, "name": class_names[klass], "score": score} for klass, score in top]


def _image_url(run: str, tag: str, step: int, index: int) -> str:
    query = urllib.parse.urlencode({"run": run, "tag": tag, "step": step, "index": index})
    return f"{IMAGE_ROUTE}?{query}"


def examples_payload(
    index: Mapping[str, Any],
    *,
    run: str,
    tag: str,
    step: int,
    steps: Sequence[int],
    true: int,
    pred: int,
    class_names: Sequence[str],
    num_blobs: int,
    unlisted_count: Callable[[], int | None] = lambda: None,
) -> dict[str, Any]:
    """The ``examples`` route's answer for cell (``true``, ``pred``) of one step's index.

    Every example is the index's own, field for field, except two: ``top``
    becomes ``[{"class", "name", "score"}, ...]`` and an image example's
    ``image`` (a blob position) becomes the relative URL of its thumbnail
    (``example_image?run=…&tag=…&step=…&index=k``).

    Args:
        index: the decoded index (already checked by
            :func:`tb_imbalance.format.decode_examples_index`).
        run, tag, step: echoed back and used in thumbnail URLs.
        steps: the steps holding examples, ascending.
        true, pred: the cell, already checked to lie in ``[0, C)``.
        class_names: the matrix tag's C class names.
        num_blobs: blobs stored at this step (index + thumbnails).
        unlisted_count: the cell's row count when the index does not list
            it because its byte bound left out the cells without examples
            (``"cells_complete": false``); None when unknown.

    Returns:
        A dict with ``run``, ``tag``, ``step``, ``steps``, ``true``, ``pred``,
        ``true_name``, ``pred_name``, ``count`` (rows in the cell: 0 when a
        complete index lists no such cell, ``unlisted_count()`` when an
        incomplete one does not), ``rows``, ``examples_per_cell``, ``scores``,
        ``cut`` and ``examples``.

    Raises:
        UnreadableDataError: the index was chosen for another number of
            classes than the tag has, or an ``image`` is no thumbnail of
            this step (everything else was checked by the format reader).
    """
    if index.get("num_classes") != len(class_names):
        raise UnreadableDataError(
            f"run {run!r}, tag {tag!r}, step {step}: the examples were chosen for "
            f"{index.get('num_classes')} classes, but the tag has {len(class_names)}: TensorBoard keeps "
            "a tag's class names from its first step only. Log a different set of classes under "
            "another tag or into a new run directory"
        )
    cell = next((c for c in index["cells"] if c["true"] == true and c["pred"] == pred), None)
    if cell is not None:
        count = cell["count"]
    else:
        count = 0 if index.get("cells_complete", True) else unlisted_count()
    examples = []
    for example in [] if cell is None else cell["examples"]:
        shown = dict(example, top=_top_json(example["top"], class_names))
        if example["kind"] == "image":
            position = example["image"]
            if position >= num_blobs:
                raise _corrupt(
                    run, tag, step, f"example {example.get('id')!r} refers to thumbnail {position!r}, "
                    f"but the step holds {num_blobs - 1}"
                )
            shown["image"] = _image_url(run, tag, step, position)
        examples.append(shown)
    payload = {
        "run": run,
        "tag": tag,
        "step": step,
        "steps": list(steps),
        "true": true,
        "pred": pred,
        "true_name": class_names[true],
        "pred_name": class_names[pred],
        "count": count,
        "rows": index.get("rows"),
        "examples_per_cell": index.get("examples_per_cell"),
        "scores": index.get("scores"),
        "cut": index.get("cut"),
        "examples": examples,
    }
    return payload


def check_png(blob: bytes, *, run: str, tag: str, step: int, index: int) -> bytes:
    """Return ``blob`` if it is a PNG file (by its signature).

    Raises:
        UnreadableDataError: it is not.

    Example:
        >>> check_png(PNG_SIGNATURE + b"...", run="r", tag="cm", step=0, index=1)[:4]
        b'\\x89PNG'
    """
    blob = bytes(blob)
    if not blob.startswith(PNG_SIGNATURE):
        raise UnreadableDataError(
            f"run {run!r}, tag {tag!r}, step {step}: blob {index} is not a PNG thumbnail"
        )
    return blob
