"""tf.distribute: MirroredStrategy on 2 logical CPU devices logs the single-device matrix (from the compiled
metric, and from the callback's own batches), and the metrics' values in ``logs`` are scikit-learn's on all
the rows."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_mirrored_strategy_matrix_equals_single_device(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "mirrored_check.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logged = json.loads(result.stdout.strip().splitlines()[-1])
    assert logged["replicas"] == 2
    assert logged["mirrored"] == logged["single"] == logged["predicted"]
    assert logged["batches"] == logged["predicted"]  # the callback's own batches: each row predicted once
    assert sum(map(sum, logged["mirrored"])) == 200
    # the values in fit's logs and evaluate() are of every replica's rows (a monitor reads them)
    for source in ("logs", "evaluate"):
        for name, value in logged["sklearn"].items():
            assert abs(logged[source][name] - value) < 1e-6, (source, name, logged[source][name], value)
    # a metric created outside the scope has one copy of its counts, on one device: refused, naming the fix
    assert logged["outside_scope"].startswith("ValueError: balanced_accuracy was created outside the tf.distribute "
                                              "strategy's scope, and is updated on its 2 replicas"), logged["outside_scope"]
    assert "inside `with strategy.scope():`" in logged["outside_scope"]
    # one update of the one copy, in the strategy's cross-replica context: counted, not refused
    assert abs(logged["cross_replica"] - logged["evaluate"]["balanced_accuracy"]) < 1e-6, logged["cross_replica"]
