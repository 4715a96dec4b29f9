"""The first-run demo, run the way a user runs it: ``python -m demo``.

One quick training run (``--quick --no-serve``) is shared by the module; the
tests read its logdir back through TensorBoard's loader and check the runs,
the tags, and that the story the demo tells (similar accuracy, very different
rare-class recall) is in the logged matrices. The serving test then starts
``python -m demo --skip-training`` on those runs and stops it with SIGINT.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from logdir_reader import curves as logdir_curves
from logdir_reader import examples as logdir_examples
from logdir_reader import matrices, run_tag_pairs

from tb_imbalance import core

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the demo is a top-level folder of the repository, not installed

from demo import data  # noqa: E402

STRATEGIES = ("baseline", "class_weights", "oversampling")
DATASETS = {dataset.name: dataset for dataset in data.load_datasets(seed=0)}
QUICK_EPOCHS = 15


def _demo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "demo", *args]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, str]:
    """``python -m demo --no-serve --quick`` into a fresh logdir: (logdir, stdout).

    With ``KERAS_BACKEND=jax`` in the environment, as a shell set up for another project may have it:
    the demo's environment has TensorFlow only, and the demo trains on it.
    """
    logdir = tmp_path_factory.mktemp("demo") / "demo runs"  # a space: the printed commands quote it
    completed = subprocess.run(
        _demo_command("--no-serve", "--quick", "--logdir", str(logdir)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return logdir, completed.stdout


def test_the_commands_it_prints_paste_as_printed(demo_run: tuple[pathlib.Path, str]) -> None:
    logdir, stdout = demo_run
    hint = re.search(r"To look at them: (\S+ -m demo .*?)   \(or: (\S+ --logdir .*?), then open", stdout)
    python, *rest = shlex.split(hint.group(1))
    assert rest == ["-m", "demo", "--skip-training", "--logdir", str(logdir)]
    # the environment's own interpreter, from the repository root: `make demo` activates none
    assert os.path.samefile(REPO / python, sys.executable), python
    tensorboard, *rest = shlex.split(hint.group(2))
    assert rest == ["--logdir", str(logdir)]
    assert os.path.samefile(REPO / tensorboard, pathlib.Path(sys.executable).parent / "tensorboard"), tensorboard
    assert "KERAS_BACKEND=jax is set; the demo trains on TensorFlow" in stdout


@pytest.fixture(scope="module")
def last_matrices(demo_run: tuple[pathlib.Path, str]) -> dict[str, dict[str, np.ndarray]]:
    """``{dataset: {strategy: last-epoch validation matrix}}`` as logged."""
    logdir, _ = demo_run
    logged = matrices(logdir)
    result: dict[str, dict[str, np.ndarray]] = {}
    for dataset in DATASETS:
        for strategy in STRATEGIES:
            steps = logged[f"{dataset}/{strategy}/validation_imbalance"]
            result.setdefault(dataset, {})[strategy] = steps[max(steps)]
    return result


# -- the data ---------------------------------------------------------------


def test_digits_have_a_long_tail_of_at_least_fifty_to_one() -> None:
    digits = DATASETS["digits"]
    counts = digits.class_counts("all")
    assert counts.max() >= 50 * counts.min()
    assert counts.tolist() == [3, 5, 8, 13, 19, 31, 47, 73, 111, 180]
    assert digits.rarest_class == 0
    # Stratified: every class is on both sides of the split.
    assert digits.class_counts("train").min() >= 1
    assert digits.class_counts("validation").min() >= 1


def test_breast_cancer_keeps_one_malignant_tumour_in_ten() -> None:
    cancer = DATASETS["breast_cancer"]
    assert cancer.class_names == ("malignant", "benign")
    assert cancer.class_counts("all").tolist() == [21, 357]
    assert cancer.rarest_class == 0


def test_class_weights_and_oversampling_helpers() -> None:
    from sklearn.utils.class_weight import compute_class_weight

    from demo.train import balanced_class_weights, random_oversample

    labels = DATASETS["digits"].y_train
    weights = balanced_class_weights(labels, 10)
    expected = compute_class_weight("balanced", classes=np.arange(10), y=labels)
    np.testing.assert_allclose([weights[k] for k in range(10)], expected)

    features = np.arange(len(labels), dtype=np.float32)[:, None]
    new_features, new_labels = random_oversample(features, labels, np.random.default_rng(0))
    counts = np.bincount(new_labels, minlength=10)
    assert counts.min() == counts.max() == np.bincount(labels).max()
    # Rows keep their labels, and every original row is still there.
    np.testing.assert_array_equal(labels[new_features[:, 0].astype(int)], new_labels)
    assert set(new_features[:, 0].astype(int)) == set(range(len(labels)))


# -- what the demo wrote ----------------------------------------------------


def test_every_run_has_our_tags_and_keras_runs(demo_run: tuple[pathlib.Path, str]) -> None:
    logdir, _ = demo_run
    pairs = run_tag_pairs(logdir)
    for name, dataset in DATASETS.items():
        for strategy in STRATEGIES:
            run = f"{name}/{strategy}"
            ours = {tag for r, tag in pairs if r == f"{run}/validation_imbalance"}
            expected = {"confusion_matrix", "confusion_matrix_image", "confusion_matrix_examples", "imbalance/balanced_accuracy"}
            expected |= {f"recall/{class_name}" for class_name in dataset.class_names}
            expected |= {"confusion_matrix_curves"} | {f"imbalance/{metric}" for metric in core.CURVE_METRIC_NAMES}
            expected |= {f"average_precision/{class_name}" for class_name in dataset.class_names}
            assert expected <= ours, (run, sorted(expected - ours))
            for keras_run in ("train", "validation"):
                assert (f"{run}/{keras_run}", "epoch_loss") in pairs
            assert (f"{run}/validation", "epoch_balanced_accuracy") in pairs


def test_every_epoch_is_logged_with_the_validation_counts(
    demo_run: tuple[pathlib.Path, str],
) -> None:
    logdir, _ = demo_run
    logged = matrices(logdir)
    assert len(logged) == len(DATASETS) * len(STRATEGIES)
    for name, dataset in DATASETS.items():
        for strategy in STRATEGIES:
            steps = logged[f"{name}/{strategy}/validation_imbalance"]
            assert sorted(steps) == list(range(QUICK_EPOCHS))
            for matrix in steps.values():
                np.testing.assert_array_equal(matrix.sum(axis=1), dataset.class_counts("validation"))


def test_examples_are_the_validation_rows_behind_each_logged_cell(demo_run: tuple[pathlib.Path, str]) -> None:
    """The examples set is the validation set: each step's cell counts are the logged matrix."""
    logdir, _ = demo_run
    logged, examples = matrices(logdir), logdir_examples(logdir)
    for name in DATASETS:
        run = f"{name}/baseline/validation_imbalance"
        assert sorted(examples[run]) == list(range(QUICK_EPOCHS))
        index, thumbnails = examples[run][QUICK_EPOCHS - 1]
        matrix = logged[run][QUICK_EPOCHS - 1]
        assert {(c["true"], c["pred"]): c["count"] for c in index["cells"]} == {
            (int(i), int(j)): int(matrix[i, j]) for i, j in zip(*np.nonzero(matrix))
        }
        kinds = {e["kind"] for c in index["cells"] for e in c["examples"]}
        if name == "digits":
            assert kinds == {"image"} and len(thumbnails) == sum(len(c["examples"]) for c in index["cells"])
            assert {(e["width"], e["height"]) for c in index["cells"] for e in c["examples"]} == {(8, 8)}
        else:
            assert kinds == {"values"} and not thumbnails


