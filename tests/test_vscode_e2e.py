"""The VS Code extension, end to end, in a real VS Code: code-server 4.100.3 driven by Debian's Chromium.

Builds the release .vsix for linux-x64 (`scripts/build_vsix.py`, as `make vsix`: the server and its dependencies
inside), installs it into a fresh code-server profile whose interpreter is a fresh venv holding only `metaflow`,
opens a workspace whose flow has an MF011 typo and checks what a person sees: the error squiggle on that line, the
Problems entry, the "Run in test mode" and "Debug (foreach, one worker)" lenses, the status bar item (ready; a click
opens the output). Fixes the typo by typing (the squiggle goes away before saving), clicks "Run in test mode" and
waits for Metaflow's "Done!" in the task terminal; then reads the run back with Metaflow's client: test mode on, the
IDE tag; applies Extract to the foreach step (Ctrl+., Enter) and finds it in a new common.py. The venv still has no
metaflow_lsp, pygls, lsprotocol or libcst afterwards.

Artifacts (test_artifact_hover_and_completion_in_code_server): the hover on an artifact read in a later step names
the step assigning it; `self.` typed there opens a completion list offering it.
Graph view (test_flow_graph_view_in_code_server): the "Show graph" lens, every step drawn in the webview, a click that
moves the cursor, a typed step drawn live; its screenshots are kept in build/e2e/graph-view.

Untrusted (test_untrusted_workspace_in_code_server): workspace trust on, the person declines it; the workspace
shadows `tomllib` and names its own interpreter, both leaving a marker if run: diagnostics show, no marker, no lens,
no "Write Run Configurations" in the palette (docs/dev/security.md).

Recipe: /work/shared/guides/vscode-e2e.md (offline: no Marketplace, so the interpreter is set in settings.json).
code-server is installed once into vscode-extension/e2e/.cache by e2e/install-code-server.sh. Screenshots are kept in
the test's tmp dir (printed on failure). A missing prerequisite fails the test, it never skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "vscode-extension"
E2E = EXTENSION / "e2e"
CODE_SERVER = E2E / ".cache" / "code-server" / "node_modules" / ".bin" / "code-server"
CHROMIUM = Path("/usr/bin/chromium")
DEBIAN_PACKAGES = "chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep"
FLOW = "train_flow.py"
TYPO, FIXED = "self.next(self.trian)", "self.next(self.train)"

SERVER_PACKAGES = ("metaflow_lsp", "pygls", "lsprotocol", "libcst")
FOUND = "import importlib.util as u; print([m for m in {!r} if u.find_spec(m)])".format(SERVER_PACKAGES)

READ_RUN = """
import json
from metaflow import Flow, namespace
namespace(None)
run = Flow("TrainFlow").latest_run
print(json.dumps({"successful": run.successful, "tags": sorted(run.user_tags),
                  "test_mode": run["start"].task.data.test_mode, "total": run["train"].task.data.total}))
"""


def _run(command: list[str], what: str, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what}: no answer within {timeout:.0f} s ({' '.join(map(str, command))})")
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def _prerequisites() -> None:
    missing = [tool for tool in ("node", "npm", "rg") if shutil.which(tool) is None]
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if missing:
        pytest.fail(f"the VS Code e2e test needs {', '.join(missing)}: apt-get install -y {DEBIAN_PACKAGES} "
                    "(.ci/run installs them)")
    for package in ("@vscode/vsce", "playwright-core", "vscode-languageclient"):
        if not (EXTENSION / "node_modules" / package / "package.json").exists():
            pytest.fail(f"vscode-extension/node_modules/{package} is missing: run `cd vscode-extension && npm ci` "
                        "(`make test` does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vsix(tmp_path_factory) -> Path:
    """The linux-x64 release .vsix, built as `make vsix` builds it (from the project's wheel)."""
    _prerequisites()
    out = tmp_path_factory.mktemp("vsix")
    _run([sys.executable, str(ROOT / "scripts" / "build_vsix.py"), "--target", "linux-x64", "--out", str(out)],
         "building the .vsix (scripts/build_vsix.py)", 600, cwd=ROOT)
    [built] = out.glob("metaflow-lsp-linux-x64-*.vsix")
    return built


@pytest.fixture(scope="module")
def metaflow_only_python(tmp_path_factory) -> Path:
    """A fresh venv holding metaflow (this checkout's version) and nothing of the server: a user's project venv."""
    from importlib.metadata import version

    env_dir = tmp_path_factory.mktemp("user-venv") / "venv"
    _run([sys.executable, "-m", "venv", str(env_dir)], "creating the user's venv", 120)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"metaflow=={version('metaflow')}"],
         "installing metaflow into the user's venv", 600, env={**os.environ, "PYTHONNOUSERSITE": "1"})
    assert _found_in(python) == [], "the user's venv must start without the server's packages"
    return python


