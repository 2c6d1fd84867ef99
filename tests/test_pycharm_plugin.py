"""The PyCharm plugin (pycharm-plugin/): everything about it that can be checked without IntelliJ.

- The core (pycharm-plugin/core: RunSpec parsing, run configuration model, PyCharm's parameter quoting) is compiled
  with javac (release 17) and its JUnit 4 tests are run. Missing javac or JUnit is a failure, never a skip: CI must
  install `openjdk-17-jdk-headless` and `junit4`.
- Real RunSpecs computed by the server's own code go through the compiled core, and the run configurations it would
  create are compared with what the server meant.
- plugin.xml and every META-INF XML parse; the server id, language mapping, action ids (= the client-side command
  ids of the server's code lenses, the VS Code extension's commands) and every class named in XML agree with the
  sources.

The IntelliJ-facing classes (pycharm-plugin/src) are NOT compiled here: the IntelliJ Platform, PyCharm and LSP4IJ
cannot be downloaded on these machines. .github/workflows/pycharm-plugin.yml builds and verifies them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "pycharm-plugin"
CORE = PLUGIN / "core"
META_INF = PLUGIN / "src" / "main" / "resources" / "META-INF"
IDE_SOURCES = PLUGIN / "src" / "main" / "java"
CORE_SOURCES = CORE / "src" / "main" / "java"
CORE_TESTS = CORE / "src" / "test" / "java"
EXTENSION_TS = ROOT / "vscode-extension" / "src" / "extension.ts"
COMMANDS_JSON = ROOT / "server" / "metaflow_lsp" / "commands.json"  # the one list of lens command ids
PACKAGE_JSON = ROOT / "vscode-extension" / "package.json"

JUNIT_JARS = [Path("/usr/share/java/junit4.jar"), Path("/usr/share/java/hamcrest-core.jar")]
SERVER_ID = "metaflowLsp"

# XML attributes that name a Java class in plugin descriptors.
CLASS_ATTRIBUTES = ("class", "factoryClass", "implementation", "implementationClass", "instance",
                    "serviceImplementation", "serviceInterface", "documentMatcher")


# -- compiling and running the core ----------------------------------------------------------------------------------


def _java_tools() -> tuple[str, str]:
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        pytest.fail("javac/java not found: the PyCharm plugin's core is compiled with a JDK 17 "
                    "(CI: apt-get install -y openjdk-17-jdk-headless)")
    version = subprocess.run([javac, "-version"], capture_output=True, text=True)
    match = re.search(r"javac (\d+)", version.stdout + version.stderr)
    if not match or int(match.group(1)) < 17:
        pytest.fail(f"javac 17 or newer is needed, found: {(version.stdout + version.stderr).strip()}")
    missing = [str(jar) for jar in JUNIT_JARS if not jar.is_file()]
    if missing:
        pytest.fail(f"JUnit 4 not found ({', '.join(missing)}): CI must install it (apt-get install -y junit4)")
    return javac, java


@pytest.fixture(scope="module")
def core_classes(tmp_path_factory) -> tuple[str, Path]:
    """Compiles the core and its tests (warnings are errors); returns (java, classes directory)."""
    javac, java = _java_tools()
    out = tmp_path_factory.mktemp("core-classes")
    sources = sorted(str(p) for p in [*CORE_SOURCES.rglob("*.java"), *CORE_TESTS.rglob("*.java")])
    assert sources, "no Java sources under pycharm-plugin/core"
    result = subprocess.run(
        [javac, "--release", "17", "-Xlint:all", "-Werror", "-encoding", "UTF-8", "-d", str(out),
         "-cp", ":".join(map(str, JUNIT_JARS)), *sources],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, f"javac failed:\n{result.stdout}\n{result.stderr}"
    return java, out


def _classpath(classes: Path) -> str:
    # The server folder: MetaflowCommand reads metaflow_lsp/commands.json as a resource (Gradle packs it the same way).
    return ":".join([str(classes), str(COMMANDS_JSON.parent.parent), *map(str, JUNIT_JARS)])


def test_core_junit_tests_pass(core_classes):
    java, classes = core_classes
    test_classes = sorted(
        ".".join(p.relative_to(CORE_TESTS).with_suffix("").parts) for p in CORE_TESTS.rglob("*Test.java"))
    assert len(test_classes) >= 5, test_classes
    result = subprocess.run([java, "-cp", _classpath(classes), "org.junit.runner.JUnitCore", *test_classes],
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    match = re.search(r"^OK \((\d+) tests?\)", output, re.MULTILINE)
    assert match, output
    assert int(match.group(1)) >= 25, output  # every test method ran, none was silently dropped


def test_core_has_no_intellij_or_lsp4ij_imports():
    for path in [*CORE_SOURCES.rglob("*.java"), *CORE_TESTS.rglob("*.java")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*import\s+(static\s+)?(com\.intellij|com\.redhat|com\.jetbrains|org\.eclipse|"
                             r"com\.google)\.", text, re.MULTILINE), f"{path} imports IDE or third-party classes"


def _server_specs(tmp_path: Path) -> list[dict]:
    """Real RunSpecs from the server's launch code, for a flow in a folder whose name needs quoting."""
    from metaflow_lsp.builder import parse_module
    from metaflow_lsp.config import Settings
    from metaflow_lsp.launch import runspec

    # The test-mode builder is `run_spec` (earlier `test_mode_spec`): the server's module is still settling.
    test_mode_spec = getattr(runspec, "run_spec", None) or getattr(runspec, "test_mode_spec")

    source = '''
from metaflow import FlowSpec, Parameter, pypi, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", default=False, type=bool)

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.train, foreach="items")

    @pypi(packages={"pandas": "2.2.2"})
    @step
    def train(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''
    folder = tmp_path / 'my "flows" $HOME'
    folder.mkdir()
    path = folder / "train flow.py"
    path.write_text(source, encoding="utf-8")
    flow = parse_module(source, path).flows[0]
    settings = Settings()
    return [
        {"command": "metaflow.runTestMode", "spec": test_mode_spec(flow, path, settings).to_json()},
        {"command": "metaflow.debugForeach", "spec": test_mode_spec(flow, path, settings, debug=True).to_json()},
        {"command": "metaflow.resume", "spec": runspec.resume_spec(flow, path, "train", "1712345").to_json()},
        {"command": "metaflow.spin", "spec": runspec.spin_spec(flow, path, "train", "1712345").to_json()},
    ]


def _core_models(core_classes, entries: list[dict], tmp_path: Path, project: Path | None = None) -> list[dict]:
    """What the compiled core makes of each {"command", "spec"} (ServerSpecsCheck): the run configuration model and
    its .run.xml for `project`."""
    java, classes = core_classes
    specs_file = tmp_path / "specs.json"
    specs_file.write_text(json.dumps(entries), encoding="utf-8")
    result = subprocess.run([java, "-cp", _classpath(classes), "dev.metaflowlsp.core.ServerSpecsCheck",
                             str(specs_file), *([str(project)] if project else [])], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    models = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(models) == len(entries)
    return models


def test_server_runspecs_become_the_intended_run_configurations(core_classes, tmp_path):
    entries = _server_specs(tmp_path)
    models = _core_models(core_classes, entries, tmp_path)

    labels = {"metaflow.runTestMode": "test mode", "metaflow.debugForeach": "foreach debug",
              "metaflow.resume": "resume", "metaflow.spin": "spin"}
    for entry, model in zip(entries, models):
        spec = entry["spec"]
        assert model["roundTrip"] is True
        assert model["name"] == f"TrainFlow ({labels[entry['command']]})"
        assert model["script"] == spec["script"]
        assert model["cwd"] == spec["cwd"]
        assert model["env"] == spec["env"]
        debug = entry["command"] == "metaflow.debugForeach"
        assert model["executor"] == ("DEBUG" if debug else "RUN")
        assert model["followSubprocesses"] is debug
    # The server names its .run.xml "<Flow> (test mode)": the plugin reuses that configuration, not a second one.
    assert models[0]["name"] == "TrainFlow (test mode)"
    assert models[0]["parameters"].startswith("--no-pylint --environment=pypi run --test_mode 1 --max-workers 1")
    assert models[1]["env"].get("PYDEVD_DISABLE_FILE_VALIDATION") == "1"

    # Where the server writes PARAMETERS itself (.run.xml), both sides agree on these arguments.
    from metaflow_lsp.launch.configs import pycharm_parameters

    for entry, model in zip(entries, models):
        assert model["parameters"] == pycharm_parameters(entry["spec"]["args"])


LENS_FLOW = '''
from metaflow import FlowSpec, Parameter, pypi, step


