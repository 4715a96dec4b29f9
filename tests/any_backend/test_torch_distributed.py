"""A plain PyTorch loop under DDP: two real ranks (``torch.distributed``, gloo, on CPU).

Each rank evaluates its shard of the validation set through a
``DistributedSampler``, which pads the set to a multiple of the number of
ranks by repeating rows. What docs/pytorch.md says is checked against files
read back from disk and scikit-learn: rows gathered from every rank and
logged on rank 0 give the whole set's matrix once each row is kept once
(the padded row counted twice otherwise, and by torchmetrics too); every
rank logging into one run directory leaves rank 0's steps as written and
refuses rank 1's, naming the gathering to do; a ``DTensor`` sharded over the
ranks is refused naming ``full_tensor()``, a replicated one is logged. Needs
PyTorch with gloo (skipped elsewhere).
"""

from __future__ import annotations

import datetime
import json
import os

import numpy as np
import pytest
from sklearn import metrics as skm

from logdir_reader import matrices

torch = pytest.importorskip("torch")
distributed = pytest.importorskip("torch.distributed")
if not distributed.is_available() or not distributed.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

pytestmark = pytest.mark.slow

WORLD = 2
ROWS = 301  # odd: the sampler repeats one row to give both ranks 151
SECONDS = 120  # both ranks together; a hung collective fails the test instead of waiting forever


def _validation_set():
    rng = np.random.default_rng(7)
    labels = rng.choice(3, ROWS, p=[0.8, 0.15, 0.05])
    scores = rng.dirichlet([1.0, 1.0, 1.0], size=ROWS).astype("float32")
    scores[np.arange(ROWS), labels] += rng.random(ROWS).astype("float32")  # better than chance
    return labels, scores


def _rank(rank: int, store: str, run_dir: str) -> None:
    """One rank: evaluate its shard, gather, log; what it was told goes to ``<run_dir>/rank<rank>.json``."""
    import tb_imbalance
    from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
    from torch.utils.tensorboard import SummaryWriter

    distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD, timeout=datetime.timedelta(seconds=60),
    )
    labels, scores = (torch.from_numpy(values) for values in _validation_set())
    rows = TensorDataset(torch.arange(ROWS), labels, scores)
    sampler = DistributedSampler(rows, num_replicas=WORLD, rank=rank, shuffle=False)
    index, shard_labels, shard_scores = (torch.cat(parts) for parts in zip(*DataLoader(rows, 40, sampler=sampler)))
    said = {"shard": index.tolist(), "every_rank": []}
    parts = [None] * WORLD
    distributed.all_gather_object(parts, (index, shard_labels, shard_scores))
    try:
        import torchmetrics.classification
    except ImportError:
        torchmetrics = None
    else:
        metric = torchmetrics.classification.MulticlassConfusionMatrix(3)
        metric.update(shard_scores, shard_labels)
        counted = metric.compute()  # on every rank: it sums the ranks' counts
    if rank == 0:
        every_index, every_label, every_score = (torch.cat(part) for part in zip(*parts))
        writer = SummaryWriter(os.path.join(run_dir, "gathered"))
        keep = np.unique(every_index.numpy(), return_index=True)[1]
        said["kept"] = tb_imbalance.log_report(writer, every_label[keep], every_score[keep], 0, image=False).tolist()
        padded = tb_imbalance.log_report(writer, every_label, every_score, 0, name="padded", image=False)
        said["padded"] = padded.tolist()
        if torchmetrics is not None:
            logged = tb_imbalance.log_matrix(writer, counted, 0, name="torchmetrics", image=False)
            said["torchmetrics"] = logged.tolist()
        writer.close()
    said.update(_dtensors(rank, labels, scores, os.path.join(run_dir, "dtensor")))
    distributed.barrier()
    for step in range(2):  # every rank into one run directory, its shard only
        try:
            tb_imbalance.log_report(os.path.join(run_dir, "every_rank"), shard_labels, shard_scores, step, image=False)
        except ValueError as error:
            said["every_rank"].append(" ".join(str(error).split()))
        else:
            said["every_rank"].append("ok")
        distributed.barrier()
    with open(os.path.join(run_dir, f"rank{rank}.json"), "w") as out:
        json.dump(said, out)
    distributed.destroy_process_group()


