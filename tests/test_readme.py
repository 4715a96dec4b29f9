"""Every Python snippet in the README runs, and the README's commands exist."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_snippets_and_no_placeholders():
    assert len(SNIPPETS) >= 4
    assert "PLACEHOLDER" not in README


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs(index, tmp_path):
    script = tmp_path / f"snippet_{index}.py"
    script.write_text(SNIPPETS[index], encoding="utf-8")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, f"snippet {index} failed:\n{SNIPPETS[index]}\n{result.stderr[-3000:]}"
    if "runs/" in SNIPPETS[index]:
        assert (tmp_path / "runs").is_dir()


def test_the_two_commands_exist():
    commands = re.findall(r"^make (\w+)", README, flags=re.M)
    assert commands[:2] == ["demo", "test"]
    makefile = open(os.path.join(ROOT, "Makefile"), encoding="utf-8").read()
    assert re.search(r"^demo: setup$", makefile, flags=re.M)
    assert re.search(r"^test: setup browser$", makefile, flags=re.M)
    assert "make test" in open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
