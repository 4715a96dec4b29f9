"""The Imbalance plugin's routes through TensorBoard's WSGI app (no server process): what they list, parse and refuse.

The logdir (good and bad runs) and its client are the ``logdir`` and
``client`` fixtures of ``tests/support.py``. What the answers hold is tested
by subject: ``test_payloads.py`` (``report``), ``test_series.py``
(``series``), ``test_reader.py`` (reading through the data provider),
``test_cache.py``, ``test_static_files.py``, ``test_plugin_loader.py``.
"""

from __future__ import annotations

import json
import re

import pytest

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import HOSTILE_CLASS_NAME, PLUGIN_ROUTE, TAG
from support import client_and_plugin as _client
from support import plugin_provider as _provider
from support import route_error as _error
from support import route_json as _get


# --------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------


def test_runs_lists_runs_with_confusion_matrices_only(client):
    assert _get(client, "runs") == {
        "bad_shape": [TAG],
        "baseline": [TAG],
        "class_weights": [TAG],
        "full": [TAG],
        "future": [TAG],
        "weighted": [TAG],
    }


def test_runs_of_an_empty_logdir_is_empty(tmp_path):
    data_provider, _ = _provider(tmp_path)
    assert _get(_client(data_provider)[0], "runs") == {}


# --------------------------------------------------------------------------
# answers are JSON text
# --------------------------------------------------------------------------


def test_hostile_class_name_is_returned_verbatim_as_json_text(client):
    response = client.get(f"{PLUGIN_ROUTE}/report", query_string={"run": "baseline", "tag": TAG})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    payload = json.loads(response.get_data())
    assert payload["class_names"][-1] == HOSTILE_CLASS_NAME
    assert HOSTILE_CLASS_NAME in payload["report"]


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "params", "status", "fragment"),
    [
        ("report", {"tag": TAG}, 400, "run"),
        ("report", {"run": "baseline"}, 400, "tag"),
        ("report", {"run": "baseline", "tag": TAG, "step": "three"}, 400, "step"),
        ("report", {"run": "baseline", "tag": TAG, "step": "1.5"}, 400, "step"),
        ("report", {"run": "nope", "tag": TAG}, 404, "nope"),
        ("report", {"run": "baseline", "tag": "nope"}, 404, "nope"),
        ("report", {"run": "not_ours", "tag": "loss"}, 404, "not_ours"),
        ("report", {"run": "baseline", "tag": TAG, "step": "999"}, 404, "999"),
        ("report", {"run": "baseline", "tag": TAG, "step": "-1"}, 404, "-1"),
        ("report", {"run": "baseline", "tag": TAG, "step": " 2"}, 400, "`step` must be an integer, received ' 2'"),
        ("report", {"run": "baseline", "tag": TAG, "step": "1_0"}, 400, "`step` must be an integer"),
        ("report", {"run": "baseline", "tag": TAG, "step": "\u0663"}, 400, "`step` must be an integer"),
        ("report", {"run": "baseline", "tag": TAG, "step": "9" * 5000}, 400, "'" + "9" * 40 + "'…"),
        ("report", {"run": "baseline", "tag": TAG, "group": "y" * 60_000}, 400,  # cut like every other value
         "query parameter `group` must be 1 or 0 (or true / false), received '" + "y" * 40 + "'…"),
        ("series", {"tag": TAG}, 400, "run"),
        ("series", {"run": "baseline"}, 400, "tag"),
        ("series", {"run": "nope", "tag": TAG}, 404, "nope"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "a,b"}, 400, "classes"),
        ("series", {"run": "baseline", "tag": TAG, "classes": ""}, 400, "classes"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "1,,2"}, 400, "classes"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "4"}, 400, "classes"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "-1"}, 400, "classes"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "0," + "1" * 5000}, 400,  # past int()'s 4300 digits
         "query parameter `classes` must be an integer within ±(2**63 - 1) (int64), received '" + "1" * 40 + "'…"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "1" * 19}, 400, "`classes` must hold class indices in [0, 3]"),
        ("series", {"run": "baseline", "tag": TAG, "classes": "0" * 5000 + "3"}, 200, None),
        ("series", {"run": "baseline", "tag": TAG, "classes": "1,2,01"}, 400,
         "query parameter `classes` must list each class once, received 1 twice"),
        ("series", {"run": "baseline", "tag": TAG, "classes": ",".join(["0"] * 30_000)}, 400,  # 60 KB: 30,000 columns
         "query parameter `classes` must list each class once, received 0 twice"),
    ],
)
def test_bad_requests_get_json_errors(client, route, params, status, fragment):
    if status == 200:
        assert _get(client, route, **params)["class_indices"] == [3]
        return
    assert fragment in _error(client, route, status, **params)


