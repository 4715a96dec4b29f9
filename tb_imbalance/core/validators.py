"""Checks of the values every report is made of: flags, the class count, a matrix, class names.

Example:
    >>> validate_class_names(None, 3)
    ['0', '1', '2']
    >>> validate_matrix([[3, 1], [0, 2]]).tolist()
    [[3, 1], [0, 2]]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Sequence

import numpy as np

from tb_imbalance.core.numeric_arrays import (
    _as_numeric_array, _check_finite, _check_sum, _dtype_name, _shape, check_integer_total,
)
from tb_imbalance.core.sparse_matrix import SparseMatrix, row_blocks

__all__ = [
    "validate_flag", "validate_num_classes", "validate_matrix", "check_matrix", "fractional_value",
    "default_class_names", "validate_class_names",
    "validate_text", "validate_name_forms", "class_name_values", "REPORT_KEYS",
]

#: The most classes a report is logged with: each class costs about 0.4 kB of memory a step (its name, its
#: report row), 3.4 GB and a minute a step at 10 million; beyond that a typo or raw ids (``num_classes=10**9``)
#: would exhaust the memory before any message.
MAX_CLASSES = 10_000_000

#: The report's own rows, which no class may be named (scikit-learn's classification_report keys).
REPORT_KEYS = frozenset({"accuracy", "macro avg", "weighted avg", "micro avg"})


def validate_flag(value: Any, argument: str) -> bool:
    """Return ``value`` if it is a bool, else raise a ``TypeError`` naming ``argument``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{argument}` must be True or False, received {value!r}")
    return bool(value)


def validate_num_classes(num_classes: Any) -> int:
    """Return ``num_classes`` as an int in ``[2, MAX_CLASSES]``, or raise a clear error.

    A 0-d integer value of numpy, PyTorch or JAX (``labels.max() + 1``) is read as its int, as a ``step`` is.
    """
    given = num_classes
    if not isinstance(num_classes, (int, np.integer)) and tuple(getattr(num_classes, "shape", (0,))) == ():
        try:  # a tensor that requires grad has no numpy view, but has .item()
            num_classes = num_classes.item() if hasattr(num_classes, "item") else np.asarray(num_classes).item()
        except (NotImplementedError, TypeError, ValueError):
            pass
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"`num_classes` must be an int, received {given!r}; pass the number of classes as an int")
    if num_classes < 2:
        raise ValueError(
            f"`num_classes` must be at least 2, received {num_classes}; a confusion "
            "matrix needs two classes or more"
        )
    if num_classes > MAX_CLASSES:
        raise ValueError(
            f"`num_classes` must be at most {MAX_CLASSES:,}, received {num_classes:,}: each class takes about "
            f"0.4 kB of memory at every step ({num_classes * 400 / 1e9:,.0f} GB here); if the labels are ids "
            "from a larger space (database keys, hashes), map the ids seen to 0..C-1 first: "
            "ids, codes = np.unique(np.concatenate([labels, predictions]), return_inverse=True)"
        )
    return int(num_classes)


def validate_matrix(matrix: Any, argument: str = "confusion_matrix") -> np.ndarray | SparseMatrix:
    """Check that ``matrix`` is a square, finite, non-negative ``[C, C]`` array, C ≥ 2.

    Returns it as ``int64`` counts (integer dtypes, totalling less than 2**53)
    or ``float64`` (sums of weights), so that no sum wraps around or rounds in
    a narrow dtype. A :class:`~tb_imbalance.core.SparseMatrix` was checked when
    it was built; only its class count is checked here.
    """
    checked = check_matrix(matrix, argument)
    if isinstance(checked, SparseMatrix):
        return checked
    return checked.astype(np.int64 if checked.dtype.kind in "iu" else np.float64, copy=False)


def check_matrix(matrix: Any, argument: str = "confusion_matrix") -> np.ndarray | SparseMatrix:
    """:func:`validate_matrix`'s checks, the array kept in its own dtype: for a caller that converts it once.

    Example:
        >>> check_matrix(np.array([[3.0, 1.0], [0.0, 2.0]], np.float32)).dtype
        dtype('float32')
    """
    if isinstance(matrix, SparseMatrix):
        validate_num_classes(matrix.num_classes)
        return matrix
    if _is_boolean(matrix):  # a mask (cm > 0), which numpy would read as counts of 0 and 1
        raise TypeError(
            f"`{argument}` holds booleans (a mask such as cm > 0?), not counts; pass the confusion matrix's "
            "counts, an integer array (or floats of summed weights)"
        )
    array = _as_numeric_array(matrix, argument)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"`{argument}` must be square [C, C], received shape {_shape(array)}")
    validate_num_classes(array.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum(dtype=np.float64) if array.dtype.kind == "f" and array.size else 0.0
    if not np.isfinite(total):  # a NaN or an infinity makes the total so: only then looked for, cell by cell
        _check_finite(array, argument)
    if array.size and array.min() < 0:
        raise ValueError(f"`{argument}` must hold non-negative counts, received {array.min()}")
    _check_sum(array, argument)
    check_integer_total(array, argument)
    return array


def fractional_value(values: np.ndarray) -> float | None:
    """The first value (row-major) of a float array that is not a whole number, or None (integer arrays too).

    Read in blocks of rows: no temporary of the array's size.

    Example:
        >>> fractional_value(np.array([[3.0, 1.0], [0.5, 2.0]])), fractional_value(np.array([[3.0, 1.0]]))
        (0.5, None)
    """
    if values.dtype.kind != "f":
        return None
    for _, block in row_blocks(values):
        fractional = block != np.floor(block)
        if fractional.any():
            return float(block[fractional][0])
    return None


def _is_boolean(matrix: Any) -> bool:
    """Whether ``matrix`` holds booleans: a numpy, PyTorch, JAX or TensorFlow bool dtype, or lists of bools."""
    if isinstance(matrix, (list, tuple)):
        try:
            return np.asarray(matrix).dtype == np.bool_
        except (TypeError, ValueError):  # ragged: said by the checks that follow
            return False
    return "bool" in str(getattr(matrix, "dtype", ""))


def default_class_names(num_classes: int) -> list[str]:
    """``["0", "1", …]``: the names scikit-learn's report uses for unnamed labels."""
    return [str(k) for k in range(num_classes)]


def _class_name(name: Any, index: int) -> str:
    """One class name as a string: bytes (names read from HDF5, say) as UTF-8; numbers (0-d tensors too) as written.

    A name with nothing to see (empty, or only whitespace) is refused: its
    scalar tags would be ``recall/`` and its row in the dashboard blank.

    Example:
        >>> _class_name(b"fraud", 1)
        'fraud'
        >>> _class_name(" ", 2)
        Traceback (most recent call last):
        ...
        ValueError: `class_names`[2] is only whitespace (' '), which shows as a blank row; give each class a visible name, e.g. its id for an unnamed one: [name.strip() or str(k) for k, name in enumerate(class_names)]
    """
    if isinstance(name, (bytes, np.bytes_)):
        try:
            text = bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(
                f"`class_names`[{index}] is bytes that are not UTF-8 ({name!r}); pass the names as str"
            ) from None
    elif name is None:
        raise TypeError(f"`class_names`[{index}] is None; pass one name (a str) per class")
    else:
        if not isinstance(name, (str, np.generic)) and getattr(name, "ndim", None) == 0:
            name = _zero_d_value(name)  # a 0-d tensor (list(labels.unique()) holds them): its value, not "tensor(0)"
        text = validate_text(str(name), f"`class_names`[{index}]")
    if not text or text.isspace():
        raise ValueError(
            f"`class_names`[{index}] is {f'only whitespace ({text!r})' if text else 'empty'}, which shows as a "
            "blank row; give each class a visible name, e.g. its id for an unnamed one: "
            "[name.strip() or str(k) for k, name in enumerate(class_names)]"
        )
    return text


def _zero_d_value(tensor: Any) -> Any:
    """A 0-d tensor's value (torch, JAX, TensorFlow, numpy), a float16 / float32 one as numpy writes it ("0.1")."""
    try:
        value = tensor.item() if hasattr(tensor, "item") else np.asarray(tensor).item()  # TensorFlow: no .item()
    except Exception:  # not a tensor after all: written as it is
        return tensor
    dtype = _dtype_name(tensor)
    return np.dtype(dtype).type(value) if isinstance(value, float) and dtype in ("float16", "float32") else value


def validate_text(text: Any, argument: str) -> str:
    """Return ``text`` if it is a str that UTF-8 can store, else raise naming ``argument`` (as written: "`name`").

    Event files store text as UTF-8: a lone surrogate (bytes decoded with
    ``surrogateescape``, say) cannot be written.

    Example:
        >>> validate_text("café", "`description`")
        'café'
    """
    if not isinstance(text, str):
        raise TypeError(f"{argument} must be a str, received {text!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{argument} is not valid Unicode text ({text!r} holds a lone surrogate); decode it from "
            "its bytes with the right encoding"
        ) from None
    return text


def class_name_values(class_names: Any) -> Sequence[Any]:
    """``class_names`` as an ordered sequence: a list, tuple or numpy array, or a 1-D array-like (a pandas
    ``Index`` or ``Series``, a ``Categorical``: their values, in order); what has no order or no length is
    refused naming the fix.

    Example:
        >>> class_name_values({"cat", "dog"})
        Traceback (most recent call last):
        ...
        TypeError: `class_names` is a set, which has no order; pass a list of the names in class-id order (the order of the score columns; scikit-learn: clf.classes_)
    """
    if isinstance(class_names, (str, bytes)):
        raise TypeError(
            f"`class_names` must be a sequence of names, received the string {class_names!r}; "
            f"pass a list such as {list(str(class_names).split(',')) if ',' in str(class_names) else [str(class_names)]}"
        )
    if isinstance(class_names, Mapping):
        keys = ", ".join(repr(key) for key in list(class_names)[:3])
        raise TypeError(
            f"`class_names` is a mapping (keys {keys}{', ...' if len(class_names) > 3 else ''}); pass the names "
            "in class-id order, e.g. [class_names[i] for i in range(len(class_names))] for a dict {id: name} "
            "such as a model config's id2label"
        )
    if isinstance(class_names, (set, frozenset)):
        raise TypeError(
            "`class_names` is a set, which has no order; pass a list of the names in class-id order (the "
            "order of the score columns; scikit-learn: clf.classes_)"
        )
    if not isinstance(class_names, (Sequence, np.ndarray)) and hasattr(class_names, "__array__"):
        class_names = np.asarray(class_names)  # a pandas Index or Series, a Categorical: its values, in order
    if isinstance(class_names, np.ndarray) and class_names.ndim != 1:
        raise ValueError(f"`class_names` must be one-dimensional (one name per class), received shape {class_names.shape}")
    if not isinstance(class_names, (Sequence, np.ndarray)):
        iterator = isinstance(class_names, Iterator)
        raise TypeError(
            "`class_names` must be a list or tuple of names (one per class), received "
            f"{type(class_names).__name__}" + ("; a generator or iterator: list(...) it first" if iterator else "")
        )
    return class_names


def validate_class_names(class_names: Sequence[Any] | None, num_classes: int) -> list[str]:
    """Return ``class_names`` as ``num_classes`` strings that every view tells apart (defaults when None).

    Each name is visible (:func:`_class_name`) and has no whitespace at its
    ends (:func:`_check_name_ends`); no two are equal, one text in two
    Unicode forms (:func:`validate_name_forms`) or a report's own key. The
    one check of names behind every entry: the writers, the callback and
    core's own functions.

    Example:
        >>> validate_class_names(["ok", "Ok"], 2)
        ['ok', 'Ok']
        >>> validate_class_names(["ok", ""], 2)
        Traceback (most recent call last):
        ...
        ValueError: `class_names`[1] is empty, which shows as a blank row; give each class a visible name, e.g. its id for an unnamed one: [name.strip() or str(k) for k, name in enumerate(class_names)]
    """
    if class_names is None:
        return default_class_names(num_classes)
    names = [_class_name(name, index) for index, name in enumerate(class_name_values(class_names))]
    if len(names) != num_classes:
        raise ValueError(
            f"`class_names` must have one name per class ({num_classes}), received "
            f"{len(names)} names"
        )
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise ValueError(
                f"`class_names` must be unique, received {_shown(name)} twice (`class_names`[{seen[name]}] and "
                f"[{index}]); give each class its own name, or map the labels of one class to one id"
            )
        seen[name] = index
    clash = REPORT_KEYS.intersection(names)
    if clash:
        raise ValueError(
            f"`class_names` may not use the report's own keys {sorted(REPORT_KEYS)}, "
            f"received {sorted(clash)}; rename the class, e.g. {sorted(clash)[0] + ' (class)'!r}"
        )
    validate_name_forms(names)
    _check_name_ends(names)
    return names


def _shown(name: str) -> str:
    """``repr(name)``, cut after 60 characters (a message may quote a name of any length)."""
    return repr(name) if len(name) <= 60 else repr(name[:60]) + "…"


def _check_name_ends(names: Sequence[str]) -> None:
    """Refuse a class name that starts or ends with whitespace, naming the index and the fix.

    TensorBoard's Scalars tab and the picture do not show it (the dashboard
    marks it: ``"cat␣"``), yet it is in the tags: ``recall/cat `` looks like
    ``recall/cat`` and is charted apart from it, in this run and beside every
    run that names the class ``"cat"``. Names read with ``readlines()`` end
    with ``"\\n"``. Two names equal once stripped are named together: stripping
    the names alone would make them one name given twice.

    Example:
        >>> _check_name_ends(["cat", "dog"])
        >>> _check_name_ends(["cat", "cat "])
        Traceback (most recent call last):
        ...
        ValueError: `class_names`[0] and [1] differ only by whitespace at their ends ('cat' and 'cat '), shown alike in TensorBoard's Scalars tab and the picture; if they are two classes, tell them apart in words; if one, strip the labels' text before they become class ids (label.strip()), so that its rows get one id and its name is passed once
        >>> _check_name_ends(["cat\\n", "dog"])
        Traceback (most recent call last):
        ...
        ValueError: `class_names`[0] is 'cat\\n', with whitespace at its start or end, which TensorBoard's Scalars tab and the picture do not show: its tags (recall/…) would look like those of a class 'cat', yet be charted apart from them (in other runs too); pass the names stripped: [name.strip() for name in class_names]
    """
    padded = next((index for index, name in enumerate(names) if name != name.strip()), None)
    if padded is None:
        return
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        other = first.setdefault(name.strip(), index)
        if other != index:
            raise ValueError(
                f"`class_names`[{other}] and [{index}] differ only by whitespace at their ends ({_shown(names[other])} "
                f"and {_shown(name)}), shown alike in TensorBoard's Scalars tab and the picture; if they are two "
                "classes, tell them apart in words; if one, strip the labels' text before they become class ids "
                "(label.strip()), so that its rows get one id and its name is passed once"
            )
    name = names[padded]
    shown = repr(name) if len(name) <= 60 else f"{name[:30]!r}…{name[-30:]!r}"  # both ends: where the whitespace is
    raise ValueError(
        f"`class_names`[{padded}] is {shown}, with whitespace at its start or end, which TensorBoard's Scalars tab "
        f"and the picture do not show: its tags (recall/…) would look like those of a class {_shown(name.strip())}, "
        "yet be charted apart from them (in other runs too); pass the names stripped: "
        "[name.strip() for name in class_names]"
    )


def validate_name_forms(names: Sequence[str]) -> None:
    """Refuse two class names that are one text in two Unicode forms (NFC).

    ``"caf\u00e9"`` (é as one code point) and ``"cafe\u0301"`` (e and a
    combining accent) are drawn alike everywhere a report is shown; whoever
    reads it could not tell the classes apart.

    Example:
        >>> validate_name_forms(["café", "cafe"])
    """
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        other = first.setdefault(unicodedata.normalize("NFC", name), index)
        if other != index:
            raise ValueError(
                f"`class_names`[{other}] and [{index}] are the same text in two Unicode forms "
                f"({ascii(names[other])} and {ascii(name)}), shown alike everywhere; if they are two classes, tell "
                "them apart in words; if one, normalize the names before they become class ids "
                "(unicodedata.normalize('NFC', name)), so that its rows get one id and its name is passed once"
            )
