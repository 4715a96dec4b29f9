"""A subclassed model with its own ``metrics`` property or ``test_step``: the callback reads the compiled
metric only when Keras resets it before fit's validation pass and that pass updates it.

Keras' guide to a custom ``train_step`` overrides ``metrics`` with the model's own trackers, which leaves
the compiled metrics out: Keras then never resets them, and a metric read there holds the training
batches and every pass so far. A ``test_step`` that does not call ``compute_metrics`` leaves the metric
at zero rows. Both wrote wrong or empty matrices a step late; both are refused now, naming the fix.
On the current Keras backend; JAX's ``test_step`` is stateless, with its own signature.
"""

import os
import re

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback

BACKEND = keras.backend.backend()
CLASSES = 3
RUN = "validation_imbalance"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    y = rng.choice(CLASSES, 260, p=[0.6, 0.3, 0.1])
    x = rng.normal(size=(260, 4)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES, dtype="float32")[y] * 1.5
    return (x[:160], y[:160]), (x[160:], y[160:])


def _no_metric_update_step(model, data):
    """A test_step that tracks its loss and updates no compiled metric (each backend's signature)."""
    if BACKEND == "jax":
        trainable, non_trainable, metrics_variables = data[0]
        x, y = data[1][:2]
        y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x)
        return {}, (trainable, non_trainable, metrics_variables)
    x, y = data[:2]
    model.tracked_loss.update_state(keras.losses.sparse_categorical_crossentropy(y, model(x, training=False)))
    return {"loss": model.tracked_loss.result()}


def subclassed(*, metrics_property=None, skip_metrics_in_test_step=False):
    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(CLASSES, activation="softmax")
            self.tracked_loss = keras.metrics.Mean(name="loss")

        def call(self, x):
            return self.dense(x)

    if metrics_property is not None:
        Model.metrics = property(metrics_property)
    if skip_metrics_in_test_step:
        if BACKEND == "jax":
            Model.test_step = lambda self, state, data: _no_metric_update_step(self, (state, data))
        else:
            Model.test_step = lambda self, data: _no_metric_update_step(self, data)
    keras.utils.set_random_seed(1)
    model = Model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    return model


def test_a_metrics_property_that_leaves_out_the_compiled_metrics_is_refused_before_training(tmp_path, data):
    (x, y), validation = data
    model, trained = subclassed(metrics_property=lambda self: [self.tracked_loss]), []
    batches = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: trained.append(batch))
    with pytest.raises(ValueError, match=r"the compiled metric 'balanced_accuracy' is not in model.metrics .*never "
                                         r"resets it.*return \[\*super\(\).metrics, self.loss_tracker\]"):
        model.fit(x, y, validation_data=validation, epochs=2, verbose=0,
                  callbacks=[batches, ClassificationReportCallback(tmp_path, verbose=0)])
    assert not trained
    assert not os.path.exists(tmp_path / RUN) or not os.listdir(tmp_path / RUN)


def test_a_metrics_property_that_keeps_them_logs_the_validation_matrix(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = subclassed(metrics_property=lambda self: [*keras.Model.metrics.fget(self), self.tracked_loss])
    seen = []
    sk_each_epoch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(
        sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))))
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0), sk_each_epoch])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    for epoch in (0, 1):
        np.testing.assert_array_equal(logged[epoch], seen[epoch])
        assert logged[epoch].sum() == len(y_val)  # not the training rows, not two passes


def test_a_test_step_that_updates_no_compiled_metric_is_refused_at_the_first_epoch_end(tmp_path, data):
    (x, y), validation = data
    model = subclassed(skip_metrics_in_test_step=True)
    with pytest.raises(ValueError, match=r"fit's validation pass of epoch 0 counted no row in the compiled metric "
                                         r"'balanced_accuracy': the model's test_step does not update the compiled "
                                         r"metrics \(call self.compute_metrics"):
        model.fit(x, y, validation_data=validation, epochs=3, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert RUN not in matrices(tmp_path)


def _plain(metrics=()):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def _train_one_epoch(model, x, y):
    for start in range(0, len(x), 40):
        model.train_on_batch(x[start:start + 40], y[start:start + 40])


@pytest.mark.parametrize("add_history", [True, False])
def test_a_loop_that_calls_the_callbacks_itself_logs_the_compiled_metric_of_its_validation_pass(
        tmp_path, data, add_history):
    """A training loop of one's own drives the callbacks through ``keras.callbacks.CallbackList``, with
    ``on_test_begin`` / ``on_test_end`` around its validation pass: every epoch is logged, scikit-learn's
    matrix of that epoch's model, nothing said. (The validation pass was taken for a fit that had returned: the
    callback warned that evaluate() writes nothing and wrote no epoch; without a History, it logged every epoch
    but warned so all the same.)"""
    import warnings

    (x, y), (x_val, y_val) = data
    model = _plain([BalancedAccuracy(CLASSES)])
    report = ClassificationReportCallback(tmp_path, verbose=0)
    callbacks = keras.callbacks.CallbackList([report], model=model, add_history=add_history)
    expected = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # what the callback says (not a backend's own deprecations)
        callbacks.on_train_begin()
        for epoch in range(3):
            callbacks.on_epoch_begin(epoch)
            _train_one_epoch(model, x, y)
            callbacks.on_test_begin()
            model.test_on_batch(x_val, y_val)  # resets the compiled metrics, then counts the validation rows
            callbacks.on_test_end()
            callbacks.on_epoch_end(epoch, {})
            expected[epoch] = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1),
                                                  labels=range(CLASSES))
        callbacks.on_train_end()
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    for epoch in range(3):
        np.testing.assert_array_equal(logged[epoch], expected[epoch])


