"""Command-line entry points of this feature, added to `metaflow-lsp` by `register`:

    metaflow-lsp test-mode FLOW.py [--flow NAME] [--python PATH] [--debug-port N [--no-wait]] [--print-spec]
    metaflow-lsp run-configs PATH [--no-vscode] [--no-pycharm] [--format text|json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2


def register(commands) -> None:
    """Adds this feature's subcommands to the `metaflow-lsp` parser."""
    test_mode = commands.add_parser(
        "test-mode", help="run a flow in test mode: its test-mode Parameter on, one worker, tagged as an IDE run",
        description="Runs `python FLOW.py --no-pylint run --<test-mode option> 1 --max-workers 1 --tag ide-test-run` "
                    "in the flow's folder, streams Metaflow's output and exits with its exit code.")
    test_mode.add_argument("flow_file", type=Path, metavar="FLOW.py")
    test_mode.add_argument("--flow", metavar="NAME", help="the flow class, when the file has several")
    test_mode.add_argument("--python", metavar="PATH", help="interpreter to run the flow with (default: this one)")
    test_mode.add_argument("--debug-port", type=int, metavar="N",
                           help="start under debugpy listening on 127.0.0.1:N, following every task subprocess")
    test_mode.add_argument("--no-wait", action="store_true",
                           help="with --debug-port: start at once instead of waiting for a debugger to attach")
    test_mode.add_argument("--print-spec", action="store_true", help="print the RunSpec as JSON, run nothing")
    test_mode.set_defaults(run=_test_mode)

    configs = commands.add_parser(
        "run-configs", help="write VS Code and PyCharm run configurations (test mode) for every flow under PATH",
        description="Updates .vscode/launch.json (comments and other entries kept) and .run/<Flow> (test mode).run.xml "
                    "in PATH, the workspace folder.")
    configs.add_argument("root", type=Path, metavar="PATH")
    configs.add_argument("--no-vscode", action="store_true", help="do not write .vscode/launch.json")
    configs.add_argument("--no-pycharm", action="store_true", help="do not write .run/*.run.xml")
    configs.add_argument("--format", choices=("text", "json"), default="text")
    configs.set_defaults(run=_run_configs)


def _test_mode(args: argparse.Namespace) -> int:
    from .runner import LaunchError, command_for, run, spec_for_file

    if args.debug_port is not None and not 0 < args.debug_port < 65536:
        print(f"metaflow-lsp: --debug-port must be a port number, not {args.debug_port}", file=sys.stderr)
        return EXIT_USAGE
    try:
        spec = spec_for_file(args.flow_file, args.flow, debug=args.debug_port is not None)
    except LaunchError as error:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.print_spec:
        print(json.dumps({**spec.to_json(), "command": command_for(spec, args.python, args.debug_port,
                                                                    not args.no_wait)}, indent=2))
        return 0
    if spec.test_option is None:
        print(f"metaflow-lsp: {spec.flow} has no test-mode Parameter; running it with one worker", file=sys.stderr)
    if args.debug_port is not None and not args.no_wait:
        print(f"metaflow-lsp: waiting for a debugger on 127.0.0.1:{args.debug_port}", file=sys.stderr)
    sys.stderr.flush()
    return run(spec, args.python, args.debug_port, wait=not args.no_wait)


def _run_configs(args: argparse.Namespace) -> int:
    from .configs import write_run_configurations

    if not args.root.is_dir():
        print(f"metaflow-lsp: not a folder: {args.root}", file=sys.stderr)
        return EXIT_USAGE
    report = write_run_configurations(args.root, vscode=not args.no_vscode, pycharm=not args.no_pycharm)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        for path in report.written:
            print(f"wrote {path}")
        for path in report.unchanged:
            print(f"unchanged {path}")
        if not report.configurations:
            print("no flows found")
    for error in report.errors:
        print(f"metaflow-lsp: {error}", file=sys.stderr)
    return 1 if report.errors else 0
