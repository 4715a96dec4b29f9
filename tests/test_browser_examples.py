"""The examples behind each confusion-matrix cell, in a real headless Chromium against a real ``tensorboard``.

One ``tensorboard --load_fast=false`` process serves a generated logdir:

* ``pictures``: 3 classes (two rolled up into a class group), tag
  ``image_matrix``, steps 0–3, ``[N, 8, 8]`` float pictures as examples with
  integer ids;
* ``partial``: like ``pictures``, with examples at step 0 but not at step 1;
* ``texts``: 3 classes, one named like an HTML injection, tag
  ``text_matrix``, steps 0–1, text examples with string ids, one of them a
  hostile string that must stay text;
* ``wide``: 60 classes (the heat map and the top-confusions list), tag
  ``wide_matrix``, one step of ``[N, 64]`` value rows, cut by a byte bound;
* ``long_names``: 100 long class names (sharing their start, upright, right
  to left, emoji, hostile, without a separator), tag ``long_matrix``, one step
  of text examples, whose three largest confusions are between long names.

What the page shows is compared with the ``examples`` route's answer. Every
test fails on console errors, uncaught exceptions, dialogs and CSP
violations, and leaves a screenshot named after it in ``test-artifacts/``.
"""

from __future__ import annotations

import pathlib
import unicodedata
from typing import Any, Iterator

import numpy as np
import pytest

from browser_support import browser  # noqa: F401  (pytest fixture, used by name)
from browser_support import Dashboard, dashboard_page, fetch_json, wait_ready
from support import HOSTILE_CLASS_NAME, tensorboard_server

pytest.importorskip("playwright.sync_api")

PICTURE_TAG = "image_matrix"
PICTURE_NAMES = ["cat", "dog", "bird"]
PICTURE_GROUPS = {"pets": ["cat", "dog"]}
PICTURE_STEPS = 4
PICTURE_ROWS = 90

TEXT_TAG = "text_matrix"
TEXT_NAMES = ["ham", HOSTILE_CLASS_NAME, "phish"]
HOSTILE_TEXT = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ID = "<script>window.__pwned=2</script>"
TEXT_ROWS = 60

WIDE_TAG = "wide_matrix"
WIDE_CLASSES = 60
WIDE_ROWS = 900

LONG_TAG = "long_matrix"
#: 100 class names: pairs that share a long start and differ at their end, upright (CJK), right-to-left,
#: hostile, emoji, one without a separator and one with spaces.
LONG_NAMES = (
    [f"transaction_type_wire_domestic_{k:02d}_{size}" for k in range(40) for size in ("small", "large")]
    + [f"国際電信送金の取引種別クラス番号{k}" for k in range(8)]
    + [f"فئة_المعاملات_الدولية_الكبيرة_{k}" for k in range(6)]
    + [f'<img src=x onerror="window.__pwned={k + 3}">_' + "hostile_class_name_" * 3 + str(k) for k in range(3)]
    + ["🐈" * 40 + "_cat", "w" * 150, " ".join(["a long name with spaces and/or separators in.it"] * 3)]
)
#: The three largest confusions (true, predicted), in rank order, and the classes of their top-3 scores.
LONG_CELLS = {(0, 1): (1, 94, 0), (98, 80): (80, 88, 98), (88, 99): (99, 97, 88)}


