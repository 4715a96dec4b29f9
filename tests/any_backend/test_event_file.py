"""Event files written without TensorFlow (tb_imbalance.event_file): the records' checksums and remote URLs.

Runs in the TensorFlow, JAX and PyTorch environments; the oracle is
TensorBoard's own masked CRC32C and event protos.
"""

import os
import re
import struct

import numpy as np
import pytest

import tb_imbalance
from tb_imbalance import event_file, event_reading


def read_records(raw):
    """TFRecord payloads of ``raw``, checking both checksums with TensorBoard's own CRC."""
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    payloads, offset = [], 0
    while offset < len(raw):
        header = raw[offset:offset + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", raw[offset + 8:offset + 12])[0] == masked_crc32c(header)
        data = raw[offset + 12:offset + 12 + length]
        assert struct.unpack("<I", raw[offset + 12 + length:offset + 16 + length])[0] == masked_crc32c(data)
        payloads.append(data)
        offset += 16 + length
    return payloads


def test_fast_crc_equals_tensorboards(tmp_path):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 8, 1000, 4097):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert event_file.masked_crc32c(data) == masked_crc32c(data)
    assert event_file.CRC_IMPLEMENTATION in ("google-crc32c", "crc32c")


def test_a_step_record_is_the_event_tensorboard_would_serialize(tmp_path, monkeypatch):
    from tensorboard.compat.proto import event_pb2, summary_pb2

    values = [summary_pb2.Summary.Value(tag=f"x{k}", simple_value=k / 3) for k in range(5)]
    monkeypatch.setattr(event_file.time, "time", lambda: 1234.5)
    for step, written in ((7, values), (8, [])):
        with event_file.EventFile(str(tmp_path / f"run{step}")) as events:
            events.write(step, written)
        data = open(events.path, "rb").read()
        header_length = struct.unpack("<Q", data[:8])[0]
        record = data[16 + header_length:]
        expected = event_pb2.Event(wall_time=1234.5, step=step, summary=summary_pb2.Summary(value=written))
        assert record[12:-4] == expected.SerializeToString()


def test_remote_url_through_tensorboards_file_layer():
    fsspec = pytest.importorskip("fsspec")
    from tensorboard.compat.proto import event_pb2

    url = "memory://tbi-test/runs/val"
    with tb_imbalance.ReportWriter(url) as writer:
        tb_imbalance.log_matrix(writer, [[3, 1], [0, 2]], 5, class_names=["a", "b"], image=False)
    fs = fsspec.filesystem("memory")
    files = fs.ls("/tbi-test/runs/val", detail=False)
    assert len(files) == 1 and "events.out.tfevents" in files[0]
    events = [event_pb2.Event.FromString(p) for p in read_records(fs.cat(files[0]))]
    assert events[0].file_version == "brain.Event:2"
    assert events[1].step == 5 and events[1].summary.value[0].tag == "confusion_matrix"


def test_a_url_run_whose_name_globs_is_read_back_and_a_re_run_refused():
    pytest.importorskip("fsspec")
    # Found with glob: "[1]" read as a character class (and TensorBoard's S3 layer globs only a
    # trailing "*"), so the run looked empty and a re-run from step 0 was written.
    url = "memory://tbi-test/runs/exp[1]"
    with tb_imbalance.ReportWriter(url) as writer:
        tb_imbalance.log_matrix(writer, [[3, 1], [0, 2]], 0, class_names=["a", "b"], image=False)
    (path,) = event_reading.event_files(url)
    assert path.startswith(url + "/events.out.tfevents")
    with tb_imbalance.ReportWriter(url) as again, pytest.raises(ValueError, match="not after the last step already logged"):
        tb_imbalance.log_matrix(again, [[3, 1], [0, 2]], 0, class_names=["a", "b"], image=False)


@pytest.mark.parametrize(
    ("log_dir", "match"),
    [
        ("s3:/bucket/runs", r"reads as a s3:// URL with a slash lost .* pass the URL as a str"),
        ("memory:/runs/a", r"reads as a memory:// URL with a slash lost"),
        ("s3://bucket", r"bucket without a path after it, .* pass 's3://bucket/'"),
    ],
)
def test_urls_that_would_not_be_written_where_meant_are_refused_when_the_writer_is_made(tmp_path, monkeypatch, log_dir, match):
    # "s3:/bucket/runs" (pathlib.Path of an s3:// URL) was made as a local directory "s3:";
    # "s3://bucket" failed at every write with "substring not found".
    from tb_imbalance import run_location

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_location.gfile, "get_filesystem", lambda url: object())  # as with boto3 installed
    with pytest.raises(ValueError, match=match):
        tb_imbalance.ReportWriter(log_dir)
    assert list(tmp_path.iterdir()) == []


