"""A run directory written twice, or a tag whose classes change: refused before writing.

Both TensorBoard loaders then serve the same steps, ascending and without
duplicates (checked through the real server in both loader modes), and
nothing already on disk becomes unviewable.
"""

import time
import urllib.parse

import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices
from support import PLUGIN_ROUTE, get_json, tensorboard_server
from tb_imbalance.targets import close_directory_writers

CM = np.array([[8, 2], [1, 4]])


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def test_a_step_is_written_once(tmp_path):
    tb_imbalance.log_matrix(tmp_path / "run", CM, 0)
    with pytest.raises(ValueError, match=r"step 0 of tag 'confusion_matrix' is not after the last step already logged \(0\)"):
        tb_imbalance.log_matrix(tmp_path / "run", CM * 2, 0)
    tb_imbalance.log_matrix(tmp_path / "run", CM * 3, 1)
    read = matrices(tmp_path)["run"]
    assert sorted(read) == [0, 1]
    np.testing.assert_array_equal(read[0], CM)


def test_two_reports_at_one_step_are_pointed_to_a_name_of_their_own(tmp_path):
    tb_imbalance.log_matrix(tmp_path / "run", CM, 3)  # validation, say
    with pytest.raises(ValueError, match=r"two reports per step .* name='train_confusion_matrix'.*One per "
                                         r"device or shard .* Log once per step, with every device's rows"):
        tb_imbalance.log_matrix(tmp_path / "run", CM * 2, 3)  # training (or another shard), under the same tag
    tb_imbalance.log_matrix(tmp_path / "run", CM * 2, 3, name="train_confusion_matrix")  # the fix works
    with pytest.raises(ValueError) as earlier:
        tb_imbalance.log_matrix(tmp_path / "run", CM, 2)
    assert "two reports per step" not in str(earlier.value)  # an earlier step is a restarted run, not that
    read = matrices(tmp_path)
    np.testing.assert_array_equal(read["run"][3], CM)


def second_process(tmp_path, run, cm, step, **kwargs):
    close_directory_writers()  # a new process knows only what is on disk
    return tb_imbalance.log_matrix(tmp_path / run, cm, step, **kwargs)


def test_a_second_run_into_the_same_directory_is_refused_with_the_fix(tmp_path):
    for step in range(5):
        tb_imbalance.log_matrix(tmp_path / "run", CM + step, step)
    with pytest.raises(ValueError) as refused:
        second_process(tmp_path, "run", CM, 0)
    message = str(refused.value)
    assert "last step already logged (4)" in message and "new log directory" in message
    assert "initial_epoch=5" in message
    second_process(tmp_path, "run", CM * 10, 5)  # continuing after the last step is fine
    read = matrices(tmp_path)["run"]
    assert sorted(read) == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(read[5], CM * 10)


def test_a_tag_keeps_its_classes(tmp_path):
    tb_imbalance.log_matrix(tmp_path / "run", CM, 0, class_names=["ok", "fraud"])
    with pytest.raises(ValueError, match=r"tag 'confusion_matrix' .* already holds 2 classes \['ok', 'fraud'\]"):
        second_process(tmp_path, "run", np.eye(3, dtype=int), 1)
    with pytest.raises(ValueError, match=r"classes cannot change \(received 2: \['ok', 'FRAUD'\]\)\. Pass the same "
                                         r"class_names to continue this run, log under another `name`, or into a new "
                                         r"run directory$"):
        tb_imbalance.log_matrix(tmp_path / "run", CM, 1, class_names=["ok", "FRAUD"])
    with pytest.raises(ValueError, match=r"received 2: \['0', '1'\].*\. Pass the same class_names to continue"):
        tb_imbalance.log_matrix(tmp_path / "run", CM, 1)  # names left out: the default ones
    tb_imbalance.log_matrix(tmp_path / "run", np.eye(3, dtype=int), 1, name="three_classes")
    read = matrices(tmp_path)["run"]
    assert sorted(read) == [0]
    np.testing.assert_array_equal(read[0], CM)


