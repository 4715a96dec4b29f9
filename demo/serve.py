"""Start TensorBoard on the demo's logdir and keep it serving until Ctrl-C.

TensorBoard runs as a child process (``python -m tensorboard.main`` of the
same interpreter, so it finds the Imbalance plugin installed next to it),
bound to 127.0.0.1. Its own console output goes to a temporary log file that
is shown if it fails to start.

Example:
    >>> with TensorBoardProcess("runs", port=6006) as server:  # doctest: +SKIP
    ...     print(server.dashboard_url)
    http://127.0.0.1:6006/#imbalance
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType

__all__ = [
    "HOST",
    "PLUGIN_NAME",
    "TensorBoardError",
    "TensorBoardProcess",
    "choose_port",
    "port_is_free",
    "serve_until_interrupted",
]

HOST = "127.0.0.1"
#: Name of our TensorBoard tab; ``#imbalance`` in the URL opens it.
PLUGIN_NAME = "imbalance"


class TensorBoardError(RuntimeError):
    """TensorBoard exited or did not answer in time."""


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a TCP server could bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def choose_port(preferred: int, host: str = HOST) -> int:
    """``preferred`` when it is free, otherwise a free port the OS picks."""
    if preferred and port_is_free(preferred, host):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class TensorBoardProcess:
    """A ``tensorboard`` child process serving ``logdir`` on 127.0.0.1.

    Use it as a context manager: entering starts TensorBoard and waits until
    it answers HTTP requests; leaving stops it (SIGTERM, which TensorBoard
    handles by exiting cleanly; SIGKILL if it is still there after a grace
    period).

    Args:
        logdir: directory of runs to serve.
        port: TCP port (must be free; see :func:`choose_port`).
        startup_timeout: seconds to wait for the first answer.

    Raises:
        TensorBoardError: on entering, when TensorBoard exits or does not
            answer within ``startup_timeout``.
    """

    def __init__(self, logdir: str | os.PathLike, *, port: int, startup_timeout: float = 60.0) -> None:
        self.logdir = os.fspath(logdir)
        self.port = port
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def dashboard_url(self) -> str:
        """URL that opens the Imbalance tab."""
        return f"{self.base_url}/#{PLUGIN_NAME}"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            self.logdir,
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]

    def log_tail(self, limit: int = 3000) -> str:
        """The end of TensorBoard's own console output."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-limit:]

    def start(self) -> None:
        """Start TensorBoard and wait until it answers."""
        self._log = tempfile.TemporaryFile()
        # Same process group as the demo: a Ctrl-C or a closed terminal reaches
        # TensorBoard too, and stop() makes sure it is gone either way.
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/data/plugins_listing"
        while True:
            if self.process.poll() is not None:
                raise TensorBoardError(
                    f"TensorBoard exited with code {self.process.returncode} before serving "
                    f"{self.base_url}; its output:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                output = self.log_tail()
                self.stop()
                raise TensorBoardError(
                    f"TensorBoard did not answer on {self.base_url} within "
                    f"{self.startup_timeout:.0f} s; its output:\n{output}"
                )
            time.sleep(0.25)

    def stop(self, grace: float = 10.0) -> int | None:
        """Stop TensorBoard; returns its exit code (None when never started)."""
        if self.process is None:
            return None
        for send in (self.process.terminate, self.process.kill):
            if self.process.poll() is not None:
                break
            send()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        code = self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> "TensorBoardProcess":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve_until_interrupted(logdir: str | os.PathLike, *, port: int = 6006) -> int:
    """Serve ``logdir`` with TensorBoard, print the tab's URL, wait for Ctrl-C.

    SIGINT stops serving even where the demo was started with SIGINT ignored
    (a background job of a script); SIGTERM and SIGHUP are treated like
    Ctrl-C. TensorBoard is stopped before returning.

    Args:
        logdir: directory of runs.
        port: preferred port; a free one is chosen when it is taken.

    Returns:
        0 after a clean stop.

    Raises:
        TensorBoardError: TensorBoard could not be started, or stopped on its own.
    """
    chosen = choose_port(port)
    if port and chosen != port:  # port 0 asks for any free port
        print(f"Port {port} is in use; using port {chosen} instead.", flush=True)
    print(f"Starting TensorBoard on {logdir} ...", flush=True)
    previous_handlers = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler)}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous_handlers[signum] = signal.signal(signum, _raise_keyboard_interrupt)
    server = TensorBoardProcess(logdir, port=chosen)
    try:
        server.start()
        print(f"\nImbalance dashboard: {server.dashboard_url}", flush=True)
        print("(TensorBoard keeps serving; press Ctrl-C to stop it.)", flush=True)
        assert server.process is not None
        while server.process.poll() is None:
            time.sleep(0.5)
        raise TensorBoardError(
            f"TensorBoard stopped on its own (exit code {server.process.returncode}); "
            f"its output:\n{server.log_tail()}"
        )
    except KeyboardInterrupt:
        print("\nStopping TensorBoard ...", flush=True)
        server.stop()
        print("Stopped.", flush=True)
        return 0
    finally:
        server.stop()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
