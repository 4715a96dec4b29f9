"""Another writer in the same run directory is never silent.

TensorBoard's Python loader (``--load_fast=false``) reads only the newest
event file of a directory: a user who keeps ``SummaryWriter("runs/exp")`` for
the loss and also passes the *path* ``"runs/exp"`` to ``log_report`` loses
the loss's later steps there. ``log_report(path, ...)`` notices an event file
in its directory that someone else wrote to since it opened (this process or
another) and warns once, saying how to keep both. Two processes writing one
tag (DDP without a rank guard) are refused, in whichever order they start (a
PyTorch ``SummaryWriter`` target alike: ``tests/any_backend/test_other_writers_torch.py``).
A ``tf.summary`` writer does not tell its directory: what other processes
write there is not checked, and a log line says so once in every process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import tb_imbalance.summary as tbs
from logdir_reader import matrices
from tb_imbalance import ReportWriter, log_report
from tb_imbalance.event_reading import event_files
from tb_imbalance.other_writers import WatchedHistory
from tb_imbalance.targets import close_directory_writers

LABELS = np.array([0, 1, 1, 0, 2, 2])
PREDICTIONS = np.array([0, 1, 0, 0, 2, 1])


def _python_loader(run_dir) -> event_accumulator.EventAccumulator:
    """What TensorBoard's Python loader serves for one run directory."""
    accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _other_writer_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "another writer is adding to" in str(w.message)]


def test_a_summary_writer_next_to_a_directory_target_is_warned_about_once(tmp_path):
    run_dir = tmp_path / "exp"
    user_writer = tf.summary.create_file_writer(str(run_dir))
    server = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(8):
            with user_writer.as_default():
                tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            user_writer.flush()
            log_report(str(run_dir), LABELS, PREDICTIONS, step, num_classes=3, image=False)
            server.Reload()  # a running TensorBoard (--load_fast=false) reloads as the run goes
    said = _other_writer_warnings(caught)
    assert len(said) == 1, said
    assert str(run_dir) in said[0]
    assert "pass your SummaryWriter itself as the target" in said[0]
    assert "if rank == 0:" in said[0]
    # What was warned about is real: the running loader lost the later events of the file it
    # saw as older (which one depends on how the two file names sort).
    shown = {tag: len(server.Tensors(tag)) for tag in ("loss", "confusion_matrix")}
    assert min(shown.values()) < 8 and max(shown.values()) == 8, shown


def test_passing_the_writer_itself_keeps_both_and_says_nothing(tmp_path):
    run_dir = tmp_path / "exp"
    user_writer = tf.summary.create_file_writer(str(run_dir))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(8):
            with user_writer.as_default():
                tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            log_report(user_writer, LABELS, PREDICTIONS, step, num_classes=3, image=False)
    assert _other_writer_warnings(caught) == []
    user_writer.flush()
    loaded = _python_loader(run_dir)
    assert [event.step for event in loaded.Tensors("loss")] == list(range(8))
    assert [event.step for event in loaded.Tensors("confusion_matrix")] == list(range(8))


def test_continuing_a_run_in_a_new_writer_says_nothing(tmp_path):
    run_dir = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log_report(str(run_dir), LABELS, PREDICTIONS, 0, num_classes=3, image=False)
        close_directory_writers()  # as a later process would
        for step in (1, 2):
            log_report(str(run_dir), LABELS, PREDICTIONS, step, num_classes=3, image=False)
    assert _other_writer_warnings(caught) == []
    close_directory_writers()
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2]


def test_a_tf_summary_writer_of_this_process_in_the_directory_is_another_writer_from_the_first_step(tmp_path):
    # tb_imbalance.summary under a tf.summary writer, then log_report to the same directory: one tag, two
    # files (TensorBoard's Python loader then loses the older file's later steps), not a run continued
    run_dir = tmp_path / "run"
    user_writer = tf.summary.create_file_writer(str(run_dir))
    with user_writer.as_default():
        assert tbs.confusion_matrix("confusion_matrix", LABELS, PREDICTIONS, step=0, num_classes=3)
    user_writer.flush()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"tag 'confusion_matrix' in .* is also being written by another writer "
                                             r".*log_report\(writer, \.\.\.\) with the writer itself"):
            log_report(str(run_dir), LABELS, PREDICTIONS, 1, num_classes=3, image=False)
    assert len(_other_writer_warnings(caught)) == 1
    log_report(user_writer, LABELS, PREDICTIONS, 1, num_classes=3, image=False)  # the fix named: one writer
    user_writer.close()
    assert sorted(matrices(tmp_path)["run"]) == [0, 1]
    assert len(list(run_dir.iterdir())) == 1  # one event file: nothing went through the directory
    close_directory_writers()
    log_report(str(run_dir), LABELS, PREDICTIONS, 2, num_classes=3, image=False)  # closed: the run continues


