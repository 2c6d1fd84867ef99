"""Which names a rename of an artifact, a Parameter or a step may take, and which it may not touch: the reasons are
Metaflow's (checked against metaflow 2.19.39's `flowspec.py`, `lint.py` and `parameters.py`), in words for the user.
Each check returns the refusal, or None when the rename may go ahead.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Iterable

from .artifacts import Token
from .flow_refs import Files, names_in_use
from .model import FLOW_API, FlowClass
from .rules.facts import NON_PARAMETERS

# FlowSpec's own members (dir(FlowSpec), its `_EPHEMERAL` set and what it assigns on `self` while a task runs): an
# artifact or Parameter of one of these names would hide or break Metaflow's.
FLOWSPEC_MEMBERS = FLOW_API | {
    "_EPHEMERAL", "_NON_PARAMETERS", "_graph_info", "_transition", "_foreach_var", "_foreach_values",
    "_foreach_num_splits", "_unbounded_foreach", "_parallel_ubf_iter", "_flow_decorators", "_flow_mutators",
    "_check_parameters", "_find_input", "_get_foreach_item_value", "_get_parameters", "_process_config_decorators",
    "_set_constants", "_set_datastore", "_validate_ubf_step",
}
RESERVED_STEP_NAMES = frozenset({"name", "next", "input", "index", "cmd"})  # lint.check_reserved_words
_STEP_NAME = re.compile(r"[a-z0-9_]+")  # lint.check_step_names (and no leading `_`)


def refuse_token(token: Token, flows: Iterable[FlowClass]) -> str | None:
    """Why the name under the cursor cannot be renamed at all, or None."""
    incomplete = next((flow for flow in flows if not flow.complete), None)
    if incomplete is not None:
        bases = ", ".join(incomplete.unresolved_bases) or "a base class"
        return (f"`{incomplete.name}` extends {bases}, which metaflow-lsp cannot read: code there may use "
                f"`{token.name}` too")
    if token.kind == "step":
        step = token.flow.steps[token.name]
        if token.name == "start" and not step.is_start or token.name == "end" and not step.is_end:
            return f"Metaflow finds the `{token.name}` step by its name"
    return None


def refuse_name(token: Token, new: str, flows: list[FlowClass], files: Files) -> str | None:
    """Why `token` cannot be renamed to `new`, or None."""
    if not new.isidentifier() or keyword.iskeyword(new):
        return f"`{new}` is not a Python identifier"
    if unicodedata.normalize("NFKC", new) != new:
        return f"Python reads `{new}` as `{unicodedata.normalize('NFKC', new)}`"
    if token.kind == "step":
        if not _STEP_NAME.fullmatch(new) or new.startswith("_"):
            return f"Metaflow allows only lowercase ASCII letters, digits and `_` (not first) in a step name: `{new}`"
        if new in RESERVED_STEP_NAMES:
            return f"`{new}` is a reserved word of Metaflow and cannot name a step"
        if new in ("start", "end"):
            return f"`{new}` names the flow's {new} step to Metaflow"
    elif new in FLOWSPEC_MEMBERS or new in NON_PARAMETERS:
        return f"`{new}` is a member of Metaflow's FlowSpec"
    elif new.startswith("__"):
        return f"Metaflow does not keep attributes named `__…` between steps: `{new}`"
    elif token.kind == "parameter" and new.startswith("_"):
        return f"Metaflow ignores class attributes starting with `_`: the {_kind(token)} `{new}` would vanish"
    if token.kind == "artifact" and token.name in token.flow.class_attributes \
            and token.name.startswith("_") != new.startswith("_"):
        # FlowSpec._set_constants: a class attribute not starting with `_` becomes a read-only constant.
        return (f"`{token.name}` is a class attribute: Metaflow makes those not starting with `_` read-only "
                f"constants, so `{new}` would behave differently")
    used = names_in_use(flows, files)
    if new in used:
        return f"`{new}` is already {used[new]} of `{token.flow.name}`"
    return None


def _kind(token: Token) -> str:
    return token.flow.parameters[token.name].kind if token.kind == "parameter" else token.kind
