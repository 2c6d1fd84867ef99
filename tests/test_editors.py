"""Extract in the editors that cannot create files from a code action, run for real and headless: Debian's Neovim 0.7
(declares resourceOperations `create` but not documentChanges) and Emacs 28 with Eglot 1.9 (documentChanges, no
resourceOperations). Each editor starts the server as its user would, opens a flow with a long step, lists the code
actions there, applies "Extract body of step ... to common.py" through its own code action command and saves; the
scripts in tests/editors/ write what happened to a JSON file. Then common.py must hold the step's function, the flow
must call it, and a fresh `metaflow-lsp check` must no longer report MF201 (nor any MF0/MF1 finding).

Artifact intelligence in Neovim 0.7 the same way (tests/editors/artifacts.lua): the hover on an artifact of a later
step names the steps assigning it, and completion after `self.` typed in that step lists it.

The editors come from scripts/system-deps.sh (neovim, emacs-nox, elpa-eglot)."""

from __future__ import annotations

import ast
import asyncio
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, make_test_lsp_client

from conftest import FIXTURES, PYTHON, ROOT
from test_lsp_session import SERVER, TIMEOUT, open_document, stop

EDITORS = Path(__file__).resolve().parent / "editors"
LONG_STEP = FIXTURES / "rules" / "MF201" / "long_step.py"
STEP_LINE = 5  # 0-based: `def start(self):`, the MF201 line
WAIT = 60  # seconds the scripts wait for each step (the server's start, diagnostics, the edit)
EDITOR_TIMEOUT = 4 * WAIT  # a hung editor is killed and fails the test
EXTRACT_TITLE = "Extract body of step `start` to common.py"
CONSOLE_SCRIPT = Path(sys.executable).with_name("metaflow-lsp")


