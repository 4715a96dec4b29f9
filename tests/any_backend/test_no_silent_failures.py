"""No silent failures: every Keras set-up logs scikit-learn's numbers, or fails or warns.

One test (or a few) per numbered case of the issue, named ``test_case<N>_…``,
on the current Keras backend (TensorFlow, JAX or PyTorch): no TensorFlow
import here. tf.data cases are in tests/test_no_silent_failures_tf.py, the
real TensorBoard server in tests/test_callback_server.py. Small models, one
or two epochs, no jit_compile.
"""

import glob
import logging
import os
import re
import threading
import warnings

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from compiled_update import compiled_update
from logdir_reader import matrices, run_tag_pairs
import tb_imbalance
from tb_imbalance import core, targets
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1

BACKEND = keras.backend.backend()
CLASSES = 4
RUN = "validation_imbalance"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    y = rng.choice(CLASSES, 300, p=[0.55, 0.25, 0.12, 0.08])
    x = rng.normal(size=(300, 6)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES, dtype="float32")[y] * 1.5
    return (x[:160], y[:160]), (x[160:240], y[160:240]), (x[240:], y[240:])


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(11)
    y = (rng.random(200) < 0.3).astype("int64")
    x = rng.normal(size=(200, 5)).astype("float32")
    x[:, 0] += (y * 2 - 1) * 1.2
    return (x[:120], y[:120]), (x[120:], y[120:])