def test_the_story_is_in_the_logged_matrices(last_matrices: dict[str, dict[str, np.ndarray]]) -> None:
    """Accuracy stays close, the rare class's recall and balanced accuracy do not."""
    for name, runs in last_matrices.items():
        rarest = DATASETS[name].rarest_class
        baseline = core.imbalance_metrics(runs["baseline"])
        baseline_rarest = core.per_class_metrics(runs["baseline"])["recall"][rarest]
        for strategy in ("class_weights", "oversampling"):
            metrics = core.imbalance_metrics(runs[strategy])
            rarest_recall = core.per_class_metrics(runs[strategy])["recall"][rarest]
            where = f"{name}/{strategy}: {metrics} vs baseline {baseline}"
            assert metrics["balanced_accuracy"] >= baseline["balanced_accuracy"] + 0.1, where
            assert rarest_recall >= baseline_rarest + 0.2, where
            assert abs(metrics["accuracy"] - baseline["accuracy"]) <= 0.07, where


def test_printed_summary_matches_the_logs(
    demo_run: tuple[pathlib.Path, str], last_matrices: dict[str, dict[str, np.ndarray]]
) -> None:
    logdir, stdout = demo_run
    assert "digit d keeps 0.64**(9-d)" in stdout
    assert f"epoch {QUICK_EPOCHS}/{QUICK_EPOCHS}" in stdout
    curves = logdir_curves(logdir)
    for name, runs in last_matrices.items():
        rarest = DATASETS[name].rarest_class
        average_precisions = []
        for strategy, matrix in runs.items():
            metrics = core.imbalance_metrics(matrix)
            steps = curves[f"{name}/{strategy}/validation_imbalance"]
            assert sorted(steps) == list(range(QUICK_EPOCHS))
            curve_metrics = core.curve_metrics(steps[QUICK_EPOCHS - 1])
            row = next(line for line in stdout.splitlines() if line.startswith(f"{name}/{strategy} "))
            numbers = row.split()[1:6]
            expected = [f"{metrics[key]:.3f}" for key in ("accuracy", "balanced_accuracy", "macro_f1")]
            assert numbers[:3] == expected, row
            # The curves are stored in float32: the printed (float64) values agree to rounding.
            printed_curves = [float(number) for number in numbers[3:]]
            logged_curves = [curve_metrics["metrics"][key] for key in ("macro_average_precision", "expected_calibration_error")]
            np.testing.assert_allclose(printed_curves, logged_curves, atol=6e-4, err_msg=row)
            average_precisions.append(curve_metrics["per_class"]["average_precision"][rarest])
        # The story's sentence quotes the rarest class's logged average precision, run by run.
        class_name = DATASETS[name].class_names[rarest]
        story = next(line for line in stdout.splitlines() if f"Average precision of '{class_name}'" in line)
        quoted = re.search(r"Average precision of '[^']+' \(.*?\): (.*?);", story).group(1)
        printed = {strategy: float(value) for strategy, value in (part.split() for part in quoted.split(", "))}
        assert list(printed) == list(runs), story
        np.testing.assert_allclose(list(printed.values()), average_precisions, atol=6e-3, err_msg=story)


