"""Every Python snippet of the README and the guides runs and logs what it claims; the docs fit their roles.

The README holds a quick start per framework; the guides under ``docs/`` the
rest. Snippets are named ``"<section heading>/<n>"`` (see
``tests/any_backend/test_readme_snippets.py``, which holds the runner, the
list of documents, the read-back checks and the snippets that need no
TensorFlow: Keras on any backend, PyTorch, Lightning, JAX, scikit-learn,
NumPy; they run in the environment that has their framework). The snippets
that need TensorFlow (``tf.summary``, ``tf.distribute``, Keras' own
``TensorBoard`` callback) run here, in the main environment. Every snippet is
covered by exactly one of the two files.

The README's two commands exist, it stays short, and the environment notes
live in CONTRIBUTING.md.
"""

import collections
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from any_backend.test_readme_snippets import CASES as ANY_BACKEND_CASES
from any_backend.test_readme_snippets import README, SNIPPETS, Case, assert_report, matrix_steps, run_snippet
from logdir_reader import matrices, run_tag_pairs
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check_keras(runs, saved):
    assert_report(runs, "baseline/validation_imbalance", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])
    # Keras' own TensorBoard callback wrote its runs next to ours.
    runs_written = {run for run, _ in run_tag_pairs(runs)}
    assert {"baseline/train", "baseline/validation"} <= runs_written


def check_custom_loop(runs, saved):
    run = "custom/validation_imbalance"
    assert_report(runs, run, [0, 1, 2], saved["y_val"], saved["y_pred"])
    # The matrix-only writer: one step, the same predictions.
    assert matrix_steps(runs, run, "test_confusion_matrix") == [2]
    np.testing.assert_array_equal(
        matrices(runs, "test_confusion_matrix")[run][2],
        sk_confusion_matrix(saved["y_val"], saved["y_pred"], labels=range(3)),
    )


def check_distribute(runs, saved):
    assert_report(runs, "mirrored/validation_imbalance", [0, 1], saved["y_val"], saved["y_pred"], names=["0", "1", "2"])


TF_CASES = {
    "Use with Keras/1": Case(
        ("tensorflow",),
        """
_save(y_val=y_val, y_pred=model.predict(x_val, verbose=0).argmax(-1))
""",
        check_keras,
    ),
    "Use in a custom TensorFlow loop/1": Case(
        ("tensorflow",),
        """
_save(y_val=y_val, y_pred=scores.argmax(axis=1))
""",
        check_custom_loop,
    ),
    # validation_split=0.25 validates on the last quarter of the rows.
    "Use with `tf.distribute`/1": Case(
        ("tensorflow",),
        """
_save(y_val=y[192:], y_pred=model.predict(x[192:], verbose=0).argmax(-1))
""",
        check_distribute,
    ),
}


def test_readme_has_snippets_and_no_placeholders():
    assert len(SNIPPETS) >= 4
    assert "PLACEHOLDER" not in README


def test_every_snippet_is_tested_exactly_once():
    assert not set(TF_CASES) & set(ANY_BACKEND_CASES)
    untested = set(SNIPPETS) - set(TF_CASES) - set(ANY_BACKEND_CASES)
    assert not untested, f"README snippets without a test (add them to TF_CASES or any_backend CASES): {sorted(untested)}"
    assert set(TF_CASES) <= set(SNIPPETS), sorted(set(TF_CASES) - set(SNIPPETS))


def test_snippets_that_run_elsewhere_need_no_tensorflow():
    for key in ANY_BACKEND_CASES:
        assert not re.search(r"^\s*(import tensorflow|from tensorflow|import tb_imbalance\.summary)", SNIPPETS[key], flags=re.M), key
        assert "keras.callbacks.TensorBoard" not in SNIPPETS[key], key


@pytest.mark.parametrize("key", sorted(TF_CASES))
def test_snippet_runs(key, tmp_path):
    case = TF_CASES[key]
    for module in case.needs:
        pytest.importorskip(module)
    saved = run_snippet(key, case.probe, tmp_path)
    case.check(tmp_path / "runs", saved)


