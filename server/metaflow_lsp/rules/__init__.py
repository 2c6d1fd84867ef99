"""All rule families. Importing this package fills `RULES`, the one table of codes."""

from . import syntax, graph_checks, declarations, runtime, guide, pinning, project_rules  # noqa: F401  (registration order = table order)
from .registry import RULES, Hit, Rule, Severity, rule

SYNTAX_ERROR = "MF000"

__all__ = ["RULES", "Hit", "Rule", "Severity", "rule", "SYNTAX_ERROR"]
