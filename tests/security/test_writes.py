"""Run configurations are never written outside the workspace folder, whatever links the repository plants:
`.vscode` or `.run` linked to a folder elsewhere, `launch.json` itself a link out, a link waiting under the name of
a temporary file, a hard link to a file elsewhere. Through `metaflow-lsp run-configs` and through the server's
metaflow.writeRunConfigurations, as each editor starts it. A link that stays inside the workspace is followed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import CONSOLE_SCRIPT, LAUNCHES, Launch, started, still_answers
from test_lsp_session import write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class WriteFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 2 if self.test_mode else 100
        self.next(self.end)

    @step
    def end(self):
        print(self.rows)


if __name__ == "__main__":
    WriteFlow()
'''
LAUNCH_JSON = ".vscode/launch.json"
RUN_XML = ".run/WriteFlow (test mode).run.xml"


def _outside_folder(tmp_path: Path) -> Path:
    """A folder outside the workspace with files a link could lead to."""
    outside = tmp_path / "outside"
    write(outside, "launch.json", '{"version": "0.2.0", "configurations": [], "mine": "keep me"}\n')
    write(outside, "victim.txt", "precious\n")
    write(outside, "WriteFlow (test mode).run.xml", "<precious/>\n")
    return outside


def _snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under `folder`: files by content, links by target."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            entries[str(path.relative_to(folder))] = ("link", os.readlink(path))
        elif path.is_file():
            entries[str(path.relative_to(folder))] = ("file", path.read_bytes())
    return entries


def _plant(workspace: Path, outside: Path, case: str) -> None:
    if case == "vscode-folder-linked-out":
        os.symlink(outside, workspace / ".vscode")
    elif case == "run-folder-linked-out":
        os.symlink(outside, workspace / ".run")
    elif case == "launch-json-linked-out":
        (workspace / ".vscode").mkdir()
        os.symlink(outside / "launch.json", workspace / LAUNCH_JSON)
    elif case == "run-xml-linked-out":
        (workspace / ".run").mkdir()
        os.symlink(outside / "WriteFlow (test mode).run.xml", workspace / RUN_XML)
    elif case == "temporary-name-linked-out":
        (workspace / ".vscode").mkdir()
        (workspace / ".run").mkdir()
        os.symlink(outside / "victim.txt", workspace / (LAUNCH_JSON + ".tmp"))
        os.symlink(outside / "victim.txt", workspace / (RUN_XML + ".tmp"))
    elif case == "dangling-link-out":
        os.symlink(outside / "missing", workspace / ".vscode")
    elif case == "launch-json-hard-linked-out":  # written (a file of the workspace); the outside one keeps its bytes
        (workspace / ".vscode").mkdir()
        os.link(outside / "launch.json", workspace / LAUNCH_JSON)
    elif case == "launch-json-is-a-fifo":
        (workspace / ".vscode").mkdir()
        os.mkfifo(workspace / LAUNCH_JSON)
    else:
        raise AssertionError(case)


# What is refused, per case (the rest is written normally).
REFUSED = {
    "vscode-folder-linked-out": {LAUNCH_JSON},
    "run-folder-linked-out": {RUN_XML},
    "launch-json-linked-out": {LAUNCH_JSON},
    "run-xml-linked-out": {RUN_XML},
    "temporary-name-linked-out": set(),
    "dangling-link-out": {LAUNCH_JSON},
    "launch-json-hard-linked-out": set(),
    "launch-json-is-a-fifo": {LAUNCH_JSON},
}


def _workspace(tmp_path: Path, case: str) -> tuple[Path, Path, dict]:
    workspace = tmp_path / "workspace"
    write(workspace, "flows/write_flow.py", FLOW)
    outside = _outside_folder(tmp_path)
    _plant(workspace, outside, case)
    return workspace, outside, _snapshot(outside)


def _check_written(workspace: Path, case: str, errors: list[str]) -> None:
    refused = REFUSED[case]
    for relative in (LAUNCH_JSON, RUN_XML):
        mentioned = any(relative.split("/")[-1] in error for error in errors)
        if relative in refused:
            assert mentioned, (relative, errors)
        else:
            assert not mentioned, (relative, errors)
            path = workspace / relative
            assert path.is_file() and not path.is_symlink() and "WriteFlow (test mode)" in path.read_text()
    if LAUNCH_JSON not in refused:
        entry, = json.loads((workspace / LAUNCH_JSON).read_text())["configurations"]
        assert entry["program"] == "${workspaceFolder}/flows/write_flow.py"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_cli_never_writes_outside_the_workspace(tmp_path, case):
    workspace, outside, before = _workspace(tmp_path, case)
    result = subprocess.run([CONSOLE_SCRIPT, "run-configs", ".", "--format", "json"], cwd=workspace,
                            capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout)
    assert result.returncode == (1 if REFUSED[case] else 0), result.stderr
    _check_written(workspace, case, report["errors"])
    assert _snapshot(outside) == before


@pytest.mark.parametrize("case", ["vscode-folder-linked-out", "launch-json-linked-out", "run-folder-linked-out",
                                  "temporary-name-linked-out", "launch-json-is-a-fifo"])
@pytest.mark.parametrize("launch", LAUNCHES, ids=lambda launch: launch.name)
async def test_server_never_writes_outside_the_workspace(tmp_path, case, launch: Launch):
    workspace, outside, before = _workspace(tmp_path, case)
    async with started(launch, workspace) as client:
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.writeRunConfigurations", arguments=[workspace.as_uri()])), 30)
        (folder,) = result["folders"]
        _check_written(workspace, case, folder["errors"])
        assert _snapshot(outside) == before
        assert await still_answers(client, workspace / "flows" / "write_flow.py") is not None


def test_a_link_inside_the_workspace_is_followed(tmp_path):
    workspace = tmp_path / "workspace"
    write(workspace, "flows/write_flow.py", FLOW)
    (workspace / "config" / "vscode").mkdir(parents=True)
    os.symlink("config/vscode", workspace / ".vscode")
    result = subprocess.run([CONSOLE_SCRIPT, "run-configs", "."], cwd=workspace, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "WriteFlow (test mode)" in (workspace / "config" / "vscode" / "launch.json").read_text()
    assert (workspace / ".vscode").is_symlink()


def test_rewriting_keeps_the_files_permissions(tmp_path):
    workspace = tmp_path / "workspace"
    write(workspace, "flows/write_flow.py", FLOW)
    launch = write(workspace, LAUNCH_JSON, '{"version": "0.2.0", "configurations": []}\n')
    launch.chmod(0o640)
    subprocess.run([CONSOLE_SCRIPT, "run-configs", "."], cwd=workspace, check=True, capture_output=True, timeout=60)
    assert "WriteFlow (test mode)" in launch.read_text()
    assert launch.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in (workspace / ".vscode").iterdir()) == ["launch.json"]  # no temporary file left


RETRY_FLOW = '''
from metaflow import FlowSpec, retry, step


class RetryFlow(FlowSpec):
    @retry(times=9)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryFlow()
'''


@pytest.mark.parametrize("case", ["gitignore-linked-out", "flow-linked-out"])
def test_fix_never_writes_outside_the_project(tmp_path, case):
    """`metaflow-lsp fix` rewrites flows and extends .gitignore (MF103, MF203): never through a link that leads out.
    The file elsewhere keeps its bytes, the command says what it did not write and exits 1."""
    workspace, outside = tmp_path / "workspace", tmp_path / "outside"
    write(workspace, "pyproject.toml", "[project]\nname = 'hostile'\n")
    write(outside, "victim.txt", "precious\n")
    write(outside, "flow.py", RETRY_FLOW)
    if case == "gitignore-linked-out":
        write(workspace, "flows/retry.py", RETRY_FLOW)
        os.symlink(outside / "victim.txt", workspace / ".gitignore")
    else:
        write(workspace, ".gitignore", ".metaflow/\n.metaflow_spin/\n")
        (workspace / "flows").mkdir()
        os.symlink(outside / "flow.py", workspace / "flows" / "retry.py")
    before = _snapshot(outside)
    result = subprocess.run([str(CONSOLE_SCRIPT), "fix", "flows"], cwd=workspace, capture_output=True, text=True,
                            timeout=60)
    assert _snapshot(outside) == before
    assert result.returncode == 1, result.stderr
    assert "not written: leads out of the project folder" in result.stderr
    if case == "gitignore-linked-out":  # the flow inside the project is still fixed
        assert "@retry(times=4)" in (workspace / "flows" / "retry.py").read_text()
