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
* BackupAndRestore listed first, or a process killed mid-fit (whatever the
  order: its steps still queued for writing are lost, see
  :mod:`tb_imbalance.background`): the epochs saved but never logged are
  missing from the run, said once, with both causes (the steps logged so far
  tell how far apart the logged epochs are: ``freq``, or ``fit``'s
  ``validation_freq``).

Keras never clears ``_initial_epoch``: a later fit of the same model finds
the restore's value again, and starts there whatever its own ``initial_epoch``.
It is no restore: such a fit is checked like any other, and refused if it
would log a step again, the refusal naming the value left and the fix
(``model._initial_epoch = None``); one that logs nothing again is warned that
it starts there, not at its ``initial_epoch``. A fit is taken as restored only
when one of its own BackupAndRestore callbacks holds a backup of that epoch
(whatever fits, with this callback or without, came between); where its
callbacks are unknown, when the value differs from the one its model's last
fit with this callback started with.

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

import json
import weakref
from typing import Any

from tb_imbalance import background
from tb_imbalance.keras import fit_claims
from tb_imbalance.keras.callback_messages import another_fit_writing
from tb_imbalance.run_history import RunHistory

__all__ = ["check_history", "resumed_steps"]


def check_history(
    writer: Any, fit: Any, model: Any, name: str, epoch: int, freq: int, classes: Any, messages: Any
) -> int:
    """Refuse, before the first epoch of ``fit`` (its ``History``) trains, what ``writer``'s run directory
    holds against it (``classes``: the tag's :class:`~tb_imbalance.step.ClassSet`, None while unknown), naming
    a fit in another thread that writes the tag; returns :func:`resumed_steps`."""
    left = _left_by_a_restore(model, epoch, fit)  # read before resumed_steps notes this fit's start
    try:
        with writer.lock:
            history = writer.history
            kept_through = resumed_steps(model, history, name, epoch, freq, messages, fit=fit)
            first_logged = max(epoch, kept_through + 1)
            first_logged += (-first_logged) % freq
            if classes is not None:
                history.check_classes(name, first_logged, classes)
            else:
                history.check_step(name, first_logged)
    except ValueError as error:
        refused = f"will not start training at epoch {epoch}"
        thread = fit_claims.writing_elsewhere(fit, writer.log_dir, name)
        if thread is not None:
            raise ValueError(another_fit_writing(name, writer.log_dir, thread, refused)) from None
        if left:  # the advice to pass initial_epoch cannot work while Keras prefers the value left
            error = ValueError(
                f"{error}. But Keras started this fit at epoch {epoch} whatever its initial_epoch: an earlier fit's "
                f"BackupAndRestore left model._initial_epoch={epoch}, which Keras never clears and prefers to "
                "fit(initial_epoch=...); set model._initial_epoch = None before this fit")
        raise ValueError(f"ClassificationReportCallback(name={name!r}) {refused}: {error}") from None
    asked = fit_claims.call_of(fit)[1]
    if left and isinstance(asked, int) and asked != epoch:
        messages.warn_once("left", (
            f"Keras starts this fit at epoch {epoch}, not at its initial_epoch={asked}: an earlier fit's "
            f"BackupAndRestore left model._initial_epoch={epoch}, which Keras never clears and prefers to "
            f"fit(initial_epoch=...), so the run's first step is {epoch}; set model._initial_epoch = None before "
            "fit to start at its initial_epoch"))
    return kept_through


def resumed_steps(
    model: Any, history: RunHistory, name: str, epoch: int, freq: int, messages: Any, *, fit: Any = None
) -> int:
    """The last step of tag ``name`` a fit that starts at ``epoch`` keeps rather than logs again
    (-1: none); kept steps are said in a line, missing ones in a warning (``messages``: the
    callback's :class:`~tb_imbalance.keras.callback_messages.CallbackMessages`).

    Only a fit that BackupAndRestore restored (the model's ``_initial_epoch`` is ``epoch``, and one of
    ``fit``'s BackupAndRestore callbacks holds a backup of that epoch) keeps steps; any other fit that
    starts at or before a logged step is refused by the run history.
    """
    kept, message = _resumed(model, history, name, epoch, freq, fit)
    if message is not None:
        (messages.say_once if kept >= 0 else messages.warn_once)("resumed", message)
    return kept


