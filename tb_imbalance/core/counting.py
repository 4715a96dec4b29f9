"""Counting: labels and predictions to the ``[C, C]`` confusion matrix.

Example:
    >>> confusion_matrix([0, 1, 2], [0, 2, 2], num_classes=3).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 1]]
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from tb_imbalance.core.batch_lists import check_batch_lists
from tb_imbalance.core.class_order import check_label_values, check_pair_columns, check_pandas_order
from tb_imbalance.core.inputs import (
    _bool_ids,
    _infer_num_classes,
    check_not_per_position,
    _largest_not_unique,
    _squeeze_hint,
    class_ids_from_labels,
    class_ids_from_predictions,
)
from tb_imbalance.core.numeric_arrays import _as_numeric_array, _check_finite, _check_sum, _shape
from tb_imbalance.core.sparse_matrix import SPARSE_ABOVE_CLASSES, SparseMatrix
from tb_imbalance.core.validators import class_name_values, validate_class_names, validate_flag, validate_num_classes

__all__ = ["resolve_num_classes", "ClassIds", "class_ids", "count_class_ids", "confusion_matrix", "padding_rows"]


def resolve_num_classes(
    labels: Any, predictions: Any, num_classes: int | None, class_names: Sequence[Any] | None, *,
    sample_weight: Any = None, from_logits: bool | None = None,
) -> tuple[int | None, list[str] | None]:
    """The number of classes of a logging call, and its checked class names.

    ``num_classes`` wins when given; otherwise it is read from ``[N, C]``
    inputs, a sigmoid column or booleans (classes False and True), and only then from ``len(class_names)``, so
    names of the wrong length are blamed on ``class_names``, not on the
    labels. Returns ``(None, None)`` when nothing tells the count (then
    :func:`confusion_matrix` raises its own error). Integer labels that are
    the values of integer ``class_names`` (a classifier's ``classes_``), not
    their positions, are refused (:func:`check_label_values`), as are
    pandas inputs whose rows or score columns are in another order than
    their index or names say (:func:`check_pandas_order`; ``sample_weight``
    is only compared with the labels' index), and a one-vs-one
    ``decision_function`` beside ``class_names`` (:func:`check_pair_columns`).
    ``from_logits``, the count's, says how the check of the labels' values
    cuts a binary model's single score column (``None``: by its range).

    Example:
        >>> resolve_num_classes([0, 1], [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]], None, ["a", "b", "c"])
        (3, ['a', 'b', 'c'])
    """
    told = num_classes is not None
    check_batch_lists(labels, predictions, _count_told(num_classes, class_names))
    if num_classes is None:
        num_classes = _infer_num_classes(labels, predictions, ask=class_names is None)  # names tell C too
    inferred = num_classes is not None and not told
    if num_classes is None and class_names is not None:
        num_classes = len(class_name_values(class_names))
    if num_classes is None:
        check_pandas_order(labels, predictions, sample_weight, None, None)
        return None, None
    num_classes = validate_num_classes(num_classes)
    if class_names is not None:  # the score rows' columns, not a count told by the labels or num_classes
        scores = _shape(predictions)
        check_pair_columns(scores[1] if len(scores) == 2 else None, class_name_values(class_names))
    try:
        names = None if class_names is None else validate_class_names(class_names, num_classes)
    except ValueError as error:
        if not inferred or not str(error).startswith("`class_names` must have one name per class"):
            raise
        given = len(class_name_values(class_names))
        raise ValueError(f"{error}; {_count_origin(labels, predictions, num_classes, given)}") from None
    if from_logits is not None:
        from_logits = validate_flag(from_logits, "from_logits")
    check_label_values(labels, class_names, num_classes, predictions, from_logits)
    check_pandas_order(labels, predictions, sample_weight, names, num_classes)
    return num_classes, names


def _count_told(num_classes: int | None, class_names: Any) -> int | None:
    """The number of classes ``num_classes`` or ``class_names`` tell, or None (names refused later, naming them)."""
    if num_classes is not None or class_names is None:
        return num_classes
    try:
        return len(class_name_values(class_names))
    except TypeError:
        return None


def _count_origin(labels: Any, predictions: Any, num_classes: int, names: int) -> str:
    """Where a count read from the inputs came from, for a ``class_names`` of another length."""
    scores, true = _shape(predictions), _shape(labels)
    if len(scores) == 2 and scores[1] >= 2:
        origin = f"C={num_classes} comes from the {num_classes} columns of `predictions`"
        if names > num_classes:  # a model fit without some class: columns only for the classes it saw
            origin += (
                ": a classifier fit without some class has score columns only for the classes it saw "
                "(scikit-learn: clf.classes_, as in a cross-validation fold that misses a rare class); fit on folds "
                "that hold every class "
                f"(StratifiedKFold), or put its columns in place: full = np.zeros((len(proba), {names})); "
                "full[:, clf.classes_] = proba (classes_ that are ids 0..C-1)"
            )
        return origin
    if len(true) == 2 and true[1] >= 2:
        return f"C={num_classes} comes from the {num_classes} columns of one-hot `labels`"
    if len(scores) in (1, 2) and np.asarray(predictions).dtype.kind == "f":
        return "C=2 comes from `predictions`, one score column (a binary model's probability)"
    return "C=2 comes from boolean labels or predictions (classes False and True)"


@dataclasses.dataclass(frozen=True)
class ClassIds:
    """One evaluation's labels and predictions as checked class ids: the argmax taken once.

    What :func:`class_ids` returns and :func:`count_class_ids` counts; the
    examples behind each cell (:func:`tb_imbalance.examples.collect_examples`)
    reuse it instead of reading the scores a second time.

    Attributes:
        true: int64 ``[n]`` true class ids of the rows kept.
        predicted: int64 ``[n]`` predicted class ids of the same rows.
        weights: float64 ``[n]`` sample weights of those rows, or None.
        whole_weights: the weights were given as integers or booleans (a
            mask, frequency weights) summing below 2**53: the matrix counts
            them as int64 rows, as scikit-learn's ``confusion_matrix`` does
            (larger sums are float sums of weights).
        rows: int ``[n]`` positions of the kept rows in the inputs, or None
            when every row is kept (padding rows, :func:`padding_rows`, are
            dropped).
        num_classes: ``C``.
        size: rows in the inputs (kept or not).
    """

    true: np.ndarray
    predicted: np.ndarray
    weights: np.ndarray | None
    rows: np.ndarray | None
    num_classes: int
    size: int
    whole_weights: bool = False

    @property
    def weighted(self) -> bool:
        """Whether the matrix holds sums of (float) weights rather than counts."""
        return self.weights is not None and not self.whole_weights

    def positions(self) -> np.ndarray:
        """Positions of the kept rows in the inputs."""
        return np.arange(self.size) if self.rows is None else self.rows


def class_ids(
    labels: Any,
    predictions: Any,
    *,
    num_classes: int | None = None,
    sample_weight: Any = None,
    from_logits: bool = False,
) -> ClassIds:
    """Validate one evaluation's inputs and turn them into class ids, once.

    Args and errors as in :func:`confusion_matrix`, which is
    ``count_class_ids(class_ids(...))``.

    Example:
        >>> ids = class_ids([0, 1, -1], [[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]], sample_weight=[1, 2, 0])
        >>> ids.true.tolist(), ids.predicted.tolist(), ids.rows.tolist()
        ([0, 1], [0, 1], [0, 1])
    """
    bools = (_bool_ids(labels), _bool_ids(predictions)) if num_classes is None else None  # before they are numbers
    check_batch_lists(labels, predictions, num_classes)
    labels = _as_numeric_array(labels, "labels")
    predictions = _as_numeric_array(predictions, "predictions")
    check_not_per_position(labels, predictions)
    if num_classes is None:
        num_classes = _infer_num_classes(labels, predictions, bools)
        for array, name in ((labels, "labels"), (predictions, "predictions")):
            if num_classes is None and array.ndim > 2:  # the shape is what is wrong, said as with num_classes
                raise ValueError(
                    f"`{name}` must be class ids [N] or rows [N, C], received shape "
                    f"{list(array.shape)}" + _squeeze_hint(array, name)
                )
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
    from_logits = validate_flag(from_logits, "from_logits")
    size = labels.shape[0] if labels.ndim else 0
    weights, rows = None, None
    if sample_weight is not None and labels.ndim in (1, 2):
        weights = _checked_weights(sample_weight, labels.shape[0])
        keep = ~padding_rows(labels, weights, num_classes)
        if not keep.all() and predictions.ndim in (1, 2):
            _check_rows(len(keep), predictions.shape[0])  # before the padding labels could be blamed
            rows = np.flatnonzero(keep)
            labels, predictions, weights = labels[keep], predictions[keep], weights[keep]
    _check_not_swapped(labels, predictions)
    true_ids = class_ids_from_labels(labels, num_classes)
    pred_ids = class_ids_from_predictions(predictions, num_classes, from_logits=from_logits)
    _check_rows(true_ids.shape[0], pred_ids.shape[0])
    if sample_weight is not None and weights is None:
        weights = _checked_weights(sample_weight, true_ids.shape[0])
    # Integer weights count rows while their sum stays exact in float64 (bincount sums in float64).
    whole = (
        weights is not None and _as_numeric_array(sample_weight, "sample_weight").dtype.kind in "biu"
        and float(weights.sum()) < 2**53
    )
    return ClassIds(true_ids, pred_ids, weights, rows, num_classes, size, whole)


def _check_not_swapped(labels: np.ndarray, predictions: np.ndarray) -> None:
    """Scores ``[N, C]`` as labels beside class ids ``[N]`` as predictions: the two arguments swapped
    (torchmetrics' order, predictions first), which would count the transposed matrix."""
    if not (labels.ndim == 2 and labels.shape[1] > 1 and labels.dtype.kind == "f"):
        return
    if not (predictions.ndim == 1 and predictions.dtype.kind in "iu"):
        return
    off_one_hot = (np.abs(labels) > 1e-6) & (np.abs(labels - 1) > 1e-6) & np.isfinite(labels)  # float noise: one-hot
    scored = np.flatnonzero(off_one_hot.any(axis=1))  # NaN: said later
    if len(scored):
        row = int(scored[0])
        raise ValueError(
            f"`labels` hold scores [N, C] (row {row}: {np.array2string(labels[row, :4], precision=6)}) and "
            "`predictions` class ids [N]: the two look swapped, which would count the transposed matrix (precision "
            "and recall exchanged). Pass the true labels first, then the predictions (torchmetrics takes them the "
            "other way round); for soft labels beside class-id predictions (label smoothing, mixup, a teacher's "
            "probabilities), pass labels.argmax(axis=1)"
        )


def _check_rows(labels: int, predictions: int) -> None:
    if labels != predictions:
        raise ValueError(
            f"`labels` and `predictions` must have the same number of rows, received {labels} and {predictions}"
        )


def count_class_ids(ids: ClassIds) -> np.ndarray | SparseMatrix:
    """The ``[C, C]`` matrix of checked class ids: int64 counts (also of integer weights), or float64 sums of weights.

    Above :data:`~tb_imbalance.core.SPARSE_ABOVE_CLASSES` classes the matrix is
    a :class:`~tb_imbalance.core.SparseMatrix` (its non-empty cells: at most
    N, where the dense matrix would have C²).

    Example:
        >>> count_class_ids(class_ids([0, 1, 1], [0, 1, 0], num_classes=2)).tolist()
        [[1, 0], [1, 1]]
    """
    num_classes = ids.num_classes
    if num_classes > SPARSE_ABOVE_CLASSES:
        cells = SparseMatrix.count(ids.true, ids.predicted, ids.weights, num_classes)
        return cells.astype(np.int64, copy=False) if ids.whole_weights else cells
    flat = ids.true * num_classes + ids.predicted
    counts = np.bincount(flat, weights=ids.weights, minlength=num_classes * num_classes)
    if not ids.weighted:  # whole-number weights sum exactly in float64: class_ids keeps them below 2**53 in all
        counts = counts.astype(np.int64, copy=False)
    return counts.reshape(num_classes, num_classes)


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
        labels: true class ids ``[N]`` or one-hot ``[N, C]`` (soft rows, smoothed or mixed, beside
            scores; beside class-id predictions they are refused as the two arguments swapped).
        predictions: class ids ``[N]``, scores ``[N, C]`` or a binary sigmoid
            column ``[N]`` / ``[N, 1]``.
        num_classes: ``C``; inferred from ``[N, C]`` inputs, a sigmoid
            column or booleans (classes False (0) and True (1), as in
            scikit-learn) when omitted.
        sample_weight: optional non-negative weights ``[N]``; the matrix is
            then float64 sums of weights instead of int64 counts, except
            for integer or boolean weights (a mask, frequency weights), whose
            sums are int64 counts, as in scikit-learn.
        from_logits: a binary model's single score column holds logits
            (class 1 above 0) instead of sigmoid probabilities (above 0.5).

    Returns:
        ``[C, C]`` numpy matrix, rows = true class, columns = predicted class,
        dense at every size (the writers count with :func:`count_class_ids`,
        which keeps large matrices sparse).

    Raises:
        TypeError / ValueError: see :func:`class_ids_from_labels` and
            :func:`class_ids_from_predictions`; also empty input, mismatched
            lengths, C < 2, bad weights and scores as labels beside class-id
            predictions (the arguments swapped).

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2).tolist()
        [[1, 0], [1, 1]]
    """
    counted = count_class_ids(
        class_ids(
            labels, predictions, num_classes=num_classes, sample_weight=sample_weight, from_logits=from_logits
        )
    )
    return counted.toarray() if isinstance(counted, SparseMatrix) else counted


def _checked_weights(sample_weight: Any, rows: int) -> np.ndarray:
    """``sample_weight`` as float64 ``[rows]``: finite, non-negative, not all zero."""
    weights = _as_numeric_array(sample_weight, "sample_weight").astype(np.float64)
    if weights.ndim == 2 and weights.shape[1] == 1:
        weights = weights[:, 0]
    if weights.shape != (rows,):
        joined = weights.ndim > 1 and weights.size == rows  # a list of equal batches, or batches stacked
        raise ValueError(
            f"`sample_weight` must have shape [{rows}] (one weight per row), received {_shape(weights)}"
            + ("; batches collected in a loop? concatenate them first: np.concatenate, torch.cat or "
               "jnp.concatenate" if joined else "")
        )
    _check_finite(weights, "sample_weight")
    if weights.size and weights.min() < 0:
        raise ValueError(f"`sample_weight` must be non-negative, received {weights.min()}")
    if not weights.any():
        raise ValueError(
            "`sample_weight` is zero for every row, so nothing would be counted; "
            "give at least one row a positive weight"
        )
    _check_sum(weights, "sample_weight")
    return weights


def padding_rows(labels: Any, weights: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows that are padding: weight 0 and a label that names no class.

    A label outside ``[0, C)`` (``-1`` is the usual padding value), not a
    whole number, NaN, or a one-hot row with no positive entry or with its
    largest value in several columns names no class. Such rows count for
    nothing, and the Keras metrics drop them, so the writers drop them too
    instead of refusing the labels; with a positive weight the same label is
    an error.

    Example:
        >>> padding_rows(np.array([0, -1, 1, -1]), np.array([1.0, 0.0, 0.0, 1.0]), 2).tolist()
        [False, True, False, False]
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim == 2:
        names_none = ~(labels.max(axis=1, initial=0) > 0) if labels.size else np.zeros(len(labels), bool)
        names_none |= _largest_not_unique(labels)
    elif labels.ndim == 1:
        with np.errstate(invalid="ignore"):
            names_none = ~((labels >= 0) & (labels < num_classes))
            if np.issubdtype(labels.dtype, np.floating):
                names_none |= ~np.isfinite(labels) | (labels != np.round(labels))
    else:
        return np.zeros(len(weights), dtype=bool)
    return names_none & (weights == 0)