class Counter(keras.callbacks.Callback):
    """Counts training batches: 0 after a refusal means nothing was trained."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


def classifier(metrics=(), classes=CLASSES, features=6):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((features,)), keras.layers.Dense(classes, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def sk_matrix(model, x, y, classes=CLASSES):
    return sk_confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(classes))


def logit_model(loss, metrics=()):
    """Dense(1) without activation: one logit per row, of both signs and outside [0, 1]."""
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    model.set_weights([np.array([[3.0], [1.0], [-1.0], [0.5], [0.0]], "float32"), np.array([-0.8], "float32")])
    # learning rate 0: the validated weights are the fixed ones
    model.compile(keras.optimizers.SGD(learning_rate=0.0), loss, metrics=list(metrics))
    return model


def opaque_loss(y_true, y_pred):
    """A loss that does not say whether it reads logits."""
    return keras.ops.mean(keras.ops.square(keras.ops.cast(y_true, "float32") - keras.ops.squeeze(y_pred, -1)))


# -- case 1: a binary logit model ------------------------------------------
def test_case1_logit_model_metric_callback_and_core_give_sklearns_matrix(tmp_path, binary):
    (x, y), (x_val, y_val) = binary
    metric = BalancedAccuracy(2, from_logits=True)
    model = logit_model(keras.losses.BinaryCrossentropy(from_logits=True), [metric, MacroF1(2, from_logits=True)])
    callbacks = [
        ClassificationReportCallback(tmp_path, verbose=0),  # reads the metric
        ClassificationReportCallback(tmp_path, name="predicted", validation_data=(x_val, y_val), from_logits=True, verbose=0),
    ]
    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=callbacks)
    logits = model.predict(x_val, verbose=0)[:, 0]
    assert (logits < 0).any() and (logits > 1).any()  # a real logit column
    expected = sk_confusion_matrix(y_val, (logits > 0).astype(int), labels=[0, 1])
    np.testing.assert_array_equal(metric.confusion_matrix(), expected)
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][0], expected)
    np.testing.assert_array_equal(matrices(tmp_path, tag="predicted")[RUN][0], expected)
    np.testing.assert_array_equal(core.confusion_matrix(y_val, logits, from_logits=True), expected)
    report = core.imbalance_metrics(expected)
    assert history.history["val_balanced_accuracy"][0] == pytest.approx(report["balanced_accuracy"], abs=1e-6)
    assert history.history["val_macro_f1"][0] == pytest.approx(report["macro_f1"], abs=1e-6)
    # eager update_state agrees, on numpy and on backend tensors
    for given in (logits, keras.ops.convert_to_tensor(logits[:, None])):
        eager = BalancedAccuracy(2, from_logits=True)
        eager.update_state(y_val, given)
        np.testing.assert_array_equal(eager.confusion_matrix(), expected)


def test_case1_logits_without_from_logits_are_refused_on_every_path(tmp_path, binary):
    (x, y), (x_val, y_val) = binary
    # the loss says logits, the metric says probabilities: refused before training
    counter = Counter()
    model = logit_model(keras.losses.BinaryCrossentropy(from_logits=True), [BalancedAccuracy(2)])
    with pytest.raises(ValueError, match=r"from_logits=True.*BalancedAccuracy\(2, from_logits=True\)"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "a", verbose=0), counter])
    assert counter.batches == 0
    # the other way round: sigmoid probabilities cut at 0 would all be class 1
    keras.utils.set_random_seed(4)
    sigmoid = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1, activation="sigmoid")])
    sigmoid.compile("adam", "binary_crossentropy", metrics=[MacroF1(2, from_logits=True)])
    with pytest.raises(ValueError, match=r"'binary_crossentropy' has from_logits=False.*cut probabilities at 0; pass "
                                         r"from_logits=False to MacroF1\(2, from_logits=False\)$"):
        sigmoid.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                    callbacks=[ClassificationReportCallback(tmp_path / "f", verbose=0), counter])
    assert counter.batches == 0
    # a linear output with a loss that says probabilities: the loss may be what is wrong, and the message says so
    linear = logit_model("binary_crossentropy", [MacroF1(2, from_logits=True)])
    with pytest.raises(ValueError, match=r"pass from_logits=False to MacroF1\(2, from_logits=False\), or "
                                         r"from_logits=True to the loss if the model outputs logits$"):
        linear.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                   callbacks=[ClassificationReportCallback(tmp_path / "g", verbose=0), counter])
    assert counter.batches == 0
    # a loss that does not tell: the compiled metric counts logit rows on the device, refused at epoch end
    metric = BalancedAccuracy(2)
    model = logit_model(opaque_loss, [metric])
    with pytest.raises(ValueError, match=r"outside \[0, 1\].*pass from_logits=True"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "b", verbose=0)])
    assert metric.logit_rows > 0
    assert not os.path.exists(tmp_path / "b" / RUN)
    # the metric alone (no callback): confusion_matrix() refuses after evaluate
    model.evaluate(x_val, y_val, verbose=0)
    with pytest.raises(ValueError, match="from_logits=True"):
        metric.confusion_matrix()
    # eager numpy input: refused at once, nothing counted
    eager = BalancedAccuracy(2)
    with pytest.raises(ValueError, match="pass from_logits=True"):
        eager.update_state(y_val, model.predict(x_val, verbose=0))
    assert eager.confusion_matrix().sum() == 0
    # the callback's predict path
    model = logit_model(opaque_loss)
    with pytest.raises(ValueError, match=r"`validation_data` \(arrays \(x, y\)\).*pass from_logits=True"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "c", validation_data=(x_val, y_val), verbose=0)])
    # and the callback's flag where it would be ignored or contradict the loss
    model = logit_model(keras.losses.BinaryCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match=r"callback has from_logits=False.*from_logits=True\)"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "d", validation_data=(x_val, y_val), verbose=0)])
    model = logit_model(opaque_loss, [BalancedAccuracy(2)])
    with pytest.raises(ValueError, match="`from_logits=True` on the callback has no effect"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "e", from_logits=True, verbose=0)])


def test_case1_from_logits_round_trips_and_is_checked():
    for cls in (BalancedAccuracy, MacroF1):
        clone = cls.from_config(cls(2, from_logits=True).get_config())
        assert clone.from_logits is True
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cls(2, from_logits=True)))
        assert restored.from_logits is True
        with pytest.raises(TypeError, match="`from_logits` must be True or False"):
            cls(2, from_logits="yes")
    with pytest.raises(TypeError, match="`from_logits` must be True or False"):
        ClassificationReportCallback("unused", from_logits=1)


# -- case 2: the callback's own validation_data wins -----------------------
def test_case2_callback_validation_data_wins_over_the_compiled_metric(tmp_path, data, capsys):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = classifier([BalancedAccuracy(CLASSES)])
    callback = ClassificationReportCallback(tmp_path, validation_data=(x_test, y_test))
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[callback])
    logged = matrices(tmp_path)[RUN][0]
    np.testing.assert_array_equal(logged, sk_matrix(model, x_test, y_test))
    assert logged.sum() == len(y_test) != len(y_val)
    out = capsys.readouterr().out
    assert out.count("ClassificationReportCallback:") == 1
    assert "predicting on the callback's validation_data (arrays (x, y))" in out
    assert "the compiled metric 'balanced_accuracy' is not read" in out


# -- case 3: two callbacks, one log_dir ------------------------------------
def test_case3_two_names_in_one_log_dir_share_one_writer_with_disjoint_tags(tmp_path, data):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = classifier([BalancedAccuracy(CLASSES)])
    model.fit(
        x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
        callbacks=[
            ClassificationReportCallback(tmp_path, name="confusion_matrix", verbose=0),
            ClassificationReportCallback(tmp_path, name="test_set", validation_data=(x_test, y_test), verbose=0),
        ],
    )
    assert len(glob.glob(str(tmp_path / RUN / "*tfevents*"))) == 1  # one shared event file
    tags = {tag for run, tag in run_tag_pairs(tmp_path) if run == RUN}
    test_set = {tag for tag in tags if tag.startswith("test_set")}
    default = tags - test_set
    assert default and test_set and not default & test_set
    assert {"confusion_matrix", "imbalance/balanced_accuracy", "recall/3"} <= default
    assert {"test_set", "test_set_image", "test_set/imbalance/balanced_accuracy", "test_set/recall/3"} <= test_set
    assert {tag for tag in test_set if tag not in ("test_set", "test_set_image", "test_set_curves")} == {
        "test_set/" + tag
        for tag in default
        if tag not in ("confusion_matrix", "confusion_matrix_image", "confusion_matrix_curves")
    }
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][1], sk_matrix(model, x_val, y_val))
    np.testing.assert_array_equal(matrices(tmp_path, tag="test_set")[RUN][1], sk_matrix(model, x_test, y_test))


@pytest.mark.parametrize("second, shared", [
    ("confusion_matrix_image", "confusion_matrix_image"),  # the default report's picture
    ("recall", "recall/imbalance/accuracy"),  # its headline scalars, under the default report's recall/<class>
])
def test_case3_names_whose_reports_share_a_tag_are_refused_before_training(tmp_path, data, second, shared):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = classifier([BalancedAccuracy(CLASSES)])
    counter = Counter()
    pair = [
        ClassificationReportCallback(tmp_path, verbose=0),
        ClassificationReportCallback(tmp_path, name=second, validation_data=(x_test, y_test), verbose=0),
    ]
    with pytest.raises(ValueError, match=rf"write tag '{re.escape(shared)}' \(reports named 'confusion_matrix' and "
                                         rf"'{second}' both own it\).*own `name`"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[*pair, counter])
    assert counter.batches == 0 and not os.path.exists(tmp_path / RUN)


def test_case3_the_same_name_twice_in_one_fit_is_refused(tmp_path, data):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = classifier([BalancedAccuracy(CLASSES)])
    counter = Counter()
    twins = [
        ClassificationReportCallback(tmp_path, verbose=0),
        ClassificationReportCallback(tmp_path, validation_data=(x_test, y_test), verbose=0),
    ]
    with pytest.raises(ValueError, match=r"`name`='confusion_matrix'.*own `name`"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[*twins, counter])
    assert counter.batches == 0 and not os.path.exists(tmp_path / RUN)
    # the refused fit leaves nothing behind: the first callback alone trains, twice
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[twins[0]])
    model.fit(x, y, validation_data=(x_val, y_val), initial_epoch=1, epochs=2, verbose=0, callbacks=[twins[0]])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1]


def test_case3_one_callback_listed_twice_is_refused_before_training(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    counter, callback = Counter(), ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"listed twice in fit\(callbacks=\[\.\.\.\]\): list it once"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[callback, counter, callback])
    assert counter.batches == 0 and not os.path.exists(tmp_path / RUN)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[callback])
    assert sorted(matrices(tmp_path)[RUN]) == [0]


def test_case3_a_fit_after_one_that_raised_before_its_first_epoch_with_the_users_history_is_not_refused(
        tmp_path, data):
    """A ``keras.callbacks.History`` given in callbacks=[...] is every fit's: a fit that raised in another callback's
    ``on_train_begin`` (no epoch, no ``on_train_end``) does not make the next fit look like this one listed twice."""
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    history, callback = keras.callbacks.History(), ClassificationReportCallback(tmp_path, verbose=0)

    class FailingSetUp(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("the user's set-up failed")

    with pytest.raises(RuntimeError, match="the user's set-up failed"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
                  callbacks=[history, callback, FailingSetUp()])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=[history, callback])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], sk_matrix(model, x_val, y_val))
    with pytest.raises(ValueError, match=r"listed twice in fit\(callbacks=\[\.\.\.\]\): list it once"):
        model.fit(x, y, validation_data=(x_val, y_val), initial_epoch=2, epochs=3, verbose=0,
                  callbacks=[history, callback, callback])


# -- case 4: training again into a log_dir that holds a run -----------------
def test_case4_a_rerun_is_refused_before_training_and_continuing_works(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    first = matrices(tmp_path)[RUN]
    for fresh_process in (False, True):
        if fresh_process:
            targets.close_directory_writers()  # as a new process would: history read from disk
        counter = Counter()
        with pytest.raises(ValueError, match=r"not after the last step already logged \(1\).*new log directory.*initial_epoch=2") as raised:
            model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
                      callbacks=[ClassificationReportCallback(tmp_path, verbose=0), counter])
        assert "will not start training at epoch 0" in str(raised.value)
        assert counter.batches == 0
    model.fit(x, y, validation_data=(x_val, y_val), initial_epoch=2, epochs=4, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2, 3]
    for step in (0, 1):
        np.testing.assert_array_equal(logged[step], first[step])
    np.testing.assert_array_equal(logged[3], sk_matrix(model, x_val, y_val))
    # a new log_dir starts fresh
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path / "fresh", verbose=0)])
    assert sorted(matrices(tmp_path / "fresh")[RUN]) == [0]


def test_case4_deleting_the_run_in_the_same_process_starts_fresh(tmp_path, data):
    import shutil

    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    for _ in range(2):  # the second fit runs after the directory was deleted
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
        assert sorted(matrices(tmp_path)[RUN]) == [0]
        shutil.rmtree(tmp_path / RUN)


class _Interrupt(keras.callbacks.Callback):
    """Stands for a preemption between two callbacks' on_epoch_end at epoch 1."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("preempted")


