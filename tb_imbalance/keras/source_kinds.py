"""What kind of ``validation_data`` (or ``examples``) source a value is, recognised by the module its
type comes from: nothing imports TensorFlow or PyTorch here; how long it is; a ``PyDataset``'s batches.

Example:
    >>> import numpy as np
    >>> is_array(np.zeros(3)), is_list_of_batches([(np.zeros(2), np.zeros(2))]), length_of(iter([]))
    (True, True, None)
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

__all__ = [
    "is_array", "is_list_of_batches", "is_tf_dataset", "is_torch_dataloader", "length_of", "py_dataset_batches",
    "py_dataset_length",
]


def is_tf_dataset(value: Any) -> bool:
    """A ``tf.data.Dataset``, recognised without importing TensorFlow."""
    return any(
        cls.__name__ in ("DatasetV2", "DatasetV1") and (cls.__module__ or "").startswith("tensorflow")
        for cls in type(value).__mro__
    )


def is_torch_dataloader(value: Any) -> bool:
    return any(
        cls.__name__ == "DataLoader" and (cls.__module__ or "").startswith("torch.utils.data")
        for cls in type(value).__mro__
    )


def is_array(value: Any) -> bool:
    """numpy arrays and framework tensors: iterable, but not a source of batches."""
    return isinstance(value, np.ndarray) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def length_of(value: Any) -> int | None:
    """``len(value)``, or ``None`` when it has none (a DataLoader over an IterableDataset raises)."""
    try:
        return len(value)
    except TypeError:
        return None


def py_dataset_length(value: Any) -> int | None:
    try:
        count = value.num_batches
    except NotImplementedError:
        return None
    return None if count is None else int(count)


def is_list_of_batches(value: list) -> bool:
    return bool(value) and all(isinstance(item, tuple) for item in value)


def py_dataset_batches(value: Any, count: int, length: int | None, kind: str) -> Iterator[Any]:
    """Batches ``0 … count - 1`` of PyDataset ``value`` (``length``: its ``num_batches``, None: endless, ``count``
    then the callback's ``validation_steps``); one that raises IndexError before ``count`` is a ValueError that
    names ``validation_data`` and the fix, not a bare IndexError after the first epoch trained."""
    for index in range(count):
        try:
            batch = value[index]
        except IndexError as error:
            steps = f"pass validation_steps={index} to ClassificationReportCallback" if index else ""
            said, fix = f"validation_steps={count}", steps or "check its __getitem__: it serves no batch"
            if length is not None:
                said = f"its __len__() (num_batches) is {length}"
                fix = "make __len__ return the number of batches __getitem__ serves" + (f", or {steps}" if steps else "")
            raise ValueError(f"`validation_data` ({kind}): batch {index} raised IndexError ({error}), but {said}: "
                             f"the report reads {count} batches; {fix}") from None
        yield batch
