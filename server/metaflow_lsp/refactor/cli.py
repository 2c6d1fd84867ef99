"""Command-line entry points of this feature, added to `metaflow-lsp` by `register`."""

from __future__ import annotations


def register(commands) -> None:
    """Adds this feature's subcommands to the `metaflow-lsp` parser."""
