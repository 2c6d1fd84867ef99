"""Diagnostics of flows that are not open: `workspace/diagnostic` and the `metaflow.checkWorkspace` command."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from metaflow_lsp.rules import RULES
from test_lsp_diagnostics import BROKEN, GOOD, UNKNOWN_TARGET, of
from test_lsp_session import TIMEOUT, capabilities, open_document, session, wait_for_published, write


@pytest.fixture(autouse=True)
def _rules_exist():
    assert UNKNOWN_TARGET in RULES


@pytest.fixture
def workspace(tmp_path):
    write(tmp_path, "flows/broken.py", BROKEN)
    write(tmp_path, "flows/good.py", GOOD)
    write(tmp_path, "flows/nested/also_broken.py", BROKEN)
    write(tmp_path, ".venv/lib/site.py", BROKEN)  # virtualenvs are never reported
    write(tmp_path, "notes.txt", "not python")
    return tmp_path


def by_path(report, root):
    return {item.uri[len(root.as_uri()) + 1:]: item for item in report.items}


async def workspace_pull(client, previous=()):
    return await asyncio.wait_for(client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(
        previous_result_ids=list(previous))), TIMEOUT)


async def test_workspace_diagnostic_reports_every_python_file(workspace):
    async with session(workspace) as client:
        report = await workspace_pull(client)
        items = by_path(report, workspace)
        assert sorted(items) == ["flows/broken.py", "flows/good.py", "flows/nested/also_broken.py"]
        assert [d.code for d in of(UNKNOWN_TARGET, items["flows/broken.py"].items)] == [UNKNOWN_TARGET]
        assert of(UNKNOWN_TARGET, items["flows/good.py"].items) == []
        assert all(item.version is None and item.kind == "full" for item in items.values())

        # Nothing changed: every file is unchanged.
        previous = [types.PreviousResultId(uri=item.uri, value=item.result_id) for item in report.items]
        again = await workspace_pull(client, previous)
        assert {item.kind for item in again.items} == {"unchanged"}

        # An open document is reported with its version and the editor's text, not the disk's.
        uri = open_document(client, workspace / "flows/good.py", BROKEN, version=7)
        third = by_path(await workspace_pull(client, previous), workspace)
        assert third["flows/good.py"].kind == "full" and third["flows/good.py"].version == 7
        assert [d.code for d in of(UNKNOWN_TARGET, third["flows/good.py"].items)] == [UNKNOWN_TARGET]
        assert third["flows/broken.py"].kind == "unchanged"
        assert uri == third["flows/good.py"].uri


async def test_workspace_diagnostic_sees_files_change_on_disk(workspace):
    async with session(workspace) as client:
        report = await workspace_pull(client)
        previous = [types.PreviousResultId(uri=item.uri, value=item.result_id) for item in report.items]
        (workspace / "flows/broken.py").write_text(GOOD + "\n# fixed\n", encoding="utf-8")
        items = by_path(await workspace_pull(client, previous), workspace)
        assert items["flows/broken.py"].kind == "full" and of(UNKNOWN_TARGET, items["flows/broken.py"].items) == []
        assert items["flows/nested/also_broken.py"].kind == "unchanged"


async def test_check_workspace_publishes_with_progress(workspace):
    async with session(workspace, caps=capabilities(pull=False)) as client:
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.checkWorkspace")), TIMEOUT)
        assert result["files"] == 3 and result["filesWithProblems"] >= 2
        published = {p.uri: p for p in client.published}
        broken = (workspace / "flows/broken.py").as_uri()
        assert [d.code for d in of(UNKNOWN_TARGET, published[broken].diagnostics)] == [UNKNOWN_TARGET]
        assert (workspace / "flows/good.py").as_uri() in published
        [(token, reports)] = client.progress_reports.items()
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert "of 3 files" in reports[-1].message
        assert all(isinstance(r, types.WorkDoneProgressReport) for r in reports[1:-1])


async def test_check_workspace_without_progress_support(workspace):
    async with session(workspace, caps=capabilities(pull=False, progress=False)) as client:
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.checkWorkspace")), TIMEOUT)
        assert result["files"] == 3
        assert client.progress_reports == {}
        assert len({p.uri for p in client.published}) == 3


async def test_check_workspace_in_a_pulling_client_leaves_open_documents_to_pull(workspace):
    async with session(workspace) as client:
        open_uri = open_document(client, workspace / "flows/good.py")
        await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.checkWorkspace")), TIMEOUT)
        assert open_uri not in {p.uri for p in client.published}
        closed = (workspace / "flows/broken.py").as_uri()
        assert closed in {p.uri for p in client.published}
        # Opening it now hands it over to pull: what was pushed is cleared.
        count = len(client.published)
        open_document(client, workspace / "flows/broken.py")
        cleared = await wait_for_published(client, closed, after=count)
        assert list(cleared.diagnostics) == []
