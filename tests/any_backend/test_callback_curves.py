"""ClassificationReportCallback hands the binned curve summary to the writer, on the current Keras backend.

Every written step's ``ReportStep.curves`` must be ``core.curve_summary`` of
the validation rows: read from the compiled metric (no extra forward pass) or
computed from the callback's own ``validation_data``. The models here output
their inputs exactly (a frozen identity layer), so the reference is computed
on the very scores the callback saw. Runs in every environment: no TensorFlow
import at module level.
"""

import warnings

import keras
import numpy as np
import pytest

from logdir_reader import curves as logdir_curves
from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroAveragePrecision
from tb_imbalance.writer import ReportWriter

CLASSES = 4

pytestmark = pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")


@pytest.fixture
def written(monkeypatch):
    """The ReportSteps reaching ReportWriter.write_report (then written as usual)."""
    steps = []
    original = ReportWriter.write_report

    def write_report(self, report, *args, **kwargs):
        steps.append(report)
        return original(self, report, *args, **kwargs)

    monkeypatch.setattr(ReportWriter, "write_report", write_report)
    return steps


def stored_curves(logdir, run="validation_imbalance"):
    """``{step: [C + 1, 3, B]}`` of the run's curve blobs, read back through TensorBoard's loader."""
    return logdir_curves(logdir)[run]


def away_from_edges(probabilities, margin=1e-4):
    scaled = np.asarray(probabilities, np.float64) * core.CURVE_BINS
    return (np.abs(scaled - np.round(scaled)) > margin).all(axis=1)


