"""A fix's plan (refactor.plan.FixPlan: the new text of every file) as the WorkspaceEdit the client applies.

Each file's change becomes whole-line TextEdits (`plan.line_edits`) against the text the editor holds now; a new file
is a CreateFile first. With `documentChanges` the edits carry the open document's version (the client refuses them
if the document moved on); without it they are a plain `changes` map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..refactor.plan import FixError, FixPlan, line_edits
from .convert import UTF16, encoding_of, line_start

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer


def text_edits(old: str, new: str, encoding: str = UTF16) -> list[types.TextEdit]:
    return [types.TextEdit(range=types.Range(start=line_start(old, e.start, encoding),
                                             end=line_start(old, e.end, encoding)),
                           new_text=e.text) for e in line_edits(old, new)]


def workspace_edit(ls: MetaflowLanguageServer, plan: FixPlan, uri: str, *, document_changes: bool,
                   creates_files: bool) -> types.WorkspaceEdit:
    """The edit of `plan`, made from the action's document `uri`; refused (FixError) when an open file changed
    since the plan was computed, or when the plan needs a new file and the client cannot create one."""
    encoding = encoding_of(ls)
    own_path = ls.path_of(uri)
    if plan.creates_files and not creates_files:
        names = ", ".join(c.path.name for c in plan.changes if c.is_new)
        raise FixError(f"this editor cannot create files from a code action; create {names} (it may be empty) and "
                       "try again")
    versioned: list = []
    changes: dict[str, list[types.TextEdit]] = {}
    for change in plan.changes:
        change_uri = uri if own_path is None or change.path == own_path else change.path.as_uri()
        document = ls.open_document(change_uri)
        if document is not None and not change.is_new and document.source != change.old:
            # Typed into while the edit was computed: edits from the old text would undo what was typed.
            raise FixError(f"{change.path.name} changed while the edit was being made; try again")
        old = document.source if document is not None and not change.is_new else (change.old or "")
        edits = text_edits(old, change.new, encoding)
        if change.is_new:
            versioned.append(types.CreateFile(
                uri=change_uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)))
        if not edits:
            continue
        changes[change_uri] = edits
        versioned.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=change_uri, version=document.version if document is not None else None),
            edits=edits))
    if document_changes:
        return types.WorkspaceEdit(document_changes=versioned)
    return types.WorkspaceEdit(changes=changes)
