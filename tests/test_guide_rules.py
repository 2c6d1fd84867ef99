"""MF2xx, the guide rules, beyond their fixtures: .metaflow in real git repositories (and folders without git),
settings from pyproject.toml, option-name matching, and the cases where a rule must stay silent."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp import config
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.gitignore import ignored_by_files
from metaflow_lsp.project import Project, find_root
from metaflow_lsp.rules import Severity

FLOW = """
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def findings(path: Path, code: str, settings: Settings | None = None, project: Project | None = None,
             source: str | None = None):
    settings = settings or Settings()
    settings = Settings(**{**settings.__dict__, "select": (code,)})
    text = path.read_text() if source is None else textwrap.dedent(source)
    return [f for f in check_source(text, path, settings, project or Project(path.parent)).findings if f.code == code]


def lines(found) -> list[int]:
    return [f.span.line + 1 for f in found]


def git_init(directory: Path) -> None:
    subprocess.run(["git", "init", "-q", str(directory)], check=True)


# -- MF203: .metaflow in .gitignore ----------------------------------------------------------------------------------


@needs_git
def test_mf203_git_repository_without_gitignore(tmp_path, write):
    git_init(tmp_path)
    flow = write("flows/train.py", FLOW)
    (found,) = findings(flow, "MF203", project=Project(tmp_path))
    assert found.data == {"missing": [".metaflow", ".metaflow_spin"], "gitignore": str(tmp_path.resolve() / ".gitignore"),
                          "folder": str(tmp_path.resolve() / "flows")}
    assert found.span.line + 1 == 4  # the flow class name
    assert "TrainFlow" in flow.read_text().splitlines()[found.span.line][found.span.col:found.span.end_col]
    assert found.message == ("`.metaflow/` and `.metaflow_spin/` in `flows/` (the local datastore of every run) are "
                             "not git-ignored: add them to the repository's `.gitignore`.")
    assert found.severity.label == "warning"


@needs_git
@pytest.mark.parametrize("entries, missing", [
    (".metaflow/\n.metaflow_spin/\n", None),
    (".metaflow\n.metaflow_spin\n", None),
    (".metaflow*\n", None),
    ("**/.metaflow\n**/.metaflow_spin/\n", None),
    (".metaflow/\n", [".metaflow_spin"]),
    ("/.metaflow/\n/.metaflow_spin/\n", [".metaflow", ".metaflow_spin"]),  # anchored at the root, flow in flows/
    ("flows/\n", None),  # the whole folder is ignored
    ("# .metaflow/\n", [".metaflow", ".metaflow_spin"]),
])
def test_mf203_root_gitignore(tmp_path, write, entries, missing):
    git_init(tmp_path)
    write(".gitignore", entries)
    flow = write("flows/train.py", FLOW)
    found = findings(flow, "MF203", project=Project(tmp_path))
    assert (found[0].data["missing"] if found else None) == missing


@needs_git
def test_mf203_nested_gitignore_and_negation(tmp_path, write):
    git_init(tmp_path)
    write(".gitignore", ".metaflow*\n")
    write("flows/.gitignore", "!.metaflow/\n")  # re-includes .metaflow in flows/ only
    flow = write("flows/train.py", FLOW)
    other = write("other/train.py", FLOW)
    project = Project(tmp_path)
    (found,) = findings(flow, "MF203", project=project)
    assert found.data == {"missing": [".metaflow"], "gitignore": str(tmp_path.resolve() / ".gitignore"),
                          "folder": str(tmp_path.resolve() / "flows")}
    assert findings(other, "MF203", project=project) == []


@needs_git
def test_mf203_nested_gitignore_in_flow_folder(tmp_path, write):
    git_init(tmp_path)
    write("flows/.gitignore", ".metaflow\n.metaflow_spin\n")
    flow = write("flows/train.py", FLOW)
    assert findings(flow, "MF203", project=Project(tmp_path)) == []


