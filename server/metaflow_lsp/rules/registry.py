"""The rule table: every rule registers itself here with its code, name, default severity and summary.

A rule is a function from a `RuleContext` to `Hit`s (a span and a message); the engine stamps the code and the
configured severity on them, filters `# noqa` and turns them into `Finding`s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from ..text import Span

if TYPE_CHECKING:
    from ..context import RuleContext
    from ..model import FlowClass, Step


# Tests set this so a rule that raises fails loudly instead of being logged and skipped.
STRICT = os.environ.get("METAFLOW_LSP_STRICT") == "1"


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
StepInput = Callable[["RuleContext", "FlowClass", "Step"], Hashable]


class Reads(IntEnum):
    """How much of the file a rule's hits depend on, beyond the settings: the language server re-runs a rule only when
    an edit changed what it reads (`rule_reuse`). Each level includes the ones before it.

    A rule that declares less than it reads reports stale hits while typing: `tests/test_rule_reuse.py` edits every
    fixture and compares with a fresh check."""

    MODULE = 1  # everything but the step bodies: imports, classes, Parameters, other methods, which flows are bases
    GRAPH = 2  # + each step's header (name, decorators, arguments) and `self.next(...)` calls, positions included
    DATA = 3  # + each step's `self.x` accesses (`Step.accesses`) and their `StepFacts`
    ALL = 4  # anything, the step bodies and the project's other files included: run on every check


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
    reads: Reads = Reads.ALL
    # A hit within a step's lines (decorators to end) depends on that step and on `reads` of the rest only; a hit
    # outside every step on no step body; the rule finds its steps with `RuleContext.steps_in_file`. After an edit
    # inside one step, only that step is checked again.
    per_step: bool = False
    # What the rule reads of a step beyond `reads` (a rule whose hits depend on some of every step's body): an edit
    # that leaves every changed step's `step_input` equal keeps the rule's hits.
    step_input: StepInput | None = field(default=None, repr=False, compare=False)
    # Its messages or data name a line (`line 12`, a line number for a code action): when an edit moves lines, its
    # previous hits cannot simply be moved with them, and it runs again.
    names_lines: bool = False

    @property
    def family(self) -> str:
        return FAMILIES[self.check.__module__.rsplit(".", 1)[-1]]


RULES: dict[str, Rule] = {}  # filled by importing the families: ask `rules.RULES` (or `rules.load()`), not this

SYNTAX_ERROR = "MF000"  # reported by the engine while parsing; always enabled


def rule(code: str, name: str, severity: Severity, summary: str, *, silent: str, reads: Reads = Reads.ALL,
         per_step: bool = False, step_input: StepInput | None = None, names_lines: bool = False
         ) -> Callable[[Check], Check]:
    """Registers a check under `code`. Codes are unique; names are kebab-case; `summary` and `silent` are the two
    short lines of the README's rule table; `reads`, `per_step`, `step_input` and `names_lines` say when the language
    server must run it again."""

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"rule code {code} registered twice")
        if check.__module__.rsplit(".", 1)[-1] not in FAMILIES:
            raise ValueError(f"rule {code} is defined in {check.__module__}, which is no module of rules.FAMILIES")
        RULES[code] = Rule(code, name, severity, summary, silent, check, reads, per_step, step_input, names_lines)
        return check

    return register
