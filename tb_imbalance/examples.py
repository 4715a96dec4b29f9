"""The examples behind each confusion-matrix cell: which rows are kept, and their index.

For each cell (true class ``i``, predicted class ``j``) of one step, up to
``examples_per_cell`` rows are kept:

* off the diagonal, the **most confident mistakes**: the highest score of
  the predicted class first;
* on the diagonal, the **least confident correct** rows: the lowest score of
  the predicted (= true) class first.

Ties go to the lower row index. The predicted class is exactly the one the
confusion matrix counts (:func:`tb_imbalance.core.class_ids_from_predictions`),
and the score is a probability: softmax of logits with ``from_logits``, a
sigmoid column turned into two classes. Scores that are not probabilities
(rows that do not sum to 1) are ranked as they are and marked ``"raw"``.

Each kept row gets its id (the user's or the row index), its top-3
``[class, score]`` pairs and a rendering (:mod:`tb_imbalance.example_render`).
Rows are rendered rank by rank across cells (every cell's first example, then every cell's second, …);
one that would pass ``examples_max_bytes`` is left out and the next tried, until a rank or 64 in a row fit
none, so a cut drops the least telling examples of every cell alike, and the index says how many were kept
(``"cut"``). The bound counts UTF-8 bytes of the index, its cell entries included, and the thumbnails'
bytes. Every cell with rows is listed, with its row ``count``, even when the cut left it no example
(``"cells_complete": true``) — unless listing them all would pass the bound: then only the cells with
examples are (``false``).

Example:
    >>> chosen = collect_examples(["a", "b", "c", "d"], [0, 0, 1, 1],
    ...     [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]], num_classes=2)
    >>> [(cell["true"], cell["pred"], [e["id"] for e in cell["examples"]]) for cell in chosen.index["cells"]]
    [(0, 0, [0]), (0, 1, [1]), (1, 0, [3]), (1, 1, [2])]
    >>> chosen.index["cells"][1]["examples"][0]["top"]
    [[1, 0.8], [0, 0.2]]
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from tb_imbalance import core, format as fmt
from tb_imbalance.example_render import render_example
from tb_imbalance.example_rows import check_row_count, column_names, example_id, refuse_reordered, rows_of
from tb_imbalance.tensors import to_numpy

__all__ = [
    "DEFAULT_EXAMPLES_PER_CELL",
    "DEFAULT_EXAMPLES_MAX_BYTES",
    "TOP_SCORES",
    "top_classes",
    "ExampleSet",
    "choose_rows",
    "collect_examples",
    "examples_of_step",
    "refuse_unused_examples_options",
    "validate_examples_options",
]

DEFAULT_EXAMPLES_PER_CELL = 8
#: Bound on the bytes of one step's examples (index and thumbnails).
DEFAULT_EXAMPLES_MAX_BYTES = 2_000_000
#: Scores kept per example, highest first.
TOP_SCORES = 3


@dataclasses.dataclass
class ExampleSet:
    """The examples of one step, ready to write (see :func:`tb_imbalance.format.encode_examples`).

    Attributes:
        index: the JSON index (``cells``, ``cut``, …).
        thumbnails: PNG bytes; an image example's ``image`` is its position
            here plus one (blob 0 is the index).
    """

    index: dict
    thumbnails: list[bytes]

    @property
    def kept(self) -> int:
        """How many examples were kept."""
        return sum(len(cell["examples"]) for cell in self.index["cells"])

    def blobs(self) -> np.ndarray:
        """The blob sequence written under ``<name>_examples``."""
        return fmt.encode_examples(self.index, self.thumbnails)


def validate_examples_options(examples_per_cell: Any, examples_max_bytes: Any) -> tuple[int, int]:
    """Check ``examples_per_cell`` (≥ 1) and ``examples_max_bytes`` (≥ 10,000)."""
    if isinstance(examples_per_cell, bool) or not isinstance(examples_per_cell, (int, np.integer)) or examples_per_cell < 1:
        raise ValueError(
            f"`examples_per_cell` must be a positive int (examples kept per matrix cell), "
            f"received {examples_per_cell!r}"
        )
    if isinstance(examples_max_bytes, bool) or not isinstance(examples_max_bytes, (int, np.integer)) or examples_max_bytes < 10_000:
        raise ValueError(
            f"`examples_max_bytes` must be an int of at least 10000 (bytes of examples per step), "
            f"received {examples_max_bytes!r}"
        )
    return int(examples_per_cell), int(examples_max_bytes)


def choose_rows(true_ids: np.ndarray, pred_ids: np.ndarray, confidence: np.ndarray, per_cell: int) -> np.ndarray:
    """Row indices kept per cell, ordered by cell (true, predicted) then rank.

    Returns an ``[K, 3]`` int array of ``(row, cell, rank)`` with
    ``cell = true * C + predicted`` for some C > every id.

    Example:
        >>> choose_rows(np.array([0, 0, 0]), np.array([1, 1, 0]), np.array([0.6, 0.9, 0.7]), 1).tolist()
        [[2, 0, 0], [1, 1, 0]]
    """
    size = int(max(true_ids.max(initial=0), pred_ids.max(initial=0))) + 1
    cell = true_ids.astype(np.int64) * size + pred_ids
    key = np.where(true_ids == pred_ids, confidence, -confidence)  # ascending: see the module docs
    order = np.lexsort((np.arange(len(cell)), key, cell))
    cell_sorted = cell[order]
    starts = np.flatnonzero(np.r_[True, cell_sorted[1:] != cell_sorted[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = rank < per_cell
    return np.stack([order[keep], cell_sorted[keep], rank[keep]], axis=1)


def _scores_of(predictions: np.ndarray, num_classes: int, from_logits: bool) -> tuple[np.ndarray, str]:
    """Per-class scores ``[N, C]`` and whether they are probabilities."""
    array = core.widen_low_precision_floats(np.asarray(predictions))  # bfloat16 as float32, its bits kept
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    elif array.dtype.itemsize < 4:  # float16: exp overflows past 11
        array = array.astype(np.float32)
    # float32 / float64 scores keep their dtype: no copy of a large [N, C]
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 1:  # one sigmoid column: probability of class 1
        with np.errstate(over="ignore"):  # exp(-x) past float's range: the sigmoid is 0, as it should be
            positive = 1.0 / (1.0 + np.exp(-array)) if from_logits else array
        return np.stack([1.0 - positive, positive], axis=1), "probability"
    if from_logits:
        shifted = np.exp(array - array.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True), "probability"
    return array, "probability" if core.rows_are_probabilities(array) else "raw"


def top_classes(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` highest columns, highest first, ties to the lower column.

    The same as ``np.argsort(-scores, axis=1, kind="stable")[:, :k]`` without sorting whole rows.

    Example:
        >>> top_classes(np.array([[0.1, 0.5, 0.5, 0.2], [0.7, 0.1, 0.1, 0.1]]), 2).tolist()
        [[1, 2], [0, 1]]
    """
    if k >= scores.shape[1]:
        return np.argsort(-scores, axis=1, kind="stable")
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(scores, part, axis=1)
    top = np.take_along_axis(part, np.lexsort((part, -picked), axis=1), axis=1)
    last = picked.min(axis=1, keepdims=True)
    tied = (scores >= last).sum(axis=1) != k  # the k-th score is tied past k: the lower columns win
    top[tied] = np.argsort(-scores[tied], axis=1, kind="stable")[:, :k]
    return top


