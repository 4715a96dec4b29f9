"""A run continued on other validation rows is said once, per tag, whatever writes the continuation.

The first step a new writer (a new process, a new fit) logs of a tag is
compared with the tag's last step in the run: its rows per class (the
matrix's row sums). Other rows get one warning naming the tag, both steps, the
first class whose count changed and the fixes; the same rows, or other sets
under other tags, get none. An old step that cannot be read says nothing and
stops nothing, and reading never changes what is on disk.
"""

import os
import struct
import warnings

import keras
import numpy as np
import pytest

import tb_imbalance
from logdir_reader import matrices
from tb_imbalance import format as fmt
from tb_imbalance.event_file import EventFile
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback
from tb_imbalance.run_history import RunHistory
from tb_imbalance.scalar_value import array_tensor
from tb_imbalance.targets import close_directory_writers
from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

CM = np.array([[50, 10, 0], [5, 30, 5], [0, 2, 8]])  # 60, 40 and 10 rows
NAMES = ["ok", "fraud", "chargeback"]


@pytest.fixture(autouse=True)
def _close_writers():
    yield
    close_directory_writers()


def continued(run_dir, cm, step, **kwargs):
    """``log_matrix`` from a new process: it knows only what is on disk."""
    close_directory_writers()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        tb_imbalance.log_matrix(run_dir, cm, step, class_names=NAMES, image=False, **kwargs)
    return [str(warning.message) for warning in said]


def said_rows(messages):
    return [message for message in messages if "continues on other rows" in message]


def test_log_matrix_continuing_a_run_on_other_rows_is_said_once_naming_tag_steps_class_and_fixes(tmp_path):
    run_dir = tmp_path / "run"
    for step, cm in enumerate([CM * 2, CM, CM]):  # the last step is compared; one process's steps are not
        tb_imbalance.log_matrix(run_dir, cm, step, class_names=NAMES, image=False)
    other = CM.copy()
    other[1] = [5, 20, 5]  # 30 rows of 'fraud', not 40
    [message] = said_rows(continued(run_dir, other, 3))
    assert message.startswith(
        f"tb_imbalance: step 3 counted 100 rows, 30 of class 'fraud'; the run's last step of tag 'confusion_matrix' "
        f"in {run_dir} (step 2) counted 110, 40 of class 'fraud'.")
    assert message.endswith("To continue this run, log the same validation rows; to log another validation set, log it "
                            "into a new run directory or under another `name`")
    with warnings.catch_warnings(record=True) as later:
        warnings.simplefilter("always")
        tb_imbalance.log_matrix(run_dir, CM, 4, class_names=NAMES, image=False)  # the continuation's next step
    assert not said_rows([str(warning.message) for warning in later])
    read = matrices(tmp_path)["run"]
    assert sorted(read) == [0, 1, 2, 3, 4]  # every step written, the old ones as they were
    np.testing.assert_array_equal(read[0], CM * 2)
    np.testing.assert_array_equal(read[3], other)


def test_the_filter_docs_give_for_rows_that_change_by_design_silences_the_warning_alone(tmp_path):
    run_dir = tmp_path / "run"
    tb_imbalance.log_matrix(run_dir, CM, 0, class_names=NAMES, image=False)
    close_directory_writers()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=r"tb_imbalance: step \d+ counted")  # docs/other-loops.md
        tb_imbalance.log_matrix(run_dir, CM * 2, 1, class_names=NAMES, image=False)
        with pytest.raises(ValueError, match="step 1"):  # other refusals are untouched
            tb_imbalance.log_matrix(run_dir, CM, 1, class_names=NAMES, image=False)
    assert [str(warning.message) for warning in said] == []
    assert sorted(matrices(tmp_path)["run"]) == [0, 1]


def test_the_same_rows_per_class_in_other_cells_are_said_nothing(tmp_path):
    run_dir = tmp_path / "run"
    tb_imbalance.log_matrix(run_dir, CM, 0, class_names=NAMES, image=False)
    better = np.array([[58, 2, 0], [1, 38, 1], [0, 0, 10]])  # a better model on the same validation rows
    assert not said_rows(continued(run_dir, better, 1))


def test_each_tag_is_compared_with_its_own_last_step(tmp_path):
    """Training and validation sets under their own tags are two series, each continued on its own rows."""
    run_dir, train = tmp_path / "run", CM * 9
    tb_imbalance.log_matrix(run_dir, CM, 0, class_names=NAMES, image=False, name="val_report")
    tb_imbalance.log_matrix(run_dir, train, 0, class_names=NAMES, image=False, name="train_report")
    assert not said_rows(continued(run_dir, CM, 1, name="val_report"))
    assert not said_rows(continued(run_dir, train, 1, name="train_report"))
    [message] = said_rows(continued(run_dir, train, 2, name="val_report"))  # the training set logged as validation
    assert "step 2 counted 990 rows, 540 of class 'ok'; the run's last step of tag 'val_report'" in message
    assert "(step 1) counted 110, 60 of class 'ok'" in message


