"""MF101-MF106: decorators and Parameters declared in ways Metaflow rejects when the flow starts (or silently
ignores). Checked with real runs; see docs/dev/runtime-facts.md.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..model import UNKNOWN, FlowClass, Step, literal
from ..refactor.fix_table import NoData, declare_fix, lazy
from ..text import Span
from .facts import (METAFLOW_STEP_DECORATORS, NON_PARAMETERS, RESERVED_PARAMETER_NAMES, class_nodes,
                    has_star_kwargs, keyword_span, own_class_decorator, short_text)
from .registry import Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

# --------------------------------------------------------------------------------------------------------------------
# MF101
# --------------------------------------------------------------------------------------------------------------------

@rule("MF101", "decorator-below-step", Severity.ERROR,
      "A Metaflow step decorator is placed below @step (@step must be the decorator closest to def)",
      silent="decorators not from Metaflow; decorators above `@step`; steps of other files", reads=Reads.GRAPH,
      names_lines=True)  # the lines of the two decorators, for the fix
def decorator_below_step(context: RuleContext):
    for _flow, step in context.steps_in_file():
        index = step.step_decorator_index
        step_deco = step.decorators[index]
        for decorator in step.decorators[index + 1:]:
            name = context.metaflow_name(decorator)
            if name is None or name not in METAFLOW_STEP_DECORATORS:
                continue
            yield Hit(
                decorator.span,
                f"@{decorator.qualified} is below @step on step `{step.name}`: Metaflow fails when it loads the "
                f"flow. Move it above @step, which must be the decorator closest to `def`.",
                {"decorator": decorator.qualified, "step": step.name,
                 "step_decorator_line": step_deco.span.line, "decorator_line": decorator.span.line},
            )


# The only order Metaflow accepts; the other decorators keep their order: safe.
declare_fix("MF101", NoData, title=lambda data, context: "Move @step directly above def", safe=True,
            apply=lazy("fixes", "move_step_plan"))


# --------------------------------------------------------------------------------------------------------------------
# MF102
# --------------------------------------------------------------------------------------------------------------------

@rule("MF102", "catch-on-split", Severity.ERROR, "@catch on a foreach or switch split step",
      silent="`@catch` on static splits, linear steps or joins; a `catch` not from Metaflow", reads=Reads.GRAPH)
def catch_on_split(context: RuleContext):
    for flow, step in context.steps_in_file():
        graph = context.graph(flow)
        catch = context.metaflow_decorator(step, "catch")
        if catch is None or step.name not in graph:
            continue
        kind = graph[step.name].type
        if kind == "foreach":
            what = "a foreach split"
        elif kind == "split-switch":
            what = "a switch step"
        else:
            continue
        yield Hit(
            catch.span,
            f"@catch on step `{step.name}`, {what}: Metaflow refuses to run the flow. Move the work that can fail "
            "into a step of its own and put @catch there.",
            {"step": step.name, "split": kind},
        )


# --------------------------------------------------------------------------------------------------------------------
# MF103
# --------------------------------------------------------------------------------------------------------------------

MAX_RETRIES = 4  # metaflow_config.MAX_ATTEMPTS (6) - 2


@rule("MF103", "retry-times-too-high", Severity.ERROR, "@retry(times=N) with N above 4",
      silent="`times` of 4 or less, computed, or spread with `**`; a `retry` not from Metaflow", reads=Reads.GRAPH)
def retry_times_too_high(context: RuleContext):
    for flow, step in context.steps_in_file():
        retry = context.metaflow_decorator(step, "retry")
        if retry is None or has_star_kwargs(retry):
            continue
        times = retry.kwarg("times")
        if isinstance(times, str):
            try:
                times = int(times)
            except ValueError:
                continue
        if isinstance(times, bool) or not isinstance(times, int) or times <= MAX_RETRIES:
            continue
        yield Hit(
            retry.span,
            f"@retry(times={times}) on step `{step.name}`: Metaflow allows at most {MAX_RETRIES} retries and "
            f"refuses to run the flow. Use times={MAX_RETRIES} or fewer.",
            {"times": times, "max": MAX_RETRIES, "step": step.name},
        )


# Metaflow refuses more; the largest value it accepts changes nothing else: safe.
declare_fix("MF103", NoData, title=lambda data, context: f"Set @retry times to {MAX_RETRIES} (the most Metaflow allows)",
            safe=True, apply=lazy("fixes", "clamp_retry_plan"))


# --------------------------------------------------------------------------------------------------------------------
# MF104
# --------------------------------------------------------------------------------------------------------------------

@rule("MF104", "timeout-without-duration", Severity.ERROR, "@timeout with no duration, or a zero one",
      silent="computed durations, `**options`, any non-zero duration", reads=Reads.GRAPH)
def timeout_without_duration(context: RuleContext):
    for flow, step in context.steps_in_file():
        timeout = context.metaflow_decorator(step, "timeout")
        if timeout is None or timeout.args or has_star_kwargs(timeout):
            continue
        if any(key not in ("seconds", "minutes", "hours") for key in timeout.kwargs):
            continue  # `**options` or a misspelt key: another problem, and nothing certain here
        total = 0
        for key, factor in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
            value = timeout.kwarg(key, 0)
            if value is UNKNOWN or isinstance(value, bool):
                total = None
                break
            try:
                total += int(value) * factor
            except (TypeError, ValueError, OverflowError):
                total = None
                break
        if total != 0:
            continue
        detail = "no duration" if not timeout.kwargs else "a duration that adds up to 0 seconds"
        yield Hit(
            timeout.span,
            f"@{short_text(timeout.node, 40)} on step `{step.name}` has {detail}: Metaflow refuses to run the "
            "flow. Give seconds=, minutes= or hours=.",
            {"step": step.name},
        )


# --------------------------------------------------------------------------------------------------------------------
# MF105
# --------------------------------------------------------------------------------------------------------------------

def _env_side(context: RuleContext, step: Step, flow: FlowClass, step_name: str, base_name: str):
    """(present, packages, decorators) for one side (pypi or conda) of a step, with the flow-level decorator merged
    the way Metaflow merges it. packages is a dict, or UNKNOWN; None means the side is absent."""
    step_deco = context.metaflow_decorator(step, step_name)
    base = next((d for d in flow.decorators if context.metaflow_name(d) == base_name), None)
    if step_deco is None and base is None:
        return None
    packages: dict = {}
    decorators = [d for d in (base, step_deco) if d is not None]
    for decorator in decorators:
        if has_star_kwargs(decorator):
            return UNKNOWN
        disabled = decorator.kwarg("disabled", None)
        if disabled is UNKNOWN or (disabled and str(disabled).lower() != "false"):
            return UNKNOWN  # a disabled environment: Metaflow builds none, nothing to mix
        value = decorator.kwarg("packages", {})
        if not isinstance(value, dict):
            return UNKNOWN
        packages.update(value)
    return packages, decorators


@rule("MF105", "pypi-and-conda-mixed", Severity.ERROR, "A step mixes @pypi and @conda packages",
      silent="`@conda(python=...)` without packages; disabled or computed sides", reads=Reads.GRAPH)
def pypi_and_conda_mixed(context: RuleContext):
    reported_base = set()
    for flow, step in context.steps_in_file():
        pypi = _env_side(context, step, flow, "pypi", "pypi_base")
        conda = _env_side(context, step, flow, "conda", "conda_base")
        if not pypi or not conda:  # absent (None) or unknown
            continue
        conda_packages, conda_decorators = conda
        if not conda_packages:
            continue  # @conda(python=...) alone adds no conda packages: Metaflow accepts it
        pypi_decorators = pypi[1]
        step_level = [d for d in pypi_decorators + conda_decorators if any(d is s for s in step.decorators)]
        names = " and ".join("@" + d.qualified for d in pypi_decorators + conda_decorators)
        message = (f"Step `{step.name}` gets both {names}: Metaflow cannot build one environment from PyPI and "
                   "Conda packages. Use only one of them here.")
        data = {"step": step.name, "conda_packages": sorted(map(str, conda_packages))}
        if step_level:
            yield Hit(step_level[-1].span, message, data)
        else:
            # Both come from the class: every step fails; say it once, on the class decorator.
            base = conda_decorators[-1]
            if own_class_decorator(flow, base) and id(base.node) not in reported_base:
                reported_base.add(id(base.node))
                yield Hit(base.span,
                          f"{names} on `{flow.name}`: every step gets both PyPI and Conda packages, and Metaflow "
                          "cannot build that environment. Use only one of them.",
                          {"flow": flow.name, "conda_packages": data["conda_packages"]})


# --------------------------------------------------------------------------------------------------------------------
# MF106
# --------------------------------------------------------------------------------------------------------------------

_NON_STR_TYPES = frozenset({"int", "float", "bool", "JSONType", "dict", "list", "tuple"})


@rule("MF106", "bad-parameter-name", Severity.ERROR,
      "A Parameter with a reserved name, an attribute name Metaflow ignores, or a separator on a non-string type",
      silent="computed names; declarations of other files; separators Metaflow may accept", reads=Reads.MODULE)
def bad_parameter_name(context: RuleContext):
    module = context.module
    seen: set[int] = set()
    for flow in context.flows:
        own_calls = {id(s.value) for node in class_nodes(module, flow) for s in node.body
                     if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None}
        for parameter in flow.parameters.values():
            call = parameter.call
            if id(call) not in own_calls or id(call) in seen:
                continue
            seen.add(id(call))
            kind = parameter.kind
            option = parameter.option
            if isinstance(option, str) and option in RESERVED_PARAMETER_NAMES:
                span = Span.of(call.args[0]) if call.args else (keyword_span(call, "name") or parameter.span)
                yield Hit(span,
                          f"{kind} name `{option}` is reserved by Metaflow's command line, so the flow does not "
                          f"start. Choose another name, e.g. `{option.replace('-', '_')}_value`.",
                          {"attribute": parameter.attr, "name": option, "problem": "reserved"})
            attr = parameter.attr
            if attr == "next":
                yield Hit(parameter.span,
                          f"This {kind} is stored as `next`, which replaces `self.next()`: every step fails at its "
                          f"transition. Rename the attribute, e.g. `next_value`.",
                          {"attribute": attr, "problem": "next"})
            elif attr in NON_PARAMETERS or attr.startswith("_"):
                why = "starts with `_`" if attr.startswith("_") else "is a name of FlowSpec's own"
                yield Hit(parameter.span,
                          f"Metaflow silently ignores this {kind}: its attribute `{attr}` {why}, so `self.{attr}` is "
                          f"not its value. Rename it, e.g. `{attr.strip('_') or 'param'}_param`.",
                          {"attribute": attr, "problem": "ignored"})
            if kind == "Parameter" and parameter.has_kwarg("separator"):
                separator = parameter.kwarg("separator")
                if separator is UNKNOWN or not separator:
                    continue
                problem = _separator_type_problem(call)
                if problem:
                    yield Hit(keyword_span(call, "separator") or parameter.span,
                              f"Parameter `{option if isinstance(option, str) else attr}` has separator= but "
                              f"{problem}: Metaflow refuses to run the flow, separators are for string Parameters.",
                              {"attribute": attr, "problem": "separator"})


def _separator_type_problem(call: ast.Call) -> str | None:
    """Why Metaflow's `is_string_type` is False for this call, when the source says so for certain."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    if None in [k.arg for k in call.keywords]:
        return None  # **kwargs
    if "type" in keywords:
        type_node = keywords["type"]
        name = type_node.attr if isinstance(type_node, ast.Attribute) else (
            type_node.id if isinstance(type_node, ast.Name) else None)
        if name in _NON_STR_TYPES:
            return f"`type={name}`"
        if name != "str":
            return None
    if "default" in keywords:
        default = literal(keywords["default"])
        if default is UNKNOWN or default is None:
            return None
        if not isinstance(default, str):
            kind = type(default).__name__
            return f"its default `{default!r}` makes it a{'n' if kind[0] in 'aeiou' else ''} {kind} Parameter"
    return None