#: Bytes between two items of a JSON list (``", "``).
_SEPARATOR = 2


def _json_bytes(value: Any) -> int:
    """UTF-8 bytes of ``value`` as :func:`tb_imbalance.format.encode_examples` writes it."""
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _cell_bytes(key: tuple[int, int], count: int) -> int:
    """Bytes of one cell's entry in the index, without its examples."""
    return _json_bytes({"true": int(key[0]), "pred": int(key[1]), "count": int(count), "examples": []}) + _SEPARATOR


#: Fewer bytes than any example takes; and how many examples in a row may be left out before the rest are.
_SMALLEST_EXAMPLE = _json_bytes({"id": 0, "row": 0, "top": [], "kind": "text", "text": "", "length": 0}) + _SEPARATOR
_MISSES_BEFORE_STOP = 64
#: :func:`_cell_bytes` less the digits of its three numbers.
_EMPTY_CELL_BYTES = _cell_bytes((0, 0), 0) - 3
_POWERS_OF_TEN = 10 ** np.arange(1, 19, dtype=np.int64)


def _digits(values: np.ndarray) -> np.ndarray:
    """Decimal digits of non-negative integers, exactly (no logarithm).

    Example:
        >>> _digits(np.array([0, 9, 10, 12345])).tolist()
        [1, 1, 2, 5]
    """
    return np.searchsorted(_POWERS_OF_TEN, np.asarray(values, dtype=np.int64), side="right") + 1


