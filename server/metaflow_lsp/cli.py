"""The `metaflow-lsp` command: `serve`, `check`, `rules`, `explain`, and the fix and launcher commands.

Exit codes of `check`: 0 no findings, 1 findings, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from typing import TYPE_CHECKING

from . import __version__, check_cache, config
from .files import FileTooLarge, decode_source, read_bytes
from .project import Observations, Project, find_root, walk_python_files

if TYPE_CHECKING:
    from .engine import Finding
    from .text import LineIndex

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# Below this many files a process pool costs more to start than it saves.
PARALLEL_THRESHOLD = 48


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(every_command=not argv or argv[0] not in CORE_COMMANDS)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `metaflow-lsp check . | head`
        return EXIT_CLEAN


# Defined here; the others by their features (`_add_optional_commands`), which `check` in a pre-commit hook does not
# need to import or describe.
CORE_COMMANDS = ("serve", "check", "rules", "explain")


def _parser(every_command: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metaflow-lsp", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"metaflow-lsp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the language server on stdio")
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check", help="report problems in flow files, as the editor shows them")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (walked recursively)")
    check.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                       help="github: workflow annotations; sarif: a SARIF 2.1.0 log")
    check.add_argument("--select", type=_code_list, help="only these codes or prefixes, e.g. MF0,MF201")
    check.add_argument("--ignore", type=_code_list, help="also skip these codes or prefixes")
    check.add_argument("--no-cache", action="store_true",
                       help="neither read nor write the results of earlier runs (.metaflow_lsp_cache/)")
    check.set_defaults(run=_check)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(run=_rules)

    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("code")
    explain.set_defaults(run=_explain)

    if every_command:  # help, a feature's command or a typo: all are listed
        _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands) -> None:
    """Commands of the fix, launcher and graph features, each defined next to its feature."""
    from . import graph_command
    from .launch import run_commands
    from .notebook import command as notebook_command
    from .refactor import fix_command
    from .scaffold import commands as scaffold_commands

    fix_command.register(commands)
    run_commands.register(commands)
    scaffold_commands.register(commands)
    graph_command.register(commands)
    notebook_command.register(commands)


def _code_list(text: str) -> list[str]:
    return [code.strip().upper() for code in text.split(",") if code.strip()]


def _serve(args: argparse.Namespace) -> int:
    from ._bootstrap import serve

    return serve()


def _rules(args: argparse.Namespace) -> int:
    from .rules import RULES

    if args.format == "json":
        print(json.dumps([{"code": r.code, "name": r.name, "severity": r.severity.label, "summary": r.summary,
                           "silent": r.silent} for r in RULES.values()], indent=2))
        return EXIT_CLEAN
    if args.format == "markdown":
        print("| Code | Name | Default severity | What it reports | Stays silent on |")
        print("| --- | --- | --- | --- | --- |")
        for rule in RULES.values():
            print(f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.name} | {rule.severity.label} | {rule.summary} "
                  f"| {rule.silent} |")
        return EXIT_CLEAN
    for rule in RULES.values():
        print(f"{rule.code}  {rule.name:<34} {rule.severity.label:<11} {rule.summary}")
    return EXIT_CLEAN


def _explain(args: argparse.Namespace) -> int:
    from .docs import rule_doc
    from .rules import RULES

    code = args.code.upper()
    if code not in RULES:
        print(f"metaflow-lsp: no rule {args.code!r}; `metaflow-lsp rules` lists them", file=sys.stderr)
        return EXIT_USAGE
    print(rule_doc(code) or f"{code} {RULES[code].name}: {RULES[code].summary}")
    return EXIT_CLEAN


# -- check ---------------------------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"metaflow-lsp: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    overrides = {}
    if args.select:
        overrides["select"] = args.select
    if args.ignore:
        overrides["ignore"] = args.ignore
    overrides_errors = config.apply(overrides, config.Settings(), "command line")[1]
    if overrides_errors:
        for error in overrides_errors:
            print(f"metaflow-lsp: {error}", file=sys.stderr)
        return EXIT_USAGE
    _folders.clear()  # a run sees the disk as it is now, also when `main()` is called twice in one process
    _projects.clear()
    files = list(dict.fromkeys(walk_python_files(args.paths)))
    cache = None if args.no_cache else check_cache.CheckCache()
    results: list = [None] * len(files)
    jobs = []
    for index, path in enumerate(files):
        cached = _cached_result(cache, path, args.select, args.ignore) if cache is not None else None
        if cached is not None:
            results[index] = cached
        else:
            jobs.append((path, args.select, args.ignore, cache is not None))
    if len(jobs) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) > 1:
        from concurrent.futures import ProcessPoolExecutor  # imported here: a quarter of a small run's start-up

        with ProcessPoolExecutor() as pool:
            checked = list(pool.map(_check_file, jobs, chunksize=16))
    else:
        checked = [_check_file(job) for job in jobs]
    slots = [index for index, result in enumerate(results) if result is None]
    for index, (path, rows, errors, notes, entry) in zip(slots, checked):
        results[index] = (path, rows, errors, notes)
        if entry is not None and cache is not None:
            root, key, observed = entry
            cache.store(root, key, rows, observed)
    if cache is not None:
        cache.save()
    config_errors = sorted({error for _, _, errors, _ in results for error in errors})
    for error in config_errors:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
    for _, _, _, notes in results:
        for note in notes:
            print(f"metaflow-lsp: {note}", file=sys.stderr)
    rows = [row for _, file_rows, _, _ in results for row in file_rows]
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format in ("github", "sarif"):
        _print_for_ci(args, rows)
    else:
        for row in rows:
            print(f"{row['path']}:{row['line']}:{row['column']}: {row['code']} {row['message']}")
        if rows:
            print(f"Found {len(rows)} problem{'s' if len(rows) != 1 else ''} in "
                  f"{len({r['path'] for r in rows})} of {len(files)} files.", file=sys.stderr)
    if config_errors:
        return EXIT_USAGE
    return EXIT_FINDINGS if rows else EXIT_CLEAN


def _print_for_ci(args: argparse.Namespace, rows: list[dict]) -> None:
    from . import check_formats

    if args.format == "github":
        for line in check_formats.github_lines(rows):
            print(line)
    else:
        settings = config.load(args.paths[0])[0]  # its docs-url, for the rules' links
        print(json.dumps(check_formats.sarif_log(rows, settings), indent=2, ensure_ascii=False))


# What the files of one folder share, found once per folder in each process: settings (with their errors) and project.
_folders: dict[Path, tuple[config.Settings, list[str], Project]] = {}
_projects: dict[Path, Project] = {}


def folder_context(directory: Path) -> tuple[config.Settings, list[str], Project]:
    """The settings (with their errors) and the project of the files in `directory`, found once (`check`, `graph`)."""
    known = _folders.get(directory)
    if known is None:
        settings, errors = config.load(directory)
        root = find_root(directory.resolve())
        known = _folders[directory] = (settings, errors, _projects.setdefault(root, Project(root)))
    return known


def _file_settings(path: Path, select: list[str] | None,
                   ignore: list[str] | None) -> tuple[config.Settings, list[str], Project]:
    """A file's pyproject settings with the command line's overrides, their errors, and its project."""
    settings, errors, project = folder_context(path.parent)
    if select:
        settings = replace(settings, select=tuple(select))
    if ignore:
        settings = replace(settings, ignore=settings.ignore + tuple(ignore))
    return settings, errors, project


def _cached_result(cache: check_cache.CheckCache, path: Path, select: list[str] | None,
                   ignore: list[str] | None) -> tuple[Path, list[dict], list[str], list[str]] | None:
    """`_check_file`'s result from the cache, or None to check the file."""
    settings, errors, project = _file_settings(path, select, ignore)
    try:
        data = read_bytes(path)
    except OSError:
        return None  # the check says what is wrong
    rows = cache.rows(project.root, check_cache.entry_key(path, data, settings, select, ignore))
    return None if rows is None else (path, rows, errors, [])


