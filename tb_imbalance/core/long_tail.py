"""Long tail: recall by how many training examples a class had (many-, medium-, few-shot).

Example:
    >>> shot_recalls([[9, 1], [1, 1]], [500, 5])
    {'many_shot_recall': 0.9, 'medium_shot_recall': None, 'few_shot_recall': 0.5}
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tb_imbalance.core.metrics import per_class_metrics

__all__ = [
    "SHOT_METRIC_NAMES",
    "MANY_SHOT_MIN",
    "FEW_SHOT_MAX",
    "validate_class_counts",
    "validate_shot_thresholds",
    "shot_recalls",
]

#: Long-tail bucket scores returned by :func:`shot_recalls`, in display order.
SHOT_METRIC_NAMES = ("many_shot_recall", "medium_shot_recall", "few_shot_recall")
#: Default bucket thresholds of the long-tail literature (Liu et al., CVPR
#: 2019): many-shot classes have more than 100 training examples, few-shot
#: classes fewer than 20, medium-shot classes 20–100 inclusive.
MANY_SHOT_MIN = 100
FEW_SHOT_MAX = 20


#: Largest training count stored: the int64 the format and the Keras metrics hold counts in.
_MAX_COUNT = 2**63 - 1


def _refuse_too_large(count: Any) -> None:
    raise ValueError(
        f"`class_counts` must hold counts of at most 2**63 - 1 ({_MAX_COUNT}), received {int(count)}; "
        "pass the number of training examples of each class (e.g. np.bincount(y_train, minlength=C))"
    )


def validate_class_counts(class_counts: Any, num_classes: int) -> list[int] | None:
    """Return ``class_counts`` as ``num_classes`` non-negative Python ints (None stays None).

    ``class_counts`` are the training examples per class, in matrix order,
    e.g. ``np.bincount(y_train, minlength=C)``.

    Raises:
        TypeError: not a sequence / 1-D array of integers (floats, bools,
            strings are refused: counts are whole numbers).
        ValueError: wrong length, a negative count, or one past 2**63 - 1.

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
    index = getattr(class_counts, "index", None)  # a pandas Series: its index says which class each count is
    if index is not None and not callable(index) and list(index) != list(range(len(index))):
        raise ValueError(
            f"`class_counts` is a pandas {type(class_counts).__name__} whose index ({list(index[:4])}"
            f"{'…' if len(index) > 4 else ''}) is not the class ids 0..C-1 in "
            "order, so its values would go to the wrong classes (value_counts() sorts by frequency): pass "
            "counts.reindex(range(C), fill_value=0) when its index holds class ids, "
            "counts.reindex(class_names, fill_value=0).to_numpy() when it holds class names, "
            "or np.bincount(y_train, minlength=C)"
        )
    if isinstance(class_counts, (list, tuple)):  # numpy would turn ints past int64 into floats or objects
        for count in class_counts:
            if isinstance(count, (bool, np.bool_)):  # numpy would read [True, 5] as [1, 5]
                raise TypeError(
                    f"`class_counts` must hold integers (training examples per class), received {bool(count)!r} "
                    "among them; pass np.bincount(y_train, minlength=C)"
                )
            if isinstance(count, (int, np.integer)) and count > _MAX_COUNT:
                _refuse_too_large(count)
    array = np.asarray(class_counts)
    if array.ndim != 1:
        raise ValueError(f"`class_counts` must be 1-D (one count per class), received shape {array.shape}")
    if array.dtype == np.uint64 and array.size and array.max() > _MAX_COUNT:
        _refuse_too_large(array.max())
    if array.size and not np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        raise TypeError(
            "`class_counts` must hold integers (training examples per class, e.g. "
            f"np.bincount(y_train, minlength=C)), received dtype {array.dtype}"
        )
    if array.shape[0] != num_classes:
        raise ValueError(
            f"`class_counts` must have one count per class ({num_classes}), received {array.shape[0]}"
            + (f"; pass np.bincount(y_train, minlength={num_classes}) (without minlength it stops at the largest "
               "class in y_train)" if array.shape[0] < num_classes else "")
        )
    if array.size and array.min() < 0:
        raise ValueError(f"`class_counts` must be non-negative, received {int(array.min())}")
    return [int(count) for count in array.tolist()]


def validate_shot_thresholds(many: Any = None, few: Any = None, *, prefix: str = "") -> tuple[int, int]:
    """Return ``(many, few)`` as non-negative ints with ``few < many``; None is the default
    (:data:`MANY_SHOT_MIN`, :data:`FEW_SHOT_MAX`), which an error then names. An error starts
    with ``prefix`` (the plugin's routes: ``"query parameter "``) before the name it blames.

    Example:
        >>> validate_shot_thresholds(few=10)
        (100, 10)

    Raises:
        TypeError: not ints.
        ValueError: negative, or ``few >= many``.
    """
    many_default, few_default = many is None, few is None
    many, few = MANY_SHOT_MIN if many_default else many, FEW_SHOT_MAX if few_default else few
    for value, argument in ((many, "many"), (few, "few")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{prefix}`{argument}` must be an int (a number of training examples), received {value!r}")
        if value < 0:
            raise ValueError(f"{prefix}`{argument}` must be non-negative, received {value}")
    if not few < many and few_default:
        fix = "pass a smaller `few` too" if many > 0 else "`few` cannot be negative, so pass a `many` of 1 or more and a `few` below it"
        raise ValueError(f"{prefix}`many`={many} must be more than `few`, whose default is {FEW_SHOT_MAX}; {fix}")
    if not few < many and many_default:
        raise ValueError(
            f"{prefix}`few`={few} must be less than `many`, whose default is {MANY_SHOT_MIN}; pass a larger `many` too"
        )
    if not few < many:
        raise ValueError(
            f"{prefix}`few` must be less than `many` (few-shot: fewer than `few` training examples, many-shot: "
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
    counts = validate_class_counts(class_counts, stats["recall"].shape[0])
    return _shot_recalls(stats, counts, *validate_shot_thresholds(many, few))


def _shot_recalls(
    stats: dict[str, np.ndarray], class_counts: Sequence[int], many: int = MANY_SHOT_MIN, few: int = FEW_SHOT_MAX
) -> dict[str, float | None]:
    """:func:`shot_recalls` from the matrix's per-class metrics and checked counts and thresholds (not checked
    again): for a step checked once at its entry, whose per-class metrics are computed already.

    Example:
        >>> from tb_imbalance.core.metrics import per_class_metrics
        >>> _shot_recalls(per_class_metrics([[90, 10, 0], [5, 15, 0], [1, 1, 2]]), [1000, 50, 5])
        {'many_shot_recall': 0.9, 'medium_shot_recall': 0.75, 'few_shot_recall': 0.5}
    """
    counts = np.asarray(class_counts, dtype=np.int64)
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
