"""Code lenses that launch flows (textDocument/codeLens), and the server commands behind the launcher.

Above every flow class: "Run in test mode" (`metaflow.runTestMode`), "Debug (foreach, one worker)"
(`metaflow.debugForeach`) and, for a client that draws graphs (the VS Code extension says so with
`initializationOptions.graphView`), "Show graph" (`metaflow.showFlowGraph`, arguments [uri, flow name]). Above every
step of a flow that has a local run: "Resume from here" (`metaflow.resume`), where the installed Metaflow has `spin`,
"Spin this step" (`metaflow.spin`), and "Debug in notebook", the server command `metaflow.debugNotebook(uri, step)`
(lsp/notebook.py). Each launch lens's `arguments[0]` is the RunSpec (launch/runspec.py) as a JSON object; these
commands (listed in commands.json, which the editor plugins read too) run in the editor, which only executes the
spec, so they are not advertised as server commands (LSP4IJ routes unadvertised commands to IDE actions of the same
id).

Cheap enough for every request: the document's cached model (`server.analysis`), one stat per flow for the local
datastore (launch/datastore.py caches by mtime) and a cached answer about `spin` (asked once per interpreter in a
thread; the client is asked to refresh its lenses when the answer arrives).

Server commands, for every client (Emacs has no code lenses):
- `metaflow.runSpec(uri, flow?, kind?)` -> the RunSpec JSON (`kind`: testMode | debugForeach), or None;
- `metaflow.writeRunConfigurations(folderUri?)` -> writes .vscode/launch.json and .run/*.run.xml for every flow of
  the workspace folders (or the given one) and returns what it wrote.

In a workspace the client calls untrusted (`server.trusted`) there are no launch lenses, no RunSpecs, and run
configurations are refused (docs/dev/security.md).
"""

from __future__ import annotations

import json
import logging
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..launch import capabilities, datastore
from ..launch.runspec import KIND_DEBUG_FOREACH, RunSpec, resume_spec, run_spec, spin_spec
from ..model import FlowClass, Module
from ..text import LineIndex
from .command_arguments import command_arguments
from .convert import UTF16, encoding_of, to_range

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

log = logging.getLogger(__name__)


def _commands(kind: str) -> dict[str, str]:
    """The command ids of commands.json by name (`runTestMode` -> `metaflow.runTestMode`): the one list the
    server and both editor plugins take them from. `kind`: lensCommands (run by the editor), serverCommands or
    viewCommands."""
    listed = json.loads(resources.files("metaflow_lsp").joinpath("commands.json").read_text(encoding="utf-8"))
    return {entry["id"].removeprefix("metaflow."): entry["id"] for entry in listed[kind]}


LENS_COMMANDS = _commands("lensCommands")
SHOW_FLOW_GRAPH = _commands("viewCommands")["showFlowGraph"]
RUN_TEST_MODE = LENS_COMMANDS["runTestMode"]
DEBUG_FOREACH = LENS_COMMANDS["debugForeach"]
RESUME = LENS_COMMANDS["resume"]
SPIN = LENS_COMMANDS["spin"]
DEBUG_NOTEBOOK = _commands("serverCommands")["debugNotebook"]
DEBUG_NOTEBOOK_TITLE = "Debug in notebook"
RUN_SPEC_COMMAND = "metaflow.runSpec"
WRITE_RUN_CONFIGURATIONS = "metaflow.writeRunConfigurations"
UNTRUSTED_REFUSAL = "metaflow-lsp: run configurations are not written in an untrusted workspace (trust it first)"