def test_an_s3_url_without_boto3_names_boto3_as_the_docs_do(tmp_path, monkeypatch):
    """The docs say `boto3` for s3://; without it fsspec's own message said only "Install s3fs"."""
    from tb_imbalance import run_location

    def no_s3(url):
        raise ImportError("Install s3fs to access S3")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_location.gfile, "get_filesystem", no_s3)  # as without boto3 and s3fs
    with pytest.raises(ImportError, match=r"cannot open here \(Install s3fs to access S3\); install boto3 \(TensorBoard's own S3 layer\) or s3fs"):
        tb_imbalance.ReportWriter("s3://bucket/runs/a")
    with pytest.raises(ImportError, match=r"install the fsspec package of its scheme \(gcsfs, adlfs, …\)"):
        tb_imbalance.ReportWriter("gs://bucket/runs/a")
    assert list(tmp_path.iterdir()) == []


def test_a_step_cut_short_by_a_full_disk_loses_nothing_written_before_or_after(tmp_path, monkeypatch):
    """A failed append may leave part of a record at the file's end: later steps go to a new file,
    so TensorBoard's loader reads every step that was written, the retried one included."""
    from logdir_reader import matrices

    writer = tb_imbalance.ReportWriter(tmp_path)
    writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])
    real_write = event_file._FastRecordWriter.write

    def cut_short(self, data):
        monkeypatch.setattr(event_file._FastRecordWriter, "write", real_write)  # the disk is freed after this
        self._writer.write(struct.pack("<Q", len(data)) + b"\0\0")  # the first bytes of a record, then ENOSPC
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(event_file._FastRecordWriter, "write", cut_short)
    with pytest.raises(OSError, match="No space left"):
        writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]])
    writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]])  # retried
    writer.write_matrix(2, "confusion_matrix", [[5, 1], [0, 2]])
    writer.close()
    logged = matrices(tmp_path)["."]
    assert {step: matrix.tolist() for step, matrix in logged.items()} == {
        0: [[3, 1], [0, 2]], 1: [[4, 1], [0, 2]], 2: [[5, 1], [0, 2]]
    }
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 2


def test_a_full_disk_is_raised_at_every_door_naming_the_file_and_the_fix_with_its_errno(tmp_path, monkeypatch):
    """log_report, log_matrix and ReportWriter write through one event file: its refused step says where and what next."""
    from logdir_reader import matrices

    def full(self, data):
        raise OSError(28, "No space left on device")

    writer = tb_imbalance.ReportWriter(tmp_path / "writer")
    writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])
    monkeypatch.setattr(event_file._FastRecordWriter, "write", full)
    attempts = {
        "writer": lambda: writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]]),
        "log_matrix": lambda: tb_imbalance.log_matrix(str(tmp_path / "matrix"), [[4, 1], [0, 2]], step=0),
        "log_report": lambda: tb_imbalance.log_report(str(tmp_path / "report"), [0, 1, 1], [0, 1, 0], step=0, num_classes=2),
    }
    for door, attempt in attempts.items():
        with pytest.raises(OSError) as raised:
            attempt()
        assert raised.value.errno == 28, door
        assert re.search(r"a step could not be written to '.*events\.out\.tfevents\.[^']*': No space left on device\. "
                         r"The steps written before it stay readable; free space on that disk", str(raised.value)), door
    monkeypatch.undo()
    writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]])  # space freed: the next step writes
    writer.close()
    assert sorted(matrices(tmp_path / "writer")["."]) == [0, 1]


def test_a_run_directory_it_may_not_write_in_is_named_with_the_fix_and_a_later_step_writes(tmp_path, monkeypatch):
    from logdir_reader import matrices

    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o555)
    if os.geteuid() == 0:  # root writes in any mode: the kernel's answer to another user
        def refused(self, create):
            raise PermissionError(13, "Permission denied", self.path)

        monkeypatch.setattr(event_file._LocalFile, "_open", refused)
    writer = tb_imbalance.ReportWriter(run)
    message = f"cannot make an event file in the run directory {str(run)!r}: Permission denied; pass a log_dir this process can write to"
    with pytest.raises(PermissionError, match=re.escape(message)):
        writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])
    with pytest.raises(PermissionError, match=re.escape(message)):
        tb_imbalance.log_report(run, [0, 1, 1], [0, 1, 0], 0, num_classes=2)
    assert list(run.iterdir()) == []
    monkeypatch.undo()
    run.chmod(0o755)
    writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])  # nothing was recorded: step 0 again
    writer.close()
    assert {step: m.tolist() for step, m in matrices(run)["."].items()} == {0: [[3, 1], [0, 2]]}


