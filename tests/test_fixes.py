"""Quick fixes (refactor/fixes.py): every fix shown as the file before and after, and the finding gone after it.

Every fix of the fix table has cases in tests/fixtures/fixes/<CODE>/: `<case>.py` is the flow before,
`<case>.fixed.py` the flow after, and `<case>.fixed.<name>` any other file the fix writes (`common.py`,
`.gitignore` as `<case>.fixed.gitignore`). The tests below the fixture test cover what a fixture cannot show:
titles, refusals, existing files.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project
from metaflow_lsp.refactor import fix_table, fixes, versions
from metaflow_lsp.refactor.plan import FixError, apply_line_edits, line_edits

TAIL = '''

if __name__ == "__main__":
    TrainFlow()
'''


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def flow_file(body: str, *, head: str = "from metaflow import FlowSpec, Parameter, step, retry\n", tail: str = TAIL,
              parameters: str = '    test_mode = Parameter("test_mode", type=bool, default=False)\n') -> str:
    """A complete small flow around `body` (the steps, at class indentation)."""
    return head + "\n\nclass TrainFlow(FlowSpec):\n" + parameters + "\n" + textwrap.indent(dedent(body), "    ") + tail


def findings(source: str, path: Path | None = None, project: Project | None = None, **settings):
    return check_source(source, path, Settings(**settings), project).findings


def only(source: str, code: str, path: Path | None = None, project: Project | None = None):
    """The (first) finding of `code`: there must be one."""
    found = [f for f in findings(source, path, project) if f.code == code]
    assert found, [(f.code, f.message) for f in findings(source, path, project)]
    return found[0]


def fix(source: str, code: str, path: Path | None = None, **context) -> fixes.FixPlan:
    finding = only(source, code, path, context.get("project"))
    return fixes.fix_finding(source, finding, fixes.FixContext(path, **context))


def assert_gone(source: str, code: str, path: Path | None = None, project: Project | None = None) -> None:
    assert code not in {f.code for f in findings(source, path, project)}


FIXTURES = Path(__file__).parent / "fixtures" / "fixes"
INSTALLED_FOR_FIXTURES = {"pandas": "2.2.1", "scikit-learn": "1.5.0"}  # what MF301's cases find installed


def fixture_cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("MF*/*.py") if ".fixed" not in p.name)


def test_every_declared_fix_has_fixture_cases_and_every_fixture_a_fix():
    assert set(fix_table.declared_fixes()) == {case.parent.name for case in fixture_cases()}
    for case in fixture_cases():
        assert case.with_suffix(".fixed.py").is_file(), f"{case} has no {case.stem}.fixed.py"


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fix_fixture(case, tmp_path):
    """The fix applied to each finding of its code in `<case>.py` gives exactly the expected files, and the fixed
    project has no finding of that code."""
    code = case.parent.name
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # MF203 asks git what it ignores
    path = tmp_path / "flow.py"
    path.write_text(case.read_text())
    written: dict[Path, str] = {}
    for _ in range(10):
        project = Project(tmp_path)
        found = [f for f in findings(path.read_text(), path, project) if f.code == code]
        if not found:
            break
        context = fixes.FixContext(path, project=project, installed_version=INSTALLED_FOR_FIXTURES.get)
        for change in fixes.fix_finding(path.read_text(), found[0], context).changes:
            change.path.write_text(change.new)
            written[change.path] = change.new
    assert code not in {f.code for f in findings(path.read_text(), path, Project(tmp_path))}
    assert path.read_text() == case.with_suffix(".fixed.py").read_text()
    others = {p.name: text for p, text in written.items() if p != path}
    expected = {p.name[len(f"{case.stem}.fixed."):]: p.read_text()
                for p in case.parent.glob(f"{case.stem}.fixed.*") if p.name != f"{case.stem}.fixed.py"}
    assert {name.lstrip("."): text for name, text in others.items()} == expected


def test_fix_titles_read_only_data_of_the_declared_type():
    """A finding's data comes back from the editor as JSON: a value of the wrong type is ignored, not trusted."""
    mf203, mf205 = fix_table.fix_for("MF203"), fix_table.fix_for("MF205")
    context = fixes.FixContext(None)
    assert mf203.title(fix_table.typed_data(mf203.data, {"missing": [".metaflow_spin"]}), context) == \
        "Add .metaflow_spin to .gitignore"
    assert mf203.title(fix_table.typed_data(mf203.data, {"missing": [".metaflow", 3]}), context) == \
        "Add .metaflow to .gitignore"
    assert mf205.title(fix_table.typed_data(mf205.data, {"parameter": "quick"}), context) == \
        "Use `quick` to shrink the run"
    assert mf205.title(fix_table.typed_data(mf205.data, {"parameter": ["quick"]}), context) == \
        "Use the test-mode Parameter to shrink the run"


