"""Curves end to end: log_report -> event file -> plugin routes (``report``, ``compare``, ``curves``).

Through TensorBoard's WSGI app (Python loader) the logged values equal
scikit-learn's on the scores quantised to the bins; the ``curves`` route's
errors; TensorBoard's own PR Curves format; and through the real
``tensorboard`` command in both loader modes, every step's curves are served.
"""

from __future__ import annotations

import json
import urllib.parse

import numpy as np
import pytest
from sklearn import metrics as skm
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.pr_curve import metadata as pr_curve_metadata
from tensorboard.util import tensor_util

import tb_imbalance
from support import (
    HOSTILE_CLASS_NAME, PLUGIN_ROUTE, get_json, http_get, plugin_client, route_error, route_json, tensorboard_server,
)
from tb_imbalance import core

CLASS_NAMES = ["ok", "fault", HOSTILE_CLASS_NAME]


def _evaluation(seed: int, rows: int = 600, classes: int = 3, strength: float = 2.0):
    rng = np.random.default_rng(seed)
    true = rng.choice(classes, size=rows, p=np.array([0.8, 0.15, 0.05])[:classes] / np.array([0.8, 0.15, 0.05])[:classes].sum())
    logits = rng.normal(size=(rows, classes)) + strength * np.eye(classes)[true]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return true, probabilities, logits


@pytest.fixture(scope="module")
def curves_logdir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("curves")
    evaluations = {}
    for run, strength in (("baseline", 1.0), ("class_weights", 2.5)):
        for step in range(3):
            true, probabilities, logits = _evaluation(10 * step + (run == "baseline"), strength=strength + step / 2)
            evaluations[run, step] = (true, probabilities)
            # the baseline logs logits with from_logits: the same probabilities after the softmax
            predictions = logits if run == "baseline" else probabilities
            tb_imbalance.log_report(
                logdir / run, true, predictions, step=step, class_names=CLASS_NAMES,
                from_logits=run == "baseline", image=False,
            )
    tb_imbalance.log_report(logdir / "ids_only", *_evaluation(5)[:1], _evaluation(5)[1].argmax(axis=1), step=0,
                            class_names=CLASS_NAMES, image=False)
    return logdir, evaluations


def test_report_has_scikit_learns_ap_auc_and_calibration(curves_logdir):
    logdir, evaluations = curves_logdir
    client = plugin_client(logdir)
    for run in ("baseline", "class_weights"):
        payload = route_json(client, "report", run=run, tag="confusion_matrix", step=1)
        true, probabilities = evaluations[run, 1]
        quantised = core.quantise_scores(probabilities)
        assert payload["has_curves"] is True
        for c in range(3):
            assert payload["per_class"]["average_precision"][c] == pytest.approx(
                skm.average_precision_score(true == c, quantised[:, c]), abs=1e-6)
            assert payload["per_class"]["roc_auc"][c] == pytest.approx(
                skm.roc_auc_score(true == c, quantised[:, c]), abs=1e-6)
        assert payload["metrics"]["macro_average_precision"] == pytest.approx(
            np.mean(payload["per_class"]["average_precision"]), abs=1e-12)
        expected = core.curve_metrics(core.curve_summary(probabilities, true, probabilities.argmax(axis=1)))
        assert payload["metrics"]["expected_calibration_error"] == pytest.approx(
            expected["metrics"]["expected_calibration_error"], abs=1e-6)
        assert payload["metrics"]["classwise_calibration_error"] == pytest.approx(
            expected["metrics"]["classwise_calibration_error"], abs=1e-6)


def test_class_ids_log_no_curves_and_the_report_says_so(curves_logdir, caplog):
    logdir, _ = curves_logdir
    payload = route_json(plugin_client(logdir), "report", run="ids_only", tag="confusion_matrix")
    assert payload["has_curves"] is False
    assert payload["per_class"]["average_precision"] == [None, None, None]
    assert payload["metrics"]["macro_average_precision"] is None
    message = route_error(plugin_client(logdir), "curves", 404, run="ids_only", tag="confusion_matrix", **{"class": 0})
    assert "no curves were logged" in message and "from_logits=True" in message