def _found_in(python: Path) -> list[str]:
    """Which of the server's packages `python` can import by itself (no PYTHONPATH, outside any checkout)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    found = _run([str(python), "-c", FOUND], "looking for the server's packages", 60, cwd="/", env=env)
    return json.loads(found.stdout.strip().replace("'", '"'))


def _kill_group(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the extension host and the language server included
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _lines_with(text: str, needle: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if needle in line]


def _environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CACHE_HOME": str(home / ".cache"), "METAFLOW_USER": "e2e-tester"}


def _profile(tmp_path: Path, vsix: Path, python: Path | str) -> tuple[dict[str, str], list[str], Path]:
    """Installs the .vsix into a fresh profile; its own home (code-server and Chromium write there)."""
    t0 = time.monotonic()
    install = _run([str(E2E / "install-code-server.sh")], "installing code-server (e2e/install-code-server.sh)", 300)
    print(install.stdout.strip().splitlines()[-1], f"({time.monotonic() - t0:.0f} s)")
    home, user_data, extensions = tmp_path / "home", tmp_path / "user-data", tmp_path / "extensions"
    for folder in (home, user_data / "User", extensions, tmp_path / "screenshots"):
        folder.mkdir(parents=True)
    env = _environment(tmp_path)
    profile = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    # User settings: the interpreter (no Python extension offline).
    (user_data / "User" / "settings.json").write_text(json.dumps({
        "metaflowLsp.interpreter": [str(python)],
        "terminal.integrated.gpuAcceleration": "off",  # DOM renderer: the terminal's text can be read
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": False,
        "extensions.autoCheckUpdates": False,
        "extensions.autoUpdate": False,
        "telemetry.telemetryLevel": "off",
        "chat.disableAIFeatures": True,
        "files.autoSave": "off",  # the test checks the squiggle goes away before the file is saved
    }, indent=2))
    _run([str(CODE_SERVER), "--install-extension", str(vsix), *profile], "installing the .vsix", 120, env=env)
    installed = _run([str(CODE_SERVER), "--list-extensions", "--show-versions", *profile], "listing extensions",
                     60, env=env).stdout
    assert "metaflow-lsp.metaflow-lsp@" in installed, installed
    return env, profile, user_data


def _drive(tmp_path: Path, workspace: Path, driver_config: dict, vsix: Path, python: Path | str, *,
           trust_prompt: bool = False) -> tuple[dict, str]:
    """Serves code-server on a free port (workspace trust on when `trust_prompt`), runs e2e/driver.mjs against it
    with `driver_config`, kills everything; returns what the driver saw and a failure context."""
    env, profile, user_data = _profile(tmp_path, vsix, python)
    port = _free_port()
    server = driver = None
    server_log = tmp_path / "code-server.log"
    trust = [] if trust_prompt else ["--disable-workspace-trust"]
    try:
        with server_log.open("w") as log:
            server = subprocess.Popen(
                [str(CODE_SERVER), "--bind-addr", f"127.0.0.1:{port}", "--auth", "none", "--disable-telemetry",
                 "--disable-update-check", *trust, "--disable-getting-started-override",
                 "--ignore-last-opened", *profile],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=workspace)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"code-server did not serve on port {port}:\n{server_log.read_text()[-3000:]}")
                time.sleep(0.3)

        config = tmp_path / "driver.json"
        config.write_text(json.dumps({"url": f"http://127.0.0.1:{port}/?folder={workspace}",
                                      "shots": str(tmp_path / "screenshots"), "profile": str(tmp_path / "chromium"),
                                      **driver_config}))
        driver = subprocess.Popen(["node", str(E2E / "driver.mjs"), str(config)], cwd=EXTENSION, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = driver.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            pytest.fail("the Chromium driver did not finish within 240 s")
    finally:
        _kill_group(driver)
        _kill_group(server)

    print(stderr)
    assert driver.returncode == 0 and stdout.strip(), f"driver failed ({driver.returncode}):\n{stderr[-4000:]}"
    seen = json.loads(stdout.strip().splitlines()[-1])
    channel = user_data.glob("logs/*/exthost*/output_logging_*/*Metaflow LSP.log")
    output = "".join(log.read_text()[-2000:] for log in channel)
    seen["output"] = output
    context = (f"\nnotifications: {seen.get('notifications')}\nscreenshots: {seen['screenshots']}"
               f"\ncode-server log: {server_log}\nthe extension's output channel (end):\n{output}")
    failed = [s for s in seen["steps"] if not s["ok"]]
    if failed:
        pytest.fail(f"step '{failed[0]['name']}' failed after {failed[0]['seconds']:.0f} s: {failed[0]['error']}"
                    f"{context}")
    return seen, context


def test_extension_in_code_server(tmp_path, vsix, metaflow_only_python):
    t0 = time.monotonic()
    # Workspace: the flow with its typo.
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    flow = workspace / FLOW
    shutil.copy(E2E / "workspace" / FLOW, flow)
    source = flow.read_text()
    (error_line,) = _lines_with(source, TYPO)
    (class_line,) = _lines_with(source, "class TrainFlow")
    (work_line,) = _lines_with(source, "self.value = self.input * 10")
    seen, context = _drive(tmp_path, workspace, {
        "file": FLOW, "errorLine": error_line, "classLine": class_line,
        "fixAt": {"line": error_line, "column": source.splitlines()[error_line - 1].index(TYPO) + len(TYPO),
                  "remove": len("trian"), "insert": "train"},
        "extractAt": {"line": work_line, "column": 9},
    }, vsix, metaflow_only_python)
    env = _environment(tmp_path)

    # 1. The MF011 error, where it is, as a squiggle and in the Problems panel; the lenses above the class.
    assert seen.get("errorLinesBefore") == [error_line], f"error squiggles on lines {seen.get('errorLinesBefore')}, " \
        f"expected one on line {error_line}{context}"
    problems = seen.get("problemsBefore") or []
    assert any("MF011" in row and "trian" in row for row in problems), f"Problems panel rows: {problems}{context}"
    lenses = seen.get("lensesBefore") or []
    for title in ("Run in test mode", "Debug (foreach, one worker)"):
        assert any(title in lens for lens in lenses), f"no '{title}' lens among {lenses}{context}"
    # The bundled server ran with the user's interpreter; the status bar said so and opened the output.
    assert f"metaflow-lsp started with {metaflow_only_python} (bundled server)" in seen["output"], context
    assert "codicon-check" in seen["statusBar"]["html"], f"status bar item: {seen['statusBar']}{context}"
    assert "metaflow-lsp started" in seen.get("outputAfterStatusClick", ""), context

    # 2. Typing the fix clears the diagnostics live (the squiggle goes before the file is saved).
    assert seen.get("errorLinesAfterFix") == [], f"squiggles after the fix: {seen.get('errorLinesAfterFix')}{context}"
    assert seen.get("dirtyAfterFix") == 1, f"the fix was expected unsaved while checking the squiggle{context}"
    assert not any("MF011" in row for row in seen.get("problemsAfterFix") or []), seen.get("problemsAfterFix")
    assert FIXED in flow.read_text(), f"the saved file still has the typo{context}"

    # 3. The lens ran the server's RunSpec as a task: Metaflow's "Done!" in the terminal.
    terminal = seen.get("terminal") or ""
    assert "Done!" in terminal, f"no 'Done!' in the task terminal (lens route: {seen.get('lensRoute')}):\n" \
        f"{terminal[-3000:]}{context}"
    run = json.loads(_run([sys.executable, "-c", READ_RUN], "reading the run back", 60, cwd=workspace,
                          env=env).stdout.strip().splitlines()[-1])
    assert run == {"successful": True, "tags": ["ide-test-run"], "test_mode": True, "total": 60}, run
    # 4. Nothing to complain about: no warning or error toast from the extension or the server (a setting the
    #    extension reads, like metaflowLsp.interpreter, is not an "unknown option" of the server).
    complaints = [n for n in seen.get("notifications") or [] if "metaflow" in str(n).lower()]
    assert complaints == [], f"unexpected notifications: {complaints}{context}"
    # 5. Extract (libcst, from the bundle): the step's body moved to a new common.py, the step calls it.
    common = workspace / "common.py"
    assert common.is_file(), f"no common.py after Extract (rows: {seen.get('extractRows')}){context}"
    assert "self.input * 10" not in flow.read_text() and "* 10" in common.read_text(), \
        f"flow:\n{flow.read_text()}\ncommon.py:\n{common.read_text()}{context}"
    assert "common" in flow.read_text(), flow.read_text()
    # 6. Nothing was installed into the user's interpreter.
    assert _found_in(metaflow_only_python) == [], "the server's packages appeared in the user's venv"
    print(f"lens route: {seen['lensRoute']}; screenshots: {seen['screenshots']}; "
          f"total {time.monotonic() - t0:.0f} s, driver {seen['seconds']:.0f} s")


def test_untrusted_workspace_in_code_server(tmp_path, vsix, metaflow_only_python):
    """Workspace trust on, the person answers No. The workspace shadows `tomllib` (the server reads pyproject with
    it) and names its own interpreter in .vscode/settings.json; both would leave a marker outside it. Diagnostics
    still show; the marker never appears; no lens offers a run; the palette offers no Write Run Configurations."""
    marker = tmp_path / "marker"
    workspace = tmp_path / "workspace"
    (workspace / ".vscode").mkdir(parents=True)
    shutil.copy(E2E / "workspace" / FLOW, workspace / FLOW)
    (workspace / "tomllib.py").write_text(f"open({str(marker)!r}, 'a').write('tomllib ran\\n')\n")
    (workspace / "pyproject.toml").write_text("[tool.metaflow-lsp]\nignore = []\n")
    interpreter = workspace / "bin" / "python"
    interpreter.parent.mkdir()
    interpreter.write_text(f"#!/bin/sh\necho 'workspace interpreter ran' >> '{marker}'\n"
                           f"exec '{metaflow_only_python}' \"$@\"\n")
    interpreter.chmod(0o755)
    (workspace / ".vscode" / "settings.json").write_text(json.dumps({"metaflowLsp.interpreter": [str(interpreter)]}))
    (error_line,) = _lines_with((workspace / FLOW).read_text(), TYPO)

    seen, context = _drive(tmp_path, workspace, {"file": FLOW, "untrusted": True}, vsix, metaflow_only_python,
                           trust_prompt=True)

    assert seen.get("restricted"), f"VS Code did not enter Restricted Mode{context}"
    assert seen.get("errorLinesBefore") == [error_line], f"error squiggles: {seen.get('errorLinesBefore')}{context}"
    assert any("MF011" in row for row in seen.get("problemsBefore") or []), seen.get("problemsBefore")
    assert not marker.exists(), f"workspace code ran: {marker.read_text()}{context}"
    assert seen.get("lensesBefore") == [], f"lenses in an untrusted workspace: {seen.get('lensesBefore')}{context}"
    palette = seen.get("paletteRows") or []
    assert any("Restart Server" in row for row in palette), f"palette rows: {palette}{context}"
    assert not any("Write Run Configurations" in row for row in palette), f"palette rows: {palette}{context}"
    assert not (workspace / ".vscode" / "launch.json").exists() and not (workspace / ".run").exists()


def test_debug_lens_without_the_python_extensions(tmp_path, vsix, metaflow_only_python):
    """No Microsoft Python or Python Debugger extension (code-server has neither): the Debug lens runs the
    extension's own debug type, debugpy's adapter from the bundle. A breakpoint in the foreach step stops once per
    item (test mode: three), one task at a time; the run then finishes."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    flow = workspace / FLOW
    flow.write_text((E2E / "workspace" / FLOW).read_text().replace(TYPO, FIXED))
    (line,) = _lines_with(flow.read_text(), "self.value = self.input * 10")
    seen, context = _drive(tmp_path, workspace, {
        "file": FLOW, "debug": {"line": line, "expression": "self.input", "maxStops": 6}}, vsix, metaflow_only_python)

    stops = seen.get("stops") or []
    assert sorted(str(stop["value"]) for stop in stops) == ["1", "2", "3"], f"stops: {stops}{context}"
    for stop in stops:  # one task at a time: a single session paused at each stop
        paused = [row for row in stop["callStack"] if "paused on breakpoint" in row.lower()]
        assert len(paused) == 1, f"call stack at a stop: {stop['callStack']}{context}"
    assert "Done!" in (seen.get("terminal") or ""), f"the debugged run did not finish:\n{seen.get('terminal')}{context}"
    assert "debug adapter: " in seen["output"] and "-m debugpy.adapter (bundled debugpy)" in seen["output"], context
    assert _found_in(metaflow_only_python) == [], "the debugger installed something into the user's venv"


