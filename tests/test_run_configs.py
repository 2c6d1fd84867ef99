"""Generated run configurations: .vscode/launch.json (JSONC merge) and PyCharm's .run/*.run.xml."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from metaflow_lsp.launch import jsonc
from metaflow_lsp.launch.configs import pycharm_parameters, pycharm_quote, write_run_configurations
from metaflow_lsp.launch.runspec import IDE_TAG

FLOW = """
from metaflow import FlowSpec, Parameter, step


class {name}(FlowSpec):
    smoke = Parameter("smoke", type=bool, default=False)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""

EXISTING = """\
// Launch configurations of this project (hand-written; keep these comments).
{
    "version": "0.2.0",
    /* the app */
    "configurations": [
        {
            "name": "App", // the web app
            "type": "debugpy",
            "request": "launch",
            "program": "${workspaceFolder}/app.py",
        },
        // a trailing comma after the last entry is fine in JSONC
    ],
    "compounds": [],
}
"""


def strip_jsonc(text: str) -> object:
    """Reads JSONC through the module's own parser, then checks the values with json (comments dropped)."""
    def value(node):
        if node.kind == "object":
            return {k: value(v) for k, v in node.members}
        if node.kind == "array":
            return [value(i) for i in node.items]
        return node.value
    return value(jsonc.parse(text))


def intellij_parse(text: str) -> list[str]:
    """IntelliJ's ParametersListUtil.parse(text) (double quotes group, backslash-quote is a literal quote,
    whitespace separates), as PyCharm splits PARAMETERS; written from its documented behaviour."""
    params, token, in_quotes, escaped, non_empty = [], [], False, False, False
    text = text.strip()
    for i, ch in enumerate(text):
        if ch == '"':
            if not escaped:
                in_quotes, non_empty = not in_quotes, True
                continue
            escaped = False
        elif ch.isspace():
            if not in_quotes:
                if token or non_empty:
                    params.append("".join(token))
                    token, non_empty = [], False
                continue
        elif ch == "\\" and i < len(text) - 1 and text[i + 1] == '"':
            escaped = True
            continue
        token.append(ch)
    if token or non_empty:
        params.append("".join(token))
    return params


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "train.py").write_text(FLOW.format(name="TrainFlow"))
    return tmp_path


def test_launch_json_created_with_one_debugpy_configuration_per_flow(workspace):
    report = write_run_configurations(workspace, pycharm=False)
    assert report.errors == []
    data = json.loads((workspace / ".vscode" / "launch.json").read_text())
    assert data["version"] == "0.2.0"
    [config] = data["configurations"]
    assert config == {
        "name": "TrainFlow (test mode)", "type": "debugpy", "request": "launch",
        "program": "${workspaceFolder}/flows/train.py",
        "args": ["--no-pylint", "run", "--smoke", "1", "--max-workers", "1", "--tag", IDE_TAG],
        "cwd": "${workspaceFolder}/flows", "env": {"PYTHONUNBUFFERED": "1"}, "console": "integratedTerminal",
        "subProcess": True, "justMyCode": False,
    }


def test_merge_keeps_comments_and_other_entries_and_is_idempotent(workspace):
    launch = workspace / ".vscode" / "launch.json"
    launch.parent.mkdir()
    launch.write_text(EXISTING)
    write_run_configurations(workspace, pycharm=False)
    first = launch.read_text()
    for comment in ("// Launch configurations of this project", "/* the app */", "// the web app",
                    "// a trailing comma after the last entry is fine in JSONC"):
        assert comment in first
    # Everything before our entry is byte-identical; the other entry is untouched.
    assert first.startswith(EXISTING[: EXISTING.index("        // a trailing comma")])
    assert first.endswith('    ],\n    "compounds": [],\n}\n')
    data = strip_jsonc(first)
    assert [c["name"] for c in data["configurations"]] == ["App", "TrainFlow (test mode)"]
    assert data["compounds"] == []

    report = write_run_configurations(workspace, pycharm=False)
    assert launch.read_text() == first  # second run: byte-identical
    assert report.written == [] and report.unchanged == [launch]


