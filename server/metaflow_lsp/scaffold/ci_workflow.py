"""The GitHub Actions workflow of a project: `metaflow-lsp check`, then every flow of the project in test mode.

Flows are found by content (a FlowSpec subclass), anywhere `metaflow-lsp check` would look (`walk_python_files`:
no virtualenvs, caches, hidden folders; what the .gitignore files ignore is left out, with git or without). Each
runs in its own folder, as `python <file> --no-pylint [--environment=pypi|conda] run --<test option> 1`: the option
from the flow's test-mode Parameter (`testmode.py`, as the editor's "Run in test mode"), the environment where its
decorators need one (`launch/runspec.py`). A flow with no test-mode Parameter is left out and named (a full-size run
has no place in CI). All flows run as steps of one job, because a flow that reads another flow's latest run
(`Flow("X")` of Metaflow's client) needs that run in the same local datastore: it runs after X.
"""

from __future__ import annotations

import ast
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..config import load
from ..context import RuleContext
from ..launch.runspec import environment_option, find_test_mode_parameter
from ..model import Module
from ..project import Project, walk_python_files
from ..rules.fail_fast import client_call, client_names

WORKFLOW_PATH = Path(".github") / "workflows" / "metaflow.yml"
PYTHON_VERSION = "3.12"  # of the CI runner, and of the scaffold's @pypi_base environments


@dataclass(frozen=True)
class FlowJob:
    """One flow as the workflow runs it."""

    flow: str
    script: Path  # relative to the project root
    test_option: str | None  # `--test_mode`; None: no test-mode Parameter, not run
    environment: str | None  # `--environment=pypi`, or None
    reads: frozenset[str]  # the flows whose runs it loads with `Flow("X")`

    @property
    def command(self) -> str:
        """The shell line of the step (`run:` is a shell string in GitHub Actions): every part quoted as needed."""
        parts = ["python", self.script.name, "--no-pylint"]
        if self.environment:
            parts.append(self.environment)
        parts.append("run")
        if self.test_option:
            parts += [self.test_option, "1"]
        return shlex.join(parts)


@dataclass
class Workflow:
    text: str
    jobs: list[FlowJob]  # in the order they run
    notes: list[str] = field(default_factory=list)  # what the user should know: flows left out, loops


def flows_read(module: Module) -> frozenset[str]:
    """The flow names `Flow("X")` calls of Metaflow's client name with a literal anywhere in the module."""
    if module.tree is None:
        return frozenset()
    classes, packages = client_names(module)
    if not classes and not packages:
        return frozenset()
    names = set()
    for node in ast.walk(module.tree):
        if client_call(node, classes, packages) == "Flow" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return frozenset(names)


def project_flow_files(project: Project) -> list[Path]:
    """The project's Python files as `check` walks them, less what its .gitignore files ignore when git cannot
    tell (a folder that is no repository)."""
    files = sorted(walk_python_files([project.root]))
    if project.git_root is not None:
        return files  # the walk asked git already
    return [path for path in files if not project.ignored_by_files(path)]


def find_flow_jobs(root: Path) -> list[FlowJob]:
    """Every flow of the project that someone runs (no intermediate base class), in path order."""
    project = Project(root)
    jobs = []
    for path in project_flow_files(project):
        module = project.module(path)
        if module is None or not module.flows:
            continue
        settings = load(path)[0]
        context = RuleContext(module, settings, project)
        runnable = [flow for flow in module.flows if not context.is_base_flow(flow)]
        reads = flows_read(module)
        for flow in runnable:
            parameter = find_test_mode_parameter(flow, settings)
            jobs.append(FlowJob(flow.name, path.relative_to(project.root), parameter.cli_option if parameter else None,
                                environment_option(flow), reads - {flow.name}))
    return jobs


def run_order(jobs: list[FlowJob]) -> tuple[list[FlowJob], list[str]]:
    """`jobs` with each flow after the flows whose runs it reads (otherwise in path order), and notes on loops."""
    by_name: dict[str, list[FlowJob]] = {}
    for job in jobs:
        by_name.setdefault(job.flow, []).append(job)
    ordered: list[FlowJob] = []
    placed: set[int] = set()
    visiting: set[int] = set()
    notes: list[str] = []

    def place(job: FlowJob) -> None:
        if id(job) in placed:
            return
        if id(job) in visiting:
            notes.append(f"{job.flow} ({job.script.as_posix()}) is part of a loop of flows reading each other's runs: "
                         "kept in path order")
            return
        visiting.add(id(job))
        for name in sorted(job.reads):
            for other in by_name.get(name, ()):
                place(other)
        visiting.discard(id(job))
        if id(job) not in placed:
            placed.add(id(job))
            ordered.append(job)

    for job in jobs:
        place(job)
    return ordered, notes


def _yaml(text: str) -> str:
    """A YAML scalar: JSON's double-quoted strings are YAML too, and need no escaping rules of their own."""
    return json.dumps(text, ensure_ascii=False)


def _comment_text(text: str) -> str:
    """`text` for a YAML comment: as it is, or quoted when it holds a line break or another control character (a
    file name may: unquoted, it would end the comment and put its own steps into the workflow)."""
    return text if text.isprintable() else _yaml(text)


def workflow(root: Path) -> Workflow:
    """The workflow for the project at `root`."""
    root = root.resolve()
    jobs, notes = run_order(find_flow_jobs(root))
    left_out = [job for job in jobs if job.test_option is None]
    notes += [f"{job.flow} ({job.script.as_posix()}) has no test-mode Parameter: not run in the workflow; add one "
              f"(`metaflow-lsp explain MF204`)" for job in left_out]
    running = [job for job in jobs if job.test_option is not None]
    install = "python -m pip install metaflow metaflow-lsp"
    if (root / "requirements.txt").is_file():
        install += " -r requirements.txt"
    lines = [
        "# Written by `metaflow-lsp ci-workflow`: `metaflow-lsp check`, then every flow in test mode. Flows run as",
        "# steps of one job, in its local datastore, each after the flows whose runs it reads.",
        "name: metaflow",
        "",
        "on:",
        "  push:",
        "  pull_request:",
        "",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
        "  check-and-test-mode:",
        "    runs-on: ubuntu-latest",
        "    env:",
        "      METAFLOW_USER: ci  # Metaflow needs a user name for its runs",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {_yaml(PYTHON_VERSION)}",
        f"      - run: {_yaml(install)}",
        "      - name: metaflow-lsp check",
        "        run: metaflow-lsp check --format github .",
    ]
    for job in running:
        folder = job.script.parent.as_posix()
        lines += [f"      - name: {_yaml(f'{job.flow} in test mode')}"]
        if folder != ".":
            lines += [f"        working-directory: {_yaml(folder)}"]
        lines += [f"        run: {_yaml(job.command)}"]
    for job in left_out:
        lines += [f"      # {job.flow} ({_comment_text(job.script.as_posix())}): no test-mode Parameter, not run"]
    return Workflow("\n".join(lines) + "\n", running, notes)
