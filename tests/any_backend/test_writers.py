"""log_report / log_matrix / ReportWriter: write -> read round trips, in every environment.

Runs in the TensorFlow, JAX and PyTorch environments; framework-specific
cases import their framework with ``pytest.importorskip`` (each runs in the
environment that has it). The oracle is scikit-learn's confusion matrix and
tb_imbalance.core's report of it; the tag set is the one the Keras callback
writes (tb_imbalance.events.report_values).
"""

import importlib.util
import io
import json
import os
import pathlib
import shutil

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

import tb_imbalance
from logdir_reader import load, matrices, plugin_content, run_tag_pairs, scalars
from tb_imbalance import core
from tb_imbalance.curve_values import PR_CURVES_MAX_CLASSES, curve_values
from tb_imbalance.events import report_values, scalar_prefix
from tb_imbalance.step import ReportStep
from tb_imbalance.targets import close_directory_writers
from tensorboard import context

NAMES = ["ok", "<img src=x onerror=alert(1)>", "fault"]


def seeded_batch(seed, rows=200, num_classes=3):
    rng = np.random.default_rng(seed)
    labels = rng.choice(num_classes, rows, p=[0.85, 0.1, 0.05][:num_classes] if num_classes == 3 else None)
    scores = rng.random((rows, num_classes)).astype(np.float32)
    return labels, scores


def callback_tags(name="confusion_matrix", names=NAMES, *, curves=True):
    """Every tag of a report of ``names`` (with ``curves``: logged from scores, every class with rows)."""
    values = report_values(name, np.eye(len(names), dtype=np.int64), names, image=None)
    tags = {value.tag for value in values} | {name + "_image"}
    if curves:
        classes = np.arange(len(names))
        summary = core.curve_summary(np.eye(len(names)), classes, classes)
        report = ReportStep.of(0, name, np.eye(len(names), dtype=np.int64), names, curves=summary)
        tags |= {value.tag for value in curve_values(report, prefix=scalar_prefix(name), per_class_scalars=True,
                                                      pr_curves=len(names) <= PR_CURVES_MAX_CLASSES)}
    return tags


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def test_directory_round_trip_equals_sklearn(tmp_path):
    run = tmp_path / "val"
    expected = {}
    for step in range(3):
        labels, scores = seeded_batch(step)
        cm = tb_imbalance.log_report(run, labels, scores, step, class_names=NAMES)
        expected[step] = sk_confusion_matrix(labels, scores.argmax(1), labels=range(3))
        np.testing.assert_array_equal(cm, expected[step])
    read = matrices(tmp_path)["val"]
    assert sorted(read) == [0, 1, 2]
    for step, cm in expected.items():
        assert read[step].dtype == np.int64
        np.testing.assert_array_equal(read[step], cm)
    assert {tag for run_name, tag in run_tag_pairs(tmp_path) if run_name == "val"} == callback_tags()
    assert len([f for f in os.listdir(run) if f.startswith("events.out.tfevents")]) == 1
    report = core.classification_report(expected[2], NAMES)
    assert scalars(tmp_path, "val", f"recall/{NAMES[1]}")[2] == pytest.approx(report[NAMES[1]]["recall"], abs=1e-6)
    headline = core.imbalance_metrics(expected[2])
    assert scalars(tmp_path, "val", "imbalance/balanced_accuracy")[2] == pytest.approx(headline["balanced_accuracy"], abs=1e-6)
    assert json.loads(plugin_content(tmp_path, "val"))["class_names"] == NAMES


def test_boolean_labels_and_predictions_are_two_classes_in_every_entry(tmp_path):
    rng = np.random.default_rng(12)
    labels, predictions = rng.random(120) < 0.25, rng.random(120) < 0.4
    expected = sk_confusion_matrix(labels, predictions)  # [[False row], [True row]]
    np.testing.assert_array_equal(tb_imbalance.log_report(tmp_path / "val", labels, predictions, 0), expected)
    np.testing.assert_array_equal(tb_imbalance.log_report(tmp_path / "val", labels, predictions.astype(int), 1), expected)
    with tb_imbalance.ReportWriter(tmp_path / "writer") as writer:
        np.testing.assert_array_equal(tb_imbalance.log_report(writer, labels.tolist(), predictions.tolist(), 0), expected)
    read = matrices(tmp_path)
    assert read["val"][0].tolist() == read["val"][1].tolist() == read["writer"][0].tolist() == expected.tolist()
    assert json.loads(plugin_content(tmp_path, "val"))["class_names"] == ["0", "1"]
    with pytest.raises(ValueError, match=r"`labels` are booleans, a two-class problem .* holding class id 2: pass "
                       r"num_classes \(at least 3\)"):
        tb_imbalance.log_report(tmp_path / "val", labels, np.full(120, 2), 2)
    assert sorted(matrices(tmp_path)["val"]) == [0, 1]


