"""Shared test helpers: generated logdirs and a real ``tensorboard`` process.

* :func:`make_logdir` writes seeded, imbalanced confusion matrices through
  :mod:`tb_imbalance.summary` and returns what it wrote, so tests can compare
  the dashboard's numbers against scikit-learn and :mod:`tb_imbalance.core`.
* :func:`write_newer_format_run` writes a run a future version would write.
* :func:`labels_from_matrix` turns a matrix back into ``(y_true, y_pred)``
  for scikit-learn.
* :func:`count_calls` counts the calls of functions of the package, through
  every module that imported them.
* :func:`tensorboard_server` starts ``python -m tensorboard.main`` on
  127.0.0.1 and yields its base URL once the Imbalance plugin serves data.
* :func:`get_json` / :func:`wait_for_json` fetch JSON over HTTP.
* The plugin tests' logdir with good and bad runs: the :func:`logdir` and
  :func:`client` fixtures (import them into a test module to use them),
  :func:`plugin_provider` / :func:`client_and_plugin` to read any logdir
  through TensorBoard's WSGI app, :func:`route_json` / :func:`route_error`
  for a route's answer, :class:`FailingProvider`, and the scikit-learn
  references :func:`sklearn_metrics` / :func:`sklearn_per_class`.

Example:
    >>> matrices = make_logdir(tmp_path, num_steps=5)
    >>> with tensorboard_server(tmp_path, load_fast=False) as url:
    ...     get_json(f"{url}/data/plugin/imbalance/runs")
    {'baseline': ['confusion_matrix'], 'class_weights': ['confusion_matrix']}
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import pytest

__all__ = [
    "PLUGIN_ROUTE",
    "HOSTILE_CLASS_NAME",
    "EDGE_CASES",
    "make_logdir",
    "write_newer_format_run",
    "labels_from_matrix",
    "plugin_client",
    "tensorboard_server",
    "free_port",
    "get_json",
    "http_get",
    "wait_for_json",
    "TAG",
    "NUM_STEPS",
    "CLASS_NAMES",
    "WEIGHTED_LABELS",
    "WEIGHTED_PREDICTIONS",
    "WEIGHTED_WEIGHTS",
    "GeneratedLogdir",
    "logdir",
    "client",
    "loader_tensor_size_guidance",
    "plugin_provider",
    "client_and_plugin",
    "route_json",
    "route_error",
    "FailingProvider",
    "sklearn_metrics",
    "sklearn_per_class",
]

#: Prefix of every route of the Imbalance plugin.
PLUGIN_ROUTE = "/data/plugin/imbalance"

#: A class name that would run script if a page inserted it as HTML.
HOSTILE_CLASS_NAME = "<img src=x onerror=alert(1)>"

#: The reference tests' named edge cases, 3 classes: name -> (labels, argmax predictions).
EDGE_CASES = {
    "all correct": ([0, 1, 2, 2, 1, 0], [0, 1, 2, 2, 1, 0]),
    "class 2 has no support": ([0, 0, 1, 1, 0], [0, 2, 1, 1, 1]),
    "class 2 never predicted": ([0, 1, 2, 2, 1], [0, 1, 1, 0, 1]),
    "class 2 absent": ([0, 1, 0, 1, 1], [0, 1, 1, 1, 0]),
    "a single class, right": ([1, 1, 1], [1, 1, 1]),
    "a single class, wrong": ([1, 1, 1], [0, 0, 0]),
    "a single row": ([2], [0]),
    "all wrong": ([0, 1, 2, 0], [1, 2, 0, 2]),
}

_ROWS_PER_STEP = 400


def _class_priors(num_classes: int) -> np.ndarray:
    """Geometric class frequencies: class 0 is the majority, the last the rarest."""
    weights = 0.55 ** np.arange(num_classes)
    return weights / weights.sum()


def _recall_profile(run_index: int, num_classes: int, progress: float) -> np.ndarray:
    """Per-class probability of a correct prediction for one run at one step.

    Run 0 favours the majority (minority recall collapses); every further
    run is more balanced, so runs differ visibly in minority recall.
    """
    rank = np.arange(num_classes) / max(1, num_classes - 1)
    balance = min(1.0, 0.45 * run_index)
    majority_recall = 0.97 - 0.05 * balance
    minority_recall = 0.15 + 0.6 * balance
    recall = majority_recall + (minority_recall - majority_recall) * rank
    return np.clip(recall * (0.55 + 0.45 * progress), 0.0, 1.0)


def _labels_and_predictions(
    rng: np.random.Generator, run_index: int, num_classes: int, progress: float
) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.choice(num_classes, size=_ROWS_PER_STEP, p=_class_priors(num_classes))
    correct = rng.random(_ROWS_PER_STEP) < _recall_profile(run_index, num_classes, progress)[labels]
    wrong = (labels + rng.integers(1, num_classes, size=_ROWS_PER_STEP)) % num_classes
    return labels, np.where(correct, labels, wrong)


def plugin_client(logdir: str | os.PathLike) -> Any:
    """A ``werkzeug`` test client of the Imbalance plugin over ``logdir`` (Python loader, every step kept)."""
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test

    from tb_imbalance.plugin import ImbalancePlugin

    multiplexer = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"imbalance": 0})
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, str(logdir))
    plugin = ImbalancePlugin(base_plugin.TBContext(data_provider=provider))
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin]))


def make_logdir(
    root: str | os.PathLike,
    *,
    runs: Sequence[str] = ("baseline", "class_weights"),
    num_steps: int = 30,
    num_classes: int = 4,
    class_names: Sequence[str] | None = None,
    tag: str = "confusion_matrix",
    seed: int = 0,
    full_report: bool = False,
) -> dict[str, dict[int, np.ndarray]]:
    """Write one confusion matrix per step for each run, under ``root/<run>``.

    Labels follow geometric class priors (class 0 is the majority); each run
    has its own recall profile (the first run neglects minority classes, the
    next ones are more balanced) and recall improves over the steps.

    Args:
        root: the logdir.
        runs: run names (sub-folders of ``root``).
        num_steps: steps ``0 .. num_steps - 1`` per run.
        num_classes: ``C``.
        class_names: C names (may hold HTML such as :data:`HOSTILE_CLASS_NAME`);
            ``"0" .. "C-1"`` when None.
        tag: the summary tag.
        seed: seeds the random labels and predictions.
        full_report: write with :func:`tb_imbalance.summary.classification_report`
            (matrix, scalars and picture) instead of
            :func:`tb_imbalance.summary.confusion_matrix`.

    Returns:
        ``{run: {step: cm}}``, the int64 matrices written.

    Example:
        >>> written = make_logdir(tmp_path, runs=("a",), num_steps=2)
        >>> written["a"][1].shape
        (4, 4)
    """
    import tensorflow as tf

    from tb_imbalance import core
    from tb_imbalance import summary as tbs

    write = tbs.classification_report if full_report else tbs.confusion_matrix
    rng = np.random.default_rng(seed)
    written: dict[str, dict[int, np.ndarray]] = {}
    for run_index, run in enumerate(runs):
        writer = tf.summary.create_file_writer(str(pathlib.Path(root) / run))
        written[run] = {}
        with writer.as_default():
            for step in range(num_steps):
                progress = step / max(1, num_steps - 1)
                labels, predictions = _labels_and_predictions(rng, run_index, num_classes, progress)
                write(
                    tag,
                    labels,
                    predictions,
                    step=step,
                    num_classes=num_classes,
                    class_names=class_names,
                )
                written[run][step] = core.confusion_matrix(
                    labels, predictions, num_classes=num_classes
                )
        writer.close()
    return written


def write_newer_format_run(
    root: str | os.PathLike, run: str = "future", *, tag: str = "confusion_matrix"
) -> None:
    """Write ``root/<run>`` as a tb_imbalance newer than this one would.

    The plugin content claims ``FORMAT_VERSION + 1``; readers must refuse it
    with an upgrade message.
    """
    import tensorflow as tf

    from tb_imbalance import format as fmt

    metadata = fmt.create_summary_metadata(["a", "b"])
    content = json.loads(metadata.plugin_data.content)
    content["version"] = fmt.FORMAT_VERSION + 1
    metadata.plugin_data.content = json.dumps(content).encode("utf-8")
    writer = tf.summary.create_file_writer(str(pathlib.Path(root) / run))
    with writer.as_default():
        for step in range(2):
            tf.summary.write(tag=tag, tensor=tf.eye(2, dtype=tf.int64), step=step, metadata=metadata)
    writer.close()


def labels_from_matrix(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand an integer confusion matrix into ``(y_true, y_pred)`` class ids.

    Example:
        >>> labels_from_matrix(np.array([[1, 0], [2, 1]]))
        (array([0, 1, 1, 1]), array([0, 0, 0, 1]))
    """
    cm = np.asarray(cm)
    num_classes = cm.shape[0]
    cells = np.repeat(np.arange(num_classes * num_classes), cm.reshape(-1))
    return cells // num_classes, cells % num_classes


