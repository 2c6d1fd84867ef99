"""Speed figures of metaflow-lsp on this machine: `python benchmarks/bench.py [--quick]`.

For generated flows of 200, 1,000 and 5,000 lines, all in one run on the same text:
- `ast.parse` of the text (the floor: every diagnostic needs one parse),
- a fresh check by the engine (parse + model + all rules, nothing reused: what the CLI does per file),
- didChange -> diagnostics through the real server over stdio, pulled (`textDocument/diagnostic`, as VS Code does)
  and pushed (`publishDiagnostics`, as Neovim and Emacs get them), p50 and p90,
and the time for the server to answer `initialize`, `metaflow-lsp check` over a folder of 400 flow files, MF401 on a
warm project index, a check of 40 chained diamonds (2**40 paths), and completion after `self.` typed in a late step of
the 1,000-line flow (didChange + textDocument/completion on a line that does not parse, p50 and p95).
The targets (issue 2): latency p50 <= 2x ast.parse and <= 50 ms at 1,000 lines; initialize < 0.5 s; (issue 12)
completion p50 < 20 ms at 1,000 lines.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SIZES = (200, 1_000, 5_000)


def generate_flow(lines: int, name: str = "BenchFlow") -> str:
    """A realistic flow of about `lines` lines: Parameters, a foreach, a join, steps of 5-15 statements."""
    out = [
        '"""Generated flow for the benchmark."""',
        "from metaflow import FlowSpec, Parameter, step",
        "",
        "import common",
        "",
        "",
        f"class {name}(FlowSpec):",
        '    test_mode = Parameter("test_mode", type=bool, default=False)',
        '    alpha = Parameter("alpha", type=float, default=0.5)',
        "",
        "    @step",
        "    def start(self):",
        "        if self.alpha <= 0:",
        '            raise ValueError("alpha must be positive")',
        "        self.items = list(range(3 if self.test_mode else 30))",
        "        self.next(self.fan, foreach=\"items\")",
        "",
        "    @step",
        "    def fan(self):",
        "        self.value = self.input * self.alpha",
        "        self.next(self.join)",
        "",
        "    @step",
        "    def join(self, inputs):",
        "        self.total = sum(i.value for i in inputs)",
        "        self.next(self.step_0)",
        "",
    ]
    tail = ["    @step", "    def end(self):", "        print(self.total)", "", "", 'if __name__ == "__main__":',
            f"    {name}()", ""]
    index = 0
    while len(out) + len(tail) + 16 < lines:
        statements = 5 + index % 11
        out += ["    @step", f"    def step_{index}(self):", f'        """Step {index}: some arithmetic."""']
        out.append(f"        acc = self.total + {index}")
        for k in range(statements - 2):
            if k % 4 == 3:
                out += [f"        if acc > {k * 10}:", f"            acc = acc - {k}  # trim"]
            else:
                out.append(f"        acc = acc * 1.01 + common.offset({k})")
        out.append(f"        self.result_{index} = acc")
        out.append(f"        self.total = self.total + self.result_{index}")
        index += 1
        out += [f"        self.next(self.step_{index})", ""]
    out[-2] = "        self.next(self.end)"  # the last generated step leads to end
    return "\n".join(out + tail)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(fraction * (len(ordered) - 1))), len(ordered) - 1)]


def time_it(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def bench_engine(source: str, repeat: int) -> tuple[float, float]:
    from metaflow_lsp.config import Settings
    from metaflow_lsp.engine import check_source

    parse = statistics.median(time_it(lambda: ast.parse(source), repeat))
    engine = statistics.median(time_it(lambda: check_source(source, None, Settings()), repeat))
    return parse, engine


class BenchClient(LanguageClient):
    def __init__(self):
        super().__init__("metaflow-lsp-bench", "1")
        self.pushed: dict[tuple[str, int], float] = {}
        self.pushed_event = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams):
            self.pushed[(params.uri, params.version or -1)] = time.perf_counter()
            self.pushed_event.set()

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def on_configuration(params: types.ConfigurationParams):
            return [None for _ in params.items]


async def start_client(root: Path, pull: bool) -> tuple[BenchClient, float]:
    client = BenchClient()
    await client.start_io(sys.executable, "-m", "metaflow_lsp")
    code_action = types.CodeActionClientCapabilities(
        code_action_literal_support=types.ClientCodeActionLiteralOptions(
            code_action_kind=types.ClientCodeActionKindOptions(value_set=["quickfix", "refactor.extract", "source"])),
        resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        data_support=True, disabled_support=True)
    text_document = types.TextDocumentClientCapabilities(
        code_action=code_action,
        synchronization=types.TextDocumentSyncClientCapabilities(did_save=True),
        diagnostic=types.DiagnosticClientCapabilities(related_document_support=True) if pull else None,
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
    )
    capabilities = types.ClientCapabilities(
        text_document=text_document,
        workspace=types.WorkspaceClientCapabilities(
            configuration=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True, resource_operations=[types.ResourceOperationKind.Create])),
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
        window=types.WindowClientCapabilities(work_done_progress=False),
    )
    started = time.perf_counter()
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="bench")]))
    initialize = time.perf_counter() - started
    client.initialized(types.InitializedParams())
    return client, initialize


def typing_edits(source: str, count: int):
    """Edits a user makes while typing: one character inserted in a step body, then removed, alternately."""
    lines = source.splitlines()
    target = next(i for i, line in enumerate(lines) if "acc = acc * 1.01" in line)
    column = len(lines[target])
    for n in range(count):
        if n % 2 == 0:
            yield types.Range(types.Position(target, column), types.Position(target, column)), " "
        else:
            yield types.Range(types.Position(target, column), types.Position(target, column + 1)), ""


async def bench_code_actions(client: BenchClient, uri: str, source: str, repeat: int) -> tuple[list[float], list[float]]:
    """Listing the code actions on a step's line (no libcst: must be instant), and resolving "Extract step body to
    common.py" there (libcst: at most 300 ms on a 1,000-line flow)."""
    line = next(i for i, text in enumerate(source.splitlines()) if text.strip().startswith("def step_5("))
    where = types.Range(types.Position(line, 8), types.Position(line, 8))
    listed, resolved = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=where,
            context=types.CodeActionContext(diagnostics=[])))
        listed.append(time.perf_counter() - started)
        extract = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.kind == "refactor.extract")
        started = time.perf_counter()
        result = await client.code_action_resolve_async(extract)
        resolved.append(time.perf_counter() - started)
        if result.edit is None:
            raise RuntimeError(f"Extract was not resolved: {result}")
    return listed, resolved


