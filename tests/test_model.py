"""The static model (builder.py, model.py) and the step graph (graph.py) on the awkward shapes of real flows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.builder import classify_next, file_resolver, parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_module
from metaflow_lsp.graph import FlowGraph
from metaflow_lsp.model import UNKNOWN, FlowClass, Module
from metaflow_lsp.rules.facts import is_parallel_step
from metaflow_lsp.text import LineIndex, Span


def parse(source: str, path: Path | None = None, resolver=None) -> Module:
    module = parse_module(textwrap.dedent(source).lstrip("\n"), path, resolver)
    assert module.syntax_error is None, module.syntax_error
    return module


def only_flow(source: str, **kwargs) -> FlowClass:
    (flow,) = parse(source, **kwargs).flows
    return flow


def text_at(module: Module, span: Span) -> str:
    """The source text a single-line span covers (byte columns)."""
    assert span.line == span.end_line
    return module.source.splitlines()[span.line].encode()[span.col:span.end_col].decode()


SIMPLE = """
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
"""


# ---- module level -------------------------------------------------------------------------------------------------


def test_module_contents():
    module = parse("""
        import numpy as np
        import os.path
        from metaflow import FlowSpec, step
        from . import sibling
        from ..common import Base as B

        LIMIT = 3
        a, (b, c) = 1, (2, 3)


        def helper():
            pass


        class NotAFlow:
            pass


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            TrainFlow()
            helper()
    """)
    imports = {i.bound_name: (i.module, i.name, i.level) for i in module.imports}
    assert imports["np"] == ("numpy", None, 0)
    assert imports["os"] == ("os.path", None, 0)
    assert imports["FlowSpec"] == ("metaflow", "FlowSpec", 0)
    assert imports["sibling"] == ("", "sibling", 1)
    assert imports["B"] == ("common", "Base", 2)
    assert module.imported("np").span.line == 0
    assert list(module.functions) == ["helper"]
    assert list(module.classes) == ["NotAFlow", "TrainFlow"]
    assert set(module.constants) == {"LIMIT", "a", "b", "c"}
    assert [f.name for f in module.flows] == ["TrainFlow"]
    assert module.main_guard is not None and module.main_calls == {"TrainFlow", "helper"}


def test_main_guard_written_backwards():
    module = parse(SIMPLE.replace('__name__ == "__main__"', '"__main__" == __name__'))
    assert module.main_guard is not None and "TrainFlow" in module.main_calls


@pytest.mark.parametrize("source", [
    "def start(self)\n    pass\n",  # missing colon
    "x = 1\x00\n",  # NUL byte
    "(" * 300 + ")" * 300 + "\n",  # nesting the parser refuses
    "x = " + "+".join(["1"] * 100_000) + "\n",  # parses, but too deep to walk
    "def f():\n" + "".join("    " * (i + 1) + "if x:\n" for i in range(120)) + "    " * 121 + "pass\n",
    "a = 1 \\ \nb = 2\n",  # backslash followed by a space (seen in the wild)
    "class F(FlowSpec):\n    @step\n    def start(self):\n        self.next(self.end\n",
])
def test_broken_source_sets_syntax_error_and_never_raises(source: str):
    for text in (source, "from metaflow import step\n" + source):
        module = parse_module(text)
        assert module.syntax_error is not None
        assert module.tree is None and module.flows == [] and not module.ok
    (finding,) = check_module(module, Settings())  # NUL bytes give no line number: the engine copes
    assert finding.code == "MF000" and finding.span.line >= 0


def test_a_file_that_cannot_hold_a_flow_has_no_findings_not_even_a_syntax_error():
    """Not a flow: its syntax is the Python tools' business (and the CLI does not even parse it)."""
    assert check_module(parse_module("def start(self)\n    pass\n"), Settings()) == []
    assert [f.code for f in check_module(parse_module("# a metaflow helper\ndef start(self)\n"), Settings())] == \
        ["MF000"]


# ---- flows, steps, decorators -------------------------------------------------------------------------------------