def test_curves_route_equals_scikit_learns_curves(curves_logdir):
    logdir, evaluations = curves_logdir
    client = plugin_client(logdir)
    true, probabilities = evaluations["class_weights", 2]
    quantised = core.quantise_scores(probabilities)
    payload = route_json(client, "curves", run="class_weights", tag="confusion_matrix", step=2, **{"class": 2})
    assert payload["class_name"] == HOSTILE_CLASS_NAME and payload["steps"] == [0, 1, 2] and payload["bins"] == 75
    precision, recall, thresholds = skm.precision_recall_curve(true == 2, quantised[:, 2])
    np.testing.assert_allclose(payload["pr"]["precision"], precision, atol=1e-6)
    np.testing.assert_allclose(payload["pr"]["recall"], recall, atol=1e-6)
    np.testing.assert_allclose(payload["pr"]["thresholds"], thresholds, atol=1e-12)
    fpr, tpr, _ = skm.roc_curve(true == 2, quantised[:, 2], drop_intermediate=False)
    np.testing.assert_allclose(payload["roc"]["fpr"], fpr, atol=1e-6)
    np.testing.assert_allclose(payload["roc"]["tpr"], tpr, atol=1e-6)
    cm = skm.confusion_matrix(true, probabilities.argmax(axis=1), labels=[0, 1, 2])
    assert payload["operating_point"]["recall"] == pytest.approx(cm[2, 2] / cm[2].sum())
    assert payload["operating_point"]["precision"] == pytest.approx(cm[2, 2] / max(1, cm[:, 2].sum()))
    assert sum(payload["reliability"]["rows"]) == len(true)
    latest = route_json(client, "curves", run="class_weights", tag="confusion_matrix", **{"class": 2})
    assert latest["step"] == 2


@pytest.mark.parametrize(
    "params, status, match",
    [
        ({"class": 3}, 400, r"`class` must be a class index in \[0, 2\]"),
        ({"class": "x"}, 400, "class"),
        ({}, 400, "class"),
        ({"class": 0, "step": 7}, 404, r"step 7 holds no curves; query parameter `step` must be a step with curves: 0, 1, 2 \(or left out for the latest\)$"),
        ({"class": 0, "run": "nope"}, 404, "nope"),
    ],
)
def test_curves_route_errors(curves_logdir, params, status, match):
    logdir, _ = curves_logdir
    query = {"run": "baseline", "tag": "confusion_matrix", **params}
    assert pytest.importorskip("re").search(match, route_error(plugin_client(logdir), "curves", status, **query))


def test_compare_has_average_precision_differences(curves_logdir):
    logdir, _ = curves_logdir
    client = plugin_client(logdir)
    payload = route_json(client, "compare", run="class_weights", tag="confusion_matrix", baseline="baseline")
    ours = route_json(client, "report", run="class_weights", tag="confusion_matrix")["per_class"]["average_precision"]
    theirs = route_json(client, "report", run="baseline", tag="confusion_matrix")["per_class"]["average_precision"]
    np.testing.assert_allclose(payload["per_class"]["average_precision_difference"], np.subtract(ours, theirs), atol=1e-12)
    without = route_json(client, "compare", run="ids_only", tag="confusion_matrix", baseline="baseline")
    assert without["per_class"]["average_precision_difference"] == [None, None, None]


