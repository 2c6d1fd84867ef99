"""Server commands behind the flow graph view (VS Code's webview, and any client through workspace/executeCommand):

- `metaflow.flowGraph(uri)` -> `{"flows": [...]}`, the graph of every flow of the document's current text
  (graph_export.py; docs/flow-graph.md has the shape), with the diagnostics the editor shows on each step;
- `metaflow.flowRunStatus(uri)` -> `{"flows": [{"name", "file", "run"}]}`, each flow's latest local run (status and
  duration of each step, launch/run_status.py) as seen from the document's folder, `run` null when there is none.

Both only read: they are answered in an untrusted workspace too. The graph comes from the document's cached
analysis (`server.analysis`), so asking on every keystroke costs no second parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph import FlowGraph
from ..graph_export import flows_of, graph_json
from ..launch.run_status import run_status_json
from .command_arguments import command_arguments

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

FLOW_GRAPH_COMMAND = "metaflow.flowGraph"
FLOW_RUN_STATUS_COMMAND = "metaflow.flowRunStatus"


def register(server: MetaflowLanguageServer) -> None:
    @server.command(FLOW_GRAPH_COMMAND)
    def flow_graph(ls, *args):  # no annotations: pygls evaluates them (get_type_hints) to convert arguments
        """metaflow.flowGraph(uri): the step graph of each flow in the document, as the editor has it now."""
        uri = next(iter(command_arguments(args)), None)
        if not isinstance(uri, str):
            return None
        result = ls.analysis(uri)
        return graph_json(result.module, result.findings, ls.project_for(uri).resolver)

    @server.command(FLOW_RUN_STATUS_COMMAND)
    def flow_run_status(ls, *args):
        """metaflow.flowRunStatus(uri): each flow's latest local run in `.metaflow/`, per step; None for a document
        that is no file (there is no folder to find a run from)."""
        uri = next(iter(command_arguments(args)), None)
        path = ls.path_of(uri) if isinstance(uri, str) else None
        if path is None:
            return None
        module = ls.analysis(uri).module
        flows = flows_of(module, ls.project_for(uri).resolver)
        return {"flows": [{"name": flow.name, "file": str(flow.path) if flow.path else None,
                           "run": run_status_json(path.parent, flow.name, FlowGraph(flow).end_step)}
                          for flow in flows]}
