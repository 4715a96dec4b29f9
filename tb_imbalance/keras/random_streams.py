"""The callback's own forward passes leave the training's random streams as they were.

A logging callback must not change the run it logs. Predicting the callback's
``validation_data`` or its examples draws random numbers on some backends:
each pass over a ``torch.utils.data.DataLoader`` (Keras' own adapter of
arrays on PyTorch included) draws its workers' seed from PyTorch's global
generator, and a user's data source may draw from NumPy's. Without this, a
model with ``Dropout`` would train differently with the callback than without.

Example:
    >>> import numpy as np
    >>> @leaves_random_streams_alone
    ... def draw():
    ...     return np.random.random()
    >>> np.random.seed(0); expected = np.random.random(2).tolist()
    >>> np.random.seed(0); first = np.random.random(); _ = draw(); second = np.random.random()
    >>> [first, second] == expected
    True
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, TypeVar

import keras
import numpy as np

__all__ = ["leaves_random_streams_alone"]

Function = TypeVar("Function", bound=Callable[..., Any])


def leaves_random_streams_alone(function: Function) -> Function:
    """``function`` with NumPy's global generator, and PyTorch's on the PyTorch backend, restored after it."""

    @functools.wraps(function)
    def kept(*args: Any, **kwargs: Any) -> Any:
        with contextlib.ExitStack() as stack:
            if keras.backend.backend() == "torch":
                import torch

                stack.enter_context(torch.random.fork_rng(devices=[]))  # the CPU generator, which DataLoader draws from
            state = np.random.get_state()
            stack.callback(np.random.set_state, state)
            return function(*args, **kwargs)

    return kept  # type: ignore[return-value]
