"""Inputs to class ids: arrays of labels and predictions checked once, as int64 ids.

Every entry point (the writers, the Keras callback's predict path, the
examples) turns what it was given into class ids ``[N]`` here, with errors
that name the argument, the rule and the value received.

Example:
    >>> class_ids_from_labels([[0, 1], [1, 0]], 2).tolist()
    [1, 0]
    >>> class_ids_from_predictions([[0.2, 0.8], [0.9, 0.1]], 2).tolist()
    [1, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_imbalance.core.argmax import _argmax_rows, _binary_column_ids
from tb_imbalance.core.numeric_arrays import (
    _as_numeric_array, _check_finite, _shape, check_scores, rows_are_probabilities,
)

__all__ = ["check_not_per_position", "class_ids_from_labels", "class_ids_from_predictions"]


def _check_range(ids: np.ndarray, num_classes: int, argument: str) -> np.ndarray:
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            if num_classes == 2 and low == -1 and high == 1 and not np.any(ids == 0):  # not padding: a class
                padding = " (if -1 marks rows to leave out, sample_weight=(labels != -1) drops them)"
                leave_out = (
                    f"; `{argument}` hold -1 and 1, as a binary classifier's classes_ [-1, 1] do: pass "
                    f"({argument} == 1).astype(int), with -1 as class 0{padding if argument == 'labels' else ''}"
                )
            elif argument != "labels":
                leave_out = ""
            elif low == 1 and high == num_classes:  # 1..C: classes counted from 1, not a padding value
                leave_out = f"; labels run 1..{num_classes}: if the classes count from 1, pass labels - 1"
            else:
                leave_out = (
                    f"; rows to leave out (padding, an ignore_index such as -100 or 255) are dropped when their "
                    f"sample_weight is 0: sample_weight=(labels != {bad})"
                )
            raise ValueError(
                f"`{argument}` must hold class ids in [0, {num_classes - 1}] "
                f"(num_classes={num_classes}), received {bad}; pass the right "
                f"`num_classes` (or `class_names`, one per class) or map your labels to 0..C-1{leave_out}"
            )
    return ids.astype(np.int64, copy=False)


def _squeeze_hint(array: np.ndarray, argument: str = "labels") -> str:
    if array.ndim > 2 and 1 in array.shape[1:]:
        axis = 1 + list(array.shape[1:]).index(1)
        return f"; remove the size-1 axes first (e.g. np.squeeze(x, axis={axis}))"
    if argument == "predictions" and array.ndim == 3:  # beside per-position labels, check_not_per_position said
        return (
            "; a sequence model's scores at every step? pass one row per example, those of the step that "
            "classifies: predictions[:, -1] of [N, T, C], predictions[:, :, -1] of PyTorch's [N, C, T]"
        )
    return ""


def check_not_per_position(labels: Any, predictions: Any) -> None:
    """Refuse, naming how to flatten them, inputs with one value per position rather than per row.

    Segmentation masks ``[N, H, W]`` beside scores ``[N, C, H, W]`` (PyTorch's
    layout, class axis 1) or ``[N, H, W, C]``, and token tags ``[N, T]``
    beside ``[N, C, T]`` / ``[N, T, C]``: the matrix counts one row per
    position, and which axis holds the classes decides how to flatten the
    scores (``reshape(-1, C)`` of ``[N, C, H, W]`` would mix positions into
    every row). Shapes alone are looked at.

    Example:
        >>> check_not_per_position(np.zeros((2, 4, 4)), np.zeros((2, 3, 4, 4)))
        Traceback (most recent call last):
        ...
        ValueError: `labels` [2, 4, 4] and `predictions` [2, 3, 4, 4] hold one value per position (segmentation masks, token tags) with the classes on axis 1 of `predictions`, as PyTorch lays them out; the matrix counts one row per position: pass labels.reshape(-1) and predictions.movedim(1, -1).reshape(-1, 3) (numpy: np.moveaxis(predictions, 1, -1).reshape(-1, 3)). Positions to leave out (an ignore_index such as -100 or 255) are dropped when their sample_weight is 0: sample_weight=(labels != ignore_index).reshape(-1)
    """
    true, scores = _shape(labels), _shape(predictions)
    for stacked, other, name, other_name in ((true, scores, "labels", "predictions"), (scores, true, "predictions", "labels")):
        if len(stacked) == 3 and len(other) in (1, 2) and min(stacked[:2]) > 1 and stacked[0] * stacked[1] == other[0]:
            raise ValueError(
                f"`{name}` {list(stacked)} holds one batch per device on a leading axis (as jax.pmap returns "
                f"[D, B, C]) beside {other[0]} rows of `{other_name}`: flatten it first, {name}.reshape(-1, {stacked[2]})"
            )
    if len(true) >= 3 and len(scores) == len(true) and true[1] == 1:
        true = true[:1] + true[2:]  # masks [N, 1, H, W], as a binary model's targets often are
    first = len(true) >= 2 and len(scores) == len(true) + 1 and scores[:1] + scores[2:] == true
    last = len(true) >= 2 and len(scores) == len(true) + 1 and scores[:-1] == true
    same = len(true) >= 3 and scores == true
    if not (first or last or same):
        return
    shown = f"`labels` {list(_shape(labels))} and `predictions` {list(scores)}"
    if same:
        fix = (
            "pass both flattened: class ids per position as x.reshape(-1); values along a class axis as "
            "x.movedim(axis, -1).reshape(-1, C), axis 1 in PyTorch's [N, C, H, W] (reshape(-1, C) alone only when "
            "the classes are on the last axis)"
        )
        where = ""
    elif first and last:
        fix = (
            f"pass labels.reshape(-1) and, if the classes are on axis 1, predictions.movedim(1, -1).reshape(-1, "
            f"{scores[1]}); if on the last axis, predictions.reshape(-1, {scores[-1]})"
        )
        where = " (the shapes do not tell whether the classes are on axis 1 or on the last axis)"
    elif first:
        fix = (
            f"pass labels.reshape(-1) and predictions.movedim(1, -1).reshape(-1, {scores[1]}) (numpy: "
            f"np.moveaxis(predictions, 1, -1).reshape(-1, {scores[1]}))"
        )
        where = " with the classes on axis 1 of `predictions`, as PyTorch lays them out"
    else:
        fix = f"pass labels.reshape(-1) and predictions.reshape(-1, {scores[-1]})"
        where = " with the classes on the last axis of `predictions`"
    rows = _one_hot_rows(_shape(labels), scores)
    if rows:  # [N, C] one-hot beside [N, 1, C] / [N, C, 1]: the shapes alone do not tell rows from positions
        fix += (
            f"; if `labels` are one-hot rows [N, {rows}] rather than {rows} positions, remove the size-1 axis "
            f"instead: labels.reshape(-1, {rows}) and predictions.reshape(-1, {rows})"
        )
    raise ValueError(
        f"{shown} hold one value per position (segmentation masks, token tags){where}; the matrix counts one row "
        f"per position: {fix}. Positions to leave out (an ignore_index such as -100 or 255) are dropped when their "
        "sample_weight is 0: sample_weight=(labels != ignore_index).reshape(-1)"
    )


def _one_hot_rows(labels: tuple[int, ...], scores: tuple[int, ...]) -> int:
    """``C`` when labels and three-axis scores are both ``[N, C]`` once their size-1 axes are removed, else 0."""
    def rows(shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape[:1] + tuple(size for size in shape[1:] if size != 1)

    return rows(scores)[1] if len(scores) == 3 and len(rows(scores)) == 2 and rows(labels) == rows(scores) else 0


def class_ids_from_labels(labels: Any, num_classes: int) -> np.ndarray:
    """Validate true labels and return them as int64 class ids ``[N]``.

    Args:
        labels: class ids ``[N]`` (integers, or floats holding whole numbers)
            or one-hot rows ``[N, C]``: integer rows hold 0 and 1; a float row
            names the column of its largest entry, as Keras'
            ``CategoricalAccuracy`` reads smoothed or mixed (mixup) labels.
        num_classes: ``C``.

    Raises:
        TypeError: non-numeric labels.
        ValueError: wrong shape, NaN, fractional ids, ids outside ``[0, C)``.
    """
    array = _as_numeric_array(labels, "labels")
    _check_finite(array, "labels")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        if array.shape[1] != num_classes:
            raise ValueError(
                f"one-hot `labels` must have shape [N, {num_classes}], received "
                f"{_shape(array)}; pass class ids [N] or fix `num_classes` (a list of label "
                "batches? concatenate them first)"
            )
        if not np.issubdtype(array.dtype, np.floating) and array.size and (array.min() < 0 or array.max() > 1):
            row, column = (int(i) for i in np.argwhere((array < 0) | (array > 1))[0])
            raise ValueError(
                f"one-hot `labels` [N, C] of integers must hold 0 and 1, received {array[row, column].item()!r} in "
                f"row {row}: class ids with a leading axis (one row per device, as jax.pmap gives)? flatten "
                "both first (labels.reshape(-1), predictions.reshape(-1, C)); else pass class ids [N]"
            )
        largest = array.max(axis=1) if array.size else np.zeros(len(array))
        tied = _first_tie(array, among=largest > 0)  # before rows with no positive: multi-label targets have both
        if tied:
            raise ValueError(
                f"one-hot `labels` {tied}, so it names no one class: several classes per "
                "row (multi-label data, as BCEWithLogitsLoss takes) do not make a multiclass confusion matrix; "
                "pass one class per row (class ids [N], or rows whose largest entry is in one column), or log "
                "each label as a binary report of its own: labels[:, k] with scores[:, k], name=f'label_{k}'"
            )
        empty = np.flatnonzero(largest <= 0)
        if len(empty):
            raise ValueError(
                f"one-hot `labels` row {int(empty[0])} has no positive entry ({len(empty)} such "
                "rows), so it names no class; drop or fix those rows, or pass class ids [N]"
            )
        return np.argmax(array, axis=1).astype(np.int64)
    if array.ndim != 1:
        raise ValueError(
            f"`labels` must be class ids [N] or one-hot [N, C], received shape {_shape(array)}"
            + _squeeze_hint(array)
        )
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(array == np.round(array)):
            raise ValueError(
                "`labels` given as floats must hold whole class ids, received "
                f"{array[array != np.round(array)][0]!r}; pass integer class ids "
                "or one-hot rows"
            )
    return _check_range(array, num_classes, "labels")


def class_ids_from_predictions(predictions: Any, num_classes: int, *, from_logits: bool = False) -> np.ndarray:
    """Validate predictions and return predicted class ids ``[N]``.

    Args:
        predictions: integer class ids ``[N]``; scores or probabilities
            ``[N, C]`` (argmax is taken; integer rows, such as one-hot ones,
            must have their largest value in one column); or, for binary problems only, one
            score per row as float ``[N]`` or ``[N, 1]``: a sigmoid
            probability (class 1 above 0.5, a tie is class 0), or a logit
            when ``from_logits`` (above 0).
        num_classes: ``C``.
        from_logits: the scores are logits, not probabilities (``[N, C]``
            scores give the same argmax either way). Logits may be ``-inf``
            (a class ruled out, as a masked softmax does; one column: ``±inf``)
            where each row keeps a finite one.

    Example:
        >>> class_ids_from_predictions([0.2, 0.7], 2).tolist()
        [0, 1]
        >>> class_ids_from_predictions([-1.3, 2.0], 2, from_logits=True).tolist()
        [0, 1]
        >>> class_ids_from_predictions([[0.5, -np.inf, 2.0]], 3, from_logits=True).tolist()
        [2]

    Raises:
        TypeError: non-numeric predictions.
        ValueError: wrong shape, NaN scores, ids outside ``[0, C)``, a
            sigmoid column for a problem with more than two classes, an
            integer row (one-hot) whose largest value is in several columns.
    """
    array = _as_numeric_array(predictions, "predictions")
    is_float = np.issubdtype(array.dtype, np.floating)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        if array.shape[1] != num_classes:
            _check_finite(array, "predictions")
            raise ValueError(
                f"`predictions` scores must have shape [N, {num_classes}], received "
                f"{_shape(array)}; pass one score per class or fix `num_classes`"
            )
        ids, finite = _argmax_rows(array)
        if not finite:
            check_scores(array, from_logits)  # raises, naming the first bad score, unless logits hold -inf
        if not is_float:
            _check_one_largest(array)
        else:
            _check_softmax_axis(array)
        return ids.astype(np.int64)
    check_scores(array, from_logits and is_float and array.ndim == 1)
    if array.ndim != 1:
        raise ValueError(
            "`predictions` must be class ids [N], scores [N, C] or one sigmoid "
            f"column [N] / [N, 1], received shape {_shape(array)}" + _squeeze_hint(array, "predictions")
        )
    if is_float:
        if num_classes != 2:
            raise ValueError(
                "float `predictions` of shape [N] are read as sigmoid probabilities, "
                f"which needs num_classes=2, received num_classes={num_classes}; "
                "pass integer class ids or scores [N, C]"
            )
        if from_logits:
            return _binary_column_ids(array, from_logits=True)
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise ValueError(
                "float `predictions` of shape [N] must be sigmoid probabilities in "
                f"[0, 1], received values in [{array.min()}, {array.max()}]: these look "
                "like logits; pass from_logits=True (or apply a sigmoid first)"
            )
        return _binary_column_ids(array, from_logits=False)
    return _check_range(array, num_classes, "predictions")


def _check_softmax_axis(scores: np.ndarray) -> None:
    """Score rows ``[N, C]`` whose columns each sum to 1 and rows do not are a softmax over the rows (the batch
    axis, ``torch.softmax(logits, dim=0)``): their argmax is no row's prediction."""
    if len(scores) < 2 or abs(float(scores[:, 0].sum(dtype=np.float64)) - 1.0) > 2.0**-7:  # the common case: O(N)
        return
    if rows_are_probabilities(scores.T) and not rows_are_probabilities(scores):
        raise ValueError(
            f"`predictions` of shape {_shape(scores)} are a softmax over the rows: each of the {scores.shape[1]} "
            f"columns sums to 1 over the {len(scores)} rows, and the rows do not, so their argmax is not each "
            "row's class. Take the softmax over the class axis (torch.softmax(logits, dim=1), "
            "jax.nn.softmax(logits, axis=-1)), or pass the logits with from_logits=True"
        )


