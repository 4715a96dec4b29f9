"""Batches collected in a loop, passed as a list, where they would be read as rows.

A list of k arrays of L values each is k rows of L columns to numpy: one
tensor a row (``list(one_hot)``, ``list(scores)``) is read so, and so are
the batches of an evaluation loop whose batches all hold L rows
(``labels.append(y)``, ``scores.append(torch.sigmoid(model(x)))``).
Labels of such a list that are no one-hot rows, or beside predictions of
k * L rows, are batches: refused, naming the concatenation. A binary
model's batches that each hold one positive are one-hot rows as well, and
beside its score batches would count a matrix of L classes: refused, naming
both readings, unless the count told (``num_classes``, ``class_names``) is L.
Arrays each of as many values as the predictions have rows are the labels
of a model's several heads, refused naming ``labels[0]``; beside a list of
score arrays (heads or batches) the predictions' own check says which.

Example:
    >>> check_batch_lists([np.array([0, 2, 1]), np.array([1, 1, 0])], np.zeros((6, 3)), None)
    Traceback (most recent call last):
    ...
    ValueError: `labels` is a list of 2 arrays of 3 values each, read as 2 one-hot rows of 3 classes beside the 6 rows of `predictions`, and item 0 ([0, 2, 1]) is no one-hot row: batches collected in a loop? concatenate them first: np.concatenate, torch.cat or jnp.concatenate (one-hot rows: each has its largest value in one column)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_imbalance.core.inputs import _largest_not_unique
from tb_imbalance.core.numeric_arrays import _shape, rows_are_probabilities

__all__ = ["check_batch_lists"]


def _arrays_of_one_length(value: Any) -> tuple[int, int] | None:
    """``(k, L)`` when ``value`` is a list or tuple of k >= 2 arrays, each of one axis of the same length L >= 2."""
    if type(value) not in (list, tuple) or len(value) < 2 or not all(hasattr(item, "shape") for item in value):
        return None
    shapes = {tuple(item.shape) for item in value}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1 or next(iter(shapes))[0] < 2:
        return None
    return len(value), int(next(iter(shapes))[0])


def _arrays_of_rows(value: Any) -> bool:
    """Whether ``value`` is a list or tuple of two or more arrays of two or more axes (score rows)."""
    return type(value) in (list, tuple) and len(value) > 1 and all(len(getattr(item, "shape", ())) > 1 for item in value)


def check_batch_lists(labels: Any, predictions: Any, num_classes: int | None) -> None:
    """Refuse ``labels`` (and ``predictions``) that are lists of equal batches read as rows (the module's rule).

    ``num_classes``: the count told (by ``class_names`` too), or None. Lists
    of arrays of L values beside probability rows (a softmax's, one a row)
    are rows: a binary model's batch of scores does not sum to 1.

    Example:
        >>> check_batch_lists([np.array([0, 1, 0]), np.array([1, 0, 0])], [np.array([0.2, 0.7, 0.4])] * 2, None)
        Traceback (most recent call last):
        ...
        ValueError: `labels` and `predictions` are lists of 2 arrays of 3 values each, read as 2 rows of 3 classes (one-hot labels, a row of scores each): batches collected in a loop (a binary model's, 3 rows each)? concatenate each list first: np.concatenate, torch.cat or jnp.concatenate; rows of 3 classes: pass num_classes=3 (or 3 class_names)
    """
    shape = _arrays_of_one_length(labels)
    if shape is None or _arrays_of_rows(predictions):
        return  # beside a list of score arrays (several heads, or batches), that list's own check says which
    count, length = shape
    concatenate = "np.concatenate, torch.cat or jnp.concatenate"
    scored = _shape(predictions)
    if scored and scored[0] == length != count:  # as many rows as the predictions in each: not rows, not batches
        raise ValueError(
            f"`labels` is a {type(labels).__name__} of {count} arrays of {length} values each, as many as the rows of "
            "`predictions` in each: the labels of a model with several heads? pass the one to log, e.g. labels[0]"
        )
    odd = _first_row_not_one_hot(labels)
    if odd is not None or (scored and scored[0] == count * length):
        row = "" if odd is None else f", and item {odd[0]} ({odd[1]}) is no one-hot row"
        rows = "" if not scored or scored[0] != count * length else f" beside the {scored[0]} rows of `predictions`"
        raise ValueError(
            f"`labels` is a {type(labels).__name__} of {count} arrays of {length} values each, read as {count} "
            f"one-hot rows of {length} classes{rows}{row}: batches collected in a loop? concatenate them first: "
            f"{concatenate} (one-hot rows: each has its largest value in one column)"
        )
    if num_classes == length or _arrays_of_one_length(predictions) != shape:
        return
    try:
        scores = np.asarray(predictions)
    except (TypeError, ValueError):  # a list numpy cannot read: said when the predictions are read
        return
    if np.issubdtype(scores.dtype, np.floating) and rows_are_probabilities(scores):
        return
    told = "" if num_classes is None else f", not the {num_classes} classes told"
    raise ValueError(
        f"`labels` and `predictions` are lists of {count} arrays of {length} values each, read as {count} rows "
        f"of {length} classes (one-hot labels, a row of scores each){told}: batches collected in a loop (a binary "
        f"model's, {length} rows each)? concatenate each list first: {concatenate}; rows of {length} classes: "
        f"pass num_classes={length} (or {length} class_names)"
    )


def _first_row_not_one_hot(labels: Any) -> tuple[int, str] | None:
    """The position and first values of the first of ``labels`` (equal arrays, stacked) that
    :func:`~tb_imbalance.core.inputs.class_ids_from_labels` refuses as a one-hot row: its largest value not
    above 0 or not in one column, or, of integers, a value other than 0 and 1. None when each is one, or
    when they are no finite numbers (said as such when the labels are read)."""
    try:
        rows = np.asarray(labels)
    except (TypeError, ValueError):
        return None
    if rows.dtype == np.bool_:
        rows = rows.astype(np.int64)
    if rows.ndim != 2 or rows.dtype.kind not in "iuf" or not np.isfinite(rows).all():
        return None
    largest = rows.max(axis=1)
    odd = (largest <= 0) | _largest_not_unique(rows)
    if rows.dtype.kind != "f":
        odd |= (rows < 0).any(axis=1) | (rows > 1).any(axis=1)
    if not odd.any():
        return None
    first = int(np.argmax(odd))
    values = np.array2string(rows[first][:8], separator=", ")
    return first, values[:-1] + ", ...]" if rows.shape[1] > 8 else values