def _other_process(run_dir, steps) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import numpy as np
        from tb_imbalance import log_report
        for step in {list(steps)!r}:
            log_report({str(run_dir)!r}, np.array([0, 1, 1, 0, 2, 2]), np.array([0, 1, 0, 0, 2, 1]), step,
                       num_classes=3, image=False)
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_two_processes_writing_one_tag_are_refused_when_the_other_started_first(tmp_path):
    run_dir = tmp_path / "run"
    log_report(str(run_dir), LABELS, PREDICTIONS, 0, num_classes=3, image=False)
    other = _other_process(run_dir, [0, 1])
    assert other.returncode != 0
    # This process still runs, so the other one is told it is a second writer, not a re-run.
    assert "is also being written by another writer" in other.stderr
    assert "written by another running process" in other.stderr and "if rank == 0:" in other.stderr
    assert "not after the last step" not in other.stderr and "another writer is adding to" in other.stderr
    assert sorted(matrices(tmp_path)["run"]) == [0]


def test_a_finished_process_s_run_is_history_not_another_writer(tmp_path):
    run_dir = tmp_path / "run"
    assert _other_process(run_dir, [0, 1]).returncode == 0  # an earlier run, now ended
    with pytest.raises(ValueError, match=r"step 0 of tag 'confusion_matrix' is not after the last step already "
                                         r"logged \(1\)"):
        log_report(str(run_dir), LABELS, PREDICTIONS, 0, num_classes=3, image=False)
    log_report(str(run_dir), LABELS, PREDICTIONS, 2, num_classes=3, image=False)  # resuming after it is fine
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2]


def test_two_processes_writing_one_tag_are_refused_when_both_started_together(tmp_path):
    run_dir = tmp_path / "run"
    writer = ReportWriter(run_dir)
    assert writer.history.tags == {}  # this "rank" has read the (empty) directory: both start together
    assert _other_process(run_dir, [0, 1]).returncode == 0  # the other rank writes first
    cm = np.array([[2, 0, 0], [1, 1, 0], [0, 1, 1]])
    with pytest.warns(UserWarning, match="another writer is adding to"):
        with pytest.raises(ValueError) as caught:
            writer.write_matrix(0, "confusion_matrix", cm)
    message = str(caught.value)
    assert "is also being written by another writer" in message
    assert "holds steps up to 1" in message and "gather every rank's rows first, then log `if rank == 0:`" in message
    # A later step is refused too: the other rank owns this tag now.
    with pytest.raises(ValueError, match="is also being written by another writer"):
        writer.write_matrix(5, "confusion_matrix", cm)
    # Another tag of the same run is fine.
    writer.write_matrix(0, "test_set", cm)
    writer.close()
    assert sorted(matrices(tmp_path)["run"]) == [0, 1]


def _write_through_tf(kind: str, writer, step: int) -> None:
    if kind == "summary_ops":
        with writer.as_default():
            assert tbs.confusion_matrix("confusion_matrix", LABELS, PREDICTIONS, step=step, num_classes=3)
    else:
        log_report(writer, LABELS, PREDICTIONS, step, num_classes=3, image=False)
    writer.flush()


def _says_other_processes_are_not_checked(message: str) -> bool:
    return (
        "a tf.summary writer does not tell which directory it writes to" in message
        and "nor another process writing the same tag at the same time" in message
        and "gather every rank's rows first, then log `if rank == 0:`" in message
        and "pass the directory itself to tb_imbalance.log_report" in message
    )