@pytest.mark.parametrize("report_first", [True, False], ids=["report-then-backup", "backup-then-report"])
def test_case4_a_fit_resumed_by_backup_and_restore_keeps_or_names_the_epochs_of_the_interruption(
    tmp_path, data, report_first
):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    report = ClassificationReportCallback(tmp_path, verbose=0)
    order = [report, _Interrupt(), backup] if report_first else [backup, _Interrupt(), report]
    fit = dict(x=x, y=y, validation_data=(x_val, y_val), epochs=4, verbose=0)
    with pytest.raises(RuntimeError, match="preempted"):
        model.fit(**fit, callbacks=order)
    interrupted = sk_matrix(model, x_val, y_val)  # the model of epoch 1's end
    counter = Counter()
    if report_first:  # epoch 1 was logged, not backed up: it trains again and its step is kept
        model.fit(**fit, callbacks=[report, backup, counter])
        assert counter.batches == 3 * len(range(0, len(x), 32))  # epochs 1, 2, 3
        np.testing.assert_array_equal(matrices(tmp_path)[RUN][1], interrupted)
    else:  # epoch 1 was backed up, not logged: it is missing, and said
        with pytest.warns(UserWarning, match=r"resumes at epoch 2, but this run's last step is 0: epoch\(s\) 1 were backed up"):
            model.fit(**fit, callbacks=[backup, report, counter])
        assert counter.batches == 2 * len(range(0, len(x), 32))  # epochs 2, 3
    assert sorted(matrices(tmp_path)[RUN]) == ([0, 1, 2, 3] if report_first else [0, 2, 3])
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][3], sk_matrix(model, x_val, y_val))
    # Keras keeps the restore's _initial_epoch and starts a later fit of this model there again: that
    # fit is no resume, and logging its epochs again is refused as for any other fit
    restored = model._initial_epoch
    with pytest.raises(ValueError, match=rf"will not start training at epoch {restored}: step {restored} .* is not after") \
            as refused:
        model.fit(**{**fit, "epochs": 6}, initial_epoch=4, callbacks=[report])
    # its advice, initial_epoch=4, is what the user passed: the refusal says why Keras did not start there
    assert (f"But Keras started this fit at epoch {restored} whatever its initial_epoch: an earlier fit's BackupAndRestore "
            f"left model._initial_epoch={restored}, which Keras never clears and prefers to fit(initial_epoch=...); "
            "set model._initial_epoch = None before this fit") in str(refused.value)
    model._initial_epoch = None
    model.fit(**{**fit, "epochs": 6}, initial_epoch=4, callbacks=[report])
    assert sorted(matrices(tmp_path)[RUN]) == ([0, 1, 2, 3, 4, 5] if report_first else [0, 2, 3, 4, 5])


def _left_at_2_by_fits_without_the_callback(model, fit, backup_dir):
    backup = keras.callbacks.BackupAndRestore(str(backup_dir))
    with pytest.raises(RuntimeError, match="preempted"):  # backed up through epoch 1
        model.fit(**fit, epochs=4, callbacks=[backup, _Interrupt()])
    model.fit(**fit, epochs=4, callbacks=[backup])  # restored at 2, ends: its backup is deleted
    assert model._initial_epoch == 2


def test_case4_a_start_left_by_a_restore_in_fits_without_the_callback_is_no_resume(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    fit = dict(x=x, y=y, validation_data=(x_val, y_val), verbose=0)
    model = classifier([BalancedAccuracy(CLASSES)])
    model.fit(**fit, epochs=4, callbacks=[ClassificationReportCallback(tmp_path / "earlier", verbose=0)])
    earlier = matrices(tmp_path / "earlier")[RUN]
    _left_at_2_by_fits_without_the_callback(model, fit, tmp_path / "backup")
    # the run's steps 2-3 are the earlier fit's, not an interrupted one's: refused, not kept
    counter = Counter()
    with pytest.raises(ValueError, match=r"will not start training at epoch 2: step 2 .* is not after the last step "
                                         r"already logged \(3\).*set model\._initial_epoch = None before this fit"):
        model.fit(**fit, initial_epoch=4, epochs=6,
                  callbacks=[ClassificationReportCallback(tmp_path / "earlier", verbose=0), counter])
    assert counter.batches == 0
    logged = matrices(tmp_path / "earlier")[RUN]
    assert sorted(logged) == [0, 1, 2, 3]
    np.testing.assert_array_equal(logged[3], earlier[3])

    model = classifier([BalancedAccuracy(CLASSES)])
    _left_at_2_by_fits_without_the_callback(model, fit, tmp_path / "backup2")
    with pytest.warns(UserWarning) as said:  # a new run: no epochs 0-1 "backed up by the interrupted fit"
        model.fit(**fit, epochs=4, callbacks=[ClassificationReportCallback(tmp_path / "new", verbose=0)])
    assert [str(w.message) for w in said if "ClassificationReportCallback" in str(w.message)] == [
        "ClassificationReportCallback: Keras starts this fit at epoch 2, not at its initial_epoch=0: an earlier fit's "
        "BackupAndRestore left model._initial_epoch=2, which Keras never clears and prefers to fit(initial_epoch=...), "
        "so the run's first step is 2; set model._initial_epoch = None before fit to start at its initial_epoch"]
    logged = matrices(tmp_path / "new")[RUN]
    assert sorted(logged) == [2, 3]
    np.testing.assert_array_equal(logged[3], sk_matrix(model, x_val, y_val))


def test_case4_a_fit_restored_again_at_the_epoch_of_a_former_restore_is_a_resume(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    fit = dict(x=x, y=y, validation_data=(x_val, y_val), epochs=4, verbose=0)
    model = classifier([BalancedAccuracy(CLASSES)])
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    report = ClassificationReportCallback(tmp_path, verbose=0)
    for _ in range(3):  # preempted at epoch 1's end each time: logged, not backed up; restored at 1 twice
        with pytest.raises(RuntimeError, match="preempted"):
            model.fit(**fit, callbacks=[report, _Interrupt(), backup])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1]
    counter = Counter()
    model.fit(**fit, callbacks=[report, backup, counter])  # restored at 1 a third time: step 1 kept
    assert counter.batches == 3 * len(range(0, len(x), 32))
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2, 3]
    np.testing.assert_array_equal(logged[3], sk_matrix(model, x_val, y_val))


class _InterruptMidEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.armed = epoch, True

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.armed and self.current == self.epoch and batch == 1:
            self.armed = False
            raise RuntimeError("preempted")


def test_case4_a_resume_under_validation_freq_or_before_any_step_names_only_the_epochs_really_missing(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    report = ClassificationReportCallback(tmp_path / "vfreq", verbose=0)
    fit = dict(x=x, y=y, validation_data=(x_val, y_val), epochs=6, verbose=0, validation_freq=2)
    interrupt = _InterruptMidEpoch(5)
    with pytest.raises(RuntimeError, match="preempted"):
        model.fit(**fit, callbacks=[report, backup, interrupt])
    with warnings.catch_warnings():  # logged 1, 3; resumed at 5: nothing is missing
        warnings.simplefilter("error", UserWarning)
        model.fit(**fit, callbacks=[report, backup, interrupt])
    assert sorted(matrices(tmp_path / "vfreq")[RUN]) == [1, 3, 5]

    model = classifier([BalancedAccuracy(CLASSES)])
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup0"))
    report = ClassificationReportCallback(tmp_path / "first", verbose=0)
    fit = dict(x=x, y=y, validation_data=(x_val, y_val), epochs=3, verbose=0)

    class InterruptAtZero(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise RuntimeError("preempted")

    with pytest.raises(RuntimeError, match="preempted"):
        model.fit(**fit, callbacks=[backup, InterruptAtZero(), report])
    with pytest.warns(UserWarning, match=r"resumes at epoch 1, but this run's last step is -1: epoch\(s\) 0 were backed up"):
        model.fit(**fit, callbacks=[backup, report])
    assert sorted(matrices(tmp_path / "first")[RUN]) == [1, 2]


def test_case3_a_callback_list_fitted_again_after_an_interruption_is_not_listed_twice(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    callbacks = [ClassificationReportCallback(tmp_path, verbose=0), keras.callbacks.History(), _Interrupt()]
    with pytest.raises(RuntimeError, match="preempted"):  # no on_train_end: the callback still holds that fit
        model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0, callbacks=callbacks)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=4, initial_epoch=2, verbose=0, callbacks=callbacks[:2])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1, 2, 3]


