"""The no-build way into PyCharm: the LSP4IJ user-defined language server template in pycharm-plugin/lsp4ij/.

Its JSON is checked against what LSP4IJ reads from a template folder (LanguageServerTemplateManager,
ServerTemplateJsonDeserializer, read as text: `template.json` with `name`, `programArgs.default`, mappings with a
`languageId`; `settings.json` for workspace/configuration; `settings.schema.json`), its settings against the
server's own list (package.json, lsp/settings.py), and the exact command it names, split as LSP4IJ splits it
(CommandUtils.createCommands), starts the server installed from the wheel in a fresh venv at the project's `.venv`
(in a folder whose name has a space), which answers a real LSP client with MF201.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from conftest import ROOT
from metaflow_lsp.lsp.settings import CLIENT_KEYS, KNOWN_KEYS, SECTION
from test_lsp_session import TIMEOUT, capabilities, open_document, pull, stop

TEMPLATE = ROOT / "pycharm-plugin" / "lsp4ij" / "metaflow-lsp"
# The files LSP4IJ reads from a template folder (LanguageServerTemplate / ServerTemplate file names); anything else
# in the folder would be silently ignored.
LSP4IJ_FILES = {"template.json", "settings.json", "settings.schema.json", "initializationOptions.json",
                "clientSettings.json", "installer.json", "README.md"}
# The top-level keys of template.json that LSP4IJ's deserializers read.
TEMPLATE_KEYS = {"id", "name", "url", "dev", "programArgs", "workingDir", "env", "fileTypeMappings",
                 "languageMappings"}
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list,
              "object": dict, "null": type(None)}


def lsp4ij_commands(command_line: str) -> list[str]:
    """What LSP4IJ's CommandUtils.createCommands makes of the command (after its macros are expanded): a double
    quote toggles grouping and is dropped, a space outside quotes separates, empty parts are dropped."""
    parts, current, quoted = [], [], False
    for char in command_line:
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def template() -> dict:
    return json.loads((TEMPLATE / "template.json").read_text(encoding="utf-8"))


def command_for(project: Path, os_key: str = "default") -> list[str]:
    return lsp4ij_commands(template()["programArgs"][os_key].replace("$PROJECT_DIR$", str(project)))


def test_template_has_the_shape_lsp4ij_imports():
    assert {path.name for path in TEMPLATE.iterdir()} <= LSP4IJ_FILES
    data = template()
    assert set(data) <= TEMPLATE_KEYS, set(data) - TEMPLATE_KEYS
    assert (data["id"], data["name"]) == ("metaflow-lsp", "Metaflow LSP")
    assert isinstance(data["programArgs"]["default"], str)  # the deserializer reads programArgs.default
    assert set(data["programArgs"]) <= {"default", "windows", "mac", "unix"}
    # Python files, by IntelliJ's Python language (PyCharm's PythonCore); the languageId the server is told.
    assert data["languageMappings"] == [{"language": "Python", "languageId": "python"}]
    assert "fileTypeMappings" not in data  # a second mapping of the same files would start a second server


def test_template_command_is_the_venvs_console_script_quoted_for_spaces():
    """The console script, not `python -m`: `-m` would put LSP4IJ's working directory (the project) first on sys.path
    before the server's first line runs; a console script's sys.path starts at the venv's bin folder."""
    project = Path("/home/me/my flows")
    assert command_for(project) == ["/home/me/my flows/.venv/bin/metaflow-lsp", "serve"]
    assert command_for(Path("C:/Users/me/my flows"), "windows") == [
        "C:/Users/me/my flows\\.venv\\Scripts\\metaflow-lsp.exe", "serve"]
    from metaflow_lsp.cli import _parser

    assert _parser().parse_args(["serve"]).run.__name__ == "_serve"


def test_settings_files_are_generated_from_the_servers_settings():
    """settings.json and settings.schema.json are what scripts/lsp4ij_template.py writes from package.json."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import lsp4ij_template
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for path, text in lsp4ij_template.rendered().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run .venv/bin/python scripts/lsp4ij_template.py")


def test_settings_schema_names_every_server_key_and_settings_json_fits_it():
    schema = json.loads((TEMPLATE / "settings.schema.json").read_text(encoding="utf-8"))
    section = schema["properties"][SECTION]
    declared = set(section["properties"])
    assert declared == KNOWN_KEYS - CLIENT_KEYS  # the rule settings and the server's own; no VS Code-only key
    assert section["additionalProperties"] is False
    settings = json.loads((TEMPLATE / "settings.json").read_text(encoding="utf-8"))
    assert set(settings) == {SECTION} and set(settings[SECTION]) == declared
    for key, value in settings[SECTION].items():
        types_ = section["properties"][key]["type"]
        allowed = tuple(JSON_TYPES[name] for name in (types_ if isinstance(types_, list) else [types_]))
        assert isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed), (key, value)


@pytest.mark.slow  # builds the wheel and fills a venv from the package index
async def test_the_templates_command_starts_the_server_from_the_wheel(tmp_path):
    from test_wheel import clean_env

    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                           capture_output=True, text=True, env=clean_env(), timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = dist.glob("metaflow_lsp-*.whl")
    project = tmp_path / "my flows"
    venv.create(project / ".venv", with_pip=True)
    installed = subprocess.run([str(project / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                str(wheel)], cwd=tmp_path, capture_output=True, text=True, env=clean_env(),
                               timeout=600)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    flow = project / "flows" / "long_step.py"
    flow.parent.mkdir(parents=True)
    flow.write_text((ROOT / "tests" / "fixtures" / "rules" / "MF201" / "long_step.py").read_text(encoding="utf-8"))
    command = command_for(project)
    settings = json.loads((TEMPLATE / "settings.json").read_text(encoding="utf-8"))
    client = make_test_lsp_client()
    client.set_configuration(settings[SECTION], section=SECTION)  # what LSP4IJ answers from settings.json
    # The worst working directory LSP4IJ could choose: the project itself.
    await client.start_io(command[0], *command[1:], env=clean_env(), cwd=str(project))
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=project.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name=project.name)])), TIMEOUT)
        report = await pull(client, open_document(client, flow))
        assert "MF201" in {item.code for item in report.items}, report.items
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)
    # The template's settings (every key null) are valid: no warning about them.
    assert [message.message for message in client.messages if message.type <= types.MessageType.Warning] == []