def _class_ids_of(labels: Any, predictions: Any, num_classes: int, sample_weight: Any, from_logits: bool) -> core.ClassIds:
    """The class ids of a standalone :func:`collect_examples` call (the writers pass theirs)."""
    labels = to_numpy(labels, "labels")
    if sample_weight is not None:
        weights = np.asarray(to_numpy(sample_weight, "sample_weight"), dtype=np.float64).reshape(-1)
        if weights.shape != (len(labels),):
            raise ValueError(
                f"`sample_weight` must have one weight per row: received {weights.size} for {len(labels)} rows"
            )
    return core.class_ids(labels, predictions, num_classes=num_classes, sample_weight=sample_weight, from_logits=from_logits)


def collect_examples(
    inputs: Any,
    labels: Any,
    predictions: Any,
    *,
    num_classes: int,
    example_ids: Any = None,
    sample_weight: Any = None,
    from_logits: bool = False,
    examples_per_cell: int = DEFAULT_EXAMPLES_PER_CELL,
    examples_max_bytes: int = DEFAULT_EXAMPLES_MAX_BYTES,
    class_ids: core.ClassIds | None = None,
) -> ExampleSet:
    """Choose and render the examples behind each cell of one step.

    Args:
        inputs: one row per example, aligned with ``labels``: an array
            ``[N, ...]`` (pictures ``[N, H, W]``, ``[N, H, W, C]``,
            ``[N, C, H, W]``), a list of strings, a DataFrame (its values shown
            after their column names), or any framework tensor.
        labels: true class ids ``[N]`` or one-hot ``[N, C]``.
        predictions: scores ``[N, C]`` (probabilities, or logits with
            ``from_logits``) or one sigmoid column for two classes. Class ids
            are refused: the most confident rows cannot be told without scores.
        num_classes: ``C``.
        example_ids: one id per row (ints or strings), default the row index.
        sample_weight: optional weights ``[N]``: rows of weight 0 (padding,
            masked rows) are never examples nor counted in ``rows`` and the
            cells' ``count``; other weights do not change the choice.
        from_logits: scores are logits (softmax, or sigmoid for one column).
        examples_per_cell: examples kept per cell.
        examples_max_bytes: bound on the step's bytes: the UTF-8 index and
            the thumbnails together.
        class_ids: ``labels`` and ``predictions`` already checked and turned
            into class ids (:func:`tb_imbalance.core.class_ids`, as the
            writers do to count the matrix): the argmax is not taken again.

    Returns:
        The :class:`ExampleSet` of the step.

    Raises:
        TypeError / ValueError: a bad argument, named in the message.
    """
    per_cell, max_bytes = validate_examples_options(examples_per_cell, examples_max_bytes)
    num_classes = core.validate_num_classes(num_classes)
    rows, names = rows_of(inputs, "examples"), column_names(inputs)  # a DataFrame's column names go with its values
    predictions = to_numpy(predictions, "predictions")
    shape = np.shape(predictions)
    if not (len(shape) == 2 or np.issubdtype(np.asarray(predictions).dtype, np.floating)):
        raise ValueError(
            "`examples` needs `predictions` as scores [N, C] (probabilities or logits) or one "
            f"sigmoid column, to keep the most confident examples of each cell; received class ids "
            f"of shape {shape}. Pass the model's scores (e.g. predict_proba or the logits with "
            "from_logits=True)"
        )
    if class_ids is None:
        class_ids = _class_ids_of(labels, predictions, num_classes, sample_weight, from_logits)
    count = class_ids.size
    check_row_count(rows, count, len(predictions))
    refuse_reordered(labels, inputs, example_ids)  # rows are paired by position, not by a pandas index
    ids = None
    if example_ids is not None:
        ids = rows_of(example_ids, "example_ids")
        if len(ids) != count:
            raise ValueError(f"`example_ids` must have one id per example: received {len(ids)} for {count} rows")
    true_ids, pred_ids, considered = class_ids.true, class_ids.predicted, class_ids.positions()
    if class_ids.weights is not None:  # weight 0 masks a row (padding): never an example
        kept = class_ids.weights != 0
        true_ids, pred_ids, considered = true_ids[kept], pred_ids[kept], considered[kept]
    if len(considered) != len(predictions):
        predictions = np.asarray(predictions)[considered]  # a copy only when rows are masked
    scores, score_kind = _scores_of(predictions, num_classes, from_logits)
    confidence = scores[np.arange(len(considered)), pred_ids]
    chosen = choose_rows(true_ids, pred_ids, confidence, per_cell)
    non_empty, non_empty_counts = np.unique(true_ids * num_classes + pred_ids, return_counts=True)  # not C² cells
    count_of = lambda codes: non_empty_counts[np.searchsorted(non_empty, codes)]  # noqa: E731 - counts of codes

    index = {
        "num_classes": num_classes,
        "rows": int(len(considered)),
        "examples_per_cell": per_cell,
        "scores": score_kind,
        "max_bytes": max_bytes,
        # the longest these two can be, so the bound holds whatever they end up being
        "cut": {"kept": len(chosen), "chosen": len(chosen)},
        "cells_complete": False,
        "cells": [],
    }
    used = _json_bytes(dict(index, version=fmt.EXAMPLES_VERSION))
    cells: dict[tuple[int, int], list[dict]] = {}
    thumbnails: list[bytes] = []
    kept, misses, rank, rank_added, start = 0, 0, 0, True, used
    ranked, ranks = chosen[np.lexsort((chosen[:, 1], chosen[:, 2]))][:, [0, 2]].T  # rank by rank across cells
    chunk = max(1, 2**22 // num_classes)  # top classes of a few MB of score rows at a time
    for index_in_rank, position in enumerate(ranked):
        if ranks[index_in_rank] != rank:  # a whole rank that fitted nothing: the bound is reached
            if not rank_added:
                break
            rank, rank_added = ranks[index_in_rank], False
        if index_in_rank % chunk == 0:
            tops = top_classes(scores[ranked[index_in_rank : index_in_rank + chunk]], TOP_SCORES)
        row = int(considered[position])
        fields, png = render_example(rows[row])
        if names and fields["kind"] == "values":
            fields["names"] = names
        top = tops[index_in_rank % chunk]
        example = {
            "id": example_id(ids[row]) if ids is not None else row,
            "row": row,
            "top": [[int(k), round(float(scores[position, k]), 6)] for k in top],
            **fields,
        }
        if png is not None:
            example["image"] = len(thumbnails) + 1
        key = (int(true_ids[position]), int(pred_ids[position]))
        size = _json_bytes(example) + _SEPARATOR + (len(png) if png else 0)
        if key not in cells:
            size += _cell_bytes(key, count_of(key[0] * num_classes + key[1]))
        if used + size > max_bytes:  # this one is left out; a smaller one further on may fit
            misses += size <= max_bytes - start  # one larger than the whole bound says nothing of the room left
            if misses == _MISSES_BEFORE_STOP or max_bytes - used < _SMALLEST_EXAMPLE:
                break
            continue
        used, rank_added, misses = used + size, True, 0
        if png is not None:
            thumbnails.append(png)
        cells.setdefault(key, []).append(example)
        kept += 1
    with_examples = np.array(sorted(k * num_classes + p for k, p in cells), dtype=np.int64)
    empty_cells = np.setdiff1d(non_empty, with_examples, assume_unique=True)
    empty_bytes = _EMPTY_CELL_BYTES * len(empty_cells) + int(
        _digits(empty_cells // num_classes).sum() + _digits(empty_cells % num_classes).sum()
        + _digits(count_of(empty_cells)).sum()
    )
    complete = used + empty_bytes <= max_bytes  # else only the cells with examples are listed
    listed = non_empty if complete else with_examples
    index["cut"] = None if kept == len(chosen) else {"kept": kept, "chosen": int(len(chosen))}
    index["cells_complete"] = bool(complete)
    index["cells"] = [
        {"true": int(flat // num_classes), "pred": int(flat % num_classes), "count": int(count),
         "examples": cells.get((int(flat // num_classes), int(flat % num_classes)), [])}
        for flat, count in zip(listed, count_of(listed))
    ]
    return ExampleSet(index, thumbnails)


def refuse_unused_examples_options(
    examples: Any,
    *,
    example_ids: Any = None,
    examples_per_cell: Any = DEFAULT_EXAMPLES_PER_CELL,
    examples_max_bytes: Any = DEFAULT_EXAMPLES_MAX_BYTES,
) -> None:
    """Raise ``ValueError`` when examples options are given without ``examples`` (they would do nothing).

    Example:
        >>> refuse_unused_examples_options(None, examples_per_cell=3)
        Traceback (most recent call last):
        ...
        ValueError: `examples_per_cell` applies to the examples behind each cell, and `examples` is not given; pass examples= too, or drop examples_per_cell
    """
    if examples is not None:
        return
    given = [
        name
        for name, value, default in (
            ("example_ids", example_ids, None),
            ("examples_per_cell", examples_per_cell, DEFAULT_EXAMPLES_PER_CELL),
            ("examples_max_bytes", examples_max_bytes, DEFAULT_EXAMPLES_MAX_BYTES),
        )
        if (value is not None if default is None else value is not default and value != default)
    ]
    if given:
        raise ValueError(
            f"`{given[0]}` applies to the examples behind each cell, and `examples` is not given; "
            f"pass examples= too, or drop {given[0]}"
        )


def examples_of_step(
    examples: Any,
    labels: Any,
    predictions: Any,
    *,
    num_classes: int,
    example_ids: Any = None,
    sample_weight: Any = None,
    from_logits: bool = False,
    examples_per_cell: int = DEFAULT_EXAMPLES_PER_CELL,
    examples_max_bytes: int = DEFAULT_EXAMPLES_MAX_BYTES,
    class_ids: core.ClassIds | None = None,
) -> ExampleSet | None:
    """A writer's optional ``examples=``: :func:`collect_examples`, or None without examples.

    Raises:
        TypeError / ValueError: see :func:`collect_examples`; also examples
            options given without ``examples``.
    """
    refuse_unused_examples_options(
        examples, example_ids=example_ids, examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes
    )
    if examples is None:
        return None
    return collect_examples(
        examples, labels, predictions, num_classes=num_classes, example_ids=example_ids,
        sample_weight=sample_weight, from_logits=from_logits,
        examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes, class_ids=class_ids,
    )