def validation_rows(logits=False, rows=160, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(CLASSES, rows, p=[0.55, 0.25, 0.15, 0.05])
    if logits:
        x = (rng.normal(size=(rows, CLASSES)) * 2 + np.eye(CLASSES)[y] * 2).astype("float32")
        keep = away_from_edges(core.curve_probabilities(x, CLASSES, from_logits=True)[0])
    else:
        x = rng.random((rows, CLASSES)).astype("float32") + np.eye(CLASSES, dtype="float32")[y]
        x /= x.sum(axis=1, keepdims=True)
        keep = np.ones(rows, bool)
    return x[keep], y[keep]


def identity_model(metrics=(), loss="sparse_categorical_crossentropy"):
    """Scores = inputs, bit for bit, in predict, evaluate and fit's validation pass alike."""
    layer = keras.layers.Dense(CLASSES, use_bias=False, trainable=False, kernel_initializer="identity")
    model = keras.Sequential([keras.Input((CLASSES,)), layer])
    model.compile("sgd", loss, metrics=list(metrics))
    return model


def assert_curves(step, expected):
    assert step.curves is not None
    np.testing.assert_array_equal(step.curves[:, :2], expected[:, :2])
    np.testing.assert_allclose(step.curves[:, 2], expected[:, 2], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("metric_type", [BalancedAccuracy, MacroAveragePrecision])
def test_the_compiled_metric_path_writes_the_validation_curves(tmp_path, written, metric_type):
    x, y = validation_rows()
    model = identity_model([metric_type(CLASSES)])
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0, callbacks=[callback])
    assert not [w for w in caught if "curves" in str(w.message)]
    assert [step.step for step in written] == [0, 1]
    expected = core.curve_summary(x, y, x.argmax(1))
    for step in written:
        np.testing.assert_array_equal(step.matrix, core.confusion_matrix(y, x))
        assert_curves(step, expected)
    stored = stored_curves(tmp_path)  # and what the event file holds
    assert sorted(stored) == [0, 1]
    for summary in stored.values():
        np.testing.assert_array_equal(summary[:, :2], expected[:, :2])
        np.testing.assert_allclose(summary[:, 2], expected[:, 2], rtol=1e-6)


class CurveCountsProbe(keras.callbacks.Callback):
    """The compiled metric's binned rows after each epoch's training batches (read when the
    validation pass begins, before it resets the metric; JAX's trainer syncs the state then)."""

    def __init__(self, metric):
        super().__init__()
        self.metric, self.training_counts = metric, []

    def on_test_begin(self, logs=None):
        self.training_counts.append(int(np.asarray(keras.ops.convert_to_numpy(self.metric.curve_counts)).sum()))


@pytest.mark.parametrize("reported", [True, False], ids=["with-callback", "metric-alone"])
@pytest.mark.parametrize("metric_type", [BalancedAccuracy, MacroAveragePrecision])
def test_training_batches_are_binned_only_where_something_reads_them(tmp_path, written, metric_type, reported):
    """While the callback reads a BalancedAccuracy in fit, training batches stay out of its curve
    state (the logged curves are the validation pass's either way); MacroAveragePrecision, whose
    value is the curves, and a metric no callback reads keep binning them."""
    x, y = validation_rows()
    x_train, y_train = validation_rows(rows=96, seed=1)
    metric = metric_type(CLASSES)
    model = identity_model([metric])
    probe = CurveCountsProbe(metric)
    callbacks = [probe] + ([ClassificationReportCallback(tmp_path, verbose=0, background=False)] if reported else [])
    history = model.fit(x_train, y_train, validation_data=(x, y), epochs=2, batch_size=32, verbose=0,
                        callbacks=callbacks)
    skipped = reported and metric_type is BalancedAccuracy
    assert len(probe.training_counts) == 2
    assert all(count == 0 for count in probe.training_counts) if skipped else min(probe.training_counts) > 0
    assert metric.skip_training_curves is False  # fit is over: evaluate() bins every batch again
    if metric_type is MacroAveragePrecision:
        assert np.isfinite(history.history["macro_average_precision"]).all()
    if reported:
        expected = core.curve_summary(x, y, x.argmax(1))
        assert [step.step for step in written] == [0, 1]
        for step in written:
            assert_curves(step, expected)
    model.evaluate(x, y, verbose=0)  # after fit, the metric holds the last pass's curves
    np.testing.assert_array_equal(metric.curve_summary()[:, :2], core.curve_summary(x, y, x.argmax(1))[:, :2])


class StopInTrainingBatches(keras.callbacks.Callback):
    """Raises during the first epoch's training batches, as a KeyboardInterrupt or an out-of-memory error would."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise RuntimeError("stopped mid-epoch")


def test_a_fit_stopped_during_training_batches_leaves_evaluate_binning(tmp_path, written):
    """Keras calls no callback when fit raises; the skip set for the epoch's training batches must
    not outlive it: evaluate() (whose test step is traced or run afresh) bins every batch."""
    x, y = validation_rows()
    metric = BalancedAccuracy(CLASSES)
    model = identity_model([metric])
    callbacks = [ClassificationReportCallback(tmp_path, verbose=0, background=False), StopInTrainingBatches()]
    with pytest.raises(RuntimeError, match="stopped mid-epoch"):
        model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0, callbacks=callbacks)
    assert written == []
    model.evaluate(x, y, batch_size=32, verbose=0)
    assert metric.skip_training_curves is False
    np.testing.assert_array_equal(metric.curve_summary()[:, :2], core.curve_summary(x, y, x.argmax(1))[:, :2])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_the_predict_path_writes_the_curves_of_its_validation_data(tmp_path, written, weighted):
    x, y = validation_rows(seed=1)
    data = (x, y)
    weights = None
    if weighted:
        weights = np.random.default_rng(2).choice([0.0, 0.5, 2.0], len(y))  # sums of weights, as the matrix
        data = (x, y, weights)
    model = identity_model()
    callback = ClassificationReportCallback(tmp_path, validation_data=data, verbose=0, background=False)
    model.fit(x[:64], y[:64], epochs=2, verbose=0, callbacks=[callback])
    expected = core.curve_summary(x, y, x.argmax(1), weights)
    assert len(written) == 2
    for step in written:
        assert_curves(step, expected)


def test_logits_give_curves_through_the_metrics_from_logits(tmp_path, written):
    x, y = validation_rows(logits=True, seed=3)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = identity_model([BalancedAccuracy(CLASSES, from_logits=True)], loss=loss)
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    probabilities, _ = core.curve_probabilities(x, CLASSES, from_logits=True)
    assert_curves(written[0], core.curve_summary(probabilities, y, x.argmax(1)))


def test_logits_read_as_probabilities_give_no_curves_and_one_warning(tmp_path, written):
    x, y = validation_rows(logits=True, seed=4)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = identity_model([BalancedAccuracy(CLASSES)], loss=loss)
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    before_training = []
    with pytest.warns(UserWarning, match="no PR / ROC / reliability curves") as caught:
        probe = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: before_training.append(len(caught)))
        model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0, callbacks=[callback, probe])
    said = [str(w.message) for w in caught if "no PR / ROC" in str(w.message)]
    assert len(said) == 1 and "BalancedAccuracy(4, from_logits=True)" in said[0]
    assert before_training == [1]  # the loss told: said before the first epoch, not at its end
    assert [step.curves for step in written] == [None, None]
    for step in written:  # the matrix is still written: the argmax is the same
        np.testing.assert_array_equal(step.matrix, core.confusion_matrix(y, x))


def test_the_predict_path_reads_logits_when_the_loss_says_so(tmp_path, written):
    x, y = validation_rows(logits=True, seed=5)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = identity_model(loss=loss)
    callback = ClassificationReportCallback(tmp_path, validation_data=(x, y), verbose=0, background=False)
    model.fit(x[:32], y[:32], epochs=1, verbose=0, callbacks=[callback])
    probabilities, _ = core.curve_probabilities(x, CLASSES, from_logits=True)
    assert_curves(written[0], core.curve_summary(probabilities, y, x.argmax(1)))
    # without from_logits anywhere the same scores are refused, once, naming the fix
    model = identity_model()
    callback = ClassificationReportCallback(tmp_path / "other", validation_data=(x, y), verbose=0, background=False)
    with pytest.warns(UserWarning, match=r"not probabilities.*from_logits=True"):
        model.fit(x[:32], y[:32], epochs=1, verbose=0, callbacks=[callback])
    assert written[-1].curves is None


def one_output_model(layout, metrics=()):
    """An identity model of one output, compiled with a logits loss laid out as ``layout`` (Keras applies each as
    that one loss), and the labels it takes."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    inputs = keras.Input((CLASSES,))
    scores = keras.layers.Dense(CLASSES, use_bias=False, trainable=False, kernel_initializer="identity",
                                name="scores")(inputs)
    keyed = layout == "dict of one output"
    model = keras.Model(inputs, {"logits": scores} if keyed else scores)
    given = {"list": [loss], "tuple": (loss,), "dict by output name": {"scores": loss}, "dict of one output": {"logits": loss}}
    model.compile("sgd", given[layout], metrics=list(metrics))
    return model, (lambda y: {"logits": y}) if keyed else (lambda y: y)


@pytest.mark.parametrize("layout", ["list", "tuple", "dict by output name", "dict of one output"])
def test_a_loss_of_one_output_given_in_a_list_or_dict_is_checked_as_that_loss(tmp_path, written, layout):
    x, y = validation_rows(logits=True, seed=15)
    model, labels = one_output_model(layout, [MacroAveragePrecision(CLASSES)])
    with pytest.raises(ValueError, match=r"^the model's loss 'sparse_categorical_crossentropy' has from_logits=True "
                                         r"\(its outputs are logits\), but the compiled metric 'macro_average_precision' "
                                         r"has from_logits=False: it would read those logits as probabilities and its "
                                         r"value would be NaN; pass MacroAveragePrecision\(4, from_logits=True\)$"):
        model.fit(x, labels(y), validation_data=(x, labels(y)), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "refused", verbose=0, background=False)])
    assert written == []
    model, labels = one_output_model(layout)  # the predict path reads the scores as logits, as the loss says
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x[:32], labels(y[:32]), epochs=1, verbose=0, callbacks=[ClassificationReportCallback(
            tmp_path / "predicted", validation_data=(x, y), verbose=0, background=False)])
    assert not [w for w in caught if "curves" in str(w.message)]
    probabilities, _ = core.curve_probabilities(x, CLASSES, from_logits=True)
    assert_curves(written[0], core.curve_summary(probabilities, y, x.argmax(1)))