def test_picture_is_a_png_of_the_matrix(tmp_path):
    labels, scores = seeded_batch(0)
    tb_imbalance.log_report(tmp_path / "val", labels, scores, 0, class_names=NAMES)
    provider, ctx = load(tmp_path), context.RequestContext()
    blobs = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    datum = blobs["val"]["confusion_matrix_image"][0]
    width, height, png = (provider.read_blob(ctx, blob_key=ref.blob_key) for ref in datum.values)
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (int(width), int(height))
    assert picture.size[0] > 100 and picture.size[1] > 100


def test_log_matrix_writes_a_matrix_counted_elsewhere(tmp_path):
    cm = np.array([[50, 2, 1], [3, 5, 0], [1, 0, 2]])
    out = tb_imbalance.log_matrix(tmp_path / "val", cm, 4, class_names=NAMES, image=False)
    np.testing.assert_array_equal(out, cm)
    np.testing.assert_array_equal(matrices(tmp_path)["val"][4], cm)
    tags = {tag for _, tag in run_tag_pairs(tmp_path)}
    assert "confusion_matrix_image" not in tags and f"f1/{NAMES[2]}" in tags


def test_log_matrix_accepts_whole_float_counts_and_weighted_sums(tmp_path):
    np.testing.assert_array_equal(
        matrices_of(tmp_path, "a", np.array([[3.0, 1.0], [0.0, 2.0]])), [[3, 1], [0, 2]]
    )
    weighted = np.array([[2.5, 0.5], [0.0, 1.25]])
    read = matrices_of(tmp_path, "b", weighted)
    assert read.dtype == np.float64
    np.testing.assert_allclose(read, weighted)