def test_artifact_hover_and_completion_in_code_server(tmp_path, vsix, metaflow_only_python):
    """Artifact intelligence as VS Code shows it: the hover on `self.total` read in `train` names `join`, the step
    that assigns it; `self.` typed on a new line of `train` opens a completion list offering `total`."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    flow = workspace / FLOW
    flow.write_text((E2E / "workspace" / FLOW).read_text().replace(TYPO, FIXED))
    read = 'print("total", self.total)'
    (line,) = _lines_with(flow.read_text(), read)
    column = flow.read_text().splitlines()[line - 1].index(read) + len('print("total", self.') + 1
    seen, context = _drive(tmp_path, workspace, {"file": FLOW, "artifacts": {
        "hoverLine": line, "hoverColumn": column, "hoverWaitFor": "Artifact total",
        "completeAfterLine": line, "completeWaitFor": "total"}}, vsix, metaflow_only_python)

    hover = seen.get("hover") or ""
    assert "Artifact total of TrainFlow" in hover and "Assigned in join" in hover, f"hover: {hover!r}{context}"
    assert "Set on every path from start here" in hover, f"hover: {hover!r}{context}"
    rows = [row.split("\n")[0] for row in seen.get("completion") or []]
    assert "total" in rows and "test_mode" in rows, f"completion rows: {seen.get('completion')}{context}"
    assert "trian" not in flow.read_text() and "self.\n" not in flow.read_text(), "the typing was saved"


def test_missing_interpreter_is_one_notification_and_a_red_status(tmp_path, vsix):
    """metaflowLsp.interpreter names a Python that does not exist: one notification says so and how to fix it; the
    status bar item shows the error."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(E2E / "workspace" / FLOW, workspace / FLOW)
    missing = tmp_path / "gone" / "bin" / "python"
    seen, context = _drive(tmp_path, workspace, {"file": FLOW, "problem": True}, vsix, missing)

    toasts = [toast for toast in seen.get("problemToasts") or [] if "Metaflow LSP" in toast]
    assert len(toasts) == 1, f"notifications: {seen.get('problemToasts')}{context}"
    assert f"the Python interpreter {missing} does not exist" in toasts[0], toasts[0]
    assert "Select Interpreter" in toasts[0] and "Open Settings" in toasts[0], toasts[0]  # the fix, one click away
    assert "codicon-error" in seen["statusBar"]["html"], f"status bar item: {seen['statusBar']}{context}"


