"""tf.summary-style writers: write -> read round trips through a real logdir."""

import io
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance.summary as tbs
from logdir_reader import load, matrices, plugin_content, run_tag_pairs, scalars
from tb_imbalance import core
from tensorboard import context

NAMES = ["ok", "<img src=x onerror=alert(1)>", "fault"]


def write_steps(run_dir, steps, **kwargs):
    rng = np.random.default_rng(1)
    written = {}
    with tf.summary.create_file_writer(str(run_dir)).as_default() as writer:
        for step in steps:
            labels = rng.choice(3, 60, p=[0.8, 0.15, 0.05])
            scores = rng.random((60, 3))
            assert tbs.classification_report("confusion_matrix", labels, scores, step=step, class_names=NAMES, **kwargs) is True
            written[step] = sk_confusion_matrix(labels, scores.argmax(1), labels=range(3))
        writer.flush()
    return written


def test_classification_report_round_trip(tmp_path):
    written = write_steps(tmp_path / "val", [0, 1, 5])
    read = matrices(tmp_path)["val"]
    assert sorted(read) == [0, 1, 5]
    for step, expected in written.items():
        assert read[step].dtype == np.int64
        np.testing.assert_array_equal(read[step], expected)
    info = json.loads(plugin_content(tmp_path, "val"))
    assert info == {"version": 1, "num_classes": 3, "class_names": NAMES, "weighted": False, "encoding": "dense"}

    expected_tags = {"confusion_matrix", "confusion_matrix_image"}
    expected_tags |= {f"imbalance/{name}" for name in core.METRIC_NAMES}
    expected_tags |= {f"{metric}/{name}" for metric in ("precision", "recall", "f1") for name in NAMES}
    # scores of 3 classes: the curves, their scalars, per-class AP and TensorBoard PR curves too
    expected_tags |= {"confusion_matrix_curves", *(f"imbalance/{name}" for name in core.CURVE_METRIC_NAMES)}
    expected_tags |= {f"{section}/{name}" for section in ("average_precision", "pr_curve") for name in NAMES}
    assert run_tag_pairs(tmp_path) == {("val", tag) for tag in expected_tags}

    recall = core.per_class_metrics(written[5])["recall"]
    assert scalars(tmp_path, "val", f"recall/{NAMES[1]}")[5] == pytest.approx(recall[1], abs=1e-6)
    balanced = core.imbalance_metrics(written[5])["balanced_accuracy"]
    assert scalars(tmp_path, "val", "imbalance/balanced_accuracy")[5] == pytest.approx(balanced, abs=1e-6)


def test_image_is_a_readable_png(tmp_path):
    write_steps(tmp_path / "val", [0])
    provider, ctx = load(tmp_path), context.RequestContext()
    blobs = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    datum = blobs["val"]["confusion_matrix_image"][0]
    width, height, png = [provider.read_blob(ctx, blob_key=ref.blob_key) for ref in datum.values]
    image = Image.open(io.BytesIO(png))
    assert image.size == (int(width), int(height))
    assert image.mode == "RGB" and image.size[0] > 300


def test_confusion_matrix_writer_only_writes_the_tensor(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path / "run")).as_default():
        assert tbs.confusion_matrix("cm", [0, 1, 1], [0, 1, 0], step=2, num_classes=2) is True
        assert tbs.confusion_matrix("weighted", [0, 1, 1], [0.2, 0.9, 0.4], step=2, sample_weight=[1.0, 0.5, 2.0]) is True
    assert run_tag_pairs(tmp_path) == {("run", "cm"), ("run", "weighted")}
    np.testing.assert_array_equal(matrices(tmp_path, "cm")["run"][2], [[1, 0], [1, 1]])
    weighted = matrices(tmp_path, "weighted")["run"][2]
    assert weighted.dtype == np.float64
    np.testing.assert_allclose(weighted, [[1.0, 0.0], [2.0, 0.5]])
    assert json.loads(plugin_content(tmp_path, "run", "weighted"))["weighted"] is True


def test_tensor_inputs_and_default_step(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path / "run")).as_default(step=7):
        assert tbs.confusion_matrix("cm", tf.constant([0, 1]), tf.constant([[0.9, 0.1], [0.1, 0.9]])) is True
    assert list(matrices(tmp_path, "cm")["run"]) == [7]


def test_no_default_writer_returns_false():
    assert tbs.confusion_matrix("cm", [0, 1], [0, 1], step=0, num_classes=2) is False


def test_missing_step_is_a_clear_error(tmp_path):
    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(ValueError, match="`step` is required"):
            tbs.classification_report("cm", [0, 1], [0, 1], num_classes=2)


