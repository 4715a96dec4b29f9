"""tb_imbalance.keras.fit_claims: a running fit told from one that returned, without keeping its locals.

Each test's function named ``fit`` stands for Keras' ``fit``: its locals hold
``self`` (the model) and ``callbacks`` (whose ``_history`` is the fit's
``History``), and a local it rebinds stands for one epoch's ``tf.data``
iterator.
"""

from __future__ import annotations

import weakref

import pytest

from tb_imbalance.keras import fit_claims


class _History:  # weak-referenceable, as Keras' History
    pass


class _Callbacks:
    def __init__(self, history: _History) -> None:
        self._history = history


class _Model:
    pass


class _Epoch:  # one epoch's iterator
    pass


def _history() -> _History:
    history = _History()
    history._model = _Model()
    return history


def test_a_running_fit_is_told_without_keeping_an_epochs_locals_alive():
    history, seen = _history(), {}

    def fit(self, callbacks):
        owner = object()
        fit_claims.claim(history, "runs/a", "confusion_matrix", owner)  # before the first epoch
        iterator = _Epoch()
        first = weakref.ref(iterator)
        seen["returned"] = fit_claims.has_returned(history)  # at an epoch's validation pass
        iterator = _Epoch()  # the next epoch's: nothing else holds the first one
        seen["first epoch's let go"] = first() is None
        fit_claims.release(history, owner)
        return iterator

    fit(history._model, _Callbacks(history))
    assert seen == {"returned": False, "first epoch's let go": True}


def test_a_fit_that_raised_has_returned_and_its_locals_are_let_go_with_its_claims():
    history, kept = _history(), {}
    owner = object()

    def fit(self, callbacks):
        fit_claims.claim(history, "runs/b", "confusion_matrix", owner)
        iterator = _Epoch()
        kept["iterator"] = weakref.ref(iterator)
        raise KeyboardInterrupt  # no on_train_end

    with pytest.raises(KeyboardInterrupt):
        fit(history._model, _Callbacks(history))
    assert fit_claims.has_returned(history) is True
    assert fit_claims.running_elsewhere(history) is None
    fit_claims.release(history, owner)  # the callback leaves the fit it found returned
    assert kept["iterator"]() is None


def test_a_history_shared_by_two_fits_is_told_by_the_running_ones_frame():
    """A History listed in callbacks=[...] is every fit's: the second fit is running, the first one's frame is not it."""
    history, seen, owner = _history(), [], object()

    def fit(self, callbacks, raises):
        fit_claims.claim(history, "runs/d", "confusion_matrix", owner)
        seen.append(fit_claims.has_returned(history))
        if raises:
            raise KeyboardInterrupt  # no on_train_end: its claims stay

    with pytest.raises(KeyboardInterrupt):
        fit(history._model, _Callbacks(history), raises=True)
    fit(history._model, _Callbacks(history), raises=False)
    assert seen == [False, False]
    fit_claims.release(history, owner)


def test_a_fit_of_the_same_model_that_is_not_this_one_is_not_taken_for_it():
    history, other, seen = _history(), _History(), {}
    other._model = history._model

    def fit(self, callbacks):
        fit_claims.claim(history, "runs/c", "confusion_matrix", owner)
        seen["returned"] = fit_claims.has_returned(history)

    owner = object()
    fit(history._model, _Callbacks(other))  # this model's fit, but another History: not history's fit
    assert fit_claims._FRAMES[history] is None  # no frame of its own: taken for a loop that calls the callbacks
    assert seen == {"returned": False}  # itself, running until its on_train_end
    fit_claims.release(history, owner)


def test_a_loop_that_calls_the_callbacks_itself_is_running_until_it_ends():
    """No frame of Keras' fit is found when such a loop is claimed: its validation pass is not taken for a pass
    after a fit that returned without on_train_end (the callback then wrote nothing for the loop's epochs)."""
    history, owner = _history(), object()
    fit_claims.claim(history, "runs/e", "confusion_matrix", owner)  # on_train_begin, called by the loop
    assert fit_claims.has_returned(history) is False  # its on_test_begin
    assert fit_claims.running_elsewhere(history) is None
    fit_claims.release(history, owner)


def test_claims_that_cannot_be_told_apart_are_taken_as_running():
    assert fit_claims.has_returned([]) is False  # not weak-referenceable
    assert fit_claims.running_elsewhere([]) is None


def test_a_models_own_history_attribute_that_is_not_a_history_is_the_same_fit_without_an_error():
    """A model whose ``history`` is an attribute of its own (a dict), not Keras' ``History``: ``same_fit`` holds no
    frame for it and says it is this fit, as comparing the objects did (it raised TypeError: no weak reference
    to a dict)."""

    class Model:
        history = {"loss": []}

    model = Model()
    assert fit_claims.same_fit(model.history, model) is True
    assert fit_claims.same_fit({"loss": []}, model) is False