def test_merge_replaces_our_entry_in_place_when_the_flow_changes(workspace):
    write_run_configurations(workspace, pycharm=False)
    launch = workspace / ".vscode" / "launch.json"
    text = launch.read_text().replace('"name": "TrainFlow (test mode)"', '// ours\n            "name": "TrainFlow (test mode)"')
    launch.write_text(text)
    (workspace / "flows" / "train.py").write_text(FLOW.format(name="TrainFlow").replace('"smoke"', '"test_mode"'))
    (workspace / "flows" / "other.py").write_text(FLOW.format(name="OtherFlow"))
    write_run_configurations(workspace, pycharm=False)
    data = strip_jsonc(launch.read_text())
    names = [c["name"] for c in data["configurations"]]
    assert names == ["TrainFlow (test mode)", "OtherFlow (test mode)"]  # replaced in place, new one appended
    assert "--test_mode" in data["configurations"][0]["args"]


@pytest.mark.parametrize("text", [
    '{"configurations": []}',
    '{\n  "version": "0.2.0"\n}\n',
    '{\n  "version": "0.2.0",\n  "configurations": [\n  ]\n}\n',
    '{"version": "0.2.0", "configurations": [{"name": "x"}]}',
    '// only a comment\n{}\n',
])
def test_merge_into_minimal_files_gives_valid_jsonc(text):
    entry = {"name": "F (test mode)", "args": ["a b", "$x"]}
    merged = jsonc.merge_configurations(text, [entry])
    assert entry in strip_jsonc(merged)["configurations"]
    assert jsonc.merge_configurations(merged, [entry]) == merged


def test_broken_launch_json_is_left_alone(workspace):
    launch = workspace / ".vscode" / "launch.json"
    launch.parent.mkdir()
    launch.write_text('{ "configurations": [ { "name": "App" ')
    report = write_run_configurations(workspace, pycharm=False)
    assert report.errors and "left unchanged" in report.errors[0]
    assert launch.read_text() == '{ "configurations": [ { "name": "App" '