def test_step_start_annotation_and_decorators_with_arguments():
    flow = only_flow("""
        import metaflow
        from metaflow import FlowSpec, step, retry, resources, parallel


        @metaflow.project(name="demo")
        class TrainFlow(FlowSpec):
            @retry(times=2)
            @resources(memory=MEMORY, cpu=4)
            @metaflow.batch
            @step(start=True)
            def load(self):
                self.next(self.train, num_parallel=2)

            @parallel
            @step
            def train(self):
                self.next(self.finish)

            @step(end=True)
            def finish(self, inputs):
                pass

            def helper(self):
                pass
    """)
    assert list(flow.steps) == ["load", "train", "finish"]
    assert flow.methods == {"helper"}
    load = flow.steps["load"]
    assert load.is_start and not load.is_end and flow.steps["finish"].is_end
    assert [d.name for d in load.decorators] == ["retry", "resources", "batch", "step"]
    assert load.step_decorator_index == 3
    retry, resources, batch, step = load.decorators
    assert retry.kwarg("times") == 2 and retry.called
    assert resources.kwarg("memory") is UNKNOWN and resources.kwarg("cpu") == 4 and resources.kwarg("gpu", 0) == 0
    assert batch.qualified == "metaflow.batch" and not batch.called
    assert flow.decorator("project").kwarg("name") == "demo"
    assert flow.steps["finish"].is_join and flow.steps["finish"].num_args == 2
    graph = FlowGraph(flow)
    assert (graph.start_step, graph.end_step) == ("load", "finish")
    assert graph["load"].parallel_foreach and not graph["train"].parallel_foreach


@pytest.mark.parametrize("imports, decorators, expected", [
    ("from metaflow import parallel", ["@parallel"], True),
    ("import metaflow", ["@metaflow.parallel"], True),
    ("import metaflow as mf", ["@mf.torchrun"], True),
    ("from metaflow import metaflow_ray as ray", ["@ray(all_nodes_started_timeout=60)"], True),
    ("from metaflow import deepspeed, mpi, retry", ["@retry", "@deepspeed", "@mpi"], True),
    ("from metaflow import *", ["@pytorch_parallel"], True),
    ("from metaflow import retry, resources, kubernetes", ["@retry", "@resources(cpu=2)", "@kubernetes"], False),
    ("from metaflow import step", [], False),
    ("from metaflow import retry\nfrom company import gang", ["@retry", "@gang"], None),  # another package's
    ("import company_ext as ext", ["@ext.distributed"], None),
    ("from metaflow import checkpoint", ["@checkpoint"], None),  # an extension's, not a plain core decorator
    ("from other import parallel", ["@parallel"], None),  # not Metaflow's @parallel
    ("", ["@parallel"], None),  # not imported at all
])
def test_parallel_step_is_decided_by_the_decorators(imports: str, decorators: list[str], expected):
    lines = [imports, "from metaflow import FlowSpec, step", "", "", "class F(FlowSpec):"]
    lines += [f"    {d}" for d in decorators] + ["    @step", "    def start(self):", "        pass"]
    module = parse("\n".join(lines) + "\n")
    assert is_parallel_step(module.flows[0].steps["start"], module) is expected
    assert is_parallel_step(module.flows[0].steps["start"], None) is None  # the defining file was not read


def test_positions_are_byte_columns_on_the_def_name_and_next_call():
    module = parse("""
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):  # données ✓
            @step
            async def start(self):
                é = "ü"; self.next(self.end)

            @step
            def end(self):
                pass
    """)
    flow = module.flows[0]
    assert flow.span == Span(3, 6, 3, 15)
    start = flow.steps["start"]
    assert text_at(module, start.span) == "start" and start.span.col == len("    async def ")
    tail = start.tail
    line = module.source.splitlines()[tail.span.line]
    assert tail.span.col == len('        é = "ü"; '.encode()) == 19
    assert text_at(module, tail.span) == "self.next(self.end)"
    ((name, target_span),) = tail.targets
    assert name == "end" and text_at(module, target_span) == "self.end"
    index = LineIndex(module.source)
    assert index.utf16_col(tail.span.line, tail.span.col) == 17 == len(line[: line.index("self")])


