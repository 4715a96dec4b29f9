"""What other libraries hand a user is read, or refused naming what to pass instead.

A model's output dict (Hugging Face's ``ModelOutput``), a confusion matrix
normalised by torchmetrics or scikit-learn, binary logits past float's
range, logits that are all 0 (an untrained model), labels that are a
scikit-learn classifier's ``classes_`` beside ``class_names=clf.classes_``, a sequence model's scores at
every step beside one label a sequence; and, where PyTorch is
installed, ``torch.return_types`` from ``max`` / ``topk``, a torchmetrics metric
object passed without ``.compute()``, lists of tensors
that require grad, ``SummaryWriter`` subclasses and ``log_report`` inside a
``torch.compile``d function.
"""

from __future__ import annotations

import collections
import logging
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

import tb_imbalance
from logdir_reader import matrices

NAMES = ["normal", "fault", "fraud"]


def _counts():
    rng = np.random.default_rng(4)
    true = rng.choice(3, 400, p=[0.8, 0.15, 0.05])
    predicted = np.where(rng.random(400) < 0.7, true, rng.integers(0, 3, 400))
    return true, predicted, skm.confusion_matrix(true, predicted, labels=range(3))


@pytest.mark.parametrize("normalize", ["true", "pred"])
def test_a_normalised_matrix_is_refused_naming_normalize_and_nothing_is_written(tmp_path, normalize):
    true, predicted, _ = _counts()
    normalised = skm.confusion_matrix(true, predicted, labels=range(3), normalize=normalize)
    with pytest.raises(ValueError, match=rf"`cm` looks normalised: .*normalize='{normalize}'.*weighted=True"):
        tb_imbalance.log_matrix(tmp_path, normalised, 0, class_names=NAMES)
    assert not any(tmp_path.iterdir())
    tb_imbalance.log_matrix(tmp_path, normalised, 0, class_names=NAMES, weighted=True)  # said to be weights: kept


def test_weighted_sums_and_float_counts_that_are_not_normalised_are_kept(tmp_path):
    _, _, counts = _counts()
    tb_imbalance.log_matrix(tmp_path / "float", counts.astype(np.float32), 0)
    tb_imbalance.log_matrix(tmp_path / "weights", counts * 0.37, 0)
    tb_imbalance.log_matrix(tmp_path / "one_row", np.array([[0.5, 1.5], [0.0, 0.0]]), 0)
    all_normalised = counts / counts.sum()  # normalize='all' keeps every ratio the report reads
    tb_imbalance.log_matrix(tmp_path / "all", all_normalised, 0)
    assert matrices(tmp_path)["float"][0].tolist() == counts.tolist()
    np.testing.assert_allclose(matrices(tmp_path)["all"][0], all_normalised)


def test_class_balanced_weights_whose_rows_sum_to_1_are_sums_of_weights_on_every_weighted_path(tmp_path):
    # Weights 1 / count of the row's class make every row of the matrix sum to 1: sums of weights,
    # said so by the entry that took the weights, never taken for a normalised matrix.
    true, predicted, counts = _counts()
    weights = 1.0 / counts.sum(axis=1)[true]
    expected = skm.confusion_matrix(true, predicted, labels=range(3), sample_weight=weights)
    np.testing.assert_allclose(tb_imbalance.log_report(tmp_path / "log_report", true, predicted, 0, num_classes=3,
                                                       sample_weight=weights), expected)
    tb_imbalance.log_matrix(tmp_path / "whole", np.eye(3), 0)  # whole-number floats are counts
    import keras

    from tb_imbalance.keras import ClassificationReportCallback

    x = np.eye(3, 4, dtype="float32")[true] + np.random.default_rng(0).normal(size=(len(true), 4)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    callback = ClassificationReportCallback(str(tmp_path / "callback"), validation_data=(x, true, weights), background=False)
    model.fit(x, true, epochs=1, verbose=0, callbacks=[callback])
    logged = matrices(tmp_path / "callback")["validation_imbalance"][0]
    assert np.isclose(logged.sum(axis=1), 1.0).all()


def test_tf_summary_ops_take_class_balanced_weights(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import tb_imbalance.summary as tbs

    true, predicted, counts = _counts()
    weights = 1.0 / counts.sum(axis=1)[true]
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        assert tbs.confusion_matrix("cm", true, predicted, step=0, num_classes=3, sample_weight=weights)
        assert tbs.classification_report("report", true, predicted, step=0, num_classes=3, sample_weight=weights, image=False)


@pytest.mark.parametrize("extra", [{"batch_stats": 1.0}, np.zeros(40), np.float32(0.3)], ids=["state", "aux", "loss"])
def test_a_model_output_tuple_is_refused_naming_the_array_to_pass(tmp_path, extra):
    """A model returning (logits, state) (Flax's mutable apply) or (logits, aux) was refused as 'ragged'."""
    rng = np.random.default_rng(12)
    true, logits = rng.integers(0, 3, 40), rng.normal(size=(40, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"`predictions` is a tuple of 2 items, the first a \[40, 3\] array beside "
                                         r"other values, .*pass the array to log, e.g. predictions\[0\]"):
        tb_imbalance.log_report(tmp_path, true, (logits, extra), 0, from_logits=True)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, true, (logits, extra)[0], 0, from_logits=True)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true, logits.argmax(1), labels=range(3)))


def test_a_model_output_dict_is_refused_naming_the_key_to_pass(tmp_path):
    outputs = collections.OrderedDict(logits=np.zeros((4, 3)), hidden_states=None)
    with pytest.raises(TypeError, match=r"`predictions` is a mapping with keys 'logits', 'hidden_states'.*outputs\['logits'\]"):
        tb_imbalance.log_report(tmp_path, [0, 1, 2, 0], outputs, 0)
    assert not any(tmp_path.iterdir())


def test_a_dict_as_labels_is_refused_naming_labels_and_the_array_to_pass_not_a_model_output(tmp_path):
    # a dict of labels got the model-output advice ("outputs['logits']"), which fits no labels
    scores = np.array([[0.2, 0.8], [0.9, 0.1], [0.3, 0.7]])
    by_row = {0: 1, 1: 0, 2: 0}  # pandas' Series.to_dict(): {row: class id}
    fix = (r"^`labels` is a mapping with keys 0, 1, 2, not one class id per row; pass a 1-D array of class ids: a "
           r"dict \{row: class id\} as np\.asarray\(list\(labels\.values\(\)\)\) if its order is the rows' order "
           r"\(a mapping of classes, such as class_weight or a label map, is not labels\)$")
    for call in (lambda: tb_imbalance.log_report(tmp_path, by_row, scores, 0),
                 lambda: tb_imbalance.core.confusion_matrix(by_row, scores)):
        with pytest.raises(TypeError, match=fix):
            call()
    batch = {"input_ids": np.zeros((3, 4)), "label": np.array([1, 0, 0])}  # a Hugging Face datasets batch
    with pytest.raises(TypeError, match=r"^`labels` is a mapping with keys 'input_ids', 'label', as a batch dict is; "
                                        r"pass the class ids in it, labels\['label'\]$"):
        tb_imbalance.log_report(tmp_path, batch, scores, 0)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, np.asarray(list(by_row.values())), scores, 0)  # the fix the message gives
    assert cm.tolist() == [[1, 1], [0, 1]]
    assert tb_imbalance.log_report(tmp_path, batch["label"], scores, 1).tolist() == [[1, 1], [0, 1]]