def test_without_a_writer_or_with_a_no_op_one_no_step_is_needed_and_nothing_is_written(tmp_path):
    """As tf.summary.scalar: non-chief workers log through tf.summary.create_noop_writer()."""
    assert tf.summary.scalar("loss", 1.0) is False or not bool(tf.summary.scalar("loss", 1.0))
    assert tbs.confusion_matrix("cm", [0, 1], [0, 1], num_classes=2) is False
    with tf.summary.create_noop_writer().as_default(step=3):
        assert tbs.classification_report("cm", [0, 1], [[0.9, 0.1], [0.2, 0.8]]) is False
        assert tbs.write_report("cm", [[1, 0], [0, 1]], ["a", "b"]) is False
    with tf.summary.create_file_writer(str(tmp_path)).as_default(), tf.summary.record_if(False):
        assert tbs.confusion_matrix("cm", [0, 1], [0, 1], num_classes=2) is False
    assert not list(tmp_path.iterdir()) or not run_tag_pairs(tmp_path)


def test_inside_tf_function_is_a_clear_error(tmp_path):
    @tf.function
    def log(labels):
        return tbs.confusion_matrix("cm", labels, labels, step=0, num_classes=2)

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        with pytest.raises(RuntimeError, match="must run eagerly"):
            log(tf.constant([0, 1]))

    # log_report, log_matrix and ReportWriter.write_matrix too: traced, they would write once, at tracing
    from tb_imbalance import ReportWriter, log_matrix, log_report

    writer = ReportWriter(tmp_path / "writer")
    calls = {
        "log_report": lambda: log_report(tmp_path / "dir", [0, 1], [0, 1], 0, num_classes=2),
        "log_matrix": lambda: log_matrix(tmp_path / "matrix", [[1, 0], [0, 1]], 0),
        "ReportWriter.write_matrix": lambda: writer.write_matrix(0, "confusion_matrix", [[1, 0], [0, 1]]),
    }
    for entry, call in calls.items():
        with pytest.raises(RuntimeError, match=rf"{entry} must run eagerly; call it outside tf.function"):
            tf.function(call)()
    assert not any((tmp_path / run).exists() for run in ("dir", "matrix", "writer"))
    with tf.Graph().as_default():  # a TF1-style program logs the numpy its session returned: Python, not a trace
        for call in calls.values():
            call()
    assert sorted(matrices(tmp_path)) == ["dir", "matrix", "writer"]


@pytest.mark.parametrize(
    "labels, predictions, kwargs, fragment",
    [
        ([0, 1, 4], [0, 1, 1], {}, "class ids in [0, 2]"),
        ([0, 1, 2], [[0.1, 0.2, np.nan]] * 3, {}, "NaN"),
        ([0, 1, 2], [0, 1], {}, "same number of rows"),
        ([0, 1], [0, 1], {"class_names": ["a", "b"]}, "one name per class (3)"),
        ([], [], {}, "empty"),
        ([0.5, 1, 2], [0, 1, 2], {}, "whole class ids"),
    ],
)
def test_bad_input_writes_nothing_and_keeps_earlier_steps(tmp_path, labels, predictions, kwargs, fragment):
    kwargs = {"num_classes": 3, "class_names": NAMES, **kwargs}
    written = write_steps(tmp_path / "val", [0, 1])
    with tf.summary.create_file_writer(str(tmp_path / "val")).as_default() as writer:
        with pytest.raises((ValueError, TypeError)) as raised:
            tbs.classification_report("confusion_matrix", labels, predictions, step=2, **kwargs)
        writer.flush()
    assert fragment in str(raised.value)
    read = matrices(tmp_path)["val"]
    assert sorted(read) == [0, 1]
    for step in (0, 1):
        np.testing.assert_array_equal(read[step], written[step])
    assert 2 not in scalars(tmp_path, "val", "imbalance/accuracy")


def test_wide_matrices_round_trip_in_the_compact_encoding(tmp_path):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 300, 5000)
    predictions = np.where(rng.random(5000) < 0.7, labels, rng.integers(0, 300, 5000))
    with tf.summary.create_file_writer(str(tmp_path / "wide")).as_default():
        assert tbs.confusion_matrix("cm", labels, predictions, step=0, num_classes=300) is True
    read = matrices(tmp_path, "cm")["wide"][0]
    np.testing.assert_array_equal(read, sk_confusion_matrix(labels, predictions, labels=range(300)))
    assert json.loads(plugin_content(tmp_path, "wide", "cm"))["encoding"] == "coo"
    event_bytes = sum(f.stat().st_size for f in (tmp_path / "wide").iterdir())
    assert event_bytes < 300 * 300 * 8 / 4  # far below the dense 720 KB