def test_only_a_loss_keras_applies_as_one_loss_is_read_as_that_loss():
    from tb_imbalance.keras.output_placement import single_output_loss

    logits, probabilities = (keras.losses.SparseCategoricalCrossentropy(from_logits=flag) for flag in (True, False))
    model, _ = one_output_model("list")
    for given, read in [([logits], logits), ({"scores": logits}, logits), (logits, logits),
                        ([logits, probabilities], [logits, probabilities]),  # Keras adds both up: cannot tell
                        ({"other": logits}, {"other": logits})]:  # a key of no output, which Keras refuses
        model.compile("sgd", given)
        assert single_output_loss(model) == read
    inputs = keras.Input((CLASSES,))
    two = keras.Model(inputs, [keras.layers.Dense(CLASSES)(inputs), keras.layers.Dense(CLASSES)(inputs)])
    two.compile("sgd", [logits])
    assert single_output_loss(two) == [logits]


def test_curves_false_on_the_metric_is_said_in_a_line_not_warned(tmp_path, written):
    x, y = validation_rows(seed=6)
    model = identity_model([BalancedAccuracy(CLASSES, curves=False)])
    callback = ClassificationReportCallback(tmp_path, verbose=1, background=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    assert not [w for w in caught if "curves" in str(w.message)]
    assert written[0].curves is None


def test_a_metric_whose_value_is_the_curves_reading_logits_as_probabilities_is_refused_before_training(
    tmp_path, written
):
    x, y = validation_rows(logits=True, seed=8)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = identity_model([MacroAveragePrecision(CLASSES)], loss=loss)  # its value would be NaN every epoch
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    with pytest.raises(ValueError, match=r"from_logits=True \(its outputs are logits\).*NaN.*"
                                         r"MacroAveragePrecision\(4, from_logits=True\)"):
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    assert written == []


def test_the_callbacks_from_logits_on_probabilities_is_refused_before_training(tmp_path, written):
    x, y = validation_rows(seed=9)
    model = identity_model()  # the loss reads probabilities
    callback = ClassificationReportCallback(tmp_path, validation_data=(x, y), from_logits=True, verbose=0,
                                            background=False)
    with pytest.raises(ValueError, match=r"loss .*from_logits=False.*callback has from_logits=True.*softmax"):
        model.fit(x[:32], y[:32], epochs=1, verbose=0, callbacks=[callback])
    assert written == []


def test_a_metric_reading_probabilities_as_logits_is_refused_before_training(tmp_path, written):
    x, y = validation_rows(seed=7)
    model = identity_model([BalancedAccuracy(CLASSES, from_logits=True)])  # the loss reads probabilities
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    with pytest.raises(ValueError, match=r"loss .*from_logits=False.*softmax of those probabilities.*BalancedAccuracy\(4\)"):
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    assert written == []


@pytest.mark.parametrize("classes, activation", [(CLASSES, "softmax"), (2, "sigmoid")])
def test_from_logits_on_a_model_ending_in_a_softmax_or_sigmoid_with_a_loss_of_its_own_is_refused(
        tmp_path, written, classes, activation):
    """A focal loss written as a function says nothing about logits; the model's ending does."""
    def focal_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_pred))

    x, y = validation_rows(seed=11)
    def model_of(metrics):
        width = 1 if activation == "sigmoid" else classes
        model = keras.Sequential([keras.Input((CLASSES,)), keras.layers.Dense(width, activation=activation)])
        model.compile("sgd", focal_loss, metrics=metrics)
        return model

    model = model_of([BalancedAccuracy(classes, from_logits=True)])
    rule = r"the model ends in a {} \(its outputs are probabilities\), but the compiled metric 'balanced_accuracy' " \
           r"has from_logits=True"
    y = y % classes
    with pytest.raises(ValueError, match=rule.format(activation)):
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "metric", verbose=0, background=False)])
    model = model_of([])  # a new model: compile() without metrics keeps Keras' earlier compiled ones
    with pytest.raises(ValueError, match=rf"the model ends in a {activation} \(its outputs are probabilities\), "
                                         r"but the callback has from_logits=True"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ClassificationReportCallback(
            tmp_path / "predict", validation_data=(x, y), from_logits=True, verbose=0, background=False)])
    assert written == []