@pytest.mark.parametrize("argument", ["labels", "predictions", "sample_weight"])
def test_an_empty_dict_is_refused_as_empty_not_as_a_mapping_with_keys_of_nothing(tmp_path, argument):
    # "`labels` is a mapping with keys , as a batch dict is; pass the class ids in it, labels[key]"
    given = {"labels": [0, 1], "predictions": [[0.9, 0.1], [0.2, 0.8]], "sample_weight": None, argument: {}}
    with pytest.raises(TypeError) as refused:
        tb_imbalance.log_report(tmp_path, given["labels"], given["predictions"], 0, sample_weight=given["sample_weight"])
    assert str(refused.value) == (f"`{argument}` is an empty mapping (a dict with no keys); pass an array, one "
                                  "entry per row")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_multi_label_targets_are_refused_as_such_naming_a_binary_report_per_label(tmp_path, dtype):
    rng = np.random.default_rng(3)
    targets = np.zeros((50, 3), dtype)  # BCEWithLogitsLoss targets: any number of labels per row, none included
    targets[1:, :] = rng.random((49, 3)) < 0.4
    targets[1], targets[2] = [0, 1, 0], [1, 0, 1]
    scores = rng.random((50, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"row 2 has its largest value 1(\.0)? in columns \[0, 2\].*multi-label.*"
                                         r"labels\[:, k\] with scores\[:, k\]"):
        tb_imbalance.log_report(tmp_path, targets, scores, 0, class_names=NAMES)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, targets[:, 2], scores[:, 2], 0, name="label_2")  # as advised
    np.testing.assert_array_equal(cm, skm.multilabel_confusion_matrix(targets, scores > 0.5)[2])


def _masks(seed=7, n=4, classes=3, height=5, width=6):
    """Segmentation masks [n, H, W] and PyTorch-laid-out logits [n, C, H, W] that favour the true class."""
    rng = np.random.default_rng(seed)
    masks = rng.choice(classes, (n, height, width), p=[0.7, 0.2, 0.1])
    logits = rng.normal(size=(n, classes, height, width)) + 2.0 * np.moveaxis(np.eye(classes)[masks], -1, 1)
    return masks, logits.astype(np.float32)


_LAYOUTS = {  # labels' shape, the scores from logits [n, C, H, W], what the error says to do
    "masks, PyTorch's layout": ((4, 5, 6), lambda x: x, r"predictions\.movedim\(1, -1\)\.reshape\(-1, 3\)"),
    "masks, channels last": ((4, 5, 6), lambda x: np.moveaxis(x, 1, -1), r"and predictions\.reshape\(-1, 3\)"),
    "masks [n, 1, H, W]": ((4, 1, 5, 6), lambda x: x, r"labels\.reshape\(-1\) and predictions\.movedim\(1, -1\)"),
    "token tags, logits [n, C, T]": ((4, 30), lambda x: x.reshape(4, 3, 30), r"movedim\(1, -1\)\.reshape\(-1, 3\)"),
    "token tags, logits [n, T, C]": (
        (4, 30), lambda x: np.moveaxis(x.reshape(4, 3, 30), 1, -1), r"and predictions\.reshape\(-1, 3\)"
    ),
}


@pytest.mark.parametrize("layout", list(_LAYOUTS))
def test_per_position_labels_and_scores_are_refused_naming_how_to_flatten_them(tmp_path, layout):
    labels_shape, scores_of, fix = _LAYOUTS[layout]
    masks, logits = _masks()
    with pytest.raises(ValueError, match=r"one value per position .*" + fix + r".*sample_weight=\(labels != ignore_index\)"):
        tb_imbalance.log_report(tmp_path, masks.reshape(labels_shape), scores_of(logits), 0, from_logits=True,
                                class_names=NAMES)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("layout", ["[n, 1, C]", "[n, C, 1]", "both [n, 1, C]"])
def test_one_hot_rows_beside_scores_with_a_size_1_axis_are_advised_as_rows_too(tmp_path, layout):
    """One-hot labels [n, C] beside scores [n, 1, C] (a sequence of one step) read as C positions of a binary
    mask: the advice flattened them into n * C sigmoid rows, a 2 x 2 matrix. Removing the size-1 axis is the fix."""
    rng = np.random.default_rng(9)
    true = rng.integers(0, 3, 40)
    scores = rng.dirichlet(np.ones(3), 40).astype(np.float32)
    one_hot = np.eye(3)[true]
    labels, predictions = {
        "[n, 1, C]": (one_hot, scores[:, None, :]),
        "[n, C, 1]": (one_hot, scores[:, :, None]),
        "both [n, 1, C]": (one_hot[:, None, :], scores[:, None, :]),
    }[layout]
    with pytest.raises(ValueError, match=r"if `labels` are one-hot rows \[N, 3\] rather than 3 positions, remove the "
                                         r"size-1 axis instead: labels\.reshape\(-1, 3\) and predictions\.reshape\(-1, 3\)"):
        tb_imbalance.log_report(tmp_path, labels, predictions, 0, class_names=NAMES)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, labels.reshape(-1, 3), predictions.reshape(-1, 3), 0, class_names=NAMES)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true, scores.argmax(1), labels=range(3)))


def test_masks_flattened_as_advised_with_an_ignore_index_give_sklearns_report(tmp_path):
    masks, logits = _masks()
    masks[:, 0, :] = -100  # CrossEntropyLoss's ignore_index
    labels = masks.reshape(-1)
    scores = np.moveaxis(logits, 1, -1).reshape(-1, 3)
    kept = labels != -100
    cm = tb_imbalance.log_report(tmp_path, labels, scores, 0, sample_weight=kept, from_logits=True, class_names=NAMES)
    expected = skm.confusion_matrix(labels[kept], scores[kept].argmax(1), labels=range(3))
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(matrices(tmp_path)["."][0], expected)


