"""The TF-free targets refuse what every target refuses, with the same messages.

A run directory, a :class:`tb_imbalance.ReportWriter` and a PyTorch
``SummaryWriter`` (in the PyTorch environment) go through one write path and
one run history: a re-run from an old step, a changed class set, the same step
written twice with other classes, ``class_counts`` or ``class_groups`` that
change or first appear later, and a report name whose tags overlap another
report's are refused before anything is written. The ``tf.summary`` targets:
``tests/test_targets.py``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices
from threads import run_in_threads
from tb_imbalance import targets
from tb_imbalance.targets import close_directory_writers, directory_writer

CM3 = np.array([[5, 1, 0], [2, 6, 1], [0, 1, 7]])
CM4 = np.eye(4, dtype=np.int64) * 3


def _targets(tmp_path):
    kinds = {"directory": lambda d: str(d), "report_writer": tb_imbalance.ReportWriter}
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        pass
    else:
        kinds["torch_summary_writer"] = lambda d: SummaryWriter(str(d))
    return {kind: (make(tmp_path / kind), str(tmp_path / kind)) for kind, make in kinds.items()}


def _written(tmp_path, kind) -> list[int]:
    close_directory_writers()
    return sorted(matrices(tmp_path).get(kind, {}))


CASES = {
    "rerun_from_step_0": ([(0, CM3, {}), (1, CM3, {})], (0, CM3, {}), "step 0 of tag 'confusion_matrix' is not after"),
    "new_class_set": ([(0, CM3, {})], (1, CM4, {}), "already holds 3 classes ['0', '1', '2']; a tag's classes cannot change"),
    "same_step_twice_other_classes": ([(0, CM3, {})], (0, CM4, {}), "already holds 3 classes"),
    "class_counts_first_given_later": (
        [(0, CM3, {})], (1, CM3, {"class_counts": [9, 9, 9]}), "already holds `class_counts` none"
    ),
    "class_groups_changed": (
        [(0, CM3, {"class_groups": {"g": ["0", "1"]}})], (1, CM3, {"class_groups": {"g": ["0", "2"]}}),
        "already holds `class_groups` {'g': ['0', '1']}",
    ),
    "overlapping_name": ([(0, CM3, {"name": "val"})], (1, CM3, {"name": "val_image"}), "`name='val_image'`: its tags would overlap those of the report 'val'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_tf_free_target_refuses_alike(tmp_path, case):
    before, refused, expected = CASES[case]
    messages = {}
    for kind, (target, location) in _targets(tmp_path).items():
        for step, cm, options in before:
            tb_imbalance.log_matrix(target, cm, step, image=False, **options)
        if hasattr(target, "flush"):
            target.flush()
        steps = _written(tmp_path, kind)
        step, cm, options = refused
        with pytest.raises(ValueError) as caught:
            tb_imbalance.log_matrix(target, cm, step, image=False, **options)
        messages[kind] = str(caught.value).replace(f" in {location}", "")
        assert expected in messages[kind], messages[kind]
        assert _written(tmp_path, kind) == steps
        if hasattr(target, "close"):
            target.close()
    assert len(set(messages.values())) == 1, messages


def test_torch_summary_writer_keeps_the_users_scalars_and_the_report_in_one_file(tmp_path):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "exp"))
    for step in range(3):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        tb_imbalance.log_matrix(writer, CM3, step, image=False)
    writer.close()
    assert len([name for name in os.listdir(tmp_path / "exp") if "tfevents" in name]) == 1
    assert sorted(matrices(tmp_path)["exp"]) == [0, 1, 2]


def _steps_in_file_order(run_dir, tag="confusion_matrix") -> list[int]:
    from tb_imbalance.event_reading import read_events

    steps = []
    for name in sorted(os.listdir(run_dir)):
        for event in read_events(os.path.join(run_dir, name)):
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return steps


@pytest.mark.parametrize("kind", ["directory", "report_writer", "torch_summary_writer"])
def test_two_threads_logging_one_tag_through_one_target_write_each_step_once(tmp_path, kind):
    targets = _targets(tmp_path)
    if kind not in targets:
        pytest.skip("PyTorch is not installed here")
    target, run_dir = targets[kind]
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 1, 2, 1, 1])

    def log_steps() -> None:
        for step in range(6):
            try:
                tb_imbalance.log_report(target, labels, predictions, step, num_classes=3, image=False)
            except ValueError as refused:  # the other thread logged this step first
                assert "is not after the last step already logged" in str(refused)

    run_in_threads(log_steps, [(), ()])
    if kind == "torch_summary_writer":
        target.flush()
    close_directory_writers()
    steps = _steps_in_file_order(run_dir)
    assert steps == sorted(set(steps)) and steps[-1] == 5, steps  # each step once, in order


@pytest.mark.parametrize("kind", ["directory", "report_writer"])
def test_a_run_directory_deleted_and_made_again_starts_over(tmp_path, kind):
    import shutil

    target, run_dir = _targets(tmp_path)[kind]
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 1, 2, 1, 1])
    for step in range(3):
        tb_imbalance.log_report(target, labels, predictions, step, num_classes=3, image=False)
    shutil.rmtree(run_dir)
    os.makedirs(run_dir)  # a notebook cell run again: a fresh start in the same process
    for step in range(2):
        tb_imbalance.log_report(target, labels, predictions, step, num_classes=3, image=False)
    close_directory_writers()
    (name,) = os.listdir(run_dir)
    from tb_imbalance.event_reading import read_events

    events = list(read_events(os.path.join(run_dir, name)))
    assert events[0].file_version == "brain.Event:2"  # a new file, with its header
    assert _steps_in_file_order(run_dir) == [0, 1]


def test_a_process_logging_run_after_run_keeps_the_pictures_of_the_last_directories_only(tmp_path, monkeypatch):
    # A notebook re-running a fit cell into new run directories: every directory keeps its writer (one
    # event file, its history), but the pictures' static parts (most of a writer's memory) only the last ones.
    monkeypatch.setattr(targets, "PICTURES_KEPT", 3, raising=False)
    close_directory_writers()
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 1, 2, 1, 1])
    writers = []
    for run in range(12):
        tb_imbalance.log_report(str(tmp_path / f"run{run}"), labels, predictions, 0, num_classes=3)
        writers.append(directory_writer(tmp_path / f"run{run}"))
    assert [bool(writer.builder._renderers) for writer in writers] == [False] * 9 + [True] * 3
    tb_imbalance.log_report(str(tmp_path / "run0"), labels, predictions, 1, num_classes=3)  # drawn again
    assert directory_writer(tmp_path / "run0") is writers[0] and writers[0].builder._renderers
    assert sum(bool(writer.builder._renderers) for writer in writers) == 3
    close_directory_writers()
    assert sorted(matrices(tmp_path)["run0"]) == [0, 1]
    assert len(os.listdir(tmp_path / "run0")) == 1  # one event file


@pytest.mark.parametrize("kind", ["directory", "report_writer"])
def test_a_run_directory_deleted_while_a_step_is_written_starts_over_with_that_step(tmp_path, kind, monkeypatch):
    import shutil

    from tb_imbalance.targets import directory_writer

    target, run_dir = _targets(tmp_path)[kind]
    writer = directory_writer(run_dir) if kind == "directory" else target
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 1, 2, 1, 1])
    for step in range(2):
        tb_imbalance.log_report(target, labels, predictions, step, num_classes=3, image=False)
    step_values = writer.builder.step_values

    def deleted_meanwhile(*args, **kwargs):
        values = step_values(*args, **kwargs)
        shutil.rmtree(run_dir)  # another process deletes the run after this step was checked
        return values

    monkeypatch.setattr(writer.builder, "step_values", deleted_meanwhile)
    tb_imbalance.log_report(target, labels, predictions, 2, num_classes=3, image=False)
    monkeypatch.undo()
    tb_imbalance.log_report(target, labels, predictions, 3, num_classes=3, image=False)
    close_directory_writers()
    writer.close()
    (name,) = os.listdir(run_dir)
    from tb_imbalance.event_reading import read_events

    assert next(read_events(os.path.join(run_dir, name))).file_version == "brain.Event:2"
    assert _steps_in_file_order(run_dir) == [2, 3]
    expected = [[1, 0, 0], [0, 2, 0], [0, 1, 1]]
    (by_step,) = matrices(run_dir).values()
    assert {step: cm.tolist() for step, cm in by_step.items()} == {2: expected, 3: expected}


def test_a_target_of_none_names_the_rank_without_a_writer_and_the_gathering_to_do():
    no_writer = r"received builtins\.NoneType \(under DDP, a rank made without a writer, .*Gather every rank's rows"
    with pytest.raises(TypeError, match=no_writer):
        tb_imbalance.log_report(None, [0, 1], [0, 1], 0)
    with pytest.raises(TypeError, match=no_writer):
        tb_imbalance.log_matrix(None, CM3, 0)
    with pytest.raises(TypeError, match=r"received builtins\.int$"):  # other targets: the kinds accepted only
        tb_imbalance.log_matrix(3, CM3, 0)


def test_a_writer_refused_by_an_old_run_takes_a_fresh_start_once_that_run_is_deleted(tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    for step in range(2):  # an earlier run (its own writer, as an earlier process's would be)
        tb_imbalance.ReportWriter(run_dir).write_matrix(step, "confusion_matrix", CM3, image=False)
    writer = tb_imbalance.ReportWriter(run_dir)
    with pytest.raises(ValueError, match="is not after the last step already logged"):
        writer.write_matrix(0, "confusion_matrix", CM3, image=False)
    shutil.rmtree(run_dir)
    os.makedirs(run_dir)  # deleted as the message says, and made again
    writer.write_matrix(0, "confusion_matrix", CM3, image=False)
    writer.close()
    assert _steps_in_file_order(run_dir) == [0]


def test_a_file_url_is_its_local_directory_and_shares_the_paths_writer(tmp_path):
    # A file:// URL was written as a remote store: a second writer and event file next to the
    # path's own, neither watching the other, so a step logged through both was written twice.
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(3)
    run_dir = tmp_path / "run"
    url = "file://" + str(run_dir)
    batches = [(rng.integers(0, 3, 40), rng.integers(0, 3, 40)) for _ in range(3)]
    for step, target in enumerate([url, str(run_dir), "file://localhost" + str(run_dir)]):
        tb_imbalance.log_report(target, *batches[step], step, num_classes=3, image=False)
    with pytest.raises(ValueError, match="is not after the last step already logged"):
        tb_imbalance.log_report(url, *batches[2], 2, num_classes=3, image=False)
    assert tb_imbalance.ReportWriter(url).log_dir == str(run_dir)
    close_directory_writers()
    assert len(os.listdir(run_dir)) == 1
    logged = matrices(tmp_path)["run"]
    assert {step: m.tolist() for step, m in logged.items()} == {
        step: confusion_matrix(*batches[step], labels=[0, 1, 2]).tolist() for step in range(3)
    }


@pytest.mark.parametrize(("url", "path"), [("file://runs/a", "runs/a"), ("file://server/runs/a", "server/runs/a")])
def test_a_file_url_without_an_absolute_path_is_refused_naming_the_path(tmp_path, monkeypatch, url, path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=rf"is a file:// URL without an absolute local path .* \('{path}'\)"):
        tb_imbalance.ReportWriter(url)
    with pytest.raises(ValueError, match="is a file:// URL without an absolute local path"):
        tb_imbalance.log_report(url, [0, 1], [0, 1], 0)
    assert list(tmp_path.iterdir()) == []


def test_a_writer_keeps_its_directory_when_the_working_directory_changes(tmp_path, monkeypatch):
    # A relative log_dir was read again at each write: after os.chdir, the writer took its run for
    # deleted and started a second run, from an empty history, in the new working directory.
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(4)
    batches = [(rng.integers(0, 3, 40), rng.integers(0, 3, 40)) for _ in range(3)]
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    monkeypatch.chdir(tmp_path / "first")
    writer = tb_imbalance.ReportWriter("runs/a")
    callback_dir = directory_writer("runs/b")  # as the callback gets it at on_train_begin
    for step, (labels, predictions) in enumerate(batches):
        tb_imbalance.log_report(writer, labels, predictions, step, num_classes=3, image=False)
        tb_imbalance.log_report(callback_dir, labels, predictions, step, num_classes=3, image=False)
        monkeypatch.chdir(tmp_path / ("second" if step % 2 == 0 else "first"))
    writer.close()
    close_directory_writers()
    assert writer.log_dir == str(tmp_path / "first" / "runs" / "a")
    assert list((tmp_path / "second").iterdir()) == []
    logged = matrices(tmp_path / "first" / "runs")
    expected = {step: confusion_matrix(*batches[step], labels=[0, 1, 2]).tolist() for step in range(3)}
    for run in ("a", "b"):
        assert {step: m.tolist() for step, m in logged[run].items()} == expected
        assert len(os.listdir(tmp_path / "first" / "runs" / run)) == 1


def test_spellings_of_one_directory_share_one_writer(tmp_path, monkeypatch):
    # runs/a, ./runs//a/, its absolute path and a symbolic link to runs/ were one directory written
    # by up to four writers at once, each with its own event file.
    monkeypatch.chdir(tmp_path)
    os.makedirs("runs/a")
    os.symlink("runs", "latest")
    spellings = ["runs/a", "./runs//a/", str(tmp_path / "runs" / "a"), "latest/a", "file://" + str(tmp_path / "latest/a/")]
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 1, 2, 1, 1])
    for step, spelling in enumerate(spellings):
        tb_imbalance.log_report(spelling, labels, predictions, step, num_classes=3, image=False)
    with pytest.raises(ValueError, match="is not after the last step already logged"):
        tb_imbalance.log_report("latest/a", labels, predictions, 2, num_classes=3, image=False)
    close_directory_writers()
    assert len(os.listdir("runs/a")) == 1
    assert _steps_in_file_order("runs/a") == [0, 1, 2, 3, 4]


def test_a_relative_run_directory_is_checked_for_the_run_name_as_given(tmp_path, monkeypatch):
    # Resolved to an absolute path, the directories above it (not in the run's name) were warned about.
    import warnings

    parent = tmp_path / 'quoted"parent'
    parent.mkdir()
    monkeypatch.chdir(parent)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        tb_imbalance.ReportWriter("run").write_matrix(0, "confusion_matrix", CM3, image=False)
        tb_imbalance.log_report("run2", [0, 1, 2], [0, 1, 1], 0, num_classes=3, image=False)
    close_directory_writers()
    assert {run: sorted(steps) for run, steps in matrices(parent).items()} == {"run": [0], "run2": [0]}


def test_a_symbolic_link_to_a_missing_directory_is_refused_before_anything_is_made(tmp_path, monkeypatch):
    # Followed, the link's target was made wherever it pointed; before that, the first write failed
    # with "File exists". A link that leads back to itself failed at the first write too.
    monkeypatch.chdir(tmp_path)
    os.symlink(str(tmp_path / "elsewhere" / "runs"), "runs")
    os.symlink("loop", "loop")
    for log_dir, target in [("runs/a", r".*/elsewhere/runs"), ("loop", "loop")]:
        with pytest.raises(FileNotFoundError, match=rf"is a symbolic link to '{target}', which does not exist"):
            tb_imbalance.ReportWriter(log_dir)
        with pytest.raises(FileNotFoundError, match=r"make the link's target first"):
            tb_imbalance.log_report(log_dir, [0, 1, 2], [0, 1, 1], 0, num_classes=3, image=False)
    assert sorted(os.listdir(tmp_path)) == ["loop", "runs"]


@pytest.mark.skipif(os.name == "nt", reason="a Windows path is a path there")
@pytest.mark.parametrize(("log_dir", "made"), [("C:\\runs\\a", "C:\\runs\\a"), ("c:/runs/a", "c:")])
def test_a_windows_path_elsewhere_is_refused_not_made_as_one_odd_directory(tmp_path, monkeypatch, log_dir, made):
    # "C:\runs\a" was made as one directory of that name in the working directory (with a warning about
    # the backslash in a run's name), "c:/runs/a" as c:/runs/a without a word.
    monkeypatch.chdir(tmp_path)
    import re

    with pytest.raises(ValueError, match=rf"is a Windows path, .* a directory named {re.escape(repr(made))} in the working"):
        tb_imbalance.ReportWriter(log_dir)
    with pytest.raises(ValueError, match="is a Windows path"):
        tb_imbalance.log_report(log_dir, [0, 1, 2], [0, 1, 1], 0, num_classes=3, image=False)
    assert list(tmp_path.iterdir()) == []
