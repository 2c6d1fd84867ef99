"""Bad input gets a clear answer, never a crash, a hang or a corrupted file.

Line breaks: Python and LSP end lines at \\n, \\r\\n and \\r only; a quick fix that counted lines as `str.splitlines`
does (form feeds, \\x0b, \\x1c-\\x1e, \\x85, \\u2028, \\u2029) edited the wrong lines. The property tests put those
characters where Python allows them (comments, strings, a form feed before a statement) and check that every fix,
applied as an editor applies its edits, gives exactly the fixed text with every one of them kept.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from .hostile import (ANSWER_WITHIN, NOT_LINE_BREAKS, RETRY_FLOW, SIMPLE_FLOW, apply_text_edits, codes, lsp_lines,
                     run_cli, served, still_answers)
from metaflow_lsp.lsp.workspace_edits import text_edits
from metaflow_lsp.refactor import fixes
from test_lsp_session import open_document

FIXABLE = textwrap.dedent('''
    from metaflow import FlowSpec, retry, step


    class TrainFlow(FlowSpec):
        """Trains."""

        @retry(times=9)
        @step
        def start(self):
            self.rows = "many"
            self.next(self.end)

        @step
        def end(self):
            pass
''').lstrip("\n")
LINES = FIXABLE.split("\n")

junk = st.text(st.sampled_from([*NOT_LINE_BREAKS, "a", " ", "é", "🚀"]), min_size=1, max_size=6)


@st.composite
def hostile_flow(draw) -> tuple[str, list[str]]:
    """(FIXABLE with the characters added, the pieces added, each findable once): comments at line ends and on
    lines of their own, a form feed before a statement, inside the string literal."""
    lines = list(LINES)
    pieces: list[str] = []
    for index in sorted(draw(st.sets(st.integers(0, len(LINES) - 2), min_size=1, max_size=8)), reverse=True):
        line = lines[index]
        kind = draw(st.sampled_from(["trailing", "own line", "form feed", "string"]))
        text = draw(junk)
        if kind == "trailing" and line.strip():
            piece = f"  # j{index} {text}"
            lines[index] = line + piece
        elif kind == "string" and '"many"' in line:
            piece = f"j{index}{text}"
            lines[index] = line.replace('"many"', f'"many{piece}"')
        elif kind == "form feed" and line.strip() and not line.startswith(" "):
            piece = "\x0c"
            lines[index] = piece + line
        else:
            indent = line[: len(line) - len(line.lstrip())]
            piece = f"{indent}# j{index} {text}\n"
            lines[index] = piece + line
        pieces.append(piece)
    return "\n".join(lines), pieces


def _without(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        assert piece in text, f"{piece!r} was lost"
        text = text.replace(piece, "", 1)
    return text


def _as_editor_applies(old: str, new: str) -> str:
    return apply_text_edits(old, text_edits(old, new))


def _count(text: str) -> dict[str, int]:
    return {char: text.count(char) for char in NOT_LINE_BREAKS}


@settings(max_examples=150, deadline=None)
@given(hostile_flow())
def test_fix_all_keeps_every_other_character(case):
    source, pieces = case
    ast.parse(source)  # the generator only writes valid Python
    clean_plan, _ = fixes.fix_all(FIXABLE, fixes.FixContext(None))
    plan, remaining = fixes.fix_all(source, fixes.FixContext(None))
    if "\x0c" in pieces:  # libcst cannot give such a line back: the file is left alone, the findings stay
        assert plan.changes == [] and {"MF103", "MF112"} <= {f.code for f in remaining}
        return
    assert plan.fixed == clean_plan.fixed
    fixed = _as_editor_applies(source, plan.changes[0].new)
    ast.parse(fixed)
    assert _count(fixed) == _count(source)
    assert _without(fixed, pieces) == clean_plan.changes[0].new


@settings(max_examples=150, deadline=None)
@given(hostile_flow(), st.integers(0, len(LINES) - 2))
def test_noqa_lands_on_the_line_the_editor_shows(case, line):
    source, _ = case
    shown = lsp_lines(source)
    if not shown[line].strip() or shown[line].lstrip(" \x0c").startswith("#"):
        line = next(n for n, text in enumerate(shown) if text.strip().startswith("@retry"))
    try:
        new = fixes.add_noqa(source, line, "MF103")
    except fixes.FixError:  # refused (a line inside the docstring): nothing written is fine
        return
    fixed = lsp_lines(_as_editor_applies(source, new))
    ast.parse("".join(fixed))
    assert "# noqa: MF103" in fixed[line] or "MF103" in fixed[line]
    assert fixed[:line] + fixed[line + 1:] == shown[:line] + shown[line + 1:]


# -- the real server and CLI on bad input --------------------------------------------------------------------------


async def test_pyproject_whose_tool_is_no_table_gives_a_message_and_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text("# settings of metaflow-lsp\ntool = 1\n")
    flow = tmp_path / "flow.py"
    flow.write_text(RETRY_FLOW)
    async with served(tmp_path) as client:
        uri = open_document(client, flow)
        report = await still_answers(client, uri)  # was -32603 on every request
        assert codes(report) == ["MF103"]
        messages = await _messages(client, 1)
        assert [m.message for m in messages] == [
            f"metaflow-lsp: {tmp_path / 'pyproject.toml'}: `tool` must be a table, not int; using default settings"]
    result = run_cli("check", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr and "MF103" in result.stdout
    assert "`tool` must be a table, not int; using default settings" in result.stderr


def test_a_broken_pyproject_that_never_names_metaflow_lsp_is_not_ours_to_judge(tmp_path):
    """It holds no settings of ours, so it is not parsed: no message, the defaults, and no TOML parser imported."""
    (tmp_path / "pyproject.toml").write_text("tool = 1\n[project\n")
    (tmp_path / "flow.py").write_text(RETRY_FLOW)
    result = run_cli("check", ".", cwd=tmp_path)
    assert "pyproject" not in result.stderr and "MF103" in result.stdout
    probe = ("import sys; from pathlib import Path; from metaflow_lsp.config import load; "
             "print(load(Path(sys.argv[1]))[1], 'tomllib' in sys.modules, 'tomli' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True)
    assert shown.stdout.split() == ["[]", "False", "False"], shown.stderr


def test_settings_spelled_with_an_escape_are_still_read(tmp_path):
    """`"metaflow\\u002dlsp"` is the same TOML key: a text with an escape is parsed."""
    (tmp_path / "pyproject.toml").write_text('[tool."metaflow\\u002dlsp"]\nignore = ["MF103"]\n')
    (tmp_path / "flow.py").write_text(RETRY_FLOW)
    result = run_cli("check", ".", cwd=tmp_path)
    assert "MF103" not in result.stdout and "Traceback" not in result.stderr


async def test_change_to_a_document_never_opened_is_ignored_quietly(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text(RETRY_FLOW)
    async with served(tmp_path) as client:
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=flow.as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")]))
        report = await still_answers(client, flow.as_uri())
        assert codes(report) == ["MF103"]  # the disk's text: the change had nothing to apply to
        assert client.messages == []  # was "Error in server: 'file:///.../flow.py'"


async def test_parser_giving_up_is_a_syntax_error_that_says_why(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text(SIMPLE_FLOW.replace("        pass\n", "        x = " + "-" * 100_000 + "1\n"))
    async with served(tmp_path) as client:
        report = await still_answers(client, open_document(client, flow))
        assert [(d.code, d.message) for d in report.items] == [(
            "MF000", "Syntax error: cannot parse: it is nested too deeply or has an expression too long for "
                     "Python's parser")]


async def test_symlink_loops_leave_the_workspace_check_whole(tmp_path):
    flow = tmp_path / "flow.py"
    flow.write_text(RETRY_FLOW)
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    async with served(tmp_path) as client:
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.checkWorkspace", arguments=[])), ANSWER_WITHIN)
        assert result == {"files": 1, "problems": 1, "filesWithProblems": 1}
        await still_answers(client, flow.as_uri())
    result = run_cli("check", ".", cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1 and "flow.py:5:6: MF103" in result.stdout


async def _messages(client, count: int, wait: float = 3.0) -> list[types.ShowMessageParams]:
    deadline = asyncio.get_running_loop().time() + wait
    while len(client.messages) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return list(client.messages)


async def test_quick_fixes_from_the_server_on_a_file_with_form_feeds_keep_it_intact(tmp_path):
    source = (RETRY_FLOW.replace("class SimpleFlow", "# page one\x0c and \x0b more\n\x0c\nclass SimpleFlow")
              .replace("    def start(self):\n", "    def start(self):\n        self.note = 'a\u2028b\x85c\x1c'\n"))
    flow = tmp_path / "flow.py"
    flow.write_bytes(source.encode())
    async with served(tmp_path) as client:
        uri = open_document(client, flow, text=source)
        line = lsp_lines(source).index("    @retry(times=9)\n")
        where = types.Range(start=types.Position(line=line, character=4), end=types.Position(line=line, character=4))
        actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=where,
            context=types.CodeActionContext(diagnostics=[]))), ANSWER_WITHIN)
        fixed = {}
        for action in (a for a in actions if a.kind == types.CodeActionKind.QuickFix):
            resolved = await asyncio.wait_for(client.code_action_resolve_async(action), ANSWER_WITHIN)
            (change,) = resolved.edit.document_changes
            fixed[action.title] = apply_text_edits(source, change.edits)
        assert sorted(fixed) == ["Disable MF103 for this line", "Set @retry times to 4 (the most Metaflow allows)"]
        for text in fixed.values():
            ast.parse(text)
            assert _count(text) == _count(source)
        assert fixed["Set @retry times to 4 (the most Metaflow allows)"] == source.replace("@retry(times=9)", "@retry(times=4)")
        assert fixed["Disable MF103 for this line"] == source.replace(
            "@retry(times=9)\n", "@retry(times=9)  # noqa: MF103\n")
        await still_answers(client, uri)
