"""A changed class set within one tag never hides the tag's other steps.

TensorBoard keeps only the first summary metadata of a tag, so the plugin
learns a tag's class names from its first step. Steps logged later with
another class set (a re-run into the same directory, a second writer), or
with counts that are not valid, must be left out and listed in
``skipped_steps`` with the reason, while every other step is served with the
numbers that were written; asking for a left-out step answers 422, never 500.

The mismatched data is written the way users write it (``log_matrix`` into a
run directory, closing the writers in between as a second process would;
``tf.summary`` writers) and, independent of any check the writers may make,
through the low-level event-file path, which checks nothing. Everything is
checked through TensorBoard's WSGI app and through the real ``tensorboard``
command in both loader modes.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
import urllib.parse
from typing import Any, Callable

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_ingester
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.util import tensor_util
from werkzeug import test as werkzeug_test

from support import PLUGIN_ROUTE, http_get, tensorboard_server
from tb_imbalance import core
from tb_imbalance import format as fmt
from tb_imbalance.plugin import ImbalancePlugin
from tb_imbalance.plugin import errors as plugin_errors
from tb_imbalance.plugin import payloads as plugin_payloads
from tb_imbalance.plugin import reader as plugin_reader
from tb_imbalance.plugin import series as plugin_series

TAG = "confusion_matrix"
NAMES3 = ["cat", "dog", "bird"]
NAMES4 = ["cat", "dog", "bird", "fish"]
WIDE = 120  # above fmt.DENSE_MAX_CLASSES: stored as coo

Getter = Callable[..., tuple[int, Any]]


@dataclasses.dataclass
class Expected:
    """What one run must look like: the steps served and the ones left out."""

    good: dict[int, np.ndarray]
    skipped: list[int]
    reason_has: tuple[str, ...] = ()
    #: What the Rust data server (``--load_fast=true``) holds instead, where it
    #: differs: it drops a step's earlier records when the step is logged again.
    rust: "Expected | None" = None
    all_skipped: bool = False


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _matrix(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.integers(0, 6, size=(size, size)) + np.diag(rng.integers(20, 60, size=size))


def _next_second() -> None:
    """Wait for the clock's next second: event-file names begin with it, so
    a file opened afterwards sorts (and is read) after the earlier ones, as a
    later process's file would."""
    started = int(time.time())
    while int(time.time()) == started:
        time.sleep(0.02)


def _write_events(run_dir: pathlib.Path, steps_and_values) -> None:
    from tb_imbalance.event_file import EventFile

    with EventFile(run_dir) as events:
        for step, values in steps_and_values:
            events.write(step, values)


def _report(cm: np.ndarray, names: list[str]):
    from tb_imbalance.events import report_values

    return report_values(TAG, cm, names, image=None)


def _raw_value(tensor: np.ndarray, names: list[str]) -> summary_pb2.Summary.Value:
    """A matrix value with no check at all (negative counts, wrong shape)."""
    return summary_pb2.Summary.Value(
        tag=TAG,
        metadata=fmt.create_summary_metadata(names),
        tensor=tensor_util.make_tensor_proto(fmt.encode_matrix(tensor)),
    )


def _changed_class_set(root: pathlib.Path, rng, run: str, first, second) -> Expected:
    """``first`` = (names, steps), then a later file with ``second``."""
    names, steps = first
    good = {step: _matrix(rng, len(names)) for step in steps}
    _write_events(root / run, [(step, _report(cm, names)) for step, cm in good.items()])
    _next_second()
    other_names, other_steps = second
    _write_events(root / run, [(step, _report(_matrix(rng, len(other_names)), other_names)) for step in other_steps])
    return Expected(good, list(other_steps), (f"has {len(other_names)} classes", f"this tag has {len(names)}"))


