"""The graph JSON (graph_export.py) drawn as text: a Mermaid `flowchart` or a Graphviz DOT digraph.

One edge per entry of a step's `next` (out_funcs), labelled with the foreach artifact, `num_parallel` or the switch
case; node shapes by Metaflow's node type; a target that names no step drawn as a dashed "missing" node. Node ids
are generated (`end` is a Mermaid keyword, and a broken flow may name anything); the labels carry the step names.
Several flows are drawn side by side, one subgraph (Mermaid) or cluster (DOT) each.
"""

from __future__ import annotations

import re

# Metaflow's node type -> Mermaid's node shape (opening, closing bracket); a step with no valid transition is a box.
MERMAID_SHAPES = {
    "start": ("([", "])"), "end": ("([", "])"), "linear": ("[", "]"), "split": ("[/", "\\]"),
    "foreach": ("{{", "}}"), "split-switch": ("{", "}"), "join": ("[\\", "/]"), None: ("[", "]"),
}
DOT_SHAPES = {
    "start": "oval", "end": "oval", "linear": "box", "split": "trapezium", "foreach": "hexagon",
    "split-switch": "diamond", "join": "invtrapezium", None: "box",
}
_PLAIN_LABEL = re.compile(r"[A-Za-z0-9_ .:-]+")


def edge_labels(step: dict) -> list[str | None]:
    """The label of each edge of `step`, in `next` order."""
    if step["cases"] is not None:
        return list(step["cases"])
    if step["parallel_foreach"]:
        return ["num_parallel"] * len(step["next"])
    if step["foreach"] is not None:
        return [f"foreach {step['foreach']}"] * len(step["next"])
    return [None] * len(step["next"])


def _decorator_line(step: dict) -> str:
    """The step's decorators under its name: `@retry @kubernetes`."""
    return " ".join(f"@{name}" for name in step["decorators"])


def _missing(flow: dict) -> list[str]:
    return flow.get("missing") or []


# -- Mermaid -------------------------------------------------------------------------------------------------------


def to_mermaid(graph: dict) -> str:
    flows = graph["flows"]
    lines = []
    if len(flows) == 1:
        lines += ["---", f"title: {flows[0]['name']}", "---"]
    lines.append("flowchart TD")
    for number, flow in enumerate(flows, start=1):
        prefix = "" if len(flows) == 1 else f"f{number}_"
        indent = "    " if len(flows) == 1 else "        "
        if len(flows) > 1:
            lines.append(f"    subgraph {prefix}flow[{_mermaid_text(flow['name'])}]")
        lines += [indent + line for line in _mermaid_flow(flow, prefix)]
        if len(flows) > 1:
            lines.append("    end")
    lines.append("    classDef missing stroke-dasharray: 5 5")
    lines.append("    classDef invalid stroke:#d33,stroke-width:2px")
    return "\n".join(lines) + "\n"


def _mermaid_flow(flow: dict, prefix: str) -> list[str]:
    ids = {step["name"]: f"{prefix}s{n}" for n, step in enumerate(flow["steps"], start=1)}
    ids.update({name: f"{prefix}m{n}" for n, name in enumerate(_missing(flow), start=1)})
    lines = []
    for step in flow["steps"]:
        opening, closing = MERMAID_SHAPES.get(step["type"], MERMAID_SHAPES[None])
        style = ":::invalid" if step["type"] is None else ""
        label = _mermaid_text(step["name"], _decorator_line(step))
        lines.append(f"{ids[step['name']]}{opening}{label}{closing}{style}")
    for name in _missing(flow):
        lines.append(f"{ids[name]}[{_mermaid_text(name + ' (missing)')}]:::missing")
    for step in flow["steps"]:
        for target, label in zip(step["next"], edge_labels(step)):
            arrow = "-->" if label is None else f"-->|{_mermaid_label(label)}|"
            lines.append(f"{ids[step['name']]} {arrow} {ids[target]}")
    return lines


def _mermaid_text(text: str, second_line: str = "") -> str:
    """A node label: always quoted, so keywords and brackets are text."""
    quoted = text.replace('"', "#quot;") + (f"<br/>{second_line.replace(chr(34), '#quot;')}" if second_line else "")
    return f'"{quoted}"'


def _mermaid_label(text: str) -> str:
    return text if _PLAIN_LABEL.fullmatch(text) else _mermaid_text(text).replace("|", "#124;")


# -- DOT -----------------------------------------------------------------------------------------------------------


def to_dot(graph: dict) -> str:
    flows = graph["flows"]
    name = flows[0]["name"] if len(flows) == 1 else "flows"
    lines = [f"digraph {_dot_id(name)} {{", "    rankdir=TB;", '    node [fontname="Helvetica"];',
             '    edge [fontname="Helvetica"];']
    for number, flow in enumerate(flows):
        if len(flows) == 1:
            lines += ["    " + line for line in _dot_flow(flow, "")]
        else:
            lines.append(f"    subgraph {_dot_id(f'cluster_{number}')} {{")
            lines.append(f"        label={_dot_id(flow['name'])};")
            lines += ["        " + line for line in _dot_flow(flow, flow["name"] + ".")]
            lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_flow(flow: dict, prefix: str) -> list[str]:
    lines = []
    for step in flow["steps"]:
        label = "\n".join(filter(None, (step["name"], _decorator_line(step))))
        attributes = {"label": label, "shape": DOT_SHAPES.get(step["type"], "box")}
        if step["type"] is None:
            attributes["color"] = "red"
        lines.append(f"{_dot_id(prefix + step['name'])} [{_dot_attributes(attributes)}];")
    for name in _missing(flow):
        attributes = {"label": f"{name} (missing)", "shape": "box", "style": "dashed"}
        lines.append(f"{_dot_id(prefix + name)} [{_dot_attributes(attributes)}];")
    for step in flow["steps"]:
        for target, label in zip(step["next"], edge_labels(step)):
            suffix = "" if label is None else f" [{_dot_attributes({'label': label})}]"
            lines.append(f"{_dot_id(prefix + step['name'])} -> {_dot_id(prefix + target)}{suffix};")
    return lines


def _dot_id(text: str) -> str:
    """A quoted DOT string: backslashes and quotes escaped, a line break as DOT's centred `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{key}={_dot_id(value)}" for key, value in attributes.items())
