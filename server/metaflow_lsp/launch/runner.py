"""Runs a RunSpec: `metaflow-lsp test-mode FLOW.py` (the guide's "run flows in test mode in CI").

Always an argument list, never a shell: a flow file named `$(touch x).py` is just a file name here. Metaflow's output
is not captured (it streams straight to the terminal or CI log) and its exit code is returned.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..builder import parse_module
from ..config import load
from ..project import read_source
from .runspec import RunSpec, run_spec

DEBUG_HOST = "127.0.0.1"


class LaunchError(Exception):
    """A flow file that cannot be launched (missing, no flow, ambiguous): a usage error, not a run failure."""


def spec_for_file(path: Path, flow_name: str | None = None, debug: bool = False) -> RunSpec:
    path = Path(path)
    if not path.is_file():
        raise LaunchError(f"no such file: {path}")
    module = parse_module(read_source(path), path)
    if module.syntax_error is not None:
        raise LaunchError(f"{path}: syntax error on line {module.syntax_error.lineno}: {module.syntax_error.msg}")
    flows = module.flows
    if flow_name is not None:
        flows = [f for f in flows if f.name == flow_name]
    elif len(flows) > 1 and module.main_calls:
        # Metaflow runs the flow that the `__main__` guard instantiates.
        flows = [f for f in flows if f.name in module.main_calls] or flows
    if not flows:
        raise LaunchError(f"{path}: no flow class{f' named {flow_name}' if flow_name else ''} found")
    if len(flows) > 1:
        raise LaunchError(f"{path}: several flows ({', '.join(f.name for f in flows)}); choose one with --flow")
    settings, _ = load(path)
    return run_spec(flows[0], path, settings, debug=debug)


def debug_command(spec: RunSpec, python: str, port: int, wait: bool = True) -> list[str]:
    """`python -m debugpy --listen 127.0.0.1:PORT [--wait-for-client] --configure-subProcess true script args`.
    Waiting is the default: breakpoints must be set before the first task starts, or the foreach is over."""
    command = [python, "-Xfrozen_modules=off", "-m", "debugpy", "--listen", f"{DEBUG_HOST}:{port}"]
    if wait:
        command.append("--wait-for-client")
    command += ["--configure-subProcess", "true", spec.script, *spec.args]
    return command


def command_for(spec: RunSpec, python: str | None = None, debug_port: int | None = None,
                wait: bool = True) -> list[str]:
    python = python or sys.executable
    if debug_port is not None:
        return debug_command(spec, python, debug_port, wait)
    return spec.command(python)


def run(spec: RunSpec, python: str | None = None, debug_port: int | None = None, wait: bool = True,
        env: dict[str, str] | None = None) -> int:
    """Runs the spec in its folder with the output streamed; returns Metaflow's exit code."""
    command = command_for(spec, python, debug_port, wait)
    environment = spec.environment(dict(os.environ if env is None else env))
    if debug_port is not None:
        environment.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    process = subprocess.Popen(command, cwd=spec.cwd, env=environment, stdin=subprocess.DEVNULL)
    try:
        return process.wait()
    except KeyboardInterrupt:  # the child got the same SIGINT: let Metaflow clean up its tasks
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
