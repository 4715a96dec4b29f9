"""The numpy computation core: everything tb_imbalance reports, from one matrix.

A confusion matrix ``cm`` of shape ``[C, C]`` (rows = true class, columns =
predicted class) is a sufficient statistic for every number we show. The
writers, the Keras callback and the TensorBoard plugin all call this module,
so a change to the maths happens here and only here.

Definitions follow scikit-learn (``classification_report``,
``balanced_accuracy_score``, ``matthews_corrcoef``, ``cohen_kappa_score``,
all with ``zero_division=0``) and imbalanced-learn (``specificity_score``,
``geometric_mean_score``).

Example:
    >>> import numpy as np
    >>> cm = np.array([[5, 1], [2, 2]])
    >>> report = classification_report(cm, ["neg", "pos"])
    >>> round(report["pos"]["recall"], 3), report["pos"]["support"]
    (0.5, 4)
    >>> round(imbalance_metrics(cm)["balanced_accuracy"], 4)
    0.6667
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = [
    "METRIC_NAMES",
    "confusion_matrix",
    "class_ids_from_labels",
    "class_ids_from_predictions",
    "resolve_num_classes",
    "widen_low_precision_floats",
    "validate_matrix",
    "default_class_names",
    "validate_class_names",
    "per_class_metrics",
    "classification_report",
    "imbalance_metrics",
    "DEFAULT_CONFIDENCE",
    "normal_quantile",
    "wilson_interval",
    "newcombe_interval",
    "per_class_intervals",
    "per_class_differences",
    "SHOT_METRIC_NAMES",
    "MANY_SHOT_MIN",
    "FEW_SHOT_MAX",
    "validate_class_counts",
    "validate_shot_thresholds",
    "shot_recalls",
    "validate_class_groups",
    "group_matrix",
]

#: Headline metrics returned by :func:`imbalance_metrics`, in display order.
METRIC_NAMES = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "mcc",
    "cohen_kappa",
    "geometric_mean",
    "worst_class_recall",
)


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise division that yields 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _shape(value: Any) -> tuple[int, ...]:
    try:
        return tuple(np.shape(value))
    except ValueError:  # a ragged list: _as_numeric_array reports it with the argument's name
        return ()


# --------------------------------------------------------------------------
# Input validation: arrays of labels / predictions -> class ids
# --------------------------------------------------------------------------


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


def _as_numeric_array(value: Any, argument: str) -> np.ndarray:
    _refuse_lists_of_arrays(value, argument)
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        raise TypeError(
            f"`{argument}` must be a rectangular array of numbers, received a ragged "
            f"{type(value).__name__} (rows of different lengths); pass one class id or one row "
            "of C scores per example"
        ) from None
    array = widen_low_precision_floats(array)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
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
        raise ValueError(
            f"`{argument}` contains NaN or infinite values (first at flat index "
            f"{where}); fix the model output or drop those rows before logging"
        )


# Rows are taken this many bytes at a time: the minimum streams a chunk into
# the cache (the fastest read of it from memory) and the argmax then reads it
# there, instead of both reading the scores from memory. Smaller chunks fit a
# smaller cache but cost more Python per chunk (2 MB measured best at
# 50,000 x 1000 float32 on a 2-core machine with 1 MB L2 per core).
_CHUNK_BYTES = 1 << 21


def _argmax_block(scores: np.ndarray) -> tuple[np.ndarray, bool]:
    """The rows' argmax, and whether every score in the block is finite.

    No boolean array as large as the scores: the argmax of a row holding NaN
    is its first NaN, and of a row holding +inf an +inf, so the picked scores
    are all finite exactly when no row holds NaN or +inf; the minimum then
    rules out -inf.
    """
    if scores.size == 0 or not np.issubdtype(scores.dtype, np.floating):
        return np.argmax(scores, axis=1), True
    ids = np.empty(len(scores), dtype=np.intp)
    finite = True
    rows = max(1, _CHUNK_BYTES // max(1, scores.itemsize * scores.shape[1]))
    positions = np.arange(min(rows, len(scores)))
    for start in range(0, len(scores), rows):
        chunk = scores[start : start + rows]
        chunk_ids = ids[start : start + rows]
        finite = finite and bool(chunk.min() > -np.inf)
        np.argmax(chunk, axis=1, out=chunk_ids)
        if finite:
            finite = bool(np.isfinite(chunk[positions[: len(chunk)], chunk_ids]).all())
    return ids, finite


# Above this many scores the rows are split across threads: argmax and min
# release the GIL and are memory-bound, and one core does not use the whole
# memory bandwidth (about 2x faster on 2 cores at 50,000 x 1000 float32).
_PARALLEL_MIN_SCORES = 1 << 22
_EXECUTOR: ThreadPoolExecutor | None = None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _forget_executor() -> None:
    # A forked child inherits the pool but not its threads: work handed to it
    # would wait forever, so the child starts a pool of its own when needed.
    global _EXECUTOR
    _EXECUTOR = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor)


def _argmax_rows(scores: np.ndarray) -> tuple[np.ndarray, bool]:
    """``np.argmax(scores, axis=1)`` and whether every score is finite, large inputs in parallel."""
    global _EXECUTOR
    blocks = min(_usable_cores(), 4, len(scores))
    if scores.size < _PARALLEL_MIN_SCORES or blocks < 2:
        return _argmax_block(scores)
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tb_imbalance_argmax")
    parts = list(_EXECUTOR.map(_argmax_block, np.array_split(scores, blocks)))
    return np.concatenate([ids for ids, _ in parts]), all(finite for _, finite in parts)


def _squeeze_hint(array: np.ndarray) -> str:
    if array.ndim > 2 and 1 in array.shape[1:]:
        return "; remove the size-1 axes first (e.g. np.squeeze(x, axis=-1))"
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
        empty = np.flatnonzero(array.max(axis=1) <= 0) if array.size else []
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
            ``[N, C]`` (argmax is taken); or, for binary problems only, one
            score per row as float ``[N]`` or ``[N, 1]``: a sigmoid
            probability (threshold 0.5), or a logit when ``from_logits``
            (threshold 0).
        num_classes: ``C``.
        from_logits: a single score column holds logits, not probabilities
            (``[N, C]`` scores give the same argmax either way).

    Example:
        >>> class_ids_from_predictions([0.2, 0.7], 2).tolist()
        [0, 1]
        >>> class_ids_from_predictions([-1.3, 2.0], 2, from_logits=True).tolist()
        [0, 1]

    Raises:
        TypeError: non-numeric predictions.
        ValueError: wrong shape, NaN scores, ids outside ``[0, C)``, a
            sigmoid column for a problem with more than two classes.
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
            _check_finite(array, "predictions")  # raises, naming the first bad score
        return ids.astype(np.int64)
    _check_finite(array, "predictions")
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
            return (array >= 0.0).astype(np.int64)  # the same cut as sigmoid >= 0.5
        if array.size and (array.min() < 0.0 or array.max() > 1.0):
            raise ValueError(
                "float `predictions` of shape [N] must be sigmoid probabilities in "
                f"[0, 1], received values in [{array.min()}, {array.max()}]: these look "
                "like logits; pass from_logits=True (or apply a sigmoid first)"
            )
        return (array >= 0.5).astype(np.int64)
    return _check_range(array, num_classes, "predictions")


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


def resolve_num_classes(
    labels: Any, predictions: Any, num_classes: int | None, class_names: Sequence[Any] | None
) -> tuple[int | None, list[str] | None]:
    """The number of classes of a logging call, and its checked class names.

    ``num_classes`` wins when given; otherwise it is read from ``[N, C]``
    inputs or a sigmoid column, and only then from ``len(class_names)``, so
    names of the wrong length are blamed on ``class_names``, not on the
    labels. Returns ``(None, None)`` when nothing tells the count (then
    :func:`confusion_matrix` raises its own error).

    Example:
        >>> resolve_num_classes([0, 1], [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]], None, ["a", "b", "c"])
        (3, ['a', 'b', 'c'])
    """
    if num_classes is None:
        num_classes = _infer_num_classes(labels, predictions)
    if num_classes is None and class_names is not None and not isinstance(class_names, (str, bytes)):
        num_classes = len(class_names)
    if num_classes is None:
        return None, None
    num_classes = validate_num_classes(num_classes)
    names = None if class_names is None else validate_class_names(class_names, num_classes)
    return num_classes, names


def confusion_matrix(
    labels: Any,
    predictions: Any,
    *,
    num_classes: int | None = None,
    sample_weight: Any = None,
    from_logits: bool = False,
) -> np.ndarray:
    """Validate inputs and count the ``[C, C]`` confusion matrix.

    Args:
        labels: true class ids ``[N]`` or one-hot ``[N, C]``.
        predictions: class ids ``[N]``, scores ``[N, C]`` or a binary sigmoid
            column ``[N]`` / ``[N, 1]``.
        num_classes: ``C``; inferred from ``[N, C]`` inputs or a sigmoid
            column when omitted.
        sample_weight: optional non-negative weights ``[N]``; the matrix is
            then float64 sums of weights instead of int64 counts.
        from_logits: a binary model's single score column holds logits
            (threshold 0) instead of sigmoid probabilities (threshold 0.5).

    Returns:
        ``[C, C]`` matrix, rows = true class, columns = predicted class.

    Raises:
        TypeError / ValueError: see :func:`class_ids_from_labels` and
            :func:`class_ids_from_predictions`; also empty input, mismatched
            lengths, C < 2 and bad weights.

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2).tolist()
        [[1, 0], [1, 1]]
    """
    labels = _as_numeric_array(labels, "labels")
    predictions = _as_numeric_array(predictions, "predictions")
    if num_classes is None:
        num_classes = _infer_num_classes(labels, predictions)
        if num_classes is None:
            raise ValueError(
                "`num_classes` is required when both `labels` and `predictions` "
                "are class ids [N]: the number of classes cannot be inferred "
                "safely from data that may miss classes"
            )
    num_classes = validate_num_classes(num_classes)
    if 0 in (np.size(labels), np.size(predictions)):
        raise ValueError(
            "`labels` and `predictions` are empty (0 rows); a confusion matrix "
            "needs at least one example"
        )
    true_ids = class_ids_from_labels(labels, num_classes)
    pred_ids = class_ids_from_predictions(predictions, num_classes, from_logits=validate_flag(from_logits, "from_logits"))
    if true_ids.shape[0] != pred_ids.shape[0]:
        raise ValueError(
            f"`labels` and `predictions` must have the same number of rows, "
            f"received {true_ids.shape[0]} and {pred_ids.shape[0]}"
        )
    flat = true_ids * num_classes + pred_ids
    if sample_weight is None:
        counts = np.bincount(flat, minlength=num_classes * num_classes)
        return counts.reshape(num_classes, num_classes).astype(np.int64, copy=False)
    weights = _as_numeric_array(sample_weight, "sample_weight").astype(np.float64)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.shape != true_ids.shape:
        raise ValueError(
            f"`sample_weight` must have shape [{true_ids.shape[0]}] (one weight per "
            f"row), received {_shape(weights)}"
        )
    _check_finite(weights, "sample_weight")
    if weights.size and weights.min() < 0:
        raise ValueError(
            f"`sample_weight` must be non-negative, received {weights.min()}"
        )
    if not weights.any():
        raise ValueError(
            "`sample_weight` is zero for every row, so nothing would be counted; "
            "give at least one row a positive weight"
        )
    counts = np.bincount(flat, weights=weights, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def validate_flag(value: Any, argument: str) -> bool:
    """Return ``value`` if it is a bool, else raise a ``TypeError`` naming ``argument``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{argument}` must be True or False, received {value!r}")
    return bool(value)


def validate_num_classes(num_classes: Any) -> int:
    """Return ``num_classes`` as an int ≥ 2, or raise a clear error."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"`num_classes` must be an int, received {num_classes!r}")
    if num_classes < 2:
        raise ValueError(
            f"`num_classes` must be at least 2, received {num_classes}; a confusion "
            "matrix needs two classes or more"
        )
    return int(num_classes)


def validate_matrix(matrix: Any, argument: str = "confusion_matrix") -> np.ndarray:
    """Check that ``matrix`` is a square, finite, non-negative ``[C, C]`` array, C ≥ 2."""
    array = _as_numeric_array(matrix, argument)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"`{argument}` must be square [C, C], received shape {_shape(array)}")
    validate_num_classes(array.shape[0])
    _check_finite(array, argument)
    if array.size and array.min() < 0:
        raise ValueError(f"`{argument}` must hold non-negative counts, received {array.min()}")
    return array


def default_class_names(num_classes: int) -> list[str]:
    """``["0", "1", …]``: the names scikit-learn's report uses for unnamed labels."""
    return [str(k) for k in range(num_classes)]


def validate_class_names(class_names: Sequence[Any] | None, num_classes: int) -> list[str]:
    """Return ``class_names`` as ``num_classes`` unique strings (defaults when None)."""
    if class_names is None:
        return default_class_names(num_classes)
    if isinstance(class_names, (str, bytes)):
        raise TypeError(
            f"`class_names` must be a sequence of names, received the string {class_names!r}; "
            f"pass a list such as {list(str(class_names).split(',')) if ',' in str(class_names) else [str(class_names)]}"
        )
    if not isinstance(class_names, Sequence) and not isinstance(class_names, np.ndarray):
        raise TypeError(
            "`class_names` must be a list or tuple of names (one per class), received "
            f"{type(class_names).__name__}"
        )
    names = [str(name) for name in class_names]
    if len(names) != num_classes:
        raise ValueError(
            f"`class_names` must have one name per class ({num_classes}), received "
            f"{len(names)} names"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"`class_names` must be unique, received {name!r} twice")
        seen.add(name)
    reserved = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    clash = reserved.intersection(names)
    if clash:
        raise ValueError(
            f"`class_names` may not use the report's own keys {sorted(reserved)}, "
            f"received {sorted(clash)}"
        )
    return names


# --------------------------------------------------------------------------
# Metrics from a confusion matrix
# --------------------------------------------------------------------------


def per_class_metrics(cm: Any) -> dict[str, np.ndarray]:
    """Per-class statistics of a confusion matrix, as arrays of length C.

    Returns:
        ``support`` (row sums), ``predicted`` (column sums), ``tp``,
        ``precision``, ``recall``, ``f1``, ``specificity`` — scores are 0
        where undefined (scikit-learn's ``zero_division=0``).
    """
    cm = validate_matrix(cm)
    tp = np.diagonal(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    total = cm.sum()
    precision = _divide(tp, predicted)
    recall = _divide(tp, support)
    f1 = _divide(2 * tp, support + predicted)
    true_negative = total - support - predicted + tp
    specificity = _divide(true_negative, total - support)
    return {
        "support": support,
        "predicted": predicted,
        "tp": tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "specificity": specificity,
    }


def _number(value: Any) -> int | float:
    """A JSON-friendly Python number: int for whole integer-typed counts."""
    if isinstance(value, (np.integer, int)):
        return int(value)
    return float(value)


def classification_report(cm: Any, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The dict ``sklearn.metrics.classification_report`` returns.

    Equals ``classification_report(y_true, y_pred, labels=range(C),
    target_names=class_names, output_dict=True, zero_division=0)`` for the data
    that produced ``cm``: one entry per class name, ``"accuracy"``,
    ``"macro avg"`` and ``"weighted avg"``.

    Args:
        cm: ``[C, C]`` confusion matrix.
        class_names: C names; ``"0"…"C-1"`` when omitted.
    """
    cm = validate_matrix(cm)
    names = validate_class_names(class_names, cm.shape[0])
    stats = per_class_metrics(cm)
    support = stats["support"]
    report: dict[str, Any] = {}
    for k, name in enumerate(names):
        report[name] = {
            "precision": float(stats["precision"][k]),
            "recall": float(stats["recall"][k]),
            "f1-score": float(stats["f1"][k]),
            "support": _number(support[k]),
        }
    total = support.sum()
    report["accuracy"] = float(_divide(stats["tp"].sum(), total))
    for key, weights in (("macro avg", None), ("weighted avg", support)):
        if weights is not None and total == 0:
            averages = [0.0, 0.0, 0.0]
        else:
            averages = [
                float(np.average(stats[field], weights=weights))
                for field in ("precision", "recall", "f1")
            ]
        report[key] = {
            "precision": averages[0],
            "recall": averages[1],
            "f1-score": averages[2],
            "support": _number(total),
        }
    return report


def imbalance_metrics(cm: Any) -> dict[str, float]:
    """Imbalance-aware headline metrics of a confusion matrix.

    Returns a dict with the keys of :data:`METRIC_NAMES`:

    * ``accuracy`` — trace / total (for contrast: it lies on imbalanced data);
    * ``balanced_accuracy`` — mean recall over classes present in the true
      labels (``sklearn.metrics.balanced_accuracy_score``);
    * ``macro_f1`` — unweighted mean F1 over all C classes;
    * ``mcc`` — multiclass Matthews correlation (``matthews_corrcoef``);
    * ``cohen_kappa`` — ``cohen_kappa_score``;
    * ``geometric_mean`` — geometric mean of recall over classes present in
      the true or predicted labels (imbalanced-learn's
      ``geometric_mean_score``, ``average="multiclass"``);
    * ``worst_class_recall`` — lowest recall among classes present in the
      true labels.
    """
    cm = validate_matrix(cm).astype(np.float64)
    stats = per_class_metrics(cm)
    support, predicted, tp = stats["support"], stats["predicted"], stats["tp"]
    total = cm.sum()
    correct = tp.sum()
    present = support > 0
    recall_present = stats["recall"][present]

    # Multiclass MCC, sklearn's formulation through covariances.
    cov_ytyp = correct * total - np.dot(predicted, support)
    cov_ypyp = total**2 - np.dot(predicted, predicted)
    cov_ytyt = total**2 - np.dot(support, support)
    denominator = np.sqrt(cov_ytyt * cov_ypyp)
    mcc = float(cov_ytyp / denominator) if denominator != 0 else 0.0

    # Cohen's kappa: observed vs. chance agreement.
    if total > 0:
        expected = np.dot(support, predicted) / total**2
        observed = correct / total
        kappa = (observed - expected) / (1 - expected) if expected != 1 else 0.0
    else:
        kappa = 0.0

    in_data = present | (predicted > 0)
    recall_in_data = stats["recall"][in_data]
    if recall_in_data.size == 0 or np.any(recall_in_data == 0):
        gmean = 0.0
    else:
        gmean = float(np.exp(np.mean(np.log(recall_in_data))))

    return {
        "accuracy": float(_divide(correct, total)),
        "balanced_accuracy": float(recall_present.mean()) if recall_present.size else 0.0,
        "macro_f1": float(stats["f1"].mean()),
        "mcc": mcc,
        "cohen_kappa": float(kappa),
        "geometric_mean": gmean,
        "worst_class_recall": float(recall_present.min()) if recall_present.size else 0.0,
    }


# --------------------------------------------------------------------------
# Confidence intervals: how sure a per-class score is, and whether two differ
# --------------------------------------------------------------------------

#: Confidence level of the intervals the dashboard shows.
DEFAULT_CONFIDENCE = 0.95

# Acklam's rational approximation of the standard normal quantile (relative
# error below 1.2e-9), refined below by one Halley step to full precision.
_ACKLAM_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
             1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_ACKLAM_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
             6.680131188771972e01, -1.328068155288572e01)
_ACKLAM_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
             -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_ACKLAM_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
             3.754408661907416e00)


def _polynomial(coefficients: Sequence[float], x: float) -> float:
    value = 0.0
    for coefficient in coefficients:
        value = value * x + coefficient
    return value


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (inverse CDF), without scipy.

    Args:
        probability: in ``(0, 1)``.

    Returns:
        ``z`` with ``P(Z <= z) = probability`` for a standard normal ``Z``
        (equal to ``scipy.stats.norm.ppf`` to about 1e-15).

    Raises:
        ValueError: ``probability`` is not in ``(0, 1)``.

    Example:
        >>> round(normal_quantile(0.975), 6)
        1.959964
    """
    if isinstance(probability, bool) or not isinstance(probability, (int, float, np.floating, np.integer)):
        raise TypeError(f"`probability` must be a number in (0, 1), received {probability!r}")
    p = float(probability)
    if not 0.0 < p < 1.0:
        raise ValueError(f"`probability` must be in (0, 1), received {probability!r}")
    if p > 0.5:
        return -normal_quantile(1.0 - p)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = _polynomial(_ACKLAM_C, q) / (_polynomial(_ACKLAM_D, q) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = _polynomial(_ACKLAM_A, r) * q / (_polynomial(_ACKLAM_B, r) * r + 1.0)
    # One Halley step on Φ(x) − p (x ≤ 0 here, so Φ(x) = erfc(−x/√2)/2 keeps its digits).
    error = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = error * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating, np.integer)):
        raise TypeError(f"`confidence` must be a number in (0, 1) such as 0.95, received {confidence!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(
            f"`confidence` must be in (0, 1) (e.g. 0.95 for a 95% interval), received {confidence!r}"
        )
    return float(confidence)


def _check_counts(successes: Any, trials: Any, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for value, name in zip((successes, trials), names):
        array = _as_numeric_array(value, name).astype(np.float64)
        _check_finite(array, name)
        if array.size and array.min() < 0:
            raise ValueError(f"`{name}` must hold non-negative counts, received {array.min()}")
        arrays.append(array)
    try:
        k, n = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError(
            f"`{names[0]}` and `{names[1]}` must have the same shape (or broadcast), received "
            f"{_shape(arrays[0])} and {_shape(arrays[1])}"
        ) from None
    if np.any(k > n):
        where = int(np.flatnonzero((k > n).reshape(-1))[0])
        raise ValueError(
            f"`{names[0]}` may not exceed `{names[1]}`, received {k.reshape(-1)[where]:g} successes "
            f"out of {n.reshape(-1)[where]:g} trials (at flat index {where})"
        )
    return k, n


def _scalar_or_array(value: np.ndarray) -> Any:
    return float(value) if value.ndim == 0 else value


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds of ``k / n`` (NaN where ``n == 0``), clipped to [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = z * z
        denominator = 1.0 + z2 / n
        centre = (p + z2 / (2.0 * n)) / denominator
        half_width = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
        low = np.clip(centre - half_width, 0.0, 1.0)
        high = np.clip(centre + half_width, 0.0, 1.0)
    # Exact ends for 0 and n successes (the formula gives them up to rounding).
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def wilson_interval(
    successes: Any, trials: Any, *, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[Any, Any]:
    """Wilson score interval for a proportion ``successes / trials``.

    Unlike the normal ("Wald") interval it stays inside ``[0, 1]`` and keeps
    its coverage for small ``trials`` and proportions near 0 or 1 — the rare
    classes of an imbalanced problem. Equals statsmodels'
    ``proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")``.

    Args:
        successes: counts ``k`` (scalar or array), e.g. correct predictions
            of a class.
        trials: counts ``n`` of independent trials, broadcastable with
            ``successes``, e.g. the class's support. Sums of sample weights
            are not counts of trials: the interval does not apply to them.
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``(low, high)``: floats for scalar inputs, else float64 arrays; NaN
        where ``trials`` is 0 (the proportion is undefined).

    Raises:
        TypeError: non-numeric input or ``confidence``.
        ValueError: negative or non-finite counts, ``successes > trials``,
            shapes that do not broadcast, ``confidence`` outside ``(0, 1)``.

    Example:
        >>> low, high = wilson_interval(5, 32)
        >>> round(low, 4), round(high, 4)
        (0.0686, 0.3175)
        >>> wilson_interval([0, 3], [0, 3])[1].tolist()
        [nan, 1.0]
    """
    z = normal_quantile(1.0 - (1.0 - _check_confidence(confidence)) / 2.0)
    k, n = _check_counts(successes, trials, ("successes", "trials"))
    low, high = _wilson(k, n, z)
    return _scalar_or_array(low), _scalar_or_array(high)


def newcombe_interval(
    successes_a: Any,
    trials_a: Any,
    successes_b: Any,
    trials_b: Any,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[Any, Any]:
    """Newcombe's hybrid score interval for ``p_a − p_b`` of two independent proportions.

    Method 10 of Newcombe (Statistics in Medicine, 1998): it combines the
    Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` of the two
    proportions into ``(d − √((p_a − l_a)² + (u_b − p_b)²),
    d + √((u_a − p_a)² + (p_b − l_b)²))`` with ``d = p_a − p_b``. Equals
    statsmodels' ``confint_proportions_2indep(successes_a, trials_a,
    successes_b, trials_b, method="newcomb", compare="diff",
    alpha=1 - confidence)``.

    The two samples are taken as independent. Two models scored on the same
    validation set are paired, not independent; for them the interval is
    conservative (wider than a paired interval), so a difference it calls
    significant is one all the more.

    Args:
        successes_a, trials_a: counts of the first proportion (arrays
            broadcast together).
        successes_b, trials_b: counts of the second.
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``(low, high)`` bounds of ``p_a − p_b``: floats for scalar inputs,
        else float64 arrays; NaN where either ``trials`` is 0.

    Raises:
        TypeError, ValueError: as :func:`wilson_interval`.

    Example:
        >>> low, high = newcombe_interval(60, 99, 45, 99)
        >>> round(low, 4), round(high, 4)
        (0.0126, 0.2824)
    """
    z = normal_quantile(1.0 - (1.0 - _check_confidence(confidence)) / 2.0)
    k_a, n_a = _check_counts(successes_a, trials_a, ("successes_a", "trials_a"))
    k_b, n_b = _check_counts(successes_b, trials_b, ("successes_b", "trials_b"))
    try:
        k_a, n_a, k_b, n_b = np.broadcast_arrays(k_a, n_a, k_b, n_b)
    except ValueError:
        raise ValueError(
            f"the counts of the two proportions must have the same shape (or broadcast), received "
            f"{_shape(k_a)} and {_shape(k_b)}"
        ) from None
    low, high = _newcombe(k_a, n_a, k_b, n_b, z)
    return _scalar_or_array(low), _scalar_or_array(high)


def _newcombe(
    k_a: np.ndarray, n_a: np.ndarray, k_b: np.ndarray, n_b: np.ndarray, z: float
) -> tuple[np.ndarray, np.ndarray]:
    low_a, high_a = _wilson(k_a, n_a, z)
    low_b, high_b = _wilson(k_b, n_b, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = k_a / n_a
        p_b = k_b / n_b
    difference = p_a - p_b
    low = difference - np.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = difference + np.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return low, high


def per_class_intervals(cm: Any, *, confidence: float = DEFAULT_CONFIDENCE) -> dict[str, np.ndarray]:
    """Wilson intervals of every class's recall and precision.

    Recall is ``correct / support`` (row sum), precision ``correct /
    predicted`` (column sum), as in :func:`per_class_metrics`.

    Args:
        cm: ``[C, C]`` confusion matrix of counts (not sums of weights).
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        ``recall_low``, ``recall_high``, ``precision_low``,
        ``precision_high``: float64 arrays of length C, NaN where the
        denominator is 0 (a class without support, or never predicted).

    Raises:
        ValueError / TypeError: as :func:`validate_matrix`, or a bad
            ``confidence``.

    Example:
        >>> bounds = per_class_intervals([[50, 2], [3, 5]])
        >>> bounds["recall_low"].round(4).tolist(), bounds["recall_high"].round(4).tolist()
        ([0.8702, 0.3057], [0.9894, 0.8632])
    """
    z = normal_quantile(1.0 - (1.0 - _check_confidence(confidence)) / 2.0)
    stats = per_class_metrics(cm)
    tp = stats["tp"]
    recall_low, recall_high = _wilson(tp, stats["support"].astype(np.float64), z)
    precision_low, precision_high = _wilson(tp, stats["predicted"].astype(np.float64), z)
    return {
        "recall_low": recall_low,
        "recall_high": recall_high,
        "precision_low": precision_low,
        "precision_high": precision_high,
    }


def per_class_differences(
    cm: Any, baseline_cm: Any, *, confidence: float = DEFAULT_CONFIDENCE
) -> dict[str, np.ndarray]:
    """Per-class recall and precision of ``cm`` minus ``baseline_cm``, with intervals.

    Each difference gets Newcombe's hybrid score interval
    (:func:`newcombe_interval`), treating the two matrices as independent
    samples; it is *significant* when the interval excludes 0.

    Args:
        cm: ``[C, C]`` confusion matrix of counts (the run).
        baseline_cm: ``[C, C]`` confusion matrix of counts of the same
            classes, in the same order (the baseline).
        confidence: the confidence level, in ``(0, 1)``.

    Returns:
        For ``recall`` and ``precision``: ``<score>_delta``,
        ``<score>_low``, ``<score>_high`` (float64 arrays of length C, NaN
        where a class has no support — no predictions, for precision — in
        either matrix) and ``<score>_significant`` (bool, False where
        undefined).

    Raises:
        ValueError / TypeError: an invalid matrix, matrices of different
            shapes, or a bad ``confidence``.

    Example:
        >>> result = per_class_differences([[90, 10], [2, 8]], [[95, 5], [6, 4]])
        >>> result["recall_delta"].round(2).tolist()
        [-0.05, 0.4]
        >>> result["recall_significant"].tolist()
        [False, False]
    """
    z = normal_quantile(1.0 - (1.0 - _check_confidence(confidence)) / 2.0)
    run = per_class_metrics(cm)
    baseline = per_class_metrics(validate_matrix(baseline_cm, "baseline_cm"))
    if run["tp"].shape != baseline["tp"].shape:
        raise ValueError(
            f"`cm` and `baseline_cm` must have the same classes, received {run['tp'].shape[0]} and "
            f"{baseline['tp'].shape[0]} classes"
        )
    result: dict[str, np.ndarray] = {}
    for score, denominator in (("recall", "support"), ("precision", "predicted")):
        k_a, n_a = run["tp"], run[denominator].astype(np.float64)
        k_b, n_b = baseline["tp"], baseline[denominator].astype(np.float64)
        low, high = _newcombe(k_a, n_a, k_b, n_b, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = k_a / n_a - k_b / n_b
        defined = (n_a > 0) & (n_b > 0)
        result[f"{score}_delta"] = np.where(defined, delta, np.nan)
        result[f"{score}_low"] = np.where(defined, low, np.nan)
        result[f"{score}_high"] = np.where(defined, high, np.nan)
        result[f"{score}_significant"] = defined & ((low > 0) | (high < 0))
    return result


# --------------------------------------------------------------------------
# Long tail: recall by how many training examples a class had
# --------------------------------------------------------------------------

#: Long-tail bucket scores returned by :func:`shot_recalls`, in display order.
SHOT_METRIC_NAMES = ("many_shot_recall", "medium_shot_recall", "few_shot_recall")
#: Default bucket thresholds of the long-tail literature (Liu et al., CVPR
#: 2019): many-shot classes have more than 100 training examples, few-shot
#: classes fewer than 20, medium-shot classes 20–100 inclusive.
MANY_SHOT_MIN = 100
FEW_SHOT_MAX = 20


def validate_class_counts(class_counts: Any, num_classes: int) -> list[int] | None:
    """Return ``class_counts`` as ``num_classes`` non-negative Python ints (None stays None).

    ``class_counts`` are the training examples per class, in matrix order,
    e.g. ``np.bincount(y_train, minlength=C)``.

    Raises:
        TypeError: not a sequence / 1-D array of integers (floats, bools,
            strings are refused: counts are whole numbers).
        ValueError: wrong length, or a negative count.

    Example:
        >>> validate_class_counts(np.array([500, 40, 3]), 3)
        [500, 40, 3]
    """
    if class_counts is None:
        return None
    if isinstance(class_counts, (str, bytes, dict)) or not (
        isinstance(class_counts, (Sequence, np.ndarray)) or hasattr(class_counts, "__array__")
    ):
        raise TypeError(
            "`class_counts` must be a list or 1-D array of training examples per class "
            f"(e.g. np.bincount(y_train, minlength=C)), received {type(class_counts).__name__}"
        )
    array = np.asarray(class_counts)
    if array.ndim != 1:
        raise ValueError(f"`class_counts` must be 1-D (one count per class), received shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        raise TypeError(
            "`class_counts` must hold integers (training examples per class, e.g. "
            f"np.bincount(y_train, minlength=C)), received dtype {array.dtype}"
        )
    if array.shape[0] != num_classes:
        raise ValueError(
            f"`class_counts` must have one count per class ({num_classes}), received {array.shape[0]}"
        )
    if array.size and array.min() < 0:
        raise ValueError(f"`class_counts` must be non-negative, received {int(array.min())}")
    return [int(count) for count in array.tolist()]


def validate_shot_thresholds(many: Any = MANY_SHOT_MIN, few: Any = FEW_SHOT_MAX) -> tuple[int, int]:
    """Return ``(many, few)`` as non-negative ints with ``few < many``.

    Raises:
        TypeError: not ints.
        ValueError: negative, or ``few >= many``.
    """
    for value, argument in ((many, "many"), (few, "few")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"`{argument}` must be an int (a number of training examples), received {value!r}")
        if value < 0:
            raise ValueError(f"`{argument}` must be non-negative, received {value}")
    if not few < many:
        raise ValueError(
            f"`few` must be less than `many` (few-shot: fewer than `few` training examples, many-shot: "
            f"more than `many`), received few={few}, many={many}"
        )
    return int(many), int(few)


def shot_recalls(
    cm: Any, class_counts: Any, many: int = MANY_SHOT_MIN, few: int = FEW_SHOT_MAX
) -> dict[str, float | None]:
    """Mean recall over many-, medium- and few-shot classes (Liu et al., CVPR 2019).

    A class is *many-shot* with more than ``many`` training examples,
    *few-shot* with fewer than ``few``, *medium-shot* otherwise (``few`` to
    ``many`` inclusive). Each bucket's score is the mean recall over its
    classes that have validation support (a row sum > 0); it is ``None`` when
    no class of the bucket has any.

    Args:
        cm: ``[C, C]`` validation confusion matrix.
        class_counts: C training example counts (see :func:`validate_class_counts`).
        many, few: the thresholds (see :func:`validate_shot_thresholds`).

    Returns:
        ``{"many_shot_recall": …, "medium_shot_recall": …, "few_shot_recall": …}``
        (:data:`SHOT_METRIC_NAMES`), floats or None.

    Example:
        >>> cm = [[90, 10, 0], [5, 15, 0], [1, 1, 2]]
        >>> shot_recalls(cm, [1000, 50, 5])
        {'many_shot_recall': 0.9, 'medium_shot_recall': 0.75, 'few_shot_recall': 0.5}
    """
    stats = per_class_metrics(cm)
    counts = np.asarray(validate_class_counts(class_counts, stats["recall"].shape[0]), dtype=np.int64)
    many, few = validate_shot_thresholds(many, few)
    present = stats["support"] > 0
    buckets = {
        "many_shot_recall": counts > many,
        "medium_shot_recall": (counts >= few) & (counts <= many),
        "few_shot_recall": counts < few,
    }
    result: dict[str, float | None] = {}
    for name, members in buckets.items():
        chosen = stats["recall"][members & present]
        result[name] = float(chosen.mean()) if chosen.size else None
    return result


# --------------------------------------------------------------------------
# Class groups: a matrix rolled up to groups of classes
# --------------------------------------------------------------------------


def validate_class_groups(class_groups: Any, class_names: Sequence[str]) -> dict[str, list[str]] | None:
    """Return ``class_groups`` as ``{group name: [class names…]}`` (None stays None).

    Rules: group names are non-empty strings; each group lists at least one
    class; every member is one of ``class_names``; a class is in at most one
    group. Classes in no group are allowed: :func:`group_matrix` keeps each
    as a group of its own, under its class name, so a group name may not be
    the name of a class outside that group. The rolled-up matrix must have at
    least two groups, and group names may not be the report's own keys
    (``accuracy``, ``macro avg``, …).

    Raises:
        TypeError: not a mapping of strings to lists of strings.
        ValueError: a rule above is broken (the message names the group and class).

    Example:
        >>> validate_class_groups({"pets": ("cat", "dog")}, ["cat", "dog", "car"])
        {'pets': ['cat', 'dog']}
    """
    if class_groups is None:
        return None
    if not isinstance(class_groups, Mapping):
        raise TypeError(
            '`class_groups` must be a dict {"group name": [class names…]}, received '
            f"{type(class_groups).__name__}"
        )
    known = {str(name): index for index, name in enumerate(class_names)}
    owner: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for group, members in class_groups.items():
        if not isinstance(group, str) or not group.strip():
            raise ValueError(f"`class_groups` names must be non-empty strings, received {group!r}")
        if isinstance(members, (str, bytes)) or not isinstance(members, (Sequence, np.ndarray)):
            raise TypeError(
                f"`class_groups[{group!r}]` must be a list of class names, received "
                f"{type(members).__name__}"
            )
        names = [str(name) for name in members]
        if not names:
            raise ValueError(f"`class_groups[{group!r}]` lists no class; every group needs at least one")
        for name in names:
            if name not in known:
                raise ValueError(
                    f"`class_groups[{group!r}]` names {name!r}, which is not a class name; class names: "
                    f"{list(known)[:8]}{'…' if len(known) > 8 else ''}"
                )
            if name in owner:
                raise ValueError(
                    f"`class_groups`: class {name!r} is in two groups ({owner[name]!r} and {group!r}); "
                    "a class may be in at most one group"
                )
            owner[name] = group
        groups[group] = names
    for group in groups:
        if group in known and owner.get(group) != group:
            raise ValueError(
                f"`class_groups`: group {group!r} has the name of a class outside it; classes in no "
                "group are shown as groups of their own under their class name, so rename the group"
            )
    rolled_up = list(groups) + [name for name in known if name not in owner]
    if len(rolled_up) < 2:
        raise ValueError(
            f"`class_groups` must leave at least two groups (counting classes in no group), received "
            f"{rolled_up}"
        )
    try:
        validate_class_names(rolled_up, len(rolled_up))
    except ValueError as error:
        raise ValueError(f"`class_groups`: the group names are not usable report keys: {error}") from None
    return groups


def group_matrix(
    cm: Any, groups: Mapping[str, Sequence[str]], class_names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Roll a confusion matrix up to groups of classes.

    Cell ``[g, h]`` of the result sums the cells whose true class is in group
    ``g`` and predicted class in group ``h``: a prediction of another class
    of the same group counts as correct for the group. The groups come in
    ``groups``' order, followed by every class in no group as a group of its
    own (named by the class), in class order.

    Args:
        cm: ``[C, C]`` confusion matrix.
        groups: ``{group name: [class names…]}`` (see :func:`validate_class_groups`).
        class_names: C names of ``cm``'s classes (default ``"0"…"C-1"``).

    Returns:
        ``(group_cm, group_names)``: the ``[G, G]`` matrix (same dtype) and
        its G names.

    Example:
        >>> cm = [[5, 1, 0], [2, 3, 1], [0, 1, 4]]
        >>> group_cm, names = group_matrix(cm, {"animals": ["cat", "dog"]}, ["cat", "dog", "car"])
        >>> group_cm.tolist(), names
        ([[11, 1], [1, 4]], ['animals', 'car'])
    """
    cm = validate_matrix(cm, "cm")
    names = validate_class_names(class_names, cm.shape[0])
    checked = validate_class_groups(groups, names)
    if checked is None:
        raise TypeError("`groups` must be a dict {\"group name\": [class names…]}, received None")
    index = {name: k for k, name in enumerate(names)}
    group_of = np.empty(cm.shape[0], dtype=np.int64)
    group_names = list(checked)
    for g, members in enumerate(checked.values()):
        group_of[[index[name] for name in members]] = g
    grouped = {name for members in checked.values() for name in members}
    for k, name in enumerate(names):
        if name not in grouped:
            group_of[k] = len(group_names)
            group_names.append(name)
    size = len(group_names)
    one_hot = np.zeros((cm.shape[0], size), dtype=cm.dtype)
    one_hot[np.arange(cm.shape[0]), group_of] = 1
    return one_hot.T @ cm @ one_hot, group_names