def _counts_of_many_classes(classes=150, seed=5):
    """Whole counts on the diagonal and in about 1 % of the other cells: stored as cells (above 100 classes)."""
    rng = np.random.default_rng(seed)
    cm = np.diag(rng.integers(1, 50, classes))
    cells = rng.integers(0, classes, (max(classes * classes // 100, classes), 2))
    np.add.at(cm, (cells[:, 0], cells[:, 1]), rng.integers(1, 9, len(cells)))
    return cm.astype(np.int64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_float_counts_write_what_their_int64_counts_write(tmp_path, dtype):
    counts = _counts_of_many_classes()
    out_int = tb_imbalance.log_matrix(tmp_path / "int", counts, 0, image=False)
    out_float = tb_imbalance.log_matrix(tmp_path / "float", counts.astype(dtype), 0, weighted=False, image=False)
    out_sums = tb_imbalance.log_matrix(tmp_path / "sums", counts.astype(dtype), 0, image=False)
    with tb_imbalance.ReportWriter(tmp_path / "writer") as writer:
        writer.write_matrix(0, "confusion_matrix", counts.astype(dtype), weighted=False, image=False)
    close_directory_writers()
    read = {run: by_step[0] for run, by_step in matrices(tmp_path).items()}
    assert out_int.dtype == out_float.dtype == read["float"].dtype == read["writer"].dtype == np.int64
    assert out_sums.dtype == read["sums"].dtype == np.float64  # a float matrix is sums of weights by default
    for matrix in (out_float, out_sums, read["int"], read["float"], read["writer"], read["sums"]):
        np.testing.assert_array_equal(matrix, counts)
    for metric in core.METRIC_NAMES:
        tag = f"imbalance/{metric}"
        assert scalars(tmp_path, "float", tag) == scalars(tmp_path, "int", tag) == scalars(tmp_path, "writer", tag)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_refusal_of_a_float_matrix_holds_at_any_size(tmp_path, dtype):
    for classes in (3, 150):
        counts = _counts_of_many_classes(classes).astype(dtype)
        cases = [
            (dict(weighted=False), (1, 2, 0.5), ValueError,
             r"`cm` holds fractional values \(e.g. 0.5\) but `weighted=False`"),
            ({}, (2, 0, np.nan), ValueError,
             r"`cm` contains NaN or infinite values \(first at row 2, column 0\); a count matrix holds none"),
            ({}, (0, 1, np.inf), ValueError, r"`cm` contains NaN or infinite values \(first at row 0, column 1\)"),
            ({}, (1, 1, -1.0), ValueError, r"`cm` must hold non-negative counts, received -1.0"),
            (dict(weighted=False), (0, 0, 2.0**53), ValueError,
             r"`cm` holds float counts up to 9.0072e\+15, past 2\*\*53"),
        ]
        if dtype is np.float64:  # two cells whose sum is past float64's range
            cases.append(({}, ([0, 1], [0, 1], 1e308), ValueError, r"`cm` sums past the float64 range"))
        for options, (row, column, value), error, message in cases:
            bad = counts.copy()
            bad[row, column] = value
            with pytest.raises(error, match=message):
                tb_imbalance.log_matrix(tmp_path / "run", bad, 0, image=False, **options)
        normalised = counts / counts.sum(axis=1, keepdims=True)
        with pytest.raises(ValueError, match=r"`cm` looks normalised: each row sums to 1 \(normalize='true'\)"):
            tb_imbalance.log_matrix(tmp_path / "run", normalised.astype(dtype), 0, image=False)
        with pytest.raises(TypeError, match="`cm` holds booleans"):
            tb_imbalance.log_matrix(tmp_path / "run", counts > 0, 0, image=False)
        shape = rf"`cm` must be square \[C, C\], received shape \({classes}, {classes - 1}\)"
        with pytest.raises(ValueError, match=shape):
            tb_imbalance.log_matrix(tmp_path / "run", counts[:, 1:], 0, image=False)
    close_directory_writers()
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


def test_a_large_float_matrix_is_checked_without_full_size_copies(tmp_path):
    """A dense float matrix is checked in blocks of rows and converted once, as the cells it is stored as: its
    peak above the input is the matrix log_matrix returns (none for float64 sums), and none at write_matrix."""
    import tracemalloc

    counts, runs = _counts_of_many_classes(2000), iter(range(100))  # 32 MB as float64
    with tb_imbalance.ReportWriter(tmp_path / "writer") as writer:
        for cm, options, returned in ((counts.astype(np.float64), {}, 0), (counts.astype(np.float32), {}, 32e6),
                                      (counts.astype(np.float64), dict(weighted=False), 32e6), (counts, {}, 0)):
            for entry in ("log_matrix", "write_matrix"):
                def call(step):
                    if entry == "write_matrix":
                        return writer.write_matrix(step, f"cm{len(options)}{cm.dtype}", cm, image=False, **options)
                    return tb_imbalance.log_matrix(tmp_path / str(next(runs)), cm, 0, image=False, **options)
                call(0)  # the first step builds what a tag keeps
                tracemalloc.start()
                out = call(1)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                if entry == "log_matrix":
                    np.testing.assert_array_equal(out, counts)
                assert peak < (returned if entry == "log_matrix" else 0) + 6e6, (entry, cm.dtype, options, peak)
    read = matrices(tmp_path, tag="cm1float64")["writer"][1]  # float64 counts said weighted=False
    assert read.dtype == np.int64
    np.testing.assert_array_equal(read, counts)


def matrices_of(tmp_path, run, cm):
    tb_imbalance.log_matrix(tmp_path / run, cm, 0, per_class_scalars=False, image=False)
    close_directory_writers()
    return matrices(tmp_path)[run][0]


def test_sample_weight_gives_weighted_sums(tmp_path):
    labels, scores = seeded_batch(3)
    weights = np.linspace(0.1, 2.0, len(labels))
    cm = tb_imbalance.log_report(tmp_path / "w", labels, scores, 0, num_classes=3, sample_weight=weights)
    expected = sk_confusion_matrix(labels, scores.argmax(1), labels=range(3), sample_weight=weights)
    np.testing.assert_allclose(cm, expected)
    np.testing.assert_allclose(matrices(tmp_path)["w"][0], expected)


def test_a_mask_or_frequency_weights_are_counts_with_their_intervals(tmp_path):
    labels, scores = seeded_batch(4)
    mask = np.arange(len(labels)) % 5 != 0  # padding rows of a fixed-size batch
    cm = tb_imbalance.log_report(tmp_path / "mask", labels, scores, 0, num_classes=3, sample_weight=mask)
    expected = sk_confusion_matrix(labels[mask], scores[mask].argmax(1), labels=range(3))
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    stored = matrices(tmp_path)["mask"][0]
    assert stored.dtype == np.int64  # counts: the dashboard gives their intervals
    np.testing.assert_array_equal(stored, expected)


def test_report_writer_reuses_one_file_and_one_picture(tmp_path):
    with tb_imbalance.ReportWriter(tmp_path / "val") as writer:
        for step in range(3):
            labels, scores = seeded_batch(step)
            tb_imbalance.log_report(writer, labels, scores, step, class_names=NAMES)
        renderers = list(writer.builder._renderers.values())
    assert len(renderers) == 1
    assert len(os.listdir(tmp_path / "val")) == 1
    assert sorted(matrices(tmp_path)["val"]) == [0, 1, 2]


def test_bad_input_names_the_argument_and_keeps_earlier_steps(tmp_path):
    labels, scores = seeded_batch(0)
    good = tb_imbalance.log_report(tmp_path / "val", labels, scores, 0, class_names=NAMES)
    cases = [
        (dict(target=object()), TypeError, "`target`"),
        (dict(step=-1), ValueError, "`step`"),
        (dict(step=1.5), TypeError, "`step`"),
        (dict(labels=labels + 5), ValueError, "`labels`"),
        (dict(predictions=np.full_like(scores, np.nan)), ValueError, "`predictions`"),
        (dict(predictions=scores[:10]), ValueError, "same number of rows"),
        (dict(name=""), ValueError, "`name`"),
        (dict(class_names=["a", "b"]), ValueError, "class_names"),
    ]
    for override, error, text in cases:
        kwargs = dict(target=tmp_path / "val", labels=labels, predictions=scores, step=1, class_names=NAMES)
        kwargs.update(override)
        with pytest.raises(error, match=text):
            tb_imbalance.log_report(
                kwargs.pop("target"), kwargs.pop("labels"), kwargs.pop("predictions"), kwargs.pop("step"), **kwargs
            )
    with pytest.raises(ValueError, match="`cm`"):
        tb_imbalance.log_matrix(tmp_path / "val", [[1, 2, 3]], 1)
    with pytest.raises(TypeError, match="`log_dir`"):
        tb_imbalance.ReportWriter(42)
    read = matrices(tmp_path)["val"]
    assert sorted(read) == [0]
    np.testing.assert_array_equal(read[0], good)


def test_a_nan_in_a_count_matrix_names_the_matrix_not_the_models_output_or_rows_to_drop(tmp_path):
    # said "fix the model output or drop those rows before logging": a matrix's rows are classes
    cm = np.array([[5.0, np.nan], [1.0, 4.0]])
    for call in (lambda: tb_imbalance.log_matrix(tmp_path, cm, 0), lambda: tb_imbalance.imbalance_metrics(cm)):
        with pytest.raises(ValueError, match=r"contains NaN or infinite values \(first at row 0, column 1\); a "
                                             r"count matrix holds none: count it again from finite weights") as error:
            call()
        assert "model output" not in str(error.value) and "drop" not in str(error.value)
    assert not any(tmp_path.iterdir())


def test_torch_tensors_and_summary_writer(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    labels, scores = seeded_batch(5)
    logits = torch.tensor(scores, requires_grad=True) * 2.0  # a non-leaf tensor with grad history
    writer = SummaryWriter(str(tmp_path / "torch_run"))
    writer.add_scalar("loss", 0.25, 7)
    cm = tb_imbalance.log_report(writer, torch.tensor(labels), logits, 7, class_names=NAMES)
    writer.close()
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, scores.argmax(1), labels=range(3)))
    np.testing.assert_array_equal(matrices(tmp_path)["torch_run"][7], cm)
    assert scalars(tmp_path, "torch_run", "loss") == {7: pytest.approx(0.25)}
    assert len(os.listdir(tmp_path / "torch_run")) == 1  # our records went into the writer's own file


def test_a_summary_writers_run_name_the_default_loader_cannot_read_blobs_under_is_warned_once(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    labels, scores = seeded_batch(5)
    writer = SummaryWriter(str(tmp_path / "tab\there"))
    with pytest.warns(UserWarning, match=r"has '\\t' in 'tab\\there'.*--load_fast=false") as caught:
        tb_imbalance.log_report(writer, labels, torch.tensor(scores), 0, num_classes=3)
        tb_imbalance.log_report(writer, labels, torch.tensor(scores), 1, num_classes=3)
    assert len([w for w in caught if "load_fast" in str(w.message)]) == 1
    writer.close()
    assert sorted(matrices(tmp_path)["tab\there"]) == [0, 1]


def test_a_torch_meta_tensor_is_refused_by_name_and_nothing_is_written(tmp_path):
    torch = pytest.importorskip("torch")
    labels, scores = seeded_batch(5)
    with pytest.raises(TypeError, match=r"`predictions` is a PyTorch tensor on the 'meta' device.*to_empty"):
        tb_imbalance.log_report(tmp_path / "meta", labels, torch.tensor(scores).to("meta"), 0, num_classes=3)
    with pytest.raises(TypeError, match=r"`labels` is a PyTorch tensor on the 'meta' device"):
        tb_imbalance.log_report(tmp_path / "meta", torch.tensor(labels).to("meta"), scores, 0, num_classes=3)
    assert not (tmp_path / "meta").exists() or matrices(tmp_path).get("meta", {}) == {}


def test_a_torch_view_with_its_negative_bit_set_is_read_as_its_values(tmp_path):
    # z.conj().imag is negated lazily: numpy refused it, and the message blamed its dtype
    torch = pytest.importorskip("torch")
    labels, scores = seeded_batch(6)
    lazily_negated = torch.complex(torch.zeros(scores.shape), -torch.tensor(scores)).conj().imag
    assert lazily_negated.is_neg()
    cm = tb_imbalance.log_report(tmp_path / "neg", labels, lazily_negated, 0, num_classes=3)
    assert cm.tolist() == sk_confusion_matrix(labels, scores.argmax(axis=1), labels=range(3)).tolist()


def test_every_matrix_entry_point_takes_a_torch_matrix_with_grad_and_weighted(tmp_path):
    """ReportWriter.write_matrix reads a framework matrix as log_matrix does, and takes `weighted` too."""
    torch = pytest.importorskip("torch")
    counted = torch.tensor([[3.0, 1.0], [0.0, 2.0]], requires_grad=True) * 1.0  # a float sum in a torch loop
    writer = tb_imbalance.ReportWriter(tmp_path / "writer")
    writer.write_matrix(0, "confusion_matrix", counted, weighted=False)
    tb_imbalance.log_matrix(tmp_path / "log_matrix", counted, 0, weighted=False)
    for run in ("writer", "log_matrix"):
        stored = matrices(tmp_path)[run][0]
        assert stored.dtype == np.int64 and stored.tolist() == [[3, 1], [0, 2]]
    with pytest.raises(ValueError, match="weighted=False"):
        writer.write_matrix(1, "confusion_matrix", counted * 0.5, weighted=False)


def test_jax_arrays(tmp_path):
    jnp = pytest.importorskip("jax.numpy")
    labels, scores = seeded_batch(6)
    cm = tb_imbalance.log_report(tmp_path / "jax", jnp.asarray(labels), jnp.asarray(scores), 0, num_classes=3)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, scores.argmax(1), labels=range(3)))
    tb_imbalance.log_matrix(tmp_path / "jax", jnp.asarray(cm), 1)
    np.testing.assert_array_equal(matrices(tmp_path)["jax"][1], cm)


def bfloat16_batch(seed):
    """Labels and scores that bfloat16 holds exactly (8 bits of mantissa), ties included."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 120)
    scores = (rng.integers(0, 16, (120, 3)) / 16).astype(np.float32)
    return labels, scores


def low_precision_cases():
    """(framework, dtype name, tensor maker) for each installed framework's bfloat16 (and float8)."""
    cases = []
    if importlib.util.find_spec("torch"):
        cases += [("torch", "bfloat16"), ("torch", "float8_e4m3fn")]
    if importlib.util.find_spec("jax"):
        cases += [("jax", "bfloat16")]
    if importlib.util.find_spec("tensorflow"):
        cases += [("tensorflow", "bfloat16")]
    if importlib.util.find_spec("ml_dtypes"):
        cases += [("numpy", "bfloat16")]
    return cases


def low_precision(framework, dtype, scores):
    if framework == "torch":
        import torch

        return torch.tensor(scores).to(getattr(torch, dtype)).requires_grad_(dtype == "bfloat16")
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(scores).astype(dtype)
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.cast(tf.constant(scores), dtype)
    import ml_dtypes

    return scores.astype(getattr(ml_dtypes, dtype))  # numpy arrays of the dtype JAX and TensorFlow use


@pytest.mark.parametrize("framework, dtype", low_precision_cases())
def test_mixed_precision_scores_are_counted_exactly(tmp_path, framework, dtype):
    labels, scores = bfloat16_batch(9)
    given = low_precision(framework, dtype, scores)
    cm = tb_imbalance.log_report(tmp_path / "run", labels, given, 0, num_classes=3)
    expected = sk_confusion_matrix(labels, scores.argmax(1), labels=range(3))  # first column on ties, as numpy
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(matrices(tmp_path)["run"][0], expected)


def test_tensorflow_tensors_and_tf_summary_writer(tmp_path):
    tf = pytest.importorskip("tensorflow")
    labels, scores = seeded_batch(7)
    writer = tf.summary.create_file_writer(str(tmp_path / "tf_run"))
    cm = tb_imbalance.log_report(writer, tf.constant(labels), tf.constant(scores), 2, class_names=NAMES)
    writer.close()
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, scores.argmax(1), labels=range(3)))
    np.testing.assert_array_equal(matrices(tmp_path)["tf_run"][2], cm)
    assert {tag for _, tag in run_tag_pairs(tmp_path)} == callback_tags()


