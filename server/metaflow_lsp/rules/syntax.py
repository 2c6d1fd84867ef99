"""MF000: the file does not parse."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext


@rule("MF000", "syntax-error", Severity.ERROR, "The file does not parse, so no other rule can check it",
      silent="files that parse: then every other rule checks them")
def syntax_error(context: RuleContext):
    # The engine reports this one while parsing: a module that reaches the rules has parsed, so there is nothing here.
    return ()