def _scores(rng: np.random.Generator, labels: np.ndarray, num_classes: int, strength: float) -> np.ndarray:
    """Softmax scores that favour the true class (so the matrix has a diagonal)."""
    logits = rng.normal(size=(len(labels), num_classes))
    logits[np.arange(len(labels)), labels] += strength
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> pathlib.Path:
    import tb_imbalance

    root = tmp_path_factory.mktemp("examples_logdir")
    rng = np.random.default_rng(11)
    labels = rng.integers(0, len(PICTURE_NAMES), size=PICTURE_ROWS)
    pictures = rng.random(size=(PICTURE_ROWS, 8, 8))
    for step in range(PICTURE_STEPS):
        tb_imbalance.log_report(
            root / "pictures", labels, _scores(rng, labels, len(PICTURE_NAMES), 1.0), step,
            name=PICTURE_TAG, class_names=PICTURE_NAMES, class_groups=PICTURE_GROUPS, image=False,
            examples=pictures, example_ids=list(range(1000, 1000 + PICTURE_ROWS)),
        )

    # ``partial``: examples at step 0 only.
    for step in range(2):
        tb_imbalance.log_report(
            root / "partial", labels, _scores(rng, labels, len(PICTURE_NAMES), 1.0), step,
            name=PICTURE_TAG, class_names=PICTURE_NAMES, image=False,
            examples=pictures if step == 0 else None,
        )

    labels = rng.integers(0, len(TEXT_NAMES), size=TEXT_ROWS)
    labels[0] = 0
    texts = [f"message {row}: " + "lorem ipsum " * (row % 30) for row in range(TEXT_ROWS)]
    texts[0] = HOSTILE_TEXT
    ids = [f"mail-{row}" for row in range(TEXT_ROWS)]
    ids[0] = HOSTILE_ID
    for step in range(2):
        scores = _scores(rng, labels, len(TEXT_NAMES), 1.0)
        scores[0] = [0.001, 0.998, 0.001]  # the most confident "ham → hostile" mistake
        tb_imbalance.log_report(
            root / "texts", labels, scores, step, name=TEXT_TAG, class_names=TEXT_NAMES, image=False,
            examples=texts, example_ids=ids,
        )

    labels = rng.integers(0, WIDE_CLASSES, size=WIDE_ROWS)
    tb_imbalance.log_report(
        root / "wide", labels, _scores(rng, labels, WIDE_CLASSES, 3.0), 0, name=WIDE_TAG,
        image=False, per_class_scalars=False, examples=rng.normal(size=(WIDE_ROWS, 64)),
        examples_max_bytes=60_000,
    )

    # Few mistakes but the three cells of LONG_CELLS, each with its own top-3 scores.
    labels = np.repeat(np.arange(len(LONG_NAMES)), 4)
    scores = _scores(rng, labels, len(LONG_NAMES), 9.0)
    for count, ((true, _), top) in zip((40, 30, 20), LONG_CELLS.items()):
        rows = np.zeros((count, len(LONG_NAMES)))
        rows[:, list(top)] = [0.6, 0.25, 0.1]
        rows += 0.05 / len(LONG_NAMES)
        labels, scores = np.concatenate([labels, np.full(count, true)]), np.concatenate([scores, rows])
    tb_imbalance.log_report(
        root / "long_names", labels, scores, 0, name=LONG_TAG, class_names=LONG_NAMES, image=False,
        examples=[f"message {row}" for row in range(len(labels))],
    )
    return root


@pytest.fixture(scope="module")
def server(logdir) -> Iterator[str]:
    with tensorboard_server(logdir, load_fast=False) as base_url:
        yield base_url


@pytest.fixture
def dashboard(browser, server, request) -> Iterator[Dashboard]:
    yield from dashboard_page(browser, server, request.node.name)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def wait_panel(page: Any, *, step: int | None = None, state: str = "ready") -> Any:
    """The examples panel, once it shows ``state`` (at ``step`` when given)."""
    step_part = "" if step is None else f" && panel.dataset.step === '{step}'"
    page.wait_for_function(
        f"""() => {{
            const panel = document.querySelector('[data-testid=examples-panel]');
            return panel && !panel.hidden && panel.dataset.state === '{state}'{step_part};
        }}"""
    )
    return page.get_by_test_id("examples-panel")


def panel_examples(page: Any) -> list[dict[str, Any]]:
    """What the panel shows for each example."""
    return page.get_by_test_id("example").evaluate_all(
        """items => items.map(item => ({
            id: item.dataset.id,
            kind: item.dataset.kind,
            idLabel: item.querySelector('[data-testid=example-id]').textContent,
            classes: item.querySelector('[data-testid=example-classes]').textContent,
            scores: [...item.querySelectorAll('[data-testid=example-score]')].map(cell => cell.textContent),
            names: [...item.querySelectorAll('.example-top-name')].map(cell => cell.title),
            text: item.querySelector('[data-testid=example-text]')?.textContent ?? null,
            values: item.querySelector('[data-testid=example-values]')?.textContent ?? null,
            image: item.querySelector('img') ? {
                alt: item.querySelector('img').alt,
                src: item.querySelector('img').getAttribute('src'),
            } : null,
        }))"""
    )