# -- serving ------------------------------------------------------------------


def _lines_of(process: subprocess.Popen) -> "queue.Queue[str]":
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_line(lines: "queue.Queue[str]", pattern: str, seen: list[str], timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; output:\n{''.join(seen)}")


def test_skip_training_serves_the_runs_until_sigint(demo_run: tuple[pathlib.Path, str]) -> None:
    logdir, _ = demo_run
    port = _free_port()
    process = subprocess.Popen(
        _demo_command("--skip-training", "--logdir", str(logdir), "--port", str(port)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        lines = _lines_of(process)
        match = _wait_for_line(lines, r"(http://127\.0\.0\.1:(\d+))/#imbalance", seen, timeout=120)
        base_url, served_port = match.group(1), int(match.group(2))
        assert served_port == port
        with urllib.request.urlopen(base_url + "/", timeout=30) as response:
            assert response.status == 200
        with urllib.request.urlopen(base_url + "/data/plugins_listing", timeout=30) as response:
            assert "imbalance" in json.load(response)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0, "".join(seen)
        _wait_for_line(lines, r"^Stopped\.", seen, timeout=5)
        with pytest.raises(OSError):  # TensorBoard went away with the demo
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_choose_port_avoids_a_busy_port() -> None:
    from demo.serve import choose_port, port_is_free

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not port_is_free(taken)
        chosen = choose_port(taken)
        assert chosen != taken
        assert port_is_free(chosen)


def test_skip_training_on_an_empty_logdir_says_what_to_do(tmp_path: pathlib.Path) -> None:
    logdir = tmp_path / "my runs"  # the command it suggests pastes as it is printed
    logdir.mkdir()
    completed = subprocess.run(
        _demo_command("--skip-training", "--logdir", str(logdir)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "no TensorBoard runs" in completed.stderr
    python, *suggested = shlex.split(re.search(r"`(\S+ -m demo [^`]*)`", completed.stderr).group(1))
    assert suggested == ["-m", "demo", "--no-serve", "--logdir", str(logdir)]
    assert os.path.samefile(REPO / python, sys.executable)


def test_the_command_it_suggests_from_another_directory_starts_at_the_repository(tmp_path, monkeypatch) -> None:
    (tmp_path / "empty").mkdir()
    completed = subprocess.run(
        _demo_command("--skip-training", "--logdir", "empty"), cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert completed.returncode == 2
    suggested = re.search(r"`([^`]*)`", completed.stderr).group(1)
    cd, root, conjunction, python, *rest = shlex.split(suggested)  # `-m demo` finds the demo from the root only
    assert (cd, conjunction) == ("cd", "&&") and os.path.samefile(root, REPO) and os.path.samefile(python, sys.executable)
    assert rest == ["-m", "demo", "--no-serve", "--logdir", str(tmp_path / "empty")]
    completed = subprocess.run(  # from the repository's parent: the interpreter's path is absolute after the cd
        _demo_command("--skip-training", "--logdir", str(tmp_path / "empty")), cwd=REPO.parent, capture_output=True,
        text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    _, _, _, python, *_ = shlex.split(re.search(r"`([^`]*)`", completed.stderr).group(1))
    assert os.path.isabs(python) and os.path.samefile(python, sys.executable), python
    from demo import __main__ as demo_main

    def other_drive(path, start=None):  # Windows: the environment on another drive than the working directory
        raise ValueError("path is on mount 'D:', start on mount 'C:'")

    monkeypatch.setattr(demo_main.os.path, "relpath", other_drive)
    assert demo_main._program("python") == shlex.quote(sys.executable)


def test_a_logdir_under_home_given_after_an_equals_sign_is_the_home_directorys(tmp_path, monkeypatch, capsys) -> None:
    from demo import __main__ as demo_main

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "taken").write_text("")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert demo_main.parse_args(["--logdir=~/runs"]).logdir == str(tmp_path / "home" / "runs")
    assert demo_main.main(["--skip-training", "--logdir=~/runs"]) == 2
    assert f"error: no TensorBoard runs in {str(tmp_path / 'home' / 'runs')!r}" in capsys.readouterr().err
    assert demo_main.main(["--no-serve", "--quick", "--logdir=~/taken"]) == 2  # a file there: said before training
    assert capsys.readouterr().err == (
        f"error: cannot write the runs into {str(tmp_path / 'home' / 'taken')!r} (a file is there, not a directory); "
        "pass --logdir DIR\n"
    )
    assert list((tmp_path / "work").iterdir()) == []  # no directory named '~' where the demo was started


@pytest.mark.parametrize("argv,message", [
    (["--epochs", "0"], "--epochs must be at least 1, received 0"),
    (["--logdir", "{empty}"], "--logdir: no TensorBoard runs in '{empty}'; train them first ("),
    (["--logdir", "{runs}", "--epochs", "3"], "--epochs trains the runs, --logdir takes runs trained before: pass one of them"),
])
def test_the_screenshot_script_refuses_what_it_cannot_use_before_training_or_waiting(argv, message, tmp_path, capsys) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshot", REPO / "scripts" / "screenshot.py")
    screenshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshot)
    (tmp_path / "empty").mkdir()
    (tmp_path / "runs" / "a").mkdir(parents=True)
    (tmp_path / "runs" / "a" / "events.out.tfevents.1.host").write_bytes(b"")
    paths = {"empty": str(tmp_path / "empty"), "runs": str(tmp_path / "runs")}
    with pytest.raises(SystemExit) as exit_info:
        screenshot.parse_args([part.format(**paths) for part in argv])
    assert exit_info.value.code == 2
    assert "error: " + message.format(**paths) in capsys.readouterr().err
    assert screenshot.parse_args(["--logdir", paths["runs"]]).logdir == paths["runs"]
    assert screenshot.parse_args(["--epochs", "1"]).epochs == 1


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_a_seed_numpy_cannot_take_is_a_usage_error_before_training(seed, capsys) -> None:
    from demo import __main__ as demo_main

    with pytest.raises(SystemExit) as exit_info:
        demo_main.parse_args(["--no-serve", "--seed", seed])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"error: --seed must be in 0..4294967295 (numpy's and scikit-learn's seeds), received {seed}\n"
    )
    assert demo_main.parse_args(["--seed", str(2**32 - 1)]).seed == 2**32 - 1


@pytest.mark.parametrize("kind", ["a file", "read-only"])
def test_a_logdir_it_cannot_write_is_one_line_before_tensorflow_loads(tmp_path, kind, monkeypatch, capsys) -> None:
    from demo import __main__ as demo_main

    logdir = tmp_path / "runs"
    if kind == "a file":
        logdir.write_text("")
        reason = "a file is there, not a directory"
    else:  # root writes anywhere a mode allows nothing: a read-only file system, as the kernel answers it
        def read_only(*args, **kwargs):
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr(demo_main.tempfile, "TemporaryFile", read_only)
        reason = "Read-only file system"
    assert demo_main.main(["--no-serve", "--quick", "--logdir", str(logdir)]) == 2
    assert capsys.readouterr().err == f"error: cannot write the runs into {str(logdir)!r} ({reason}); pass --logdir DIR\n"


def test_other_runs_in_the_logdir_are_found_apart_from_the_demos(tmp_path) -> None:
    from demo.__main__ import other_runs

    for run in ("digits/baseline", "digits/baseline/validation_imbalance", "quickstart/validation_imbalance", "notes"):
        (tmp_path / run).mkdir(parents=True, exist_ok=True)
        if run != "notes":
            (tmp_path / run / "events.out.tfevents.1.host").write_bytes(b"")
    assert other_runs(str(tmp_path), {"digits/baseline"}) == ["quickstart/validation_imbalance"]


def test_port_0_picks_a_free_port_without_calling_port_0_busy(monkeypatch, capsys) -> None:
    from demo import serve

    started = []

    class NotStarting:
        def __init__(self, logdir, port):
            started.append(port)

        def start(self):
            raise serve.TensorBoardError("not started in this test")

        def stop(self):
            pass

    monkeypatch.setattr(serve, "TensorBoardProcess", NotStarting)
    with pytest.raises(serve.TensorBoardError):
        serve.serve_until_interrupted("runs", port=0)
    assert started[0] > 0
    assert "in use" not in capsys.readouterr().out
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(serve.TensorBoardError):
            serve.serve_until_interrupted("runs", port=taken)
    assert f"Port {taken} is in use; using port {started[1]} instead." in capsys.readouterr().out


def test_dashboard_shows_the_demo_story_in_chromium(demo_run: tuple[pathlib.Path, str], last_matrices) -> None:
    """The digits runs side by side in the real dashboard, as the demo's story says.

    Saved as ``test-artifacts/demo_dashboard.png`` (the README's own pictures
    come from ``scripts/screenshot.py``, on the full 30-epoch demo).
    """
    from playwright.sync_api import sync_playwright

    import support
    from browser_support import ARTIFACTS, PageProblems, dashboard_url, launch_chromium, read_table, wait_ready

    logdir, _ = demo_run
    runs = [f"digits/{strategy}/validation_imbalance" for strategy in STRATEGIES]
    rarest = DATASETS["digits"].class_names[int(np.argmin(np.bincount(DATASETS["digits"].y_val)))]
    with support.tensorboard_server(logdir, load_fast=True) as base_url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = PageProblems(page)
        page.goto(dashboard_url(base_url, runs=runs, baseline=runs[0], tag="confusion_matrix"))
        wait_ready(page)
        table = read_table(page)
        for strategy, run in zip(STRATEGIES, runs):
            expected = core.per_class_metrics(last_matrices["digits"][strategy])["recall"]
            index = list(DATASETS["digits"].class_names).index(rarest)
            assert table[rarest][run]["recall"]["value"] == pytest.approx(expected[index], abs=1e-4)
        # The rarest digit has a handful of validation images: its gain is coloured only if
        # Newcombe's interval for the difference excludes 0.
        index = list(DATASETS["digits"].class_names).index(rarest)
        difference = core.per_class_differences(
            last_matrices["digits"][STRATEGIES[1]], last_matrices["digits"][STRATEGIES[0]]
        )
        cell = table[rarest][runs[1]]["recall"]
        assert cell["delta"] > 0
        assert cell["direction"] == ("better" if difference["recall_significant"][index] else "ns")
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "demo_dashboard.png"
        page.screenshot(path=str(shot), full_page=False)
        problems.assert_none()
        browser.close()


def test_first_load_of_the_demo_compares_each_data_set_with_its_baseline_and_shows_the_long_tail(
    demo_run: tuple[pathlib.Path, str],
) -> None:
    """What ``make demo`` opens on: no error box, one baseline per data set, the long-tail view."""
    from playwright.sync_api import sync_playwright

    import support
    from browser_support import ARTIFACTS, PageProblems, dashboard_url, launch_chromium, wait_ready

    logdir, _ = demo_run
    baselines = [f"{name}/baseline/validation_imbalance" for name in ("breast_cancer", "digits")]
    with support.tensorboard_server(logdir, load_fast=True) as base_url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        problems = PageProblems(page)
        page.goto(dashboard_url(base_url))
        wait_ready(page)
        errors = page.evaluate(
            """() => [...document.querySelectorAll(".section-message, .pivot-message, .page-message")]
                .filter((node) => node.offsetParent !== null && node.textContent.trim()).map((node) => node.textContent)"""
        )
        assert errors == []
        values = page.get_by_test_id("baseline-select").evaluate_all("selects => selects.map((s) => s.value)")
        assert values == baselines
        assert page.get_by_test_id("page-subtitle").text_content() == "confusion_matrix · 12 classes in 2 class sets (2 + 10) · 6 of 6 runs"
        # The long-tail view: the digits' training counts as the demo passed them.
        page.get_by_test_id("imbalance-run").select_option("digits/baseline/validation_imbalance")
        wait_ready(page)
        plot = page.get_by_test_id("recall-vs-count")
        assert plot.is_visible()
        counts = plot.locator("[data-testid=class-point]").evaluate_all("points => points.map((p) => Number(p.dataset.count))")
        assert counts == DATASETS["digits"].class_counts("train").tolist()
        buckets = plot.locator("[data-testid=class-point]").evaluate_all("points => points.map((p) => p.dataset.bucket)")
        # The default thresholds: many-shot above 100 training examples, few-shot below 20.
        expected = ["many" if count > 100 else "few" if count < 20 else "medium" for count in counts]
        assert buckets == expected
        assert {"few", "medium"} <= set(buckets)  # a long tail: rare digits below the few-shot threshold
        assert page.get_by_test_id("recall-vs-count-legend").is_visible()
        assert page.locator("[data-testid=summary-row][data-row=few_shot_recall]").count() >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_first_load.png"), full_page=True)
        problems.assert_none()
        browser.close()


def test_examples_panel_shows_a_cells_misclassified_digits(demo_run: tuple[pathlib.Path, str]) -> None:
    """The digits behind the baseline's busiest mistake.

    Saved as ``test-artifacts/demo_examples.png`` (``scripts/screenshot.py``
    takes the guide's picture the same way, on the full demo).
    """
    from playwright.sync_api import sync_playwright

    import support
    from browser_support import ARTIFACTS, PageProblems, dashboard_url, launch_chromium, wait_ready

    logdir, _ = demo_run
    run = "digits/baseline/validation_imbalance"
    index, _ = logdir_examples(logdir)[run][QUICK_EPOCHS - 1]
    mistakes = [cell for cell in index["cells"] if cell["true"] != cell["pred"]]
    cell = max(mistakes, key=lambda c: (len(c["examples"]), c["count"]))
    assert len(cell["examples"]) >= 2
    with support.tensorboard_server(logdir, load_fast=True) as base_url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = PageProblems(page)
        page.goto(dashboard_url(base_url, runs=[run], tag="confusion_matrix"))
        wait_ready(page)
        page.locator(f"td[data-testid=matrix-cell][data-true='{cell['true']}'][data-pred='{cell['pred']}']").click()
        page.wait_for_function(
            "() => { const p = document.querySelector('[data-testid=examples-panel]');"
            " return p && !p.hidden && p.dataset.state === 'ready'; }"
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=examples-panel] img')].every(img => img.complete)"
        )
        widths = page.locator("[data-testid=examples-panel] img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
        assert widths == [8] * len(cell["examples"])
        heading = page.get_by_test_id("examples-heading").text_content()
        assert heading == f"{cell['true']} → {cell['pred']} at step {QUICK_EPOCHS - 1}"
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "demo_examples.png"
        page.mouse.move(0, 0)  # no hover tooltip in the picture
        page.get_by_test_id("examples-panel").locator("xpath=..").screenshot(path=str(shot))
        problems.assert_none()
        browser.close()
