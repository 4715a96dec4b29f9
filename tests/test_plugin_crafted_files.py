"""Crafted event files: the dashboard answers 4xx, never 500, and its work stays bounded.

A corpus of files no tb_imbalance writer produces, each built to break a
plain reader: matrix metadata in the ``coo`` encoding that claims 200,000
classes (a dense matrix would be 298 GiB), JSON nested 100,000 levels deep
(Python's parser recurses), JSON numbers that are not finite (``1e999``,
``NaN``) or too long for Python's int parser, an examples index whose
``numbers_as_text`` points at no string of its ``values`` or sits on a text
or image example. Every route that reads them answers a JSON error with a 4xx
status, through TensorBoard's WSGI app
(``--load_fast=false``'s data provider) and through the real
``tensorboard`` command in both loader modes.
"""

from __future__ import annotations

import json
import pathlib
import resource
import urllib.parse
from typing import Any

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.util import tensor_util
from werkzeug import test as werkzeug_test

from support import PLUGIN_ROUTE, http_get, tensorboard_server
from tb_imbalance import format as fmt
from tb_imbalance.event_file import EventFile
from tb_imbalance.plugin import ImbalancePlugin
from tb_imbalance.plugin import series as plugin_series

TAG = "confusion_matrix"
WIDE = 200_000
DEEP = 100_000
NAMES3 = ["zero", "one", "two"]
CM3 = np.array([[5, 1, 0], [2, 3, 1], [0, 1, 4]], dtype=np.int64)


def _metadata(content: bytes, data_class=summary_pb2.DATA_CLASS_TENSOR) -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=fmt.PLUGIN_NAME, content=content),
        data_class=data_class,
    )


def _matrix_value(content: bytes, tensor: np.ndarray) -> summary_pb2.Summary.Value:
    return summary_pb2.Summary.Value(
        tag=TAG, metadata=_metadata(content), tensor=tensor_util.make_tensor_proto(tensor)
    )


def _write(run_dir: pathlib.Path, values: list[summary_pb2.Summary.Value], steps: int = 2) -> None:
    with EventFile(run_dir) as events:
        for step in range(steps):
            events.write(step, values)


def _wide_coo_run(run_dir: pathlib.Path) -> None:
    """coo metadata of 200,000 classes (with a group, for ``group=1``) and three stored cells."""
    names = [str(k) for k in range(WIDE)]
    metadata = fmt.create_summary_metadata(names, class_groups={"pair": ["0", "1"]})
    cells = np.array([[0, 0, 5], [1, 0, 2], [1, 1, 3]], dtype=np.int64)
    _write(run_dir, [_matrix_value(metadata.plugin_data.content, cells)])


def _content(**fields: Any) -> bytes:
    base = {"version": 1, "num_classes": 3, "class_names": NAMES3, "weighted": False, "encoding": "dense"}
    base.update(fields)
    return json.dumps(base).encode("utf-8")


def _examples_run(run_dir: pathlib.Path, index_blob: bytes) -> None:
    """A valid 3-class matrix, and an examples index of our choosing."""
    metadata = fmt.create_examples_metadata(TAG)
    examples = summary_pb2.Summary.Value(
        tag=fmt.examples_tag(TAG), metadata=metadata,
        tensor=tensor_util.make_tensor_proto(np.array([index_blob], dtype=object)),
    )
    matrix = fmt.create_summary_metadata(NAMES3)
    _write(run_dir, [_matrix_value(matrix.plugin_data.content, CM3), examples], steps=1)


def _index(**changes: Any) -> dict:
    index = {
        "version": 4, "num_classes": 3, "rows": 17, "examples_per_cell": 8, "scores": "probability",
        "max_bytes": 2_000_000, "cut": None,
        "cells": [{"true": 0, "pred": 1, "count": 1, "examples": [
            {"id": 1, "row": 1, "top": [[1, 0.6], [0, 0.4]], "kind": "text", "text": "hi", "length": 2}]}],
    }
    index.update(changes)
    return index


