"""The self-contained .vsix (`make vsix`, scripts/build_vsix.py), taken apart and run as VS Code runs it.

The linux-x64 .vsix is built from the project's wheel and unpacked; the extension's own launch code
(vscode-extension/src/serverLaunch.ts and serverCheck.ts, compiled, run by Node) decides the command, folder and
PYTHONPATH for an interpreter that has nothing installed; the server started that way answers a real LSP client,
and libcst's native parser imports from the bundle, on every CPython 3.10-3.13 found on the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from conftest import ROOT
from metaflow_lsp import __version__
from test_lsp_session import TIMEOUT, capabilities, open_document, pull, stop, write
from test_wheel import FLOW, clean_env

pytestmark = pytest.mark.slow  # builds the wheel and the .vsix (about 30 s), then venvs per Python

EXTENSION = ROOT / "vscode-extension"
TARGET = "linux-x64"
# What the extension would start, printed as JSON by its own compiled code.
LAUNCH = """
const [interpreter, extensionPath, strategy] = JSON.parse(process.argv[1]);
const { probeInterpreter } = require("./out/src/serverCheck.js");
const { serverProcess } = require("./out/src/serverLaunch.js");
probeInterpreter(interpreter, extensionPath).then((facts) => {
  const launch = "problem" in facts ? facts : serverProcess(interpreter, extensionPath, facts, strategy);
  process.stdout.write(JSON.stringify(launch));
});
"""


def pythons() -> list[str]:
    """CPython 3.10-3.13 interpreters on this machine (PATH, then pyenv's folders); this test's own at least."""
    found = {f"{sys.version_info[0]}.{sys.version_info[1]}": sys.executable}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in range(10, 14):
        version = f"3.{minor}"
        candidates = [*sorted(pyenv.glob(f"{version}.*/bin/python{version}")), shutil.which(f"python{version}")]
        usable = [str(c) for c in candidates if c and Path(c).exists() and "/shims/" not in str(c)]  # pyenv's shims
        found.setdefault(version, usable[0] if usable else None)  # only run the globally selected version
    return [path for version, path in sorted(found.items()) if path]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("vsix")
    for command in (["npm", "run", "--silent", "compile"],
                    [sys.executable, str(ROOT / "scripts" / "build_vsix.py"), "--target", TARGET, "--out", str(out)]):
        result = subprocess.run(command, cwd=EXTENSION if command[0] == "npm" else ROOT, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    vsix = out / f"metaflow-lsp-{TARGET}-{__version__}.vsix"
    unpacked = out / "unpacked"
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(unpacked)
    return {"vsix": vsix, "extension": unpacked / "extension"}


def launch_for(interpreter: str, extension: Path, strategy: str = "useBundled") -> dict:
    result = subprocess.run(["node", "-e", LAUNCH, json.dumps([[interpreter], str(extension), strategy])],
                            cwd=EXTENSION, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_vsix_holds_client_server_and_one_native_folder_per_python(built):
    extension = built["extension"]
    manifest = json.loads((extension / "package.json").read_text())
    assert manifest["version"] == __version__  # the extension and the server it carries share a version
    assert (extension / manifest["main"].removeprefix("./")).is_file()
    assert not (extension / "node_modules").exists()  # esbuild put vscode-languageclient into out/extension.js
    libs = extension / "bundled" / "libs"
    # The server is the project's wheel unpacked: the same files as the package in server/.
    for source in (ROOT / "server" / "metaflow_lsp").rglob("*.py"):
        bundled = libs / "metaflow_lsp" / source.relative_to(ROOT / "server" / "metaflow_lsp")
        assert bundled.read_bytes() == source.read_bytes(), bundled
    assert (libs / "metaflow_lsp" / "docs" / "rules" / "MF011.md").is_file()
    assert {"pygls", "lsprotocol", "attrs", "cattrs"} <= {path.name for path in libs.iterdir()}
    assert not (libs / "libcst").exists()  # compiled: one copy per Python version
    for minor in range(10, 14):
        [native] = (extension / "bundled" / "native" / f"cp3{minor}" / "libcst").glob("native.*.so")
        assert native.name == f"native.cpython-3{minor}-x86_64-linux-gnu.so"
    assert (extension / "bundled" / "debugger" / "debugpy" / "adapter" / "__main__.py").is_file()
    # The graph view's page: dagre bundled into the one script the webview may load (from media/, its only
    # localResourceRoot), its licence beside it; nothing in it reaches the network.
    page = (extension / "media" / "graphView.js").read_text(encoding="utf-8")
    assert (extension / "media" / "graph.css").is_file()
    assert "Chris Pettitt" in (extension / "media" / "dagre.LICENSE.txt").read_text(encoding="utf-8")
    assert re.findall(r"https?://[^\s\"'`)]+", page) == ["http://www.w3.org/2000/svg"]  # the SVG namespace
    for network in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "importScripts"):
        assert network not in page, network
    # The walkthrough a new user sees first: its page is packaged, its links name commands that exist.
    contributed = {command["command"] for command in manifest["contributes"]["commands"]}
    for walkthrough in manifest["contributes"]["walkthroughs"]:
        for step in walkthrough["steps"]:
            assert (extension / step["media"]["markdown"]).is_file(), step
            for command in re.findall(r"\(command:([\w.]+)", step["description"]):
                assert command in contributed or command.startswith("workbench."), (step["id"], command)
    print(f"{built['vsix'].name}: {built['vsix'].stat().st_size / 1e6:.1f} MB")


@pytest.mark.parametrize("base_python", pythons())
async def test_bundled_server_runs_with_an_empty_interpreter(built, base_python, tmp_path):
    """A venv with nothing installed; the extension's launch code picks the bundle; the server answers; libcst's
    native parser imports; the venv still has none of the server's packages afterwards."""
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    python = str(tmp_path / "venv" / "bin" / "python")
    extension = built["extension"]
    launch = launch_for(python, extension)
    assert "problem" not in launch, launch
    assert launch["cwd"] == str(extension) and launch["args"] == ["-m", "metaflow_lsp"]
    env = {**clean_env(), **launch["env"]}

    await assert_bundled_server_answers([launch["command"], *launch["args"]], launch["cwd"], env, python, tmp_path)


def test_too_old_or_missing_interpreter_is_one_clear_message(built, tmp_path):
    old = tmp_path / "python3.8"  # what the probe reads from an old interpreter, without needing one installed
    old.write_text('#!/bin/sh\necho \'{"version": [3, 8], "hasServer": false}\'\n')
    old.chmod(0o755)
    assert launch_for(str(old), built["extension"]) == {"problem": (
        f"Metaflow LSP needs Python 3.10 or newer; {old} is Python 3.8. Choose a newer interpreter with "
        '"Python: Select Interpreter" or the setting metaflowLsp.interpreter.')}
    missing = launch_for(str(tmp_path / "nowhere" / "python"), built["extension"])
    assert "does not exist" in missing["problem"] and "metaflowLsp.interpreter" in missing["problem"]


async def test_bundled_server_runs_no_workspace_module(built, tmp_path):
    """The bundled launch against a workspace that shadows the stdlib, the server's dependencies and metaflow_lsp
    itself (tests/security): diagnostics and a libcst edit work, and none of those modules runs."""
    from security.test_startup import hostile_workspace, ran

    markers = tmp_path / "markers"
    markers.mkdir()
    workspace = tmp_path / "workspace"
    flow = hostile_workspace(workspace, markers)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    launch = launch_for(str(tmp_path / "venv" / "bin" / "python"), built["extension"])
    client = make_test_lsp_client()
    await client.start_io(launch["command"], *launch["args"], env={**clean_env(), **launch["env"]},
                          cwd=launch["cwd"])
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=workspace.as_uri(), initialization_options={"trusted": True},
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)])), TIMEOUT)
        uri = open_document(client, flow)
        report = await pull(client, uri)
        assert "MF011" in {item.code for item in report.items}
        line = flow.read_text().splitlines().index("        self.next(self.trian)")
        actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 8), end=types.Position(line, 29)),
            context=types.CodeActionContext(diagnostics=[]))), TIMEOUT)
        extract = next(action for action in actions if action.title.startswith("Extract body of step"))
        resolved = await asyncio.wait_for(client.code_action_resolve_async(extract), TIMEOUT)  # imports libcst
        assert resolved.edit is not None, resolved
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)
    assert ran(markers) == []