@pytest.mark.parametrize("kind", ["tf_writer", "summary_ops"])
def test_a_tf_summary_writer_says_once_that_other_processes_in_its_directory_are_not_checked(
    tmp_path, kind, caplog, monkeypatch
):
    monkeypatch.setattr(tbs, "_SAID_HISTORY_SCOPE", False)
    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    with caplog.at_level(logging.WARNING, logger="tb_imbalance"):
        for step in range(3):
            _write_through_tf(kind, writer, step)
    said = [record.getMessage() for record in caplog.records if "tf.summary writer" in record.getMessage()]
    assert len(said) == 1, said
    assert _says_other_processes_are_not_checked(said[0]), said[0]


def test_two_processes_writing_one_tag_through_tf_summary_writers_are_said_not_checked(tmp_path):
    # The directory of a tf.summary writer is unknown: the second process's steps are not
    # refused, and that process's log says so (with how to avoid it), not silence.
    run_dir = tmp_path / "run"
    _write_through_tf("summary_ops", tf.summary.create_file_writer(str(run_dir)), 0)
    code = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf
        from tb_imbalance import log_report
        writer = tf.summary.create_file_writer({str(run_dir)!r})
        for step in (0, 1):
            log_report(writer, np.array([0, 1, 1, 0, 2, 2]), np.array([0, 1, 0, 0, 2, 1]), step,
                       num_classes=3, image=False)
        writer.flush()
        """
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert other.returncode == 0, other.stderr
    assert _says_other_processes_are_not_checked(" ".join(other.stderr.split())), other.stderr


def test_a_directory_named_like_an_event_file_is_not_read_as_another_writer(tmp_path):
    with ReportWriter(tmp_path) as writer:
        writer.write_matrix(0, "confusion_matrix", np.eye(2, dtype=int), image=False)
        (tmp_path / "events.out.tfevents.backup").mkdir()
        (tmp_path / "events.out.tfevents.backup" / "old").write_bytes(b"x" * 100)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            writer.write_matrix(1, "confusion_matrix", np.eye(2, dtype=int), image=False)
    assert sorted(matrices(tmp_path)["."]) == [0, 1]


def test_odd_entries_and_pattern_characters_in_the_run_directory_keep_both_checks(tmp_path):
    """A run directory named with glob's pattern characters is read whole at first use, and a symlink
    loop or a directory named like an event file neither stops the writer nor hides another writer."""
    run = tmp_path / "run [1]*?"
    with ReportWriter(run) as earlier:
        earlier.write_matrix(0, "confusion_matrix", np.eye(2, dtype=int), image=False)
    (run / "events.out.tfevents.loop").symlink_to(run / "events.out.tfevents.loop")
    (run / "events.out.tfevents.dir").mkdir()
    writer = ReportWriter(run)
    with pytest.raises(ValueError, match=r"not after the last step already logged \(0\)"):  # read at first use
        writer.write_matrix(0, "confusion_matrix", np.eye(2, dtype=int), image=False)
    writer.write_matrix(1, "confusion_matrix", np.eye(2, dtype=int), image=False)
    with ReportWriter(run) as other:
        other.write_matrix(0, "test_set", np.eye(2, dtype=int), image=False)
    with pytest.warns(UserWarning, match="another writer is adding to"):
        with pytest.raises(ValueError, match="test_set"):
            writer.write_matrix(2, "test_set", np.eye(2, dtype=int), image=False)
    writer.close()


@pytest.mark.parametrize("suffix", ["", ".v2", ".1", ".2024.01", ".rank1", "_rank0", "-train"])
def test_a_running_process_is_read_from_its_file_name_whatever_suffix_follows(suffix):
    """SummaryWriter(filename_suffix=f".{rank}") puts digits after the pid and counter."""
    import os
    import socket

    from tb_imbalance.other_writers import running_writer

    parent, host, now = os.getppid(), socket.gethostname(), int(time.time())  # the parent started before now
    assert running_writer(f"run/events.out.tfevents.{now}.{host}.{parent}.0{suffix}") == parent
    assert running_writer(f"run/events.out.tfevents.{now}.{host}.{os.getpid()}.0{suffix}") is None  # this one
    assert running_writer(f"run/events.out.tfevents.{now}.other.{host}.{parent}.0{suffix}") is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times are read from /proc")
def test_a_process_that_started_after_the_file_was_named_did_not_write_it():
    """A process id given again (after a reboot, in a container) to a process that is not the file's writer."""
    import socket

    from tb_imbalance.other_writers import running_writer

    newer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host, now = socket.gethostname(), int(time.time())
        assert running_writer(f"run/events.out.tfevents.{now - 3600}.{host}.{newer.pid}.0.v2") is None  # an hour older
        assert running_writer(f"run/events.out.tfevents.{now + 1}.{host}.{newer.pid}.0.v2") == newer.pid
    finally:
        newer.kill()
        newer.wait()


