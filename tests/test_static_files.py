"""The dashboard's static files (:mod:`tb_imbalance.plugin.static`): served with their content type, nothing outside the folder.

Through TensorBoard's WSGI app over the ``logdir`` fixture of ``tests/support.py``.
"""

from __future__ import annotations

import json
import os

import pytest
from werkzeug import test as werkzeug_test

from support import client, logdir  # noqa: F401  (pytest fixtures, used by name)
from support import PLUGIN_ROUTE
from support import client_and_plugin as _client
from support import plugin_provider as _provider
from tb_imbalance.plugin import errors as plugin_errors
from tb_imbalance.plugin import static as plugin_static


@pytest.fixture()
def static_client(tmp_path, logdir) -> werkzeug_test.Client:
    static = tmp_path / "static_root"
    (static / "views").mkdir(parents=True)
    (static / "index.js").write_text("export function render() {}\n")
    (static / "views" / "table.js").write_text("export const table = 1;\n")
    (static / "styles.css").write_text("body { color: black; }\n")
    (static / "page.html").write_text("<p>hello</p>\n")
    (static / "icon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    (static / "notes.txt").write_text("not served\n")
    (static / "module.py").write_text("print('not served')\n")
    (tmp_path / "secret.js").write_text("export const secret = 42;\n")
    os.symlink(tmp_path / "secret.js", static / "escape.js")
    data_provider, _ = _provider(logdir.path)
    return _client(data_provider, static_dir=static)[0]


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("index.js", "text/javascript", "export function render() {}\n"),
        ("static/views/table.js", "text/javascript", "export const table = 1;\n"),
        ("static/styles.css", "text/css", "body { color: black; }\n"),
        ("static/page.html", "text/html", "<p>hello</p>\n"),
        ("static/icon.svg", "image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>\n"),
    ],
)
def test_static_files_are_served_with_their_content_type(static_client, path, content_type, body):
    response = static_client.get(f"{PLUGIN_ROUTE}/{path}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data(as_text=True) == body


@pytest.mark.parametrize(
    "path",
    [
        "static/missing.js",
        "static/views",
        "static/views/",
        "static/notes.txt",
        "static/module.py",
        "static/../secret.js",
        "static/views/../../secret.js",
        "static/%2e%2e/secret.js",
        "static/%2E%2E/%2E%2E/tb_imbalance/plugin/backend.py",
        "static/..%2fsecret.js",
        "static//etc/passwd",
        "static/escape.js",
        "static/views%5c..%5c..%5csecret.js",
        "static/",
    ],
)
def test_static_paths_outside_the_folder_or_unknown_are_404(static_client, path):
    response = static_client.get(f"{PLUGIN_ROUTE}/{path}")
    assert response.status_code == 404
    assert b"secret" not in response.get_data().replace(b"secret.js", b"")


def test_a_long_static_path_is_cut_in_the_404(static_client):
    response = static_client.get(f"{PLUGIN_ROUTE}/static/" + "a" * 20_000 + ".js")
    assert response.status_code == 404
    assert json.loads(response.get_data()) == {"error": "no static file '" + "a" * 100 + "'…"}
    assert json.loads(static_client.get(f"{PLUGIN_ROUTE}/static/%2e%2e/setup.py").get_data()) == {
        "error": "no static file '../setup.py'"}


@pytest.mark.parametrize(
    "relative_path",
    ["../secret.js", "views/../../secret.js", "/etc/passwd", "escape.js", "views\\..\\..\\secret.js",
     "views//table.js", "./index.js", "index.js\x00.js", "", "views"],
)
def test_read_static_file_refuses_paths_leaving_the_folder(tmp_path, relative_path):
    static = tmp_path / "static_root"
    (static / "views").mkdir(parents=True)
    (static / "index.js").write_text("export function render() {}\n")
    (static / "views" / "table.js").write_text("export const table = 1;\n")
    (tmp_path / "secret.js").write_text("export const secret = 42;\n")
    os.symlink(tmp_path / "secret.js", static / "escape.js")
    assert plugin_static.read_static_file(static, "views/table.js")[1] == "text/javascript"
    with pytest.raises(plugin_errors.NotFoundError):
        plugin_static.read_static_file(static, relative_path)


def test_index_js_comes_from_the_project_static_folder(client):
    static_dir = plugin_static.find_static_dir()
    assert static_dir is not None and (static_dir / "index.js").is_file()
    response = client.get(f"{PLUGIN_ROUTE}/index.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.get_data() == (static_dir / "index.js").read_bytes()


def test_static_folder_inside_the_package_wins(tmp_path, monkeypatch):
    package = tmp_path / "tb_imbalance"
    (package / "plugin").mkdir(parents=True)
    (package / "plugin_static").mkdir()
    (tmp_path / "plugin_static").mkdir()
    monkeypatch.setattr(plugin_static, "__file__", str(package / "plugin" / "static.py"))
    assert plugin_static.find_static_dir() == (package / "plugin_static").resolve()
    (package / "plugin_static").rmdir()
    assert plugin_static.find_static_dir() == (tmp_path / "plugin_static").resolve()
    (tmp_path / "plugin_static").rmdir()
    assert plugin_static.find_static_dir() is None