def _index_with_score(score: str) -> bytes:
    return json.dumps(_index()).replace("0.6", score).encode("utf-8")


def _values_index(numbers_as_text: Any, values: Any = ("nan", 1.5, "Lyon")) -> bytes:
    """An index whose one example is a ``values`` row: "nan" the number, 1.5, "Lyon" the text."""
    example = {"id": 1, "row": 1, "top": [[1, 0.6], [0, 0.4]], "kind": "values", "shape": [3],
               "values": list(values) if isinstance(values, tuple) else values, "numbers_as_text": numbers_as_text}
    return json.dumps(_index(cells=[{"true": 0, "pred": 1, "count": 1, "examples": [example]}])).encode("utf-8")


#: run -> a malformed `numbers_as_text` of a values example (and its values, if not the default).
BAD_NUMBERS_AS_TEXT = {
    "numbers_as_text_not_a_list": (0,),
    "numbers_as_text_of_bools": ([True],),
    "numbers_as_text_negative": ([-1],),
    "numbers_as_text_past_the_values": ([3],),
    "numbers_as_text_repeated": ([0, 0],),
    "numbers_as_text_at_a_number": ([0, 1],),
    "numbers_as_text_of_no_list": ([0], "nan"),
}

#: run -> an example of another kind than `values` that carries a `numbers_as_text`.
NUMBERS_AS_TEXT_ELSEWHERE = {
    "numbers_as_text_on_text": {"kind": "text", "text": "nan", "length": 3, "numbers_as_text": [0]},
    "numbers_as_text_on_image": {"kind": "image", "image": 1, "width": 8, "height": 8, "shape": [8, 8],
                                 "numbers_as_text": []},
}


def _other_kind_index(fields: dict) -> bytes:
    example = {"id": 1, "row": 1, "top": [[1, 0.6], [0, 0.4]], **fields}
    return json.dumps(_index(cells=[{"true": 0, "pred": 1, "count": 1, "examples": [example]}])).encode("utf-8")


DEEP_JSON = "[" * DEEP + "]" * DEEP
LONG_INT = "1" + "0" * 5000

#: run -> the routes (route, params) asked of it; every one must answer 4xx.
MATRIX_RUNS = {
    "wide_coo": lambda d: _wide_coo_run(d),
    "deep_metadata": lambda d: _write(d, [_matrix_value(_content()[:-1] + f', "x": {DEEP_JSON}}}'.encode(), CM3)]),
    "long_int_metadata": lambda d: _write(d, [_matrix_value(f'{{"version": {LONG_INT}}}'.encode(), CM3)]),
    "nan_metadata": lambda d: _write(d, [_matrix_value(_content()[:-1] + b', "class_counts": [NaN, 1, 2]}', CM3)]),
    "inf_metadata": lambda d: _write(d, [_matrix_value(_content(version=3)[:-1] + b', "class_counts": [1e999, 1, 2]}', CM3)]),
}
EXAMPLE_RUNS = {
    "deep_index": lambda d: _examples_run(d, json.dumps(_index())[:-1].encode() + f', "x": {DEEP_JSON}}}'.encode()),
    "inf_score": lambda d: _examples_run(d, _index_with_score("1e999")),
    "nan_score": lambda d: _examples_run(d, _index_with_score("NaN")),
    "long_int_index": lambda d: _examples_run(d, json.dumps(_index(rows=0)).replace('"rows": 0', f'"rows": {LONG_INT}').encode()),
    "deep_examples_metadata": None,  # built below: the examples tag's own plugin content
    **{run: (lambda d, bad=bad: _examples_run(d, _values_index(*bad))) for run, bad in BAD_NUMBERS_AS_TEXT.items()},
    **{run: (lambda d, f=f: _examples_run(d, _other_kind_index(f))) for run, f in NUMBERS_AS_TEXT_ELSEWHERE.items()},
}


