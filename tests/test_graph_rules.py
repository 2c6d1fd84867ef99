"""MF001-MF020 beyond the fixtures: the rule pages' examples, reporting everything at once, positions, messages,
mixins, incomplete flows, intermediate base classes in projects of several files (with real Metaflow and in the
editor), and random graphs compared with Metaflow's lint."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from lsprotocol import types

from conftest import ROOT, check_text
from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project
from metaflow_lsp.rules import RULES
from test_differential_lint import assert_agrees
from test_lsp_session import codes as lsp_codes, open_document, pull, session
from test_lsp_session import write as write_file

GRAPH_CODES = tuple(f"MF{n:03d}" for n in range(1, 21))
PREAMBLE = "from metaflow import FlowSpec, step, parallel\n\n\n"
MAIN = "\n\nif __name__ == '__main__':\n    TrainFlow()\n"


def graph_findings(source: str, path: Path | None = None):
    return check_text(source, path, select=GRAPH_CODES)


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


# ---- the rule pages ------------------------------------------------------------------------------------------------


def doc_blocks(code: str) -> tuple[str, str]:
    text = (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
    example = re.search(r"## Example\n```python\n(.*?)```", text, re.S).group(1)
    instead = re.search(r"## Use instead\n```python\n(.*?)```", text, re.S).group(1)
    return PREAMBLE + example + MAIN, PREAMBLE + instead + MAIN


@pytest.mark.parametrize("code", GRAPH_CODES)
def test_rule_page_headings(code: str):
    text = (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [f"# {code} {RULES[code].name}", "## What it does", "## What it does not report",
                        "## Why is this bad", "## Example", "## Use instead", "## Fix"]
    assert RULES[code].severity.label == "error"  # the header is checked against the registry in test_rule_fixtures


@pytest.mark.parametrize("code", GRAPH_CODES)
def test_rule_page_examples_run(code: str, tmp_path: Path):
    """The Example triggers the rule, the Use instead is clean for every graph rule; Metaflow's lint agrees."""
    example, instead = doc_blocks(code)
    assert code in codes(graph_findings(example)), example
    assert codes(graph_findings(instead)) == [], instead
    for name, source in (("example", example), ("instead", instead)):
        path = tmp_path / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        comparisons = assert_agrees(parse_module(source, path))
        if name == "instead":
            assert not any(o.raised for o in comparisons[0].metaflow.values())


# ---- all problems at once, never a crash ---------------------------------------------------------------------------


