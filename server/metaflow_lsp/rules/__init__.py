"""All rule families. `RULES`, the one table of codes, is filled the first time it is asked for (`load`): the
settings and the registry's types import without loading a rule module."""

from importlib import import_module

from .registry import FAMILIES, SYNTAX_ERROR, Hit, Reads, Rule, Severity, rule


def load() -> dict[str, Rule]:
    """Imports every family (each registers its rules) and returns the table, in code order."""
    from .registry import RULES

    for family in FAMILIES:
        import_module(f"{__name__}.{family}")
    # A family may define its rules in another order (the graph checks are grouped by what they need);
    # `metaflow-lsp rules`, the README and the docs list them by code.
    for code in sorted(RULES):
        RULES[code] = RULES.pop(code)
    globals()["RULES"] = RULES
    return RULES


def __getattr__(name: str):
    if name == "RULES":
        return load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RULES", "Hit", "Reads", "Rule", "Severity", "rule", "SYNTAX_ERROR", "load"]
