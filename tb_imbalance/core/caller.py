"""Where a warning points: the user's line, not a line of this package.

:func:`user_stacklevel` is the ``stacklevel`` to hand :func:`warnings.warn`
so that the warning names the first frame outside tb_imbalance, whichever
public function the user called and however deep the warning is raised
(Python 3.12's ``skip_file_prefixes`` does the same, but 3.10 and 3.11 are
supported). Frames of Keras are passed over too, when Keras is imported: a
callback's warning then names the user's ``model.fit`` line, not Keras'
callback loop.

Example:
    >>> user_stacklevel()  # called from outside the package: the caller's own line
    1
"""

from __future__ import annotations

import os
import sys

__all__: list[str] = []

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
#: The modules that start a thread's stack (the background writer's pool): no caller of the package's there.
_THREAD_STARTS = frozenset({"threading", "concurrent.futures.thread"})


def _passed_over() -> tuple[str, ...]:
    """The directories whose frames are not the user's: this package's, and Keras' once imported."""
    keras_file = getattr(sys.modules.get("keras"), "__file__", None)  # looked up, never imported here
    if not keras_file:
        return (_PACKAGE,)
    return (_PACKAGE, os.path.dirname(os.path.abspath(keras_file)) + os.sep)


def user_stacklevel() -> int:
    """The ``stacklevel`` at which a ``warnings.warn`` in the caller of this function names the user's line.

    Counts the caller's frame and those above it that are in this package
    (or Keras); a stack that is all the package's below the thread's start
    (its background writer, a thread whose target is a public function) ends
    at its outermost frame of the package.
    """
    passed_over = _passed_over()
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(passed_over):
        if frame.f_back.f_globals.get("__name__") in _THREAD_STARTS:  # the thread's own start, not a caller
            break
        frame, level = frame.f_back, level + 1
    return level