def test_many_classes_stored_as_cells_are_compared(tmp_path):
    """Above 100 classes a step is stored as its non-empty cells (the coo encoding)."""
    run_dir, names = tmp_path / "run", [f"c{k}" for k in range(150)]
    cm = np.diag(np.arange(1, 151))
    tb_imbalance.log_matrix(run_dir, cm, 0, class_names=names, image=False)
    close_directory_writers()
    changed = cm.copy()
    changed[120, 3] = 7  # 7 more rows of class c120
    with pytest.warns(UserWarning, match=r"step 1 counted 11332 rows, 128 of class 'c120'; .* \(step 0\) counted "
                                         r"11325, 121 of class 'c120'"):
        tb_imbalance.log_matrix(run_dir, changed, 1, class_names=names, image=False)


def test_sums_of_weights_are_compared_allowing_for_rounding(tmp_path):
    run_dir, weighted = tmp_path / "run", CM * 0.1
    tb_imbalance.log_matrix(run_dir, weighted, 0, class_names=NAMES, image=False)
    same = weighted.copy()
    same[0, 0] += 1e-13  # the same rows' weights added up in another order
    assert not said_rows(continued(run_dir, same, 1))
    [message] = said_rows(continued(run_dir, weighted * 2, 2))
    assert "step 2 counted 22 rows, 12 of class 'ok'" in message and "(step 1) counted 11, 6 of class 'ok'" in message



def summed_in_float32(labels, predictions, weights, batch_size):
    """A matrix of summed weights kept as float32 and added to batch by batch, as a torch or tf.Variable loop keeps one."""
    cm = np.zeros((3, 3), np.float32)
    for start in range(0, len(labels), batch_size):
        rows = slice(start, start + batch_size)
        cm += np.bincount(3 * labels[rows] + predictions[rows], weights[rows], 9).reshape(3, 3).astype(np.float32)
    return cm


def test_the_same_rows_summed_in_float32_in_other_batches_are_said_nothing(tmp_path):
    run_dir, rng = tmp_path / "run", np.random.default_rng(0)
    labels, predictions = rng.integers(0, 3, 5000), rng.integers(0, 3, 5000)
    weights = rng.uniform(0.1, 2.0, 5000).astype(np.float32)
    first, second = (summed_in_float32(labels, predictions, weights, size) for size in (64, 256))
    assert not np.array_equal(first.sum(axis=1), second.sum(axis=1))  # the same rows, rounded otherwise
    tb_imbalance.log_matrix(run_dir, first, 0, class_names=NAMES, image=False)
    assert not said_rows(continued(run_dir, second, 1))
    fewer = summed_in_float32(labels[1:], predictions[1:], weights[1:], 256)  # one row (weight 1.78) less
    [message] = said_rows(continued(run_dir, fewer, 2))
    assert f"step 2 counted {fewer.sum(dtype=np.float64):g} rows, {fewer[labels[0]].sum(dtype=np.float64):g} of " \
           f"class {NAMES[labels[0]]!r}" in message
    assert f"(step 1) counted {second.sum(dtype=np.float64):g}, {second[labels[0]].sum(dtype=np.float64):g}" in message

def _matrix_event(run_dir, step, tensor):
    """A step of tag ``confusion_matrix`` whose stored tensor is ``tensor`` (a damaged or foreign step)."""
    value = summary_pb2.Summary.Value(tag="confusion_matrix", metadata=fmt.create_summary_metadata(NAMES), tensor=tensor)
    with EventFile(run_dir) as events:
        events.write(step, [value])


@pytest.mark.parametrize("tensor", [
    array_tensor(-CM),  # negative counts
    array_tensor(np.ones((2, 2), dtype=np.int64)),  # another class set's shape
    tensor_pb2.TensorProto(  # one value for a claimed 10**12 cells: never expanded
        dtype=types_pb2.DT_INT64, int64_val=[1],
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=10**6)] * 2)),
], ids=["negative", "other-shape", "one-value-for-a-huge-shape"])
def test_a_last_step_that_cannot_be_read_says_nothing_and_stops_nothing(tmp_path, tensor):
    run_dir = tmp_path / "run"
    tb_imbalance.log_matrix(run_dir, CM, 0, class_names=NAMES, image=False)
    close_directory_writers()
    _matrix_event(str(run_dir), 1, tensor)
    before = {name: (run_dir / name).read_bytes() for name in os.listdir(run_dir)}
    assert not said_rows(continued(run_dir, CM * 2, 2))
    assert {name: (run_dir / name).read_bytes() for name in before} == before  # read, never changed
    assert RunHistory.from_directory(run_dir).tags["confusion_matrix"].last_step == 2  # written after it


