"""``python -m demo``: train the demo runs, print what they show, serve them.

Usage::

    python -m demo                          # train into runs/, then serve on port 6006
    python -m demo --logdir /tmp/runs --no-serve
    python -m demo --quick --no-serve       # 15 epochs instead of 30 (tests, a quick look)
    python -m demo --skip-training          # serve runs trained earlier

Runs written (each with ``train`` and ``validation`` from
``keras.callbacks.TensorBoard`` and ``validation_imbalance`` from
:class:`tb_imbalance.keras.ClassificationReportCallback`)::

    <logdir>/digits/baseline        <logdir>/breast_cancer/baseline
    <logdir>/digits/class_weights   <logdir>/breast_cancer/class_weights
    <logdir>/digits/oversampling    <logdir>/breast_cancer/oversampling

Training again replaces these six run directories (nothing else in the logdir
is touched).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:
    from demo.train import RunResult

DEFAULT_EPOCHS = 30
QUICK_EPOCHS = 15
DEFAULT_PORT = 6006
MAX_SEED = 2**32 - 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description=(
            "Train a small Keras model on two imbalanced data sets (long-tail handwritten "
            "digits, breast cancer with rare malignant tumours) three ways (baseline, "
            "class weights, random oversampling), log every epoch's validation confusion "
            "matrix with tb_imbalance, print a summary, and serve the runs in TensorBoard's "
            "Imbalance tab."
        ),
    )
    parser.add_argument(
        "--logdir", default="runs", help="directory the runs are written to and served from, ~ expanded (default: %(default)s)"
    )
    epochs = parser.add_mutually_exclusive_group()
    epochs.add_argument(
        "--epochs", type=int, default=DEFAULT_EPOCHS, help="epochs per run (default: %(default)s)"
    )
    epochs.add_argument(
        "--quick", action="store_true", help=f"train {QUICK_EPOCHS} epochs per run instead (a fast check)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the data subsampling, split and training, 0..2**32 - 1 (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TensorBoard port on 127.0.0.1; a free one is picked if it is taken (default: %(default)s)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-serve", action="store_true", help="train, print the summary and exit without starting TensorBoard")
    mode.add_argument("--skip-training", action="store_true", help="do not train: serve the runs already in --logdir")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = QUICK_EPOCHS
    args.logdir = os.path.expanduser(args.logdir)  # `--logdir=~/runs`: no shell expands a '~' after '='
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, received {args.epochs}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be in 0..65535, received {args.port}")
    if not 0 <= args.seed <= MAX_SEED:
        parser.error(f"--seed must be in 0..{MAX_SEED} (numpy's and scikit-learn's seeds), received {args.seed}")
    return args


def has_event_files(logdir: str) -> bool:
    """Whether ``logdir`` holds any TensorBoard event file."""
    return any(
        name.startswith("events.out.tfevents") for _, _, names in os.walk(logdir) for name in names
    )


@contextlib.contextmanager
def native_stderr_held_back() -> Iterator[None]:
    """Hold back what native code writes to stderr (fd 2) inside the block.

    TensorFlow's C++ libraries greet every import with log lines that
    ``TF_CPP_MIN_LOG_LEVEL`` silences only when set before Python starts.
    What was held back is written out after all if the block raises.
    """
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved_fd, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def _by_dataset(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    """Results grouped by data set, in training order."""
    groups: dict[str, list[RunResult]] = {}
    for result in results:
        groups.setdefault(result.dataset, []).append(result)
    return groups


def _number(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals; "n/a" where it is undefined (None)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _per_run(runs: Sequence[RunResult], values: Sequence[float | None], digits: int = 2) -> str:
    """One value per run, e.g. ``baseline 0.12, class_weights 0.34, oversampling 0.56``."""
    return ", ".join(f"{run.strategy} {_number(value, digits)}" for run, value in zip(runs, values))


def format_summary(results: Sequence[RunResult]) -> str:
    """The per-run table printed at the end: one block per data set."""
    header = (
        f"{'run':<28}{'accuracy':>9}{'balanced acc':>14}{'macro F1':>10}{'macro AP':>10}{'ECE':>7}"
        f"{'worst-class recall':>20}{'rarest-class recall':>21}"
    )
    lines: list[str] = []
    for dataset, runs in _by_dataset(results).items():
        first = runs[0]
        rarest = first.class_names[first.rarest_class]
        rarest_support = int(first.confusion_matrix[first.rarest_class].sum())
        lines += [
            "",
            f"{dataset}: {int(first.confusion_matrix.sum())} validation examples; rarest class "
            f"'{rarest}' has {rarest_support} of them",
            header,
        ]
        for result in runs:
            metrics = result.metrics
            recall = result.recall
            support = result.confusion_matrix.sum(axis=1)
            worst = int(np.argmin(np.where(support > 0, recall, np.inf)))
            worst_cell = f"{metrics['worst_class_recall']:.2f} ('{result.class_names[worst]}')"
            curves = result.curve_metrics["metrics"]
            lines.append(
                f"{result.name:<28}{metrics['accuracy']:>9.3f}{metrics['balanced_accuracy']:>14.3f}"
                f"{metrics['macro_f1']:>10.3f}{_number(curves['macro_average_precision'], 3):>10}"
                f"{_number(curves['expected_calibration_error'], 3):>7}"
                f"{worst_cell:>20}{recall[result.rarest_class]:>21.2f}"
            )
    return "\n".join(lines)


def format_story(results: Sequence[RunResult]) -> str:
    """Two sentences per data set: how little accuracy moves, how much the rare classes do;
    how well the scores rank the rarest class whatever the argmax decides, and how
    calibrated each run's confidence is."""
    lines = []
    for dataset, runs in _by_dataset(results).items():
        accuracies = [run.metrics["accuracy"] for run in runs]
        balanced = [run.metrics["balanced_accuracy"] for run in runs]
        rarest_id = runs[0].rarest_class
        rarest = runs[0].class_names[rarest_id]
        curves = [run.curve_metrics for run in runs]
        lines.append(
            f"{dataset}: accuracy differs by {100 * (max(accuracies) - min(accuracies)):.1f} points "
            f"between the runs, balanced accuracy by {100 * (max(balanced) - min(balanced)):.1f}; "
            f"recall of '{rarest}': {_per_run(runs, [float(run.recall[rarest_id]) for run in runs])}. "
            f"Average precision of '{rarest}' (how well the scores rank it, whatever the argmax "
            f"picks): {_per_run(runs, [c['per_class']['average_precision'][rarest_id] for c in curves])}; "
            "expected calibration error: "
            f"{_per_run(runs, [c['metrics']['expected_calibration_error'] for c in curves], 3)}."
        )
    return "\n".join(lines)


