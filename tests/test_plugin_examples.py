"""The examples behind a cell: the ``examples`` and ``example_image`` routes.

Through TensorBoard's WSGI app (``EventMultiplexer`` + ``MultiplexerDataProvider``,
as ``--load_fast=false`` reads): the JSON shape, that every example served is
the stored index's own (read back independently through the data provider),
thumbnails as PNG, every error status with its message, hostile strings; and
through the real ``tensorboard`` command in both loader modes: every one of
15 steps with examples is kept, and thumbnails are served.
"""

from __future__ import annotations

import io
import json
import pathlib
import urllib.parse
from typing import Any

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.context import RequestContext
from tensorboard.data import provider as tb_provider
from tensorboard.plugins import base_plugin
from tensorboard.util import tensor_util
from werkzeug import test as werkzeug_test

import tb_imbalance
from support import HOSTILE_CLASS_NAME, PLUGIN_ROUTE, get_json, http_get, tensorboard_server, wait_for_json
from tb_imbalance import format as fmt
from tb_imbalance.plugin import ImbalancePlugin
from tb_imbalance.plugin import examples as plugin_examples

TAG = "confusion_matrix"
CLASS_NAMES = ["zero", "one", HOSTILE_CLASS_NAME]
HOSTILE_RUN = 'mail<img src=x onerror=alert(1)>&"'
HOSTILE_TAG = "cm</script><script>alert(1)</script>"
HOSTILE_ID = "<script>alert('id')</script>"
HOSTILE_TEXT = "</textarea><img src=x onerror=alert(2)> \u2028 & \"quoted\""
UNREADABLE_RUN = "unreadable"
EXAMPLES_KEYS = {
    "run", "tag", "step", "steps", "true", "pred", "true_name", "pred_name", "count", "rows",
    "examples_per_cell", "scores", "cut", "examples",
}
NO_EXAMPLES_ADVICE = "pass `examples=`"


def _scores(rng: np.random.Generator, labels: np.ndarray, num_classes: int) -> np.ndarray:
    logits = rng.normal(size=(len(labels), num_classes))
    logits[np.arange(len(labels)), labels] += 1.5
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _log(run_dir: pathlib.Path, step: int, rng: np.random.Generator, *, name: str = TAG, **options) -> None:
    labels = rng.integers(0, len(CLASS_NAMES), 60)
    tb_imbalance.log_report(
        str(run_dir), labels, _scores(rng, labels, len(CLASS_NAMES)), step, name=name,
        class_names=CLASS_NAMES, image=False, **options,
    )


def _write_raw_examples(run_dir: pathlib.Path, blobs: list[bytes], *, content: dict | None = None) -> None:
    """One step (0) with a valid matrix and an examples blob sequence of our choosing."""
    from tb_imbalance.event_file import EventFile
    from tb_imbalance.events import matrix_value

    metadata = fmt.create_examples_metadata(TAG)
    if content is not None:
        metadata.plugin_data.content = json.dumps(content).encode("utf-8")
    value = summary_pb2.Summary.Value(
        tag=fmt.examples_tag(TAG), metadata=metadata,
        tensor=tensor_util.make_tensor_proto(np.array(blobs, dtype=object)),
    )
    with EventFile(run_dir) as events:
        events.write(0, [matrix_value(TAG, np.array([[5, 1, 0], [2, 3, 1], [0, 1, 4]]), CLASS_NAMES), value])


