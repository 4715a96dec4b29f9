"""The documentation's framework-free, PyTorch, Lightning and JAX snippets run, and log what they claim.

The documents are the README (its quick starts) and the guides under
``docs/`` (:data:`DOCUMENTS`). Each snippet is named ``"<section heading>/<n>"``
(the n-th ``python`` block under that ``##`` / ``###`` heading; headings are
unique across the documents). Every snippet is covered exactly once: the ones
here (:data:`CASES`) and the TensorFlow ones in ``tests/test_readme.py``,
which also checks that the two sets cover every document.

A case runs its snippet as a script in a fresh temporary directory (the
snippets write to ``runs/...``), in a subprocess of this environment's Python,
with a *probe* appended: a few lines that save, from the snippet's own
variables, the labels and the final model's predictions. The test then reads
the logdir back through TensorBoard's loader and compares the last logged
confusion matrix with scikit-learn's ``confusion_matrix`` of those
predictions, the per-class recall and balanced-accuracy scalars with
scikit-learn's, and the class names in the summary metadata.

This folder runs in .venv (Keras on TensorFlow), .venv-jax and .venv-torch:
each case imports its frameworks with ``pytest.importorskip``, so the PyTorch
and Lightning snippets run in .venv-torch, the JAX ones in .venv-jax, and the
scikit-learn and NumPy ones everywhere. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Callable

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score
from sklearn.metrics import classification_report as sk_classification_report
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from logdir_reader import load, matrices, plugin_content, run_tag_pairs, scalars
from support import labels_from_matrix
from tb_imbalance import format as fmt
from tensorboard import context

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The documents whose ``python`` blocks are executed: the README's quick starts and the guides.
DOCUMENTS = ("README.md", "docs/keras.md", "docs/pytorch.md", "docs/jax.md", "docs/other-loops.md")
#: Documents under docs/ whose blocks are not user code to run (the format's own tests read it).
NOT_GUIDES = ("docs/format.md",)
NAMES = ["normal", "fault", "fraud"]

# Prepended to every probe: save(name=value, ...) writes expected.json.
PROBE_HEADER = '''

# ---- test probe (not part of the README): save what the snippet computed ----
import json as _json
import os as _os
import numpy as _np


def _save(**values):
    with open("expected.json", "w") as _file:
        _json.dump({key: _np.asarray(value).tolist() for key, value in values.items()}, _file)

'''


def readme_snippets(text: str = README) -> dict[str, str]:
    """``{"<heading>/<n>": source}`` for every ```` ```python ```` block of one document."""
    snippets: dict[str, str] = {}
    counts: collections.Counter = collections.Counter()
    heading = "(top)"
    pattern = re.compile(r"^#{2,3} ([^\n]+)$|^```python\n(.*?)^```", flags=re.M | re.S)
    for match in pattern.finditer(text):
        if match.group(1) is not None:
            heading = match.group(1).strip()
            continue
        counts[heading] += 1
        snippets[f"{heading}/{counts[heading]}"] = match.group(2)
    return snippets


def document_snippets(documents=DOCUMENTS) -> dict[str, str]:
    """Every document's snippets in one dict; a heading used in two documents is an error."""
    snippets: dict[str, str] = {}
    for document in documents:
        found = readme_snippets((ROOT / document).read_text(encoding="utf-8"))
        clash = set(found) & set(snippets)
        assert not clash, f"{document} repeats snippet headings of another document: {sorted(clash)}"
        snippets.update(found)
    return snippets


SNIPPETS = document_snippets()


def run_snippet(key: str, probe: str, cwd: pathlib.Path) -> dict:
    """Run snippet ``key`` followed by ``probe`` in ``cwd``; return the probe's values."""
    source = SNIPPETS[key]
    script = cwd / "snippet.py"
    script.write_text(source + PROBE_HEADER + probe, encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, f"Snippet {key!r} failed:\n{source}\n{result.stderr[-4000:]}"
    if "runs/" in source or '"runs"' in source:
        assert (cwd / "runs").is_dir(), f"Snippet {key!r} wrote no runs/ directory"
    return json.loads((cwd / "expected.json").read_text(encoding="utf-8"))


def matrix_steps(logdir: pathlib.Path, run: str, tag: str = "confusion_matrix") -> list[int]:
    """Every step at which ``tag`` was written in ``run``, duplicates included."""
    provider, ctx = load(logdir), context.RequestContext()
    data = provider.read_tensors(ctx, experiment_id="", plugin_name=fmt.PLUGIN_NAME, downsample=10**6)
    return [datum.step for datum in data[run][tag]]


def assert_report(
    runs: pathlib.Path, run: str, steps: list[int], y_true, y_pred, *, names=NAMES, tag="confusion_matrix"
) -> None:
    """The report of ``run``: logged at exactly ``steps``; its last step is scikit-learn's on ``y_pred``."""
    assert matrix_steps(runs, run, tag) == list(steps), f"steps logged in {run!r}"
    last = steps[-1]
    logged = matrices(runs, tag)[run][last]
    expected = sk_confusion_matrix(y_true, y_pred, labels=range(len(names)))
    np.testing.assert_array_equal(logged, expected)
    assert logged.dtype == np.int64
    assert fmt.parse_plugin_content(plugin_content(runs, run, tag)).class_names == tuple(names)
    recalls = recall_score(y_true, y_pred, labels=range(len(names)), average=None, zero_division=0)
    for name, recall in zip(names, recalls):
        assert scalars(runs, run, f"recall/{name}")[last] == pytest.approx(recall, abs=1e-6)
    assert scalars(runs, run, "imbalance/balanced_accuracy")[last] == pytest.approx(
        balanced_accuracy_score(y_true, y_pred), abs=1e-6
    )
    assert (run, tag + "_image") in run_tag_pairs(runs)


@dataclasses.dataclass(frozen=True)
class Case:
    needs: tuple[str, ...]  # modules the snippet imports (pytest.importorskip)
    probe: str  # appended to the snippet; calls _save(...)
    check: Callable[[pathlib.Path, dict], None]  # (runs/, saved values)


def check_torch_loop(runs, saved):
    assert_report(runs, "torch", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])
    # The user's own scalar and the report share the SummaryWriter's run.
    assert scalars(runs, "torch", "loss")[4] == pytest.approx(saved["loss"], rel=1e-6)
    assert {("torch", "loss"), ("torch", "confusion_matrix")} <= run_tag_pairs(runs)


def check_lightning(runs, saved):
    run = os.path.relpath(saved["log_dir"], runs)
    assert run == os.path.join("lightning", "version_0")
    # Once per epoch: the sanity-check validation run is not logged.
    assert_report(runs, run, [0, 1, 2], saved["y_val"], saved["y_pred"])
    assert (run, "train_loss") in run_tag_pairs(runs)  # Lightning's own scalars, same run


def check_keras_torch(runs, saved):
    assert_report(runs, "keras_torch/validation_imbalance", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


def check_keras_jax(runs, saved):
    run = "keras_jax/validation_imbalance"
    epochs = list(range(saved["epochs"]))  # EarlyStopping may stop early
    assert_report(runs, run, epochs, saved["y_val"], saved["y_pred"])
    # The streaming metric Keras reports and the scalar the callback wrote agree.
    assert scalars(runs, run, "imbalance/balanced_accuracy")[epochs[-1]] == pytest.approx(
        saved["val_balanced_accuracy"], abs=1e-6
    )


def check_jax_loop(runs, saved):
    assert_report(runs, "jax", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


def check_sklearn(runs, saved):
    assert_report(runs, "sgd", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


def check_examples(runs, saved):
    from logdir_reader import examples as logged_examples

    run = "examples/validation_imbalance"
    assert_report(runs, run, [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])
    index, thumbnails = logged_examples(runs)[run][4]
    y_val, y_pred = np.array(saved["y_val"]), np.array(saved["y_pred"])
    cm = sk_confusion_matrix(y_val, y_pred, labels=range(3))
    assert {(c["true"], c["pred"]): c["count"] for c in index["cells"]} == {
        (int(i), int(j)): int(cm[i, j]) for i, j in zip(*np.nonzero(cm))
    }
    for cell in index["cells"]:
        assert 0 < len(cell["examples"]) <= 8
        for example in cell["examples"]:
            row = example["row"]
            assert (y_val[row], y_pred[row]) == (cell["true"], cell["pred"])
            assert example["id"] == saved["ids"][row] and example["kind"] == "image"
    assert len(thumbnails) == sum(len(c["examples"]) for c in index["cells"])


def check_numbers(runs, saved):
    y_true, y_pred = labels_from_matrix(np.array(saved["cm"]))
    expected = sk_classification_report(
        y_true, y_pred, labels=[0, 1, 2], target_names=NAMES, output_dict=True, zero_division=0
    )
    report = saved["report"]
    assert set(report) == set(expected)
    for key, value in expected.items():
        assert report[key] == pytest.approx(value), key
    assert saved["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))


def check_quick_keras(runs, saved):
    assert_report(runs, "quick_keras/validation_imbalance", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


def check_quick_torch(runs, saved):
    assert_report(runs, "quick_torch", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


def check_quick_jax(runs, saved):
    assert_report(runs, "quick_jax", [0, 1, 2, 3, 4], saved["y_val"], saved["y_pred"])


CASES: dict[str, Case] = {
    # The README's quick starts (the Keras one on whatever backend the environment has).
    "Keras/1": Case(
        ("keras",),
        """
_save(y_val=y[900:], y_pred=model.predict(x[900:], verbose=0).argmax(-1))
""",
        check_quick_keras,
    ),
    "PyTorch/1": Case(
        ("torch",),
        """
with torch.no_grad():
    _save(y_val=y[900:], y_pred=model(x[900:]).argmax(-1))
""",
        check_quick_torch,
    ),
    "JAX/1": Case(
        ("jax",),
        """
_save(y_val=y[900:], y_pred=_np.asarray(x[900:] @ w).argmax(-1))
""",
        check_quick_jax,
    ),
    # The guides under docs/.
    "Use with PyTorch/1": Case(
        ("torch",),
        """
with torch.no_grad():
    _save(y_val=y_val, y_pred=model(x_val).argmax(-1), loss=loss.item())
""",
        check_torch_loop,
    ),
    "Use with PyTorch/2": Case(
        ("torch", "pytorch_lightning"),
        """
model.eval()
with torch.no_grad():
    _save(y_val=y[900:], y_pred=model.net(torch.from_numpy(x[900:])).argmax(-1),
          log_dir=_os.path.abspath(trainer.logger.log_dir))
""",
        check_lightning,
    ),
    "Use with PyTorch/3": Case(
        ("torch", "keras"),
        """
_save(y_val=y[900:], y_pred=model.predict(x[900:], verbose=0).argmax(-1))
""",
        check_keras_torch,
    ),
    "Use with JAX/1": Case(
        ("jax", "keras"),
        """
_save(y_val=y_val, y_pred=model.predict(x_val, verbose=0).argmax(-1), epochs=len(model.history.epoch),
      val_balanced_accuracy=model.history.history["val_balanced_accuracy"][-1])
""",
        check_keras_jax,
    ),
    "Use with JAX/2": Case(
        ("jax",),
        """
_save(y_val=y_val, y_pred=_np.asarray(logits).argmax(-1))
""",
        check_jax_loop,
    ),
    "Use with scikit-learn/1": Case(
        ("sklearn",),
        """
_save(y_val=y_val, y_pred=model.predict(x_val))
""",
        check_sklearn,
    ),
    "The examples behind each cell/1": Case(
        ("keras",),
        """
_save(y_val=y_val, y_pred=model.predict(x_val, verbose=0).argmax(-1), ids=ids)
""",
        check_examples,
    ),
    "The numbers without TensorBoard/1": Case(
        (),
        """
_json.dump({"cm": cm.tolist(), "report": report,
            "balanced_accuracy": imbalance_metrics(cm)["balanced_accuracy"]}, open("expected.json", "w"))
""",
        check_numbers,
    ),
}


def test_cases_name_readme_snippets():
    """A renamed heading or a removed snippet fails here, not as a silent skip."""
    assert set(CASES) <= set(SNIPPETS), sorted(set(CASES) - set(SNIPPETS))


def test_every_guide_with_python_is_executed():
    """A new guide under docs/ with Python in it must join DOCUMENTS (and get its cases)."""
    for path in sorted((ROOT / "docs").glob("*.md")):
        document = f"docs/{path.name}"
        if document in NOT_GUIDES:
            continue
        has_python = "```python" in path.read_text(encoding="utf-8")
        assert not has_python or document in DOCUMENTS, f"{document} has python blocks but is not in DOCUMENTS"
    assert all((ROOT / document).is_file() for document in DOCUMENTS)
    # The README keeps a quick start per framework, each short.
    quick = {key: source for key, source in readme_snippets(README).items()}
    assert set(quick) == {"Keras/1", "PyTorch/1", "JAX/1"}, sorted(quick)
    for key, source in quick.items():
        assert len(source.strip().splitlines()) <= 15, key


