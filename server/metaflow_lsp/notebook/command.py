"""`metaflow-lsp notebook FLOW.py [--step STEP] [--run-id ID] [--output PATH] [--all-namespaces]`, and
`write_debug_notebook`, which the language server's `metaflow.debugNotebook` calls too.

The notebook is never written over an existing file: `debug_train.ipynb` taken, it becomes `debug_train_2.ipynb`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..files import OutsideProject, create_inside

# `.plan` and `.cells` (the model, Extract's analysis) are imported when a notebook is written, not when the
# `metaflow-lsp` parser is built: a `check` run by pre-commit on every commit does not pay for them.

EXIT_ERROR = 1
EXIT_USAGE = 2
MAX_NUMBERED = 1000


def register(commands) -> None:
    """Adds `notebook` to the `metaflow-lsp` parser."""
    notebook = commands.add_parser(
        "notebook", help="write a Jupyter notebook that opens a step's task of a local run, to debug common.py code",
        description="Writes debug_<step>.ipynb beside the flow (never over an existing file): the run's artifacts of "
                    "the step bound to variables, what the step received, and its common.py calls made again and "
                    "compared with the run. Run it with the flow's folder as working directory.")
    notebook.add_argument("flow_file", type=Path, metavar="FLOW.py")
    notebook.add_argument("--step", metavar="STEP",
                          help="the step (default: the first step calling common.py, else start)")
    notebook.add_argument("--run-id", metavar="ID", help="the run (default: the flow's latest local run)")
    notebook.add_argument("--output", type=Path, metavar="PATH",
                          help="the file, or a folder for debug_<step>.ipynb (default: beside the flow)")
    notebook.add_argument("--all-namespaces", action="store_true",
                          help="open the run with namespace(None): a run another user (or a tag) made")
    notebook.set_defaults(run=_notebook)


def _notebook(args: argparse.Namespace) -> int:
    if not args.flow_file.is_file():
        print(f"metaflow-lsp: no such file: {args.flow_file}", file=sys.stderr)
        return EXIT_USAGE
    from .plan import NotebookError

    try:
        path = write_debug_notebook(args.flow_file, args.step, args.run_id, args.output, args.all_namespaces)
    except NotebookError as error:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(path)
    return 0


def write_debug_notebook(flow_file: Path, step: str | None = None, run_id: str | None = None,
                         output: Path | None = None, all_namespaces: bool = False, root: Path | None = None,
                         source: str | None = None) -> Path:
    """Writes the notebook and returns its path; raises `NotebookError`. It is created inside `root` only (default:
    the folder it goes to), `source` is the flow's text when the editor has a newer one than the disk."""
    from .cells import notebook_json
    from .plan import NotebookError, debug_plan

    flow_file = Path(flow_file).absolute()
    plan = debug_plan(flow_file, step, run_id, all_namespaces, source)
    default_name = f"debug_{plan.step}.ipynb"
    wanted = Path(output).absolute() if output is not None else flow_file.parent / default_name
    if wanted.is_dir():  # `--output notebooks/`: the default name in that folder
        wanted = wanted / default_name
    if output is not None and root is None:
        try:
            wanted.parent.mkdir(parents=True, exist_ok=True)  # the folder the user named
        except OSError as error:
            raise NotebookError(f"cannot create {wanted.parent}: {error.strerror or error}") from None
    return _create_numbered(wanted, root or wanted.parent, notebook_json(plan, wanted.parent).encode("utf-8"))


def _create_numbered(wanted: Path, root: Path, data: bytes) -> Path:
    """Creates `wanted`, or `<stem>_2<suffix>`, `_3`... when taken: never over anything there."""
    from .plan import NotebookError

    for number in range(1, MAX_NUMBERED):
        candidate = wanted if number == 1 else wanted.with_name(f"{wanted.stem}_{number}{wanted.suffix}")
        if os.path.lexists(candidate):
            continue  # taken, whatever it is: a file, a FIFO, a link (followed nowhere)
        try:
            create_inside(root, candidate, data)
            return candidate
        except FileExistsError:
            continue
        except OutsideProject:
            raise NotebookError(f"not writing {candidate}: it leads out of {root}") from None
        except OSError as error:
            raise NotebookError(f"cannot write {candidate}: {error.strerror or error}") from None
    raise NotebookError(f"{wanted.stem}_2 to _{MAX_NUMBERED - 1}{wanted.suffix} are all taken in {wanted.parent}")


__all__ = ["register", "write_debug_notebook"]
