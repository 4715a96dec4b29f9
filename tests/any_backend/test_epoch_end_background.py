"""The callback's epoch end: the matrix is read on the training thread, the rest is written in the background.

Runs on every backend. Covers issue-level guarantees: every step on disk
when ``fit`` returns, in order; a writer error raised on the training thread
(never swallowed); interpreter exit flushes queued steps; the logged matrix
is the one fit's validation pass produced, whatever another callback
evaluates before ``on_epoch_end``.
"""

import concurrent.futures
import os
import subprocess
import sys
import textwrap
import threading
import time

import keras
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices
from tb_imbalance import background
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
from tb_imbalance.targets import directory_writer
from tb_imbalance.writer import ReportWriter

CLASSES = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    y = rng.choice(CLASSES, 400, p=[0.7, 0.2, 0.1])
    x = rng.normal(size=(400, 6)).astype("float32")
    x[:, :CLASSES] += np.eye(CLASSES)[y] * 1.2
    return (x[:250], y[:250]), (x[250:330], y[250:330]), (x[330:], y[330:])


def make_model():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    return model


class EvaluateAnotherSet(keras.callbacks.Callback):
    """A user's callback listed first: evaluates a test set at every epoch end and keeps its matrix."""

    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y
        self.test_balanced_accuracy = []

    def on_epoch_end(self, epoch, logs=None):
        result = self.model.evaluate(self.x, self.y, verbose=0, return_dict=True)
        self.test_balanced_accuracy.append(result["balanced_accuracy"])
        self.model.predict(self.x, verbose=0)


def test_the_validation_pass_matrix_is_logged_even_when_another_callback_evaluates_first(tmp_path, data):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = make_model()
    other = EvaluateAnotherSet(x_test, y_test)
    snapshots = []

    class KeepWeights(keras.callbacks.Callback):  # listed before the evaluation: weights of the validation pass
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((model.get_weights(), logs["val_balanced_accuracy"]))

    report = ClassificationReportCallback(tmp_path, verbose=0)
    model.fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32, verbose=0,
              callbacks=[KeepWeights(), other, report])
    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    for epoch, (weights, val_balanced_accuracy) in enumerate(snapshots):
        model.set_weights(weights)
        expected = sk_confusion_matrix(y_val, model.predict(x_val, verbose=0).argmax(1), labels=range(CLASSES))
        np.testing.assert_array_equal(logged[epoch], expected)
        assert balanced_accuracy_score(
            y_val, model.predict(x_val, verbose=0).argmax(1)
        ) == pytest.approx(val_balanced_accuracy, abs=1e-6)
        # the other set really differs: logging it would have been visible
        test_cm = sk_confusion_matrix(y_test, model.predict(x_test, verbose=0).argmax(1), labels=range(CLASSES))
        assert test_cm.sum() != expected.sum()


def test_steps_are_written_off_the_training_thread_and_all_on_disk_when_fit_returns(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val), _ = data
    threads, release = [], threading.Event()
    write_values = ReportWriter._write_values

    def slow_write(self, step, values):
        threads.append(threading.get_ident())
        release.wait(5)  # the writer lags behind training
        write_values(self, step, values)

    monkeypatch.setattr(ReportWriter, "_write_values", slow_write)

    class Release(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                release.set()

    model = make_model()
    model.fit(x, y, validation_data=(x_val, y_val), epochs=4, batch_size=64, verbose=0,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0), Release()])
    assert len(threads) == 4 and threading.get_ident() not in threads
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1, 2, 3]


def test_each_tag_of_a_fit_is_its_own_series_of_steps(tmp_path, data, monkeypatch):
    # Whether a callback's steps come fast (and are gathered) is measured between its own steps.
    (x, y), (x_val, y_val), _ = data
    series, submit = [], background.submit
    monkeypatch.setattr(background, "submit", lambda *args, **kwargs: (
        series.append(kwargs.get("series")), submit(*args, **kwargs))[1])
    callbacks = [ClassificationReportCallback(tmp_path, name=tag, verbose=0, image=False) for tag in ("a", "b")]
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0, callbacks=callbacks)
    run_dir = os.path.join(str(tmp_path), "validation_imbalance")
    assert series == [(run_dir, "a"), (run_dir, "b")] * 2