CheckJob = tuple[Path, list[str] | None, list[str] | None, bool]


def _check_file(job: CheckJob) -> tuple[Path, list[dict], list[str], list[str], tuple | None]:
    """Checks one file with its own pyproject settings and the command line's overrides. Runs in a worker process.
    Returns the path, its findings as rows, errors (settings, unreadable: exit status 2), notes (a file too large
    to check: generated code, said but not failed on), and, when the job asks for it (`CheckJob`'s last field),
    what the result cache stores: (project root, entry key, what the check learnt of the project)."""
    from .engine import check_source, may_have_findings  # here: a run answered from the cache checks nothing

    path, select, ignore, for_cache = job
    settings, errors, project = _file_settings(path, select, ignore)
    if for_cache and project.observations is None:
        project.observations = Observations()
    try:
        data = read_bytes(path)
    except FileTooLarge as error:
        return path, [], errors, [f"{path}: not checked: {error.strerror}"], None
    except OSError as error:
        return path, [], [*errors, f"{path}: cannot read it ({error.strerror})"], [], None
    source = decode_source(data)
    rows = []
    if may_have_findings(source):  # else not parsed: no rule could report on it (`engine.FLOW_WORDS`)
        result = check_source(source, path, settings, project)
        rows = [_row(path, finding, result.lines) for finding in result.findings]
    entry = None
    if for_cache and project.observations is not None:
        entry = (project.root, check_cache.entry_key(path, data, settings, select, ignore),
                 project.observations.drain())
    return path, rows, errors, [], entry


def _row(path: Path, finding: Finding, lines: LineIndex) -> dict:
    span = finding.span
    return {
        "path": str(path),
        "code": finding.code,
        "severity": finding.severity.label,
        "message": finding.message,
        "line": span.line + 1,
        "column": lines.char_col(span.line, span.col) + 1,
        "end_line": span.end_line + 1,
        "end_column": lines.char_col(span.end_line, span.end_col) + 1,
    }


if __name__ == "__main__":
    raise SystemExit(main())