def test_pycharm_run_configuration(workspace):
    write_run_configurations(workspace, vscode=False)
    path = workspace / ".run" / "TrainFlow (test mode).run.xml"
    root = ET.parse(path).getroot()
    assert root.tag == "component" and root.get("name") == "ProjectRunConfigurationManager"
    config = root.find("configuration")
    assert config.get("name") == "TrainFlow (test mode)" and config.get("type") == "PythonConfigurationType"
    options = {o.get("name"): o.get("value") for o in config.findall("option")}
    assert options["SCRIPT_NAME"] == "$PROJECT_DIR$/flows/train.py"
    assert options["WORKING_DIRECTORY"] == "$PROJECT_DIR$/flows"
    assert options["PARAMETERS"] == f"--no-pylint run --smoke 1 --max-workers 1 --tag {IDE_TAG}"
    assert options["MODULE_MODE"] == "false" and options["PARENT_ENVS"] == "true"
    assert {e.get("name"): e.get("value") for e in config.find("envs")} == {"PYTHONUNBUFFERED": "1"}
    # The foreach-debug lens's configuration too (PyCharm's Debug button on it follows every task subprocess).
    debug = ET.parse(workspace / ".run" / "TrainFlow (foreach debug).run.xml").getroot().find("configuration")
    assert debug.get("name") == "TrainFlow (foreach debug)"
    assert {o.get("name"): o.get("value") for o in debug.findall("option")}["PARAMETERS"] == options["PARAMETERS"]
    assert {e.get("name"): e.get("value") for e in debug.find("envs")} == {
        "PYTHONUNBUFFERED": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    first = path.read_bytes()
    report = write_run_configurations(workspace, vscode=False)
    assert path.read_bytes() == first and report.written == []
    assert len(list((workspace / ".run").iterdir())) == 2


@pytest.mark.parametrize("arg", ["plain", "two words", 'say "hi"', "", "$PROJECT_DIR", "back\\slash", "end\\",
                                 'q"', "tab\there", "it's", "$(touch pwned)", "a & b <c>"])
def test_pycharm_parameters_round_trip_through_intellij_parsing(arg):
    assert intellij_parse(pycharm_quote(arg)) == [arg]
    assert intellij_parse(pycharm_parameters(["run", arg, "--x"])) == ["run", arg, "--x"]


def test_paths_with_spaces_quotes_and_dollars(tmp_path):
    workspace = tmp_path / 'my "odd" $proj & <co>'
    folder = workspace / 'flow "dir" & <x>'
    folder.mkdir(parents=True)
    (folder / "$(touch pwned) it's.py").write_text(FLOW.format(name="OddFlow"))
    outside = tmp_path / "elsewhere"
    report = write_run_configurations(workspace)
    assert report.errors == []
    xml_file = workspace / ".run" / "OddFlow (test mode).run.xml"
    options = {o.get("name"): o.get("value") for o in ET.parse(xml_file).getroot().iter("option")}
    assert options["SCRIPT_NAME"] == "$PROJECT_DIR$/flow \"dir\" & <x>/$(touch pwned) it's.py"
    assert options["WORKING_DIRECTORY"] == "$PROJECT_DIR$/flow \"dir\" & <x>"
    assert "flow &quot;dir&quot; &amp; &lt;x&gt;" in xml_file.read_text()  # escaped as XML attribute text
    config = json.loads((workspace / ".vscode" / "launch.json").read_text())["configurations"][0]
    assert config["program"] == "${workspaceFolder}/flow \"dir\" & <x>/$(touch pwned) it's.py"
    assert config["console"] == "internalConsole"  # never a shell line for such a path
    assert not (workspace / "pwned").exists() and not outside.exists()


def test_run_configs_cli(workspace):
    cli = Path(sys.executable).with_name("metaflow-lsp")
    result = subprocess.run([str(cli), "run-configs", str(workspace), "--format", "json"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["configurations"] == ["TrainFlow (test mode)", "TrainFlow (foreach debug)"]
    assert len(report["written"]) == 3  # launch.json and two .run.xml
    again = subprocess.run([str(cli), "run-configs", str(workspace)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "unchanged" in again.stdout and "wrote" not in again.stdout


def test_two_flows_with_one_class_name_get_distinct_names(workspace):
    (workspace / "other").mkdir()
    (workspace / "other" / "train.py").write_text(FLOW.format(name="TrainFlow"))
    report = write_run_configurations(workspace)
    assert report.configurations == ["TrainFlow (test mode, flows/train.py)", "TrainFlow (foreach debug, flows/train.py)",
                                     "TrainFlow (test mode, other/train.py)", "TrainFlow (foreach debug, other/train.py)"]
    names = [c["name"] for c in json.loads((workspace / ".vscode" / "launch.json").read_text())["configurations"]]
    assert names == ["TrainFlow (test mode, flows/train.py)", "TrainFlow (test mode, other/train.py)"]
    assert len(list((workspace / ".run").iterdir())) == 4


def test_rewriting_keeps_what_the_user_added_to_our_entry(workspace):
    """A user who adds a pre-launch task, an env file, a variable of their own or a comment to the generated entry
    keeps them when the configurations are written again; the keys that define the test-mode run are ours."""
    write_run_configurations(workspace, pycharm=False)
    launch = workspace / ".vscode" / "launch.json"
    ours = strip_jsonc(launch.read_text())["configurations"][0]
    customised = launch.read_text().replace(
        '"request": "launch",',
        '"request": "launch",\n            // my build first\n            "preLaunchTask": "build",'
        '\n            "envFile": "${workspaceFolder}/.env",').replace(
        '"env": {', '"env": {\n                "MY_TOKEN_FILE": "/home/me/token",').replace(
        '"--max-workers",', '"--max-workers", "--no-such-option",')
    assert customised.count("MY_TOKEN_FILE") == customised.count("--no-such-option") == 1
    launch.write_text(customised)
    write_run_configurations(workspace, pycharm=False)
    text = launch.read_text()
    entry = strip_jsonc(text)["configurations"][0]
    assert "// my build first" in text
    assert entry["preLaunchTask"] == "build" and entry["envFile"] == "${workspaceFolder}/.env"
    assert entry["env"] == {"MY_TOKEN_FILE": "/home/me/token", **ours["env"]}
    assert entry["args"] == ours["args"]  # what makes it a test-mode run is ours
    write_run_configurations(workspace, pycharm=False)
    assert launch.read_text() == text  # and stable from then on


def test_rewriting_keeps_what_the_user_changed_in_pycharm(workspace):
    """PyCharm saves a user's edits into the .run.xml (another interpreter, a variable, a before-launch task, an
    option it adds): kept when the configurations are written again; the script, parameters and folder are ours."""
    write_run_configurations(workspace, vscode=False)
    path = workspace / ".run" / "TrainFlow (test mode).run.xml"
    edited = path.read_text().replace('<option name="SDK_HOME" value="" />',
                                      '<option name="SDK_HOME" value="/opt/py/bin/python" />') \
        .replace('<env name="PYTHONUNBUFFERED" value="1" />',
                 '<env name="PYTHONUNBUFFERED" value="1" />\n      <env name="MY_VAR" value="x" />') \
        .replace('<option name="PARAMETERS" value="', '<option name="PARAMETERS" value="--oops ') \
        .replace('<method v="2" />', '<option name="INTERPRETER_OPTIONS" value="-X dev" />\n'
                 '    <method v="2">\n      <option name="RunConfigurationTask" enabled="true" '
                 'run_configuration_name="prepare" run_configuration_type="PythonConfigurationType" />\n'
                 '    </method>')
    assert edited.count("/opt/py/bin/python") == edited.count("MY_VAR") == edited.count("--oops") == 1
    path.write_text(edited)
    (workspace / "flows" / "train.py").write_text(FLOW.format(name="TrainFlow").replace('"smoke"', '"test_mode"'))
    report = write_run_configurations(workspace, vscode=False)
    assert report.errors == [] and report.written == [path, path.with_name("TrainFlow (foreach debug).run.xml")]
    config = ET.parse(path).getroot().find("configuration")
    options = {o.get("name"): o.get("value") for o in config.findall("option")}
    assert options["SDK_HOME"] == "/opt/py/bin/python" and options["INTERPRETER_OPTIONS"] == "-X dev"
    assert options["PARAMETERS"] == f"--no-pylint run --test_mode 1 --max-workers 1 --tag {IDE_TAG}"
    assert {e.get("name"): e.get("value") for e in config.find("envs")} == {"PYTHONUNBUFFERED": "1", "MY_VAR": "x"}
    assert config.find("method").find("option").get("run_configuration_name") == "prepare"
    first = path.read_text()
    assert write_run_configurations(workspace, vscode=False).written == [] and path.read_text() == first


def test_a_foreign_file_under_our_name_is_left_alone(workspace):
    path = workspace / ".run" / "TrainFlow (test mode).run.xml"
    path.parent.mkdir()
    path.write_text('<component name="ProjectRunConfigurationManager"><configuration type="ShConfigurationType" '
                    'name="TrainFlow (test mode)" /></component>\n')
    report = write_run_configurations(workspace, vscode=False)
    assert report.errors and "left unchanged" in report.errors[0]
    assert "ShConfigurationType" in path.read_text()
