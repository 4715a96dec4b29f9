"""Every accepted ``validation_data`` source gives scikit-learn's matrix, on the current backend.

Arrays, arrays with weights, a keras.utils.PyDataset, a torch DataLoader
(when PyTorch is installed), a tf.data.Dataset (when TensorFlow is), a list
of batches and a generator; and the errors for everything else.
"""

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import matrices
from tb_imbalance.keras import ClassificationReportCallback
from tb_imbalance.keras.validation_data import ValidationSource

CLASSES = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    y = rng.choice(CLASSES, 150, p=[0.7, 0.2, 0.1])
    x = rng.normal(size=(150, 5)).astype("float32") + np.eye(CLASSES, 5, dtype="float32")[y] * 2
    weights = np.where(y == 0, 0.5, 2.0)
    return x, y, weights


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def expected(model, x, y, weights=None):
    return sk_confusion_matrix(y, model.predict(x, verbose=0).argmax(1), labels=range(CLASSES), sample_weight=weights)


def batches_of(x, y, weights=None, size=32):
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        yield (x[part], y[part]) if weights is None else (x[part], y[part], weights[part])


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, weights=None, size=32, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.weights, self.size = x, y, weights, size

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, index):
        part = slice(index * self.size, (index + 1) * self.size)
        if self.weights is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.weights[part]


def test_arrays_tuple_and_list(data, model):
    x, y, _ = data
    for value in ((x, y), [x, y]):
        source = ValidationSource(value)
        assert source.kind == "arrays (x, y)"
        cm = source.confusion_matrix(model, num_classes=CLASSES)
        np.testing.assert_array_equal(cm, expected(model, x, y))
        assert cm.dtype == np.int64


def test_a_single_output_named_in_a_dict_or_a_list_is_the_output_to_report(data):
    """keras.Model(inputs, {"probs": outputs}): one output under a name, as Keras trains it."""
    x, y, _ = data
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(CLASSES, activation="softmax", name="probs")(inputs)
    for wrapped in ({"probs": outputs}, [outputs]):
        model = keras.Model(inputs, wrapped)
        scores = model.predict(x, verbose=0)
        scores = scores["probs"] if isinstance(scores, dict) else scores  # Keras unwraps a list of one
        for source in (ValidationSource((x, y)), ValidationSource(list(batches_of(x, y)))):
            np.testing.assert_array_equal(source.confusion_matrix(model, num_classes=CLASSES),
                                          sk_confusion_matrix(y, scores.argmax(1)))


def test_arrays_with_weights_give_weighted_float_counts(data, model):
    x, y, weights = data
    source = ValidationSource((x, y, weights), batch_size=16)
    assert source.kind == "arrays (x, y, sample_weight)"
    cm = source.confusion_matrix(model, num_classes=CLASSES)
    np.testing.assert_allclose(cm, expected(model, x, y, weights))
    assert cm.dtype == np.float64


@pytest.mark.parametrize("weighted", [False, True])
def test_py_dataset(data, model, weighted):
    x, y, weights = data
    weights = weights if weighted else None
    source = ValidationSource(Batches(x, y, weights))
    assert source.kind == "keras.utils.PyDataset Batches"
    np.testing.assert_allclose(source.confusion_matrix(model, num_classes=CLASSES), expected(model, x, y, weights))


def test_list_of_batches_and_a_generator_read_every_epoch(data, model):
    x, y, weights = data
    listed = ValidationSource(list(batches_of(x, y)))
    assert listed.kind == "iterable of batches list"
    generated = ValidationSource(batches_of(x, y, weights), steps=5)  # 150 rows in batches of 32
    assert generated.kind.startswith("one-shot iterator generator")
    for _ in range(2):  # a generator is read once, its batches kept for the next epoch
        np.testing.assert_array_equal(listed.confusion_matrix(model, num_classes=CLASSES), expected(model, x, y))
        np.testing.assert_allclose(generated.confusion_matrix(model, num_classes=CLASSES), expected(model, x, y, weights))


