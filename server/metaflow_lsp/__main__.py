"""`python -m metaflow_lsp`: the language server on stdio (the same as `metaflow-lsp serve`)."""

from ._bootstrap import isolate_import_path, serve

isolate_import_path()  # before any other import: `-m` put the working directory first on sys.path

if __name__ == "__main__":
    raise SystemExit(serve())