def test_per_class_scalars_default_to_off_above_100_classes(tmp_path, caplog):
    rng = np.random.default_rng(0)
    big, small = rng.integers(0, 5, (101, 101)), rng.integers(0, 5, (100, 100))
    with caplog.at_level("WARNING", logger="tb_imbalance"):
        for step in range(2):
            tb_imbalance.log_matrix(tmp_path / "big", big, step, image=False)
        tb_imbalance.log_matrix(tmp_path / "small", small, 0, image=False)
        tb_imbalance.log_matrix(tmp_path / "forced", big, 0, image=False, per_class_scalars=True)
    said = [r.getMessage() for r in caplog.records if "per_class_scalars=True" in r.getMessage()]
    assert len(said) == 1 and "101 classes" in said[0]
    tags = {}
    for run, tag in run_tag_pairs(tmp_path):
        tags.setdefault(run, set()).add(tag)
    assert not any(tag.startswith(("precision/", "recall/", "f1/")) for tag in tags["big"])
    assert "imbalance/balanced_accuracy" in tags["big"]
    assert sum(tag.startswith("recall/") for tag in tags["small"]) == 100
    assert sum(tag.startswith("f1/") for tag in tags["forced"]) == 101


def test_binary_logits_need_from_logits(tmp_path):
    rng = np.random.default_rng(4)
    labels = rng.choice(2, 300, p=[0.9, 0.1])
    logits = rng.normal(size=(300, 1)) * 3
    with pytest.raises(ValueError, match="from_logits=True"):
        tb_imbalance.log_report(tmp_path / "bin", labels, logits, 0)
    assert not (tmp_path / "bin").exists() or os.listdir(tmp_path / "bin") == []
    cm = tb_imbalance.log_report(tmp_path / "bin", labels, logits, 0, from_logits=True)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels, (logits[:, 0] > 0).astype(int), labels=[0, 1]))
    probabilities = 1 / (1 + np.exp(-logits))
    np.testing.assert_array_equal(cm, tb_imbalance.log_report(tmp_path / "prob", labels, probabilities, 0))