def _first_tie(rows: np.ndarray, among: np.ndarray | None = None) -> str:
    """``"row r has its largest value v in columns [...] (n such rows)"`` of the first row of ``[N, C]`` (of those
    ``among`` marks) whose largest value is in several columns, or ``""``."""
    tied = _largest_not_unique(rows)
    tied = np.flatnonzero(tied if among is None else tied & among)
    if not len(tied):
        return ""
    row = rows[tied[0]]
    columns = np.flatnonzero(row == row.max()).tolist()
    return f"row {int(tied[0])} has its largest value {row.max().item()!r} in columns {columns[:10]} ({len(tied)} such rows)"


def _check_one_largest(predictions: np.ndarray) -> None:
    """Integer prediction rows (one-hot, votes) must name one class: their largest value in one column."""
    tied = _first_tie(predictions)
    if tied:
        raise ValueError(
            f"integer `predictions` {tied}, so it predicts no one class (a thresholded output such "
            "as (p > 0.5).astype(int) can hold no 1 or several); pass the scores [N, C] or class ids [N] "
            "(p.argmax(axis=1))"
        )


def _largest_not_unique(rows: np.ndarray) -> np.ndarray:
    """Per row of ``[N, C]``: whether its largest value is in more than one column (a multi-hot row)."""
    if not rows.size:
        return np.zeros(len(rows), dtype=bool)
    return np.count_nonzero(rows == rows.max(axis=1, keepdims=True), axis=1) > 1


