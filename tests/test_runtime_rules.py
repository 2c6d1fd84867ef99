"""MF1xx beyond the fixtures: precise spans and data, the silent cases, and real Metaflow runs proving that what the
rules flag fails at run time and that the corrected flow runs (and is not flagged)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import check_text
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project


def codes(source: str, code: str, path: Path | None = None):
    return [f for f in check_text(source, path, select=(code,)) if f.code == code]


HEADER = "from metaflow import FlowSpec, Parameter, step, retry, catch, timeout\n\n\n"


# --- MF101 ----------------------------------------------------------------------------------------------------------

def test_mf101_span_and_data():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            @step
            @retry(times=2)
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    (finding,) = codes(source, "MF101")
    line = source.splitlines()[finding.span.line]
    assert line[finding.span.col:finding.span.end_col] == "retry(times=2)"
    assert finding.data == {"decorator": "retry", "step": "start", "step_decorator_line": finding.span.line - 1,
                            "decorator_line": finding.span.line}
    assert "above @step" in finding.message


def test_mf101_star_import_counts_but_local_shadow_does_not():
    star = textwrap.dedent("""
        from metaflow import *

        class F(FlowSpec):
            @step
            @retry
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert len(codes(star, "MF101")) == 1
    shadowed = star.replace("from metaflow import *", "from metaflow import *\n\ndef retry(f):\n    return f\n")
    assert codes(shadowed, "MF101") == []


# --- MF103 / MF104 ----------------------------------------------------------------------------------------------------

def test_mf103_data_and_bool_times():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            @retry(times=7)
            @step
            def start(self):
                self.next(self.end)

            @retry(times=True)
            @step
            def end(self):
                pass
        """)
    (finding,) = codes(source, "MF103")
    assert finding.data["times"] == 7


def test_mf104_silent_for_unknown_keys_and_computed():
    source = HEADER + textwrap.dedent("""
        SECS = 0

        class F(FlowSpec):
            @timeout(seconds=SECS)
            @step
            def start(self):
                self.next(self.end)

            @timeout(**{"seconds": 0})
            @step
            def end(self):
                pass
        """)
    assert codes(source, "MF104") == []


# --- MF106 / MF107 ----------------------------------------------------------------------------------------------------

def test_mf106_reserved_name_range_is_the_string():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            p = Parameter("namespace", default="x")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    (finding,) = codes(source, "MF106")
    line = source.splitlines()[finding.span.line]
    assert line[finding.span.col:finding.span.end_col] == '"namespace"'


def test_mf106_mixin_parameter_reported_once():
    source = HEADER + textwrap.dedent("""
        class Base(FlowSpec):
            _p = Parameter("p", default="x")

        class A(Base):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

        class B(Base):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert len(codes(source, "MF106")) == 1


def test_mf107_silent_for_unknown_base_class_attribute():
    source = textwrap.dedent("""
        from metaflow import step
        from elsewhere import ProjectFlow

        class F(ProjectFlow):
            @step
            def start(self):
                self.THRESHOLD = 2   # may be anything in ProjectFlow: not ours to judge
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert codes(source, "MF107") == []


# --- MF108 ----------------------------------------------------------------------------------------------------------

DIAMOND = HEADER + textwrap.dedent("""
    class F(FlowSpec):
        @step
        def start(self):
            self.v = 1
            self.next(self.a, self.b)

        @step
        def a(self):
            self.next(self.join)

        @step
        def b(self):
            self.next(self.join)

        @step
        def join(self, inputs):
            JOIN_BODY
            self.next(self.end)

        @step
        def end(self):
            print(self.v)
    """)


@pytest.mark.parametrize("body, expected", [
    ("pass", 1),
    ("self.v = inputs.a.v", 0),
    ("self.merge_artifacts(inputs)", 0),
    ('self.merge_artifacts(inputs, include=["v"])', 0),
    ('self.merge_artifacts(inputs, include=["w"])', 1),
    ('self.merge_artifacts(inputs, exclude=["v"])', 0),  # excluded names: silent downstream (conservative)
    ("setattr(self, 'v', 1)", 0),
    ("copy_into(self, inputs)", 0),
    ("self.__dict__.update(inputs.a.__dict__)", 0),
])
def test_mf108_what_the_join_provides(body, expected):
    source = DIAMOND.replace("JOIN_BODY", body)
    found = codes(source, "MF108")
    assert len(found) == expected, [f.message for f in found]
    if found:
        assert found[0].data["artifact"] == "v"
        assert "`join`" in found[0].message and "`end`" in found[0].message


def test_mf108_silent_when_a_helper_method_writes_attributes():
    source = DIAMOND.replace("JOIN_BODY", "pass").replace(
        "class F(FlowSpec):\n", "class F(FlowSpec):\n    def _restore(self):\n        self.v = 1\n\n")
    assert codes(source, "MF108") == []


def test_mf108_span_is_the_access():
    source = DIAMOND.replace("JOIN_BODY", "pass")
    (finding,) = codes(source, "MF108")
    line = source.splitlines()[finding.span.line]
    assert line[finding.span.col:finding.span.end_col] == "self.v"


def test_mf108_silent_on_broken_graph():
    source = DIAMOND.replace("JOIN_BODY", "pass").replace("self.next(self.end)", "self.next(self.nowhere)")
    assert codes(source, "MF108") == []


# --- MF109 / MF110 / MF111 ----------------------------------------------------------------------------------------

def test_mf110_write_in_an_earlier_step_on_another_path():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                self.mode = "a"
                self.next({"a": self.a, "b": self.b}, condition="mode")

            @step
            def a(self):
                self.items = [1]
                self.next(self.split)

            @step
            def b(self):
                self.next(self.split)

            @step
            def split(self):
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert codes(source, "MF110") == []


def test_mf111_silent_when_also_assigned_data():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                self.f = lambda v: v
                self.next(self.mid)

            @step
            def mid(self):
                self.f = 3
                self.next(self.end)

            @step
            def end(self):
                print(self.f)
        """)
    assert codes(source, "MF111") == []