def test_a_model_ending_in_a_softmax_with_a_logits_loss_logs_the_curves_of_its_outputs(tmp_path, written):
    x, y = validation_rows(logits=True, seed=10)  # the model's softmax of them is away from the bin edges
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # a second softmax: a training bug

    def softmax_model(metric):
        layer = keras.layers.Dense(
            CLASSES, use_bias=False, trainable=False, kernel_initializer="identity", activation="softmax")
        model = keras.Sequential([keras.Input((CLASSES,)), layer])
        model.compile("sgd", loss, metrics=[metric])
        return model

    model = softmax_model(BalancedAccuracy(CLASSES))
    callback = ClassificationReportCallback(tmp_path, verbose=0, background=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[callback])
    assert not [str(w.message) for w in caught if "curves" in str(w.message)]  # no "no curves" claim (Keras warns)
    scores = np.asarray(model.predict(x, verbose=0))
    np.testing.assert_allclose(written[0].curves, core.curve_summary(scores, y, scores.argmax(1)), rtol=1e-6)
    # a metric told to read logits, to match the loss, would softmax the probabilities again: refused, with why
    with pytest.raises(ValueError, match=r"the model ends in a softmax \(its outputs are probabilities; its loss .*"
                                         r"pass from_logits=False to the loss\), but the compiled metric"):
        softmax_model(BalancedAccuracy(CLASSES, from_logits=True)).fit(
            x, y, validation_data=(x, y), epochs=1, verbose=0,
            callbacks=[ClassificationReportCallback(tmp_path / "b", verbose=0, background=False)])


