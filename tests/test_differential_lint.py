"""MF001-MF020 against Metaflow's own lint, check by check.

Metaflow's graph is built from our `ast` (no user code is imported): one `metaflow.graph.DAGNode` per step, a
`FlowGraph` made with `__new__`, then Metaflow's own `_identify_start_end`, `_traverse_graph` and `_postprocess`.
Every check of `metaflow.lint.linter` that is enabled by default then runs on its own (Metaflow's `run_checks` stops
at the first failure). For each check: Metaflow raised LintWarn <=> we report at least one finding of the mapped
code, and the line Metaflow gives is among our findings' lines. A check that crashes inside Metaflow (KeyError,
IndexError, RecursionError on broken graphs) is not compared: that is exactly where we must do better.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import FIXTURES, TUTORIALS
from metaflow import graph as mf_graph
from metaflow import lint as mf_lint
from metaflow_lsp.builder import file_resolver, parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.context import RuleContext
from metaflow_lsp.engine import check_module
from metaflow_lsp.graph import FlowGraph
from metaflow_lsp.model import FlowClass, Module
from metaflow_lsp.rules.facts import PARALLEL_STEP_DECORATORS, is_parallel_step
from metaflow_lsp.rules.graph_checks import cyclic_steps, scopes

# Metaflow's check -> our code(s).
CODES: dict[str, tuple[str, ...]] = {
    "check_reserved_words": ("MF001",),
    "check_basic_steps": ("MF002", "MF003"),
    "check_annotation_name_conflict": ("MF004",),
    "check_start_end_degree": ("MF005",),
    "check_that_end_is_end": ("MF006",),
    "check_step_names": ("MF007",),
    "check_num_args": ("MF008",),
    "check_static_transitions": ("MF009",),
    "check_valid_transitions": ("MF010",),
    "check_unknown_transitions": ("MF011",),
    "check_for_acyclicity": ("MF012",),
    "check_for_orphans": ("MF013",),
    "check_split_join_balance": ("MF014",),
    "check_switch_splits": ("MF015",),
    "check_empty_foreaches": ("MF016",),
    "check_parallel_step_after_next": ("MF017",),
    "check_join_followed_by_parallel_step": ("MF018",),
    "check_parallel_foreach_calls_parallel_step": ("MF019",),
    "check_ambiguous_joins": ("MF020",),
}
GRAPH_CODES = {f"MF{n:03d}" for n in range(1, 21)}


def default_checks() -> list:
    """The checks `linter.run_checks(graph)` runs without extra settings (nested foreach is allowed by default)."""
    linter = mf_lint.linter
    return [check for check in linter._checks if any(getattr(linter, attr) for attr in check.attrs)]


def test_every_default_check_is_mapped():
    names = {check.__name__ for check in default_checks()}
    assert names == set(CODES), f"unmapped Metaflow checks: {names - set(CODES)}; stale: {set(CODES) - names}"


@dataclass
class Outcome:
    raised: bool = False
    line: int | None = None
    message: str = ""
    crashed: str | None = None


@dataclass
class Comparison:
    flow: str
    flow_class: FlowClass | None = None
    metaflow: dict[str, Outcome] = field(default_factory=dict)
    ours: dict[str, list] = field(default_factory=dict)  # code -> findings
    skipped: dict[str, str] = field(default_factory=dict)  # check -> why it is not compared


class _Deco:
    """What Metaflow's graph reads of a decorator: its name and its class's IS_PARALLEL flag (as the packages set it,
    see `facts.PARALLEL_STEP_DECORATORS`)."""

    def __init__(self, name: str):
        self.name = name
        self.IS_PARALLEL = name in PARALLEL_STEP_DECORATORS


def metaflow_graph(flow: FlowClass) -> tuple[object | None, str | None]:
    """Metaflow's FlowGraph for our flow, built from the ast; (None, why) when Metaflow's own construction raises."""
    nodes = {}
    for name in sorted(flow.steps):  # Metaflow finds steps with dir(): alphabetical
        step = flow.steps[name]
        decos = [_Deco(d.name) for d in step.decorators if d.name != "step"]
        nodes[name] = mf_graph.DAGNode(step.node, decos, [], [], ast.get_docstring(step.node), str(step.path), 1,
                                       is_start_step=step.is_start, is_end_step=step.is_end, name=name)
    graph = mf_graph.FlowGraph.__new__(mf_graph.FlowGraph)
    graph.nodes, graph.name, graph.doc, graph.sorted_nodes = nodes, flow.name, "", []
    for stage in ("_identify_start_end", "_traverse_graph", "_postprocess"):
        try:
            getattr(graph, stage)()
        except Exception as error:  # Metaflow's own traversal can fail on a broken graph
            return None, f"{stage} raised {type(error).__name__}: {error}"
    return graph, None


def run_metaflow(graph) -> dict[str, Outcome]:
    outcomes = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # Metaflow's balance check recurses forever on a loop
    try:
        for check in default_checks():
            outcome = Outcome()
            try:
                check(graph)
            except mf_lint.LintWarn as warning:
                outcome.raised, outcome.line, outcome.message = True, warning.line_no or None, str(warning.message)
            except Exception as error:  # KeyError / IndexError / RecursionError inside Metaflow
                outcome.crashed = f"{type(error).__name__}: {error}"
            outcomes[check.__name__] = outcome
    finally:
        sys.setrecursionlimit(limit)
    return outcomes


PARALLEL_CHECKS = ("check_parallel_step_after_next", "check_join_followed_by_parallel_step",
                   "check_parallel_foreach_calls_parallel_step")


def finding_lines(finding, flow: FlowClass | None = None) -> set[int]:
    lines = {finding.span.line + 1}
    data = finding.data or {}
    if data.get("next_line"):
        lines.add(data["next_line"])  # MF011 sits on the `self.x` argument, Metaflow on the self.next line
    step = data.get("step")
    if flow is not None and finding.code == "MF017" and step in flow.steps:
        lines.add(flow.steps[step].node.lineno)  # MF017 sits on `num_parallel=`, Metaflow on the step's def
    return lines


def compare_module(module: Module) -> list[Comparison]:
    """One Comparison per flow that both sides judge as a whole (complete, runnable, all steps in this file)."""
    assert module.syntax_error is None, module.syntax_error
    context = RuleContext(module, Settings())
    comparisons = []
    for flow_index, scope in enumerate(scopes(context)):
        flow = scope.flow
        if not scope.whole or any(step.path != module.path for step in flow.steps.values()):
            continue
        # Our findings for this flow alone: a module with one flow.
        single = Module(module.path, module.source, module.tree, imports=module.imports, functions=module.functions,
                        classes=module.classes, constants=module.constants, flows=[flow],
                        main_guard=module.main_guard, main_calls=module.main_calls)
        ours: dict[str, list] = {}
        for finding in check_module(single, Settings(select=tuple(sorted(GRAPH_CODES)))):
            ours.setdefault(finding.code, []).append(finding)
        comparison = Comparison(flow.name, flow_class=flow, ours=ours)
        graph, why = metaflow_graph(flow)
        if graph is None:
            comparison.skipped = {name: why for name in CODES}
        else:
            comparison.metaflow = run_metaflow(graph)
            if cyclic_steps(FlowGraph(flow)):
                # On a loop Metaflow's balance check recurses forever or stops at an arbitrary point of the loop;
                # we report the loop (MF012) and stay silent on balance.
                comparison.skipped["check_split_join_balance"] = "the graph has a loop"
            if any(is_parallel_step(step, module) is None for step in flow.steps.values()):
                # A decorator we do not know may be parallel: we stay silent, Metaflow would know its class.
                comparison.skipped.update(dict.fromkeys(PARALLEL_CHECKS, "a step has a decorator we do not know"))
        comparisons.append(comparison)
    return comparisons


def mismatches(comparison: Comparison) -> list[str]:
    problems = []
    for check, codes in CODES.items():
        if check in comparison.skipped:
            continue
        outcome = comparison.metaflow.get(check)
        if outcome is None or outcome.crashed:
            continue
        found = [f for code in codes for f in comparison.ours.get(code, [])]
        if check == "check_basic_steps" and outcome.raised:
            wanted = "MF002" if "start step" in outcome.message or "start=True" in outcome.message else "MF003"
            found = comparison.ours.get(wanted, [])
            codes = (wanted,)
        ours_text = "; ".join(f"line {f.span.line + 1} {f.code}: {f.message}" for f in found) or "nothing"
        if outcome.raised and not found:
            problems.append(f"{check}: Metaflow says line {outcome.line}: {outcome.message!r}; we report nothing "
                            f"for {'/'.join(codes)}")
        elif not outcome.raised and found:
            problems.append(f"{check}: Metaflow passes; we report {ours_text}")
        elif outcome.raised and outcome.line and not any(outcome.line in finding_lines(f, comparison.flow_class)
                                                         for f in found):
            problems.append(f"{check}: Metaflow says line {outcome.line}: {outcome.message!r}; we report {ours_text}")
    return problems


def assert_agrees(module: Module, expect_flows: bool = True) -> list[Comparison]:
    comparisons = compare_module(module)
    if expect_flows:
        assert comparisons, f"no flow of {module.path} could be compared"
    report = []
    for comparison in comparisons:
        for problem in mismatches(comparison):
            report.append(f"{comparison.flow}: {problem}")
    numbered = "\n".join(f"{n:3d}  {line}" for n, line in enumerate(module.source.splitlines(), start=1))
    assert not report, "our graph rules disagree with Metaflow's lint:\n  " + "\n  ".join(report) + "\n" + numbered
    return comparisons


# ---- corpus 1: the MF0xx fixtures -----------------------------------------------------------------------------------

GRAPH_FIXTURES = sorted(p for p in (FIXTURES / "rules").glob("MF0*/*.py") if p.parent.name != "MF000")


@pytest.mark.parametrize("path", GRAPH_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_agrees_with_metaflow(path: Path):
    module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
    # Fixtures of incomplete or library flows have nothing Metaflow could judge; they are still parsed.
    assert_agrees(module, expect_flows=False)


def test_fixtures_exercise_the_comparison():
    compared = raised = 0
    for path in GRAPH_FIXTURES:
        module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
        for comparison in compare_module(module):
            compared += 1
            raised += sum(o.raised for o in comparison.metaflow.values())
    assert compared >= 40 and raised >= 20, (compared, raised)


# ---- corpus 2: broken flows written here -----------------------------------------------------------------------------

HEADER = "from metaflow import FlowSpec, step, parallel\n\n\nclass F(FlowSpec):\n"
FOOTER = "\n\nif __name__ == '__main__':\n    F()\n"


def flow(body: str) -> str:
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + FOOTER


INLINE = {
    "unknown_target": """
        @step
        def start(self):
            self.next(self.trian)
        @step
        def train(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "unknown_target_in_orphan": """
        @step
        def start(self):
            self.next(self.end)
        @step
        def lost(self):
            self.next(self.nowhere)
        @step
        def end(self):
            pass
    """,
    "cycle": """
        @step
        def start(self):
            self.next(self.a)
        @step
        def a(self):
            self.next(self.b)
        @step
        def b(self):
            self.next(self.a)
        @step
        def end(self):
            pass
    """,
    "self_loop_linear": """
        @step
        def start(self):
            self.next(self.a)
        @step
        def a(self):
            self.next(self.a)
        @step
        def end(self):
            pass
    """,
    "switch_loop_through_other": """
        @step
        def start(self):
            self.next(self.a)
        @step
        def a(self):
            self.c = "x"
            self.next({"x": self.b, "y": self.end}, condition="c")
        @step
        def b(self):
            self.next(self.a)
        @step
        def end(self):
            pass
    """,
    "orphans": """
        @step
        def start(self):
            self.next(self.end)
        @step
        def lost(self):
            self.next(self.end)
        @step
        def also_lost(self):
            self.next(self.lost)
        @step
        def end(self):
            pass
    """,
    "missing_join": """
        @step
        def start(self):
            self.next(self.a, self.b)
        @step
        def a(self):
            self.next(self.end)
        @step
        def b(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "cross_join": """
        @step
        def start(self):
            self.next(self.a, self.b)
        @step
        def a(self):
            self.next(self.a1, self.a2)
        @step
        def a1(self):
            self.next(self.j1)
        @step
        def a2(self):
            self.next(self.j2)
        @step
        def b(self):
            self.next(self.j2)
        @step
        def j1(self, inputs):
            self.next(self.j2)
        @step
        def j2(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "join_without_split": """
        @step
        def start(self):
            self.next(self.j)
        @step
        def j(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "switch_into_join": """
        @step
        def start(self):
            self.next(self.a, self.b)
        @step
        def a(self):
            self.c = "x"
            self.next({"x": self.j, "y": self.a2}, condition="c")
        @step
        def a2(self):
            self.next(self.j)
        @step
        def b(self):
            self.next(self.j)
        @step
        def j(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "empty_foreach": """
        @step
        def start(self):
            self.items = [1, 2]
            self.next(self.j, foreach="items")
        @step
        def j(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "parallel_misuse": """
        @step
        def start(self):
            self.next(self.train, num_parallel=2)
        @step
        def train(self):
            self.next(self.after)
        @step
        def after(self):
            self.next(self.gang)
        @parallel
        @step
        def gang(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "parallel_ok": """
        @step
        def start(self):
            self.next(self.train, num_parallel=2)
        @parallel
        @step
        def train(self):
            self.next(self.join)
        @step
        def join(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "end_with_next": """
        @step
        def start(self):
            self.next(self.end)
        @step
        def end(self):
            self.next(self.start)
    """,
    "end_is_join": """
        @step
        def start(self):
            self.next(self.a, self.b)
        @step
        def a(self):
            self.next(self.end)
        @step
        def b(self):
            self.next(self.end)
        @step
        def end(self, inputs):
            pass
    """,
    "join_and_split": """
        @step
        def start(self):
            self.next(self.a, self.b)
        @step
        def a(self):
            self.next(self.j)
        @step
        def b(self):
            self.next(self.j)
        @step
        def j(self, inputs):
            self.next(self.c, self.d)
        @step
        def c(self):
            self.next(self.end)
        @step
        def d(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "missing_self_and_too_many": """
        @step
        def start():
            self.next(self.mid)
        @step
        def mid(self, inputs, extra):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "reserved_and_bad_names": """
        @step
        def start(self):
            self.next(self.input)
        @step
        def input(self):
            self.next(self.Train)
        @step
        def Train(self):
            self.next(self._private)
        @step
        def _private(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "missing_next_and_invalid": """
        @step
        def start(self):
            self.x = 1
        @step
        def a(self):
            self.next(self.b, self.c, foreach="x")
        @step
        def b(self):
            self.next("end")
        @step
        def c(self):
            self.next()
        @step
        def end(self):
            pass
    """,
    "conditional_next_then_tail": """
        @step
        def start(self):
            if self.x:
                self.next(self.a)
                return
            self.next(self.end)
        @step
        def a(self):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "switch_one_case": """
        @step
        def start(self):
            self.c = "x"
            self.next({"x": self.end}, condition="c")
        @step
        def end(self):
            pass
    """,
    "switch_bad_keys": """
        @step
        def start(self):
            key = "x"
            self.next({key: self.end, "y": self.end}, condition="c")
        @step
        def end(self):
            pass
    """,
    "annotations": """
        @step(start=True)
        def begin(self):
            self.next(self.start)
        @step
        def start(self):
            self.next(self.finish)
        @step(end=True)
        def finish(self):
            pass
        @step(end=True)
        def done(self):
            pass
    """,
    "no_start_no_end": """
        @step
        def begin(self):
            self.next(self.finish)
        @step
        def finish(self):
            pass
    """,
    "start_with_incoming": """
        @step
        def start(self):
            self.next(self.a)
        @step
        def a(self):
            self.c = 1
            self.next({"again": self.start, "done": self.end}, condition="c")
        @step
        def end(self):
            pass
    """,
    "foreach_several_targets": """
        @step
        def start(self):
            self.items = [1]
            self.next(self.a, self.b, foreach="items")
        @step
        def a(self):
            self.next(self.j)
        @step
        def b(self):
            self.next(self.j)
        @step
        def j(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
    "one_step": """
        @step
        def start(self):
            pass
    """,
    "nested_foreach": """
        @step
        def start(self):
            self.xs = [1, 2]
            self.next(self.outer, foreach="xs")
        @step
        def outer(self):
            self.ys = [1, 2]
            self.next(self.inner, foreach="ys")
        @step
        def inner(self):
            self.next(self.join_inner)
        @step
        def join_inner(self, inputs):
            self.next(self.join_outer)
        @step
        def join_outer(self, inputs):
            self.next(self.end)
        @step
        def end(self):
            pass
    """,
}


@pytest.mark.parametrize("name", sorted(INLINE))
def test_inline_flow_agrees_with_metaflow(name: str, tmp_path: Path):
    path = tmp_path / f"{name}.py"
    source = flow(INLINE[name])
    path.write_text(source, encoding="utf-8")
    module = parse_module(source, path)
    assert_agrees(module)


def test_inline_flows_find_problems():
    """The broken inline flows do trip Metaflow (so the comparison above is not vacuous)."""
    clean = {"parallel_ok", "one_step", "nested_foreach"}
    for name, body in INLINE.items():
        (comparison,) = compare_module(parse_module(flow(body), Path(f"/virtual/{name}.py")))
        raised = [check for check, outcome in comparison.metaflow.items() if outcome.raised]
        ours = sorted(comparison.ours)
        if name in clean:
            assert not raised and not ours, (name, raised, ours)
        else:
            assert raised or comparison.skipped, name
            assert ours, name


# ---- corpus 3: the tutorials shipped in the Metaflow wheel -----------------------------------------------------------

TUTORIAL_FILES = sorted(TUTORIALS.glob("*/*.py"))


def test_tutorials_are_found():
    assert len(TUTORIAL_FILES) >= 6


@pytest.mark.parametrize("path", TUTORIAL_FILES, ids=lambda p: p.parent.name)
def test_tutorial_agrees_and_is_clean(path: Path):
    module = parse_module(path.read_text(encoding="utf-8"), path)
    comparisons = assert_agrees(module)
    for comparison in comparisons:
        assert not any(o.raised for o in comparison.metaflow.values()), comparison
        assert not comparison.ours, comparison.ours