def _deep_examples_metadata_run(run_dir: pathlib.Path) -> None:
    blob = json.dumps(_index()).encode("utf-8")
    examples = summary_pb2.Summary.Value(
        tag=fmt.examples_tag(TAG),
        metadata=_metadata(f'{{"kind": "examples", "x": {DEEP_JSON}}}'.encode(), summary_pb2.DATA_CLASS_BLOB_SEQUENCE),
        tensor=tensor_util.make_tensor_proto(np.array([blob], dtype=object)),
    )
    matrix = fmt.create_summary_metadata(NAMES3)
    _write(run_dir, [_matrix_value(matrix.plugin_data.content, CM3), examples], steps=1)


EXAMPLE_RUNS["deep_examples_metadata"] = _deep_examples_metadata_run


def write_crafted_logdir(root: pathlib.Path) -> None:
    for run, build in {**MATRIX_RUNS, **EXAMPLE_RUNS}.items():
        build(root / run)
    _wide_coo_run(root / "wide_coo_baseline")


def _requests() -> list[tuple[str, str, dict[str, Any]]]:
    """(case id, route, params) of every request the corpus must answer with a 4xx."""
    requests = []
    for run in MATRIX_RUNS:
        requests += [
            (f"{run}-report", "report", {"run": run, "tag": TAG}),
            (f"{run}-report-step", "report", {"run": run, "tag": TAG, "step": 1}),
            (f"{run}-group", "report", {"run": run, "tag": TAG, "group": 1}),
            (f"{run}-series", "series", {"run": run, "tag": TAG}),
            (f"{run}-series-classes", "series", {"run": run, "tag": TAG, "classes": "0,1"}),
            (f"{run}-compare", "compare", {"run": run, "tag": TAG, "baseline": "wide_coo_baseline"}),
            (f"{run}-compare-reverse", "compare", {"run": "wide_coo_baseline", "tag": TAG, "baseline": run}),
            (f"{run}-examples", "examples", {"run": run, "tag": TAG, "true": 0, "pred": 1}),
        ]
    for run in EXAMPLE_RUNS:
        requests += [
            (f"{run}-examples", "examples", {"run": run, "tag": TAG, "true": 0, "pred": 1}),
            (f"{run}-examples-latest-cell", "examples", {"run": run, "tag": TAG, "step": 0, "true": 1, "pred": 1}),
            (f"{run}-image", "example_image", {"run": run, "tag": TAG, "index": 1}),
        ]
    return requests


REQUESTS = _requests()


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("crafted")
    write_crafted_logdir(root)
    return root


@pytest.fixture(scope="module")
def client(logdir) -> werkzeug_test.Client:
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={fmt.PLUGIN_NAME: 0})
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=provider))
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin]))


def _assert_json_4xx(status: int, content_type: str, body: bytes, case: str) -> None:
    assert 400 <= status < 500, f"{case}: {status} {body[:300]!r}"
    assert content_type.split(";")[0] == "application/json", case
    message = json.loads(body)["error"]
    assert isinstance(message, str) and message, case


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(("case", "route", "params"), REQUESTS, ids=[case for case, _, _ in REQUESTS])
def test_crafted_files_answer_4xx_through_the_wsgi_app(client, case, route, params):
    before = _max_rss_mib()
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    _assert_json_4xx(response.status_code, response.headers["Content-Type"], response.get_data(), case)
    assert _max_rss_mib() - before < 500, f"{case}: the process grew by {_max_rss_mib() - before:.0f} MiB"


def test_runs_still_lists_every_crafted_run(client):
    response = client.get(f"{PLUGIN_ROUTE}/runs")
    assert response.status_code == 200
    runs = json.loads(response.get_data())
    assert set(MATRIX_RUNS) | set(EXAMPLE_RUNS) <= set(runs)


