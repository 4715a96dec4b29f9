"""A PyTorch ``SummaryWriter`` target notices another writer in its directory, as a directory target does.

Two processes that each pass their own ``SummaryWriter`` on one directory to
``log_report`` (DDP without a rank guard) write one tag from two event files:
TensorBoard's Python loader then drops one process's steps. The
``SummaryWriter`` target reads ``get_logdir()`` on first use and, on every
later use, what the directory's other event files gained since, so the
second writer of a tag is refused in whichever order the two start, with the
directory target's message; the user's own scalars in the same
``SummaryWriter`` are its own file, never another writer. The other process
here is a real second process (``Rank``) that writes when told. Needs
PyTorch (skipped elsewhere); the directory and ``tf.summary`` targets:
``tests/test_other_writers.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices, scalars
from tb_imbalance.targets import close_directory_writers, sink_for

CM = np.array([[2, 0, 0], [1, 1, 0], [0, 1, 1]])
KINDS = ("directory", "summary_writer")

_RANK = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tb_imbalance

    kind, run_dir = sys.argv[1], sys.argv[2]
    if kind == "summary_writer":
        from torch.utils.tensorboard import SummaryWriter

        target = SummaryWriter(run_dir)
    else:
        target = run_dir
    print("ready", flush=True)
    for line in sys.stdin:
        name, step = line.split()
        try:
            tb_imbalance.log_matrix(target, np.array(%r), int(step), name=name, image=False)
        except ValueError as error:
            print("refused: " + " ".join(str(error).split()), flush=True)
        else:
            print("ok", flush=True)
    """
    % CM.tolist()
)


class Rank:
    """Another process writing into ``run_dir`` through a target of ``kind``, one step when told."""

    def __init__(self, kind: str, run_dir) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _RANK, kind, str(run_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self._answer() == "ready"

    def _answer(self) -> str:
        line = self._process.stdout.readline().strip()
        if not line:
            self._process.kill()
            raise AssertionError(f"the other process ended: {self._process.stderr.read()}")
        return line

    def write(self, step: int, name: str = "confusion_matrix") -> str:
        """``"ok"``, or ``"refused: <message>"``."""
        self._process.stdin.write(f"{name} {step}\n")
        self._process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self._process.stdin.close()
        assert self._process.wait(timeout=120) == 0, self._process.stderr.read()


def _this_process_target(kind: str, run_dir):
    if kind == "summary_writer":
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(run_dir))
    return str(run_dir)


def _own_scalar(target, step: int) -> None:
    """The user's own loss scalar, written through the same SummaryWriter (a directory target has none)."""
    if not isinstance(target, str):
        target.add_scalar("loss", 1.0 / (step + 1), step)
        target.flush()


def _refused(target, step: int, run_dir) -> str:
    with pytest.raises(ValueError) as caught:
        tb_imbalance.log_matrix(target, CM, step, image=False)
    return _same_words(str(caught.value), run_dir)


def _same_words(message: str, run_dir) -> str:
    """``message`` without what differs between targets: the run directory and event file names."""
    message = message.replace(str(run_dir), "<run>")
    return re.sub(r"events\.out\.tfevents\.[^\s,]+", "<event file>", message)


def _other_writer_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "another writer is adding to" in str(w.message)]


