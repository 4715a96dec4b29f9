"""ClassificationReportCallback in real model.fit runs, on the current Keras backend.

Runs in every environment (TensorFlow, JAX, PyTorch): no TensorFlow import at
module level. TensorFlow-only cases (tf.data, tf.distribute) are in
tests/test_callback.py and tests/test_distribute.py.
"""

import importlib.util
import os
import warnings

import keras
import numpy as np
import pytest
from keras import ops
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import curves as logdir_curves
from logdir_reader import matrices, plugin_content, run_tag_pairs, scalars
from tb_imbalance import background, core
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroF1, distribution, is_chief

BACKEND = keras.backend.backend()
HAS_TF = importlib.util.find_spec("tensorflow") is not None
CLASSES = 4
NAMES = ["common", "rare", "<img src=x onerror=alert(1)>", "rarest"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    prior = 0.35 ** np.arange(CLASSES)
    y = rng.choice(CLASSES, 600, p=prior / prior.sum())
    x = rng.normal(size=(600, 8)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES)[y] * 1.5
    return (x[:450], y[:450]), (x[450:], y[450:])


class CountRows(keras.layers.Layer):
    """Identity layer counting the rows of every inference-mode forward pass."""

    def build(self, input_shape):
        self.rows = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="rows")

    def call(self, inputs, training=None):
        if not training:
            self.rows.assign_add(ops.cast(ops.shape(inputs)[0], "int32"))
        return inputs


def make_model(metrics=(), counter=False, jit_compile="auto"):
    keras.utils.set_random_seed(1)
    layers = [keras.Input((8,))]
    if counter:
        layers.append(CountRows())
    layers += [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", *metrics], jit_compile=jit_compile)
    return model


def counted_rows(model):
    return int(ops.convert_to_numpy(model.layers[0].rows))


def predicted_matrix(model, x_val, y_val, **kwargs):
    return sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES), **kwargs)


def expected_tags(name="confusion_matrix"):
    tags = {name, f"{name}_image"} | {f"imbalance/{m}" for m in core.METRIC_NAMES}
    tags |= {f"{name}_curves"} | {f"imbalance/{m}" for m in core.CURVE_METRIC_NAMES}  # the model outputs scores
    tags |= {f"{section}/{c}" for section in ("average_precision", "pr_curve") for c in NAMES}
    return tags | {f"{p}/{c}" for p in ("precision", "recall", "f1") for c in NAMES}


def test_two_epoch_fit_writes_exact_run_tag_pairs_and_the_right_matrix(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
    # Keras' own TensorBoard callback writes through tf.summary: TensorFlow only
    keras_tensorboard = [keras.callbacks.TensorBoard(str(tmp_path))] if HAS_TF else []
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
        callbacks=[*keras_tensorboard, ClassificationReportCallback(tmp_path, class_names=NAMES)],
    )
    pairs = run_tag_pairs(tmp_path)
    ours = {(run, tag) for run, tag in pairs if run == "validation_imbalance"}
    assert ours == {("validation_imbalance", tag) for tag in expected_tags()}
    if HAS_TF:
        keras_validation = {tag for run, tag in pairs if run == "validation"}
        assert {"epoch_loss", "epoch_accuracy", "epoch_balanced_accuracy", "epoch_macro_f1"} <= keras_validation
        assert {run for run, _ in pairs} == {"train", "validation", "validation_imbalance"}
    else:
        assert {run for run, _ in pairs} == {"validation_imbalance"}

    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], predicted_matrix(model, x_val, y_val))
    assert b"<img src=x onerror=alert(1)>" in plugin_content(tmp_path, "validation_imbalance")
    # Keras' own log of the metric and our scalar come from the same matrix
    report = core.imbalance_metrics(logged[1])
    assert history.history["val_balanced_accuracy"][1] == pytest.approx(report["balanced_accuracy"], abs=1e-6)
    assert history.history["val_macro_f1"][1] == pytest.approx(report["macro_f1"], abs=1e-6)
    logged_scalar = scalars(tmp_path, "validation_imbalance", "imbalance/balanced_accuracy")[1]
    assert logged_scalar == pytest.approx(report["balanced_accuracy"], abs=1e-6)


