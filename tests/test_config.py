"""`[tool.metaflow-lsp]` as the README shows it: select / ignore by code or prefix (the longest prefix decides),
per-file-ignores globs from the pyproject's folder, severity overrides by code or prefix; through `metaflow-lsp check`
and through `Settings`, which the server shares."""

from __future__ import annotations

import json

from test_cli import run
from metaflow_lsp.config import Settings, apply, load
from metaflow_lsp.rules import Severity

# Line 4: MF202 (a helper in a flow file, "information" by default). Line 12: MF101 and MF103 (errors).
FLOW = '''\
from metaflow import FlowSpec, Parameter, retry, step


def load_rows(path):
    return [line.split(",") for line in open(path)]


class RetryFlow(FlowSpec):
    test_mode = Parameter("test_mode", default=False)

    @step
    @retry(times=9)
    def start(self):
        self.rows = load_rows("rows.csv")[: 2 if self.test_mode else None]
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryFlow()
'''

PYPROJECT = '''\
[tool.metaflow-lsp]
select = ["MF", "MF103"]
ignore = ["MF10", "MF4"]   # drops MF101-MF109 (the longer "MF103" of select keeps MF103) and MF401

[tool.metaflow-lsp.per-file-ignores]
"flows/legacy_*.py" = ["MF2"]
"*_generated.py" = ["MF103"]

[tool.metaflow-lsp.severity]
MF2 = "warning"
MF202 = "hint"             # the longer prefix wins
'''


def project(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for relative in ("flows/train.py", "flows/legacy_train.py", "other/legacy_train.py",
                     "flows/legacy_train_generated.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(FLOW)
    return tmp_path


def reported(result) -> dict[str, list[tuple[int, str, str]]]:
    by_file: dict[str, list[tuple[int, str, str]]] = {}
    for row in json.loads(result.stdout):
        by_file.setdefault(row["path"], []).append((row["line"], row["code"], row["severity"]))
    return by_file


def test_cli_applies_the_pyproject(tmp_path):
    root = project(tmp_path)
    result = run("check", "--format", "json", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert reported(result) == {
        "flows/train.py": [(4, "MF202", "hint"), (12, "MF103", "error")],
        "flows/legacy_train.py": [(12, "MF103", "error")],
        "other/legacy_train.py": [(4, "MF202", "hint"), (12, "MF103", "error")],
        # flows/legacy_train_generated.py: both globs apply, their ignores add up, nothing is left
    }


def test_cli_per_file_globs_start_at_the_pyproject_folder(tmp_path):
    """Run from a subfolder: `flows/legacy_*.py` still names the files under <root>/flows."""
    root = project(tmp_path)
    result = run("check", "--format", "json", ".", cwd=root / "flows")
    assert {path: [code for _, code, _ in rows] for path, rows in reported(result).items()} == {
        "train.py": ["MF202", "MF103"],
        "legacy_train.py": ["MF103"],
    }


def test_select_and_ignore_the_longest_prefix_decides():
    settings = Settings(select=("MF", "MF103"), ignore=("MF10",))
    assert [settings.enabled(code) for code in ("MF011", "MF101", "MF103", "MF201")] == [True, False, True, True]
    narrow = Settings(select=("MF2",), ignore=("MF201",))
    assert [narrow.enabled(code) for code in ("MF011", "MF201", "MF202")] == [False, False, True]
    assert not Settings(select=("MF201",), ignore=("MF201",)).enabled("MF201")  # the same length: ignore wins


def test_severity_override_the_longest_prefix_decides():
    settings = Settings(severity=(("MF2", Severity.WARNING), ("MF202", Severity.HINT), ("MF", Severity.ERROR)))
    assert settings.severity_of("MF202", Severity.INFORMATION) == Severity.HINT
    assert settings.severity_of("MF201", Severity.INFORMATION) == Severity.WARNING
    assert settings.severity_of("MF011", Severity.WARNING) == Severity.ERROR
    assert Settings().severity_of("MF202", Severity.INFORMATION) == Severity.INFORMATION


def test_editor_keys_in_camel_case_lower_case_codes_and_nulls():
    settings, errors = apply({"perFileIgnores": {"legacy_*.py": ["mf2"]}, "maxStepStatements": 3,
                              "ignore": ["mf201"], "select": None}, Settings(), "editor")
    assert errors == []
    assert settings.per_file_ignores == (("legacy_*.py", ("MF2",)),)
    assert (settings.max_step_statements, settings.ignore, settings.select) == (3, ("MF201",), Settings().select)


def test_nearest_pyproject_is_a_parents(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.metaflow-lsp]\nignore = ["MF2"]\n')
    (tmp_path / "flows" / "deep").mkdir(parents=True)
    settings, errors = load(tmp_path / "flows" / "deep")
    assert (settings.ignore, settings.root, errors) == (("MF2",), tmp_path.resolve(), [])


def test_settings_load_without_importing_a_rule_module(tmp_path):
    """The settings depend on the registry only: reading a pyproject (with a severity table) loads no rule module;
    the rule modules load when a setting names codes to check."""
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text('[tool.metaflow-lsp]\nmax-step-statements = 9\n', encoding="utf-8")
    script = (
        "import sys; from pathlib import Path; from metaflow_lsp import config\n"
        f"settings, errors = config.load(Path({str(tmp_path)!r}))\n"
        "assert settings.max_step_statements == 9 and not errors, (settings, errors)\n"
        "print(sorted(m for m in sys.modules if m.startswith('metaflow_lsp.rules.')))\n"
        "config.apply({'select': ['MF2', 'MF999']}, settings, 'test')\n"
        "print('metaflow_lsp.rules.guide' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["['metaflow_lsp.rules.registry']", "True"]