def _index_blob(**changes: Any) -> bytes:
    index = {
        "version": 4, "num_classes": 3, "rows": 17, "examples_per_cell": 8, "scores": "probability",
        "max_bytes": 2_000_000, "cut": None,
        "cells": [{"true": 0, "pred": 1, "count": 1, "examples": [
            {"id": 1, "row": 1, "top": [[1, 0.6], [0, 0.4]], "kind": "image", "width": 8, "height": 8,
             "shape": [8, 8], "image": 1}]}],
    }
    index.update(changes)
    return json.dumps(index).encode("utf-8")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_examples_logdir(root: pathlib.Path) -> None:
    """Runs with image, text and value examples, without examples, and broken ones."""
    rng = np.random.default_rng(3)
    for step in range(3):
        _log(root / "digits", step, rng, examples=rng.random((60, 8, 8)))
    _log(root / "digits", 3, rng)  # a later step without examples
    for step in range(2):
        texts = [f"{HOSTILE_TEXT} #{row} " + "word " * row for row in range(60)]
        ids = [f"{HOSTILE_ID}-{row}" for row in range(60)]
        _log(root / HOSTILE_RUN, step, rng, name=HOSTILE_TAG, examples=texts, example_ids=ids)
    values = rng.normal(size=(60, 64))
    values[:, 1] = np.nan
    _log(root / "vectors", 0, rng, examples=values)
    _log(root / "plain", 0, rng)
    _log(root / UNREADABLE_RUN, 0, rng, examples=rng.random((60, 8, 8)))
    tb_imbalance.targets.close_directory_writers()
    _write_raw_examples(root / "future_content", [_index_blob(), _png()],
                        content={"version": fmt.FORMAT_VERSION + 1, "kind": "examples", "matrix_tag": TAG})
    _write_raw_examples(root / "one_cell", [_index_blob(), _png()])
    _write_raw_examples(root / "future_index", [_index_blob(version=fmt.FORMAT_VERSION + 1), _png()])
    _write_raw_examples(root / "not_json", [b"{not json", _png()])
    _write_raw_examples(root / "bad_top", [_index_blob(cells=[{"true": 0, "pred": 1, "count": 1, "examples": [
        {"id": 1, "row": 1, "top": [[7, 0.6]], "kind": "text", "text": "x", "length": 1}]}]), _png()])
    _write_raw_examples(root / "nan_score", [_index_blob().replace(b"0.6", b"NaN"), _png()])
    _write_raw_examples(root / "missing_thumbnail", [_index_blob()])
    _write_raw_examples(root / "not_png", [_index_blob(), b"GIF89a not a png"])
    _write_raw_examples(root / "other_classes", [_index_blob(num_classes=2, cells=[]), _png()])


class _ProviderWithUnreadableRun:
    """A real data provider whose blob reads of one run fail."""

    def __init__(self, provider):
        self._provider = provider

    def __getattr__(self, name):
        return getattr(self._provider, name)

    def read_blob_sequences(self, ctx=None, *, run_tag_filter=None, **kwargs):
        if run_tag_filter is not None and UNREADABLE_RUN in (run_tag_filter.runs or ()):
            raise OSError("disk on fire")
        return self._provider.read_blob_sequences(ctx, run_tag_filter=run_tag_filter, **kwargs)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("examples")
    write_examples_logdir(root)
    return root


@pytest.fixture(scope="module")
def provider(logdir):
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    return tb_data_provider.MultiplexerDataProvider(multiplexer, str(logdir))


@pytest.fixture(scope="module")
def client(provider) -> werkzeug_test.Client:
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=_ProviderWithUnreadableRun(provider)))
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin]))


def _get(client, route: str, **params) -> Any:
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.get_data())


def _error(client, route: str, status: int, **params) -> str:
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.get_data())
    assert set(body) == {"error"}
    return body["error"]


def _stored_index(provider, run: str, tag: str, step: int) -> tuple[dict, tuple]:
    """The index and blob references of one step, read without the plugin."""
    ctx = RequestContext()
    result = provider.read_blob_sequences(
        ctx, experiment_id="", plugin_name="imbalance", downsample=10**9,
        run_tag_filter=tb_provider.RunTagFilter(runs=[run], tags=[fmt.examples_tag(tag)]),
    )
    (datum,) = [d for d in result[run][fmt.examples_tag(tag)] if d.step == step]
    return fmt.decode_examples_index(provider.read_blob(ctx, blob_key=datum.values[0].blob_key)), datum.values


