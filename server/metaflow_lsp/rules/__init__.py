"""All rule families. Importing this package fills `RULES`, the one table of codes."""

from . import syntax, graph_checks, declarations, runtime, guide, pinning, project_rules  # noqa: F401  (registration order = table order)
from .registry import RULES, Hit, Rule, Severity, rule

SYNTAX_ERROR = "MF000"

# The table in code order: a family may define its rules in another order (the graph checks are grouped by what they
# need), and `metaflow-lsp rules`, the README and the docs list them by code.
for _code in sorted(RULES):
    RULES[_code] = RULES.pop(_code)

__all__ = ["RULES", "Hit", "Rule", "Severity", "rule", "SYNTAX_ERROR"]