@pytest.mark.parametrize("stacked", ["predictions", "labels"])
def test_one_batch_per_device_on_a_leading_axis_is_refused_naming_the_reshape_and_read_once_flattened(tmp_path, stacked):
    """jax.pmap (or a shard_map whose output is stacked) returns [D, B, C]: 4 devices, 100 rows each."""
    rng = np.random.default_rng(5)
    labels, logits = rng.integers(0, 3, 400), rng.normal(size=(400, 3))
    one_hot = np.eye(3)[labels]
    given = {"predictions": (labels, logits.reshape(4, 100, 3)), "labels": (one_hot.reshape(4, 100, 3), logits)}[stacked]
    for kwargs in ({}, {"class_names": NAMES}):
        with pytest.raises(ValueError, match=rf"`{stacked}` \[4, 100, 3\] holds one batch per device on a leading axis "
                                             rf"\(as jax.pmap returns \[D, B, C\]\) beside 400 rows .*{stacked}\.reshape\(-1, 3\)$"):
            tb_imbalance.log_report(tmp_path, *given, 0, from_logits=True, **kwargs)
    assert list(tmp_path.iterdir()) == []
    flat = {"predictions": (labels, logits), "labels": (one_hot, logits)}[stacked]
    cm = tb_imbalance.log_report(tmp_path, *flat, 0, from_logits=True, class_names=NAMES)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(labels, logits.argmax(1), labels=range(3)))


def test_binary_logits_past_floats_range_log_quietly_under_warnings_as_errors(tmp_path):
    logits = np.array([-200.0, -90.0, 95.0, 300.0, 1.0, -1.0], dtype=np.float32)
    labels = np.array([0, 0, 1, 1, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        returned = tb_imbalance.log_report(tmp_path, labels, logits, 0, from_logits=True, examples=np.arange(6.0))
    assert returned.tolist() == [[3, 0], [0, 3]]


def test_all_zero_logits_are_not_taken_for_probabilities(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tb_imbalance.log_report(tmp_path / "zeros", [0, 1, 1], np.zeros(3), 0, from_logits=True)
        with pytest.warns(UserWarning, match="as probabilities are"):
            tb_imbalance.log_report(tmp_path / "probabilities", [0, 1, 1], [0.2, 0.9, 0.6], 0, from_logits=True)
    said = [r.getMessage() for r in caplog.records if "as probabilities are" in r.getMessage()]
    assert len(said) == 1 and "every row above 0 counts as predicted positive" in said[0]


def test_a_traced_jax_step_is_refused_naming_step(tmp_path):
    jax = pytest.importorskip("jax")

    @jax.jit
    def step(index):
        tb_imbalance.log_report(tmp_path, [0, 1], [[0.8, 0.2], [0.3, 0.7]], step=index)
        return index

    with pytest.raises(TypeError, match=r"`step` is a JAX tracer .* jax.debug.callback"):
        step(3)
    assert not (tmp_path / "confusion_matrix").exists() and list(tmp_path.iterdir()) == []


def test_traced_jax_arrays_are_refused_naming_the_callback_that_logs_them_from_inside_jit_and_scan(tmp_path):
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(6)
    labels, logits = rng.integers(0, 3, (4, 200)), rng.normal(size=(4, 200, 3)).astype(np.float32)

    @jax.jit
    def traced(labels, logits):
        tb_imbalance.log_report(tmp_path / "traced", labels, logits, 0, from_logits=True)
        return logits

    with pytest.raises(TypeError, match=r"`labels` is a JAX tracer .* jax\.debug\.callback"):
        traced(labels[0], logits[0])
    assert list(tmp_path.iterdir()) == []

    def log(step, labels, logits):  # host arrays, one evaluation a call
        tb_imbalance.log_report(tmp_path / "scan", labels, logits, step, from_logits=True, class_names=NAMES)

    def evaluate(carry, batch):
        jax.debug.callback(log, *batch, ordered=True)
        return carry, batch[2].argmax(-1)

    _, predicted = jax.jit(lambda batches: jax.lax.scan(evaluate, 0, batches))((np.arange(4) * 10, labels, logits))
    jax.effects_barrier()
    logged = matrices(tmp_path)["scan"]
    assert list(logged) == [0, 10, 20, 30]
    for index, step in enumerate(logged):
        expected = skm.confusion_matrix(labels[index], logits[index].argmax(1), labels=range(3))
        np.testing.assert_array_equal(logged[step], expected)
        np.testing.assert_array_equal(np.asarray(predicted[index]), logits[index].argmax(1))


def test_a_donated_jax_array_is_refused_naming_the_argument(tmp_path):
    jax = pytest.importorskip("jax")
    scores = jax.numpy.asarray([[0.8, 0.2], [0.3, 0.7]])
    jax.jit(lambda x: x * 2, donate_argnums=0)(scores)  # the CPU may keep the buffer: deleted by hand then
    if not scores.is_deleted():
        scores.delete()
    with pytest.raises(ValueError, match=r"`predictions` is a JAX array whose buffer was deleted or donated"):
        tb_imbalance.log_report(tmp_path, [0, 1], scores, 0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argument", ["labels", "predictions"])
def test_a_jax_prng_key_array_passed_by_mistake_is_refused_naming_the_argument(tmp_path, argument):
    jax = pytest.importorskip("jax")
    given = {"labels": [0, 1, 0, 1], "predictions": np.eye(2)[[0, 1, 1, 1]]}
    given[argument] = jax.random.split(jax.random.key(0), 4)
    with pytest.raises(TypeError, match=rf"`{argument}` is an array of JAX PRNG keys \(dtype key<fry>\), not of class ids"):
        tb_imbalance.log_report(tmp_path, given["labels"], given["predictions"], 0)
    assert list(tmp_path.iterdir()) == []


def test_torch_return_types_name_the_indices_to_pass(tmp_path):
    torch = pytest.importorskip("torch")
    logits = torch.tensor([[2.0, 0.1, 0.0], [0.0, 3.0, 1.0]])
    for slip in (logits.max(1), logits.topk(1, 1)):
        with pytest.raises(TypeError, match=r"`predictions` is a torch\.return_types\.\w+, not a tensor.*\.indices"):
            tb_imbalance.log_report(tmp_path, [0, 1], slip, 0)
    assert tb_imbalance.log_report(tmp_path, [0, 1], logits.max(1).indices, 0, num_classes=3).trace() == 2



def test_a_torchmetrics_metric_object_is_refused_naming_compute(tmp_path):
    torch = pytest.importorskip("torch")
    classification = pytest.importorskip("torchmetrics.classification")
    true, predicted, expected = _counts()
    metric = classification.MulticlassConfusionMatrix(3)
    metric.update(torch.from_numpy(predicted), torch.from_numpy(true))
    collection = pytest.importorskip("torchmetrics").MetricCollection({"cm": metric})
    for forgot in (metric, collection):  # without .compute(): read as a dtype object / the dict's keys before
        with pytest.raises(TypeError, match=rf"`cm` is a torchmetrics {type(forgot).__name__}, a metric object "
                                            r"rather than its values: pass metric\.compute\(\).*every rank"):
            tb_imbalance.log_matrix(tmp_path, forgot, 0)
    with pytest.raises(TypeError, match=r"`predictions` is a torchmetrics MulticlassConfusionMatrix"):
        tb_imbalance.log_report(tmp_path, true, metric, 0)
    assert not any(tmp_path.iterdir())
    np.testing.assert_array_equal(tb_imbalance.log_matrix(tmp_path, metric.compute(), 0, image=False), expected)
    (by_step,) = matrices(tmp_path).values()
    assert {step: cm.tolist() for step, cm in by_step.items()} == {0: expected.tolist()}


def test_a_quantized_model_output_is_read_as_the_values_it_stands_for(tmp_path):
    torch = pytest.importorskip("torch")
    scores = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    quantized = torch.quantize_per_tensor(scores, 0.1, 0, torch.quint8)
    logged = tb_imbalance.log_report(tmp_path, [0, 1, 1, 2], quantized, 0, image=False)
    np.testing.assert_array_equal(logged, skm.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 0], labels=range(3)))
    with pytest.raises(TypeError, match=r"`predictions` is a PyTorch tensor of dtype torch.complex32, which numpy "
                                        r"cannot read .*tensor.float\(\)"):
        tb_imbalance.log_report(tmp_path / "other", [0, 1], torch.zeros(2, 2, dtype=torch.complex32), 0)
    assert not (tmp_path / "other").exists()


def test_a_list_of_tensors_that_require_grad_gets_the_concatenate_advice(tmp_path):
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(4, 3)
    batches = [model(torch.randn(5, 4)) for _ in range(3)]  # no torch.no_grad(): they require grad
    with pytest.raises(ValueError, match="is a list of 3 arrays.*concatenate them first"):
        tb_imbalance.log_report(tmp_path, [torch.zeros(5, dtype=torch.long)] * 3, batches, 0)
    assert not any(tmp_path.iterdir())


def test_a_list_of_one_tensor_a_row_is_read_with_grad_in_bfloat16_as_the_tensors_are(tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    true = rng.choice(2, 60, p=[0.7, 0.3])
    weight = torch.nn.Parameter(torch.tensor(3.0))
    scores = torch.from_numpy(rng.normal(size=60).astype(np.float32) + 1.5 * true - 0.5)
    probabilities = [torch.sigmoid(weight * score) for score in scores]  # appended in a loop without no_grad: 0-d, grad
    labels = [torch.tensor(label) for label in true]
    expected = np.array([float(p) > 0.5 for p in probabilities])
    cm = tb_imbalance.log_report(tmp_path / "grad", labels, probabilities, 0, sample_weight=[weight * 0 + 1] * 60)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true, expected, labels=[0, 1]))
    halves = [p.to(torch.bfloat16) for p in probabilities]
    expected = np.array([float(p) > 0.5 for p in halves])
    cm = tb_imbalance.log_report(tmp_path / "bfloat16", labels, halves, 0)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true, expected, labels=[0, 1]))