STEPS_USING_TEST_MODE = '''
@step
def start(self):
    self.rows = 10 if self.test_mode else 1000
    self.next(self.end)

@step
def end(self):
    pass
'''


# -- MF112 ---------------------------------------------------------------------------------------------------------


def test_mf112_adds_the_main_guard():
    before = flow_file(STEPS_USING_TEST_MODE, tail="")
    plan = fix(before, "MF112")
    assert plan.title == 'Add `if __name__ == "__main__":` that runs TrainFlow()'
    assert plan.changes[0].new == before + TAIL
    assert_gone(plan.changes[0].new, "MF112")


def test_mf112_without_final_newline():
    before = flow_file(STEPS_USING_TEST_MODE, tail="").rstrip("\n")
    after = fix(before, "MF112").changes[0].new
    assert after == before + "\n" + TAIL
    assert_gone(after, "MF112")


def test_mf112_calls_the_flow_in_an_existing_guard():
    before = flow_file(STEPS_USING_TEST_MODE, tail='\n\nif __name__ == "__main__":\n    print("hello")\n')
    after = fix(before, "MF112").changes[0].new
    assert after.endswith('if __name__ == "__main__":\n    print("hello")\n    TrainFlow()\n')
    assert_gone(after, "MF112")


def test_mf112_is_refused_when_the_guard_runs_another_flow():
    """`OtherFlow(); TrainFlow()` would never reach TrainFlow: Metaflow's command line exits after the first."""
    before = flow_file(STEPS_USING_TEST_MODE, tail='''


class OtherFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    OtherFlow()
''')
    with pytest.raises(FixError, match="already runs OtherFlow"):
        fix(before, "MF112")
    plan, remaining = fixes.fix_all(before, fixes.FixContext(None))
    assert "TrainFlow()" not in (plan.changes[0].new if plan.changes else before)
    assert "MF112" in {f.code for f in remaining}


# -- MF204 ---------------------------------------------------------------------------------------------------------


def test_mf204_adds_a_test_mode_parameter_and_the_import_once():
    before = dedent('''
        """A flow."""
        from metaflow import FlowSpec, step  # the usual


        class TrainFlow(FlowSpec):
            """Trains."""

            @step
            def start(self):
                self.shards = [1, 2, 3]
                self.next(self.train, foreach="shards")

            @step
            def train(self):
                self.next(self.join)

            @step
            def join(self, inputs):
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            TrainFlow()
        ''')
    plan = fix(before, "MF204")
    assert plan.title == "Add a `test_mode` Parameter to the flow"
    after = plan.changes[0].new
    assert after == before.replace("from metaflow import FlowSpec, step", "from metaflow import Parameter, FlowSpec, step") \
        .replace('''    """Trains."""\n''', f'''    """Trains."""

    test_mode = Parameter("test_mode", type=bool, default=False, help="{fixes.TEST_MODE_HELP}")
''')
    assert after.count("Parameter,") == 1
    assert_gone(after, "MF204")


# -- MF205 ---------------------------------------------------------------------------------------------------------