def count_calls(monkeypatch: Any, *functions: Callable) -> "collections.Counter[str]":
    """Count the calls of ``functions`` (by name) made through any ``tb_imbalance`` module that holds them.

    A module that imported a function by name (``from ... import validate_matrix``) holds its own binding:
    each one is replaced, so that no call goes uncounted.
    """
    calls: collections.Counter[str] = collections.Counter()
    for function in functions:
        def counted(*args: Any, _original: Callable = function, **kwargs: Any) -> Any:
            calls[_original.__name__] += 1
            return _original(*args, **kwargs)

        for name, module in list(sys.modules.items()):
            if name.split(".")[0] == "tb_imbalance" and vars(module).get(function.__name__) is function:
                monkeypatch.setattr(module, function.__name__, counted)
    return calls


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str, *, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``; return ``(status, headers, body)`` for every status, 4xx/5xx too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def get_json(url: str, *, timeout: float = 30.0) -> Any:
    """GET ``url`` and decode its JSON body.

    Raises:
        AssertionError: the status is not 200 (the body is in the message).
    """
    status, _, body = http_get(url, timeout=timeout)
    if status != 200:
        raise AssertionError(f"GET {url} answered {status}: {body[:500]!r}")
    return json.loads(body)


def wait_for_json(
    url: str,
    predicate: Callable[[Any], bool],
    *,
    timeout: float = 60.0,
    interval: float = 0.5,
) -> Any:
    """Poll ``url`` until its JSON satisfies ``predicate``; return that JSON.

    Raises:
        AssertionError: ``timeout`` seconds passed; the message shows the last
            answer.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        status, _, body = http_get(url, timeout=timeout)
        if status == 200:
            last = json.loads(body)
            if predicate(last):
                return last
        else:
            last = (status, body[:300])
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not reach the expected state in {timeout}s: {last!r}"[:2000])
        time.sleep(interval)


def _stderr_tail(path: pathlib.Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError as error:
        return f"(stderr unreadable: {error})"


@contextlib.contextmanager
def tensorboard_server(
    logdir: str | os.PathLike,
    *,
    load_fast: bool,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 120.0,
    path_prefix: str = "",
    wait_for_runs: bool = True,
) -> Iterator[str]:
    """Run the real ``tensorboard`` on 127.0.0.1 until the block exits.

    Waits (at most ``startup_timeout`` seconds) until
    ``/data/plugin/imbalance/runs`` answers with at least one run (with
    ``wait_for_runs=False``: answers at all, for a log directory without runs).

    Args:
        logdir: passed as ``--logdir``.
        load_fast: ``--load_fast=true`` (Rust data server) or ``false``
            (Python multiplexer).
        extra_args: more command-line flags, e.g.
            ``("--samples_per_plugin", "imbalance=5")``.
        startup_timeout: seconds to wait for data.
        path_prefix: passed as ``--path_prefix`` when given (e.g. ``"/tb"``);
            the yielded URL then ends with it.
        wait_for_runs: wait until the runs route lists a run (``False``: until it answers).

    Yields:
        The base URL, e.g. ``"http://127.0.0.1:40123"`` (``".../tb"`` with
        ``path_prefix="/tb"``).

    Raises:
        RuntimeError: the server exited or never served data; the message
            includes its stderr.

    Example:
        >>> with tensorboard_server(logdir, load_fast=True) as url:
        ...     get_json(url + "/data/plugin/imbalance/runs")
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(logdir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        f"--load_fast={'true' if load_fast else 'false'}",
        "--reload_interval",
        "1",
        *(("--path_prefix", path_prefix) if path_prefix else ()),
        *extra_args,
    ]
    base_url = f"http://127.0.0.1:{port}{path_prefix.rstrip('/')}"
    with tempfile.TemporaryDirectory(prefix="tb_imbalance_server_") as scratch:
        stderr_path = pathlib.Path(scratch) / "stderr.txt"
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
        try:
            _wait_until_serving(process, f"{base_url}{PLUGIN_ROUTE}/runs", startup_timeout, stderr_path, wait_for_runs)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_until_serving(
    process: subprocess.Popen, runs_url: str, timeout: float, stderr_path: pathlib.Path, wait_for_runs: bool = True
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"tensorboard exited with status {process.returncode} before serving "
                f"data.\nstderr:\n{_stderr_tail(stderr_path)}"
            )
        try:
            with urllib.request.urlopen(runs_url, timeout=5) as response:
                body = response.read()
                if response.status == 200 and (json.loads(body) or not wait_for_runs):
                    return
                last = f"{response.status}: {body[:200]!r}"
        except (OSError, ValueError) as error:
            last = repr(error)
        time.sleep(0.3)
    raise RuntimeError(
        f"tensorboard did not serve {runs_url} with data within {timeout:.0f}s "
        f"(last answer: {last}).\nstderr:\n{_stderr_tail(stderr_path)}"
    )


