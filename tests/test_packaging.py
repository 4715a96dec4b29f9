"""Packaging: the wheel ships every module and the frontend, registers the plugin
entry point, and `pip install tb_imbalance` alone (no deep-learning framework,
no matplotlib) gives the plugin and the framework-free writers."""

import json
import os
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("tensorflow", "tensorflow-cpu", "keras", "tf-keras", "torch", "jax", "jaxlib", "matplotlib")
# Top-level modules of FRAMEWORKS: none may be imported by the plugin or the writers.
FRAMEWORK_MODULES = ("tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "matplotlib")
EXTRAS = {
    "tensorflow": {"tensorflow"},
    "tensorflow-cpu": {"tensorflow-cpu"},
    "jax": {"jax", "keras"},
    "torch": {"torch", "keras"},
    "matplotlib": {"matplotlib"},
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), ROOT],
        check=True, capture_output=True, text=True, timeout=300,
    )
    (path,) = out.glob("tb_imbalance-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel_metadata(wheel):
    archive = zipfile.ZipFile(wheel)
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(archive.read(name).decode())


def requirements(meta):
    """{extra or None: set of canonical requirement names} from a wheel's METADATA."""
    found = {}
    for line in meta.get_all("Requires-Dist") or []:
        req = Requirement(line)
        extra = None
        if req.marker is not None:
            match = re.search(r'extra\s*==\s*"([^"]+)"', str(req.marker))
            assert match, f"unexpected marker without an extra: {line}"
            extra = canonicalize_name(match.group(1))
        found.setdefault(extra, set()).add(canonicalize_name(req.name))
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """The wheel installed (--no-deps) into a fresh --target folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return target


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


def test_wheel_ships_every_module_and_nothing_else(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = os.path.join(ROOT, "tb_imbalance")
    modules = {
        os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")
        for folder, dirs, files in os.walk(package)
        if "__pycache__" not in folder
        for name in files
        if name.endswith(".py")
    }
    # Subpackages (tb_imbalance.plugin, tb_imbalance.keras, ...) are found by find_packages.
    assert {"tb_imbalance/__init__.py", "tb_imbalance/plugin/__init__.py", "tb_imbalance/keras/__init__.py"} <= modules
    assert modules <= names, sorted(modules - names)
    strays = sorted(n for n in names if not n.startswith(("tb_imbalance/", "tb_imbalance-")))
    assert not strays, strays  # no tests/, demo/, bench/ in the wheel


def test_wheel_registers_the_tensorboard_plugin(wheel):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[tensorboard_plugins]" in text
    assert "imbalance = tb_imbalance.plugin:ImbalancePluginLoader" in text
    (metadata_name,) = [n for n in archive.namelist() if n.endswith("METADATA")]
    meta = archive.read(metadata_name).decode()
    assert "Requires-Python: >=3.10" in meta
    assert "Requires-Dist: tensorflow>=2.16; extra == \"tensorflow\"" in meta
    assert not any(line.startswith("Requires-Dist: tensorflow") and "extra" not in line for line in meta.splitlines())


def test_no_framework_is_a_hard_dependency(wheel_metadata):
    hard = requirements(wheel_metadata).get(None, set())
    assert {"numpy", "tensorboard", "pillow", "google-crc32c"} <= hard, hard
    assert not hard & set(FRAMEWORKS), sorted(hard & set(FRAMEWORKS))


def test_every_backend_has_its_extra(wheel_metadata):
    provided = {canonicalize_name(e) for e in wheel_metadata.get_all("Provides-Extra") or []}
    assert set(EXTRAS) <= provided, sorted(set(EXTRAS) - provided)
    by_extra = requirements(wheel_metadata)
    for extra, needed in EXTRAS.items():
        assert needed <= by_extra.get(extra, set()), (extra, by_extra.get(extra))


def test_installed_wheel_serves_static_files_without_tensorflow(installed, tmp_path):
    target = installed
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


def hard_dependency_closure(meta):
    """The installed distributions that `pip install tb_imbalance` (no extras) pulls in."""
    seen = {}
    todo = list(meta.get_all("Requires-Dist") or [])
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name not in seen:
            seen[name] = metadata.distribution(name)
            todo.extend(seen[name].requires or [])
    return seen


def test_plain_install_logs_reports_without_any_framework(wheel_metadata, installed, tmp_path):
    """Only the wheel and its hard dependencies on the path (no site-packages):
    the plugin loads through its entry point, log_report and ReportWriter write
    event files with the picture (Pillow's font) and the fast CRC."""
    closure = hard_dependency_closure(wheel_metadata)
    assert not set(closure) & set(FRAMEWORKS), sorted(set(closure) & set(FRAMEWORKS))
    deps = tmp_path / "deps"  # a site folder holding just those distributions (symlinks)
    deps.mkdir()
    for dist in closure.values():
        tops = {str(f).replace("\\", "/").split("/")[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            source = dist.locate_file(top)
            if os.path.exists(source) and not (deps / top).exists():
                (deps / top).symlink_to(source)
    probe = (
        "import json, os, sys\n"
        "import tb_imbalance\n"
        "from importlib.metadata import entry_points\n"
        "(ep,) = [e for e in entry_points(group='tensorboard_plugins') if e.name == 'imbalance']\n"
        "loader = ep.load()\n"
        "run, other = sys.argv[1], sys.argv[2]\n"
        "cm = tb_imbalance.log_report(run, [0, 0, 1, 2, 2], [0, 1, 1, 2, 0], step=0, class_names=['a', 'b', 'c'])\n"
        "with tb_imbalance.ReportWriter(other) as writer:\n"
        "    writer.write_matrix(3, 'confusion_matrix', cm, ['a', 'b', 'c'])\n"
        "print(json.dumps({'file': tb_imbalance.__file__, 'loader': loader.__name__, 'cm': cm.tolist(),\n"
        "                  'modules': sorted({m.split('.')[0] for m in sys.modules}),\n"
        "                  'files': {d: sorted(os.listdir(d)) for d in (run, other)}}))\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "KERAS_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(installed), str(deps)])
    run, other = tmp_path / "run", tmp_path / "other"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(run), str(other)],  # -S: no site-packages, only PYTHONPATH
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["file"].startswith(str(installed))
    assert report["loader"] == "ImbalancePluginLoader"
    assert report["cm"] == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert not set(report["modules"]) & set(FRAMEWORK_MODULES), sorted(set(report["modules"]) & set(FRAMEWORK_MODULES))
    assert "google_crc32c" in report["modules"]  # the fast CRC, not TensorBoard's pure-Python one
    assert "PIL" in report["modules"]  # the picture was drawn
    for folder, files in report["files"].items():
        events = [f for f in files if f.startswith("events.out.tfevents.")]
        assert len(events) == 1, (folder, files)
        assert os.path.getsize(os.path.join(folder, events[0])) > 1000  # matrix, scalars and a PNG
