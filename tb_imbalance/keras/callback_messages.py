"""What a callback says to the user: one log line per subject, warnings once.

A line goes to stdout while Keras' interactive logging is on (where ``fit``
prints its progress bar), else to the ``tb_imbalance`` logger; ``verbose=0``
silences the lines, never the warnings.

Example:
    >>> messages = CallbackMessages("ClassificationReportCallback", verbose=1)
    >>> messages.say_once("source", "reading the compiled metric")
    ClassificationReportCallback: reading the compiled metric
    >>> messages.say_once("source", "said once only")
"""

from __future__ import annotations

import logging
import warnings

import keras

__all__ = ["CallbackMessages"]


class CallbackMessages:
    """The lines and warnings of one callback during one fit (make a new one per fit)."""

    def __init__(self, speaker: str, verbose: int) -> None:
        self.speaker = speaker
        self.verbose = verbose
        self._said: set[str] = set()

    def log(self, message: str) -> None:
        """One line, when ``verbose``."""
        if not self.verbose:
            return
        line = f"{self.speaker}: {message}"
        if keras.config.is_interactive_logging_enabled():
            print(line, flush=True)
        else:
            logging.getLogger("tb_imbalance").info(line)

    def say_once(self, key: str, message: str) -> None:
        """:meth:`log` the first message of subject ``key``; later ones are dropped."""
        if key in self._said:
            return
        self._said.add(key)
        self.log(message)

    def warn_once(self, key: str, message: str) -> None:
        """A ``UserWarning`` (pointing at the caller of the callback method) and the line, once per ``key``."""
        if "warning:" + key in self._said:
            return
        self._said.add("warning:" + key)
        warnings.warn(f"{self.speaker}: {message}", UserWarning, stacklevel=3)
        self.log(f"warning: {message}")
