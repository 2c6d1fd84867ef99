"""How each step of a flow's latest local run went, read statically from the datastore (`datastore.latest_run`).

Metaflow's local metadata provider records every attempt of a task as files named by field and time (checked with
2.19.39 and real runs, `tests/test_run_status.py`):

    .metaflow/<Flow>/<run_id>/<step>/<task_id>/_meta/sysmeta_attempt_<ms>.json      an attempt started
    .metaflow/<Flow>/<run_id>/<step>/<task_id>/_meta/sysmeta_attempt_ok_<ms>.json   {"value": "True" | "False", ...}
    .metaflow/<Flow>/<run_id>/<step>/<task_id>/_meta/sysmeta_attempt-done_<ms>.json the attempt is over
    .metaflow/<Flow>/<run_id>/<step>/<task_id>/_meta/_self.json                     {"ts_epoch": <created, ms>, ...}

The time is in the name, so a task costs one directory listing and two small reads (its creation, its result). A task
whose latest attempt has no `attempt_ok` after it is unfinished: still running, or killed (the files cannot tell which).
Answers are cached per task by the modification time of its `_meta` folder: a finished task is read once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .datastore import LocalRun, datastore_root, latest_run, read_metadata

OK, FAILED, UNFINISHED = "ok", "failed", "unfinished"
_ATTEMPT, _ATTEMPT_OK, _ATTEMPT_DONE = "attempt", "attempt_ok", "attempt-done"


@dataclass(frozen=True)
class TaskStatus:
    status: str  # ok | failed | unfinished
    started_ms: int | None
    finished_ms: int | None


_task_cache: dict[Path, tuple[int, TaskStatus]] = {}


def run_status_json(cwd: Path, flow: str, end_step: str | None) -> dict | None:
    """The latest local run of `flow` seen from `cwd` (see docs/flow-graph.md), or None when it has none.
    `end_step`: the flow's end step; the run is `ok` only when it finished well."""
    run = latest_run(cwd, flow)
    root = datastore_root(cwd)
    if run is None or root is None:
        return None
    steps = {name: _step_json(root / flow / run.run_id / name, task_ids) for name, task_ids in run.tasks}
    return {"id": run.run_id, "created_ms": run.created_ms, "status": _run_status(run, steps, end_step),
            "steps": steps}


def _run_status(run: LocalRun, steps: dict[str, dict], end_step: str | None) -> str:
    if any(step["status"] == FAILED for step in steps.values()):
        return FAILED
    if end_step is not None and steps.get(end_step, {}).get("status") == OK:
        return OK
    return UNFINISHED


def _step_json(step_dir: Path, task_ids: tuple[str, ...]) -> dict:
    tasks = [task_status(step_dir / task_id) for task_id in task_ids]
    statuses = [task.status for task in tasks]
    status = FAILED if FAILED in statuses else UNFINISHED if UNFINISHED in statuses else OK
    starts = [task.started_ms for task in tasks if task.started_ms is not None]
    ends = [task.finished_ms for task in tasks if task.finished_ms is not None]
    started, finished = (min(starts) if starts else None), (max(ends) if ends and status != UNFINISHED else None)
    return {"status": status, "tasks": len(tasks), "failed_tasks": statuses.count(FAILED),
            "started_ms": started, "finished_ms": finished,
            "duration_ms": finished - started if started is not None and finished is not None else None}


def task_status(task_dir: Path) -> TaskStatus:
    """The result of a task's latest attempt."""
    meta = task_dir / "_meta"
    try:
        stamp = meta.stat().st_mtime_ns
    except OSError:
        return TaskStatus(UNFINISHED, None, None)
    cached = _task_cache.get(meta)
    if cached is None or cached[0] != stamp:
        cached = _task_cache[meta] = (stamp, _read_task(meta))
    return cached[1]


def _read_task(meta: Path) -> TaskStatus:
    """As Metaflow's client sees it: started when the task was created (`_self.json`), finished when its latest
    attempt was done, ok when that attempt's `attempt_ok` says True."""
    records: dict[str, list[tuple[int, str]]] = {}
    try:
        names = [entry.name for entry in os.scandir(meta) if entry.name.startswith("sysmeta_")]
    except OSError:
        return TaskStatus(UNFINISHED, None, None)
    for name in names:
        field, _, stamp = name.removeprefix("sysmeta_").removesuffix(".json").rpartition("_")
        if stamp.isdigit() and field in (_ATTEMPT, _ATTEMPT_OK, _ATTEMPT_DONE):
            records.setdefault(field, []).append((int(stamp), name))
    created = read_metadata(meta / "_self.json")
    started = created.get("ts_epoch") if isinstance(created, dict) else None
    started = started if isinstance(started, int) else min(records.get(_ATTEMPT, [(None, "")]))[0]
    latest_attempt = max(records.get(_ATTEMPT, [(0, "")]))[0]
    results = [record for record in records.get(_ATTEMPT_OK, []) if record[0] >= latest_attempt]
    if not results:  # running, or killed before it could say (a retry started after the last result counts too)
        return TaskStatus(UNFINISHED, started, None)
    result_ms, name = max(results)
    value = read_metadata(meta / name)
    ok = isinstance(value, dict) and str(value.get("value")) == "True"
    done = [stamp for stamp, _ in records.get(_ATTEMPT_DONE, []) if stamp >= latest_attempt]
    return TaskStatus(OK if ok else FAILED, started, max(done) if done else result_ms)