def test_case3_after_a_fit_stopped_by_ctrl_c_evaluate_says_it_writes_nothing_and_the_epochs_are_kept(tmp_path, data):
    """Keras skips on_train_end after a KeyboardInterrupt: the callback still leaves that fit."""
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])

    class CtrlC(keras.callbacks.Callback):  # after the report's on_epoch_end: step 1 handed to the background writer
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    report = ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[report, CtrlC()])
    with pytest.warns(UserWarning, match=r"model\.evaluate\(callbacks=\[\.\.\.\]\) writes nothing") as said:
        model.evaluate(x_val, y_val, verbose=0, callbacks=[report])
        model.evaluate(x_val, y_val, verbose=0, callbacks=[report])
    assert len([w for w in said if "writes nothing" in str(w.message)]) == 1
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1]  # the interrupted fit's epochs are on disk
    model.fit(x, y, validation_data=(x_val, y_val), epochs=3, initial_epoch=2, verbose=0, callbacks=[report])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    np.testing.assert_array_equal(logged[2], sk_matrix(model, x_val, y_val))


@pytest.mark.parametrize("refused_at", ["first_epoch_end", "first_epoch_begin"])
def test_case3_a_fit_in_another_thread_writing_the_same_tag_is_named_in_the_refusal(tmp_path, data, refused_at):
    """Two fits in two threads, one log_dir and name: the second is refused, saying so; the first logs every epoch."""
    import threading

    (x, y), (x_val, y_val), _ = data
    second_began, first_wrote, second_done = threading.Event(), threading.Event(), threading.Event()
    errors = {}

    class First(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if refused_at == "first_epoch_end":  # the second fit has checked the run directory at its first epoch
                second_began.wait(120)

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                tb_imbalance.background.flush()  # step 0 on disk
                first_wrote.set()
                second_done.wait(120)  # this fit still runs while the second one is refused

    class Second(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if refused_at == "first_epoch_begin":
                first_wrote.wait(120)
            second_began.set()

        def on_train_batch_begin(self, batch, logs=None):
            first_wrote.wait(120)

    def fit(which, callbacks):
        model = classifier([BalancedAccuracy(CLASSES)])
        try:
            model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=callbacks)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors[which] = error
        finally:
            if which == "second":
                second_done.set()
        if which == "first":
            errors["first_model"] = model

    report = ClassificationReportCallback(tmp_path, verbose=0)
    second = [Second(), ClassificationReportCallback(tmp_path, verbose=0)]
    if refused_at == "first_epoch_end":  # the report checks the run directory first, then the fit waits
        second.reverse()
    threads = [threading.Thread(target=fit, args=("first", [report, First()]), name="first-fit"),
               threading.Thread(target=fit, args=("second", second), name="second-fit")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert "first" not in errors, errors.get("first")
    message = str(errors.get("second"))
    assert isinstance(errors.get("second"), ValueError), message
    assert "another fit in this process (thread 'first-fit') is writing tag 'confusion_matrix'" in message
    assert "own `name`" in message and "own `log_dir`" in message and "initial_epoch" not in message
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], sk_matrix(errors["first_model"], x_val, y_val))


def test_case3_one_callback_object_given_to_a_second_fit_while_the_first_runs_in_another_thread_is_refused(
        tmp_path, data):
    """Keras hands the callback each fit's model: a second fit meanwhile is refused, and the first reads its own."""
    import threading

    (x, y), (x_val, y_val), _ = data
    first_logged, second_done = threading.Event(), threading.Event()
    errors = {}

    class Hold(keras.callbacks.Callback):  # listed after the report: step 0 handed over, the fit still runs
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                first_logged.set()
                second_done.wait(120)

    def first():
        model = classifier([BalancedAccuracy(CLASSES)])
        try:
            model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0, callbacks=[report, Hold()])
        except Exception as error:  # noqa: BLE001 - asserted below
            errors["first"] = error
        errors["first_model"] = model

    report = ClassificationReportCallback(tmp_path, verbose=0)
    thread = threading.Thread(target=first, name="first-fit")
    thread.start()
    try:
        assert first_logged.wait(120)
        other = keras.Sequential([keras.Input((6,)), keras.layers.Dense(CLASSES + 1, activation="softmax")])
        other.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES + 1)])
        counter = Counter()
        with pytest.raises(ValueError, match=re.escape(
                "this ClassificationReportCallback already takes part in a fit still running in thread 'first-fit' "
                "(in another thread, or the fit from whose callback this one started): one callback object follows "
                "one fit at a time")) as refused:
            other.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=[report, counter])
        assert "own ClassificationReportCallback in callbacks=[...], with its own `log_dir` or `name`" in str(refused.value)
        assert counter.batches == 0
    finally:
        second_done.set()
        thread.join(300)
    assert "first" not in errors, errors.get("first")
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]  # every epoch of the first fit, each its own model's 3-class matrix
    np.testing.assert_array_equal(logged[2], sk_matrix(errors["first_model"], x_val, y_val))
    # once that fit has returned, the callback follows the next one as usual
    classifier([BalancedAccuracy(CLASSES)]).fit(x, y, validation_data=(x_val, y_val), epochs=4, initial_epoch=3,
                                                verbose=0, callbacks=[report])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1, 2, 3]


def test_case3_one_callback_object_handed_to_two_fits_starting_at_once_in_two_threads_is_refused_once(tmp_path, data):
    """Two threads start a fit with one callback object at the same moment: Keras hands it the second fit's model
    before the first fit's ``on_train_begin`` runs. The first is refused naming the other thread (it would read
    the other model); the other fit logs every epoch of its own model."""
    (x, y), (x_val, y_val), _ = data
    report = ClassificationReportCallback(tmp_path, verbose=0)
    first_waits, handed, first_began = threading.Event(), threading.Event(), threading.Event()
    errors, counter = {}, Counter()

    class WaitForTheOtherFit(keras.callbacks.Callback):  # listed first in the first fit, handed its model already
        def on_train_begin(self, logs=None):
            first_waits.set()
            assert handed.wait(120)

    class Handed(keras.callbacks.Callback):  # listed after the report: Keras hands models in list order
        def set_model(self, model):
            super().set_model(model)
            handed.set()

    class AfterTheFirst(keras.callbacks.Callback):  # listed first in the second fit
        def on_train_begin(self, logs=None):
            assert first_began.wait(120)

    class Began(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            first_began.set()

    def fit(name, callbacks, epochs):
        model = errors[name + "_model"] = classifier([BalancedAccuracy(CLASSES)])
        try:
            model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, verbose=0, callbacks=callbacks)
        except Exception as error:  # noqa: BLE001 - asserted below
            errors[name] = error
        finally:
            first_began.set()

    first = threading.Thread(target=fit, name="first-fit",
                             args=("first", [WaitForTheOtherFit(), report, Began(), counter], 2))
    second = threading.Thread(target=fit, name="second-fit", args=("second", [AfterTheFirst(), report, Handed()], 3))
    first.start()
    assert first_waits.wait(120)
    second.start()
    first.join(300)
    second.join(300)
    assert "second" not in errors, errors.get("second")
    assert str(errors.get("first")).startswith(
        "this ClassificationReportCallback already takes part in a fit still running in thread 'second-fit'")
    assert counter.batches == 0
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    np.testing.assert_array_equal(logged[2], sk_matrix(errors["second_model"], x_val, y_val))


