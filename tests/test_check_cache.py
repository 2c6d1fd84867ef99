"""`metaflow-lsp check`'s result cache (`check_cache.py`): a repeat run prints what the first printed, from the
cache; a change to anything a check read (the file, a sibling module, a .gitignore, pyproject settings, a new flow
file of the project) makes it check again; `--no-cache` neither reads nor writes it.

A test proves that output came from the cache, without timing, by poisoning it: every stored entry's rows are
replaced by a marker row, which only a run that reads the entries can print. After a change, the poison must be
gone and the output equal a `--no-cache` run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from metaflow_lsp.check_cache import CACHE_FILE, CACHE_FOLDER

BASE = '''\
from metaflow import FlowSpec, step


class BaseFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''

FLOW = '''\
from metaflow import step
from base import BaseFlow


def shared_helper(rows):
    return [row * 2 for row in rows if row]


class TrainFlow(BaseFlow):
    @step
    def start(self):
        self.next(self.train)

    @step
    def train(self):
        self.next(self.end)


if __name__ == "__main__":
    TrainFlow()
'''

OTHER_FLOW = '''\
from metaflow import FlowSpec, step


def shared_helper(rows):
    return [row * 2 for row in rows if row]


class OtherFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        print(shared_helper([1]))


if __name__ == "__main__":
    OtherFlow()
'''

POISON = {"path": "POISON", "code": "MF000", "severity": "error", "message": "from the cache", "line": 1,
          "column": 1, "end_line": 1, "end_column": 2}


def check(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", *args, "."], cwd=folder,
                          capture_output=True, text=True)


def output(result: subprocess.CompletedProcess) -> tuple[int, str, str]:
    return result.returncode, result.stdout, result.stderr


def poison(folder: Path) -> None:
    """Replaces every stored result by the marker row."""
    path = folder / CACHE_FOLDER / CACHE_FILE
    stored = json.loads(path.read_text())
    assert stored["entries"], "the first run stored nothing"
    stored["entries"] = {key: [dict(POISON)] for key in stored["entries"]}
    path.write_text(json.dumps(stored))


@pytest.fixture
def project(tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "base.py").write_text(BASE)
    (tmp_path / "flow.py").write_text(FLOW)
    (tmp_path / "notes.py").write_text("print('no flow here')\n")
    return tmp_path


def test_a_repeat_run_prints_the_same_from_the_cache(project):
    first = check(project)
    assert "flow.py:5:5: MF202" in first.stdout  # the helper in a flow file: there is something to remember
    assert output(check(project)) == output(first) == output(check(project, "--no-cache"))
    poison(project)
    repeat = check(project)
    assert repeat.stdout.splitlines() == ["POISON:1:1: MF000 from the cache"] * 3  # every file's entry was used
    assert repeat.returncode == 1


def test_a_run_answered_from_the_cache_loads_no_parser_nor_rules(project):
    # What keeps a repeat `check` (a pre-commit hook on unchanged files) quick: the modules a check needs are
    # imported only for a file that is checked.
    check(project)
    probe = ("import sys, contextlib, io\nfrom metaflow_lsp import cli\nwith contextlib.redirect_stdout(io.StringIO()):"
             "\n    cli.main(['check', '.'])\nprint(sorted(m for m in sys.modules if m in {'metaflow_lsp.engine', "
             "'metaflow_lsp.builder', 'metaflow_lsp.model'} or m.startswith('metaflow_lsp.rules.g')))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
    poison(project)  # and the run did answer from the cache
    assert check(project).stdout.splitlines() == ["POISON:1:1: MF000 from the cache"] * 3


def test_a_run_without_the_cache_loads_only_what_checking_needs(project):
    # What keeps a first `check` of one file quick: none of the language server's keystroke machinery (`reuse`,
    # `incremental`, `rule_reuse`), no hashing without the cache, and no TOML parser for a pyproject.toml that holds
    # no settings of ours (this one is empty).
    probe = ("import sys, contextlib, io\nfrom metaflow_lsp import cli\nwith contextlib.redirect_stdout(io.StringIO()):"
             "\n    cli.main(['check', '--no-cache', 'flow.py'])\nprint(sorted(m for m in sys.modules if m in {"
             "'metaflow_lsp.reuse', 'metaflow_lsp.incremental', 'metaflow_lsp.rule_reuse', 'hashlib', 'tomllib', "
             "'tomli', 'logging'}))")
    (project / "pyproject.toml").write_text("")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr


def test_a_check_creates_no_dataclass_of_fix_data(project):
    # The typed views of the fixes' data become dataclasses when a fix first reads them, never during a check.
    probe = ("import contextlib, dataclasses, io\nfrom metaflow_lsp import cli\nfrom metaflow_lsp.rules import guide\n"
             "from metaflow_lsp.refactor.fix_table import typed_data\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n    cli.main(['check', '--no-cache', 'flow.py'])\n"
             "print(dataclasses.is_dataclass(guide.LongStepData))\n"
             "data = typed_data(guide.LongStepData, {'step': 'train', 'transition': 'not a line'})\n"
             "print(dataclasses.is_dataclass(guide.LongStepData), data)\n"
             "try:\n    data.step = 'x'\nexcept dataclasses.FrozenInstanceError:\n    print('frozen')")
    shown = subprocess.run([sys.executable, "-c", probe], cwd=project, capture_output=True, text=True)
    assert shown.stdout.splitlines() == ["False", "True LongStepData(step='train', transition=None)", "frozen"], \
        shown.stderr


def test_the_cache_folder_ignores_itself_for_git(project):
    check(project)
    assert (project / CACHE_FOLDER / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project,
                            capture_output=True, text=True, check=True).stdout
    assert CACHE_FOLDER not in status and "flow.py" in status


def test_no_cache_neither_writes_nor_reads(project):
    fresh = check(project, "--no-cache")
    assert not (project / CACHE_FOLDER).exists()
    check(project)
    poison(project)
    assert output(check(project, "--no-cache")) == output(fresh)


def _changes_invalidate(project: Path, change) -> tuple[int, str, str]:
    """Warms and poisons the cache, applies `change`, and returns a cached run's output after asserting it equals
    a `--no-cache` run."""
    before = check(project)
    poison(project)
    change(project)
    after = check(project)
    assert "POISON" not in after.stdout
    assert output(after) == output(check(project, "--no-cache"))
    assert output(check(project)) == output(after)  # stored again
    return output(before)


def test_an_edited_file_is_checked_again(project):
    def edit(folder):
        (folder / "flow.py").write_text(FLOW.replace("self.next(self.train)", "self.next(self.trian)"))

    before = _changes_invalidate(project, edit)
    assert "MF011" in check(project).stdout and "MF011" not in before[1]


@pytest.mark.parametrize("ignored", [False, True], ids=["walked", "git-ignored"])
def test_an_edited_sibling_base_module_is_read_again(project, ignored):
    if ignored:  # not a file of the project's walk (nor of its flow index): only the import reads it
        (project / ".gitignore").write_text("base.py\n")

    def edit(folder):  # the base's `end` is renamed: TrainFlow's `train` now goes to a step it does not have
        (folder / "base.py").write_text(BASE.replace("def end(", "def finish("))

    before = _changes_invalidate(project, edit)
    assert "flow.py:16:19: MF011" in check(project).stdout and "MF011" not in before[1]


def test_a_new_sibling_module_is_found(project):
    (project / "base.py").unlink()

    def create(folder):
        (folder / "base.py").write_text(BASE)

    before = _changes_invalidate(project, create)
    assert check(project).stdout != before[1]


def test_a_gitignore_change_is_seen(project):
    def ignore(folder):
        (folder / ".gitignore").write_text(".metaflow/\n.metaflow_spin/\n")

    before = _changes_invalidate(project, ignore)
    assert "MF203" in before[1] and "MF203" not in check(project).stdout


def test_pyproject_settings_are_part_of_the_key(project):
    def configure(folder):
        (folder / "pyproject.toml").write_text('[tool.metaflow-lsp]\nignore = ["MF202"]\n')

    before = _changes_invalidate(project, configure)
    assert "MF202" in before[1] and "MF202" not in check(project).stdout


def test_command_line_select_is_part_of_the_key(project):
    everything = check(project)
    poison(project)
    selected = check(project, "--select", "MF202")
    assert "POISON" not in selected.stdout
    assert output(selected) == output(check(project, "--no-cache", "--select", "MF202"))
    assert selected.stdout != everything.stdout


def test_a_new_flow_file_changes_the_other_files_findings(project):
    def add(folder):
        (folder / "other.py").write_text(OTHER_FLOW)

    before = _changes_invalidate(project, add)
    after = check(project).stdout
    assert "flow.py:5:5: MF401" in after and "MF401" not in before[1]


def test_a_cache_folder_linking_out_of_the_project_is_not_used(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (project / CACHE_FOLDER).symlink_to(outside, target_is_directory=True)
    first = check(project)
    assert output(check(project)) == output(first) == output(check(project, "--no-cache"))
    assert list(outside.iterdir()) == []


def test_a_corrupt_cache_is_ignored(project):
    expected = output(check(project))
    path = project / CACHE_FOLDER / CACHE_FILE
    stored = json.loads(path.read_text())
    stored["entries"] = {key: [{"path": 1}] for key in stored["entries"]}  # entries of the wrong shape
    path.write_text(json.dumps(stored))
    assert output(check(project)) == expected
    path.write_bytes(b"\x00{not json")
    assert output(check(project)) == expected
    assert output(check(project)) == expected  # and written anew
    assert json.loads(path.read_text())["entries"]


def test_worker_processes_hand_back_what_they_read(project):
    """Past `cli.PARALLEL_THRESHOLD` files the checks run in worker processes: what each read must reach the cache."""
    from metaflow_lsp.cli import PARALLEL_THRESHOLD

    for n in range(PARALLEL_THRESHOLD):
        (project / f"flow_{n}.py").write_text(FLOW.replace("TrainFlow", f"Train{n}Flow"))

    def edit(folder):
        (folder / "base.py").write_text(BASE.replace("def end(", "def finish("))

    before = _changes_invalidate(project, edit)
    assert "flow_7.py:16:19: MF011" in check(project).stdout and "MF011" not in before[1]


def test_a_cache_planted_in_the_repository_is_never_used(project, tmp_path_factory):
    """A cache written with another user's key (as one committed to the repository or brought by a pull request
    would be) is ignored: it cannot hide findings from CI."""
    def as_user(home: Path, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "XDG_CACHE_HOME": str(home)}
        return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", *args, "."], cwd=project,
                              capture_output=True, text=True, env=env)

    attacker, victim = tmp_path_factory.mktemp("attacker"), tmp_path_factory.mktemp("ci")
    as_user(attacker)
    poison(project)
    assert "POISON" in as_user(attacker).stdout  # the attacker's own runs do read it
    assert output(as_user(victim)) == output(as_user(victim, "--no-cache"))
    assert "POISON" not in as_user(victim).stdout
    key = victim / "metaflow-lsp" / "check-cache-key"
    assert key.stat().st_mode & 0o077 == 0  # the key is the user's alone


def test_without_a_key_there_is_no_cache(project, tmp_path):
    unwritable = tmp_path / "no-home"
    unwritable.write_text("")  # a file where the cache folder's parent would be: the key cannot be created
    env = {**os.environ, "XDG_CACHE_HOME": str(unwritable)}
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", "."], cwd=project,
                            capture_output=True, text=True, env=env)
    assert "MF202" in result.stdout and not (project / CACHE_FOLDER).exists()


def test_a_fifo_in_place_of_the_cache_file_is_neither_read_nor_written(project):
    """A repository can ship `.metaflow_lsp_cache/check.json` as a FIFO: opening it would block the run."""
    (project / CACHE_FOLDER).mkdir()
    os.mkfifo(project / CACHE_FOLDER / CACHE_FILE)
    first = subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", "."], cwd=project,
                           capture_output=True, text=True, timeout=60)
    assert output(first) == output(check(project, "--no-cache"))
    assert stat.S_ISFIFO((project / CACHE_FOLDER / CACHE_FILE).lstat().st_mode)
