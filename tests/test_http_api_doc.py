"""``docs/http_api.md`` stays in step with the real routes.

Every ``Request: `GET <url>` → `<status>``` line of the page is replayed
against the plugin (through TensorBoard's WSGI app) on the logdir the page
describes; the status must match, and the documented JSON must have the same
shape (keys, nesting, value types) as the real response; a documented error
must be the plugin's message word for word. The page's route headings, status
table, field tables (every key of the real answers, and the keys of their
fixed-key objects such as ``per_class`` and ``metrics`` named in the field's
row), parameter tables and content-type table are checked against the plugin
too.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import shutil
import urllib.parse
from typing import Any

import pytest
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as tb_data_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from werkzeug import test as werkzeug_test

from support import PLUGIN_ROUTE, make_logdir, write_newer_format_run
from tb_imbalance.plugin import ImbalancePlugin
from tb_imbalance.plugin import static as plugin_static

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "http_api.md"
REQUEST_LINE = re.compile(r"^Request: `GET (?P<url>\S+)` → `(?P<status>\d{3})`$")
ROUTE_HEADING = re.compile(r"^## `GET (?P<route>/\S+)`$")
DATA_ROUTES = ("/runs", "/report", "/series", "/compare", "/curves", "/examples", "/example_image")
#: Routes answering JSON, each with a table of its response fields.
FIELD_ROUTES = ("/report", "/series", "/compare", "/curves", "/examples")
#: Response fields that are objects with fixed keys: the field's row in the
#: table must name each of their keys (written `key`).
NESTED_FIELDS = {
    "/report": ("metrics", "per_class"),
    "/series": ("metrics",),
    "/compare": ("per_class",),
    "/curves": ("pr", "roc", "reliability", "operating_point"),
}
UNREADABLE_RUN = "unreadable"
RERUN = "rerun"
OTHER_CLASSES_RUN = "binary"
WEIGHTED_RUN = "weighted"
LONG_TAIL_RUN = "long_tail"
LONG_TAIL_NAMES = ["cat", "dog", "fox", "owl", "bat"]
LONG_TAIL_COUNTS = [500, 300, 60, 25, 8]
LONG_TAIL_GROUPS = {"pets": ["cat", "dog"], "wild": ["fox", "owl"]}
LONG_TAIL_MATRICES = {
    0: [[80, 12, 4, 2, 2], [15, 60, 3, 1, 1], [6, 4, 14, 5, 1], [3, 2, 7, 7, 1], [3, 2, 2, 2, 1]],
    1: [[90, 6, 2, 1, 1], [8, 70, 1, 1, 0], [3, 2, 20, 4, 1], [1, 1, 5, 12, 1], [2, 1, 1, 2, 4]],
}
CLASS_NAMES = ["normal", "spam", "phishing", "malware"]
EXAMPLES_RUN = "mail"
IMAGES_RUN = "digits"
SCORES_RUN = "scores"
SCORES_ROWS = 40
DIGIT_NAMES = ["zero", "one", "two"]


@dataclasses.dataclass(frozen=True)
class Example:
    url: str
    status: int
    body: Any
    line: int
    section: str

    @property
    def route(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    @property
    def params(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query, keep_blank_values=True))


def _sections(text: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = "(preamble)"
    for line in text.splitlines():
        heading = ROUTE_HEADING.match(line)
        if heading:
            current = heading["route"].removeprefix(PLUGIN_ROUTE)
        elif line.startswith("## "):
            current = line[3:].strip()
        sections.setdefault(current, []).append(line)
    return sections


def _examples(text: str) -> list[Example]:
    examples = []
    for section, lines in _sections(text).items():
        for index, line in enumerate(lines):
            match = REQUEST_LINE.match(line)
            if not match:
                continue
            body = None
            following = index + 1
            while following < len(lines) and not lines[following].strip():
                following += 1
            if following < len(lines) and lines[following].strip() == "```json":
                end = lines.index("```", following + 1)
                body = json.loads("\n".join(lines[following + 1 : end]))
            examples.append(Example(match["url"], int(match["status"]), body, index, section))
    return examples


def _table(lines: list[str], anchor: str) -> list[list[str]]:
    """Body rows of the first Markdown table at or after the line ``anchor``."""
    position = lines.index(anchor)
    while not lines[position].startswith("|"):
        position += 1
    rows = []
    while position < len(lines) and lines[position].startswith("|"):
        if not lines[position].startswith("| ---"):
            rows.append([cell.strip() for cell in lines[position].strip("|").split("|")])
        position += 1
    return rows[1:]


def _first_column_names(rows: list[list[str]]) -> set[str]:
    return {row[0].strip("`") for row in rows}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", sorted({json.dumps(_shape(item), sort_keys=True) for item in value})]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return type(value).__name__


DOC_TEXT = DOC.read_text(encoding="utf-8")
SECTIONS = _sections(DOC_TEXT)
EXAMPLES = _examples(DOC_TEXT)


class _ProviderWithUnreadableRun:
    """A real data provider whose reads of one run fail, as a broken store would."""

    def __init__(self, provider):
        self._provider = provider

    def __getattr__(self, name):
        return getattr(self._provider, name)

    def read_tensors(self, ctx=None, *, run_tag_filter=None, **kwargs):
        if run_tag_filter is not None and UNREADABLE_RUN in (run_tag_filter.runs or ()):
            raise OSError("<the data provider's message>")
        return self._provider.read_tensors(ctx, run_tag_filter=run_tag_filter, **kwargs)


RERUN_MATRICES = {
    0: [[50, 4, 3, 3], [9, 20, 1, 0], [5, 2, 8, 1], [4, 0, 1, 3]],
    1: [[55, 2, 2, 1], [6, 24, 0, 0], [3, 1, 11, 1], [2, 0, 1, 5]],
    2: [[57, 1, 1, 1], [4, 26, 0, 0], [2, 1, 13, 0], [1, 0, 1, 6]],
}


def write_rerun_with_fewer_classes(run_dir: pathlib.Path) -> None:
    """Steps 0–2 with four classes, then steps 3–4 with three, as a second
    process writing into the same run directory would (the low-level event
    file path checks nothing)."""
    import time

    import numpy as np

    from tb_imbalance.event_file import EventFile
    from tb_imbalance.events import report_values

    with EventFile(run_dir) as events:
        for step, cm in RERUN_MATRICES.items():
            events.write(step, report_values("confusion_matrix", np.array(cm), CLASS_NAMES, image=None))
    started = int(time.time())
    while int(time.time()) == started:  # the second file's name sorts after the first's
        time.sleep(0.05)
    with EventFile(run_dir) as events:
        for step in (3, 4):
            cm = np.array([[40, 5, 5], [6, 30, 4], [2, 3, 25]])
            events.write(step, report_values("confusion_matrix", cm, ["normal", "spam", "phishing"], image=None))


def write_weighted_run_without_malware(run_dir: pathlib.Path) -> None:
    """One step logged with sample weights, with no `malware` sample and no `malware` prediction."""
    import numpy as np
    import tensorflow as tf

    from tb_imbalance import summary as tbs

    rng = np.random.default_rng(11)
    labels = rng.choice(3, size=300, p=[0.6, 0.3, 0.1])
    predictions = np.where(rng.random(300) < 0.8, labels, rng.integers(0, 3, size=300))
    weights = np.where(labels == 2, 3.0, 1.0) * rng.uniform(0.5, 1.5, size=300).round(2)
    writer = tf.summary.create_file_writer(str(run_dir))
    with writer.as_default():
        tbs.confusion_matrix(
            "confusion_matrix", labels, predictions, step=2, num_classes=4, class_names=CLASS_NAMES,
            sample_weight=weights,
        )
    writer.close()


def write_long_tail_run(run_dir: pathlib.Path) -> None:
    """Two steps logged with the training examples per class and class groups."""
    from tb_imbalance import ReportWriter

    with ReportWriter(run_dir) as writer:
        for step, cm in LONG_TAIL_MATRICES.items():
            writer.write_matrix(
                step, "confusion_matrix", cm, LONG_TAIL_NAMES, image=False,
                class_counts=LONG_TAIL_COUNTS, class_groups=LONG_TAIL_GROUPS,
            )


def write_example_runs(root: pathlib.Path) -> None:
    """`mail`: text examples with string ids at steps 1 and 2 (step 0 has none);
    `digits`: one step with 28×28 picture examples."""
    import numpy as np

    import tb_imbalance

    rng = np.random.default_rng(21)
    for step in range(3):
        labels = rng.choice(4, size=200, p=[0.6, 0.25, 0.1, 0.05])
        logits = rng.normal(size=(200, 4))
        logits[np.arange(200), labels] += 1.0 + step
        scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        texts = [f"Message {row}: " + "please verify your account " * (row % 9) for row in range(200)]
        options = {"examples": texts, "example_ids": [f"mail-{row}" for row in range(200)]} if step else {}
        tb_imbalance.log_report(str(root / EXAMPLES_RUN), labels, scores, step, class_names=CLASS_NAMES,
                                image=False, **options)
    labels = rng.integers(0, 3, size=90)
    logits = rng.normal(size=(90, 3))
    logits[np.arange(90), labels] += 1.5
    tb_imbalance.log_report(str(root / IMAGES_RUN), labels, logits, 0, class_names=DIGIT_NAMES, from_logits=True,
                            image=False, examples=rng.integers(0, 256, size=(90, 28, 28)).astype(np.uint8))
    tb_imbalance.targets.close_directory_writers()


def write_scores_run(run_dir: pathlib.Path) -> None:
    """Two steps of 40 rows logged with class probabilities (so with curves);
    step 1 has no `malware` example."""
    import numpy as np

    import tb_imbalance

    rng = np.random.default_rng(5)
    for step, priors in enumerate(([0.5, 0.25, 0.15, 0.1], [0.55, 0.3, 0.15, 0.0])):
        labels = rng.choice(4, size=SCORES_ROWS, p=priors)
        logits = rng.normal(size=(SCORES_ROWS, 4))
        logits[np.arange(SCORES_ROWS), labels] += 1.5 + step
        scores = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        tb_imbalance.log_report(str(run_dir), labels, scores, step, class_names=CLASS_NAMES, image=False)
    tb_imbalance.targets.close_directory_writers()


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> werkzeug_test.Client:
    root = tmp_path_factory.mktemp("documented")
    make_logdir(root, num_steps=3, class_names=CLASS_NAMES)
    write_newer_format_run(root, "future")
    write_rerun_with_fewer_classes(root / RERUN)
    make_logdir(root, runs=(OTHER_CLASSES_RUN,), num_steps=2, num_classes=2, class_names=["legit", "fraud"], seed=4)
    write_weighted_run_without_malware(root / WEIGHTED_RUN)
    write_long_tail_run(root / LONG_TAIL_RUN)
    write_example_runs(root)
    write_scores_run(root / SCORES_RUN)
    shutil.copytree(root / "baseline", root / UNREADABLE_RUN)
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    multiplexer.AddRunsFromDirectory(str(root))
    multiplexer.Reload()
    provider = _ProviderWithUnreadableRun(tb_data_provider.MultiplexerDataProvider(multiplexer, str(root)))
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=provider))
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin]))


def test_the_page_has_examples():
    assert len(EXAMPLES) >= 15
    assert {example.section for example in EXAMPLES} >= {*DATA_ROUTES, "Static files"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.status} {e.url}" for e in EXAMPLES])
def test_documented_request_answers_as_documented(client, example):
    response = client.get(example.url)
    assert response.status_code == example.status, response.get_data(as_text=True)
    if response.mimetype == "application/json":
        assert example.body is not None, f"{example.url}: the page shows no JSON for this request"
        actual = json.loads(response.get_data())
        assert _shape(example.body) == _shape(actual)
    else:
        assert example.body is None


def test_documented_thumbnails_are_png(client):
    thumbnails = [e for e in EXAMPLES if e.section == "/example_image" and e.status == 200]
    assert thumbnails
    for example in thumbnails:
        response = client.get(example.url)
        assert response.headers["Content-Type"] == "image/png"
        assert response.get_data().startswith(b"\x89PNG\r\n\x1a\n")


def test_documented_thumbnail_urls_are_the_ones_served(client):
    documented_images = {e.url for e in EXAMPLES if e.section == "/example_image" and e.status == 200}
    served_images = set()
    for example in EXAMPLES:
        if example.section == "/examples" and example.status == 200:
            actual = json.loads(client.get(example.url).get_data())
            assert [e.get("image") for e in example.body["examples"]] == [e.get("image") for e in actual["examples"]]
            served_images |= {f"{PLUGIN_ROUTE}/{e['image']}" for e in actual["examples"] if "image" in e}
    assert documented_images and documented_images <= served_images


def test_every_data_route_is_documented_and_nothing_else():
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=None))
    routes = set(plugin.get_plugin_apps())
    documented = {route for route in SECTIONS if route.startswith("/")}
    assert documented == set(DATA_ROUTES) == routes - {"/index.js", "/static/*"}
    static_examples = {example.route for example in EXAMPLES if example.section == "Static files"}
    assert f"{PLUGIN_ROUTE}/index.js" in static_examples
    assert any(route.startswith(f"{PLUGIN_ROUTE}/static/") for route in static_examples)
    for example in EXAMPLES:
        if example.section in DATA_ROUTES:
            assert example.route == PLUGIN_ROUTE + example.section


def test_documented_error_statuses_are_the_ones_the_examples_produce():
    documented = {int(row[0]) for row in _table(SECTIONS["Conventions"], "### Errors")}
    produced = {example.status for example in EXAMPLES if example.status != 200}
    assert documented == produced == {400, 404, 422, 503}
    for example in EXAMPLES:
        if example.status != 200 and example.body is not None:
            assert set(example.body) == {"error"}


def test_documented_error_messages_are_the_plugins(client):
    errors = [example for example in EXAMPLES if example.status != 200 and example.body is not None]
    assert errors
    wrong = {}
    for example in errors:
        actual = json.loads(client.get(example.url).get_data())
        if actual != example.body:
            wrong[example.url] = actual["error"]
    assert not wrong, wrong


@pytest.mark.parametrize("route", FIELD_ROUTES)
def test_field_tables_list_exactly_the_response_keys(client, route):
    """The table lists every key of the real answers to the documented
    requests (and no other), and each fixed-key object's row names its keys."""
    rows = {row[0].strip("`"): row[1] for row in _table(SECTIONS[route], "### Response fields")}
    documented = [example for example in EXAMPLES if example.section == route and example.status == 200]
    assert documented
    keys: set[str] = set()
    unnamed: dict[str, set[str]] = {}
    for example in documented:
        actual = json.loads(client.get(example.url).get_data())
        for body in (actual, example.body):
            keys |= set(body)
            for field in NESTED_FIELDS.get(route, ()):
                if isinstance(body.get(field), dict):
                    named = rows.get(field, "")
                    unnamed.setdefault(field, set()).update(key for key in body[field] if f"`{key}`" not in named)
    assert set(rows) == keys
    assert all(not missing for missing in unnamed.values()), unnamed
    assert set(unnamed) == set(NESTED_FIELDS.get(route, ())), "a checked object is in no documented answer"


