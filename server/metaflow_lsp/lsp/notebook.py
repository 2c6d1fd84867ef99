"""The server command `metaflow.debugNotebook(uri, step?, runId?)`: writes the step's debug notebook
(`notebook/command.py`) beside the flow and returns `{"path", "uri"}`; the "Debug in notebook" lens of each step
(lsp/code_lens.py) names it, and VS Code opens the notebook it returns.

Refused in an untrusted workspace (the notebook opens a run, and running it imports common.py). Failures (no run yet,
the run failed before the step, the step never ran) are the request's error, with the message for the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .code_lens import DEBUG_NOTEBOOK
from .command_arguments import command_arguments

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

UNTRUSTED_REFUSAL = "metaflow-lsp: no debug notebook in an untrusted workspace (trust it first)"


def register(server: MetaflowLanguageServer) -> None:
    @server.command(DEBUG_NOTEBOOK)
    def debug_notebook(ls, *args):  # no annotations: pygls evaluates them (get_type_hints) to convert arguments
        """metaflow.debugNotebook(uri, step?, runId?): writes the notebook (for the first step calling common.py, else
        start, without a step); returns its path and URI."""
        from ..notebook.command import write_debug_notebook
        from ..notebook.plan import NotebookError

        uri, step, run_id = (command_arguments(args) + [None, None, None])[:3]
        if not ls.trusted:
            raise _failure(UNTRUSTED_REFUSAL)
        path = ls.path_of(uri) if isinstance(uri, str) else None
        if path is None:
            raise _failure("metaflow.debugNotebook needs a flow file's URI (and a step name)")
        document = ls.open_document(uri)
        try:
            written = write_debug_notebook(path, step if isinstance(step, str) else None,
                                           run_id if isinstance(run_id, str) else None,
                                           root=ls.project_for(uri).root,
                                           source=document.source if document is not None else None)
        except NotebookError as error:
            raise _failure(f"metaflow-lsp: {error}") from None
        ls.window_show_message(types.ShowMessageParams(types.MessageType.Info, f"metaflow-lsp: wrote {written}"))
        return {"path": str(written), "uri": written.as_uri()}


def _failure(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed.value)