def test_a_file_where_the_run_directory_would_be_is_refused_at_once_by_name(tmp_path):
    blocking = tmp_path / "file"
    blocking.write_text("x")
    labels, scores = seeded_batch(5)
    for target in (blocking, blocking / "run"):
        with pytest.raises(NotADirectoryError, match=rf"run directory '{target}' cannot be made: '{blocking}' is a file"):
            tb_imbalance.log_report(target, labels, scores, 0, num_classes=3)
    with pytest.raises(ValueError, match=r"holds '://' but does not start with a URL scheme"):
        tb_imbalance.ReportWriter(f'{tmp_path}/name=HYPERLINK("http://x")')  # a str: pathlib folds "//"
    with pytest.raises(ValueError, match=r"run directory '.*' holds a NUL character, which no file system accepts"):
        tb_imbalance.log_report(f"{tmp_path}/a\0b", labels, scores, 0, num_classes=3)
    with pytest.raises(ValueError, match=r"'nosuchscheme://bucket/run' is a URL that TensorBoard's file layer cannot "
                       r"open here \(Protocol not known: nosuchscheme\); install the fsspec package"):
        tb_imbalance.log_report("nosuchscheme://bucket/run", labels, scores, 0, num_classes=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"] and blocking.read_text() == "x"


def test_a_run_directory_starting_with_an_unexpanded_tilde_is_refused_before_a_directory_named_tilde_is_made(
    tmp_path, monkeypatch
):
    # it was made as ./~/runs/x, where `tensorboard --logdir ~/runs` (which expands '~') never looks
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    labels, scores = seeded_batch(5)
    for target in ("~/runs/x", pathlib.Path("~/runs/x"), "~"):
        with pytest.raises(ValueError, match=r"starts with '~', which Python does not expand: it would be made as a "
                           r"directory named '~' in the working directory .*os\.path\.expanduser"):
            tb_imbalance.log_report(target, labels, scores, 0, num_classes=3)
    with pytest.raises(ValueError, match="starts with '~'"):
        tb_imbalance.ReportWriter("~/runs/x")
    assert list(tmp_path.iterdir()) == []
    cm = tb_imbalance.log_report(os.path.expanduser("~/runs/x"), labels, scores, 0, num_classes=3)
    assert cm.sum() == len(labels) and len(list((tmp_path / "home" / "runs" / "x").iterdir())) == 1
    tb_imbalance.log_report("./~/runs/x", labels, scores, 0, num_classes=3)  # a directory named '~', written as asked
    assert (tmp_path / "~" / "runs" / "x").is_dir()


def test_a_class_name_that_is_not_unicode_text_is_refused_by_index(tmp_path):
    labels, scores = seeded_batch(5)
    with pytest.raises(ValueError, match=r"`class_names`\[1\] is not valid Unicode text"):
        tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, class_names=["a", "\ud800", "c"])
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("options, error, message", [
    (dict(name="val\udc80cm"), ValueError, r"`name` is not valid Unicode text \('val\\udc80cm' holds a lone surrogate"),
    (dict(description=123), TypeError, r"`description` must be a str, received 123"),
    (dict(description="\ud800"), ValueError, r"`description` is not valid Unicode text"),
    (dict(examples="x"), TypeError, r"`examples` must be the ExampleSet of tb_imbalance.examples.collect_examples, "
                                    r"received str; log_report\(..., examples=inputs\) collects them"),
])
def test_write_matrix_options_that_cannot_be_stored_are_refused_by_name(tmp_path, options, error, message):
    with tb_imbalance.ReportWriter(tmp_path / "run") as writer:
        writer.write_matrix(0, "kept", [[3, 1], [0, 2]], image=False)
        with pytest.raises(error, match=message):
            writer.write_matrix(1, **{"name": "confusion_matrix", "cm": [[3, 1], [0, 2]], **options})
        writer.write_matrix(1, "kept", [[3, 1], [1, 2]], image=False)  # the writer and its run go on
    assert {step: cm.tolist() for step, cm in matrices(tmp_path, "kept")["run"].items()} == {
        0: [[3, 1], [0, 2]], 1: [[3, 1], [1, 2]]}