def test_classification_report_writes_examples_as_log_report_does(tmp_path):
    from logdir_reader import examples as logged_examples
    from tb_imbalance.examples import collect_examples

    rng = np.random.default_rng(7)
    labels = rng.integers(0, 3, 80)
    scores = tf.constant(rng.dirichlet(np.ones(3), 80))
    texts = np.array([f"row {i} <b>" for i in range(80)])
    with tf.summary.create_file_writer(str(tmp_path / "val")).as_default():
        assert tbs.classification_report("confusion_matrix", labels, scores, step=4, class_names=NAMES,
                                         examples=tf.constant(texts), example_ids=tf.range(100, 180)) is True
    index, thumbnails = logged_examples(tmp_path)["val"][4]
    expected = collect_examples(texts, labels, scores.numpy(), num_classes=3, example_ids=np.arange(100, 180))
    assert index == dict(expected.index, version=4) and thumbnails == []
    assert index["cells"][0]["examples"][0]["text"] == f"row {index['cells'][0]['examples'][0]['row']} <b>"
    with pytest.raises(ValueError, match="`examples` needs `predictions` as scores"):
        with tf.summary.create_file_writer(str(tmp_path / "bad")).as_default():
            tbs.classification_report("confusion_matrix", labels, labels, step=0, num_classes=3, examples=texts)