def test_case3_one_callback_object_given_to_a_fit_started_from_a_callback_of_its_running_fit_is_refused(
        tmp_path, data):
    """A fit started inside another (from one of its callbacks) with the same callback object: refused, and the
    outer fit still logs every epoch of its own model. After a fit that raised, the next one is not refused."""
    (x, y), (x_val, y_val), _ = data
    report = ClassificationReportCallback(tmp_path, verbose=0)
    refusals = []

    class FitAnother(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                with pytest.raises(ValueError) as refused:
                    classifier([BalancedAccuracy(CLASSES)]).fit(x, y, validation_data=(x_val, y_val), epochs=1,
                                                                verbose=0, callbacks=[report])
                refusals.append(str(refused.value))

    model = classifier([BalancedAccuracy(CLASSES)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing said of the outer fit's epochs: each is logged
        model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0, callbacks=[report, FitAnother()])
    assert refusals == [refusals[0]] and refusals[0].startswith(
        "this ClassificationReportCallback already takes part in a fit still running in thread "
        f"{threading.current_thread().name!r} (in another thread, or the fit from whose callback this one started)")
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    np.testing.assert_array_equal(logged[2], sk_matrix(model, x_val, y_val))
    class Preempt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("preempted")

    with pytest.raises(RuntimeError, match="preempted"):  # a fit of this model that raised, then the next one
        model.fit(x, y, validation_data=(x_val, y_val), epochs=5, initial_epoch=3, verbose=0,
                  callbacks=[report, Preempt()])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=5, initial_epoch=4, verbose=0, callbacks=[report])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1, 2, 3, 4]


class Expected(keras.callbacks.Callback):
    """Listed after the report: scikit-learn's matrix of the fit's model at each epoch's end."""

    def __init__(self, x_val, y_val):
        super().__init__()
        self.x_val, self.y_val, self.matrices = x_val, y_val, {}

    def on_epoch_end(self, epoch, logs=None):
        self.matrices[epoch] = sk_matrix(self.model, self.x_val, self.y_val)


@pytest.mark.parametrize("where", ["this thread", "another thread"])
def test_case3_another_models_evaluate_given_the_callback_mid_fit_leaves_it_the_fits_model(tmp_path, data, where):
    """A callback of the fit (or a thread started from it) evaluates another model with the report callback: Keras
    hands the report that model. It keeps the fit's model, said once; every epoch is the fit's model's matrix (the
    predictions of the other model were logged as the fit's epochs 1 and 2)."""
    (x, y), (x_val, y_val), _ = data
    model, other = classifier(), classifier(classes=CLASSES)
    other.set_weights([w * -1.0 for w in other.get_weights()])  # another model, another matrix
    report = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), verbose=0)
    evaluated = {}

    class EvaluateOther(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch != 1:
                return
            run = lambda: evaluated.setdefault("loss", other.evaluate(x_val, y_val, verbose=0, callbacks=[report]))
            if where == "this thread":
                return run()
            thread = threading.Thread(target=run, name="evaluator")
            thread.start()
            thread.join(120)

    expected = Expected(x_val, y_val)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=3, verbose=0, callbacks=[EvaluateOther(), report, expected])
    assert np.isfinite(evaluated["loss"])  # the evaluate itself ran
    assert report.model is model
    kept = [str(w.message) for w in said if "set_model() was handed another model" in str(w.message)]
    assert len(kept) == 1 and f"while the fit of model {model.name!r} runs: this callback keeps reporting the " \
        "fit's model, and writes nothing for the other. Give the other model its own ClassificationReportCallback" \
        in kept[0], [str(w.message) for w in said]
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    assert not np.array_equal(sk_matrix(other, x_val, y_val), expected.matrices[2])
    for epoch in range(3):
        np.testing.assert_array_equal(logged[epoch], expected.matrices[epoch])


def test_case3_evaluate_given_the_callback_in_another_thread_while_its_fit_runs_is_said_and_left_alone(tmp_path, data):
    """The fit's own model evaluated with the report callback in another thread while the fit runs: that pass
    writes nothing, said once naming both threads (nothing was said), and every epoch logs fit's validation pass."""
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = classifier([BalancedAccuracy(CLASSES)])
    report = ClassificationReportCallback(tmp_path, verbose=0)

    class EvaluateInAThread(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # listed after the report: fit's counts are logged already
            if epoch == 1:
                thread = threading.Thread(
                    target=lambda: model.evaluate(x_test, y_test, verbose=0, callbacks=[report]), name="evaluator")
                thread.start()
                thread.join(120)

    expected = Expected(x_val, y_val)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0,
                  callbacks=[report, expected, EvaluateInAThread()])
    messages = [str(w.message) for w in said if "ClassificationReportCallback" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith(
        "ClassificationReportCallback: model.evaluate(callbacks=[...]) in thread 'evaluator' writes nothing with this "
        f"callback, which takes part in a fit running in thread {threading.current_thread().name!r}"), messages
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1, 2]
    for epoch in range(3):
        np.testing.assert_array_equal(logged[epoch], expected.matrices[epoch])


# -- case 6: validation_data that never ends -------------------------------
def endless(x, y, size=25):
    while True:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


class EndlessBatches(keras.utils.PyDataset):
    def __init__(self, x, y, size=25):
        super().__init__()
        self.x, self.y, self.size = x, y, size

    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        start = (index * self.size) % len(self.x)
        return self.x[start:start + self.size], self.y[start:start + self.size]