def _assert_served_as_stored(payload: dict, stored: dict, true: int, pred: int) -> None:
    cell = next(c for c in stored["cells"] if (c["true"], c["pred"]) == (true, pred))
    assert payload["count"] == cell["count"]
    assert len(payload["examples"]) == len(cell["examples"])
    for served, example in zip(payload["examples"], cell["examples"]):
        assert set(served) == set(example)
        assert {k: v for k, v in served.items() if k not in ("top", "image")} == {
            k: v for k, v in example.items() if k not in ("top", "image")
        }
        assert served["top"] == [
            {"class": klass, "name": CLASS_NAMES[klass], "score": score} for klass, score in example["top"]
        ]
        if example["kind"] == "image":
            url = urllib.parse.urlsplit(served["image"])
            assert url.path == "example_image"
            query = dict(urllib.parse.parse_qsl(url.query))
            assert query == {"run": payload["run"], "tag": payload["tag"], "step": str(payload["step"]),
                             "index": str(example["image"])}


# --------------------------------------------------------------------------
# The examples route
# --------------------------------------------------------------------------


def test_image_examples_are_the_stored_ones_with_thumbnail_urls(client, provider):
    stored, blobs = _stored_index(provider, "digits", TAG, 2)
    for cell in stored["cells"]:
        true, pred = cell["true"], cell["pred"]
        payload = _get(client, "examples", run="digits", tag=TAG, true=true, pred=pred)
        assert set(payload) == EXAMPLES_KEYS
        assert (payload["run"], payload["tag"], payload["step"], payload["steps"]) == ("digits", TAG, 2, [0, 1, 2])
        assert (payload["true"], payload["pred"]) == (true, pred)
        assert (payload["true_name"], payload["pred_name"]) == (CLASS_NAMES[true], CLASS_NAMES[pred])
        for key in ("rows", "examples_per_cell", "scores", "cut"):
            assert payload[key] == stored[key]
        assert payload["rows"] == 60 and payload["scores"] == "probability"
        _assert_served_as_stored(payload, stored, true, pred)
        assert all(example["kind"] == "image" for example in payload["examples"])
    assert sum(len(cell["examples"]) for cell in stored["cells"]) == len(blobs) - 1


def test_an_earlier_step_is_served_when_asked(client, provider):
    stored, _ = _stored_index(provider, "digits", TAG, 0)
    cell = stored["cells"][0]
    payload = _get(client, "examples", run="digits", tag=TAG, step=0, true=cell["true"], pred=cell["pred"])
    assert payload["step"] == 0
    _assert_served_as_stored(payload, stored, cell["true"], cell["pred"])
    assert all(f"step=0" in example["image"] for example in payload["examples"])


def test_thumbnails_are_png_images(client, provider):
    from PIL import Image

    payload = _get(client, "examples", run="digits", tag=TAG, true=0, pred=0)
    assert payload["examples"]
    for example in payload["examples"][:3]:
        response = client.get(f"{PLUGIN_ROUTE}/{example['image']}")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        picture = Image.open(io.BytesIO(response.get_data()))
        assert picture.format == "PNG"
        assert picture.size == (example["width"], example["height"])


def test_text_examples_pass_hostile_strings_through_as_data(client, provider):
    stored, _ = _stored_index(provider, HOSTILE_RUN, HOSTILE_TAG, 1)
    cell = max(stored["cells"], key=lambda c: len(c["examples"]))
    true, pred = cell["true"], cell["pred"]
    response = client.get(f"{PLUGIN_ROUTE}/examples", query_string={"run": HOSTILE_RUN, "tag": HOSTILE_TAG, "true": true, "pred": pred})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    payload = json.loads(response.get_data())
    assert payload["run"] == HOSTILE_RUN and payload["tag"] == HOSTILE_TAG
    assert payload["true_name"] == CLASS_NAMES[true]
    _assert_served_as_stored(payload, stored, true, pred)
    for example in payload["examples"]:
        assert example["kind"] == "text"
        assert example["id"].startswith(HOSTILE_ID)
        assert example["text"].startswith(HOSTILE_TEXT)
        assert example["length"] >= len(example["text"])
    if pred == 2 or true == 2:
        assert HOSTILE_CLASS_NAME in {payload["true_name"], payload["pred_name"]}


