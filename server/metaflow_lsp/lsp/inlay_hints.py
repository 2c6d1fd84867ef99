"""Inlay hints (textDocument/inlayHint), off unless `metaflowLsp.inlayHints` is true: after a step's `def` line, the
artifacts the step reads from upstream, `  ← model, features` (the tooltip names the steps that assign each).

An upstream read is a read of `self.<name>` (also `inputs.<step>.<name>` / `inp.<name>` in a join, and
`foreach="<name>"`) of an artifact that a step able to run before this one assigns, and that this step has not
already set itself unconditionally above the read. From the analysis the server keeps for the document's version;
only the steps whose `def` line lies in the requested range.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from lsprotocol import types

from ..artifacts import FlowArtifacts, join_reads, name_span, transition_strings
from ..model import FlowClass, Step
from ..text import Span
from .convert import column, encoding_of

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

ARROW = "← "


def register(server: MetaflowLanguageServer) -> None:
    server.inlay_hints = Refresher(server)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))
    async def inlay_hint(ls: MetaflowLanguageServer, params: types.InlayHintParams) -> list[types.InlayHint] | None:
        """textDocument/inlayHint: each step's upstream reads, when the setting is on."""
        await ls.editor_settings.wait_ready()  # the editor's first answer says whether the hints are on
        if not ls.editor_settings.options.inlay_hints:
            return None
        return step_hints(ls, params.text_document.uri, params.range.start.line, params.range.end.line)


def step_hints(ls: MetaflowLanguageServer, uri: str, first: int, last: int) -> list[types.InlayHint] | None:
    """The hints of the steps whose `def` line is between `first` and `last` (0-based, both included)."""
    result = ls.analysis(uri)
    if not result.module.ok:
        return None
    encoding = encoding_of(ls)
    hints: dict[int, types.InlayHint] = {}  # by line: a base's step in this file is a step of each flow using it
    for flow in result.module.flows:
        artifacts = None  # computed for a flow with a step in the range only
        for step in flow.steps.values():
            line = step.span.line
            if step.path != result.module.path or not first <= line <= last or line in hints:
                continue
            artifacts = artifacts or FlowArtifacts(flow)
            reads = upstream_reads(flow, step, artifacts)
            if not reads:
                continue
            text = result.lines.line(line).rstrip()
            position = types.Position(line=line, character=column(result.lines, line, len(text.encode()), encoding))
            hints[line] = types.InlayHint(
                position=position, label=ARROW + ", ".join(reads), padding_left=True,
                tooltip=types.MarkupContent(kind=types.MarkupKind.Markdown, value=_tooltip(reads)))
    return list(hints.values())


class Refresher:
    """Asks a client that can to request the hints again after a settings or disk change, while hints are shown or
    just after they were switched off (a base class may have changed what runs before a step)."""

    def __init__(self, server: MetaflowLanguageServer):
        self.server = server
        self.shown = False

    def refresh(self) -> None:
        shown = self.server.editor_settings.options.inlay_hints
        workspace = self.server.client_capabilities.workspace
        if (shown or self.shown) and workspace and workspace.inlay_hint and workspace.inlay_hint.refresh_support:
            self.server.workspace_inlay_hint_refresh(None)
        self.shown = shown


def upstream_reads(flow: FlowClass, step: Step, artifacts: FlowArtifacts) -> dict[str, list[str]]:
    """The artifacts `step` reads from upstream, in the order of their first read, each with the steps before it
    that assign it."""
    before = artifacts.runs_before(step.name)
    set_here = [(a.name, a.span) for a in flow.artifact_writes(step) if not a.conditional]
    reads: dict[str, list[str]] = {}
    for name, span in _reads(flow, step):
        if name in reads or any(written == name and (w.end_line, w.end_col) <= (span.line, span.col)
                                for written, w in set_here):
            continue
        setters = list(dict.fromkeys(a.step.name for a in artifacts.assignments(name) if a.step.name in before))
        if setters:
            reads[name] = setters
    return reads


def _reads(flow: FlowClass, step: Step) -> list[tuple[str, Span]]:
    """(name, span) of every artifact read in the step, `self.<name>` and a join's inputs, in source order."""
    found = [(a.name, a.span) for a in flow.artifact_reads(step)]
    # `foreach="<name>"` and `condition="<name>"` read the artifact too
    found += [(name, span) for name, span in transition_strings(step) if flow.is_artifact(name)]
    found += [(node.attr, name_span(node)) for node, _ in join_reads(step)
              if isinstance(node.ctx, ast.Load) and flow.is_artifact(node.attr)]
    return sorted(found, key=lambda entry: (entry[1].line, entry[1].col))


def _tooltip(reads: dict[str, list[str]]) -> str:
    lines = [f"- `{name}` from {', '.join(f'`{s}`' for s in setters)}" for name, setters in reads.items()]
    return "Reads from upstream steps:\n\n" + "\n".join(lines)
