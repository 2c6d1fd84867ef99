"""Speed figures of metaflow-lsp on this machine: `python benchmarks/bench.py [--quick]`.

For dense generated flows of 200, 1,000 and 5,000 lines (a step every ~20 lines, a foreach fan-out and its join
every ninth step), all in one run on the same text:
- `ast.parse` of the text (the reference: a keystroke should cost less than parsing the file once),
- a fresh check by the engine (parse + model + all rules, nothing reused: what the CLI does per file),
- didChange -> diagnostics through the real server over stdio, pulled (`textDocument/diagnostic`, as VS Code does)
  and pushed (`publishDiagnostics`, as Neovim and Emacs get them), p50 and p90,
and `metaflow-lsp check` against `ruff check --no-cache` over the same folder of real files, the time for the server
to answer `initialize`, a check of one small file, MF401 on a warm project index, a check of 40 chained diamonds
(2**40 paths), and completion after `self.` typed in a late step of the 1,000-line flow (didChange +
textDocument/completion on a line that does not parse, p50 and p95).
Targets (issue 16): p50 at 1,000 lines <= 1x ast.parse, p50 at 5,000 lines <= 1.5x p50 at 1,000; check within 3x
ruff; initialize < 0.25 s; one small file < 80 ms; (issue 12) completion p50 < 20 ms at 1,000 lines.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import statistics
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SIZES = (200, 1_000, 5_000)


def generate_flow(lines: int, name: str = "BenchFlow") -> str:
    """A dense flow of about `lines` lines, as issue 16 measures: a step every ~25 lines, and every ninth step a
    foreach fan-out with its join (`merge_artifacts`), so graph and data-flow rules have real work."""
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
        "        self.total = 0.0",
        "        self.next(self.step_0)",
        "",
    ]
    tail = ["    @step", "    def end(self):", "        print(self.total)", "", "", 'if __name__ == "__main__":',
            f"    {name}()", ""]
    index = 0
    while len(out) + len(tail) + 26 < lines:
        after = f"step_{index + 1}"
        if index % 9 == 4:  # fan out over a list shortened in test mode, then join
            out += ["    @step", f"    def step_{index}(self):",
                    f"        self.items_{index} = list(range(2 if self.test_mode else 20))",
                    f'        self.next(self.fan_{index}, foreach="items_{index}")', "",
                    "    @step", f"    def fan_{index}(self):", f"        self.value_{index} = self.input * self.alpha",
                    "        acc = 0.0"]
            out += [f"        acc = acc + common.offset({k})" for k in range(6)]
            out += [f"        self.next(self.join_{index})", "",
                    "    @step", f"    def join_{index}(self, inputs):",
                    f"        self.total = sum(i.value_{index} for i in inputs)",
                    f'        self.merge_artifacts(inputs, exclude=["value_{index}", "total"])',
                    f"        self.next(self.{after})", ""]
        else:
            statements = 9 + index % 13
            out += ["    @step", f"    def step_{index}(self):", f'        """Step {index}: some arithmetic."""',
                    f"        acc = self.total + {index}"]
            for k in range(statements - 2):
                if k % 4 == 3:
                    out += [f"        if acc > {k * 10}:", f"            acc = acc - {k}  # trim"]
                else:
                    out.append(f"        acc = acc * 1.01 + common.offset({k})")
            out += [f"        self.result_{index} = acc", f"        self.total = self.total + self.result_{index}",
                    f"        self.next(self.{after})", ""]
        index += 1
    out += ["    @step", f"    def step_{index}(self):", '        """The last generated step."""', "        self.next(self.end)", ""]
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


def typing_edits(source: str, count: int, kind: str = "space"):
    """Edits a user makes while typing in a step body, made and undone alternately. `space`: a space typed at the end
    of a line; `name`: a letter in the middle of the `self.total` a step assigns, which changes what the data-flow
    rules read (the artifact's name and the positions after it); `enter`: Enter at the end of a line (a new line,
    indented, which moves every later line) and Backspace."""
    lines = source.splitlines()
    if kind == "name":
        target = next(i for i, line in enumerate(lines) if line.startswith("        self.total = self.total + "))
        column = lines[target].index("total") + 2
    else:
        target = next(i for i, line in enumerate(lines) if "acc = acc * 1.01" in line)
        column = len(lines[target])
    typed = {"space": " ", "name": "x", "enter": "\n        "}[kind]
    typed_end = types.Position(target + 1, 8) if kind == "enter" else types.Position(target, column + 1)
    for n in range(count):
        if n % 2 == 0:
            yield types.Range(types.Position(target, column), types.Position(target, column)), typed
        else:
            yield types.Range(types.Position(target, column), typed_end), ""


async def bench_code_actions(client: BenchClient, uri: str, source: str, repeat: int) -> tuple[list[float], list[float]]:
    """Listing the code actions on a step's line (no libcst: must be instant), and resolving "Extract step body to
    common.py" there (libcst: at most 300 ms on a 1,000-line flow)."""
    line = next(i for i, text in enumerate(source.splitlines()) if text.strip().startswith("def step_12("))
    where = types.Range(types.Position(line, 8), types.Position(line, 8))
    listed, resolved = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=where,
            context=types.CodeActionContext(diagnostics=[])))
        listed.append(time.perf_counter() - started)
        extract = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.title.startswith("Extract"))
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
                    completions: int = 0, kind: str = "space"
                    ) -> tuple[list[float], float, tuple[list[float], list[float]] | None, list[float] | None]:
    path = root / f"flow_{len(source)}_{'pull' if pull else 'push'}_{kind}.py"
    path.write_text(source)
    common = root / "common.py"  # what the generated steps call; Extract appends to it
    if not common.exists():
        common.write_text('"""Helpers of the generated flows."""\n\n\ndef offset(k):\n    return k / 100\n')
    uri = path.as_uri()
    client, initialize = await start_client(root, pull)
    try:
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=1, text=source)))
        result_id = None  # pulls send the previous result id, as VS Code does
        if pull:
            report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
                text_document=types.TextDocumentIdentifier(uri)))
            result_id = report.result_id
        else:
            await _wait_pushed(client, uri, 1)
        latencies = []
        for version, (edit_range, text) in enumerate(typing_edits(source, edits, kind), start=2):
            started = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(range=edit_range, text=text)]))
            if pull:
                report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
                    text_document=types.TextDocumentIdentifier(uri), previous_result_id=result_id))
                latencies.append(time.perf_counter() - started)
                result_id = report.result_id
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