def test_hostile_run_and_tag_are_url_encoded_in_thumbnail_urls(client):
    url = plugin_examples._image_url(HOSTILE_RUN, HOSTILE_TAG, 3, 1)
    assert url.startswith("example_image?") and "<" not in url and '"' not in url and " " not in url
    assert dict(urllib.parse.parse_qsl(url.split("?", 1)[1])) == {
        "run": HOSTILE_RUN, "tag": HOSTILE_TAG, "step": "3", "index": "1"}


def test_value_examples_keep_their_fields_and_nan_as_text(client, provider):
    stored, _ = _stored_index(provider, "vectors", TAG, 0)
    cell = stored["cells"][0]
    payload = _get(client, "examples", run="vectors", tag=TAG, true=cell["true"], pred=cell["pred"])
    _assert_served_as_stored(payload, stored, cell["true"], cell["pred"])
    example = payload["examples"][0]
    assert example["kind"] == "values" and example["shape"] == [64]
    assert example["values"][1] == "nan" and example["numbers_as_text"] == [1]  # the number NaN, not the text "nan"


def test_a_cell_without_rows_has_count_zero_and_no_examples(client):
    payload = _get(client, "examples", run="one_cell", tag=TAG, true=2, pred=2)
    assert (payload["count"], payload["examples"]) == (0, [])
    assert (payload["true_name"], payload["pred_name"]) == (HOSTILE_CLASS_NAME, HOSTILE_CLASS_NAME)
    payload = _get(client, "examples", run="one_cell", tag=TAG, true=0, pred=1)
    assert payload["count"] == 1 and payload["rows"] == 17
    assert payload["examples"] == [{
        "id": 1, "row": 1, "top": [{"class": 1, "name": "one", "score": 0.6}, {"class": 0, "name": "zero", "score": 0.4}],
        "kind": "image", "width": 8, "height": 8, "shape": [8, 8],
        "image": "example_image?run=one_cell&tag=confusion_matrix&step=0&index=1",
    }]


def test_a_cut_index_is_reported(tmp_path):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 400)
    tb_imbalance.log_report(str(tmp_path / "big"), labels, _scores(rng, labels, 3), 0, class_names=CLASS_NAMES,
                            image=False, examples=rng.random((400, 64, 64)), examples_max_bytes=10_000)
    tb_imbalance.targets.close_directory_writers()
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    plugin = ImbalancePlugin(base_plugin.TBContext(
        data_provider=tb_data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path))))
    client = werkzeug_test.Client(application.TensorBoardWSGI([plugin]))
    payload = _get(client, "examples", run="big", tag=TAG, true=0, pred=0)
    assert payload["cut"] is not None and payload["cut"]["kept"] < payload["cut"]["chosen"]
    assert payload["count"] > len(payload["examples"])


# --------------------------------------------------------------------------
# runs and report
# --------------------------------------------------------------------------


def test_runs_lists_only_matrix_tags(client):
    runs = _get(client, "runs")
    assert runs["digits"] == [TAG]
    assert runs[HOSTILE_RUN] == [HOSTILE_TAG]
    assert all(not tag.endswith(fmt.EXAMPLES_SUFFIX) for tags in runs.values() for tag in tags)


