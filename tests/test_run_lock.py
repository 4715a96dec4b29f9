"""tb_imbalance.run_lock: processes take turns on a run directory; threads of one process too; forks let go."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from tb_imbalance.run_lock import one_writer_at_a_time

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock on a directory")


def locked_elsewhere(run_dir) -> bool:
    """Whether another open file description holds the directory's flock (a non-blocking try from a new one)."""
    import fcntl

    handle = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(handle)


def test_the_lock_is_held_inside_released_after_and_taken_again_by_its_thread(tmp_path):
    run_dir = tmp_path / "new" / "run"  # made first
    with one_writer_at_a_time(str(run_dir)):
        assert locked_elsewhere(run_dir)
        with one_writer_at_a_time(str(run_dir)):  # the same thread (log_report inside a caller's turn): no wait
            assert locked_elsewhere(run_dir)
        assert locked_elsewhere(run_dir)  # still the outer turn's
    assert not locked_elsewhere(run_dir)


def test_another_thread_waits_for_its_turn(tmp_path):
    order = []
    with one_writer_at_a_time(str(tmp_path)):
        other = threading.Thread(target=lambda: one_writer_at_a_time(str(tmp_path)).__enter__() or order.append("other"))
        other.start()
        time.sleep(0.3)
        order.append("first")
    other.join(timeout=10)
    assert order == ["first", "other"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_child_forked_during_a_turn_does_not_keep_the_parents_lock(tmp_path):
    """A DataLoader worker forked while the background writer writes: the parent's next turn must not wait for it."""
    read, write = os.pipe()
    with one_writer_at_a_time(str(tmp_path)):
        child = os.fork()
        if child == 0:  # pragma: no cover - reports through the pipe
            os.close(read)
            os.write(write, b"started\n")  # after the fork hooks ran
            time.sleep(1.0)  # alive while the parent lets go and tries again
            with one_writer_at_a_time(str(tmp_path)):  # and the child may take a turn of its own
                os.write(write, b"child's turn")
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        assert pipe.readline() == "started\n"
        assert not locked_elsewhere(tmp_path)  # released although the child still runs
        assert pipe.read() == "child's turn"
    os.waitpid(child, 0)


def test_urls_and_missing_arguments_hold_nothing(tmp_path):
    with one_writer_at_a_time(None), one_writer_at_a_time("gs://bucket/run"):
        pass
    assert not (tmp_path / "gs:").exists()


def test_a_turn_on_an_existing_directory_neither_makes_it_nor_resolves_its_path_again(tmp_path, monkeypatch):
    """Each call lets the GIL go: a background writer beside a JAX fit blocks and wakes again at each one."""
    from tb_imbalance import run_lock

    run_dir = str(tmp_path / "run")
    with one_writer_at_a_time(run_dir):  # the first turn makes it
        assert locked_elsewhere(run_dir)
    calls = []
    monkeypatch.setattr(run_lock.os, "makedirs", lambda *args, **kwargs: calls.append("makedirs"))
    monkeypatch.setattr(run_lock.os.path, "realpath", lambda path: calls.append("realpath") or path)
    for _ in range(3):
        with one_writer_at_a_time(run_dir):
            assert locked_elsewhere(run_dir)
    assert calls == []


def test_a_directory_deleted_between_turns_is_made_again_and_locked(tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    with one_writer_at_a_time(str(run_dir)):
        pass
    shutil.rmtree(run_dir)
    with one_writer_at_a_time(str(run_dir)):
        assert run_dir.is_dir() and locked_elsewhere(run_dir)
    assert not locked_elsewhere(run_dir)


def test_a_file_where_the_directory_would_be_holds_nothing_and_is_left_as_it_is(tmp_path):
    (tmp_path / "run").write_text("not a directory")
    with one_writer_at_a_time(str(tmp_path / "run")):
        pass
    assert (tmp_path / "run").read_text() == "not a directory"


def _taken_in_a_thread(run_dir, within: float = 5.0) -> bool:
    """Whether a turn on ``run_dir`` is taken by this thread's callee at once (not waiting, or waiting forever)."""
    taken = threading.Event()

    def turn():
        with one_writer_at_a_time(run_dir):
            taken.set()

    return _in_a_thread(turn, taken, within)


def _in_a_thread(work, done: threading.Event, within: float) -> bool:
    thread = threading.Thread(target=work, daemon=True)  # daemon: a turn waiting forever does not hold pytest
    thread.start()
    return done.wait(within)


@pytest.mark.parametrize("through", ["link", "parent_link", "no_link"])
def test_a_spelling_whose_link_is_repointed_between_turns_locks_its_new_target(tmp_path, through):
    """A writer's own log_dir (a SummaryWriter's) that is, or goes through, a symbolic link repointed mid-run:
    its steps go to the new target, so its turns must be that directory's, as another spelling of it is."""
    first, second = tmp_path / "first" / "run", tmp_path / "second" / "run"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    if through == "link":
        link, spelling = tmp_path / "link", str(tmp_path / "link")
        link.symlink_to(first)
    elif through == "parent_link":
        link, spelling = tmp_path / "link", str(tmp_path / "link" / "run")
        link.symlink_to(first.parent)
    else:  # the same turns without links: another spelling of each directory
        spelling = str(first) + "/"
    with one_writer_at_a_time(spelling):
        assert locked_elsewhere(first) and not locked_elsewhere(second)
    if through == "no_link":
        spelling = str(second) + "/."
    else:
        link.unlink()
        link.symlink_to(second if through == "link" else second.parent)
    with one_writer_at_a_time(spelling):
        assert locked_elsewhere(second) and not locked_elsewhere(first)
    # In the old target's turn, a turn on the spelling is the new target's: it locks that one.
    with one_writer_at_a_time(str(first)):
        assert not locked_elsewhere(second)
        with one_writer_at_a_time(spelling):
            assert locked_elsewhere(second)
    # Another writer of this thread holds the new target (a step logged inside a caller's turn): taken at once,
    # as a turn of the same directory, not waiting forever for this thread's own lock.
    held = threading.Event()
    release = threading.Event()
    nested = threading.Event()

    def holder():
        with one_writer_at_a_time(str(second)):
            held.set()
            with one_writer_at_a_time(spelling):
                nested.set()
            release.wait(10)

    assert _in_a_thread(holder, nested, 5.0)
    # While that other writer (another thread) holds it, the spelling's turn waits; once let go, it is taken.
    assert held.is_set() and not _taken_in_a_thread(spelling, within=0.5)
    release.set()
    assert _taken_in_a_thread(spelling)
