"""metaflow-lsp: Metaflow best practices and run-time pitfalls, reported in the editor and in CI."""

__version__ = "0.1.0"
