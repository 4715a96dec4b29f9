"""``examples_max_bytes`` bounds the bytes a step's examples take on disk.

The bound covers the JSON index (UTF-8 bytes, not characters) and the PNG
thumbnails together, counted here independently: the blobs are read back
from the event file ``log_report`` wrote and their lengths summed.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import tb_imbalance
from tb_imbalance import format as fmt
from tb_imbalance.event_reading import read_events
from tb_imbalance import examples as examples_module
from tb_imbalance.examples import collect_examples


def _stored_examples(run_dir: pathlib.Path) -> list[bytes]:
    """The blobs of the (only) examples value in ``run_dir``'s event file."""
    tb_imbalance.targets.close_directory_writers()
    (path,) = [p for p in run_dir.iterdir() if p.name.startswith("events.out.tfevents.")]
    for event in read_events(str(path)):
        for value in event.summary.value:
            if value.tag.endswith(fmt.EXAMPLES_SUFFIX):
                return list(value.tensor.string_val)
    raise AssertionError("no examples were stored")


def _scores(rng, labels, num_classes):
    logits = rng.normal(size=(len(labels), num_classes))
    logits[np.arange(len(labels)), labels] += 2.0
    return logits


def test_text_is_bounded_in_utf8_bytes_not_characters(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 600)
    texts = ["漢字のテキスト例" * 25 + f" {row}" for row in range(600)]  # 3 bytes a character
    tb_imbalance.log_report(
        str(tmp_path), labels, _scores(rng, labels, 4), 0, from_logits=True, image=False,
        examples=texts, examples_max_bytes=50_000,
    )
    blobs = _stored_examples(tmp_path)
    stored = sum(len(blob) for blob in blobs)
    assert stored <= 50_000, stored
    index = json.loads(blobs[0])
    kept = sum(len(cell["examples"]) for cell in index["cells"])
    assert index["cut"] == {"kept": kept, "chosen": index["cut"]["chosen"]} and 0 < kept < index["cut"]["chosen"]
    assert stored > 40_000  # the bound is used, not wasted: each example is about 600 bytes


@pytest.mark.slow
def test_the_index_of_many_cells_is_bounded_too(tmp_path):
    rng = np.random.default_rng(1)
    num_classes, rows = 2000, 40_000
    labels = rng.integers(0, num_classes, rows)
    scores = rng.random((rows, num_classes)).astype(np.float32)
    tb_imbalance.log_report(
        str(tmp_path), labels, scores, 0, image=False, examples=np.arange(rows), examples_max_bytes=10_000,
    )
    blobs = _stored_examples(tmp_path)
    stored = sum(len(blob) for blob in blobs)
    assert stored <= 10_000, stored
    index = json.loads(blobs[0])
    non_empty = int(np.count_nonzero(np.bincount(labels * num_classes + scores.argmax(1))))
    assert index["cells_complete"] is False and len(index["cells"]) < non_empty
    assert all(cell["examples"] for cell in index["cells"])  # only the cells with examples are listed
    for cell in index["cells"]:  # their counts are exact
        assert cell["count"] == int(np.sum((labels == cell["true"]) & (scores.argmax(1) == cell["pred"])))


@pytest.mark.parametrize("max_bytes", [10_000, 25_000, 120_000])
def test_images_index_and_thumbnails_together_stay_within_the_bound(max_bytes):
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 10, 500)
    images = rng.random((500, 28, 28))
    chosen = collect_examples(images, labels, _scores(rng, labels, 10), num_classes=10, from_logits=True,
                              examples_max_bytes=max_bytes)
    total = sum(len(blob) for blob in chosen.blobs())
    assert total <= max_bytes
    assert chosen.kept > 0 and total > max_bytes * 0.6


def test_a_small_set_lists_every_cell_with_rows():
    labels = np.array([0, 0, 1, 1, 2])
    scores = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    chosen = collect_examples(["a", "b", "c", "d", "e"], labels, scores, num_classes=3, examples_per_cell=1)
    assert chosen.index["cells_complete"] is True
    assert [(c["true"], c["pred"], c["count"]) for c in chosen.index["cells"]] == [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1), (2, 2, 1)]


def _client(logdir: pathlib.Path):
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider as tb_data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test

    from tb_imbalance.plugin import ImbalancePlugin

    tb_imbalance.targets.close_directory_writers()
    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={fmt.PLUGIN_NAME: 0})
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = tb_data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    return werkzeug_test.Client(application.TensorBoardWSGI([ImbalancePlugin(base_plugin.TBContext(data_provider=provider))]))