# Screenshots of the graph test are kept (build/ is git-ignored); docs/images/graph-view.png is one of them.
GRAPH_SHOTS = ROOT / "build" / "e2e" / "graph-view"
NEW_STEP = "    @step\n    def evaluate(self):\n        self.next(self.end)\n\n"


def test_flow_graph_view_in_code_server(tmp_path, vsix, metaflow_only_python):
    """The example flow's "Show graph" lens opens the graph beside the editor: every step drawn in the webview (the
    typo's target as a missing step, the MF011 on `join` as its badge, the latest local run's status over each step),
    under a strict CSP. A click on a step puts the cursor on its `def`; a new step, pasted into the flow and wired in
    by typing, is drawn before the file is saved."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    flow = workspace / FLOW
    shutil.copy(E2E / "workspace" / FLOW, flow)
    source = flow.read_text()
    lines = source.splitlines()
    (train_line,) = _lines_with(source, "def train(self)")
    (end_line,) = _lines_with(source, "def end(self)")
    rewire = train_line + 2  # train's `self.next(self.end)`
    assert lines[rewire - 1].strip() == "self.next(self.end)" and lines[end_line - 2].strip() == "@step"
    # A local run of TrainFlow (the same flow without the typo, from the same folder): the overlay's statuses.
    (workspace / "ran_flow.py").write_text(source.replace(TYPO, FIXED))
    run_env = _environment(tmp_path / "metaflow-run")
    Path(run_env["HOME"]).mkdir(parents=True)
    _run([str(metaflow_only_python), "ran_flow.py", "--no-pylint", "run", "--test_mode", "1", "--max-workers", "1"],
         "a local run of TrainFlow", 300, cwd=workspace, env=run_env)
    shutil.rmtree(GRAPH_SHOTS, ignore_errors=True)
    GRAPH_SHOTS.mkdir(parents=True)
    seen, context = _drive(tmp_path, workspace, {"file": FLOW, "shots": str(GRAPH_SHOTS), "graph": {
        "steps": ["start", "work", "join", "train", "end", "trian"],
        "click": {"step": "train", "line": train_line},
        "addStep": {"rewireAt": {"line": rewire, "column": len(lines[rewire - 1]) + 1, "remove": len("end)"),
                                 "insert": "evaluate)"},
                    "insertAt": end_line - 1, "text": NEW_STEP, "step": "evaluate"},
    }}, vsix, metaflow_only_python)

    drawn = sorted(seen.get("graphStepsBefore") or [])
    assert drawn == ["end", "join", "start", "train", "trian", "work"], f"steps drawn: {drawn}{context}"
    classes = seen["graphNodeClasses"]
    assert "kind-foreach" in classes["start"] and "kind-join" in classes["join"], classes
    assert "kind-missing" in classes["trian"], classes  # `self.next(self.trian)`: no such step
    assert [step for step, text in seen["graphBadges"] if "MF011" in text] == ["join"], seen["graphBadges"]
    assert {"start->work", "work->join", "join->trian", "train->end"} <= set(seen["graphEdgesBefore"]), seen
    # The page's CSP: nothing by default, a nonce'd script, styles, images and fonts from the webview's own resources
    # only (VS Code's `webview.cspSource`: 'self' and its resource host).
    # The latest local run over each step: done, with its duration.
    statuses = dict(seen.get("graphRunStatus") or [])
    assert sorted(statuses) == ["end", "join", "start", "train", "work"], statuses
    assert all(re.fullmatch(r"✓ [\d.]+ (s|min \d+ s)", text) for text in statuses.values()), statuses
    policy = dict(directive.strip().split(" ", 1) for directive in (seen.get("graphPolicy") or "").split(";"))
    assert policy.pop("default-src") == "'none'" and re.fullmatch(r"'nonce-[\w+/=]+'", policy.pop("script-src")), policy
    assert set(policy) == {"style-src", "img-src", "font-src"}, policy
    assert {source for sources in policy.values() for source in sources.split()} == {"'self'",
                                                                                   "https://*.vscode-cdn.net"}, policy
    # The click: the editor's cursor on the def of `train`.
    assert seen["cursorAfterClick"].startswith(f"Ln {train_line}, Col 5"), \
        f"cursor after the click: {seen['cursorAfterClick']} (before: {seen['cursorBeforeClick']}){context}"
    # The edit, drawn live: the new step and its edges while the file was still unsaved.
    assert seen.get("dirtyAfterEdit") == 1, f"the edit was expected unsaved when the graph showed it{context}"
    assert "evaluate" in seen["graphStepsAfterEdit"], seen["graphStepsAfterEdit"]
    assert {"train->evaluate", "evaluate->end"} <= set(seen["graphEdgesAfterEdit"]), seen["graphEdgesAfterEdit"]
    assert NEW_STEP in flow.read_text() and "self.next(self.evaluate)" in flow.read_text(), flow.read_text()
    complaints = [n for n in seen.get("notifications") or [] if "metaflow" in str(n).lower()]
    assert complaints == [], f"unexpected notifications: {complaints}{context}"
    print(f"graph route: {seen['graphRoute']}; screenshots: {seen['screenshots']}")