async def bench_completion(client: BenchClient, uri: str, source: str, version: int, repeat: int) -> list[float]:
    """Typing `value = self.` on a new line of the last generated step, then asking for completion there: the time
    from didChange to the completion list (the line does not parse, so the server repairs it and parses once more).
    The line is removed again between two requests (not timed)."""
    lines = source.splitlines()
    line = max(i for i, text in enumerate(lines) if text.strip().startswith("def step_")) + 2  # after the docstring
    typed = "        value = self."
    at = types.Range(types.Position(line, 0), types.Position(line, 0))
    latencies = []
    for _ in range(repeat):
        version += 1
        started = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=at, text=typed + "\n")]))
        found = await client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, len(typed)),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                                            trigger_character=".")))
        latencies.append(time.perf_counter() - started)
        if found is None or not any(item.label == "total" for item in found.items):
            raise RuntimeError(f"completion after self. did not offer `total`: {found}")
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 0), types.Position(line + 1, 0)), text="")]))
    return latencies


async def bench_lsp(source: str, root: Path, pull: bool, edits: int, actions: int = 0,
                    completions: int = 0) -> tuple[list[float], float, tuple[list[float], list[float]] | None,
                                                   list[float] | None]:
    path = root / f"flow_{len(source)}_{'pull' if pull else 'push'}.py"
    path.write_text(source)
    common = root / "common.py"  # what the generated steps call; Extract appends to it
    if not common.exists():
        common.write_text('"""Helpers of the generated flows."""\n\n\ndef offset(k):\n    return k / 100\n')
    uri = path.as_uri()
    client, initialize = await start_client(root, pull)
    try:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=source)))
        if pull:
            await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri)))
        else:
            await _wait_pushed(client, uri, 1)
        latencies = []
        for version, (edit_range, text) in enumerate(typing_edits(source, edits), start=2):
            started = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(range=edit_range, text=text)]))
            if pull:
                await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
                    text_document=types.TextDocumentIdentifier(uri)))
                latencies.append(time.perf_counter() - started)
            else:
                await _wait_pushed(client, uri, version)
                latencies.append(client.pushed[(uri, version)] - started)
        code_actions = await bench_code_actions(client, uri, source, actions) if actions else None
        completion = await bench_completion(client, uri, source, edits + 1, completions) if completions else None
        return latencies, initialize, code_actions, completion
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


