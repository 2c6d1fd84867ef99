"""MF401 across real files in tmp_path (two and three flow files, near-misses, the cached index) and MF402 with base
classes."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from conftest import check_text
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.flow_index import function_fingerprint
from metaflow_lsp.project import Project

FLOW_TEMPLATE = """
from metaflow import FlowSpec, step

{helpers}

class {name}(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

LOAD = '''
def load_data(path):
    """Reads the table."""
    import pandas as pd

    return pd.read_parquet(path)
'''


def flow(name: str, helpers: str = LOAD) -> str:
    return FLOW_TEMPLATE.format(name=name, helpers=textwrap.dedent(helpers))


def mf401(path: Path, project: Project, source: str | None = None):
    text = path.read_text() if source is None else source
    return [f for f in check_source(text, path, Settings(select=("MF401",)), project).findings]


def touch_later(path: Path, content: str) -> None:
    """Writes `content` with a modification time surely different from the previous one."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(content)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_two_flow_files(tmp_path):
    train = tmp_path / "train_flow.py"
    score = tmp_path / "score_flow.py"
    train.write_text(flow("TrainFlow"))
    score.write_text(flow("ScoreFlow", LOAD.replace('"""Reads the table."""', "# copied")))
    project = Project(tmp_path)
    findings = mf401(train, project)
    assert len(findings) == 1
    finding = findings[0]
    assert finding.span.line == 4 and train.read_text().splitlines()[4][finding.span.col:finding.span.end_col] == "load_data"
    assert "score_flow.py:5" in finding.message and "common.py" in finding.message
    assert finding.data["function"] == "load_data"
    assert [o["line"] for o in finding.data["others"]] == [4]
    assert [f.span.line for f in mf401(score, project)] == [4]


def test_three_flow_files_name_every_other(tmp_path):
    paths = [tmp_path / f"{n}_flow.py" for n in ("a", "b", "c")]
    for index, path in enumerate(paths):
        path.write_text(flow(f"F{index}Flow"))
    project = Project(tmp_path)
    finding, = mf401(paths[0], project)
    assert "b_flow.py:5" in finding.message and "c_flow.py:5" in finding.message and "1 more" in finding.message
    assert len(finding.data["others"]) == 2
    for path in paths[1:]:
        assert len(mf401(path, project)) == 1


def test_flow_files_in_subfolders(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    train = tmp_path / "flows" / "train.py"
    train.write_text(flow("TrainFlow"))
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "score.py").write_text(flow("ScoreFlow"))
    finding, = mf401(train, Project(tmp_path))
    assert "jobs/score.py:5" in finding.message


def test_same_name_different_body_is_silent(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow"))
    (tmp_path / "score_flow.py").write_text(flow("ScoreFlow", LOAD.replace("read_parquet", "read_csv")))
    (tmp_path / "eval_flow.py").write_text(flow("EvalFlow", LOAD.replace("(path)", "(path, columns=None)")))
    assert mf401(train, Project(tmp_path)) == []


def test_same_body_different_name_is_silent(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow"))
    (tmp_path / "score_flow.py").write_text(flow("ScoreFlow", LOAD.replace("load_data", "read_data")))
    assert mf401(train, Project(tmp_path)) == []


def test_files_without_a_flow_do_not_count(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow"))
    (tmp_path / "common.py").write_text(textwrap.dedent(LOAD))
    (tmp_path / "script.py").write_text("class Helper:\n    pass\n" + textwrap.dedent(LOAD))
    project = Project(tmp_path)
    assert mf401(train, project) == []
    # nor is a file without flows reported itself
    assert mf401(tmp_path / "script.py", project) == []


def test_trivial_bodies_and_nested_functions_are_not_helpers(tmp_path):
    stub = "def todo():\n    pass\n\n\ndef later():\n    '''Later.'''\n    ...\n"
    nested = "if True:\n    def load_data(path):\n        return path\n"
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow", stub + nested))
    (tmp_path / "score_flow.py").write_text(flow("ScoreFlow", stub + nested))
    assert mf401(train, Project(tmp_path)) == []


def test_syntax_error_in_other_file_is_ignored(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow"))
    (tmp_path / "broken_flow.py").write_text(flow("BrokenFlow") + "\ndef (:\n")
    assert mf401(train, Project(tmp_path)) == []


def test_in_memory_text_wins_for_the_current_file(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow", LOAD.replace("read_parquet", "read_csv")))  # disk: different
    (tmp_path / "score_flow.py").write_text(flow("ScoreFlow"))
    project = Project(tmp_path)
    assert mf401(train, project) == []
    assert len(mf401(train, project, source=flow("TrainFlow"))) == 1  # editor: identical, unsaved


def test_no_project_no_path_is_silent():
    assert check_text(flow("TrainFlow"), select=("MF401",)) == []


def test_changing_the_other_file_updates_the_result(tmp_path):
    train = tmp_path / "train_flow.py"
    score = tmp_path / "score_flow.py"
    train.write_text(flow("TrainFlow"))
    score.write_text(flow("ScoreFlow"))
    project = Project(tmp_path)
    assert len(mf401(train, project)) == 1
    touch_later(score, flow("ScoreFlow", LOAD.replace("read_parquet", "read_csv")))
    assert mf401(train, project) == []  # mtime changed: re-read without waiting for the file list
    touch_later(score, flow("ScoreFlow"))
    assert len(mf401(train, project)) == 1
    score.unlink()
    assert mf401(train, project) == []  # a deleted file drops out at once


def test_new_files_show_up_after_forget_files_or_the_ttl(tmp_path):
    train = tmp_path / "train_flow.py"
    train.write_text(flow("TrainFlow"))
    project = Project(tmp_path)
    assert mf401(train, project) == []
    (tmp_path / "score_flow.py").write_text(flow("ScoreFlow"))
    assert mf401(train, project) == []  # the file list is cached
    project.forget_files()
    assert len(mf401(train, project)) == 1
    (tmp_path / "eval_flow.py").write_text(flow("EvalFlow"))
    project._files = (time.monotonic() - 60, project._files[1])  # as if the TTL had passed
    assert len(mf401(train, project)[0].data["others"]) == 2


def test_index_parses_each_file_once_per_change(tmp_path, monkeypatch):
    for index in range(5):
        (tmp_path / f"f{index}_flow.py").write_text(flow(f"F{index}Flow"))
    project = Project(tmp_path)
    import metaflow_lsp.project as project_module

    calls = []
    real = project_module.parse_module
    monkeypatch.setattr(project_module, "parse_module", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    project.flow_functions()
    assert len(calls) == 5
    project.flow_functions()
    project.flow_functions(exclude=tmp_path / "f0_flow.py")
    assert len(calls) == 5
    touch_later(tmp_path / "f3_flow.py", flow("F3Flow", LOAD.replace("read_parquet", "read_csv")))
    project.flow_functions()
    assert calls[5:] == [(tmp_path / "f3_flow.py").resolve()]


def test_second_check_answers_from_the_index(tmp_path, monkeypatch):
    """A keystroke in a ~1,000-line flow among 60 flow files: MF401 gives the same findings from the warm index,
    without reading, parsing or running git on any other file. How fast that is: `benchmarks/bench.py`."""
    helpers = "".join(f"\n\ndef helper_{i}(x):\n    y = x + {i}\n    return [y * k for k in range(10)]\n"
                      for i in range(20))
    for index in range(60):
        (tmp_path / f"f{index}_flow.py").write_text(flow(f"F{index}Flow", LOAD + helpers))
    # a big current file: ~1,000 lines
    steps = "".join(f"    @step\n    def s{i}(self):\n" + "".join(f"        self.v{j} = {j}\n" for j in range(20))
                    + f"        self.next(self.s{i + 1})\n\n" for i in range(40))
    big = (f"from metaflow import FlowSpec, step\n{LOAD}{helpers}\n\nclass BigFlow(FlowSpec):\n"
           f"    @step\n    def start(self):\n        self.next(self.s0)\n\n{steps}"
           f"    @step\n    def s40(self):\n        self.next(self.end)\n\n    @step\n    def end(self):\n        pass\n")
    assert big.count("\n") > 900
    current = tmp_path / "big_flow.py"
    current.write_text(big)
    from types import SimpleNamespace

    import metaflow_lsp.project as project_module

    # A frozen clock: both checks fall within the file list's TTL however slow the machine is.
    monkeypatch.setattr(project_module, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    project = Project(tmp_path)
    first = mf401(current, project, big)
    assert len(first) == 21
    assert {f.data["function"] for f in first} == {"load_data", *(f"helper_{i}" for i in range(20))}
    assert all(len(f.data["others"]) == 60 for f in first)

    import subprocess

    touched = []
    real_parse, real_run = project_module.parse_module, subprocess.run
    monkeypatch.setattr(project_module, "parse_module", lambda *a, **k: touched.append(("parse", a[1]))
                        or real_parse(*a, **k))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: touched.append(("run", a[0]))
                        or real_run(*a, **k))
    monkeypatch.setattr(Path, "read_bytes", lambda self: touched.append(("read", self)) or b"")
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: touched.append(("read", self)) or "")
    edited = big.replace("self.v0 = 0", "self.v0 = 10", 1)  # the keystroke: the other files did not change
    assert mf401(current, project, edited) == first
    assert touched == []


def test_fingerprint_ignores_docstring_and_positions_not_signature():
    import ast

    def fn(text):
        return ast.parse(textwrap.dedent(text)).body[0]

    a = fn('def f(x):\n    """Doc."""\n    return x + 1\n')
    b = fn('def f(x):\n\n    # comment\n    return (x +\n            1)\n')
    c = fn('def f(x, y=2):\n    return x + 1\n')
    assert function_fingerprint(a) == function_fingerprint(b) != function_fingerprint(c)
    assert function_fingerprint(fn("def f():\n    '''Only a docstring.'''\n")) == ""


# -- MF402 ------------------------------------------------------------------------------------------------------


def mf402(path: Path, project: Project | None = None):
    return [(f.span.line, f.message) for f in
            check_source(path.read_text(), path, Settings(select=("MF402",)), project or Project(path.parent)).findings]


BODY = """
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_mf402_base_in_sibling_file_with_project_is_silent(write):
    write("base.py", "from metaflow import FlowSpec, project, step\n\n\n@project(name='p')\nclass Base(FlowSpec):\n"
          "    pass\n")
    path = write("flow.py", "from metaflow import schedule, step\nfrom base import Base\n\n\n@schedule(daily=True)\n"
                 "class F(Base):" + BODY)
    assert mf402(path) == []


def test_mf402_base_in_sibling_file_without_project(write):
    write("base.py", "from metaflow import FlowSpec, step\n\n\nclass Base(FlowSpec):\n    pass\n")
    path = write("flow.py", "from metaflow import schedule, step\nfrom base import Base\n\n\n@schedule(daily=True)\n"
                 "class F(Base):" + BODY)
    assert [line for line, _ in mf402(path)] == [4]


def test_mf402_trigger_inherited_from_sibling_base_is_reported_on_the_class(write):
    write("base.py", "from metaflow import FlowSpec, trigger\n\n\n@trigger(event='e')\nclass Base(FlowSpec):\n"
          "    pass\n")
    path = write("flow.py", "from metaflow import step\nfrom base import Base\n\n\nclass F(Base):" + BODY)
    (line, message), = mf402(path)
    assert line == 4 and "inherits @trigger" in message


def test_mf402_unreadable_base_is_silent(write):
    path = write("flow.py", "from metaflow import schedule, step\nfrom company import CompanyFlow\n\n\n"
                 "@schedule(daily=True)\nclass F(CompanyFlow):" + BODY)
    assert mf402(path) == []


def test_mf402_without_project_object():
    source = "from metaflow import FlowSpec, schedule, step\n\n\n@schedule(cron='0 * * * *')\nclass F(FlowSpec):" + BODY
    assert [(f.span.line, f.code) for f in check_text(source, select=("MF402",))] == [(3, "MF402")]