class NoLength:
    """A re-iterable without __len__."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        return endless(self.x, self.y)


def endless_sources(x, y):
    sources = {"generator": lambda: endless(x, y), "py_dataset": lambda: EndlessBatches(x, y), "iterable": lambda: NoLength(x, y)}
    try:
        import torch
    except ImportError:
        return sources

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            for start in range(0, len(x), 5):  # rows one by one; batched by the DataLoader
                for row in range(start, min(start + 5, len(x))):
                    yield torch.from_numpy(x[row]), int(y[row])

    sources["iterable_dataloader"] = lambda: torch.utils.data.DataLoader(Stream(), batch_size=25)
    return sources


@pytest.mark.parametrize("kind", ["generator", "py_dataset", "iterable", "iterable_dataloader"])
def test_case6_endless_validation_data_needs_validation_steps(tmp_path, data, kind):
    (x, y), (x_val, y_val), _ = data
    sources = endless_sources(x_val, y_val)
    if kind not in sources:
        pytest.skip("PyTorch is not installed in this environment")
    with pytest.raises(ValueError, match=r"may never end.*validation_steps=<batches per report>"):
        ClassificationReportCallback(tmp_path, validation_data=sources[kind]())
    model = classifier()
    callback = ClassificationReportCallback(tmp_path, validation_data=sources[kind](), validation_steps=2, verbose=0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    logged = matrices(tmp_path)[RUN]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], sk_matrix(model, x_val[:50], y_val[:50]))  # the first 2 batches of 25


def test_case6_validation_steps_is_checked_and_limits_finite_sources(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="`validation_steps` must be a positive int"):
            ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), validation_steps=bad)
    with pytest.raises(ValueError, match="`validation_steps` limits the callback's own `validation_data`"):
        ClassificationReportCallback(tmp_path, validation_steps=3)
    model = classifier()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), validation_steps=2, batch_size=16, verbose=0)
    ])
    np.testing.assert_array_equal(matrices(tmp_path)[RUN][0], sk_matrix(model, x_val[:32], y_val[:32]))


# -- case 7: Keras' monitor callbacks with mode="auto" -----------------------
@pytest.mark.parametrize("monitor", ["val_balanced_accuracy", "val_macro_f1"])
def test_case7_monitor_callbacks_with_default_mode(tmp_path, data, monitor):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
    checkpoint = str(tmp_path / "best.weights.h5")
    watchers = [
        keras.callbacks.EarlyStopping(monitor=monitor, patience=3),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor=monitor, save_best_only=True, save_weights_only=True),
        keras.callbacks.ReduceLROnPlateau(monitor=monitor, patience=1),
    ]
    history = model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=watchers)
    assert len(history.history[monitor]) == 2 and os.path.exists(checkpoint)
    for watcher in watchers:  # mode="auto" reads the metric's _direction: higher is better
        assert bool(watcher.monitor_op(0.9, 0.1)) and not bool(watcher.monitor_op(0.1, 0.9)), type(watcher).__name__
    assert watchers[1].best == pytest.approx(max(history.history[monitor]))


def test_case7_a_metric_only_monitored_says_once_why_it_is_nan(tmp_path, data):
    """No report callback to raise: EarlyStopping would stop on NaN in silence (an all-zero one-hot row)."""
    (x, y), (x_val, y_val), _ = data
    labels = np.eye(CLASSES, dtype="float32")[y_val]
    labels[5] = 0.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    stop = keras.callbacks.EarlyStopping(monitor="val_balanced_accuracy", patience=5)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        history = model.fit(x, np.eye(CLASSES)[y], validation_data=(x_val, labels), epochs=3, verbose=0, callbacks=[stop])
    assert np.isnan(history.history["val_balanced_accuracy"]).all()
    messages = [str(w.message) for w in said if "balanced_accuracy: since its last reset" in str(w.message)]
    assert len(messages) == 1, messages
    assert "1 rows could not be counted" in messages[0] and "one-hot rows with one largest, positive entry" in messages[0]
    model.compile("adam", "categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])  # a new metric
    with warnings.catch_warnings(record=True) as said:  # every row counted: nothing said
        warnings.simplefilter("always")
        model.fit(x, np.eye(CLASSES)[y], validation_data=(x_val, np.eye(CLASSES)[y_val]), epochs=1, verbose=0)
        model.evaluate(x_val, np.eye(CLASSES)[y_val], verbose=0)
    assert not [w for w in said if "since its last reset" in str(w.message)]


# -- case 8: fit without validation ----------------------------------------
def test_case8_no_validation_in_fit_warns_once_and_writes_nothing(tmp_path, data, capsys):
    (x, y), _, _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    with pytest.warns(UserWarning, match=r"nothing was logged for epoch 0: fit did not validate.*validation_data") as caught:
        model.fit(x, y, epochs=3, verbose=0, callbacks=[ClassificationReportCallback(tmp_path)])
    assert len([w for w in caught if "ClassificationReportCallback" in str(w.message)]) == 1
    out = capsys.readouterr().out
    assert out.count("ClassificationReportCallback: warning: nothing was logged") == 1
    assert not os.path.exists(tmp_path / RUN)
    # no compiled metric and no validation_data: a set-up error, before training
    counter = Counter()
    with pytest.raises(ValueError, match="needs a validation confusion matrix"):
        classifier().fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path), counter])
    assert counter.batches == 0


# -- case 9: class_names and shapes ----------------------------------------
def test_case9_class_names_types_are_checked_at_construction(tmp_path):
    for bad, message in (
        ("a,b,c", r"must be a sequence of names, received the string 'a,b,c'; pass a list such as \['a', 'b', 'c'\]"),
        ({"a", "b"}, "is a set, which has no order; pass a list of the names in class-id order"),
        ({0: "a", 1: "b"}, r"is a mapping \(keys 0, 1\); pass the names in class-id order"),
        ((name for name in "abc"), r"must be a list or tuple of names \(one per class\), received generator; .*: list"),
        (3, "must be a list or tuple of names \\(one per class\\), received int$"),
    ):
        with pytest.raises(TypeError, match=f"`class_names` {message}"):
            ClassificationReportCallback(tmp_path, class_names=bad)
    with pytest.raises(ValueError, match="`class_names` must be unique"):
        ClassificationReportCallback(tmp_path, class_names=["a", "a"])
    for blank, shown in (("", "empty"), ("\u00a0", r"only whitespace \('\\xa0'\)")):
        with pytest.raises(ValueError, match=rf"^`class_names`\[1\] is {shown}, which shows as a blank row; give each"):
            ClassificationReportCallback(tmp_path, class_names=["a", blank, "c"])
    with pytest.raises(ValueError, match=r"^`class_names`\[0\] and \[2\] differ only by whitespace at their ends "
                                         r"\('a' and ' a'\)"):
        ClassificationReportCallback(tmp_path, class_names=["a", "b", " a"])
    with pytest.raises(ValueError, match=r"^`class_names`\[1\] is 'b\\n', with whitespace at its start or end, .*; "
                                         r"pass the names stripped: \[name.strip\(\) for name in class_names\]$"):
        ClassificationReportCallback(tmp_path, class_names=["a", "b\n", "c"])
    assert ClassificationReportCallback(tmp_path, class_names=["fraud", "Fraud"]).class_names == ["fraud", "Fraud"]
    assert ClassificationReportCallback(tmp_path, class_names=np.array([1, 2])).class_names == ["1", "2"]


class Subclassed(keras.Model):
    """A model whose output shape is unknown before training."""

    def __init__(self, classes):
        super().__init__()
        self.dense = keras.layers.Dense(classes, activation="softmax")

    def call(self, inputs):
        return self.dense(inputs)


def test_case9_class_names_length_is_checked_as_soon_as_C_is_known(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    three = ["a", "b", "c"]
    cases = [
        ("metric", classifier([BalancedAccuracy(CLASSES)]), {}, "the compiled metric 'balanced_accuracy'"),
        ("output", classifier(), {"validation_data": (x_val, y_val)}, r"the model's output shape \(None, 4\)"),
    ]
    binary = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1, activation="sigmoid")])
    binary.compile("adam", "binary_crossentropy")
    cases.append(("sigmoid", binary, {"validation_data": (x_val, y_val % 2)}, r"the model's output shape \(None, 1\)"))
    for label, model, kwargs, origin in cases:
        counter = Counter()
        with pytest.raises(ValueError, match=rf"`class_names` must have one name per class.*received 3 names; C=[24] comes from {origin}"):
            model.fit(x, y % 2 if label == "sigmoid" else y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                      callbacks=[ClassificationReportCallback(tmp_path / label, class_names=three, **kwargs), counter])
        assert counter.batches == 0, label
    # unknown before training (a subclassed model): at the first epoch, still blaming class_names
    keras.utils.set_random_seed(2)
    model = Subclassed(CLASSES)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"`class_names` must have one name per class \(4\), received 3") as raised:
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "late", class_names=three, validation_data=(x_val, y_val), verbose=0)])
    assert "`labels`" not in str(raised.value)


def test_case9_an_all_zero_one_hot_label_row_is_not_class_0(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    one_hot = np.eye(CLASSES, dtype="float32")[y_val]
    one_hot[[3, 7]] = 0
    # eager metric on numpy: refused; on backend tensors: invalid rows, never class 0
    with pytest.raises(ValueError, match="no positive entry"):
        BalancedAccuracy(CLASSES).update_state(one_hot, np.eye(CLASSES, dtype="float32")[y_val])
    metric = BalancedAccuracy(CLASSES)
    metric.update_state(keras.ops.convert_to_tensor(one_hot), keras.ops.convert_to_tensor(np.eye(CLASSES, dtype="float32")[y_val]))
    assert metric.invalid_rows == 2
    with pytest.raises(ValueError, match="2 rows could not be counted.*one-hot rows with one largest, positive entry"):
        metric.confusion_matrix()
    # in fit, through the callback: refused at the epoch's end, nothing written
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    with pytest.raises(ValueError, match="2 rows could not be counted"):
        model.fit(x, np.eye(CLASSES)[y], validation_data=(x_val, one_hot), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "metric", verbose=0)])
    assert not os.path.exists(tmp_path / "metric" / RUN)
    # the callback's predict path: refused before training
    counter = Counter()
    with pytest.raises(ValueError, match=r"`validation_data` \(arrays \(x, y\)\), its y: one-hot `labels` row 3 has no positive entry"):
        classifier().fit(x, y, epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path / "predict", validation_data=(x_val, one_hot)), counter])
    assert counter.batches == 0


def updated(metric, update, labels, predictions):
    """``metric`` after one update with backend tensors, eager or compiled as a train step runs it."""
    tensors = [keras.ops.convert_to_tensor(value) for value in (labels, predictions)]
    if update == "eager":
        metric.update_state(*tensors)
    else:
        compiled_update(metric)(*tensors, keras.ops.ones((len(labels),)))
    return metric


def test_case9_a_multi_hot_label_row_is_not_its_first_class(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    labels = np.eye(CLASSES, dtype="float32")[y_val]
    labels[3, :] = labels[7, :] = 0
    labels[3, [0, 2]] = 1.0  # two classes in one row: multi-label data
    labels[7, :] = 0.25  # every class alike
    scores = np.eye(CLASSES, dtype="float32")[y_val]
    with pytest.raises(ValueError, match=r"one-hot `labels` row 3 has its largest value 1.0 in columns \[0, 2\] "
                                         r"\(2 such rows\), so it names no one class"):
        BalancedAccuracy(CLASSES).update_state(labels, scores)
    for update in ("eager", "compiled"):
        metric = updated(BalancedAccuracy(CLASSES), update, labels, scores)
        assert metric.invalid_rows == 2, update
        with pytest.raises(ValueError, match="2 rows could not be counted.*one-hot rows with one largest, positive entry"):
            metric.confusion_matrix()
    # with weight 0 such rows are padding, dropped alike by the metric and the writers
    weights = np.ones(len(labels), "float32")
    weights[[3, 7]] = 0
    metric = BalancedAccuracy(CLASSES)
    metric.update_state(*(keras.ops.convert_to_tensor(value) for value in (labels, scores, weights)))
    kept = np.ones(len(labels), bool)
    kept[[3, 7]] = False
    expected = sk_confusion_matrix(y_val[kept], y_val[kept], labels=range(CLASSES))
    assert metric.confusion_matrix().tolist() == expected.tolist()
    assert tb_imbalance.log_report(tmp_path / "padded", labels, scores, 0, sample_weight=weights).tolist() == expected.tolist()
    # the callback's predict path: refused before training
    with pytest.raises(ValueError, match=r"`validation_data` \(arrays \(x, y\)\), its y: one-hot `labels` row 3 has its largest"):
        classifier().fit(x, y, epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path / "predict", validation_data=(x_val, labels))])


def test_case9_an_integer_prediction_row_with_no_or_several_ones_is_not_its_first_class(tmp_path, data):
    """Thresholded outputs ((p > 0.5).astype(int)) can predict no class or several: refused, never class 0."""
    (_, _), (_, y_val), _ = data
    for width in (CLASSES, 20):  # 20: TensorFlow would pick float rows of this width with its own argmax
        labels = y_val % width
        predicted = np.eye(width, dtype="int32")[labels]
        predicted[3] = 0  # nothing predicted
        predicted[7, [0, 2]] = 1  # two classes
        with pytest.raises(ValueError, match=r"integer `predictions` row 3 has its largest value 0 in columns "
                                             r"\[0, 1, 2, 3.*\(2 such rows\), so it predicts no one class"):
            tb_imbalance.log_report(tmp_path / "refused", labels, predicted, 0, num_classes=width)
        with pytest.raises(ValueError, match="integer `predictions` row 3"):
            BalancedAccuracy(width).update_state(labels, predicted)
        for update in ("eager", "compiled"):
            metric = updated(BalancedAccuracy(width), update, labels, predicted)
            assert metric.invalid_rows == 2, (width, update)
            assert np.isnan(float(metric.result()))
            with pytest.raises(ValueError, match=r"2 rows could not be counted.*integer rows, one-hot or thresholded"):
                metric.confusion_matrix()
    assert not os.path.exists(tmp_path / "refused")
    # one-hot rows that name one class each are counted as their class, as integer scores are
    rows = np.array([[0, 0, 1, 0], [1, 0, 0, 0], [-3, 2, 0, 1]], dtype="int8")
    expected = sk_confusion_matrix([2, 0, 1], [2, 0, 1], labels=range(4))
    assert tb_imbalance.log_report(tmp_path / "kept", [2, 0, 1], rows, 0).tolist() == expected.tolist()
    metric = BalancedAccuracy(4)
    metric.update_state(keras.ops.convert_to_tensor([2, 0, 1]), keras.ops.convert_to_tensor(rows))
    assert metric.confusion_matrix().tolist() == expected.tolist()


def test_case9_predict_path_shape_errors_name_the_argument(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    counter = Counter()
    # a multi-output model: says which output to log and how
    inputs = keras.Input((6,))
    heads = [keras.layers.Dense(CLASSES, activation="softmax", name=n)(inputs) for n in ("main", "aux")]
    multi = keras.Model(inputs, heads)
    multi.compile("adam", ["sparse_categorical_crossentropy"] * 2)
    with pytest.raises(ValueError, match=r"`validation_data`: the model returns 2 outputs.*metrics=\{'<output name>'"):
        multi.fit(x, [y, y], epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val)), counter])
    # an output of shape [N, 3, 1]
    squeezable = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax"), keras.layers.Reshape((3, 1))])
    squeezable.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"the model's output has shape \(None, 3, 1\).*remove the size-1 axes"):
        squeezable.fit(x, np.zeros((len(x), 3, 1)), epochs=1, verbose=0,
                       callbacks=[ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val % 3)), counter])
    assert counter.batches == 0
    # labels: ragged, or [N, 3, 1]
    ragged = [[0], [1, 2]] + [[1]] * (len(x_val) - 2)
    with pytest.raises(TypeError, match=r"`validation_data` \(arrays \(x, y\)\), its y: `labels` must be a rectangular array"):
        classifier().fit(x, y, epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path, validation_data=(x_val, ragged)), counter])
    with pytest.raises(ValueError, match=r"its y: `labels` must be class ids \[N\].*\(80, 3, 1\); remove the size-1 axes"):
        classifier().fit(x, y, epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path, validation_data=(x_val, np.zeros((80, 3, 1)))), counter])
    assert counter.batches == 0
    # batched sources are checked at the first report, with the same names
    batches = [(x_val[:40], y_val[:40].reshape(40, 1, 1)), (x_val[40:], y_val[40:].reshape(40, 1, 1))]
    with pytest.raises(ValueError, match=r"`validation_data` \(iterable of batches list\): `labels` must be class ids.*size-1 axes"):
        classifier().fit(x, y, epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path / "batches", validation_data=batches, verbose=0)])


# -- case 11: per-class scalars default to auto -----------------------------
def test_case11_per_class_scalars_auto_by_default_and_true_writes_them(tmp_path, caplog):
    rng = np.random.default_rng(0)
    many = 101
    x = rng.normal(size=(64, 4)).astype("float32")
    y = rng.integers(0, many, 64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(many, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    assert ClassificationReportCallback(tmp_path).per_class_scalars is None
    with pytest.raises(TypeError, match="`per_class_scalars` must be True or False"):
        ClassificationReportCallback(tmp_path, per_class_scalars="yes")
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path / "auto", validation_data=(x, y), image=False, verbose=0),
            ClassificationReportCallback(tmp_path / "on", validation_data=(x, y), image=False, per_class_scalars=True, verbose=0),
        ])
    auto = {tag for _, tag in run_tag_pairs(tmp_path / "auto")}
    on = {tag for _, tag in run_tag_pairs(tmp_path / "on")}
    assert not any(tag.startswith(("precision/", "recall/", "f1/", "average_precision/")) for tag in auto)
    assert {f"{p}/{k}" for p in ("precision", "recall", "f1") for k in range(many)} <= on
    assert "per-class precision/recall/f1 scalars are not written" in caplog.text
    # up to 100 classes, the default writes them
    caplog.clear()
    features = x @ np.ones((4, 6), "float32")
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        classifier().fit(features, y % CLASSES, epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path / "small", validation_data=(features, y % CLASSES), verbose=0)
        ])
    assert "recall/3" in {tag for _, tag in run_tag_pairs(tmp_path / "small")}
    assert "per-class" not in caplog.text


class Diverge(keras.callbacks.Callback):
    """The weights turn NaN in the third training batch of epoch 1, as a too-high learning rate makes them."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            for weight in self.model.trainable_weights:
                weight.assign(keras.ops.full(weight.shape, float("nan"), weight.dtype))