def test_report_says_whether_the_step_has_examples(client):
    assert _get(client, "report", run="digits", tag=TAG)["has_examples"] is False  # step 3: none
    for step in (0, 2):
        assert _get(client, "report", run="digits", tag=TAG, step=step)["has_examples"] is True
    assert _get(client, "report", run="plain", tag=TAG)["has_examples"] is False
    assert _get(client, "report", run=HOSTILE_RUN, tag=HOSTILE_TAG)["has_examples"] is True
    assert _get(client, "report", run=UNREADABLE_RUN, tag=TAG)["has_examples"] is False


def test_the_index_is_cached_per_step(client, provider, monkeypatch):
    calls = []
    original = type(provider).read_blob

    def counting(self, ctx=None, *, blob_key):
        calls.append(blob_key)
        return original(self, ctx, blob_key=blob_key)

    monkeypatch.setattr(type(provider), "read_blob", counting)
    _get(client, "examples", run="digits", tag=TAG, step=1, true=0, pred=0)
    first = len(calls)
    for true in range(3):
        _get(client, "examples", run="digits", tag=TAG, step=1, true=true, pred=1)
    assert len(calls) == first <= 1


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag": TAG, "true": 0, "pred": 0}, "missing query parameter `run`"),
        ({"run": "digits", "true": 0, "pred": 0}, "missing query parameter `tag`"),
        ({"run": "digits", "tag": TAG, "pred": 0}, "missing query parameter `true`"),
        ({"run": "digits", "tag": TAG, "true": 0}, "missing query parameter `pred`"),
        ({"run": "digits", "tag": TAG, "true": "spam", "pred": 0}, "query parameter `true` must be an integer, received 'spam'"),
        ({"run": "digits", "tag": TAG, "true": 0, "pred": "1.5"}, "query parameter `pred` must be an integer, received '1.5'"),
        ({"run": "digits", "tag": TAG, "true": 0, "pred": 0, "step": "last"}, "query parameter `step` must be an integer, received 'last'"),
        ({"run": "digits", "tag": TAG, "true": 3, "pred": 0}, "query parameter `true` must be a class index in [0, 2]"),
        ({"run": "digits", "tag": TAG, "true": 0, "pred": -1}, "query parameter `pred` must be a class index in [0, 2]"),
    ],
)
def test_bad_requests_answer_400(client, params, message):
    assert _error(client, "examples", 400, **params).startswith(message)


def test_unknown_run_and_tag_answer_404(client):
    assert _error(client, "examples", 404, run="nope", tag=TAG, true=0, pred=0) == (
        "no run 'nope' with confusion matrices; query parameter `run` must be one of the runs the `runs` route lists: "
        "'bad_top', 'digits', 'future_content', 'future_index', 'mail<img src=x onerror=alert(1)>&\"', … (14 in all)")
    assert _error(client, "examples", 404, run="digits", tag="nope", true=0, pred=0) == (
        f"run 'digits' has no confusion-matrix tag 'nope'; query parameter `tag` must be one of its tags: {TAG!r}")
    # The examples tag itself is not a matrix tag.
    assert _error(client, "examples", 404, run="digits", tag=fmt.examples_tag(TAG), true=0, pred=0).startswith(
        "run 'digits' has no confusion-matrix tag")


def test_a_tag_without_examples_says_how_to_log_them(client):
    message = _error(client, "examples", 404, run="plain", tag=TAG, true=0, pred=0)
    assert "this run/tag logged no examples" in message
    assert NO_EXAMPLES_ADVICE in message and "ClassificationReportCallback" in message and "log_report" in message


def test_a_step_without_examples_lists_those_with(client):
    message = _error(client, "examples", 404, run="digits", tag=TAG, step=3, true=0, pred=0)
    assert message == ("run 'digits', tag 'confusion_matrix': step 3 holds no examples; query parameter `step` must be "
                       "a step with examples: 0, 1, 2 (or left out for the latest)")
    assert _error(client, "examples", 404, run="digits", tag=TAG, step=99, true=0, pred=0).endswith(
        "a step with examples: 0, 1, 2 (or left out for the latest)")