def _both_orders_case(tmp_path, kind: str, together: bool) -> dict:
    """What this process's ``kind`` target said while another process wrote the same tag."""
    run_dir = tmp_path / kind
    said: dict = {"refused": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if together:
            target = _this_process_target(kind, run_dir)
            assert sink_for(target).history.tags == {}  # this rank has read the (empty) directory
            other = Rank(kind, run_dir)
            _own_scalar(target, 0)
            assert other.write(0) == other.write(1) == "ok"  # the other rank writes first
        else:
            other = Rank(kind, run_dir)
            assert other.write(0) == "ok"  # the other rank started first and goes on writing
            target = _this_process_target(kind, run_dir)
            _own_scalar(target, 0)
            said["refused"].append(_refused(target, 0, run_dir))  # the other rank, still running, holds the tag
            # Another tag, and the user's own scalars in the same SummaryWriter, are fine.
            tb_imbalance.log_matrix(target, CM, 0, name="test_set", image=False)
            _own_scalar(target, 1)
            tb_imbalance.log_matrix(target, CM, 1, name="test_set", image=False)
            assert len(_other_writer_warnings(caught)) == 1  # said at the first read: a running process's file
            assert other.write(1) == "ok"
        said["refused"].append(_refused(target, 1 if not together else 0, run_dir))
        said["refused"].append(_refused(target, 5, run_dir))  # later steps too: the other rank owns the tag
        tb_imbalance.log_matrix(target, CM, 2, name="test_set", image=False)  # another tag is still fine
        other.close()
    said["warnings"] = _other_writer_warnings(caught)
    if not isinstance(target, str):
        said["own_file"] = target.file_writer.event_writer._file_name
        target.close()
    close_directory_writers()
    return said


@pytest.mark.parametrize("order", ["the_other_started_first", "both_started_together"])
def test_two_processes_writing_one_tag_through_summary_writers_are_refused_as_a_directory_is(tmp_path, order):
    pytest.importorskip("torch")
    together = order == "both_started_together"
    said = {kind: _both_orders_case(tmp_path, kind, together) for kind in KINDS}
    writer, directory = said["summary_writer"], said["directory"]
    assert writer["refused"] == directory["refused"], said
    also = writer["refused"][-2]
    assert "tag 'confusion_matrix' in <run> is also being written by another writer (event file <run>/<event file>" in also
    gather = "(under DDP: gather every rank's rows first, then log `if rank == 0:`)"
    assert "holds steps up to 1" in also and gather in also
    if not together:  # told it is a second writer from its first step, not that its step 0 is a re-run
        first = writer["refused"][0]
        assert first.startswith("tag 'confusion_matrix' in <run> is also being written by another writer")
        assert "written by another running process" in first and "holds steps up to 0" in first
    # Said once, naming the other rank's file and not the SummaryWriter's own (the user's loss is there).
    assert len(writer["warnings"]) == len(directory["warnings"]) == 1, said
    adding_to, own = writer["warnings"][0].split(" next to this writer's own event file ")
    assert writer["own_file"] not in adding_to and own.startswith(writer["own_file"] + ". ")
    for message in (writer["warnings"][0], directory["warnings"][0]):
        assert "pass your SummaryWriter itself as the target" in message and gather in message
    assert sorted(matrices(tmp_path, "test_set")["summary_writer"]) == ([2] if together else [0, 1, 2])


def test_a_summary_writer_whose_event_file_cannot_be_told_says_it_is_not_watched(tmp_path, monkeypatch, caplog):
    # A SummaryWriter of another layout: its own file would pass for another writer's, so it
    # is not watched (its history is read once), and a log line says so instead of silence.
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    import tb_imbalance.targets

    monkeypatch.setattr(tb_imbalance.targets, "_own_event_file", lambda target: None)
    writer = torch_tensorboard.SummaryWriter(str(tmp_path / "run"))
    with caplog.at_level("WARNING", logger="tb_imbalance"):
        for step in range(3):
            _own_scalar(writer, step)
            tb_imbalance.log_matrix(writer, CM, step, image=False)
    writer.close()
    said = [record.getMessage() for record in caplog.records if "not watched" in record.getMessage()]
    assert len(said) == 1 and str(tmp_path / "run") in said[0], said
    assert "(under DDP: gather every rank's rows first, then log `if rank == 0:`)" in said[0]
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2]


def test_a_summary_writer_given_a_pathlib_path_logs_and_watches_its_directory(tmp_path):
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    run = tmp_path / "run"
    writer = torch_tensorboard.SummaryWriter(log_dir=run)  # get_logdir() is the Path itself
    labels, predictions = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    for step in range(2):
        tb_imbalance.log_report(writer, labels, predictions, step, num_classes=2)
    with tb_imbalance.ReportWriter(run) as other:
        other.write_matrix(0, "theirs", np.eye(2, dtype=int))
    with pytest.warns(UserWarning, match="another writer is adding to"):
        tb_imbalance.log_report(writer, labels, predictions, 2, num_classes=2)
    writer.close()
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2]


def test_the_users_own_scalars_written_after_a_report_cannot_take_a_reports_tag(tmp_path):
    """The SummaryWriter's file is shared with its user: a scalar they add later under a report's tag is refused
    at the next report, as one written before the first report is; tags of their own stay theirs."""
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tensorboard.SummaryWriter(log_dir=str(tmp_path))
    labels, predictions = np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1])
    names = ["normal", "fault", "fraud"]
    tb_imbalance.log_report(writer, labels, predictions, 0, num_classes=3, class_names=names, image=False)
    writer.add_scalar("loss", 0.5, 0)  # a tag of their own: fine
    tb_imbalance.log_report(writer, labels, predictions, 1, num_classes=3, class_names=names, image=False)
    writer.add_scalar("recall/fraud", 100.0, 1)  # one of the report's own tags, at the report's step
    with pytest.raises(ValueError, match=r"would write the tag 'recall/fraud', which .* already holds values "
                       r"tb_imbalance did not write \(your own scalars\?\)"):
        tb_imbalance.log_report(writer, labels, predictions, 2, num_classes=3, class_names=names, image=False)
    writer.close()
    assert sorted(matrices(tmp_path)["."]) == [0, 1]