CORPUS_CACHE = Path(__file__).resolve().parent.parent / "tests" / "corpus" / ".cache"


def tool(name: str) -> str:
    """A console script of this interpreter's environment (metaflow-lsp, ruff), else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def wall_time(command: list[str], cwd: Path, repeat: int) -> float:
    """Median wall time of a command, start-up included: what a user waits for."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def real_folder(root: Path) -> tuple[Path, str]:
    """The Python files of the real-world corpus (public flow projects and Metaflow's own package, which
    `tests/test_corpus.py` fetches from PyPI into tests/corpus/.cache), else 400 generated flow files."""
    folder = root / "real"
    folder.mkdir()
    archives = sorted(CORPUS_CACHE.glob("*.whl")) + sorted(CORPUS_CACHE.glob("*.tar.gz"))
    for archive in archives:
        target = folder / archive.name.split(".tar.gz")[0].removesuffix(".whl")
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                for member in wheel.namelist():
                    if member.endswith(".py") and ".." not in member:
                        (target / member).parent.mkdir(parents=True, exist_ok=True)
                        (target / member).write_bytes(wheel.read(member))
        else:
            with tarfile.open(archive) as sdist:
                members = [m for m in sdist.getmembers() if m.isfile() and m.name.endswith(".py") and ".." not in m.name]
                sdist.extractall(target, members=members, filter="data")
    files = list(folder.rglob("*.py"))
    if files:
        return folder, f"{len(files)} Python files of the real-world corpus"
    for n in range(400):
        (folder / f"flow_{n}.py").write_text(generate_flow(120 + (n % 5) * 40, name=f"Flow{n}"))
    return folder, "400 generated flow files (run tests/test_corpus.py once to fetch the real ones)"


def bench_check_folder(root: Path, repeat: int) -> dict:
    """`metaflow-lsp check --no-cache` and `ruff check --no-cache` (its default rules) over the same folder, wall
    time; and `metaflow-lsp check` repeated with its result cache warm (nothing changed since the run before)."""
    folder, what = real_folder(root)
    ours = wall_time([tool("metaflow-lsp"), "check", "--no-cache", "."], folder, repeat)
    ruff = wall_time([tool("ruff"), "check", "--no-cache", "--quiet", "--exit-zero", "."], folder, repeat)
    subprocess.run([tool("metaflow-lsp"), "check", "."], cwd=folder, capture_output=True)  # fills the cache
    warm = wall_time([tool("metaflow-lsp"), "check", "."], folder, repeat)
    return {"folder": what, "ours_s": ours, "ruff_s": ruff, "ratio": ours / ruff, "warm_cache_s": warm}


def bench_small_check(root: Path, repeat: int, cache: bool = True) -> float:
    """`metaflow-lsp check` of one small flow in a project of its own: the start-up a pre-commit hook pays. With the
    result cache (the default: every run after the first finds the file's findings there), or `--no-cache`."""
    folder = root / ("small" if cache else "small-no-cache")
    folder.mkdir()
    (folder / "pyproject.toml").write_text("")
    (folder / "flow.py").write_text(generate_flow(60, name="SmallFlow"))
    return wall_time([tool("metaflow-lsp"), "check", "flow.py", *([] if cache else ["--no-cache"])], folder, repeat)


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


