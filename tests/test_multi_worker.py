"""tf.distribute.MultiWorkerMirroredStrategy: two worker processes on localhost CPUs (``multi_worker_check.py``).

Every worker counts its share of each batch; the metrics' ``result()`` outside the replicas and the
matrix are of all the workers' rows (scikit-learn's on the whole validation set), and only worker 0
writes the report, the whole set's matrix.
"""

import json
import os
import socket
import subprocess
import sys

import pytest

from logdir_reader import matrices

HERE = os.path.dirname(os.path.abspath(__file__))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.slow
def test_two_workers_count_every_row_and_worker_0_writes(tmp_path):
    ports = _free_ports(2)
    log_dirs = [tmp_path / "shared", tmp_path / "shared"]
    workers = [
        subprocess.Popen([sys.executable, os.path.join(HERE, "multi_worker_check.py"), str(index), json.dumps(ports),
                          str(log_dirs[index])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
        for index in range(2)
    ]
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    seen = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    expected = seen[0]["sklearn"]
    for worker in seen:
        assert worker["sklearn"] == expected  # the same weights and rows on both workers
        assert worker["matrix"] == expected["matrix"]
        for name in ("balanced_accuracy", "macro_f1"):
            assert abs(worker["results"][name] - expected[name]) < 1e-6, (worker["index"], name, worker["results"])
            assert abs(worker["fit_logs"][name] - expected[name]) < 1e-6, (worker["index"], name, worker["fit_logs"])
    logged = matrices(tmp_path / "shared")
    assert list(logged) == ["validation_imbalance"]
    assert {step: cm.tolist() for step, cm in logged["validation_imbalance"].items()} == {0: expected["matrix"]}
    assert sorted(os.listdir(tmp_path / "shared" / "validation_imbalance"))[0].startswith("events.out.tfevents")
    assert len(os.listdir(tmp_path / "shared" / "validation_imbalance")) == 1  # one event file: one writer
