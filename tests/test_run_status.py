"""The last local run's status per step (`metaflow.flowRunStatus`, launch/run_status.py), read from `.metaflow/`
after real Metaflow runs (local datastore and metadata, offline) and compared with what Metaflow's own client says.
The run-less case needs no run and is fast."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from lsprotocol import types

from metaflow_lsp.launch.run_status import run_status_json
from test_launch_run import clean_env
from test_lsp_session import TIMEOUT, open_document, session

FLOW = textwrap.dedent('''
    import time

    from metaflow import FlowSpec, Parameter, step


    class StatusFlow(FlowSpec):
        fail = Parameter("fail", type=int, default=0)
        pause = Parameter("pause", type=float, default=0.0)

        @step
        def start(self):
            self.items = [1, 2]
            self.next(self.work, foreach="items")

        @step
        def work(self):
            time.sleep(self.pause + 0.3 * self.input)
            if self.fail and self.input == 2:
                raise ValueError("the second item fails")
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass


    if __name__ == "__main__":
        StatusFlow()
''').lstrip()

# What Metaflow's client says of the latest run: per step, each task's success and its created/finished times.
READ_TASKS = textwrap.dedent("""
    import json
    from metaflow import Flow, namespace
    namespace(None)
    run = Flow("StatusFlow").latest_run
    steps = {}
    for step in run:
        steps[step.id] = [{"ok": task.successful, "created": task.created_at.timestamp(),
                           "finished": task.finished_at.timestamp() if task.finished_at else None}
                          for task in step]
    print(json.dumps({"id": run.id, "successful": run.successful, "steps": steps}))
""")


def run_flow(folder: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "flow.py", "--no-pylint", "run", *options], cwd=folder,
                          env=clean_env(folder), capture_output=True, text=True, timeout=300)


def client_view(folder: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", READ_TASKS], cwd=folder, env=clean_env(folder),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_agrees_with_client(status: dict, client: dict) -> None:
    assert status["id"] == client["id"]
    assert set(status["steps"]) == set(client["steps"])
    for name, tasks in client["steps"].items():
        step = status["steps"][name]
        assert step["tasks"] == len(tasks)
        assert step["failed_tasks"] == sum(not task["ok"] for task in tasks)
        assert step["status"] == ("ok" if all(task["ok"] for task in tasks) else "failed")
        created = min(task["created"] for task in tasks)
        finished = max(task["finished"] for task in tasks)
        assert abs(step["started_ms"] / 1000 - created) < 0.002 and abs(step["finished_ms"] / 1000 - finished) < 0.002
        assert step["duration_ms"] == step["finished_ms"] - step["started_ms"]


@pytest.mark.slow
def test_status_of_a_finished_and_a_failed_run_agrees_with_metaflow(tmp_path):
    (tmp_path / "flow.py").write_text(FLOW, encoding="utf-8")
    assert run_flow(tmp_path).returncode == 0
    ok = run_status_json(tmp_path, "StatusFlow", "end")
    client = client_view(tmp_path)
    assert ok["status"] == "ok" and client["successful"] is True
    assert_agrees_with_client(ok, client)
    assert ok["steps"]["work"]["duration_ms"] >= 600  # the second item sleeps 0.6 s

    failed_run = run_flow(tmp_path, "--fail", "1")
    assert failed_run.returncode != 0
    failed = run_status_json(tmp_path, "StatusFlow", "end")
    client = client_view(tmp_path)
    assert failed["id"] != ok["id"] and failed["status"] == "failed" and client["successful"] is False
    assert failed["steps"]["work"] == {**failed["steps"]["work"], "status": "failed", "tasks": 2, "failed_tasks": 1}
    assert "join" not in failed["steps"] and "end" not in failed["steps"]  # never reached
    assert_agrees_with_client(failed, client)


@pytest.mark.slow
async def test_server_command_shows_a_step_running_then_done(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(FLOW, encoding="utf-8")
    process = subprocess.Popen([sys.executable, "flow.py", "--no-pylint", "run", "--pause", "3"], cwd=tmp_path,
                               env=clean_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with session(tmp_path) as client:
            uri = open_document(client, path)

            async def status() -> dict:
                [flow] = (await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
                    command="metaflow.flowRunStatus", arguments=[uri])), TIMEOUT))["flows"]
                assert flow["name"] == "StatusFlow" and flow["file"] == str(path)
                return flow["run"]

            deadline = time.monotonic() + 60
            run = None
            while time.monotonic() < deadline:
                run = await status()
                if run and run["steps"].get("work", {}).get("status") == "unfinished":
                    break
                await asyncio.sleep(0.2)
            assert run and run["status"] == "unfinished", run
            assert run["steps"]["start"]["status"] == "ok" and run["steps"]["work"]["duration_ms"] is None
            assert process.wait(timeout=120) == 0
            done = await status()
            assert done["id"] == run["id"] and done["status"] == "ok"
            assert [done["steps"][name]["status"] for name in ("start", "work", "join", "end")] == ["ok"] * 4
            assert done["steps"]["work"]["duration_ms"] >= 3000
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_server_command_without_a_run_or_a_file(tmp_path):
    path = tmp_path / "flow.py"
    path.write_text(FLOW, encoding="utf-8")
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.flowRunStatus", arguments=[uri])), TIMEOUT)
        assert result == {"flows": [{"name": "StatusFlow", "file": str(path), "run": None}]}
        untitled = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.flowRunStatus", arguments=["untitled:Untitled-1"])), TIMEOUT)
        assert untitled is None


def test_a_datastore_with_a_fifo_and_an_oversized_record_still_answers(tmp_path):
    """`.metaflow/` is the project's to fill: a FIFO (an open that would wait forever) and a record past the size cap
    are read as missing, and the rest of the run is still reported."""
    run = tmp_path / ".metaflow" / "StatusFlow" / "7"

    def record(relative: str, value: dict) -> None:
        (run / relative).parent.mkdir(parents=True, exist_ok=True)
        (run / relative).write_text(json.dumps(value), encoding="utf-8")

    record("_meta/_self.json", {"ts_epoch": 1_000})
    record("start/1/_meta/_self.json", {"ts_epoch": 1_000})
    record("start/1/_meta/sysmeta_attempt_1000.json", {"value": 0})
    record("start/1/_meta/sysmeta_attempt_ok_2000.json", {"value": "True"})
    record("start/1/_meta/sysmeta_attempt-done_2100.json", {"value": True})
    record("work/2/_meta/sysmeta_attempt_3000.json", {"value": 0})
    os.mkfifo(run / "work/2/_meta/_self.json")
    (run / "work/2/_meta/sysmeta_attempt_ok_4000.json").write_bytes(b'{"value": "True", "x": "' + b"x" * 2_000_000
                                                                     + b'"}')
    answer = []
    reader = threading.Thread(target=lambda: answer.append(run_status_json(tmp_path, "StatusFlow", "end")),
                              daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    assert answer, "reading the datastore hung"
    [status] = answer
    assert status["steps"]["start"] == {"status": "ok", "tasks": 1, "failed_tasks": 0, "started_ms": 1_000,
                                        "finished_ms": 2_100, "duration_ms": 1_100}
    assert status["steps"]["work"]["started_ms"] == 3_000  # from its attempt, the FIFO left unread
    assert status["steps"]["work"]["status"] != "ok"  # a result it cannot read is no success