@pytest.mark.parametrize("key", sorted(CASES))
def test_snippet(key, tmp_path):
    case = CASES[key]
    for module in case.needs:
        pytest.importorskip(module)
    saved = run_snippet(key, case.probe, tmp_path)
    case.check(tmp_path / "runs", saved)


def test_the_pytorch_guides_curves_of_batches_with_padding_rows_run_as_written(tmp_path):
    """docs/pytorch.md's inline recipe for a matrix counted elsewhere: its weighted calls, on rows padded with -1."""
    from tb_imbalance import core, log_matrix

    guide = " ".join((ROOT / "docs" / "pytorch.md").read_text(encoding="utf-8").split())
    ids_call = re.search(r"`(ids = core\.class_ids\([^`]*sample_weight=[^`]*\))`", guide).group(1)
    summary_call = re.search(r"`(core\.curve_summary\(probabilities\[ids\.positions\(\)\][^`]*)`", guide).group(1)
    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 2, 1, 0, 2, -1, -1])  # a last batch padded to 8 rows
    weights = labels != -1
    probabilities = rng.dirichlet(np.ones(3), size=8)
    namespace = {"core": core, "labels": labels, "probabilities": probabilities, "weights": weights}
    exec(ids_call, namespace)
    summed = eval(summary_call, namespace)
    kept = probabilities[:6]
    np.testing.assert_allclose(summed, core.curve_summary(kept, labels[:6], kept.argmax(axis=1)))
    cm = core.confusion_matrix(labels, probabilities, sample_weight=weights)
    np.testing.assert_array_equal(cm, sk_confusion_matrix(labels[:6], kept.argmax(axis=1), labels=range(3)))
    np.testing.assert_array_equal(log_matrix(str(tmp_path / "run"), cm, 0, curves=summed), cm)


def test_other_loops_names_every_fix_of_the_minus_one_and_one_labels_message(tmp_path):
    """docs/other-loops.md says what the refusal of labels -1 / 1 names: each fix it names, and no other."""
    import tb_imbalance

    guide = " ".join((ROOT / "docs" / "other-loops.md").read_text(encoding="utf-8").split())
    said = re.search(r"labels or predictions of `-1` and `1` alone are refused naming (.*?)\)\. When every label", guide).group(1)
    with pytest.raises(ValueError) as refused:
        tb_imbalance.log_report(str(tmp_path / "run"), [-1, 1, 1, -1], [0.2, 0.7, 0.4, 0.1], 0)
    fixes = {fix for fix in ("(labels == 1).astype(int)", "sample_weight=(labels != -1)") if fix in str(refused.value)}
    assert fixes == set(re.findall(r"`([^`]*\(labels [!=]= [^`]*)`", said)), (said, str(refused.value))
