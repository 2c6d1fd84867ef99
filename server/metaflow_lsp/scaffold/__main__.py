"""`python -m metaflow_lsp.scaffold [DIR] [--name NAME] [--pypi] [--format json]`: `metaflow-lsp init`, for an
editor that runs the package with an interpreter of its own rather than the console script (VS Code's "Metaflow:
New Project" runs the bundled server's copy)."""

import sys

from .._bootstrap import isolate_import_path

isolate_import_path()  # before any other import: `-m` put the working directory first on sys.path

from ..cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["init", *sys.argv[1:]]))
