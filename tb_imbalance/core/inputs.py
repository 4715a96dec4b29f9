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

from collections.abc import Mapping
from typing import Any

import numpy as np

from tb_imbalance.core.argmax import _argmax_rows

__all__ = ["widen_low_precision_floats", "class_ids_from_labels", "class_ids_from_predictions", "reworded"]


def _shape(value: Any) -> tuple[int, ...]:
    try:
        return tuple(np.shape(value))
    except Exception:  # a ragged list, a tensor numpy cannot read: _as_numeric_array reports it, naming the argument
        return ()



def widen_low_precision_floats(array: np.ndarray) -> np.ndarray:
    """bfloat16 and float8 arrays (``ml_dtypes``, as JAX, TensorFlow and Keras'
    mixed precision give them) as float32, which holds their values exactly;
    other arrays unchanged.

    numpy's own type checks do not see these dtypes as floats.

    Example:
        >>> widen_low_precision_floats(np.array([0.5, 1.0])).dtype
        dtype('float64')
    """
    if array.dtype.kind == "V" and array.dtype.name.startswith(("bfloat", "float")):
        return array.astype(np.float32)
    return array


def _refuse_lists_of_arrays(value: Any, argument: str) -> None:
    """A list of arrays is a multi-output model's heads, or batches collected in a loop."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return
    if not all(hasattr(item, "shape") and len(item.shape) >= 1 for item in value):
        return  # nested Python lists are rows: np.asarray decides
    rows = [int(item.shape[0]) for item in value]
    concatenate = "concatenate them first: np.concatenate, torch.cat or jnp.concatenate"
    if len(set(rows)) > 1:
        shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
        raise ValueError(
            f"`{argument}` is a list of {len(value)} arrays of {shown} rows, as batches collected "
            f"in a loop are; {concatenate}"
        )
    if all(len(item.shape) >= 2 for item in value):
        raise ValueError(
            f"`{argument}` is a list of {len(value)} arrays: the outputs of a model with several "
            f"heads (pass the one head to log, e.g. predictions[0]) or batches collected in a "
            f"loop ({concatenate})"
        )


#: What the numeric arguments that are not labels or predictions hold, for their type errors.
_NOT_CLASSES = {"sample_weight": "numbers (one weight per row)", "cm": "counts", "confusion_matrix": "counts"}


def _as_numeric_array(value: Any, argument: str) -> np.ndarray:
    if isinstance(value, Mapping):  # a model's output dict (Hugging Face's ModelOutput is one)
        keys = ", ".join(repr(key) for key in list(value)[:5])
        raise TypeError(
            f"`{argument}` is a mapping with keys {keys}, as a model's output dict is; pass the array "
            "in it, e.g. outputs['logits'] (with from_logits=True for logits)"
        )
    _refuse_lists_of_arrays(value, argument)
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):  # np.asarray would count the masked rows
        raise ValueError(
            f"`{argument}` is a numpy masked array with {int(np.ma.count_masked(value))} masked entries, "
            "and every row would be counted, masked or not; pass only the rows to count (e.g. keep = "
            "~np.ma.getmaskarray(labels), then labels.data[keep], scores[keep])"
        )
    try:
        array = np.asarray(value)
    except ValueError:  # ragged lists and the like
        raise TypeError(
            f"`{argument}` must be a rectangular array of numbers, received a ragged "
            f"{type(value).__name__} (rows of different lengths); pass one class id or one row "
            "of C scores per example"
        ) from None
    except Exception as error:  # e.g. a list holding a tensor numpy cannot read
        raise TypeError(
            f"`{argument}` could not be read as a numpy array ({type(error).__name__}: {error})"
        ) from None
    if array.dtype == object and array.size:
        array = _numbers_of_objects(array, argument)
    array = widen_low_precision_floats(array)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        if argument in _NOT_CLASSES:
            raise TypeError(f"`{argument}` must hold {_NOT_CLASSES[argument]}, received dtype {array.dtype}")
        hint = ""
        if array.dtype.kind in "USO":
            hint = (
                "; map class labels to ids 0..C-1 in the order of the score columns and pass "
                "their names as class_names (scikit-learn: ids = np.searchsorted(clf.classes_, "
                "labels), class_names=[str(c) for c in clf.classes_])"
            )
        raise TypeError(
            f"`{argument}` must hold integer class ids or float scores, "
            f"received dtype {array.dtype}{hint}"
        )
    return array


def _numbers_of_objects(array: np.ndarray, argument: str) -> np.ndarray:
    """An object array of Python numbers as numbers (pandas' nullable ``Int64`` / ``Float64`` frames give one).

    Example:
        >>> _numbers_of_objects(np.array([[1, 0], [0, 1]], dtype=object), "labels").dtype
        dtype('int64')
    """
    try:
        numbers = np.array(array.tolist())
    except ValueError:  # ragged: said as such by the dtype check
        return array
    if numbers.dtype != object:
        return numbers
    if any(item is None or type(item).__name__ == "NAType" for item in numbers.reshape(-1).tolist()):
        raise ValueError(
            f"`{argument}` holds missing values (None or pandas' NA); drop those rows before logging"
        )
    return array


def _check_range(ids: np.ndarray, num_classes: int, argument: str) -> np.ndarray:
    if ids.size:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"`{argument}` must hold class ids in [0, {num_classes - 1}] "
                f"(num_classes={num_classes}), received {bad}; pass the right "
                "`num_classes` or map your labels to 0..C-1"
            )
    return ids.astype(np.int64, copy=False)


def _check_finite(array: np.ndarray, argument: str) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        where = int(np.flatnonzero(~np.isfinite(array.reshape(-1)))[0])
        place = f"row {where // array.shape[1]}, column {where % array.shape[1]}" if array.ndim == 2 else f"flat index {where}"
        raise ValueError(
            f"`{argument}` contains NaN or infinite values (first at {place}); fix the model output or "
            "drop those rows before logging"
        )


def _check_sum(values: np.ndarray, argument: str) -> None:
    """Float counts whose sum is past float64's range would make every score NaN."""
    if values.dtype.kind == "f" and values.size:
        with np.errstate(over="ignore"):
            total = values.sum()
        if not np.isfinite(total):
            raise ValueError(
                f"`{argument}` sums past the float64 range (largest count {values.max():.6g}), so its "
                "totals would be infinite; scale it down (only the ratios of sums of weights matter)"
            )

def check_scores(scores: np.ndarray, from_logits: bool) -> None:
    """Scores must be finite; logits may also be ``-inf`` (one column: ``±inf``), a row keeping a finite one.

    Example:
        >>> check_scores(np.array([[0.5, -np.inf]]), from_logits=True)
        >>> check_scores(np.array([[-np.inf, -np.inf]]), from_logits=True)
        Traceback (most recent call last):
        ...
        ValueError: `predictions` row 0 is -inf in every column (1 such rows), so it predicts no class: drop those rows
    """
    if not from_logits or not np.issubdtype(scores.dtype, np.floating):
        try:
            _check_finite(scores, "predictions")
        except ValueError as error:
            if np.isnan(scores).any() or (scores == np.inf).any():
                raise
            raise ValueError(f"{error}; logits with -inf (classes ruled out) need from_logits=True") from None
        return
    bad = np.isnan(scores) if scores.ndim == 1 else np.isnan(scores) | (scores == np.inf)
    if bad.any():
        where = int(np.flatnonzero(bad.reshape(-1))[0])
        place = f"row {where // scores.shape[1]}, column {where % scores.shape[1]}" if scores.ndim == 2 else f"flat index {where}"
        allowed = "-inf or +inf" if scores.ndim == 1 else "-inf (a class ruled out)"
        raise ValueError(
            f"`predictions` contains NaN{'' if scores.ndim == 1 else ' or +inf'} (first at {place}); logits may "
            f"be {allowed}, not that: fix the model output or drop those rows before logging"
        )
    if scores.ndim == 2 and scores.size:
        empty = np.flatnonzero(scores.max(axis=1) == -np.inf)
        if len(empty):
            raise ValueError(
                f"`predictions` row {int(empty[0])} is -inf in every column ({len(empty)} such rows), so it "
                "predicts no class: drop those rows"
            )


def reworded(error: Exception, message: str) -> Exception:
    """A ``TypeError`` or ``ValueError``, as ``error`` is, saying ``message`` (to re-raise with context).

    Subclasses such as ``UnicodeEncodeError`` take other constructor arguments, so the plain kind is used.

    Example:
        >>> reworded(UnicodeEncodeError("utf-8", "\\udce9", 0, 1, "surrogates not allowed"), "`ids`: bad text")
        ValueError('`ids`: bad text')
    """
    return (TypeError if isinstance(error, TypeError) else ValueError)(message)


# Rows are taken this many bytes at a time: the minimum streams a chunk into
# the cache (the fastest read of it from memory) and the argmax then reads it
# there, instead of both reading the scores from memory. Smaller chunks fit a
# smaller cache but cost more Python per chunk (2 MB measured best at

def _squeeze_hint(array: np.ndarray) -> str:
    if array.ndim > 2 and 1 in array.shape[1:]:
        axis = 1 + list(array.shape[1:]).index(1)
        return f"; remove the size-1 axes first (e.g. np.squeeze(x, axis={axis}))"
    return ""


def class_ids_from_labels(labels: Any, num_classes: int) -> np.ndarray:
    """Validate true labels and return them as int64 class ids ``[N]``.

    Args:
        labels: class ids ``[N]`` (integers, or floats holding whole numbers)
            or one-hot rows ``[N, C]``.
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
        empty = np.flatnonzero(array.max(axis=1) <= 0) if array.size else []
        if len(empty):
            raise ValueError(
                f"one-hot `labels` row {int(empty[0])} has no positive entry ({len(empty)} such "
                "rows), so it names no class; drop or fix those rows, or pass class ids [N]"
            )
        tied = np.flatnonzero(_largest_not_unique(array))
        if len(tied):
            row = array[tied[0]]
            columns = np.flatnonzero(row == row.max()).tolist()
            raise ValueError(
                f"one-hot `labels` row {int(tied[0])} has its largest value {row.max().item()!r} in columns "
                f"{columns[:10]} ({len(tied)} such rows), so it names no one class: several classes per "
                "row (multi-label data) do not make a multiclass confusion matrix; pass one class per row "
                "(class ids [N], or rows whose largest entry is in one column)"
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
        return ids.astype(np.int64)
    check_scores(array, from_logits and is_float and array.ndim == 1)
    if array.ndim != 1:
        raise ValueError(
            "`predictions` must be class ids [N], scores [N, C] or one sigmoid "
            f"column [N] / [N, 1], received shape {_shape(array)}" + _squeeze_hint(array)
        )
    if is_float:
        if num_classes != 2:
            raise ValueError(
                "float `predictions` of shape [N] are read as sigmoid probabilities, "
                f"which needs num_classes=2, received num_classes={num_classes}; "
                "pass integer class ids or scores [N, C]"
            )
        if from_logits:
            return (array > 0.0).astype(np.int64)  # the same cut as sigmoid > 0.5
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise ValueError(
                "float `predictions` of shape [N] must be sigmoid probabilities in "
                f"[0, 1], received values in [{array.min()}, {array.max()}]: these look "
                "like logits; pass from_logits=True (or apply a sigmoid first)"
            )
        return (array > 0.5).astype(np.int64)  # a tie is negative, as in Keras' and torchmetrics' binary metrics
    return _check_range(array, num_classes, "predictions")


def _check_one_largest(predictions: np.ndarray) -> None:
    """Integer prediction rows (one-hot, votes) must name one class: their largest value in one column."""
    tied = np.flatnonzero(_largest_not_unique(predictions))
    if len(tied):
        row = predictions[tied[0]]
        columns = np.flatnonzero(row == row.max()).tolist()
        raise ValueError(
            f"integer `predictions` row {int(tied[0])} has its largest value {row.max().item()!r} in columns "
            f"{columns[:10]} ({len(tied)} such rows), so it predicts no one class (a thresholded output such "
            "as (p > 0.5).astype(int) can hold no 1 or several); pass the scores [N, C] or class ids [N] "
            "(p.argmax(axis=1))"
        )


def _largest_not_unique(rows: np.ndarray) -> np.ndarray:
    """Per row of ``[N, C]``: whether its largest value is in more than one column (a multi-hot row)."""
    if not rows.size:
        return np.zeros(len(rows), dtype=bool)
    return np.count_nonzero(rows == rows.max(axis=1, keepdims=True), axis=1) > 1


def _infer_num_classes(labels: Any, predictions: Any) -> int | None:
    for value in (predictions, labels):
        shape = _shape(value)
        if len(shape) == 2 and shape[1] >= 2:
            return shape[1]
    shape = _shape(predictions)
    pred_dtype = np.asarray(predictions).dtype if len(shape) in (1, 2) else None
    if pred_dtype is not None and np.issubdtype(pred_dtype, np.floating):
        if len(shape) == 1 or shape[1] == 1:
            return 2
    return None
