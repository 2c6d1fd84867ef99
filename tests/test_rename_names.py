"""The names rename refuses are Metaflow's own: checked against the installed Metaflow (the server never imports it)."""

from __future__ import annotations

from metaflow_lsp.rename_names import FLOWSPEC_MEMBERS, RESERVED_STEP_NAMES


def test_every_member_of_the_installed_flowspec_is_refused():
    from metaflow import FlowSpec

    members = {name for name in dir(FlowSpec) if not name.startswith("__")}
    assert members | FlowSpec._EPHEMERAL | FlowSpec._NON_PARAMETERS <= FLOWSPEC_MEMBERS


def test_the_reserved_step_names_are_metaflows_lint():
    import ast
    import inspect

    from metaflow import lint

    tree = ast.parse(inspect.getsource(lint.check_reserved_words))
    (reserved,) = [ast.literal_eval(node.value) for node in ast.walk(tree)
                   if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RESERVED"]
    assert reserved == RESERVED_STEP_NAMES
