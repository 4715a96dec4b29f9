"""Curves from every kind of input, in every environment, and the calibration error against torchmetrics.

``log_report`` takes lists, numpy arrays and the environment's framework
tensors (PyTorch tensors in the PyTorch run, JAX arrays in the JAX run,
TensorFlow tensors in the TensorFlow run); each logs the same binned scores,
equal to the numpy core's. Where torchmetrics is installed (the PyTorch run),
its ``multiclass_calibration_error(n_bins=15, norm="l1")`` equals the logged
``expected_calibration_error`` (but for confidences of exactly 1.0, checked by hand).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

import tb_imbalance
from tb_imbalance import core
from tb_imbalance import format as fmt
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

BACKEND = os.environ.get("KERAS_BACKEND") or "tensorflow"


def _evaluation(seed=0, rows=500, classes=4):
    rng = np.random.default_rng(seed)
    true = rng.choice(classes, size=rows, p=[0.7, 0.2, 0.07, 0.03])
    logits = (rng.normal(size=(rows, classes)) + 2.0 * np.eye(classes)[true]).astype(np.float32)
    return true, logits


def _framework_tensor(array):
    if BACKEND == "torch":
        import torch

        return torch.from_numpy(np.ascontiguousarray(array))
    if BACKEND == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    import tensorflow as tf

    return tf.constant(array)


def _logged(run_dir, classes=4):
    accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    info = fmt.parse_curves_content(accumulator.SummaryMetadata("confusion_matrix_curves").plugin_data.content)
    blob = tensor_util.make_ndarray(accumulator.Tensors("confusion_matrix_curves")[0].tensor_proto)[0]
    scalar = tensor_util.make_ndarray(accumulator.Tensors("imbalance/expected_calibration_error")[0].tensor_proto)
    return fmt.decode_curves(blob, info, classes), float(scalar)


@pytest.mark.parametrize("kind", ["list", "numpy", "framework"])
def test_log_report_logs_the_cores_curves_from_every_input(tmp_path, kind):
    true, logits = _evaluation()
    shifted = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    expected = core.curve_summary(probabilities, true, logits.argmax(axis=1))
    convert = {"list": lambda a: a.tolist(), "numpy": lambda a: a, "framework": _framework_tensor}[kind]
    tb_imbalance.log_report(tmp_path, convert(true), convert(logits), step=0, from_logits=True, image=False)
    logged, _ = _logged(tmp_path)
    np.testing.assert_allclose(logged[:, :2], expected[:, :2], atol=1e-9)  # counts: exact
    np.testing.assert_allclose(logged[:, 2], expected[:, 2], rtol=1e-5)


def test_expected_calibration_error_equals_torchmetrics(tmp_path):
    pytest.importorskip("torchmetrics")
    import torch
    from torchmetrics.functional.classification import multiclass_calibration_error

    for seed in range(3):
        true, logits = _evaluation(seed, rows=2000)
        probabilities = torch.softmax(torch.from_numpy(logits), dim=1)
        tb_imbalance.log_report(tmp_path / str(seed), true, probabilities.numpy(), step=0, image=False)
        _, logged = _logged(tmp_path / str(seed))
        expected = multiclass_calibration_error(
            probabilities, torch.from_numpy(true), num_classes=4, n_bins=15, norm="l1"
        )
        assert logged == pytest.approx(float(expected), abs=1e-6)


def test_a_sigmoid_columns_class_1_calibration_error_is_torchmetrics_binary_one(tmp_path):
    pytest.importorskip("torchmetrics")
    import torch
    from torchmetrics.functional.classification import binary_calibration_error, multiclass_calibration_error

    for seed in range(3):
        rng = np.random.default_rng(seed)
        true = rng.choice(2, 2000, p=[0.9, 0.1])
        probabilities = torch.sigmoid(torch.from_numpy((rng.normal(size=2000) + 2.0 * true - 1.0).astype(np.float32)))
        tb_imbalance.log_report(tmp_path / str(seed), true, probabilities, step=0, image=False)
        curves, logged = _logged(tmp_path / str(seed), classes=2)
        binary = binary_calibration_error(probabilities, torch.from_numpy(true), n_bins=15)
        assert core.curve_metrics(curves)["per_class"]["calibration_error"][1] == pytest.approx(float(binary), abs=1e-6)
        top_label = multiclass_calibration_error(
            torch.stack([1 - probabilities, probabilities], 1), torch.from_numpy(true), num_classes=2, n_bins=15
        )
        assert logged == pytest.approx(float(top_label), abs=1e-6)
        assert abs(logged - float(binary)) > 0.05  # the two differ: the docs say which is which


def test_a_confidence_of_exactly_one_is_in_the_last_calibration_bin_unlike_torchmetrics(tmp_path):
    # Saturated float32 softmax rows. torchmetrics keeps 1.0 in a 16th bin of its own (0.2597 here);
    # the docs say where the two differ. By hand, bins [m/15, (m+1)/15) with 1.0 in the last: all
    # four rows are in bin 14, three right: |hits - confidences| / rows = |3 - (3 + c)| / 4.
    labels = np.array([0, 1, 1, 2])
    logits = np.array([[40, 0, 0], [40, 0, 0], [0, 3.9, 0], [0, 0, 40]], dtype=np.float32)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    assert (probabilities.max(1) == 1.0).sum() == 3
    confidence = float(probabilities[2].max())
    assert confidence >= 14 / 15
    tb_imbalance.log_report(tmp_path, labels, probabilities, step=0, image=False)
    _, logged = _logged(tmp_path, classes=3)
    assert logged == pytest.approx(abs(3 - (3 + confidence)) / 4, abs=1e-6)


def test_logits_without_from_logits_and_class_ids_asked_for_curves_warn_once_as_the_callback_does(tmp_path):
    # The Keras callback warns (UserWarning) when logits without from_logits or class ids leave a step
    # without curves; log_report only wrote a log line. Now it warns once per tag, naming the fix.
    true, logits = _evaluation(5)
    with pytest.warns(UserWarning, match=r"no PR/ROC curves.*not probabilities.*pass from_logits=True") as said:
        for step in range(3):
            tb_imbalance.log_report(tmp_path / "logits", true, _framework_tensor(logits), step=step, image=False)
    assert len([w for w in said if "no PR/ROC curves" in str(w.message)]) == 1
    assert said[0].filename == __file__  # the user's line
    with pytest.warns(UserWarning, match=r"no PR/ROC curves.*class ids, not scores; pass the scores \[N, C\]"):
        tb_imbalance.log_report(tmp_path / "ids", true, logits.argmax(axis=1), step=0, num_classes=4, curves=True,
                                image=False)
    with warnings.catch_warnings():  # class ids without asking for curves: the documented log line, no warning
        warnings.simplefilter("error")
        tb_imbalance.log_report(tmp_path / "ids_default", true, logits.argmax(axis=1), step=0, num_classes=4,
                                image=False)
    tb_imbalance.log_report(tmp_path / "fixed", true, logits, step=0, image=False, from_logits=True)  # the fix
    curves, _ = _logged(tmp_path / "fixed")
    quantised = core.quantise_scores(core.curve_probabilities(logits, 4, from_logits=True)[0])
    expected = [average_precision_score(true == c, quantised[:, c]) for c in range(4)]
    np.testing.assert_allclose(core.curve_metrics(curves)["per_class"]["average_precision"], expected, rtol=1e-9)


def test_pr_curves_true_of_a_step_without_curves_is_refused_at_every_door(tmp_path):
    # log_matrix / ReportWriter.write_matrix without curves=, and log_report of class ids, wrote the step
    # without the PR curves asked for, and said nothing. Refused where every door builds its values.
    true, logits = _evaluation(6)
    cm = core.confusion_matrix(true, logits, num_classes=4)
    writer = tb_imbalance.ReportWriter(tmp_path / "writer")
    doors = {
        "log_matrix": lambda: tb_imbalance.log_matrix(tmp_path / "log_matrix", cm, 0, pr_curves=True),
        "writer": lambda: writer.write_matrix(0, "confusion_matrix", cm, pr_curves=True),
        "class_ids": lambda: tb_imbalance.log_report(tmp_path / "class_ids", true, logits.argmax(1), 0,
                                                     num_classes=4, pr_curves=True),
    }
    for door in doors.values():
        with pytest.raises(ValueError, match=r"`pr_curves=True` asks for TensorBoard's PR curves.*has none"):
            door()
    writer.close()
    summary = core.curve_summary(core.curve_probabilities(logits, 4, from_logits=True)[0], true, logits.argmax(1))
    tb_imbalance.log_matrix(tmp_path / "log_matrix", cm, 0, curves=summary, pr_curves=True, image=False)  # the fix
    accumulator = event_accumulator.EventAccumulator(str(tmp_path / "log_matrix"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert [event.step for event in accumulator.Tensors("pr_curve/3")] == [0]  # nothing of the refusal before


def test_pr_curves_true_with_curves_false_is_refused_before_anything_is_written(tmp_path):
    # TensorBoard's PR curves are drawn from the binned scores curves=False leaves out: both asked for
    # wrote neither, without a word. Refused at the entry, naming both arguments.
    true, logits = _evaluation(6)
    with pytest.raises(ValueError, match=r"`pr_curves=True`.*`curves=False`.*drop curves=False"):
        tb_imbalance.log_report(tmp_path / "both", true, logits, step=0, from_logits=True, curves=False,
                                pr_curves=True, image=False)
    assert not (tmp_path / "both").exists()
    tb_imbalance.log_report(tmp_path / "fixed", true, logits, step=0, from_logits=True, pr_curves=True, image=False)
    accumulator = event_accumulator.EventAccumulator(str(tmp_path / "fixed"), size_guidance={"tensors": 0})
    accumulator.Reload()
    table = tensor_util.make_ndarray(accumulator.Tensors("pr_curve/3")[0].tensor_proto)  # TensorBoard's [6, 76]
    quantised = core.quantise_scores(core.curve_probabilities(logits, 4, from_logits=True)[0])[:, 3]
    threshold = 10 / core.CURVE_BINS
    assert table[0, 10] == np.sum((quantised >= threshold - 1e-12) & (true == 3))  # true positives at 10 / 75
    assert table[1, 10] == np.sum((quantised >= threshold - 1e-12) & (true != 3))