def test_synchronous_mode_writes_on_the_training_thread(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val), _ = data
    threads = []
    write_values = ReportWriter._write_values
    monkeypatch.setattr(
        ReportWriter, "_write_values",
        lambda self, step, values: (threads.append(threading.get_ident()), write_values(self, step, values)),
    )
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0,
                     callbacks=[ClassificationReportCallback(tmp_path, verbose=0, background=False)])
    assert threads == [threading.get_ident()] * 2
    with pytest.raises(TypeError, match="background"):
        ClassificationReportCallback(tmp_path, background="yes")


def test_a_writer_error_is_raised_on_the_training_thread_at_the_next_epoch_end(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val), _ = data

    def disk_full(self, step, values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ReportWriter, "_write_values", disk_full)
    ended = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ended.append(epoch)

    with pytest.raises(OSError, match="No space left"):
        make_model().fit(x, y, validation_data=(x_val, y_val), epochs=6, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path, verbose=0), Count()])
    # raised at an epoch end after the failed step (or at the end of training), never swallowed
    assert len(ended) < 6 or ended == list(range(6))


@pytest.mark.parametrize("background_mode", [True, False])
def test_a_full_disk_is_raised_naming_the_run_the_epoch_and_the_fix_and_the_steps_before_stay_readable(
        tmp_path, data, monkeypatch, background_mode):
    (x, y), (x_val, y_val), _ = data
    write = ReportWriter._write_values

    def full_from_step_2(self, step, values):
        if step >= 2:
            raise OSError(28, "No space left on device")
        write(self, step, values)

    monkeypatch.setattr(ReportWriter, "_write_values", full_from_step_2)
    report = ClassificationReportCallback(tmp_path, verbose=0, background=background_mode)
    with pytest.raises(OSError) as raised:
        make_model().fit(x, y, validation_data=(x_val, y_val), epochs=6, verbose=0, callbacks=[report])
    assert raised.value.errno == 28  # still a full disk's error to code that catches it
    message = str(raised.value)
    assert f"could not write epoch 2 into {report.run_dir}: No space left on device" in message
    assert "fit(initial_epoch=" in message and "`log_dir`" in message
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]


@pytest.mark.parametrize("background_mode", [True, False])
def test_a_file_put_where_the_run_directory_was_is_raised_once_naming_that_file_and_the_fix(
        tmp_path, data, background_mode, caplog):
    import errno
    import shutil

    (x, y), (x_val, y_val), _ = data
    report = ClassificationReportCallback(tmp_path, verbose=0, background=background_mode)

    class ReplaceTheRunByAFile(keras.callbacks.Callback):  # listed first: at epoch 1, before the report's step
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                background.flush()
                shutil.rmtree(report.run_dir)
                with open(report.run_dir, "w") as handle:
                    handle.write("not a run")

    with pytest.raises(OSError) as raised:
        make_model().fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0,
                         callbacks=[ReplaceTheRunByAFile(), report])
    assert raised.value.errno == errno.EEXIST
    message = str(raised.value)
    assert f"could not write epoch 1 into {report.run_dir}: " in message
    assert f"{report.run_dir!r} is a file, not a directory: move it out of the way, or pass another log_dir" in message
    assert "move a file out of its way" in message
    said = [r for r in caplog.records if r.name == "tb_imbalance" and r.levelname == "ERROR"]
    assert len(said) == (1 if background_mode else 0)


def test_a_full_disk_named_by_the_event_file_is_said_once_by_the_callback():
    """The callback names the file system's reason, not the event file's own advice as well as its own."""
    from tb_imbalance.keras.step_write import not_written

    try:
        try:
            raise OSError(28, "No space left on device")
        except OSError as disk:
            raise OSError(28, "a step could not be written to 'events': No space left on device. Free space") from disk
    except OSError as error:
        said = str(not_written(error, "runs/a", "confusion_matrix", 2))
    assert said.startswith("[Errno 28] ClassificationReportCallback(name='confusion_matrix') could not write epoch 2 "
                           "into runs/a: No space left on device. The run keeps")
    assert "a step could not be written" not in said


def test_an_error_of_the_last_step_is_raised_by_on_train_end(tmp_path, data, monkeypatch, caplog):
    (x, y), (x_val, y_val), _ = data
    monkeypatch.setattr(ReportWriter, "_write_values", lambda self, step, values: 1 / 0)
    with pytest.raises(ZeroDivisionError), caplog.at_level("ERROR", logger="tb_imbalance"):
        make_model().fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])
    (said,) = [record.getMessage() for record in caplog.records if "background writer" in record.getMessage()]
    assert "tag 'confusion_matrix', epoch 0 failed in the background writer: ZeroDivisionError" in said
    for _ in range(2 * background.MAX_PENDING):  # the failed step gave its slot back
        background.wait([background.submit(lambda: None)])


