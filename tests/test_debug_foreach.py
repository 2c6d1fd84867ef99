"""Foreach debugging, proven with debugpy itself.

The flow starts through the debug RunSpec under debugpy (listening on 127.0.0.1, following subprocesses). A small
DAP client (this file) attaches, sets a breakpoint in the foreach step and answers debugpy's `debugpyAttach` events
by opening one more connection per task subprocess. The breakpoint must be hit once per item, in one task at a time,
never two tasks paused together; then the run finishes.
"""

from __future__ import annotations

import itertools
import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from metaflow_lsp.config import Settings
from metaflow_lsp.builder import parse_module
from metaflow_lsp.launch.runner import command_for
from metaflow_lsp.launch.runspec import run_spec

FIXTURE = Path(__file__).parent / "fixtures" / "launch" / "foreach_flow.py"
ITEMS = 3
TIMEOUT = 180  # seconds for the whole debugged run
HOLD = 1.0  # seconds each breakpoint stop is held before continuing


class DapSession:
    """One DAP connection (Content-Length framing); every message read is put on the shared queue as (self, msg)."""

    _ids = itertools.count(1)

    def __init__(self, name: str, host: str, port: int, inbox: queue.Queue, deadline: float):
        self.name = name
        self.inbox = inbox
        self.seq = itertools.count(1)
        self.pending: dict[int, str] = {}
        self.lock = threading.Lock()
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(None)
        self.file = self.sock.makefile("rb")
        threading.Thread(target=self._read, daemon=True, name=f"dap-{name}").start()

    def send(self, command: str, arguments: dict | None = None) -> int:
        with self.lock:
            seq = next(self.seq)
            message = {"seq": seq, "type": "request", "command": command}
            if arguments is not None:
                message["arguments"] = arguments
            body = json.dumps(message).encode()
            self.pending[seq] = command
            self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return seq

    def _read(self) -> None:
        try:
            while True:
                length = None
                while True:
                    line = self.file.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                self.inbox.put((self, json.loads(self.file.read(length))))
        except (EOFError, OSError, ValueError):
            self.inbox.put((self, {"type": "closed"}))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _breakpoint_line(path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "# BREAKPOINT" in line)