def test_torch_dataloader(data, model):
    torch = pytest.importorskip("torch")
    x, y, weights = data
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(weights))
    source = ValidationSource(torch.utils.data.DataLoader(dataset, batch_size=32))
    assert source.kind == "torch.utils.data.DataLoader"
    np.testing.assert_allclose(source.confusion_matrix(model, num_classes=CLASSES), expected(model, x, y, weights))
    unweighted = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=40)
    np.testing.assert_array_equal(ValidationSource(unweighted).confusion_matrix(model, num_classes=CLASSES), expected(model, x, y))


def test_tf_data_dataset(data, model):
    tf = pytest.importorskip("tensorflow")
    x, y, weights = data
    dataset = tf.data.Dataset.from_tensor_slices((x, y, weights)).batch(32)
    source = ValidationSource(dataset)
    assert source.kind == "tf.data.Dataset"
    np.testing.assert_allclose(source.confusion_matrix(model, num_classes=CLASSES), expected(model, x, y, weights))


def test_a_tf_data_dataset_of_single_examples_is_refused_at_construction(tmp_path, data):
    """Without .batch() the model would get rows without their batch axis, after the first epoch trained."""
    tf = pytest.importorskip("tensorflow")
    x, y, weights = data
    for examples in (tf.data.Dataset.from_tensor_slices((x, y)), tf.data.Dataset.from_tensor_slices((x, y, weights))):
        with pytest.raises(ValueError, match=r"`validation_data` \(tf.data.Dataset\) yields single examples, not "
                                             r"batches \(its labels have shape \(\)\): pass dataset.batch\(256\)"):
            ClassificationReportCallback(tmp_path, validation_data=examples)
    ClassificationReportCallback(tmp_path, validation_data=tf.data.Dataset.from_tensor_slices((x, y)).batch(7))


def test_padding_rows_in_arrays_are_dropped_as_in_batches_and_a_labelled_minus_one_is_refused(tmp_path, data):
    """Rows of weight 0 and label -1 (padding) are dropped by the metric and the writers: arrays too."""
    x, y, _ = data
    padded, mask = y.copy(), np.ones(len(y), "float32")
    padded[:10], mask[:10] = -1, 0.0
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    for run, value in (("arrays", (x, padded, mask)), ("batches", list(batches_of(x, padded, mask, size=50)))):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path / run, validation_data=value, verbose=0)])
        logged = matrices(tmp_path / run)["validation_imbalance"][0]
        np.testing.assert_array_equal(logged, expected(model, x[10:], y[10:]), err_msg=run)
    mask[0] = 1.0  # a -1 label that counts: an error, before training
    with pytest.raises(ValueError, match=r"`validation_data` \(arrays \(x, y, sample_weight\)\), its y: `labels` must "
                                         r"hold class ids in \[0, 2\].*received -1"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[
            ClassificationReportCallback(tmp_path / "refused", validation_data=(x, padded, mask), verbose=0)])


@pytest.mark.parametrize("source_kind", ["py_dataset", "generator", "torch_dataloader"])
def test_callback_reads_each_source_in_fit(tmp_path, data, source_kind):
    x, y, _ = data
    if source_kind == "py_dataset":
        value = Batches(x, y)
    elif source_kind == "generator":
        value = batches_of(x, y, size=50)  # a generator has no length: validation_steps is required
    else:
        torch = pytest.importorskip("torch")
        value = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    steps = 3 if source_kind == "generator" else None
    callback = ClassificationReportCallback(tmp_path, validation_data=value, validation_steps=steps, verbose=0)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    logged = matrices(tmp_path)["validation_imbalance"]
    assert sorted(logged) == [0, 1]
    np.testing.assert_array_equal(logged[1], expected(model, x, y))


@pytest.mark.parametrize(
    "value, fragment",
    [
        (np.zeros((4, 2)), "ndarray; an array alone has no labels"),
        ("validation.npz", "str"),
        ({"x": 1}, "dict"),
        (3, "int"),
    ],
)
def test_unsupported_types_name_the_argument_and_the_accepted_types(value, fragment):
    with pytest.raises(TypeError) as raised:
        ValidationSource(value)
    message = str(raised.value)
    assert message.startswith("`validation_data` must be a tuple (x, y) / (x, y, sample_weight) of arrays")
    for accepted in ("keras.utils.PyDataset", "torch.utils.data.DataLoader", "tf.data.Dataset", "iterable of"):
        assert accepted in message
    assert fragment in message