def test_mf205_shrinks_the_foreach_list_under_test_mode():
    before = flow_file('''
        @step
        def start(self):
            self.items = list(range(100))
            self.next(self.work, foreach="items")

        @step
        def work(self):
            self.value = self.input * 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.value for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            pass
        ''')
    plan = fix(before, "MF205")
    assert plan.title == "Run 2 `items` branches of start under test mode"
    after = plan.changes[0].new
    assert after == before.replace('''        self.items = list(range(100))
''', '''        self.items = list(range(100))
        if self.test_mode:
            self.items = self.items[:2]  # test mode: two branches instead of all
''')
    assert_gone(after, "MF205")
    assert_gone(after, "MF206")  # the foreach is now shortened under test mode too


def test_mf205_without_foreach_inserts_an_honest_template_in_start():
    before = flow_file('''
        @step
        def start(self):
            """Loads the data."""
            self.rows = 1000
            self.next(self.end)

        @step
        def end(self):
            pass
        ''')
    plan = fix(before, "MF205")
    assert plan.title == "Add an `if self.test_mode:` block to fill in at the top of start"
    after = plan.changes[0].new
    assert after == before.replace('''        """Loads the data."""
''', '''        """Loads the data."""
        if self.test_mode:
            # Test mode: make the run small here (fewer rows, a shorter foreach list, fewer epochs).
            pass
''')
    assert_gone(after, "MF205")


# -- MF202 ---------------------------------------------------------------------------------------------------------

HELPER_FLOW = '''
import math
from statistics import mean as average

from metaflow import FlowSpec, Parameter, step

# Scores a list of numbers.
def score(values):
    return math.sqrt(average(values))


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 10 if self.test_mode else 1000
        self.score = score([1, 2, 3])
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''


def test_mf202_moves_a_helper_to_a_new_common_py(tmp_path):
    path = tmp_path / "train.py"
    before = dedent(HELPER_FLOW)
    plan = fix(before, "MF202", path)
    assert plan.title == "Move `score` to common.py"
    flow, common = plan.changes
    assert flow.path == path and common.path == tmp_path / "common.py" and common.is_new
    assert flow.new == before.replace('''
# Scores a list of numbers.
def score(values):
    return math.sqrt(average(values))
