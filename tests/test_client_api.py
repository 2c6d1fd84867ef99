"""The Client API reads `client_api.client_reads` finds in a file's syntax tree, and where it stays silent."""

from __future__ import annotations

import ast
import textwrap

from metaflow_lsp.client_api import client_reads


def reads(source: str) -> list[tuple[str, str, str, int]]:
    """(flow, kind, name, line) of each read; each span must hold the name itself."""
    source = textwrap.dedent(source)
    lines = source.split("\n")
    found = client_reads(ast.parse(source))
    assert [lines[r.span.line][r.span.col:r.span.end_col] for r in found] == [r.name for r in found]
    return [(r.flow, r.kind, r.name, r.span.line) for r in found]


def test_every_way_to_reach_a_flows_data():
    assert reads('''
        import metaflow as mf
        from metaflow import Flow, Step, Task

        for run in Flow("A").runs():
            for step in run:
                for task in step:
                    print(task.data.x)
        print(mf.Flow("A").latest_run.end_task.data.y, Task("A/1/s/2").data.z)
        s = Step("A/1/fit")
        print(s.task["w"], [t.data.v for t in s.tasks()])
    ''') == [("A", "artifact", "x", 7), ("A", "artifact", "y", 8), ("A", "step", "s", 8), ("A", "artifact", "z", 8),
             ("A", "step", "fit", 9), ("A", "artifact", "w", 10), ("A", "artifact", "v", 10)]


def test_silent_where_the_flow_or_the_client_object_is_not_certain():
    assert reads('''
        from metaflow import Flow

        def latest(name):
            return Flow(name).latest_run.data.x  # a computed name


        def two(flag):
            run = Flow("A").latest_run
            if flag:
                run = Flow("B").latest_run
            run, other = run, None
            return run.data.x, Flow("A/1").latest_run.data.x, Flow("A", "B").latest_run.data.x


        def shadowed(Flow):
            return Flow("A").latest_run.data.x
    ''') == []
    assert reads('print(Flow("A").latest_run.data.x)') == []  # no import of Metaflow's Flow