async def assert_bundled_server_answers(command: list[str], cwd: str, env: dict[str, str], python: str,
                                        tmp_path: Path) -> None:
    """What an editor's bundled server must do with an interpreter that has nothing installed (the .vsix's and the
    PyCharm plugin's): libcst's native parser imports, the server answers `initialize` and reports MF011 on a flow,
    and the interpreter still has none of the server's packages afterwards."""
    parses = subprocess.run([python, "-c", "import libcst, libcst.native; print(libcst.parse_module('x = 1').code)"],
                            cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert (parses.returncode, parses.stdout.strip()) == (0, "x = 1"), parses.stderr

    work = tmp_path / "project"
    path = write(work, "flows/tiny.py", FLOW)
    client = make_test_lsp_client()
    await client.start_io(command[0], *command[1:], env=env, cwd=cwd)
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=work.as_uri(), initialization_options={"trusted": True},
            workspace_folders=[types.WorkspaceFolder(uri=work.as_uri(), name=work.name)])), TIMEOUT)
        assert (result.server_info.name, result.server_info.version) == ("metaflow-lsp", __version__)
        report = await pull(client, open_document(client, path))
        assert [item.code for item in report.items if item.code == "MF011"] == ["MF011"]
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)

    left = subprocess.run([python, "-c", "import importlib.util as u; print([m for m in ('metaflow_lsp', 'pygls', "
                           "'lsprotocol', 'libcst') if u.find_spec(m)])"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=60)
    assert left.stdout.strip() == "[]", left