def several_outputs(layout, **heads):
    """A functional model of ``heads`` (name: (width, activation)) on CLASSES inputs, its outputs a dict or a
    list in the order given. A head of CLASSES columns without activation outputs its inputs bit for bit."""
    inputs = keras.Input((CLASSES,))
    outputs = {}
    for name, (width, activation) in heads.items():
        identity = width == CLASSES and activation is None
        outputs[name] = keras.layers.Dense(width, activation=activation, use_bias=not identity, trainable=not identity,
                                           kernel_initializer="identity" if identity else "glorot_uniform", name=name)(inputs)
    return keras.Model(inputs, outputs if layout == "dict" else list(outputs.values()))


def by_output(layout, model, **given):
    """A per-output argument of compile() or fit(): the dict, or a list in the model's output order."""
    return given if layout == "dict" else [given.get(name) for name in model.output_names]


def own_loss(y_true, y_pred):
    """A loss function of the user's, which does not say whether it reads logits."""
    return keras.ops.mean(keras.ops.square(y_pred))


@pytest.mark.parametrize("layout", ["dict", "list"])
@pytest.mark.parametrize("width, activation", [(CLASSES, "softmax"), (1, "sigmoid")])
def test_from_logits_on_an_output_of_several_ending_in_a_softmax_or_sigmoid_is_refused_before_training(
        tmp_path, written, layout, width, activation):
    """Which output a metric reads is what compile() placed it on: the other output's logits do not excuse it."""
    x, y = validation_rows(logits=True, seed=12)
    classes = 2 if width == 1 else CLASSES
    model = several_outputs(layout, probs=(width, activation), logits=(CLASSES, None))
    labels = by_output(layout, model, probs=y % classes, logits=y)
    started = []
    epochs = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: started.append(epoch))
    model.compile("sgd", own_loss, metrics=by_output(layout, model, probs=[BalancedAccuracy(classes, from_logits=True)]))
    why = rf"the model's output 'probs' ends in a {activation} \(that output holds probabilities\), but the compiled " \
          r"metric 'balanced_accuracy' has from_logits=True and would "
    fix = (r"read the curves from a softmax of those probabilities; pass from_logits=False to BalancedAccuracy\(4\)$"
           if width > 1 else r"cut probabilities at 0; pass from_logits=False to BalancedAccuracy\(2, from_logits=False\)$")
    with pytest.raises(ValueError, match=("" if width > 1 else r"^output 'probs' is one score column and ") + why + fix):
        model.fit(x, labels, validation_data=(x, labels), epochs=2, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "probs", verbose=0, background=False), epochs])
    assert started == [] and written == []
    # the same metric on the logits output reads them as logits: its curves are those of their softmax
    model.compile("sgd", own_loss, metrics=by_output(layout, model, logits=[BalancedAccuracy(CLASSES, from_logits=True)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "logits", verbose=0, background=False)])
    assert not [str(w.message) for w in caught if "from_logits" in str(w.message)]
    probabilities, _ = core.curve_probabilities(x, CLASSES, from_logits=True)
    assert_curves(written[0], core.curve_summary(probabilities, y, x.argmax(1)))