def _user_writes_with_log_matrix(root: pathlib.Path, rng) -> Expected:
    import tb_imbalance
    from tb_imbalance import targets

    run_dir = root / "log_matrix"
    good = {step: _matrix(rng, 3) for step in (0, 1, 2)}
    for step, cm in good.items():
        tb_imbalance.log_matrix(str(run_dir), cm, step, class_names=NAMES3)
    targets.close_directory_writers()  # as if the process ended
    _next_second()
    skipped = [3, 4]
    try:
        for step in skipped:
            tb_imbalance.log_matrix(str(run_dir), _matrix(rng, 4), step, class_names=NAMES4)
    except (ValueError, TypeError):
        # The writer refuses a different class set up front: nothing more
        # was written, and the earlier steps must still be served.
        skipped = []
    finally:
        targets.close_directory_writers()
    return Expected(good, skipped, ("has 4 classes", "this tag has 3"))


def _user_writes_with_tf_summary(root: pathlib.Path, rng) -> Expected:
    import tensorflow as tf

    from tb_imbalance import summary as tbs

    def labels_and_predictions(size: int):
        labels = rng.integers(0, size, size=200)
        predictions = np.where(rng.random(200) < 0.7, labels, rng.integers(0, size, size=200))
        return labels, predictions

    run_dir = str(root / "tf_summary")
    good = {}
    writer = tf.summary.create_file_writer(run_dir)
    with writer.as_default():
        for step in (0, 1):
            labels, predictions = labels_and_predictions(3)
            tbs.confusion_matrix(TAG, labels, predictions, step=step, num_classes=3, class_names=NAMES3)
            good[step] = core.confusion_matrix(labels, predictions, num_classes=3)
    writer.close()
    _next_second()
    skipped = [2, 3]
    writer = tf.summary.create_file_writer(run_dir)
    try:
        with writer.as_default():
            for step in skipped:
                labels, predictions = labels_and_predictions(4)
                tbs.confusion_matrix(TAG, labels, predictions, step=step, num_classes=4, class_names=NAMES4)
    except (ValueError, TypeError):
        skipped = []
    finally:
        writer.close()
    return Expected(good, skipped, ("has 4 classes", "this tag has 3"))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> tuple[pathlib.Path, dict[str, Expected]]:
    root = tmp_path_factory.mktemp("skipped_steps")
    rng = np.random.default_rng(11)
    expected: dict[str, Expected] = {}

    # A second process writes 4 classes into a 3-class tag (and the reverse).
    expected["more_classes"] = _changed_class_set(root, rng, "more_classes", (NAMES3, range(4)), (NAMES4, (4, 5)))
    expected["fewer_classes"] = _changed_class_set(root, rng, "fewer_classes", (NAMES4, (0, 1)), (NAMES3, (2, 3)))

    # A 3-class dense matrix in a coo (120-class) tag is left out, not misread
    # as three coo cells.
    wide_names = [f"c{k}" for k in range(WIDE)]
    expected["wide_then_small"] = _changed_class_set(
        root, rng, "wide_then_small", (wide_names, (0, 1)), (NAMES3, (2,))
    )
    expected["wide_then_small"].reason_has = ("does not fit", "this tag has 120")

    # A re-run reusing the step numbers with another class set. The Python
    # loader keeps both records of each step; the Rust data server keeps only
    # the later ones, none of which fits the tag's (first) class names.
    reused = _changed_class_set(root, rng, "reused_steps", (NAMES3, (0, 1, 2)), (NAMES4, (0, 1, 2)))
    reused.rust = Expected({}, [0, 1, 2], reused.reason_has, all_skipped=True)
    expected["reused_steps"] = reused

    # The same class set logged twice for steps 1–2: the later record is shown
    # by both loaders; the Python loader also lists the earlier one.
    first = {step: _matrix(rng, 3) for step in (0, 1, 2)}
    _write_events(root / "logged_twice", [(step, _report(cm, NAMES3)) for step, cm in first.items()])
    _next_second()
    later = {step: _matrix(rng, 3) for step in (1, 2)}
    _write_events(root / "logged_twice", [(step, _report(cm, NAMES3)) for step, cm in later.items()])
    expected["logged_twice"] = Expected(
        {0: first[0], **later}, [1, 2], ("logged more than once",), rust=Expected({0: first[0], **later}, [])
    )

    # Invalid counts at one step.
    good = {0: _matrix(rng, 3), 2: _matrix(rng, 3)}
    negative = _matrix(rng, 3)
    negative[1, 2] = -4
    _write_events(
        root / "negative_count",
        [(0, [_raw_value(good[0], NAMES3)]), (1, [_raw_value(negative, NAMES3)]), (2, [_raw_value(good[2], NAMES3)])],
    )
    expected["negative_count"] = Expected(good, [1], ("negative count",))
    # Finite float counts whose sum is past float64's range (every score would be NaN).
    huge = np.full((3, 3), 1e308)
    _write_events(
        root / "sum_past_float64",
        [(0, [_raw_value(good[0] * 1.0, NAMES3)]), (1, [_raw_value(huge, NAMES3)]), (2, [_raw_value(good[2] * 1.0, NAMES3)])],
    )
    expected["sum_past_float64"] = Expected(good, [1], ("sum is past float64's range",))
    # int64 counts whose total is past 2**53 (here past int64 itself, where a sum wraps to negative).
    wrapping = np.array([[2**62, 2**62, 0], [0, 1, 0], [0, 0, 1]], dtype=np.int64)
    _write_events(
        root / "total_past_2_53",
        [(0, [_raw_value(good[0], NAMES3)]), (1, [_raw_value(wrapping, NAMES3)]), (2, [_raw_value(good[2], NAMES3)])],
    )
    expected["total_past_2_53"] = Expected(good, [1], ("9.22337e+18 rows in all, past 2**53",))

    # Not one step fits the tag's metadata.
    _write_events(root / "nothing_fits", [(step, [_raw_value(_matrix(rng, 4), NAMES3)]) for step in (0, 1)])
    expected["nothing_fits"] = Expected({}, [0, 1], ("has 4 classes", "this tag has 3"), all_skipped=True)

    # The ways users write.
    expected["log_matrix"] = _user_writes_with_log_matrix(root, rng)
    expected["tf_summary"] = _user_writes_with_tf_summary(root, rng)

    # An untouched run next to them.
    clean = {step: _matrix(rng, 3) for step in range(3)}
    _write_events(root / "clean", [(step, _report(cm, NAMES3)) for step, cm in clean.items()])
    expected["clean"] = Expected(clean, [])
    return root, expected