def test_a_sparse_torch_matrix_is_read_dense_up_to_a_bound_and_refused_beyond(tmp_path):
    torch = pytest.importorskip("torch")
    for cm in (torch.tensor([[3, 1], [0, 2]]).to_sparse(), torch.tensor([[3, 1], [0, 2]]).to_sparse_csr()):
        np.testing.assert_array_equal(tb_imbalance.log_matrix(tmp_path / "sparse", cm, 0, image=False), [[3, 1], [0, 2]])
        close_directory_writers()
        shutil.rmtree(tmp_path / "sparse")
    # 4000 classes: 16 million cells once dense; the caller passes the non-empty cells instead
    huge = torch.sparse_coo_tensor(torch.tensor([[0, 1], [0, 1]]), torch.tensor([5, 7]), (4000, 4000))
    with pytest.raises(TypeError, match=r"`cm` is a sparse PyTorch tensor .* of 16,000,000 values once dense.*SparseMatrix"):
        tb_imbalance.log_matrix(tmp_path / "sparse", huge, 0, image=False)
    assert not (tmp_path / "sparse").exists()


def test_masked_rows_are_refused_not_counted(tmp_path):
    labels, scores = seeded_batch(5)
    masked = np.ma.array(labels, mask=np.arange(len(labels)) == 0)
    with pytest.raises(ValueError, match=r"`labels` is a numpy masked array with 1 masked entries"):
        tb_imbalance.log_report(tmp_path / "run", masked, scores, 0, num_classes=3)
    with pytest.raises(ValueError, match=r"`cm` is a numpy masked array"):
        tb_imbalance.log_matrix(tmp_path / "run", np.ma.array([[3, 1], [0, 2]], mask=[[0, 1], [0, 0]]), 0)
    assert not (tmp_path / "run").exists()
    unmasked = tb_imbalance.log_report(tmp_path / "run", np.ma.array(labels), scores, 0, num_classes=3)
    np.testing.assert_array_equal(unmasked, sk_confusion_matrix(labels, scores.argmax(1), labels=range(3)))