def fit_counting_rows(tmp_path, data, callback_kwargs=None, epochs=2):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)], counter=True)
    callbacks = [] if callback_kwargs is None else [ClassificationReportCallback(tmp_path, **callback_kwargs)]
    model.fit(x, y, validation_data=(x_val, y_val), epochs=epochs, verbose=0, callbacks=callbacks)
    return counted_rows(model)


def test_streaming_metric_means_no_extra_forward_pass(tmp_path, data, capsys):
    (_, _), (x_val, y_val) = data
    without = fit_counting_rows(tmp_path / "a", data)
    assert without == 2 * len(x_val)  # one validation pass per epoch
    with_callback = fit_counting_rows(tmp_path / "b", data, {"class_names": NAMES})
    assert with_callback == without
    assert "no extra forward pass" in capsys.readouterr().out


def test_predict_path_is_announced_once_and_counts_one_extra_pass(tmp_path, data, capsys):
    (x, y), (x_val, y_val) = data
    model = make_model(counter=True)  # no streaming metric compiled
    callback = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), class_names=NAMES)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=[callback])
    assert counted_rows(model) == 4 * len(x_val)
    out = capsys.readouterr().out
    assert out.count("ClassificationReportCallback:") == 1 and "predicting on the callback's validation_data" in out
    assert "(arrays (x, y))" in out  # says which source it reads
    logged = matrices(tmp_path)["validation_imbalance"]
    np.testing.assert_array_equal(logged[1], predicted_matrix(model, x_val, y_val))


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("source", ["compiled_metric", "predict"])
def test_a_mixed_precision_model_logs_the_matrix_of_its_bfloat16_outputs(tmp_path, data, mixed_bfloat16, source):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)] if source == "compiled_metric" else [])
    assert keras.backend.standardize_dtype(model.layers[-1].compute_dtype) == "bfloat16"
    callback_data = (x_val, y_val) if source == "predict" else None
    callback = ClassificationReportCallback(tmp_path, validation_data=callback_data, class_names=NAMES)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[callback])
    predicted = np.asarray(model.predict(x_val, verbose=0)).astype(np.float32)  # exact: float32 holds bfloat16
    expected = sk_confusion_matrix(y_val, predicted.argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(matrices(tmp_path)["validation_imbalance"][0], expected)
    # the curves bin the bfloat16 outputs too, not the extra precision XLA may keep inside a jitted step (JAX)
    binned = core.curve_summary(predicted, y_val, predicted.argmax(1))
    logged = logdir_curves(tmp_path)["validation_imbalance"][0]
    np.testing.assert_array_equal(logged[:, :2], binned[:, :2])
    np.testing.assert_allclose(logged[:, 2], binned[:, 2], rtol=1e-5, atol=1e-5)


def test_freq_and_validation_freq(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[ClassificationReportCallback(tmp_path / "a", freq=2, verbose=0)])
    assert sorted(matrices(tmp_path / "a")["validation_imbalance"]) == [0, 2]
    model = make_model([BalancedAccuracy(CLASSES)])
    with pytest.warns(UserWarning, match="nothing was logged for epoch 0: fit did not validate") as caught:
        model.fit(x, y, validation_data=(x_val, y_val), validation_freq=2, epochs=4, verbose=0, callbacks=[ClassificationReportCallback(tmp_path / "b", verbose=0)])
    assert len([w for w in caught if "ClassificationReportCallback" in str(w.message)]) == 1  # once, not at epoch 2
    assert sorted(matrices(tmp_path / "b")["validation_imbalance"]) == [1, 3]
    model = make_model([BalancedAccuracy(CLASSES)])  # validated 1, 3; logged 0, 2: nothing, said at the end
    with pytest.warns(UserWarning, match=r"no step was logged in this whole fit.*\(0, 2, 4, …\).*freq=1"):
        model.fit(x, y, validation_data=(x_val, y_val), validation_freq=2, epochs=4, verbose=0, callbacks=[ClassificationReportCallback(tmp_path / "c", freq=2, verbose=0)])
    assert not os.path.exists(tmp_path / "c" / "validation_imbalance")


def test_a_val_key_another_callback_puts_in_logs_is_not_a_validation_pass(tmp_path, data):
    (x, y), (x_val, y_val) = data

    class OwnValidationScore(keras.callbacks.Callback):  # listed first: its key is in logs before ours runs
        def on_epoch_end(self, epoch, logs=None):
            logs["val_own_accuracy"] = 0.5

    model = make_model([BalancedAccuracy(CLASSES)])
    with pytest.warns(UserWarning, match="nothing was logged for epoch 0: fit did not validate"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[OwnValidationScore(), ClassificationReportCallback(tmp_path, verbose=0)])
    assert not os.path.exists(tmp_path / "validation_imbalance")  # not the training pass's counts


def test_another_callbacks_evaluate_given_this_callback_inside_fit_is_not_logged(tmp_path, data):
    (x, y), (x_val, y_val) = data
    x_test, y_test = x[:120], y[:120]
    report = ClassificationReportCallback(tmp_path, verbose=0)

    class TestEachEpoch(keras.callbacks.Callback):  # listed first, reusing the callbacks list for a test set
        def on_epoch_end(self, epoch, logs=None):
            self.validation_predictions = self.model.predict(x_val, verbose=0)  # the weights fit validated
            self.model.evaluate(x_test, y_test, verbose=0, callbacks=[report])

    tester = TestEachEpoch()
    model = make_model([BalancedAccuracy(CLASSES)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing to say: fit's own pass is logged
        model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=[tester, report])
    expected = sk_confusion_matrix(y_val, tester.validation_predictions.argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(matrices(tmp_path)["validation_imbalance"][1], expected)


def test_a_model_whose_evaluate_is_overridden_logs_fits_validation_pass(tmp_path, data):
    (x, y), (x_val, y_val) = data

    class Model(keras.Sequential):
        def evaluate(self, *args, **kwargs):  # fit calls it for its validation pass
            return super().evaluate(*args, **kwargs)

    keras.utils.set_random_seed(1)
    model = Model([keras.Input((8,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(matrices(tmp_path)["validation_imbalance"][0], expected)


def test_an_evaluate_inside_fits_validation_pass_is_said_not_logged(tmp_path, data):
    (x, y), (x_val, y_val) = data

    class EvaluateWhenValidated(keras.callbacks.Callback):  # listed first: runs inside fit's validation pass
        def on_test_end(self, logs=None):
            if not getattr(self, "inside", False):
                self.inside = True
                self.model.evaluate(x[:120], y[:120], verbose=0)
                self.inside = False

    model = make_model([BalancedAccuracy(CLASSES)])
    with pytest.warns(UserWarning, match=r"nothing was logged for epoch 0: another model.evaluate\(\) ran inside "
                      r"fit's validation pass.*List ClassificationReportCallback before that callback") as caught:
        model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
                  callbacks=[EvaluateWhenValidated(), ClassificationReportCallback(tmp_path, verbose=0)])
    assert len([w for w in caught if "ran inside fit's validation pass" in str(w.message)]) == 1
    assert not os.path.exists(tmp_path / "validation_imbalance")  # not the test set's counts
    model = make_model([BalancedAccuracy(CLASSES)])  # listed first, the callback reads fit's counts in time
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path / "first", verbose=0), EvaluateWhenValidated()])
    expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(matrices(tmp_path / "first")["validation_imbalance"][0], expected)


def test_crash_leaves_finished_epochs_readable(tmp_path, data):
    (x, y), (x_val, y_val) = data

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("simulated crash")

    model = make_model([BalancedAccuracy(CLASSES)])
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=5, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0), Crash()])
    background.flush()  # Keras skips on_train_end after a raise: the background writer may still hold epoch 1
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]


