"""Runs the enabled rules over one file and turns their hits into findings: the one path shared by the CLI and the
language server, so both report exactly the same things."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .builder import parse_module
from .config import Settings
from .context import RuleContext
from .model import Module
from .project import Project
from .rules import RULES, SYNTAX_ERROR, Hit, Severity
from .rules.registry import STRICT
from .text import LineIndex, Span

if TYPE_CHECKING:  # the CLI checks each file once, without one: it never imports `reuse`
    from .reuse import NodeReuse

# `# noqa` alone silences every rule on the line; `# noqa: MF101, MF201` only those. A string for `re.search`,
# compiled the first time a line mentions noqa (`re` keeps it), not at every start of the CLI.
NOQA = r"(?i)#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?"

# Every rule reports on a flow class, a base or mixin of one, or an `install_dependencies` call, so a file without any
# of these words has nothing to report (a flow's steps say `step`; its base `FlowSpec`; its Parameters and decorators
# come from `metaflow`). Such files get no findings, not even a syntax error (not a flow: the Python tools' job), and
# the CLI does not parse them at all: most files of a repository are not flows.
FLOW_WORDS = ("step", "FlowSpec", "metaflow", "install_dependencies")


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    message: str
    severity: Severity
    span: Span  # 0-based line, UTF-8 byte columns
    data: dict[str, Any] | None = None


@dataclass
class CheckResult:
    module: Module
    findings: list[Finding]
    lines: LineIndex


def check_source(source: str, path: Path | None, settings: Settings, project: Project | None = None,
                 reuse: NodeReuse | None = None) -> CheckResult:
    """`reuse`: the language server's per-document cache of what unchanged methods already gave."""
    module = parse_module(source, path, project.resolver if project else None, reuse)
    return CheckResult(module, check_module(module, settings, project, reuse), module.lines)


def may_have_findings(source: str) -> bool:
    """False for a file no rule can report on (`FLOW_WORDS`): a substring test, far cheaper than a parse."""
    return any(word in source for word in FLOW_WORDS)


def check_module(module: Module, settings: Settings, project: Project | None = None,
                 reuse: NodeReuse | None = None) -> list[Finding]:
    if not may_have_findings(module.source):
        return []
    lines = module.lines
    if module.syntax_error is not None:
        return [_syntax_finding(module.syntax_error, lines)]
    context = RuleContext(module, settings, project, reuse)
    rule_reuse = None
    if reuse is not None:  # the language server's: only the rules whose inputs an edit changed run again
        from .rule_reuse import RuleReuse  # here: the CLI checks each file once and never needs it

        rule_reuse = RuleReuse(context)
    findings: list[Finding] = []
    comments: dict[int, str] | None = None  # the file's `# noqa` comments, read when a finding's line may have one
    # The server's: the finding each kept hit gave in the previous version (a hit kept on lines of the same text
    # gives the same finding), and those of this version for the next one.
    known, made = (rule_reuse.findings_before, rule_reuse.findings_now) if rule_reuse is not None else ({}, None)
    for code, rule in RULES.items():
        if not settings.enabled(code, module.path):
            continue
        try:
            for hit in rule_reuse.hits(code, rule) if rule_reuse is not None else rule.check(context):
                where = _where(hit, lines) if made is not None else None
                entry = known.get(id(hit)) if where is not None else None
                if entry is not None and entry[0] is hit and entry[1] == where:
                    finding = entry[2]
                else:
                    span = lines.clamp(hit.span)
                    if "noqa" in lines.line(span.line).lower() and comments is None:
                        comments = noqa_comments(module.source)
                    finding = None if comments and _suppressed(comments.get(span.line), code) else Finding(
                        code, hit.message, settings.severity_of(code, hit.severity or rule.severity), span, hit.data)
                if where is not None:
                    made[id(hit)] = (hit, where, finding)
                if finding is not None:
                    findings.append(finding)
        except Exception:  # one broken rule must not take the others (or the server) down
            if STRICT:
                raise
            import logging  # here: a CLI run pays for importing it only when a rule fails

            logging.getLogger(__name__).exception("rule %s failed on %s", code, module.path)
    findings.sort(key=lambda f: (f.span.line, f.span.col, f.code, f.message))
    return findings


def _where(hit: Hit, lines: LineIndex) -> tuple | None:
    """What a hit's finding depends on besides the hit and the settings: the text of its lines (and their number,
    for the clamp); None on a line that mentions noqa, whose finding is always made again."""
    first, last = lines.line(hit.span.line), lines.line(hit.span.end_line)
    if "noqa" in first.lower():
        return None
    return first, last, len(lines.lines)


def noqa_comments(source: str) -> dict[int, str]:
    """The comments holding `noqa`, by 0-based line: real comments only, so a string that reads "# noqa" silences
    nothing. Read with `tokenize` (only for files that mention noqa on a reported line: it costs about a parse)."""
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline="").readline):
            if token.type == tokenize.COMMENT and re.search(NOQA, token.string):
                comments[token.start[0] - 1] = token.string
    except (tokenize.TokenError, SyntaxError):  # the file parsed, so this is not expected; keep what was read
        pass
    return comments


def _suppressed(comment: str | None, code: str) -> bool:
    match = re.search(NOQA, comment) if comment else None
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or code in {c.upper() for c in re.split(r"[\s,]+", codes)}


def _syntax_finding(error: SyntaxError, lines: LineIndex) -> Finding:
    """One finding for the first syntax error: a half-typed line must not flood the editor."""
    line = max((error.lineno or 1) - 1, 0)
    text = lines.line(line)
    # SyntaxError.offset counts characters from 1; spans count UTF-8 bytes.
    col = len(text[: max((error.offset or 1) - 1, 0)].encode())
    end = len(text[: max(error.offset or 1, 1)].encode())
    message = f"Syntax error: {error.msg}" if error.msg else "Syntax error"
    return Finding(SYNTAX_ERROR, message, Severity.ERROR, lines.clamp(Span(line, col, line, end)))
