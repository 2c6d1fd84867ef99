"""Run configurations written into the workspace from RunSpecs: VS Code's `.vscode/launch.json` and PyCharm's
`.run/<Flow> (test mode).run.xml` and `.run/<Flow> (foreach debug).run.xml`.

The PyCharm files are the configurations the plugin's lenses create (one model): the plugin's core renders the same
XML from the same RunSpec (pycharm-plugin/core RunConfigurationXml; tests/test_pycharm_plugin.py compares the
bytes), and names them the same way, from commands.json's labels.

Re-running updates them and never duplicates: launch.json entries are found by name and updated in place (the rest
of the file, comments included, stays byte for byte), PyCharm files are rewritten only when their content changes.
What a user added to one of our configurations (a pre-launch task, an interpreter, their own variables) is kept:
only what makes it a test-mode run of the flow is ours.

Nothing is written outside the workspace folder: a target whose real path leaves it (`.vscode` or `.run` linked
elsewhere, `launch.json` itself a link out) is refused before it is read, and the new content goes to a fresh file
created with O_EXCL next to the real target, then renamed over it (a link planted under a temporary name is never
followed; a hard link to the old file keeps the old content).
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..builder import parse_module
from ..config import Settings, load
from ..files import NotRegularFile, read_source, read_text, write_inside
from ..project import walk_python_files
from . import jsonc
from .runspec import DEBUGGER, KIND_DEBUG_FOREACH, KIND_TEST_MODE, RunSpec, run_spec

# Characters that never need quoting by any shell or command-line parser.
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@dataclass
class WriteReport:
    written: list[Path] = field(default_factory=list)  # files created or changed
    unchanged: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    configurations: list[str] = field(default_factory=list)  # names of the configurations we manage

    def to_json(self) -> dict[str, Any]:
        return {"written": [str(p) for p in self.written], "unchanged": [str(p) for p in self.unchanged],
                "errors": self.errors, "configurations": self.configurations}


def _labels() -> dict[str, str]:
    """RunSpec kind -> the label of its lens command in commands.json ("test mode"), which names the configuration
    "<Flow> (test mode)" here and in the editor plugins."""
    listed = json.loads(resources.files("metaflow_lsp").joinpath("commands.json").read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry["label"] for entry in listed["lensCommands"]}
    return {KIND_TEST_MODE: by_id["metaflow.runTestMode"], KIND_DEBUG_FOREACH: by_id["metaflow.debugForeach"]}


LABELS = _labels()


def workspace_specs(root: Path, settings_for=None) -> list[RunSpec]:
    """The test-mode and the foreach-debug RunSpec of every flow of every Python file under `root` (as
    `metaflow-lsp check` walks it): what the two lenses above each flow run."""
    specs = []
    for path in sorted(walk_python_files([root])):
        try:
            module = parse_module(read_source(path), path)
        except OSError:
            continue
        if not module.flows:
            continue
        settings = settings_for(path) if settings_for else load(path)[0]
        for flow in module.flows:
            specs.append(run_spec(flow, path, settings or Settings()))
            specs.append(run_spec(flow, path, settings or Settings(), debug=True))
    return specs


def configuration_names(specs: list[RunSpec], root: Path) -> list[str]:
    """One name per spec, `<Flow> (test mode)` or `<Flow> (foreach debug)`, with the file's path in the workspace
    added where two flows share a class name (the plugin's RunConfigurationModel.withFileInName adds the same)."""
    counts: dict[tuple[str, str], int] = {}
    for spec in specs:
        counts[spec.flow, spec.kind] = counts.get((spec.flow, spec.kind), 0) + 1
    names = []
    for spec in specs:
        label = LABELS[spec.kind]
        if counts[spec.flow, spec.kind] > 1:
            names.append(f"{spec.flow} ({label}, {_relative(Path(spec.script), root, '')})")
        else:
            names.append(f"{spec.flow} ({label})")
    return names


def _relative(path: Path, root: Path, prefix: str) -> str:
    """`prefix/relative` for a path inside root, else the absolute path."""
    try:
        relative = Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return str(path)
    if not prefix:
        return relative.as_posix()
    return prefix if relative == Path(".") else f"{prefix}/{relative.as_posix()}"


# -- VS Code ---------------------------------------------------------------------------------------------------------


def vscode_configuration(spec: RunSpec, name: str, root: Path) -> dict[str, Any]:
    """A debugpy launch configuration: F5 debugs with subprocess following (every Metaflow task is a subprocess),
    Ctrl+F5 runs. Paths inside the workspace are `${workspaceFolder}`-relative."""
    values = [spec.script, spec.cwd, *spec.args]
    # With the integrated terminal VS Code turns the command into a shell line; when any part holds characters a
    # shell treats specially, debugpy's own console starts the process directly instead (no shell at all).
    console = "integratedTerminal" if all(_PLAIN.fullmatch(v) for v in values) else "internalConsole"
    return {
        "name": name,
        "type": DEBUGGER["type"],
        "request": "launch",
        "program": _relative(Path(spec.script), root, "${workspaceFolder}"),
        "args": list(spec.args),
        "cwd": _relative(Path(spec.cwd), root, "${workspaceFolder}"),
        "env": dict(spec.env),
        "console": console,
        "subProcess": DEBUGGER["subProcess"],
        "justMyCode": DEBUGGER["justMyCode"],
    }


def write_launch_json(root: Path, specs: list[RunSpec], names: list[str], report: WriteReport) -> None:
    """The test-mode entries only: one debugpy entry is both (F5 debugs following subprocesses, Ctrl+F5 runs)."""
    path = root / ".vscode" / "launch.json"
    entries = [vscode_configuration(spec, name, root) for spec, name in zip(specs, names)
               if spec.kind == KIND_TEST_MODE]
    old = _read_target(path, root, report)
    if old is _REFUSED:
        return
    try:
        new = jsonc.merge_configurations(old, entries)
    except jsonc.JsoncError as error:
        report.errors.append(f"{path}: not valid JSON with comments ({error}); left unchanged")
        return
    _write(path, root, old, new, report)


# -- PyCharm ---------------------------------------------------------------------------------------------------------


# What Java's Character.isWhitespace calls whitespace (the plugin's ParametersList quotes on it): the Unicode
# separators but the no-break spaces, and these controls.
_JAVA_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")


def _java_whitespace(char: str) -> bool:
    return char in _JAVA_WHITESPACE_CONTROLS or (
        unicodedata.category(char) in ("Zs", "Zl", "Zp") and char not in _NO_BREAK_SPACES)


def pycharm_quote(argument: str) -> str:
    """One argument for PyCharm's PARAMETERS string (split like IntelliJ's ParametersListUtil.parse: whitespace
    separates, double quotes group, a backslash before a double quote makes it literal). The same text as the
    plugin's ParametersList.escape: quoted when empty or holding whitespace or `|`."""
    escaped = argument.replace('"', '\\"')
    if argument and not any(ch == "|" or _java_whitespace(ch) for ch in argument):
        return escaped
    trailing = len(escaped) - len(escaped.rstrip("\\"))
    # A trailing backslash inside quotes would escape the closing quote: keep it outside.
    return f'"{escaped[: len(escaped) - trailing]}"' + "\\" * trailing


def pycharm_parameters(args: list[str] | tuple[str, ...]) -> str:
    return " ".join(pycharm_quote(a) for a in args)


def xml_attribute(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def pycharm_configuration(spec: RunSpec, name: str, root: Path) -> str:
    envs = "".join(f'\n      <env name="{xml_attribute(k)}" value="{xml_attribute(v)}" />' for k, v in spec.env)
    options = [
        ("PARENT_ENVS", "true"),
        ("SDK_HOME", ""),
        ("IS_MODULE_SDK", "true"),
        ("WORKING_DIRECTORY", _relative(Path(spec.cwd), root, "$PROJECT_DIR$")),
        ("SCRIPT_NAME", _relative(Path(spec.script), root, "$PROJECT_DIR$")),
        ("PARAMETERS", pycharm_parameters(spec.args)),
        ("SHOW_COMMAND_LINE", "false"),
        ("EMULATE_TERMINAL", "false"),
        ("MODULE_MODE", "false"),
    ]
    lines = [
        '<component name="ProjectRunConfigurationManager">',
        f'  <configuration default="false" name="{xml_attribute(name)}" type="PythonConfigurationType" '
        'factoryName="Python">',
        f'    <option name="{options[0][0]}" value="{options[0][1]}" />',
        f"    <envs>{envs}\n    </envs>",
        *(f'    <option name="{key}" value="{xml_attribute(value)}" />' for key, value in options[1:]),
        '    <method v="2" />',
        "  </configuration>",
        "</component>",
    ]
    return "\n".join(lines) + "\n"


def pycharm_file_name(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name) + ".run.xml"


def write_pycharm(root: Path, specs: list[RunSpec], names: list[str], report: WriteReport) -> None:
    for spec, name in zip(specs, names):
        path = root / ".run" / pycharm_file_name(name)
        old = _read_target(path, root, report)
        if old is _REFUSED:
            continue
        new = pycharm_configuration(spec, name, root)
        if old is not None:
            try:
                new = merge_pycharm(old, new)
            except ValueError as error:
                report.errors.append(f"{path}: {error}; left unchanged")
                continue
        _write(path, root, old, new, report)


# The options that make it a test-mode run of this flow: ours on every rewrite. The others (the interpreter,
# console, before-launch tasks, anything PyCharm adds) are the user's once the file exists, as are their variables.
_OWNED_OPTIONS = frozenset({"SCRIPT_NAME", "PARAMETERS", "WORKING_DIRECTORY", "MODULE_MODE"})


def merge_pycharm(old: str, fresh: str) -> str:
    """The existing run configuration `old` updated with our `fresh` one: owned options and our variables take our
    values, missing options are added, everything else stays. `old` itself when nothing changes. Raises
    ValueError when `old` is not a Python run configuration."""
    try:
        old_root = ET.fromstring(old)
    except ET.ParseError as error:
        raise ValueError(f"not valid XML ({error})") from None
    configuration = old_root.find("configuration")
    if configuration is None or configuration.get("type") != "PythonConfigurationType":
        raise ValueError("not a Python run configuration")
    ours = ET.fromstring(fresh).find("configuration")
    for option in ours.findall("option"):
        existing = next((o for o in configuration.findall("option") if o.get("name") == option.get("name")), None)
        if existing is None:  # after the last option
            after = [index for index, child in enumerate(configuration) if child.tag == "option"]
            configuration.insert(after[-1] + 1 if after else 0, option)
        elif option.get("name") in _OWNED_OPTIONS:
            existing.set("value", option.get("value", ""))
    envs = configuration.find("envs")
    if envs is None:
        envs = ET.SubElement(configuration, "envs")
    for variable in ours.find("envs"):
        existing = next((e for e in envs if e.get("name") == variable.get("name")), None)
        if existing is None:
            envs.append(variable)
        else:
            existing.set("value", variable.get("value", ""))
    if ET.canonicalize(ET.tostring(old_root, encoding="unicode"), strip_text=True) == \
            ET.canonicalize(old, strip_text=True):
        return old
    ET.indent(old_root, space="  ")
    return ET.tostring(old_root, encoding="unicode") + "\n"


# -- both ------------------------------------------------------------------------------------------------------------


def write_run_configurations(root: Path, specs: list[RunSpec] | None = None, vscode: bool = True,
                             pycharm: bool = True) -> WriteReport:
    """Writes (or updates) the run configurations of every flow under `root`."""
    root = Path(root).resolve()
    specs = workspace_specs(root) if specs is None else specs
    names = configuration_names(specs, root)
    report = WriteReport(configurations=[name for spec, name in zip(specs, names)
                                         if pycharm or spec.kind == KIND_TEST_MODE])
    if not specs:
        return report
    if vscode:
        write_launch_json(root, specs, names, report)
    if pycharm:
        write_pycharm(root, specs, names, report)
    return report


_REFUSED = object()  # what _read_target returns for a file that must not be touched


def _read_target(path: Path, root: Path, report: WriteReport) -> str | None | object:
    """The current text of a file about to be rewritten (None when there is none yet), or _REFUSED (with the
    reason in `report`) when its real path leaves `root` or it is not a regular file."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        report.errors.append(f"{path}: leads out of the workspace folder (to {real}); left unchanged")
        return _REFUSED
    try:
        return read_text(real)
    except FileNotFoundError:
        return None
    except NotRegularFile:
        report.errors.append(f"{path}: not a regular file; left unchanged")
        return _REFUSED
    except (OSError, UnicodeDecodeError) as error:
        report.errors.append(f"{path}: cannot read it ({getattr(error, 'strerror', None) or error}); left unchanged")
        return _REFUSED


def _write(path: Path, root: Path, old: str | None, new: str, report: WriteReport) -> None:
    """Writes `new` at `path` (checked by _read_target), never outside `root`."""
    if old == new:
        report.unchanged.append(path)
        return
    try:
        write_inside(root, path, new.encode("utf-8"))  # bytes: keep the file's own line endings
    except OSError as error:
        report.errors.append(f"{path}: cannot write it ({error.strerror or error})")
        return
    report.written.append(path)
