"""The local Metaflow datastore, read statically: which runs of a flow exist, and the latest one.

Layout written by Metaflow's local metadata provider (checked with 2.19):

    .metaflow/<Flow>/<run_id>/_meta/_self.json      {"run_number": ..., "ts_epoch": <ms>, "tags": [...], ...}
    .metaflow/<Flow>/<run_id>/<step>/<task_id>/<attempt>.data.json   {"objects": {artifact: sha, ...}, ...}
    .metaflow/<Flow>/<run_id>/<step>/<task_id>/_meta/sysmeta_<field>_<ms>.json
        {"field_name": "attempt_ok" | "foreach-execution-path" | ..., "value": ..., "tags": ["attempt_id:N"]}
    .metaflow/<Flow>/latest_run                     rewritten by `spin` too: not trusted here

Metaflow finds `.metaflow` in the working directory or the nearest parent that has one, so this does the same.
Runs are ordered by the creation time Metaflow records (`ts_epoch`), not by `latest_run`. The answers are cached by
the modification time of the flow's folder (a new run adds a folder there), so a lookup costs a stat.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..files import read_text

DATASTORE_DIR = ".metaflow"
MAX_META_BYTES = 100_000  # a run's _self.json is a few hundred bytes
# The metadata files `task_record` reads (`attempt_` also matches `attempt_ok_`): a task has dozens of others.
TASK_FIELDS = ("sysmeta_attempt_", "sysmeta_foreach-execution-path_")


@dataclass(frozen=True)
class LocalRun:
    flow: str
    run_id: str
    created_ms: int
    steps: frozenset[str]  # steps with at least one task folder
    tags: tuple[str, ...] = ()
    tasks: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (step, task ids)

    def task_ids(self, step: str) -> tuple[str, ...]:
        return next((ids for name, ids in self.tasks if name == step), ())


@dataclass(frozen=True)
class TaskRecord:
    """What the local metadata says of one task: read from small JSON files, never from the pickled artifacts."""

    pathspec: str  # Flow/run/step/task
    attempt: int  # the last attempt
    ok: bool | None  # whether that attempt succeeded; None while it runs (or when the files say nothing)
    foreach_path: str | None  # "start:0" or "outer:1,inner:0": the foreach index of each enclosing foreach
    artifacts: tuple[str, ...]  # the names the last attempt stored, in the order Metaflow wrote them

    @property
    def foreach_index(self) -> int | None:
        """The index of the innermost foreach this task runs in (its position among its siblings)."""
        if not self.foreach_path:
            return None
        index = self.foreach_path.rsplit(",", 1)[-1].rpartition(":")[2]
        return int(index) if index.isdigit() else None


def datastore_root(cwd: Path) -> Path | None:
    """The `.metaflow` folder Metaflow would use from `cwd` (itself or the nearest parent's), if any exists."""
    directory = Path(os.path.realpath(cwd))  # no RuntimeError on a symlink loop, unlike resolve()
    for candidate in (directory, *directory.parents):
        root = candidate / DATASTORE_DIR
        if root.is_dir():
            return root
    return None


_cache: dict[Path, tuple[int, LocalRun | None]] = {}
_steps_cache: dict[Path, tuple[int, tuple[tuple[str, tuple[str, ...]], ...]]] = {}


def latest_run(cwd: Path, flow: str) -> LocalRun | None:
    """The most recently created local run of `flow` as seen from `cwd`, or None."""
    root = datastore_root(cwd)
    if root is None:
        return None
    flow_dir = root / flow
    try:
        stamp = flow_dir.stat().st_mtime_ns
    except OSError:
        return None
    cached = _cache.get(flow_dir)
    if cached is None or cached[0] != stamp:
        cached = _cache[flow_dir] = (stamp, _scan(flow_dir, flow))
    run = cached[1]
    if run is None:
        return None
    # Steps appear while a run goes on, without touching the flow's folder: keyed on the run folder's own stamp.
    run_dir = flow_dir / run.run_id
    try:
        run_stamp = run_dir.stat().st_mtime_ns
    except OSError:
        return None
    steps = _steps_cache.get(run_dir)
    if steps is None or steps[0] != run_stamp:
        steps = _steps_cache[run_dir] = (run_stamp, _steps(run_dir))
    tasks = steps[1]
    return LocalRun(run.flow, run.run_id, run.created_ms, frozenset(name for name, _ in tasks), run.tags, tasks)


def run_by_id(cwd: Path, flow: str, run_id: str) -> LocalRun | None:
    """The local run `run_id` of `flow` as seen from `cwd`, or None when there is none."""
    root = datastore_root(cwd)
    if root is None or not run_id or run_id.startswith((".", "_")) or "/" in run_id or run_id == "data":
        return None
    run_dir = root / flow / run_id
    meta = read_metadata(run_dir / "_meta" / "_self.json")
    if not isinstance(meta, dict) or not isinstance(meta.get("ts_epoch"), int):
        return None
    tasks = _steps(run_dir)
    return LocalRun(flow, run_id, meta["ts_epoch"], frozenset(name for name, _ in tasks),
                    tuple(t for t in meta.get("tags") or () if isinstance(t, str)), tasks)


def task_record(cwd: Path, run: LocalRun, step: str, task_id: str) -> TaskRecord:
    """The status, foreach position and artifact names of one task of `run`, from its metadata files."""
    root = datastore_root(cwd)
    task_dir = (root or Path(cwd)) / run.flow / run.run_id / step / task_id
    fields: dict[str, dict[int, object]] = {}  # field -> attempt -> value
    try:
        names = sorted(entry.name for entry in os.scandir(task_dir / "_meta") if entry.name.startswith(TASK_FIELDS))
    except OSError:
        names = []
    for name in names:  # sorted: the time stamp in the name puts a later value of a field last
        record = read_metadata(task_dir / "_meta" / name)
        if isinstance(record, dict) and isinstance(record.get("field_name"), str):
            fields.setdefault(record["field_name"], {})[_attempt_of(record)] = record.get("value")
    attempts = [attempt for values in fields.values() for attempt in values] or [0]
    attempt = max(attempts)
    ok = fields.get("attempt_ok", {}).get(attempt)
    path = fields.get("foreach-execution-path", {}).get(attempt)
    data = read_metadata(task_dir / f"{attempt}.data.json")
    objects = data.get("objects") if isinstance(data, dict) else None
    return TaskRecord(f"{run.flow}/{run.run_id}/{step}/{task_id}", attempt, {"True": True, "False": False}.get(ok),
                      path if isinstance(path, str) else None,
                      tuple(name for name in objects if isinstance(name, str)) if isinstance(objects, dict) else ())


def _attempt_of(record: dict) -> int:
    for tag in record.get("tags") or ():
        if isinstance(tag, str) and tag.startswith("attempt_id:") and tag[11:].isdigit():
            return int(tag[11:])
    return 0


def _scan(flow_dir: Path, flow: str) -> LocalRun | None:
    best: LocalRun | None = None
    try:
        entries = list(os.scandir(flow_dir))
    except OSError:
        return None
    for entry in entries:
        if not entry.is_dir() or entry.name in ("data", "_meta") or entry.name.startswith("."):
            continue
        meta = read_metadata(Path(entry.path, "_meta", "_self.json"))
        if not isinstance(meta, dict) or not isinstance(meta.get("ts_epoch"), int):
            continue  # not a run folder (or one still being created)
        run = LocalRun(flow=flow, run_id=entry.name, created_ms=meta["ts_epoch"], steps=frozenset(),
                       tags=tuple(t for t in meta.get("tags") or () if isinstance(t, str)))
        if best is None or (run.created_ms, run.run_id) > (best.created_ms, best.run_id):
            best = run
    return best


def _steps(run_dir: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(step, its task ids) for every step of the run that has a task folder."""
    steps = []
    try:
        for entry in sorted(os.scandir(run_dir), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith("_"):
                tasks = tuple(sorted(t.name for t in os.scandir(entry.path) if t.is_dir() and not t.name.startswith("_")))
                if tasks:
                    steps.append((entry.name, tasks))
    except OSError:
        pass
    return tuple(steps)


def read_metadata(path: Path):
    """A JSON record of the local datastore (`_self.json`, `sysmeta_*.json`); None when it cannot be read or is no
    JSON (a run still being written, a file that is no regular file or too large)."""
    try:
        return json.loads(read_text(path, MAX_META_BYTES))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