def _resumed(model: Any, history: RunHistory, name: str, epoch: int, freq: int, fit: Any) -> tuple[int, str | None]:
    if not _restored(model, epoch, fit):
        return -1, None
    tag = history.tags.get(name)
    last = -1 if tag is None else tag.last_step
    if last >= epoch:
        steps = f"step {epoch}" if last == epoch else f"steps {epoch}–{last}"
        return last, (
            f"BackupAndRestore resumes at epoch {epoch}, and this run holds {steps} from the interrupted "
            f"fit, logged before BackupAndRestore saved those epochs: kept as they are, not logged again "
            f"(this fit logs from epoch {last + 1} on)"
        )
    # The steps logged so far are `stride` apart (freq, or fit's validation_freq): the ones that
    # would have come between the last and this epoch are missing.
    stride = freq if tag is None or tag.step_before is None else max(freq, last - tag.step_before)
    first = last + stride if tag is not None else 0
    missing = list(range(first, epoch, stride))
    if not missing:
        return -1, None
    shown = ", ".join(map(str, missing[:5])) + (", …" if len(missing) > 5 else "")
    return -1, (
        f"BackupAndRestore resumes at epoch {epoch}, but this run's last step is {last}: epoch(s) {shown} "
        "were backed up by the interrupted fit before their steps reached the disk, and are not logged: "
        "a process killed mid-fit loses the steps still queued for writing, whatever the order of the "
        f"callbacks (its last ones, {background.MAX_PENDING} at most, handed over within "
        f"{background.GATHER_S:g} s, or {background.MAX_BEHIND} when the writer was behind; "
        f"tb_imbalance.background.GATHER_S = 0 keeps it to {background.MAX_BEHIND}), and a callback listed after "
        "BackupAndRestore logs an epoch only after it is backed up (list this callback before BackupAndRestore in "
        "fit(callbacks=[...]))"
    )


#: Per model, the ``_initial_epoch`` its last fit started with: Keras never clears it, so a later
#: fit of the same model finds a restore's value again without any BackupAndRestore restoring.
_STARTED_AT: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _backed_up(fit: Any, epoch: int) -> bool | None:
    """Whether one of ``fit``'s BackupAndRestore callbacks holds a backup that starts at ``epoch`` (what its
    ``on_train_begin`` restored: it writes the next only at an epoch's or a batch's end); None: cannot tell (the
    fit's callbacks unknown, or a BackupAndRestore whose backup is not where Keras 3.x keeps it)."""
    restorers = fit_claims.call_of(fit)[0]
    if restorers is None:
        return None
    for backup in restorers:
        path = getattr(backup, "_training_metadata_path", None)
        try:
            from keras.src.utils import file_utils

            if not file_utils.exists(path):
                continue
            with file_utils.File(path, "r") as file:
                if json.loads(file.read())["epoch"] == epoch:
                    return True
        except (ImportError, OSError, TypeError, ValueError, KeyError):
            return None
    return False


def _left_by_a_restore(model: Any, epoch: int, fit: Any = None) -> bool:
    """Whether Keras starts this fit at ``epoch`` because a former fit's restore left ``_initial_epoch`` there."""
    value = getattr(model, "_initial_epoch", None)
    if not (epoch > 0 and value == epoch):
        return False
    backed_up = _backed_up(fit, epoch)
    if backed_up is not None:
        return not backed_up
    try:
        return _STARTED_AT.get(model, None) == value
    except TypeError:  # not weak-referenceable: cannot tell fits apart
        return False


def _restored(model: Any, epoch: int, fit: Any = None) -> bool:
    """Whether BackupAndRestore restored this fit to start at ``epoch`` (not a value left from a former fit)."""
    value = getattr(model, "_initial_epoch", None)
    try:
        before = _STARTED_AT.get(model, None)
        _STARTED_AT[model] = value
    except TypeError:  # not weak-referenceable: cannot tell fits apart
        before = None
    if not (epoch > 0 and value == epoch):
        return False
    backed_up = _backed_up(fit, epoch)
    return before != value if backed_up is None else backed_up