def test_a_run_directory_it_may_write_but_not_list_is_refused_before_a_step_mixes_two_runs(tmp_path, monkeypatch):
    run = tmp_path / "run"
    with tb_imbalance.ReportWriter(run) as writer:
        writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])
        writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]])
    before = sorted(run.iterdir())
    run.chmod(0o333)  # writable, not readable
    if os.geteuid() == 0:  # root lists any mode: the kernel's answer to another user
        scandir = os.scandir

        def refused(path=".", *args):
            if os.fspath(path) == str(run):
                raise PermissionError(13, "Permission denied", str(run))
            return scandir(path, *args)

        monkeypatch.setattr(event_reading.os, "scandir", refused)
    message = (f"cannot list the run directory {str(run)!r}: Permission denied; the steps it holds cannot be checked "
               "before a write (nor read by TensorBoard): make it readable (chmod u+r) or pass another log_dir")
    with pytest.raises(PermissionError, match=re.escape(message)):
        tb_imbalance.ReportWriter(run).write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]])  # a re-run from step 0
    with pytest.raises(PermissionError, match=re.escape(message)):
        tb_imbalance.log_report(run, [0, 1, 1], [0, 1, 0], 0, num_classes=2)
    monkeypatch.undo()
    run.chmod(0o755)
    assert sorted(run.iterdir()) == before
    assert event_reading.event_files(str(tmp_path / "missing")) == []


def test_a_url_that_cannot_be_read_fails_before_training_not_after_the_first_epoch(tmp_path):
    # The history read swallowed the store's error (no credentials): the callback trained its
    # first epoch, and only the write at its end failed.
    fsspec = pytest.importorskip("fsspec")
    import keras
    from fsspec.implementations.memory import MemoryFileSystem

    from tb_imbalance.keras import ClassificationReportCallback

    class Denied(MemoryFileSystem):
        protocol = "tbidenied"

        def exists(self, path, **kwargs):
            raise PermissionError(13, "403 Forbidden: no credentials")

    fsspec.register_implementation("tbidenied", Denied, clobber=True)
    message = r"cannot read the run directory 'tbidenied://bucket/runs.*403 Forbidden.*credentials"
    with pytest.raises(OSError, match=message):
        tb_imbalance.log_report("tbidenied://bucket/runs/a", [0, 1, 1], [0, 1, 0], 0, num_classes=2)
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    epochs = []
    trained = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch))
    callback = ClassificationReportCallback("tbidenied://bucket/runs", validation_data=(x, y), verbose=0)
    with pytest.raises(OSError, match=message):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[trained, callback])
    assert epochs == []

    class NoCredentialsError(Exception):  # botocore's and google-auth's errors are no OSError
        pass

    class Unsigned(MemoryFileSystem):
        protocol = "tbiunsigned"

        def exists(self, path, **kwargs):
            raise NoCredentialsError("Unable to locate credentials")

    fsspec.register_implementation("tbiunsigned", Unsigned, clobber=True)
    with pytest.raises(OSError, match=r"cannot read the run directory 'tbiunsigned://bucket/runs/a' \(NoCredentialsError"):
        tb_imbalance.log_report("tbiunsigned://bucket/runs/a", [0, 1, 1], [0, 1, 0], 0, num_classes=2)


def test_a_url_with_and_without_a_trailing_slash_is_one_run_directory():
    # Each spelling had its writer and event file in the one directory, neither reading the other's
    # steps after its first: a step logged through both was written twice.
    pytest.importorskip("fsspec")
    from tb_imbalance.targets import close_directory_writers

    url = "memory://tbi-test/slash/run"
    tb_imbalance.log_report(url, [0, 1, 1], [0, 1, 0], 0, num_classes=2, image=False)
    tb_imbalance.log_report(url + "/", [0, 1, 1], [0, 1, 1], 1, num_classes=2, image=False)
    with pytest.raises(ValueError, match="is not after the last step already logged"):
        tb_imbalance.log_report(url, [0, 1, 1], [1, 1, 1], 1, num_classes=2, image=False)
    assert tb_imbalance.ReportWriter("memory://tbi-test/slash/run//").log_dir == url
    close_directory_writers()
    (path,) = event_reading.event_files(url)
    assert [event.step for event in event_reading.read_events(path) if event.summary.value] == [0, 1]


