"""Writes the LSP4IJ template's settings files from the VS Code extension's settings (package.json, the one list of
the `metaflowLsp` section) without the keys only the VS Code extension reads (`lsp/settings.py` CLIENT_KEYS):

    pycharm-plugin/lsp4ij/metaflow-lsp/settings.json         every server key under "metaflowLsp", at its default
    pycharm-plugin/lsp4ij/metaflow-lsp/settings.schema.json  their JSON schema (LSP4IJ's settings editor reads it)

LSP4IJ answers the server's `workspace/configuration` request for the section "metaflowLsp" from settings.json.
tests/test_lsp4ij_template.py fails when the files differ from what this writes: run it after changing a setting.

    .venv/bin/python scripts/lsp4ij_template.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "pycharm-plugin" / "lsp4ij" / "metaflow-lsp"
PACKAGE_JSON = ROOT / "vscode-extension" / "package.json"
SECTION = "metaflowLsp"


def _client_keys() -> frozenset[str]:
    sys.path.insert(0, str(ROOT / "server"))
    from metaflow_lsp.lsp.settings import CLIENT_KEYS

    return CLIENT_KEYS


def server_settings() -> dict[str, dict]:
    """key (without the section) -> its package.json declaration, for every key the server reads."""
    properties = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["configuration"]["properties"]
    client = _client_keys()
    settings = {}
    for name, declaration in properties.items():
        key = name.removeprefix(f"{SECTION}.")
        if key.split(".")[0] not in client:
            settings[key] = declaration
    return settings


def _schema_of(declaration: dict) -> dict:
    schema = {field: declaration[field] for field in ("type", "items", "additionalProperties", "enum", "minimum")
              if field in declaration}
    if declaration.get("default", ...) is None:  # VS Code's "not set": the pyproject value or the server's default
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema["type"] = types if "null" in types else [*types, "null"]
    schema["default"] = declaration.get("default")
    schema["description"] = declaration.get("markdownDescription") or declaration.get("description", "")
    return schema


def schema() -> dict:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "metaflow-lsp/settings.schema.json",
        "title": "metaflow-lsp server settings",
        "description": "The `metaflowLsp` section the server pulls with workspace/configuration (null: the value of "
                       "[tool.metaflow-lsp] in pyproject.toml, else the server's default).",
        "type": "object",
        "additionalProperties": False,
        "properties": {SECTION: {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: _schema_of(declaration) for key, declaration in server_settings().items()},
        }},
    }


def settings() -> dict:
    return {SECTION: {key: declaration.get("default") for key, declaration in server_settings().items()}}


def rendered() -> dict[Path, str]:
    return {TEMPLATE / "settings.json": json.dumps(settings(), indent=2) + "\n",
            TEMPLATE / "settings.schema.json": json.dumps(schema(), indent=2) + "\n"}


def main() -> int:
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