@pytest.mark.slow
@pytest.mark.parametrize("weighted", [False, True], ids=["counts", "weighted"])
def test_the_dashboard_counts_a_cell_the_bound_left_out_of_the_index(tmp_path, weighted):
    rng = np.random.default_rng(6)
    num_classes, rows = 300, 6000
    labels = rng.integers(0, num_classes, rows)
    scores = rng.random((rows, num_classes))
    predicted = scores.argmax(1)
    weights = np.ones(rows) if weighted else None
    tb_imbalance.log_report(
        str(tmp_path / "run"), labels, scores, 0, image=False, examples=np.arange(rows),
        examples_max_bytes=10_000, sample_weight=weights,
    )
    index = json.loads(_stored_examples(tmp_path / "run")[0])
    assert index["cells_complete"] is False
    listed = {(cell["true"], cell["pred"]) for cell in index["cells"]}
    cells = np.bincount(labels * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, num_classes)
    unlisted = next((t, p) for t, p in zip(*np.nonzero(cells)) if (t, p) not in listed)
    client = _client(tmp_path)
    response = client.get("/data/plugin/imbalance/examples", query_string={
        "run": "run", "tag": "confusion_matrix", "true": int(unlisted[0]), "pred": int(unlisted[1])})
    assert response.status_code == 200, response.get_data(as_text=True)
    payload = json.loads(response.get_data())
    assert payload["examples"] == []
    assert payload["count"] == (None if weighted else int(cells[unlisted]))
    empty = np.argwhere(cells == 0)[0]
    response = client.get("/data/plugin/imbalance/examples", query_string={
        "run": "run", "tag": "confusion_matrix", "true": int(empty[0]), "pred": int(empty[1])})
    assert json.loads(response.get_data())["count"] == 0  # a weight sum of 0 is no row either


def test_one_example_too_large_for_the_bound_is_left_out_alone():
    """An id is never shortened: one far longer than the bound drops that example, not every one after it."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    scores = rng.dirichlet(np.ones(3), 300)
    texts, ids = [f"mail {i}" for i in range(300)], [f"mail-{i}" for i in range(300)]
    full = collect_examples(texts, labels, scores, num_classes=3, example_ids=ids, examples_max_bytes=20_000)
    assert full.index["cut"] is None
    first = full.index["cells"][0]["examples"][0]["row"]  # the first example rendered: rank 0 of cell (0, 0)
    ids[first] = "data:text/plain;base64," + "A" * 30_000
    cut = collect_examples(texts, labels, scores, num_classes=3, example_ids=ids, examples_max_bytes=20_000)
    assert cut.index["cut"] == {"kept": 71, "chosen": 72}
    expected = [[e["row"] for e in cell["examples"] if e["row"] != first] for cell in full.index["cells"]]
    assert [[e["row"] for e in cell["examples"]] for cell in cut.index["cells"]] == expected
    assert len(json.dumps(cut.index, ensure_ascii=False).encode()) <= 20_000


def test_after_an_example_too_large_a_smaller_one_that_fits_is_kept_and_the_scan_ends_soon(monkeypatch):
    labels, scores = [0, 0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]]  # one row per cell, all rank 0
    kept = collect_examples(["x"] * 4, labels, scores, num_classes=2, example_ids=["A" * 6000, "B" * 5000, "c", "d"],
                            examples_per_cell=1, examples_max_bytes=10_000)
    # A fits, B (5 kB) does not after it: c and d still do (a kept A's size is no bound on the next ones)
    assert sorted(e["id"][:1] for cell in kept.index["cells"] for e in cell["examples"]) == ["A", "c", "d"]
    assert kept.index["cut"] == {"kept": 3, "chosen": 4}
    # Once the bound is reached, 64 left out in a row end the scan: not every chosen row is rendered.
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 3000)
    rendered = []
    render = examples_module.render_example
    monkeypatch.setattr(examples_module, "render_example", lambda row: rendered.append(row) or render(row))
    cut = collect_examples(rng.random((3000, 6)), labels, rng.dirichlet(np.ones(3), 3000), num_classes=3,
                           examples_per_cell=1000, examples_max_bytes=10_000)
    assert cut.index["cut"]["kept"] < 200 and len(rendered) <= cut.index["cut"]["kept"] + 64
    # Examples larger than the whole bound say nothing of the room left: 64 of them first do not end the scan.
    classes = 10
    labels, predicted = np.repeat(np.arange(classes), classes), np.tile(np.arange(classes), classes)
    scores = np.full((classes**2, classes), 0.01)
    scores[np.arange(classes**2), predicted] = 0.91
    ids = [("L" * 30_000) if row < 64 else f"r{row}" for row in range(classes**2)]  # the first 64 cells' rows
    kept = collect_examples(["some text"] * classes**2, labels, scores, num_classes=classes, example_ids=ids,
                            examples_per_cell=1, examples_max_bytes=20_000)
    assert kept.index["cut"] == {"kept": 36, "chosen": 100}