@pytest.mark.parametrize("layout", ["dict", "list"])
def test_logits_of_an_output_of_several_read_as_probabilities_are_refused_or_said_before_training(
        tmp_path, written, layout):
    """The output's own loss entry says it holds logits: a metric without from_logits is told before the first epoch."""
    x, y = validation_rows(logits=True, seed=13)
    model = several_outputs(layout, column=(1, None), logits=(CLASSES, None))
    labels = by_output(layout, model, column=y % 2, logits=y)
    losses = by_output(layout, model, column=keras.losses.BinaryCrossentropy(from_logits=True),
                       logits=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    started = []
    epochs = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: started.append(epoch))
    refusals = [
        ({"column": [BalancedAccuracy(2)]}, r"^output 'column' is one score column and the model's loss "
         r"'binary_crossentropy' for output 'column' has from_logits=True \(that output holds logits\), but the compiled "
         r"metric 'balanced_accuracy' has from_logits=False and would cut logits at 0\.5; pass from_logits=True to "
         r"BalancedAccuracy\(2, from_logits=True\)$"),
        ({"logits": [MacroAveragePrecision(CLASSES)]}, r"^the model's loss 'sparse_categorical_crossentropy' for output "
         r"'logits' has from_logits=True \(that output holds logits\), but the compiled metric 'macro_average_precision' "
         r"has from_logits=False: it would read those logits as probabilities and its value would be NaN; pass "
         r"MacroAveragePrecision\(4, from_logits=True\)$"),
    ]
    for metrics, refusal in refusals:
        model.compile("sgd", losses, metrics=by_output(layout, model, **metrics))
        with pytest.raises(ValueError, match=refusal):
            model.fit(x, labels, validation_data=(x, labels), epochs=2, verbose=0,
                      callbacks=[ClassificationReportCallback(tmp_path / "refused", verbose=0, background=False), epochs])
    assert started == [] and written == []
    # a metric whose value is not the curves: the matrix is written, the missing curves said before training
    model.compile("sgd", losses, metrics=by_output(layout, model, logits=[BalancedAccuracy(CLASSES)]))
    before_training = []
    with pytest.warns(UserWarning, match="no PR / ROC / reliability curves") as caught:
        probe = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: before_training.append(len(caught)))
        model.fit(x, labels, validation_data=(x, labels), epochs=2, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "said", verbose=0, background=False), probe])
    said = [str(w.message) for w in caught if "no PR / ROC" in str(w.message)]
    assert len(said) == 1 and before_training == [1]
    assert "for output 'logits' has from_logits=True" in said[0] and "BalancedAccuracy(4, from_logits=True)" in said[0]
    assert [step.curves for step in written] == [None, None]
    for step in written:
        np.testing.assert_array_equal(step.matrix, core.confusion_matrix(y, x))


