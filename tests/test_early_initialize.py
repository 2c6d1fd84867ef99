"""The early answer to `initialize` (server/metaflow_lsp/lsp/early_initialize.py): sent before the LSP stack is
imported, it must be the answer the server would have sent, to the byte, and anything it cannot answer must reach
pygls unchanged.

The reference is the server started as editors start it (`python -m metaflow_lsp`) with the early answer turned off
(METAFLOW_LSP_EARLY_INITIALIZE=0). Every other test of the server runs with it on, and METAFLOW_LSP_STRICT=1 makes
the server exit when pygls' own answer differs from the early one (`AnsweredOnce`); tests/test_lsp_artifacts.py
and tests/test_lsp_code_lens.py check the negotiated position encoding, tests/security/test_untrusted.py the
initializationOptions, all through the early path.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_lsp.clients import __file__ as pytest_lsp_clients

from conftest import ROOT
from metaflow_lsp.lsp import early_initialize
from metaflow_lsp.lsp.early_initialize import AnsweredOnce, Handoff, ReplayingReader, answer_initialize, frame

CLIENTS = Path(pytest_lsp_clients).parent  # the initialize params real editors sent, recorded by pytest-lsp
WORKSPACE = {"processId": 4242, "rootUri": "file:///home/user/flows", "rootPath": "/home/user/flows",
             "workspaceFolders": [{"uri": "file:///home/user/flows", "name": "flows"}], "trace": "off",
             "locale": "en"}
SHUTDOWN = [{"jsonrpc": "2.0", "id": "shutdown", "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"}]


def recorded(name: str) -> dict:
    return json.loads((CLIENTS / f"{name}.json").read_text(encoding="utf-8"))


def vscode_recent() -> dict:
    """VS Code >= 1.74: states UTF-16 and notebook sync, and the extension's initializationOptions."""
    params = recorded("visual_studio_code_v1.65.2")
    params["capabilities"]["general"] = {**params["capabilities"].get("general", {}), "positionEncodings": ["utf-16"]}
    params["capabilities"]["notebookDocument"] = {"synchronization": {"dynamicRegistration": True,
                                                                      "executionSummarySupport": True}}
    return {**params, **WORKSPACE, "initializationOptions": {"trusted": True, "graphView": True}}


# What lsp-mode (Emacs) and LSP4IJ (PyCharm) send that matters here: willSave / willSaveWaitUntil, prepareRename,
# file operations; no positionEncodings.
LSP_MODE = {"clientInfo": {"name": "emacs", "version": "GNU Emacs 29.4"}, "capabilities": {
    "general": {"positionEncodings": ["utf-32", "utf-16"]},
    "workspace": {"workspaceEdit": {"documentChanges": True, "resourceOperations": ["create", "rename", "delete"]},
                  "applyEdit": True, "configuration": True, "workspaceFolders": True,
                  "didChangeWatchedFiles": {"dynamicRegistration": True},
                  "fileOperations": {"didCreate": False, "willCreate": False, "didRename": True, "willRename": True,
                                     "didDelete": False, "willDelete": False}},
    "textDocument": {"synchronization": {"willSave": True, "willSaveWaitUntil": True, "didSave": True},
                     "rename": {"dynamicRegistration": True, "prepareSupport": True},
                     "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}},
                                    "resolveSupport": {"properties": ["edit", "command"]}, "dataSupport": True},
                     "publishDiagnostics": {"relatedInformation": True, "versionSupport": True}},
    "window": {"workDoneProgress": True, "showDocument": {"support": True}}}}
LSP4IJ = {"clientInfo": {"name": "PyCharm", "version": "2025.2"}, "capabilities": {
    "workspace": {"applyEdit": True, "workspaceEdit": {"documentChanges": True}, "configuration": True,
                  "workspaceFolders": True, "didChangeConfiguration": {"dynamicRegistration": True},
                  "fileOperations": {"dynamicRegistration": True, "willRename": True, "didRename": True}},
    "textDocument": {"synchronization": {"dynamicRegistration": True, "willSave": True, "willSaveWaitUntil": True,
                                         "didSave": True},
                     "rename": {"dynamicRegistration": True, "prepareSupport": True, "honorsChangeAnnotations": True},
                     "diagnostic": {"dynamicRegistration": True}, "codeLens": {"dynamicRegistration": True}},
    "window": {"workDoneProgress": True}}}
