"""Import boundaries, checked where the frameworks are really installed.

In the JAX and PyTorch environments the framework is importable, so these
checks can fail for real: the plugin loads no framework, and the writers
load only what their caller already uses.
"""

import json
import subprocess
import sys

FRAMEWORKS = {"tensorflow", "keras", "jax", "torch", "matplotlib"}


def loaded_top_level(code):
    probe = f"{code}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


def test_plugin_loads_no_framework_and_no_writer():
    # Every module of the plugin's folder, also one the package does not import itself.
    loaded = loaded_top_level(
        "import importlib, pkgutil, tb_imbalance.plugin as plugin; "
        "[importlib.import_module(f'tb_imbalance.plugin.{m.name}') for m in pkgutil.iter_modules(plugin.__path__)]"
    )
    assert "tb_imbalance" in loaded
    assert not loaded & (FRAMEWORKS | {"PIL"})


def test_writers_load_no_framework():
    code = (
        "import tempfile, tb_imbalance\n"
        "with tempfile.TemporaryDirectory() as run_dir:\n"
        "    tb_imbalance.log_report(run_dir, [0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], 0)"
    )
    assert not loaded_top_level(code) & FRAMEWORKS
