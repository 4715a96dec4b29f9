"""Whether a step holds sums of sample weights is read per step, never from the tag's first step.

TensorBoard keeps a tag's first metadata only, so the ``weighted`` flag of
the metadata says what the first step was. A tag may mix weighted and
unweighted steps (``log_report`` with and without ``sample_weight``): each
step is served as what it is — Wilson intervals for counts, none for sums of
weights — in both orders, and ``compare`` uses each compared step's own kind.
``log_matrix`` of float sums (even whole numbers) is weighted unless
``weighted=False`` says they are counts. Oracle: statsmodels.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from werkzeug import test as werkzeug_test

from logdir_reader import matrices
from support import PLUGIN_ROUTE, plugin_client
from tb_imbalance import core, log_matrix, log_report
from tb_imbalance.targets import close_directory_writers

# 20 rows: class 0 has 8 right and 2 wrong, class 1 has 4 wrong and 6 right.
LABELS = np.array([0] * 10 + [1] * 10)
PREDICTIONS = np.array([0] * 8 + [1] * 2 + [0] * 4 + [1] * 6)
COUNTS = [[8, 2], [4, 6]]
WEIGHTS = np.full(20, 10.0)


def _client(root) -> werkzeug_test.Client:
    close_directory_writers()
    return plugin_client(root)


def _get(client, route: str, **params):
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())


def _wilson(k: int, n: int) -> list[float]:
    return list(proportion_confint(k, n, method="wilson"))


def _log(run_dir, step: int, *, weighted: bool) -> None:
    log_report(
        run_dir, LABELS, PREDICTIONS, step, num_classes=2,
        sample_weight=WEIGHTS if weighted else None, image=False,
    )


def _check_counts_step(payload) -> None:
    assert payload["weighted"] is False
    assert payload["confusion_matrix"] == COUNTS
    for got, (k, n) in zip(payload["per_class"]["recall_interval"], [(8, 10), (6, 10)]):
        np.testing.assert_allclose(got, _wilson(k, n), rtol=1e-9)
    for got, (k, n) in zip(payload["per_class"]["precision_interval"], [(8, 12), (6, 8)]):
        np.testing.assert_allclose(got, _wilson(k, n), rtol=1e-9)


def _check_weighted_step(payload) -> None:
    assert payload["weighted"] is True
    assert payload["confusion_matrix"] == [[80.0, 20.0], [40.0, 60.0]]
    # Sums of weights are not counts of trials: 8 of 10 rows must never read as 80 of 100.
    assert payload["per_class"]["recall_interval"] == [None, None]
    assert payload["per_class"]["precision_interval"] == [None, None]


@pytest.mark.parametrize("order", ["counts_first", "weights_first"])
def test_each_step_is_served_as_what_it_is(tmp_path, order):
    run_dir = tmp_path / "run"
    first_weighted = order == "weights_first"
    _log(run_dir, 0, weighted=first_weighted)
    _log(run_dir, 1, weighted=not first_weighted)
    _log(run_dir, 2, weighted=first_weighted)
    client = _client(tmp_path)
    for step in (0, 1, 2):
        payload = _get(client, "report", run="run", tag="confusion_matrix", step=step)
        weighted = first_weighted if step != 1 else not first_weighted
        (_check_weighted_step if weighted else _check_counts_step)(payload)
    # The stored tensors carry it: int64 counts, float64 sums of weights.
    stored = matrices(tmp_path)["run"]
    assert [stored[step].dtype.kind for step in (0, 1, 2)] == (
        ["f", "i", "f"] if first_weighted else ["i", "f", "i"]
    )


def _newcombe(k1: int, n1: int, k2: int, n2: int) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff"))


@pytest.mark.parametrize("order", ["counts_first", "weights_first"])
def test_compare_uses_each_compared_steps_own_kind(tmp_path, order):
    first_weighted = order == "weights_first"
    _log(tmp_path / "mixed", 0, weighted=first_weighted)
    _log(tmp_path / "mixed", 1, weighted=not first_weighted)
    # Baseline: class 0 recall 5/10, class 1 recall 9/10, counts only.
    log_matrix(tmp_path / "baseline", [[5, 5], [1, 9]], 0, image=False)
    client = _client(tmp_path)
    counts_step = 1 if first_weighted else 0
    weighted_step = 1 - counts_step
    payload = _get(client, "compare", run="mixed", baseline="baseline", tag="confusion_matrix", step=counts_step)
    assert payload["weighted"] is False
    np.testing.assert_allclose(payload["per_class"]["recall_delta"], [0.8 - 0.5, 0.6 - 0.9])
    for got, expected in zip(
        payload["per_class"]["recall_delta_interval"], [_newcombe(8, 10, 5, 10), _newcombe(6, 10, 9, 10)]
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-7)
    assert payload["per_class"]["recall_significant"] == [
        not (low <= 0 <= high) for low, high in payload["per_class"]["recall_delta_interval"]
    ]
    payload = _get(client, "compare", run="mixed", baseline="baseline", tag="confusion_matrix", step=weighted_step)
    assert payload["weighted"] is True
    np.testing.assert_allclose(payload["per_class"]["recall_delta"], [0.8 - 0.5, 0.6 - 0.9])
    assert payload["per_class"]["recall_delta_interval"] == [None, None]
    assert payload["per_class"]["recall_significant"] == [None, None]


def test_log_matrix_of_float_sums_is_weighted_even_as_whole_numbers(tmp_path):
    written = log_matrix(tmp_path / "run", np.array([[80.0, 20.0], [40.0, 60.0]]), 0, image=False)
    assert written.dtype == np.float64
    counted = log_matrix(tmp_path / "run", np.array([[8.0, 2.0], [4.0, 6.0]]), 1, image=False, weighted=False)
    assert counted.dtype == np.int64 and counted.tolist() == COUNTS
    client = _client(tmp_path)
    _check_weighted_step(_get(client, "report", run="run", tag="confusion_matrix", step=0))
    _check_counts_step(_get(client, "report", run="run", tag="confusion_matrix", step=1))


def test_log_matrix_weighted_false_refuses_fractions(tmp_path):
    with pytest.raises(ValueError, match=r"`cm` holds fractional values .* weighted=True"):
        log_matrix(tmp_path / "run", np.array([[8.5, 2.0], [4.0, 6.0]]), 0, weighted=False)
    assert not (tmp_path / "run").exists()


def test_a_file_of_the_first_format_version_is_read_per_step(tmp_path):
    # Written by hand as a version-1 writer did: metadata without `encoding`, `weighted` false
    # from the first step, then a float64 step of weight sums.
    import json as json_module

    from tensorboard.compat.proto import summary_pb2
    from tensorboard.util import tensor_util

    from tb_imbalance.event_file import EventFile

    content = {"version": 1, "num_classes": 2, "class_names": ["0", "1"], "weighted": False}
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(
            plugin_name="imbalance", content=json_module.dumps(content).encode()
        ),
        data_class=summary_pb2.DATA_CLASS_TENSOR,
    )
    with EventFile(tmp_path / "run") as events:
        for step, cm in enumerate([np.array(COUNTS, dtype=np.int64), np.array(COUNTS, dtype=np.float64) * 10]):
            value = summary_pb2.Summary.Value(
                tag="confusion_matrix", metadata=metadata, tensor=tensor_util.make_tensor_proto(cm)
            )
            events.write(step, [value])
    client = _client(tmp_path)
    _check_counts_step(_get(client, "report", run="run", tag="confusion_matrix", step=0))
    _check_weighted_step(_get(client, "report", run="run", tag="confusion_matrix", step=1))


def test_weights_at_extreme_scales_give_the_numbers_of_weight_1(tmp_path):
    """Only the weights' ratios matter: products such as total**2 or n * n, and float32 curves, would
    under- or overflow at these (finite) scales and turn MCC, kappa, the curves or a route into NaN / 500."""
    from sklearn import metrics as skm

    from logdir_reader import curves, load, scalars

    labels = np.array([0, 1, 2, 0, 1, 2, 0, 0])
    scores = np.eye(3)[[0, 1, 1, 0, 2, 2, 0, 1]] * 0.8 + 0.0667
    scales = [1.0, 1e-160, 1e160, 1e-300, 1e300, 1e-45]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for step, scale in enumerate(scales):
            log_report(tmp_path / "run", labels, scores, step, sample_weight=np.full(8, scale))
    expected = {
        "imbalance/mcc": skm.matthews_corrcoef(labels, scores.argmax(1)),
        "imbalance/cohen_kappa": skm.cohen_kappa_score(labels, scores.argmax(1)),
        "imbalance/macro_average_precision": np.mean(
            [skm.average_precision_score(labels == k, scores[:, k]) for k in range(3)]),
    }
    for tag, value in expected.items():
        written = scalars(tmp_path, "run", tag)
        assert list(written) == list(range(len(scales)))
        np.testing.assert_allclose(list(written.values()), value, rtol=1e-6, err_msg=tag)
    stored = curves(tmp_path)["run"]
    for step, scale in enumerate(scales):
        np.testing.assert_allclose(stored[step] / scale, stored[0], rtol=1e-6, err_msg=scale)
    client = _client(tmp_path)
    first = _get(client, "report", run="run", tag="confusion_matrix", step=0)
    for step in range(1, len(scales)):
        report = _get(client, "report", run="run", tag="confusion_matrix", step=step)
        for key in ("mcc", "cohen_kappa", "macro_average_precision", "macro_roc_auc", "expected_calibration_error"):
            assert report["metrics"][key] == pytest.approx(first["metrics"][key], rel=1e-6), (scales[step], key)
    assert len(_get(client, "series", run="run", tag="confusion_matrix")["steps"]) == len(scales)
    # TensorBoard's PR Curves tab: precision and recall as at weight 1 (float64 where float32 would overflow)
    provider, ctx = load(tmp_path), __import__("tensorboard").context.RequestContext()
    pr = provider.read_tensors(ctx, experiment_id="", plugin_name="pr_curves", downsample=100)["run"]
    for tag, data in pr.items():
        curve = {datum.step: datum.numpy for datum in data}
        for step in range(1, len(scales)):
            np.testing.assert_allclose(curve[step][4:], curve[0][4:], rtol=1e-5, err_msg=(tag, scales[step]))
            assert np.isfinite(curve[step]).all()


def test_a_class_whose_support_and_predictions_pass_float64_together_keeps_its_f1(tmp_path):
    """F1 = 2 tp / (support + predicted): the weights' total is finite, support + predicted of the
    dominant class is not; F1 and macro F1 are those of weight 1 (no NaN scalar, no failing route)."""
    from logdir_reader import scalars

    labels, predicted = [0, 0, 1], [0, 0, 1]
    cm = log_report(tmp_path / "run", labels, predicted, 0, num_classes=2, sample_weight=[8e307, 8e307, 1.0])
    assert core.classification_report(cm)["0"]["f1-score"] == 1.0
    assert core.imbalance_metrics(cm)["macro_f1"] == 1.0
    assert scalars(tmp_path, "run", "f1/0") == {0: 1.0}
    assert scalars(tmp_path, "run", "imbalance/macro_f1") == {0: 1.0}
    report = _get(_client(tmp_path), "report", run="run", tag="confusion_matrix", step=0)
    assert report["metrics"]["macro_f1"] == 1.0


def test_subnormal_sums_of_weights_give_the_report_of_weight_1():
    """Every cell a multiple of the smallest subnormal: F1 and the weighted average keep their bits."""
    counts = np.array([[5.0, 1, 0], [1, 4, 1], [0, 2, 3]])
    tiny, reference = core.classification_report(counts * 5e-324), core.classification_report(counts)
    for key in ("0", "1", "2", "macro avg", "weighted avg"):
        for field in ("precision", "recall", "f1-score"):
            assert tiny[key][field] == pytest.approx(reference[key][field], rel=1e-12), (key, field)
    assert core.imbalance_metrics(counts * 5e-324)["macro_f1"] == pytest.approx(
        core.imbalance_metrics(counts)["macro_f1"], rel=1e-12)
    # one class past float64 with support + predicted, two subnormal: each class's F1 as at weight 1
    mixed = np.zeros((3, 3))
    mixed[0, 0], mixed[1:, 1:] = 9e307, counts[1:, 1:] * 5e-324
    np.testing.assert_allclose(core.per_class_metrics(mixed)["f1"], [1.0, 8 / 11, 2 / 3], rtol=1e-12)
    # whole counts given as floats are weighed exactly as the int counts (scikit-learn's bits)
    assert core.classification_report(counts)["weighted avg"] == core.classification_report(counts.astype(int))["weighted avg"]


def test_sums_past_float64_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"`cm` sums past the float64 range \(largest value 1e\+308\).*scale it down"):
        log_matrix(tmp_path / "run", [[1e308, 1e308], [1.0, 1e308]], 0)
    with pytest.raises(ValueError, match=r"`sample_weight` sums past the float64 range"):
        log_report(tmp_path / "run", [0, 1, 1], [0, 1, 0], 0, num_classes=2, sample_weight=[1e308, 1e308, 1.0])
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
