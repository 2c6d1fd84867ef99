"""workspace/symbol through the real server: flows, steps and Parameters of every flow file in the workspace, what
.gitignore ignores left out, the editor's unsaved text winning over the disk, relaxed case-insensitive matching."""

from __future__ import annotations

import asyncio
import os
import subprocess

from lsprotocol import types

from test_lsp_artifacts import FLOW
from test_lsp_session import TIMEOUT, open_document, session, write

OTHER = '''
from metaflow import FlowSpec, step


class ÉtudeFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train_more)

    @step
    def train_more(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def project(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".gitignore", "scratch/\n")
    write(tmp_path, "flows/train_flow.py", FLOW)
    write(tmp_path, "flows/étude.py", OTHER)
    write(tmp_path, "scratch/copy_flow.py", FLOW.replace("TrainFlow", "ScratchFlow"))
    write(tmp_path, "flows/helpers.py", "def train():\n    pass\n")  # no flow: no symbol


async def query(client, text: str) -> list[tuple[str, str | None, types.SymbolKind, str, types.Range]]:
    found = await asyncio.wait_for(client.workspace_symbol_async(types.WorkspaceSymbolParams(query=text)), TIMEOUT)
    return [(s.name, s.container_name, s.kind, s.location.uri.rsplit("/", 1)[-1], s.location.range)
            for s in found or []]


def names(found) -> list[tuple[str, str | None]]:
    return [(name, container) for name, container, *_ in found]


async def test_finds_flows_steps_and_parameters_across_the_project(tmp_path):
    project(tmp_path)
    async with session(tmp_path) as client:
        everything = await query(client, "")
        assert set(names(everything)) == {
            ("TrainFlow", None), ("alpha", "TrainFlow"),
            *((step, "TrainFlow") for step in ("start", "train", "baseline", "join", "split", "fan", "gather", "end")),
            ("ÉtudeFlow", None), *((step, "ÉtudeFlow") for step in ("start", "train_more", "end"))}
        assert not any(name == "ScratchFlow" for name, *_ in everything)  # under a git-ignored folder

        # Closest first: the same name, a prefix, then the characters in order; case does not matter.
        assert names(await query(client, "TRAIN")) == [
            ("train", "TrainFlow"), ("train_more", "ÉtudeFlow"), ("TrainFlow", None)]
        assert names(await query(client, "trmo")) == [("train_more", "ÉtudeFlow")]
        assert names(await query(client, "étudeflow.end")) == [("end", "ÉtudeFlow")]
        assert await query(client, "zzz") == []

        kinds = {(name, container): kind for name, container, kind, *_ in everything}
        assert kinds["TrainFlow", None] == types.SymbolKind.Class
        assert kinds["train", "TrainFlow"] == types.SymbolKind.Method
        assert kinds["alpha", "TrainFlow"] == types.SymbolKind.Property

        # The range is the name, in UTF-16 columns (É is one code unit, two UTF-8 bytes).
        [(_, _, _, file, where)] = [entry for entry in everything if entry[0] == "ÉtudeFlow"]
        assert file == "%C3%A9tude.py"
        assert where == types.Range(start=types.Position(line=3, character=6),
                                    end=types.Position(line=3, character=15))


async def test_an_open_document_counts_as_the_editor_has_it(tmp_path):
    project(tmp_path)
    path = tmp_path / "flows" / "étude.py"
    edited = path.read_text(encoding="utf-8").replace("train_more", "fit_more")
    async with session(tmp_path) as client:
        assert names(await query(client, "train_more")) == [("train_more", "ÉtudeFlow")]
        open_document(client, path, edited)
        assert await query(client, "train_more") == []
        [(name, container, _, file, where)] = await query(client, "fit_more")
        assert (name, container, file) == ("fit_more", "ÉtudeFlow", "%C3%A9tude.py")
        assert where.start == types.Position(line=9, character=8)  # `    def fit_more`


async def test_a_new_file_on_disk_shows_up_after_the_change_is_announced(tmp_path):
    project(tmp_path)
    async with session(tmp_path) as client:
        assert await query(client, "LateFlow") == []
        late = write(tmp_path, "flows/late.py", OTHER.replace("ÉtudeFlow", "LateFlow"))
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=late.as_uri(), type=types.FileChangeType.Created)]))
        assert names(await query(client, "LateFlow")) == [("LateFlow", None)]


async def test_a_buffer_open_under_a_symlink_loop_leaves_the_others_found(tmp_path):
    project(tmp_path)
    os.symlink("loop", tmp_path / "loop")  # `loop/notes.py` can be no file: the editor has it as a new buffer
    async with session(tmp_path) as client:
        open_document(client, tmp_path / "loop" / "notes.py", "x = 1\n")
        assert names(await query(client, "ÉtudeFlow")) == [("ÉtudeFlow", None)]