def test_class_names_of_0_d_tensors_are_their_values_not_their_reprs(tmp_path):
    # list(labels.unique()) is a list of 0-d tensors: str() of each made the names 'tensor(0)', … for good
    torch = pytest.importorskip("torch")
    from logdir_reader import plugin_content
    from tb_imbalance import format as fmt

    labels, predicted = torch.tensor([0, 1, 2, 1, 0]), torch.tensor([0, 1, 1, 1, 0])
    tb_imbalance.log_report(tmp_path, labels, predicted, 0, class_names=list(labels.unique()), image=False)
    assert fmt.parse_plugin_content(plugin_content(tmp_path, ".")).class_names == ("0", "1", "2")
    halves = [torch.tensor(value, dtype=torch.bfloat16, requires_grad=True) for value in (0.5, 1.5)]
    assert tb_imbalance.classification_report(np.eye(2, dtype=int), halves)["1.5"]["support"] == 1


def _zero_d_tensors(framework, values, dtype):
    """``list(tensor)`` of ``framework``: its 0-d tensors, as list(labels.unique()) gives them."""
    if framework == "tensorflow":
        tf = pytest.importorskip("tensorflow")
        return list(tf.constant(values, dtype=dtype))
    if framework == "torch":
        torch = pytest.importorskip("torch")
        return list(torch.tensor(values, dtype=getattr(torch, dtype)))
    jnp = pytest.importorskip("jax.numpy")
    return list(jnp.array(values, dtype=dtype))


@pytest.mark.parametrize("framework", ["tensorflow", "torch", "jax"])
def test_class_names_of_any_frameworks_0_d_tensors_are_written_as_numpy_writes_them(framework):
    # TensorFlow's were named 'tf.Tensor(0, shape=(), dtype=int32)'; a float32 0.1 was named '0.10000000149011612'
    eye = np.eye(3, dtype=int)
    report = tb_imbalance.classification_report(eye, _zero_d_tensors(framework, [0, 1, 2], "int32"))
    assert list(report)[:3] == ["0", "1", "2"]
    report = tb_imbalance.classification_report(eye, _zero_d_tensors(framework, [0.1, 1.5, 2.0], "float32"))
    assert list(report)[:3] == ["0.1", "1.5", "2.0"]


def test_a_count_matrix_in_a_narrow_float_past_its_whole_numbers_is_refused_not_logged_rounded(tmp_path):
    # one_hot(y).T @ one_hot(p) under autocast gives float16 / bfloat16: 2049 became 2048, 257 became 256, logged
    torch = pytest.importorskip("torch")
    true, predicted = np.repeat([0, 0, 1], [2049, 3, 257]), np.repeat([0, 1, 1], [2049, 3, 257])
    exact = skm.confusion_matrix(true, predicted)
    hot = torch.nn.functional.one_hot
    with torch.autocast("cpu", dtype=torch.bfloat16):
        counted = hot(torch.from_numpy(true)).T.float() @ hot(torch.from_numpy(predicted)).float()
    assert counted.dtype == torch.bfloat16 and counted[0, 0].item() == 2048
    with pytest.raises(ValueError, match=r"`cm` is bfloat16, whose whole numbers from 256 on may be rounded ones \(257 "
                                         r"rounds to 256\), and its cell at row 0, column 0 is 2048\.0.*torch\.autocast.*integer type"):
        tb_imbalance.log_matrix(tmp_path, counted, 0, weighted=False)
    with pytest.raises(ValueError, match=r"`cm` is float16, whose whole numbers from 2048 on .* row 0, column 0 is 2048"):
        tb_imbalance.ReportWriter(tmp_path).write_matrix(0, "confusion_matrix", exact.astype(np.float16), ["a", "b"])
    assert not any(tmp_path.iterdir())
    small = torch.tensor([[255, 2], [3, 250]], dtype=torch.bfloat16)  # every cell held exactly: logged as counts
    assert tb_imbalance.log_matrix(tmp_path, small, 0, weighted=False, image=False).tolist() == [[255, 2], [3, 250]]
    np.testing.assert_array_equal(tb_imbalance.log_matrix(tmp_path, torch.from_numpy(exact), 1, image=False), exact)