def _needed(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.fail(f"{program} is not installed: run scripts/system-deps.sh (apt-get install {package})")
    return found


def _eglot_folder() -> str:
    # elpa-eglot: the byte-compiled copy under elpa/ (Debian compiles it for the installed Emacs), else the source
    found = sorted(glob.glob("/usr/share/emacs/site-lisp/elpa/eglot-*/eglot.el")
                   + glob.glob("/usr/share/emacs/site-lisp/elpa-src/eglot-*/eglot.el"))
    if not found:
        pytest.fail("Eglot is not installed: run scripts/system-deps.sh (apt-get install elpa-eglot)")
    return str(Path(found[0]).parent)


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A git repository (Eglot finds the project by it) holding train.py, whose `start` step is too long."""
    folder = tmp_path / "project"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    shutil.copyfile(LONG_STEP, folder / "train.py")
    return folder


def _run_editor(command: list[str], environment: dict[str, str], result: Path, cwd: Path) -> dict:
    env = {**os.environ, **environment, "MFLSP_RESULT": str(result), "MFLSP_TIMEOUT": str(WAIT)}
    try:
        run = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=EDITOR_TIMEOUT,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"{command[0]} did not finish within {EDITOR_TIMEOUT} s: {hung.stdout!r} {hung.stderr!r}")
    assert result.exists(), f"{command[0]} wrote no result (exit {run.returncode}): {run.stdout}{run.stderr}"
    outcome = json.loads(result.read_text())
    assert not outcome.get("error") and run.returncode == 0, (outcome, run.stdout, run.stderr)
    return outcome


def _assert_extracted(workspace: Path, outcome: dict) -> None:
    assert EXTRACT_TITLE in outcome["titles"], outcome
    common = workspace / "common.py"
    assert common.is_file(), sorted(p.name for p in workspace.iterdir())
    assert "def start(" in common.read_text()
    flow = (workspace / "train.py").read_text()
    assert "import common" in flow and "= common.start()" in flow, flow
    check = subprocess.run([str(CONSOLE_SCRIPT), "check", "--format", "json", str(workspace)],
                           capture_output=True, text=True, timeout=120, cwd=workspace.parent)
    findings = json.loads(check.stdout)
    assert not [f for f in findings if f["code"] == "MF201"], findings
    assert not [f for f in findings if f["code"].startswith(("MF0", "MF1"))], findings


def test_extract_in_neovim(workspace, tmp_path):
    nvim = _needed("nvim", "neovim")
    neutral = tmp_path / "server-cwd"  # the server is never started in the workspace (docs/dev/security.md)
    neutral.mkdir()
    outcome = _run_editor(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-S", str(EDITORS / "extract.lua")],
        {"MFLSP_PYTHON": PYTHON, "MFLSP_CWD": str(neutral), "MFLSP_FLOW": str(workspace / "train.py"),
         "MFLSP_LINE": str(STEP_LINE)},
        tmp_path / "neovim.json", neutral)
    assert outcome["chosen"] == EXTRACT_TITLE
    assert {"code": "MF201", "line": STEP_LINE} in outcome["diagnostics"]
    _assert_extracted(workspace, outcome)


def test_artifact_hover_and_completion_in_neovim(tmp_path):
    nvim = _needed("nvim", "neovim")
    folder = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "flows", folder)
    neutral = tmp_path / "server-cwd"
    neutral.mkdir()
    lines = (folder / "train.py").read_text(encoding="utf-8").split("\n")
    read = next(i for i, line in enumerate(lines) if 'print(f"y = {self.slope' in line)  # in `end`
    outcome = _run_editor(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-S", str(EDITORS / "artifacts.lua")],
        {"MFLSP_PYTHON": PYTHON, "MFLSP_CWD": str(neutral), "MFLSP_FLOW": str(folder / "train.py"),
         "MFLSP_LINE": str(read), "MFLSP_CHARACTER": str(lines[read].index("slope")),
         "MFLSP_INSERT_AFTER": str(read + 1), "MFLSP_TYPED": "        print(self."},
        tmp_path / "neovim.json", neutral)
    hover = outcome["hover"]
    assert hover.startswith("**Artifact** `slope` of `TrainFlow`"), outcome
    assert "Assigned in `train` (" in hover and "`evaluate` (" in hover, hover
    completion = {item["label"]: item["detail"] for item in outcome["completion"]}
    assert completion["slope"] == completion["summary"] == "artifact", outcome
    assert completion["n_rows"] == "Parameter"


def test_extract_in_emacs_eglot(workspace, tmp_path):
    emacs = _needed("emacs", "emacs-nox")
    assert CONSOLE_SCRIPT.is_file(), CONSOLE_SCRIPT  # what the README tells Eglot users to start
    outcome = _run_editor(
        [emacs, "--batch", "-Q", "-L", _eglot_folder(), "-l", str(EDITORS / "extract.el")],
        {"MFLSP_SERVER": str(CONSOLE_SCRIPT), "MFLSP_FLOW": str(workspace / "train.py"), "MFLSP_LINE": str(STEP_LINE)},
        tmp_path / "emacs.json", tmp_path)
    assert any("[MF201]" in text for text in outcome["diagnostics"]), outcome
    assert "Edit successful!" in outcome["messages"], outcome
    _assert_extracted(workspace, outcome)


# -- the path the server takes for Eglot, where it must not write: pytest-lsp's client with Eglot 1.9's capabilities


def _eglot_capabilities() -> types.ClientCapabilities:
    """What eglot-client-capabilities of Eglot 1.9 declares for edits and code actions: documentChanges without
    resourceOperations, code action literals without resolve, applyEdit and executeCommand."""
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True, execute_command=types.ExecuteCommandClientCapabilities(dynamic_registration=False),
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True)),
        text_document=types.TextDocumentClientCapabilities(code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorExtract])),
            is_preferred_support=True)))


@asynccontextmanager
async def _eglot_session(root: Path, *, trusted: bool | None = None):
    client = await ClientServerConfig(server_command=SERVER, client_factory=make_test_lsp_client).start()
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=_eglot_capabilities(), root_uri=root.as_uri(),
            initialization_options=None if trusted is None else {"trusted": trusted},
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)])), TIMEOUT)
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)


async def _extract_actions(client, path: Path) -> list:
    uri = open_document(client, path)
    position = types.Position(line=STEP_LINE, character=8)
    actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.RefactorExtract]))), TIMEOUT)
    return [a for a in actions or [] if a.title == EXTRACT_TITLE]


def _command_of(action) -> dict:
    """The command an Extract action carries (and no edit). lsprotocol's client-side converter takes a CodeAction
    holding a command for a Command (it tells the union apart by field names) with that command's repr as its
    `command`, and drops the rest; Eglot reads it as the CodeAction it is (test_extract_in_emacs_eglot)."""
    if isinstance(action, types.CodeAction):
        assert action.edit is None
        return {"command": action.command.command, "arguments": action.command.arguments}
    return ast.literal_eval(action.command)


async def _message_containing(client, text: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = [m.message for m in client.messages if text in m.message]
        if found:
            return found[0]
        assert time.monotonic() < deadline, [m.message for m in client.messages]
        await asyncio.sleep(0.02)


async def test_eglot_extract_never_creates_common_py_through_a_link_out_of_the_project(workspace, tmp_path):
    outside = tmp_path / "outside" / "common.py"
    outside.parent.mkdir()
    (workspace / "common.py").symlink_to(outside)  # dangling: the server would create the file at its target
    async with _eglot_session(workspace) as client:
        [action] = await _extract_actions(client, workspace / "train.py")
        command = _command_of(action)
        assert command["command"] == "metaflow.applyFix"
        await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=command["command"], arguments=command["arguments"])), TIMEOUT)
        message = await _message_containing(client, "cannot create common.py")
    assert "out of the project" in message
    assert not outside.exists() and (workspace / "common.py").is_symlink()


async def test_eglot_extract_in_an_untrusted_workspace_writes_nothing(workspace):
    async with _eglot_session(workspace, trusted=False) as client:
        assert await _extract_actions(client, workspace / "train.py") == []  # it would need the server to write
    assert sorted(p.name for p in workspace.iterdir()) == [".git", "train.py"]
