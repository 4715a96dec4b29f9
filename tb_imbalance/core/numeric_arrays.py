"""Any array-like read as numbers once, with errors that name the argument: the first step of every input.

numpy, lists, framework tensors, pandas objects (nullable dtypes included)
become numpy arrays of numbers; NaN and infinite values, lists of batches,
mappings, masked arrays and strings are refused naming the fix.

Example:
    >>> _as_numeric_array([[1, 0], [0, 1]], "labels").dtype
    dtype('int64')
    >>> check_scores(np.array([[0.5, -np.inf]]), from_logits=True)  # a class ruled out
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tb_imbalance.core.class_order import LABEL_IDS_RECIPE

__all__ = ["widen_low_precision_floats", "check_integer_total", "check_scores", "reworded", "rows_are_probabilities"]

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


def _dtype_name(value: Any) -> str:
    """The name of ``value``'s element type as numpy spells it (``"float16"``), whichever framework's it is
    (torch's ``torch.float16``, TensorFlow's and JAX's ``.name``); ``"None"`` without one."""
    dtype = getattr(value, "dtype", None)
    return str(getattr(dtype, "name", dtype)).removeprefix("torch.")


def rows_are_probabilities(scores: np.ndarray) -> bool:
    """Whether score rows ``[N, C]`` read as probabilities: in ``[0, 1]``, each row summing to 1.

    To 1 within 1e-3, or within 2**-7 for 16-bit scores: bfloat16 (8
    significant bits: a softmax rounded to bfloat16 sums to 1 ± 0.004) and
    float16 (11 bits, but a softmax computed in float16, as
    ``mixed_float16`` does, sums to 1 ± 0.002), also when they come widened
    to float32 (:func:`widen_low_precision_floats`; the low 13 bits of each
    value are then 0). No rows: True.

    Example:
        >>> rows_are_probabilities(np.array([[0.25, 0.75], [1.0, 0.0]]))
        True
        >>> rows_are_probabilities(np.array([[0.2, 0.7]], dtype=np.float32))
        False
    """
    scores = widen_low_precision_floats(scores)
    if not scores.size:
        return True
    if scores.min() < 0.0 or scores.max() > 1.0:
        return False
    error = float(np.abs(scores.sum(axis=1, dtype=np.float64) - 1.0).max())
    if error <= 1e-3:
        return True
    if error > 2.0**-7:  # before the look at every value's low bits below, which copies the scores
        return False
    return scores.dtype == np.float16 or (
        scores.dtype == np.float32 and not np.any(np.ascontiguousarray(scores).view(np.uint32) & 0x1FFF))


def _refuse_lists_of_arrays(value: Any, argument: str) -> None:
    """A list of arrays is a multi-output model's heads, or batches collected in a loop."""
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        return
    first = value[0]
    with_extras = hasattr(first, "shape") and len(first.shape) >= 2 and ValueError(
        f"`{argument}` is a {type(value).__name__} of {len(value)} items, the first a {list(first.shape)} array "
        "beside other values, as a model returning (logits, aux) or (logits, state) gives; pass the array to "
        f"log, e.g. {argument}[0] (with from_logits=True for logits)"
    )
    if not all(hasattr(item, "shape") and len(item.shape) >= 1 for item in value):
        if with_extras:
            raise with_extras
        return  # nested Python lists are rows: np.asarray decides
    rows = [int(item.shape[0]) for item in value]
    concatenate = "concatenate them first: np.concatenate, torch.cat or jnp.concatenate"
    of_tf = all(type(item).__module__.startswith("tensorflow.") for item in value)  # local results: a tensor per replica
    if of_tf:
        concatenate = ("concatenate them first: tf.concat(parts, axis=0); a tf.distribute value's parts "
                       "(strategy.experimental_local_results) are joined by strategy.gather(value, axis=0)")
    sizes = list(dict.fromkeys(tuple(item.shape) for item in value))
    if argument in ("cm", "confusion_matrix") and all(len(size) == 2 for size in sizes) and len(sizes) > 1:
        raise ValueError(  # matrices are not batches: concatenated, they would be no matrix
            f"`{argument}` is a list of {len(value)} matrices of different sizes "
            f"({', '.join(f'{r} x {c}' for r, c in sizes[:5])}): one per model head? pass the one to log, "
            f"e.g. {argument}[0]"
        )
    if len(set(rows)) > 1:
        shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
        raise ValueError(
            f"`{argument}` is a list of {len(value)} arrays of {shown} rows, as batches collected "
            f"in a loop are; {concatenate}"
        )
    if with_extras and not all(len(item.shape) >= 2 for item in value):
        raise with_extras
    if argument in ("cm", "confusion_matrix") and all(len(item.shape) == 2 for item in value):
        tf_sum = "; a tf.distribute value's per-replica counts: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)"
        raise ValueError(
            f"`{argument}` is a list of {len(value)} matrices: counts of batches or replicas add up, so pass their "
            f"sum, np.sum({argument}, axis=0){tf_sum if of_tf else ''}; or one per "
            f"model head: pass the one to log, e.g. {argument}[0]"
        )
    if all(len(item.shape) >= 2 for item in value):
        raise ValueError(
            f"`{argument}` is a list of {len(value)} arrays: the outputs of a model with several "
            f"heads (pass the one head to log, e.g. predictions[0]) or batches collected in a "
            f"loop ({concatenate})"
        )


#: What the numeric arguments that are not labels or predictions hold, for their type errors.
_NOT_CLASSES = {"sample_weight": "numbers (one weight per row)", "cm": "counts", "confusion_matrix": "counts"}


#: The keys under which a batch dict holds its class ids (Hugging Face's datasets: ``labels`` or ``label``).
_LABEL_KEYS = ("labels", "label", "y", "target", "targets")


def _labels_mapping(labels: Mapping, keys: str) -> str:
    """Why a mapping is not ``labels``, and what to pass: the class ids of a batch dict, or the values of a
    ``{row: class id}`` dict; a mapping of classes (``class_weight``, a label map) is not labels at all."""
    key = next((key for key in _LABEL_KEYS if key in labels), None)
    if key is not None or all(isinstance(name, str) for name in labels):
        entry = f"labels[{key!r}]" if key is not None else "labels[key]"
        return f"`labels` is a mapping with keys {keys}, as a batch dict is; pass the class ids in it, {entry}"
    return (
        f"`labels` is a mapping with keys {keys}, not one class id per row; pass a 1-D array of class ids: a dict "
        "{row: class id} as np.asarray(list(labels.values())) if its order is the rows' order (a mapping of "
        "classes, such as class_weight or a label map, is not labels)"
    )


#: The whole number of a narrow float type from which on some are rounded (float16 rounds 2049 to 2048).
WHOLE_NUMBERS_UP_TO = {"float16": 2**11, "bfloat16": 2**8, "float8_e4m3fn": 2**4, "float8_e4m3fnuz": 2**4,
                       "float8_e5m2": 2**3, "float8_e5m2fnuz": 2**3}


def refuse_rounded_class_ids(ids: Any, dtype: str) -> None:
    """Refuse class-id ``labels`` read from the narrow float type ``dtype`` holding an id from which that type
    rounds whole numbers (bfloat16: 257 to 256): such an id may be another class's, rounded (one-hot rows, at
    most 1, are exact); the rows of any other type pass."""
    limit = WHOLE_NUMBERS_UP_TO.get(dtype)
    if limit is None:
        return
    ids = np.asarray(ids, dtype=np.float64).reshape(-1)
    over = np.flatnonzero(np.isfinite(ids) & (ids >= limit))
    if over.size:
        raise ValueError(
            f"`labels` is {dtype}, whose whole numbers from {limit} on may be rounded ones ({limit + 1} rounds to "
            f"{limit}), and its row {over[0]} is {ids[over[0]]}: class ids may have been rounded into another "
            f"class's. Pass the labels as integers (the class ids as they were before a cast to {dtype})"
        )


def _as_numeric_array(value: Any, argument: str) -> np.ndarray:
    if isinstance(value, Mapping):  # a model's output dict (Hugging Face's ModelOutput is one)
        if not value:  # no keys to name, and none to pass
            raise TypeError(f"`{argument}` is an empty mapping (a dict with no keys); pass an array, one entry per row")
        keys = ", ".join(repr(key) for key in list(value)[:5])
        if argument == "sample_weight":  # a class_weight dict {class: weight}: weights of classes, not of rows
            raise TypeError(
                f"`sample_weight` is a mapping with keys {keys}, as a class_weight dict is; pass one weight per "
                "row: sklearn.utils.class_weight.compute_sample_weight(class_weight, labels), or "
                "np.array([class_weight[c] for c in labels])"
            )
        if argument == "labels":
            raise TypeError(_labels_mapping(value, keys))
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
    if argument == "labels":  # before float32 hides the type that rounded them
        refuse_rounded_class_ids(array, array.dtype.name)
    array = widen_low_precision_floats(array)
    if array.dtype == np.bool_:
        array = array.astype(np.int64)
    if array.dtype == object and array.size == 0 and array.ndim:  # an empty pandas column: said as empty, later
        array = array.astype(np.float64)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        if array.dtype.names:  # a structured array or a record array: its fields hold the numbers
            fields = ", ".join(repr(field) for field in array.dtype.names[:5])
            raise TypeError(
                f"`{argument}` is a numpy structured array with fields {fields}; pass the field that holds "
                f"the values, e.g. {argument}[{array.dtype.names[0]!r}]"
            )
        if argument in _NOT_CLASSES:
            raise TypeError(f"`{argument}` must hold {_NOT_CLASSES[argument]}, received dtype {array.dtype}")
        hint = ""
        if array.dtype == object and array.ndim == 0:  # np.asarray of a generator, an iterator, another object
            raise TypeError(
                f"`{argument}` must be an array of values, received a {type(value).__name__!r} object; "
                + (_model_hint(value, argument) or "pass an array or a list (a generator or iterator: list(...) it "
                   "first; a tf.RaggedTensor: .to_tensor() or .flat_values)")
            )
        if array.dtype == object and not any(isinstance(item, str) for item in array.reshape(-1)[:100].tolist()):
            hint = (
                f" (items of type {type(array.reshape(-1)[0]).__name__!r}: ragged rows, or objects that are not "
                "numbers); pass one class id or one row of C scores per example"
            )
        elif array.dtype.kind in "USO":
            hint = (
                "; map class labels to ids 0..C-1 in the order of the score columns and pass "
                f"their names as class_names: {LABEL_IDS_RECIPE}, "
                "class_names=[str(c) for c in clf.classes_]" + _categories_hint(value, argument)
            )
        raise TypeError(
            f"`{argument}` must hold integer class ids or float scores, "
            f"received dtype {array.dtype}{hint}"
        )
    return array


def _model_hint(value: Any, argument: str) -> str:
    """For a model, or one of its methods not called, passed where its outputs go (or where the true classes go)."""
    name = getattr(value, "__name__", None)
    method = callable(value) and hasattr(value, "__self__") and isinstance(name, str)  # a bound method: clf.predict_proba
    model = hasattr(value, "predict") and hasattr(value, "fit")  # a scikit-learn estimator (or a search over them)
    if argument == "labels" and (method or model):  # the true classes, never a model's outputs
        return ((f"the method {name}" if method else "a model") + ", not the true classes: pass labels=y_val "
                "(the true class ids) and the model's outputs as predictions=model.predict_proba(x_val)")
    if method:
        return f"the method {name} itself, not called: pass its result, e.g. {argument}=clf.{name}(x_val)"
    if model:
        return (f"a model, not its outputs: pass {argument}=model.predict_proba(x_val) (scores) or "
                "model.predict(x_val)")
    return ""


def _categories_hint(value: Any, argument: str) -> str:
    """For a pandas ``Categorical`` (or a Series of one): its codes follow its categories, not ``classes_``."""
    categories = getattr(getattr(value, "cat", value), "categories", None)
    if categories is None or not hasattr(categories, "tolist"):
        return ""
    shown = categories.tolist()
    shown = f"{shown[:6]}"[:-1] + (", ...]" if len(shown) > 6 else "]")
    return (
        f" (not {argument}.cat.codes: they number the categories {shown} in their own order, the score "
        "columns' order only where those are clf.classes_)"
    )


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


def _first_place(bad: np.ndarray) -> str:
    """Where the first True of ``bad`` is: ``row r, column c`` of ``[N, C]``, ``row r`` of ``[N]``, else its flat index."""
    where = int(np.flatnonzero(bad.reshape(-1))[0])
    if bad.ndim == 2:
        return f"row {where // bad.shape[1]}, column {where % bad.shape[1]}"
    return f"row {where}" if bad.ndim == 1 else f"flat index {where}"


_NON_FINITE_FIX = {
    "labels": "a missing label (pandas' NA, a NaN) names no class: drop those rows, or give them sample weight 0",
    "sample_weight": "fix the weights or drop those rows before logging",
    "weights": "fix the weights or drop those rows before logging",
    "cm": "a count matrix holds none: count it again from finite weights (a NaN weight summed into a cell makes it NaN)",
}
_NON_FINITE_FIX["confusion_matrix"] = _NON_FINITE_FIX["cm"]


def _check_finite(array: np.ndarray, argument: str) -> None:
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        fix = _NON_FINITE_FIX.get(argument, "fix the model output or drop those rows before logging")
        raise ValueError(f"`{argument}` contains NaN or infinite values (first at {_first_place(~np.isfinite(array))}); {fix}")


def _check_sum(values: np.ndarray, argument: str) -> None:
    """Float counts or weights whose sum is past float64's range would make every score NaN."""
    if values.dtype.kind == "f" and values.size:
        with np.errstate(over="ignore"):
            total = values.sum(dtype=np.float64)  # a float16 / float32 sum overflows long before float64's
        if not np.isfinite(total):
            raise ValueError(
                f"`{argument}` sums past the float64 range (largest value {values.max():.6g}), so the "
                "matrix's sums would be infinite; scale it down (only the ratios of weights matter)"
            )


def check_integer_total(values: np.ndarray, argument: str) -> None:
    """Integer counts whose total is past 2**53: int64 sums wrap past 2**63, float64 ratios stop being exact."""
    if values.dtype.kind in "iu" and values.size:
        total = float(values.sum(dtype=np.float64))
        if total >= 2**53:
            raise ValueError(
                f"`{argument}` counts {total:.6g} rows in all, past 2**53: the report's sums and ratios would "
                "stop being exact (or wrap around in int64); pass the counts of one evaluation"
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
        allowed = "-inf or +inf" if scores.ndim == 1 else "-inf (a class ruled out)"
        raise ValueError(
            f"`predictions` contains NaN{'' if scores.ndim == 1 else ' or +inf'} (first at {_first_place(bad)}); "
            f"logits may be {allowed}, not that: fix the model output or drop those rows before logging"
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
