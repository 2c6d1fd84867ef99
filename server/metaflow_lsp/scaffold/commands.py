"""Command-line entry points of the scaffold, added to `metaflow-lsp` by `register`:

    metaflow-lsp init [DIR] [--name NAME] [--pypi] [--format text|json]
    metaflow-lsp ci-workflow [DIR] [--force] [--format text|json]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shlex
import sys
from pathlib import Path

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def register(commands) -> None:
    init = commands.add_parser(
        "init", help="create a new project with the guide's layout (flows, common.py, notebook, CI, pre-commit)",
        description="Creates flows/train.py, flows/predict.py, flows/common.py, flows/debug.ipynb, .gitignore, "
                    "pyproject.toml, .pre-commit-config.yaml and .github/workflows/metaflow.yml in DIR. Files that "
                    "exist are kept (and listed); an existing .gitignore only gets the lines it lacks.")
    init.add_argument("root", type=Path, nargs="?", default=Path("."), metavar="DIR",
                      help="the project folder, created when missing (default: this folder)")
    init.add_argument("--name", help="the project's name and the flows' prefix (default: the folder's name)")
    init.add_argument("--pypi", action="store_true",
                      help="pinned @pypi_base packages; the workflow runs the flows with --environment=pypi")
    init.add_argument("--format", choices=("text", "json"), default="text")
    init.set_defaults(run=_init)

    ci = commands.add_parser(
        "ci-workflow", help="write .github/workflows/metaflow.yml: metaflow-lsp check and every flow in test mode",
        description="Finds every flow of the project by content (as `check` walks it) and writes a GitHub Actions "
                    "workflow that checks the project and runs each flow in test mode, in the order their runs "
                    "are read. A workflow file that differs is shown as a diff and kept, unless --force.")
    ci.add_argument("root", type=Path, nargs="?", default=Path("."), metavar="DIR",
                    help="the project folder (default: this folder)")
    ci.add_argument("--force", action="store_true", help="replace a workflow file that differs (else: show the diff)")
    ci.add_argument("--format", choices=("text", "json"), default="text")
    ci.set_defaults(run=_ci_workflow)


def _init(args: argparse.Namespace) -> int:
    from .project_init import InitError, init_project

    try:
        report = init_project(args.root, args.name, args.pypi)
    except InitError as error:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        for path in report.written:
            print(f"wrote {path.as_posix()}")
        for path in report.skipped:
            print(f"skipped {path.as_posix()} (already there, kept as it is)")
        if Path("flows/train.py") in report.written and not report.errors:  # our flow, with its test mode
            # A line to paste into a shell: the folder quoted, it may hold spaces.
            flows = shlex.quote(os.path.relpath(report.root / "flows"))
            print(f"next: cd {flows} && python train.py run --test_mode 1")
    for message in report.notes + report.errors:
        print(f"metaflow-lsp: {message}", file=sys.stderr)
    return EXIT_ERRORS if report.errors else EXIT_OK


def _ci_workflow(args: argparse.Namespace) -> int:
    from ..files import read_source, write_inside
    from .ci_workflow import WORKFLOW_PATH, workflow

    if not args.root.is_dir():
        print(f"metaflow-lsp: not a folder: {args.root}", file=sys.stderr)
        return EXIT_USAGE
    root = args.root.resolve()
    result = workflow(root)
    target = root / WORKFLOW_PATH
    shown = WORKFLOW_PATH.as_posix()
    state, error = "wrote", None
    try:
        old = read_source(target) if os.path.lexists(target) else None
        if old == result.text:
            state = "unchanged"
        elif old is not None and not args.force:
            # A workflow someone edited is never replaced unasked: show what would change.
            state = "kept"
            if args.format == "text":
                sys.stdout.writelines(difflib.unified_diff(old.splitlines(keepends=True), result.text.splitlines(
                    keepends=True), f"{shown} (as it is)", f"{shown} (as ci-workflow writes it)"))
            error = f"{shown} exists and differs from the workflow above: not replaced (--force replaces it)"
        else:
            write_inside(root, target, result.text.encode("utf-8"))
    except OSError as failure:
        state, error = "kept", f"{shown}: not written: {failure.strerror or failure}"
    if args.format == "json":
        print(json.dumps({"path": str(target), "state": state, "notes": result.notes, "error": error,
                          "flows": [{"flow": job.flow, "script": job.script.as_posix(), "command": job.command}
                                    for job in result.jobs]}, indent=2))
    elif state != "kept":
        print(f"{state} {shown}: {len(result.jobs)} flow{'s' if len(result.jobs) != 1 else ''} in test mode")
        for job in result.jobs:
            print(f"  {job.script.as_posix()}: {job.command}")
    for note in result.notes:
        print(f"metaflow-lsp: {note}", file=sys.stderr)
    if error:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
    return EXIT_ERRORS if error else EXIT_OK
