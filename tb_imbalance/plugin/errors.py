"""The errors the Imbalance dashboard answers with, each carrying its HTTP status.

Every error is a ``tensorboard.errors.PublicError``: its text is meant for the
user, and TensorBoard itself would answer it with its ``http_code``. The
plugin's routes (:mod:`tb_imbalance.plugin.backend`) catch them first and
answer a JSON body ``{"error": message}`` with that status.

Where TensorBoard has a matching error, ours subclasses it too:
:class:`BadRequestError` is a ``tensorboard.errors.InvalidArgumentError``
(400) and :class:`NotFoundError` a ``tensorboard.errors.NotFoundError`` (404).
TensorBoard has no 422 or 503 error, so :class:`UnreadableDataError` and
:class:`DataUnavailableError` are plain ``PublicError`` subclasses. Unlike
TensorBoard's, ``str(error)`` is the message as given (no "Not found:"
prefix).

Example:
    >>> from tensorboard import errors as tb_errors
    >>> error = NotFoundError("no run 'x' with confusion matrices")
    >>> error.status, isinstance(error, tb_errors.NotFoundError), str(error)
    (404, True, "no run 'x' with confusion matrices")
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from tensorboard import errors as tb_errors

from tb_imbalance.format.blob_names import BLOB_NAME_ADVICE

__all__ = [
    "DashboardError",
    "BadRequestError",
    "NotFoundError",
    "UnreadableDataError",
    "DataUnavailableError",
    "provider_errors",
]

#: What TensorBoard's Rust data server says of a blob key it cannot parse (see tb_imbalance.format.blob_names).
_BLOB_KEY_FAILURE = "failed to parse blob key"

# Failed reads are logged under the reader's name, where they always were.
logger = logging.getLogger("tb_imbalance.plugin.reader")


class DashboardError(tb_errors.PublicError):
    """A request the dashboard cannot answer; ``status`` is the HTTP status.

    Args:
        message: shown to the user as the JSON body's ``error``.
        status: overrides the class's HTTP status.

    Example:
        >>> DashboardError("reading failed", status=503).status
        503
    """

    http_code = 400

    def __init__(self, message: str, *, status: int | None = None):
        # PublicError's own __init__, not the "Invalid argument: ..." prefixing
        # of TensorBoard's subclasses: the message is shown as written.
        tb_errors.PublicError.__init__(self, message)
        self.message = message
        if status is not None:
            self.http_code = int(status)

    @property
    def status(self) -> int:
        """The HTTP status of the answer (``http_code``)."""
        return self.http_code


class BadRequestError(DashboardError, tb_errors.InvalidArgumentError):
    """Malformed request parameters (HTTP 400)."""

    http_code = 400


class NotFoundError(DashboardError, tb_errors.NotFoundError):
    """Unknown run, tag, step or static file (HTTP 404)."""

    http_code = 404


class UnreadableDataError(DashboardError):
    """Stored data this version cannot interpret, e.g. a newer format (HTTP 422)."""

    http_code = 422


class DataUnavailableError(DashboardError):
    """Reading the data failed (HTTP 503); other runs are unaffected."""

    http_code = 503


@contextlib.contextmanager
def provider_errors(action: str) -> Iterator[None]:
    """Map data-provider failures to :class:`DashboardError` subclasses."""
    try:
        yield
    except DashboardError:
        raise
    except tb_errors.NotFoundError as error:
        raise NotFoundError(f"{action}: {error}") from error
    except tb_errors.PublicError as error:
        if _BLOB_KEY_FAILURE in str(error):
            raise UnreadableDataError(
                f"{action}: {BLOB_NAME_ADVICE}. Start TensorBoard with --load_fast=false, or rename the "
                f"run directory ({error})"
            ) from error
        raise DashboardError(f"{action}: {error}", status=error.http_code) from error
    except Exception as error:
        logger.warning("%s failed", action, exc_info=True)
        raise DataUnavailableError(f"{action} failed: {_said(error)}") from error


def _said(error: Exception) -> str:
    """What a failed read says to the user: a gRPC error (the data server's) by its code and details."""
    code, details = getattr(error, "code", None), getattr(error, "details", None)
    if not (callable(code) and callable(details)):
        return str(error)
    try:
        name = getattr(code(), "name", str(code()))
        said = f"TensorBoard's data server answered {name}: {details()}"
    except Exception:  # not a gRPC error after all
        return str(error)
    if name == "UNAVAILABLE":
        said += "; it has stopped or cannot be reached, and TensorBoard does not restart it: restart tensorboard"
    return said


def shown_value(value: str, width: int = 40) -> str:
    """A value from a request, for an error message: its repr, cut to ``width`` characters (any URL comes in).

    Example:
        >>> shown_value("x" * 50, width=3)
        "'xxx'…"
    """
    return repr(value) if len(value) <= width else repr(value[:width]) + "…"