@pytest.mark.parametrize(("route", "method", "params"), [
    ("report", "report", {}),
    ("example_image", "example_image", {"index": "1"}),  # a PNG route answers its failures as JSON too
])
def test_a_failure_nobody_foresaw_is_logged_and_answered_without_its_text(logdir, monkeypatch, caplog, route,
                                                                           method, params):
    from tb_imbalance.plugin import reader

    def fail(*args, **kwargs):
        raise RuntimeError("cannot open /srv/private/runs/secret.db")

    monkeypatch.setattr(reader.ImbalanceData, method, fail)
    client = _client(_provider(logdir.path)[0])[0]
    with caplog.at_level("ERROR", logger="tb_imbalance.plugin.backend"):
        response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string={"run": "baseline", "tag": TAG, **params})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data()) == {
        "error": "internal error in the Imbalance plugin; TensorBoard's log holds its traceback"
    }
    (record,) = [r for r in caplog.records if r.name == "tb_imbalance.plugin.backend"]
    assert record.getMessage() == f"Imbalance route {PLUGIN_ROUTE}/{route} failed"
    assert record.exc_info[0] is RuntimeError and "secret.db" in str(record.exc_info[1])
    assert "secret.db" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize(("params", "message"), [
    ({"many": "-3"}, "query parameter `many` must be non-negative, received -3"),
    ({"few": "-1"}, "query parameter `few` must be non-negative, received -1"),
    ({"many": "1"}, "query parameter `many`=1 must be more than `few`, whose default is 20; pass a smaller `few` too"),
    ({"many": "0"}, "query parameter `many`=0 must be more than `few`, whose default is 20; `few` cannot be negative, "
     "so pass a `many` of 1 or more and a `few` below it"),
    ({"few": "100"}, "query parameter `few`=100 must be less than `many`, whose default is 100; pass a larger `many` too"),
    ({"many": "20", "few": "100"}, "query parameter `few` must be less than `many` (few-shot: fewer than `few` "
     "training examples, many-shot: more than `many`), received few=100, many=20"),
    ({"few": "x"}, "query parameter `few` must be an integer, received 'x'"),
])
def test_long_tail_thresholds_are_refused_as_query_parameters_like_the_other_400s(client, params, message):
    assert _error(client, "report", 400, run="baseline", tag=TAG, **params) == message


def test_every_int64_step_a_run_lists_can_be_requested(tmp_path):
    import tb_imbalance
    from support import plugin_client
    from tb_imbalance.targets import close_directory_writers

    steps = [10**18, 2**63 - 1]  # 19 digits, as the writers take them
    for step in steps:
        tb_imbalance.log_report(tmp_path / "big", [0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], step, image=False)
    close_directory_writers()
    client = plugin_client(tmp_path)
    assert _get(client, "report", run="big", tag=TAG)["steps"] == steps
    for step in steps:
        assert _get(client, "report", run="big", tag=TAG, step=str(step))["step"] == step
        assert _get(client, "curves", run="big", tag=TAG, step=str(step), **{"class": 1})["step"] == step
    assert "must be an integer within ±(2**63 - 1) (int64), received '9223372036854775808'" in _error(
        client, "report", 400, run="big", tag=TAG, step=str(2**63))
    # 20 digits and more were "not an integer"
    assert "must be an integer within ±(2**63 - 1)" in _error(client, "report", 400, run="big", tag=TAG, step="9" * 20)
    assert "must be an integer, received '1e3'" in _error(client, "report", 400, run="big", tag=TAG, step="1e3")
    assert _get(client, "report", run="big", tag=TAG, step="0" * 20 + str(steps[0]))["step"] == steps[0]  # leading zeros
    assert _get(client, "report", run="big", tag=TAG, step="0" * 5000 + str(steps[0]))["step"] == steps[0]  # past int()'s 4300 digits
    assert "within ±(2**63 - 1)" in _error(client, "report", 400, run="big", tag=TAG, step="1" * 5000)


