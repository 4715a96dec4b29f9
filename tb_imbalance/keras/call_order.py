"""The order of a callback's hooks, in ``fit`` or in a loop of one's own that calls them itself.

``fit`` calls ``on_train_begin`` first and ``on_train_end`` last. A loop that
drives ``keras.callbacks.CallbackList`` itself may call an epoch's hooks
before ``on_train_begin`` or after ``on_train_end``: the callback then holds
no run directory and no fit to log into, and would write nothing, silently.
Such a call is refused, naming the fix; so is an epoch's end given an epoch
that does not follow the last one ended in that training (a loop that
passes the same index twice), before anything of it is written.

While a ``fit`` with the callback runs, Keras hands the callback another
model when ``model.evaluate`` / ``predict(callbacks=[it])`` of another model
runs (from a callback of that fit, or from another thread), and so may a
call of one's own: the callback keeps the fit's model (a report of the other
model's predictions would be logged as the fit's epochs), said once
(:func:`keeps_fit_model`). An ``evaluate`` or ``predict`` with the callback
in another thread while the fit runs writes nothing, said once, and leaves
the fit's validation pass alone (:func:`elsewhere`).

Example:
    >>> refuse_outside_training(True, "on_epoch_end", 0)  # between on_train_begin and on_train_end
    >>> refuse_outside_training(False, "on_epoch_end", 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: ClassificationReportCallback.on_epoch_end(epoch=0) was called outside training ...
    >>> refuse_outside_training(True, "on_epoch_end", 3, after=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ClassificationReportCallback.on_epoch_end(epoch=3) follows on_epoch_end(epoch=3) in the same training: ...
"""

from __future__ import annotations

import threading
from typing import Any

from tb_imbalance import background
from tb_imbalance.keras import fit_claims
from tb_imbalance.keras.callback_messages import (
    evaluated_in_another_thread, evaluated_outside_fit, kept_fit_model,
)

__all__ = ["elsewhere", "keeps_fit_model", "pass_begins", "refuse_outside_training"]


def refuse_outside_training(training: bool, hook: str, epoch: int, after: int | None = None) -> None:
    """Refuse ``hook`` of ``epoch`` when the callback is not ``training`` (no ``on_train_begin`` since the last
    ``on_train_end``), or when ``epoch`` does not come after ``after``, the last epoch ended in this training."""
    if not training:
        raise RuntimeError(
            f"ClassificationReportCallback.{hook}(epoch={epoch}) was called outside training (before on_train_begin, "
            "or after on_train_end): it has no run directory open, so nothing would be logged. In a loop that calls "
            "the callbacks itself, call callbacks.on_train_begin() before the first epoch and "
            "callbacks.on_train_end() after the last (callbacks = keras.callbacks.CallbackList([report], "
            "model=model, add_history=True)); model.fit does both"
        )
    if after is not None and epoch <= after:
        raise ValueError(
            f"ClassificationReportCallback.{hook}(epoch={epoch}) follows on_epoch_end(epoch={after}) in the same "
            "training: a run holds one step per epoch, in increasing order, so this epoch would replace or precede "
            "one already logged. In a loop that calls the callbacks itself, give each epoch's hooks that epoch's "
            f"index, once (0, 1, 2, …; here {after + 1} or later)"
        )


def keeps_fit_model(callback: Any, model: Any) -> bool:
    """Whether ``callback`` keeps its running fit's model rather than take ``model`` (another one, handed by an
    ``evaluate`` / ``predict`` or a call of one's own while that fit runs); said once. A new fit's model is
    taken (the new fit is refused at its start while this one runs)."""
    fit = callback._fit
    fit_model = getattr(fit, "_model", None)
    if fit is None or fit_model is None or model is fit_model or not fit_claims.inside(fit):
        return False
    if fit_claims.starting_another(fit):
        return False
    callback._messages.warn_once("kept_model", kept_fit_model(
        getattr(model, "name", model), threading.current_thread().name, getattr(fit_model, "name", fit_model)))
    return True


def elsewhere(callback: Any, method: str) -> bool:
    """Whether a pass's hook (``method``: ``"evaluate"`` or ``"predict"``) comes from another thread than that of
    ``callback``'s running fit: then it is left alone, said once."""
    thread = fit_claims.running_elsewhere(callback._fit)
    if thread is None:
        return False
    message = evaluated_in_another_thread(method, threading.current_thread().name, thread)
    callback._messages.warn_once("elsewhere", message)
    return True


def pass_begins(callback: Any, method: str) -> None:
    """An ``evaluate`` or ``predict`` pass given ``callback`` begins (``method``), fit's validation pass included:
    one from another thread while its fit runs is left alone (said once); after a fit that a Ctrl-C or an error
    ended (no ``on_train_end``), that fit is left as ``on_train_end`` would (its finished steps reach the disk, their
    errors were logged); outside training, it writes nothing, said once."""
    if elsewhere(callback, method):
        return
    if callback._fit is not None and fit_claims.has_returned(callback._fit):
        callback._pending = []
        background.flush()
        callback._leave_fit()
    if not callback._training:  # model.evaluate / model.predict(callbacks=[it]) outside fit (or a loop of one's own)
        callback._messages.warn_once(method, evaluated_outside_fit(callback.run_dir, method))