def test_the_two_commands_exist():
    commands = re.findall(r"^make (\w+)", README, flags=re.M)
    assert commands[:2] == ["demo", "test"]
    makefile = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    assert re.search(r"^demo: setup$", makefile, flags=re.M)
    assert re.search(r"^test: setup-all browser$", makefile, flags=re.M)
    assert "make test" in open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_names_every_target_and_sets_nothing_up(tmp_path):
    makefile = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    targets = set(re.search(r"^\.PHONY: (.*)$", makefile, flags=re.M).group(1).split())
    absent = {name: str(tmp_path / name) for name in ("VENV", "VENV_JAX", "VENV_TORCH")}  # what setting up would make
    shown = subprocess.run(
        ["make", "-s", "help", *(f"{name}={path}" for name, path in absent.items())],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    named = {name for group in re.findall(r"\bmake ([\w-]+(?: \| [\w-]+)*)", shown.stdout) for name in group.split(" | ")}
    assert targets <= named, sorted(targets - named)
    assert shown.stdout.startswith("The two commands a new user needs:\n  make demo ")
    assert "#" not in shown.stdout and not any(os.path.exists(path) for path in absent.values())


def test_the_three_test_environments_are_described():
    makefile = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    contributing = open(os.path.join(ROOT, "CONTRIBUTING.md"), encoding="utf-8").read()
    for venv, requirements in ((".venv", "requirements-dev.txt"), (".venv-jax", "requirements-jax.txt"), (".venv-torch", "requirements-torch.txt")):
        assert f"`{venv}`" in contributing and f"`{requirements}`" in contributing
        assert os.path.exists(os.path.join(ROOT, requirements))
    for target in ("test-tensorflow", "test-jax", "test-torch", "test-js"):
        assert f"`make {target}`" in contributing
        assert re.search(rf"^{target}:", makefile, flags=re.M)


def test_the_readme_fits_a_screen_or_two_and_links_what_moved():
    lines = README.splitlines()
    assert len(lines) <= 300, len(lines)
    for link in ("docs/keras.md", "docs/pytorch.md", "docs/jax.md", "docs/other-loops.md", "docs/dashboard.md",
                 "bench/README.md", "CONTRIBUTING.md", "docs/dashboard.png"):
        assert f"]({link}" in README, link
        assert os.path.exists(os.path.join(ROOT, link.split("#")[0])), link
    # The benchmark figures live in bench/README.md, each with its command, commit and machine.
    bench = open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8").read()
    sections = re.split(r"^## ", bench, flags=re.M)[1:]
    figures = [section for section in sections if "Figures recorded at" in section]
    assert len(figures) >= 5
    for section in figures:
        assert re.search(r"^```\n(.*bench/|TBI_BENCH=1 )", section, flags=re.M), section[:60]
        assert re.search(r"commits? [0-9a-f]{7}", section) and re.search(r"2-core|NVIDIA H\d+", section), section[:60]
    for script in ("callback_overhead.py", "many_classes.py", "examples_cost.py", "plugin_latency.py"):
        assert f"bench/{script}" in bench, script
    assert "µs" not in README and "Benchmarks" not in [line.strip("# ") for line in lines if line.startswith("#")]


def _bench_table(heading: str) -> dict[str, list[str]]:
    """The first table of bench/README.md's section ``heading`` (its latest figures), by row label."""
    bench = open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8").read()
    section = bench.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.search(r"^\|.*?(?=^[^|])", section, flags=re.M | re.S).group(0).splitlines()
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    return {row[0]: row[1:] for row in cells}


def test_the_guides_quote_the_metrics_latest_cost_per_batch():
    table = _bench_table("Curves in the streaming metric: cost per batch")
    ms = lambda label, column: float(table[label][column].split()[0])  # noqa: E731
    default, accuracy = "`BalancedAccuracy(C)` (matrix + curves, the default)", "Keras `SparseCategoricalAccuracy()` (the fixed cost of a metric)"
    curves = "the curve state alone (the difference of the two rows above)"
    ten = {"TensorFlow": 0, "JAX": 2, "PyTorch": 4}  # the 10-class column of each backend
    ratio = {name: f"{ms(default, c) / ms(accuracy, c):.1f}×" for name, c in ten.items()}
    micro = {name: f"({ms(default, c) * 1000:.0f} against {ms(accuracy, c) * 1000:.0f} µs)" for name, c in ten.items()}
    share = [f"{100 * ms(curves, c) / ms(default, c):.0f} %" for c in ten.values()]
    dashboard = " ".join(open(os.path.join(ROOT, "docs", "dashboard.md"), encoding="utf-8").read().split())
    keras_guide = " ".join(open(os.path.join(ROOT, "docs", "keras.md"), encoding="utf-8").read().split())
    assert (
        f"costs {ratio['TensorFlow']} Keras' accuracy metric on TensorFlow {micro['TensorFlow']}, {ratio['JAX']} on JAX "
        f"{micro['JAX']} and {ratio['PyTorch']} on PyTorch {micro['PyTorch']}"
    ) in dashboard
    assert f"the curve state is {share[0]}, {share[1]} and {share[2]} of that" in dashboard
    matrix_only = sorted(ms("`BalancedAccuracy(C, curves=False)` (matrix only)", c) / ms(accuracy, c) for c in ten.values())
    assert f"Keras' accuracy metric costs or less ({matrix_only[0]:.2f}–{matrix_only[-1]:.2f}× at 10 classes" in dashboard
    assert (
        f"the whole metric at 10 classes costs {ratio['TensorFlow']} (TensorFlow), {ratio['JAX']} (JAX) and "
        f"{ratio['PyTorch']} (PyTorch) Keras' accuracy metric"
    ) in keras_guide


def test_the_guides_quote_the_callbacks_latest_overhead():
    bench = open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8").read()
    runs = re.split(r"^(?=\*\*\d{4}-\d{2}-\d{2}[^*\n]*both backends at commit [0-9a-f]{7})", bench, flags=re.M)
    rows = re.search(r"^\|.*?(?=^[^|])", runs[-1], flags=re.M | re.S).group(0).splitlines()  # the latest such run
    header, direct, steps = (
        [cell.strip() for cell in row.strip("|").split("|")]
        for row in (rows[0], next(r for r in rows if "(c) by direct count" in r), next(r for r in rows if "a writer step" in r))
    )
    seconds = {re.match(r"(\w+)", name).group(1): re.search(r"\(([\d.]+) s epochs\)", name).group(1) for name in header[1:]}
    ratios = {name: float(re.search(r"([\d.]+)×", cell).group(1)) for name, cell in zip(seconds, direct[1:])}
    percent = {name: f"{(ratio - 1) * 100:.1f} %" for name, ratio in ratios.items()}
    writer = f"{sum(float(cell.split('/')[0]) for cell in steps[1:]) / len(steps[1:]):.1f}"  # both backends' mean
    keras_guide = " ".join(open(os.path.join(ROOT, "docs", "keras.md"), encoding="utf-8").read().split())
    dashboard = " ".join(open(os.path.join(ROOT, "docs", "dashboard.md"), encoding="utf-8").read().split())
    assert f"the next ones warm, about {writer} ms a step in all" in keras_guide
    assert f"about {writer} ms where short epochs' steps are gathered" in dashboard
    assert (
        f"a fit whose epochs take about {seconds['JAX']} s of CPU spends {percent['JAX']} more with the callback "
        f"(JAX, two CPU cores), one of {seconds['TensorFlow']} s {percent['TensorFlow']} (TensorFlow)"
    ) in keras_guide
    assert f"{seconds['JAX']} s epochs on JAX in the benchmark: {percent['JAX']};" in dashboard
    assert f"TensorFlow's {seconds['TensorFlow']} s: {percent['TensorFlow']})" in dashboard


def test_the_readme_says_where_the_views_link_is():
    """Inside TensorBoard the tab is an iframe: its URL state is the header's link, not the address bar."""
    label = "Link to this view"
    layout = open(os.path.join(ROOT, "plugin_static", "views", "page-layout.js"), encoding="utf-8").read()
    app = open(os.path.join(ROOT, "plugin_static", "app.js"), encoding="utf-8").read()
    view_url = open(os.path.join(ROOT, "plugin_static", "view-url.js"), encoding="utf-8").read()
    assert f'"{label}"' in layout and "createViewUrl({ viewLink })" in app and "history.replaceState(" in view_url
    kept = " ".join(re.search(r"one baseline picker per class set; (.*?)\n\* ", README, flags=re.S).group(1).split())
    assert kept.startswith(f"the header's **{label}** keeps the choice"), kept


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of a Markdown text's headings: lower case, punctuation dropped, spaces as '-'."""
    anchors, seen = set(), collections.Counter()
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S), flags=re.M):
        anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
        seen[anchor] += 1
    return anchors


def test_every_relative_link_of_the_docs_resolves():
    documents = ["README.md", "CONTRIBUTING.md", "bench/README.md"] + [f"docs/{name}" for name in sorted(os.listdir(os.path.join(ROOT, "docs"))) if name.endswith(".md")]
    checked = 0
    for document in documents:
        path = os.path.join(ROOT, document)
        text = re.sub(r"^```.*?^```", "", open(path, encoding="utf-8").read(), flags=re.M | re.S)
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", link):
                continue
            target, _, anchor = link.partition("#")
            target = os.path.normpath(os.path.join(os.path.dirname(path), target)) if target else path
            assert os.path.exists(target), f"{document}: {link} names no file"
            if anchor:
                assert anchor in _anchors(open(target, encoding="utf-8").read()), f"{document}: {link} names no heading"
            checked += 1
    assert checked > 50, checked