def test_a_last_record_cut_short_by_a_crash_compares_with_the_last_whole_step(tmp_path):
    run_dir = tmp_path / "run"
    tb_imbalance.log_matrix(run_dir, CM, 0, class_names=NAMES, image=False)
    tb_imbalance.log_matrix(run_dir, CM * 3, 1, class_names=NAMES, image=False)
    close_directory_writers()
    [path] = [run_dir / name for name in os.listdir(run_dir)]
    data = path.read_bytes()
    offset = 0
    while offset < len(data):  # the start of the last record
        last, offset = offset, offset + 16 + struct.unpack("<Q", data[offset:offset + 8])[0]
    path.write_bytes(data[:last + 20])  # step 1 cut short: its record is unreadable
    assert not said_rows(continued(run_dir, CM, 1))  # step 0's rows, continued
    assert len(said_rows(continued(run_dir, CM * 3, 2))) == 1


def test_a_summary_writer_continuing_a_run_is_compared_too(tmp_path):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    first = SummaryWriter(str(tmp_path / "run"))
    tb_imbalance.log_matrix(first, CM, 0, class_names=NAMES, image=False)
    first.close()
    second = SummaryWriter(str(tmp_path / "run"))
    with pytest.warns(UserWarning, match=r"step 1 counted 220 rows, 120 of class 'ok'; the run's last step of tag "
                                         r"'confusion_matrix' in .* \(step 0\) counted 110, 60 of class 'ok'"):
        tb_imbalance.log_matrix(second, CM * 2, 1, class_names=NAMES, image=False)
    second.close()


# -- the Keras callback --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    y = rng.choice(3, 120, p=[0.6, 0.3, 0.1])
    x = rng.normal(size=(120, 4)).astype("float32") + np.eye(3, 4, dtype="float32")[y]
    return x, y


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
    return model


def _fit(model, log_dir, x, y, validation, *, initial_epoch, own=False):
    callback = ClassificationReportCallback(log_dir, verbose=0, validation_data=validation if own else None)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=initial_epoch + 2, initial_epoch=initial_epoch, verbose=0, callbacks=[callback],
                  validation_data=None if own else validation)
    return said_rows([str(warning.message) for warning in said])


@pytest.mark.parametrize("own", [False, True], ids=["compiled-metric", "callback-validation-data"])
def test_a_fit_continuing_a_run_on_another_validation_set_is_said_once(tmp_path, data, own):
    x, y = data
    model = _model()
    assert not _fit(model, tmp_path, x, y, (x[:80], y[:80]), initial_epoch=0, own=own)
    close_directory_writers()  # a new process: the run's steps are read from disk
    [message] = _fit(model, tmp_path, x, y, (x[40:], y[40:]), initial_epoch=2, own=own)
    before, now = np.bincount(y[:80], minlength=3), np.bincount(y[40:], minlength=3)
    k = int(np.flatnonzero(before != now)[0])  # the first class whose count changed
    assert message.startswith(
        f"ClassificationReportCallback: the validation pass of epoch 2 counted 80 rows, {now[k]} of class '{k}'; the "
        f"run's last step of tag 'confusion_matrix' in {tmp_path / 'validation_imbalance'} (step 1) counted 80, "
        f"{before[k]} of class '{k}'.")
    assert message.endswith("to report on another validation set, start a new run: another log_dir (or run_name, or name)")
    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1, 2, 3]
    np.testing.assert_array_equal(logged[3].sum(axis=1), now)


def test_a_second_fit_of_this_process_is_compared_with_the_run_too(tmp_path, data):
    x, y = data
    model = _model()
    assert not _fit(model, tmp_path, x, y, (x[:80], y[:80]), initial_epoch=0)
    assert not _fit(model, tmp_path, x, y, (x[:80], y[:80]), initial_epoch=2)  # the same rows: nothing said
    assert len(_fit(model, tmp_path, x, y, (x[:60], y[:60]), initial_epoch=4)) == 1
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == list(range(6))


def test_a_fit_continuing_after_an_unreadable_last_step_trains_and_says_nothing(tmp_path, data):
    x, y = data
    model = _model()
    _fit(model, tmp_path, x, y, (x[:80], y[:80]), initial_epoch=0)
    close_directory_writers()
    _matrix_event(str(tmp_path / "validation_imbalance"), 2, array_tensor(-CM))
    assert not _fit(model, tmp_path, x, y, (x[40:], y[40:]), initial_epoch=3)
    assert sorted(matrices(tmp_path)["validation_imbalance"])[-2:] == [3, 4]