@pytest.mark.parametrize(
    ("route", "params", "repeated"),
    [
        ("report", {"run": "baseline", "tag": TAG}, ("step", "1", "2")),
        ("report", {"tag": TAG}, ("run", "baseline", "class_weights")),
        ("series", {"run": "baseline", "tag": TAG}, ("classes", "0", "1")),
        ("compare", {"run": "baseline", "tag": TAG}, ("baseline", "class_weights", "full")),
        ("curves", {"run": "baseline", "tag": TAG}, ("class", "0", "0")),
        ("examples", {"run": "baseline", "tag": TAG, "true": "0"}, ("pred", "0", "1")),
    ],
)
def test_a_parameter_given_twice_is_refused_not_half_read(client, route, params, repeated):
    # Answering for the first of `step=1&step=2` would show numbers of a step nobody chose alone.
    name, first, second = repeated
    query = [*params.items(), (name, first), (name, second)]
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=query)
    assert response.status_code == 400
    assert json.loads(response.get_data())["error"] == (
        f"query parameter `{name}` was given 2 times ({first!r}, {second!r}); give it once"
    )


@pytest.mark.parametrize(("query", "message"), [
    (b"run=baseline\xff&tag=" + TAG.encode(), "query parameter `run` must be UTF-8 text with its bytes percent-encoded "
     "(as encodeURIComponent writes it), received 'baseline\\\\xff'"),
    (b"run=baseline&tag=" + TAG.encode() + b"&step=1\x80", "query parameter `step` must be UTF-8 text with its bytes "
     "percent-encoded (as encodeURIComponent writes it), received '1\\\\x80'"),
    (b"run=baseline&tag=" + TAG.encode() + b"&n%C3%A9\xe9=1", "query parameter `n\u00e9\\xe9` must be UTF-8 text with its "
     "bytes percent-encoded (as encodeURIComponent writes it), received '1'"),
])
@pytest.mark.parametrize("route", ["report", "series", "compare", "curves", "examples", "example_image"])
def test_raw_bytes_that_are_not_utf8_are_a_400_naming_their_query_parameter(client, route, query, message):
    # A browser percent-encodes them (werkzeug keeps an invalid one as `%FF`), and tensorboard's own server
    # re-reads raw ones as Latin-1; a WSGI server passing them on as sent (PEP 3333, wsgiref) made a 500.
    response = client.get(f"{PLUGIN_ROUTE}/{route}", environ_overrides={"QUERY_STRING": query.decode("latin-1")})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data()) == {"error": message}


_RUNS_LISTED = "'bad_shape', 'baseline', 'class_weights', 'full', 'future', … (6 in all)"


def test_an_unknown_run_or_tag_names_its_parameter_and_where_the_names_are(client):
    assert _error(client, "compare", 404, run="baseline", tag=TAG, baseline="nope") == (
        f"no run 'nope' with confusion matrices; query parameter `baseline` must be one of the runs the `runs` route "
        f"lists: {_RUNS_LISTED}"
    )
    assert _error(client, "compare", 404, run="nope", tag=TAG, baseline="baseline").endswith(
        f"query parameter `run` must be one of the runs the `runs` route lists: {_RUNS_LISTED}"
    )
    assert _error(client, "curves", 404, run="baseline", tag="nope", **{"class": 0}) == (
        f"run 'baseline' has no confusion-matrix tag 'nope'; query parameter `tag` must be one of its tags: {TAG!r}"
    )
    # Any text may come in a query: a 60,000-character name is not sent back whole.
    message = _error(client, "report", 404, run="x" * 60_000, tag=TAG)
    assert message.startswith("no run 'xxx") and message.endswith(_RUNS_LISTED) and len(message) < 400


