"""Packaging: the wheel ships the frontend and registers the plugin entry point."""

import os
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), ROOT],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (path,) = out.glob("tb_imbalance-*.whl")
    return path


def test_wheel_contains_every_frontend_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    static = os.path.join(ROOT, "plugin_static")
    shipped = {
        "tb_imbalance/plugin_static/" + os.path.relpath(os.path.join(folder, name), static).replace(os.sep, "/")
        for folder, _, files in os.walk(static)
        for name in files
    }
    assert "tb_imbalance/plugin_static/index.js" in shipped
    assert shipped <= names, shipped - names


def test_wheel_registers_the_tensorboard_plugin(wheel):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[tensorboard_plugins]" in text
    assert "imbalance = tb_imbalance.plugin:ImbalancePluginLoader" in text
    (metadata,) = [n for n in archive.namelist() if n.endswith("METADATA")]
    meta = archive.read(metadata).decode()
    assert "Requires-Python: >=3.10" in meta
    assert "Requires-Dist: tensorflow>=2.16; extra == \"tensorflow\"" in meta
    assert not any(line.startswith("Requires-Dist: tensorflow") and "extra" not in line for line in meta.splitlines())


def test_installed_wheel_serves_static_files_without_tensorflow(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    probe = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'keras', 'matplotlib'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import tb_imbalance.plugin as plugin, tb_imbalance\n"
        "print(tb_imbalance.__file__)\n"
        "from importlib.metadata import entry_points\n"
        "(ep,) = [e for e in entry_points(group='tensorboard_plugins') if e.name == 'imbalance']\n"
        "print(ep.load().__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr
    installed_file, loader_name = result.stdout.split()
    assert installed_file.startswith(str(target))
    assert loader_name == "ImbalancePluginLoader"
    assert (target / "tb_imbalance" / "plugin_static" / "index.js").is_file()