@pytest.mark.parametrize(
    ("route", "parameters"),
    [
        ("/report", {"run", "tag", "step", "many", "few", "group"}),
        ("/series", {"run", "tag", "classes"}),
        ("/compare", {"run", "tag", "step", "baseline", "baseline_step"}),
        ("/curves", {"run", "tag", "step", "class"}),
        ("/examples", {"run", "tag", "step", "true", "pred"}),
        ("/example_image", {"run", "tag", "step", "index"}),
    ],
)
def test_parameter_tables_cover_the_parameters_used(route, parameters):
    documented = _first_column_names(_table(SECTIONS[route], "### Query parameters"))
    assert documented == parameters
    used = set()
    for example in EXAMPLES:
        if example.section == route:
            used |= set(example.params)
    assert used == documented


def test_static_content_types_table_matches_the_plugin():
    rows = _table(SECTIONS["Static files"], "| Extension | Content type |")
    documented = {row[0].strip("`"): row[1].strip("`") for row in rows}
    assert documented == plugin_static.STATIC_CONTENT_TYPES


def test_documented_left_out_steps_are_exactly_what_the_plugin_answers(client):
    listed = [
        example for example in EXAMPLES
        if example.status == 200 and isinstance(example.body, dict) and example.body.get("skipped_steps")
    ]
    assert listed, "the page shows no response with steps left out"
    for example in listed:
        actual = json.loads(client.get(example.url).get_data())
        assert actual["skipped_steps"] == example.body["skipped_steps"]
        assert actual["steps"] == example.body["steps"]
        if "confusion_matrix" in example.body:
            assert actual["confusion_matrix"] == example.body["confusion_matrix"]
    refused = [example for example in EXAMPLES if example.status == 422 and "left out" in example.body["error"]]
    assert refused, "the page shows no request for a step that was left out"
    for example in refused:
        assert json.loads(client.get(example.url).get_data()) == example.body