def test_astral_characters_count_two_utf16_units():
    module = parse("""
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                s = "🚀"; self.next(self.end)

            @step
            def end(self):
                pass
    """)
    tail = module.flows[0].steps["start"].tail
    index = LineIndex(module.source)
    assert tail.span.col == len('        s = "🚀"; '.encode()) == 20
    assert index.utf16_col(tail.span.line, tail.span.col) == 18  # the rocket is two UTF-16 code units
    assert index.char_col(tail.span.line, tail.span.col) == 17


# ---- bases and mixins ---------------------------------------------------------------------------------------------


def test_same_file_mixin_and_base_are_followed():
    module = parse("""
        from metaflow import FlowSpec, Parameter, step


        class LoadMixin:
            source = Parameter("source", default="s3")

            @step
            def start(self):
                self.next(self.train)


        class Base(FlowSpec):
            @step
            def end(self):
                pass


        class TrainFlow(LoadMixin, Base):
            @step
            def train(self):
                self.next(self.end)
    """)
    flows = {f.name: f for f in module.flows}
    assert set(flows) == {"Base", "TrainFlow"}  # the mixin alone is not a flow
    flow = flows["TrainFlow"]
    assert flow.complete and list(flow.steps) == ["end", "start", "train"]
    assert {n: s.owner for n, s in flow.steps.items()} == {"end": "Base", "start": "LoadMixin", "train": "TrainFlow"}
    assert [s.name for s in flow.own_steps] == ["train"]
    assert flow.parameters["source"].owner == "LoadMixin"
    assert FlowGraph(flow).start_step == "start"


def test_own_step_overrides_inherited():
    flow = parse("""
        from metaflow import FlowSpec, step


        class Base(FlowSpec):
            @step
            def start(self):
                self.next(self.end)


        class TrainFlow(Base):
            @step
            def start(self):
                self.next(self.train)
    """).flows[1]
    assert flow.steps["start"].owner == "TrainFlow"
    assert flow.steps["start"].tail.target_names == ["train"]


def test_sibling_file_bases_resolved_through_file_resolver(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "common.py").write_text(textwrap.dedent("""
        from metaflow import FlowSpec, Parameter, step


        class Base(FlowSpec):
            alpha = Parameter("alpha", default=1)

            @step
            def start(self):
                self.next(self.train)


        class EvalMixin:
            @step
            def evaluate(self):
                self.next(self.end)
    """))
    flow_path = tmp_path / "pkg" / "flow.py"
    flow_path.write_text(textwrap.dedent("""
        import common
        import common as c
        from metaflow import step
        from common import Base
        from .common import EvalMixin


        class A(Base, EvalMixin):
            @step
            def train(self):
                self.next(self.evaluate)

            @step
            def end(self):
                pass


        class B(common.Base):
            @step
            def train(self):
                self.next(self.end)


        class C(c.Base):
            pass
    """))
    module = parse_module(flow_path.read_text(), flow_path, file_resolver())
    flows = {f.name: f for f in module.flows}
    a = flows["A"]
    assert a.complete and set(a.steps) == {"start", "evaluate", "train", "end"}
    assert a.steps["start"].path == tmp_path / "pkg" / "common.py" and a.steps["start"].owner == "Base"
    assert "alpha" in a.parameters
    assert flows["B"].complete and "start" in flows["B"].steps
    assert flows["C"].complete and "start" in flows["C"].steps


def test_unresolvable_base_makes_flow_incomplete():
    module = parse("""
        from metaflow import step
        from company_flows import ProjectFlow
        import vendor


        class TrainFlow(ProjectFlow):
            @step
            def train(self):
                self.next(self.end)


        class Other(vendor.Base):
            pass


        class Computed(make_base()):
            @step
            def start(self):
                pass
    """)
    flows = {f.name: f for f in module.flows}
    assert not flows["TrainFlow"].complete and flows["TrainFlow"].unresolved_bases == ["ProjectFlow"]
    assert "Other" not in flows  # an unknown base and nothing flow-like: not judged
    assert not flows["Computed"].complete and flows["Computed"].unresolved_bases == ["<expression>"]


def test_base_cycle_in_file_does_not_hang():
    module = parse("""
        from metaflow import FlowSpec, step


        class A(B):
            pass


        class B(A, FlowSpec):
            @step
            def start(self):
                pass
    """)
    assert {f.name for f in module.flows} >= {"B"}


