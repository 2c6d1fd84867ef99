"""The first thing every entry point runs: no folder that the working directory decides stays on `sys.path`.

`python -m metaflow_lsp` puts the working directory first on `sys.path`, `python -c` and an empty `PYTHONPATH` entry
put `""` there, and a relative entry resolves against the working directory too. Editors used to start the server
in the workspace, so a `tomllib.py` (or any module the server imports later) at the workspace root would have run.
The editors now start it from a folder of their own (docs/dev/security.md); this removes those entries anyway,
before anything else is imported.

Imports only `os` and `sys`, which the interpreter has loaded before any user code, so importing this module finds
nothing on `sys.path` itself.
"""

import os
import sys


def isolate_import_path() -> None:
    """Drops `""`, relative entries and the working directory from `sys.path`, in place."""
    try:
        working_directory = os.path.realpath(os.getcwd())
    except OSError:  # the working directory was deleted: only "" and relative entries can point at it
        working_directory = None
    sys.path[:] = [entry for entry in sys.path
                   if entry and os.path.isabs(entry) and os.path.realpath(entry) != working_directory]


def console() -> int:
    """The `metaflow-lsp` console script."""
    isolate_import_path()
    if sys.argv[1:] == ["serve"]:  # what editors start: before the command line's parser and its commands load
        return serve()
    from .cli import main

    return main()


def serve() -> int:
    """The language server on stdio (`python -m metaflow_lsp`, `metaflow-lsp serve`). The client's `initialize` is
    answered before the LSP stack is imported (lsp/early_initialize.py), then the server starts and takes over."""
    from .lsp.early_initialize import answer_initialize

    handoff = answer_initialize(sys.stdin.buffer, sys.stdout.buffer)
    from .lsp.server import serve as serve_stdio

    serve_stdio(handoff)
    return 0