def test_an_output_of_several_whose_loss_reads_probabilities_names_that_loss_as_the_other_fix(tmp_path, written):
    x, y = validation_rows(logits=True, seed=14)
    model = several_outputs("dict", probs=(CLASSES, "softmax"), logits=(CLASSES, None))
    labels = {"probs": y, "logits": y}
    model.compile("sgd", "sparse_categorical_crossentropy", metrics={"logits": [BalancedAccuracy(CLASSES, from_logits=True)]})
    with pytest.raises(ValueError, match=r"^the model's loss 'sparse_categorical_crossentropy' for output 'logits' has "
                                         r"from_logits=False \(that output holds probabilities\), but .* pass from_logits="
                                         r"False to BalancedAccuracy\(4\), or from_logits=True to the loss of output "
                                         r"'logits' if it holds logits$"):
        model.fit(x, labels, validation_data=(x, labels), epochs=1, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path, verbose=0, background=False)])
    assert written == []

class DictOfOutputs(keras.Model):
    """A subclassed model of two outputs: before it runs, nothing says which output a metric reads."""

    def __init__(self):
        super().__init__()
        self.a, self.b = keras.layers.Dense(CLASSES, activation="softmax"), keras.layers.Dense(CLASSES)

    def call(self, inputs):
        return {"a": self.a(inputs), "b": self.b(inputs)}


@pytest.mark.parametrize("layout", ["dict", "dict of other keys", "list", "tuple"])
def test_each_metric_and_loss_is_placed_on_the_output_keras_hands_it(layout):
    from tb_imbalance.keras.output_placement import metric_placements

    inputs = keras.Input((CLASSES,))
    heads = {key: keras.layers.Dense(CLASSES, name=name)(inputs) for key, name in (("z", "zed"), ("a", "ay"), ("m", "em"))}
    if layout == "dict":
        outputs = {head._keras_history.operation.name: head for head in heads.values()}
    else:
        outputs = heads if layout == "dict of other keys" else (list if layout == "list" else tuple)(heads.values())
    model = keras.Model(inputs, outputs)
    keys = list(outputs) if isinstance(outputs, dict) else model.output_names
    x, y = validation_rows(rows=32)
    labels = {key: y for key in keys} if isinstance(outputs, dict) else [y] * 3
    losses = [keras.losses.SparseCategoricalCrossentropy(name=f"loss_{k}") for k in range(3)]
    for metrics, weighted, loss in [
        ([[BalancedAccuracy(CLASSES, name=f"m{k}")] for k in range(3)], None, losses),
        ([BalancedAccuracy(CLASSES, name=f"m{k}") for k in range(3)], None, dict(zip(keys, losses))),
        ({keys[2]: [BalancedAccuracy(CLASSES, name="m2")], keys[0]: [BalancedAccuracy(CLASSES, name="m0")]},
         {keys[1]: [BalancedAccuracy(CLASSES, name="w1")]}, losses[0]),
    ]:
        model.compile("sgd", loss, metrics=metrics, weighted_metrics=weighted)
        model.evaluate(x, labels, verbose=0)  # Keras places them
        compiled = model._compile_metrics
        placed_by_keras = {id(metric): (index, per_output.output_name)
                           for built in (compiled._flat_metrics, compiled._flat_weighted_metrics)
                           for index, per_output in enumerate(built) if per_output is not None
                           for metric in per_output.metrics}
        given = [m for m in keras.tree.flatten([metrics, weighted]) if m is not None]
        flat_losses = {path[0]: entry for path, entry, _, _ in model._compile_loss._flat_losses}
        for metric, placement in zip(given, metric_placements(model, given)):
            index, name = placed_by_keras[id(metric)]
            assert placement.name == name, (layout, metric.name)
            key = name if isinstance(outputs, dict) else index
            assert placement.output is (model.output[name] if isinstance(outputs, dict) else model.outputs[index])
            assert placement.loss is flat_losses[key], (layout, metric.name, placement.loss, flat_losses)
    subclassed = DictOfOutputs()
    metric = BalancedAccuracy(CLASSES, from_logits=True)
    subclassed.compile("sgd", "sparse_categorical_crossentropy", metrics={"a": [metric]})
    subclassed.evaluate(x, {"a": y, "b": y}, verbose=0)
    assert metric_placements(subclassed, [metric]) == [None]