# --------------------------------------------------------------------------
# The plugin's logdir with good and bad runs, read through TensorBoard's WSGI
# app (no server process): the fixtures and helpers of test_plugin_routes.py,
# test_payloads.py, test_series.py, test_reader.py, test_cache.py,
# test_static_files.py and test_plugin_loader.py. Data is written with
# :mod:`tb_imbalance.summary` and loaded by an ``EventMultiplexer`` +
# ``MultiplexerDataProvider``, as ``--load_fast=false`` does.
# --------------------------------------------------------------------------

#: The matrix tag of every run of the :func:`logdir` fixture.
TAG = "confusion_matrix"
#: Steps of ``baseline`` and ``class_weights``: ``0 .. NUM_STEPS - 1``.
NUM_STEPS = 30
#: The class names of ``baseline`` and ``class_weights``.
CLASS_NAMES = ["majority", "common", "rare", HOSTILE_CLASS_NAME]

#: ``weighted``: the rows of its one matrix (step 4), with their sample weights.
WEIGHTED_LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
WEIGHTED_PREDICTIONS = np.array([0, 1, 0, 1, 0, 2, 2, 1, 0])
WEIGHTED_WEIGHTS = np.array([0.5, 2.0, 1.25, 3.0, 0.75, 1.0, 1.5, 0.25, 4.0])


