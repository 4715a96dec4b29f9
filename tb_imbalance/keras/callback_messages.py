"""What a callback says to the user: one log line per subject, warnings once.

A line goes to stdout while Keras' interactive logging is on (where ``fit``
prints its progress bar), else to the ``tb_imbalance`` logger; ``verbose=0``
silences the lines, never the warnings.

Example:
    >>> messages = CallbackMessages("ClassificationReportCallback", verbose=1)
    >>> messages.say_once("source", "reading the compiled metric")
    ClassificationReportCallback: reading the compiled metric
    >>> messages.say_once("source", "said once only")
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Sequence

import keras
import numpy as np

from tb_imbalance.core.caller import user_stacklevel

__all__ = [
    "CallbackMessages", "another_fit_writing", "counts_replaced", "evaluated_in_another_thread", "evaluated_outside_fit",
    "in_a_running_fit", "kept_fit_model", "not_validated",
]


class CallbackMessages:
    """The lines and warnings of one callback during one fit (make a new one per fit)."""

    def __init__(self, speaker: str, verbose: int) -> None:
        self.speaker = speaker
        self.verbose = verbose
        self._said: set[str] = set()
        self._first_rows: tuple[int, np.ndarray] | None = None  # the first logged pass: its epoch, rows per class

    def log(self, message: str) -> None:
        """One line, when ``verbose``."""
        if not self.verbose:
            return
        line = f"{self.speaker}: {message}"
        if keras.config.is_interactive_logging_enabled():
            print(line, flush=True)
        else:
            logging.getLogger("tb_imbalance").info(line)

    def say_once(self, key: str, message: str) -> None:
        """:meth:`log` the first message of subject ``key``; later ones are dropped."""
        if key in self._said:
            return
        self._said.add(key)
        self.log(message)

    def first_time(self, key: str) -> bool:
        """Whether subject ``key`` comes up for the first time in this fit (nothing is said).

        Example:
            >>> messages = CallbackMessages("C", verbose=0)
            >>> messages.first_time("compared"), messages.first_time("compared")
            (True, False)
        """
        if "first:" + key in self._said:
            return False
        self._said.add("first:" + key)
        return True

    def warn_once(self, key: str, message: str) -> None:
        """A ``UserWarning`` (pointing at the user's line: ``model.fit``, or the call of a callback method) and the
        line, once per ``key``."""
        if "warning:" + key in self._said:
            return
        self._said.add("warning:" + key)
        warnings.warn(f"{self.speaker}: {message}", UserWarning, stacklevel=user_stacklevel())
        self.log(f"warning: {message}")

    def validation_rows(self, epoch: int, support: Any, class_names: Sequence[str] | None = None) -> None:
        """Warn once when fit's validation pass of ``epoch`` counted other rows than the first logged one: another
        total, or as many rows of other classes (``support``: the rows of each class, the matrix's row sums).

        Example:
            >>> messages = CallbackMessages("C", verbose=0)
            >>> messages.validation_rows(0, [60, 40]); messages.validation_rows(1, [60, 40])
            >>> import warnings
            >>> with warnings.catch_warnings(record=True) as said:
            ...     warnings.simplefilter("always")
            ...     messages.validation_rows(2, [70, 30], ["cat", "dog"])
            >>> str(said[0].message)[:97]
            "C: the validation pass of epoch 2 counted 100 rows, as that of epoch 0 did, but 70 of class 'cat'"
        """
        support = np.asarray(support)
        if self._first_rows is None:
            self._first_rows = (epoch, support)
            return
        first_epoch, first = self._first_rows
        if np.array_equal(support, first):
            return
        rows, first_rows = int(support.sum()), int(first.sum())
        counted = f"counted {rows} rows, that of epoch {first_epoch} {first_rows}"
        if rows == first_rows:
            k = int(np.flatnonzero(support != first)[0])
            name = class_names[k] if class_names is not None else str(k)
            counted = (f"counted {rows} rows, as that of epoch {first_epoch} did, but {int(support[k])} of class "
                       f"{name!r} where it counted {int(first[k])}")
        self.warn_once("rows", (
            f"the validation pass of epoch {epoch} {counted}: the steps' reports describe different rows and cannot "
            "be compared. A Python generator given to fit(validation_data=...) is used up after one pass, and an "
            "endless one read for fit(validation_steps=...) batches is not restarted between passes: pass arrays, a "
            "keras.utils.PyDataset, or a tf.data dataset with .repeat() and fit(validation_steps=...). "
            "A validation set that changes on purpose needs no fix"
        ))

    def not_logged(self, epoch: int, metric_name: str, *, replaced: bool) -> None:
        """Warn once that an epoch was not logged: fit did not validate it, or another ``evaluate()``
        ``replaced`` the counts of its validation pass."""
        if replaced:
            self.warn_once("replaced", counts_replaced(epoch, metric_name))
        else:
            self.warn_once("not_validated", not_validated(epoch, metric_name))

    def stopped_unreadable(self, epoch: int, error: ValueError) -> None:
        """Warn that the last epoch of a diverged fit another callback stopped could not be read (``error``)."""
        self.warn_once("stopped_unreadable", (
            f"epoch {epoch} is not logged: training diverged (a NaN loss) and was stopped (model.stop_training, "
            f"e.g. by TerminateOnNaN), and its validation could not be counted: {error}"
        ))

    def fit_ended(self, freq: int, *, no_epoch_of: int | None = None) -> None:
        """Warn when a fit that skipped an epoch for want of validation logged no step at all, and
        ``freq`` > 1 (the epochs fit validated may all fall between the logged ones); with ``freq=1``
        the warning at the first such epoch said it all. ``no_epoch_of``: fit's ``epochs``, given when
        the fit ran no epoch at all (``epochs=0``, or ``initial_epoch`` at or past ``epochs``).

        Example:
            >>> import warnings
            >>> with warnings.catch_warnings(record=True) as said:
            ...     warnings.simplefilter("always")
            ...     CallbackMessages("C", verbose=0).fit_ended(1, no_epoch_of=3)
            >>> str(said[0].message)[:66]
            'C: fit ran no epoch (epochs=3: its initial_epoch is 3 or more), so'
        """
        if no_epoch_of is not None:
            self.warn_once("no_epoch", (
                f"fit ran no epoch (epochs={no_epoch_of}: its initial_epoch is {no_epoch_of} or more), so nothing "
                "was logged. `epochs` is the index of the epoch to stop before, not a number of epochs: to train "
                "n more epochs from epoch k (one after the run's last step), pass fit(initial_epoch=k, epochs=k + n)"
            ))
        if freq > 1 and "warning:not_validated" in self._said and self._first_rows is None:
            self.warn_once("nothing_logged", (
                "no step was logged in this whole fit: fit validated none of the epochs this callback logs "
                f"(0, {freq}, {2 * freq}, …). With fit(validation_freq=k), log with freq=1 (every validated "
                "epoch); otherwise pass validation data to fit or to this callback"
            ))

    def no_curves(self, reason: str, *, chosen: bool) -> None:
        """Say once that an epoch has no curves and why: a line when the user ``chose`` it
        (``curves=False``), else a warning (class ids, logits read as probabilities)."""
        message = f"no PR / ROC / reliability curves are written: {reason}"
        if chosen:
            self.say_once("no_curves", message)
        else:
            self.warn_once("no_curves", message)


def not_validated(epoch: int, metric_name: str) -> str:
    """What to say when ``fit`` did not validate an epoch the callback logs."""
    return (
        f"nothing was logged for epoch {epoch}: fit did not validate this epoch, so the compiled metric "
        f"'{metric_name}' holds no validation counts. With fit(validation_freq=k) that is expected: Keras "
        "validates after epochs k, 2k, … (indices k-1, 2k-1, …) and this callback logs those among epochs "
        "0, freq, 2·freq, … (freq=1 logs every validated epoch). Otherwise pass validation_data (or "
        "validation_split) to fit, or validation_data to this callback. In a loop that calls the callbacks itself, "
        "call callbacks.on_test_begin() and callbacks.on_test_end() around a validation pass that updates the metric "
        "(e.g. model.test_on_batch(x_val, y_val)), before on_epoch_end"
    )


def counts_replaced(epoch: int, metric_name: str) -> str:
    """What to say when another ``evaluate()`` reset the metric inside fit's validation pass."""
    return (
        f"nothing was logged for epoch {epoch}: another model.evaluate() ran inside fit's validation pass "
        f"(from a callback's on_test_end or on_test_batch_end) and reset the compiled metric '{metric_name}' "
        "before this callback read fit's validation counts. List ClassificationReportCallback before that "
        "callback in callbacks=[...], or run the other evaluate() in on_epoch_end"
    )


def evaluated_outside_fit(log_dir: str, method: str = "evaluate") -> str:
    """What to say when the callback is given to ``model.evaluate`` (or ``method``) outside ``fit``."""
    return (
        f"model.{method}(callbacks=[...]) writes nothing with this callback: it logs at the end of each epoch "
        "of fit. To log one evaluation, call tb_imbalance.log_report("
        f"{log_dir!r}, y, model.predict(x), step, class_names=...)"
    )


def kept_fit_model(model: str, thread: str, fit_model: str) -> str:
    """What to say when ``set_model`` hands the callback another model (``model``, from ``thread``) while the fit of
    ``fit_model`` runs, and the callback keeps the fit's."""
    return (
        f"set_model() was handed another model ({model!r}, in thread {thread!r}: a model.evaluate() or predict() "
        f"given this callback, or a call of one's own) while the fit of model {fit_model!r} runs: this callback "
        "keeps reporting the fit's model, and writes nothing for the other. Give the other model its own "
        "ClassificationReportCallback (its own `log_dir` or `name`)"
    )


def evaluated_in_another_thread(method: str, thread: str, fit_thread: str) -> str:
    """What to say when ``model.evaluate`` (or ``method``) given the callback runs in ``thread`` while the callback's
    fit runs in ``fit_thread``."""
    return (
        f"model.{method}(callbacks=[...]) in thread {thread!r} writes nothing with this callback, which takes part "
        f"in a fit running in thread {fit_thread!r}: it logs that fit's validation at its epoch ends. To log one "
        "evaluation, call tb_imbalance.log_report(log_dir, y, model.predict(x), step, class_names=...) with a "
        "`name` or `log_dir` of its own"
    )


def another_fit_writing(name: str, run_dir: str, thread: str, refused: str) -> str:
    """What to say when a step is ``refused`` (what was not done, e.g. ``"did not write epoch 3"``) because
    another fit of this process, in ``thread``, writes tag ``name`` into ``run_dir`` at the same time."""
    return (
        f"ClassificationReportCallback(name={name!r}) {refused}: another fit in this process (thread {thread!r}) "
        f"is writing tag {name!r} into {run_dir} at the same time, and its steps were written first; two fits in "
        "one tag would mix their steps in one run. Give each fit's callback its own `name` (e.g. name='model_b'; "
        "its scalars then get the 'model_b/' prefix) or its own `log_dir`"
    )


def in_a_running_fit(thread: str) -> str:
    """What to say when one callback object is given to a second ``fit`` while its first, in ``thread``, still runs."""
    return (
        f"this ClassificationReportCallback already takes part in a fit still running in thread {thread!r} (in "
        "another thread, or the fit from whose callback this one started): one callback object follows one fit at a "
        "time (Keras hands it each fit's model, which the other fit would then read). "
        "Give each fit its own ClassificationReportCallback in callbacks=[...], with its own `log_dir` or `name`"
    )
