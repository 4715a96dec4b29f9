"""Runs that other versions of tb_imbalance wrote, continued by this one's writers.

The runs are written here as those versions stored them (``docs/format.md``,
*Versions*): a version-1 dense matrix without ``encoding``, a version-2 ``coo``
matrix, version-3 ``class_counts`` and ``class_groups``, a weighted first step.
Such a run is continued at its next step and read back through the plugin. A
run of a newer format than this tb_imbalance writes is refused before anything
is written, naming the upgrade.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util

import tb_imbalance
from support import plugin_client, route_json
from tb_imbalance import format as fmt
from tb_imbalance.event_file import EventFile
from tb_imbalance.targets import close_directory_writers

TAG = "confusion_matrix"
NAMES = ["ok", "fault", "fraud"]
CM = np.array([[7, 2, 1], [1, 5, 0], [0, 1, 3]])


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def _value(tag: str, content: dict, tensor: np.ndarray, data_class: int = summary_pb2.DATA_CLASS_TENSOR):
    metadata = summary_pb2.SummaryMetadata(data_class=data_class)
    metadata.plugin_data.plugin_name = fmt.PLUGIN_NAME
    metadata.plugin_data.content = json.dumps(content).encode("utf-8")
    return summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor_util.make_tensor_proto(tensor))


def _write_old_run(run_dir, content: dict, tensors: list[np.ndarray], extra=()) -> None:
    with EventFile(run_dir) as events:
        for step, tensor in enumerate(tensors):
            events.write(step, [_value(TAG, content, tensor), *extra])


def _coo(cm: np.ndarray) -> np.ndarray:
    rows, columns = np.nonzero(cm)
    return np.stack([rows, columns, cm[rows, columns]], axis=1).astype(cm.dtype)


def _big(num_classes: int, shift: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    cm[np.arange(num_classes), (np.arange(num_classes) + shift) % num_classes] = 2
    cm[np.arange(num_classes), np.arange(num_classes)] += 3
    return cm


def _served(logdir, run: str) -> dict[int, np.ndarray]:
    client = plugin_client(logdir)
    steps = route_json(client, "report", run=run, tag=TAG)["steps"]
    return {
        step: np.array(route_json(client, "report", run=run, tag=TAG, step=str(step))["confusion_matrix"])
        for step in steps
    }


COUNTS = [400, 60, 8]
GROUPS = {"normal": ["ok"], "bad": ["fault", "fraud"]}
OLD_RUNS = {
    # version 1: no "encoding" field (dense), as the first versions wrote it
    "v1_dense": ({"version": 1, "num_classes": 3, "class_names": NAMES, "weighted": False},
                 [CM, CM + 1], CM * 2, {}),
    # version 1 with sums of sample weights at its first step (float64), then counts
    "v1_weighted": ({"version": 1, "num_classes": 3, "class_names": NAMES, "weighted": True, "encoding": "dense"},
                    [CM * 0.5, CM * 1.5], CM + 2, {}),
    # version 2: the coo cells of 150 classes
    "v2_coo": ({"version": 2, "num_classes": 150, "class_names": [str(i) for i in range(150)], "weighted": False,
                "encoding": "coo"}, [_coo(_big(150, 1)), _coo(_big(150, 2))], _big(150, 3), {}),
    # version 3: class_counts and class_groups, given again when the run is continued
    "v3_extras": ({"version": 3, "num_classes": 3, "class_names": NAMES, "weighted": False, "encoding": "dense",
                   "class_counts": COUNTS, "class_groups": GROUPS}, [CM, CM + 1], CM * 3,
                  {"class_counts": COUNTS, "class_groups": GROUPS}),
}


@pytest.mark.parametrize("run", sorted(OLD_RUNS))
def test_a_run_of_an_earlier_format_is_continued_and_read_back(tmp_path, run):
    content, tensors, next_matrix, options = OLD_RUNS[run]
    _write_old_run(tmp_path / run, content, tensors)
    names = content["class_names"]
    tb_imbalance.log_matrix(tmp_path / run, next_matrix, 2, class_names=names, image=False,
                            per_class_scalars=False, **options)
    served = _served(tmp_path, run)
    assert sorted(served) == [0, 1, 2]
    for step, tensor in enumerate(tensors):
        expected = tensor if content.get("encoding", "dense") == "dense" else _big(150, step + 1)
        np.testing.assert_array_equal(served[step], expected)
    np.testing.assert_array_equal(served[2], next_matrix)
    with pytest.raises(ValueError, match=r"step 2 of tag 'confusion_matrix' is not after the last step"):
        tb_imbalance.log_matrix(tmp_path / run, next_matrix, 2, class_names=names, **options)


def _event_bytes(run_dir) -> int:
    return sum(entry.stat().st_size for entry in os.scandir(run_dir))


NEWER = fmt.FORMAT_VERSION + 1
MATRIX = {"version": fmt.FORMAT_VERSION, "num_classes": 3, "class_names": NAMES, "weighted": False,
          "encoding": "dense"}


@pytest.mark.parametrize("newer_tag", [TAG, TAG + "_curves", TAG + "_examples"])
def test_a_run_of_a_newer_format_is_refused_before_writing(tmp_path, newer_tag):
    """A step appended to a tag of a newer format sits under that format's metadata (TensorBoard keeps a tag's
    first): this version's readers could not read it, and the newer ones would take it for their format."""
    run_dir = tmp_path / "run"
    matrix = dict(MATRIX, version=NEWER) if newer_tag == TAG else MATRIX
    blob = _value(newer_tag, {"version": NEWER, "kind": newer_tag.rsplit("_", 1)[1], "matrix_tag": TAG},
                  np.array([b"a blob of a newer format"]), summary_pb2.DATA_CLASS_BLOB_SEQUENCE)
    _write_old_run(run_dir, matrix, [CM, CM + 1], extra=() if newer_tag == TAG else (blob,))
    before = _event_bytes(run_dir)
    labels, predictions = np.repeat([0, 1, 2], 4), np.tile([0, 1, 2, 2], 3)
    with pytest.raises(ValueError, match=rf"tag '{newer_tag}' in .*run was written by a newer tb_imbalance "
                                         rf"\(format version {NEWER}; .*upgrade with `pip install --upgrade "
                                         r"tb_imbalance`; or log under another `name`, or into a new run"):
        tb_imbalance.log_report(run_dir, labels, predictions, 2, class_names=NAMES)
    assert _event_bytes(run_dir) == before, "nothing may be written"
    tb_imbalance.log_report(run_dir, labels, predictions, 2, class_names=NAMES, name="val")  # the fix it names