class RaiseAt(keras.callbacks.Callback):
    """Another callback of the user's that fails at the end of ``epoch``."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("another callback failed")


def slow_writes(monkeypatch, failing=()):
    """Each write takes 0.2 s (remote storage), so that steps are still queued when a fit raises;
    the steps in ``failing`` (a set the test may empty) hit a full disk."""
    write = ReportWriter._write_values

    def slow(self, step, values):
        time.sleep(0.2)
        if step in failing:
            raise OSError(28, "No space left on device")
        write(self, step, values)

    monkeypatch.setattr(ReportWriter, "_write_values", slow)


def test_a_resumed_fit_sees_the_last_steps_of_one_that_raised_and_is_refused_before_training(tmp_path, data,
                                                                                               monkeypatch):
    (x, y), (x_val, y_val), _ = data
    slow_writes(monkeypatch)
    model, report = make_model(), ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.raises(RuntimeError, match="another callback failed"):  # Keras then skips on_train_end
        model.fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[report, RaiseAt(2)])
    trained = []
    count = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: trained.append(batch))
    with pytest.raises(ValueError, match="will not start training at epoch 2"):  # step 2 was queued, is on disk
        model.fit(x, y, validation_data=(x_val, y_val), epochs=4, initial_epoch=2, verbose=0,
                  callbacks=[report, count])
    assert trained == []
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1, 2]


def test_the_errors_of_a_fit_that_raised_are_not_raised_again_by_the_next_fit(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val), _ = data
    failing = {1, 2}
    slow_writes(monkeypatch, failing)
    model, report = make_model(), ClassificationReportCallback(tmp_path, verbose=0)
    with pytest.raises((RuntimeError, OSError)):  # whichever comes first; steps 1 and 2 fail either way
        model.fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[report, RaiseAt(2)])
    background.flush()  # steps 1 and 2 failed (and were logged)
    failing.clear()  # the user frees the disk and resumes after the last step on disk
    model.fit(x, y, validation_data=(x_val, y_val), epochs=5, initial_epoch=3, verbose=0, callbacks=[report])
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 3, 4]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_child_forked_while_a_step_is_being_written_writes_its_own_steps(tmp_path):
    """The child of a fork (a DataLoader worker, a multiprocessing pool) has the parent's writer with its lock
    held by a background thread it does not have: it must open its own writer, not wait forever."""
    from tb_imbalance import log_report
    from tb_imbalance.targets import directory_writer
    from threads import held_by_another_thread

    writer = directory_writer(tmp_path)
    log_report(tmp_path, [0, 1], [1, 1], step=0, image=False, num_classes=2)
    with held_by_another_thread(writer.lock):  # as the background writer holds it while it writes a step
        child = os.fork()
    if child == 0:  # the child: write one step within 60 s, or be killed by the alarm
        import signal

        signal.alarm(60)
        try:
            log_report(os.path.join(str(tmp_path), "child"), [0, 1], [0, 1], step=0, image=False, num_classes=2)
            log_report(tmp_path, [0, 1], [0, 0], step=1, image=False, name="child_tag", num_classes=2)
        finally:
            os._exit(0 if os.path.isdir(os.path.join(str(tmp_path), "child")) else 1)
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert sorted(matrices(tmp_path)["."]) == [0]
    assert sorted(matrices(tmp_path, tag="child_tag")["."]) == [1]


@pytest.mark.parametrize("background_mode", [True, False])
def test_a_class_set_known_only_at_the_first_epoch_end_is_checked_there_in_both_modes(tmp_path, data, background_mode):
    """A subclassed model not built yet, no class_names, its own validation_data: C is known when the
    first epoch is predicted; a run directory of another class set is refused then, not an epoch later."""
    (x, y), (x_val, y_val), _ = data
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=3, verbose=0,
                     callbacks=[ClassificationReportCallback(tmp_path, verbose=0)])

    class FourClasses(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(CLASSES + 1, activation="softmax")

        def call(self, inputs):
            return self.dense(inputs)

    model = FourClasses()
    model.compile("adam", "sparse_categorical_crossentropy")
    ended = []
    count = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ended.append(epoch))
    callback = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), verbose=0,
                                            background=background_mode)
    with pytest.raises(ValueError, match="already holds 3 classes"):
        model.fit(x, y, epochs=6, initial_epoch=3, verbose=0, callbacks=[callback, count])
    assert ended == []  # refused at the end of the first epoch it trained
    background.flush()
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1, 2]


def _steps_written_by_a_script(run_dir, seconds, body, timeout=120):
    """Run ``body`` in a fresh interpreter, where ``write(step)`` writes step ``step`` (``seconds`` long)
    into ``run_dir``; return the process and the written steps' first cell by step (``step + 1``)."""
    script = textwrap.dedent(
        f"""
        import threading, time, numpy as np
        from tb_imbalance import background
        from tb_imbalance.targets import directory_writer
        writer = directory_writer({str(run_dir)!r})
        def write(step):
            time.sleep({seconds})
            writer.write_matrix(step, "confusion_matrix", np.array([[step + 1, 1], [0, 2]]), ["a", "b"])
        """
    ) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    logged = matrices(run_dir).get(".", {})
    return done, {step: int(logged[step][0, 0]) for step in sorted(logged)}


