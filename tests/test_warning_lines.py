"""Each warning a user can meet names the user's line, not a line of tb_imbalance or of Keras.

``warnings.warn(stacklevel=...)`` counted from the function that warns named
the package's own modules (``targets.py``, ``keras/callback.py``,
``keras/confusion_metric.py``) or Keras' callback loop whenever the warning
was raised one call deeper or shallower than counted:
:func:`tb_imbalance.core.caller.user_stacklevel` walks out of the package
(and out of Keras, which calls the callback and resets the metrics) instead.
"""

from __future__ import annotations

import linecache
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tb_imbalance import log_report
from tb_imbalance.keras import BalancedAccuracy, ClassificationReportCallback, MacroAveragePrecision

LABELS = np.array([0, 1, 1, 0, 2, 2])
PREDICTIONS = np.array([0, 1, 0, 0, 2, 1])
X = np.eye(3, dtype="float32")[LABELS]


def _said_at(call, match: str) -> list[str]:
    """The source lines the warnings whose message holds ``match`` name, each checked to be in this file."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        call()
    hits = [w for w in said if match in str(w.message)]
    assert hits, [str(w.message)[:80] for w in said]
    assert [w.filename for w in hits] == [__file__] * len(hits), [(w.filename, w.lineno) for w in hits]
    return [linecache.getline(w.filename, w.lineno).strip() for w in hits]


def _model(metrics, activation="softmax"):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation=activation)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=activation is None), metrics=metrics)
    return model


def test_writers_warnings_name_the_log_report_line(tmp_path):
    run = tmp_path / "exp"  # another writer in the run directory: said from targets.py
    writer = tf.summary.create_file_writer(str(run))

    def loop():
        for step in range(8):
            with writer.as_default():
                tf.summary.scalar("loss", 1.0, step=step)
            writer.flush()
            log_report(str(run), LABELS, PREDICTIONS, step, num_classes=3, image=False)

    assert _said_at(loop, "another writer is adding") == [
        "log_report(str(run), LABELS, PREDICTIONS, step, num_classes=3, image=False)"]
    odd = tmp_path / 'a"b'  # a character blob keys cannot hold: said from targets.py
    assert _said_at(lambda: log_report(odd, LABELS, PREDICTIONS, 0, num_classes=3, image=False), "If that part") == [
        "assert _said_at(lambda: log_report(odd, LABELS, PREDICTIONS, 0, num_classes=3, image=False), \"If that part\") == ["]


def test_callback_and_metric_warnings_name_the_users_keras_call(tmp_path):
    model = _model([BalancedAccuracy(3)])
    callback = ClassificationReportCallback(tmp_path / "evaluate", verbose=0)
    # said from keras/callback.py (evaluate) and from Keras' callback loop (predict)
    assert _said_at(lambda: model.evaluate(X, LABELS, verbose=0, callbacks=[callback]), "writes nothing") == [
        "assert _said_at(lambda: model.evaluate(X, LABELS, verbose=0, callbacks=[callback]), \"writes nothing\") == ["]
    callback = ClassificationReportCallback(tmp_path / "predict", verbose=0)
    assert _said_at(lambda: model.predict(X, verbose=0, callbacks=[callback]), "writes nothing") == [
        "assert _said_at(lambda: model.predict(X, verbose=0, callbacks=[callback]), \"writes nothing\") == ["]

    def not_validated():  # said from Keras' callback loop
        model.fit(X, LABELS, validation_data=(X, LABELS), validation_freq=2, epochs=2, verbose=0,
                  callbacks=[ClassificationReportCallback(tmp_path / "fit", verbose=0)])

    assert _said_at(not_validated, "fit did not validate")[0].startswith("model.fit(X, LABELS, validation_data=")
    logits = _model([MacroAveragePrecision(3)], activation=None)  # said from keras/confusion_metric.py
    assert _said_at(lambda: logits.fit(X, LABELS, epochs=2, verbose=0), "result() is NaN") == [
        "assert _said_at(lambda: logits.fit(X, LABELS, epochs=2, verbose=0), \"result() is NaN\") == ["]
    nan = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * float("nan"))])
    nan.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])

    def evaluate_twice():  # the reset between the passes says it, from keras/confusion_metric.py
        nan.evaluate(X, LABELS, verbose=0)
        nan.evaluate(X, LABELS, verbose=0)

    assert _said_at(evaluate_twice, "result() was NaN") == ["nan.evaluate(X, LABELS, verbose=0)"]
    assert _said_at(lambda: BalancedAccuracy(10, max_rows=50), "has no effect") == [
        "assert _said_at(lambda: BalancedAccuracy(10, max_rows=50), \"has no effect\") == ["]


@pytest.mark.parametrize("stacked", [1, 3])
def test_a_warning_raised_at_any_depth_of_the_package_names_the_callers_line(stacked):
    from tb_imbalance.core.caller import user_stacklevel

    assert user_stacklevel() == 1  # called from here: this frame is the user's
    namespace = {"user_stacklevel": user_stacklevel, "warnings": warnings}
    source = "def f0():\n    warnings.warn('deep', UserWarning, stacklevel=user_stacklevel())\n" + "".join(
        f"def f{k}():\n    f{k - 1}()\n" for k in range(1, stacked))
    exec(compile(source, tb_imbalance_file("deep.py"), "exec"), namespace)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        namespace[f"f{stacked - 1}"]()
    assert [(w.filename, w.lineno) for w in said] == [(__file__, said[0].lineno)]
    assert linecache.getline(__file__, said[0].lineno).strip() == 'namespace[f"f{stacked - 1}"]()'


def tb_imbalance_file(name: str) -> str:
    """A file name inside the package's directory (code compiled under it counts as the package's)."""
    import os

    import tb_imbalance

    return os.path.join(os.path.dirname(os.path.abspath(tb_imbalance.__file__)), name)


def test_a_warning_in_the_background_writer_names_the_package_not_concurrent_futures(tmp_path):
    # a stack that is all the package's (its background writer's thread) named concurrent/futures/thread.py
    import functools

    from tb_imbalance import background
    from tb_imbalance.run_location import warn_unreadable_run_name

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        background.wait([background.submit(functools.partial(warn_unreadable_run_name, str(tmp_path / 'a"b')))])
    assert [w.filename for w in said] == [tb_imbalance_file("background.py")]
    assert linecache.getline(said[0].filename, said[0].lineno).strip() == "job()"
