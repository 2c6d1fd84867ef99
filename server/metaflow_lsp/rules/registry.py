"""The rule table: every rule registers itself here with its code, name, default severity and summary.

A rule is a function from a `RuleContext` to `Hit`s (a span and a message); the engine stamps the code and the
configured severity on them, filters `# noqa` and turns them into `Finding`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ..text import Span

if TYPE_CHECKING:
    from ..context import RuleContext


class Severity(IntEnum):
    """LSP's DiagnosticSeverity values."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        aliases = {"error": cls.ERROR, "warning": cls.WARNING, "warn": cls.WARNING, "information": cls.INFORMATION,
                   "info": cls.INFORMATION, "hint": cls.HINT}
        try:
            return aliases[text.lower()]
        except (KeyError, AttributeError):
            raise ValueError(f"unknown severity {text!r}: use error, warning, information or hint") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found: where, and what to tell the user. `data` travels to code actions."""

    span: Span
    message: str
    data: dict[str, Any] | None = None
    # This finding's own severity when it differs from the rule's default (a milder case of the same rule); a
    # severity the user configures for the code still wins.
    severity: Severity | None = None


Check = Callable[["RuleContext"], Iterable[Hit]]


# The rule modules, in table order, and the family each belongs to (as the docs pages name it).
FAMILIES = {
    "syntax": "foundation",
    "graph_checks": "graph (Metaflow's own lint)",
    "declarations": "runtime",
    "runtime": "runtime",
    "guide": "guide",
    "fail_fast": "guide",
    "pinning": "pinning (MF3xx)",
    "project_rules": "project (MF4xx)",
}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str  # what it reports, one line
    silent: str  # what it deliberately does not report, one line (the docs page has the whole list)
    check: Check = field(repr=False, compare=False)

    @property
    def family(self) -> str:
        return FAMILIES[self.check.__module__.rsplit(".", 1)[-1]]


RULES: dict[str, Rule] = {}  # filled by importing the families: ask `rules.RULES` (or `rules.load()`), not this

SYNTAX_ERROR = "MF000"  # reported by the engine while parsing; always enabled


def rule(code: str, name: str, severity: Severity, summary: str, *, silent: str) -> Callable[[Check], Check]:
    """Registers a check under `code`. Codes are unique; names are kebab-case; `summary` and `silent` are the two
    short lines of the README's rule table."""

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        if check.__module__.rsplit(".", 1)[-1] not in FAMILIES:
            raise ValueError(f"rule {code} is defined in {check.__module__}, which is no module of rules.FAMILIES")
        RULES[code] = Rule(code, name, severity, summary, silent, check)
        return check

    return register