@pytest.mark.parametrize(
    ("run", "fragment"),
    [
        ("future_content", "upgrade with `pip install --upgrade tb_imbalance`"),
        ("future_index", "upgrade with `pip install --upgrade tb_imbalance`"),
        ("not_json", "examples index is not tb_imbalance JSON"),
        ("bad_top", "corrupt examples index: example 1 has malformed scores `top`"),
        ("nan_score", "examples index is not tb_imbalance JSON (NaN is not JSON)"),
        ("missing_thumbnail", "refers to thumbnail 1, but the step holds 0"),
        ("other_classes", "the examples were chosen for 2 classes, but the tag has 3"),
    ],
)
def test_unreadable_examples_answer_422(client, run, fragment):
    assert fragment in _error(client, "examples", 422, run=run, tag=TAG, true=0, pred=1)


def test_a_newer_matrix_format_answers_422(client, logdir):
    from support import write_newer_format_run

    # (the module's logdir has no such run: a client of its own)
    root = logdir.parent / "newer_only"
    write_newer_format_run(root, "future")
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    multiplexer.AddRunsFromDirectory(str(root))
    multiplexer.Reload()
    plugin = ImbalancePlugin(base_plugin.TBContext(
        data_provider=tb_data_provider.MultiplexerDataProvider(multiplexer, str(root))))
    other = werkzeug_test.Client(application.TensorBoardWSGI([plugin]))
    assert "upgrade" in _error(other, "examples", 422, run="future", tag=TAG, true=0, pred=0)


def test_provider_failure_answers_503(client):
    message = _error(client, "examples", 503, run=UNREADABLE_RUN, tag=TAG, true=0, pred=0)
    assert "disk on fire" in message
    assert _error(client, "example_image", 503, run=UNREADABLE_RUN, tag=TAG, index=1)


# --------------------------------------------------------------------------
# The example_image route
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"tag": TAG, "index": 1}, 400, "missing query parameter `run`"),
        ({"run": "digits", "index": 1}, 400, "missing query parameter `tag`"),
        ({"run": "digits", "tag": TAG}, 400, "missing query parameter `index`"),
        ({"run": "digits", "tag": TAG, "index": "first"}, 400, "query parameter `index` must be an integer"),
        ({"run": "digits", "tag": TAG, "index": 1, "step": "x"}, 400, "query parameter `step` must be an integer"),
        ({"run": "nope", "tag": TAG, "index": 1}, 404, "no run 'nope' with confusion matrices"),
        ({"run": "digits", "tag": "nope", "index": 1}, 404, "run 'digits' has no confusion-matrix tag 'nope'"),
        ({"run": "plain", "tag": TAG, "index": 1}, 404, "run 'plain', tag 'confusion_matrix': this run/tag logged no examples"),
        ({"run": "digits", "tag": TAG, "index": 1, "step": 3}, 404, "run 'digits', tag 'confusion_matrix': step 3 holds no examples"),
        # 0 is the step's JSON index: no index below 1 is well-formed, whatever the run
        ({"run": "digits", "tag": TAG, "index": 0, "step": 2}, 400, "query parameter `index` must be a thumbnail's position (1 or more), as in the `image` URL of an example from the `examples` route, received 0"),
        ({"run": "nope", "tag": TAG, "index": -1}, 400, "query parameter `index` must be a thumbnail's position (1 or more), as in the `image` URL of an example from the `examples` route, received -1"),
        ({"run": "digits", "tag": TAG, "index": 10_000, "step": 2}, 404, "run 'digits', tag 'confusion_matrix', step 2: query parameter `index` must be a thumbnail's position, 1 to "),
        ({"run": "missing_thumbnail", "tag": TAG, "index": 1}, 404, "step 0: query parameter `index` must be a thumbnail's position (this step holds none), as in the `image` URL of an example from the `examples` route, received 1"),
        ({"run": "not_png", "tag": TAG, "index": 1}, 422, "blob 1 is not a PNG thumbnail"),
        ({"run": "not_png", "tag": TAG, "index": 2}, 404, "step 0: query parameter `index` must be a thumbnail's position, 1 (this step holds one), as in the `image` URL of an example from the `examples` route, received 2"),
        ({"run": "future_content", "tag": TAG, "index": 1}, 422, "upgrade"),
    ],
)
def test_thumbnail_errors(client, params, status, message):
    assert message in _error(client, "example_image", status, **params)