def test_evaluate_outside_fit_says_it_writes_nothing_once(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)])
    callback = ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.warns(UserWarning, match=r"writes nothing.*tb_imbalance.log_report\(") as caught:
        model.evaluate(x_val, y_val, verbose=0, callbacks=[callback])
        model.evaluate(x_val, y_val, verbose=0, callbacks=[callback])
    assert len([w for w in caught if "writes nothing" in str(w.message)]) == 1
    assert not tmp_path.joinpath("validation_imbalance").exists()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*writes nothing.*")
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[callback])
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0]


def test_predict_outside_fit_says_it_writes_nothing_once(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)])
    callback = ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.warns(UserWarning, match=r"model\.predict\(callbacks=\[\.\.\.\]\) writes nothing.*log_report\(") as caught:
        model.predict(x_val, verbose=0, callbacks=[callback])
        model.predict(x_val, verbose=0, callbacks=[callback])
    assert len([w for w in caught if "writes nothing" in str(w.message)]) == 1
    assert not tmp_path.joinpath("validation_imbalance").exists()

    class PredictEachEpoch(keras.callbacks.Callback):  # inside fit, given this callback: said nothing
        def on_epoch_end(self, epoch, logs=None):
            self.model.predict(x_val, verbose=0, callbacks=[report])

    report = ClassificationReportCallback(tmp_path / "fit", verbose=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*writes nothing.*")
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[report, PredictEachEpoch()])
    np.testing.assert_array_equal(matrices(tmp_path / "fit")["validation_imbalance"][0], predicted_matrix(model, x_val, y_val))


