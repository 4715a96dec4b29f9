"""Smoke runs of the benchmarks: does each script still run, in this environment, with ``--quick``?

No timing is asserted (the figures of a ``--quick`` run mean nothing); a run
passes when the script exits with 0 and prints its result table. For a test
module, e.g. in ``tests/any_backend/`` (runs in all three environments)::

    import keras, pathlib, sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
    import smoke

    def test_callback_overhead_runs_quick():
        smoke.run_quick("callback_overhead.py", backend=keras.backend.backend())

    def test_many_classes_runs_quick():
        smoke.run_quick("many_classes.py", backend=keras.backend.backend())

Each takes 10-60 s on a 2-core machine. From the command line, for the
environments of this checkout (``.venv``, ``.venv-jax``, ``.venv-torch`` when
present, or the interpreters given)::

    python bench/smoke.py                                   # the three .venv* of the checkout
    python bench/smoke.py --python jax=/tmp/vjax/bin/python --python torch=/tmp/vtorch/bin/python

Example:
    >>> sorted(MARKERS)
    ['callback_overhead.py', 'curve_metric_cost.py', 'curves_cost.py', 'epoch_end.py', 'examples_cost.py', 'log_report_examples.py', 'many_classes.py', 'metric_at_scale.py', 'plugin_at_scale.py', 'tf_xla_call.py', 'torch_kernels.py', 'writer_gil.py', 'writers_at_scale.py']
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys

__all__ = ["MARKERS", "BACKENDS", "run_quick", "main"]

BENCH = pathlib.Path(__file__).resolve().parent
REPO = BENCH.parent

#: Lines each script prints in its final table, for every backend.
MARKERS = {
    "callback_overhead.py": ("(a) metric + callback / plain", "(b) 2nd SparseCatAccuracy / plain",
                             "(c) callback alone: tb / metric", "(c) by direct count", "(d) per batch",
                             "(f) bare confusion matrix / plain"),
    "many_classes.py": ("part 1, fit:", "part 2, writers", "log_report target"),
    "examples_cost.py": ("beyond the predict pass", "epochs 2.."),
    "epoch_end.py": ("on the training thread, background writer", "picture draw"),
    "log_report_examples.py": ("with examples / report only", "argmax over the [N, C] scores"),
    "curves_cost.py": ("with curves / curves=False", "curves per step", "curves route"),
    "curve_metric_cost.py": ("matrix + curves", "keras AUC(PR, 75)"),
    "writers_at_scale.py": ("writers at scale", "peak above inputs"),
    "plugin_at_scale.py": ("plugin at scale", "--load_fast=false"),
    "metric_at_scale.py": ("metric at scale", "ours / SparseCategoricalAccuracy"),
    "torch_kernels.py": ("torch calls", "fit with the callback"),
    "writer_gil.py": ("beside a thread running Python", "one block and wake"),
    "tf_xla_call.py": ("one XLA call", "SparseCategoricalAccuracy"),
}

#: Scripts that run on some backends only (the others run on every backend).
BACKENDS = {"torch_kernels.py": ("torch",), "tf_xla_call.py": ("tensorflow",)}


def run_quick(script: str, *, backend: str, python: str | None = None, timeout: float = 900.0) -> str:
    """Run ``bench/<script> --quick`` on the Keras ``backend`` and return its output.

    Args:
        script: a key of :data:`MARKERS` (``"callback_overhead.py"``, ``"many_classes.py"``, …).
        backend: ``"tensorflow"``, ``"jax"`` or ``"torch"``.
        python: interpreter of the environment (default: this one).
        timeout: seconds before the run counts as failed.

    Returns:
        stdout and stderr of the run, together.

    Raises:
        AssertionError: non-zero exit, timeout, or a missing table line
            (the message holds the end of the output).
    """
    if script not in MARKERS:
        raise ValueError(f"`script` must be one of {sorted(MARKERS)}, received {script!r}")
    command = [python or sys.executable, str(BENCH / script), "--quick", "--backend", backend]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        completed = subprocess.run(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"{' '.join(command)} ran past {timeout:.0f} s") from error
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited with {completed.returncode}:\n{output[-4000:]}")
    missing = [marker for marker in MARKERS[script] if marker not in completed.stdout]
    if missing:
        raise AssertionError(f"{' '.join(command)} printed no {missing}:\n{output[-4000:]}")
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", action="append", default=[], metavar="BACKEND=PATH",
                        help="interpreter of one backend's environment (repeatable)")
    args = parser.parse_args(argv)
    interpreters = dict(item.split("=", 1) for item in args.python)
    if not interpreters:
        for backend, venv in (("tensorflow", ".venv"), ("jax", ".venv-jax"), ("torch", ".venv-torch")):
            if (REPO / venv / "bin" / "python").exists():
                interpreters[backend] = str(REPO / venv / "bin" / "python")
    failures = 0
    for backend, python in interpreters.items():
        for script in MARKERS:
            if backend not in BACKENDS.get(script, (backend,)):
                continue
            try:
                run_quick(script, backend=backend, python=python)
                print(f"ok    {backend:10s} {script}", flush=True)
            except AssertionError as error:
                failures += 1
                print(f"FAIL  {backend:10s} {script}\n{error}", flush=True)
    return 1 if failures or not interpreters else 0


if __name__ == "__main__":
    sys.exit(main())
