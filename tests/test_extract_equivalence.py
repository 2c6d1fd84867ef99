"""Proof that "Extract step body to common.py" keeps a flow's results: real Metaflow runs before and after.

For each flow: run it, extract every step that can be extracted (one after another, re-reading the files as an
editor would), run it again and compare every user artifact and the printed output of every task (by step and
foreach position) through the Metaflow client. The runs are seeded (`random.seed(0)` in every task via sitecustomize, PYTHONHASHSEED=0) so
flows that shuffle or pick at random, like the tutorials, are comparable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.refactor.extract import ExtractError, can_extract, extract_step

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
TUTORIALS = Path(__import__("metaflow").__file__).parent / "tutorials"

SITECUSTOMIZE = "import random\nrandom.seed(0)\n"

READER = textwrap.dedent(
    """
    import json, pickle, sys
    from metaflow import Flow, Run, namespace

    namespace(None)
    flow_name, run_ids = sys.argv[1], sys.argv[2:]

    def key(task):
        stack = task["_foreach_stack"].data if "_foreach_stack" in task else []
        return task.parent.id + "/" + ",".join(str(getattr(frame, "index", frame)) for frame in (stack or []))

    runs = []
    for run_id in run_ids:
        tasks = {}
        for step in Run(flow_name + "/" + run_id).steps():
            for task in step.tasks():
                artifacts = {a.id: a.data for a in task.artifacts}
                artifacts["<stdout>"] = task.stdout
                tasks[key(task)] = artifacts
        runs.append(tasks)
    first, second = runs
    report = {"tasks": sorted(first), "differences": [], "compared": 0}
    if sorted(first) != sorted(second):
        report["differences"].append(["task sets differ", sorted(first), sorted(second)])
    for task, artifacts in first.items():
        other = second.get(task, {})
        if sorted(artifacts) != sorted(other):
            report["differences"].append([task, "names", sorted(artifacts), sorted(other)])
        for name, value in artifacts.items():
            if name == "name" or name not in other:
                continue
            report["compared"] += 1
            same = value == other[name]
            if same is not True:
                try:
                    same = pickle.dumps(value) == pickle.dumps(other[name])
                except Exception:
                    same = False
            if not same:
                report["differences"].append([task, name, repr(value)[:200], repr(other[name])[:200]])
    print(json.dumps(report))
    """
)


def _env(directory: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(METAFLOW_USER="tester", USERNAME="tester", USER="tester", HOME=str(directory),
               PYTHONHASHSEED="0", PYTHONPATH=str(directory / "_seed"))
    return env


def run_flow(directory: Path, script: str) -> str:
    """Runs the flow; returns its run id."""
    id_file = directory / "run_id.txt"
    result = subprocess.run([sys.executable, script, "--no-pylint", "run", "--run-id-file", str(id_file)],
                            cwd=directory, env=_env(directory), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return id_file.read_text().strip()


def compare_runs(directory: Path, flow_name: str, first: str, second: str) -> dict:
    reader = directory / "_read_artifacts.py"
    reader.write_text(READER)
    result = subprocess.run([sys.executable, str(reader), flow_name, first, second], cwd=directory,
                            env=_env(directory), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def findings(path: Path) -> Counter:
    found = check_source(path.read_text(), path, Settings(select=("MF0", "MF1"))).findings
    return Counter((f.code, f.message) for f in found)


def extract_all(flow_path: Path) -> list[str]:
    """Extracts every step that can be extracted, each from the files as they are after the previous one."""
    extracted = []
    module = parse_module(flow_path.read_text(), flow_path)
    step_names = [s.name for flow in module.flows for s in flow.own_steps]
    for step_name in step_names:
        source = flow_path.read_text()
        module = parse_module(source, flow_path)
        if can_extract(module, step_name) is not None:
            continue
        common_path = flow_path.parent / "common.py"
        common = common_path.read_text() if common_path.exists() else None
        result = extract_step(source, flow_path, step_name, common)
        if common is not None:
            _assert_appended(common, result.common_source)
        assert result.common_is_new == (common is None)
        compile(result.flow_source, str(flow_path), "exec")
        compile(result.common_source, "common.py", "exec")
        flow_path.write_text(result.flow_source)
        result.common_path.write_text(result.common_source)
        extracted.append(step_name)
    return extracted


def _assert_appended(old: str, new: str) -> None:
    """The old common.py is kept verbatim, apart from whole import lines added at its top."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    added = [line for line in new_lines[: len(new_lines) - len(old_lines)]]
    remaining = list(new_lines)
    for line in old_lines:
        while remaining and remaining[0] != line:
            dropped = remaining.pop(0)
            assert dropped.startswith(("import ", "from ")), f"changed line in common.py: {dropped!r}"
        assert remaining, f"line {line!r} of common.py is gone"
        remaining.pop(0)
    del added