@pytest.mark.parametrize("run", BAD_NUMBERS_AS_TEXT)
def test_a_malformed_numbers_as_text_is_refused_like_other_corrupt_indexes(client, run):
    response = client.get(f"{PLUGIN_ROUTE}/examples", query_string={"run": run, "tag": TAG, "true": 0, "pred": 1})
    assert response.status_code == 422
    bad = json.dumps(BAD_NUMBERS_AS_TEXT[run][0]).replace("true", "True")
    assert json.loads(response.get_data())["error"] == (
        f"run {run!r}, tag {TAG!r}, step 0: corrupt examples index: values example 1 has malformed "
        f"`numbers_as_text` {bad} (want distinct positions in `values` of its strings)"
    )


@pytest.mark.parametrize("run", NUMBERS_AS_TEXT_ELSEWHERE)
def test_numbers_as_text_on_a_text_or_image_example_is_refused_like_other_corrupt_indexes(client, run):
    # It says which of a values row's strings are numbers: a text or an image example has no `values`.
    response = client.get(f"{PLUGIN_ROUTE}/examples", query_string={"run": run, "tag": TAG, "true": 0, "pred": 1})
    assert response.status_code == 422
    kind = NUMBERS_AS_TEXT_ELSEWHERE[run]["kind"]
    assert json.loads(response.get_data())["error"] == (
        f"run {run!r}, tag {TAG!r}, step 0: corrupt examples index: {kind} example 1 has `numbers_as_text` "
        "(want it on values examples only)"
    )


def test_a_well_formed_numbers_as_text_is_served(tmp_path):
    _examples_run(tmp_path / "ok", _values_index([0]))
    client = _client_of(tmp_path)
    response = client.get(f"{PLUGIN_ROUTE}/examples", query_string={"run": "ok", "tag": TAG, "true": 0, "pred": 1})
    assert response.status_code == 200, response.get_data()
    (example,) = json.loads(response.get_data())["examples"]
    assert (example["values"], example["numbers_as_text"]) == (["nan", 1.5, "Lyon"], [0])


REFUSED_NAMES = {
    "repeated": (["zero", "one", "zero"], "`class_names` must be unique, received 'zero' twice (`class_names`[0] "
                 "and [2]); give each class its own name, or map the labels of one class to one id"),
    "report_key": (["zero", "accuracy", "two"], "`class_names` may not use the report's own keys "
                   "['accuracy', 'macro avg', 'micro avg', 'weighted avg'], received ['accuracy']; rename the class, "
                   "e.g. 'accuracy (class)'"),
}


@pytest.mark.parametrize("names", sorted(REFUSED_NAMES))
@pytest.mark.parametrize("run", ["repeated_names", "r" * 60])
def test_class_names_no_writer_stores_are_refused_alike_by_every_route_naming_the_run_and_tag(tmp_path, run, names):
    # No writer stores them; a hand-made file does. `report` refused them, `series` and `compare` served them.
    class_names, reason = REFUSED_NAMES[names]
    _write(tmp_path / run, [_matrix_value(_content(class_names=class_names), CM3)])
    client = _client_of(tmp_path)
    shown = repr(run) if len(run) <= 40 else repr(run[:40]) + "…"  # a long name is cut, as in other messages
    expected = (
        f"run {shown}, tag {TAG!r}: its class names cannot be shown: {reason} (no tb_imbalance writer stores "
        "such names: log the run again)"
    )
    queries = {
        "report": {}, "series": {}, "compare": {"baseline": run}, "curves": {"class": 0},
    }
    for route, query in queries.items():
        response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string={"run": run, "tag": TAG, **query})
        assert (route, response.status_code) == (route, 422)
        assert json.loads(response.get_data())["error"] == expected