#: Class names earlier versions stored that the writers now refuse, and the reason the refusal gives.
REFUSED_NOW = {
    "empty": (["ok", "", "fraud"], r"`class_names`\[1\] is empty, which shows as a blank row"),
    "ends": (["ok", "ok ", "fraud"], r"`class_names`\[0\] and \[1\] differ only by whitespace at their ends "
                                     r"\('ok' and 'ok '\), shown alike in TensorBoard's Scalars tab and the picture"),
    "end": (["ok", "fault\n", "fraud"], r"`class_names`\[1\] is 'fault\\n', with whitespace at its start or end, "
                                        r"which .* \(in other runs too\)"),
    "forms": (["caf\u00e9", "cafe\u0301", "tea"], r"`class_names`\[0\] and \[1\] are the same text in two Unicode "
                                                  r"forms \('caf\\xe9' and 'cafe\\u0301'\), shown alike everywhere"),
}


@pytest.mark.parametrize("given", [None, ["ok", "fault", "fraud"]], ids=["no names", "names of today"])
@pytest.mark.parametrize("stored", sorted(REFUSED_NOW))
def test_a_tag_whose_stored_names_are_refused_now_is_continued_in_a_new_run_as_the_message_says(
    tmp_path, stored, given
):
    # The refusal said "Pass the same class_names to continue this run", and those names are refused in turn.
    names, reason = REFUSED_NOW[stored]
    run_dir = tmp_path / "run"
    _write_old_run(run_dir, {"version": 1, "num_classes": 3, "class_names": names, "weighted": False}, [CM, CM + 1])
    said = (
        rf"^tag 'confusion_matrix' in .*run was written by an earlier tb_imbalance with class names this one refuses "
        rf"\(stored {reason}\), and a tag's classes cannot change: this tag cannot be continued\. Log into a new run "
        r"directory \(a new log_dir, e.g\. runs/<experiment>-2\), or under another `name`; the steps logged so far "
        r"are still shown$"
    )
    _refused_unwritten_then_fixed(tmp_path, said, {"class_names": given}, {"class_names": ["ok", "fault", "fraud"]})


def _refused_unwritten_then_fixed(tmp_path, said, refused, fixed):
    """Continuing tmp_path/run with the options ``refused`` is refused (``said``) and writes nothing; the two fixes
    the message names (a new run directory, another ``name``) log with the options ``fixed``; the old steps stay."""
    run_dir = tmp_path / "run"
    before = _event_bytes(run_dir)
    with pytest.raises(ValueError, match=said):
        tb_imbalance.log_matrix(run_dir, CM * 2, 2, image=False, **refused)
    assert _event_bytes(run_dir) == before, "nothing may be written"
    for fix, options in ((tmp_path / "run-2", {}), (run_dir, {"name": "val"})):
        tb_imbalance.log_matrix(fix, CM * 2, 2, image=False, **fixed, **options)
    close_directory_writers()
    served = _served(tmp_path, "run")
    assert sorted(served) == [0, 1] and served[1].tolist() == (CM + 1).tolist()  # the steps logged so far


@pytest.mark.parametrize("given", [None, {"faults": ["fault", "fraud"]}], ids=["no groups", "groups of today"])
def test_a_tag_whose_stored_class_groups_are_refused_now_is_continued_in_a_new_run_as_the_message_says(tmp_path, given):
    # The refusal said "Pass the same class_groups", and a group name with whitespace at its end is refused in turn.
    run_dir = tmp_path / "run"
    stored = {"version": fmt.FORMAT_VERSION, "num_classes": 3, "class_names": NAMES, "weighted": False,
              "class_groups": {"faults ": ["fault", "fraud"]}}
    _write_old_run(run_dir, stored, [CM, CM + 1])
    said = (
        r"^tag 'confusion_matrix' in .*run was written by an earlier tb_imbalance with class groups this one refuses "
        r"\(stored `class_groups` name 'faults ' starts or ends with whitespace, .* like those of 'faults', yet be "
        r"charted apart from them\), and a tag's classes cannot change: this tag cannot be continued\. Log into a new "
        r"run directory .*, or under another `name`; the steps logged so far are still shown$"
    )
    options = {"class_names": NAMES, "class_groups": given}
    _refused_unwritten_then_fixed(tmp_path, said, options, options)