class {name}(FlowSpec):
    test_mode = Parameter("test_mode", default=False, type=bool)

    @pypi(packages={{"pandas": "2.2.2"}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def test_lens_run_configurations_are_the_run_configs_files_byte_for_byte(core_classes, tmp_path):
    """One model: the .run.xml `metaflow-lsp run-configs` writes for each flow (test mode and foreach debug) is, byte
    for byte, what the plugin's core renders from the RunSpec the server's code lens carries, with the same name
    (a second flow of one class name gets its project path in both)."""
    from metaflow_lsp.builder import parse_module
    from metaflow_lsp.config import Settings
    from metaflow_lsp.launch.configs import write_run_configurations
    from metaflow_lsp.lsp.code_lens import DEBUG_FOREACH, RUN_TEST_MODE, lenses
    from metaflow_lsp.text import LineIndex

    root = (tmp_path / 'my "project" $HOME & <x>').resolve()
    sources = {root / "flows dir" / "odd flow.py": LENS_FLOW.format(name="OddFlow"),
               root / "flows dir" / "train.py": LENS_FLOW.format(name="TrainFlow"),
               root / "other" / "train.py": LENS_FLOW.format(name="TrainFlow")}
    for path, source in sources.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    report = write_run_configurations(root, vscode=False)
    assert report.errors == []
    written = {}
    for path in (root / ".run").iterdir():
        written[ET.parse(path).getroot().find("configuration").get("name")] = path.read_text(encoding="utf-8")
    assert set(written) == {"OddFlow (test mode)", "OddFlow (foreach debug)",
                            "TrainFlow (test mode, flows dir/train.py)", "TrainFlow (foreach debug, flows dir/train.py)",
                            "TrainFlow (test mode, other/train.py)", "TrainFlow (foreach debug, other/train.py)"}

    entries = []
    for path, source in sources.items():
        for lens in lenses(parse_module(source, path), path, LineIndex(source), Settings()):
            if lens.command.command in (RUN_TEST_MODE, DEBUG_FOREACH):
                entries.append({"command": lens.command.command, "spec": lens.command.arguments[0]})
    rendered = {}
    for model in _core_models(core_classes, entries, tmp_path, root):
        for xml in (model["xml"], model["xmlWithFile"]):
            rendered[ET.fromstring(xml).find("configuration").get("name")] = xml
    for name, text in written.items():
        assert rendered.get(name) == text, name


@pytest.mark.parametrize("arguments", [["a|b", "tab\there", "no\u00a0break", "end\\", 'say "hi"', "", "$HOME", "a&<b>"],
                                       ["line\nbreak", "\u2003em space", "\x1c", "'single'", "é"]])
def test_core_and_server_render_any_runspec_alike(core_classes, tmp_path, arguments):
    """Arguments and variables that need quoting or escaping: the core's XML (ParametersList, attribute escaping)
    and the server's (pycharm_quote, xml_attribute) stay the same text."""
    from metaflow_lsp.launch.configs import pycharm_configuration
    from metaflow_lsp.launch.runspec import RunSpec

    root = tmp_path / "project"
    spec = {"title": "t", "kind": "testMode", "flow": "OddFlow", "script": str(root / "f.py"), "args": arguments,
            "cwd": str(root), "env": {"A_VAR": 'x"&<y>\tz'}, "debug": False, "debugger": None, "testOption": None}
    [model] = _core_models(core_classes, [{"command": "metaflow.runTestMode", "spec": spec}], tmp_path, root)
    assert model["roundTrip"] is True
    assert model["xml"] == pycharm_configuration(RunSpec.from_json(spec), "OddFlow (test mode)", root)


# -- plugin descriptors ----------------------------------------------------------------------------------------------


def _xml(name: str) -> ET.Element:
    return ET.parse(META_INF / name).getroot()


def _descriptors() -> dict[str, ET.Element]:
    return {path.name: ET.parse(path).getroot() for path in sorted(META_INF.glob("*.xml"))}


def test_every_meta_inf_xml_is_well_formed():
    files = sorted(META_INF.glob("*.xml"))
    assert "plugin.xml" in [f.name for f in files]
    for path in files:
        ET.parse(path)  # raises ParseError with line and column


def test_plugin_xml_declares_identity_and_dependencies():
    root = _xml("plugin.xml")
    assert root.tag == "idea-plugin"
    assert root.findtext("id") == "dev.metaflowlsp.pycharm"
    assert root.findtext("name") == "Metaflow LSP"
    depends = {d.text.strip(): d.attrib for d in root.findall("depends")}
    assert "com.redhat.devtools.lsp4ij" in depends and "optional" not in depends["com.redhat.devtools.lsp4ij"]
    assert depends["PythonCore"].get("optional") == "true"
    for attributes in depends.values():
        if "config-file" in attributes:
            assert (META_INF / attributes["config-file"]).is_file(), attributes


def test_server_and_language_mapping_agree():
    root = _xml("plugin.xml")
    lsp4ij = [e for e in root.findall("extensions") if e.get("defaultExtensionNs") == "com.redhat.devtools.lsp4ij"]
    assert len(lsp4ij) == 1
    servers = lsp4ij[0].findall("server")
    assert [s.get("id") for s in servers] == [SERVER_ID]
    assert servers[0].get("name") == "Metaflow LSP"
    assert servers[0].get("factoryClass") == "dev.metaflowlsp.pycharm.MetaflowLanguageServerFactory"
    mappings = lsp4ij[0].findall("languageMapping")
    assert [(m.get("language"), m.get("serverId"), m.get("languageId")) for m in mappings] == [
        ("Python", SERVER_ID, "python")]


def _actions() -> dict[str, str]:
    """action id -> class, from every descriptor."""
    actions: dict[str, str] = {}
    for name, root in _descriptors().items():
        for action in root.iter("action"):
            assert action.get("id") not in actions, f"duplicate action id {action.get('id')} ({name})"
            actions[action.get("id")] = action.get("class")
    return actions


def _vscode_commands() -> tuple[list[str], list[str]]:
    text = EXTENSION_TS.read_text(encoding="utf-8")
    lists = {}
    for name in ("RUN_COMMANDS", "DEBUG_COMMANDS"):
        match = re.search(rf"const {name}\s*=\s*\[([^\]]*)\]", text)
        assert match, f"{name} not found in {EXTENSION_TS}"
        lists[name] = re.findall(r'"([^"]+)"', match.group(1))
    return lists["RUN_COMMANDS"], lists["DEBUG_COMMANDS"]


def _core_commands() -> dict[str, tuple[str, str]]:
    """MetaflowCommand enum: constant -> (id, executor)."""
    text = (CORE_SOURCES / "dev" / "metaflowlsp" / "core" / "MetaflowCommand.java").read_text(encoding="utf-8")
    found = re.findall(r'^\s*(\w+)\("([^"]+)",\s*Executor\.(\w+)', text, re.MULTILINE)
    assert found
    return {constant: (command_id, executor) for constant, command_id, executor in found}


def _lens_commands() -> list[dict]:
    return json.loads(COMMANDS_JSON.read_text(encoding="utf-8"))["lensCommands"]


def test_action_ids_are_the_clients_command_ids():
    """commands.json is the one list: the plugin's actions, the VS Code extension's run and debug lists and its
    package.json contributes all name exactly its ids."""
    listed = _lens_commands()
    ids = [entry["id"] for entry in listed]
    assert len(ids) == len(set(ids)) >= 4
    run, debug = _vscode_commands()
    assert sorted(run) == sorted(e["id"] for e in listed if e["executor"] == "run")
    assert sorted(debug) == sorted(e["id"] for e in listed if e["executor"] == "debug")
    contributed = {c["command"] for c in json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["commands"]}
    assert set(ids) <= contributed
    actions = {action.get("id"): action for root in _descriptors().values() for action in root.iter("action")}
    assert set(actions) == set(ids)
    for entry in listed:  # one class for all: it looks its command up by the id it is registered under
        action = actions[entry["id"]]
        assert action.get("class") == "dev.metaflowlsp.pycharm.RunSpecAction", entry["id"]
        assert (action.get("text"), action.get("description")) == (entry["text"], entry["description"])


def test_the_core_packs_the_servers_commands_json():
    """MetaflowCommand reads metaflow_lsp/commands.json from the class path: Gradle must put the server's file there."""
    gradle = (CORE / "build.gradle.kts").read_text(encoding="utf-8")
    folder = re.search(r'srcDir\("([^"]+)"\)', gradle)
    assert folder and 'include("metaflow_lsp/commands.json")' in gradle, gradle
    assert (CORE / folder.group(1) / "metaflow_lsp" / "commands.json").resolve() == COMMANDS_JSON
    core = (CORE_SOURCES / "dev" / "metaflowlsp" / "core" / "MetaflowCommand.java").read_text(encoding="utf-8")
    assert 'RESOURCE = "/metaflow_lsp/commands.json"' in core


def test_lens_commands_are_hidden_from_the_vscode_command_palette():
    """They need a lens's RunSpec: run from the palette they would have none."""
    menus = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["menus"]["commandPalette"]
    hidden = {item["command"] for item in menus if item.get("when") == "false"}
    assert {entry["id"] for entry in _lens_commands()} <= hidden


def test_action_ids_are_not_commands_the_server_executes():
    """LSP4IJ sends a command to the server when the server advertises it; only the others reach IDE actions."""
    from metaflow_lsp.lsp.server import create_server

    advertised = set(create_server().protocol.fm.commands)
    assert advertised, "the server advertises no command at all: the check would prove nothing"
    assert not advertised & set(_actions())


def test_action_ids_match_the_code_lens_commands():
    """Every client-side command the server's code lenses name comes from commands.json, and is an action."""
    from metaflow_lsp.lsp import code_lens

    assert set(code_lens.LENS_COMMANDS.values()) == {entry["id"] for entry in _lens_commands()} == set(_actions())
    named = {code_lens.RUN_TEST_MODE, code_lens.DEBUG_FOREACH, code_lens.RESUME, code_lens.SPIN}
    assert named == set(_actions())


def _source_of(class_name: str) -> Path:
    return IDE_SOURCES.joinpath(*class_name.split(".")).with_suffix(".java")


def test_every_class_named_in_xml_exists_in_its_package():
    named = set()
    for root in _descriptors().values():
        for element in root.iter():
            for attribute in CLASS_ATTRIBUTES:
                value = element.get(attribute)
                if value and value.startswith("dev.metaflowlsp."):
                    named.add(value)
    assert len(named) >= 2, named  # the factory and the action class
    for class_name in sorted(named):
        path = _source_of(class_name)
        assert path.is_file(), f"{class_name} is named in plugin XML but {path} does not exist"
        text = path.read_text(encoding="utf-8")
        package, simple = class_name.rsplit(".", 1)
        assert re.search(rf"^package {re.escape(package)};", text, re.MULTILINE), f"{path}: wrong package"
        assert re.search(rf"^public (final |abstract )?class {simple}\b", text, re.MULTILINE), (
            f"{path}: no public class {simple} (IntelliJ instantiates it)")


def test_ide_classes_use_the_core_and_lsp4ij_api():
    factory = _source_of("dev.metaflowlsp.pycharm.MetaflowLanguageServerFactory").read_text(encoding="utf-8")
    assert "implements LanguageServerFactory" in factory
    provider = (IDE_SOURCES / "dev/metaflowlsp/pycharm/MetaflowServerConnectionProvider.java").read_text("utf-8")
    assert "extends OSProcessStreamConnectionProvider" in provider
    # The core decides the command line, environment and messages; the IDE side only runs what it says.
    assert "ServerLaunch.decide(" in provider and "ServerLaunch.runProbe(" in provider
    action = (IDE_SOURCES / "dev/metaflowlsp/pycharm/RunSpecAction.java").read_text(encoding="utf-8")
    assert "extends LSPCommandAction" in action and "RunSpec.parse(" in action


def test_notification_group_is_declared():
    source = (IDE_SOURCES / "dev/metaflowlsp/pycharm/RunSpecAction.java").read_text(encoding="utf-8")
    group = re.search(r'NOTIFICATION_GROUP = "([^"]+)"', source).group(1)
    declared = {e.get("id") for root in _descriptors().values() for e in root.iter("notificationGroup")}
    assert group in declared


# -- build files -----------------------------------------------------------------------------------------------------


def test_build_files_agree_with_the_descriptor():
    properties = dict(
        line.split("=", 1) for line in (PLUGIN / "gradle.properties").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#"))
    properties = {k.strip(): v.strip() for k, v in properties.items()}
    assert properties["pluginSinceBuild"] == "242"
    build = (PLUGIN / "build.gradle.kts").read_text(encoding="utf-8")
    assert 'id("org.jetbrains.intellij.platform") version "2.' in build
    assert "JavaLanguageVersion.of(21)" in build
    assert 'plugin("com.redhat.devtools.lsp4ij"' in build and 'bundledPlugin("PythonCore")' in build
    assert 'implementation(project(":core"))' in build
    assert 'include(":core")' in (PLUGIN / "settings.gradle.kts").read_text(encoding="utf-8")
    assert "options.release = 17" in (CORE / "build.gradle.kts").read_text(encoding="utf-8")


WORKFLOW = ROOT / ".github" / "workflows" / "pycharm-plugin.yml"
# The tasks the IntelliJ Platform Gradle Plugin 2.x adds that the workflow may call.
INTELLIJ_PLATFORM_TASKS = {"buildPlugin", "verifyPlugin", "verifyPluginProjectConfiguration", "prepareSandbox",
                           "patchPluginXml", "runIde", "test"}


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))


def test_ci_workflow_builds_the_bundle_then_the_plugin_and_verifies_it():
    """The real workflow (.github/workflows/pycharm-plugin.yml): `make pycharm-bundle` before Gradle (the build
    consumes its output), then the core's tests, the zip, a look inside it for the bundle, and the verifier; every
    make target and Gradle task it names exists."""
    import yaml

    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads the key `on` as True
    for event in ("push", "pull_request"):
        assert {"pycharm-plugin/**", "server/**", "scripts/server_bundle.py"} <= set(triggers[event]["paths"])
    [job] = workflow["jobs"].values()
    steps = job["steps"]
    runs = [(step.get("working-directory", "."), step["run"]) for step in steps if "run" in step]
    make_calls = [target for _, run in runs for target in re.findall(r"\bmake (\S+)", run)]
    assert make_calls == ["pycharm-bundle"] and set(make_calls) <= _make_targets()
    gradle_calls = [(folder, task) for folder, run in runs for line in run.splitlines()
                    if line.strip().startswith("gradle ") for task in line.split()[1:] if not task.startswith("--")]
    assert [task for _, task in gradle_calls] == [":core:test", "buildPlugin", "verifyPlugin"]
    for folder, task in gradle_calls:
        assert (ROOT / folder / "settings.gradle.kts").is_file()  # run in the Gradle build's root
        if task.startswith(":"):
            project, name = task[1:].rsplit(":", 1)
            assert f'include(":{project}")' in (ROOT / folder / "settings.gradle.kts").read_text(encoding="utf-8")
            assert name == "test" and (ROOT / folder / project / "src" / "test").is_dir()
        else:
            assert task in INTELLIJ_PLATFORM_TASKS
    # The bundle is built before the Gradle build that packs it, and the zip is checked for it.
    order = [run for _, run in runs]
    assert order.index(next(r for r in order if "make pycharm-bundle" in r)) < order.index(
        next(r for r in order if "buildPlugin" in r))
    assert any("/server/libs/metaflow_lsp/__main__.py" in run for run in order)
    java = [s for s in steps if s.get("uses", "").startswith("actions/setup-java")]
    assert java and java[0]["with"]["java-version"] == "21"
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert python and python[0]["with"]["python-version"] in {"3.10", "3.11", "3.12", "3.13"}
    assert not (PLUGIN / "ci").exists()  # one workflow, not a copy to paste


def test_gradle_packs_the_bundle_make_builds_where_the_core_looks():
    """One source: `make pycharm-bundle` writes the bundle, prepareSandbox copies that folder as the plugin's server/,
    and ServerLaunch reads server/libs and server/native from the plugin's folder (tests/test_pycharm_bundle.py
    builds it and starts the server from it)."""
    dry_run = subprocess.run(["make", "-n", "pycharm-bundle"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert dry_run.returncode == 0, dry_run.stderr
    [command] = [line for line in dry_run.stdout.splitlines() if "scripts/server_bundle.py" in line]
    made = ROOT / re.search(r"--out (\S+)", command).group(1)
    build = (PLUGIN / "build.gradle.kts").read_text(encoding="utf-8")
    packed = re.search(r'val serverBundle = layout\.projectDirectory\.dir\("([^"]+)"\)', build)
    assert packed and (PLUGIN / packed.group(1)).resolve() == made.resolve()
    assert 'into(pluginName.map { "$it/server" })' in build and "prepareSandbox" in build
    launch = (CORE_SOURCES / "dev" / "metaflowlsp" / "core" / "ServerLaunch.java").read_text(encoding="utf-8")
    assert 'resolve("server").resolve("libs")' in launch and 'resolve("server").resolve("native")' in launch
    # The VS Code package is made by the same bundle code.
    assert "from server_bundle import" in (ROOT / "scripts" / "build_vsix.py").read_text(encoding="utf-8")
