"""`python -m metaflow_lsp`: the language server on stdio (the same as `metaflow-lsp serve`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve"]))