def test_another_writer_s_file_cut_by_a_crash_is_read_once_not_at_every_step(tmp_path, monkeypatch):
    import tb_imbalance.other_writers as other_writers

    run_dir = tmp_path / "run"
    with tf.summary.create_file_writer(str(run_dir)).as_default():
        for step in range(3):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
    (cut,) = run_dir.glob("*tfevents*")
    cut.write_bytes(cut.read_bytes()[:-7])  # the last record cut short, as by a killed process
    reads = []
    real = other_writers.read_events_from
    monkeypatch.setattr(other_writers, "read_events_from", lambda path, start=0: reads.append(start) or real(path, start))
    with ReportWriter(run_dir) as writer:
        for step in range(4):
            writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    assert len(reads) == 1  # read on first use (RunHistory.from_directory), looked at once more, never again
    assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2, 3]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock")
def test_two_processes_starting_at_once_take_turns_and_the_second_is_refused_at_its_first_step(tmp_path):
    """While one process checks and writes a step, another waits; then it finds the first's file and is refused,
    rather than both writing step 0 (DDP ranks without a rank guard, all logging their first epoch together)."""
    from tb_imbalance.event_file import EventFile
    from tb_imbalance.events import step_values
    from tb_imbalance.run_lock import one_writer_at_a_time
    from tb_imbalance.step import ReportStep

    run_dir = tmp_path / "run"
    script = textwrap.dedent(f"""
        import sys, tb_imbalance
        tb_imbalance.log_report({str(tmp_path / "warm")!r}, [0, 1], [0, 1], 0, num_classes=2, image=False)  # imports done
        print("ready", flush=True)
        try:
            tb_imbalance.log_report({str(run_dir)!r}, [0, 1], [0, 1], 0, class_names=["a", "b"], image=False)
            print("written")
        except ValueError as error:
            print("refused:", error)
    """)
    with one_writer_at_a_time(str(run_dir)):  # this process is checking and writing step 0
        other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert other.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        assert other.poll() is None and not list(run_dir.iterdir())  # it waits, nothing written
        events = EventFile(run_dir)
        report = ReportStep.of(0, "confusion_matrix", np.eye(2, dtype=np.int64), ["a", "b"])
        events.write(0, step_values(report))
        events.flush()
    out, _ = other.communicate(timeout=120)
    assert out.startswith("refused: tag 'confusion_matrix'") and "is also being written by another writer" in out, out
    assert sorted(matrices(tmp_path / "run")["."]) == [0]
    events.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/fdinfo"), reason="needs /proc (Linux)")
def test_the_first_read_looks_at_this_processs_open_files_once_however_many_event_files(tmp_path, monkeypatch):
    # which files this process writes is read once per directory, not once per event file in it
    run_dir = tmp_path / "run"
    for restart in range(30):  # a run restarted 30 times: 30 earlier processes' files
        with ReportWriter(str(run_dir)) as earlier:
            earlier.write_matrix(restart, "confusion_matrix", np.eye(3, dtype=int), image=False)
    looks = []
    real_readlink = os.readlink
    monkeypatch.setattr(os, "readlink", lambda path, *args, **kwargs: looks.append(path) or real_readlink(path, *args, **kwargs))
    descriptors = len(os.listdir("/proc/self/fd"))
    history = WatchedHistory(str(run_dir)).history()
    assert history.tags["confusion_matrix"].other_writer is None  # closed: an earlier run's
    assert len(event_files(str(run_dir))) == 30
    assert len(looks) <= descriptors


class _Later:
    """``time`` for other_writers, ``seconds`` ahead: a directory last changed now counts as quiet."""

    def __init__(self, seconds: float) -> None:
        self.ahead = int(seconds * 1e9)

    def time_ns(self) -> int:
        return time.time_ns() + self.ahead


def _count_listings(monkeypatch) -> list[str]:
    import tb_imbalance.other_writers as other_writers

    listed = []
    real = other_writers.event_files
    monkeypatch.setattr(other_writers, "event_files", lambda run_dir: listed.append(run_dir) or real(run_dir))
    return listed