class CannotWrite(Exception):
    """The demo cannot write its runs where it was asked to."""


def train_all(logdir: str, *, epochs: int, seed: int) -> list[RunResult]:
    """Train every (data set, strategy) run into ``<logdir>/<data set>/<strategy>``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":  # the demo's environment has TensorFlow only (and Keras' TensorBoard callback needs it)
        print(f"KERAS_BACKEND={backend} is set; the demo trains on TensorFlow, which its environment has.")
    os.environ["KERAS_BACKEND"] = "tensorflow"  # over ~/.keras/keras.json too
    print("Loading TensorFlow ...", flush=True)
    with native_stderr_held_back():
        from demo import data, train

    datasets = data.load_datasets(seed)
    for dataset in datasets:
        print()
        print(dataset.describe())
        print(f"(largest class / smallest class: {dataset.imbalance_ratio:.0f}x)")

    replaced = [
        os.path.join(logdir, dataset.name, strategy)
        for dataset in datasets
        for strategy in train.STRATEGIES
        if os.path.exists(os.path.join(logdir, dataset.name, strategy))
    ]
    if replaced:
        print(f"\nReplacing {len(replaced)} run(s) from an earlier demo in {logdir}")
        for path in replaced:
            try:
                shutil.rmtree(path)
            except OSError as error:
                raise CannotWrite(f"cannot replace the earlier run {path!r} ({error.strerror or error}); pass --logdir DIR") from None
    others = other_runs(logdir, {os.path.join(dataset.name, strategy) for dataset in datasets for strategy in train.STRATEGIES})
    if others:
        print(f"{logdir} also holds {len(others)} other run(s), which TensorBoard shows too (e.g. {others[0]}); "
              "pass --logdir to keep the demo's apart")

    print(f"\nTraining {len(datasets) * len(train.STRATEGIES)} runs, {epochs} epochs each, into {logdir}/")
    results = []
    for dataset in datasets:
        for strategy in train.STRATEGIES:
            results.append(
                train.train_run(
                    dataset, strategy, os.path.join(logdir, dataset.name, strategy), epochs=epochs, seed=seed
                )
            )
    return results


def _quoted(path: str) -> str:
    """``path`` as a shell argument that pastes as printed: POSIX shells, or cmd.exe on Windows."""
    return subprocess.list2cmdline([path]) if os.name == "nt" else shlex.quote(path)


def _program(name: str) -> str:
    """``python`` or ``tensorboard`` of the environment running the demo, as a command that pastes from here
    (``.venv/bin/python``: ``make demo`` activates no environment, and a plain ``python`` may be another)."""
    path = sys.executable if name == "python" else os.path.join(
        os.path.dirname(sys.executable), name + (".exe" if os.name == "nt" else ""))
    if not os.path.exists(path):
        return name
    try:
        relative = os.path.relpath(path)
    except ValueError:  # Windows: the environment on another drive
        return _quoted(path)
    return _quoted(path if relative.startswith("..") else relative)


def _demo(arguments: str) -> str:
    """``<python> -m demo <arguments>`` as it pastes here: ``-m demo`` finds the demo from the repository's root
    only, so from elsewhere the command starts with ``cd <root> &&`` (``arguments`` then with absolute paths)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.abspath(os.getcwd()) == root:
        return f"{_program('python')} -m demo {arguments}"
    change = "cd /d" if os.name == "nt" else "cd"  # cmd.exe changes drive only with /d
    return f"{change} {_quoted(root)} && {_quoted(sys.executable)} -m demo {arguments}"


