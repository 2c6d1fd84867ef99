"""`metaflow-lsp fix [--diff] PATH...`: the safe fixes of the editor's "Fix all" (`source.fixAll.metaflow-lsp`), from
the command line; `metaflow-lsp fix --extract STEP [--flow NAME] FLOW.py`: the editor's Extract, for scripted
refactors. Registered on the `metaflow-lsp` parser by `register`.

Safe fixes: those the fix table marks safe (`refactor.fix_table`; each declaration, next to its rule, says why).
Files are rewritten in place (a .gitignore is created or appended to); `--diff` prints a unified diff instead and
writes nothing. Findings the command cannot fix are listed as `check` lists them.

Exit codes: 0 when nothing is left to fix (every finding fixed, or none found; with --diff, also nothing would
change), 1 when findings remain that need a person (or, with --diff, files would change), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def register(commands) -> None:
    """Adds `fix` to the `metaflow-lsp` parser."""
    from .fix_table import safe_codes  # the rules are loaded already: `metaflow-lsp` imports the engine

    fix = commands.add_parser(
        "fix", help=f"apply the safe fixes ({', '.join(sorted(safe_codes()))}) to flow files",
        description="Applies the fixes that need no decision (the editor's 'Fix all safe Metaflow problems') and "
                    "lists what is left. Exit code 0: nothing left to fix; 1: findings remain (or, with --diff, "
                    "files would change); 2: usage error.")
    fix.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (walked recursively)")
    fix.add_argument("--diff", action="store_true", help="print a unified diff of the fixes, write nothing")
    fix.add_argument("--extract", metavar="STEP",
                     help="instead: extract the body of step STEP of the one flow file given to common.py beside it "
                          "(exit 1 with the reason when it cannot be extracted exactly)")
    fix.add_argument("--flow", metavar="NAME", help="with --extract: the flow class, when the file has several")
    fix.set_defaults(run=run_fix)


def run_fix(args: argparse.Namespace) -> int:
    from .. import config
    from ..files import FileTooLarge, has_bom, read_bytes, write_inside
    from ..project import Project, find_root, walk_python_files
    from ..text import LineIndex
    from . import fixes
    from .fix_table import FixContext, fix_for, read_disk
    from .plan import unified_diff

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"metaflow-lsp: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.extract is not None or args.flow is not None:
        return run_extract(args)
    pending: dict[Path, str] = {}  # with --diff: what other files would hold after the fixes so far

    def read(path: Path) -> str | None:
        if path in pending:
            return pending[path]
        return read_disk(path)

    projects: dict[Path, Project] = {}
    fixed_count = changed_files = unwritten = 0
    remaining_rows: list[str] = []
    reported_errors: set[str] = set()
    for path in dict.fromkeys(walk_python_files(args.paths)):
        settings, errors = config.load(path)
        for error in errors:
            if error not in reported_errors:
                reported_errors.add(error)
                print(f"metaflow-lsp: {error}", file=sys.stderr)
        try:
            source = read_bytes(path).decode("utf-8-sig")  # strict: a rewrite must not turn bytes into U+FFFD
        except FileTooLarge as error:
            print(f"metaflow-lsp: {path}: not fixed: {error.strerror}", file=sys.stderr)
            continue
        except OSError as error:
            print(f"metaflow-lsp: {path}: not fixed, cannot read it ({error.strerror})", file=sys.stderr)
            continue
        except UnicodeDecodeError as error:
            print(f"metaflow-lsp: {path}: not fixed, cannot read it as UTF-8 ({error})", file=sys.stderr)
            continue
        root = find_root(Path(os.path.abspath(path)))  # where the user named it: a link's target may be elsewhere
        project = projects.setdefault(root, Project(root))
        context = FixContext(path, settings, project, read)
        plan, remaining = fixes.fix_all(source, context)
        unwritten_before = unwritten
        for change in plan.changes:
            if args.diff:
                sys.stdout.write(unified_diff(change, _shown(change.path)))
                pending[change.path] = change.new
            else:
                bom = b"\xef\xbb\xbf" if not change.is_new and has_bom(change.path) else b""  # read without it
                try:  # never through a link out of the project (a .gitignore linked to ~/.bashrc)
                    write_inside(root, change.path, bom + change.new.encode("utf-8"))
                except OSError as error:
                    print(f"metaflow-lsp: {change.path}: not written: {error.strerror}", file=sys.stderr)
                    unwritten += 1
                    continue
            changed_files += 1
        if plan.changes and not args.diff:
            project.forget_git_answers()
        if plan.fixed and unwritten == unwritten_before:
            fixed_count += len(plan.fixed)
            verb = "would fix" if args.diff else "fixed"
            print(f"{path}: {verb} {', '.join(plan.fixed)}", file=sys.stderr)
        for finding in remaining:
            declared = fix_for(finding.code)
            if declared is not None and declared.writes is not None and declared.writes(
                    declared.data_of(finding)) in pending:
                continue  # an earlier file's fix already writes what this one would (MF203's .gitignore lines)
            fixed = plan.change_for(path)
            column = LineIndex(fixed.new if fixed else source).char_col(finding.span.line, finding.span.col) + 1
            remaining_rows.append(f"{path}:{finding.span.line + 1}:{column}: {finding.code} {finding.message}")
    for row in remaining_rows:
        print(row)
    verb = "Would fix" if args.diff else "Fixed"
    summary = f"{verb} {fixed_count} problem{'s' if fixed_count != 1 else ''}"
    if remaining_rows:
        summary += f"; {len(remaining_rows)} left that need a person (listed above)"
    if unwritten:
        summary += f"; {unwritten} file{'s' if unwritten != 1 else ''} not written (see above)"
    print(summary + ".", file=sys.stderr)
    if remaining_rows or unwritten or (args.diff and changed_files):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def run_extract(args: argparse.Namespace) -> int:
    """`metaflow-lsp fix --extract STEP [--flow NAME] FLOW.py`: the editor's "Extract body of step to common.py",
    for scripted refactors. Writes the flow file and common.py (or, with --diff, prints what would change)."""
    from ..builder import parse_module
    from ..files import has_bom, read_bytes, write_inside
    from ..project import find_root
    from .extract import extract_plan
    from .fix_table import read_disk
    from .plan import FixError, unified_diff

    if args.extract is None:
        print("metaflow-lsp: --flow needs --extract STEP", file=sys.stderr)
        return EXIT_USAGE
    if len(args.paths) != 1 or not args.paths[0].is_file():
        print("metaflow-lsp: --extract takes one flow file", file=sys.stderr)
        return EXIT_USAGE
    path = args.paths[0]
    try:
        source = read_bytes(path).decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"metaflow-lsp: {path}: cannot read it ({getattr(error, 'strerror', None) or error})", file=sys.stderr)
        return EXIT_FINDINGS
    module = parse_module(source, path)
    owners = [flow.name for flow in module.flows
              if args.extract in flow.steps and flow.steps[args.extract].owner == flow.name]
    if args.flow is None and len(owners) > 1:
        print(f"metaflow-lsp: {path}: step `{args.extract}` is defined in several flows ({', '.join(owners)}); "
              "choose one with --flow NAME", file=sys.stderr)
        return EXIT_USAGE
    if args.flow is not None and args.flow not in {flow.name for flow in module.flows}:
        print(f"metaflow-lsp: {path}: no flow named `{args.flow}`", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan = extract_plan(source, path, args.extract, read_disk, flow_name=args.flow)
    except FixError as error:
        print(f"{path}: not extracted: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    root = find_root(Path(os.path.abspath(path)))
    for change in plan.changes:
        if args.diff:
            sys.stdout.write(unified_diff(change, _shown(change.path)))
            continue
        bom = b"\xef\xbb\xbf" if not change.is_new and has_bom(change.path) else b""
        try:
            write_inside(root, change.path, bom + change.new.encode("utf-8"))
        except OSError as error:
            print(f"metaflow-lsp: {change.path}: not written: {error.strerror}", file=sys.stderr)
            return EXIT_FINDINGS
    verb = "would extract" if args.diff else "extracted"
    print(f"{path}: {verb} the body of step `{args.extract}` to {_shown(plan.changes[-1].path)}", file=sys.stderr)
    return EXIT_FINDINGS if args.diff else EXIT_CLEAN


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