def test_a_quiet_local_directory_is_listed_again_only_once_an_entry_is_made(tmp_path, monkeypatch):
    """A listing costs five system calls a step, each letting the GIL go (a background writer beside a JAX fit)."""
    import tb_imbalance.other_writers as other_writers

    monkeypatch.setattr(other_writers, "time", _Later(10))
    listed = _count_listings(monkeypatch)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with ReportWriter(tmp_path) as writer:
            for step in range(4):
                writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
            assert len(listed) == 1  # after the writer's own file was made; unchanged since
            time.sleep(0.05)  # past the kernel clock's tick: a file made now gives the directory another time
            with ReportWriter(tmp_path) as other:  # another writer's file appears between two steps
                other.write_matrix(0, "other", [[1, 0], [0, 1]], image=False)
            writer.write_matrix(4, "confusion_matrix", [[3, 1], [0, 2]], image=False)
            assert len(listed) == 2
            assert writer.history.tags["other"].other_writer is not None  # its steps were taken in, and refused
    assert [str(warning.message) for warning in said if "another writer is adding" in str(warning.message)] != []


def test_a_directory_changed_within_the_last_seconds_is_listed_at_every_step(tmp_path, monkeypatch):
    """Its times may not change again for an entry made within the same tick of the file system's clock."""
    listed = _count_listings(monkeypatch)
    with ReportWriter(tmp_path) as writer:
        for step in range(4):
            writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    assert len(listed) == 3  # every step after the first read


def test_a_directory_on_a_network_file_system_is_listed_at_every_step(tmp_path, monkeypatch):
    """Its times may be cached here, or set by another machine's clock."""
    import tb_imbalance.other_writers as other_writers

    monkeypatch.setattr(other_writers, "time", _Later(10))
    monkeypatch.setattr(other_writers, "file_system_type", lambda path: "nfs4")
    listed = _count_listings(monkeypatch)
    with ReportWriter(tmp_path) as writer:
        for step in range(4):
            writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    assert len(listed) == 3


def test_the_file_system_of_a_path_is_read_from_the_deepest_mount_holding_it(tmp_path, monkeypatch):
    import builtins
    import io

    import tb_imbalance.other_writers as other_writers

    mountinfo = (
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "40 27 0:50 / /mnt/shared\\040runs rw,relatime shared:1 - nfs4 server:/runs rw\n"
        "41 27 0:51 / /mnt/shared rw,relatime - tmpfs tmpfs rw\n"
    )
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: io.StringIO(mountinfo) if path == "/proc/self/mountinfo"
                        else real_open(path, *a, **k))
    assert other_writers.file_system_type("/mnt/shared runs/a") == "nfs4"
    assert other_writers.file_system_type("/mnt/shared/a") == "tmpfs"
    assert other_writers.file_system_type("/mnt/sharedx/a") == "ext4"


def test_a_writers_own_file_is_known_to_be_there_by_its_quiet_directorys_times_and_its_deletion_noticed(
    tmp_path, monkeypatch
):
    """The directory's times, read for its listing, also say the file is there: one system call less a step."""
    import tb_imbalance.other_writers as other_writers
    from tb_imbalance.event_reading import read_events

    monkeypatch.setattr(other_writers, "time", _Later(10))
    looked = []
    real_exists = os.path.exists
    monkeypatch.setattr(os.path, "exists", lambda path: looked.append(path) or real_exists(path))
    with ReportWriter(tmp_path) as writer:
        for step in range(2):  # the second step lists the directory with the writer's file
            writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
        (first,) = tmp_path.glob("events.out.tfevents.*")
        assert str(first) in looked
        looked.clear()
        for step in range(2, 4):
            writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, 2]], image=False)
        assert str(first) not in looked  # known to be there by the directory's times
        time.sleep(0.05)  # past the kernel clock's tick: the deletion gives the directory another time
        first.unlink()  # deleted between two steps: the writer starts over in a new file
        writer.write_matrix(4, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    (second,) = tmp_path.glob("events.out.tfevents.*")
    assert second != first
    events = list(read_events(str(second)))
    assert events[0].file_version == "brain.Event:2" and [event.step for event in events[1:]] == [4]