def extract_again_refuses_or_works(flow_path: Path, step_names: list[str]) -> None:
    """A second extraction of the same steps is refused with a reason (the step only calls common.py)."""
    for step_name in step_names:
        source = flow_path.read_text()
        reason = can_extract(parse_module(source, flow_path), step_name)
        assert reason is not None and "already" in reason, (step_name, reason)
        with pytest.raises(ExtractError):
            extract_step(source, flow_path, step_name, (flow_path.parent / "common.py").read_text())


def prove(directory: Path, script: str, flow_name: str, minimum_steps: int, prepare=None) -> dict:
    (directory / "_seed").mkdir(exist_ok=True)
    (directory / "_seed" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    if prepare is not None:
        prepare(directory)
    flow_path = directory / script
    before_findings = findings(flow_path)
    first = run_flow(directory, script)
    extracted = extract_all(flow_path)
    assert len(extracted) >= minimum_steps, extracted
    extract_again_refuses_or_works(flow_path, extracted)
    after_findings = findings(flow_path)
    assert not (after_findings - before_findings), after_findings - before_findings
    second = run_flow(directory, script)
    report = compare_runs(directory, flow_name, first, second)
    assert report["differences"] == [], report["differences"]
    assert report["compared"] > 0 and report["tasks"]
    return report


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", ".metaflow"))
    return target


def test_linear_flow(tmp_path):
    directory = _copy(FIXTURES / "linear", tmp_path / "linear")
    report = prove(directory, "flow.py", "LinearFlow", 3)
    common = (directory / "common.py").read_text()
    assert "def scaled(" in common and "def unused_helper" not in common
    assert "from common import SCALE" in (directory / "flow.py").read_text()  # still used by the class body
    assert any(task.startswith("train") for task in report["tasks"])


def test_foreach_join_and_static_split(tmp_path):
    directory = _copy(FIXTURES / "foreach", tmp_path / "foreach")
    prove(directory, "flow.py", "ForeachFlow", 8)
    flow = (directory / "flow.py").read_text()
    assert "common.body(self.input, self.index)" in flow
    assert "self.merge_artifacts(inputs, include=[\"shared\"])\n        self.words" in flow


def test_existing_common_module(tmp_path):
    directory = _copy(FIXTURES / "with_common", tmp_path / "with_common")
    old_common = (directory / "common.py").read_text()
    prove(directory, "flow.py", "CommonFlow", 2)
    new_common = (directory / "common.py").read_text()
    assert "def start_step(" in new_common
    assert "import os.path\n" in new_common.split("def start(")[0]
    _assert_appended(old_common, new_common)


@pytest.mark.parametrize("tutorial, script, flow_name, minimum", [
    ("00-helloworld", "helloworld.py", "HelloFlow", 3),
    ("01-playlist", "playlist.py", "PlayListFlow", 5),
    ("02-statistics", "stats.py", "MovieStatsFlow", 3),
])
def test_metaflow_tutorials(tmp_path, tutorial, script, flow_name, minimum):
    directory = _copy(TUTORIALS / tutorial, tmp_path / tutorial)
    prove(directory, script, flow_name, minimum)


def test_closures_and_names_passed_from_the_flow_file(tmp_path):
    """Lambdas and nested functions reading artifacts (issue 13, category 5), and a class, a twice-bound constant
    and a `__file__` helper of the flow file that the function takes as parameters."""
    directory = _copy(FIXTURES / "closures", tmp_path / "closures")
    prove(directory, "flow.py", "ClosureFlow", 4)
    flow = (directory / "flow.py").read_text()
    common = (directory / "common.py").read_text()
    assert "common.pack( Box, ClosureFlow, SIZES, here, )" in " ".join(flow.split())
    assert "def pack(Box, ClosureFlow, SIZES, here):" in common
    assert "key=lambda word: order.index(word)" in common and "def weight(word):" in common
    assert "class Box" not in common and "def here" not in common


def test_bodies_that_need_the_flow_itself(tmp_path):
    """Flow methods called in the body (issue 13, category 1), `self` passed on and `setattr`/`getattr` (2),
    `merge_artifacts` in the middle of a join (3), a lambda kept beyond a call, `del self.x` (5), an artifact read
    only on the path where it was set (`end`: passing it in would fail on this run) and an early `return` in the
    last step (4): each body moves written against a `flow` parameter."""
    directory = _copy(FIXTURES / "needs_flow", tmp_path / "needs_flow")
    prove(directory, "flow.py", "NeedsFlow", 5)
    flow = (directory / "flow.py").read_text()
    common = (directory / "common.py").read_text()
    for call in ("common.start(self)", "common.left(self)", "common.right(self)", "common.join(self, inputs)",
                 "common.end(self)"):
        assert call in flow
    assert "flow._prepare()" in common and "flow.merge_artifacts(inputs, exclude=[\"value\"])" in common
    assert "describe(flow)" in common and "from metaflow import current" in common


def selections(source: str) -> list[tuple[int, int]]:
    """The 0-based line ranges between `# select from` and `# select to` marks, last first (so earlier lines stay)."""
    lines = source.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if line.strip() == "# select from"]
    ends = [i - 1 for i, line in enumerate(lines) if line.strip() == "# select to"]
    return sorted(zip(starts, ends), reverse=True)


