"""The rows behind ``examples=`` and ``example_ids=``: read one per example.

:func:`rows_of` turns what a user passes (an array, a list, a framework
tensor) into something indexable by row, and :func:`example_id` turns one id
into what the JSON index can hold.

Example:
    >>> import numpy as np
    >>> rows_of(np.zeros((3, 2)), "examples").shape, rows_of(("a", "b"), "examples")
    ((3, 2), ['a', 'b'])
    >>> example_id(np.int64(7)), example_id(b"scan-1"), example_id(2**60)
    (7, 'scan-1', '1152921504606846976')
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Mapping

import numpy as np

from tb_imbalance import core
from tb_imbalance.example_render import VALUES_SHOWN, readable_text
from tb_imbalance.tensors import to_numpy

__all__ = ["check_row_count", "column_names", "example_id", "refuse_reordered", "rows_of"]


def example_id(value: Any) -> int | float | str:
    """One row's id as the index holds it: ints below 2**53, finite floats, else text."""
    value = value.item() if hasattr(value, "item") and np.ndim(value) == 0 else value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, int):  # past 2**53 as text: the page reads JSON numbers as doubles
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, str):
        return readable_text(value)
    if isinstance(value, float) and np.isfinite(value):
        return value
    return readable_text(str(value))


def rows_of(inputs: Any, argument: str) -> Any:
    """Inputs indexable by row: framework tensors become numpy, lists stay lists."""
    if isinstance(inputs, Mapping) and inputs and argument == "examples":
        names = [str(key) for key in list(inputs)[:4]]
        raise TypeError(
            f"`examples` is a dict of model inputs ({', '.join(map(repr, names))}"
            f"{', ...' if len(inputs) > 4 else ''}), and one row per example is shown: pass the inputs of "
            f"one of them, e.g. examples=inputs[{names[0]!r}]"
        )
    if isinstance(inputs, (str, bytes, Mapping)):
        raise TypeError(
            f"`{argument}` must hold one row per example (an array, or a list of pictures, texts or ids), "
            f"received a single {type(inputs).__name__}"
        )
    if isinstance(inputs, (list, tuple)):
        return list(inputs)
    if isinstance(inputs, Iterator):  # a generator, map(), iter(): np.asarray reads it as one object
        raise TypeError(
            f"`{argument}` is a {type(inputs).__name__}, which can be read only once and has no length: "
            f"pass its rows as a list or an array (e.g. list({argument}) or np.stack(list({argument})))"
        )
    array = to_numpy(inputs, argument)
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.ndim == 0:
        raise TypeError(f"`{argument}` must hold one row per example, received a scalar")
    return array


def refuse_reordered(labels: Any, inputs: Any, example_ids: Any) -> None:
    """Refuse pandas ``inputs`` or ``example_ids`` holding ``labels``' index in another order.

    Rows are paired by position: a DataFrame sorted after the split would show
    each label beside another row.

    Example:
        >>> refuse_reordered([0, 1], np.zeros((2, 3)), None)  # not pandas: nothing to say
    """
    for argument, other in (("examples", inputs), ("example_ids", example_ids)):
        if other is not None:
            core.check_rows_paired(labels, other, argument)


def check_row_count(rows: Any, count: int, predictions: int) -> None:
    """Refuse ``examples`` rows that are not one per label, saying what was passed and the fix.

    Example:
        >>> check_row_count([np.zeros((5, 3)), np.zeros((5, 2))], 5, 5)
        Traceback (most recent call last):
        ...
        ValueError: `examples` is a list of 2 model inputs of 5 rows each, and one row per example is shown: pass the inputs of one of them, e.g. examples=inputs[0]
    """
    if len(rows) == count:
        return
    if isinstance(rows, list) and len(rows) > 1 and all(
        np.ndim(part) >= 1 and len(part) == count for part in rows if not isinstance(part, (str, bytes))
    ) and not any(isinstance(part, (str, bytes)) for part in rows):
        raise ValueError(
            f"`examples` is a list of {len(rows)} model inputs of {count} rows each, and one row per example "
            "is shown: pass the inputs of one of them, e.g. examples=inputs[0]"
        )
    sizes = [len(part) for part in rows if np.ndim(part) >= 1] if isinstance(rows, list) and len(rows) > 1 else []
    if len(sizes) == len(rows) and sum(sizes) == count:
        shown = ", ".join(map(str, sizes[:5])) + (", ..." if len(sizes) > 5 else "")
        raise ValueError(
            f"`examples` is a list of {len(rows)} arrays of {shown} rows, {count} in all: batches collected in a "
            "loop, one row per label once joined; concatenate them first: np.concatenate, torch.cat or jnp.concatenate"
        )
    raise ValueError(
        f"`examples` must have one row per label: received {len(rows)} rows for {count} "
        f"labels and {predictions} predictions; pass the inputs of exactly the logged rows, in their "
        "order (the same batches as the labels, or slice the inputs as they were sliced)"
    )


#: Characters kept of a column's name.
_NAME_MAX_CHARS = 64


def column_names(inputs: Any) -> list[str] | None:
    """The names of the first columns of a table's rows (a pandas or Polars DataFrame), else None.

    Example:
        >>> class Table:  # what a DataFrame has: two dimensions and its columns' names (Polars' has no ndim)
        ...     shape, columns = (5, 3), ["age", 7, "city"]
        >>> column_names(Table()), column_names(np.zeros((5, 3)))
        (['age', '7', 'city'], None)
    """
    columns, shape = getattr(inputs, "columns", None), getattr(inputs, "shape", None)
    if columns is None or callable(columns) or not isinstance(shape, tuple) or len(shape) != 2:
        return None
    try:
        names = list(columns)
    except TypeError:
        return None
    if len(names) != shape[1]:
        return None
    return [readable_text(str(name)[:_NAME_MAX_CHARS]) for name in names[:VALUES_SHOWN]]
