"""No code from the workspace runs when the server starts, works, or starts a subprocess (the spin probe).

The workspace shadows modules the server or its probe import (stdlib, its dependencies, metaflow_lsp itself) with
files that leave a marker outside the workspace. The server is started as VS Code, PyCharm and other editors start
it, asked for what makes it import lazily (pyproject settings, lenses and the spin probe, a libcst quick fix), and
must answer normally afterwards; then the CLI runs over the same workspace (with a process pool).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import CONSOLE_SCRIPT, LAUNCHES, Launch, started, still_answers
from test_lsp_session import TIMEOUT, _recording_client, open_document, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class ShadowFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 2 if self.test_mode else 100
        self.next(self.trian)

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        print(self.rows)


if __name__ == "__main__":
    ShadowFlow()
'''

# Modules imported after the first line of user code could run: while the interpreter starts with -m (importlib),
# by the server (tomllib, the LSP stack, libcst), by the probe (importlib.util); metaflow_lsp itself last.
SHADOWED = ("importlib", "tomllib", "lsprotocol", "pygls", "attrs", "cattrs", "libcst", "asyncio", "typing",
            "metaflow", "sitecustomize", "usercustomize", "metaflow_lsp")


def hostile_workspace(root: Path, markers: Path, flows: int = 1) -> Path:
    """A workspace whose every shadowing module records that it ran; returns the flow file."""
    for name in SHADOWED:
        code = f"open({str(markers / name)!r}, 'w').close()\n"
        if name in ("tomllib", "importlib", "typing", "sitecustomize", "usercustomize"):
            write(root, f"{name}.py", code)
        else:
            write(root, f"{name}/__init__.py", code)
    write(root, "metaflow_lsp/__main__.py", f"open({str(markers / 'metaflow_lsp.__main__')!r}, 'w').close()\n")
    write(root, "pyproject.toml", '[tool.metaflow-lsp]\nignore = ["MF2"]\n')
    for number in range(1, flows):
        write(root, f"more/flow_{number}.py", FLOW.replace("ShadowFlow", f"ShadowFlow{number}"))
    return write(root, "shadow_flow.py", FLOW)


def ran(markers: Path) -> list[str]:
    return sorted(path.name for path in markers.iterdir())


@pytest.mark.parametrize("launch", LAUNCHES, ids=lambda launch: launch.name)
async def test_workspace_modules_never_run_in_the_server(tmp_path, markers, launch: Launch):
    workspace = tmp_path / "workspace"
    flow = hostile_workspace(workspace, markers)
    probed = asyncio.Event()

    client = _client_that_sees_lens_refresh(probed)
    async with started(launch, workspace, client=client) as client:
        uri = open_document(client, flow)
        assert "MF011" in await still_answers(client, flow)
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
        assert {lens.command.command for lens in lenses} == {"metaflow.runTestMode", "metaflow.debugForeach"}
        # The spin probe (a subprocess importing importlib.util) has answered: the server asks for fresh lenses.
        await asyncio.wait_for(probed.wait(), 30)
        line = flow.read_text().splitlines().index("        self.next(self.trian)")
        actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 8), end=types.Position(line, 29)),
            context=types.CodeActionContext(diagnostics=[]))), TIMEOUT)
        extract = next(action for action in actions if action.title.startswith("Extract body of step"))
        resolved = await asyncio.wait_for(client.code_action_resolve_async(extract), TIMEOUT)  # imports libcst
        assert resolved.edit is not None, resolved
        assert ran(markers) == []
        assert "MF011" in await still_answers(client, flow)  # and it keeps answering
    assert ran(markers) == []


def _client_that_sees_lens_refresh(refreshed: asyncio.Event):
    client = _recording_client()  # answers client/registerCapability

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(ls, params) -> None:
        refreshed.set()

    return client


def test_workspace_modules_never_run_in_the_cli(tmp_path, markers):
    """`metaflow-lsp check .` in CI, on a pull request's checkout: enough files for the process pool to start."""
    workspace = tmp_path / "workspace"
    hostile_workspace(workspace, markers, flows=60)
    result = subprocess.run([CONSOLE_SCRIPT, "check", "."], cwd=workspace, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr  # findings (the MF011 typos), no crash
    assert result.stdout.count("MF011") == 60
    assert ran(markers) == []


def test_path_entries_from_the_working_directory_are_dropped(tmp_path):
    """What `python -c`/`-m` and an empty PYTHONPATH entry add (the working directory, "" and relative entries) is
    gone once the entry point has run, and an absolute PYTHONPATH entry the user set stays."""
    folder, kept = tmp_path / "somewhere", tmp_path / "user-libs"
    folder.mkdir()
    kept.mkdir()
    probe = ("import json, sys; from metaflow_lsp._bootstrap import isolate_import_path; isolate_import_path(); "
             "print(json.dumps(sys.path))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": f":relative/dir:{folder}:{kept}", "PATH": "/usr/bin:/bin"})
    path = json.loads(result.stdout)
    assert "" not in path and not any(entry.startswith("relative") for entry in path), path
    assert str(folder) not in path and str(kept) in path, path


def test_console_script_drops_an_empty_pythonpath_entry_before_its_imports(tmp_path, markers):
    """`PYTHONPATH=:...` (a common shell slip) puts the working directory on sys.path: the console script removes it
    before cli.py imports tomllib. (A `metaflow_lsp/` folder would still shadow the package itself: that import comes
    first; docs/dev/security.md.)"""
    workspace = tmp_path / "workspace"
    write(workspace, "tomllib.py", f"open({str(markers / 'tomllib')!r}, 'w').close()\n")
    flow = write(workspace, "shadow_flow.py", FLOW)
    write(workspace, "pyproject.toml", '[tool.metaflow-lsp]\nignore = ["MF2"]\n')
    result = subprocess.run([CONSOLE_SCRIPT, "check", flow.name], cwd=workspace, capture_output=True, text=True,
                            timeout=60, env={"PYTHONPATH": ":", "PATH": "/usr/bin:/bin", "METAFLOW_USER": "t"})
    assert result.returncode == 1 and "MF011" in result.stdout, result.stderr
    assert ran(markers) == []


def test_module_entry_drops_the_working_directory_before_its_imports(tmp_path, markers):
    """`python -m metaflow_lsp` from a folder with a `tomllib.py`: `__main__` removes the folder from sys.path before
    importing the server, which reads pyproject with tomllib. (An `importlib.py` there would still run, before any
    line of ours: hence the editors' own working directory.)"""
    folder = tmp_path / "somewhere"
    write(folder, "tomllib.py", f"open({str(markers / 'tomllib')!r}, 'w').close()\n")
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp"], cwd=folder, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    assert ran(markers) == []
