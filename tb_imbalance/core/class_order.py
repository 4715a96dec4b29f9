"""Inputs that name the classes or the rows in another order than their ids: refused before anything is counted.

Class ids are positions ``0..C-1``, in the order of the score columns and of
``class_names``. A scikit-learn classifier's ``classes_`` holds the classes'
own values (``[1, 2, 3]``, ``[-1, 1]``): labels that are those values, passed
beside ``class_names=clf.classes_``, would each be read as the class at that
position, and a validation set that lacks the largest value raises no error
(labels all below C: class ids too, perhaps, so a warning says it).
A one-vs-one ``decision_function`` has a column per pair of classes, not
per class. pandas objects are read by position too: a DataFrame of scores whose columns
name the classes in another order, or a Series and a DataFrame holding the
same index in two orders, would pair scores with other classes or other rows.

Example:
    >>> check_label_values([0, 1, 1], [10, 20], 2)  # ids beside names that are numbers: positions
    >>> check_label_values([1, 2, 3], [1, 2, 3], 3)
    Traceback (most recent call last):
    ...
    ValueError: `labels` hold values of `class_names` ([1, 2, 3]), not positions 0..2: label 1 would be read as class_names[1] (2). Map them to class ids and pass the names as text: ids = LabelEncoder().fit(clf.classes_).transform(labels) (scikit-learn; it refuses labels the model does not know), then log ids with class_names=[str(c) for c in clf.classes_] (ids all among names that are numbers read as this again); if the labels are already class ids, pass the names as text alone
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from tb_imbalance.core.argmax import _argmax_rows, _binary_column_ids
from tb_imbalance.core.caller import user_stacklevel

__all__ = ["check_label_values", "check_pandas_order", "check_pair_columns", "check_rows_paired"]

#: How labels that are the classes' values become class ids, and refuse labels the model does not know.
LABEL_IDS_RECIPE = (
    "ids = LabelEncoder().fit(clf.classes_).transform(labels) (scikit-learn; it refuses labels the model does "
    "not know)"
)


def _integer_values(values: Any) -> np.ndarray | None:
    """``values`` as a 1-D integer array, or None when they are not all integers (text, floats, booleans)."""
    try:
        array = np.asarray(values)
        if array.dtype == object:  # pandas' nullable Int64, a classifier fitted on a list of Python ints
            array = np.array(array.tolist())
    except Exception:  # ragged, or objects numpy cannot read: the usual checks say so
        return None
    if array.ndim != 1 or array.dtype.kind not in "iu":
        return None
    return array


def _text_integers(values: Any) -> np.ndarray | None:
    """Names that are all integers written out (``str(c) for c in clf.classes_``: ``"2"``, ``"-1"``, not ``"02"``)
    as a 1-D integer array, or None."""
    try:
        texts = np.asarray(values, dtype=object)
    except Exception:  # ragged: the usual checks say so
        return None
    if texts.ndim != 1 or not texts.size or not all(isinstance(text, str) for text in texts.tolist()):
        return None
    numbers = []
    for text in texts.tolist():
        digits = text[1:] if text.startswith("-") else text
        if not (digits.isascii() and digits.isdigit()) or str(int(text)) != text:
            return None
        numbers.append(int(text))
    return np.array(numbers, dtype=np.int64)


def _predicted_positions(
    predictions: Any, rows: int, num_classes: int, from_logits: bool | None = None
) -> np.ndarray | None:
    """The class positions ``predictions`` name (argmax of scores, ids, a binary column's cut), or None.

    The argmax and the cut are the ones the matrix is counted with (:mod:`tb_imbalance.core.argmax`): a column
    is cut as the caller's ``from_logits`` says (logits in [0, 1] at 0, as the matrix cuts them); where it is
    not known, as a probability when it lies in [0, 1], else as a logit. A column outside [0, 1] with
    ``from_logits=False`` names no class here (the count refuses it).
    """
    try:
        array = np.asarray(predictions)
    except Exception:  # the usual checks say what is wrong
        return None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2 and array.shape == (rows, num_classes) and array.dtype.kind in "fiu":
        return _argmax_rows(array)[0].astype(np.int64)
    if array.ndim != 1 or len(array) != rows or array.dtype.kind not in "fiub":
        return None
    if array.dtype.kind == "f":  # one score column, of two classes: a probability's cut, else a logit's
        if num_classes != 2:
            return None
        probability = bool(array.size and 0 <= array.min() and array.max() <= 1)
        if from_logits is False and not probability:
            return None
        return _binary_column_ids(array, from_logits=not probability if from_logits is None else from_logits)
    return array.astype(np.int64)


def _values_fit_predictions(
    values: np.ndarray, names: np.ndarray, predictions: Any, num_classes: int, from_logits: bool | None
) -> bool:
    """Whether ``predictions`` agree with more rows when each label is read as its name's position than as an id."""
    predicted = _predicted_positions(predictions, len(values), num_classes, from_logits)
    if predicted is None:
        return False
    order = np.argsort(names, kind="stable")
    positions = order[np.searchsorted(names[order], values)]  # every value is a name here
    return int(np.count_nonzero(positions == predicted)) > int(np.count_nonzero(values == predicted))


def check_label_values(
    labels: Any, class_names: Any, num_classes: int | None, predictions: Any = None, from_logits: bool | None = None
) -> None:
    """Refuse integer labels that are the values of integer ``class_names`` rather than their positions.

    Said when ``class_names`` are integers other than ``0..C-1`` (a
    classifier's ``classes_``) and every label is one of them, at a position
    other than its value: reading the labels as ids would count each example
    in another class's row. Labels all in ``0..C-1`` may be class ids as
    well (ids 1, 2 beside star ratings ``[1, 2, 3]``): a warning, not an
    error, so that a loop whose evaluation lacks class 0 keeps training.
    Labels already mapped to ids beside such names pass (one of them is not a
    name, or each name sits at its own value). Names given as text that are
    integers written out (``[str(c) for c in clf.classes_]``) are display
    names beside class ids, unless the labels cannot be ids (refused as
    above) or, all in ``0..C-1``, ``predictions`` agree with more rows when
    each label is read as its name's position than as an id (warned as
    above): other names are never compared with the labels. A binary
    model's single score column is cut as the matrix cuts it, by
    ``from_logits`` (``None``: a probability when it lies in [0, 1]).
    """
    if class_names is None or num_classes is None or isinstance(class_names, (str, bytes)):
        return
    names = _integer_values(class_names)
    text = names is None
    if text:
        names = _text_integers(class_names)
    if names is None or len(names) != num_classes or np.array_equal(names, np.arange(num_classes)):
        return
    values = _integer_values(labels)
    if values is None or not values.size:
        return
    present = np.unique(values)
    known = np.isin(present, names)
    if not known.all():
        return
    positions = {int(name): position for position, name in enumerate(names.tolist())}
    moved = [int(value) for value in present.tolist() if positions[int(value)] != int(value)]
    if not moved:
        return
    first = moved[0]
    listed = [str(name) for name in names.tolist()] if text else names.tolist()  # as given: text, or numbers
    read_as = f"class_names[{first}] ({listed[first]!r})" if 0 <= first < num_classes else "no class (out of range)"
    shown = listed if num_classes <= 10 else f"{listed[:9]} ... ({num_classes} names)"
    fix = (
        f"Map them to class ids and pass the names as text: {LABEL_IDS_RECIPE}, then log ids with "
        "class_names=[str(c) for c in clf.classes_] (ids all among names that are numbers read as this again); "
        "if the labels are already class ids, pass the names as text alone"
    )
    ends = ", and this warning goes"
    if text:
        fix = f"Map them to class ids: {LABEL_IDS_RECIPE}, and log the ids with these names"
        ends = (
            " (the predictions agree with more rows when each label is read as its name's position than as an "
            "id); if the labels are class ids already, the matrix is right"
        )
    if present[0] >= 0 and present[-1] < num_classes:  # class ids as well, maybe: counted as ids, and said
        if text and not _values_fit_predictions(values, names, predictions, num_classes, from_logits):
            return  # names as text beside ids, as they are meant
        warnings.warn(
            f"`labels` may be values of `class_names` ({shown}) rather than class ids: each is one of them, and "
            f"label {first} is counted as {read_as}. {fix}{ends}",
            UserWarning, stacklevel=user_stacklevel(),
        )
        return
    raise ValueError(
        f"`labels` hold values of `class_names` ({shown}), not positions 0..{num_classes - 1}: label {first} "
        f"would be read as {read_as}. {fix}"
    )


def _index(value: Any) -> Any:
    """A pandas Series' or DataFrame's index (duck-typed: the core never imports pandas), else None."""
    return value.index if hasattr(value, "iloc") and hasattr(value, "index") else None


def _default_index(index: Any) -> bool:
    """Whether ``index`` is pandas' default ``0..N-1`` (a frame made from a numpy array): it names no rows."""
    return type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1


def _rows(value: Any) -> int | None:
    """The rows of an array, tensor or pandas object (its first dimension), else None."""
    shape = getattr(value, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) > 0 and shape[0] is not None else None


def check_rows_paired(
    labels: Any, other: Any, argument: str, labels_name: str = "labels", *, same_count: bool = False
) -> None:
    """Refuse pandas ``labels`` and ``other`` holding the same index in two orders (paired by position, wrongly).

    A Series ``y`` with index ``[7, 3]`` beside a frame ``x`` with index
    ``[3, 7]`` is refused, naming ``x = x.loc[y.index]``; arrays have no
    index to compare. With ``same_count``, arrays (or tensors) of another
    number of rows than ``labels`` are refused too, before anything is
    predicted.

    ``other`` may be the inputs of a model of several inputs, a dict or a
    list of them: each pandas part is checked, named ``x['meta']``.

    Example:
        >>> check_rows_paired([0, 1], [[0.5], [1.5]], "x", "y")  # not pandas: nothing to say
        >>> check_rows_paired(np.zeros(3), {"image": np.zeros((2, 4))}, "x", "y", same_count=True)
        Traceback (most recent call last):
        ...
        ValueError: `x['image']` has 2 rows and `y` 3: rows are paired by position, one label per row; pass as many rows of each
    """
    parts = isinstance(other, (list, tuple)) and other and (  # a list of inputs; never a walk over a list of rows
        _index(other[0]) is not None or (same_count and _rows(other[0]) is not None))
    if isinstance(other, Mapping) or parts:
        for key, part in other.items() if isinstance(other, Mapping) else enumerate(other):
            check_rows_paired(labels, part, f"{argument}[{key!r}]", labels_name, same_count=same_count)
        return
    mine, theirs = (_rows(labels), _rows(other)) if same_count else (None, None)  # a list of rows may be batches
    if mine is not None and theirs is not None and mine != theirs:
        raise ValueError(
            f"`{argument}` has {theirs} rows and `{labels_name}` {mine}: rows are paired by position, one label per "
            "row; pass as many rows of each"
        )
    mine, theirs = _index(labels), _index(other)
    if mine is None or theirs is None or len(mine) != len(theirs) or _default_index(mine) or _default_index(theirs):
        return  # a default index (made from numpy, in the other's row order): rows paired by position, as meant
    if mine.equals(theirs) or not (mine.is_unique and theirs.is_unique):
        return
    where = theirs.get_indexer(mine)  # hashed, never a Python list of N rows
    if (where < 0).any():
        return  # other rows, not one another's reordering: paired by position, as numpy inputs are
    row = int(np.flatnonzero(where != np.arange(len(where)))[0])
    (one,), (two,) = mine[row:row + 1].tolist(), theirs[row:row + 1].tolist()  # Python values, shown plainly
    raise ValueError(
        f"`{labels_name}` and `{argument}` are pandas objects holding the same index in two orders (row {row}: "
        f"{one!r} and {two!r}); rows are paired by position, not by index, so {labels_name} would meet "
        f"other rows' values: align them first, {argument} = {argument}.loc[{labels_name}.index]"
    )


def _check_columns(predictions: Any, names: list[str] | None, num_classes: int | None) -> None:
    columns = getattr(predictions, "columns", None)
    if columns is None or getattr(predictions, "ndim", 0) != 2 or len(columns) != num_classes:
        return
    texts = [str(column) for column in columns.tolist()]
    if names is not None:
        if texts != names and sorted(texts) == sorted(names):
            raise ValueError(
                f"`predictions` is a DataFrame whose columns name the classes in another order ({texts}) than "
                f"`class_names` ({names}); columns are read by position, as class ids: reorder them to "
                "class_names' order first, e.g. predictions[list(class_names)]"
            )
        return
    ints = _integer_values(columns.tolist())
    if ints is not None and sorted(ints.tolist()) == list(range(len(ints))) and ints.tolist() != sorted(ints.tolist()):
        raise ValueError(
            f"`predictions` is a DataFrame whose columns are the class ids in another order ({ints.tolist()}); "
            "columns are read by position, as class ids: pass predictions[sorted(predictions.columns)]"
        )


def check_pandas_order(
    labels: Any, predictions: Any, sample_weight: Any, names: list[str] | None, num_classes: int | None
) -> None:
    """Refuse pandas inputs whose rows or score columns would be paired in another order than they name.

    A Series of labels beside a DataFrame (or Series) of predictions or
    weights holding the same index in another order (a frame sorted after
    ``train_test_split``); a DataFrame whose columns are ``class_names`` (or,
    without names, the ids ``0..C-1``) in another order. Indexes that are
    not one another's reordering (a DataFrame made from a numpy array) are
    paired by position, as numpy inputs are, and so is pandas' default index
    ``0..N-1``, which a DataFrame made from a numpy array has (beside labels of
    a shuffled frame it names no order of theirs).

    Example:
        >>> check_pandas_order([0, 1], [[0.9, 0.1], [0.2, 0.8]], None, ["a", "b"], 2)  # not pandas: nothing to say
    """
    check_rows_paired(labels, predictions, "predictions")
    if sample_weight is not None:
        check_rows_paired(labels, sample_weight, "sample_weight")
    _check_columns(predictions, names, num_classes)


def check_pair_columns(columns: int | None, class_names: Any) -> None:
    """Refuse score rows with a column per pair of the named classes: a one-vs-one ``decision_function``.

    Said only where ``class_names`` tells the class count ``K`` and the rows
    have ``K (K - 1) / 2`` columns, not ``K`` (for 3 classes both are 3:
    such scores cannot be told from one score per class).

    Example:
        >>> check_pair_columns(6, ["a", "b", "c", "d"])
        Traceback (most recent call last):
        ...
        ValueError: `predictions` has 6 columns, one per pair of the 4 classes of `class_names`, as a one-vs-one decision_function gives (SVC(decision_function_shape='ovo'), OneVsOneClassifier); pass one score per class: predict_proba, or decision_function_shape='ovr'
    """
    if columns is None or class_names is None or isinstance(class_names, (str, bytes)):
        return
    count = len(class_names)
    if count >= 4 and columns == count * (count - 1) // 2:
        raise ValueError(
            f"`predictions` has {columns} columns, one per pair of the {count} classes of `class_names`, as a "
            "one-vs-one decision_function gives (SVC(decision_function_shape='ovo'), OneVsOneClassifier); pass one "
            "score per class: predict_proba, or decision_function_shape='ovr'"
        )