# --------------------------------------------------------------------------
# Checks shared by the WSGI client and the real server
# --------------------------------------------------------------------------


def _for_loader(expectation: Expected, rust: bool) -> Expected:
    return expectation.rust if rust and expectation.rust is not None else expectation


def check_run(get: Getter, run: str, expectation: Expected) -> None:
    """Every good step is served with the written matrix; the others are listed."""
    names_count = None
    if expectation.all_skipped:
        for route in ("report", "series"):
            status, body = get(route, run=run, tag=TAG)
            assert status == 422, (route, status, body)
            assert "no step can be shown" in body["error"] and "left out" in body["error"]
            for fragment in expectation.reason_has:
                assert fragment in body["error"]
        return

    status, latest = get("report", run=run, tag=TAG)
    assert status == 200, latest
    good_steps = sorted(expectation.good)
    assert latest["steps"] == good_steps
    assert latest["step"] == good_steps[-1]
    assert [entry["step"] for entry in latest["skipped_steps"]] == sorted(expectation.skipped)
    for entry in latest["skipped_steps"]:
        assert set(entry) == {"step", "reason"}
        for fragment in expectation.reason_has:
            assert fragment in entry["reason"], entry
    for step, cm in expectation.good.items():
        status, payload = get("report", run=run, tag=TAG, step=step)
        assert status == 200, payload
        assert payload["confusion_matrix"] == cm.tolist(), step
        argmax_metrics = {name: payload["metrics"][name] for name in core.METRIC_NAMES}
        assert argmax_metrics == pytest.approx(core.imbalance_metrics(cm), abs=1e-12)
        np.testing.assert_allclose(payload["per_class"]["recall"], core.per_class_metrics(cm)["recall"], atol=1e-12)
        names_count = len(payload["class_names"])
    for step in set(expectation.skipped) - set(expectation.good):
        status, payload = get("report", run=run, tag=TAG, step=step)
        assert status == 422, (step, payload)
        assert f"step {step} was left out" in payload["error"]

    status, series = get("series", run=run, tag=TAG)
    assert status == 200, series
    assert series["steps"] == good_steps
    assert series["skipped_steps"] == latest["skipped_steps"]
    expected_recall = [core.per_class_metrics(expectation.good[step])["recall"] for step in good_steps]
    np.testing.assert_allclose(series["recall"], expected_recall, atol=1e-12)
    assert len(series["class_names"]) == names_count