def test_a_count_matrix_given_as_narrow_float_rows_is_refused_as_the_matrix_is(tmp_path):
    # a list of float16 row tensors skipped the check: 2049 was logged as 2048
    torch = pytest.importorskip("torch")
    rows = [torch.tensor([2049.0, 3.0], dtype=torch.float16), torch.tensor([0.0, 257.0], dtype=torch.float16)]
    assert rows[0][0].item() == 2048
    with pytest.raises(ValueError, match=r"`cm` is float16, whose whole numbers from 2048 on .* row 0, column 0 is 2048"):
        tb_imbalance.log_matrix(tmp_path, rows, 0, weighted=False)
    mixed = [torch.tensor([300.0, 3.0]), torch.tensor([0.0, 257.0], dtype=torch.bfloat16)]  # float32, then bfloat16
    with pytest.raises(ValueError, match=r"`cm` is bfloat16, whose whole numbers from 256 on .* row 1, column 1 is 256"):
        tb_imbalance.ReportWriter(tmp_path).write_matrix(0, "confusion_matrix", mixed, ["a", "b"])
    assert not any(tmp_path.iterdir())
    held = [torch.tensor([300.0, 3.0]), torch.tensor([0.0, 250.0], dtype=torch.bfloat16)]  # each row's cells exact
    assert tb_imbalance.log_matrix(tmp_path, held, 0, weighted=False, image=False).tolist() == [[300, 3], [0, 250]]


def test_class_id_labels_in_a_narrow_float_past_its_whole_numbers_are_refused_not_counted_rounded(tmp_path):
    # labels 0..259 cast to bfloat16 (a batch moved with .to(torch.bfloat16)) were counted as 0..256 and 258, 260:
    # label 257 in class 256's row, 259 in class 260's, without a word
    torch = pytest.importorskip("torch")
    true = np.arange(260)
    assert torch.tensor(true).bfloat16()[257].item() == 256
    with pytest.raises(ValueError, match=r"`labels` is bfloat16, whose whole numbers from 256 on may be rounded ones "
                                         r"\(257 rounds to 256\), and its row 256 is 256\.0.*as integers"):
        tb_imbalance.log_report(tmp_path, torch.tensor(true).bfloat16(), true, 0, num_classes=300)
    with pytest.raises(ValueError, match=r"`labels` is float16, whose whole numbers from 2048 on .* row 2048 is 2048"):
        tb_imbalance.log_report(tmp_path, np.arange(2100, dtype=np.float16), np.arange(2100), 0, num_classes=2100)
    assert not any(tmp_path.iterdir())
    held = torch.tensor(true[:256]).bfloat16()  # every id held exactly, one-hot rows too: counted as sklearn does
    cm = tb_imbalance.log_report(tmp_path, held, true[:256], 0, num_classes=300, image=False)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true[:256], true[:256], labels=range(300)))
    hot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1])).bfloat16()
    assert tb_imbalance.log_report(tmp_path, hot, [0, 1, 1, 1], 0, name="hot", image=False).tolist() == [[1, 0, 0], [0, 2, 0], [0, 1, 0]]


def test_a_negative_cell_of_a_narrow_float_matrix_is_said_negative_not_rounded(tmp_path):
    # -3000 in float16 was refused as a count float16 may have rounded; negative, it is no count at all
    cm = np.array([[-3000.0, 3.0], [0.0, 5.0]], dtype=np.float16)
    with pytest.raises(ValueError, match=r"^`cm` must hold non-negative counts, received -3000\.0$"):
        tb_imbalance.log_matrix(tmp_path, cm, 0)
    assert not any(tmp_path.iterdir())


def test_a_summary_writer_subclass_is_a_summary_writer(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    class ProjectWriter(SummaryWriter):
        pass

    writer = ProjectWriter(str(tmp_path))
    tb_imbalance.log_report(writer, [0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], 0)
    writer.close()
    assert matrices(tmp_path)["."][0].tolist() == [[1, 0], [1, 1]]


def test_log_report_inside_a_compiled_function_runs_eagerly(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    x, y = torch.randn(60, 4), torch.randint(0, 3, (60,))

    @torch.compile(backend="eager")
    def evaluate(step):
        logits = model(x)
        return tb_imbalance.log_report(tmp_path, y, logits, step, from_logits=True), logits.sum()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dynamo's notes on the graph break
        returned = [evaluate(step)[0] for step in range(2)]
    with torch.no_grad():
        expected = skm.confusion_matrix(y.numpy(), model(x).argmax(1).numpy(), labels=range(3))
    assert all(matrix.tolist() == expected.tolist() for matrix in returned)
    assert {step: matrix.tolist() for step, matrix in matrices(tmp_path)["."].items()} == {0: expected.tolist(), 1: expected.tolist()}


def _fitted(classes, seed=7):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    classes = np.asarray(classes)
    y = rng.choice(classes, 300, p=np.linspace(3, 1, len(classes)) / np.linspace(3, 1, len(classes)).sum())
    x = np.eye(len(classes))[np.searchsorted(classes, y)] * 1.5 + rng.normal(size=(300, len(classes)))
    return LogisticRegression().fit(x, y), x, y


@pytest.mark.parametrize("classes", [[1, 2, 3], [0, 2, 5], [-1, 1]], ids=["1-based", "gaps", "minus one"])
def test_labels_that_are_a_classifiers_classes_beside_those_names_are_never_read_as_positions_unsaid(tmp_path, classes):
    # a validation set without the largest class: its labels were all below C, and each row was
    # counted in the next class's row (label 1 of classes [1, 2, 3] as class 2) without a word. Labels
    # in 0..C-1 may be class ids too (a loop's evaluation without class 0): said, and training goes on;
    # a label below 0 is no class id: refused
    clf, x, y = _fitted(classes)
    keep = y != y.max()
    y_val, proba = y[keep], clf.predict_proba(x[keep])
    said = r"`labels` (hold|may be) values of `class_names` .*LabelEncoder\(\)\.fit\(clf\.classes_\)"
    if y_val.min() < 0:
        with pytest.raises(ValueError, match=said):
            tb_imbalance.log_report(tmp_path / "raw", y_val, proba, 0, class_names=clf.classes_)
        assert not (tmp_path / "raw").exists()  # nothing written
    else:
        with pytest.warns(UserWarning, match=said):
            tb_imbalance.log_report(tmp_path / "raw", y_val, proba, 0, class_names=clf.classes_)
    from sklearn.preprocessing import LabelEncoder

    ids = LabelEncoder().fit(clf.classes_).transform(y_val)  # the mapping the message gives
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm = tb_imbalance.log_report(tmp_path / "ids", ids, proba, 0, class_names=clf.classes_)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_val, clf.predict(x[keep]), labels=clf.classes_))