async def _wait_pushed(client: BenchClient, uri: str, version: int, timeout: float = 10.0) -> None:
    deadline = time.perf_counter() + timeout
    while (uri, version) not in client.pushed:
        client.pushed_event.clear()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(f"no diagnostics pushed for version {version}")
        await asyncio.wait_for(client.pushed_event.wait(), remaining)


def bench_check_folder(root: Path, files: int) -> float:
    folder = root / "many"
    folder.mkdir()
    for n in range(files):
        (folder / f"flow_{n}.py").write_text(generate_flow(120 + (n % 5) * 40, name=f"Flow{n}"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", str(folder)], capture_output=True)
    return time.perf_counter() - started


def bench_mf401_warm(root: Path, repeat: int) -> float:
    """MF401 on a keystroke: a 1,000-line flow among 60 flow files, the project index already warm (what
    tests/test_project_rules.py checks is served from the index without reading or parsing any other file)."""
    from metaflow_lsp.builder import parse_module
    from metaflow_lsp.config import Settings
    from metaflow_lsp.context import RuleContext
    from metaflow_lsp.engine import check_source
    from metaflow_lsp.project import Project
    from metaflow_lsp.rules import RULES

    folder = root / "mf401"
    folder.mkdir()
    helpers = "".join(f"\n\ndef helper_{i}(x):\n    return [x + {i} * k for k in range(10)]\n" for i in range(20))
    for n in range(60):
        (folder / f"flow_{n}.py").write_text(helpers + "\n\n" + generate_flow(120, name=f"Flow{n}"))
    current = folder / "current.py"
    source = helpers + "\n\n" + generate_flow(1_000)
    current.write_text(source)
    project, settings = Project(folder), Settings(select=("MF401",))
    if len(check_source(source, current, settings, project).findings) != 20:
        raise RuntimeError("MF401 should report the 20 shared helpers")
    # The rule alone: parsing the current file is in "fresh check" already.
    context = RuleContext(parse_module(source, current, project.resolver), settings, project)
    return statistics.median(time_it(lambda: list(RULES["MF401"].check(context)), repeat))


def wide_diamonds(count: int) -> str:
    """`count` chained static split/joins: 2**count paths, where Metaflow's path-based walk stops at its budget."""
    lines = ["from metaflow import FlowSpec, step", "", "", "class WideFlow(FlowSpec):", "    @step",
             "    def start(self):", "        self.next(self.s0)"]
    for i in range(count):
        after = f"s{i + 1}" if i < count - 1 else "end"
        lines += ["    @step", f"    def s{i}(self):", f"        self.next(self.a{i}, self.b{i})",
                  "    @step", f"    def a{i}(self):", f"        self.next(self.j{i})",
                  "    @step", f"    def b{i}(self):", f"        self.next(self.j{i})",
                  "    @step", f"    def j{i}(self, inputs):", f"        self.next(self.{after})"]
    lines += ["    @step", "    def end(self):", "        pass", "", "", 'if __name__ == "__main__":',
              "    WideFlow()", ""]
    return "\n".join(lines)


def bench_wide_diamonds(repeat: int) -> float:
    """A fresh check of 40 chained diamonds (tests/test_graph_rules.py checks the answer and counts the work)."""
    from metaflow_lsp.config import Settings
    from metaflow_lsp.engine import check_source

    source = wide_diamonds(40)
    return statistics.median(time_it(lambda: check_source(source, None, Settings()), repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    repeat, edits = (5, 20) if args.quick else (15, 60)
    report: dict = {"sizes": {}}
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        print(f"{'lines':>6} {'ast.parse':>10} {'fresh':>8} {'pull p50':>9} {'pull p90':>9} {'push p50':>9} "
              f"{'push p90':>9}  (ms)")
        for size in SIZES:
            source = generate_flow(size)
            parse, engine = bench_engine(source, repeat)
            pulled, initialize, code_actions, completion = asyncio.run(bench_lsp(
                source, root, pull=True, edits=edits, actions=5 if size == 1_000 else 0,
                completions=edits if size == 1_000 else 0))
            pushed, _, _, _ = asyncio.run(bench_lsp(source, root, pull=False, edits=edits))
            if completion:
                report["completion_1000"] = {"p50_ms": percentile(completion, 0.5) * 1000,
                                             "p95_ms": percentile(completion, 0.95) * 1000}
            if code_actions:
                report["code_actions_1000"] = {"list_p50_ms": percentile(code_actions[0], 0.5) * 1000,
                                               "resolve_extract_p50_ms": percentile(code_actions[1], 0.5) * 1000}
            row = {
                "lines": len(source.splitlines()),
                "ast_parse_ms": parse * 1000,
                "engine_ms": engine * 1000,
                "pull_p50_ms": percentile(pulled, 0.5) * 1000,
                "pull_p90_ms": percentile(pulled, 0.9) * 1000,
                "push_p50_ms": percentile(pushed, 0.5) * 1000,
                "push_p90_ms": percentile(pushed, 0.9) * 1000,
                "initialize_ms": initialize * 1000,
            }
            report["sizes"][size] = row
            print(f"{row['lines']:>6} {row['ast_parse_ms']:>10.1f} {row['engine_ms']:>8.1f} {row['pull_p50_ms']:>9.1f} "
                  f"{row['pull_p90_ms']:>9.1f} {row['push_p50_ms']:>9.1f} {row['push_p90_ms']:>9.1f}")
        report["initialize_ms"] = min(r["initialize_ms"] for r in report["sizes"].values())
        report["check_400_files_s"] = bench_check_folder(root, 400)
        report["mf401_warm_ms"] = bench_mf401_warm(root, repeat) * 1000
    report["wide_diamonds_ms"] = bench_wide_diamonds(repeat) * 1000
    print(f"initialize: {report['initialize_ms']:.0f} ms; check over 400 flow files: "
          f"{report['check_400_files_s']:.2f} s")
    print(f"MF401 on a warm index (1,000-line flow among 60 flow files): {report['mf401_warm_ms']:.1f} ms "
          f"(target 20 ms); fresh check of 40 chained diamonds: {report['wide_diamonds_ms']:.0f} ms (target 2 s)")
    actions = report["code_actions_1000"]
    print(f"1,000 lines: list code actions p50 {actions['list_p50_ms']:.1f} ms; resolve Extract p50 "
          f"{actions['resolve_extract_p50_ms']:.0f} ms (target 300 ms)")
    completion = report["completion_1000"]
    print(f"1,000 lines: completion after `self.` p50 {completion['p50_ms']:.1f} ms, p95 {completion['p95_ms']:.1f} ms"
          f" (target p50 < 20 ms): {'met' if completion['p50_ms'] < 20 else 'missed'}")
    thousand = report["sizes"][1_000]
    verdict = thousand["pull_p50_ms"] <= max(2 * thousand["ast_parse_ms"], 0) and thousand["pull_p50_ms"] <= 50
    print(f"1,000 lines: pull p50 {thousand['pull_p50_ms']:.1f} ms vs 2x ast.parse {2 * thousand['ast_parse_ms']:.1f} ms"
          f" and 50 ms: {'met' if verdict else 'missed'}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