def test_local_steps_are_appended_to_a_file_kept_open_not_reopened_through_tensorboards_file_layer(tmp_path, monkeypatch):
    """Reopening by the path cost seven system calls a step, each letting the GIL go (a writer beside a JAX fit)."""
    from tensorboard.compat.tensorflow_stub.io import gfile

    opened = []
    monkeypatch.setattr(gfile.LocalFileSystem, "append", lambda *args, **kwargs: opened.append(args[1]))
    monkeypatch.setattr(gfile.LocalFileSystem, "write", lambda *args, **kwargs: opened.append(args[1]))
    writer = tb_imbalance.ReportWriter(tmp_path)
    for step in range(3):
        writer.write_matrix(step, "confusion_matrix", [[3, 1], [0, step]], image=False)
    assert opened == []
    (path,) = tmp_path.glob("events.out.tfevents.*")
    assert [event.step for event in event_reading.read_events(str(path))] == [0, 0, 1, 2]  # the header, then each step
    assert event_file.kept_open_here(os.path.realpath(path))
    writer.close()
    assert not event_file.kept_open_here(os.path.realpath(path))


def test_an_event_file_deleted_while_a_step_is_written_starts_a_new_file_with_that_step(tmp_path, monkeypatch):
    writer = tb_imbalance.ReportWriter(tmp_path)
    writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    (first,) = tmp_path.glob("events.out.tfevents.*")
    step_values = writer.builder.step_values

    def deleted_meanwhile(*args, **kwargs):
        values = step_values(*args, **kwargs)
        os.remove(first)  # another process deletes the file after this step was checked
        return values

    monkeypatch.setattr(writer.builder, "step_values", deleted_meanwhile)
    writer.write_matrix(1, "confusion_matrix", [[4, 1], [0, 2]], image=False)
    monkeypatch.undo()
    writer.write_matrix(2, "confusion_matrix", [[5, 1], [0, 2]], image=False)
    writer.close()
    (second,) = tmp_path.glob("events.out.tfevents.*")
    assert second != first
    events = list(event_reading.read_events(str(second)))
    assert events[0].file_version == "brain.Event:2"  # a whole event file, not the steps after a lost header
    assert [event.step for event in events[1:]] == [1, 2]


def test_another_writer_of_this_process_continues_a_closed_writers_steps_while_its_file_is_kept_open(tmp_path):
    """A file kept open between steps is not a running tf.summary writer's (files_written_here)."""
    import warnings

    first = tb_imbalance.ReportWriter(tmp_path)
    first.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = tb_imbalance.ReportWriter(tmp_path)
        assert second.history.tags["confusion_matrix"].other_writer is None
        second.write_matrix(1, "confusion_matrix", [[2, 2], [0, 2]], image=False)  # the same rows per class
    first.close()
    second.close()


def test_a_writer_dropped_without_closing_closes_its_kept_open_file_quietly(tmp_path):
    import gc
    import warnings

    writer = tb_imbalance.ReportWriter(tmp_path)
    writer.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    (path,) = tmp_path.glob("events.out.tfevents.*")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        del writer
        gc.collect()
    assert [str(warning.message) for warning in said] == []
    assert not event_file.kept_open_here(os.path.realpath(path))
    assert [event.step for event in event_reading.read_events(str(path))] == [0, 0]


def test_a_process_logging_into_more_directories_than_it_may_open_files_keeps_only_a_few_open(tmp_path):
    # Each directory target keeps its writer for the process's life; their event files must not each
    # hold a descriptor, or a sweep into hundreds of run directories ends in "Too many open files".
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, resource
        import numpy as np
        import tb_imbalance
        from tb_imbalance import event_file
        resource.setrlimit(resource.RLIMIT_NOFILE, (160, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
        for run in range(300):
            tb_imbalance.log_report({str(tmp_path)!r} + f"/run{{run}}", np.array([0, 1, 1]), np.array([0, 1, 0]), 0, num_classes=2, image=False)
        for run in range(0, 300, 7):  # written again: reopened, appended to the same file
            tb_imbalance.log_report({str(tmp_path)!r} + f"/run{{run}}", np.array([0, 1, 1]), np.array([1, 1, 1]), 1, num_classes=2, image=False)
        print(len(os.listdir("/proc/self/fd")))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) < 100
    for run in range(0, 300, 7):
        files = event_reading.event_files(str(tmp_path / f"run{run}"))
        assert len(files) == 1
        steps = [event.step for event in event_reading.read_events(files[0]) if event.summary.value]
        assert steps == [0, 1]


def test_a_file_let_go_for_others_and_deleted_meanwhile_is_not_re_created_without_its_header(tmp_path, monkeypatch):
    monkeypatch.setattr(event_file, "KEPT_OPEN_MAX", 1)
    first, second = tb_imbalance.ReportWriter(tmp_path / "a"), tb_imbalance.ReportWriter(tmp_path / "b")
    first.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]], image=False)
    second.write_matrix(0, "confusion_matrix", [[3, 1], [0, 2]], image=False)  # the first file is let go
    (old,) = (tmp_path / "a").glob("events.out.tfevents.*")
    assert not event_file.kept_open_here(os.path.realpath(old))
    os.remove(old)
    first.write_matrix(1, "confusion_matrix", [[2, 1], [0, 3]], image=False)
    (new,) = (tmp_path / "a").glob("events.out.tfevents.*")
    events = list(event_reading.read_events(str(new)))
    assert events[0].file_version == "brain.Event:2" and [event.step for event in events[1:]] == [1]
    first.write_matrix(2, "confusion_matrix", [[2, 1], [0, 3]], image=False)  # reopened, appended
    second.write_matrix(1, "confusion_matrix", [[2, 1], [0, 3]], image=False)
    assert [event.step for event in event_reading.read_events(str(new))][1:] == [1, 2]
    first.close()
    second.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