def test_reports_every_problem_where_metaflow_stops_at_the_first():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.trian, self.Score)

            @step
            def Score(self):
                self.next(self.join)

            @step
            def input(self):
                self.next(self.end)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                self.next(self.join)
    ''') + MAIN
    found = codes(graph_findings(source))
    assert {"MF001", "MF005", "MF006", "MF007", "MF011", "MF012"} <= set(found), found
    assert "MF013" not in found  # a reachable typo (MF011) leaves reachability open


@pytest.mark.parametrize("body", [
    "self.next(self.missing)",
    "self.next(self.start)",
    "self.next(*steps)",
    "self.next(self.a.b)",
    "self.next({**cases}, condition='x')",
    "self.next({}, condition='x')",
    "self.next({'a': self.end, 'b': self.end}, condition=None)",
    "self.next(self.end, foreach=items, num_parallel=2)",
    "self.next(lambda: 1)",
    "next(self)",
])
def test_odd_transitions_never_crash(body: str):
    source = PREAMBLE + textwrap.dedent(f'''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                {body}

            @step
            def end(self):
                pass
    ''') + MAIN
    graph_findings(source)  # METAFLOW_LSP_STRICT: a rule that raises fails the test
    assert_agrees(parse_module(source, Path("/virtual/odd.py")))


def test_wide_diamonds_stop_at_the_walk_budget_and_still_report():
    """40 chained diamonds have 2**40 paths: Metaflow's path-based walk stops at its budget instead of taking
    forever, the rules that need the walk stay silent, and mistakes the walk is not needed for are still reported.
    The work is counted, not timed (a busy machine changes the time, not the count); how fast it is:
    `benchmarks/bench.py`."""
    import sys

    from metaflow_lsp.graph import FlowGraph

    class TooMuchWork(BaseException):  # not an Exception: no `except Exception` in the engine may swallow it
        pass

    calls = 0

    def count_calls(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1
            if calls > 1_000_000:  # about 7x what the budgeted walk and the rules take; 2**40 paths take forever
                raise TooMuchWork

    lines = ["class TrainFlow(FlowSpec):", "    @step", "    def start(self):", "        self.next(self.s0)"]
    for i in range(40):
        after = f"s{i + 1}" if i < 39 else "end"
        lines += [f"    @step", f"    def s{i}(self):", f"        self.next(self.a{i}, self.b{i})",
                  f"    @step", f"    def a{i}(self):", f"        self.next(self.j{i})",
                  f"    @step", f"    def b{i}(self):", f"        self.next(self.j{i})",
                  f"    @step", f"    def j{i}(self, inputs):", f"        self.next(self.{after})"]
    lines += ["    @step", "    def end(self):", "        pass"]
    source = PREAMBLE + "\n".join(lines) + MAIN
    sys.setprofile(count_calls)
    try:
        found = graph_findings(source)
    finally:
        sys.setprofile(None)
    assert found == []
    assert not FlowGraph(parse_module(source, Path("/virtual/wide.py")).flows[0]).traversal_complete
    orphan = source.replace("    @step\n    def end(self):", "    @step\n    def orphan(self):\n"
                            "        self.next(self.end)\n\n    @step\n    def end(self):")
    assert codes(graph_findings(orphan)) == ["MF013"]
    typo = source.replace("self.next(self.j39)", "self.next(self.j93)", 1)
    assert codes(graph_findings(typo)) == ["MF011"]


def test_long_chain_does_not_hit_recursion_limits():
    names = [f"s{i}" for i in range(1500)]
    lines = ["class TrainFlow(FlowSpec):", "    @step", "    def start(self):", f"        self.next(self.{names[0]})"]
    for name, after in zip(names, names[1:] + ["end"]):
        lines += ["    @step", f"    def {name}(self):", f"        self.next(self.{after})"]
    lines += ["    @step", "    def end(self):", "        self.next(self.s0)"]
    found = graph_findings(PREAMBLE + "\n".join(lines) + MAIN)
    assert "MF012" in codes(found)


# ---- positions and data -------------------------------------------------------------------------------------------


def test_positions_def_name_next_call_and_target():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.tyop)

            @step
            def a(self):
                self.next(self.end)

            @step
            def Bad(self):
                self.next(self.end)

            @step
            def end(self):
                self.next()
    ''') + MAIN
    by_code = {f.code: f for f in graph_findings(source)}
    lines = source.splitlines()
    unknown = by_code["MF011"].span
    assert lines[unknown.line][unknown.col:unknown.end_col] == "self.tyop"
    assert by_code["MF011"].data["suggestion"] is None or by_code["MF011"].data["target"] == "tyop"
    bad = by_code["MF007"].span
    assert lines[bad.line][bad.col:bad.end_col] == "Bad"
    end_next = by_code["MF006"].span
    assert lines[end_next.line][end_next.col:end_next.end_col] == "self.next()"
    assert by_code["MF007"].data["suggestion"] == "bad"