def test_a_tensorboardx_summary_writer_is_a_target_whose_steps_are_on_disk_at_return(tmp_path):
    """tensorboardX queues events for a thread of its own and its flush() does not wait for them: each step
    is read back right after log_report returns, next to the writer's own scalars, and its history is checked."""
    tensorboardx = pytest.importorskip("tensorboardX")
    from sklearn.metrics import confusion_matrix

    writer = tensorboardx.SummaryWriter(logdir=str(tmp_path), flush_secs=3600)
    rng = np.random.default_rng(0)
    for step in range(3):
        labels, scores = rng.integers(0, 3, 60), rng.dirichlet([1, 1, 1], 60)
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        tb_imbalance.log_report(writer, labels, scores, step, class_names=["a", "b", "c"])
        logged = matrices(tmp_path)["."]  # read right away: on disk at return
        assert sorted(logged) == list(range(step + 1))
        np.testing.assert_array_equal(logged[step], confusion_matrix(labels, scores.argmax(1), labels=range(3)))
    with pytest.raises(ValueError, match="step 1 of tag 'confusion_matrix' is not after the last step already logged"):
        tb_imbalance.log_report(writer, labels, scores, 1, class_names=["a", "b", "c"])
    writer.close()
    assert sorted(matrices(tmp_path)["."]) == [0, 1, 2]


def step_1_from_a_forked_child(writer) -> str:
    """What log_report of step 1 through ``writer`` says in a forked child ("written", or its RuntimeError)."""
    import os
    import signal

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.close(read)
        signal.alarm(60)  # a hang ends the child; the parent then reads no message
        try:
            tb_imbalance.log_report(writer, [0, 1], [0, 1], 1, num_classes=2, image=False)
            message = "written"
        except RuntimeError as error:
            message = str(error)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(child, 0)
    return message


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork")
def test_a_summary_writer_inherited_through_a_fork_is_refused_not_waited_on_forever(tmp_path):
    """torch's writer thread does not survive a fork: its flush would hang the child (a DataLoader worker)."""
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tensorboard.SummaryWriter(log_dir=str(tmp_path))
    tb_imbalance.log_report(writer, [0, 1], [0, 1], 0, num_classes=2, image=False)
    message = step_1_from_a_forked_child(writer)
    assert message.startswith("`target`: this SummaryWriter's writing thread does not run in this process"), message
    tb_imbalance.log_report(writer, [0, 1], [0, 1], 1, num_classes=2, image=False)  # the parent's writer still writes
    writer.close()
    assert sorted(matrices(tmp_path)["."]) == [0, 1]


