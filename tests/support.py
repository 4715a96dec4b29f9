"""Shared test helpers: generated logdirs and a real ``tensorboard`` process.

* :func:`make_logdir` writes seeded, imbalanced confusion matrices through
  :mod:`tb_imbalance.summary` and returns what it wrote, so tests can compare
  the dashboard's numbers against scikit-learn and :mod:`tb_imbalance.core`.
* :func:`write_newer_format_run` writes a run a future version would write.
* :func:`labels_from_matrix` turns a matrix back into ``(y_true, y_pred)``
  for scikit-learn.
* :func:`tensorboard_server` starts ``python -m tensorboard.main`` on
  127.0.0.1 and yields its base URL once the Imbalance plugin serves data.
* :func:`get_json` / :func:`wait_for_json` fetch JSON over HTTP.

Example:
    >>> matrices = make_logdir(tmp_path, num_steps=5)
    >>> with tensorboard_server(tmp_path, load_fast=False) as url:
    ...     get_json(f"{url}/data/plugin/imbalance/runs")
    {'baseline': ['confusion_matrix'], 'class_weights': ['confusion_matrix']}
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator, Sequence

import numpy as np

__all__ = [
    "PLUGIN_ROUTE",
    "HOSTILE_CLASS_NAME",
    "make_logdir",
    "write_newer_format_run",
    "labels_from_matrix",
    "plugin_client",
    "tensorboard_server",
    "free_port",
    "get_json",
    "http_get",
    "wait_for_json",
]

#: Prefix of every route of the Imbalance plugin.
PLUGIN_ROUTE = "/data/plugin/imbalance"

#: A class name that would run script if a page inserted it as HTML.
HOSTILE_CLASS_NAME = "<img src=x onerror=alert(1)>"

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
) -> Iterator[str]:
    """Run the real ``tensorboard`` on 127.0.0.1 until the block exits.

    Waits (at most ``startup_timeout`` seconds) until
    ``/data/plugin/imbalance/runs`` answers with at least one run.

    Args:
        logdir: passed as ``--logdir``.
        load_fast: ``--load_fast=true`` (Rust data server) or ``false``
            (Python multiplexer).
        extra_args: more command-line flags, e.g.
            ``("--samples_per_plugin", "imbalance=5")``.
        startup_timeout: seconds to wait for data.

    Yields:
        The base URL, e.g. ``"http://127.0.0.1:40123"``.

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
        *extra_args,
    ]
    base_url = f"http://127.0.0.1:{port}"
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
            _wait_until_serving(process, f"{base_url}{PLUGIN_ROUTE}/runs", startup_timeout, stderr_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _wait_until_serving(
    process: subprocess.Popen, runs_url: str, timeout: float, stderr_path: pathlib.Path
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
                if response.status == 200 and json.loads(body):
                    return
                last = f"{response.status}: {body[:200]!r}"
        except (OSError, ValueError) as error:
            last = repr(error)
        time.sleep(0.3)
    raise RuntimeError(
        f"tensorboard did not serve {runs_url} with data within {timeout:.0f}s "
        f"(last answer: {last}).\nstderr:\n{_stderr_tail(stderr_path)}"
    )