def _dtensors(rank: int, labels, scores, run_dir: str) -> dict:
    """The rows as DTensors: a sharded one refused, gathered with ``full_tensor()`` or replicated logged."""
    import tb_imbalance

    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    except ImportError:
        return {}
    mesh = init_device_mesh("cpu", (WORLD,))
    said = {}
    sharded = [distribute_tensor(values, mesh, [Shard(0)]) for values in (labels, scores)]
    if rank == 0:
        try:
            tb_imbalance.log_report(run_dir, *sharded, 0, image=False)
        except TypeError as error:
            said["dtensor_sharded"] = str(error)
    whole = [values.full_tensor() for values in sharded]  # on every rank: a collective call
    replicated = [distribute_tensor(values, mesh, [Replicate()]) for values in (labels, scores)]
    if rank == 0:
        said["dtensor_gathered"] = tb_imbalance.log_report(run_dir, *whole, 0, image=False).tolist()
        said["dtensor_replicated"] = tb_imbalance.log_report(run_dir, *replicated, 1, image=False).tolist()
    return said


def _steps(run_dir, tag: str = "confusion_matrix") -> dict:
    """``{step: matrix as lists}`` of ``tag`` in the one run ``run_dir``, read back from disk."""
    (by_step,) = matrices(run_dir, tag).values()
    return {step: cm.tolist() for step, cm in by_step.items()}


def _run_ranks(tmp_path) -> list[dict]:
    import torch.multiprocessing

    context = torch.multiprocessing.start_processes(
        _rank, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=WORLD, join=False, start_method="spawn",
    )
    try:
        for _ in range(SECONDS):
            if context.join(timeout=1):
                break
        else:
            raise AssertionError(f"the ranks did not end within {SECONDS} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    return [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(WORLD)]


def test_rows_gathered_from_every_rank_and_logged_on_rank_0_are_the_whole_set_and_every_rank_logging_is_refused(
    tmp_path,
):
    labels, scores = _validation_set()
    predicted = scores.argmax(axis=1)
    ranks = _run_ranks(tmp_path)
    whole = skm.confusion_matrix(labels, predicted, labels=range(3))
    sampled = np.concatenate([rank["shard"] for rank in ranks])
    assert len(sampled) == ROWS + 1 and sorted(set(sampled)) == list(range(ROWS))  # one row repeated
    with_padding = skm.confusion_matrix(labels[sampled], predicted[sampled], labels=range(3))
    assert with_padding.sum() == ROWS + 1

    assert _steps(tmp_path / "gathered") == {0: ranks[0]["kept"]} and ranks[0]["kept"] == whole.tolist()
    assert _steps(tmp_path / "gathered", "padded") == {0: ranks[0]["padded"]}
    assert ranks[0]["padded"] == with_padding.tolist()
    # torchmetrics (pinned in requirements-torch.txt) counts the padded row too
    assert ranks[0]["torchmetrics"] == with_padding.tolist()

    # this process's part of a DTensor is refused, naming the gathering
    assert ranks[0]["dtensor_sharded"] == (
        "`labels` is a DTensor spread over a device mesh (placements (Shard(dim=0),)): this process holds part "
        "of it. Gather it on every rank first, labels.full_tensor() (a collective call), and log on rank 0 "
        "only (`if torch.distributed.get_rank() == 0:`)"
    )
    assert ranks[0]["dtensor_gathered"] == ranks[0]["dtensor_replicated"] == whole.tolist()
    assert _steps(tmp_path / "dtensor") == {0: whole.tolist(), 1: whole.tolist()}

    # Every rank into one directory: rank 0's shard is written as it was, rank 1 is refused with the fix.
    assert ranks[0]["every_rank"] == ["ok", "ok"]
    assert len(ranks[1]["every_rank"]) == 2
    for message in ranks[1]["every_rank"]:
        assert "is also being written by another writer" in message
        assert "(under DDP: gather every rank's rows first, then log `if rank == 0:`)" in message
    shard_0 = np.array(ranks[0]["shard"])
    rank_0_alone = skm.confusion_matrix(labels[shard_0], predicted[shard_0], labels=range(3)).tolist()
    assert _steps(tmp_path / "every_rank") == {0: rank_0_alone, 1: rank_0_alone}
    assert len([name for name in os.listdir(tmp_path / "every_rank") if "tfevents" in name]) == 1
