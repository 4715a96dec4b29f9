"""One report per tag and run directory in a fit: two callbacks that would collide are refused.

Two names collide when they are equal or when their reports would share a tag
(``"confusion_matrix"`` and ``"confusion_matrix_image"``, see
:func:`tb_imbalance.events.tag_collision`).

Claims are kept per fit, keyed by the fit's ``History`` object (Keras makes
a new one per ``fit`` call), so a fit that crashed before ``on_train_end``
leaves nothing behind for the next one. Each fit's thread is kept with its
claims: a fit in another thread that writes the same tag at the same time is
named when the run directory refuses a step (:func:`writing_elsewhere`),
:func:`has_returned` tells a fit that ended without ``on_train_end`` (an
exception, a Ctrl-C) from one still running, and :func:`running_elsewhere`
names the thread of a fit still running in another thread: one callback
object given to a second fit meanwhile (there, or from a callback of the
running fit) is refused (:func:`refuse_while_running`); so is the first of two
fits that start at once in two threads with one callback object, when the
other handed it its model before the first claimed its fit
(:func:`refuse_handed_elsewhere`).

Those two look for the fit's own frame of Keras' ``fit`` on a thread's stack.
The frame is found once, when the fit is claimed (before its first epoch),
by its locals; later checks compare frames only. Reading a running frame's
``f_locals`` copies its locals into a dict that keeps them until the next
read: read again each epoch, that released the previous epoch's ``tf.data``
iterator there, whose clean-up blocked the training thread for up to half a
second an epoch.

Example:
    >>> class Fit:  # stands for the History object of one fit
    ...     pass
    >>> fit, owner = Fit(), object()
    >>> claim(fit, "runs/validation_imbalance", "confusion_matrix", owner)
    >>> claim(fit, "runs/validation_imbalance", "confusion_matrix", object())
    Traceback (most recent call last):
    ...
    ValueError: two ClassificationReportCallbacks in this fit write tag `name`='confusion_matrix' into runs/validation_imbalance: their reports would collide. Give each callback its own `name` (e.g. name='test_set'; its scalars then get the 'test_set/' prefix) or its own `run_name` / `log_dir`
    >>> release(fit, owner)
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import weakref
from typing import Any, Callable

from tb_imbalance.events import tag_collision
from tb_imbalance.keras.callback_messages import in_a_running_fit
from tb_imbalance.run_location import directory_key

_KERAS_SOURCE = f"{os.sep}keras{os.sep}"

__all__ = [
    "STARTING", "call_of", "claim", "handed", "has_returned", "inside", "listed_callbacks", "one_at_a_time",
    "refuse_handed_elsewhere", "refuse_while_running", "release", "running_elsewhere", "same_fit", "starting_another",
    "writing_elsewhere"]

_ACTIVE: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Any]]" = weakref.WeakKeyDictionary()
_THREADS: "weakref.WeakKeyDictionary[Any, threading.Thread]" = weakref.WeakKeyDictionary()  # the thread of each fit
_FRAMES: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()  # its frame of Keras' fit, while claimed
_CALLS: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()  # what that fit call was given
_HANDED: "weakref.WeakKeyDictionary[Any, threading.Thread]" = weakref.WeakKeyDictionary()  # who set its model last
#: Held while a callback's ``on_train_begin`` runs (:func:`one_at_a_time`): two threads starting at once take turns.
STARTING = threading.RLock()


def claim(fit: Any, run_dir: str, name: str, owner: Any) -> None:
    """Claim tag ``name`` in ``run_dir`` for ``owner`` during ``fit``; refuse it if another holds it.

    ``fit`` None or not weak-referenceable: fits cannot be told apart, nothing is claimed.
    """
    if fit is None:
        return
    try:
        claims = _ACTIVE.setdefault(fit, {})
    except TypeError:  # not weak-referenceable: cannot tell fits apart
        return
    _THREADS.setdefault(fit, threading.current_thread())
    known = _FRAMES.get(fit)  # a History given in callbacks=[...] is every fit's: this fit's frame, not a former's
    if known is None or not _on_stack(known, sys._getframe(1)):
        _FRAMES[fit] = frame = _fit_frame(sys._getframe(1), fit)
        _CALLS[fit] = (None, None) if frame is None else _given(frame.f_locals)  # read once, with the frame
    location = directory_key(run_dir)
    for (where, other_name), other in claims.items():
        if where != location or other is owner:
            continue
        shared = other_name if other_name == name else tag_collision(name, other_name)
        if shared is not None:
            what = f"tag `name`={name!r}" if other_name == name else (
                f"tag {shared!r} (reports named {other_name!r} and {name!r} both own it)")
            raise ValueError(
                f"two ClassificationReportCallbacks in this fit write {what} into "
                f"{run_dir}: their reports would collide. Give each callback its own `name` "
                "(e.g. name='test_set'; its scalars then get the 'test_set/' prefix) or its own "
                "`run_name` / `log_dir`"
            )
    claims[(location, name)] = owner


def release(fit: Any, owner: Any) -> None:
    """Give back every claim of ``owner`` in ``fit``."""
    if fit is None:
        return
    try:
        claims = _ACTIVE.get(fit)
    except TypeError:
        return
    if claims:
        for key in [key for key, holder in claims.items() if holder is owner]:
            del claims[key]
    if not claims:  # the frame (and the locals it holds, once returned) is not kept past the fit
        _FRAMES.pop(fit, None)
        _CALLS.pop(fit, None)


def call_of(fit: Any) -> tuple[tuple | None, Any]:
    """What ``fit``'s call of Keras' ``fit`` was given: its ``keras.callbacks.BackupAndRestore`` callbacks and its
    ``initial_epoch`` (Keras starts at the model's ``_initial_epoch`` instead when one is set), read when it was
    claimed, before its first epoch; (None, None): that call was not found (a loop that calls callbacks itself)."""
    import keras

    try:
        initial_epoch = _CALLS.get(fit, (None, None))[1]
    except TypeError:
        return None, None
    listed = listed_callbacks(fit)
    restorers = None if listed is None else tuple(c for c in listed if isinstance(c, keras.callbacks.BackupAndRestore))
    return restorers, initial_epoch


def listed_callbacks(fit: Any) -> tuple | None:
    """The callbacks of ``fit``'s call of Keras' ``fit``, in the order Keras calls them (``callbacks=[...]``, then
    Keras' own), read when it was claimed; None: that call was not found (a loop that calls callbacks itself)."""
    try:
        listed = _CALLS.get(fit, (None, None))[0]
    except TypeError:
        return None
    return None if listed is None else tuple(c for c in (ref() for ref in listed) if c is not None)


def _given(local: dict) -> tuple[tuple | None, Any]:
    """The callbacks (weakly: they hold the model, which holds the fit's History; one that cannot be weakly held is
    left out) and the ``initial_epoch`` in a frame's locals of Keras' ``fit``."""
    listed = getattr(local.get("callbacks"), "callbacks", None)
    if listed is None:
        return None, local.get("initial_epoch")
    held = []
    for callback in listed:
        try:
            held.append(weakref.ref(callback))
        except TypeError:
            pass
    return tuple(held), local.get("initial_epoch")


def writing_elsewhere(fit: Any, run_dir: str, name: str) -> str | None:
    """The thread's name of another fit of this process, still running in another thread, that claims
    a tag of report ``name`` in ``run_dir`` (None: none). A fit that raised in a thread that goes on
    still holds its claims: then the name may be that thread's."""
    try:
        own = _THREADS.get(fit)
    except TypeError:
        own = None
    location = directory_key(run_dir)
    for other_fit, claims in list(_ACTIVE.items()):
        thread = _THREADS.get(other_fit)
        if other_fit is fit or thread is None or thread is own or not thread.is_alive():
            continue
        for (where, other_name) in list(claims):
            if where == location and (other_name == name or tag_collision(name, other_name) is not None):
                return thread.name
    return None


def has_returned(fit: Any) -> bool:
    """Whether ``fit``, in this thread, has left ``model.fit`` without ``on_train_end`` (an exception or a
    Ctrl-C): its frame of Keras' ``fit`` is not on this thread's stack. A fit in another thread, one that cannot
    be told apart, or a loop that calls the callbacks itself (no frame of Keras' ``fit`` was found when it was
    claimed) is taken as running, until its ``on_train_end`` or the next ``on_train_begin``."""
    try:
        thread, frame = _THREADS.get(fit), _FRAMES.get(fit)
    except TypeError:
        return False
    if thread is not threading.current_thread() or frame is None:
        return False
    return not _on_stack(frame, sys._getframe(1))


def same_fit(fit: Any, model: Any) -> bool:
    """Whether ``fit`` is ``model``'s current fit call: its ``History`` (one given in callbacks=[...] is every fit's),
    with the frame of Keras' ``fit`` found when it was claimed still on this thread's stack (when one was found)."""
    if fit is None or fit is not getattr(model, "history", None):
        return False
    try:
        frame = _FRAMES.get(fit)
    except TypeError:  # not a History (a model's own `history` attribute): no frame was kept for it
        return True
    return frame is None or _on_stack(frame, sys._getframe(1))


def running_elsewhere(fit: Any) -> str | None:
    """The name of the thread, other than this one, in which ``fit`` (its ``History``) is still inside ``model.fit``
    (None: it runs in this thread, has returned, or cannot be told apart)."""
    try:
        thread, frame = _THREADS.get(fit), _FRAMES.get(fit)
    except TypeError:
        return None
    if frame is None or thread is None or thread is threading.current_thread() or not thread.is_alive():
        return None
    return thread.name if _on_stack(frame, sys._current_frames().get(thread.ident)) else None


def inside(fit: Any) -> bool:
    """Whether ``fit`` is inside Keras' ``fit`` now, in this thread or another (False: it has returned, or it is a
    loop that calls the callbacks itself, whose end cannot be told)."""
    try:
        frame = _FRAMES.get(fit)
    except TypeError:
        return False
    return frame is not None and (_on_stack(frame, sys._getframe(1)) or running_elsewhere(fit) is not None)


def starting_another(fit: Any) -> bool:
    """Whether the innermost Keras ``fit``, ``evaluate`` or ``predict`` on this thread's stack is a call of ``fit``
    other than ``fit``'s own: a new fit handing its callbacks its model (not an ``evaluate`` or ``predict``, nor a
    callback of the running fit)."""
    frame, own = sys._getframe(1), _FRAMES.get(fit)
    while frame is not None:
        if frame.f_code.co_name in ("fit", "evaluate", "predict") and _KERAS_SOURCE in frame.f_code.co_filename:
            return frame.f_code.co_name == "fit" and frame is not own
        frame = frame.f_back
    return False


def _on_stack(frame: Any, top: Any) -> bool:
    """Whether ``frame`` is ``top`` or a frame around it (compared, never read)."""
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


def _fit_frame(frame: Any, fit: Any) -> Any:
    """``frame`` or the frame around it that is Keras' ``fit`` call whose ``History`` is ``fit`` (of its model: read
    without Keras' property, which on JAX would sync the model's state; a later fit of that model is another call), or
    None. Reads those frames' locals: once per fit, before its first epoch (see the module's docs)."""
    model = getattr(fit, "_model", None)
    while frame is not None and model is not None:
        if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
            if getattr(frame.f_locals.get("callbacks"), "_history", None) is fit:
                return frame
        frame = frame.f_back
    return None


def one_at_a_time(on_train_begin: Callable) -> Callable:
    """``on_train_begin`` holding :data:`STARTING`: another thread's fit starting with the same callback object reads
    what this one set up (or refuses), never half of it."""
    @functools.wraps(on_train_begin)
    def run(*args: Any, **kwargs: Any) -> Any:
        with STARTING:
            return on_train_begin(*args, **kwargs)
    return run


def handed(callback: Any) -> None:
    """Note that this thread has just handed ``callback`` a model (Keras does, on the fit's thread, before
    ``on_train_begin``)."""
    _HANDED[callback] = threading.current_thread()


def refuse_handed_elsewhere(callback: Any) -> None:
    """Refuse ``callback`` this thread's fit when a fit in another thread has handed it its model since this one did
    (two fits starting at once with one callback object): the other fit, starting, gets it. Hold :data:`STARTING`."""
    thread = _HANDED.get(callback)
    if thread is not None and thread is not threading.current_thread() and thread.is_alive():
        raise ValueError(in_a_running_fit(thread.name))


def refuse_while_running(callback: Any, fit: Any) -> None:
    """Refuse ``callback`` a new fit while ``fit`` (its current one, or None) still runs: in another thread, or in
    this one around the new fit (started from one of its callbacks). Keras has already handed ``callback`` the new
    fit's model and params: the running fit's are handed back first."""
    with STARTING:  # not while another thread claims its fit for this callback
        _refuse_while_running(callback, fit)


def _refuse_while_running(callback: Any, fit: Any) -> None:
    if fit is None or fit is getattr(getattr(callback, "_model", None), "history", None):  # listed twice: said apart
        return
    running = running_elsewhere(fit)
    if running is None and fit in _FRAMES and _on_stack(_FRAMES[fit], sys._getframe(1)):
        running = threading.current_thread().name
    if running is not None:
        callback.set_model(fit._model)
        callback.set_params(fit.params)
        _HANDED[callback] = _THREADS.get(fit, threading.current_thread())
        raise ValueError(in_a_running_fit(running))