def _json_get(get_raw: Callable[[str], tuple[int, bytes]]) -> Getter:
    def get(route: str, **params: Any) -> tuple[int, Any]:
        status, body = get_raw(f"{PLUGIN_ROUTE}/{route}?{urllib.parse.urlencode(params)}")
        assert status != 500, body
        return status, json.loads(body)

    return get


# --------------------------------------------------------------------------
# Through TensorBoard's WSGI app (Python loader)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wsgi_get(logdir) -> Getter:
    root, _ = logdir
    multiplexer = plugin_event_multiplexer.EventMultiplexer(
        size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE, tensor_size_guidance={fmt.PLUGIN_NAME: 0}
    )
    multiplexer.AddRunsFromDirectory(str(root))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(root))
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=provider))
    client = werkzeug_test.Client(application.TensorBoardWSGI([plugin]))

    def get_raw(url: str) -> tuple[int, bytes]:
        response = client.get(url)
        return response.status_code, response.get_data()

    return _json_get(get_raw)


RUNS = [
    "more_classes", "fewer_classes", "wide_then_small", "reused_steps", "logged_twice",
    "negative_count", "sum_past_float64", "total_past_2_53", "nothing_fits", "log_matrix", "tf_summary", "clean",
]


@pytest.mark.parametrize("run", RUNS)
def test_wsgi_serves_good_steps_and_lists_the_others(wsgi_get, logdir, run):
    _, expected = logdir
    check_run(wsgi_get, run, expected[run])


def test_wsgi_lists_every_run(wsgi_get):
    status, runs = wsgi_get("runs")
    assert status == 200
    assert runs == {run: [TAG] for run in sorted(RUNS)}


def test_user_writes_left_the_earlier_steps_viewable(logdir):
    # Whether or not the writers refused the second class set, the data on
    # disk is one of the two cases check_run covers; say which one ran.
    _, expected = logdir
    for run in ("log_matrix", "tf_summary"):
        assert expected[run].good and expected[run].skipped in ([], [3, 4], [2, 3])


def test_a_changed_class_set_is_logged_once_per_read(logdir, caplog):
    root, _ = logdir
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={fmt.PLUGIN_NAME: 0})
    multiplexer.AddRun(str(root / "more_classes"), "more_classes")
    multiplexer.Reload()
    data = plugin_reader.ImbalanceData(tb_data_provider.MultiplexerDataProvider(multiplexer, str(root)))
    from tensorboard.context import RequestContext

    with caplog.at_level("WARNING", logger=plugin_reader.__name__):
        for _ in range(3):
            data.report(RequestContext(), "", "more_classes", TAG)
    messages = [record.getMessage() for record in caplog.records if "left out" in record.getMessage()]
    assert len(messages) == 1 and "'more_classes'" in messages[0] and "(4, 5)" in messages[0]