def test_the_mapping_advised_for_labels_that_are_a_classifiers_classes_works_without_its_smallest_class(tmp_path):
    # without class 1 of [1, 2, 3], LabelEncoder's ids are 1 and 2, both names too: the fix names the text names
    clf, x, y = _fitted([1, 2, 3])
    keep = y != y.min()
    y_val, proba = y[keep], clf.predict_proba(x[keep])
    fix = (r"ids = LabelEncoder\(\)\.fit\(clf\.classes_\)\.transform\(labels\) \(.*\), then log ids with "
           r"class_names=\[str\(c\) for c in clf\.classes_\]")
    with pytest.raises(ValueError, match=fix):
        tb_imbalance.log_report(tmp_path / "raw", y_val, proba, 0, class_names=clf.classes_)
    from sklearn.preprocessing import LabelEncoder

    ids = LabelEncoder().fit(clf.classes_).transform(y_val)
    cm = tb_imbalance.log_report(tmp_path / "ids", ids, proba, 0, class_names=[str(c) for c in clf.classes_])
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_val, clf.predict(x[keep]), labels=clf.classes_))


def test_class_ids_beside_names_that_are_numbers_are_read_as_ids(tmp_path):
    clf, x, y = _fitted([1, 3, 7])
    ids = np.searchsorted(clf.classes_, y)
    cm = tb_imbalance.log_report(tmp_path / "ids", ids, clf.predict_proba(x), 0, class_names=clf.classes_)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, clf.predict(x), labels=clf.classes_))
    only_ones = ids == 1  # every id is then also a name (1): which one is meant cannot be told, so it is said
    with pytest.warns(UserWarning, match=r"label 1 is counted as class_names\[1\] \(3\).*if the labels are "
                                         r"already class ids, pass the names as text alone, and this warning goes"):
        cm = tb_imbalance.log_report(tmp_path / "ones", ids[only_ones], clf.predict_proba(x[only_ones]), 0,
                                     class_names=clf.classes_)
    assert cm.sum(axis=1).tolist() == [0, int(only_ones.sum()), 0]  # counted as ids, as a loop's step is
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm = tb_imbalance.log_report(tmp_path / "ones", ids[only_ones], clf.predict_proba(x[only_ones]), 1,
                                     class_names=[str(c) for c in clf.classes_])  # the names as text: ids, unsaid
    assert cm.sum(axis=1).tolist() == [0, int(only_ones.sum()), 0]


def test_a_one_vs_one_decision_function_beside_class_names_is_refused_and_one_vs_rest_is_read(tmp_path):
    from sklearn.svm import SVC

    rng = np.random.default_rng(9)
    y = rng.choice(4, 240, p=[0.5, 0.25, 0.15, 0.1])
    x = np.eye(4)[y] * 2.0 + rng.normal(size=(240, 4))
    names = ["a", "b", "c", "d"]
    pairs = SVC(decision_function_shape="ovo").fit(x, y).decision_function(x)  # 6 columns, one per pair
    with pytest.raises(ValueError, match=r"`predictions` has 6 columns, one per pair of the 4 classes .*"
                                         r"decision_function_shape='ovr'"):
        tb_imbalance.log_report(tmp_path / "ovo", y, pairs, 0, class_names=names, from_logits=True)
    svc = SVC(decision_function_shape="ovr").fit(x, y)
    cm = tb_imbalance.log_report(tmp_path / "ovr", y, svc.decision_function(x), 0, class_names=names, from_logits=True)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, svc.predict(x), labels=range(4)))


def test_class_names_of_the_wrong_length_beside_class_ids_are_blamed_on_class_names_not_on_a_one_vs_one(tmp_path):
    """6 classes told by num_classes or one-hot labels, 4 names: no `predictions` column to speak of."""
    ids = np.array([0, 1, 5])
    for labels, num_classes in ((ids, 6), (np.eye(6)[ids], None)):
        with pytest.raises(ValueError, match=r"`class_names` must have one name per class \(6\)"):
            tb_imbalance.log_report(tmp_path / "ids", labels, ids, 0, num_classes=num_classes, class_names=list("abcd"))


def test_labels_of_a_minus_one_one_classifier_get_the_mapping_not_the_advice_to_drop_class_minus_one(tmp_path):
    # -1 and 1 alone are two classes (SVMs, Perceptron): dropping the -1 rows as padding, as advised for an
    # ignore_index, would log the positive class alone
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    y = np.where(rng.random(300) < 0.2, 1, -1)
    x = y[:, None] * 1.0 + rng.normal(size=(300, 3))
    clf = LogisticRegression().fit(x, y)
    proba, predicted = clf.predict_proba(x), clf.predict(x)
    mapping = r"`labels` hold -1 and 1, as a binary classifier's classes_ \[-1, 1\] do: pass \(labels == 1\)\.astype\(int\)"
    with pytest.raises(ValueError, match=mapping):
        tb_imbalance.log_report(tmp_path / "raw", y, proba, 0)
    with pytest.raises(ValueError, match=r"`predictions` hold -1 and 1, .*pass \(predictions == 1\)\.astype\(int\)"):
        tb_imbalance.log_report(tmp_path / "raw", (y == 1).astype(int), predicted, 0, num_classes=2)
    assert not (tmp_path / "raw").exists()
    cm = tb_imbalance.log_report(tmp_path / "ids", (y == 1).astype(int), proba, 0)  # the mapping the message gives
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, predicted, labels=clf.classes_))
    with pytest.raises(ValueError, match=r"sample_weight=\(labels != -1\)") as raised:  # -1 beside 0: padding
        tb_imbalance.log_report(tmp_path / "pad", np.array([0, 1, -1]), np.array([0.2, 0.7, 0.5]), 0)
    assert "classes_" not in str(raised.value)