def wait_images_loaded(page: Any) -> list[int]:
    """``naturalWidth`` of every thumbnail in the panel, once all finished loading."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=examples-panel] img')].every(img => img.complete)"
    )
    return page.locator("[data-testid=examples-panel] img").evaluate_all("imgs => imgs.map(img => img.naturalWidth)")


def score_text(score: float) -> str:
    """A probability as the panel writes it."""
    if 0 < score < 0.0005:
        return "<0.1%"
    if 0.9995 < score < 1:
        return ">99.9%"
    return f"{score * 100:.1f}%"


def id_label(example: dict[str, Any]) -> str:
    label = f"id {example['id']}"
    return label if str(example["row"]) == str(example["id"]) else f"{label} · row {example['row']}"


def assert_panel_matches(page: Any, route: dict[str, Any]) -> None:
    """The panel's heading, caption and every example equal the route's answer."""
    heading = f"{route['true_name']} → {route['pred_name']} at step {route['step']}"
    assert page.get_by_test_id("examples-heading").text_content() == heading
    order = "least confident correct" if route["true"] == route["pred"] else "most confident mistakes"
    rows = "row" if route["count"] == 1 else "rows"
    caption = f"{len(route['examples'])} of {route['count']:,} {rows} of the examples set · {order}"
    assert page.get_by_test_id("examples-caption").text_content() == caption
    shown = panel_examples(page)
    assert [item["id"] for item in shown] == [str(example["id"]) for example in route["examples"]]
    for item, example in zip(shown, route["examples"]):
        assert item["kind"] == example["kind"]
        assert item["idLabel"] == id_label(example)
        assert item["classes"] == f"true {route['true_name']} · predicted {route['pred_name']}"
        assert item["names"] == [entry["name"] for entry in example["top"]]
        assert item["scores"] == [score_text(entry["score"]) for entry in example["top"]]


def open_cell(dashboard: Dashboard, run: str, tag: str, true: int, pred: int, step: int | None = None) -> dict[str, Any]:
    """Click cell (true, pred) of the grid; the route's answer for it."""
    page = dashboard.page
    dashboard.page.locator(f"td[data-testid=matrix-cell][data-true='{true}'][data-pred='{pred}']").click()
    route = fetch_json(page, "examples", run=run, tag=tag, true=true, pred=pred, **({} if step is None else {"step": step}))
    wait_panel(page, step=route["step"])
    return route


def busiest_mistake(page: Any, run: str, tag: str, num_classes: int) -> tuple[int, int]:
    """The off-diagonal cell with the most examples at the latest step."""
    best = None
    for true in range(num_classes):
        for pred in range(num_classes):
            if true == pred:
                continue
            shown = len(fetch_json(page, "examples", run=run, tag=tag, true=true, pred=pred)["examples"])
            if best is None or shown > best[0]:
                best = (shown, true, pred)
    assert best and best[0] > 1, "the logdir should have a cell with several examples"
    return best[1], best[2]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_clicking_a_cell_shows_its_thumbnails_ids_and_scores(dashboard):
    page = dashboard.open(runs=["pictures"], tag=PICTURE_TAG)
    report = fetch_json(page, "report", run="pictures", tag=PICTURE_TAG)
    assert report["has_examples"] is True
    hint = dashboard.testid("examples-hint")
    assert hint.is_visible() and hint.text_content().startswith("Click a cell to see its examples")
    assert dashboard.testid("examples-panel").is_hidden()

    true, pred = busiest_mistake(page, "pictures", PICTURE_TAG, len(PICTURE_NAMES))
    route = open_cell(dashboard, "pictures", PICTURE_TAG, true, pred)
    assert route["step"] == PICTURE_STEPS - 1
    panel = dashboard.testid("examples-panel")
    assert panel.get_attribute("role") == "region"
    assert_panel_matches(page, route)
    widths = wait_images_loaded(page)
    assert len(widths) == len(route["examples"]) and all(width > 0 for width in widths)
    for item, example in zip(panel_examples(page), route["examples"]):
        assert item["image"]["alt"] == (f"Example {example['id']}: true \u2068{route['true_name']}\u2069, "
                                        f"predicted \u2068{route['pred_name']}\u2069")
        assert item["image"]["src"].endswith(example["image"])
    # Thumbnails are drawn larger than their 8 px, pixelated.
    size = page.locator("[data-testid=examples-panel] img").first.evaluate(
        "img => [img.clientWidth, getComputedStyle(img).imageRendering]"
    )
    assert size == [96, "pixelated"]

    # A diagonal cell: the least confident correct rows.
    route = open_cell(dashboard, "pictures", PICTURE_TAG, 2, 2)
    assert_panel_matches(page, route)
    assert "least confident correct" in dashboard.testid("examples-caption").text_content()
    widths = wait_images_loaded(page)
    assert len(widths) == len(route["examples"]) and all(width > 0 for width in widths)

    dashboard.testid("examples-close").click()
    assert panel.is_hidden()
    dashboard.problems.assert_none()


