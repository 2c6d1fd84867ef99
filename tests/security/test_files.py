"""Files a repository may hold under a harmless name: `zero.py` linked to /dev/zero, a FIFO named `x.py`, a run's
`_self.json` linked to /dev/zero, a symlink loop, a 3 MB generated `big.py`, a file starting with a byte order mark.
The real server and the CLI must read only regular files, at most `MAX_FILE_BYTES` of them, answer every request
within seconds, and say plainly what they did not check."""

from __future__ import annotations

import asyncio
import codecs
import os
from pathlib import Path

import pytest
from lsprotocol import types

from .hostile import ANSWER_WITHIN, RETRY_FLOW, codes, run_cli, served, still_answers
from metaflow_lsp.files import MAX_FILE_BYTES, FileTooLarge, NotRegularFile, read_bytes, read_source

def hostile_workspace(root: Path) -> Path:
    """A project whose every trap sits where the server and the CLI look; returns its one real flow."""
    flow = root / "flow.py"
    flow.write_text(RETRY_FLOW)
    (root / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(root / "x.py")
    (root / "loop.py").symlink_to("loop.py")
    (root / "pkg").mkdir()
    (root / "pkg" / "cycle").symlink_to("..")  # a folder loop
    (root / "big.py").write_text("x = 1\n" * (MAX_FILE_BYTES // 6 * 3))
    meta = root / ".metaflow" / "SimpleFlow" / "1" / "_meta"
    meta.mkdir(parents=True)
    (meta / "_self.json").symlink_to("/dev/zero")
    (root / ".metaflow" / "SimpleFlow" / "1" / "start" / "1").mkdir(parents=True)
    return flow


# -- the reading helper -------------------------------------------------------------------------------------------


def test_reader_refuses_what_is_no_regular_file(tmp_path):
    hostile_workspace(tmp_path)
    for name in ("zero.py", "x.py"):
        with pytest.raises(NotRegularFile):
            read_bytes(tmp_path / name)  # returns at once: neither the endless device nor the writerless FIFO
    with pytest.raises(FileTooLarge, match="more than the 1,000,000"):
        read_bytes(tmp_path / "big.py")
    with pytest.raises(OSError):
        read_bytes(tmp_path / "loop.py")


def test_reader_drops_a_byte_order_mark_and_keeps_the_rest(tmp_path):
    path = tmp_path / "flow.py"
    path.write_bytes(codecs.BOM_UTF8 + "x = 'é'\n".encode() + b"\xff\n")
    assert read_source(path) == "x = 'é'\n\ufffd\n"


# -- the language server ------------------------------------------------------------------------------------------


async def test_server_reads_only_regular_files_of_a_hostile_workspace(tmp_path):
    flow = hostile_workspace(tmp_path)
    async with served(tmp_path) as client:
        # Not opened: the server reads flow.py from disk, with its project index walking the folder.
        report = await still_answers(client, flow.as_uri())
        assert "MF103" in codes(report)
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.checkWorkspace", arguments=[])), ANSWER_WITHIN)  # what vscode-languageclient sends
        assert result["files"] == 2  # flow.py and big.py: no link to a device, no FIFO, no loop
        big = next(p for p in client.published if p.uri.endswith("/big.py"))
        assert [d.message for d in big.diagnostics] == [
            f"Not checked: the file has {(tmp_path / 'big.py').stat().st_size:,} bytes; metaflow-lsp reads files "
            f"of up to {MAX_FILE_BYTES:,}"]
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=flow.as_uri()))), ANSWER_WITHIN)
        assert lenses  # the run whose _self.json is /dev/zero is simply no run
        assert not any(m.type == types.MessageType.Error for m in client.messages), client.messages
        await still_answers(client, flow.as_uri())


async def test_server_checks_a_file_with_a_byte_order_mark_as_python_does(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_bytes(codecs.BOM_UTF8 + RETRY_FLOW.encode())
    async with served(tmp_path) as client:
        report = await still_answers(client, flow.as_uri())
        assert codes(report) == ["MF103"]  # no false MF000 "invalid non-printable character U+FEFF"


# -- the CLI ------------------------------------------------------------------------------------------------------


def test_check_walks_a_hostile_folder_without_hanging(tmp_path):
    hostile_workspace(tmp_path)
    result = run_cli("check", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert "flow.py:5:6: MF103" in result.stdout
    assert f"big.py: not checked: {(tmp_path / 'big.py').stat().st_size:,} bytes, more than the " \
           f"{MAX_FILE_BYTES:,} metaflow-lsp reads" in result.stderr
    assert "zero.py" not in result.stdout + result.stderr and "x.py" not in result.stdout + result.stderr
    assert result.returncode == 1  # the findings; a generated file too large to check is said, not failed on


def test_check_says_why_it_cannot_read_a_named_fifo(tmp_path):
    hostile_workspace(tmp_path)
    result = run_cli("check", "x.py", "zero.py", cwd=tmp_path)
    assert result.returncode == 2, result
    assert "x.py: cannot read it (not a regular file)" in result.stderr
    assert "zero.py: cannot read it (not a regular file)" in result.stderr


def test_fix_walks_a_hostile_folder_and_keeps_the_byte_order_mark(tmp_path):
    flow = hostile_workspace(tmp_path)
    flow.write_bytes(codecs.BOM_UTF8 + RETRY_FLOW.encode())
    result = run_cli("fix", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert "flow.py: fixed MF103" in result.stderr
    assert "big.py: not fixed: " in result.stderr
    data = flow.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and b"@retry(times=4)" in data
    compile(data, "flow.py", "exec")