def test_configuration_errors(tmp_path, data):
    (x, y), (x_val, y_val) = data
    with pytest.raises(ValueError, match="needs a validation confusion matrix"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path)])
    with pytest.raises(ValueError, match=r"one name per class \(4\), received 2"):
        make_model([BalancedAccuracy(CLASSES)]).fit(
            x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path, class_names=["a", "b"])],
        )
    with pytest.raises(ValueError, match="`metric='nope'` names no compiled"):
        make_model([BalancedAccuracy(CLASSES)]).fit(
            x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path, metric="nope")],
        )
    with pytest.raises(ValueError, match="`freq` must be a positive int"):
        ClassificationReportCallback(tmp_path, freq=0)
    for outside in ("", "../escaped", os.path.abspath(tmp_path / "elsewhere"), "a/../../b"):
        with pytest.raises(ValueError, match="`run_name` must be a directory inside `log_dir`"):
            ClassificationReportCallback(tmp_path, run_name=outside)
    assert ClassificationReportCallback(tmp_path, run_name="nested/test_set").run_dir == os.path.join(
        tmp_path, "nested/test_set")
    with pytest.raises(ValueError, match="`batch_size` must be a positive int"):
        ClassificationReportCallback(tmp_path, batch_size=0)
    with pytest.raises(TypeError, match="`validation_data` must be a tuple") as raised:
        ClassificationReportCallback(tmp_path, validation_data=x_val)
    assert "PyDataset" in str(raised.value) and "DataLoader" in str(raised.value) and "ndarray" in str(raised.value)
    assert not os.path.exists(tmp_path / "validation_imbalance")


def test_invalid_labels_in_fit_are_reported_not_logged(tmp_path, data):
    (x, y), (x_val, y_val) = data
    bad = y_val.copy()
    bad[:3] = 9
    model = make_model([BalancedAccuracy(CLASSES)])
    model.compile("adam", lambda y_true, y_pred: keras.ops.mean(y_pred), metrics=[BalancedAccuracy(CLASSES)])
    with pytest.raises(ValueError, match="3 rows could not be counted"):
        model.fit(x, y, validation_data=(x_val, bad), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert not os.path.exists(tmp_path / "validation_imbalance")


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")
def test_jit_compile_true_logs_the_sklearn_matrix(tmp_path, data):
    (x, y), (x_val, y_val) = data
    n_train, n_val = 128, 128  # whole batches: one compiled shape per step function
    metric = MacroF1(CLASSES)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric], jit_compile=True)
    model.fit(
        x[:n_train], y[:n_train], validation_data=(x_val[:n_val], y_val[:n_val]), batch_size=64, epochs=1, verbose=0,
        callbacks=[ClassificationReportCallback(tmp_path, verbose=0)],
    )
    assert model.jit_compile is True
    model.jit_compile = False  # reference predictions from the uncompiled model (and no third compile)
    logged = matrices(tmp_path)["validation_imbalance"][0]
    np.testing.assert_array_equal(logged, predicted_matrix(model, x_val[:n_val], y_val[:n_val]))
    assert float(metric.result()) == pytest.approx(core.imbalance_metrics(logged)["macro_f1"], abs=1e-6)


@pytest.mark.skipif(BACKEND == "torch", reason="Keras allows steps_per_execution > 1 on TensorFlow and JAX only")
def test_several_steps_per_execution_log_the_sklearn_matrix(tmp_path, data):
    (x, y), (x_val, y_val) = data
    metric = BalancedAccuracy(CLASSES)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[metric], steps_per_execution=4)
    model.fit(  # 150 validation rows: 4 full batches of 32 per execution, then a short one
        x, y, validation_data=(x_val, y_val), batch_size=32, epochs=1, verbose=0,
        callbacks=[ClassificationReportCallback(tmp_path, verbose=0)],
    )
    logged = matrices(tmp_path)["validation_imbalance"][0]
    assert logged.sum() == len(x_val)
    np.testing.assert_array_equal(logged, predicted_matrix(model, x_val, y_val))