def test_keyboard_opens_the_panel_and_escape_gives_focus_back(dashboard):
    page = dashboard.open(runs=["pictures"], tag=PICTURE_TAG)
    cells = page.locator("td[data-testid=matrix-cell]")
    # One tab stop for the whole grid.
    assert cells.evaluate_all("cells => cells.filter(c => c.tabIndex === 0).length") == 1
    first = page.locator("td[data-testid=matrix-cell][data-true='0'][data-pred='0']")
    first.focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("() => [document.activeElement.dataset.true, document.activeElement.dataset.pred]")
    assert focused == ["0", "1"]
    page.keyboard.press("Enter")
    route = fetch_json(page, "examples", run="pictures", tag=PICTURE_TAG, true=0, pred=1)
    wait_panel(page, step=route["step"])
    assert_panel_matches(page, route)
    assert page.evaluate("() => document.querySelector('[data-testid=examples-panel]').contains(document.activeElement)")

    page.keyboard.press("Escape")
    assert dashboard.testid("examples-panel").is_hidden()
    focused = page.evaluate("() => [document.activeElement.dataset.testid, document.activeElement.dataset.true, document.activeElement.dataset.pred]")
    assert focused == ["matrix-cell", "0", "1"]

    # Space opens too, and the close button gives focus back as well.
    page.keyboard.press("ArrowDown")
    page.keyboard.press(" ")
    route = fetch_json(page, "examples", run="pictures", tag=PICTURE_TAG, true=1, pred=1)
    wait_panel(page, step=route["step"])
    assert dashboard.testid("examples-heading").text_content() == f"dog → dog at step {route['step']}"
    page.keyboard.press("Tab")  # from the heading to the close button
    page.keyboard.press("Enter")
    assert dashboard.testid("examples-panel").is_hidden()
    assert page.evaluate("() => [document.activeElement.dataset.true, document.activeElement.dataset.pred]") == ["1", "1"]
    dashboard.problems.assert_none()


def test_moving_the_step_slider_refetches_the_open_panel(dashboard):
    page = dashboard.open(runs=["pictures"], tag=PICTURE_TAG)
    true, pred = 0, 1
    open_cell(dashboard, "pictures", PICTURE_TAG, true, pred)
    assert dashboard.testid("examples-heading").text_content().endswith(f"at step {PICTURE_STEPS - 1}")
    for step in (1, 0, 2):
        dashboard.testid("matrix-step-slider").fill(str(step))
        wait_ready(page)
        wait_panel(page, step=step)
        route = fetch_json(page, "examples", run="pictures", tag=PICTURE_TAG, true=true, pred=pred, step=step)
        assert_panel_matches(page, route)
        widths = wait_images_loaded(page)
        assert len(widths) == len(route["examples"]) and all(width > 0 for width in widths)
        assert all(f"step={step}" in item["image"]["src"] for item in panel_examples(page))
    dashboard.problems.assert_none()