def debug_run(tmp_path: Path, workers: int = 1) -> dict:
    """Runs the fixture flow through the debug RunSpec under debugpy with this file's DAP client. Every breakpoint
    stop is held HOLD seconds before `continue`, so a second task reaching the breakpoint meanwhile would show up as
    two sessions paused at once."""
    flow_file = tmp_path / "foreach_flow.py"
    shutil.copy(FIXTURE, flow_file)
    module = parse_module(flow_file.read_text(), flow_file)
    spec = run_spec(module.flows[0], flow_file, Settings(), debug=True)
    if workers != 1:  # the negative control: same spec with more workers
        args = list(spec.args)
        args[args.index("--max-workers") + 1] = str(workers)
        spec = replace(spec, args=tuple(args))
    port = _free_port()
    command = command_for(spec, sys.executable, port, wait=True)
    env = spec.environment({"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "METAFLOW_USER": "tester",
                            "FOREACH_ITEMS": str(ITEMS), "FOREACH_SLEEP": "0.2"})
    log_path = tmp_path / "run.log"
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=spec.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    line = _breakpoint_line(flow_file)
    inbox: queue.Queue = queue.Queue()
    deadline = time.monotonic() + TIMEOUT
    sessions: list[DapSession] = []
    stops: list[dict] = []  # one per breakpoint stop
    paused: dict[DapSession, dict] = {}  # session -> its current stop
    max_paused = 0
    requests: dict[tuple[DapSession, int], dict] = {}  # (session, request seq) -> the stop it serves

    def start(session: DapSession, attach: dict) -> None:
        session.send("initialize", {"clientID": "metaflow-lsp-test", "adapterID": "debugpy", "pathFormat": "path",
                                    "linesStartAt1": True, "columnsStartAt1": True,
                                    "supportsRunInTerminalRequest": False})
        session.send("attach", attach)

    main = DapSession("main", "127.0.0.1", port, inbox, deadline)
    sessions.append(main)
    start(main, {"name": spec.title, "type": "debugpy", "request": "attach",
                 "connect": {"host": "127.0.0.1", "port": port}, **spec.debugger})
    finished = False
    try:
        while not finished:
            now = time.monotonic()
            if now > deadline:
                pytest.fail(f"debugged run did not finish in {TIMEOUT}s; stops so far: {stops}; "
                            f"log:\n{log_path.read_text()[-3000:]}")
            for session, stop in list(paused.items()):
                if "item" in stop and now >= stop["paused_at"] + HOLD:
                    del paused[session]
                    stop["continued_at"] = time.monotonic()
                    session.send("continue", {"threadId": stop["thread"]})
            try:
                session, message = inbox.get(timeout=0.05)
            except queue.Empty:
                if process.poll() is not None and not paused:
                    finished = True
                continue
            kind = message.get("type")
            if kind == "event":
                event, body = message["event"], message.get("body") or {}
                if event == "initialized":
                    session.send("setBreakpoints", {"source": {"path": str(flow_file)},
                                                    "breakpoints": [{"line": line}]})
                    session.send("configurationDone")
                elif event == "debugpyAttach":
                    child = DapSession(body["name"], body["connect"]["host"], body["connect"]["port"], inbox,
                                       deadline)
                    sessions.append(child)
                    start(child, body)
                elif event == "stopped":
                    stop = {"session": session.name, "reason": body.get("reason"), "thread": body["threadId"],
                            "paused_at": time.monotonic()}
                    stops.append(stop)
                    paused[session] = stop
                    max_paused = max(max_paused, len(paused))
                    requests[(session, session.send("stackTrace", {"threadId": body["threadId"], "levels": 1}))] = stop
                elif event == "terminated" and session is main:
                    finished = True
            elif kind == "response":
                answered = message.get("command")
                if not message.get("success", False) and answered != "disconnect":
                    pytest.fail(f"{session.name}: {answered} failed: {message.get('message')}")
                stop = requests.pop((session, message["request_seq"]), None)
                if answered == "setBreakpoints":
                    assert message["body"]["breakpoints"][0]["line"] == line
                elif answered == "stackTrace" and stop is not None:
                    frame = message["body"]["stackFrames"][0]
                    stop["line"], stop["file"] = frame["line"], Path(frame["source"]["path"]).name
                    seq = session.send("evaluate", {"expression": "self.input", "frameId": frame["id"],
                                                    "context": "watch"})
                    requests[(session, seq)] = stop
                elif answered == "evaluate" and stop is not None:
                    stop["item"] = message["body"]["result"]
            elif kind == "closed" and session is main:
                finished = True
        returncode = process.wait(timeout=120)
    finally:
        for session in sessions:
            session.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()
    return {"returncode": returncode, "output": log_path.read_text(), "stops": stops, "max_paused": max_paused,
            "sessions": len(sessions), "line": line, "file": flow_file.name, "spec": spec, "command": command}


@pytest.mark.slow
def test_foreach_breakpoint_is_hit_once_per_item_one_task_at_a_time(tmp_path):
    result = debug_run(tmp_path)
    spec, command = result["spec"], result["command"]
    assert spec.debug and spec.debugger == {"type": "debugpy", "subProcess": True, "justMyCode": False}
    assert "--max-workers" in spec.args and spec.args[spec.args.index("--max-workers") + 1] == "1"
    assert command[command.index("--configure-subProcess") + 1] == "true"
    assert result["returncode"] == 0, result["output"][-3000:]
    assert "Done!" in result["output"]
    stops = result["stops"]
    assert [s["reason"] for s in stops] == ["breakpoint"] * ITEMS, stops
    assert all(s["line"] == result["line"] and s["file"] == result["file"] for s in stops)
    assert sorted(s["item"] for s in stops) == [str(i) for i in range(ITEMS)]  # each item once
    assert len({s["session"] for s in stops}) == ITEMS  # each in its own task process
    assert result["max_paused"] == 1  # never two tasks paused together
    spans = sorted((s["paused_at"], s["continued_at"]) for s in stops)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    # One connection per task subprocess: start, the foreach tasks, join, end.
    assert result["sessions"] - 1 >= ITEMS + 3


@pytest.mark.slow
def test_the_client_sees_overlap_when_there_is_more_than_one_worker(tmp_path):
    """Negative control: the same harness with three workers does see tasks paused together, so the one-worker
    test above could fail."""
    result = debug_run(tmp_path, workers=3)
    assert result["returncode"] == 0, result["output"][-3000:]
    assert len(result["stops"]) == ITEMS
    assert result["max_paused"] > 1
