"""`metaflow-lsp init`: the guide's project layout, from the templates beside this module.

    flows/train.py, flows/predict.py   a test-mode Parameter, validation in start, a foreach; predict loads train's
                                       latest successful run in start
    flows/common.py                    the step logic
    flows/debug.ipynb                  autoreload, `import common`, train's latest run
    .gitignore                         .metaflow/ and .metaflow_spin/ in any folder
    pyproject.toml                     with a [tool.metaflow-lsp] table
    .pre-commit-config.yaml            metaflow-lsp check on every commit
    .github/workflows/metaflow.yml     what `metaflow-lsp ci-workflow` writes for the project

Nothing that exists is overwritten: a file already there is skipped (and listed), an existing .gitignore only gets
the lines it lacks. So a second run changes nothing. Every write goes through `files.write_inside` (never through a
link that leads out of the project folder).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..files import read_source, write_inside
from ..refactor.fixes import gitignore_with
from ..text import split_lines
from .ci_workflow import PYTHON_VERSION, WORKFLOW_PATH, workflow

TEMPLATES = Path(__file__).resolve().parent / "templates"
GITIGNORE = Path(".gitignore")
# Template file (under TEMPLATES, without `.template`) -> where it goes in the project. The leading dots are added
# here: a `.gitignore` among the package's files would apply to this repository.
LAYOUT = {
    "flows/common.py": Path("flows/common.py"),
    "flows/train.py": Path("flows/train.py"),
    "flows/predict.py": Path("flows/predict.py"),
    "flows/debug.ipynb": Path("flows/debug.ipynb"),
    "gitignore": GITIGNORE,
    "pyproject.toml": Path("pyproject.toml"),
    "pre-commit-config.yaml": Path(".pre-commit-config.yaml"),
}
# --pypi: every step's packages, pinned, for `--environment=pypi` (numpy stands for the packages the steps import).
PYPI_PACKAGES = {"numpy": "2.2.6"}
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


class InitError(ValueError):
    """What makes the scaffold impossible (a bad name, a file in the way of the folder)."""


@dataclass
class InitReport:
    root: Path
    written: list[Path] = field(default_factory=list)  # created, or (.gitignore) extended
    skipped: list[Path] = field(default_factory=list)  # already there: kept as they are
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"root": str(self.root), "written": [p.as_posix() for p in self.written],
                "skipped": [p.as_posix() for p in self.skipped], "errors": self.errors, "notes": self.notes}


def flow_prefix(name: str) -> str:
    """The flows' class-name prefix: `churn-model` -> `ChurnModel` (TrainFlow -> ChurnModelTrainFlow)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", name) if part)


def render(template: str, values: dict[str, str]) -> str:
    """`template` with each `__TOKEN__` replaced; a token alone on its line whose value is empty takes the line
    with it (an optional decorator or import)."""
    lines = []
    for line in split_lines(template, keepends=True):
        token = line.strip()
        if token in values and not values[token]:
            continue
        for key, value in values.items():
            line = line.replace(key, value)
        lines.append(line)
    text = "".join(lines)
    left = re.findall(r"__[A-Z][A-Z_]+__", text)
    if left:  # a template and this module disagree
        raise RuntimeError(f"template tokens without a value: {left}")
    return text


def template_values(name: str, pypi: bool) -> dict[str, str]:
    packages = ", ".join(f'"{package}": "{version}"' for package, version in PYPI_PACKAGES.items())
    return {
        "__PROJECT__": name,
        "__FLOW__": flow_prefix(name),
        "__ENVIRONMENT_IMPORT__": "from metaflow import pypi_base" if pypi else "",
        "__ENVIRONMENT__": f'@pypi_base(python="{PYTHON_VERSION}", packages={{{packages}}})' if pypi else "",
    }


def init_project(root: Path, name: str | None = None, pypi: bool = False) -> InitReport:
    """Creates the layout in `root` (made when missing). Raises InitError for a bad name or a root that is no
    folder; what cannot be written is listed in the report's errors."""
    if os.path.lexists(root) and not root.is_dir():
        raise InitError(f"{root} is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    name = name or root.name
    if not NAME.match(name):
        raise InitError(f"the name {name!r} must start with a letter and hold only letters, digits, - and _ "
                        "(give one with --name)")
    values = template_values(name, pypi)
    report = InitReport(root)
    flows_missing = False
    for template, target in LAYOUT.items():
        text = render((TEMPLATES / f"{template}.template").read_text(encoding="utf-8"), values)
        if target == GITIGNORE:
            _extend_gitignore(root, text, report)
        elif not _create(root, target, text, report) and target.suffix == ".py":
            flows_missing = True
    if flows_missing:  # the workflow is made from the flows on disk: it would leave the missing ones out
        report.errors.append(f"{WORKFLOW_PATH.as_posix()}: not written: the flows above are missing")
        return report
    generated = workflow(root)
    report.notes += generated.notes  # flows of the folder that the workflow cannot run in test mode
    _create(root, WORKFLOW_PATH, generated.text, report)
    return report


def _create(root: Path, target: Path, text: str, report: InitReport) -> bool:
    """Writes a file that is not there yet; False when it could not be written (the error is in the report)."""
    path = root / target
    if os.path.lexists(path):  # a dangling link too: never written through
        report.skipped.append(target)
        return True
    return _write(root, target, text, report, "not written")


def _extend_gitignore(root: Path, template: str, report: InitReport) -> None:
    path = root / GITIGNORE
    if not os.path.lexists(path):
        _create(root, GITIGNORE, template, report)
        return
    try:
        old = read_source(path)
    except OSError as error:
        report.errors.append(f".gitignore: cannot read it ({error.strerror or error})")
        return
    entries = [line for line in split_lines(template) if line.strip() and not line.startswith("#")]
    new = gitignore_with(old, entries)
    if new == old:
        report.skipped.append(GITIGNORE)
        return
    _write(root, GITIGNORE, new, report, "not extended")


def _write(root: Path, target: Path, text: str, report: InitReport, failure: str) -> bool:
    try:
        write_inside(root, root / target, text.encode("utf-8"))
    except OSError as error:
        report.errors.append(f"{target.as_posix()}: {failure}: {error.strerror or error}")
        return False
    report.written.append(target)
    return True