@pytest.mark.filterwarnings("ignore:tb_imbalance. another writer is adding")  # the child's file, in the parent's run
@pytest.mark.parametrize("kept_open", [True, False], ids=["kept-open", "let-go"])
def test_a_forked_child_never_writes_to_or_closes_its_parents_event_file(tmp_path, monkeypatch, kept_open):
    """A DataLoader worker or a pool forked after a step: the child's steps, through its own writers or through
    an EventFile it inherited (kept open, or let go and reopened by its path), never land in the parent's file,
    and the parent's next step lands there intact."""
    import signal

    from tensorboard.compat.proto import event_pb2, summary_pb2

    from logdir_reader import matrices

    def value(number):
        return [summary_pb2.Summary.Value(tag="x", simple_value=number)]

    cm = np.array([[3, 1], [0, 2]])
    tb_imbalance.log_matrix(tmp_path / "parent", cm, 0, image=False)
    events = event_file.EventFile(tmp_path / "plain")
    events.write(0, value(0.5))
    if not kept_open:
        monkeypatch.setattr(event_file, "KEPT_OPEN_MAX", 1)
        event_file.EventFile(tmp_path / "other").write(0, value(0.0))  # lets the others go
    (parents,) = event_reading.event_files(str(tmp_path / "parent"))
    assert event_file.kept_open_here(os.path.realpath(events.path)) is kept_open
    assert event_file.kept_open_here(os.path.realpath(parents)) is kept_open
    child = os.fork()
    if child == 0:  # the child: every outcome is its exit status, within 60 s or killed by the alarm
        signal.alarm(60)
        status = 3
        try:
            tb_imbalance.log_matrix(tmp_path / "child", cm + 1, 0, image=False)  # a run of its own
            tb_imbalance.log_matrix(tmp_path / "parent", cm + 2, 0, name="child", image=False)  # the same run
            events.write(1, value(-1.0))
            events.flush()
            events.close()
            status = 0
        except BaseException:  # noqa: BLE001 - said by the status
            status = 5
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    tb_imbalance.log_matrix(tmp_path / "parent", cm * 2, 1, image=False)
    events.write(1, value(1.5))
    events.close()
    with open(events.path, "rb") as handle:  # both checksums of every record, to the file's last byte
        parent_events = [event_pb2.Event.FromString(payload) for payload in read_records(handle.read())]
    assert [(e.step, [v.simple_value for v in e.summary.value]) for e in parent_events] == [(0, []), (0, [0.5]), (1, [1.5])]
    (childs,) = set(event_reading.event_files(str(tmp_path / "plain"))) - {events.path}
    with open(childs, "rb") as handle:
        child_events = [event_pb2.Event.FromString(payload) for payload in read_records(handle.read())]
    assert child_events[0].file_version == "brain.Event:2"  # a whole file of the child's own
    assert [(e.step, [v.simple_value for v in e.summary.value]) for e in child_events[1:]] == [(1, [-1.0])]
    with open(parents, "rb") as handle:
        assert [event_pb2.Event.FromString(payload).step for payload in read_records(handle.read())] == [0, 0, 1]
    assert len(event_reading.event_files(str(tmp_path / "parent"))) == 2  # the child's step went to a file of its own
    logged = matrices(tmp_path)
    assert sorted(logged["parent"]) == [0, 1] and np.array_equal(logged["parent"][1], cm * 2)
    assert np.array_equal(logged["parent"][0], cm) and np.array_equal(logged["child"][0], cm + 1)
    assert np.array_equal(matrices(tmp_path, tag="child")["parent"][0], cm + 2)