def test_the_runs_an_unknown_run_offers_are_escaped_and_cut_like_the_name_asked_for(tmp_path):
    import tb_imbalance
    from support import plugin_client
    from tb_imbalance.targets import close_directory_writers

    hostile = "a\x1b[31m\u202e" + "y" * 200  # a terminal escape, a right-to-left override and a long name
    tb_imbalance.log_report(tmp_path / hostile, [0, 1], [0, 1], 0, image=False, num_classes=2)
    close_directory_writers()
    message = _error(plugin_client(tmp_path), "report", 404, run="nope", tag=TAG)
    assert message == ("no run 'nope' with confusion matrices; query parameter `run` must be one of the runs the `runs` "
                       "route lists: 'a\\x1b[31m\\u202e" + "y" * 112 + "…'")
    (tmp_path / "empty").mkdir()
    assert _error(plugin_client(tmp_path / "empty"), "report", 404, run="nope", tag=TAG).endswith("lists: none yet")



# Every parameter of every route (docs/http_api.md), each with bad values: None leaves it out,
# a tuple gives it twice. Asked of `baseline`, tag TAG, whose 4 classes have no `class_groups`.
_ROUTE_PARAMETERS = {
    "report": {"step": ("x", "1.5", "9" * 20, ("1", "2"), "", "-0"), "many": ("-1", "0", "1", "x", ""),
               "few": ("-1", "100", "x", "", "-0"), "group": ("2", "yes", "1", ("0", "1"), "", "TRUE", "False")},
    "series": {"classes": ("a,b", "", "1,,2", "4", "-1", ("0", "1"), "-0", "2,-00")},
    "compare": {"baseline": (None, "weighted", ("baseline", "full")), "step": ("x", ""),
                "baseline_step": ("first", "9" * 20, "")},
    "curves": {"step": ("x", ""), "class": (None, "x", "4", "-1", ("0", "1"), "", "-0")},
    "examples": {"step": ("x", ""), "true": (None, "x", "4", "-1", "", "-0"),
                 "pred": (None, "1.5", "4", "-1", ("0", "1"), "", "-0")},
    "example_image": {"step": ("x", ""), "index": (None, "first", "0", "-1", "9" * 20, ("1", "2"), "")},
}
_REQUIRED = {"compare": {"baseline": "class_weights"}, "curves": {"class": "0"},
             "examples": {"true": "0", "pred": "0"}, "example_image": {"index": "1"}}
_BAD_QUERIES = [
    (route, name, value)
    for route, parameters in _ROUTE_PARAMETERS.items()
    for name, values in {"run": (None, ("baseline", "full")), "tag": (None, (TAG, TAG)), **parameters}.items()
    for value in values
]


@pytest.mark.parametrize(("route", "name", "value"), _BAD_QUERIES)
def test_every_400_of_every_route_names_its_query_parameter_and_the_fix(client, route, name, value):
    query = {"run": "baseline", "tag": TAG, **_REQUIRED.get(route, {})}
    query.pop(name, None)
    pairs = list(query.items()) + [(name, one) for one in ((value,) if isinstance(value, str) else value or ())]
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=pairs)
    message = json.loads(response.get_data())["error"]
    assert response.status_code == 400, message
    _assert_names_its_query_parameter_and_the_fix(message, name)


