"""The weights the callback's own predictions see when ``keras.callbacks.SwapEMAWeights`` takes part in a fit.

``SwapEMAWeights`` swaps the optimizer's EMA weights into the model for
``fit``'s validation pass (from its ``on_test_begin`` to its ``on_test_end``):
the ``val_`` metrics in ``logs``, and a compiled metric the callback reads,
are the EMA weights'. With ``swap_on_epoch=True`` it also swaps them in at its
``on_epoch_end`` (and out at the next ``on_epoch_begin``), for the callbacks
listed after it. The callback predicts its ``validation_data`` and
``examples=`` at its own ``on_epoch_end``: with the EMA weights only when a
``SwapEMAWeights(swap_on_epoch=True)`` is listed before it, otherwise with the
training weights, another model than the one ``fit`` validated. That is said
once, before training, naming the fix (:func:`predicted_apart`).

Example:
    >>> import keras
    >>> swap, report = keras.callbacks.SwapEMAWeights(swap_on_epoch=True), object()  # report: the callback
    >>> predicted_apart([swap, report], report, ["validation_data"])
    ''
    >>> predicted_apart([report, swap], report, ["validation_data"])[:79]
    "keras.callbacks.SwapEMAWeights validates with the optimizer's EMA weights (fit'"
"""

from __future__ import annotations

from typing import Any, Sequence

import keras

from tb_imbalance.keras import fit_claims

__all__ = ["predicted_apart", "say_predicted_apart"]


def predicted_apart(listed: Sequence[Any] | None, owner: Any, predicted: Sequence[str]) -> str:
    """What to say when ``owner`` predicts its ``predicted`` arguments (``"validation_data"``, ``"examples"``) with
    other weights than ``fit``'s validation pass, given the fit's ``listed`` callbacks in the order Keras calls them
    (None: not known); "" when it predicts with the same weights, or nothing.

    Example:
        >>> report = object()
        >>> predicted_apart([report, keras.callbacks.SwapEMAWeights()], report, [])  # the compiled metric alone
        ''
    """
    if not predicted or listed is None or not any(entry is owner for entry in listed):
        return ""
    before = list(listed)[:next(k for k, entry in enumerate(listed) if entry is owner)]
    swaps = [entry for entry in listed if isinstance(entry, keras.callbacks.SwapEMAWeights)]
    if not swaps or any(swap in before and swap.swap_on_epoch for swap in swaps):
        return ""
    why = ("SwapEMAWeights(swap_on_epoch=True) is listed after this callback" if any(swap.swap_on_epoch for swap in swaps)
           else "SwapEMAWeights has swap_on_epoch=False")
    differs = (
        "its matrix describes other weights than fit's val_ metrics" if "validation_data" in predicted else
        "the examples behind its cells are other weights' predictions than the matrix it reads from fit's validation")
    return (
        f"keras.callbacks.SwapEMAWeights validates with the optimizer's EMA weights (fit's val_ metrics are theirs), "
        f"but this callback predicts its {' and '.join(predicted)} at its on_epoch_end with the training weights "
        f"({why}): {differs}. To report the EMA weights, pass SwapEMAWeights(swap_on_epoch=True) and list it before "
        "ClassificationReportCallback in callbacks=[...]"
    )


def say_predicted_apart(callback: Any) -> None:
    """Warn once, at the start of ``callback``'s fit, when it predicts its ``validation_data`` or ``examples`` with
    other weights than the fit's validation pass (see :func:`predicted_apart`)."""
    predicted = [argument for argument, given in (("validation_data", callback._source), ("examples", callback.examples))
                 if given is not None]
    message = predicted_apart(fit_claims.listed_callbacks(callback._fit), callback, predicted)
    if message:
        callback._messages.warn_once("swapped_weights", message)