def _write_raw(logdir: pathlib.Path, run: str, tensors: list[np.ndarray], metadata) -> None:
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(logdir / run))
    with writer.as_default():
        for step, tensor in enumerate(tensors):
            tf.summary.write(tag=TAG, tensor=tf.constant(tensor), step=step, metadata=metadata)
    writer.close()


@dataclasses.dataclass(frozen=True)
class GeneratedLogdir:
    """What the :func:`logdir` fixture wrote: its path and ``{run: {step: cm}}``."""

    path: pathlib.Path
    written: dict[str, dict[int, np.ndarray]]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> GeneratedLogdir:
    """Fixture: ``baseline`` and ``class_weights`` (:data:`CLASS_NAMES`, :data:`NUM_STEPS` steps),
    ``full`` (a full report, 3 steps), ``future`` (a newer format), ``bad_shape``
    (a 4 × 4 tensor for 3 classes), ``weighted`` (sums of sample weights) and
    ``not_ours`` (a plain scalar)."""
    import tensorflow as tf

    from tb_imbalance import format as fmt
    from tb_imbalance import summary as tbs

    root = tmp_path_factory.mktemp("logdir")
    written = make_logdir(root, num_steps=NUM_STEPS, class_names=CLASS_NAMES)
    written.update(make_logdir(root, runs=("full",), num_steps=3, full_report=True, seed=3))
    write_newer_format_run(root, "future", tag=TAG)
    _write_raw(
        root, "bad_shape", [np.ones((4, 4), dtype=np.int64)], fmt.create_summary_metadata(["a", "b", "c"])
    )
    writer = tf.summary.create_file_writer(str(root / "weighted"))
    with writer.as_default():
        tbs.confusion_matrix(
            TAG, WEIGHTED_LABELS, WEIGHTED_PREDICTIONS, step=4, num_classes=3,
            sample_weight=WEIGHTED_WEIGHTS,
        )
    writer.close()
    (root / "not_ours").mkdir()
    writer = tf.summary.create_file_writer(str(root / "not_ours"))
    with writer.as_default():
        tf.summary.scalar("loss", 1.0, step=0)
    writer.close()
    return GeneratedLogdir(root, written)


