"""The order of a callback's hooks, in ``fit`` or in a loop of one's own that calls them itself.

``fit`` calls ``on_train_begin`` first and ``on_train_end`` last. A loop that
drives ``keras.callbacks.CallbackList`` itself may call an epoch's hooks
before ``on_train_begin`` or after ``on_train_end``: the callback then holds
no run directory and no fit to log into, and would write nothing, silently.
Such a call is refused, naming the fix.

Example:
    >>> refuse_outside_training(True, "on_epoch_end", 0)  # between on_train_begin and on_train_end
    >>> refuse_outside_training(False, "on_epoch_end", 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: ClassificationReportCallback.on_epoch_end(epoch=0) was called outside training ...
"""

from __future__ import annotations

__all__ = ["refuse_outside_training"]


def refuse_outside_training(training: bool, hook: str, epoch: int) -> None:
    """Refuse ``hook`` of ``epoch`` when the callback is not ``training`` (no ``on_train_begin`` since the last
    ``on_train_end``)."""
    if training:
        return
    raise RuntimeError(
        f"ClassificationReportCallback.{hook}(epoch={epoch}) was called outside training (before on_train_begin, "
        "or after on_train_end): it has no run directory open, so nothing would be logged. In a loop that calls "
        "the callbacks itself, call callbacks.on_train_begin() before the first epoch and callbacks.on_train_end() "
        "after the last (callbacks = keras.callbacks.CallbackList([report], model=model, add_history=True)); "
        "model.fit does both"
    )
