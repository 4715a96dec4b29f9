"""A fit that continues a run, checked at its first logged pass: does it count the rows the run's last step counted?

:class:`~tb_imbalance.keras.ClassificationReportCallback` compares each
validation pass of a fit with the fit's first (a used-up or reshuffling
validation source, :meth:`~tb_imbalance.keras.callback_messages.CallbackMessages.validation_rows`).
A fit that continues a run (``fit(initial_epoch=k)`` into the same ``log_dir``,
in a new process or the same one) is compared with the run once, too: its
first logged pass against the last step the run holds for the callback's tag
(:mod:`tb_imbalance.continued_rows`), warned once when the rows per class
differ. The check is made on the training thread, before the step is handed to
the background writer, which then says nothing more of it.

Example:
    >>> import tempfile, warnings, numpy as np
    >>> from tb_imbalance.keras.callback_messages import CallbackMessages
    >>> from tb_imbalance.writer import ReportWriter
    >>> writer = ReportWriter(tempfile.mkdtemp())
    >>> writer.write_matrix(1, "confusion_matrix", np.array([[50, 10], [5, 35]]), ["ok", "fraud"], image=False)
    >>> with warnings.catch_warnings(record=True) as said:
    ...     warnings.simplefilter("always")
    ...     compare_first_pass(writer, "confusion_matrix", 2, np.array([[40, 5], [5, 35]]), ("ok", "fraud"),
    ...                        CallbackMessages("C", verbose=0))
    >>> str(said[0].message)[:68]
    "C: the validation pass of epoch 2 counted 85 rows, 45 of class 'ok';"
"""

from __future__ import annotations

from typing import Any, Sequence

from tb_imbalance.continued_rows import rows_changed

__all__ = ["FIXES", "compare_first_pass"]

#: What to do about a continued fit's other rows.
FIXES = (
    "To continue this run, give this fit the validation data of the earlier steps (fit(validation_data=...), "
    "validation_split, or the callback's validation_data); to report on another validation set, start a new "
    "run: another log_dir (or run_name, or name)"
)


def compare_first_pass(
    writer: Any, name: str, epoch: int, cm: Any, class_names: Sequence[str], messages: Any
) -> None:
    """At the first pass a fit logs (once per fit: ``messages`` is the fit's
    :class:`~tb_imbalance.keras.callback_messages.CallbackMessages`), warn when its matrix ``cm`` counts other
    rows per class than the last step of tag ``name`` that ``writer``'s run holds (a step of an earlier process
    read from disk, or of an earlier fit of this one)."""
    if not messages.first_time("run_rows"):
        return
    with writer.lock:  # the background writer records steps into the same history
        tag = writer.history.tags.get(name)
        if tag is None or tag.last_rows is None:
            return
        tag.rows_compared = True  # compared here: the write path says nothing more
        last = tag.last_rows
    message = rows_changed(name, cm.sum(axis=1), last, class_names,
                           now=f"the validation pass of epoch {epoch}", fixes=FIXES, where=writer.log_dir)
    if message is not None:
        messages.warn_once("run_rows", message)