# The same fixed weights give the same matrix on TensorFlow, JAX and PyTorch:
# computed here in float64 numpy, and written out once as a literal.
FIXED_WEIGHTS_MATRIX = [[71, 13, 11, 10], [3, 19, 8, 1], [2, 0, 9, 1], [0, 1, 0, 1]]


def fixed_weights():
    rng = np.random.default_rng(42)
    w1 = (rng.normal(size=(8, 16)) * 0.3 + np.eye(8, 16) * 2).astype("float32")
    b1 = (rng.normal(size=16) * 0.1).astype("float32")
    w2 = (rng.normal(size=(16, 4)) * 0.3 + np.eye(16, 4) * 2).astype("float32")
    b2 = (rng.normal(size=4) * 0.1).astype("float32")
    return [w1, b1, w2, b2]


def test_backends_agree_on_fixed_weights(tmp_path, data):
    (x, y), (x_val, y_val) = data
    weights = fixed_weights()
    logits = np.maximum(x_val.astype(np.float64) @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
    top2 = np.sort(logits, axis=1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-3  # no near-ties: float32 on any backend gives the same argmax
    expected = sk_confusion_matrix(y_val, logits.argmax(1), labels=range(CLASSES))
    np.testing.assert_array_equal(expected, FIXED_WEIGHTS_MATRIX)

    for path, compiled in (("metric", [BalancedAccuracy(CLASSES)]), ("predict", [])):
        model = keras.Sequential([
            keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(CLASSES, activation="softmax"),
        ])
        model.set_weights(weights)
        # learning rate 0: the validated weights are the fixed ones
        model.compile(keras.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy", metrics=compiled)
        source = None if compiled else (x_val, y_val)
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / path, validation_data=source, verbose=0)])
        np.testing.assert_array_equal(matrices(tmp_path / path)["validation_imbalance"][0], FIXED_WEIGHTS_MATRIX)


# -- which process writes --------------------------------------------------
class FakeClusterSpec:
    def __init__(self, jobs):
        self._jobs = jobs

    def as_dict(self):
        return {job: [f"host{i}:1" for i in range(n)] for job, n in self._jobs.items()}


class FakeResolver:
    def __init__(self, task_type, task_id, jobs):
        self.task_type, self.task_id, self._jobs = task_type, task_id, jobs

    def cluster_spec(self):
        return FakeClusterSpec(self._jobs)


class FakeStrategy:
    def __init__(self, resolver):
        self.cluster_resolver = resolver


class FakeModel:
    def __init__(self, strategy=None):
        if strategy is not None:
            self.distribute_strategy = strategy


@pytest.mark.parametrize(
    "task_type, task_id, jobs, chief",
    [
        ("chief", 0, {"chief": 1, "worker": 2}, True),
        ("worker", 0, {"chief": 1, "worker": 2}, False),
        ("worker", 0, {"worker": 3}, True),
        ("worker", 1, {"worker": 3}, False),
        (None, None, {}, True),
    ],
)
def test_tf_distribute_chief_rule(task_type, task_id, jobs, chief):
    strategy = FakeStrategy(FakeResolver(task_type, task_id, jobs))
    assert is_chief(strategy) is chief
    assert distribution.is_writer(FakeModel(strategy)) is chief


def test_a_single_process_writes_on_every_backend(data):
    assert distribution.is_writer(FakeModel()) is True  # no distribute_strategy (JAX, PyTorch trainers)
    assert distribution.is_writer(make_model()) is True


@pytest.mark.skipif(BACKEND != "jax", reason="jax.process_index decides only on the JAX backend")
def test_jax_only_process_zero_writes(monkeypatch):
    import jax

    monkeypatch.setattr(jax, "process_index", lambda *a, **k: 1)
    assert distribution.is_writer(FakeModel()) is False
    monkeypatch.setattr(jax, "process_index", lambda *a, **k: 0)
    assert distribution.is_writer(FakeModel()) is True