def test_queued_steps_are_written_when_the_interpreter_exits(tmp_path):
    # No on_train_end: steps still queued at exit are written by the interpreter's shutdown.
    done, written = _steps_written_by_a_script(tmp_path, 0.2, """
        for step in range(3):
            background.submit(lambda step=step: write(step))
        print("submitted", flush=True)
        """)
    assert done.returncode == 0, done.stderr
    assert written == {0: 1, 1: 2, 2: 3}


def test_the_interpreters_exit_ends_a_gathering_and_writes_its_steps(tmp_path):
    # A gathering at exit held the exit back up to GATHER_S; with GATHER_S = math.inf (until someone
    # waits) nobody did, and the interpreter waited for the writer forever.
    done, written = _steps_written_by_a_script(tmp_path, 0.0, """
        import math
        background.GATHER_S = math.inf
        background.wait([background.submit(lambda: write(0))])
        for step in (1, 2):  # handed over fast: gathered, and nobody waits for them
            background.submit(lambda step=step: write(step))
        """, timeout=60)
    assert done.returncode == 0, done.stderr
    assert written == {0: 1, 1: 2, 2: 3}


def test_steps_handed_over_by_a_thread_that_outlives_the_main_thread_are_written_in_order(tmp_path):
    # The interpreter's exit shuts concurrent.futures down before it joins other threads: a fit still
    # training in a thread failed at its next epoch end ("cannot schedule new futures after shutdown").
    done, written = _steps_written_by_a_script(tmp_path, 0.1, """
        def train():
            steps = [background.submit(lambda: write(0))]
            time.sleep(1.0)  # the main thread has ended meanwhile
            steps += [background.submit(lambda step=step: write(step)) for step in (1, 2)]
            background.wait(steps)
            print("written", flush=True)
        threading.Thread(target=train).start()
        """)
    assert done.returncode == 0 and "written" in done.stdout, done.stderr
    assert written == {0: 1, 1: 2, 2: 3}


