"""tf.distribute: MirroredStrategy on 2 logical CPU devices logs the single-device matrix (from the compiled
metric, and from the callback's own batches), and the metrics' values in ``logs`` are scikit-learn's on all
the rows; a tf.numpy_function that logs inside strategy.run is refused at the second replica's call,
saying why."""

import json
import os
import subprocess
import sys
import textwrap

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
    # reset_state() of a metric created in the scope zeroes every replica's copy of every variable
    held, after = logged["reset"]["held"], logged["reset"]["after"]
    assert len(held[0]) == 2 and min(held[0]) > 0 and sum(held[0]) == 200, held  # the counts: each replica's rows
    assert after == [[0, 0] for _ in held], after
    # one update of the one copy, in the strategy's cross-replica context: counted, not refused
    assert abs(logged["cross_replica"] - logged["evaluate"]["balanced_accuracy"]) < 1e-6, logged["cross_replica"]


NUMPY_FUNCTION_IN_REPLICAS = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import tb_imbalance

    run_dir = sys.argv[1]
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def log(labels, predictions):  # eager Python, so nothing in the call says which replica runs it
        tb_imbalance.log_report(run_dir, labels, predictions, 0, num_classes=3, image=False)
        return np.int64(0)

    @tf.function
    def evaluate(labels, predictions):
        return strategy.run(lambda l, p: tf.numpy_function(log, [l, p], tf.int64), args=(labels, predictions))

    batches = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(([0, 1, 2, 0, 1, 2, 0, 0], [0, 1, 1, 0, 2, 2, 0, 1])).batch(8))
    try:
        evaluate(*next(iter(batches)))
        print(json.dumps({"refused": None}))
    except tf.errors.InvalidArgumentError as error:
        print(json.dumps({"refused": error.message}))
    """
)


def test_a_numpy_function_logging_inside_strategy_run_is_refused_saying_why(tmp_path):
    # Each replica runs the numpy_function with its own half of the rows; the first writes its half as step 0
    # (nothing tells a writer it is one replica's call), the second is refused, naming what happened and the fix
    result = subprocess.run(
        [sys.executable, "-c", NUMPY_FUNCTION_IN_REPLICAS, str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    refused = json.loads(result.stdout.strip().splitlines()[-1])["refused"]
    assert refused is not None and "step 0 of tag 'confusion_matrix' is not after the last step" in refused
    assert "comes from a tf.numpy_function / tf.py_function: inside strategy.run it runs once per replica" in refused
    assert "may hold one replica's rows only" in refused and "strategy.gather(value, axis=0)" in refused


COUNTS_IN_VARIABLES = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import tb_imbalance, tb_imbalance.summary as tbs

    labels, predicted = [0, 1, 2, 0, 1, 2, 0, 0, 2, 0, 1, 0], [0, 1, 1, 0, 2, 2, 0, 1, 2, 0, 0, 0]
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():  # a custom loop's streaming counts, one variable per aggregation (MEAN needs floats)
        counts = {how: tf.Variable(tf.zeros((3, 3)), aggregation=getattr(tf.VariableAggregation, how))
                  for how in ("SUM", "MEAN", "ONLY_FIRST_REPLICA")}

    @tf.function
    def count(y, p):
        def on_replica(y, p):
            for variable in counts.values():
                variable.assign_add(tf.math.confusion_matrix(y, p, num_classes=3, dtype=tf.float32))
        strategy.run(on_replica, args=(y, p))

    for y, p in strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices((labels, predicted)).batch(4)):
        count(y, p)
    logged = {}
    for how, variable in counts.items():
        try:
            logged[how] = tb_imbalance.log_matrix(sys.argv[1] + "/" + how, variable, 0, image=False).tolist()
        except ValueError as error:
            logged[how] = str(error)
    with tf.summary.create_file_writer(sys.argv[1] + "/summary").as_default(step=0):
        try:
            logged["summary"] = tbs.write_report("cm", counts["MEAN"], ["a", "b", "c"])
        except ValueError as error:
            logged["summary"] = str(error)
    print(json.dumps(logged))
    """
)


def test_counts_in_a_variable_not_summed_over_replicas_are_refused(tmp_path):
    # aggregation=MEAN held half of each count (4.5 for 9 rows of class 0 predicted 0 on 2 replicas), and
    # ONLY_FIRST_REPLICA the first replica's rows: both logged as the matrix, without a word
    from sklearn.metrics import confusion_matrix

    result = subprocess.run(
        [sys.executable, "-c", COUNTS_IN_VARIABLES, str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=HERE,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logged = json.loads(result.stdout.strip().splitlines()[-1])
    labels, predicted = [0, 1, 2, 0, 1, 2, 0, 0, 2, 0, 1, 0], [0, 1, 1, 0, 2, 2, 0, 1, 2, 0, 0, 0]
    assert logged["SUM"] == confusion_matrix(labels, predicted).tolist()
    for how, held in (("MEAN", "the mean of the replicas' counts"), ("ONLY_FIRST_REPLICA", "the first replica's counts")):
        assert logged[how].startswith(f"`cm` is a tf.distribute variable of 2 replicas with aggregation={how}: "
                                      f"it holds {held}"), logged[how]
        assert "aggregation=tf.VariableAggregation.SUM" in logged[how] and "ReduceOp.SUM" in logged[how]
        assert not (tmp_path / how).exists()
    assert logged["summary"].startswith("`cm` is a tf.distribute variable of 2 replicas with aggregation=MEAN")