@pytest.mark.parametrize("path", ["metric", "predict"])
def test_a_fit_stopped_by_terminate_on_nan_returns_and_says_its_last_epoch_is_not_logged(tmp_path, data, path):
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)] if path == "metric" else [])
    source = None if path == "metric" else (x_val, y_val)
    callback = ClassificationReportCallback(tmp_path, validation_data=source, verbose=0)
    with pytest.warns(UserWarning, match=r"epoch 1 is not logged: training diverged \(a NaN loss\) and was stopped "
                                         r"\(model.stop_training, e.g. by TerminateOnNaN\), and its validation could "
                                         r"not be counted: "):
        history = model.fit(x, y, validation_data=(x_val, y_val), epochs=4, batch_size=32, verbose=0,
                            callbacks=[Diverge(), keras.callbacks.TerminateOnNaN(), callback])
    assert len(history.history["loss"]) == 2  # fit returned its History, as without the callback
    assert sorted(matrices(tmp_path)[RUN]) == [0]
    # without a stop the same NaN scores are an error at that epoch's end, not a silent gap
    model = classifier([BalancedAccuracy(CLASSES)] if path == "metric" else [])
    callback = ClassificationReportCallback(tmp_path / "unstopped", validation_data=source, verbose=0)
    with pytest.raises(ValueError, match=r"could not be counted|contains NaN"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32, verbose=0,
                  callbacks=[Diverge(), callback])
    # nor is a stop with a finite loss (EarlyStopping listed first) a reason to pass over a validation error
    early = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", True))
    model = classifier([BalancedAccuracy(CLASSES)] if path == "metric" else [])
    nan_rows = x_val.copy()
    nan_rows[:3] = np.nan  # NaN scores for three rows of a model that trains well
    callback = ClassificationReportCallback(tmp_path / "early", validation_data=None if path == "metric" else (nan_rows, y_val),
                                            verbose=0)
    with pytest.raises(ValueError, match=r"could not be counted|contains NaN"):
        model.fit(x, y, validation_data=(nan_rows, y_val), epochs=2, batch_size=32, verbose=0, callbacks=[early, callback])


