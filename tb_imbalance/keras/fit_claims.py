"""One report per tag and run directory in a fit: two callbacks that would collide are refused.

Two names collide when they are equal or when their reports would share a tag
(``"confusion_matrix"`` and ``"confusion_matrix_image"``, see
:func:`tb_imbalance.events.tag_collision`).

Claims are kept per fit, keyed by the fit's ``History`` object (Keras makes
a new one per ``fit`` call), so a fit that crashed before ``on_train_end``
leaves nothing behind for the next one.

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

import weakref
from typing import Any

from tb_imbalance.events import tag_collision
from tb_imbalance.run_location import directory_key

__all__ = ["claim", "release"]

_ACTIVE: "weakref.WeakKeyDictionary[Any, dict[tuple[str, str], Any]]" = weakref.WeakKeyDictionary()


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