def test_thumbnail_defaults_to_the_latest_step_with_examples(client):
    response = client.get(f"{PLUGIN_ROUTE}/example_image", query_string={"run": "digits", "tag": TAG, "index": 1})
    assert response.status_code == 200 and response.get_data().startswith(plugin_examples.PNG_SIGNATURE)
    explicit = client.get(f"{PLUGIN_ROUTE}/example_image", query_string={"run": "digits", "tag": TAG, "index": 1, "step": 2})
    assert explicit.get_data() == response.get_data()


def test_routes_are_listed():
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=None))
    assert {"/examples", "/example_image"} <= set(plugin.get_plugin_apps())


# --------------------------------------------------------------------------
# The real tensorboard, both loaders
# --------------------------------------------------------------------------

SERVED_STEPS = 15


@pytest.fixture(scope="module")
def served_logdir(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("served_examples")
    rng = np.random.default_rng(8)
    for step in range(SERVED_STEPS):
        _log(root / "epochs", step, rng, examples=rng.random((60, 8, 8)))
    _log(root / "plain", 0, rng)
    tb_imbalance.targets.close_directory_writers()
    return root


def _url(base: str, route: str, **params: Any) -> str:
    return f"{base}{PLUGIN_ROUTE}/{route}?{urllib.parse.urlencode(params)}"


@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_real_tensorboard_serves_every_step_and_thumbnails(served_logdir, load_fast):
    with tensorboard_server(served_logdir, load_fast=load_fast) as base:
        payload = wait_for_json(
            _url(base, "examples", run="epochs", tag=TAG, true=1, pred=0),
            lambda p: len(p["steps"]) == SERVED_STEPS, timeout=90,
        )
        assert payload["steps"] == list(range(SERVED_STEPS))
        assert payload["step"] == SERVED_STEPS - 1
        assert set(payload) == EXAMPLES_KEYS and payload["examples"]
        runs = get_json(_url(base, "runs"))
        assert runs == {"epochs": [TAG], "plain": [TAG]}
        report = get_json(_url(base, "report", run="epochs", tag=TAG, step=4))
        assert report["has_examples"] is True and len(report["steps"]) == SERVED_STEPS
        assert get_json(_url(base, "report", run="plain", tag=TAG))["has_examples"] is False
        for step in (0, 7):
            earlier = get_json(_url(base, "examples", run="epochs", tag=TAG, step=step, true=0, pred=0))
            assert earlier["step"] == step
            example = earlier["examples"][0]
            status, headers, body = http_get(f"{base}{PLUGIN_ROUTE}/{example['image']}")
            assert status == 200, body[:300]
            assert headers["Content-Type"] == "image/png"
            assert body.startswith(plugin_examples.PNG_SIGNATURE)
        for params, status in (
            ({"run": "plain", "tag": TAG, "true": 0, "pred": 0}, 404),
            ({"run": "epochs", "tag": TAG, "true": 0, "pred": 9}, 400),
            ({"run": "epochs", "tag": TAG, "true": 0, "pred": 0, "step": 99}, 404),
        ):
            got, headers, body = http_get(_url(base, "examples", **params))
            assert got == status and headers["Content-Type"] == "application/json"
            assert set(json.loads(body)) == {"error"}
        for index, status in ((0, 400), (10_000, 404)):
            got, _, body = http_get(_url(base, "example_image", run="epochs", tag=TAG, step=0, index=index))
            assert got == status and "query parameter `index`" in json.loads(body)["error"]
