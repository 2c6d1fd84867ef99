"""`metaflow-lsp graph PATH... [--flow NAME] [--format json|mermaid|dot]`: the step graph of every flow the files
define or run, for editors without the graph view (Neovim, Emacs, PyCharm without the plugin) and for docs.

Files and folders (walked as `check` walks them: .gitignore respected). Nothing is imported or run. Exit codes:
0 drawn, 1 no flow found, 2 a usage error (no such path, no flow of that name).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_DRAWN, EXIT_NO_FLOW, EXIT_USAGE = 0, 1, 2


def register(commands) -> None:
    """Adds `graph` to the `metaflow-lsp` parser."""
    graph = commands.add_parser(
        "graph", help="print the step graph of flows as JSON, Mermaid or Graphviz DOT",
        description="Prints the step graph of every flow the files define or run, read statically (nothing is "
                    "imported or run). Exit code 0: drawn; 1: no flow found; 2: usage error.")
    graph.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (walked recursively)")
    graph.add_argument("--flow", metavar="NAME", help="only the flow class of this name")
    graph.add_argument("--format", choices=("json", "mermaid", "dot"), default="json")
    graph.set_defaults(run=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    from .graph_formats import to_dot, to_mermaid

    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"metaflow-lsp: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    flows = collect_flows(args.paths)
    if args.flow is not None:
        chosen = [flow for flow in flows if flow["name"] == args.flow]
        if not chosen:
            names = ", ".join(sorted({flow["name"] for flow in flows})) or "none"
            print(f"metaflow-lsp: no flow named {args.flow!r} (flows found: {names})", file=sys.stderr)
            return EXIT_USAGE
        flows = chosen
    graph = {"flows": flows}
    if args.format == "json":
        print(json.dumps(graph, indent=2, ensure_ascii=False))
    elif flows:
        print(to_mermaid(graph) if args.format == "mermaid" else to_dot(graph), end="")
    if not flows:
        print(f"metaflow-lsp: no flow found in {', '.join(str(p) for p in args.paths)}", file=sys.stderr)
        return EXIT_NO_FLOW
    return EXIT_DRAWN


def collect_flows(paths: list[Path]) -> list[dict]:
    """The graph JSON of every flow under `paths`, each flow once (a flow run by one file and defined by another
    is drawn once), with the diagnostics `check` reports on its steps."""
    from .cli import folder_context
    from .engine import check_source
    from .files import FileTooLarge, read_source
    from .graph_export import graph_json
    from .project import walk_python_files

    flows: dict[tuple, dict] = {}
    for path in dict.fromkeys(walk_python_files(paths)):
        try:
            source = read_source(path)
        except FileTooLarge as error:
            print(f"metaflow-lsp: {path}: not read: {error.strerror}", file=sys.stderr)
            continue
        except OSError as error:
            print(f"metaflow-lsp: {path}: cannot read it ({error.strerror})", file=sys.stderr)
            continue
        settings, _errors, project = folder_context(path.parent)  # `check` reports settings errors, not a drawing
        result = check_source(source, path, settings, project)
        if result.module.syntax_error is not None:
            error = result.module.syntax_error
            print(f"metaflow-lsp: {path}:{error.lineno or 1}: cannot parse it ({error.msg}): not drawn",
                  file=sys.stderr)
            continue
        for flow in graph_json(result.module, result.findings, project.resolver)["flows"]:
            file = Path(flow["file"]).resolve() if flow["file"] else None
            key = (file, flow["name"])
            # The defining file's own entry wins: its check has the diagnostics of the flow's steps.
            if key not in flows or file == path.resolve():
                flows[key] = flow
    return list(flows.values())
