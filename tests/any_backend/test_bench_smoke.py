"""The benchmarks that reach into the callback's hooks still run, on each backend (``--quick``: no figure asserted).

``callback_overhead.py`` times the callback's hooks and its background writer's steps through the
callback's own methods and module; ``epoch_end.py`` times ``on_epoch_end`` and the writer. A change
of those internals would otherwise break the benchmarks unnoticed until someone measures again.
"""

import pathlib
import sys

import keras
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
import smoke  # noqa: E402


@pytest.mark.parametrize("script", ["callback_overhead.py", "epoch_end.py"])
def test_benchmark_runs_quick_and_prints_its_table(script):
    output = smoke.run_quick(script, backend=keras.backend.backend())
    if script == "callback_overhead.py":  # the writer's steps were timed: the direct count has its figures
        line = next(line for line in output.splitlines() if "(c) by direct count" in line)
        assert "ms a writer step" in line, line
