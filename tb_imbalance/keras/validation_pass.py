"""Which test pass inside ``fit`` is fit's own validation pass, and whether its counts survived it.

Keras calls a callback's ``on_test_begin`` / ``on_test_end`` for fit's
validation pass and for every ``model.evaluate(callbacks=[...])`` the
callback is given, also one that another callback runs inside ``fit`` (on a
test set, say). Only fit's own pass holds the validation counts: fit calls
``evaluate`` itself, while another callback's ``evaluate`` is called from
that callback's code. An ``evaluate`` that another callback runs inside
fit's pass (from its ``on_test_end``, listed before the report callback)
resets the compiled metric before the report callback reads it: the counts
are then not the validation pass's.

Example:
    >>> class Metric:  # stands for a compiled ConfusionMatrixMetric
    ...     resets = 0
    >>> metric, passes = Metric(), TestPasses()
    >>> passes.begin(metric)  # no Keras evaluate() on the stack: taken for fit's pass
    >>> metric.resets += 1  # Keras resets the metric at the start of the pass
    >>> passes.end(metric)
    'validation'
    >>> passes.begin(metric)
    >>> metric.resets += 2  # and another evaluate() reset it again
    >>> passes.end(metric)
    'replaced'
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["TestPasses"]

_KERAS_SOURCE = f"{os.sep}keras{os.sep}"


def _is_keras(frame: Any, function: str) -> bool:
    return frame.f_code.co_name == function and _KERAS_SOURCE in frame.f_code.co_filename


def called_by_fit() -> bool:
    """Whether the Keras ``evaluate`` running now was called by Keras' ``fit`` (its validation pass).

    True when no ``evaluate`` is on the stack (a pass this cannot place is
    taken for fit's). Keras' error-filtering decorator and a subclass's
    ``evaluate`` that calls ``super().evaluate`` may sit between the two.
    """
    frame = sys._getframe(1)
    while frame is not None and not _is_keras(frame, "evaluate"):
        frame = frame.f_back
    if frame is None:
        return True
    caller = frame.f_back
    while caller is not None and (caller.f_code.co_name == "evaluate" or "traceback_utils" in caller.f_code.co_filename):
        caller = caller.f_back
    return caller is not None and _is_keras(caller, "fit")


class TestPasses:
    """The test passes a callback sees inside one ``fit``, nested ones included."""

    def __init__(self) -> None:
        self._open: list[tuple[bool, int]] = []  # per open pass: fit's own?, the metric's resets at its start

    def begin(self, metric: Any) -> None:
        """A pass begins (``on_test_begin``); ``metric`` is the compiled metric read, or None."""
        self._open.append((called_by_fit(), getattr(metric, "resets", 0)))

    def end(self, metric: Any, listed: int = 1) -> str:
        """A pass ends (``on_test_end``): ``"validation"`` (fit's, its counts intact), ``"another"``
        (another callback's ``evaluate``) or ``"replaced"`` (fit's, but another ``evaluate`` reset the
        metric since: Keras resets it once at the start of each pass for each of the ``listed`` times
        ``model.metrics`` holds it, e.g. compiled and also kept as a subclassed model's attribute)."""
        if not self._open:
            return "validation"
        by_fit, resets = self._open.pop()
        if not by_fit:
            return "another"
        return "validation" if getattr(metric, "resets", 0) - resets <= listed else "replaced"