def test_scores_of_a_classifier_fit_without_a_class_beside_every_name_say_where_C_comes_from_and_the_fix(tmp_path):
    # a cross-validation fold without the rare class: its model's predict_proba has a column per class it saw
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(11)
    y = rng.choice(3, 300, p=[0.6, 0.3, 0.1])
    x = np.eye(3)[y] * 1.5 + rng.normal(size=(300, 3))
    clf = LogisticRegression().fit(x[y != 2], y[y != 2])
    proba = clf.predict_proba(x)
    with pytest.raises(ValueError, match=r"`class_names` must have one name per class \(2\), received 3 names; C=2 comes "
                                         r"from the 2 columns of `predictions`: .*fit without some class.*"
                                         r"full\[:, clf\.classes_\] = proba"):
        tb_imbalance.log_report(tmp_path / "fold", y, proba, 0, class_names=NAMES)
    assert not (tmp_path / "fold").exists()
    full = np.zeros((len(proba), 3))
    full[:, clf.classes_] = proba  # the fix the message gives
    cm = tb_imbalance.log_report(tmp_path / "fold", y, full, 0, class_names=NAMES)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, clf.predict(x), labels=range(3)))
    with pytest.raises(ValueError, match=r"received 4 names; C=3 comes from the 3 columns of one-hot `labels`$"):
        tb_imbalance.log_report(tmp_path / "one_hot", np.eye(3)[y], clf.predict(x), 0, class_names=NAMES + ["x"])


def test_a_class_weight_dict_passed_as_sample_weight_is_refused_naming_the_per_row_weights(tmp_path):
    from sklearn.utils.class_weight import compute_sample_weight

    true, predicted, _ = _counts()
    class_weight = {0: 1.0, 1: 4.0, 2: 12.0}
    with pytest.raises(TypeError, match=r"`sample_weight` is a mapping with keys 0, 1, 2, as a class_weight dict is; "
                                        r"pass one weight per row: .*compute_sample_weight\(class_weight, labels\)"):
        tb_imbalance.log_report(tmp_path, true, predicted, 0, num_classes=3, sample_weight=class_weight)
    assert not any(tmp_path.iterdir())
    weights = compute_sample_weight(class_weight, true)  # the fix the message gives
    cm = tb_imbalance.log_report(tmp_path, true, predicted, 0, num_classes=3, sample_weight=weights)
    np.testing.assert_allclose(cm, skm.confusion_matrix(true, predicted, labels=range(3), sample_weight=weights))


def test_a_pandas_categorical_of_labels_is_refused_saying_its_codes_are_not_the_score_columns_order(tmp_path):
    # predict_proba's columns follow clf.classes_ (sorted: high, low, mid); the codes follow the categories
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import LabelEncoder

    rng = np.random.default_rng(12)
    codes = rng.choice(3, 400, p=[0.7, 0.2, 0.1])
    y = pd.Series(pd.Categorical.from_codes(codes, categories=["low", "mid", "high", "unused"], ordered=True))
    x = np.eye(3)[codes] * 1.5 + rng.normal(size=(400, 3))
    clf = LogisticRegression().fit(x, y)
    proba = clf.predict_proba(x)
    with pytest.raises(TypeError, match=r"LabelEncoder\(\)\.fit\(clf\.classes_\)\.transform\(labels\).* \(not labels\.cat"
                                        r"\.codes: they number the categories \['low', 'mid', 'high', 'unused'\] in their "
                                        r"own order, the score columns' order only where those are clf\.classes_\)"):
        tb_imbalance.log_report(tmp_path / "raw", y, proba, 0, class_names=clf.classes_)
    ids = LabelEncoder().fit(clf.classes_).transform(y)  # the mapping the message gives
    cm = tb_imbalance.log_report(tmp_path / "ids", ids, proba, 0, class_names=[str(c) for c in clf.classes_])
    expected = skm.confusion_matrix(y, clf.predict(x), labels=clf.classes_)
    np.testing.assert_array_equal(cm, expected)
    assert not np.array_equal(tb_imbalance.core.confusion_matrix(y.cat.codes, proba), expected)  # the codes would not be


def test_a_classifier_or_its_method_not_called_passed_as_predictions_is_refused_naming_the_call(tmp_path):
    from sklearn.linear_model import LogisticRegression

    true, _, _ = _counts()
    x = np.eye(3)[true] + np.random.default_rng(13).normal(size=(len(true), 3))
    clf = LogisticRegression().fit(x, true)
    with pytest.raises(TypeError, match=r"received a 'method' object; the method predict_proba itself, not called: "
                                        r"pass its result, e\.g\. predictions=clf\.predict_proba\(x_val\)$"):
        tb_imbalance.log_report(tmp_path, true, clf.predict_proba, 0)
    with pytest.raises(TypeError, match=r"received a 'LogisticRegression' object; a model, not its outputs: pass "
                                        r"predictions=model\.predict_proba\(x_val\) \(scores\) or model\.predict\(x_val\)$"):
        tb_imbalance.log_report(tmp_path, true, clf, 0)
    assert not any(tmp_path.iterdir())
    cm = tb_imbalance.log_report(tmp_path, true, clf.predict_proba(x), 0)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(true, clf.predict(x), labels=range(3)))


def test_probabilities_passed_with_from_logits_warn_once_naming_from_logits_false(tmp_path):
    # predict_proba[:, 1] read as logits is cut at 0: every row positive, with only a log line; rows that are
    # already probabilities give curves of their softmax. Warned (not refused: a few logits may all lie in [0, 1])
    clf, x, y = _fitted([0, 1])
    proba = clf.predict_proba(x)
    for name, scores in (("column", proba[:, 1]), ("rows", proba)):
        with pytest.warns(UserWarning, match=rf"{name}: from_logits=True, but .*pass from_logits=False") as said:
            wrong = tb_imbalance.log_report(tmp_path / name, y, scores, 0, from_logits=True, name=name, image=False)
        assert len([w for w in said if w.category is UserWarning]) == 1
        assert said[0].filename == __file__  # pointed at the caller's line
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once per tag: a loop's later steps go on quietly
            tb_imbalance.log_report(tmp_path / name, y, scores, 1, from_logits=True, name=name, image=False)
            right = tb_imbalance.log_report(tmp_path / name, y, scores, 2, name=name, image=False)
        np.testing.assert_array_equal(right, skm.confusion_matrix(y, clf.predict(x)))
    assert wrong.tolist() == skm.confusion_matrix(y, clf.predict(x)).tolist()  # rows: the argmax is the same
    with pytest.warns(UserWarning):
        all_positive = tb_imbalance.log_report(tmp_path / "c2", y, proba[:, 1], 0, from_logits=True, image=False)
    assert all_positive[:, 0].sum() == 0 and all_positive.sum() == len(y)  # what the warning is about
    logits = clf.decision_function(x)  # real logits, of a batch of two rows that happen to lie in [0, 1]
    few = np.flatnonzero((logits > 0) & (logits < 1))[:2]
    with pytest.warns(UserWarning, match="nothing is wrong"):
        tb_imbalance.log_report(tmp_path / "logits", y[few], logits[few], 0, from_logits=True, image=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for step in range(2, 8):  # the few rows, then all rows, in turn; the last step all rows
            batch = few if step % 2 == 0 else slice(None)
            cm = tb_imbalance.log_report(tmp_path / "logits", y[batch], logits[batch], step, from_logits=True,
                                         image=False)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, clf.predict(x)))