''', "").replace("from metaflow import FlowSpec, Parameter, step\n",
                 "from metaflow import FlowSpec, Parameter, step\nfrom common import score\n")
    assert common.new == dedent('''
        import math
        from statistics import mean as average


        # Scores a list of numbers.
        def score(values):
            return math.sqrt(average(values))
        ''')
    assert_gone(flow.new, "MF202", path)
    # The moved code works: common.py imports what it needs.
    namespace: dict = {}
    exec(compile(common.new, "common.py", "exec"), namespace)
    assert namespace["score"]([4, 4]) == 2.0


def test_mf202_appends_to_an_existing_common_py_without_rewriting_it(tmp_path):
    path = tmp_path / "train.py"
    existing = dedent('''
        """Shared code."""
        import math  # already here


        def load():
            return [1,2,3]   # odd formatting stays
        ''')
    plan = fix(dedent(HELPER_FLOW), "MF202", path, read=lambda p: existing if p.name == "common.py" else None)
    common = plan.changes[1]
    assert common.old == existing and not common.is_new
    assert common.new == dedent('''
        """Shared code."""
        import math  # already here
        from statistics import mean as average


        def load():
            return [1,2,3]   # odd formatting stays


        # Scores a list of numbers.
        def score(values):
            return math.sqrt(average(values))
        ''')
    # Only insertions: every line of the old file is still there, in order.
    assert all(edit.start == edit.end for edit in line_edits(existing, common.new))


def test_mf202_refuses_a_helper_that_needs_the_flow_file(tmp_path):
    source = dedent('''
        from metaflow import FlowSpec, Parameter, step

        RATES = [0.1, 0.2]

        def best():
            return min(RATES)


        class TrainFlow(FlowSpec):
            test_mode = Parameter("test_mode", type=bool, default=False)

            @step
            def start(self):
                self.rate = best() if self.test_mode else 0.3
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            TrainFlow()
        ''')
    with pytest.raises(FixError, match="uses RATES from the flow file"):
        fix(source, "MF202", tmp_path / "train.py")


# -- MF203 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [
    (None, ".metaflow\n.metaflow_spin\n"),
    ("", ".metaflow\n.metaflow_spin\n"),
    ("*.pyc", "*.pyc\n.metaflow\n.metaflow_spin\n"),
    ("*.pyc\n", "*.pyc\n.metaflow\n.metaflow_spin\n"),
    ("*.pyc\r\n", "*.pyc\r\n.metaflow\r\n.metaflow_spin\r\n"),
    ("/.metaflow/\n", "/.metaflow/\n.metaflow_spin\n"),
])
def test_gitignore_text(before, after):
    assert fixes.gitignore_with(before, [".metaflow", ".metaflow_spin"]) == after


def git_project(tmp_path: Path, gitignore: str | None) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if gitignore is not None:
        (tmp_path / ".gitignore").write_text(gitignore)
    path = tmp_path / "train.py"
    path.write_text(flow_file(STEPS_USING_TEST_MODE))
    return path


@pytest.mark.parametrize("existing", [None, "__pycache__/"])
def test_mf203_appends_to_gitignore_or_creates_it(tmp_path, existing):
    path = git_project(tmp_path, existing)
    source = path.read_text()
    plan = fix(source, "MF203", path, project=Project(tmp_path))
    change = plan.changes[0]
    assert change.path == tmp_path / ".gitignore"
    assert change.is_new is (existing is None)
    expected = ("" if existing is None else existing + "\n") + ".metaflow\n.metaflow_spin\n"
    assert change.new == expected
    change.path.write_text(change.new)
    assert_gone(source, "MF203", path, Project(tmp_path))


# -- MF301 ---------------------------------------------------------------------------------------------------------

PINNED_FLOW = flow_file('''
    @pypi(packages={"pandas": "", 'scikit-learn': ">=1.0"})
    @step
    def start(self):
        self.rows = 10 if self.test_mode else 1000
        self.next(self.end)

    @step
    def end(self):
        pass
    ''', head="from metaflow import FlowSpec, Parameter, pypi, step\n")


def test_mf301_pins_to_the_installed_version():
    installed = {"pandas": "2.2.1", "scikit-learn": "1.5.0"}
    source = PINNED_FLOW
    for package, version in installed.items():
        finding = next(f for f in findings(source) if f.code == "MF301" and f.data["package"] == package)
        plan = fixes.fix_finding(source, finding, fixes.FixContext(None, installed_version=installed.get))
        assert plan.title == f"Pin `{package}` to {version} (installed in the project's Python)"
        source = plan.changes[0].new
    assert source == PINNED_FLOW.replace('"pandas": ""', '"pandas": "2.2.1"').replace(
        "'scikit-learn': \">=1.0\"", "'scikit-learn': \"1.5.0\"")
    assert_gone(source, "MF301")


def test_mf301_offers_nothing_for_a_package_that_is_not_installed():
    finding = next(f for f in findings(PINNED_FLOW) if f.code == "MF301")
    with pytest.raises(FixError, match="not installed"):
        fixes.fix_finding(PINNED_FLOW, finding, fixes.FixContext(None, installed_version=lambda name: None))


def test_installed_versions_come_from_the_interpreter():
    installed = versions.query(sys.executable)
    assert installed.error is None
    from importlib.metadata import version

    assert installed.version_of("libcst") == version("libcst")
    assert installed.version_of("LibCST") == version("libcst")
    assert installed.version_of("yaml") == version("PyYAML")  # import name -> distribution
    assert installed.version_of("surely-not-installed-anywhere") is None
    broken = versions.query("/nonexistent/python")
    assert broken.error and broken.version_of("libcst") is None


# -- noqa ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "after"), [
    ("    @retry(times=9)\n", "    @retry(times=9)  # noqa: MF103\n"),
    ("    @retry(times=9)   # flaky\n", "    @retry(times=9)   # flaky  # noqa: MF103\n"),
    ("    @retry(times=9)  # noqa: MF101\n", "    @retry(times=9)  # noqa: MF101, MF103\n"),
    ("    @retry(times=9)  # noqa:MF101 (why)\n", "    @retry(times=9)  # noqa:MF101, MF103 (why)\n"),
])
def test_noqa_comment(line, after):
    source = "class A:\n" + line + "    def f(self): pass\n"
    assert fixes.add_noqa(source, 1, "MF103") == "class A:\n" + after + "    def f(self): pass\n"


def test_noqa_refusals():
    with pytest.raises(FixError, match="bare"):
        fixes.add_noqa("x = 1  # noqa\n", 0, "MF103")
    with pytest.raises(FixError, match="inside a string"):
        fixes.add_noqa('x = """\nabc\n"""\n', 1, "MF103")


def test_noqa_silences_the_finding():
    before = flow_file('''
        @retry(times=9)
        @step
        def start(self):
            self.rows = 10 if self.test_mode else 1000
            self.next(self.end)

        @step
        def end(self):
            pass
        ''')
    finding = only(before, "MF103")
    plan = fixes.noqa_plan(before, None, finding.span.line, "MF103")
    assert plan.title == "Disable MF103 for this line"
    assert plan.changes[0].new == before.replace("@retry(times=9)\n", "@retry(times=9)  # noqa: MF103\n")
    assert_gone(plan.changes[0].new, "MF103")


# -- fix all -------------------------------------------------------------------------------------------------------


def test_fix_all_applies_only_the_safe_fixes():
    before = dedent('''
        from metaflow import FlowSpec, Parameter, retry, step


        def helper(x):
            return x + 1


        class TrainFlow(FlowSpec):
            alpha = Parameter("alpha", default=0.1)

            @step
            @retry(times=7)
            def start(self):
                self.value = helper(1)
                self.next(self.end)

            @step
            def end(self):
                pass
        ''')
    plan, remaining = fixes.fix_all(before, fixes.FixContext(None))
    assert sorted(plan.fixed) == ["MF101", "MF103", "MF112"]
    assert plan.changes[0].new == before.replace('''    @step
    @retry(times=7)