def test_weights_and_counts_of_the_wrong_kind_are_named_for_what_they_hold(tmp_path):
    labels, scores = seeded_batch(5)
    with pytest.raises(TypeError, match=r"`sample_weight` must hold numbers \(one weight per row\), received dtype <U"):
        tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, num_classes=3, sample_weight=["a"] * len(labels))
    with pytest.raises(ValueError, match=r"`sample_weight` sums past the float64 range"):
        tb_imbalance.log_report(tmp_path / "run", labels, scores, 0, num_classes=3, sample_weight=[1e308] * len(labels))
    with pytest.raises(TypeError, match=r"`cm` must hold counts, received dtype <U"):
        tb_imbalance.log_matrix(tmp_path / "run", [["a", "b"], ["c", "d"]], 0)
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
@pytest.mark.filterwarnings("ignore:tb_imbalance. another writer is adding")  # the child's file, in the parent
def test_a_report_writer_made_before_a_fork_gives_the_child_its_own_file_never_the_parents(tmp_path):
    """A sweep that forks workers after opening a ReportWriter: the child appended to the parent's event file
    (each step twice, out of order); and a lock held by a parent's thread at the fork would hang it."""
    import signal

    from tb_imbalance.event_reading import event_files, read_events
    from threads import held_by_another_thread

    labels, scores = seeded_batch(11)
    writer = tb_imbalance.ReportWriter(tmp_path)
    tb_imbalance.log_report(writer, labels, scores, 0, image=False)
    with held_by_another_thread(writer.lock):  # another thread of the parent writes as the child is forked
        child = os.fork()
    if child == 0:  # the child: every outcome is its exit status, within 60 s or killed by the alarm
        signal.alarm(60)
        status = 3
        try:
            try:
                tb_imbalance.log_report(writer, labels, scores, 1, image=False)
                status = 2  # the parent's tag written from a second process: not refused
            except ValueError as refused:
                status = 0 if "also being written by another writer" in str(refused) else 4
            for step in (1, 2):
                tb_imbalance.log_report(writer, labels, scores, step, image=False, name="child")
        except BaseException:  # noqa: BLE001 - said by the status
            status = 5
        finally:
            os._exit(status)
    for step in (1, 2, 3):
        tb_imbalance.log_report(writer, labels, scores, step, image=False)
    _, status = os.waitpid(child, 0)
    writer.close()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    expected = sk_confusion_matrix(labels, scores.argmax(axis=1), labels=[0, 1, 2])
    per_file = [
        [event.step for event in read_events(path) if event.summary.value]
        for path in event_files(str(tmp_path))
    ]
    assert sorted(per_file) == [[0, 1, 2, 3], [1, 2]]  # each process its own file, each step once
    for tag, steps in (("confusion_matrix", [0, 1, 2, 3]), ("child", [1, 2])):
        logged = matrices(tmp_path, tag=tag)["."]
        assert sorted(logged) == steps
        assert all(np.array_equal(logged[step], expected) for step in steps)


