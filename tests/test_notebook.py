"""`metaflow-lsp notebook`: the debug notebook of a step, generated after a real local run (local datastore and
metadata, offline) and executed headless with nbclient and ipykernel, as a user's Jupyter would run it.

Slow where a flow runs (the run is made once per module); the error cases that need no run are fast.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from metaflow_lsp.builder import parse_module
from metaflow_lsp.notebook.plan import common_calls
from metaflow_lsp.refactor.extract import extract_step

FIXTURES = Path(__file__).parent / "fixtures" / "notebook"
CLI = Path(sys.executable).with_name("metaflow-lsp")

# The run's artifacts as Metaflow's Client reads them, in a process of its own: what the notebook must show.
READ_TASK = textwrap.dedent("""
    import json, sys
    from metaflow import Flow
    run = Flow(sys.argv[1]).latest_run
    tasks = sorted(run[sys.argv[2]], key=lambda t: (t.index or 0, int(t.id)))
    print(json.dumps({"pathspec": tasks[0].pathspec, "others": [t.pathspec for t in tasks[1:]],
                      "artifacts": {a.id: a.data for a in tasks[0] if not a.id.startswith("_") and a.id != "name"}}))
""")


def clean_env(home: Path) -> dict[str, str]:
    """A minimal environment: no variable of the developer's leaks into the run or the kernel."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "METAFLOW_USER": "tester",
            "LANG": "C.UTF-8"}


def notebook_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), "notebook", *args], cwd=cwd, env=clean_env(cwd), capture_output=True, text=True,
                          timeout=60)


def run_flow(folder: Path, script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, script, "--no-pylint", "run", "--max-workers", "1"], cwd=folder,
                          env=clean_env(folder), capture_output=True, text=True, timeout=300)