''', '''    @retry(times=4)
    @step
''') + TAIL.replace("TrainFlow()", "TrainFlow()")
    left = {f.code for f in remaining}
    assert left == {"MF202", "MF204"}  # not safe: moving code, adding a command-line option
    assert not left & fix_table.safe_codes()
    assert {f.code for f in findings(plan.changes[0].new)} == left


def test_fix_all_with_nothing_to_do_changes_nothing():
    source = flow_file(STEPS_USING_TEST_MODE)
    plan, remaining = fixes.fix_all(source, fixes.FixContext(None))
    assert plan.changes == [] and remaining == []


def test_fixes_refuse_source_that_does_not_parse():
    with pytest.raises(FixError, match="does not parse"):
        fixes.move_step_decorator("def f(:\n", 0)


# -- edits ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb", "a\nb\nc\n"),
    ("", "x\n"),
    ("a\nb\nc\n", "c\n"),
    ("é\n😀\n", "é\nx\n😀\n"),
])
def test_line_edits_round_trip(old, new):
    assert apply_line_edits(old, line_edits(old, new)) == new


def test_mf103_times_written_as_a_string():
    before = flow_file('''
        @retry(times="6")
        @step
        def start(self):
            self.rows = 10 if self.test_mode else 1000
            self.next(self.end)

        @step
        def end(self):
            pass
        ''')
    after = fix(before, "MF103").changes[0].new
    assert after == before.replace('times="6"', "times=4")
    assert_gone(after, "MF103")