def _left_out_bullets() -> list[str]:
    """The bullets of "Steps left out", each joined into one line."""
    lines = SECTIONS["Conventions"]
    bullets: list[str] = []
    for line in lines[lines.index("### Steps left out"):]:
        if line.startswith("* "):
            bullets.append(line[2:])
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
        elif bullets:
            break
    return bullets


def _routes_before(bullet: str, words: str) -> set[str]:
    """The routes named (written `route`) in ``bullet``'s sentence that holds ``words``, before them."""
    (sentence,) = [part for part in re.split(r"(?<=\.) ", bullet) if words in part]
    return set(re.findall(r"`(\w+)`", sentence.split(words)[0])) & {route[1:] for route in DATA_ROUTES}


def test_the_routes_said_to_list_or_refuse_left_out_steps_do(client):
    # `compare` answers no `skipped_steps`, which the page once said it listed.
    bullets = _left_out_bullets()
    (listing,) = [bullet for bullet in bullets if "step left out in `skipped_steps`" in bullet]
    listed = _routes_before(listing, "step left out in `skipped_steps`")
    (refusing,) = [bullet for bullet in bullets if bullet.startswith("Asking ")]
    refused = _routes_before(refusing, "for a step that was left out")
    assert listed == {"report", "series"} and refused == {"report", "compare"}
    queries = {"report": {}, "series": {}, "compare": {"baseline": "baseline"}}
    expected = json.loads(client.get(f"{PLUGIN_ROUTE}/report?run={RERUN}&tag=confusion_matrix").get_data())
    assert [entry["step"] for entry in expected["skipped_steps"]] == [3, 4]
    for route, extra in queries.items():
        answer = json.loads(client.get(f"{PLUGIN_ROUTE}/{route}", query_string={
            "run": RERUN, "tag": "confusion_matrix", **extra}).get_data())
        assert answer.get("skipped_steps") == (expected["skipped_steps"] if route in listed else None), route
        refusal = client.get(f"{PLUGIN_ROUTE}/{route}", query_string={
            "run": RERUN, "tag": "confusion_matrix", "step": "3", **extra})
        assert (refusal.status_code == 422) == (route in refused), route