def read_task(folder: Path, flow: str, step: str) -> dict:
    result = subprocess.run([sys.executable, "-c", READ_TASK, flow, step], cwd=folder, env=clean_env(folder),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def execute(path: Path, *extra_cells: str) -> nbformat.NotebookNode:
    """Runs the notebook (plus `extra_cells`, the test's assertions) in a fresh kernel of this interpreter, with
    the notebook's folder as working directory; raises CellExecutionError when a cell fails."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    notebook.cells += [nbformat.v4.new_code_cell(textwrap.dedent(cell)) for cell in extra_cells]
    saved = dict(os.environ)
    os.environ.update(clean_env(path.parent))  # the kernel inherits this process's environment
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.outputs if output.get("output_type") == "stream")


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> Path:
    """The fixture folder after one real run of ScoreFlow and one of FailingFlow (which fails in `body`)."""
    folder = tmp_path_factory.mktemp("notebook") / "flows"
    shutil.copytree(FIXTURES, folder)
    result = run_flow(folder, "flow.py")
    assert result.returncode == 0, result.stderr[-3000:]
    failed = run_flow(folder, "failing.py")
    assert failed.returncode != 0 and "ZeroDivisionError" in failed.stderr + failed.stdout
    return folder


# -- after a real run ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_notebook_binds_the_run_s_artifacts_and_calls_common_again(ran):
    expected = read_task(ran, "ScoreFlow", "score")
    result = notebook_cli("flow.py", "--step", "score", cwd=ran)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == ran / "debug_score.ipynb"
    first = nbformat.read(path, as_version=4).cells[1].source.splitlines()
    assert first[:2] == ["%load_ext autoreload", "%autoreload 2"] and any(l.startswith("import common") for l in first)
    notebook = execute(path, f"""
        import json
        expected = json.loads({json.dumps(json.dumps(expected))})
        assert task.pathspec == expected["pathspec"]  # the foreach's first task
        artifacts = expected["artifacts"]
        # What the step did not write: the task's own values; what it wrote: <name>_recorded.
        assert (words, scale) == (artifacts["words"], artifacts["scale"]) == (["a", "bb", "ccc"], 3)
        assert (label_recorded, points_recorded) == (artifacts["label"], artifacts["points"]) == ("A", 3)
        # What it received: the foreach item, and the parent's `label` (start set it); `points` it had none of.
        assert (input, index, label) == ("a", 0, "none yet")
        assert "points" not in globals()
        # The re-call of common.score equals the recorded artifacts.
        assert (label_new, points_new) == (label_recorded, points_recorded)
    """)
    assert printed(notebook).count("same as the run") == 2
    for other in expected["others"]:  # the cell listing the foreach's other tasks
        assert other in printed(notebook)


@pytest.mark.slow
def test_a_change_to_common_py_shows_against_the_run(ran, tmp_path):
    folder = tmp_path / "flows"
    shutil.copytree(ran, folder, symlinks=True)
    path = Path(notebook_cli("flow.py", "--step", "score", cwd=folder).stdout.strip())
    common = folder / "common.py"
    common.write_text(common.read_text().replace("item.upper()", "item.lower()"))
    notebook = execute(path)
    assert "label DIFFERENT from the run" in printed(notebook) and "points same as the run" in printed(notebook)


@pytest.mark.slow
def test_a_join_gets_its_inputs_and_an_existing_notebook_is_never_overwritten(ran, tmp_path):
    folder = tmp_path / "flows"
    shutil.copytree(ran, folder, symlinks=True)
    (folder / "debug_join.ipynb").write_text("mine")
    result = notebook_cli("flow.py", "--step", "join", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == folder / "debug_join_2.ipynb"
    assert (folder / "debug_join.ipynb").read_text() == "mine"
    notebook = execute(folder / "debug_join_2.ipynb", """
        assert sorted(inp.points for inp in inputs) == [3, 6, 9]
        assert total_new == total_recorded == 18
    """)
    assert "total same as the run" in printed(notebook)


@pytest.mark.slow
def test_the_default_step_is_the_first_calling_common_and_output_is_honoured(ran, tmp_path):
    result = notebook_cli("flow.py", "--output", str(tmp_path / "nb" / "mine.ipynb"), cwd=ran)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == tmp_path / "nb" / "mine.ipynb"
    assert "metaflow.Task('ScoreFlow/" in (tmp_path / "nb" / "mine.ipynb").read_text()
    assert "/score/" in (tmp_path / "nb" / "mine.ipynb").read_text()
    into_folder = notebook_cli("flow.py", "--step", "end", "--output", str(tmp_path / "nb"), cwd=ran)
    assert Path(into_folder.stdout.strip()) == tmp_path / "nb" / "debug_end.ipynb"


@pytest.mark.slow
def test_all_namespaces_only_when_asked(ran, tmp_path):
    plain = notebook_cli("flow.py", "--step", "end", "--output", str(tmp_path / "a.ipynb"), cwd=ran)
    wide = notebook_cli("flow.py", "--step", "end", "--output", str(tmp_path / "b.ipynb"), "--all-namespaces",
                        cwd=ran)
    assert plain.returncode == wide.returncode == 0
    assert "namespace(None)" not in (tmp_path / "a.ipynb").read_text()
    assert "metaflow.namespace(None)" in (tmp_path / "b.ipynb").read_text()
    execute(tmp_path / "b.ipynb", "assert report_recorded == 'total 18' and total == 18")


@pytest.mark.slow
def test_a_run_that_failed_before_the_step_is_a_clear_error(ran):
    result = notebook_cli("failing.py", "--step", "join", cwd=ran)
    assert result.returncode == 1 and result.stdout == ""
    assert "failed before step `join`" in result.stderr and "step `body` failed" in result.stderr
    assert not list(ran.glob("debug_join*.ipynb"))


@pytest.mark.slow
def test_the_failed_step_itself_gets_a_notebook_without_recorded_values(ran, tmp_path):
    result = notebook_cli("failing.py", "--step", "body", "--output", str(tmp_path / "body.ipynb"), cwd=ran)
    assert result.returncode == 0, result.stderr
    shutil.copy(tmp_path / "body.ipynb", ran / "debug_failed_body.ipynb")
    notebook = execute(ran / "debug_failed_body.ipynb", "assert (input, items) == (1, [1, 2])",
                       "assert 'ratio_recorded' not in globals()")
    assert "This task failed in the run" in printed(notebook)


@pytest.mark.slow
def test_a_step_that_never_ran_is_a_clear_error(ran, tmp_path):
    # The same flow with a step added since the run.
    source = (ran / "flow.py").read_text().replace("self.next(self.end)", "self.next(self.extra)").replace(
        "    @step\n    def end(self):", "    @step\n    def extra(self):\n        self.next(self.end)\n\n"
                                       "    @step\n    def end(self):")
    (ran / "flow_v2.py").write_text(source)
    result = notebook_cli("flow_v2.py", "--step", "extra", cwd=ran)
    assert result.returncode == 1
    assert "step `extra` never ran in run ScoreFlow/" in result.stderr and "finished without it" in result.stderr


@pytest.mark.slow
def test_an_unknown_run_id_is_a_clear_error(ran):
    result = notebook_cli("flow.py", "--run-id", "12345", cwd=ran)
    assert result.returncode == 1 and "no local run ScoreFlow/12345" in result.stderr


# -- without a run -------------------------------------------------------------------------------------------------


def test_no_run_yet_is_a_clear_error(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "flows")
    result = notebook_cli("flow.py", cwd=tmp_path / "flows")
    assert result.returncode == 1
    assert "no local run of ScoreFlow yet" in result.stderr and "python flow.py run" in result.stderr
    assert not list((tmp_path / "flows").glob("*.ipynb"))


def test_an_unknown_step_or_file_is_a_clear_error(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "flows")
    unknown = notebook_cli("flow.py", "--step", "train", cwd=tmp_path / "flows")
    assert unknown.returncode == 1 and "no step `train` in ScoreFlow (its steps: start, score, join, end)" in unknown.stderr
    missing = notebook_cli("nothing.py", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_the_calls_extract_writes_are_the_ones_called_again():
    source = (Path(__file__).parent / "fixtures" / "extract" / "foreach" / "flow.py").read_text()
    extracted = extract_step(source, Path("flow.py"), "body", None).flow_source
    module = parse_module(extracted, Path("flow.py"))
    [call] = common_calls(module, module.flows[0].steps["body"], {})
    assert call.function == "body" and call.arguments == ("input", "index")
    # `even` is assigned on some paths only: through a local and common.UNSET, still the artifact `even`.
    assert call.targets == ("word", "position", "even") and call.unpacks
    joined = extract_step(extracted, Path("flow.py"), "join", extracted_common(source)).flow_source
    module = parse_module(joined, Path("flow.py"))
    [call] = common_calls(module, module.flows[0].steps["join"], {})
    assert call.arguments == ("inputs",) and call.targets == ("words", "evens")


def extracted_common(source: str) -> str:
    return extract_step(source, Path("flow.py"), "body", None).common_source


def test_a_call_with_a_local_argument_is_not_called_again():
    module = parse_module(textwrap.dedent("""
        from metaflow import FlowSpec, step
        import common as c

        class F(FlowSpec):
            @step
            def start(self):
                n = 3
                self.a = c.f(n)
                self.b = c.g(self.a, k=2)
                self.next(self.end)

            @step
            def end(self):
                pass
    """), Path("flow.py"))
    [call] = common_calls(module, module.flows[0].steps["start"], {})
    assert (call.function, call.arguments, call.keywords, call.targets) == ("g", ("a",), (("k", "2"),), ("b",))


def test_a_retried_task_is_read_at_its_last_attempt_and_nested_foreach_positions(tmp_path):
    """The layout Metaflow 2.19's local metadata writes (seen in the real runs above), for a case they do not make:
    attempt 0 failed, attempt 1 succeeded, inside two foreach levels."""
    from metaflow_lsp.launch import datastore

    task_dir = tmp_path / ".metaflow" / "F" / "7" / "inner" / "12"
    (task_dir / "_meta").mkdir(parents=True)
    (tmp_path / ".metaflow" / "F" / "7" / "_meta").mkdir()
    (tmp_path / ".metaflow" / "F" / "7" / "_meta" / "_self.json").write_text('{"ts_epoch": 5}')

    def field(name: str, value, attempt: int, stamp: int) -> None:
        (task_dir / "_meta" / f"sysmeta_{name}_{stamp}.json").write_text(json.dumps(
            {"field_name": name, "value": value, "tags": [f"attempt_id:{attempt}"]}))

    field("attempt", "0", 0, 100)
    field("attempt_ok", "False", 0, 101)
    field("foreach-execution-path", "outer:1,inner:0", 0, 100)
    field("attempt", "1", 1, 200)
    field("attempt_ok", "True", 1, 201)
    field("foreach-execution-path", "outer:1,inner:2", 1, 200)
    (task_dir / "0.data.json").write_text('{"objects": {"a": "x"}}')
    (task_dir / "1.data.json").write_text('{"objects": {"a": "x", "b": "y", "_task_ok": "z"}}')
    run = datastore.run_by_id(tmp_path, "F", "7")
    assert run is not None and run.task_ids("inner") == ("12",)
    record = datastore.task_record(tmp_path, run, "inner", "12")
    assert (record.pathspec, record.attempt, record.ok) == ("F/7/inner/12", 1, True)
    assert (record.foreach_index, record.artifacts) == (2, ("a", "b", "_task_ok"))
    assert datastore.run_by_id(tmp_path, "F", "../F") is None and datastore.run_by_id(tmp_path, "F", "8") is None


@pytest.mark.slow
def test_a_hostile_notebook_name_is_never_written_through(ran, tmp_path):
    """The repository may already hold `debug_score.ipynb` as a link out of the project, or as a FIFO: neither is
    opened; the notebook gets the next free name."""
    folder = tmp_path / "flows"
    shutil.copytree(ran, folder, symlinks=True)
    for earlier in folder.glob("debug_*.ipynb"):  # what other tests wrote beside the run
        earlier.unlink()
    outside = tmp_path / "outside.ipynb"
    outside.write_text("not yours")
    (folder / "debug_score.ipynb").symlink_to(outside)
    os.mkfifo(folder / "debug_score_2.ipynb")
    result = notebook_cli("flow.py", "--step", "score", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == folder / "debug_score_3.ipynb"
    assert outside.read_text() == "not yours"
    assert stat.S_ISFIFO((folder / "debug_score_2.ipynb").lstat().st_mode)
