"""RunSpecs: what to run for a flow, computed by the server from the static model; editors only execute them.

A RunSpec is `python <script> <args...>` in `cwd` with `env` added to the inherited environment. The interpreter is
not part of it: each editor runs it with the interpreter the user chose (the CLI with `--python`). Nothing here
imports Metaflow or the user's code, and nothing here builds a shell string.

Test mode (the Metaflow guide's "develop with a test-mode Parameter and one worker"):

    <script> --no-pylint [--environment=pypi|conda] run [--<test option> 1] --max-workers 1 --tag ide-test-run

Foreach debugging is the same command marked for a debugger that follows subprocesses: every Metaflow task runs in
its own process, so a debugger attached only to the parent never stops in step code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..model import FlowClass, Parameter
from ..testmode import find_test_mode

# Tag on every run started from the editor (test mode, debugging, resume): find them with
# `Flow(...).runs("ide-test-run")`. One constant; editors and tests read it from here or from the RunSpec.
IDE_TAG = "ide-test-run"

# Extra environment of every run: unbuffered output, so Metaflow's log lines reach the editor as they happen.
# Never credentials or anything read from the user's environment.
BASE_ENV = {"PYTHONUNBUFFERED": "1"}
# Debug runs: no "frozen modules" warning from pydevd in every task process.
DEBUG_ENV = {**BASE_ENV, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}

# What a debugger needs to stop in step code (VS Code / debugpy names).
DEBUGGER = {"type": "debugpy", "subProcess": True, "justMyCode": False}

KIND_TEST_MODE = "testMode"
KIND_DEBUG_FOREACH = "debugForeach"
KIND_RESUME = "resume"
KIND_SPIN = "spin"


@dataclass(frozen=True)
class RunSpec:
    title: str
    flow: str
    script: str  # absolute path of the flow file
    args: tuple[str, ...]  # everything after the script, no interpreter
    cwd: str  # the flow file's folder
    env: tuple[tuple[str, str], ...] = tuple(BASE_ENV.items())
    kind: str = KIND_TEST_MODE
    debug: bool = False
    test_option: str | None = None  # `--test_mode`, None when the flow has no test-mode Parameter
    debugger: dict[str, Any] | None = field(default=None, compare=False)

    def command(self, python: str) -> list[str]:
        """The argument list to execute (no shell): interpreter, script, args."""
        return [python, self.script, *self.args]

    def environment(self, base: dict[str, str]) -> dict[str, str]:
        """`base` (usually os.environ) with this spec's variables added."""
        return {**base, **dict(self.env)}

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "kind": self.kind,
            "flow": self.flow,
            "script": self.script,
            "args": list(self.args),
            "cwd": self.cwd,
            "env": dict(self.env),
            "debug": self.debug,
            "debugger": dict(self.debugger) if self.debugger else None,
            "testOption": self.test_option,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunSpec":
        return cls(
            title=str(data["title"]), flow=str(data["flow"]), script=str(data["script"]),
            args=tuple(str(a) for a in data["args"]), cwd=str(data["cwd"]),
            env=tuple((str(k), str(v)) for k, v in (data.get("env") or {}).items()),
            kind=str(data.get("kind", KIND_TEST_MODE)), debug=bool(data.get("debug", False)),
            test_option=data.get("testOption"), debugger=data.get("debugger"),
        )


def find_test_mode_parameter(flow: FlowClass, settings: Settings) -> Parameter | None:
    """The flow's test-mode Parameter, as MF204-MF207 see it (`metaflow_lsp.testmode`)."""
    return find_test_mode(flow, settings.test_mode_parameters).parameter


def environment_option(flow: FlowClass) -> str | None:
    """`--environment=conda|pypi` when the flow's decorators need it (else Metaflow stops: "Incompatible
    environment"). The conda environment also serves @pypi, so a flow that uses both gets conda."""
    names = {d.name for d in flow.decorators}
    for step in flow.steps.values():
        names.update(d.name for d in step.decorators)
    if names & {"conda", "conda_base"}:
        return "--environment=conda"
    if names & {"pypi", "pypi_base"}:
        return "--environment=pypi"
    return None


def _top_options(flow: FlowClass) -> list[str]:
    options = ["--no-pylint"]
    environment = environment_option(flow)
    if environment:
        options.append(environment)
    return options


def _location(path: Path) -> tuple[str, str]:
    script = Path(path).resolve()
    return str(script), str(script.parent)


def run_spec(flow: FlowClass, path: Path, settings: Settings, debug: bool = False) -> RunSpec:
    """`run` in test mode with one worker, tagged IDE_TAG; with `debug`, marked for a subprocess-following
    debugger (foreach debugging: the foreach tasks then stop one after the other)."""
    script, cwd = _location(path)
    parameter = find_test_mode_parameter(flow, settings)
    args = [*_top_options(flow), "run"]
    if parameter is not None:
        args += [parameter.cli_option, "1"]
    args += ["--max-workers", "1", "--tag", IDE_TAG]
    if debug:
        title = "Debug (foreach, one worker)"
    elif parameter is not None:
        title = "Run in test mode"
    else:
        title = "Run (1 worker) — no test-mode Parameter"
    if debug and parameter is None:
        title += " — no test-mode Parameter"
    return RunSpec(
        title=title, flow=flow.name, script=script, args=tuple(args), cwd=cwd,
        env=tuple((DEBUG_ENV if debug else BASE_ENV).items()), kind=KIND_DEBUG_FOREACH if debug else KIND_TEST_MODE,
        debug=debug,
        test_option=parameter.cli_option if parameter else None, debugger=dict(DEBUGGER) if debug else None,
    )


def resume_spec(flow: FlowClass, path: Path, step: str, run_id: str) -> RunSpec:
    """`resume <step> --origin-run-id <run_id>`: always an explicit origin (a bare resume follows `latest_run`,
    which `spin` rewrites)."""
    script, cwd = _location(path)
    args = (*_top_options(flow), "resume", step, "--origin-run-id", run_id, "--max-workers", "1", "--tag", IDE_TAG)
    return RunSpec(title=f"Resume from here (run {run_id})", flow=flow.name, script=script, args=args, cwd=cwd,
                   kind=KIND_RESUME)


def spin_spec(flow: FlowClass, path: Path, step: str, run_id: str, task_id: str | None = None) -> RunSpec:
    """`spin <Flow>/<run_id>/<step>[/<task_id>]`: runs one step again with the artifacts of an earlier run
    (Metaflow 2.19+). With the task id Metaflow need not look the task up; a foreach step has several, and without
    one Metaflow picks a task itself."""
    script, cwd = _location(path)
    pathspec = f"{flow.name}/{run_id}/{step}" + (f"/{task_id}" if task_id else "")
    args = (*_top_options(flow), "spin", pathspec)
    return RunSpec(title=f"Spin this step (run {run_id})", flow=flow.name, script=script, args=args, cwd=cwd,
                   kind=KIND_SPIN)
