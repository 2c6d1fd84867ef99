"""RunSpecs executed for real with Metaflow: test mode, one worker, the IDE tag; and file names a shell would misread.

Slow: every test here runs a real flow (local datastore and metadata, offline).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.launch.runspec import IDE_TAG, run_spec

FIXTURES = Path(__file__).parent / "fixtures" / "launch"
pytestmark = pytest.mark.slow

READ_RUN = textwrap.dedent("""
    import json, sys
    from metaflow import Flow, namespace
    namespace(None)
    run = Flow(sys.argv[1]).latest_run
    start = run["start"].task.data
    join = run["join"].task.data if "join" in [s.id for s in run] else None
    print(json.dumps({
        "id": run.id, "tags": sorted(run.user_tags), "successful": run.successful,
        "quick_run": getattr(start, "quick_run", None),
        "spans": [list(s) for s in join.spans] if join is not None else None,
    }))
""")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: no variable of the developer's leaks into the run."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "METAFLOW_USER": "tester",
            "LANG": "C.UTF-8", **extra}


def read_run(cwd: Path, flow: str, env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", READ_RUN, flow], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_runspec_runs_the_foreach_in_test_mode_one_task_at_a_time(tmp_path):
    flow_file = tmp_path / "flows" / "foreach_flow.py"
    flow_file.parent.mkdir()
    shutil.copy(FIXTURES / "foreach_flow.py", flow_file)
    spec = run_spec(parse_module(flow_file.read_text(), flow_file).flows[0], flow_file, Settings())
    assert spec.test_option == "--test_mode"  # the option name, not the attribute `quick_run`
    env = spec.environment(clean_env(tmp_path, FOREACH_ITEMS="4", FOREACH_SLEEP="1"))
    assert env["PYTHONUNBUFFERED"] == "1"
    result = subprocess.run(spec.command(sys.executable), cwd=spec.cwd, env=env, capture_output=True, text=True,
                            timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Done!" in output
    run = read_run(Path(spec.cwd), "ForeachFlow", env)
    assert IDE_TAG in run["tags"] and run["successful"]
    assert run["quick_run"] is True
    spans = run["spans"]
    assert [item for item, _, _ in spans] == [0, 1, 2, 3]  # 4 items: test mode took effect (else 40)
    ordered = sorted((start, end) for _, start, end in spans)
    for (_, end), (next_start, _) in zip(ordered, ordered[1:]):
        assert end <= next_start, f"foreach tasks overlapped: {ordered}"
    assert (Path(spec.cwd) / ".metaflow" / "ForeachFlow").is_dir()  # the datastore is in the flow's folder


SMALL_FLOW = """
from metaflow import FlowSpec, Parameter, step


class OddNameFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.seen = self.test_mode
        self.next(self.end)

    @step
    def end(self):
        print("test mode was", self.seen)


if __name__ == "__main__":
    OddNameFlow()
"""


@pytest.mark.parametrize("name", ["$(touch pwned).py", "it's a \"quoted\" flow `id` ; x.py"])
def test_file_names_that_a_shell_would_run_are_only_file_names(tmp_path, name):
    folder = tmp_path / "odd $HOME dir"
    folder.mkdir()
    flow_file = folder / name
    flow_file.write_text(SMALL_FLOW)
    env = clean_env(tmp_path)
    cli = Path(sys.executable).with_name("metaflow-lsp")
    result = subprocess.run([str(cli), "test-mode", str(flow_file)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Done!" in output and "test mode was True" in output
    for where in (tmp_path, folder, Path.cwd()):
        assert not (where / "pwned").exists(), f"a shell ran part of the file name in {where}"
    assert not list(tmp_path.rglob("pwned")) and not (tmp_path / "x").exists()
    run = read_run(folder, "OddNameFlow", env)
    assert IDE_TAG in run["tags"]


def test_test_mode_cli_returns_metaflow_exit_code(tmp_path):
    flow_file = tmp_path / "failing.py"
    flow_file.write_text(SMALL_FLOW.replace('self.seen = self.test_mode', 'raise RuntimeError("boom")'))
    cli = Path(sys.executable).with_name("metaflow-lsp")
    result = subprocess.run([str(cli), "test-mode", str(flow_file)], cwd=tmp_path, env=clean_env(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "boom" in result.stdout + result.stderr


def test_test_mode_cli_under_debugpy_without_waiting_runs_to_the_end(tmp_path):
    flow_file = tmp_path / "small.py"
    flow_file.write_text(SMALL_FLOW)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cli = Path(sys.executable).with_name("metaflow-lsp")
    result = subprocess.run([str(cli), "test-mode", str(flow_file), "--debug-port", str(port), "--no-wait"],
                            cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "test mode was True" in result.stdout + result.stderr
