"""Curves and examples are offered only at steps whose matrix ``report`` shows.

The curves and the examples are tags of their own, beside the matrix tag:
TensorBoard keeps a sample of each tag apart under ``--samples_per_plugin
imbalance=N``, and a re-run with another class set leaves its steps out of
``report``. Without ``step``, ``curves`` and ``examples`` then serve the latest
step ``report`` shows (or say why none), and their ``steps`` are a subset of
``report``'s; a data server that stopped is named as such.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

import tb_imbalance
import tb_imbalance.summary
from support import PLUGIN_ROUTE, client_and_plugin, loader_tensor_size_guidance, plugin_provider, route_error, route_json
from tb_imbalance.plugin import errors
from tb_imbalance.targets import close_directory_writers

TAG = "confusion_matrix"


def _scores(rng, classes, rows=40):
    true = rng.integers(0, classes, rows)
    scores = rng.random((rows, classes))
    scores[np.arange(rows), true] += 1.0
    return true, scores / scores.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("blob_steps")
    rng = np.random.default_rng(3)
    for step in range(3):  # a first run: 4 classes, curves and examples at every step
        true, scores = _scores(rng, 4)
        tb_imbalance.log_report(root / "rerun", true, scores, step, image=False, examples=[f"a{i}" for i in range(40)])
    close_directory_writers()
    writer = tf.summary.create_file_writer(str(root / "rerun"))  # a re-run with 3 classes, which report leaves out
    with writer.as_default():
        for step in (3, 4):
            true, scores = _scores(rng, 3)
            tb_imbalance.summary.classification_report(TAG, true, scores, step=step, image=False,
                                                       examples=[f"b{i}" for i in range(40)])
    writer.close()
    # Curves and examples only at steps report leaves out: TensorBoard reads the event files in name
    # order and keeps the class set of the first, so the 3-class file is named (created) a second earlier.
    writer = tf.summary.create_file_writer(str(root / "left_out"))
    writer.flush()
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    for step in range(3):
        true, scores = _scores(rng, 4)
        tb_imbalance.log_report(root / "left_out", true, scores, step, image=False, examples=[f"d{i}" for i in range(40)])
    close_directory_writers()
    with writer.as_default():
        for step in (3, 4):
            true, scores = _scores(rng, 3)
            tb_imbalance.summary.classification_report(TAG, true, scores.argmax(axis=1), step=step, image=False, num_classes=3)
    writer.close()
    for step in range(30):  # scores (curves, examples) every third step, class ids between
        true, scores = _scores(rng, 3)
        predictions = scores if step % 3 == 0 else scores.argmax(axis=1)
        tb_imbalance.log_report(root / "sampled", true, predictions, step, image=False, num_classes=3,
                                examples=[f"c{i}" for i in range(40)] if step % 3 == 0 else None)
    close_directory_writers()
    return root


def test_a_rerun_left_out_offers_curves_and_examples_of_the_steps_report_shows(logdir):
    client = client_and_plugin(plugin_provider(logdir)[0])[0]
    report = route_json(client, "report", run="rerun", tag=TAG)
    shown, left_out = report["steps"], [entry["step"] for entry in report["skipped_steps"]]
    assert sorted(shown + left_out) == [0, 1, 2, 3, 4] and left_out  # which run TensorBoard keeps is its choice
    assert report["has_curves"] and report["has_examples"]
    curves = route_json(client, "curves", run="rerun", tag=TAG, **{"class": 0})
    assert (curves["step"], curves["steps"]) == (shown[-1], shown)
    examples = route_json(client, "examples", run="rerun", tag=TAG, true=0, pred=0)
    assert (examples["step"], examples["steps"]) == (shown[-1], shown)
    for route, params in (("curves", {"class": 0}), ("examples", {"true": 0, "pred": 0})):
        assert "left out" in route_error(client, route, 422, run="rerun", tag=TAG, step=left_out[-1], **params)


def test_curves_and_examples_only_at_left_out_steps_are_said_to_be_left_out(logdir):
    client = client_and_plugin(plugin_provider(logdir)[0])[0]
    assert route_json(client, "report", run="left_out", tag=TAG)["steps"] == [3, 4]
    for route, params in (("curves", {"class": 0}), ("examples", {"true": 0, "pred": 0})):
        message = route_error(client, route, 404, run="left_out", tag=TAG, **params)
        assert "were logged at steps that are left out (0, 1, 2; step 2: its confusion matrix has 4 classes" in message
        assert "samples_per_plugin" not in message


def test_under_samples_per_plugin_curves_and_examples_follow_the_matrix_sample(logdir):
    guidance = loader_tensor_size_guidance({"imbalance": 5})
    client = client_and_plugin(plugin_provider(logdir, guidance)[0])[0]
    report = route_json(client, "report", run="sampled", tag=TAG)
    shown = set(report["steps"])
    assert len(shown) == 5
    for route, params in (("curves", {"class": 1}), ("examples", {"true": 1, "pred": 1})):
        response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string={"run": "sampled", "tag": TAG, **params})
        body = response.get_json()
        if response.status_code == 200:
            assert body["step"] in shown and set(body["steps"]) <= shown and body["step"] == max(body["steps"])
        else:
            assert response.status_code == 404, body
            assert "at none of the steps whose matrix is shown" in body["error"] and "imbalance=0" in body["error"]


def test_a_stopped_data_server_is_named_without_grpcs_internals():
    class Unavailable(Exception):
        def code(self):
            return type("Code", (), {"name": "UNAVAILABLE"})()

        def details(self):
            return "failed to connect to all addresses"

        def __str__(self):
            return "<_InactiveRpcError ... debug_error_string = 'UNAVAILABLE: ipv4:127.0.0.1:1'>"

    with pytest.raises(errors.DataUnavailableError) as raised:
        with errors.provider_errors("listing confusion matrices"):
            raise Unavailable()
    said = str(raised.value)
    assert "data server answered UNAVAILABLE: failed to connect to all addresses" in said
    assert "restart tensorboard" in said and "debug_error_string" not in said
    with pytest.raises(errors.DataUnavailableError, match="reading failed: disk gone"):
        with errors.provider_errors("reading"):
            raise OSError("disk gone")