def test_a_fit_that_runs_no_epoch_says_nothing_was_logged_and_how_epochs_counts(tmp_path, data):
    """Continuing with fit(initial_epoch=3, epochs=3) (epochs taken for a number of epochs) trains nothing: said."""
    (x, y), (x_val, y_val), _ = data
    model = classifier([BalancedAccuracy(CLASSES)])
    callback = ClassificationReportCallback(tmp_path, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fit that logs every epoch says nothing
        model.fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0, callbacks=[callback])
    for epochs, initial_epoch in [(3, 3), (2, 3)]:
        with pytest.warns(UserWarning, match=re.escape(
                f"fit ran no epoch (epochs={epochs}: its initial_epoch is {epochs} or more), so nothing was logged. "
                "`epochs` is the index of the epoch to stop before, not a number of epochs: to train n more epochs "
                "from epoch k (one after the run's last step), pass fit(initial_epoch=k, epochs=k + n)")):
            model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, initial_epoch=initial_epoch, verbose=0,
                      callbacks=[callback])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1, 2]
    model.fit(x, y, validation_data=(x_val, y_val), epochs=5, initial_epoch=3, verbose=0, callbacks=[callback])
    assert sorted(matrices(tmp_path)[RUN]) == [0, 1, 2, 3, 4]
    with pytest.warns(UserWarning, match=r"fit ran no epoch \(epochs=0: "):
        classifier([BalancedAccuracy(CLASSES)]).fit(x, y, validation_data=(x_val, y_val), epochs=0, verbose=0,
                                                    callbacks=[ClassificationReportCallback(tmp_path / "none", verbose=0)])
    assert not (tmp_path / "none").exists()  # and nothing was made


def test_case7_evaluate_alone_says_why_its_result_is_nan(data):
    """evaluate() resets nothing after its pass: the reason is said at its result (an all-zero one-hot row)."""
    _, (x_val, y_val), _ = data
    labels = np.eye(CLASSES, dtype="float32")[y_val]
    labels[3] = 0.0
    model = classifier()
    model.compile("adam", "categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        result = model.evaluate(x_val, labels, verbose=0, return_dict=True)
    assert np.isnan(result["balanced_accuracy"])
    messages = [str(w.message) for w in said if "balanced_accuracy: since its last reset" in str(w.message)]
    assert len(messages) == 1 and "1 rows could not be counted" in messages[0], [str(w.message) for w in said]


def test_case7_a_result_read_mid_pass_says_why_it_is_nan():
    """A compiled update (as a train step runs it), its result() read before any reset: why, of the rows so far."""
    metric = BalancedAccuracy(CLASSES)
    labels = np.eye(CLASSES, dtype="float32")[[0, 1, 2]]
    labels[1] = 0.0
    scores = keras.ops.convert_to_tensor(np.eye(CLASSES, dtype="float32")[[0, 1, 2]])
    with warnings.catch_warnings(record=True) as said:  # PyTorch's compiled step may say it already
        warnings.simplefilter("always")
        compiled_update(metric)(keras.ops.convert_to_tensor(labels), scores, keras.ops.ones((3,)))
        value = float(metric.result())
    assert np.isnan(value)
    messages = [str(w.message) for w in said if "balanced_accuracy: since its last reset, 1 rows could not be counted" in str(w.message)]
    assert len(messages) == 1, [str(w.message) for w in said]