@pytest.mark.parametrize(("route", "name", "message"), [
    ("report", "step", "query parameter `step` must be an integer, received ''; leave `step` out for the latest"),
    ("report", "many", "query parameter `many` must be an integer, received ''; leave `many` out for its default, 100"),
    ("report", "few", "query parameter `few` must be an integer, received ''; leave `few` out for its default, 20"),
    ("report", "group", "query parameter `group` must be 1 or 0 (or true / false), received ''; leave `group` out "
     "for the per-class report"),
    ("compare", "step", "query parameter `step` must be an integer, received ''; leave `step` out for the latest"),
    ("compare", "baseline_step", "query parameter `baseline_step` must be an integer, received ''; leave "
     "`baseline_step` out for the baseline's latest"),
    ("curves", "step", "query parameter `step` must be an integer, received ''; leave `step` out for the latest"),
    ("curves", "class", "query parameter `class` must be a class index, 0 for the first class, received ''"),
    ("examples", "step", "query parameter `step` must be an integer, received ''; leave `step` out for the latest"),
    ("examples", "true", "query parameter `true` must be the cell's true class index, 0 for the first class, "
     "received ''"),
    ("examples", "pred", "query parameter `pred` must be the cell's predicted class index, 0 for the first class, "
     "received ''"),
    ("example_image", "step", "query parameter `step` must be an integer, received ''; leave `step` out for the "
     "latest"),
    ("example_image", "index", "query parameter `index` must be a thumbnail's position (1 or more), as in the "
     "`image` URL of an example from the `examples` route, received ''"),
])
def test_a_parameter_given_empty_is_refused_not_read_as_left_out(client, route, name, message):
    # `step=` answered the latest step: a URL built from an unset variable showed numbers nobody asked for.
    query = {"run": "baseline", "tag": TAG, **_REQUIRED.get(route, {}), name: ""}
    assert _error(client, route, 400, **query) == message


@pytest.mark.parametrize(("route", "name", "value", "message"), [
    # Class indices are in [0, C): int("-0") is 0, so `classes=-0` answered for the first class.
    ("series", "classes", "-0", "query parameter `classes` must be written 0, without a sign, received '-0'"),
    ("series", "classes", "2,-00", "query parameter `classes` must be written 0, without a sign, received '-00'"),
    ("curves", "class", "-0", "query parameter `class` must be written 0, without a sign, received '-0'"),
    ("examples", "true", "-0", "query parameter `true` must be written 0, without a sign, received '-0'"),
    ("examples", "pred", "-0", "query parameter `pred` must be written 0, without a sign, received '-0'"),
    ("report", "few", "-0", "query parameter `few` must be written 0, without a sign, received '-0'"),
    ("report", "step", "-0", "query parameter `step` must be written 0, without a sign, received '-0'"),
    # `group` takes the documented 1 / 0 / true / false, as written.
    ("report", "group", "TRUE", "query parameter `group` must be 1 or 0 (or true / false), received 'TRUE'"),
    ("report", "group", "True", "query parameter `group` must be 1 or 0 (or true / false), received 'True'"),
    ("report", "group", "FALSE", "query parameter `group` must be 1 or 0 (or true / false), received 'FALSE'"),
])
def test_only_the_documented_spellings_of_indices_and_flags_are_read(client, route, name, value, message):
    query = {"run": "baseline", "tag": TAG, **_REQUIRED.get(route, {}), name: value}
    assert _error(client, route, 400, **query) == message


@pytest.mark.parametrize(("params", "payload"), [
    ({"classes": "02,0003"}, {"class_indices": [2, 3]}),  # leading zeros read as written: 2 and 3
    ({"group": "false"}, {"num_classes": 4}),
    ({"group": "0"}, {"num_classes": 4}),
])
def test_the_documented_spellings_are_still_read(client, params, payload):
    route = "series" if "classes" in params else "report"
    answer = _get(client, route, run="baseline", tag=TAG, **params)
    assert {key: answer[key] for key in payload} == payload
    # `true` is read as 1: rolling up needs class groups, which `baseline` was logged without.
    assert _error(client, "report", 400, run="baseline", tag=TAG, group="true").startswith(
        "query parameter `group`=1 needs class groups: run 'baseline'")