def test_scalars_and_tensorboard_pr_curves_are_written(curves_logdir):
    logdir, evaluations = curves_logdir
    accumulator = event_accumulator.EventAccumulator(str(logdir / "class_weights"), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"]
    for metric in core.CURVE_METRIC_NAMES:
        assert f"imbalance/{metric}" in tags
    assert f"average_precision/{HOSTILE_CLASS_NAME}" in tags
    true, probabilities = evaluations["class_weights", 2]
    logged = tensor_util.make_ndarray(accumulator.Tensors("imbalance/macro_average_precision")[2].tensor_proto)
    quantised = core.quantise_scores(probabilities)
    expected = np.mean([skm.average_precision_score(true == c, quantised[:, c]) for c in range(3)])
    assert float(logged) == pytest.approx(expected, abs=1e-6)
    # TensorBoard's PR Curves tab: [6, 76] per class, thresholds i / 75, as its own summary counts them.
    event = accumulator.Tensors("pr_curve/fault")[2]
    data = tensor_util.make_ndarray(event.tensor_proto)
    assert data.shape == (6, 76)
    content = accumulator.SummaryMetadata("pr_curve/fault").plugin_data
    assert content.plugin_name == pr_curve_metadata.PLUGIN_NAME
    assert pr_curve_metadata.parse_plugin_metadata(content.content).num_thresholds == 76
    bins = np.minimum((probabilities[:, 1] * 75).astype(int), 74)
    for threshold in (0, 30, 74, 75):
        predicted = bins >= threshold
        assert data[0, threshold] == np.sum(predicted & (true == 1))  # true positives
        assert data[1, threshold] == np.sum(predicted & (true != 1))  # false positives


@pytest.mark.parametrize("classes,weighted", [(2, False), (3, False), (3, True)])
def test_pr_curves_tab_values_equal_tensorboards_own_pr_curve_summary(classes, weighted):
    pytest.importorskip("tensorflow")  # tensorboard.plugins.pr_curve.summary.pb computes with numpy, imports TF
    from tensorboard.plugins.pr_curve import summary as pr_curve_summary

    from tb_imbalance.curve_values import curve_values
    from tb_imbalance.step import ReportStep

    true, probabilities, _ = _evaluation(7, rows=400, classes=classes)
    probabilities = np.minimum(probabilities, 0.999)  # TensorBoard's pb puts 1.0 above the last threshold
    predicted = probabilities.argmax(axis=1)
    weights = np.full(len(true), 1 / len(true)) if weighted else None  # sums of weights below 1
    curves = core.curve_summary(probabilities, true, predicted, weights)
    cm = np.bincount(true * classes + predicted, weights=weights, minlength=classes**2).reshape(classes, classes)
    names = [f"class {c}" for c in range(classes)]
    report = ReportStep.of(0, "val", cm, names, curves=curves)
    ours = {value.tag: value for value in curve_values(report, prefix="val/", per_class_scalars=False, pr_curves=True)}
    for c, name in enumerate(names):
        theirs = pr_curve_summary.pb(
            "x", labels=true == c, predictions=probabilities[:, c].astype(np.float32), num_thresholds=76,
            weights=None if weights is None else weights.astype(np.float32),
        ).value[0]
        value = ours[f"val/pr_curve/{name}"]
        np.testing.assert_allclose(
            tensor_util.make_ndarray(value.tensor), tensor_util.make_ndarray(theirs.tensor), rtol=1e-6, atol=0
        )
        assert value.tensor == tensor_util.make_tensor_proto(tensor_util.make_ndarray(value.tensor))
        plugin_data = pr_curve_metadata.parse_plugin_metadata(value.metadata.plugin_data.content)
        assert plugin_data.num_thresholds == 76 and value.metadata.display_name == f"val/pr_curve/{name}"


def test_pr_curves_default_off_above_twenty_classes_and_curves_off_on_request(tmp_path):
    rng = np.random.default_rng(0)
    true = rng.integers(0, 21, 300)
    scores = rng.dirichlet(np.ones(21), size=300)
    tb_imbalance.log_report(tmp_path / "wide", true, scores, step=0, image=False)
    tb_imbalance.log_report(tmp_path / "off", true[:, None] == np.arange(21), scores, step=0, image=False, curves=False)
    for run, has_curves in (("wide", True), ("off", False)):
        accumulator = event_accumulator.EventAccumulator(str(tmp_path / run), size_guidance={"tensors": 0})
        accumulator.Reload()
        tags = accumulator.Tags()["tensors"]
        assert not any(tag.startswith("pr_curve/") for tag in tags)
        assert ("imbalance/macro_average_precision" in tags) is has_curves


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [False, True])
def test_real_tensorboard_serves_every_steps_curves(curves_logdir, load_fast):
    logdir, evaluations = curves_logdir
    with tensorboard_server(logdir, load_fast=load_fast) as base:
        for step in range(3):
            query = urllib.parse.urlencode({"run": "baseline", "tag": "confusion_matrix", "step": step, "class": 1})
            payload = get_json(f"{base}{PLUGIN_ROUTE}/curves?{query}")
            true, probabilities = evaluations["baseline", step]
            expected = skm.average_precision_score(true == 1, core.quantise_scores(probabilities)[:, 1])
            assert payload["average_precision"] == pytest.approx(expected, abs=1e-6)
        # TensorBoard's own PR Curves tab serves one curve per class from the same run.
        query = urllib.parse.urlencode({"run": "baseline", "tag": "pr_curve/fault"})
        served = get_json(f"{base}/data/plugin/pr_curves/pr_curves?{query}")["baseline"]
        assert [entry["step"] for entry in served] == [0, 1, 2]
        true, probabilities = evaluations["baseline", 2]
        bins = np.minimum((probabilities[:, 1] * 75).astype(int), 74)
        assert served[2]["true_positives"][0] == np.sum(true == 1)
        assert served[2]["true_positives"][40] == np.sum((bins >= 40) & (true == 1))


