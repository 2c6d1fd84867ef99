"""Server commands behind the flow graph view (VS Code's webview, and any client through workspace/executeCommand):

- `metaflow.flowGraph(uri)` -> `{"flows": [...]}`, the graph of every flow of the document's current text
  (graph_export.py; docs/flow-graph.md has the shape), with the diagnostics the editor shows on each step.

Both only read: they are answered in an untrusted workspace too. The graph comes from the document's cached
analysis (`server.analysis`), so asking on every keystroke costs no second parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph_export import graph_json
from .code_lens import _flatten

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

FLOW_GRAPH_COMMAND = "metaflow.flowGraph"


def register(server: MetaflowLanguageServer) -> None:
    @server.command(FLOW_GRAPH_COMMAND)
    def flow_graph(ls, *args):  # no annotations: pygls evaluates them (get_type_hints) to convert arguments
        """metaflow.flowGraph(uri): the step graph of each flow in the document, as the editor has it now."""
        uri = next(iter(_flatten(args)), None)
        if not isinstance(uri, str):
            return None
        result = ls.analysis(uri)
        return graph_json(result.module, result.findings, ls.project_for(uri).resolver)