def test_labels_that_are_a_classifiers_classes_beside_those_names_as_text_are_said(tmp_path):
    # classes_ [0, 2, 5] with class_names=[str(c) for c in clf.classes_] and a validation set without 5: label 2
    # was counted as class_names[2] ("5"), unsaid; scikit-learn's confusion_matrix(..., labels=classes_) differs
    clf, x, y = _fitted([0, 2, 5])
    names = [str(c) for c in clf.classes_]
    keep = y != 5
    y_val, proba = y[keep], clf.predict_proba(x[keep])
    expected = skm.confusion_matrix(y_val, clf.predict(x[keep]), labels=clf.classes_)
    with pytest.warns(UserWarning, match=r"`labels` may be values of `class_names` \(\['0', '2', '5'\]\) .*label 2 is "
                                         r"counted as class_names\[2\] \('5'\)\. .*LabelEncoder\(\)\.fit\(clf\.classes_\)"):
        tb_imbalance.log_report(tmp_path / "raw", y_val, proba, 0, class_names=names)
    with pytest.raises(ValueError, match=r"`labels` hold values of `class_names` \(\['0', '2', '5'\]\), not positions "
                                         r"0\.\.2: label 2 would be read as class_names\[2\] \('5'\)\. .*LabelEncoder"):
        tb_imbalance.log_report(tmp_path / "all", y, clf.predict_proba(x), 0, class_names=names)  # not padding
    assert not (tmp_path / "all").exists()
    from sklearn.preprocessing import LabelEncoder

    ids = LabelEncoder().fit(clf.classes_).transform(y)  # the mapping the message gives
    without_two = y != 2  # ids 0 and 2 alone are names too ("0", and "2" at position 1): ids all the same, unsaid
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cm = tb_imbalance.log_report(tmp_path / "ids", ids[keep], proba, 0, class_names=names)
        np.testing.assert_array_equal(cm, expected)
        cm = tb_imbalance.log_report(tmp_path / "no2", ids[without_two], clf.predict_proba(x[without_two]), 0,
                                     class_names=names)
        np.testing.assert_array_equal(cm, skm.confusion_matrix(
            y[without_two], clf.predict(x[without_two]), labels=clf.classes_))
        common, xc, yc = _fitted([0, 1, 2])
        cm = tb_imbalance.log_report(tmp_path / "common", yc, common.predict_proba(xc), 0, class_names=["0", "1", "2"])
        np.testing.assert_array_equal(cm, skm.confusion_matrix(yc, common.predict(xc)))


def test_a_classifier_or_its_method_passed_as_labels_names_the_true_classes_not_a_call_of_it(tmp_path):
    from sklearn.linear_model import LogisticRegression

    true, _, _ = _counts()
    x = np.eye(3)[true] + np.random.default_rng(14).normal(size=(len(true), 3))
    clf = LogisticRegression().fit(x, true)
    fix = (r"not the true classes: pass labels=y_val \(the true class ids\) and the model's outputs as "
           r"predictions=model\.predict_proba\(x_val\)$")
    with pytest.raises(TypeError, match=r"`labels` must be an array of values, received a 'LogisticRegression' "
                                        r"object; a model, " + fix):
        tb_imbalance.log_report(tmp_path, clf, clf.predict_proba(x), 0)
    with pytest.raises(TypeError, match=r"received a 'method' object; the method predict, " + fix):
        tb_imbalance.log_report(tmp_path, clf.predict, clf.predict_proba(x), 0)
    assert not any(tmp_path.iterdir())


def test_a_softmax_over_the_rows_is_refused_naming_the_class_axis_and_a_row_wise_one_is_read(tmp_path):
    # torch.softmax(logits, dim=0) normalises each class over the batch: its argmax is no row's class, and the
    # matrix of it was written, said nowhere (with or without from_logits).
    rng = np.random.default_rng(0)
    labels, logits = rng.integers(0, 3, 50), rng.normal(size=(50, 3)) * 2
    over_rows = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    two = np.exp(logits[:2]) / np.exp(logits[:2]).sum(axis=0, keepdims=True)  # a batch of two rows
    forms = [over_rows, over_rows.astype(np.float16), two]
    try:
        import torch
    except ImportError:
        pass
    else:
        forms += [torch.softmax(torch.from_numpy(logits), dim=0), torch.softmax(torch.from_numpy(logits), 0).bfloat16()]
    for index, scores in enumerate(forms):
        for from_logits in (False, True):
            with pytest.raises(ValueError, match=r"`predictions` of shape .* are a softmax over the rows: each of the "
                                                 r"3 columns sums to 1 .*torch\.softmax\(logits, dim=1\).*from_logits"):
                tb_imbalance.log_report(tmp_path / "wrong", labels[:len(scores)], scores, index, from_logits=from_logits)
    assert not (tmp_path / "wrong").exists()
    over_classes = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = skm.confusion_matrix(labels, logits.argmax(axis=1))
    for index, scores in enumerate((over_classes, over_classes.astype(np.float16), logits)):
        cm = tb_imbalance.log_report(tmp_path / "right", labels, scores, index, image=False)
        np.testing.assert_array_equal(cm, expected)
    assert [m.tolist() for m in matrices(tmp_path / "right")["."].values()] == [expected.tolist()] * 3


def test_a_sequence_models_scores_at_every_step_beside_one_label_a_sequence_name_the_step_to_pass(tmp_path):
    # an LSTM classifier's head applied to every step gives [N, T, C]; one label per sequence is [N]
    rng = np.random.default_rng(12)
    true = rng.integers(0, 3, 10)
    per_step = rng.normal(size=(10, 6, 3)).astype(np.float32)
    fix = r"a sequence model's scores at every step\? pass one row per example, those of the step that classifies: " \
          r"predictions\[:, -1\] of \[N, T, C\], predictions\[:, :, -1\] of PyTorch's \[N, C, T\]$"
    with pytest.raises(ValueError, match=r"`predictions` must be class ids \[N\] or rows \[N, C\], received shape "
                                         r"\[10, 6, 3\]; " + fix):
        tb_imbalance.log_report(tmp_path, true, per_step, 0, from_logits=True)
    with pytest.raises(ValueError, match=r"received shape \(10, 3, 6\); " + fix):
        tb_imbalance.log_report(tmp_path, true, per_step.transpose(0, 2, 1), 0, from_logits=True, class_names=NAMES)
    assert not any(tmp_path.iterdir())
    logged = tb_imbalance.log_report(tmp_path, true, per_step[:, -1], 0, from_logits=True, class_names=NAMES)
    np.testing.assert_array_equal(logged, skm.confusion_matrix(true, per_step[:, -1].argmax(axis=1), labels=range(3)))
