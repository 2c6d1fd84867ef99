"""Hover (textDocument/hover) on an artifact or a Parameter of a flow, as markdown.

For an artifact: every step that assigns it (with a link to each line), and whether it is set on every path from
`start` to here or may be unset here, with MF108's word when a join in between drops it. For a Parameter or Config:
its kind, option, type, default and help. Null for a name the flow never assigns, and everywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..artifacts import FlowArtifacts, Token, parameter_facts
from .convert import to_range
from .definition import Locator, token_under

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

LOST_AT_JOIN = "MF108"


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: MetaflowLanguageServer, params: types.HoverParams) -> types.Hover | None:
        """textDocument/hover: what the flow says about the artifact or Parameter under the cursor."""
        found = token_under(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        locator, token = found
        text = describe(token, locator)
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                           range=to_range(token.span, locator.result.lines, locator.encoding))


def describe(token: Token, locator: Locator) -> str | None:
    if token.kind == "parameter":
        return _parameter(token)
    if token.kind == "artifact":
        return _artifact(token, locator)
    return None


def _parameter(token: Token) -> str:
    facts = parameter_facts(token.flow.parameters[token.name])
    option = f" `--{facts['option']}`" if "option" in facts else ""
    lines = [f"**{facts['kind']}**{option} of `{token.flow.name}`: `self.{token.name}`"]
    details = [f"{key}: `{facts[key]}`" for key in ("type", "default") if key in facts]
    if details:
        lines.append(" · ".join(details))
    if "help" in facts:
        lines.append(facts["help"])
    return "\n\n".join(lines)


def _artifact(token: Token, locator: Locator) -> str | None:
    artifacts = FlowArtifacts(token.flow)
    assignments = artifacts.assignments(token.name)
    if not assignments:
        return None
    where = []
    for step_name in dict.fromkeys(a.step.name for a in assignments):
        links = []
        for assignment in (a for a in assignments if a.step.name == step_name):
            location = locator.location(assignment.step.path, assignment.span)
            line = assignment.span.line + 1
            links.append(f"[line {line}]({location.uri}#L{line})" if location else f"line {line}")
        where.append(f"`{step_name}` ({', '.join(links)})")
    lines = [f"**Artifact** `{token.name}` of `{token.flow.name}`", "Assigned in " + ", ".join(where) + "."]
    status = _status(token, artifacts)
    if status:
        lines.append(status)
    lost = _lost_at_join(token, locator)
    if lost:
        lines.append(lost)
    return "\n\n".join(lines)


def _status(token: Token, artifacts: FlowArtifacts) -> str | None:
    if token.step is None or token.write:
        return None
    if token.branch is not None:
        every = artifacts.set_after(token.name, token.branch)
        place = f"after `{token.branch}`"
    else:
        every = artifacts.set_on_every_path(token.name, token.step, token.span)
        place = "here"
    if every is None:
        return None  # a base class the model could not read, or a graph it could not follow: it cannot know
    if every:
        return f"Set on every path from `start` {place}."
    return f"May be unset {place}: not set on every path from `start`."


def _lost_at_join(token: Token, locator: Locator) -> str | None:
    """MF108's finding on this very read, when the analysis has one: a join in between drops the artifact."""
    for finding in locator.result.findings:
        span = finding.span
        if (finding.code == LOST_AT_JOIN and (finding.data or {}).get("artifact") == token.name
                and (span.line, span.col) <= (token.span.line, token.span.col)
                and (token.span.end_line, token.span.end_col) <= (span.end_line, span.end_col)):
            return f"{LOST_AT_JOIN}: {finding.message}"
    return None