@needs_git
def test_mf203_info_exclude_counts(tmp_path, write):
    git_init(tmp_path)
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text(".metaflow*\n")
    flow = write("train.py", FLOW)
    assert findings(flow, "MF203", project=Project(tmp_path)) == []


@needs_git
def test_mf203_once_per_file_and_not_for_files_without_flows(tmp_path, write):
    git_init(tmp_path)
    flow = write("train.py", FLOW + FLOW.replace("TrainFlow", "OtherFlow").replace("from metaflow import", "#"))
    assert len(findings(flow, "MF203", project=Project(tmp_path))) == 1
    helper = write("common.py", "def clean(rows):\n    return rows\n")
    assert findings(helper, "MF203", project=Project(tmp_path)) == []


@needs_git
def test_mf203_answer_is_cached_until_forgotten(tmp_path, write):
    git_init(tmp_path)
    flow = write("train.py", FLOW)
    project = Project(tmp_path)
    assert len(findings(flow, "MF203", project=project)) == 1
    write(".gitignore", ".metaflow/\n.metaflow_spin/\n")
    assert len(findings(flow, "MF203", project=project)) == 1  # cached: no git call per keystroke
    project.forget_git_answers()
    assert findings(flow, "MF203", project=project) == []


def test_mf203_folder_without_git(tmp_path, write, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # never find a repository above tmp_path
    flow = write("flows/train.py", FLOW)
    # No repository and no .gitignore: nothing to judge.
    assert findings(flow, "MF203", project=Project(tmp_path)) == []
    write(".gitignore", "__pycache__/\n.metaflow/\n")
    project = Project(tmp_path)
    assert project.git_root is None
    (found,) = findings(flow, "MF203", project=project)
    assert found.data == {"missing": [".metaflow_spin"], "gitignore": str(tmp_path.resolve() / ".gitignore"),
                          "folder": str(tmp_path.resolve() / "flows")}
    # Only what `spin` writes: milder than the datastore itself.
    assert found.severity.label == "information"
    assert found.message == ("`.metaflow_spin/` in `flows/` (what `spin` writes) is not git-ignored: add it to "
                             "the repository's `.gitignore`.")
    write("flows/.gitignore", ".metaflow_spin/\n")
    project.forget_git_answers()
    assert findings(flow, "MF203", project=project) == []
    write("flows/.gitignore", "!.metaflow/\n.metaflow_spin/\n")
    project.forget_git_answers()
    assert findings(flow, "MF203", project=project)[0].data["missing"] == [".metaflow"]


def test_mf203_without_git_finds_the_gitignore_above_the_guessed_root(tmp_path, write, monkeypatch):
    """No .git and no pyproject.toml: the project root is guessed as the flow's folder, but the .gitignore of the
    folder above (an unpacked copy of a repository) still governs it."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    write(".gitignore", "*.metaflow\n")
    flow = write("flows/train.py", FLOW)
    project = Project(find_root(flow))
    assert project.root == (tmp_path / "flows").resolve() and project.git_root is None
    (found,) = findings(flow, "MF203", project=project)
    assert found.data["missing"] == [".metaflow_spin"]  # `*.metaflow` ignores .metaflow, not .metaflow_spin
    assert found.data["gitignore"] == str(tmp_path.resolve() / ".gitignore")
    # The quick fix extends that .gitignore (not one in the guessed root), and the finding goes away.
    from metaflow_lsp.refactor import fixes

    plan = fixes.fix_finding(flow.read_text(), found, fixes.FixContext(flow, project=project))
    (change,) = plan.changes
    assert change.path == tmp_path.resolve() / ".gitignore"
    change.path.write_text(change.new)
    assert change.new == "*.metaflow\n.metaflow_spin\n"
    project.forget_git_answers()
    assert findings(flow, "MF203", project=project) == []


@needs_git
def test_mf203_once_per_repository_on_the_first_flow_file(tmp_path, write):
    """44 flow files missing the same line get one finding: on the first flow file in path order."""
    git_init(tmp_path)
    write("a/common.py", "def clean(rows):\n    return rows\n")  # no flow: never the one reported
    later = write("b/train.py", FLOW)
    first = write("a/score.py", FLOW)
    also = write("a/z_predict.py", FLOW)
    project = Project(tmp_path)
    assert [len(findings(path, "MF203", project=project)) for path in (first, also, later)] == [1, 0, 0]
    # A folder whose own .gitignore differs is another group: reported there too.
    write("b/.gitignore", ".metaflow/\n")
    project.forget_git_answers()
    project.forget_files()
    assert [len(findings(path, "MF203", project=project)) for path in (first, also, later)] == [1, 0, 1]
    # The CLI shows the same.
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", "--select", "MF203", str(tmp_path)],
                            capture_output=True, text=True)
    assert [line.split(":")[0] for line in result.stdout.splitlines() if "MF203" in line] == [str(first), str(later)]


def test_mf203_without_project_is_silent(tmp_path, write):
    flow = write("train.py", FLOW)
    result = check_source(flow.read_text(), flow, Settings(select=("MF203",)), None)
    assert result.findings == []


@needs_git
@pytest.mark.parametrize("gitignores", [
    {"": ".metaflow"}, {"": ".metaflow/"}, {"": "/.metaflow"}, {"": "**/.metaflow"}, {"": ".metaflow*"},
    {"": "flows/.metaflow/"}, {"": "/flows/.metaflow"}, {"": "flows/**/.metaflow"}, {"": "*/.metaflow"},
    {"": ".metaflow*\n!.metaflow/"}, {"": ".metaflow*", "flows": "!.metaflow"}, {"": "flows/", "flows": "!.metaflow"},
    {"": ".meta?low"}, {"": ".meta[fg]low"}, {"": ".meta[!f]low"}, {"": "*"}, {"": "*\n!*/"}, {"": "flows/*"},
    {"": "\\.metaflow"}, {"": ".metaflow   "}, {"": "#.metaflow"}, {"flows": "/.metaflow"}, {"flows": "**"},
    {"": "flows/deep/"}, {"": "**/deep/.metaflow"}, {"": "flows/**"},
])
def test_gitignore_reader_agrees_with_git(tmp_path, gitignores):
    git_init(tmp_path)
    for folder, text in gitignores.items():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / ".gitignore").write_text(text + "\n")
    (tmp_path / "flows" / "deep").mkdir(parents=True, exist_ok=True)
    for relative in (".metaflow", "flows/.metaflow", "flows/deep/.metaflow"):
        result = subprocess.run(["git", "check-ignore", "-q", "--no-index", relative + "/"], cwd=tmp_path)
        assert ignored_by_files(tmp_path.resolve(), tmp_path / relative, True) is (result.returncode == 0), relative


# -- MF201: long steps -----------------------------------------------------------------------------------------------


def _step_with(statements: int) -> str:
    body = "\n".join(f"        x{i} = {i}" for i in range(statements))
    return f'''
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        """A docstring is not a statement of the step."""
{body}
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_mf201_limit_from_pyproject(tmp_path, write):
    write("pyproject.toml", "[tool.metaflow-lsp]\nmax-step-statements = 4\n")
    flow = write("flows/train.py", _step_with(5))
    settings, errors = config.load(flow)
    assert errors == [] and settings.max_step_statements == 4
    (found,) = findings(flow, "MF201", settings)
    assert found.data == {"statements": 5, "limit": 4, "step": "start"}
    assert "5 statements" in found.message and "limit 4" in found.message and "Extract it to `common.py`" in found.message
    assert flow.read_text().splitlines()[found.span.line][found.span.col:found.span.end_col] == "start"
    write("flows/at_limit.py", _step_with(4))
    assert findings(tmp_path / "flows/at_limit.py", "MF201", settings) == []


def test_mf201_bad_pyproject_value_keeps_default(tmp_path, write):
    write("pyproject.toml", "[tool.metaflow-lsp]\nmax-step-statements = 0\n")
    flow = write("train.py", _step_with(16))
    settings, errors = config.load(flow)
    assert settings.max_step_statements == 15 and errors
    assert [f.data for f in findings(flow, "MF201", settings)] == [{"statements": 16, "limit": 15, "step": "start"}]


def test_mf201_limit_from_settings(tmp_path, write):
    flow = write("train.py", _step_with(15))
    assert findings(flow, "MF201") == []  # default 15
    assert [f.data for f in findings(flow, "MF201", Settings(max_step_statements=10))] == [
        {"statements": 15, "limit": 10, "step": "start"}]


def test_mf201_counts_nested_statements(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                for i in range(3):
                    if i:
                        print(i)
                    else:
                        try:
                            pass
                        except ValueError:
                            raise
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    # for, if, print, try, pass, raise: six
    assert [f.data for f in findings(flow, "MF201", Settings(max_step_statements=5))] == [
        {"statements": 6, "limit": 5, "step": "start"}]
    assert findings(flow, "MF201", Settings(max_step_statements=6)) == []


def test_mf201_mixin_step_reported_once(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, step


        class EndMixin:
            @step
            def end(self):
                a = 1
                b = 2


        class AFlow(EndMixin, FlowSpec):
            @step
            def start(self):
                self.next(self.end)


        class BFlow(EndMixin, FlowSpec):
            @step
            def start(self):
                self.next(self.end)
        """)
    assert lines(findings(flow, "MF201", Settings(max_step_statements=1))) == [6]


