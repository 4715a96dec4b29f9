"""ClassificationReportCallback: the validation report, every epoch, on any backend."""

from __future__ import annotations

import functools
import os
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from tb_imbalance import background, core
from tb_imbalance.examples import refuse_unused_examples_options
from tb_imbalance.keras import call_order, continued_run, distribution, fit_claims, model_checks, swapped_weights
from tb_imbalance.keras.callback_messages import CallbackMessages
from tb_imbalance.keras.examples_source import ExamplesSource
from tb_imbalance.keras.resume import check_history
from tb_imbalance.keras.step_write import write_step
from tb_imbalance.keras.confusion_metric import ConfusionMatrixMetric, MetricState
from tb_imbalance.keras.validation_data import ValidationSource
from tb_imbalance.keras.validation_pass import TestPasses
from tb_imbalance.run_location import callback_log_dir
from tb_imbalance.step import ClassSet, class_set_if_known, validate_tag
from tb_imbalance.targets import directory_writer
from tb_imbalance.tensors import to_numpy
from tb_imbalance.writer import ReportWriter

__all__ = ["ClassificationReportCallback"]

class ClassificationReportCallback(keras.callbacks.Callback):
    """Logs the validation classification report to TensorBoard every epoch.

    Works unchanged with every Keras backend (TensorFlow, JAX, PyTorch). Writes into
    ``<log_dir>/<run_name>`` (default ``validation_imbalance``), next to the ``train`` and
    ``validation`` runs of ``keras.callbacks.TensorBoard(log_dir)``: a directory of its own, so
    neither writer loses data in any TensorBoard loader mode. Per logged epoch (step = epoch index,
    as Keras' callback uses): the confusion matrix tensor ``name`` (Imbalance dashboard), per-class
    ``precision/<class>``, ``recall/<class>``, ``f1/<class>`` scalars, ``imbalance/<metric>``
    headline scalars (scalar tags get a ``<name>/`` prefix when ``name`` is not the default) and the
    ``<name>_image`` picture; with scores, the binned scores behind the PR, ROC and reliability
    curves (``ReportStep.curves``: the compiled metric's curve state, or computed from the
    predictions; class ids or scores outside [0, 1] without ``from_logits`` give none, said once
    with the fix). Every callback of the process writing into one run directory shares one writer
    and event file (:func:`tb_imbalance.targets.directory_writer`), flushed at every epoch.

    At an epoch's end the training thread only reads the matrix (one small device→host copy of the
    metric's counts, or the predictions of ``validation_data``) and hands the step to the process's
    background writer (:mod:`tb_imbalance.background`), which computes the report, draws the
    picture, writes and flushes, in step order. ``on_train_end`` waits until every step is on disk,
    so a reader started after ``fit`` returns sees all of them (after a ``fit`` that raised, the
    next ``fit`` waits for them before it starts); an error in writing (a full disk, a refused step)
    is raised at the next epoch end or at the end of training; a process killed mid-fit loses at
    most the steps still queued (its last ones, 8 at most, a second's: short epochs are written a
    few at a time, see :mod:`tb_imbalance.background`). Monitors such as
    ``EarlyStopping`` read the metric's value in ``logs``, never this callback: they are unaffected.

    Where the matrix comes from (said once in one log line when ``verbose``):

    1. ``validation_data`` given to the callback: it is predicted every logged
       epoch, whatever else is compiled (an explicit source always wins);
    2. otherwise the model was compiled with :class:`BalancedAccuracy` / :class:`MacroF1` (or
       another :class:`ConfusionMatrixMetric`) and ``fit`` validated this epoch: the metric's
       validation state is read, no extra forward pass. The counts are read when ``fit``'s validation
       pass ends (``on_test_end``): another callback's ``model.evaluate`` (given this callback or not)
       or ``predict`` later cannot change the logged matrix; one inside that pass, listed first, is said.
       While ``fit`` trains, the metric leaves training batches out of its curve state
       (``skip_training_curves``): the curves logged are the validation pass's, and training batches
       cost what the matrix alone costs.

    No silent failures: a set-up either logs scikit-learn's numbers or fails
    or warns, before training wherever the problem is known then:

    * at construction: bad ``class_names`` types, a ``validation_data`` that may never end without
      ``validation_steps``;
    * at the start of training: no source at all; ``class_names`` of the wrong length (``C`` from
      the compiled metric or the model's output shape); ``from_logits`` disagreeing with the loss or
      the compiled metric (see :func:`~tb_imbalance.keras.model_checks.check_from_logits`); a
      multi-output model on the predict path; two callbacks with the same ``name`` and run directory; a
      compiled metric that ``model.metrics`` leaves out (Keras would never reset it);
    * at the first epoch's start: a run directory that already holds this step or later ones of this
      tag (a re-run into an old ``log_dir``);
    * at an epoch's end: a validation pass that counted no row in the compiled metric (a ``test_step``
      that does not update it);
    * a warning (``warnings.warn`` and the log line, once) when a compiled metric is the source but
      ``fit`` did not validate a logged epoch, or when given to ``model.evaluate`` / ``predict`` outside ``fit``;
      before training, when it would predict with other weights than ``fit`` validates with (``SwapEMAWeights``).

    Only one process writes: the chief under ``tf.distribute``, process 0 on JAX, rank 0 under
    ``torch.distributed`` (see :mod:`tb_imbalance.keras.distribution`).

    Args:
        log_dir: the same directory you give ``keras.callbacks.TensorBoard``.
        class_names: C display names (default ``"0"…"C-1"``): a list or tuple, not a string.
        validation_data: ``(x, y)`` / ``(x, y, sample_weight)`` arrays, a ``keras.utils.PyDataset``, a
            ``torch.utils.data.DataLoader``, a ``tf.data.Dataset`` or any iterable of
            ``(x, y[, sample_weight])`` batches (see :mod:`tb_imbalance.keras.validation_data`). When given,
            it is the source of every report, even with a streaming metric compiled.
        validation_steps: batches of ``validation_data`` read per report. Required for a source that may
            never end (a repeated ``tf.data.Dataset``, a generator, an iterable without ``len()``, a
            ``PyDataset`` whose ``num_batches`` is ``None``, a ``DataLoader`` over an ``IterableDataset``);
            ``None`` reads finite sources to their end.
        from_logits: the model's scores are logits, for the predict path: a single column (``Dense(1)``
            without activation) is cut at 0; the curves read their sigmoid, or softmax (also with a loss of
            ``from_logits=True``). For the metric path set it on the metric.
        freq: log every ``freq`` epochs (epochs 0, freq, 2·freq, …).
        name: tag of the confusion matrix; a non-default name prefixes the scalar tags with ``<name>/``.
        run_name: sub-directory of ``log_dir`` to write to.
        metric: name of the compiled streaming metric to read when several are compiled (default: the first).
        per_class_scalars: write the per-class precision / recall / F1 scalars; ``None`` (default): up to
            100 classes, above that off with one log line; ``True`` writes them at any size.
        image: write the confusion-matrix picture.
        batch_size: batch size for predicting array ``validation_data``.
        verbose: 1 prints the line saying which source is read, and warnings.
        class_counts: training examples per class, C non-negative ints in class order, stored with every
            matrix: the dashboard then reports mean recall over many-shot (> 100 training examples),
            medium-shot (20–100) and few-shot (< 20) classes, and the ``imbalance/many_shot_recall``,
            ``medium_shot_recall`` and ``few_shot_recall`` scalars are written (each when its bucket holds a
            class with validation support). Never guessed: Keras hands callbacks the model and the epoch's
            ``logs``, never ``fit``'s ``x`` / ``y``. Pass ``class_counts=np.bincount(y_train, minlength=C)``
            (one-hot: ``y_train.sum(axis=0).astype(int)``).
        class_groups: ``{"group name": [class names…]}``, stored with every matrix so the dashboard can
            roll the matrix up to groups (the ``report`` route's ``group=1``). Every member must be one of
            the class names (``"0"…"C-1"`` without ``class_names``), a class in at most one group; classes
            in no group are shown as groups of their own. ``class_counts`` and ``class_groups`` are fixed
            per tag: a run directory whose tag holds other ones is refused at the first epoch.
        examples: ``(x, y)`` or ``(x, y, ids)``, a small set of rows (up to a few thousand) predicted once
            per logged epoch — the only extra forward pass, opt-in and said in the log line (none when ``x``
            is the very array of the callback's ``validation_data``). Each cell keeps up to
            ``examples_per_cell`` rows for the dashboard (click a cell): the most confident mistakes off the
            diagonal, the least confident correct rows on it, with their id (``ids`` or the row index),
            top-3 scores and a rendering (pictures as thumbnails of at most 64 px, strings as text, other
            rows as their first values); written as ``<name>_examples`` (see :mod:`tb_imbalance.examples`).
            Scores are read as logits when the callback's or the loss's ``from_logits`` is True.
        examples_per_cell: examples kept per cell (default 8).
        examples_max_bytes: bound on one epoch's examples, thumbnails
            included (default 2 MB); when it cuts, a log line says so once.
        background: write each step on the process's background writer (default; with ``C`` known before
            training, it draws the picture's fonts and frame while the first epoch trains). ``False`` writes
            each step on the training thread before ``on_epoch_end`` returns.

    Raises:
        TypeError: ``log_dir`` is not a path; ``validation_data`` is not an accepted source; ``class_names``
            is a string or not a sequence; a flag not a bool; ``class_counts`` not integers; ``class_groups``
            not a dict of lists; ``examples`` not an ``(x, y[, ids])`` tuple, or its ``x`` the inputs of a
            multi-input model (a dict or a list of arrays).
        ValueError / NotADirectoryError / FileNotFoundError: a run directory that cannot be made (as in
            ``ReportWriter``: a file or a link to nothing in the way, a URL no file layer here knows);
            ``examples`` rows of different lengths or empty, bad ``examples_per_cell`` / ``examples_max_bytes``,
            or either of them given without ``examples``; bad ``run_name`` / ``freq`` / ``name`` / ``batch_size``
            / ``validation_steps`` / ``class_counts`` / ``class_groups``; an endless ``validation_data`` without ``validation_steps``;
            at the start of training or of the first epoch, the set-up errors listed above; at an epoch's
            end, when the compiled metric counted invalid rows (labels out of range, NaN scores, logits read
            as probabilities) or the predictions of ``validation_data`` are rejected.
        RuntimeError: ``on_epoch_begin`` / ``on_epoch_end`` called outside training (a loop of one's own that calls
            the callbacks itself without ``on_train_begin`` first, or after ``on_train_end``).

    Example:
        >>> import keras, numpy as np, tempfile
        >>> from tb_imbalance.keras import BalancedAccuracy
        >>> log_dir = tempfile.mkdtemp()  # the directory of keras.callbacks.TensorBoard
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=[BalancedAccuracy(3)])
        >>> x, y = np.random.rand(32, 4).astype("float32"), np.arange(32) % 3
        >>> run = ClassificationReportCallback(log_dir, class_names=["a", "b", "c"], verbose=0)
        >>> _ = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[run])
        >>> sorted(os.listdir(run.run_dir))[0].startswith("events.out.tfevents")
        True
    """

    def __init__(
        self,
        log_dir: str | os.PathLike,
        *,
        class_names: Sequence[str] | None = None,
        validation_data: Any = None,
        validation_steps: int | None = None,
        from_logits: bool = False,
        freq: int = 1,
        name: str = "confusion_matrix",
        run_name: str = "validation_imbalance",
        metric: str | None = None,
        per_class_scalars: bool | None = None,
        image: bool = True,
        batch_size: int = 256,
        verbose: int = 1,
        class_counts: Sequence[int] | None = None,
        class_groups: Mapping[str, Sequence[str]] | None = None,
        examples: Any = None,
        examples_per_cell: int = 8,
        examples_max_bytes: int = 2_000_000,
        background: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
            raise ValueError(
                f"`freq` must be a positive int (log every freq epochs), received {freq!r}; "
                "use freq=1 to log every epoch"
            )
        validate_tag(name)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive int, received {batch_size!r}")
        if validation_steps is not None and validation_data is None:
            raise ValueError(
                "`validation_steps` limits the callback's own `validation_data`, which is not given; "
                "pass validation_data too, or use fit(validation_steps=...) for fit's validation"
            )
        self.log_dir = callback_log_dir(log_dir, run_name)
        if class_counts is not None and not isinstance(class_counts, (str, bytes)):
            class_counts = to_numpy(class_counts, "class_counts")
        # The tag's class set, validated once C is known: here when class_names
        # (or class_counts) tell it, else at the start of training or of the first logged epoch.
        self._classes = class_set_if_known(class_names, class_counts, class_groups)
        self.class_names = None if class_names is None else list(self._classes.names)
        self.class_counts, self.class_groups = class_counts, class_groups
        self.validation_data = validation_data
        self.validation_steps = validation_steps
        self._source = None if validation_data is None else ValidationSource(
            validation_data, batch_size=batch_size, steps=validation_steps)
        refuse_unused_examples_options(
            examples, examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes
        )
        self.examples = None if examples is None else ExamplesSource(
            examples, examples_per_cell=examples_per_cell, examples_max_bytes=examples_max_bytes)
        if self.examples is not None:
            self.examples.share_predictions_of(self._source)
        self.from_logits = core.validate_flag(from_logits, "from_logits")
        self.freq = freq
        self.name = name
        self.run_name = run_name
        self.metric_name = metric
        self.per_class_scalars = None if per_class_scalars is None else core.validate_flag(
            per_class_scalars, "per_class_scalars")
        self.image = core.validate_flag(image, "image")
        self.background = core.validate_flag(background, "background")
        self.batch_size = batch_size
        self.verbose = verbose
        self._writer: ReportWriter | None = None
        self._metric: ConfusionMatrixMetric | None = None
        self._num_classes: int | None = None
        self._messages = CallbackMessages("ClassificationReportCallback", verbose)
        self._history_checked, self._kept_through, self._train_began = True, -1, False  # see keras.resume
        self._fit: Any = None  # the History object of the fit this callback takes part in
        self._examples_from_logits = self.from_logits
        self._pending, self._chain = [], None  # steps handed to the background writer, not yet seen written; see on_train_begin
        self._training, self._last_epoch = False, None  # from on_train_begin until on_train_end; its last epoch ended
        self._logs_this_epoch = False  # inside an epoch that this callback logs (epoch % freq == 0)
        self._validated: MetricState | str | None = None  # the epoch's validation counts and curves, or "replaced"
        self._passes = TestPasses()  # fit's validation pass among evaluate()s

    # -- set-up ------------------------------------------------------------
    @property
    def run_dir(self) -> str:
        """Directory this callback writes to: ``<log_dir>/<run_name>``."""
        return os.path.join(self.log_dir, self.run_name)

    @fit_claims.one_at_a_time  # two threads starting a fit with this callback at once take turns
    def on_train_begin(self, logs: dict | None = None) -> None:
        fit_claims.refuse_while_running(self, self._fit)  # the fit this callback takes part in, in another thread?
        if self._train_began and fit_claims.same_fit(self._fit, self.model):  # no epoch since, this fit call
            raise ValueError("this ClassificationReportCallback is listed twice in fit(callbacks=[...]): list it once")
        # A fit that raised skipped on_train_end: its last steps (this callback's or another's) reach the
        # disk before this fit reads the run directory; their errors were logged, and are not this fit's.
        self._pending = []
        background.flush()
        self._chain = background.Chain()  # this training's steps: none written after one that failed
        self._messages = CallbackMessages("ClassificationReportCallback", self.verbose)
        candidates = model_checks.compiled_streaming_metrics(self.model)
        self._metric = model_checks.select_metric(  # given the model, it says which output it reads
            candidates, self.metric_name, self.model if self._source is None else None)
        if self._metric is None and self._source is None:
            raise ValueError(
                "ClassificationReportCallback needs a validation confusion matrix: compile "
                "the model with metrics=[tb_imbalance.keras.BalancedAccuracy(num_classes)] "
                "and pass validation_data to fit (no extra forward pass), or pass "
                "validation_data=(x_val, y_val) to the callback"
            )
        if self._source is None:  # the metric's counts are the validation pass's only if Keras resets it
            model_checks.check_metric_is_reset(self.model, self._metric)
        outputs = model_checks.model_outputs(self.model)
        model_checks.check_predict_path(outputs, validation_data=self._source is not None, examples=self.examples is not None)
        if self._source is not None:  # predicted by model.predict: under keras.distribution, in shares per device
            distribution.check_own_predictions("validation_data", self._source.rows, self.batch_size,
                                               capped=self._source.steps is not None)
        if self.examples is not None:
            distribution.check_own_predictions("examples", len(self.examples), self.batch_size)
        missing_curves = model_checks.check_from_logits(
            self.model, self._metric, candidates, outputs, predicts=self._source is not None, from_logits=self.from_logits)
        if missing_curves:  # said before training, not at the first epoch's end
            self._messages.no_curves(missing_curves, chosen=False)
        self._num_classes, origin = model_checks.known_num_classes(self._metric, outputs)
        if self._num_classes is not None:
            self._classes = self._class_set(self._num_classes, f"; C={self._num_classes} comes from {origin}")
            if self._source is not None:
                self._source.check_labels(self._num_classes)
            if self.examples is not None:
                self.examples.check_labels(self._num_classes)
        self._examples_from_logits = self.from_logits or (self._metric is not None and self._metric.from_logits) or (
            model_checks.outputs_are_logits(self.model, outputs)[0] is True)  # the metric's from_logits says it too
        fit_claims.refuse_handed_elsewhere(self)  # a fit in another thread handed this callback its model meanwhile?
        self._fit, self._kept_through, self._last_epoch = getattr(self.model, "history", None), -1, None  # a History per fit
        fit_claims.claim(self._fit, self.run_dir, self.name, self)
        swapped_weights.say_predicted_apart(self)
        self._writer, self._history_checked = None, True
        if distribution.is_writer(self.model):
            self._writer = directory_writer(self.run_dir)
            self._writer.history  # read what the run directory already holds, before training
            self._history_checked = False
        self._train_began = self._training = True

    def set_model(self, model: Any) -> None:  # Keras hands it each fit's model, on the fit's thread
        if call_order.keeps_fit_model(self, model):  # another model's evaluate() or predict() while its fit runs
            return
        super().set_model(model)
        fit_claims.handed(self)

    def _class_set(self, num_classes: int, origin: str = "") -> ClassSet:
        """The tag's class set for ``num_classes`` classes (validated once per C)."""
        if self._classes is not None and self._classes.num_classes == num_classes:
            return self._classes
        try:
            return ClassSet.of(
                self.class_names, num_classes, class_counts=self.class_counts, class_groups=self.class_groups
            )
        except ValueError as error:
            raise ValueError(f"{error}{origin}") from None

    def _say_once(self, message: str) -> None:
        """Say where the matrix comes from (and the examples), once per fit."""
        if self.examples is not None:
            message += self.examples.announce(self.freq, self.name)
        self._messages.say_once("source", message)

    # -- per epoch ---------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        call_order.refuse_outside_training(self._training, "on_epoch_begin", epoch)
        self._skip_training_curves(True)  # until the validation pass: the curves logged are its alone
        if not self._history_checked:
            self._history_checked = True  # then the picture's static parts, drawn while this first epoch trains:
            self._kept_through = check_history(self._writer, self._fit, self.model, self.name, epoch, self.freq,
                                               self._classes, self._messages)
            if self.background and self.image and self._classes is not None:
                background.submit(functools.partial(self._writer.prepare_picture, self.name, self._classes.names))
        self._logs_this_epoch, self._validated, self._train_began = epoch % self.freq == 0, None, False

    def _skip_training_curves(self, skip: bool) -> None:
        """Whether the metric the callback reads leaves training batches out of its curve state."""
        if self._metric is not None and self._source is None:
            self._metric.skip_training_curves = skip

    def on_test_begin(self, logs: dict | None = None) -> None:
        if call_order.elsewhere(self, "evaluate"):  # from another thread while its fit runs: left alone
            return
        self._skip_training_curves(False)  # fit's validation pass (or an evaluate() meanwhile)
        self._passes.begin(self._metric)
        self.on_predict_begin(method="evaluate")

    def on_predict_begin(self, logs: dict | None = None, method: str = "predict") -> None:
        call_order.pass_begins(self, method)  # from another thread, after a fit that raised, or outside fit: said

    def on_test_end(self, logs: dict | None = None) -> None:
        if call_order.elsewhere(self, "evaluate"):
            return
        listed = sum(m is self._metric for m in model_checks.find_streaming_metrics(self.model.metrics))
        kind = self._passes.end(self._metric, max(listed, 1))  # fit's validation pass, or another evaluate(callbacks=[this])
        if kind != "another" and self._logs_this_epoch and self._source is None and self._metric is not None:
            # keep fit's counts now, before another callback's evaluate() resets the metric (errors: at epoch end)
            self._validated = "replaced" if kind == "replaced" else self._metric.read_state()

    def _state_from_metric(self, epoch: int) -> MetricState:
        assert self._metric is not None
        self._say_once(
            f"reading the validation confusion matrix from the compiled metric "
            f"'{self._metric.name}' (no extra forward pass); {self._destination()}"
        )
        state, self._validated = self._validated, None  # fit's validation pass's, read at on_test_end
        if isinstance(state.matrix, ValueError):
            raise state.matrix
        support = state.matrix.sum(axis=1)  # at 10,000 classes a sum over the cells: once
        model_checks.check_pass_counted(self._metric.name, support.sum(), epoch)
        self._messages.validation_rows(epoch, support, getattr(self._classes, "names", None))  # a generator used up?
        return state

    def _destination(self) -> str:
        return f"writing to {self.run_dir}" if self._writer is not None else (
            "not writing from this process (one process of the training writes the report: to its own log_dir)")

    def _state_from_predictions(self) -> MetricState:
        assert self._source is not None
        compiled = "" if self._metric is None else (
            f"; the compiled metric '{self._metric.name}' is not read (the callback's validation_data wins)")
        steps = "" if self._source.steps is None else f", {self._source.steps} batches"
        self._say_once(
            f"predicting on the callback's validation_data ({self._source.kind}{steps}) every "
            f"{self.freq} epoch(s){compiled}; {self._destination()}"
        )
        return MetricState(*self._source.report(
            self.model, num_classes=self._num_classes, class_names=self.class_names, from_logits=self.from_logits,
            scores_from_logits=self._examples_from_logits,
        ))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        call_order.refuse_outside_training(self._training, "on_epoch_end", epoch, after=self._last_epoch)
        self._last_epoch, self._logs_this_epoch = epoch, False
        self._skip_training_curves(False)  # set only while this epoch's training batches run
        background.raise_failures(self._pending)
        if epoch % self.freq:
            return
        if self._source is None and not isinstance(self._validated, MetricState):  # no pass (a `val_` key is none)
            return self._messages.not_logged(epoch, self._metric.name, replaced=self._validated == "replaced")
        try:
            state = self._state_from_predictions() if self._source is not None else self._state_from_metric(epoch)
        except ValueError as error:  # the NaN scores of a diverged model another callback stopped (TerminateOnNaN)
            if not (getattr(self.model, "stop_training", False) and not np.isfinite((logs or {}).get("loss", 0.0))):
                raise
            return self._messages.stopped_unreadable(epoch, error)
        cm, curves = state.matrix, state.curves
        if curves is None:  # class ids, logits read as probabilities (a warning), curves=False: said once
            self._messages.no_curves(state.curves_reason, chosen=self._source is None and not self._metric.curves)
        classes = self._class_set(cm.shape[0])
        if self._classes is None and self._writer is not None:  # C unknown before training: the run directory's
            with self._writer.lock:  # class set is checked now, on this thread, not one epoch later in the background
                self._writer.history.check_classes(self.name, max(epoch, self._kept_through + 1), classes)
        self._classes, scores, ids = classes, None, None
        if self.examples is not None:
            scores, ids = self.examples.scores_of_epoch(self.model, self.batch_size)
        if self._writer is None or epoch <= self._kept_through:  # not the writer, or a step an interrupted fit
            return  # logged (kept): every process still predicts, as predict may be collective
        continued_run.compare_first_pass(self._writer, self.name, epoch, cm, classes.names, self._messages)
        write = functools.partial(write_step, self, self._writer, self._fit, epoch, cm, curves, self._classes, scores, ids)
        if self.background:
            self._pending.append(background.submit(write, f"{self.run_dir}, tag {self.name!r}, epoch {epoch}",
                                                   after=self._pending, series=(self.run_dir, self.name), chain=self._chain))
        else:
            write()

    def on_train_end(self, logs: dict | None = None) -> None:
        # Every step on disk before fit returns; the shared writer stays open (flushed at every write).
        pending, self._pending = self._pending, []
        no_epoch = (self.params or {}).get("epochs") if self._train_began else None  # no on_epoch_begin since
        self._messages.fit_ended(self.freq, no_epoch_of=no_epoch)
        try:
            background.wait(pending, chain=self._chain)  # and a step of it handed over, never recorded
        finally:
            self._leave_fit()

    def _leave_fit(self) -> None:
        self._skip_training_curves(False)
        self._writer, self._logs_this_epoch, self._training = None, False, False
        fit_claims.release(self._fit, self)
        self._fit = None
