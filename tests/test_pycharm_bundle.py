"""The server inside the PyCharm plugin: the bundle `make pycharm-bundle` builds (scripts/server_bundle.py, the same
code as the .vsix's), laid out as the Gradle build packs it (the plugin's folder gets it as `server/`), started as
the plugin's compiled core decides (dev.metaflowlsp.core.ServerLaunch: the real probe of the interpreter, then the
command line and PYTHONPATH) with a fresh venv's interpreter that has nothing installed; a real LSP client gets its
diagnostics, on every CPython 3.10-3.13 found on the machine.

What only the networked workflow (.github/workflows/pycharm-plugin.yml) checks: that Gradle's prepareSandbox really
copies this folder into the zip, and the IntelliJ-facing classes that call the core.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_pycharm_plugin import _classpath, core_classes  # noqa: F401 (a fixture)
from test_vsix import assert_bundled_server_answers, pythons
from test_wheel import clean_env

pytestmark = pytest.mark.slow  # builds the wheel and fetches a platform's wheels (about 20 s), then venvs per Python

TARGET = "linux-x64"


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """The plugin's installed folder as far as the server is concerned: `server/` is the bundle, built as
    `make pycharm-bundle` builds it (for this machine's platform only)."""
    folder = tmp_path_factory.mktemp("plugin") / "metaflow-lsp-pycharm"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "server_bundle.py"), "--target", TARGET,
                             "--out", str(folder / "server")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


def launch_for(core_classes, interpreter: str, plugin: Path, strategy: str = "useBundled") -> dict:  # noqa: F811
    java, classes = core_classes
    result = subprocess.run([java, "-cp", _classpath(classes), "dev.metaflowlsp.core.LaunchCheck", interpreter,
                             str(plugin), strategy], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_bundle_layout_is_what_the_core_looks_for(plugin):
    bundle = plugin / "server"
    layout = json.loads((bundle / "layout.json").read_text())
    assert layout["targets"] == [TARGET] and layout["pythons"] == ["3.10", "3.11", "3.12", "3.13"]
    libs = bundle / "libs"
    # The server is the project's wheel unpacked: the same files as the package in server/.
    for source in (ROOT / "server" / "metaflow_lsp").rglob("*.py"):
        bundled = libs / "metaflow_lsp" / source.relative_to(ROOT / "server" / "metaflow_lsp")
        assert bundled.read_bytes() == source.read_bytes(), bundled
    assert (libs / "metaflow_lsp" / "docs" / "rules" / "MF201.md").is_file()
    assert {"pygls", "lsprotocol", "attrs", "cattrs"} <= {path.name for path in libs.iterdir()}
    assert not (libs / "libcst").exists()  # compiled: one copy per platform and Python version
    for minor in range(10, 14):
        [native] = (bundle / "native" / TARGET / f"cp3{minor}" / "libcst").glob("native.*.so")
        assert native.name == f"native.cpython-3{minor}-x86_64-linux-gnu.so"
    assert sorted(path.name for path in bundle.iterdir()) == ["layout.json", "libs", "native"]  # no debugger:
    # PyCharm debugs with its own


@pytest.mark.parametrize("base_python", pythons())
async def test_plugin_core_starts_the_bundle_with_an_empty_interpreter(core_classes, plugin, base_python,  # noqa: F811
                                                                      tmp_path):
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    python = str(tmp_path / "venv" / "bin" / "python")
    launch = launch_for(core_classes, python, plugin)
    assert "problem" not in launch, launch
    minor = subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert launch["command"] == [python, "-m", "metaflow_lsp"] and launch["cwd"] == str(plugin)
    assert launch["env"]["PYTHONPATH"] == f"{plugin}/server/native/{TARGET}/cp3{minor}:{plugin}/server/libs"
    assert launch["source"] == "bundled server"
    env = {**clean_env(), **launch["env"]}

    await assert_bundled_server_answers(launch["command"], launch["cwd"], env, python, tmp_path)


def test_missing_or_too_old_interpreter_is_one_message_with_the_fix(core_classes, plugin, tmp_path):  # noqa: F811
    old = tmp_path / "python3.8"  # what the probe reads from an old interpreter, without needing one installed
    old.write_text('#!/bin/sh\necho \'{"version": [3, 8], "platform": "linux", "machine": "x86_64", '
                   '"hasServer": false}\'\n')
    old.chmod(0o755)
    assert launch_for(core_classes, str(old), plugin) == {"problem": (
        f"Metaflow LSP needs Python 3.10 or newer; {old} is Python 3.8. Choose a Python 3.10 or newer interpreter "
        "in Settings | Project | Python Interpreter.")}
    missing = launch_for(core_classes, str(tmp_path / "nowhere" / "python"), plugin)
    assert missing == {"problem": f"Metaflow LSP: the Python interpreter {tmp_path / 'nowhere' / 'python'} does not "
                                  "exist. Choose a Python 3.10 or newer interpreter in Settings | Project | Python "
                                  "Interpreter."}