REALISTIC = {
    "vscode-1.65": lambda: {**recorded("visual_studio_code_v1.65.2"), **WORKSPACE,
                            "initializationOptions": {"trusted": False, "graphView": True}},
    "vscode-recent": vscode_recent,
    "neovim-0.11": lambda: {**recorded("neovim_v0.11.0"), **WORKSPACE},
    "neovim-0.6": lambda: {**recorded("neovim_v0.6.1"), **WORKSPACE},
    "emacs-eglot": lambda: {**recorded("emacs_v29.1"), **WORKSPACE},
    "emacs-lsp-mode": lambda: {**LSP_MODE, **WORKSPACE},
    "pycharm-lsp4ij": lambda: {**LSP4IJ, **WORKSPACE, "workspaceFolders": None},
    "utf-8-only": lambda: {"processId": None, "rootUri": None, "capabilities": {"general": {"positionEncodings": ["utf-8"]}}},
    "no-capabilities": lambda: {"processId": None, "rootUri": None, "capabilities": {}},
    # Every client capability pygls' ServerCapabilitiesBuilder reads, stated at once.
    "all-read-by-pygls": lambda: {"processId": None, "capabilities": {
        "general": {"positionEncodings": ["utf-32"]}, "notebookDocument": {"synchronization": {}},
        "textDocument": {"synchronization": {"willSave": False, "willSaveWaitUntil": True},
                         "rename": {"prepareSupport": False}},
        "workspace": {"fileOperations": {name: True for name in ("didCreate", "willCreate", "didRename", "willRename",
                                                                 "didDelete", "willDelete")}}}},
}


def initialize(params: dict, request_id: int | str = 1) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "initialize", "params": params}


def served(payload: bytes, early: bool, tmp_path: Path) -> bytes:
    """Everything the server started as editors start it writes for `payload` on stdin, until it exits."""
    env = {**os.environ, early_initialize.SWITCH: "1" if early else "0"}
    done = subprocess.run([sys.executable, "-m", "metaflow_lsp"], input=payload, capture_output=True, cwd=tmp_path,
                          env=env, timeout=60)
    return done.stdout


def framed(*messages: dict) -> bytes:
    return b"".join(frame(message) for message in messages)


def messages_in(output: bytes) -> list[dict]:
    messages = []
    while output:
        header, _, rest = output.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        messages.append(json.loads(rest[:length]))
        output = rest[length:]
    return messages


# -- the answers file ----------------------------------------------------------------------------------------------


def test_the_answers_file_is_what_the_server_answers():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import initialize_answers
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    path = Path(early_initialize.ANSWERS_FILE)
    assert path.read_text(encoding="utf-8") == initialize_answers.render(initialize_answers.answers()), (
        f"{path} is stale: regenerate it with `{early_initialize.REGENERATE}`")


# -- the early answer is the server's ------------------------------------------------------------------------------


@pytest.mark.parametrize("client", REALISTIC)
def test_the_early_answer_is_the_servers_answer_to_the_byte(client, tmp_path):
    request = initialize(REALISTIC[client](), request_id=1)
    answered = io.BytesIO()
    handoff = answer_initialize(io.BytesIO(framed(request)), answered)
    assert handoff.answered_id == 1, "the early path did not answer this client"
    assert handoff.consumed == framed(request)  # pygls is handed the request as it came
    reference = served(framed(request, *SHUTDOWN), early=False, tmp_path=tmp_path)
    assert reference.startswith(answered.getvalue()), (answered.getvalue()[:300], reference[:300])


def test_with_the_early_answer_the_session_writes_what_it_wrote_without(tmp_path):
    """pygls' own answer is dropped: the client sees one response to initialize, then the session as before."""
    payload = framed(initialize(vscode_recent(), request_id=7), *SHUTDOWN)
    early = served(payload, early=True, tmp_path=tmp_path)
    assert early == served(payload, early=False, tmp_path=tmp_path)
    assert [message.get("id") for message in messages_in(early)] == [7, "shutdown"]


# -- what the early path leaves to pygls ---------------------------------------------------------------------------

