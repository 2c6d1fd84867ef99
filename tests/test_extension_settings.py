"""Every `metaflowLsp.*` setting the VS Code extension declares is one the server or the extension reads, and the
other way round (one list: `lsp/settings.py`'s KNOWN_KEYS); a value of the declared type is accepted without a warning
and changes what the server uses."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from metaflow_lsp import config
from metaflow_lsp.lsp import settings

PACKAGE = json.loads((ROOT / "vscode-extension" / "package.json").read_text(encoding="utf-8"))
PROPERTIES = PACKAGE["contributes"]["configuration"]["properties"]
# `trace.server` is vscode-languageclient's own key, nested under `trace`.
DECLARED = {name.removeprefix(f"{settings.SECTION}.").split(".")[0]: schema for name, schema in PROPERTIES.items()}

# A value a user would write for each rule setting, as package.json types it.
EXAMPLES = {
    "select": ["MF0", "MF101"],
    "ignore": ["MF202"],
    "perFileIgnores": {"flows/legacy_*.py": ["MF2"]},
    "severity": {"MF201": "information"},
    "maxStepStatements": 20,
    "testModeParameters": ["smoke"],
    "docsUrl": "https://example.org/rules/",
}
JSON_TYPES = {"array": list, "object": dict, "string": str, "integer": int, "null": type(None)}


def test_package_json_declares_exactly_the_keys_that_are_read():
    assert all(name.startswith(f"{settings.SECTION}.") for name in PROPERTIES)
    assert set(DECLARED) == settings.KNOWN_KEYS
    assert "perFileIgnores" in DECLARED


@pytest.mark.parametrize("key", sorted(settings.RULE_KEYS))
def test_a_rule_setting_of_the_declared_type_is_applied(key):
    schema = DECLARED[key]
    value = EXAMPLES[key]
    declared_types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    assert any(isinstance(value, JSON_TYPES[kind]) for kind in declared_types), (key, schema["type"])
    assert schema["default"] is None  # unset: pyproject's value (or the server's default) applies

    applied, errors = config.apply({key: value}, config.Settings(), "editor")
    assert errors == []
    assert applied != config.Settings(), f"{key} changed nothing"
    unset, errors = config.apply({key: schema["default"]}, config.Settings(), "editor")
    assert (unset, errors) == (config.Settings(), [])


def test_server_settings_accept_their_declared_default_and_range():
    schema = DECLARED["diagnosticsDelay"]
    _, read = settings.SERVER_KEYS["diagnosticsDelay"]
    assert read(schema["minimum"], "diagnosticsDelay") == 0
    with pytest.raises(ValueError):
        read(schema["minimum"] - 1, "diagnosticsDelay")
    assert schema["default"] is None and "default 5" in schema["markdownDescription"]
    assert settings.ServerOptions().diagnostics_delay_ms == 5