def test_selected_statements(tmp_path):
    """Extract selection (issue 13): statements inside steps, sharing locals with the statements around them (a
    local read before, locals and artifacts set for after, an artifact set on some paths), in a plain step and in a
    join after merge_artifacts; the runs before and after have the same artifacts in every task."""
    directory = _copy(FIXTURES / "selection", tmp_path / "selection")
    (directory / "_seed").mkdir()
    (directory / "_seed" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    flow_path = directory / "flow.py"
    first = run_flow(directory, "flow.py")
    before_findings = findings(flow_path)
    common = None
    original = parse_module(flow_path.read_text(), flow_path).flows[0]
    for top, bottom in selections(flow_path.read_text()):  # the last first: earlier lines stay where they are
        step = next(s for s in original.own_steps if s.node.lineno <= top <= s.node.end_lineno)
        source = flow_path.read_text()
        moved_by = parse_module(source, flow_path).flows[0].steps[step.name].node.lineno - step.node.lineno  # imports
        lines = (top + moved_by, bottom + moved_by)
        result = extract_step(source, flow_path, step.name, common, lines=lines)
        flow_path.write_text(result.flow_source)
        result.common_path.write_text(result.common_source)
        common = result.common_source
    flow = flow_path.read_text()
    assert "self.total, large, scaled, total = common.start_part(self.rate, self.base, rows)" in flow
    assert "if large is not common.UNSET:" in flow
    assert "self.merge_note, count = common.join_part(self.items, self.label, count)" in flow
    assert not (findings(flow_path) - before_findings)
    second = run_flow(directory, "flow.py")
    report = compare_runs(directory, "SelectionFlow", first, second)
    assert report["differences"] == [] and report["compared"] > 0


def test_part_before_a_conditional_transition(tmp_path):
    """Steps that return early after a `self.next` inside an `if` (issue 13, category 4), one taking the early
    transition and one not: the statements before that `if` move (a local the step reads after them returned, an
    artifact set on some paths through UNSET), the transition stays in the step, and every artifact is the same."""
    directory = _copy(FIXTURES / "early_transition", tmp_path / "early_transition")
    prove(directory, "flow.py", "EarlyTransitionFlow", 3)
    flow = (directory / "flow.py").read_text()
    assert "        self.values, self.total, huge, scale = common.start_part()\n" in flow
    assert "        self.doubled, offset = common.middle_part(self.values)\n        if not self.doubled:\n" in flow
    assert flow.count("            return\n") == 2 and flow.count("self.next(") == 4
