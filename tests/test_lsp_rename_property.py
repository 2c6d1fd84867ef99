"""A rename changes names, nothing else: over the rules' fixture flows, a seeded random choice of artifacts,
Parameters and steps is renamed through the real server, the WorkspaceEdit is applied as VS Code applies it, and a
fresh check of every changed file gives the same findings (codes and lines) as the original."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from metaflow_lsp.artifacts import name_span
from metaflow_lsp.builder import file_resolver, parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project
from metaflow_lsp.rename_names import FLOWSPEC_MEMBERS, RESERVED_STEP_NAMES
from metaflow_lsp.rules.facts import NON_PARAMETERS
from test_lsp_artifacts_rename import rename
from test_lsp_code_actions import apply, path_of
from test_lsp_session import session

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
RENAMES = 40
SEED = 1212


def candidates(path: Path) -> list[tuple[int, int, str]]:
    """(line, UTF-8 column, name) of each artifact, Parameter and step name whose def or access is in `path`."""
    module = parse_module(path.read_text(encoding="utf-8"), path, file_resolver())
    found = []
    for flow in module.flows:
        for step in flow.steps.values():
            if step.path != path:
                continue
            if step.name not in ("start", "end") and not bad_step_name(step.name):  # refused / fixes a finding
                found.append((step.span.line, step.span.col, step.name))
            for access in step.accesses:
                if flow.is_artifact(access.name) or access.name in flow.parameters and not bad_attribute(access.name):
                    span = name_span(access.node)
                    found.append((span.line, span.col, access.name))
        found += [(p.span.line, p.span.col, p.attr) for p in flow.parameters.values()
                  if p.owner == flow.name and not bad_attribute(p.attr)]
    return sorted(set(found))


# Names some rule reports (MF001 `cmd`, MF006 `Train`, MF106 a Parameter `name`): renaming them away changes the
# findings, by design.
def bad_step_name(name: str) -> bool:
    return name in RESERVED_STEP_NAMES or not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name)


def bad_attribute(name: str) -> bool:
    return name in FLOWSPEC_MEMBERS or name in NON_PARAMETERS or name.startswith("_")


def findings(root: Path, path: Path) -> list[tuple[str, int]]:
    """The codes and lines of a fresh check (messages quote names, sorted or compared with others: not compared)."""
    result = check_source(path.read_text(encoding="utf-8"), path, Settings(), Project(root))
    return [(finding.code, finding.span.line) for finding in result.findings]


async def test_rename_then_check_gives_the_same_findings_modulo_the_name(tmp_path):
    original = tmp_path / "original"
    shutil.copytree(FIXTURES, original)
    files = sorted(p for p in original.rglob("*.py") if candidates(p))
    rng = random.Random(SEED)
    chosen = [(path, rng.choice(candidates(path))) for path in rng.sample(files, min(RENAMES, len(files)))]
    applied = 0
    async with session(original) as client:
        for number, (path, (line, col, old)) in enumerate(chosen):
            text_line = path.read_text(encoding="utf-8").split("\n")[line]
            character = len(text_line.encode()[:col].decode().encode("utf-16-le")) // 2
            new = f"renamed_{number}"
            try:
                edit = await rename(client, path.as_uri(), types.Position(line=line, character=character), new)
            except JsonRpcException as refused:  # a base it cannot read, a step found by its name
                assert refused.message.startswith("Cannot rename: "), refused.message
                continue
            assert edit is not None, (path, old)
            after = tmp_path / f"after_{number}"
            shutil.copytree(original, after)
            for uri, text in apply(edit, {}).items():
                (after / path_of(uri).relative_to(original)).write_text(text, encoding="utf-8")
            for uri in {change.text_document.uri for change in edit.document_changes}:
                changed = path_of(uri).relative_to(original)
                assert findings(after, after / changed) == findings(original, original / changed), \
                    (changed, old, new)
            applied += 1
    print(f"{applied} of {len(chosen)} renames applied")
    assert applied >= RENAMES // 2  # most names of the fixtures can be renamed