def test_steps_handed_over_after_shutdown_wait_for_the_earlier_ones_and_run_one_at_a_time(monkeypatch):
    import concurrent.futures

    order, running, overlaps = [], [], []

    def job(name, seconds=0.0):
        def run():
            running.append(name)
            overlaps.append(len(running))
            time.sleep(seconds)
            order.append(name)
            running.remove(name)
        return run

    earlier = background.submit(job("earlier", 0.3))
    refusing = concurrent.futures.ThreadPoolExecutor(1)
    refusing.shutdown()  # as the interpreter's exit leaves the writer
    monkeypatch.setattr(background, "_executor", lambda: refusing)
    late = []
    threads = [threading.Thread(target=lambda k=k: late.append(background.submit(job(k, 0.05)))) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    background.wait([earlier, *late])
    assert order[0] == "earlier" and sorted(order[1:]) == [0, 1, 2] and max(overlaps) == 1
    monkeypatch.undo()
    background.flush()


def test_an_executor_error_that_is_not_the_interpreters_exit_is_raised_not_written_twice(monkeypatch):
    class NoThread:
        def submit(self, run):
            raise RuntimeError("can't start new thread")  # after queueing the job, as ThreadPoolExecutor does

    ran = []
    with monkeypatch.context() as patched:
        patched.setattr(background, "_executor", lambda: NoThread())
        with pytest.raises(RuntimeError, match="can't start new thread"):
            background.submit(lambda: ran.append(1))
    assert ran == []  # not run here as well (the executor would run its queued copy)
    background.wait([background.submit(lambda: ran.append(2)) for _ in range(background.MAX_PENDING)])  # no place kept
    assert ran == [2] * background.MAX_PENDING


def test_a_ctrl_c_while_handing_a_step_over_keeps_no_place(monkeypatch):
    # KeyboardInterrupt is no Exception: each one kept a place, and after MAX_PENDING of them every
    # later fit hung at its first epoch end.
    class Interrupted:
        def submit(self, run):
            raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(background, "_executor", lambda: Interrupted())
        for _ in range(background.MAX_PENDING):
            with pytest.raises(KeyboardInterrupt):
                background.submit(lambda: None)
    handed = []
    thread = threading.Thread(target=lambda: handed.append(background.submit(lambda: None)), daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and len(handed) == 1
    background.wait(handed)



def test_a_step_whose_hand_over_a_ctrl_c_cut_short_still_raises_its_error_and_stops_later_steps(
        tmp_path, data, monkeypatch):
    """A KeyboardInterrupt (from a signal handler) lands right after the writer took epoch 1's step, before the
    callback recorded it; a loop of one's own goes on and ends training. That step fails (a full disk): its error
    is raised by on_train_end, and epoch 2 is not written after the hole (it was written, and on_train_end
    returned as if every step were on disk)."""
    from tb_imbalance.keras import step_write

    (x, y), (x_val, y_val), _ = data
    model = make_model()
    report = ClassificationReportCallback(tmp_path, validation_data=(x_val, y_val), verbose=0)
    real_submit, real_write = background.submit, step_write.write_epoch

    def submit(job, what="a report step", *args, **kwargs):
        step = real_submit(job, what, *args, **kwargs)
        if what.endswith("epoch 1"):
            raise KeyboardInterrupt  # the writer has the step; the callback has not recorded it
        return step

    def write_epoch(writer, fit, run_dir, name, epoch, *args, **kwargs):
        if epoch == 1:
            raise OSError(28, "No space left on device")
        return real_write(writer, fit, run_dir, name, epoch, *args, **kwargs)

    monkeypatch.setattr(background, "submit", submit)
    monkeypatch.setattr(step_write, "write_epoch", write_epoch)
    callbacks = keras.callbacks.CallbackList([report], model=model, add_history=True)
    callbacks.on_train_begin()
    interrupted = []
    for epoch in range(3):
        callbacks.on_epoch_begin(epoch)
        model.train_on_batch(x, y)
        try:
            callbacks.on_epoch_end(epoch, {})
        except KeyboardInterrupt:
            interrupted.append(epoch)
    assert interrupted == [1]
    with pytest.raises(OSError, match="No space left on device") as raised:
        callbacks.on_train_end()
    assert raised.value.errno == 28
    background.flush()
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0]
    monkeypatch.setattr(step_write, "write_epoch", real_write)  # the next training starts afresh: written
    monkeypatch.setattr(background, "submit", real_submit)
    callbacks = keras.callbacks.CallbackList([report], model=model, add_history=True)
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(1)
    callbacks.on_epoch_end(1, {})
    callbacks.on_train_end()
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]