#: How a message gives the fix for query parameter `{name}`: the rule its value must follow, said of
#: the parameter itself (`name` must be / must hold ...), the value to pass when it is missing, give it
#: once, or leave it out. A "must" or "pass" anywhere else in the message is no fix of that parameter.
_FIXES = (
    r"query parameter `{name}`(=\S+)? must (be|hold|list) \S",
    r"; pass `{name}=`, \S",
    r"query parameter `{name}` was given \d+ times \(.*\); give it once$",
    r"; leave `{name}` out",
)


def _assert_names_its_query_parameter_and_the_fix(message: str, name: str) -> None:
    assert f"query parameter `{name}`" in message, message
    assert any(re.search(fix.format(name=re.escape(name)), message) for fix in _FIXES), message


@pytest.mark.parametrize(("name", "message"), [
    ("index", "query parameter `index` 10000 is no thumbnail; this step holds thumbnails 1 to 42"),
    ("step", "query parameter `step` is not a step of this run; it must be fixed"),
    ("run", "query parameter `run` could not be read; pass it again later"),
    ("classes", "query parameter `classes` is wrong; pass `classes=` again"),
    ("baseline", "query parameter `baseline` names a run of other classes; both runs must log the same classes"),
])
def test_a_message_that_names_its_parameter_without_a_fix_fails_the_check(name, message):
    # All but the first hold a "must" or a "pass " that fixes nothing about the parameter.
    with pytest.raises(AssertionError):
        _assert_names_its_query_parameter_and_the_fix(message, name)


@pytest.mark.parametrize(("index", "message"), [
    ("3", "query parameter `index` must be a thumbnail's position, 1 to 2, as in the `image` URL of an example "
          "from the `examples` route, received 3"),
    ("10000", "query parameter `index` must be a thumbnail's position, 1 to 2, as in the `image` URL of an "
              "example from the `examples` route, received 10000"),
])
def test_a_thumbnail_index_past_the_steps_is_a_404_that_names_its_query_parameter_and_the_fix(tmp_path, index, message):
    # Unlike the 400s above, a well-formed `index` may name no thumbnail of the step: not found, said the same way.
    import numpy as np

    import tb_imbalance
    from support import plugin_client
    from tb_imbalance.targets import close_directory_writers

    images = np.linspace(0.0, 1.0, 2 * 8 * 8).reshape(2, 8, 8)
    tb_imbalance.log_report(tmp_path / "pictures", [0, 1], [[0.3, 0.7], [0.6, 0.4]], 5, image=False, examples=images)
    close_directory_writers()
    client = plugin_client(tmp_path)
    said = _error(client, "example_image", 404, run="pictures", tag=TAG, index=index)
    assert said == f"run 'pictures', tag {TAG!r}, step 5: {message}"
    _assert_names_its_query_parameter_and_the_fix(said, "index")


@pytest.fixture(scope="module")
def blob_root(tmp_path_factory):
    """Runs `a` and `b` of 2 classes: step 0 logged with class ids (no curves, no examples), steps 1 and 2
    with scores and 4 pictures (curves and examples); `c` only class ids at step 0; `d` only another tag;
    `e` scores and pictures at step 0, class ids at step 1."""
    import numpy as np

    import tb_imbalance
    from tb_imbalance.targets import close_directory_writers

    root = tmp_path_factory.mktemp("blobs")
    labels, scores = [0, 1, 1, 0], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]]
    pictures = np.linspace(0.0, 1.0, 4 * 8 * 8).reshape(4, 8, 8)
    for run in ("a", "b"):
        tb_imbalance.log_report(root / run, labels, [0, 1, 0, 0], 0, image=False, num_classes=2)
        for step in (1, 2):
            tb_imbalance.log_report(root / run, labels, scores, step, image=False, examples=pictures)
    tb_imbalance.log_report(root / "c", labels, [0, 1, 0, 0], 0, image=False, num_classes=2)
    tb_imbalance.log_report(root / "d", labels, [0, 1, 0, 0], 0, name="other", image=False, num_classes=2)
    tb_imbalance.log_report(root / "e", labels, scores, 0, image=False, examples=pictures)
    tb_imbalance.log_report(root / "e", labels, [0, 1, 0, 0], 1, image=False, num_classes=2)
    close_directory_writers()
    return root