def _bool_ids(value: Any) -> bool:
    """Whether ``value`` holds booleans as one value per row (``[N]`` or ``[N, 1]``)."""
    try:
        dtype = getattr(value, "dtype", None)
        dtype = np.asarray(value).dtype if dtype is None or not isinstance(dtype, np.dtype) else dtype
    except Exception:  # ragged, or objects numpy cannot read: _as_numeric_array says so
        return False
    shape = _shape(value)
    return dtype == np.bool_ and (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1))


def _infer_num_classes(
    labels: Any, predictions: Any, bools: tuple[bool, bool] | None = None, *, ask: bool = True
) -> int | None:
    """``C`` as the inputs tell it, or None: the columns of ``[N, C]`` rows, 2 for a sigmoid column or booleans.

    Booleans are classes False (0) and True (1), as scikit-learn orders them;
    beside integer ids that hold another value, the count is not told, and said
    unless ``ask`` is False (``class_names`` tell it then); ``bools``: whether
    labels and predictions were booleans before they became numbers.
    """
    if len(_shape(predictions)) > 2:  # not rows of scores (per-position ones: check_not_per_position says so)
        return None
    for value in (predictions, labels):
        shape = _shape(value)
        if len(shape) == 2 and shape[1] >= 2:
            return shape[1]
    shape = _shape(predictions)
    pred_dtype = np.asarray(predictions).dtype if len(shape) in (1, 2) else None
    if pred_dtype is not None and np.issubdtype(pred_dtype, np.floating):
        if len(shape) == 1 or shape[1] == 1:
            return 2
    if bools is None:
        bools = (_bool_ids(labels), _bool_ids(predictions))
    if not any(bools) or len(_shape(labels)) not in (1, 2):
        return None
    pairs = ((labels, bools[0], "labels", "predictions"), (predictions, bools[1], "predictions", "labels"))
    for ids, is_bool, name, other in pairs:
        ids = np.asarray(ids).reshape(-1)
        # above 1 only: a negative id (padding) is refused, or dropped by its weight 0, as for any labels
        outside = ids[ids > 1] if not is_bool and ids.dtype.kind in "iu" else ids[:0]
        if outside.size and not ask:
            return None
        if outside.size:
            raise ValueError(
                f"`{other}` are booleans, a two-class problem (False is class 0, True class 1), beside `{name}` "
                f"holding class id {outside[0].item()}: pass num_classes (at least {int(ids.max()) + 1}) to count "
                "both as class ids, True as 1"
            )
    return 2