def _stored_curves(run_dir, tag="confusion_matrix"):
    accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    from tb_imbalance import format as fmt

    info = fmt.parse_curves_content(accumulator.SummaryMetadata(fmt.curves_tag(tag)).plugin_data.content)
    return [
        fmt.decode_curves(tensor_util.make_ndarray(event.tensor_proto)[0], info, 3)
        for event in accumulator.Tensors(fmt.curves_tag(tag))
    ]


def test_every_writer_logs_the_same_curves(tmp_path):
    import tensorflow as tf

    from tb_imbalance import summary as tb_summary

    true, probabilities, logits = _evaluation(3)
    weights = np.random.default_rng(3).uniform(0.5, 2.0, len(true))
    expected = core.curve_summary(probabilities, true, probabilities.argmax(axis=1), weights)
    tb_imbalance.log_report(tmp_path / "log_report", true, logits, step=0, from_logits=True, sample_weight=weights)
    halves = [slice(0, 300), slice(300, None)]
    summed = sum(core.curve_summary(probabilities[h], true[h], probabilities[h].argmax(axis=1), weights[h]) for h in halves)
    cm = core.confusion_matrix(true, probabilities, sample_weight=weights)
    tb_imbalance.log_matrix(tmp_path / "log_matrix", cm, step=0, curves=summed)
    with tb_imbalance.ReportWriter(tmp_path / "writer") as writer:
        writer.write_matrix(0, "confusion_matrix", cm, curves=expected)
    with tf.summary.create_file_writer(str(tmp_path / "summary")).as_default():
        tb_summary.classification_report(
            "confusion_matrix", true, probabilities, step=0, sample_weight=weights, image=False
        )
    for run in ("log_report", "log_matrix", "writer", "summary"):
        (stored,) = _stored_curves(tmp_path / run)
        np.testing.assert_allclose(stored, expected, rtol=1e-6, err_msg=run)