def compile_package() -> None:
    """Writes the package's bytecode, as installing the wheel does: an editable checkout run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every changed module in each timed start-up."""
    import compileall

    import metaflow_lsp

    compileall.compile_dir(Path(metaflow_lsp.__file__).parent, quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--readme", type=Path, help="write the figures into this README's Performance block")
    args = parser.parse_args()
    repeat, edits = (5, 20) if args.quick else (15, 60)
    compile_package()
    report: dict = {"sizes": {}, "edits": edits}
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
            in_name = asyncio.run(bench_lsp(source, root, pull=True, edits=edits, kind="name"))[0] \
                if size >= 1_000 else None
            enter = asyncio.run(bench_lsp(source, root, pull=True, edits=edits, kind="enter"))[0] \
                if size >= 1_000 else None
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
                "pull_in_name_p50_ms": percentile(in_name, 0.5) * 1000 if in_name else None,
                "pull_enter_p50_ms": percentile(enter, 0.5) * 1000 if enter else None,
            }
            report["sizes"][size] = row
            print(f"{row['lines']:>6} {row['ast_parse_ms']:>10.1f} {row['engine_ms']:>8.1f} {row['pull_p50_ms']:>9.1f} "
                  f"{row['pull_p90_ms']:>9.1f} {row['push_p50_ms']:>9.1f} {row['push_p90_ms']:>9.1f}")
        report["initialize_ms"] = min(r["initialize_ms"] for r in report["sizes"].values())
        report["check_folder"] = bench_check_folder(root, 3)
        report["small_check_ms"] = bench_small_check(root, repeat) * 1000
        report["small_check_no_cache_ms"] = bench_small_check(root, repeat, cache=False) * 1000
        report["mf401_warm_ms"] = bench_mf401_warm(root, repeat) * 1000
    report["wide_diamonds_ms"] = bench_wide_diamonds(repeat) * 1000
    folder = report["check_folder"]
    print(f"check over {folder['folder']}: {folder['ours_s']:.2f} s; ruff check --no-cache {folder['ruff_s']:.2f} s: "
          f"{folder['ratio']:.1f}x ruff (target 3x); repeated with the cache warm: {folder['warm_cache_s']:.2f} s")
    print(f"initialize: {report['initialize_ms']:.0f} ms (target 250 ms); check of one small file: "
          f"{report['small_check_ms']:.0f} ms (target 80 ms), {report['small_check_no_cache_ms']:.0f} ms with "
          f"--no-cache")
    print(f"MF401 on a warm index (1,000-line flow among 60 flow files): {report['mf401_warm_ms']:.1f} ms "
          f"(target 20 ms); fresh check of 40 chained diamonds: {report['wide_diamonds_ms']:.0f} ms (target 2 s)")
    actions = report["code_actions_1000"]
    print(f"1,000 lines: list code actions p50 {actions['list_p50_ms']:.1f} ms; resolve Extract p50 "
          f"{actions['resolve_extract_p50_ms']:.0f} ms (target 300 ms)")
    completion = report["completion_1000"]
    print(f"1,000 lines: completion after `self.` p50 {completion['p50_ms']:.1f} ms, p95 {completion['p95_ms']:.1f} ms"
          f" (target p50 < 20 ms): {'met' if completion['p50_ms'] < 20 else 'missed'}")
    thousand, five = report["sizes"][1_000], report["sizes"][5_000]
    for kind in ("pull", "push"):
        ratio = thousand[f"{kind}_p50_ms"] / thousand["ast_parse_ms"]
        growth = five[f"{kind}_p50_ms"] / thousand[f"{kind}_p50_ms"]
        report[f"{kind}_ratio_to_parse_1000"], report[f"{kind}_growth_5000"] = ratio, growth
        print(f"{kind}: p50 at 1,000 lines {ratio:.2f}x ast.parse of the whole text (target 1x); p50 at 5,000 lines "
              f"{growth:.2f}x p50 at 1,000 (target 1.5x)")
    print(f"pull, typing inside an artifact's name: p50 {thousand['pull_in_name_p50_ms']:.1f} ms at 1,000 lines, "
          f"{five['pull_in_name_p50_ms']:.1f} ms at 5,000")
    print(f"pull, Enter and Backspace in a step: p50 {thousand['pull_enter_p50_ms']:.1f} ms at 1,000 lines, "
          f"{five['pull_enter_p50_ms']:.1f} ms at 5,000")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.readme:
        from bench_readme import render, update

        update(args.readme, render(report, args.quick))
        print(f"wrote the figures into {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