class FakeClock:
    """The queue's clock, moved by hand: which steps come "fast" does not depend on the machine's speed."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def queue(monkeypatch):
    """A fresh queue on a fake clock, steps gathered for up to 60 s (unless told to write)."""
    clock = FakeClock()
    monkeypatch.setattr(background, "_QUEUE", background._Queue(clock))
    monkeypatch.setattr(background, "GATHER_S", 60.0)
    yield clock
    background.flush()


def _written_within(steps, seconds=10.0):
    done, _ = concurrent.futures.wait(steps, timeout=seconds)
    return len(done) == len(steps)


def test_while_the_writer_writes_at_most_max_behind_steps_wait(queue):
    started, release, order = threading.Event(), threading.Event(), []
    first = background.submit(lambda: (started.set(), release.wait(5), order.append(0)))  # the first step: at once
    assert started.wait(5)
    steps = [first] + [background.submit(lambda k=k: order.append(k)) for k in range(1, background.MAX_BEHIND)]
    blocked = threading.Thread(target=lambda: steps.append(background.submit(lambda: order.append("late"))))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # the next submit waits for room
    release.set()
    blocked.join(5)
    background.wait(steps)
    assert order == list(range(background.MAX_BEHIND)) + ["late"]


def test_steps_that_come_fast_are_gathered_until_someone_waits_for_them(queue):
    order = []
    background.wait([background.submit(lambda: order.append(0))])  # the first: nothing to gather it with
    queue.now += 0.5
    gathered = [background.submit(lambda k=k: order.append(k)) for k in (1, 2, 3)]
    time.sleep(0.3)
    assert order == [0] and not any(step.done() for step in gathered)  # the writer waits for more
    background.wait(gathered[:1])  # waiting for one writes them all, in order
    assert _written_within(gathered) and order == [0, 1, 2, 3]


def test_an_endless_gathering_is_written_when_someone_waits(queue, monkeypatch):
    # GATHER_S = math.inf raised OverflowError in the writer's wait: the step failed instead of waiting
    monkeypatch.setattr(background, "GATHER_S", float("inf"))
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    queue.now += 1e9
    step = background.submit(lambda: order.append(1))
    time.sleep(0.2)
    assert not step.done()
    background.wait([step])
    assert order == [0, 1]


def test_flush_ends_a_gathering(queue):
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    step = background.submit(lambda: order.append(1))
    time.sleep(0.2)
    assert not step.done()
    background.flush()
    assert step.done() and order == [0, 1]


def test_a_full_gathering_is_written_without_anyone_waiting(queue):
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    steps = [background.submit(lambda k=k: order.append(k)) for k in range(1, background.MAX_PENDING + 1)]
    assert _written_within(steps)  # not 60 s later: MAX_PENDING steps pending start the writer
    assert order == list(range(background.MAX_PENDING + 1))


class HeldExecutor:
    """An executor whose thread has not started yet: it keeps the jobs until told to run them."""

    def __init__(self):
        self.jobs = []

    def submit(self, run):
        future = concurrent.futures.Future()
        self.jobs.append((run, future))
        return future

    def run_all(self):
        while self.jobs:
            run, future = self.jobs.pop(0)
            run()
            future.set_result(None)


@pytest.mark.parametrize("gather_s, room", [(60.0, background.MAX_PENDING), (0.0, background.MAX_BEHIND)])
def test_steps_wait_at_most_max_pending_when_gathered_else_max_behind_before_the_writer_starts(
        queue, monkeypatch, gather_s, room):
    monkeypatch.setattr(background, "GATHER_S", gather_s)
    held = HeldExecutor()
    monkeypatch.setattr(background, "_executor", lambda: held)
    blocked = threading.Thread(target=lambda: background.submit(lambda: None), daemon=True)
    try:
        for _ in range(room):
            background.submit(lambda: None)
        blocked.start()
        blocked.join(0.3)
        assert blocked.is_alive() and len(held.jobs) == room  # the next one waits for room
    finally:  # the held steps written, whatever happened (else the fixture's flush would wait for them)
        writer = threading.Thread(target=held.run_all)
        writer.start()
        blocked.join(10)
        background._QUEUE.write_now()  # the late one is not gathered with later ones: there are none
        writer.join(10)
        held.run_all()  # the late one, if it came after the others were written
    assert not blocked.is_alive()


def test_steps_further_apart_than_gather_s_are_written_at_once(queue):
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    queue.now += background.GATHER_S + 1  # a slow epoch: a gathering would only hold the step back
    step = background.submit(lambda: order.append(1))
    assert _written_within([step]) and order == [0, 1]


def test_the_exit_hook_ends_a_gathering_and_later_steps_are_not_gathered(queue):
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    queue.now += 0.1
    gathered = background.submit(lambda: order.append(1))
    time.sleep(0.2)
    assert not gathered.done()  # gathering for 60 s
    background._at_exit()  # what the interpreter's exit calls before it joins the writer
    assert _written_within([gathered]) and order == [0, 1]
    queue.now += 0.1  # fast, yet the exit has begun: written at once, MAX_BEHIND pending at most
    assert not background._QUEUE.may_gather()
    assert _written_within([background.submit(lambda: order.append(2))]) and order == [0, 1, 2]


def test_two_series_handed_over_together_gather_only_when_their_own_steps_come_fast(queue, monkeypatch):
    # Two tags logged at one epoch end: the second step came right after the first, so long epochs'
    # steps were gathered (written GATHER_S late) as if epochs were short.
    held = HeldExecutor()
    monkeypatch.setattr(background, "_executor", lambda: held)
    order = []

    def epoch_end(epoch):  # two callbacks, one after the other on the same clock reading
        return [background.submit(lambda tag=tag: order.append((tag, epoch)), series=("run", tag)) for tag in "ab"]

    def written_at_once(steps):
        writer = threading.Thread(target=held.run_all, daemon=True)
        writer.start()
        writer.join(10)  # not 60 s: no gathering
        return not writer.is_alive() and all(step.done() for step in steps)

    assert written_at_once(epoch_end(0))  # the first step of each series
    queue.now += 2 * background.GATHER_S  # a long epoch
    assert written_at_once(epoch_end(1))
    queue.now += 0.5  # a short one: its steps are gathered
    steps = epoch_end(2)
    writer = threading.Thread(target=held.run_all, daemon=True)
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and not any(step.done() for step in steps)
    background._QUEUE.write_now()
    writer.join(10)
    assert not writer.is_alive() and order == [(tag, epoch) for epoch in range(3) for tag in "ab"]


def test_the_queue_remembers_the_last_hand_over_of_its_most_recent_series_only(queue, monkeypatch):
    monkeypatch.setattr(background, "_SERIES_KEPT", 2)
    background.wait([background.submit(lambda: None, series=tag) for tag in "abca"])
    assert list(background._QUEUE.last_handed) == ["c", "a"]  # "b" forgotten: its next step is written at once


def test_a_gathering_step_written_on_the_calling_thread_after_shutdown_does_not_wait_for_the_gathering(
        queue, monkeypatch):
    order = []
    background.wait([background.submit(lambda: order.append(0))])
    gathered = background.submit(lambda: order.append(1))
    refusing = concurrent.futures.ThreadPoolExecutor(1)
    refusing.shutdown()  # as the interpreter's exit leaves the writer
    monkeypatch.setattr(background, "_executor", lambda: refusing)
    late = []
    thread = threading.Thread(target=lambda: late.append(background.submit(lambda: order.append(2))), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and late[0].done() and order == [0, 1, 2]
    assert gathered.done()


def test_monitors_read_the_metric_not_the_callback(tmp_path, data):
    (x, y), (x_val, y_val), _ = data
    stop = keras.callbacks.EarlyStopping(monitor="val_balanced_accuracy", patience=1, mode="auto")
    history = make_model().fit(x, y, validation_data=(x_val, y_val), epochs=30, verbose=0,
                               callbacks=[ClassificationReportCallback(tmp_path, verbose=0), stop])
    epochs = len(history.history["val_balanced_accuracy"])
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == list(range(epochs))
    if epochs < 30:  # stopped by the monitor, on the metric's value in logs
        values = history.history["val_balanced_accuracy"]
        assert values[-1] <= max(values[:-1])


def test_epochs_that_are_not_logged_read_nothing_from_the_metric(tmp_path, data, monkeypatch):
    (x, y), (x_val, y_val), _ = data
    reads = []
    read = BalancedAccuracy.confusion_matrix
    monkeypatch.setattr(BalancedAccuracy, "confusion_matrix", lambda self: (reads.append(1), read(self))[1])
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=5, verbose=0,
                     callbacks=[ClassificationReportCallback(tmp_path, verbose=0, freq=2)])
    assert len(reads) == 3  # epochs 0, 2 and 4: one device-to-host copy each, none for 1 and 3
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 2, 4]


def test_the_picture_is_prepared_while_the_first_epoch_trains_and_used_for_every_step(tmp_path, data):
    """With C known before training, the background writer draws the picture's fonts and frame during
    epoch 0; the steps then draw into that picture: it is the one their renderer holds."""
    (x, y), (x_val, y_val), _ = data
    names = ["ok", "late", "fraud"]
    seen = []

    class LookAtTheWriter(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            background.flush()
            seen.append(dict(report._writer.builder._renderers))

    report = ClassificationReportCallback(tmp_path, class_names=names, verbose=0)
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32, verbose=0,
                     callbacks=[report, LookAtTheWriter()])
    key = ("confusion_matrix", tuple(names))
    assert list(seen[0]) == [key]  # before the first epoch's end
    assert seen[1][key] is seen[0][key]
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]
    without = ClassificationReportCallback(tmp_path / "no_picture", class_names=names, image=False, verbose=0)
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0, callbacks=[without])
    assert directory_writer(without.run_dir).builder._renderers == {}  # no picture: none drawn


def test_a_picture_that_cannot_be_prepared_is_drawn_by_the_step_and_the_fit_goes_on(tmp_path, data, monkeypatch):
    from tb_imbalance.events import ReportBuilder

    (x, y), (x_val, y_val), _ = data
    failed = []

    def fails_once(self, name, class_names):
        failed.append(name)
        raise OSError("the font file is being replaced")

    monkeypatch.setattr(ReportBuilder, "prepare_picture", fails_once)
    report = ClassificationReportCallback(tmp_path, class_names=["ok", "late", "fraud"], verbose=0)
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=2, batch_size=32, verbose=0, callbacks=[report])
    assert failed == ["confusion_matrix"]
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1]
    pictures = [event for event in directory_writer(report.run_dir).builder._renderers]
    assert pictures == [("confusion_matrix", ("ok", "late", "fraud"))]  # drawn by the steps


def test_the_first_epoch_trains_while_the_picture_is_prepared(tmp_path, data, monkeypatch):
    from tb_imbalance.events import ReportBuilder

    (x, y), (x_val, y_val), _ = data
    batch_began, overlapped = threading.Event(), []
    prepare = ReportBuilder.prepare_picture

    def waits_for_training(self, name, class_names):  # holds the writer's lock until a batch trains
        overlapped.append(batch_began.wait(30))
        prepare(self, name, class_names)

    monkeypatch.setattr(ReportBuilder, "prepare_picture", waits_for_training)
    report = ClassificationReportCallback(tmp_path, class_names=["ok", "late", "fraud"], verbose=0)
    started = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: batch_began.set())
    make_model().fit(x, y, validation_data=(x_val, y_val), epochs=1, batch_size=32, verbose=0,
                     callbacks=[report, started])
    assert overlapped == [True]
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0]


def test_no_step_of_a_callback_is_written_after_one_of_its_steps_failed(tmp_path, data, monkeypatch):
    """A step handed over before an earlier one's refusal was known is not written (it could land in
    another writer's run): the first error is raised, and the run has no step after the gap."""
    (x, y), (x_val, y_val), _ = data
    second_handed = threading.Event()
    real_write = ReportWriter.write_report

    def refuse_step_0(self, report, **options):
        if report.step == 0:
            second_handed.wait(60)  # still being written when the training thread hands step 1 over
            raise ValueError("step 0 refused by the run directory")
        real_write(self, report, **options)

    monkeypatch.setattr(ReportWriter, "write_report", refuse_step_0)

    class HandedTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                second_handed.set()

    with pytest.raises(ValueError, match="step 0 refused"):
        make_model().fit(x, y, validation_data=(x_val, y_val), epochs=4, verbose=0,
                         callbacks=[ClassificationReportCallback(tmp_path, verbose=0), HandedTwo()])
    background.flush()
    assert matrices(tmp_path).get("validation_imbalance", {}) == {}