def test_hostile_text_example_and_class_name_stay_text(dashboard):
    page = dashboard.open(runs=["texts"], tag=TEXT_TAG)
    route = open_cell(dashboard, "texts", TEXT_TAG, 0, 1)
    assert route["examples"][0]["id"] == HOSTILE_ID
    assert_panel_matches(page, route)
    shown = panel_examples(page)
    assert shown[0]["text"] == HOSTILE_TEXT
    assert shown[0]["idLabel"] == f"id {HOSTILE_ID} · row 0"
    assert dashboard.testid("examples-heading").text_content() == f"ham → {HOSTILE_CLASS_NAME} at step 1"
    # Each name is isolated from the arrow, so a right-to-left name cannot turn "true → predicted" around.
    assert dashboard.testid("examples-heading").locator("bdi").all_text_contents() == ["ham", HOSTILE_CLASS_NAME]
    # So is each example's "true … · predicted …" line.
    classes = page.get_by_test_id("example-classes").first.locator("bdi").all_text_contents()
    assert classes == ["ham", HOSTILE_CLASS_NAME]
    for item, example in zip(shown, route["examples"]):
        assert item["text"] == example["text"]
    # Long texts say how much of them is shown.
    long_route = fetch_json(page, "examples", run="texts", tag=TEXT_TAG, true=2, pred=2)
    open_cell(dashboard, "texts", TEXT_TAG, 2, 2)
    notes = page.get_by_test_id("example-text-note").evaluate_all("notes => notes.map(n => n.textContent)")
    expected = [
        f"first {len(example['text'])} of {example['length']} characters"
        for example in long_route["examples"]
        if example["length"] > len(example["text"])
    ]
    assert notes == expected
    open_cell(dashboard, "texts", TEXT_TAG, 0, 1)

    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("[data-testid=examples-panel] img, [data-testid=examples-panel] script").count() == 0
    # The text run has no pictures: not one <img> on the page, and no script from the data.
    assert page.locator("img").count() == 0
    assert page.locator("script", has_text="__pwned").count() == 0
    dashboard.problems.assert_none()


def test_top_confusion_rows_open_the_examples_of_a_large_matrix(dashboard):
    page = dashboard.open(runs=["wide"], tag=WIDE_TAG)
    assert dashboard.testid("matrix-canvas").is_visible()
    assert "row of the top confusions" in dashboard.testid("examples-hint").text_content()
    row = dashboard.testid("top-confusion-row").first
    true, pred = int(row.get_attribute("data-true")), int(row.get_attribute("data-pred"))
    row.focus()
    page.keyboard.press("Enter")
    route = fetch_json(page, "examples", run="wide", tag=WIDE_TAG, true=true, pred=pred)
    wait_panel(page, step=0)
    assert_panel_matches(page, route)
    assert route["cut"] is not None, "the byte bound should have cut this step"
    cut = route["cut"]
    assert dashboard.testid("examples-cut").text_content().startswith(
        f"Only {cut['kept']:,} of the {cut['chosen']:,} examples chosen at this step were kept"
    )
    values = [item["values"] for item in panel_examples(page)]
    assert len(values) == len(route["examples"]) > 0
    for text, example in zip(values, route["examples"]):
        assert text.startswith("shape [64]: ") and text.endswith(", …")
        assert len(text.removeprefix("shape [64]: ").split(", ")) == len(example["values"]) + 1
    page.keyboard.press("Escape")
    assert dashboard.testid("examples-panel").is_hidden()
    assert page.evaluate("() => [document.activeElement.dataset.testid, document.activeElement.dataset.true, document.activeElement.dataset.pred]") == [
        "top-confusion-row", str(true), str(pred)
    ]

    # A click on the heat map opens the cell under the pointer.
    canvas = dashboard.testid("matrix-canvas")
    box = canvas.bounding_box()
    cell = box["width"] / WIDE_CLASSES
    canvas.click(position={"x": (pred + 0.5) * cell, "y": (true + 0.5) * cell})
    wait_panel(page, step=0)
    assert (dashboard.testid("examples-panel").get_attribute("data-true"), dashboard.testid("examples-panel").get_attribute("data-pred")) == (
        str(true), str(pred)
    )
    assert_panel_matches(page, route)
    dashboard.problems.assert_none()