def test_a_call_in_a_replica_context_is_refused_before_writing(tmp_path):
    # Each replica would write its own rows under one step (half a matrix, then a refusal)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    writer = tf.summary.create_file_writer(str(tmp_path / "val"))

    def log(labels, scores):
        with writer.as_default(step=0):
            return tbs.classification_report("cm", labels, scores)

    labels, scores = tf.constant([0, 1, 1, 0]), tf.constant([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    with pytest.raises(RuntimeError, match=r"in a replica context \(inside strategy\.run\).*strategy\.gather"):
        strategy.run(log, args=(labels, scores))
    from tb_imbalance import log_report

    for target in (tmp_path / "dir", writer):  # log_report too, whatever its target
        with pytest.raises(RuntimeError, match=r"log_report logs one evaluation of all replicas.*strategy\.gather"):
            strategy.run(lambda labels, scores: log_report(target, labels, scores, 0), args=(labels, scores))
    assert not (tmp_path / "dir").exists()
    # strategy.run's values on several replicas (one device here gives plain tensors)
    per_replica = type("PerReplica", (), {"__module__": "tensorflow.python.distribute.values"})()
    with pytest.raises(TypeError, match=r"`labels` is a tf\.distribute PerReplica value.*strategy\.gather"):
        with writer.as_default(step=0):
            tbs.classification_report("cm", per_replica, scores)
    with pytest.raises(TypeError, match=r"`examples` is a \w*Dataset, not an array of values"):
        with writer.as_default(step=0):
            tbs.classification_report("cm", labels, scores, examples=tf.data.Dataset.from_tensor_slices(np.zeros((4, 2))))
    with writer.as_default(step=0):  # nothing was written: step 0 is still free
        assert tbs.classification_report("cm", labels, scores)
    writer.close()
    assert sorted(matrices(tmp_path, tag="cm")["val"]) == [0]


def test_nothing_recorded_means_no_examples_picked_or_drawn(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("examples picked although nothing is recorded")

    monkeypatch.setattr(tbs, "examples_of_step", refuse)
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0), tf.summary.record_if(False):
        assert tbs.classification_report("cm", [0, 1], [[0.9, 0.1], [0.2, 0.8]], examples=np.zeros((2, 8, 8))) is False
    assert tbs.classification_report("cm", [0, 1], [[0.9, 0.1], [0.2, 0.8]], step=0, examples=np.zeros((2, 8, 8))) is False


def test_log_report_inside_tf_function_says_to_log_eagerly(tmp_path):
    import tb_imbalance

    @tf.function
    def log(labels, scores):
        tb_imbalance.log_report(str(tmp_path / "run"), labels, scores, 0)

    with pytest.raises(RuntimeError, match=r"log_report must run eagerly; call it outside tf.function"):
        log(tf.constant([0, 1]), tf.constant([[0.9, 0.1], [0.2, 0.8]]))
    assert not (tmp_path / "run").exists()


def test_a_ragged_tensor_of_batches_is_refused_naming_merge_dims(tmp_path):
    import tb_imbalance

    labels = tf.ragged.constant([[0, 1, 2], [2, 0]])  # batches of 3 and 2 rows, as a loop collects them
    scores = tf.ragged.constant([[[0.9, 0.1, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 1], [0, 1, 0]]], ragged_rank=1)
    refused = r"`{}` is a tf\.RaggedTensor whose rows differ in length \(\[3, 2\]\).*{}\.merge_dims\(0, 1\)"
    with pytest.raises(TypeError, match=refused.format("labels", "labels")):
        tb_imbalance.log_report(str(tmp_path / "run"), labels, labels.merge_dims(0, 1), 0, num_classes=3)
    with pytest.raises(TypeError, match=refused.format("predictions", "predictions")):
        with tf.summary.create_file_writer(str(tmp_path / "summary")).as_default(step=0):
            tbs.classification_report("cm", labels.merge_dims(0, 1), scores)
    assert not (tmp_path / "run").exists()
    logged = tb_imbalance.log_report(str(tmp_path / "run"), labels.merge_dims(0, 1), scores.merge_dims(0, 1), 0)
    np.testing.assert_array_equal(logged, sk_confusion_matrix([0, 1, 2, 2, 0], [0, 1, 2, 2, 1], labels=range(3)))


def test_per_replica_parts_are_refused_naming_how_tensorflow_joins_them(tmp_path):
    # strategy.experimental_local_results(value) on 2 replicas: a tuple of one tensor per replica
    import tb_imbalance

    scores = (tf.constant([[0.9, 0.1], [0.2, 0.8]]), tf.constant([[0.6, 0.4], [0.3, 0.7]]))
    counts = (tf.constant([[1, 0], [0, 1]]), tf.constant([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match=r"`predictions` is a list of 2 arrays.*tf\.concat\(parts, axis=0\).*"
                                         r"strategy\.gather\(value, axis=0\)"):
        tb_imbalance.log_report(str(tmp_path / "run"), [0, 1, 0, 1], scores, 0)
    for log in (lambda: tb_imbalance.log_matrix(str(tmp_path / "run"), counts, 0),
                lambda: tbs.write_report("cm", counts, ["a", "b"], step=0)):
        with pytest.raises(ValueError, match=r"`cm` is a list of 2 matrices: counts of batches or replicas add up, so "
                                             r"pass their sum, np\.sum\(cm, axis=0\); a tf\.distribute value's per-replica "
                                             r"counts: strategy\.reduce\(tf\.distribute\.ReduceOp\.SUM, value, axis=None\)"):
            with tf.summary.create_file_writer(str(tmp_path / "summary")).as_default():
                log()
    assert not (tmp_path / "run").exists()


def test_in_a_py_function_of_a_tf_function_no_default_writer_is_refused_naming_the_writer_itself(tmp_path):
    # TensorFlow runs the function's Python in another thread, where the caller's as_default() does not hold:
    # the call returned False and wrote nothing, every epoch, without a word
    import tb_imbalance

    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    labels, scores = tf.constant([0, 1, 1, 0]), tf.constant([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])

    def with_summary(labels, scores, step):
        return np.bool_(tbs.classification_report("confusion_matrix", labels, scores, step=int(step), image=False))

    def with_the_writer_itself(labels, scores, step):
        tb_imbalance.log_report(writer, labels, scores, int(step), image=False)
        return np.bool_(True)

    for wrap in (tf.numpy_function, tf.py_function):
        evaluate = tf.function(lambda labels, scores, step: wrap(with_summary, [labels, scores, step], tf.bool))
        with writer.as_default():
            with pytest.raises(tf.errors.OpError, match=r"tb_imbalance\.summary has no default writer "
                                                         r"here.*log_report\(writer, labels"):
                evaluate(labels, scores, tf.constant(0, tf.int64))
    evaluate = tf.function(lambda labels, scores, step: tf.numpy_function(
        with_the_writer_itself, [labels, scores, step], tf.bool))
    assert evaluate(labels, scores, tf.constant(0, tf.int64))
    writer.flush()
    np.testing.assert_array_equal(matrices(tmp_path)["run"][0], sk_confusion_matrix([0, 1, 1, 0], [0, 1, 0, 1]))


def test_an_eager_py_function_runs_in_the_callers_thread_so_no_writer_or_a_noop_writer_writes_nothing_as_tf_summary():
    # eagerly, TensorFlow calls the function's Python in the caller's thread: no default writer (or a
    # no-op one, as on a worker that does not log) is the caller's choice, and the summary returns False
    labels, scores = tf.constant([0, 1, 1, 0]), tf.constant([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])

    def with_summary(labels, scores, step):
        return np.bool_(tbs.classification_report("confusion_matrix", labels, scores, step=int(step), image=False))

    for wrap in (tf.numpy_function, tf.py_function):
        assert not wrap(with_summary, [labels, scores, 0], tf.bool).numpy()
        with tf.summary.create_noop_writer().as_default():
            assert not wrap(with_summary, [labels, scores, 0], tf.bool).numpy()
