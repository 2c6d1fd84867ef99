"""The repository's own git configuration runs nothing: not through the server (didOpen reaches `git check-ignore`
through the project index, metaflow.checkWorkspace walks the folder) and not through `metaflow-lsp check`.

The hostile repository sets every program-running key these git commands could read (`core.fsmonitor`, hooks, a
pager), also in a bare repository hidden in a subfolder, each program leaving a marker outside the workspace. Its
ignore rules are still honoured: that is what git is asked for.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from .conftest import CONSOLE_SCRIPT, LAUNCHES, Launch, started, still_answers
from test_lsp_session import TIMEOUT, _recording_client, open_document, write

FLOW = '''
from metaflow import FlowSpec, step


class GitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.ned)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GitFlow()
'''
HOOKS = ("pre-commit", "post-checkout", "post-index-change", "reference-transaction", "fsmonitor-watchman")


def _git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True)


def _program(path: Path, markers: Path, name: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ntouch '{markers / name}'\ncat\n")
    path.chmod(0o755)
    return str(path)


def hostile_repository(root: Path, markers: Path) -> Path:
    """A committed repository whose configuration runs programs; returns the flow file."""
    if shutil.which("git") is None:
        pytest.fail("git is needed for these tests")
    flow = write(root, "flows/git_flow.py", FLOW)
    write(root, "build/generated_flow.py", FLOW.replace("GitFlow", "GeneratedFlow"))
    write(root, "scratch/excluded_flow.py", FLOW.replace("GitFlow", "ExcludedFlow"))
    write(root, ".gitignore", "build/\n")
    _git(root, "init", "-q", ".")
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("scratch/\n")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "flows")
    # Configured after the commit, so that only the code under test can run these programs.
    hooks = root / ".git" / "evil-hooks"
    for hook in HOOKS:
        _program(hooks / hook, markers, f"hook-{hook}")
    settings = {"core.fsmonitor": _program(root / ".git" / "fsmonitor", markers, "fsmonitor"),
                "core.hooksPath": str(hooks), "core.pager": _program(root / ".git" / "pager", markers, "pager"),
                "pager.check-ignore": "true", "pager.rev-parse": "true"}
    for key, value in settings.items():
        _git(root, "config", key, value)
    # A bare repository inside the workspace, found by git when it starts in that folder.
    bare = root / "flows" / "vendored"
    _git(root, "init", "-q", "--bare", str(bare))
    _git(bare, "config", "core.fsmonitor", _program(bare / "fsmonitor", markers, "bare-fsmonitor"))
    write(bare, "inside_flow.py", FLOW.replace("GitFlow", "InsideFlow"))
    return flow


def ran(markers: Path) -> list[str]:
    return sorted(path.name for path in markers.iterdir())


@pytest.mark.parametrize("launch", LAUNCHES, ids=lambda launch: launch.name)
async def test_git_configuration_runs_nothing_in_the_server(tmp_path, markers, launch: Launch):
    workspace = tmp_path / "workspace"
    flow = hostile_repository(workspace, markers)
    async with started(launch, workspace, client=_recording_client()) as client:
        open_document(client, flow)
        open_document(client, workspace / "flows" / "vendored" / "inside_flow.py")
        assert "MF011" in await still_answers(client, flow)
        # The workspace pull walks the folder as metaflow.checkWorkspace does (`git check-ignore --stdin`).
        report = await asyncio.wait_for(client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(
            previous_result_ids=[])), 30)
        assert ran(markers) == []
        checked = {item.uri.rsplit("/", 1)[-1] for item in report.items}
        # What git ignores (.gitignore, .git/info/exclude) stays out of the workspace check.
        assert "git_flow.py" in checked, checked
        assert "generated_flow.py" not in checked and "excluded_flow.py" not in checked, checked
        assert "MF011" in await still_answers(client, flow)
    assert ran(markers) == []


def test_git_configuration_runs_nothing_in_the_cli(tmp_path, markers):
    workspace = tmp_path / "workspace"
    hostile_repository(workspace, markers)
    result = subprocess.run([CONSOLE_SCRIPT, "check", "."], cwd=workspace, capture_output=True, text=True,
                            timeout=TIMEOUT * 6)
    assert result.returncode == 1, result.stderr
    assert "git_flow.py" in result.stdout
    assert "generated_flow.py" not in result.stdout and "excluded_flow.py" not in result.stdout, result.stdout
    assert ran(markers) == []