def loader_tensor_size_guidance(samples_per_plugin: Any = None) -> dict[str, int]:
    """TensorBoard's tensor size guidance once the plugin's loader fixed ``--samples_per_plugin``."""
    from tensorboard.backend.event_processing import data_ingester

    from tb_imbalance.plugin import ImbalancePluginLoader

    flags = argparse.Namespace(samples_per_plugin=samples_per_plugin)
    ImbalancePluginLoader().fix_flags(flags)
    guidance = dict(data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE)
    guidance.update(flags.samples_per_plugin)
    return guidance


def plugin_provider(logdir: pathlib.Path, tensor_size_guidance: dict[str, int] | None = None):
    """``(data provider, multiplexer)`` over ``logdir``, as ``--load_fast=false`` reads it."""
    from tensorboard.backend.event_processing import data_ingester
    from tensorboard.backend.event_processing import data_provider as tb_data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    multiplexer = plugin_event_multiplexer.EventMultiplexer(
        size_guidance=data_ingester.DEFAULT_SIZE_GUIDANCE,
        tensor_size_guidance=(
            loader_tensor_size_guidance() if tensor_size_guidance is None else tensor_size_guidance
        ),
    )
    multiplexer.AddRunsFromDirectory(str(logdir))
    multiplexer.Reload()
    return tb_data_provider.MultiplexerDataProvider(multiplexer, str(logdir)), multiplexer


def client_and_plugin(data_provider, **plugin_options) -> tuple[Any, Any]:
    """A ``werkzeug`` test client of TensorBoard's WSGI app with only the plugin, and the plugin."""
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test

    from tb_imbalance.plugin import ImbalancePlugin

    context = base_plugin.TBContext(data_provider=data_provider, logdir="", multiplexer=None)
    plugin = ImbalancePlugin(context, **plugin_options)
    return werkzeug_test.Client(application.TensorBoardWSGI([plugin])), plugin


@pytest.fixture(scope="module")
def client(logdir) -> Any:
    """Fixture: a test client of the plugin over the :func:`logdir` fixture's runs."""
    data_provider, _ = plugin_provider(logdir.path)
    return client_and_plugin(data_provider)[0]


def route_json(client: Any, route: str, **params) -> Any:
    """The JSON a route answers with status 200."""
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.get_data())


def route_error(client: Any, route: str, status: int, **params) -> str:
    """The message of the JSON error a route answers with ``status``."""
    response = client.get(f"{PLUGIN_ROUTE}/{route}", query_string=params)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.get_data())
    assert set(body) == {"error"} and body["error"]
    return body["error"]


class FailingProvider:
    """Delegates to a real provider, failing reads of some runs or large reads."""

    def __init__(self, provider, *, broken_runs=(), max_points=None):
        self._provider = provider
        self._broken_runs = set(broken_runs)
        self._max_points = max_points
        self.reads: list[int] = []
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._provider, name)

    def read_tensors(self, ctx=None, *, run_tag_filter=None, downsample=None, **kwargs):
        with self._lock:
            self.reads.append(downsample)
        if run_tag_filter is not None and self._broken_runs & set(run_tag_filter.runs or ()):
            raise OSError("disk on fire")
        if self._max_points is not None and downsample > self._max_points:
            raise RuntimeError("Received message larger than max")
        return self._provider.read_tensors(
            ctx, run_tag_filter=run_tag_filter, downsample=downsample, **kwargs
        )


def sklearn_metrics(cm: np.ndarray) -> dict[str, float]:
    """The plugin's headline metrics of ``cm``, by scikit-learn and imbalanced-learn."""
    from imblearn.metrics import geometric_mean_score
    from sklearn import metrics as skm

    y_true, y_pred = labels_from_matrix(cm)
    labels = list(range(cm.shape[0]))
    recall = skm.recall_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "macro_f1": skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
        "cohen_kappa": skm.cohen_kappa_score(y_true, y_pred),
        "geometric_mean": geometric_mean_score(y_true, y_pred, average="multiclass"),
        "worst_class_recall": recall[np.bincount(y_true, minlength=len(labels)) > 0].min(),
    }


def sklearn_per_class(cm: np.ndarray) -> dict[str, list[float]]:
    """The plugin's per-class scores of ``cm``, by scikit-learn and imbalanced-learn."""
    from imblearn.metrics import specificity_score
    from sklearn import metrics as skm

    y_true, y_pred = labels_from_matrix(cm)
    labels = list(range(cm.shape[0]))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "support": support.tolist(),
        "predicted": np.bincount(y_pred, minlength=len(labels)).tolist(),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "specificity": specificity_score(y_true, y_pred, labels=labels, average=None).tolist(),
    }
