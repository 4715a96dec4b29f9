"""Resuming a fit with ``keras.callbacks.BackupAndRestore``: the epochs between its last backup
and the interruption.

BackupAndRestore saves the training state at an epoch's end, and
:class:`~tb_imbalance.keras.ClassificationReportCallback` logs the epoch at its
end too. A fit interrupted between the two leaves the run and the backup one
epoch apart; the next fit starts where the backup says (BackupAndRestore sets
the model's ``_initial_epoch``):

* the callback listed first: the run already holds steps of the epochs the
  resumed fit trains again. They are kept, and the resumed fit logs from the
  first epoch after them (writing them again would put two versions of one
  step in the run);
* BackupAndRestore listed first: the epochs saved but never logged are
  missing from the run, said once.

Example:
    >>> from tb_imbalance.run_history import RunHistory, TagHistory
    >>> history = RunHistory()
    >>> history.tags["confusion_matrix"] = TagHistory(classes=None, last_step=3)
    >>> class Restored:  # the model after BackupAndRestore restored the end of epoch 2
    ...     _initial_epoch = 3
    >>> from tb_imbalance.keras.callback_messages import CallbackMessages
    >>> messages = CallbackMessages("ClassificationReportCallback", verbose=1)
    >>> resumed_steps(Restored(), history, "confusion_matrix", 3, 1, messages)  # doctest: +ELLIPSIS
    ClassificationReportCallback: BackupAndRestore resumes at epoch 3, and this run holds step 3 ...
    3
"""

from __future__ import annotations

from typing import Any

from tb_imbalance.run_history import RunHistory

__all__ = ["resumed_steps"]


def resumed_steps(model: Any, history: RunHistory, name: str, epoch: int, freq: int, messages: Any) -> int:
    """The last step of tag ``name`` a fit that starts at ``epoch`` keeps rather than logs again
    (-1: none); kept steps are said in a line, missing ones in a warning (``messages``: the
    callback's :class:`~tb_imbalance.keras.callback_messages.CallbackMessages`).

    Only a fit that BackupAndRestore restored (the model's ``_initial_epoch`` is ``epoch``) keeps
    steps; any other fit that starts at or before a logged step is refused by the run history.
    """
    kept, message = _resumed(model, history, name, epoch, freq)
    if message is not None:
        (messages.say_once if kept >= 0 else messages.warn_once)("resumed", message)
    return kept


def _resumed(model: Any, history: RunHistory, name: str, epoch: int, freq: int) -> tuple[int, str | None]:
    tag = history.tags.get(name)
    if tag is None or epoch <= 0 or getattr(model, "_initial_epoch", None) != epoch:
        return -1, None
    last = tag.last_step
    if last >= epoch:
        steps = f"step {epoch}" if last == epoch else f"steps {epoch}–{last}"
        return last, (
            f"BackupAndRestore resumes at epoch {epoch}, and this run holds {steps} from the interrupted "
            f"fit, logged before BackupAndRestore saved those epochs: kept as they are, not logged again "
            f"(this fit logs from epoch {last + 1} on)"
        )
    previous = (epoch - 1) - (epoch - 1) % freq  # the last epoch before this one that is logged
    if last < previous:
        missing = list(range(last + 1 + (-(last + 1)) % freq, previous + 1, freq))
        shown = ", ".join(map(str, missing[:5])) + (", …" if len(missing) > 5 else "")
        return -1, (
            f"BackupAndRestore resumes at epoch {epoch}, but this run's last step is {last}: epoch(s) "
            f"{shown} were not logged (backed up before the interrupted fit's steps reached the disk, "
            "or not validated). List this callback before BackupAndRestore in fit(callbacks=[...]) so "
            "that an epoch is logged before it is backed up"
        )
    return -1, None