def test_logits_without_from_logits_log_no_curves_and_say_so_once_per_run(tmp_path, caplog):
    true, _, logits = _evaluation(4)
    with caplog.at_level("WARNING", logger="tb_imbalance"):
        for step in range(3):
            tb_imbalance.log_report(tmp_path / "run", true, logits, step=step, name="logit_tag", image=False)
    said = [record.getMessage() for record in caplog.records if "logit_tag" in record.getMessage()]
    assert len(said) == 1 and "from_logits=True" in said[0] and "not probabilities" in said[0]
    with caplog.at_level("WARNING", logger="tb_imbalance"):  # another run with the same tag: its own message
        tb_imbalance.log_report(tmp_path / "other_run", true, logits, step=0, name="logit_tag", image=False)
    assert len([record for record in caplog.records if "logit_tag" in record.getMessage()]) == 2
    accumulator = event_accumulator.EventAccumulator(str(tmp_path / "run"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert "logit_tag_curves" not in accumulator.Tags()["tensors"]
    assert len(accumulator.Tensors("logit_tag")) == 3  # the matrices are all there


def test_probabilities_given_as_logits_are_said_once_per_tag(tmp_path, caplog):
    true, probabilities, logits = _evaluation(5)
    column = probabilities[:, 1]
    binary = (true > 0).astype(int)
    with caplog.at_level("WARNING", logger="tb_imbalance"):
        for step in range(2):
            tb_imbalance.log_report(tmp_path / "a", true, probabilities, step=step, from_logits=True, name="rows",
                                    image=False)
            tb_imbalance.log_report(tmp_path / "b", binary, column, step=step, from_logits=True, name="column",
                                    image=False)
            tb_imbalance.log_report(tmp_path / "c", true, logits, step=step, from_logits=True, name="real_logits",
                                    image=False)
    said = {name: [r.getMessage() for r in caplog.records if f": {name}: from_logits=True" in r.getMessage()]
            for name in ("rows", "column", "real_logits")}
    assert len(said["rows"]) == 1 and "sum to 1" in said["rows"][0] and "from_logits=False" in said["rows"][0]
    assert len(said["column"]) == 1 and "cut at 0" in said["column"][0]
    assert said["real_logits"] == []


def test_a_curve_summary_of_the_wrong_shape_is_refused_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"`curves` must be a curve summary \[C \+ 1, 3, 75\] with C = 2"):
        tb_imbalance.log_matrix(tmp_path, [[3, 1], [0, 2]], step=0, curves=np.zeros((2, 3, 75)))
    assert not list(tmp_path.iterdir())  # nothing written


def test_curves_of_other_bins_or_other_rows_than_the_matrix_are_refused_before_anything_is_written(tmp_path):
    """A step whose bins differ from the tag's first would be unreadable in the dashboard; curves of
    other rows than the matrix would disagree with it."""
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    true, predicted = np.array([0, 1, 1, 0]), probabilities.argmax(axis=1)
    cm = np.bincount(true * 2 + predicted, minlength=4).reshape(2, 2)
    with pytest.raises(ValueError, match=r"received shape \(3, 3, 15\)"):
        tb_imbalance.log_matrix(tmp_path, cm, step=0, curves=core.curve_summary(probabilities, true, predicted, bins=15))
    with pytest.raises(ValueError, match="`curves` counts other rows than the matrix"):
        tb_imbalance.log_matrix(tmp_path, cm * 2, step=0, curves=core.curve_summary(probabilities, true, predicted))
    assert not list(tmp_path.iterdir())
    tb_imbalance.log_matrix(tmp_path, cm, step=0, curves=core.curve_summary(probabilities, true, predicted))
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.slow
@pytest.mark.parametrize("load_fast", [False, True])
def test_a_run_name_the_rust_loader_cannot_read_blobs_under_is_warned_and_explained(tmp_path, load_fast):
    """TensorBoard's Rust data server cannot parse blob keys of names with JSON escapes: the writer
    warns, and the routes say why instead of "no curves were logged"."""
    true, probabilities, _ = _evaluation(3)
    with pytest.warns(UserWarning, match=r"""has '"' in 'q"uote'.*--load_fast=false"""):
        tb_imbalance.log_report(tmp_path / 'q"uote', true, probabilities, step=0, class_names=CLASS_NAMES, image=False,
                                examples=[f"row {i}" for i in range(len(true))])
    tb_imbalance.log_report(tmp_path / "plain", true, probabilities, step=0, class_names=CLASS_NAMES, image=False)
    expected = skm.average_precision_score(true == 1, core.quantise_scores(probabilities)[:, 1])
    with tensorboard_server(tmp_path, load_fast=load_fast) as base:
        def get(route, run, status=200):
            query = urllib.parse.urlencode({"run": run, "tag": "confusion_matrix", "class": 1})
            answered, _, body = http_get(f"{base}{PLUGIN_ROUTE}/{route}?{query}")
            assert answered == status, body
            return json.loads(body)

        assert get("curves", "plain")["average_precision"] == pytest.approx(expected, abs=1e-6)
        report = get("report", 'q"uote')
        np.testing.assert_array_equal(report["confusion_matrix"], skm.confusion_matrix(true, probabilities.argmax(1)))
        if not load_fast:  # the Python loader reads everything
            assert report["has_curves"] is True and report["curves_error"] is None
            assert report["has_examples"] is True and report["examples_error"] is None
            assert get("curves", 'q"uote')["average_precision"] == pytest.approx(expected, abs=1e-6)
            return
        assert report["has_curves"] is False
        assert "--load_fast=false" in report["curves_error"] and "double quote" in report["curves_error"]
        assert report["has_examples"] is False  # listed, but the data server cannot read them
        assert "--load_fast=false" in report["examples_error"] and "double quote" in report["examples_error"]
        message = get("curves", 'q"uote', status=422)["error"]
        assert message.startswith("""reading the curves of run 'q"uote', tag 'confusion_matrix', step 0: TensorBoard's""")
        assert "--load_fast=false" in message