def test_group_cells_open_no_examples_and_say_why(dashboard):
    page = dashboard.open(runs=["pictures"], tag=PICTURE_TAG)
    open_cell(dashboard, "pictures", PICTURE_TAG, 0, 1)
    dashboard.testid("show-groups").click()
    wait_ready(page)
    assert dashboard.testid("examples-panel").is_hidden()
    assert "switch to Classes" in dashboard.testid("examples-hint").text_content()
    page.locator("td[data-testid=matrix-cell][data-true='0'][data-pred='1']").click()
    page.wait_for_timeout(300)
    assert dashboard.testid("examples-panel").is_hidden()
    assert page.locator("td[data-testid=matrix-cell].opens-examples").count() == 0
    dashboard.problems.assert_none()


def test_a_step_without_examples_shows_the_routes_message(dashboard):
    page = dashboard.open(runs=["partial"], tag=PICTURE_TAG)
    # The latest step has no examples: no hint, cells are not for clicking.
    assert fetch_json(page, "report", run="partial", tag=PICTURE_TAG)["has_examples"] is False
    assert dashboard.testid("examples-hint").is_hidden()
    dashboard.testid("matrix-step-slider").fill("0")
    wait_ready(page)
    assert dashboard.testid("examples-hint").is_visible()
    open_cell(dashboard, "partial", PICTURE_TAG, 0, 1, step=0)
    # Following the slider to a step without examples: the route's message, as text.
    dashboard.testid("matrix-step-slider").fill("1")
    wait_ready(page)
    wait_panel(page, step=1, state="error")
    answer = page.evaluate(
        """async () => {
            const response = await fetch('/data/plugin/imbalance/examples?run=partial&tag=image_matrix&true=0&pred=1&step=1');
            return [response.status, await response.json()];
        }"""
    )
    assert answer[0] == 404
    assert dashboard.testid("examples-message").text_content() == answer[1]["error"]
    assert dashboard.testid("example").count() == 0
    assert dashboard.testid("examples-heading").text_content() == "cat → dog at step 1"
    dashboard.problems.assert_none(allowed_console=["404"])


# Where each long name is drawn. A name in running text (the heading, an example's classes): its parts (the text
# between its spaces and break opportunities), each with whether it was broken between two of its letters (its first
# and last on different lines), how wide it is and whether it stays in its container. A top score's name: whether its
# end's last character and its "(true)" tag are in sight. Whether a card scrolls (its scores hidden below) or leaves
# the panel, and whether the panel scrolls sideways.
_LONG_NAME_LAYOUT = """() => {
  const panel = document.querySelector('[data-testid=examples-panel]');
  const range = document.createRange();
  const box = (node) => node.getBoundingClientRect();
  const within = (inner, outer) => inner.left >= outer.left - 1 && inner.right <= outer.right + 1;
  const middle = (node, start, end) => {
    range.setStart(node, start);
    range.setEnd(node, end);
    return (range.getBoundingClientRect().top + range.getBoundingClientRect().bottom) / 2;
  };
  const wrapped = [...panel.querySelectorAll('.wrapping-name')].map((name) => {
    const container = name.closest('.examples-heading, [data-testid=example-classes]');
    const parts = [...name.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).flatMap((node) =>
      [...node.data.matchAll(/\\S+/g)].map(({ 0: part, index }) => {
        range.setStart(node, index);
        range.setEnd(node, index + part.length);
        const rects = [...range.getClientRects()];
        const width = rects.reduce((sum, rect) => sum + rect.width, 0);
        const inside = rects.every((rect) => within(rect, box(container)));
        const first = part.codePointAt(0) > 0xffff ? 2 : 1;
        const last = part.length - (/[\\udc00-\\udfff]$/.test(part) ? 2 : 1);
        const broken = Math.abs(middle(node, index, index + first) - middle(node, index + last, index + part.length)) > 6;
        return { text: part, width, broken, inside };
      }));
    return { text: name.textContent, room: container.clientWidth, parts };
  });
  const scores = [...panel.querySelectorAll('.example-top-name')].map((cell) => {
    const end = cell.querySelector('.class-label-end');
    const tag = cell.querySelector('.example-tag');
    const text = end.firstChild;
    range.setStart(text, text.length - (/[\\udc00-\\udfff]$/.test(text.data) ? 2 : 1));
    range.setEnd(text, text.length);
    return {
      title: cell.title,
      text: cell.querySelector('.class-label').textContent,
      end: end.textContent,
      lastInSight: within(range.getBoundingClientRect(), box(end)) && within(box(end), box(cell)),
      tagInSight: !tag || (within(box(tag), box(cell)) && tag.textContent === ' (true)'),
    };
  });
  const cards = [...panel.querySelectorAll('[data-testid=example]')].map((card) =>
    card.scrollWidth <= card.clientWidth && card.scrollHeight <= card.clientHeight && within(box(card), box(panel)));
  return { wrapped, scores, cards, panelFits: panel.scrollWidth <= panel.clientWidth };
}"""


