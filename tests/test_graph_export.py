"""The graph JSON (`metaflow-lsp graph`, `metaflow.flowGraph`) against Metaflow's own graph, step by step.

Metaflow's nodes are built from our `ast` as the differential lint test builds them (no user code is imported):
one `metaflow.graph.DAGNode` per step, then Metaflow's own `FlowGraph._identify_start_end`, which is all that sets
the node types. The traversal is not needed for what the JSON shows, and it raises on the broken flows the JSON must
still describe. Compared: type, out_funcs, the foreach artifact, switch and the def line, on the rule fixtures, the
broken inline flows of the differential test, Metaflow's tutorials and seeded random graphs.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from conftest import FIXTURES, TUTORIALS
from metaflow import graph as mf_graph
from metaflow_lsp.builder import file_resolver, parse_module
from metaflow_lsp.graph_export import flow_json, graph_json
from metaflow_lsp.model import FlowClass, Module
from test_differential_lint import INLINE, _Deco, flow as inline_flow


def metaflow_nodes(flow: FlowClass) -> dict[str, object]:
    """Metaflow's DAGNodes of our flow, typed by Metaflow's `_identify_start_end`."""
    nodes = {}
    for name in sorted(flow.steps):  # Metaflow finds steps with dir(): alphabetical
        step = flow.steps[name]
        decos = [_Deco(d.name) for d in step.decorators if d.name != "step"]
        nodes[name] = mf_graph.DAGNode(step.node, decos, [], [], ast.get_docstring(step.node), str(step.path), 1,
                                       is_start_step=step.is_start, is_end_step=step.is_end, name=name)
    graph = mf_graph.FlowGraph.__new__(mf_graph.FlowGraph)
    graph.nodes, graph.name, graph.doc, graph.sorted_nodes = nodes, flow.name, "", []
    graph._identify_start_end()
    return nodes


def metaflow_view(node) -> dict:
    """What the JSON says of a step, as Metaflow's node has it."""
    return {"name": node.name, "type": node.type, "line": node.func_lineno, "next": list(node.out_funcs),
            "foreach": node.foreach_param if isinstance(node.foreach_param, str) else None,
            "switch": node.type == "split-switch", "parallel_foreach": node.parallel_foreach,
            "cases": [case if isinstance(case, str) else repr(case) for case in node.switch_cases]
            if node.type == "split-switch" else None}


def our_view(step: dict) -> dict:
    return {key: step[key] for key in ("name", "type", "line", "next", "foreach", "switch", "parallel_foreach", "cases")}


def assert_agrees(module: Module) -> int:
    """Every flow of the module: our steps, in definition order, say what Metaflow's nodes say. Returns how many
    steps were compared."""
    compared = 0
    for flow in module.flows:
        exported = flow_json(flow)
        theirs = metaflow_nodes(flow)
        assert [step["name"] for step in exported["steps"]] == list(flow.steps)
        assert sorted(step["name"] for step in exported["steps"]) == sorted(theirs)
        for step in exported["steps"]:
            assert our_view(step) == metaflow_view(theirs[step["name"]]), (flow.name, module.source)
            compared += 1
        assert exported["missing"] == sorted({t for step in exported["steps"] for t in step["next"]} - set(theirs))
    return compared


GRAPH_FIXTURES = sorted((FIXTURES / "rules").glob("MF*/*.py"))


