"""MF000: the file does not parse."""

from __future__ import annotations

from .registry import Severity, rule


@rule("MF000", "syntax-error", Severity.ERROR, "The file does not parse, so no other rule can check it")
def syntax_error(context):
    # The engine reports this one while parsing: a module that reaches the rules has parsed, so there is nothing here.
    return ()