# -- MF202: helpers in flow files ------------------------------------------------------------------------------------


def test_mf202_reports_helpers_not_flows_bases_or_main(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, step


        def clean(rows):
            return rows


        class Model:
            pass


        class Base(FlowSpec):
            pass


        class TrainFlow(Base):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass


        def main():
            TrainFlow()


        if __name__ == "__main__":
            def local_helper():
                pass
            main()
        """)
    found = findings(flow, "MF202")
    assert [(f.span.line + 1, f.data) for f in found] == [
        (4, {"name": "clean", "kind": "function"}), (8, {"name": "Model", "kind": "class"})]
    assert "common.py" in found[0].message


TEST_MODULE = """
import pytest
from metaflow import FlowSpec, step


class HelloFlow(FlowSpec):
    @step
    def start(self):
        self.rows = build_rows()
        self.next(self.end)

    @step
    def end(self):
        pass


@pytest.fixture
def flow_path():
    return __file__


@pytest.mark.slow
def runs_the_flow(flow_path):
    pass


def test_hello(flow_path):
    pass


class TestHello:
    def test_it(self):
        pass


def pytest_configure(config):
    pass


def build_rows():
    return []


def expected_rows():
    return []
"""


@pytest.mark.parametrize("name", ["test_hello.py", "hello_test.py", "conftest.py"])
def test_mf202_test_modules_keep_tests_fixtures_and_hooks(tmp_path, write, name):
    """Tests, fixtures and the helpers of tests in a module that defines a flow for its tests stay there; a helper
    the flow's steps call is the flow's, and belongs in common.py."""
    found = findings(write(name, TEST_MODULE), "MF202")
    assert [f.data["name"] for f in found] == ["build_rows"]


def test_mf202_parameter_mixins_are_part_of_the_flow(tmp_path, write):
    """A class holding Parameters is mixed into flows (here or in other files): not a helper to move."""
    source = '''
        from metaflow import FlowSpec, Parameter, step


        class DataParameters:
            rows = Parameter("rows", type=int, default=1000)


        class Settings:
            rows = 1000


        class TrainFlow(FlowSpec):  # DataParameters is mixed into the flows of other files
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            TrainFlow()
    '''
    assert [f.data["name"] for f in findings(write("train.py", source), "MF202")] == ["Settings"]


def test_mf202_same_names_outside_a_test_module_are_helpers(tmp_path, write):
    found = findings(write("hello.py", TEST_MODULE), "MF202")
    assert [f.data["name"] for f in found] == ["flow_path", "runs_the_flow", "test_hello", "TestHello",
                                               "pytest_configure", "build_rows", "expected_rows"]
    assert found[3].message == ("Helper class `TestHello` is defined in a flow file: move it to `common.py`, so "
                                "other flows and notebooks can import it.")


# -- MF204 / MF205 / MF206: test mode --------------------------------------------------------------------------------

TEST_MODE_FLOW = """
from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    {parameter}

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("parameter, reported", [
    ('tm = Parameter("test_mode", type=bool, default=False)', False),
    ('test_mode = Parameter("fast", type=bool, default=False)', False),  # the attribute names it: --fast 1
    ('fast = Parameter("fast", type=bool, default=False)', True),
    ('smoke_test = Parameter("smoke_test", type=bool, default=False)', False),
    ('is_dev = Parameter("is_dev", default=False, help="run with a smaller dataset")', False),
    ('test = Parameter("test", type=bool, default=False, help="run flow on test mode")', False),
    ('latest = Parameter("use_latest", type=bool, default=False)', True),  # "test" is no word of it
    ('dev = Parameter("device", type=bool, default=False)', True),
    ('rows = Parameter("sample_rows", default=100)', True),  # not a bool: a size, not a switch
    ('flag = Parameter("flag", type=bool, help="evaluate on the test set")', True),
    ('flag = Parameter(name="smoke", type=bool, default=False)', False),
    ('flag = Parameter("dry-run", type=bool, default=False)', False),
    ('flag = Parameter("Quick", type=bool, default=False)', False),
    ('flag = Parameter(NAME, type=bool, default=False)', False),  # computed name: it may be the one
    ('alpha = Parameter("alpha", default=0.1)', True),
    ('test_mode = Config("test_mode", default="test.json")', False),
])
def test_mf204_matches_the_option_name(tmp_path, write, parameter, reported):
    flow = write("train.py", TEST_MODE_FLOW.format(parameter=parameter))
    found = findings(flow, "MF204")
    assert bool(found) is reported
    if found:
        assert found[0].data == {"flow": "TrainFlow", "parameter": "test_mode"}
        assert lines(found) == [4]


def test_mf204_test_mode_parameters_option(tmp_path, write):
    write("pyproject.toml", '[tool.metaflow-lsp]\ntest-mode-parameters = ["ci", "fast"]\n')
    flow = write("train.py", TEST_MODE_FLOW.format(parameter='rows = Parameter("rows", default=10)'))
    settings, errors = config.load(flow)
    assert errors == [] and settings.test_mode_parameters == ("ci", "fast")
    (found,) = findings(flow, "MF204", settings)
    assert found.data["parameter"] == "ci"
    assert found.message == ('`TrainFlow` has no test-mode Parameter: add `ci = Parameter("ci", type=bool, '
                             'default=False)` and shrink the data and fan-outs with it.')
    for parameter in ('x = Parameter("ci", default=0)',  # a configured name: any type
                      'x = Parameter("fast-run", type=bool)',  # a configured word in a bool option
                      'x = Parameter("test_mode", type=bool)'):  # the built-in words still count
        ok = write("ok.py", TEST_MODE_FLOW.format(parameter=parameter))
        assert findings(ok, "MF204", settings) == [], parameter


def test_mf204_is_silent_when_there_is_nothing_to_shrink(tmp_path):
    """No Parameters, no fan-out: the flow already runs as small as it can (a hello-world flow)."""
    path = tmp_path / "hello.py"
    path.write_text(FLOW)
    assert findings(path, "MF204") == []
    with_input = FLOW.replace("class TrainFlow(FlowSpec):", 'class TrainFlow(FlowSpec):\n    rows = Parameter("rows", default=1000)')
    path.write_text(with_input.replace("import FlowSpec, step", "import FlowSpec, Parameter, step"))
    assert lines(findings(path, "MF204")) == [5]


def test_mf204_base_in_sibling_file(tmp_path, write):
    write("base.py", """
        from metaflow import FlowSpec, Parameter


        class BaseFlow(FlowSpec):
            smoke = Parameter("smoke", type=bool, default=False)
        """)
    write("plain.py", """
        from metaflow import FlowSpec, Parameter


        class PlainFlow(FlowSpec):
            rows = Parameter("rows", default=1000)
        """)
    source = """
        from {module} import {base}
        from metaflow import step


        class TrainFlow({base}):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    with_mode = write("train.py", source.format(module="base", base="BaseFlow"))
    assert findings(with_mode, "MF204", project=Project(tmp_path)) == []
    without = write("other.py", source.format(module="plain", base="PlainFlow"))
    assert lines(findings(without, "MF204", project=Project(tmp_path))) == [5]


UNKNOWN_BASE = """
from company.flows import BaseFlow
from metaflow import Flow, Parameter, step


class TrainFlow(BaseFlow):
    test_mode = Parameter("test_mode", type=bool, default=False)
    table = Parameter("table", default="t")

    @step
    def start(self):
        self.items = [1, 2, 3]
        self.next(self.train, foreach="items")

    @step
    def train(self):
        print(self.table, Flow("Other").latest_run)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize("code", ["MF204", "MF205", "MF206", "MF207", "MF208"])
def test_silent_with_unknown_base(tmp_path, write, code):
    flow = write("train.py", UNKNOWN_BASE)
    assert findings(flow, code) == []
    # The same flow on FlowSpec is reported (except MF204: it has a test-mode Parameter).
    known = write("known.py", UNKNOWN_BASE.replace("from company.flows import BaseFlow\n", "")
                  .replace("from metaflow import", "from metaflow import FlowSpec,").replace("(BaseFlow)", "(FlowSpec)"))
    assert bool(findings(known, code)) is (code != "MF204")


def test_mf205_range_and_reads(tmp_path, write):
    flow = write("train.py", TEST_MODE_FLOW.format(parameter='tm = Parameter("test_mode", type=bool, default=False)'))
    (found,) = findings(flow, "MF205")
    assert (found.span.line + 1, found.span.col) == (5, 4)
    assert found.data == {"parameter": "tm", "option": "test_mode"}
    read = write("read.py", TEST_MODE_FLOW.format(parameter='tm = Parameter("test_mode", type=bool, default=False)')
                 .replace("self.next(self.end)\n", 'n = getattr(self, "tm")\n        self.next(self.end)\n', 1))
    assert findings(read, "MF205") == []


@pytest.mark.parametrize("body, reported", [
    ("self.items = [1, 2, 3]", True),
    ("self.items = [1, 2, 3][:2] if self.tm else [1, 2, 3]", False),
    ("self.items = [1, 2, 3]\n        if self.tm:\n            self.items = self.items[:1]", False),
    ("self.items = [1, 2, 3]\n        if not self.tm:\n            pass\n        else:\n            del self.items[1:]",
     False),
    ("n = 1 if self.tm else None\n        self.items = list(range(10))[:n]", False),
    ("items = list(range(10))\n        if self.tm:\n            items = items[:2]\n        self.items = items", False),
    ("self.items = load(self)", False),  # a helper given self may shrink it
])
def test_mf206_shortened_under_test_mode(tmp_path, write, body, reported):
    flow = write("train.py", f"""
from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    tm = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        {body}
        self.next(self.train, foreach="items")

    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
""")
    found = findings(flow, "MF206")
    assert bool(found) is reported
    if found:
        assert found[0].data == {"foreach": "items", "test_mode": "tm"}


# -- MF207 / MF208 / MF209 -------------------------------------------------------------------------------------------


def test_mf207_names_parameters_and_skips_booleans(tmp_path, write):
    flow = write("train.py", """
        import click
        from metaflow import FlowSpec, Parameter, step


        class TrainFlow(FlowSpec):
            table = Parameter("table", default="t")
            verbose = Parameter("verbose", type=bool, default=False)
            mode = Parameter("mode", type=click.Choice(["a", "b"]), default="a")
            unused = Parameter("unused", default=1)

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                print(self.table, self.verbose, self.mode)
        """)
    (found,) = findings(flow, "MF207")
    assert found.data == {"parameters": ["table"]} and "`table`" in found.message and found.span.line + 1 == 12


def test_mf207_silent_when_start_asserts(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, Parameter, step


        class TrainFlow(FlowSpec):
            table = Parameter("table", default="t")

            @step
            def start(self):
                assert True
                self.next(self.end)

            @step
            def end(self):
                print(self.table)
        """)
    assert findings(flow, "MF207") == []


def test_mf208_module_import_and_computed_argument(tmp_path, write):
    flow = write("train.py", """
        import metaflow
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.names = ["a"]
                self.next(self.train, foreach="names")

            @step
            def train(self):
                run = metaflow.Flow("Upstream").latest_run
                other = metaflow.Run(f"Upstream/{self.input}")
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    found = findings(flow, "MF208")
    assert lines(found) == [13]
    assert found[0].data == {"step": "train", "expression": 'metaflow.Flow("Upstream").latest_run'}


def test_mf209_data_lists_packages(tmp_path, write):
    flow = write("train.py", """
        import subprocess as sp
        import sys

        import pip
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                sp.check_output([sys.executable, "-m", "pip", "install", "-U", "numpy==2.0", "pandas"])
                pip.main(["install", "torch"])
                sp.run(["conda", "install", "-y", "scipy"])
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    found = findings(flow, "MF209")
    assert [(f.span.line + 1, f.data["packages"]) for f in found] == [
        (11, ["numpy==2.0", "pandas"]), (12, ["torch"]), (13, ["scipy"])]
    assert "@pypi" in found[0].message


def test_guide_rules_on_metaflow_tutorials_do_not_crash():
    import metaflow

    from metaflow_lsp.project import read_source

    tutorials = Path(metaflow.__file__).parent / "tutorials"
    for path in sorted(tutorials.glob("*/*.py")):
        result = check_source(read_source(path), path, Settings(select=("MF2",)), Project(path.parent))
        codes = {f.code for f in result.findings}
        assert codes <= {"MF202", "MF203", "MF204", "MF207"}, (path, codes)


def test_mf209_option_values_are_not_packages(tmp_path, write):
    flow = write("train.py", """
        import os
        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                os.system("pip install -r requirements.txt --index-url https://x.org/simple polars && echo ok")
                os.system(f"conda install -y -c conda-forge {name} lightgbm")
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert [f.data["packages"] for f in findings(flow, "MF209")] == [["polars"], ["lightgbm"]]


def test_mf208_current_run_is_not_another_flow(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, Run, current, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                this_run = Run(current.pathspec.rsplit("/", 2)[0])
                same = Run(f"{current.flow_name}/{current.run_id}")
        """)
    assert findings(flow, "MF208") == []


def test_mf206_flow_method_may_shrink(tmp_path, write):
    flow = write("train.py", """
        from metaflow import FlowSpec, Parameter, step


        class TrainFlow(FlowSpec):
            smoke = Parameter("smoke", type=bool, default=False)

            def load_items(self):
                items = list(range(100))
                return items[:2] if self.smoke else items

            @step
            def start(self):
                self.items = self.load_items()
                self.next(self.train, foreach="items")

            @step
            def train(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert findings(flow, "MF206") == []


def test_mf209_guide_helper_is_information_raw_pip_a_warning(tmp_path, write):
    """The guide recommends `common.install_dependencies(...)` while developing: a nudge, not a warning."""
    flow = write("train.py", """
        import os

        import common
        from metaflow import FlowSpec, step

        os.system("pip install polars==1.0.0")


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                common.install_dependencies({"pandas": "2.2.2"})
                os.system("pip install torch")
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    found = findings(flow, "MF209")
    assert [(f.span.line + 1, f.severity.label) for f in found] == [(6, "warning"), (12, "information"),
                                                                    (13, "warning")]
    assert found[0].data == {"step": None, "packages": ["polars==1.0.0"]}
    assert found[0].message.startswith("This module-level call installs packages (polars==1.0.0) in every task")
    assert found[1].data == {"step": "start", "packages": [], "helper": True}
    assert "consider @pypi or @conda" in found[1].message
    # A severity the user sets for the code wins over the finding's own.
    chosen = findings(flow, "MF209", Settings(severity=(("MF209", Severity.ERROR),)))
    assert {f.severity.label for f in chosen} == {"error"}


def test_mf209_installer_must_be_the_command(tmp_path, write):
    flow = write("train.py", """
        import os

        from metaflow import FlowSpec, step


        class TrainFlow(FlowSpec):
            @step
            def start(self):
                os.system("echo pip install torch")
                os.system("cd /tmp && /opt/conda/bin/conda install -y numpy")
                os.system("sudo pip install rich")
                os.system(f"{PYTHON} -m pip install scipy")
                self.next(self.end)

            @step
            def end(self):
                pass
        """)
    assert [f.data["packages"] for f in findings(flow, "MF209")] == [["numpy"], ["rich"], ["scipy"]]


def test_mf207_says_config_for_a_config(tmp_path, write):
    flow = write("train.py", """
        from metaflow import Config, FlowSpec, Parameter, step


        class TrainFlow(FlowSpec):
            settings = Config("settings", default="settings.json")
            table = Parameter("table", default="rows")

            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                print(self.settings, self.table)
        """)
    (found,) = findings(flow, "MF207")
    assert found.message == ("Parameter `table`, Config `settings` are first read after `start`, which checks nothing: "
                             "validate them in `start`, so a bad value fails in seconds.")
    assert found.data == {"parameters": ["settings", "table"]}
    only_config = flow.read_text().replace("print(self.settings, self.table)", "print(self.settings)")
    (found,) = findings(flow, "MF207", source=only_config)
    assert found.message.startswith("Config `settings` is first read after `start`")


# -- every MF1xx-MF4xx rule: short messages, documented silences -----------------------------------------------------


def _fixture_findings():
    from conftest import FIXTURES
    from metaflow_lsp.project import read_source

    for fixture in sorted((FIXTURES / "rules").glob("MF[1-4]*/*.py")):
        code = fixture.parent.name
        result = check_source(read_source(fixture), fixture, Settings(select=(code,)), Project(fixture.parent))
        yield from result.findings


def test_messages_fit_on_a_line():
    """Problems lists and hovers show one line: the detail is in the docs page."""
    messages = {f.message for f in _fixture_findings()}
    assert len(messages) > 40
    too_long = sorted((len(m), m) for m in messages if len(m) > 170)
    assert too_long == []


def test_messages_quote_names_in_backticks_only():
    """One style across families: `name`, never 'name' or *name*."""
    import re

    quoted = re.compile(r"(?<![\w`])'[A-Za-z_][\w.]*'(?![\w`])|\*[A-Za-z_]\w*\*")
    assert sorted({f.message for f in _fixture_findings() if quoted.search(f.message)}) == []


def test_every_rule_page_says_what_it_does_not_report():
    from metaflow_lsp.docs import rule_doc
    from metaflow_lsp.rules import RULES

    codes = [code for code in RULES if code[:3] in ("MF1", "MF2", "MF3", "MF4")]
    assert len(codes) == 27  # MF101-MF112, MF201-MF209, MF301-MF304, MF401-MF402
    missing = [code for code in codes if "## What it does not report\n- " not in (rule_doc(code) or "")]
    assert missing == []