def test_the_warning_about_steps_missing_after_a_resume_does_not_blame_the_order_of_the_callbacks():
    """Listed before BackupAndRestore (as advised), a process killed mid-fit still loses the steps queued
    for writing: the warning told such a user to list the callback before BackupAndRestore, which it was."""
    from tb_imbalance.keras.callback_messages import CallbackMessages
    from tb_imbalance.keras.resume import resumed_steps
    from tb_imbalance.run_history import RunHistory, TagHistory

    class Restored:  # killed after BackupAndRestore saved epoch 21; steps 16-21 were still queued
        _initial_epoch = 22

    history = RunHistory()
    history.tags["confusion_matrix"] = TagHistory(classes=None, last_step=15, step_before=14)
    with pytest.warns(UserWarning) as said:
        assert resumed_steps(Restored(), history, "confusion_matrix", 22, 1, CallbackMessages("C", verbose=0)) == -1
    (message,) = [str(warning.message) for warning in said]
    assert "epoch(s) 16, 17, 18, 19, 20, … were backed up" in message
    assert "a process killed mid-fit loses the steps still queued for writing, whatever the order" in message
    assert f"{background.MAX_PENDING} at most" in message and f"or {background.MAX_BEHIND} when" in message
    assert "a callback listed after BackupAndRestore logs an epoch only after it is backed up" in message


def test_a_gathering_whose_writes_take_long_keeps_its_steps_pending_past_gather_s(queue):
    """What docs/keras.md says a killed process loses: at most MAX_PENDING steps, its last ones, handed
    over within GATHER_S of one another, yet pending longer than GATHER_S while their writes take long."""
    background.wait([background.submit(lambda: None)])
    release, handed = threading.Event(), []
    steps = []
    for k in range(background.MAX_PENDING):
        queue.now += 0.1
        handed.append(queue.now)
        steps.append(background.submit(lambda: release.wait(10)))  # a slow write (remote storage)
    blocked = threading.Thread(target=lambda: steps.append(background.submit(lambda: None)), daemon=True)
    blocked.start()
    queue.now += 5 * background.GATHER_S  # the first write of the gathering takes long
    blocked.join(0.3)
    assert blocked.is_alive()  # no further step is handed over meanwhile
    assert background._QUEUE.pending == background.MAX_PENDING
    assert max(handed) - min(handed) < background.GATHER_S < queue.now - max(handed)
    release.set()
    blocked.join(10)
    assert _written_within(steps)