@pytest.fixture(scope="module")
def blob_client(blob_root):
    from support import plugin_client

    return plugin_client(blob_root)


# Every 404 a query parameter can cause, by route: the parameter, its value and what the message must offer.
_NOT_FOUND_BY_ROUTE = {
    "report": [("step", "999", "0, 1, 2")],
    "series": [],
    "compare": [("step", "999", "0, 1, 2"), ("baseline_step", "999", "0, 1, 2")],
    "curves": [("step", "999", "1, 2"), ("step", "0", "1, 2")],
    "examples": [("step", "999", "1, 2"), ("step", "0", "1, 2")],
    "example_image": [("step", "999", "1, 2"), ("step", "0", "1, 2"), ("index", "99", "1 to 4")],
}
_NOT_FOUND_BY_ROUTE["compare"] += [("baseline", "nope", "'a', 'b'"), ("baseline", "d", "'a', 'b', 'c', 'e'")]
for _route in ("curves", "examples", "example_image"):  # a run of the tag that logged none of them
    _NOT_FOUND_BY_ROUTE[_route].append(("run", "c", "'a', 'b', 'e'"))
_NOT_FOUND = [
    (route, *case)
    for route, cases in _NOT_FOUND_BY_ROUTE.items()
    for case in [("run", "nope", "'a', 'b'"), ("tag", "nope", repr(TAG)), *cases]
]
_BLOB_REQUIRED = {"compare": {"baseline": "b"}, "curves": {"class": "0"}, "examples": {"true": "0", "pred": "0"},
                  "example_image": {"index": "1"}}


def _assert_404_names_it_and_offers(client, route, name, value, offered):
    query = {"run": "a", "tag": TAG, **_BLOB_REQUIRED.get(route, {}), name: value}
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=query)
    message = json.loads(response.get_data())["error"]
    assert response.status_code == 404, message
    _assert_names_its_query_parameter_and_the_fix(message, name)
    assert offered in message.split(f"query parameter `{name}`", 1)[1], message


@pytest.mark.parametrize(("route", "name", "value", "offered"), _NOT_FOUND)
def test_every_404_a_query_parameter_causes_names_it_and_the_fix(blob_client, route, name, value, offered):
    _assert_404_names_it_and_offers(blob_client, route, name, value, offered)


@pytest.mark.parametrize("route", ["curves", "examples", "example_image"])
def test_a_run_whose_curves_or_examples_are_at_no_shown_step_names_run_and_the_runs_with_them(blob_root, route):
    # Under --samples_per_plugin imbalance=1 run `e` shows only step 1's matrix; its curves and examples are at step 0.
    from support import client_and_plugin, loader_tensor_size_guidance, plugin_provider

    client = client_and_plugin(plugin_provider(blob_root, loader_tensor_size_guidance({"imbalance": 1}))[0])[0]
    _assert_404_names_it_and_offers(client, route, "run", "e", "'a', 'b'")


def test_a_step_holding_curves_or_examples_whose_matrix_is_not_shown_names_step_and_the_fix():
    # Under --samples_per_plugin a blob step's matrix may be out of TensorBoard's sample: not found, said the same way.
    import numpy as np

    from tb_imbalance import format as fmt
    from tb_imbalance.plugin import errors
    from tb_imbalance.plugin.series import MatrixSeries, PackedMatrix

    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
    series = MatrixSeries(info, "v", [0, 2], [0.0, 2.0], [PackedMatrix.pack(np.eye(2, dtype=np.int64))] * 2)
    with pytest.raises(errors.NotFoundError) as raised:
        series.position(1, offered=("curves", [2]))
    assert raised.value.message == ("step 1 holds curves but no matrix that is shown; query parameter `step` must be "
                                    "a step with curves: 2 (or left out for the latest)")
    _assert_names_its_query_parameter_and_the_fix(raised.value.message, "step")


