"""LSP code actionss. Registered on the server by `register`."""

from __future__ import annotations


def register(server) -> None:
    """Adds this feature's handlers to `server` (a MetaflowLanguageServer)."""