def test_bad_shapes_and_batches(data, model):
    x, y, weights = data
    with pytest.raises(ValueError, match=r"\(x, y\) or \(x, y, sample_weight\), received a tuple of length 4"):
        ValidationSource((x, y, weights, weights))
    with pytest.raises(ValueError, match=r"must yield \(x, y\) or \(x, y, sample_weight\) batches; batch 1 is a tuple of length 1"):
        ValidationSource(iter([(x, y), (x,)]), steps=2).confusion_matrix(model, num_classes=CLASSES)
    with pytest.raises(ValueError, match="mixes batches with and without sample_weight"):
        ValidationSource([(x, y), (x, y, weights)]).confusion_matrix(model, num_classes=CLASSES)
    with pytest.raises(ValueError, match="yielded no batches"):
        ValidationSource(iter([]), steps=1).confusion_matrix(model, num_classes=CLASSES)
    with pytest.raises(ValueError, match=r"labels` must hold class ids in \[0, 2\]"):
        ValidationSource((x, y + 5)).confusion_matrix(model, num_classes=CLASSES)
    # batches as [x, y] lists, built by a list comprehension: a list of three reads as (x, y, sample_weight)
    listed = [[x[i:i + 50], y[i:i + 50]] for i in range(0, 150, 50)]
    with pytest.raises(ValueError, match=r"its y: .*looks like a list of \[x, y\] batches.*give each batch as a tuple"):
        ValidationSource(listed).check_labels(CLASSES)
    np.testing.assert_array_equal(  # as tuples, they are batches
        ValidationSource([tuple(batch) for batch in listed]).confusion_matrix(model, num_classes=CLASSES),
        expected(model, x, y))
    with pytest.raises(ValueError, match=r"its first batches of a fresh pass are read every logged epoch: the same rows "
                                         r"unless it reshuffles"):
        ValidationSource(iter(listed))

    class Endless(keras.utils.PyDataset):
        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return x[:8], y[:8]

    with pytest.raises(ValueError, match=r"PyDataset Endless\) has num_batches None.*validation_steps="):
        ValidationSource(Endless())
    np.testing.assert_array_equal(
        ValidationSource(Endless(), steps=2).confusion_matrix(model, num_classes=CLASSES),
        expected(model, np.concatenate([x[:8]] * 2), np.concatenate([y[:8]] * 2)),
    )


def test_a_py_dataset_that_serves_fewer_batches_than_it_says_names_validation_data_and_the_fix(data, model):
    x, y, _ = data

    class TooLong(Batches):  # serves 5 batches of 32 (150 rows), says 7
        def __len__(self):
            return 7

        def __getitem__(self, index):
            if index >= self.served:
                raise IndexError(f"no batch {index}")
            return super().__getitem__(index)

        served = 5

    with pytest.raises(ValueError) as raised:  # not a bare IndexError
        ValidationSource(TooLong(x, y)).confusion_matrix(model, num_classes=CLASSES)
    assert str(raised.value) == (
        "`validation_data` (keras.utils.PyDataset TooLong): batch 5 raised IndexError (no batch 5), but its __len__() "
        "(num_batches) is 7: the report reads 7 batches; make __len__ return the number of batches __getitem__ "
        "serves, or pass validation_steps=5 to ClassificationReportCallback")
    np.testing.assert_array_equal(  # the advice read every row
        ValidationSource(TooLong(x, y), steps=5).confusion_matrix(model, num_classes=CLASSES), expected(model, x, y))

    class Endless(TooLong):
        num_batches, served = None, 2

    with pytest.raises(ValueError, match=r"batch 2 raised IndexError \(no batch 2\), but validation_steps=4: the report "
                                         r"reads 4 batches; pass validation_steps=2 to ClassificationReportCallback$"):
        ValidationSource(Endless(x, y), steps=4).confusion_matrix(model, num_classes=CLASSES)