def test_torch_distributed_only_rank_zero_writes(monkeypatch):
    torch = pytest.importorskip("torch")
    assert distribution.is_writer(FakeModel()) is True  # available but not initialised
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda *a, **k: 1)
    assert distribution.is_writer(FakeModel()) is False
    monkeypatch.setattr(torch.distributed, "get_rank", lambda *a, **k: 0)
    assert distribution.is_writer(FakeModel()) is True


def test_non_writer_process_computes_but_writes_nothing(tmp_path, data, monkeypatch, capsys):
    (x, y), (x_val, y_val) = data
    monkeypatch.setattr(distribution, "_torch_rank", lambda: 1)  # as if rank 1 of torch.distributed
    model = make_model([BalancedAccuracy(CLASSES)])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(tmp_path, verbose=1)])
    assert not os.path.exists(tmp_path / "validation_imbalance")
    said = capsys.readouterr().out
    assert "not writing from this process (one process of the training writes the report: to its own log_dir)" in said
    assert str(tmp_path) not in said and "writing to" not in said  # its log_dir may be one only this process was given


def _two_head_model(seed):
    """Rows, their labels for outputs 'a' and 'b' (3 classes each), a model of those two outputs, and its losses."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 4)).astype("float32")
    labels = {"a": rng.integers(0, 3, 120), "b": rng.integers(0, 3, 120)}
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8)(inputs)
    model = keras.Model(inputs, {head: keras.layers.Dense(3, activation="softmax", name=head)(hidden) for head in "ab"})
    return x, labels, model, {head: "sparse_categorical_crossentropy" for head in "ab"}


def test_one_metric_per_output_of_one_name_is_said_and_names_apart_pick_the_head(tmp_path):
    x, labels, model, losses = _two_head_model(4)
    model.compile("adam", losses, metrics={head: [BalancedAccuracy(3)] for head in "ab"})
    with pytest.warns(UserWarning, match=r"2 compiled tb_imbalance metrics are named 'balanced_accuracy' \(one per "
                                         r"output, or one in metrics= and one in weighted_metrics=\?\); the first compiled is read"):
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "same", verbose=0)])
    model.compile("adam", losses, metrics={head: [BalancedAccuracy(3, name=f"{head}_balanced_accuracy")] for head in "ab"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "apart", metric="b_balanced_accuracy", verbose=0)])
    predicted = model.predict(x, verbose=0)["b"].argmax(1)
    logged = matrices(tmp_path / "apart")["validation_imbalance"][0]
    np.testing.assert_array_equal(logged, sk_confusion_matrix(labels["b"], predicted, labels=range(3)))


def _fit_warned_and_logging_output_a(model, x, labels, run, said):
    """One epoch that warns ``said`` and logs output 'a''s matrix (scikit-learn's of its predictions)."""
    with pytest.warns(UserWarning, match=said):
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(run, verbose=0)])
    predicted = model.predict(x, verbose=0)["a"].argmax(1)
    np.testing.assert_array_equal(matrices(run)["validation_imbalance"][0],
                                  sk_confusion_matrix(labels["a"], predicted, labels=range(3)))


def test_metrics_of_other_names_on_several_outputs_say_which_output_is_read(tmp_path, data):
    x, labels, model, losses = _two_head_model(5)
    said = (r"tb_imbalance metrics are compiled on several outputs; the first compiled, 'balanced_accuracy' on output "
            r"'a', is read. To report another output pass its metric's name as the callback's metric= \('macro_f1' for "
            r"output 'b'\), or metric='balanced_accuracy' to keep this one")
    placements = {  # every layout Keras places per output: a dict, lists per output, one metric per output
        "dict": {"a": [BalancedAccuracy(3)], "b": [MacroF1(3)]}, "lists": [[BalancedAccuracy(3)], [MacroF1(3)]],
        "flat list": [BalancedAccuracy(3), MacroF1(3)], "flat tuple": (BalancedAccuracy(3), MacroF1(3)),
        "mixed": [BalancedAccuracy(3), [MacroF1(3)]]}
    for layout, given in placements.items():
        model.compile("adam", losses, metrics=given)
        _fit_warned_and_logging_output_a(model, x, labels, tmp_path / layout, said)
    with warnings.catch_warnings():  # metric= given, or a single output: nothing to say
        warnings.simplefilter("error", UserWarning)
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "named", metric="balanced_accuracy", verbose=0)])
        x_val, y_val = data[1]
        single = keras.Sequential([keras.Input((x_val.shape[1],)), keras.layers.Dense(CLASSES, activation="softmax")])
        single.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES), MacroF1(CLASSES)])
        single.fit(x_val, y_val, validation_data=(x_val, y_val), epochs=1, verbose=0,
                   callbacks=[ClassificationReportCallback(tmp_path / "single", verbose=0)])


def test_metrics_on_outputs_keyed_apart_from_their_layers_say_the_key_keras_places_them_on(tmp_path):
    """Keras places a list of metrics on a dict of outputs in the sorted order of its keys ('a', 'z'), whatever the
    layers' names and the dict's order."""
    x, labels, _, _ = _two_head_model(6)
    labels = {"z": labels["a"], "a": labels["b"]}
    inputs = keras.Input((4,))
    model = keras.Model(inputs, {key: keras.layers.Dense(3, activation="softmax", name=layer)(inputs)
                                 for key, layer in (("z", "first_head"), ("a", "second_head"))})
    said = (r"the first compiled, 'balanced_accuracy' on output 'a', is read. To report another output pass its "
            r"metric's name as the callback's metric= \('macro_f1' for output 'z'\)")
    for layout, given in {"flat list": [BalancedAccuracy(3), MacroF1(3)],
                          "lists": [[BalancedAccuracy(3)], [MacroF1(3)]]}.items():
        model.compile("adam", "sparse_categorical_crossentropy", metrics=given)
        _fit_warned_and_logging_output_a(model, x, labels, tmp_path / layout, said)


@pytest.mark.parametrize("listed, swap_on_epoch, source, said", [
    ("swap first", True, "validation_data", None),
    ("report first", True, "validation_data", "SwapEMAWeights(swap_on_epoch=True) is listed after this callback"),
    ("swap first", False, "validation_data", "SwapEMAWeights has swap_on_epoch=False"),
    ("report first", True, "compiled metric", None),
    ("swap first", False, "compiled metric", None),
    ("report first", True, "examples", "SwapEMAWeights(swap_on_epoch=True) is listed after this callback"),
])
def test_the_report_under_swap_ema_weights_is_of_the_weights_fit_validates_with_or_says_how_to_make_it(
        tmp_path, data, listed, swap_on_epoch, source, said):
    """SwapEMAWeights swaps the EMA weights in for fit's validation pass; the callback predicts its own
    validation_data at its on_epoch_end, with them only after a SwapEMAWeights(swap_on_epoch=True)."""
    (x, y), (x_val, y_val) = data
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.5, use_ema=True, ema_momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=[] if source == "validation_data" else [BalancedAccuracy(CLASSES)])
    validated = []  # the matrices of the weights fit validates with: listed first, before SwapEMAWeights swaps back

    def count_validated(logs):
        validated.append(sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES)))

    probe = keras.callbacks.LambdaCallback(on_test_end=count_validated)
    own = {"validation_data": (x_val, y_val)} if source == "validation_data" else {
        "examples": (x_val[:20], y_val[:20])} if source == "examples" else {}
    report = ClassificationReportCallback(tmp_path, verbose=0, background=False, **own)
    swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=swap_on_epoch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        said_by = []
        first_epoch = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: said_by.append(len(caught)))
        model.fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32, verbose=0,
                  callbacks=[probe, *([report, swap] if listed == "report first" else [swap, report]), first_epoch])
    about = [str(w.message) for w in caught if "SwapEMAWeights" in str(w.message)]
    logged = matrices(tmp_path)["validation_imbalance"]
    if said is None:
        assert about == []
        for step, matrix in enumerate(validated):
            np.testing.assert_array_equal(logged[step], matrix)
        return
    differs = ("its matrix describes other weights than fit's val_ metrics" if source == "validation_data" else
               "the examples behind its cells are other weights' predictions than the matrix it reads from fit's "
               "validation")
    assert about == [
        "ClassificationReportCallback: keras.callbacks.SwapEMAWeights validates with the optimizer's EMA weights "
        f"(fit's val_ metrics are theirs), but this callback predicts its {source} at its on_epoch_end with "
        f"the training weights ({said}): {differs}. To report the EMA weights, pass SwapEMAWeights(swap_on_epoch=True) "
        "and list it before ClassificationReportCallback in callbacks=[...]"]
    warned = [k for k, w in enumerate(caught) if "SwapEMAWeights" in str(w.message)][0]
    assert warned < said_by[0] and caught[warned].filename == __file__  # before training, at the user's fit
    if source == "validation_data":
        assert not np.array_equal(logged[0], validated[0])


def test_one_metric_object_compiled_twice_is_refused_before_training(tmp_path, data):
    """metrics=ms, weighted_metrics=ms: Keras updates the one object twice a batch and resets it twice a pass."""
    (x, y), (x_val, y_val) = data
    shared = [BalancedAccuracy(CLASSES)]
    model = make_model(shared)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=shared, weighted_metrics=shared)
    started = []
    epochs = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: started.append(epoch))
    with pytest.raises(ValueError, match=r"one BalancedAccuracy object \('balanced_accuracy'\) is compiled twice .*"
                                         r"weighted_metrics=\[BalancedAccuracy\(4, name=\"weighted_balanced_accuracy\"\)\]"):
        model.fit(x, y, validation_data=(x_val, y_val, np.ones(len(y_val))), epochs=2, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0), epochs])
    assert not started and not os.path.exists(tmp_path / "validation_imbalance")


def test_a_metric_the_model_also_holds_as_an_attribute_is_compiled_once(tmp_path, data):
    """Keras lists an attribute-tracked metric next to the compiled ones: that is not compiling it twice."""
    (x, y), (x_val, y_val) = data

    class Holding(keras.Model):
        def __init__(self):
            super().__init__()
            self.head = keras.layers.Dense(CLASSES, activation="softmax")
            self.balanced = BalancedAccuracy(CLASSES)

        def call(self, inputs):
            return self.head(inputs)

    keras.utils.set_random_seed(1)
    model = Holding()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[model.balanced])
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]


def test_the_name_keras_logs_for_a_weighted_metrics_twin_says_to_name_it_apart(tmp_path, data):
    (x, y), (x_val, y_val) = data
    model = make_model([BalancedAccuracy(CLASSES)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)],
                  weighted_metrics=[BalancedAccuracy(CLASSES)])
    with pytest.raises(ValueError, match=r"`metric='weighted_balanced_accuracy'` names no compiled tb_imbalance metric "
                                         r"\(Keras logs the weighted_metrics= copy of 'balanced_accuracy' under that name"):
        model.fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path, metric="weighted_balanced_accuracy", verbose=0)])


def test_a_log_dir_that_names_no_run_directory_is_refused_when_the_callback_is_made(tmp_path):
    # An int failed with os.fspath's message, naming no argument; a bytes path, a file in the way and
    # a file:// URL with no absolute path passed here and failed when training started.
    (tmp_path / "a_file").write_text("")
    for log_dir, error, match in [
        (5, TypeError, r"`log_dir` must be a non-empty directory path or URL .* received 5"),
        (b"runs", TypeError, r"received b'runs'; decode a bytes path first: os\.fsdecode\(log_dir\)"),
        (tmp_path / "a_file", NotADirectoryError, r"a_file/validation_imbalance' cannot be made: .* is a file"),
        ("file://runs", ValueError, r"is a file:// URL without an absolute local path"),
    ]:
        with pytest.raises(error, match=match):
            ClassificationReportCallback(log_dir, class_names=["a", "b"])
    assert list(tmp_path.iterdir()) == [tmp_path / "a_file"]
    assert ClassificationReportCallback(tmp_path / "runs", class_names=["a", "b"]).log_dir == str(tmp_path / "runs")


def test_a_relative_log_dir_stays_where_training_started_when_the_working_directory_changes(tmp_path, monkeypatch, data):
    # The event file was opened at the first write, in whatever directory was current then.
    (x, y), (x_val, y_val) = data
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    moves = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: os.chdir(tmp_path / "two"))
    report = ClassificationReportCallback("logs", validation_data=(x_val, y_val), image=False, verbose=0)
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[moves, report])
    background.flush()
    assert list((tmp_path / "two").iterdir()) == []
    logged = matrices(tmp_path / "one" / "logs")["validation_imbalance"]
    np.testing.assert_array_equal(logged[1], predicted_matrix(model, x_val, y_val))
    assert sorted(logged) == [0, 1]