def test_a_tag_no_run_logged_curves_or_examples_of_names_run_and_says_none_has_them(tmp_path):
    import tb_imbalance
    from support import plugin_client
    from tb_imbalance.targets import close_directory_writers

    tb_imbalance.log_report(tmp_path / "ids", [0, 1], [0, 1], 0, image=False, num_classes=2)
    close_directory_writers()
    client = plugin_client(tmp_path)
    curves = _error(client, "curves", 404, run="ids", tag=TAG, **{"class": 0})
    assert curves.startswith(f"run 'ids', tag {TAG!r}: no curves were logged; query parameter `run` must be a run "
                             "with curves of this tag: none yet. Curves come from scores"), curves
    for route, query in (("examples", {"true": 0, "pred": 0}), ("example_image", {"index": 1})):
        examples = _error(client, route, 404, run="ids", tag=TAG, **query)
        assert examples.startswith(f"run 'ids', tag {TAG!r}: this run/tag logged no examples; query parameter `run` "
                                   "must be a run with examples of this tag: none yet. To see the examples"), examples


def test_curves_logged_only_at_left_out_steps_name_run_and_the_other_runs_with_curves():
    import numpy as np

    from tb_imbalance import format as fmt
    from tb_imbalance.plugin.series import MatrixSeries, PackedMatrix, SkippedStep

    info = fmt.MatrixInfo(1, 2, ("a", "b"), False)
    series = MatrixSeries(info, "v", [3], [3.0], [PackedMatrix.pack(np.eye(2, dtype=np.int64))], [SkippedStep(2, "why")])
    message = series.none_shown_message("r", TAG, "curves", [2], ["s"])
    assert message == (f"run 'r', tag {TAG!r}: the curves were logged at steps that are left out (2; step 2: why). Steps "
                       "that can be shown: 3; query parameter `run` must be another run with curves of this tag: 's'")
    _assert_names_its_query_parameter_and_the_fix(message, "run")


@pytest.mark.parametrize(("route", "query", "name"), [
    *[(route, {"run": "a", **_BLOB_REQUIRED.get(route, {})}, "run")
      for route in ("report", "series", "compare", "curves", "examples", "example_image")],
    ("compare", {"run": "b", "baseline": "a"}, "baseline"),
])
def test_a_run_listed_with_the_tag_but_no_matrix_read_yet_names_its_parameter_and_the_other_runs(
    blob_root, monkeypatch, route, query, name
):
    # The listing and the read are two calls: a run may be listed before any of its matrices can be read.
    from support import plugin_client
    from tb_imbalance.plugin.reader import ImbalanceData

    read = ImbalanceData._read_points
    monkeypatch.setattr(ImbalanceData, "_read_points",
                        lambda self, ctx, eid, run, tag: [] if run == "a" else read(self, ctx, eid, run, tag))
    message = _error(plugin_client(blob_root), route, 404, tag=TAG, **query)
    assert message == (f"run 'a', tag {TAG!r} has no confusion matrices yet; query parameter `{name}` must be another "
                       "run with this tag: 'b', 'c', 'e'"), message
    _assert_names_its_query_parameter_and_the_fix(message, name)


@pytest.mark.parametrize(("parameter", "step_parameter"), [("run", "step"), ("baseline", "baseline_step")])
def test_a_series_without_steps_names_the_query_parameter_its_run_came_from(parameter, step_parameter):
    from tb_imbalance import format as fmt
    from tb_imbalance.plugin import errors
    from tb_imbalance.plugin.payloads import _matrix_at
    from tb_imbalance.plugin.series import MatrixSeries

    empty = MatrixSeries(fmt.MatrixInfo(1, 2, ("a", "b"), False), "v", [], [], [])
    with pytest.raises(errors.NotFoundError) as raised:
        _matrix_at(empty, "r", TAG, None, step_parameter)
    assert raised.value.message == (f"run 'r', tag {TAG!r} has no confusion matrices yet; query parameter `{parameter}` "
                                    "must be another run with this tag, as the `runs` route lists them")
    _assert_names_its_query_parameter_and_the_fix(raised.value.message, parameter)