def test_num_parallel_finding_sits_on_the_keyword():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.train, num_parallel=4)

            @step
            def train(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    (finding,) = graph_findings(source)
    span = finding.span
    assert finding.code == "MF017" and source.splitlines()[span.line][span.col:span.end_col] == "num_parallel=4"
    assert finding.data == {"step": "start", "targets": ["train"]}
    parallel = source.replace("    @step\n    def train", "    @parallel\n    @step\n    def train")
    assert graph_findings(parallel) == []


def test_static_split_whose_join_lacks_inputs_names_that_step():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    (finding,) = graph_findings(source)
    assert finding.code == "MF014" and finding.data == {"step": "end"}  # where Metaflow points
    assert finding.message == ("The split at `start` is never joined: `join`, where its branches meet, takes no "
                               "`inputs` (write `def join(self, inputs):`).")
    assert graph_findings(source.replace("def join(self)", "def join(self, inputs)")) == []


def test_messages_are_short_and_quote_names_in_backticks():
    """Every MF0xx message of the fixtures: names in backticks (no Markdown emphasis), at most 160 characters, the
    detail being in the rule's page."""
    messages = []
    for path in sorted((ROOT / "tests" / "fixtures" / "rules").glob("MF0[0-2]*/*.py")):
        if path.parent.name == "MF000":
            continue
        result = check_source(path.read_text(encoding="utf-8"), path, Settings(select=GRAPH_CODES),
                              Project(path.parent))
        messages += [f.message for f in result.findings]
    assert len({m.split(" ")[0] for m in messages}) > 5 and len(messages) > 40
    for message in messages:
        assert len(message) <= 160, message
        assert "*" not in message, message
        assert message.count("`") % 2 == 0, message


def test_typo_suggestion():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.trian)

            @step
            def train(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    (finding,) = graph_findings(source)
    assert finding.code == "MF011" and finding.data["suggestion"] == "train"
    assert finding.message == ("Step `start` transitions to `trian`, which is not a step of `TrainFlow`. Did you mean "
                               "`train`?")


# ---- mixins, bases, incomplete flows ------------------------------------------------------------------------------


def test_same_file_mixin_reported_once_on_its_def():
    source = PREAMBLE + textwrap.dedent('''
        class Shared:
            @step
            def Load(self):
                self.next(self.end)


        class TrainFlow(FlowSpec, Shared):
            @step
            def start(self):
                self.next(self.Load)

            @step
            def end(self):
                pass


        class OtherFlow(FlowSpec, Shared):
            @step
            def start(self):
                self.next(self.Load)

            @step
            def end(self):
                pass
    ''') + MAIN
    found = graph_findings(source)
    assert [(f.code, f.span.line + 1) for f in found] == [("MF007", 7)]


def test_sibling_mixin_steps_not_reported_here(write):
    write("pkg/steps.py", '''
        from metaflow import step


        class Shared:
            @step
            def Load(self):
                self.next(self.end)

            @step
            def unused(self):
                self.next(self.end)
    ''')
    flow = write("pkg/flow.py", PREAMBLE + textwrap.dedent('''
        from steps import Shared


        class TrainFlow(FlowSpec, Shared):
            @step
            def start(self):
                self.next(self.Load)

            @step
            def end(self):
                pass
    ''') + MAIN)
    result = check_source(flow.read_text(), flow, Settings(select=GRAPH_CODES), Project(flow.parent))
    (module_flow,) = result.module.flows
    assert module_flow.complete and "Load" in module_flow.steps
    assert result.findings == []  # the sibling's invalid name and orphan belong to that file


def test_unknown_base_silences_whole_flow_checks_only():
    source = textwrap.dedent('''
        from metaflow import step
        from company import ProjectFlow


        class TrainFlow(ProjectFlow):
            @step
            def start(self):
                self.next(self.preprocess)

            @step
            def Evaluate(self):
                self.next(self.report, self.store, foreach="x")


        if __name__ == "__main__":
            TrainFlow()
    ''')
    found = graph_findings(source)
    assert codes(found) == ["MF007", "MF010"]


def test_base_flow_in_same_file_is_not_judged_alone():
    source = PREAMBLE + textwrap.dedent('''
        class BaseFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.train)


        class TrainFlow(BaseFlow):
            @step
            def train(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    assert graph_findings(source) == []


BASE_FILE = '''
    from metaflow import FlowSpec, Parameter, step


    class TrainingBase(FlowSpec):
        """Loads and trains; the flows that extend it choose how to collect and report."""

        learning_rate = Parameter("learning_rate", default=0.01)

        @step
        def start(self):
            self.folds = [1, 2, 3]
            self.next(self.train, foreach="folds")

        @step
        def train(self):
            self.score = self.learning_rate * self.input
            self.next(self.collect)
'''
FLOW_FILE = '''
    from metaflow import step

    from base import TrainingBase


    class TrainingFlow(TrainingBase):
        @step
        def collect(self, inputs):
            self.best = max(i.score for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass


    if __name__ == "__main__":
        TrainingFlow()
'''
WHOLE_FLOW_CODES = ("MF002", "MF003", "MF005", "MF006", "MF011", "MF012", "MF013", "MF014", "MF112", "MF204", "MF207")


def project_findings(path: Path, project: Project | None, source: str | None = None):
    text = path.read_text(encoding="utf-8") if source is None else source
    return check_source(text, path, Settings(), project).findings


def test_base_class_in_one_file_and_the_flow_that_runs_it_in_another(write, tmp_path: Path):
    """The partial graph of a base class is no flow of its own: no whole-flow rule (graph or guide) fires on it,
    and the flow that completes and runs it is judged whole, here clean of MF0xx."""
    base = write("flows/base.py", BASE_FILE)
    flow = write("flows/train.py", FLOW_FILE)
    project = Project(tmp_path)
    assert not {f.code for f in project_findings(base, project)} & set(WHOLE_FLOW_CODES)
    assert not [f for f in project_findings(flow, project) if f.code.startswith("MF0")]
    # The same class run by its own file is a flow, with the problems Metaflow would report.
    ran = textwrap.dedent(BASE_FILE) + '\n\nif __name__ == "__main__":\n    TrainingBase()\n'
    assert codes(f for f in project_findings(base, project, ran) if f.code in GRAPH_CODES) == ["MF003", "MF011"]


REPORT_BASE = '''
    from metaflow import FlowSpec, Parameter, step


    class ReportingFlow(FlowSpec):
        rows = Parameter("rows", default=100)

        @step
        def start(self):
            self.next(self.score)

        @step
        def score(self):
            self.total = self.rows * 2
            self.next(self.end)

        @step
        def publish(self):
            self.next(self.end)

        @step
        def end(self):
            pass
'''
WEEKLY_FLOW = '''
    from metaflow import step

    from report import ReportingFlow as Base


    class WeeklyReportFlow(Base):
        @step
        def score(self):
            self.next(self.publish)


    if __name__ == "__main__":
        WeeklyReportFlow()
'''


def test_closed_base_class_is_known_by_the_project_index(write, tmp_path: Path):
    """A base whose own graph looks complete (with a step only its subclasses wire in) is a base because a flow file
    of the project extends it: without that file it is judged as a flow."""
    base = write("flows/report.py", REPORT_BASE)
    project = Project(tmp_path)
    assert codes(f for f in project_findings(base, project) if f.code in WHOLE_FLOW_CODES) == [
        "MF013", "MF112", "MF204", "MF207"]
    write("flows/weekly.py", WEEKLY_FLOW)
    project.forget_files()  # what the server does on a watched-file event
    assert [f for f in project_findings(base, project) if f.code in WHOLE_FLOW_CODES] == []


def test_whole_flow_runtime_rules_stay_silent_on_a_template_base(write, tmp_path: Path):
    """A closed graph whose `start` its subclasses override to set the foreach list: MF110 (and the other MF1xx
    rules that need the whole flow) would be a false alarm on the base."""
    base = write("template.py", '''
        from metaflow import FlowSpec, step


        class SweepTemplateFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.sweep)

            @step
            def sweep(self):
                self.next(self.trial, foreach="grid")

            @step
            def trial(self):
                self.result = self.input * 2
                self.next(self.collect)

            @step
            def collect(self, inputs):
                self.best = max(i.result for i in inputs)
                self.next(self.end)

            @step
            def end(self):
                pass
    ''')
    project = Project(tmp_path)
    assert "MF110" in codes(project_findings(base, project))  # nothing extends it yet: judged as a flow
    write("grid.py", '''
        from metaflow import step

        from template import SweepTemplateFlow


        class GridFlow(SweepTemplateFlow):
            @step
            def start(self):
                self.grid = [1, 2, 3]
                self.next(self.sweep)


        if __name__ == "__main__":
            GridFlow()
    ''')
    project.forget_files()
    assert not [f for f in project_findings(base, project) if f.code.startswith(("MF0", "MF1"))]
    assert not [f for f in project_findings(tmp_path / "grid.py", project) if f.code.startswith(("MF0", "MF1"))]


async def test_editor_drops_base_class_findings_when_a_flow_file_extends_it(tmp_path: Path):
    """In the editor (the real server, a pull client): the open base file's MF013 goes away as soon as a flow file
    that extends the class appears on disk (a watched-file event), and comes back when that file is deleted."""
    base = write_file(tmp_path, "report.py", REPORT_BASE)
    async with session(tmp_path) as client:
        uri = open_document(client, base)
        assert "MF013" in lsp_codes((await pull(client, uri)).items)
        weekly = write_file(tmp_path, "weekly.py", WEEKLY_FLOW)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=weekly.as_uri(), type=types.FileChangeType.Created)]))
        assert "MF013" not in lsp_codes((await pull(client, uri)).items)
        weekly.unlink()
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=weekly.as_uri(), type=types.FileChangeType.Deleted)]))
        assert "MF013" in lsp_codes((await pull(client, uri)).items)


def test_subclass_index_names_imported_bases_once_per_file_change(write, tmp_path: Path, monkeypatch):
    write("a_flow.py", '''
        import common
        from metaflow import step
        from shared import TrainingBase as Base, Mixin


        class LocalBase(Base):
            pass


        class AFlow(LocalBase, Mixin, common.ReportingFlow):
            @step
            def start(self):
                self.next(self.end)


        if __name__ == "__main__":
            AFlow()
    ''')
    write("notes.py", "class Note(Draft):\n    pass\n")  # no flow: not a flow file
    project = Project(tmp_path)
    import metaflow_lsp.project as project_module

    parsed = []
    real = project_module.parse_module
    monkeypatch.setattr(project_module, "parse_module", lambda *a, **k: parsed.append(a[1]) or real(*a, **k))
    assert project.flow_base_names() == {"TrainingBase", "Mixin", "ReportingFlow"}  # aliases undone, LocalBase not
    project.flow_functions()
    assert project.flow_base_names(exclude=tmp_path / "a_flow.py") == frozenset()
    assert sorted(p.name for p in parsed) == ["a_flow.py", "notes.py"]  # one index, each file parsed once


def metaflow(directory: Path, script: str, command: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, METAFLOW_USER="tester", USERNAME="tester", HOME=str(directory))
    env.pop("METAFLOW_PROFILE", None)
    return subprocess.run([sys.executable, script, "--no-pylint", command], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_real_metaflow_runs_the_flow_that_extends_a_partial_base(write, tmp_path: Path):
    """What the rules assume, with real runs: the flow that completes a base class in another file passes `check`
    and runs; the base file alone runs nothing; the same base run as a flow of its own is refused."""
    base = write("base.py", BASE_FILE)
    write("train.py", FLOW_FILE)
    result = metaflow(tmp_path, "train.py", "run")
    assert result.returncode == 0 and "Done!" in result.stderr + result.stdout, result.stderr
    result = metaflow(tmp_path, "base.py", "check")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    write("run_base.py", '''
        from base import TrainingBase

        if __name__ == "__main__":
            TrainingBase()
    ''')
    result = metaflow(tmp_path, "run_base.py", "check")
    assert result.returncode == 1 and "exactly one end step" in result.stderr
    # Our verdicts on the same files: nothing on the base, nothing on the flow that runs it.
    project = Project(tmp_path)
    assert not [f for f in project_findings(base, project) if f.code in WHOLE_FLOW_CODES]
    assert not [f for f in project_findings(tmp_path / "train.py", project) if f.code.startswith("MF0")]


def test_flow_run_by_main_is_judged_even_without_start():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def begin(self):
                self.next(self.finish)

            @step
            def finish(self):
                pass
    ''') + MAIN
    assert codes(graph_findings(source)) == ["MF002", "MF003", "MF009"]
    library = source.replace(MAIN, "\n")
    # Nothing runs it and its graph is open: a base class of steps for flows elsewhere, whose subclasses may
    # override `finish`; the per-step checks that do not depend on the rest of the graph still run.
    assert codes(graph_findings(library)) == []
    assert codes(graph_findings(library.replace("def finish", "def Finish"))) == ["MF007"]


def test_step_start_annotation_without_start_name():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step(start=True)
            def load(self):
                self.next(self.train)

            @step
            def train(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    assert graph_findings(source) == []


def test_one_step_flow_is_valid():
    source = PREAMBLE + "class TrainFlow(FlowSpec):\n    @step\n    def only(self):\n        pass\n" + MAIN
    assert graph_findings(source) == []


def test_noqa_silences_a_graph_rule():
    source = PREAMBLE + textwrap.dedent('''
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def orphan(self):  # noqa: MF013
                self.next(self.end)

            @step
            def end(self):
                pass
    ''') + MAIN
    assert graph_findings(source) == []


# ---- random graphs against Metaflow -------------------------------------------------------------------------------


def random_flow(rng: random.Random) -> str:
    count = rng.randint(1, 7)
    names = ["start"] + [f"s{i}" for i in range(1, count - 1)] + (["end"] if count > 1 else [])
    if rng.random() < 0.1:
        names[0] = "begin"
    lines = ["class TrainFlow(FlowSpec):"]
    for index, name in enumerate(names):
        later = names[index + 1:] or names
        pool = later if rng.random() < 0.85 else names + ["ghost"]
        args = "self, inputs" if rng.random() < 0.25 else "self"
        decorators = ["    @step(start=True)" if name == "begin" else "    @step"]
        if rng.random() < 0.08:
            decorators.insert(0, "    @parallel")
        shape = rng.random()
        targets = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
        if name == "end" and rng.random() < 0.85:
            tail = "pass"
        elif shape < 0.45:
            tail = f"self.next(self.{targets[0]})"
        elif shape < 0.65:
            tail = "self.next(" + ", ".join(f"self.{t}" for t in targets) + ")"
        elif shape < 0.8:
            tail = f"self.next(self.{targets[0]}, foreach='items')"
        elif shape < 0.85:
            tail = f"self.next(self.{targets[0]}, num_parallel=2)"
        elif shape < 0.95:
            cases = targets + ([name] if rng.random() < 0.3 else [])
            tail = "self.next({" + ", ".join(f"'k{i}': self.{t}" for i, t in enumerate(cases)) + "}, condition='c')"
        else:
            tail = "pass"
        lines += decorators + [f"    def {name}({args}):", f"        {tail}", ""]
    return PREAMBLE + "\n".join(lines) + MAIN


@pytest.mark.parametrize("seed", range(300))
def test_random_graphs_agree_with_metaflow(seed: int):
    rng = random.Random(seed)
    source = random_flow(rng)
    module = parse_module(source, Path(f"/virtual/random_{seed}.py"))
    assert_agrees(module)