def test_a_tensorboardx_writer_that_writes_nothing_logs_nothing_and_one_inherited_through_a_fork_is_refused(tmp_path):
    """SummaryWriter(write_to_disk=rank == 0), tensorboardX's DDP idiom; and its file is the parent's after a fork."""
    tensorboardx = pytest.importorskip("tensorboardX")
    silent = tensorboardx.SummaryWriter(logdir=str(tmp_path / "rank1"), write_to_disk=False)
    cm = tb_imbalance.log_report(silent, [0, 1, 1], [0, 1, 0], 0, num_classes=2)
    assert cm.tolist() == [[1, 0], [1, 1]] and not (tmp_path / "rank1").exists()

    writer = tensorboardx.SummaryWriter(logdir=str(tmp_path / "rank0"))
    tb_imbalance.log_report(writer, [0, 1], [0, 1], 0, num_classes=2, image=False)
    message = step_1_from_a_forked_child(writer)
    assert message.startswith("`target`: this SummaryWriter's writing thread does not run in this process"), message
    writer.close()
    assert sorted(matrices(tmp_path)["rank0"]) == [0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the writer's thread dies, as meant
def test_a_summary_writer_whose_thread_died_of_an_error_raises_that_error_not_a_fork(tmp_path, monkeypatch):
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tensorboard.SummaryWriter(log_dir=str(tmp_path))
    queue = writer._get_file_writer().event_writer._async_writer

    def full(data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(queue._writer, "write", full)
    writer.add_scalar("loss", 1.0, 0)
    queue._worker.join(timeout=10)  # the thread dies of the error
    assert not queue._worker.is_alive() and queue._worker.exception is not None
    with pytest.raises(Exception, match="No space left on device"):
        tb_imbalance.log_report(writer, [0, 1], [0, 1], 0, num_classes=2, image=False)


def test_a_closed_tensorboardx_writer_reopened_within_the_second_of_its_file_keeps_that_file(tmp_path):
    """tensorboardX names an event file after the second it opens in and opens it with 'wb': log_report on a
    closed writer (which reopens it, as the writer's own add_scalar does) must not replace the file it closed."""
    import time

    tensorboardx = pytest.importorskip("tensorboardX")
    tb_imbalance.log_report(str(tmp_path / "warm"), [0, 1], [0, 1], 0, num_classes=2, image=False)  # imports done
    time.sleep(1 - time.time() % 1 + 0.01)  # the writer opens, closes and reopens within one second
    run = tmp_path / "run"
    writer = tensorboardx.SummaryWriter(logdir=str(run), flush_secs=3600)
    for step in range(2):
        writer.add_scalar("loss", step + 0.5, step)
        tb_imbalance.log_report(writer, [0, 1, 1], [0, 1, 0], step, num_classes=2, image=False, curves=False)
    writer.close()
    tb_imbalance.log_report(writer, [0, 1, 1], [1, 1, 0], 2, num_classes=2, image=False, curves=False)
    writer.close()
    assert len(list(run.iterdir())) == 2
    logged = matrices(run)["."]
    assert sorted(logged) == [0, 1, 2] and logged[0].tolist() == [[1, 0], [1, 1]] and logged[2].tolist() == [[0, 1], [1, 1]]
    assert scalars(run, ".", "loss") == {0: 0.5, 1: 1.5}


def test_a_closed_tensorboardx_writer_with_purge_step_reopened_does_not_purge_the_steps_it_wrote(tmp_path):
    """tensorboardX writes its purge_step's SessionLog.START into every file it reopens (torch's writer into its first
    only): log_report on such a closed writer made TensorBoard drop every step it had logged, reports and scalars."""
    tensorboardx = pytest.importorskip("tensorboardX")
    writer = tensorboardx.SummaryWriter(logdir=str(tmp_path), purge_step=0, flush_secs=3600)
    for step in range(2):
        writer.add_scalar("loss", step + 0.5, step)
        tb_imbalance.log_report(writer, [0, 1, 1], [0, 1, 0], step, num_classes=2, image=False, curves=False)
    writer.close()
    tb_imbalance.log_report(writer, [0, 1, 1], [1, 1, 0], 2, num_classes=2, image=False, curves=False)
    writer.add_scalar("loss", 2.5, 2)
    writer.close()
    logged = matrices(tmp_path)["."]
    assert sorted(logged) == [0, 1, 2] and logged[1].tolist() == [[1, 0], [1, 1]] and logged[2].tolist() == [[0, 1], [1, 1]]
    assert scalars(tmp_path, ".", "loss") == {0: 0.5, 1: 1.5, 2: 2.5}


def test_two_open_tensorboardx_writers_of_one_second_sharing_a_file_are_refused_before_overwriting_it(tmp_path):
    # tensorboardX names its file after the second and the host: a second writer of that second opened the same
    # file, and its report overwrote the first writer's step on disk (step 0 was lost, said nowhere).
    tensorboardx = pytest.importorskip("tensorboardX")

    def file_of(writer):
        return writer._get_file_writer().event_writer._ev_writer._file_name

    for attempt in range(5):  # made across a second's boundary, they have files of their own: again
        run = tmp_path / str(attempt)
        first, second = tensorboardx.SummaryWriter(str(run)), tensorboardx.SummaryWriter(str(run))
        if file_of(first) == file_of(second):
            break
        first.close()
        second.close()
    assert file_of(first) == file_of(second)
    tb_imbalance.log_matrix(first, CM, 0, image=False)
    with pytest.raises(RuntimeError, match=r"`target`: this SummaryWriter writes the event file .*which another open "
                                           r"SummaryWriter of this process writes too.*filename_suffix"):
        tb_imbalance.log_matrix(second, CM, 1, image=False)
    tb_imbalance.log_matrix(first, CM, 1, image=False)
    first.close()
    second.close()
    written = matrices(run)["."]
    assert sorted(written) == [0, 1] and all(cm.tolist() == CM.tolist() for cm in written.values())
    third = tensorboardx.SummaryWriter(str(tmp_path / "suffixed"), filename_suffix=".eval")  # its own file
    tb_imbalance.log_matrix(third, CM, 0, image=False)
    third.close()
    assert matrices(tmp_path / "suffixed")["."][0].tolist() == CM.tolist()