@pytest.mark.parametrize("path", GRAPH_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_graph_agrees_with_metaflow(path: Path):
    module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
    assert_agrees(module)


def test_fixtures_cover_every_node_type():
    types_seen = set()
    for path in GRAPH_FIXTURES:
        module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
        types_seen |= {step["type"] for flow in module.flows for step in flow_json(flow)["steps"]}
    assert types_seen >= {"start", "linear", "split", "foreach", "split-switch", "join", "end", None}


@pytest.mark.parametrize("name", sorted(INLINE))
def test_broken_inline_flow_graph_agrees_with_metaflow(name: str):
    source = inline_flow(INLINE[name])
    assert assert_agrees(parse_module(source, Path(f"/virtual/{name}.py"))) >= 1


@pytest.mark.parametrize("path", sorted(TUTORIALS.glob("*/*.py")), ids=lambda p: p.parent.name)
def test_tutorial_graph_agrees_with_metaflow(path: Path):
    module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
    assert assert_agrees(module) >= 2


def test_decorators_as_written_without_step():
    source = (
        "import metaflow as mf\nfrom metaflow import FlowSpec, step, retry, catch\n\n\nclass F(FlowSpec):\n"
        "    @mf.kubernetes(cpu=2)\n    @retry(times=2)\n    @step\n    @catch\n    def start(self):\n"
        "        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    [flow] = graph_json(parse_module(source, Path("/virtual/decorated.py")))["flows"]
    assert [step["decorators"] for step in flow["steps"]] == [["mf.kubernetes", "retry", "catch"], []]


# ---- seeded random graphs ------------------------------------------------------------------------------------------

def random_flow(seed: int) -> str:
    """A flow of random steps, each ending in a random transition form (valid or not) to random targets, some of
    which do not exist; random join arguments, decorators and start/end annotations."""
    rng = random.Random(seed)
    names = ["start", "end"] + [f"s{n}" for n in range(rng.randint(0, 7))]
    if rng.random() < 0.15:
        names.remove(rng.choice(["start", "end"]))
    rng.shuffle(names)
    targets = names + ["ghost"]

    def pick(count: int) -> list[str]:
        return [f"self.{rng.choice(targets)}" for _ in range(count)]

    forms = [
        lambda: f"self.next({pick(1)[0]})",
        lambda: f"self.next({', '.join(pick(rng.randint(2, 3)))})",
        lambda: f"self.next({pick(1)[0]}, foreach='items')",
        lambda: f"self.next({', '.join(pick(2))}, foreach='items')",
        lambda: f"self.next({pick(1)[0]}, foreach=name)",
        lambda: f"self.next({pick(1)[0]}, num_parallel=2)",
        lambda: "self.next({%s}, condition='choice')" % ", ".join(
            f"{key!r}: {target}" for key, target in zip(rng.sample(["a", "b", 1, True], 2), pick(2))),
        lambda: "self.next({key: %s}, condition='choice')" % pick(1)[0],
        lambda: f"self.next({pick(1)[0]}, foreach='items', num_parallel=2)",
        lambda: "self.next('end')",
        lambda: "self.next()",
        lambda: "pass",
        lambda: f"if self.x:\n            self.next({pick(1)[0]})\n            return\n        self.next({pick(1)[0]})",
    ]
    lines = ["from metaflow import FlowSpec, step, retry, parallel", "", "", "class RandomFlow(FlowSpec):"]
    for name in names:
        if rng.random() < 0.2:
            lines.append(f"    @{rng.choice(['retry', 'parallel', 'retry(times=2)'])}")
        annotation = rng.choice(["", "", "", "(start=True)", "(end=True)"])
        lines.append(f"    @step{annotation}")
        arguments = rng.choice(["self", "self", "self, inputs"])
        lines.append(f"    def {name}({arguments}):")
        lines.append(f"        {rng.choice(forms)()}")
        lines.append("")
    return "\n".join(lines) + "\n"


def test_random_graphs_agree_with_metaflow():
    types_seen = set()
    for seed in range(300):
        source = random_flow(seed)
        module = parse_module(source, Path(f"/virtual/random_{seed}.py"))
        assert module.syntax_error is None, source
        assert assert_agrees(module) >= 1, source
        types_seen |= {step["type"] for flow in module.flows for step in flow_json(flow)["steps"]}
    assert types_seen == {"start", "linear", "split", "foreach", "split-switch", "join", "end", None}
