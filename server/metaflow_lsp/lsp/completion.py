"""Completion (textDocument/completion) after `self.` in a step: the artifacts that can be set here, Parameters and
Configs, and the FlowSpec members that make sense in this step; inside `self.next(self.` the flow's steps; inside
`foreach="` of `self.next(...)` the artifacts a foreach can go over.

Inside `foreach="`, the artifacts set before the call whose every visible assignment is a list, tuple, set,
comprehension of one, `range(...)`, `list(...)`... come first (detail "list"); those whose shape the source does not
show (a call, a name, a mix) follow (`artifact_shapes.py`); those only ever assigned a number, boolean, None or
string literal are left out, and so are Parameters and Configs (their value comes from the command line).

A half-typed line (`self.` alone, `self.next(self.`, `foreach="`) does not parse. So the cursor's line is cut at the
cursor and repaired (a placeholder name after the dot or the string's closing quote, its open brackets closed) and
the text is read once with `ast`, reusing the model of the methods that did not change; the rules do not run for a
completion. Only when that does not parse is the document's own analysis used. Lines keep their numbers, so the
model's steps are where the editor's are. No libcst.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from lsprotocol import types

from ..artifact_shapes import artifact_shape, assigned_values
from ..artifacts import Assignment, FlowArtifacts
from ..builder import parse_module
from ..graph import FlowGraph
from ..model import FlowClass, Module, Step
from ..text import LineIndex, Span
from .convert import byte_column, encoding_of

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

_AFTER_SELF = re.compile(r"(?<![\w.])self\.(\w*)$")
_IN_NEXT = re.compile(r"(?<![\w.])self\.next\((?:[^()]*,)?\s*self\.(\w*)$")
_IN_FOREACH = re.compile(r"\bforeach\s*=\s*(['\"])\w*$")
_PLACEHOLDER = "metaflow_lsp_completion_"
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
MAY_BE_UNSET = "artifact (may be unset here)"
FOREACH_DETAILS = {"list": "list", "unknown": "artifact (not known to be a list)"}


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", '"', "'"]))
    def completion(ls: MetaflowLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
        """textDocument/completion: the names `self.` (or `foreach="`) can be followed by in this step."""
        uri = params.text_document.uri
        document = ls.open_document(uri)
        if document is None:
            return None
        lines = LineIndex(document.source)
        position = params.position
        text = lines.line(position.line)
        before = text[: len(text.encode()[: byte_column(lines, position, encoding_of(ls))].decode(errors="ignore"))]
        in_foreach = _IN_FOREACH.search(before)
        in_next = _IN_NEXT.search(before)
        if in_foreach is None and in_next is None and _AFTER_SELF.search(before) is None:
            return None
        ending = in_foreach.group(1) if in_foreach else _PLACEHOLDER  # what makes the line parse again
        module = _repaired(ls, uri, lines, position.line, before, ending) or _analysed(ls, uri)
        if module is None:
            return None
        found = _step_at(module, position.line)
        if found is None:
            return None
        flow, step = found
        if in_foreach:
            if not any(Span.of(t.call).line <= position.line <= Span.of(t.call).end_line for t in step.transitions):
                return None  # a `foreach=` that is no argument of `self.next(...)`
            items = _foreach_artifacts(flow, step, position.line)
        else:
            items = _steps(flow, step) if in_next else _members(flow, step, position.line)
        return types.CompletionList(is_incomplete=False, items=items)


def _repaired(ls: MetaflowLanguageServer, uri: str, lines: LineIndex, line: int, before: str,
              ending: str) -> Module | None:
    """The model of the document with the cursor's line cut at the cursor and completed so it parses: `ending`
    (a placeholder name, a closing quote), then the brackets still open. One parse, with the document's reuse
    cache: the methods the user is not typing in keep their model."""
    if not 0 <= line < len(lines.lines):
        return None
    fixed = before + ending + "".join(_CLOSERS[c] for c in reversed(_open_brackets(before)))
    source = "\n".join(lines.lines[:line] + [fixed] + lines.lines[line + 1:])
    module = parse_module(source, ls.path_of(uri), ls.project_for(uri).resolver, ls.node_reuse(uri))
    return module if module.ok else None


def _analysed(ls: MetaflowLanguageServer, uri: str) -> Module | None:
    """The model of the document as it is, when the repaired line did not parse (it continues a bracket opened
    on an earlier line, say) and the document does."""
    module = ls.analysis(uri).module
    return module if module.ok else None


def _open_brackets(text: str) -> list[str]:
    """The brackets of `text` still open at its end (strings are not looked into: a line being typed is short)."""
    stack: list[str] = []
    for char in text:
        if char in _CLOSERS:
            stack.append(char)
        elif char in ")]}" and stack and _CLOSERS[stack[-1]] == char:
            stack.pop()
    return stack


def _step_at(module: Module, line: int) -> tuple[FlowClass, Step] | None:
    for flow in module.flows:
        for step in flow.steps.values():
            span = Span.of(step.node)
            if step.path == module.path and span.line <= line <= span.end_line:
                return flow, step
    return None


def _steps(flow: FlowClass, here: Step) -> list[types.CompletionItem]:
    return [types.CompletionItem(label=name, kind=types.CompletionItemKind.Method, detail="step")
            for name in flow.steps if name != here.name]


def _visible(artifacts: FlowArtifacts, step: Step, line: int) -> dict[str, list[Assignment]]:
    """The assignments that can have run when `line` of `step` runs, by artifact: those in a step that can run
    before this one, or earlier in this one; never what only later steps set."""
    before = artifacts.runs_before(step.name)
    visible: dict[str, list[Assignment]] = {}
    for assignment in artifacts.all_assignments():
        if assignment.step.name in before or (assignment.step is step and assignment.span.end_line < line):
            if not assignment.access.name.startswith(_PLACEHOLDER):
                visible.setdefault(assignment.access.name, []).append(assignment)
    return visible


def _members(flow: FlowClass, step: Step, line: int) -> list[types.CompletionItem]:
    """Listed in this order (`sort_text`): artifacts set on every path, those that may be unset, Parameters and
    Configs, FlowSpec members."""
    artifacts = FlowArtifacts(flow)
    here = Span(line, 0, line, 0)
    items: dict[str, types.CompletionItem] = {}
    for name in _visible(artifacts, step, line):
        every = artifacts.set_on_every_path(name, step, here)
        detail = "artifact" if every else MAY_BE_UNSET
        items[name] = types.CompletionItem(label=name, kind=types.CompletionItemKind.Field, detail=detail,
                                           sort_text=("0" if every else "1") + name)
    for parameter in flow.parameters.values():
        items.setdefault(parameter.attr, types.CompletionItem(
            label=parameter.attr, kind=types.CompletionItemKind.Property, detail=parameter.kind,
            sort_text="2" + parameter.attr))
    for member in _flow_members(artifacts.graph, step):
        items.setdefault(member, types.CompletionItem(
            label=member, kind=types.CompletionItemKind.Method, detail="FlowSpec", sort_text="3" + member))
    return list(items.values())


def _foreach_artifacts(flow: FlowClass, step: Step, line: int) -> list[types.CompletionItem]:
    """The artifacts `foreach="` can name here: list-valued ones first, then those whose shape is not known."""
    artifacts = FlowArtifacts(flow)
    here = Span(line, 0, line, 0)
    visible = _visible(artifacts, step, line)
    values: dict[int, ast.expr | None] = {}
    for assigning in {a.step.name: a.step for found in visible.values() for a in found}.values():
        values.update(assigned_values(assigning))
    items = []
    for name, found in visible.items():
        shape = artifact_shape([a.access for a in found], values)
        if shape == "scalar":
            continue
        detail = FOREACH_DETAILS[shape]
        if not artifacts.set_on_every_path(name, step, here):
            detail += " (may be unset here)"
        items.append(types.CompletionItem(label=name, kind=types.CompletionItemKind.Field, detail=detail,
                                          sort_text=("0" if shape == "list" else "1") + name))
    return sorted(items, key=lambda item: item.sort_text)


def _flow_members(graph: FlowGraph, step: Step) -> list[str]:
    """The FlowSpec members valid in `step`: `merge_artifacts` in a join, `input`/`index` inside a foreach (as
    MF109 sees it: a foreach's child and the steps after it up to the foreach's join)."""
    inside_foreach = step.name in graph and (graph[step.name].is_inside_foreach or any(
        node.type == "foreach" and step.name in node.out_funcs for node in graph))
    members = ["next", "foreach_stack"]
    if step.is_join:
        members.append("merge_artifacts")
    if inside_foreach and not step.is_join:
        members += ["input", "index"]
    return members
