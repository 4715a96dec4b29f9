"""One logged epoch's step written into the run directory, and why it was not.

:class:`~tb_imbalance.keras.ClassificationReportCallback` reads the matrix
on the training thread and hands :func:`write_epoch` to the background writer
(or calls it there, with ``background=False``). A step the run directory
refuses because a fit in another thread of this process writes the same tag
is refused naming that thread; a step the file system refuses (a full disk, a
run directory gone read-only) raises an ``OSError`` of the same ``errno``
naming the run directory, the epoch, what the run keeps and the fix.

Example:
    >>> import numpy as np, os, tempfile
    >>> from tb_imbalance.step import ClassSet
    >>> from tb_imbalance.writer import ReportWriter
    >>> run_dir = tempfile.mkdtemp()
    >>> write_epoch(ReportWriter(run_dir), None, run_dir, "confusion_matrix", 0, np.array([[3, 1], [0, 2]]), None,
    ...             ClassSet.of(["a", "b"], 2), None, per_class_scalars=None, image=False)
    >>> os.listdir(run_dir)[0].startswith("events.out.tfevents")
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tb_imbalance.keras import fit_claims
from tb_imbalance.keras.callback_messages import another_fit_writing
from tb_imbalance.step import ClassSet, ReportStep

__all__ = ["write_epoch", "write_step"]


def write_epoch(
    writer: Any, fit: Any, run_dir: str, name: str, epoch: int, cm: np.ndarray, curves: Any, classes: ClassSet,
    examples: Any, *, per_class_scalars: bool | None, image: bool,
) -> None:
    """Write epoch ``epoch``'s report of tag ``name`` (matrix ``cm``, ``curves``, ``examples``) with ``writer``
    (the run directory ``run_dir``'s) as one flushed event, for the fit whose ``History`` is ``fit``."""
    report = ReportStep.with_classes(  # a float matrix: the predict path's sums of validation sample weights
        epoch, name, cm, classes, examples=examples, curves=curves, weighted=cm.dtype.kind == "f",
        checked_curves=True)
    try:
        writer.write_report(report, per_class_scalars=per_class_scalars, image=image)
    except ValueError:  # refused by the run directory: because a fit in another thread writes this tag?
        thread = fit_claims.writing_elsewhere(fit, run_dir, name)
        if thread is None:
            raise
        raise ValueError(another_fit_writing(name, run_dir, thread, f"did not write epoch {epoch}")) from None
    except OSError as error:  # a full disk, a file system gone read-only: the step, the run kept and the fix named
        raise not_written(error, run_dir, name, epoch) from error


def write_step(callback: Any, writer: Any, fit: Any, epoch: int, cm: np.ndarray, curves: Any, classes: ClassSet,
               scores: Any, ids: Any) -> None:
    """Everything of ``callback``'s epoch ``epoch`` after its matrix is read: examples, report, picture, one
    flushed event (on the background writer, or on the training thread with ``background=False``)."""
    examples = None if scores is None else callback.examples.collect(  # refused predictions: warned, report kept
        scores, cm.shape[0], from_logits=callback._examples_from_logits, class_ids=ids,
        say=callback._messages.warn_once)
    write_epoch(writer, fit, callback.run_dir, callback.name, epoch, cm, curves, classes, examples,
                per_class_scalars=callback.per_class_scalars, image=callback.image)


def not_written(error: OSError, run_dir: str, name: str, epoch: int) -> OSError:
    """``error`` (the file system's, such as a full disk's), as an ``OSError`` of its ``errno`` that names the
    run directory, the epoch not written, what the run keeps and the fix.

    Example:
        >>> print(not_written(OSError(28, "No space left on device"), "runs/a/validation_imbalance",
        ...                   "confusion_matrix", 4))  # doctest: +ELLIPSIS
        [Errno 28] ClassificationReportCallback(name='confusion_matrix') could not write epoch 4 into runs/a/...
    """
    cause = error.__cause__ if isinstance(error.__cause__, OSError) else error  # the file system's own, not the writer's fix
    problem = cause.strerror or str(cause)
    if cause.filename is not None:
        problem += f" ({cause.filename})"
    message = (
        f"ClassificationReportCallback(name={name!r}) could not write epoch {epoch} into {run_dir}: {problem}. "
        "The run keeps the steps written before it, readable; this fit writes none after it (a run never "
        "continues after a hole). Fix the cause (free space on that disk, make the directory writable, move a file "
        "out of its way), then continue the run with fit(initial_epoch=...) after its last step, or pass another "
        "`log_dir`"
    )
    return OSError(error.errno, message) if error.errno is not None else OSError(message)