def _kept_end(name: str) -> str:
    """A cut name's end (class-label.js): its last characters up to 12 columns, a wide one (CJK, emoji) taking two."""
    columns = 0
    for index in range(len(name) - 1, -1, -1):
        columns += 2 if unicodedata.east_asian_width(name[index]) in "WF" else 1
        if columns > 12:
            return name[index + 1:]
    return name


def test_long_class_names_wrap_between_their_parts_and_top_scores_keep_their_end(dashboard):
    page = dashboard.open(runs=["long_names"], tag=LONG_TAG)
    assert dashboard.testid("matrix-canvas").is_visible()  # 100 classes: the heat map and its top confusions
    ranked = dashboard.testid("top-confusion-row").evaluate_all("rows => rows.map(row => [+row.dataset.true, +row.dataset.pred])")
    assert [tuple(cell) for cell in ranked[:3]] == list(LONG_CELLS)
    for (true, pred), top in LONG_CELLS.items():
        page.locator(f"[data-testid=top-confusion-row][data-true='{true}'][data-pred='{pred}']").click()
        route = fetch_json(page, "examples", run="long_names", tag=LONG_TAG, true=true, pred=pred)
        wait_panel(page, step=0)
        assert dashboard.testid("examples-panel").get_attribute("data-true") == str(true)
        assert_panel_matches(page, route)  # every name whole, as text
        assert [entry["name"] for entry in route["examples"][0]["top"]] == [LONG_NAMES[index] for index in top]
        layout = page.evaluate(_LONG_NAME_LAYOUT)

        # Running text: each name whole, broken only between its parts ("transaction_" | "type_" | …), CJK ones
        # too; a part wider than the whole line (150 "w") breaks where it must.
        examples = len(route["examples"])
        assert [name["text"] for name in layout["wrapped"]] == [LONG_NAMES[true], LONG_NAMES[pred]] * (1 + examples)
        for name in layout["wrapped"]:
            for part in name["parts"]:
                assert part["inside"], (name["text"], part)
                assert not part["broken"] or part["width"] > name["room"], (name["text"], part, name["room"])
        assert [part["text"] for part in layout["wrapped"][0]["parts"]][:2] == {
            0: ["transaction_", "type_"], 98: ["w" * 150], 88: ["فئة_", "المعاملات_"]}[true]
        broken = [part["text"] for name in layout["wrapped"] for part in name["parts"] if part["broken"]]
        assert set(broken) <= {"w" * 150}, broken

        # Top scores: one line each, the start gives way to the last 12 columns; the last one and "(true)" stay in sight.
        assert [score["title"] for score in layout["scores"]] == [LONG_NAMES[index] for index in top] * examples
        for score in layout["scores"]:
            assert score["text"] == score["title"] and score["end"] == _kept_end(score["title"]), score
            assert score["lastInSight"] and score["tagInSight"], score
        assert all(layout["cards"]) and layout["panelFits"], layout["cards"]
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("[data-testid=examples-panel] img, [data-testid=examples-panel] script").count() == 0
    dashboard.problems.assert_none()