def test_a_new_summary_writer_in_an_old_directory_is_refused(tmp_path):
    torch = pytest.importorskip("torch")  # noqa: F841
    from torch.utils.tensorboard import SummaryWriter

    run_dir = str(tmp_path)
    first = SummaryWriter(run_dir)
    tb_imbalance.log_matrix(first, CM, 0)
    tb_imbalance.log_matrix(first, CM, 1)
    first.close()
    second = SummaryWriter(run_dir)
    with pytest.raises(ValueError, match=r"last step already logged \(1\)"):
        tb_imbalance.log_matrix(second, CM, 0)
    tb_imbalance.log_matrix(second, CM, 2)
    second.close()


@pytest.mark.parametrize("load_fast", [False, True], ids=["python-loader", "rust-loader"])
def test_both_loaders_serve_a_continued_run_alike(tmp_path, load_fast):
    for step in range(3):
        tb_imbalance.log_matrix(tmp_path / "run", CM + step, step)
    with pytest.raises(ValueError):
        second_process(tmp_path, "run", CM, 0)
    for step in (3, 4):
        tb_imbalance.log_matrix(tmp_path / "run", CM + step, step)
    close_directory_writers()
    with tensorboard_server(tmp_path, load_fast=load_fast) as url:
        query = urllib.parse.urlencode({"run": "run", "tag": "confusion_matrix"})
        payload = get_json(f"{url}{PLUGIN_ROUTE}/report?{query}")
        assert payload["steps"] == [0, 1, 2, 3, 4]
        assert payload["step"] == 4
        np.testing.assert_array_equal(payload["confusion_matrix"], CM + 4)


@pytest.mark.parametrize("first_purge_step", [0, None], ids=["both-writers-purge", "only-the-resumed-writer"])
def test_steps_a_restart_purges_may_be_logged_again_others_not(tmp_path, first_purge_step):
    """SummaryWriter(purge_step=s) writes SessionLog.START at s. TensorBoard's Python loader drops the steps
    from s on at a START that follows an earlier one (purge_step=0 on the first writer); then a run resumed
    from a checkpoint logs those epochs again, as its own scalars do. After a lone START it keeps them."""
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    logged = {}
    writer = SummaryWriter(str(tmp_path / "run"), purge_step=first_purge_step)
    for step in range(5):
        logged[step] = tb_imbalance.log_report(writer, labels, rng.dirichlet(np.ones(3), 60), step, num_classes=3, image=False)
    writer.close()
    # TensorBoard reads a run's event files in name order: within one second the names differ only by
    # the process's writer counter, and ".10" sorts before ".9". A resumed run starts later anyway.
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    writer = SummaryWriter(str(tmp_path / "run"), purge_step=2)  # resumed from the checkpoint of epoch 1
    if first_purge_step is None:
        with pytest.raises(ValueError, match=r"not after the last step already logged \(4\).*purge_step=k\) makes "
                                             r"TensorBoard's Python loader drop the steps from k on only when"):
            tb_imbalance.log_report(writer, labels, rng.dirichlet(np.ones(3), 60), 2, num_classes=3, image=False)
        writer.close()
        assert sorted(matrices(tmp_path)["run"]) == [0, 1, 2, 3, 4]
        return
    for step in (2, 3):
        logged[step] = tb_imbalance.log_report(writer, labels, rng.dirichlet(np.ones(3), 60), step, num_classes=3, image=False)
    with pytest.raises(ValueError, match="step 3 of tag 'confusion_matrix' is not after the last step already logged"):
        tb_imbalance.log_report(writer, labels, rng.dirichlet(np.ones(3), 60), 3, num_classes=3, image=False)
    writer.close()
    read = matrices(tmp_path)["run"]
    assert sorted(read) == [0, 1, 2, 3]
    for step in read:
        np.testing.assert_array_equal(read[step], logged[step])