# ---- parameters ---------------------------------------------------------------------------------------------------


def test_parameters_configs_and_include_files():
    flow = only_flow("""
        import metaflow
        from metaflow import Config, FlowSpec, IncludeFile, Parameter, step


        class TrainFlow(FlowSpec):
            test_mode_param = Parameter("test_mode", type=bool, default=False)
            rate: float = Parameter(name="learning-rate", default=0.1)
            settings = Config("settings", default="settings.json")
            data = IncludeFile("data_file", is_text=True)
            computed = Parameter(NAME)
            qualified = metaflow.Parameter("q")
            plain = 3

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    params = flow.parameters
    assert params["test_mode_param"].option == "test_mode"
    assert params["test_mode_param"].cli_option == "--test_mode"
    assert params["test_mode_param"].kwarg("type") is UNKNOWN  # a name, not a literal
    assert params["test_mode_param"].kwarg("default") is False and params["test_mode_param"].has_kwarg("type")
    assert params["rate"].option == "learning-rate"
    assert (params["settings"].kind, params["data"].kind) == ("Config", "IncludeFile")
    assert params["computed"].option is UNKNOWN and params["computed"].cli_option is None
    assert params["qualified"].option == "q"
    assert "plain" in flow.class_attributes and "plain" not in params
    assert not flow.is_artifact("test_mode_param") and flow.is_artifact("model")


# ---- transitions --------------------------------------------------------------------------------------------------


def next_call(text: str):
    import ast

    return ast.parse(text).body[0].value


@pytest.mark.parametrize("text, kind, targets", [
    ("self.next(self.a)", "linear", ["a"]),
    ("self.next(self.a, self.b)", "split", ["a", "b"]),
    ("self.next(self.a, foreach='items')", "foreach", ["a"]),
    ("self.next(self.a, num_parallel=4)", "parallel", ["a"]),
    ("self.next({'x': self.a, 2: self.b}, condition='mode')", "switch", ["a", "b"]),
    ("self.next({self.config.fast: self.a, 'slow': self.b}, condition='mode')", "switch", ["a", "b"]),
    ("self.next({key: self.a}, condition='mode')", "invalid", []),
    ("self.next({'x': self.a}, condition=mode)", "invalid", []),
    ("self.next({'x': self.a, 'y': self.b}, condition='')", "invalid", []),
    ("self.next({None: self.a, 'y': self.b}, condition='c')", "invalid", []),
    ("self.next(self.a, self.b, foreach='items')", "invalid", ["a", "b"]),
    ("self.next(self.a, retries=2)", "invalid", ["a"]),
    ("self.next('a')", "invalid", []),
    ("self.next()", "invalid", []),
])
def test_classify_next(text: str, kind: str, targets: list[str]):
    transition = classify_next(next_call(text))
    assert (transition.kind, transition.target_names) == (kind, targets)


def test_transition_details_and_conditional_calls():
    flow = only_flow("""
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.items = [1, 2]
                if self.small:
                    self.next(self.end)
                    return
                self.next(self.each, foreach="items")

            @step
            def each(self):
                self.mode = "a"
                self.next({"a": self.join, "b": self.each}, condition="mode")

            @step
            def join(self, inputs):
                self.next(self.end)
                print("after the transition")

            @step
            def end(self):
                pass
    """)
    start = flow.steps["start"]
    early, tail = start.transitions
    assert early.conditional and early.target_names == ["end"]
    assert not tail.conditional and tail is start.tail and start.has_tail_next
    assert tail.foreach == "items"
    switch = flow.steps["each"].tail
    assert switch.kind == "switch" and switch.condition == "mode" and switch.switch_cases == {"a": "join", "b": "each"}
    join = flow.steps["join"]
    assert len(join.transitions) == 1 and join.tail is None and not join.has_tail_next
    assert flow.steps["end"].transitions == []


# ---- artifacts ----------------------------------------------------------------------------------------------------


def test_self_accesses():
    flow = only_flow("""
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.count = 0
                self.count += 1
                self.a, (self.b, self.c) = 1, (2, 3)
                if self.enabled:
                    self.flag = True
                for self.i in range(2):
                    pass
                del self.c
                self.helper()
                print(self.input, self.model.score)
                self.next(self.end)

            @step
            def end(self):
                pass

            def helper(self):
                pass
    """)
    start = flow.steps["start"]
    accesses = [(a.name, a.kind, a.conditional, a.called) for a in start.accesses]
    assert accesses[:3] == [("count", "write", False, False), ("count", "read", False, False),
                            ("count", "write", False, False)]
    assert ("a", "write", False, False) in accesses and ("b", "write", False, False) in accesses
    assert ("enabled", "read", False, False) in accesses  # the if's test always runs
    assert ("flag", "write", True, False) in accesses  # its body may not
    assert ("c", "delete", False, False) in accesses
    assert ("helper", "read", False, True) in accesses
    assert all(a.name != "end" for a in start.accesses)  # `self.end` in self.next names a step
    writes = {a.name for a in flow.artifact_writes(start)}
    assert writes == {"count", "a", "b", "c", "flag", "i"}
    reads = {a.name for a in flow.artifact_reads(start)}
    assert reads == {"count", "enabled", "model"}  # not input (Metaflow's), not helper (a method)
    write = next(a for a in start.accesses if a.name == "flag")
    assert write.span == Span(10, 12, 10, 21)


# ---- graph --------------------------------------------------------------------------------------------------------


def test_graph_matches_metaflow_structure():
    flow = only_flow("""
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.a, self.b)

            @step
            def a(self):
                self.xs = [1]
                self.next(self.each, foreach="xs")

            @step
            def each(self):
                self.next(self.join_each)

            @step
            def join_each(self, inputs):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
    """)
    graph = FlowGraph(flow)
    types = {node.name: node.type for node in graph}
    assert types == {"start": "split", "a": "foreach", "each": "linear", "join_each": "join", "b": "linear",
                     "join": "join", "end": "end"}
    assert graph["join"].in_funcs == ["b", "join_each"]
    assert graph["start"].matching_join == "join" and graph["a"].matching_join == "join_each"
    assert graph["each"].split_parents == ["start", "a"] and graph["each"].split_branches == ["a", "each"]
    assert graph["each"].is_inside_foreach and not graph["join_each"].is_inside_foreach
    assert graph.reachable() == set(graph.nodes)
    assert graph.traversal_complete


def test_graph_one_step_and_broken_graphs_never_raise():
    one = only_flow("""
        from metaflow import FlowSpec, step


        class OneFlow(FlowSpec):
            @step
            def only(self):
                pass
    """)
    graph = FlowGraph(one)
    assert graph.start_step == graph.end_step == "only" and graph["only"].type == "end"
    broken = only_flow("""
        from metaflow import FlowSpec, step


        class BrokenFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.ghost, self.a)

            @step
            def a(self):
                self.next(self.a)

            @step(end=True)
            def b(self):
                self.next(self.start)

            @step(end=True)
            def c(self):
                pass
    """)
    graph = FlowGraph(broken)
    assert graph.start_step == "start" and graph.end_step is None
    assert graph["a"].in_funcs == ["start"] and graph.reachable() == {"start", "a"}


def test_graph_budget_on_chained_diamonds():
    lines = ["from metaflow import FlowSpec, step", "class F(FlowSpec):", "    @step", "    def start(self):",
             "        self.next(self.s0)"]
    for i in range(30):
        after = f"s{i + 1}" if i < 29 else "end"
        lines += ["    @step", f"    def s{i}(self):", f"        self.next(self.a{i}, self.b{i})",
                  "    @step", f"    def a{i}(self):", f"        self.next(self.m{i})",
                  "    @step", f"    def b{i}(self):", f"        self.next(self.m{i})",
                  "    @step", f"    def m{i}(self):", f"        self.next(self.{after})"]
    lines += ["    @step", "    def end(self):", "        pass"]
    graph = FlowGraph(parse("\n".join(lines)).flows[0])
    assert not graph.traversal_complete  # 2**30 paths: gives up instead of hanging
    assert len(graph.reachable()) == len(graph.nodes)