@pytest.mark.parametrize("parts, fragment", [
    (lambda x, y, w: (x, y[:-3]), "`x` has 150 rows and `y` 147"),
    (lambda x, y, w: (x, y, w[:100]), "`sample_weight` has 100 rows and `y` 150"),
    (lambda x, y, w: ({"image": x, "meta": x[:140]}, y), "`x['meta']` has 140 rows and `y` 150"),
    (lambda x, y, w: ([x, x[:10]], y), "`x[1]` has 10 rows and `y` 150"),
])
def test_arrays_of_other_row_counts_are_refused_at_construction_not_after_an_epoch(tmp_path, data, parts, fragment):
    x, y, weights = data
    with pytest.raises(ValueError) as raised:
        ClassificationReportCallback(str(tmp_path), validation_data=parts(x, y, weights), verbose=0)
    assert str(raised.value).startswith("`validation_data` (arrays (x, y")
    assert fragment + ": rows are paired by position, one label per row; pass as many rows of each" in str(raised.value)
    assert not list(tmp_path.iterdir())
    ValidationSource((x, y, weights))  # as many rows of each: accepted
    ValidationSource(([x, x], y[:, None]))


def _fit_with_metric(tmp_path, data, validation, **fit_kwargs):
    from tb_imbalance.keras import BalancedAccuracy

    x, y, _ = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(CLASSES)])
    model.fit(x, y, epochs=3, verbose=0, validation_data=validation,
              callbacks=[ClassificationReportCallback(tmp_path, verbose=0)], **fit_kwargs)


def test_a_used_up_generator_given_to_fit_is_said_once_when_a_pass_counts_other_rows(tmp_path, data):
    x, y, _ = data

    def used_up():  # Keras reads it on until it ends: the first pass takes 250 rows, the next what is left
        yield from batches_of(x, y, size=50)
        yield from batches_of(x[:100], y[:100], size=50)

    with pytest.warns(UserWarning, match=r"the validation pass of epoch 1 counted \d+ rows, that of epoch 0 250: "
                                         r"the steps' reports describe different rows.*validation_steps") as said:
        try:
            _fit_with_metric(tmp_path, data, used_up())
        except ValueError as empty:  # a pass that validated no row at all is refused, naming the generator
            assert "validation pass of epoch" in str(empty) and "counted no row" in str(empty), str(empty)
            assert "generator given to fit(validation_data=...) was used up" in str(empty), str(empty)
    assert sum("validation pass of epoch" in str(warning.message) for warning in said) == 1


def test_an_endless_generator_read_for_validation_steps_is_said_when_a_pass_counts_as_many_other_rows(tmp_path, data):
    """Keras does not restart an endless generator between validation passes (it reads again the batches it peeked
    at, then goes on): with full batches every pass counts 120 rows, but not the same ones, which the class counts
    show; comparing the totals alone said nothing."""
    x, y, _ = data

    def endless():  # as ds.repeat().batch(30) would: full batches, wrapping around the 150 rows
        for start in range(0, 10**6, 30):
            rows = (start + np.arange(30)) % len(y)
            yield x[rows], y[rows]

    with pytest.warns(UserWarning, match=r"the validation pass of epoch (1|2) counted 120 rows, as that of epoch 0 "
                                         r"did, but \d+ of class '\d' where it counted \d+: the steps' reports describe "
                                         r"different rows.*not restarted between passes") as said:
        _fit_with_metric(tmp_path, data, endless(), validation_steps=4)
    assert sum("validation pass of epoch" in str(warning.message) for warning in said) == 1
    logged = matrices(tmp_path)["validation_imbalance"]
    np.testing.assert_array_equal(logged[0].sum(axis=1), np.bincount(y[:120], minlength=CLASSES))
    assert {int(matrix.sum()) for matrix in logged.values()} == {120}
    assert len({tuple(matrix.sum(axis=1)) for matrix in logged.values()}) > 1  # other rows, as said


def test_the_same_validation_rows_every_epoch_are_said_nothing(tmp_path, data, recwarn):
    x, y, _ = data
    _fit_with_metric(tmp_path, data, Batches(x, y))
    assert not [warning for warning in recwarn if "counted" in str(warning.message)]
    assert sorted(matrices(tmp_path)["validation_imbalance"]) == [0, 1, 2]