@pytest.mark.parametrize("source", ["validation_data", "metric"])
def test_an_epoch_hook_called_outside_training_is_refused_naming_on_train_begin(tmp_path, data, source):
    """A loop of one's own that calls an epoch's hooks before ``on_train_begin`` or after ``on_train_end``:
    refused, naming the fix, not silently unlogged (validation_data: nothing written, nothing said; the
    compiled metric: an AttributeError)."""
    (x, y), (x_val, y_val) = data
    model = _plain([BalancedAccuracy(CLASSES)] if source == "metric" else [])
    report = ClassificationReportCallback(
        tmp_path, validation_data=(x_val, y_val) if source == "validation_data" else None, verbose=0)
    callbacks = keras.callbacks.CallbackList([report], model=model)
    fix = ("In a loop that calls the callbacks itself, call callbacks.on_train_begin() before the first epoch and "
           "callbacks.on_train_end() after the last")
    _train_one_epoch(model, x, y)
    with pytest.raises(RuntimeError, match=re.escape(
            "ClassificationReportCallback.on_epoch_end(epoch=0) was called outside training (before on_train_begin, "
            "or after on_train_end)")) as refused:
        callbacks.on_epoch_end(0, {})
    assert fix in str(refused.value)
    callbacks.on_train_begin()  # then as it should: logged
    callbacks.on_epoch_begin(0)
    _train_one_epoch(model, x, y)
    callbacks.on_test_begin()
    model.test_on_batch(x_val, y_val)
    callbacks.on_test_end()
    callbacks.on_epoch_end(0, {})
    callbacks.on_train_end()
    with pytest.raises(RuntimeError, match=re.escape("ClassificationReportCallback.on_epoch_begin(epoch=1) was called "
                                                     "outside training")):
        callbacks.on_epoch_begin(1)  # after on_train_end: before its epoch trains
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0]
    np.testing.assert_array_equal(logged[0], sk_confusion_matrix(
        y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES)))


def test_a_loop_that_calls_no_test_hooks_is_told_once_to_call_them_around_its_validation_pass(tmp_path, data):
    """With the compiled metric, a loop of one's own that runs no on_test_begin / on_test_end: nothing logged,
    said once, naming those hooks (the warning spoke of fit(validation_freq=k) and fit's validation_data only)."""
    import warnings

    (x, y), (x_val, y_val) = data
    model = _plain([BalancedAccuracy(CLASSES)])
    report = ClassificationReportCallback(tmp_path, verbose=0)
    callbacks = keras.callbacks.CallbackList([report], model=model, add_history=True)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        callbacks.on_train_begin()
        for epoch in range(3):
            callbacks.on_epoch_begin(epoch)
            _train_one_epoch(model, x, y)
            callbacks.on_epoch_end(epoch, {})
        callbacks.on_train_end()
    messages = [str(w.message) for w in said if "ClassificationReportCallback" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith(
        "ClassificationReportCallback: nothing was logged for epoch 0"), messages
    assert messages[0].endswith(
        "In a loop that calls the callbacks itself, call callbacks.on_test_begin() and callbacks.on_test_end() "
        "around a validation pass that updates the metric (e.g. model.test_on_batch(x_val, y_val)), before "
        "on_epoch_end")
    assert RUN not in matrices(tmp_path)


def test_an_epoch_ended_twice_in_a_loop_of_ones_own_is_refused_at_once_and_the_run_goes_on(tmp_path, data):
    """A loop that passes the same epoch index to ``on_epoch_end`` twice: refused at that call, naming the next
    index, nothing of it written; the step already logged stays, and the loop goes on with the next epoch.
    (The background writer refused it one epoch later, when the loop had gone on.)"""
    (x, y), (x_val, y_val) = data
    model = _plain()
    report = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), verbose=0)
    callbacks = keras.callbacks.CallbackList([report], model=model)
    expected = {}
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    _train_one_epoch(model, x, y)
    callbacks.on_epoch_end(0, {})
    expected[0] = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    _train_one_epoch(model, x, y)
    with pytest.raises(ValueError, match=re.escape(
            "ClassificationReportCallback.on_epoch_end(epoch=0) follows on_epoch_end(epoch=0) in the same training")
    ) as refused:
        callbacks.on_epoch_end(0, {})
    assert "here 1 or later" in str(refused.value)
    callbacks.on_epoch_begin(1)
    callbacks.on_epoch_end(1, {})
    expected[1] = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    callbacks.on_train_end()
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    for epoch in (0, 1):
        np.testing.assert_array_equal(logged[epoch], expected[epoch])