def _client_of(logdir):
    """A test client of the plugin over the runs written under ``logdir``."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={fmt.PLUGIN_NAME: 0})
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    return werkzeug_test.Client(application.TensorBoardWSGI([ImbalancePlugin(base_plugin.TBContext(data_provider=provider))]))


BLANK_NAMES = {
    # Files of earlier versions: the writers refuse blank names now.
    "blank": (["zero", "", " \t"], ["zero", "(unnamed class 1)", "(unnamed class 2)"]),
    # Two blank names were refused as a name repeated.
    "two_empty": (["", "", "two"], ["(unnamed class 0)", "(unnamed class 1)", "two"]),
    # A placeholder is never a name of the tag.
    "taken": (["", "(unnamed class 0)", "two"], ["((unnamed class 0))", "(unnamed class 0)", "two"]),
}


@pytest.mark.parametrize("case", sorted(BLANK_NAMES))
def test_blank_class_names_of_old_files_are_served_as_placeholders_by_every_route(tmp_path, case):
    # A blank name drew a blank row, matrix label and picker option.
    written, served = BLANK_NAMES[case]
    groups = {"pair": [written[0], written[2]]}
    _write(tmp_path / case, [_matrix_value(_content(version=3, class_names=written, class_groups=groups), CM3)])
    client = _client_of(tmp_path)
    answers = {
        route: client.get(f"{PLUGIN_ROUTE}/{route}", query_string={"run": case, "tag": TAG, **query})
        for route, query in {"report": {}, "series": {}, "compare": {"baseline": case}}.items()
    }
    for route, response in answers.items():
        assert (route, response.status_code) == (route, 200), response.get_data()
        assert json.loads(response.get_data())["class_names"] == served, route
    report = json.loads(answers["report"].get_data())
    assert report["class_groups"] == {"pair": [served[0], served[2]]}
    assert [name for name in report["report"] if name in served] == served
    grouped = client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": case, "tag": TAG, "group": 1})
    assert grouped.status_code == 200, grouped.get_data()
    assert json.loads(grouped.get_data())["class_names"] == ["pair", served[1]]


#: Names earlier versions wrote that the writers now refuse: the dashboard still serves their runs.
NAMES_WRITTEN_BEFORE = {
    "ends": ["cat", "cat ", " cat"],
    "forms": ["caf\u00e9", "cafe\u0301", "tea"],
}


@pytest.mark.parametrize("names", sorted(NAMES_WRITTEN_BEFORE))
def test_class_names_earlier_versions_wrote_are_served_by_every_route(tmp_path, names):
    # The plugin must not check stored names by the writers' rules of today (`report` answered 422 for a name
    # they refuse).
    class_names = NAMES_WRITTEN_BEFORE[names]
    groups = {"first two": class_names[:2]}
    _write(tmp_path / "old", [_matrix_value(_content(version=3, class_names=class_names, class_groups=groups,
                                                     class_counts=[500, 40, 3]), CM3)])
    client = _client_of(tmp_path)
    answers = {}
    for route, query in {"report": {}, "series": {}, "compare": {"baseline": "old"},
                         "report ": {"group": 1}}.items():
        response = client.get(f"{PLUGIN_ROUTE}/{route.strip()}", query_string={"run": "old", "tag": TAG, **query})
        assert (route, response.status_code) == (route, 200), response.get_data()
        answers[route] = json.loads(response.get_data())
    report = answers["report"]
    assert report["class_names"] == class_names and list(report["report"])[:3] == class_names
    assert report["per_class"]["recall"] == pytest.approx([5 / 6, 3 / 6, 4 / 5])
    assert report["metrics"]["few_shot_recall"] == pytest.approx(4 / 5)
    assert answers["report "]["class_names"] == ["first two", class_names[2]]
    assert answers["report "]["confusion_matrix"] == [[11, 1], [1, 4]]


def test_curves_whose_bins_do_not_merge_into_the_calibration_bins_are_refused_where_they_are_read(tmp_path):
    # The content allows 10 bins of 10 calibration bins; the curves' maths merge the bins into 15 and trust what was
    # read: the report and compare answered 500, the curves route too.
    summary = np.zeros((4, 3, 10))
    summary[:3, 0, 9] = summary[:3, 2, 9] = CM3.sum(axis=1)
    curves = summary_pb2.Summary.Value(
        tag=fmt.curves_tag(TAG), metadata=fmt.create_curves_metadata(TAG, 10, 10),
        tensor=tensor_util.make_tensor_proto(fmt.encode_curves(summary)),
    )
    _write(tmp_path / "ten_bins", [_matrix_value(fmt.create_summary_metadata(NAMES3).plugin_data.content, CM3), curves],
           steps=1)
    client = _client_of(tmp_path)
    reason = (f"run 'ten_bins', tag '{TAG}_curves': its 10 score bins do not merge into the 15 calibration bins the "
              "dashboard draws (no tb_imbalance writer stores such curves: log them again, 75 bins)")
    report = json.loads(client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": "ten_bins", "tag": TAG}).get_data())
    assert (report["has_curves"], report["curves_error"], report["per_class"]["average_precision"]) == (
        False, reason, [None] * 3)
    response = client.get(f"{PLUGIN_ROUTE}/compare", query_string={"run": "ten_bins", "tag": TAG, "baseline": "ten_bins"})
    assert response.status_code == 200 and json.loads(response.get_data())["per_class"]["average_precision"] == [None] * 3
    response = client.get(f"{PLUGIN_ROUTE}/curves", query_string={"run": "ten_bins", "tag": TAG, "class": 0})
    assert (response.status_code, json.loads(response.get_data())["error"]) == (422, reason)


def test_the_class_limit_is_named_in_the_answer(client):
    response = client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": "wide_coo", "tag": TAG})
    assert response.status_code == 422
    message = json.loads(response.get_data())["error"]
    assert f"{WIDE:,}" in message or str(WIDE) in message
    assert f"{plugin_series.MAX_SERVED_CLASSES:,}" in message


def test_the_class_limit_is_a_boundary_of_served_tags(tmp_path, monkeypatch):
    """At the limit a coo tag is served (its report equals the logged matrix); one class more answers 422."""
    import tb_imbalance

    monkeypatch.setattr(plugin_series, "MAX_SERVED_CLASSES", 150)
    rng = np.random.default_rng(4)
    matrices = {}
    for num_classes in (150, 151):
        cm = np.diag(rng.integers(1, 9, num_classes))
        cm[0, 1] = 3
        tb_imbalance.log_matrix(str(tmp_path / f"c{num_classes}"), cm, 0)
        matrices[num_classes] = cm
    tb_imbalance.targets.close_directory_writers()
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={fmt.PLUGIN_NAME: 0})
    multiplexer.AddRunsFromDirectory(str(tmp_path))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(tmp_path))
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=provider))
    client = werkzeug_test.Client(application.TensorBoardWSGI([plugin]))
    served = client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": "c150", "tag": TAG})
    assert served.status_code == 200
    assert json.loads(served.get_data())["confusion_matrix"] == matrices[150].tolist()
    refused = client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": "c151", "tag": TAG})
    assert refused.status_code == 422
    assert "151 classes" in json.loads(refused.get_data())["error"]


@pytest.mark.server
@pytest.mark.parametrize("load_fast", [False, True], ids=["load_fast=false", "load_fast=true"])
def test_crafted_files_answer_4xx_from_the_real_tensorboard(logdir, load_fast):
    with tensorboard_server(logdir, load_fast=load_fast) as base_url:
        failures = []
        for case, route, params in REQUESTS:
            url = f"{base_url}{PLUGIN_ROUTE}/{route}?{urllib.parse.urlencode(params)}"
            status, headers, body = http_get(url, timeout=60)
            try:
                _assert_json_4xx(status, headers.get("Content-Type", ""), body, case)
            except AssertionError as error:
                failures.append(str(error))
        assert not failures, "\n".join(failures)