def _here(path: str) -> str:
    """``path`` as given from the repository's root, absolute from elsewhere (see :func:`_demo`)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return path if os.path.abspath(os.getcwd()) == root else os.path.abspath(path)


def other_runs(logdir: str, demo_runs: set[str]) -> list[str]:
    """Directories below ``logdir`` holding event files that are none of ``demo_runs`` (or below one), sorted."""
    found = []
    for directory, _, names in os.walk(logdir):
        relative = os.path.relpath(directory, logdir)
        if any(name.startswith("events.out.tfevents") for name in names) and not any(
            relative == run or relative.startswith(run + os.sep) for run in demo_runs
        ):
            found.append(relative)
    return sorted(found)


def _writable(logdir: str) -> str | None:
    """Why the demo cannot write into ``logdir`` (made if missing), or None when it can."""
    if os.path.exists(logdir) and not os.path.isdir(logdir):
        return "a file is there, not a directory"
    try:
        os.makedirs(logdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=logdir):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logdir = args.logdir

    if args.skip_training:
        if not has_event_files(logdir):
            print(
                f"error: no TensorBoard runs in {logdir!r}; train them first with "
                f"`{_demo('--no-serve --logdir ' + _quoted(_here(logdir)))}`",
                file=sys.stderr,
            )
            return 2
    else:
        problem = _writable(logdir)
        if problem:
            print(f"error: cannot write the runs into {logdir!r} ({problem}); pass --logdir DIR", file=sys.stderr)
            return 2  # before TensorFlow loads, not at the first run's summary writer
        started = time.perf_counter()
        try:
            results = train_all(logdir, epochs=args.epochs, seed=args.seed)
        except CannotWrite as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print("\nValidation results after the last epoch:")
        print(format_summary(results))
        print()
        print(format_story(results))
        print(f"\nTrained {len(results)} runs in {time.perf_counter() - started:.0f} s.")

    if args.no_serve:
        print(
            f"\nTo look at them: {_demo('--skip-training --logdir ' + _quoted(_here(logdir)))}"
            f"   (or: {_program('tensorboard')} --logdir {_quoted(logdir)}, then open the Imbalance tab)"
        )
        return 0

    from demo.serve import TensorBoardError, serve_until_interrupted

    try:
        return serve_until_interrupted(logdir, port=args.port)
    except TensorBoardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        sys.exit(130)