def test_a_report_writer_handed_to_a_spawned_process_is_refused_naming_its_run_directory(tmp_path):
    """'spawn' and 'forkserver' (Python 3.14's default on Linux) pickle what a child is handed: pickle failed on the
    writer's open event file ("cannot pickle '_io.FileIO' object"), naming neither the writer nor the fix."""
    import multiprocessing
    import pickle
    import re

    labels, scores = seeded_batch(12)
    writer = tb_imbalance.ReportWriter(tmp_path)
    tb_imbalance.log_report(writer, labels, scores, 0, image=False)  # its event file is open
    unused = tb_imbalance.ReportWriter(tmp_path / "unused")  # a lock, no file yet
    for refused in (writer, unused):
        message = (rf"a ReportWriter cannot be pickled.*'spawn' or 'forkserver'.*writer\.log_dir "
                   rf"\({re.escape(repr(refused.log_dir))}\), and log there with tb_imbalance\.log_report\(log_dir")
        with pytest.raises(TypeError, match=message):
            pickle.dumps(refused)
    child = multiprocessing.get_context("spawn").Process(target=print, args=(writer,))
    with pytest.raises(TypeError, match=r"a ReportWriter cannot be pickled"):
        child.start()  # pickled before the child is started: none runs
    tb_imbalance.log_report(writer, labels, scores, 1, image=False)  # the writer goes on here
    writer.close()
    expected = sk_confusion_matrix(labels, scores.argmax(axis=1), labels=[0, 1, 2])
    logged = matrices(tmp_path)["."]
    assert sorted(logged) == [0, 1] and all(np.array_equal(logged[step], expected) for step in (0, 1))


def test_a_label_beyond_the_class_names_names_class_names_as_a_fix(tmp_path):
    """The count came from ``class_names``: the error names them beside ``num_classes``, and nothing is written."""
    with pytest.raises(ValueError, match=r"received 2; pass the right `num_classes` \(or `class_names`, one per class\)"):
        tb_imbalance.log_report(tmp_path, np.array([0, 1, 2]), np.array([0, 1, 1]), step=0, class_names=["a", "b"])
    assert not list(tmp_path.rglob("*tfevents*"))
