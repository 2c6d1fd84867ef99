"""Code actions end to end: the real server (`python -m metaflow_lsp`) and pytest-lsp's client with VS Code's
capabilities. Actions are listed without edits, resolved one at a time, and the WorkspaceEdit is applied here to the
text the editor holds, which is then checked again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import attrs
from lsprotocol import types

from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project
from metaflow_lsp.text import split_lines
from test_lsp_session import TIMEOUT, capabilities, open_document, pull, replace_all, session, write

FLOW = '''
from metaflow import FlowSpec, Parameter, retry, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @retry(times=9)
    @step
    def start(self):
        self.rows = 10 if self.test_mode else 1000
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


# -- applying a WorkspaceEdit as an editor does ------------------------------------------------------------------


def _offset(text: str, position: types.Position) -> int:
    lines = split_lines(text, keepends=True)  # LSP's lines, as an editor counts them
    if position.line >= len(lines):
        return len(text)
    line = lines[position.line]
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return sum(len(previous) for previous in lines[:position.line]) + index
        units += len(char.encode("utf-16-le")) // 2
    return sum(len(previous) for previous in lines[:position.line]) + len(line)


def apply_edits(text: str, edits) -> str:
    spans = sorted(((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def apply(edit: types.WorkspaceEdit, texts: dict[str, str], versions: dict[str, int | None] | None = None):
    """Applies `edit` to `texts` (uri -> text; a missing uri is read from disk), checking versions like VS Code."""
    assert edit.document_changes is not None, "VS Code announces documentChanges: the edit must use them"
    for change in edit.document_changes:
        if isinstance(change, types.CreateFile):
            assert not path_of(change.uri).exists() or change.options.ignore_if_exists
            texts.setdefault(change.uri, "")
            continue
        assert isinstance(change, types.TextDocumentEdit)
        uri = change.text_document.uri
        if versions is not None:
            assert change.text_document.version == versions.get(uri), uri
        if uri not in texts:
            texts[uri] = path_of(uri).read_text()
        texts[uri] = apply_edits(texts[uri], change.edits)
    return texts


# -- requests ----------------------------------------------------------------------------------------------------


async def actions_at(client, uri: str, line: int, *, only=None, diagnostics=None, character: int = 0):
    position = types.Position(line=line, character=character)
    result = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=position, end=position),
        context=types.CodeActionContext(diagnostics=diagnostics or [], only=only))), TIMEOUT)
    return result or []


async def resolve(client, action: types.CodeAction) -> types.CodeAction:
    return await asyncio.wait_for(client.code_action_resolve_async(action), TIMEOUT)


def titled(actions, start: str) -> types.CodeAction:
    found = [a for a in actions if a.title.startswith(start)]
    assert len(found) == 1, [a.title for a in actions]
    return found[0]


def codes_in(text: str, path: Path, project: Project | None = None) -> set[str]:
    return {f.code for f in check_source(text, path, Settings(), project).findings}


async def diagnostics_of(client, uri: str) -> list[types.Diagnostic]:
    report = await pull(client, uri)
    return list(report.items)


# -- tests -------------------------------------------------------------------------------------------------------


async def test_quick_fix_is_listed_without_edit_and_resolved_on_demand(tmp_path):
    path = write(tmp_path, "train.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF103"]
        assert diagnostics
        actions = await actions_at(client, uri, diagnostics[0].range.start.line, diagnostics=diagnostics)
        fix = titled(actions, "Set @retry times to 4")
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        assert fix.edit is None and fix.data["uri"] == uri and fix.data["version"] == 1
        assert fix.diagnostics[0].code == "MF103"
        titled(actions, "Disable MF103 for this line")

        resolved = await resolve(client, fix)
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1})
        assert "@retry(times=4)" in texts[uri]
        assert "MF103" not in codes_in(texts[uri], path)


async def test_an_unsaved_change_is_what_gets_fixed(tmp_path):
    path = write(tmp_path, "train.py", FLOW.replace("    @retry(times=9)\n", ""))
    on_disk = path.read_text()
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        edited = on_disk.replace("    @step\n    def start", "    @step\n    @retry(times=9)\n    def start")
        replace_all(client, uri, edited, 2, on_disk)
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF101"]
        assert diagnostics, "the in-memory text has @retry below @step"
        actions = await actions_at(client, uri, diagnostics[0].range.start.line, diagnostics=diagnostics)
        resolved = await resolve(client, titled(actions, "Move @step directly above def"))
        texts = apply(resolved.edit, {uri: edited}, versions={uri: 2})
        assert "    @retry(times=9)\n    @step\n    def start" in texts[uri]
        assert "MF101" not in codes_in(texts[uri], path)
        assert path.read_text() == on_disk  # the server never writes


async def test_noqa_action(tmp_path):
    path = write(tmp_path, "train.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        line = FLOW.lstrip("\n").splitlines().index("    @retry(times=9)")
        resolved = await resolve(client, titled(await actions_at(client, uri, line), "Disable MF103"))
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1})
        assert "    @retry(times=9)  # noqa: MF103\n" in texts[uri]
        assert "MF103" not in codes_in(texts[uri], path)


async def test_fix_all_applies_the_safe_fixes_in_one_edit(tmp_path):
    source = dedent(FLOW).replace('\n\nif __name__ == "__main__":\n    TrainFlow()\n', "").replace(
        "    @retry(times=9)\n    @step\n", "    @step\n    @retry(times=9)\n")
    path = tmp_path / "train.py"
    path.write_text(source)
    assert {"MF101", "MF103", "MF112"} <= codes_in(source, path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        actions = await actions_at(client, uri, 0, only=["source.fixAll"])
        assert [a.kind for a in actions] == ["source.fixAll.metaflow-lsp"]
        resolved = await resolve(client, actions[0])
        assert len(resolved.edit.document_changes) == 1
        texts = apply(resolved.edit, {uri: source}, versions={uri: 1})
        assert not {"MF101", "MF103", "MF112"} & codes_in(texts[uri], path)
        # Only the kinds asked for: no quick fixes in a fixAll request, no fixAll when nothing is safe to fix.
        path_clean = write(tmp_path, "clean.py", FLOW.replace("    @retry(times=9)\n", ""))
        clean_uri = open_document(client, path_clean)
        assert await actions_at(client, clean_uri, 0, only=["source.fixAll"]) == []


async def test_move_helper_creates_common_py_with_create_file(tmp_path):
    source = FLOW.replace("class TrainFlow", "def double(x):\n    return 2 * x\n\n\nclass TrainFlow")
    path = write(tmp_path, "train.py", source)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        line = dedent(source).splitlines().index("def double(x):")
        resolved = await resolve(client, titled(await actions_at(client, uri, line), "Move `double` to common.py"))
        changes = resolved.edit.document_changes
        common_uri = (tmp_path / "common.py").as_uri()
        assert isinstance(changes[1], types.CreateFile) and changes[1].uri == common_uri
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1, common_uri: None})
        assert texts[common_uri] == "def double(x):\n    return 2 * x\n"
        assert "from common import double\n" in texts[uri] and "def double" not in texts[uri]
        assert "MF202" not in codes_in(texts[uri], path)


async def test_move_helper_appends_to_the_open_common_py(tmp_path):
    source = FLOW.replace("class TrainFlow", "def double(x):\n    return 2 * x\n\n\nclass TrainFlow")
    path = write(tmp_path, "train.py", source)
    common = write(tmp_path, "common.py", "X = 1\n")
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        unsaved = "X = 1\nY = 2  # not saved yet\n"
        common_uri = open_document(client, common, text=unsaved, version=7)
        line = dedent(source).splitlines().index("def double(x):")
        resolved = await resolve(client, titled(await actions_at(client, uri, line), "Move `double` to common.py"))
        assert not any(isinstance(c, types.CreateFile) for c in resolved.edit.document_changes)
        texts = apply(resolved.edit, {uri: path.read_text(), common_uri: unsaved}, versions={uri: 1, common_uri: 7})
        assert texts[common_uri] == unsaved + "\n\ndef double(x):\n    return 2 * x\n"


async def test_gitignore_fix_without_create_file_support_says_so(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = write(tmp_path, "train.py", FLOW.replace("    @retry(times=9)\n", ""))
    caps = capabilities()
    edit_caps = attrs.evolve(caps.workspace.workspace_edit, resource_operations=[])
    caps = attrs.evolve(caps, workspace=attrs.evolve(caps.workspace, workspace_edit=edit_caps))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF203"]
        assert diagnostics
        action = titled(await actions_at(client, uri, diagnostics[0].range.start.line), "Add .metaflow")
        resolved = await resolve(client, action)
        assert resolved.edit is None
        deadline = time.monotonic() + TIMEOUT
        while not any("cannot create files" in m.message for m in client.messages):
            assert time.monotonic() < deadline, client.messages
            await asyncio.sleep(0.01)


async def test_gitignore_fix_creates_gitignore(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = write(tmp_path, "train.py", FLOW.replace("    @retry(times=9)\n", ""))
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF203"]
        resolved = await resolve(client, titled(await actions_at(client, uri, diagnostics[0].range.start.line),
                                                "Add .metaflow"))
        gitignore = (tmp_path / ".gitignore").as_uri()
        assert isinstance(resolved.edit.document_changes[0], types.CreateFile)
        texts = apply(resolved.edit, {}, versions={gitignore: None})
        (tmp_path / ".gitignore").write_text(texts[gitignore])
        assert "MF203" not in codes_in(path.read_text(), path, Project(tmp_path))


async def test_mf204_and_mf205_fixes(tmp_path):
    source = FLOW.replace("    @retry(times=9)\n", "").replace(
        'test_mode = Parameter("test_mode", type=bool, default=False)', 'alpha = Parameter("alpha", default=0.1)')
    source = source.replace("self.rows = 10 if self.test_mode else 1000", "self.rows = 1000")
    path = write(tmp_path, "train.py", source)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        text = path.read_text()
        line = dedent(source).splitlines().index("class TrainFlow(FlowSpec):")
        resolved = await resolve(client, titled(await actions_at(client, uri, line), "Add a `test_mode` Parameter"))
        text = apply(resolved.edit, {uri: text})[uri]
        assert 'test_mode = Parameter("test_mode", type=bool' in text and "MF204" not in codes_in(text, path)
        # The client applies the edit: the document's next version.
        replace_all(client, uri, text, 2, path.read_text())
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF205"]
        assert diagnostics
        resolved = await resolve(client, titled(await actions_at(client, uri, diagnostics[0].range.start.line),
                                                "Use `test_mode`"))
        text = apply(resolved.edit, {uri: text}, versions={uri: 2})[uri]
        assert "if self.test_mode:" in text and "MF205" not in codes_in(text, path)


async def test_pin_to_the_installed_version(tmp_path):
    from importlib.metadata import version

    source = FLOW.replace("    @retry(times=9)\n", "    " + '@pypi(packages={"libcst": "", "surely-not-installed": ""})\n') \
        .replace("retry, step", "pypi, step")
    path = write(tmp_path, "train.py", source)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        line = dedent(source).splitlines().index(
            '    @pypi(packages={"libcst": "", "surely-not-installed": ""})')
        actions = await actions_at(client, uri, line)
        pins = [a for a in actions if a.title.startswith("Pin")]
        # Only the installed package can be pinned; the other one gets no made-up version.
        assert [a.title.split(" (")[0] for a in pins] == [f"Pin `libcst` to {version('libcst')}"]
        resolved = await resolve(client, pins[0])
        text = apply(resolved.edit, {uri: path.read_text()})[uri]
        assert f'"libcst": "{version("libcst")}"' in text


STEP_FLOW = '''
from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        rows = 10 if self.test_mode else 1000
        self.data = [i * i for i in range(rows)]
        self.total = sum(self.data)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''


async def test_extract_is_offered_on_a_step_and_disabled_with_the_reason(tmp_path):
    path = write(tmp_path, "train.py", STEP_FLOW)
    lines = dedent(STEP_FLOW).splitlines()
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        inside = lines.index("        self.total = sum(self.data)")
        actions = await actions_at(client, uri, inside, only=[types.CodeActionKind.Refactor])
        extract = titled(actions, "Extract body of step `start`")
        assert extract.kind == types.CodeActionKind.RefactorExtract and extract.disabled is None
        resolved = await resolve(client, extract)
        common_uri = (tmp_path / "common.py").as_uri()
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1, common_uri: None})
        assert "common" in texts[uri] and "def start" in texts[common_uri]

        # `end` only passes: nothing to extract, so it is offered disabled with the reason.
        end_line = lines.index("    def end(self):")
        action = titled(await actions_at(client, uri, end_line, only=[types.CodeActionKind.Refactor]),
                        "Extract body of step `end`")
        assert action.disabled is not None and action.disabled.reason
        # Outside any step: not offered.
        assert await actions_at(client, uri, 0, only=[types.CodeActionKind.Refactor]) == []


async def test_extract_is_the_quick_fix_of_a_long_step(tmp_path):
    path = write(tmp_path, "train.py", STEP_FLOW)
    async with session(tmp_path, settings={"maxStepStatements": 1}) as client:
        uri = open_document(client, path)
        diagnostics = [d for d in await diagnostics_of(client, uri) if d.code == "MF201"]
        assert diagnostics
        actions = await actions_at(client, uri, diagnostics[0].range.start.line, diagnostics=diagnostics)
        extract = titled(actions, "Extract body of step `start`")  # once: the refactoring is not listed again
        assert extract.kind == types.CodeActionKind.QuickFix and extract.diagnostics[0].code == "MF201"
        resolved = await resolve(client, extract)
        common_uri = (tmp_path / "common.py").as_uri()
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1, common_uri: None})
        assert "= common.start(" in texts[uri] and "def start" in texts[common_uri]


async def test_without_resolve_support_edits_come_with_the_list(tmp_path):
    path = write(tmp_path, "train.py", FLOW)
    caps = capabilities()
    caps = attrs.evolve(caps, text_document=attrs.evolve(caps.text_document, code_action=attrs.evolve(
        caps.text_document.code_action, resolve_support=None)))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        line = dedent(FLOW).splitlines().index("    @retry(times=9)")
        actions = await actions_at(client, uri, line)
        fix = titled(actions, "Set @retry times to 4")
        assert fix.edit is not None
        texts = apply(fix.edit, {uri: path.read_text()}, versions={uri: 1})
        assert "MF103" not in codes_in(texts[uri], path)


def test_listing_imports_no_libcst(tmp_path):
    """textDocument/codeAction stays instant: the list is made without libcst (which takes ~0.3 s to import)."""
    path = write(tmp_path, "train.py", STEP_FLOW.replace("    @step\n    def start", "    @retry(times=9)\n    @step\n"
                                                                                    "    def start"))
    probe = textwrap.dedent(f'''
        import asyncio, sys
        from lsprotocol import types
        from pygls.workspace import Workspace
        from pytest_lsp import client_capabilities
        from metaflow_lsp.lsp.server import create_server
        from metaflow_lsp.lsp.code_actions import list_actions
        server = create_server()
        server.protocol.client_capabilities = client_capabilities("visual_studio_code")
        server.protocol._workspace = Workspace({tmp_path.as_uri()!r})
        uri = {path.as_uri()!r}
        server.workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id="python", version=1,
                                                                  text=open({str(path)!r}).read()))
        for line in range(20):
            position = types.Position(line=line, character=0)
            asyncio.run(list_actions(server, types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=position, end=position),
                context=types.CodeActionContext(diagnostics=[]))))
        print("libcst" in sys.modules)
        ''')
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip() == "False"


async def test_fix_all_without_create_file_support_skips_only_the_new_file(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # no .gitignore: MF203 needs a new file
    path = write(tmp_path, "train.py", FLOW)
    caps = capabilities()
    edit_caps = attrs.evolve(caps.workspace.workspace_edit, resource_operations=[])
    caps = attrs.evolve(caps, workspace=attrs.evolve(caps.workspace, workspace_edit=edit_caps))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        actions = await actions_at(client, uri, 0, only=["source.fixAll.metaflow-lsp"])
        resolved = await resolve(client, actions[0])
        assert not any(isinstance(c, types.CreateFile) for c in resolved.edit.document_changes)
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1})
        assert "MF103" not in codes_in(texts[uri], path)
        assert any("create .gitignore yourself" in m.message for m in client.messages)


async def test_without_code_action_literals_fixes_are_commands(tmp_path):
    path = write(tmp_path, "train.py", FLOW)
    caps = capabilities()
    caps = attrs.evolve(caps, text_document=attrs.evolve(caps.text_document, code_action=attrs.evolve(
        caps.text_document.code_action, code_action_literal_support=None, resolve_support=None)))
    async with session(tmp_path, caps=caps) as client:
        applied: list[types.ApplyWorkspaceEditParams] = []

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(ls, params: types.ApplyWorkspaceEditParams):
            applied.append(params)
            return types.ApplyWorkspaceEditResult(applied=True)

        uri = open_document(client, path)
        line = dedent(FLOW).splitlines().index("    @retry(times=9)")
        commands = await actions_at(client, uri, line)
        command = titled(commands, "Set @retry times to 4")
        assert isinstance(command, types.Command) and command.command == "metaflow.applyFix"
        await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command=command.command, arguments=command.arguments)), TIMEOUT)
        assert len(applied) == 1
        texts = apply(applied[0].edit, {uri: path.read_text()}, versions={uri: 1})
        assert "MF103" not in codes_in(texts[uri], path)


EARLY_RETURN_FLOW = '''
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.helper_value = helper(self)
        self.next(self.check)

    @step
    def check(self):
        if not self.rows:
            return
        self.total = sum(self.rows)
        self.next(self.end)

    @step
    def end(self):
        pass


def helper(flow):
    return len(flow.rows)


if __name__ == "__main__":
    TrainFlow()
'''


async def test_extract_refusals_say_why_and_what_to_do_and_self_as_value_is_offered(tmp_path):
    """Issue 13: a step passing `self` on is extractable (against a `flow` parameter); an early `return` is not, and
    the action is listed disabled with the reason, or left out for a client that shows no disabled actions."""
    path = write(tmp_path, "train.py", EARLY_RETURN_FLOW)
    lines = dedent(EARLY_RETURN_FLOW).splitlines()
    start_line, check_line = lines.index("    def start(self):"), lines.index("    def check(self):")
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        start = titled(await actions_at(client, uri, start_line, only=[types.CodeActionKind.Refactor]),
                       "Extract body of step `start`")
        assert start.disabled is None
        resolved = await resolve(client, start)
        common_uri = (tmp_path / "common.py").as_uri()
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1, common_uri: None})
        assert "        common.start(self)\n" in texts[uri]
        assert "def start(flow):" in texts[common_uri] and "helper(flow)" in texts[common_uri]
        check = titled(await actions_at(client, uri, check_line, only=[types.CodeActionKind.Refactor]),
                       "Extract the part of step `check` before its transition")
        assert check.disabled is not None and check.disabled.reason.startswith(
            f"The body has an early `return` (line {check_line + 3}) with nothing before it to extract: it skips "
            "the rest of the step")
        assert "Move the part after it into a helper yourself" in check.disabled.reason
    caps = capabilities()
    caps = attrs.evolve(caps, text_document=attrs.evolve(caps.text_document, code_action=attrs.evolve(
        caps.text_document.code_action, disabled_support=None)))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        listed = await actions_at(client, uri, check_line, only=[types.CodeActionKind.Refactor])
        assert not [a for a in listed if a.title.startswith("Extract the part of step `check` before its transition")]


async def test_extract_selected_statements(tmp_path):
    """Issue 13: a selection inside a step offers "Extract selected statements" (refactor.extract.function); the
    edit calls the new function where the statements were; a selection of the final `self.next` only is listed
    disabled with the reason."""
    path = write(tmp_path, "train.py", STEP_FLOW)
    lines = dedent(STEP_FLOW).splitlines()
    first, last = lines.index("        rows = 10 if self.test_mode else 1000"), lines.index(
        "        self.data = [i * i for i in range(rows)]")

    async def selected(client, uri, start, end, end_character):
        result = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=start, character=8),
                              end=types.Position(line=end, character=end_character)),
            context=types.CodeActionContext(diagnostics=[], only=["refactor.extract.function"]))), TIMEOUT)
        return titled(result or [], "Extract selected statements of step `start`")

    async with session(tmp_path) as client:
        uri = open_document(client, path)
        action = await selected(client, uri, first, last + 1, 0)  # whole lines, ending at the next line's start
        assert action.kind == "refactor.extract.function" and action.disabled is None
        resolved = await resolve(client, action)
        common_uri = (tmp_path / "common.py").as_uri()
        texts = apply(resolved.edit, {uri: path.read_text()}, versions={uri: 1, common_uri: None})
        assert ("    def start(self):\n        self.data = common.start_part(self.test_mode)\n"
                "        self.total = sum(self.data)\n") in texts[uri]
        assert "def start_part(test_mode):" in texts[common_uri]
        tail = lines.index("        self.next(self.end)")
        only_next = await selected(client, uri, tail, tail, 27)
        assert only_next.disabled is not None and only_next.disabled.reason == (
            "Select whole statements of the body of `start` (not its docstring or its final `self.next`).")