def register(server: MetaflowLanguageServer) -> None:
    """Adds this feature's handlers to `server` (a MetaflowLanguageServer)."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: MetaflowLanguageServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
        """textDocument/codeLens: run, debug, resume and spin lenses from the document's model; "Show graph"."""
        uri = params.text_document.uri
        path = ls.path_of(uri)
        if path is None or not ls.trusted:  # an untrusted workspace is never offered a run
            return None
        result = ls.analysis(uri)
        found = lenses(result.module, path, result.lines, ls.settings_for(uri), spin=_spin_known(ls),
                       encoding=encoding_of(ls))
        if ls.shows_graphs:
            found += graph_lenses(result.module, uri, result.lines, encoding_of(ls))
        return found

    @server.command(RUN_SPEC_COMMAND)
    def run_spec_command(ls, *args):  # no annotations: pygls evaluates them (get_type_hints) to convert arguments
        """metaflow.runSpec(uri, flow?, kind?): the RunSpec of a flow in a document (the first flow by default)."""
        uri, flow_name, kind = (command_arguments(args) + [None, None, None])[:3]
        if not isinstance(uri, str) or not ls.trusted:
            return None
        path = ls.path_of(uri)
        if path is None:
            return None
        module = ls.analysis(uri).module
        flow = next((f for f in module.flows if flow_name in (None, f.name)), None)
        if flow is None:
            return None
        return run_spec(flow, path, ls.settings_for(uri), debug=kind == KIND_DEBUG_FOREACH).to_json()

    @server.command(WRITE_RUN_CONFIGURATIONS)
    def write_configurations(ls, *args):
        """metaflow.writeRunConfigurations(folderUri?): launch.json and PyCharm run configurations, test mode."""
        if not ls.trusted:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, UNTRUSTED_REFUSAL))
            return {"folders": [], "refused": UNTRUSTED_REFUSAL}
        # Imported here: launch.json and .run.xml writing is not needed for the first lenses and diagnostics.
        from ..launch.configs import workspace_specs, write_run_configurations

        given = [a for a in command_arguments(args) if isinstance(a, str)]
        roots = [ls.path_of(given[0])] if given else ls.workspace_roots()
        reports = []
        for root in roots:
            if root is None or not root.is_dir():
                continue
            # The editor's settings too (test-mode names may come from there), not only pyproject's.
            specs = workspace_specs(root, lambda path: ls.settings_for(path.as_uri()))
            report = write_run_configurations(root, specs)
            reports.append({"folder": str(root), **report.to_json()})
            if report.errors:
                ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, "; ".join(report.errors)))
        return {"folders": reports}


def _spin_known(ls: MetaflowLanguageServer) -> bool:
    """Whether lenses may offer `spin`: the cached answer for this interpreter; False until it is known."""

    def known(answer: bool) -> None:
        if answer and _client_refreshes_lenses(ls):
            try:
                ls.workspace_code_lens_refresh(None)
            except Exception:  # the client went away, or refused
                log.debug("code lens refresh failed", exc_info=True)

    return bool(capabilities.cached_has_spin(sys.executable, known))


def _client_refreshes_lenses(ls: MetaflowLanguageServer) -> bool:
    workspace = ls.client_capabilities.workspace if ls.client_capabilities else None
    code_lens = workspace.code_lens if workspace else None
    return bool(code_lens and code_lens.refresh_support)


def lenses(module: Module, path: Path, lines: LineIndex, settings, spin: bool = False,
           encoding: str = UTF16) -> list[types.CodeLens]:
    """The launcher's lenses of one document, their ranges in the negotiated position `encoding`."""
    found: list[types.CodeLens] = []
    for flow in module.flows:
        flow_range = to_range(flow.span, lines, encoding)
        for spec, command in ((run_spec(flow, path, settings), RUN_TEST_MODE),
                              (run_spec(flow, path, settings, debug=True), DEBUG_FOREACH)):
            found.append(_lens(flow_range, spec, command))
        found += _step_lenses(flow, path, lines, spin, encoding)
    return found


def graph_lenses(module: Module, uri: str, lines: LineIndex, encoding: str = UTF16) -> list[types.CodeLens]:
    """"Show graph" above every flow class of the document; the client opens its view of `metaflow.flowGraph`."""
    return [types.CodeLens(range=to_range(flow.span, lines, encoding), command=types.Command(
        title="Show graph", command=SHOW_FLOW_GRAPH, arguments=[uri, flow.name])) for flow in module.flows]


def _step_lenses(flow: FlowClass, path: Path, lines: LineIndex, spin: bool, encoding: str) -> list[types.CodeLens]:
    run = datastore.latest_run(path.parent, flow.name)
    if run is None:
        return []
    found = []
    for step in flow.own_steps:
        if step.path is not None and path.resolve() != Path(step.path).resolve():
            continue
        step_range = to_range(step.span, lines, encoding)
        found.append(_lens(step_range, resume_spec(flow, path, step.name, run.run_id), RESUME, "Resume from here"))
        found.append(types.CodeLens(range=step_range, command=types.Command(
            title=DEBUG_NOTEBOOK_TITLE, command=DEBUG_NOTEBOOK, arguments=[path.as_uri(), step.name])))
        if spin and step.name in run.steps:
            tasks = run.task_ids(step.name)
            spec = spin_spec(flow, path, step.name, run.run_id, tasks[0] if len(tasks) == 1 else None)
            found.append(_lens(step_range, spec, SPIN, "Spin this step"))
    return found


def _lens(where: types.Range, spec: RunSpec, command: str, title: str | None = None) -> types.CodeLens:
    return types.CodeLens(range=where, command=types.Command(title=title or spec.title, command=command,
                                                             arguments=[spec.to_json()]))