def test_mf111_not_before_the_writer():
    source = HEADER + textwrap.dedent("""
        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                self.f = lambda v: v
                print(self.f(1))
        """)
    assert codes(source, "MF111") == []


# --- MF112 ----------------------------------------------------------------------------------------------------------

def test_mf112_module_level_call_and_test_files(tmp_path):
    flow = textwrap.dedent("""
        from metaflow import FlowSpec, step

        class F(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert len(codes(flow, "MF112", tmp_path / "flow.py")) == 1
    assert codes(flow + "\nF()\n", "MF112", tmp_path / "flow.py") == []
    assert codes(flow, "MF112", tmp_path / "test_flow.py") == []
    (finding,) = codes(flow, "MF112", tmp_path / "flow.py")
    assert flow.splitlines()[finding.span.line][finding.span.col:finding.span.end_col] == "F"


# --- Real runs --------------------------------------------------------------------------------------------------------

REAL_CASES = {
    "MF107": (
        """
        from metaflow import FlowSpec, Parameter, step

        class C107Flow(FlowSpec):
            alpha = Parameter("alpha", default=1)

            @step
            def start(self):
                self.alpha = 2
                self.next(self.end)

            @step
            def end(self):
                pass

        if __name__ == "__main__":
            C107Flow()
        """,
        ("self.alpha = 2", "self.alpha_value = 2"),
        "not modifiable",
    ),
    "MF108": (
        """
        from metaflow import FlowSpec, step

        class C108Flow(FlowSpec):
            @step
            def start(self):
                self.v = 42
                self.next(self.a, self.b)

            @step
            def a(self):
                self.next(self.join)

            @step
            def b(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                print("V", self.v)

        if __name__ == "__main__":
            C108Flow()
        """,
        ("def join(self, inputs):\n", "def join(self, inputs):\n        self.merge_artifacts(inputs)\n"),
        "has no attribute 'v'",
    ),
    "MF110": (
        """
        from metaflow import FlowSpec, step

        class C110Flow(FlowSpec):
            @step
            def start(self):
                self.rows = [1, 2]
                self.next(self.body, foreach="items")

            @step
            def body(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass

        if __name__ == "__main__":
            C110Flow()
        """,
        ('foreach="items"', 'foreach="rows"'),
        "does not exist",
    ),
    "MF111": (
        """
        from metaflow import FlowSpec, step

        class C111Flow(FlowSpec):
            @step
            def start(self):
                self.f = lambda v: v + 1
                self.next(self.end)

            @step
            def end(self):
                print("F", self.f(1))

        if __name__ == "__main__":
            C111Flow()
        """,
        ('print("F", self.f(1))', 'print("F", (lambda v: v + 1)(1))'),
        "has no attribute 'f'",
    ),
}


def _run(flow: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, METAFLOW_USER="tester", USERNAME="tester", HOME=str(flow.parent))
    env.pop("METAFLOW_PROFILE", None)
    return subprocess.run([sys.executable, str(flow), "--no-pylint", "run"], cwd=flow.parent, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(REAL_CASES))
def test_real_run_fails_where_the_rule_flags(code, tmp_path):
    source, (bad, good), error = REAL_CASES[code]
    source = textwrap.dedent(source).lstrip()
    assert bad in source

    broken_dir, fixed_dir = tmp_path / "broken", tmp_path / "fixed"
    broken_dir.mkdir()
    fixed_dir.mkdir()
    broken, fixed = broken_dir / "flow.py", fixed_dir / "flow.py"
    broken.write_text(source)
    fixed.write_text(source.replace(bad, good))

    flagged = check_source(source, broken, Settings(select=(code,)), Project(broken_dir)).findings
    assert [f.code for f in flagged] == [code]
    result = _run(broken)
    assert result.returncode != 0, result.stdout + result.stderr
    assert error in result.stdout + result.stderr

    fixed_findings = check_source(fixed.read_text(), fixed, Settings(select=("MF1",)), Project(fixed_dir)).findings
    assert fixed_findings == []
    result = _run(fixed)
    assert result.returncode == 0, result.stdout + result.stderr