@pytest.mark.parametrize("names", [NAMES4, NAMES3], ids=["other_classes", "same_classes"])
def test_a_run_deleted_and_logged_again_between_reloads_says_a_restart_drops_the_earlier_one(tmp_path, names):
    """``rm -rf`` of a run directory and a re-run under its name before TensorBoard's next reload:
    the loader goes on with what it held (class names, the earlier run's later steps), which only a
    restart drops, and the reasons say so."""
    import shutil

    from support import client_and_plugin, plugin_provider, route_json

    rng = np.random.default_rng(4)
    first = {step: _matrix(rng, 3) for step in range(4)}
    _write_events(tmp_path / "run", [(step, _report(cm, NAMES3)) for step, cm in first.items()])
    data_provider, multiplexer = plugin_provider(tmp_path)
    client, _ = client_and_plugin(data_provider)
    assert route_json(client, "report", run="run", tag=TAG)["step"] == 3
    shutil.rmtree(tmp_path / "run")
    _next_second()
    again = {step: _matrix(rng, len(names)) for step in range(2)}
    _write_events(tmp_path / "run", [(step, _report(cm, names)) for step, cm in again.items()])
    multiplexer.Reload()
    payload = route_json(client, "report", run="run", tag=TAG)
    assert payload["steps"] == [0, 1, 2, 3] and payload["step"] == 3  # the earlier run's last step, still held
    assert [entry["step"] for entry in payload["skipped_steps"]] == [0, 1]
    for entry in payload["skipped_steps"]:
        assert "until TensorBoard is restarted" in entry["reason"], entry["reason"]


def test_matrix_series_answers_left_out_and_unknown_steps_differently():
    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
    series = plugin_series.MatrixSeries(
        info, "v", [0, 2], [0.0, 2.0], [plugin_series.PackedMatrix.pack(np.eye(2, dtype=np.int64))] * 2,
        [plugin_series.SkippedStep(1, "its confusion matrix has 3 classes")],
    )
    with pytest.raises(plugin_errors.UnreadableDataError, match="step 1 was left out: its confusion matrix has 3"):
        series.matrix(1)
    with pytest.raises(plugin_errors.NotFoundError, match="step 5 is not available"):
        series.matrix(5)
    payload = plugin_payloads.report_payload(series, run="r", tag="t")
    assert payload["steps"] == [0, 2]
    assert payload["skipped_steps"] == [{"step": 1, "reason": "its confusion matrix has 3 classes"}]
    assert json.loads(plugin_payloads.to_json(payload))["skipped_steps"] == payload["skipped_steps"]


# --------------------------------------------------------------------------
# Through the real tensorboard command, both loaders
# --------------------------------------------------------------------------


def _wait_until_loaded(get: Getter, expected: dict[str, Expected], rust: bool, timeout: float = 90.0) -> None:
    """Poll until every run answers with all it should hold (the server loads lazily)."""
    deadline = time.monotonic() + timeout
    pending = dict(expected)
    while pending:
        for run, expectation in list(pending.items()):
            expectation = _for_loader(expectation, rust)
            status, body = get("report", run=run, tag=TAG)
            if expectation.all_skipped:
                done = status == 422 and len(body["error"]) > 0 and _listed_count(body) == len(expectation.skipped)
            else:
                done = status == 200 and body["steps"] == sorted(expectation.good) and len(
                    body["skipped_steps"]
                ) == len(expectation.skipped)
            if done:
                del pending[run]
        if pending and time.monotonic() > deadline:
            raise AssertionError(f"runs not loaded in {timeout}s: {sorted(pending)}")
        if pending:
            time.sleep(0.5)


def _listed_count(body: dict) -> int:
    """How many steps a "no step can be shown" message lists, e.g. "(0, 1, 2)"."""
    error = body["error"]
    if "every logged step was left out (" not in error:
        return -1
    listed = error.split("every logged step was left out (", 1)[1].split(")", 1)[0]
    return len(listed.split(", "))


@pytest.fixture(scope="module", params=[False, True], ids=["load_fast=false", "load_fast=true"])
def served(request, logdir):
    root, expected = logdir
    rust = request.param
    with tensorboard_server(root, load_fast=rust) as base_url:

        def get_raw(url: str) -> tuple[int, bytes]:
            status, _, body = http_get(base_url + url)
            return status, body

        get = _json_get(get_raw)
        _wait_until_loaded(get, expected, rust)
        yield get, rust


@pytest.mark.parametrize("run", RUNS)
def test_server_serves_good_steps_and_lists_the_others(served, logdir, run):
    get, rust = served
    _, expected = logdir
    check_run(get, run, _for_loader(expected[run], rust))