INITIALIZE = initialize({"processId": None, "capabilities": {}}, request_id=3)
LEFT_TO_PYGLS = {
    "first message not initialize": framed({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///f.py"}, "position": {"line": 0, "character": 0}}}, INITIALIZE, *SHUTDOWN),
    "notification first": framed({"jsonrpc": "2.0", "method": "$/setTrace", "params": {"value": "off"}},
                                 INITIALIZE, *SHUTDOWN),
    "another header first": b"X-Trace: 1\r\n" + framed(INITIALIZE, *SHUTDOWN),
    "lower-case content-length": b"content-length: 2\r\n\r\n{}" + framed(INITIALIZE, *SHUTDOWN),
    "body not JSON": b"Content-Length: 9\r\n\r\n{not json" + framed(INITIALIZE, *SHUTDOWN),
    "capability of the wrong type": framed(initialize({"processId": None, "capabilities": {
        "general": {"positionEncodings": 5}}}), *SHUTDOWN),
    "params of the wrong type": framed(initialize({"processId": "me", "capabilities": {}}), *SHUTDOWN),
    "header cut short": b"Content-Length: 40\r\n",
    "body cut short": b"Content-Length: 400\r\n\r\n" + json.dumps(INITIALIZE).encode(),
}


@pytest.mark.parametrize("case", LEFT_TO_PYGLS)
def test_what_the_early_path_cannot_answer_reaches_pygls_unchanged(case, tmp_path):
    payload = LEFT_TO_PYGLS[case]
    answered = io.BytesIO()
    handoff = answer_initialize(io.BytesIO(payload), answered)
    assert (answered.getvalue(), handoff.answered_id) == (b"", None)
    assert payload.startswith(handoff.consumed)
    assert served(payload, early=True, tmp_path=tmp_path) == served(payload, early=False, tmp_path=tmp_path)


def test_pygls_still_answers_an_initialize_after_another_first_message(tmp_path):
    output = served(LEFT_TO_PYGLS["first message not initialize"], early=True, tmp_path=tmp_path)
    initialized = next(message for message in messages_in(output) if message.get("id") == 3)
    assert initialized["result"]["serverInfo"]["name"] == "metaflow-lsp"


def test_turned_off_it_reads_nothing(monkeypatch):
    monkeypatch.setenv(early_initialize.SWITCH, "0")
    stdin, stdout = io.BytesIO(framed(INITIALIZE)), io.BytesIO()
    handoff = answer_initialize(stdin, stdout)
    assert (stdin.tell(), stdout.getvalue(), handoff.consumed, handoff.answered_id) == (0, b"", b"", None)


def test_a_stale_answers_file_is_not_used(monkeypatch, tmp_path):
    stale = json.loads(Path(early_initialize.ANSWERS_FILE).read_text(encoding="utf-8"))
    stale["version"] = "0.0.0"
    (tmp_path / "answers.json").write_text(json.dumps(stale), encoding="utf-8")
    monkeypatch.setattr(early_initialize, "ANSWERS_FILE", str(tmp_path / "answers.json"))
    stdout = io.BytesIO()
    assert answer_initialize(io.BytesIO(framed(INITIALIZE)), stdout).answered_id is None
    assert stdout.getvalue() == b""


# -- the hand-off ---------------------------------------------------------------------------------------------------


def test_pygls_reads_the_consumed_bytes_then_the_stream():
    reader = ReplayingReader(b"Content-Length: 2\r\n\r\n{}Con", io.BytesIO(b"tent-Length: 5\r\n\r\nhello"))
    assert [reader.readline(), reader.readline(), reader.read(2), reader.readline(), reader.readline(),
            reader.read(5), reader.read(1)] == [b"Content-Length: 2\r\n", b"\r\n", b"{}", b"Content-Length: 5\r\n",
                                                b"\r\n", b"hello", b""]
    reader = ReplayingReader(b"abc", io.BytesIO(b"defg"))
    assert reader.read(5) == b"abcde"


def test_only_pygls_response_to_the_answered_request_is_dropped():
    result = {"capabilities": {}, "serverInfo": {"name": "metaflow-lsp"}}
    stream = io.BytesIO()
    writer = AnsweredOnce(stream, Handoff(b"", 7, result))
    log = frame({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 3, "message": "hi"}})
    response = frame({"id": 7, "jsonrpc": "2.0", "result": result})
    later = frame({"id": "shutdown", "jsonrpc": "2.0", "result": None})
    writer.write(log + response[:10])  # a frame may come in pieces
    writer.write(response[10:] + later[:5])
    writer.write(later[5:])
    writer.write(response)  # after the one it dropped, everything passes
    assert stream.getvalue() == log + later + response


def test_a_different_answer_from_pygls_is_reported(monkeypatch, capsys):
    monkeypatch.setenv("METAFLOW_LSP_STRICT", "0")
    writer = AnsweredOnce(io.BytesIO(), Handoff(b"", 1, {"capabilities": {"hoverProvider": True}}))
    writer.write(frame({"id": 1, "jsonrpc": "2.0", "result": {"capabilities": {}}}))
    assert "regenerate server/metaflow_lsp/lsp/initialize_answers.json" in capsys.readouterr().err


def test_the_early_answer_needs_neither_the_lsp_stack_nor_the_engine():
    """What makes it early: answering imports the standard library and this one module of ours."""
    code = ("import io, json, sys\n"
            "from metaflow_lsp.lsp.early_initialize import answer_initialize\n"
            f"handoff = answer_initialize(io.BytesIO({framed(INITIALIZE)!r}), io.BytesIO())\n"
            "print(json.dumps([handoff.answered_id, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    answered_id, modules = json.loads(done.stdout)
    assert answered_id == 3
    assert [name for name in modules if name.split(".")[0] in ("lsprotocol", "pygls", "attrs", "cattrs")] == []
    assert [name for name in modules if name.startswith("metaflow_lsp")] == [
        "metaflow_lsp", "metaflow_lsp.lsp", "metaflow_lsp.lsp.early_initialize"]
