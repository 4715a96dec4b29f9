"""How TensorBoard finds and loads the plugin: its metadata, the loader's entry point and flags, what importing it loads.

The loader keeps every logged step unless ``--samples_per_plugin`` says
otherwise. The logdir is the ``logdir`` fixture of ``tests/support.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest
from tensorboard import program
from tensorboard.backend.event_processing import data_ingester
from tensorboard.plugins import base_plugin
from tensorboard.plugins.core import core_plugin

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import NUM_STEPS, TAG
from support import client_and_plugin as _client
from support import loader_tensor_size_guidance as _tensor_size_guidance
from support import plugin_provider as _provider
from support import route_json as _get
from tb_imbalance.plugin import ImbalancePlugin, ImbalancePluginLoader


# --------------------------------------------------------------------------
# plugin metadata
# --------------------------------------------------------------------------


def test_plugin_metadata(logdir, tmp_path):
    data_provider, _ = _provider(logdir.path)
    _, plugin = _client(data_provider)
    metadata = plugin.frontend_metadata()
    assert metadata.es_module_path == "/index.js"
    assert metadata.tab_name == "Imbalance"
    assert plugin.plugin_name == "imbalance"
    assert tuple(plugin.data_plugin_names()) == ("imbalance",)
    assert plugin.is_active() is True
    make_logdir_without_matrices = _provider(tmp_path)[0]
    assert _client(make_logdir_without_matrices)[1].is_active() is False
    assert _client(None)[1].is_active() is False


# --------------------------------------------------------------------------
# the loader and --samples_per_plugin
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {"imbalance": 0}),
        ("", {"imbalance": 0}),
        (None, {"imbalance": 0}),
        ({"images": 3}, {"images": 3, "imbalance": 0}),
        ({"imbalance": 5}, {"imbalance": 5}),
        ("imbalance=7,scalars=100", {"imbalance": 7, "scalars": 100}),
        ("scalars=100", {"scalars": 100, "imbalance": 0}),
    ],
)
def test_fix_flags_keeps_all_steps_unless_told_otherwise(given, expected):
    flags = argparse.Namespace(samples_per_plugin=given)
    ImbalancePluginLoader().fix_flags(flags)
    assert flags.samples_per_plugin == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # TensorBoard's parser turns `imbalance = 5` into {"imbalance ": 5}: read as the plugin's count.
        ({"imbalance ": 5}, {"imbalance": 5}),
        ({" imbalance\t": 5}, {"imbalance": 5}),
        ({"images ": 3, "imbalance ": 5}, {"images ": 3, "imbalance": 5}),
        # `imbalance=5,imbalance =7`: the later count wins, as TensorBoard does for a repeated name.
        ({"imbalance": 5, "imbalance ": 7}, {"imbalance": 7}),
        ("imbalance = 5", {"imbalance": 5}),
        ("images=3, imbalance = 5", {"images": 3, "imbalance": 5}),
    ],
)
def test_fix_flags_reads_a_padded_imbalance_name_as_imbalance(given, expected):
    flags = argparse.Namespace(samples_per_plugin=given)
    ImbalancePluginLoader().fix_flags(flags)
    assert flags.samples_per_plugin == expected


def test_fix_flags_refuses_a_padded_imbalance_name_with_a_negative_count():
    with pytest.raises(base_plugin.FlagsError, match=r"^--samples_per_plugin imbalance=-1: .*pass imbalance=0"):
        ImbalancePluginLoader().fix_flags(argparse.Namespace(samples_per_plugin={"imbalance ": -1}))


def test_fix_flags_without_the_flag_and_with_a_malformed_one():
    flags = argparse.Namespace()
    ImbalancePluginLoader().fix_flags(flags)
    assert flags.samples_per_plugin == {"imbalance": 0}
    with pytest.raises(base_plugin.FlagsError, match="samples_per_plugin"):
        ImbalancePluginLoader().fix_flags(argparse.Namespace(samples_per_plugin="imbalance"))


@pytest.mark.parametrize("given", ["imbalance=-1", {"imbalance": -1}, {"imbalance": "all"}, {"imbalance": True}])
def test_fix_flags_refuses_a_retention_tensorboard_cannot_keep(given):
    # A negative count makes TensorBoard's Python loader fail every read of the series (each run
    # answered 503) and keeps its data server from starting: refused when TensorBoard starts.
    flags = argparse.Namespace(samples_per_plugin=given)
    with pytest.raises(base_plugin.FlagsError) as raised:
        ImbalancePluginLoader().fix_flags(flags)
    shown = "-1" if given in ("imbalance=-1", {"imbalance": -1}) else repr(given["imbalance"])
    assert str(raised.value) == (
        f"--samples_per_plugin imbalance={shown}: the steps to keep of each run and tag must be a count of 0 "
        "or more, where 0 keeps every step; pass imbalance=0, or leave imbalance out of the flag to keep every step"
    )


def test_tensorboard_refuses_a_negative_retention_at_start(tmp_path):
    board = program.TensorBoard(plugins=[core_plugin.CorePluginLoader, ImbalancePluginLoader])
    with pytest.raises(base_plugin.FlagsError, match=r"^--samples_per_plugin imbalance=-1: .*pass imbalance=0"):
        board.configure(["tensorboard", "--logdir", str(tmp_path), "--samples_per_plugin", "imbalance=-1"])


@pytest.mark.parametrize(
    ("argv", "kwargs", "expected"),
    [
        ([], {}, {"imbalance": 0}),
        (["--samples_per_plugin", "imbalance=5"], {}, {"imbalance": 5}),
        (["--samples_per_plugin", "images=2"], {}, {"images": 2, "imbalance": 0}),
        ([], {"samples_per_plugin": "imbalance=3"}, {"imbalance": 3}),
        (["--samples_per_plugin", "imbalance = 5"], {}, {"imbalance": 5}),
        (["--samples_per_plugin", "images=3 , imbalance =5"], {}, {"images": 3, "imbalance": 5}),
        ([], {"samples_per_plugin": "images=3, imbalance = 5"}, {"images": 3, "imbalance": 5}),
    ],
)
def test_tensorboard_program_calls_fix_flags(tmp_path, argv, kwargs, expected):
    board = program.TensorBoard(plugins=[core_plugin.CorePluginLoader, ImbalancePluginLoader])
    board.configure(["tensorboard", "--logdir", str(tmp_path), *argv], **kwargs)
    assert board.flags.samples_per_plugin == expected


@pytest.mark.parametrize(
    ("samples_per_plugin", "expected_steps"),
    [({}, NUM_STEPS), ({"imbalance": 5}, 5)],
)
def test_retention_follows_the_fixed_flags(logdir, samples_per_plugin, expected_steps):
    data_provider, _ = _provider(logdir.path, _tensor_size_guidance(samples_per_plugin))
    payload = _get(_client(data_provider)[0], "report", run="baseline", tag=TAG)
    assert len(payload["steps"]) == expected_steps
    assert payload["step"] == NUM_STEPS - 1


def test_without_the_loader_tensorboard_keeps_only_ten_steps(logdir):
    data_provider, _ = _provider(logdir.path, dict(data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE))
    assert len(_get(_client(data_provider)[0], "report", run="baseline", tag=TAG)["steps"]) == 10


def test_loader_is_the_installed_entry_point():
    from importlib import metadata

    (entry_point,) = [
        point for point in metadata.entry_points(group="tensorboard_plugins") if point.name == "imbalance"
    ]
    assert entry_point.load() is ImbalancePluginLoader
    plugin = ImbalancePluginLoader().load(base_plugin.TBContext(data_provider=None))
    assert isinstance(plugin, ImbalancePlugin)


def test_importing_the_plugin_loads_no_tensorflow_keras_or_matplotlib():
    # Every module of the plugin's folder, also one the package does not import itself.
    code = (
        "import sys, json, pkgutil, importlib; import tb_imbalance.plugin as plugin; "
        "names = [f'tb_imbalance.plugin.{m.name}' for m in pkgutil.iter_modules(plugin.__path__)]; "
        "[importlib.import_module(name) for name in names]; "
        "print(json.dumps([names, sorted(sys.modules)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    names, modules = json.loads(result.stdout)
    modules = set(modules)
    assert {"tb_imbalance.plugin.backend", "tb_imbalance.plugin.examples_reader", "tb_imbalance.plugin.offers"} <= set(names)
    assert set(names) <= modules
    forbidden = {"tensorflow", "keras", "jax", "torch", "matplotlib", "PIL", "tb_imbalance.summary",
                 "tb_imbalance.keras", "tb_imbalance.image", "tb_imbalance.log", "tb_imbalance.writer"}
    loaded = {name for name in modules if name.split(".")[0] in forbidden or name in forbidden}
    assert not loaded
