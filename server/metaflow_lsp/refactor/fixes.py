"""Quick fixes: the libcst transforms of the fix table (comments and formatting kept), and fix-all.

Each rule's `Fix` (declared next to the rule, see `fix_table`) names one `*_plan(request, data)` here as its
`apply`: it takes the finding, the file's text and model and a `FixContext` (the file, its settings and a reader that
prefers the editor's unsaved text over the disk), and returns a `FixPlan`: the new text of every file it touches.
Fixes never guess: when the source is not what the fix expects they raise `FixError` with the reason.

`fix_finding` runs the table's fix of one finding; `fix_all` applies the safe fixes until none is left; `add_noqa`
appends `# noqa: CODE` to a line.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from ..engine import NOQA, Finding
from ..model import Module
from ..rules.declarations import MAX_RETRIES
from ..rules.guide import METAFLOW_FOLDERS
from ..text import split_lines
from .fix_table import (FIX_ALL_TITLE, PROJECT_PYTHON, FixContext, FixRequest, NoData, fix_for, noqa_title,
                        read_disk, safe_codes)
from .plan import FileChange, FixError, FixPlan

COMMON = "common.py"
__all__ = ["FixContext", "FixError", "FixPlan", "fix_all", "fix_finding", "noqa_plan", "read_disk"]


# -- helpers -------------------------------------------------------------------------------------------------------


def parse_exactly(source: str, name: str = "the file") -> cst.Module:
    """libcst's tree of `source`, refused when it would not give `source` back byte for byte. libcst drops a form
    feed that starts a statement's line, and with it the statement's indentation (`    \\fx = 1` comes back as
    `x = 1`, outside its block): a fix made from such a tree would change code it never meant to touch."""
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise FixError(f"{name} does not parse ({error.message}); fix the syntax first") from None
    if tree.code != source:
        raise FixError(f"{name} has characters libcst cannot keep (a form feed before a statement?); "
                       "fix it by hand")
    return tree


def _positions(tree: cst.Module) -> tuple[MetadataWrapper, Any]:
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    return wrapper, wrapper.resolve(PositionProvider)


def _name_of(expression: cst.BaseExpression) -> str:
    """`retry` for `retry`, `metaflow.retry`, `retry(...)`."""
    if isinstance(expression, cst.Call):
        expression = expression.func
    if isinstance(expression, cst.Attribute):
        return expression.attr.value
    if isinstance(expression, cst.Name):
        return expression.value
    return ""


def _span_lines(positions: Any, node: cst.CSTNode) -> tuple[int, int]:
    """0-based first and last line of a node; a function's range starts at its first decorator."""
    code_range = positions[node]
    start = code_range.start.line
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node.decorators:
        start = min(start, positions[node.decorators[0]].start.line)
    return start - 1, code_range.end.line - 1


class _Collect(cst.CSTVisitor):
    def __init__(self, kinds: tuple[type, ...]):
        self.kinds = kinds
        self.found: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, self.kinds):
            self.found.append(node)
        return True


def _innermost_at(tree: cst.Module, kinds: tuple[type, ...], line: int) -> tuple[cst.CSTNode, Any]:
    """The innermost node of `kinds` whose lines include the 0-based `line`."""
    wrapper, positions = _positions(tree)
    collector = _Collect(kinds)
    wrapper.module.visit(collector)
    candidates = [n for n in collector.found if _span_lines(positions, n)[0] <= line <= _span_lines(positions, n)[1]]
    if not candidates:
        raise FixError("the code this fix applies to is not there any more")
    best = min(candidates, key=lambda n: _span_lines(positions, n)[1] - _span_lines(positions, n)[0])
    return best, positions


def _replace(tree: cst.Module, old: cst.CSTNode, new: cst.CSTNode | cst.RemovalSentinel) -> cst.Module:
    return tree.deep_replace(old, new)  # type: ignore[return-value]


def _with_imports(tree: cst.Module, imports: list[tuple[str, str | None]]) -> cst.Module:
    """`tree` with `from module import name` (or `import module` when name is None) added where missing, merged into
    an existing `from module import ...` when there is one (LibCST's AddImportsVisitor)."""
    if not imports:
        return tree
    context = CodemodContext()
    for module, name in imports:
        AddImportsVisitor.add_needed_import(context, module, name)
    return AddImportsVisitor(context).transform_module(tree)


def _flow(module: Module, name: str | None, line: int | None = None):
    """The flow a finding is about: named in its data, containing its line, or the only one."""
    flows = module.flows
    if name is not None:
        for flow in flows:
            if flow.name == name:
                return flow
    if line is not None:
        for flow in flows:
            if flow.node.lineno - 1 <= line <= (flow.node.end_lineno or flow.node.lineno) - 1:
                return flow
    if len(flows) == 1:
        return flows[0]
    candidates = [f for f in flows if f.name in module.main_calls] or [f for f in flows if f.own_steps]
    if candidates:
        return candidates[-1]
    raise FixError("cannot tell which flow this is about")


def _class_def(tree: cst.Module, name: str) -> cst.ClassDef:
    for statement in tree.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == name:
            return statement
    raise FixError(f"class {name} is not at the top level of the file")


def _statement(code: str, config: cst.Module) -> cst.BaseStatement:
    return cst.parse_statement(code, config=config.config_for_parsing)


def _plan(title: str, path: Path | None, old: str, new: str, code: str) -> FixPlan:
    if new == old:
        raise FixError("nothing to change")
    return FixPlan(title, [FileChange(path or Path("<unsaved>"), old, new)], [code])


# -- MF101: @step below another step decorator ---------------------------------------------------------------------


def move_step_decorator(source: str, line: int) -> str:
    """Moves `@step` of the function at `line` to be the last decorator (directly above `def`); the others keep their
    order, and each decorator keeps the comments above it."""
    tree = parse_exactly(source)
    function, _ = _innermost_at(tree, (cst.FunctionDef,), line)
    decorators = list(function.decorators)
    steps = [d for d in decorators if _name_of(d.decorator) == "step"]
    if len(steps) != 1:
        raise FixError("the function does not have exactly one @step")
    if decorators[-1] is steps[0]:
        raise FixError("@step is already directly above def")
    decorators.remove(steps[0])
    decorators.append(steps[0])
    return _replace(tree, function, function.with_changes(decorators=decorators)).code


# -- MF103: @retry(times=N) above 4 --------------------------------------------------------------------------------


def clamp_retry_times(source: str, line: int) -> str:
    tree = parse_exactly(source)
    function, positions = _innermost_at(tree, (cst.FunctionDef,), line)
    for decorator in function.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call) or _name_of(call) != "retry":
            continue
        for argument in call.args:
            if m.matches(argument, m.Arg(keyword=m.Name("times"), value=m.Integer() | m.SimpleString())):
                try:
                    times = int(argument.value.evaluated_value)  # type: ignore[union-attr]
                except (TypeError, ValueError):
                    continue
                if times > MAX_RETRIES:
                    new_argument = argument.with_changes(value=cst.Integer(str(MAX_RETRIES)))
                    return _replace(tree, argument, new_argument).code
    raise FixError("no @retry(times=N) above 4 written as a number on this step")


# -- MF112: no `if __name__ == "__main__":` ------------------------------------------------------------------------


def add_main_guard(source: str, flow_name: str) -> str:
    """Appends `if __name__ == "__main__": Flow()`, or adds `Flow()` to an existing guard that lacks it."""
    tree = parse_exactly(source)
    call = _statement(f"{flow_name}()\n", tree)
    guard_matcher = m.If(test=m.Comparison(left=m.Name("__name__"), comparisons=[
        m.ComparisonTarget(operator=m.Equal(), comparator=m.SimpleString())]))
    for statement in tree.body:
        if m.matches(statement, guard_matcher) and isinstance(statement.body, cst.IndentedBlock):
            body = statement.body.with_changes(body=[*statement.body.body, call])
            return _replace(tree, statement, statement.with_changes(body=body)).code
    quote = '"' if '"' in source or "'" not in source else "'"
    guard = _statement(f"if __name__ == {quote}__main__{quote}:\n{tree.default_indent}{flow_name}()\n", tree)
    guard = guard.with_changes(leading_lines=[cst.EmptyLine(indent=False), cst.EmptyLine(indent=False)])
    body = list(tree.body)
    # Keep the file's last line ending: `parse_module` puts a missing final newline in the footer.
    return tree.with_changes(body=[*body, guard], has_trailing_newline=True).code


# -- MF204: no test-mode Parameter ---------------------------------------------------------------------------------

TEST_MODE_HELP = "Small data and few branches, for a quick check of the whole flow"


def add_test_mode_parameter(source: str, flow_name: str, attribute: str = "test_mode") -> str:
    """Adds `test_mode = Parameter("test_mode", type=bool, default=False, help=...)` after the flow's last
    Parameter (or at the top of its body), and `Parameter` to the imports from metaflow when it is not bound."""
    tree = parse_exactly(source)
    flow = _class_def(tree, flow_name)
    if not isinstance(flow.body, cst.IndentedBlock):
        raise FixError(f"{flow_name} is written on one line")
    parameter_names = _bound_names(tree)
    uses_module = "Parameter" not in parameter_names and "metaflow" in parameter_names
    function = "metaflow.Parameter" if uses_module else "Parameter"
    line = _statement(f'{attribute} = {function}("{attribute}", type=bool, default=False, help="{TEST_MODE_HELP}")\n',
                      tree)
    body = list(flow.body.body)
    has_docstring = bool(body) and m.matches(body[0], m.SimpleStatementLine(
        body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))
    index = 1 if has_docstring else 0
    for position, statement in enumerate(body):
        if m.matches(statement, m.SimpleStatementLine(body=[m.Assign(value=m.Call(
                func=m.Name("Parameter") | m.Attribute(attr=m.Name("Parameter"))))])):
            index = position + 1
    if index == 1 and has_docstring:
        line = line.with_changes(leading_lines=[cst.EmptyLine(indent=False)])  # a blank line after the docstring
    following = body[index] if index < len(body) else None
    if isinstance(following, (cst.FunctionDef, cst.ClassDef)) and not any(
            empty.comment is None for empty in following.leading_lines):
        body[index] = following.with_changes(leading_lines=[cst.EmptyLine(indent=False), *following.leading_lines])
    body.insert(index, line)
    tree = _replace(tree, flow, flow.with_changes(body=flow.body.with_changes(body=body)))
    if not uses_module and "Parameter" not in parameter_names:
        tree = _with_imports(tree, [("metaflow", "Parameter")])
    return tree.code


def _bound_names(tree: cst.Module) -> set[str]:
    """Names bound at the top level by imports, functions, classes and plain assignments."""
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            names.add(bound.value)
                        elif isinstance(bound, cst.Attribute):  # `import a.b` binds `a`
                            node = bound
                            while isinstance(node, cst.Attribute):
                                node = node.value
                            if isinstance(node, cst.Name):
                                names.add(node.value)
                elif isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            names.add(target.target.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    return names


# -- MF205: test-mode Parameter never read -------------------------------------------------------------------------


def use_test_mode(source: str, module: Module, flow_name: str, attribute: str) -> tuple[str, str]:
    """Makes the flow read its test-mode Parameter where it matters. Returns (new source, what was done).

    When a step fans out with `foreach="<list>"`, the list is cut to its first two items under test mode, just before
    the `self.next(...)`: fewer branches is what makes most test runs fast, and it is real code. Otherwise an
    `if self.<attribute>:` block with a comment to fill in is added at the top of the start step: the diagnostic goes
    away because the Parameter is now read, and the comment says that the block still does nothing.
    """
    flow = next((f for f in module.flows if f.name == flow_name), None)
    if flow is None:
        raise FixError(f"no flow {flow_name} in this file")
    tree = parse_exactly(source)
    class_def = _class_def(tree, flow_name)
    indent = tree.default_indent
    for step in flow.own_steps:
        tail = step.tail
        if tail is not None and tail.kind == "foreach" and isinstance(tail.foreach, str) and tail.foreach.isidentifier():
            function = _step_def(class_def, step.name)
            block = _statement(
                f"if self.{attribute}:\n"
                f"{indent}self.{tail.foreach} = self.{tail.foreach}[:2]  # test mode: two branches instead of all\n",
                tree)
            new_function = _insert_before_last(function, block)
            tree = _replace(tree, function, new_function)
            return tree.code, f"Run 2 `{tail.foreach}` branches of {step.name} under test mode"
    start = next((s for s in flow.own_steps if s.is_start or s.name == "start"), None)
    if start is None:
        raise FixError(f"{flow_name} has no start step in this file")
    function = _step_def(class_def, start.name)
    block = _statement(
        f"if self.{attribute}:\n"
        f"{indent}# Test mode: make the run small here (fewer rows, a shorter foreach list, fewer epochs).\n"
        f"{indent}pass\n", tree)
    body = list(function.body.body)  # type: ignore[union-attr]
    index = 1 if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString())])) else 0
    body.insert(index, block)
    tree = _replace(tree, function, function.with_changes(body=function.body.with_changes(body=body)))
    return tree.code, f"Add an `if self.{attribute}:` block to fill in at the top of {start.name}"


def _step_def(class_def: cst.ClassDef, name: str) -> cst.FunctionDef:
    for statement in class_def.body.body:  # type: ignore[union-attr]
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            if not isinstance(statement.body, cst.IndentedBlock):
                raise FixError(f"step {name} is written on one line")
            return statement
    raise FixError(f"step {name} is not defined in {class_def.name.value}")


def _insert_before_last(function: cst.FunctionDef, statement: cst.BaseStatement) -> cst.FunctionDef:
    body = list(function.body.body)  # type: ignore[union-attr]
    body.insert(max(len(body) - 1, 0), statement)
    return function.with_changes(body=function.body.with_changes(body=body))


# -- MF301: unpinned package ---------------------------------------------------------------------------------------


def pin_package(source: str, line: int, package: str, version: str, decorator: str | None = None) -> str:
    """Sets the version of `package` in the `packages=` / `libraries=` dict of the decorator at `line` to `version`
    (Metaflow turns a bare version into `package==version` for pip and conda)."""
    tree = parse_exactly(source)
    wrapper, positions = _positions(tree)
    collector = _Collect((cst.Decorator,))
    wrapper.module.visit(collector)
    for node in collector.found:
        first, last = _span_lines(positions, node)
        call = node.decorator
        if not (first <= line <= last) or not isinstance(call, cst.Call):
            continue
        if decorator and _name_of(call) != decorator:
            continue
        for argument in call.args:
            if not (argument.keyword and argument.keyword.value in ("packages", "libraries")):
                continue
            if not isinstance(argument.value, cst.Dict):
                continue
            for element in argument.value.elements:
                key = element.key if isinstance(element, cst.DictElement) else None
                if isinstance(key, cst.SimpleString) and key.evaluated_value == package:
                    value = element.value
                    quote = value.quote if isinstance(value, cst.SimpleString) else key.quote
                    return _replace(tree, value, cst.SimpleString(f"{quote}{version}{quote}")).code
    raise FixError(f"no {package!r} entry with a literal version in a decorator on this line")


# -- MF202: helper in the flow file --------------------------------------------------------------------------------


def move_helper(flow_source: str, module: Module, name: str, common_path: Path,
                common_source: str | None) -> tuple[str, str]:
    """Moves the top-level function or class `name` from the flow file to common.py. Returns (flow, common).

    common.py keeps everything it has: the imports the helper needs are added where missing and the helper is
    appended at the end. The flow file gets `from common import <name>` so its uses keep working. Refused when the
    helper uses another name defined in the flow file (common.py cannot import the flow file back).
    """
    tree = parse_exactly(flow_source)
    node = next((s for s in tree.body if isinstance(s, (cst.FunctionDef, cst.ClassDef)) and s.name.value == name),
                None)
    if node is None:
        raise FixError(f"{name} is not defined at the top level of this file")
    model_node = (module.functions.get(name) or module.classes.get(name))
    if model_node is None:
        raise FixError(f"{name} is not defined at the top level of this file")
    used = _names_used(model_node.node)
    local = (set(module.functions) | set(module.classes) | set(module.constants)) - {name}
    flow_names = {f.name for f in module.flows}
    needs_local = sorted((used & local) | (used & flow_names))
    if needs_local:
        listed = ", ".join(needs_local)
        raise FixError(f"{name} uses {listed} from the flow file; move {'it' if len(needs_local) == 1 else 'them'} "
                       "too, or pass it in as an argument")

    common_tree = parse_exactly(common_source, "common.py") if common_source is not None else None
    if common_tree is not None and name in _bound_names(common_tree):
        raise FixError(f"{common_path.name} already defines {name}")

    # The imports of the flow file that bind a name the helper uses, copied as they are written.
    needed: list[tuple[str, str | None, str | None]] = []
    for imported in module.imports:
        if imported.bound_name in used:
            if imported.level:
                raise FixError(f"{name} uses {imported.bound_name} from a relative import; move it by hand")
            needed.append((imported.module, imported.name, imported.bound_name))

    # The flow file: the definition goes, with its comments; `from common import name` comes in.
    removed_comments = [line for line in node.leading_lines if line.comment is not None]
    new_flow = _replace(tree, node, cst.RemovalSentinel.REMOVE)
    new_flow = _with_imports(new_flow, [(common_path.stem, name)])

    # common.py: imports it lacks, then the helper appended.
    base = common_tree if common_tree is not None else cst.parse_module("")
    context = CodemodContext()
    for module_name, member, bound in needed:
        if member is None:
            if bound != module_name.split(".")[0] and bound is not None:
                AddImportsVisitor.add_needed_import(context, module_name, asname=bound)
            else:
                AddImportsVisitor.add_needed_import(context, module_name)
        else:
            AddImportsVisitor.add_needed_import(context, module_name, member,
                                                asname=bound if bound != member else None)
    base = AddImportsVisitor(context).transform_module(base) if needed else base
    moved = node.with_changes(leading_lines=[*([cst.EmptyLine(indent=False), cst.EmptyLine(indent=False)] if base.body else []),
                                             *removed_comments])
    new_common = base.with_changes(body=[*base.body, moved], has_trailing_newline=True)
    return new_flow.code, new_common.code


def _names_used(node) -> set[str]:
    """Every plain name a definition mentions (a superset of the globals it reads: good enough to copy imports)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


# -- MF203: .metaflow not git-ignored ------------------------------------------------------------------------------


def gitignore_with(text: str | None, entries: list[str]) -> str:
    """`text` (a .gitignore, None when missing) with `entries` appended, each once, on lines of their own."""
    text = text or ""
    present = {line.strip().rstrip("/").lstrip("/") for line in split_lines(text)}
    missing = [e for e in dict.fromkeys(entries) if e.strip("/") not in present]
    if not missing:
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith(("\n", "\r")):
        text += newline
    return text + "".join(f"{entry}{newline}" for entry in missing)


# -- noqa ----------------------------------------------------------------------------------------------------------


def add_noqa(source: str, line: int, code: str) -> str:
    """Appends `  # noqa: CODE` to the 0-based `line`, or adds CODE to the `# noqa: ...` comment already there.

    A comment is not part of Python's syntax tree, so this works on tokens: it refuses a line that ends inside a
    string (a comment there would become part of the string).
    """
    lines = split_lines(source, keepends=True)
    if not 0 <= line < len(lines):
        raise FixError("that line is not in the file any more")
    text = lines[line]
    body = text.rstrip("\r\n")
    ending = text[len(body):]
    comment_col = _comment_column(source, line)
    if comment_col is None:
        if _line_ends_in_string(source, line):
            raise FixError("the line ends inside a string; a comment cannot go there")
        new_body = body.rstrip() + f"  # noqa: {code}"
    else:
        comment = body[comment_col:]
        match = re.search(NOQA, comment)
        if match is None:
            new_body = body.rstrip() + f"  # noqa: {code}"
        elif match.group("codes") is None:
            raise FixError("this line already has a bare `# noqa`, which silences every rule")
        else:
            codes = [c for c in re.split(r"[\s,]+", match.group("codes")) if c]
            if code.upper() in {c.upper() for c in codes}:
                raise FixError(f"{code} is already disabled on this line")
            start, end = match.span("codes")
            comment = comment[:start] + ", ".join([*codes, code]) + comment[end:]
            new_body = body[:comment_col] + comment
    lines[line] = new_body + (ending or "")
    return "".join(lines)


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source, newline="").readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def _comment_column(source: str, line: int) -> int | None:
    for token in _tokens(source):
        if token.type == tokenize.COMMENT and token.start[0] == line + 1:
            return token.start[1]
    return None


def _line_ends_in_string(source: str, line: int) -> bool:
    for token in _tokens(source):
        if token.type == tokenize.STRING and token.start[0] <= line + 1 < token.end[0]:
            return True
        if hasattr(tokenize, "FSTRING_MIDDLE") and token.type == tokenize.FSTRING_MIDDLE and \
                token.start[0] <= line + 1 < token.end[0]:
            return True
    return False


def noqa_plan(source: str, path: Path | None, line: int, code: str) -> FixPlan:
    return _plan(noqa_title(code), path, source, add_noqa(source, line, code), code)


# -- plans: each fix's `apply` in the fix table (declared next to its rule), called as `apply(request, data)` ---------


def fix_finding(source: str, finding: Finding, context: FixContext, module: Module | None = None) -> FixPlan:
    """The quick fix of one finding in `source` (the current text of `context.path`), from the fix table."""
    declared = fix_for(finding.code)
    if declared is None:
        raise FixError(f"{finding.code} has no automatic fix")
    return declared.plan(FixRequest(source, finding, context, module or context.check(source).module))


def _title(request: FixRequest) -> str:
    declared = fix_for(request.finding.code)
    title = declared.title_of(request.finding, request.context) if declared else None
    return title or f"Fix {request.finding.code}"


def _own_plan(request: FixRequest, new: str, title: str | None = None) -> FixPlan:
    return _plan(title or _title(request), request.context.path, request.source, new, request.finding.code)


def move_step_plan(request: FixRequest, data: NoData) -> FixPlan:
    return _own_plan(request, move_step_decorator(request.source, request.finding.span.line))


def clamp_retry_plan(request: FixRequest, data: NoData) -> FixPlan:
    return _own_plan(request, clamp_retry_times(request.source, request.finding.span.line))


def main_guard_plan(request: FixRequest, data) -> FixPlan:
    module = request.module
    flow = _flow(module, data.flow)
    running = sorted(name for name in module.main_calls
                     if name != flow.name and any(other.name == name for other in module.flows))
    if running:
        # Metaflow's command line exits when the first flow is done: a second call in the guard never runs.
        raise FixError(f"the `__main__` block already runs {running[0]}, and a file runs one flow: move "
                       f"{flow.name} to a file of its own")
    declared = fix_for(request.finding.code)
    title = declared.title(type(data)(flow=flow.name), request.context) if declared else None
    return _own_plan(request, add_main_guard(request.source, flow.name), title)


def test_mode_parameter_plan(request: FixRequest, data) -> FixPlan:
    flow = _flow(request.module, data.flow, request.finding.span.line)
    taken = set(flow.parameters) | set(flow.steps) | flow.methods | set(flow.class_attributes)
    attribute = next((n for n in request.context.settings.test_mode_parameters if n not in taken and n.isidentifier()),
                     None)
    if attribute is None:
        raise FixError("every test-mode Parameter name in the settings is already taken in this flow")
    return _own_plan(request, add_test_mode_parameter(request.source, flow.name, attribute),
                     _title(request).replace("`test_mode`", f"`{attribute}`"))


def use_test_mode_plan(request: FixRequest, data) -> FixPlan:
    flow = _flow(request.module, None, request.finding.span.line)
    attribute = data.parameter or next(
        (p for p in request.context.settings.test_mode_parameters if p in flow.parameters), None)
    if attribute is None or attribute not in flow.parameters:
        raise FixError("cannot tell which test-mode Parameter this is about")
    new, what = use_test_mode(request.source, request.module, flow.name, attribute)
    return _own_plan(request, new, what)


def move_helper_plan(request: FixRequest, data) -> FixPlan:
    source, path, module = request.source, request.context.path, request.module
    name = data.name or _definition_at(module, request.finding.span.line)
    if name is None:
        raise FixError("cannot tell which helper this is about")
    if path is None:
        raise FixError("the file has no path, so there is no common.py beside it")
    common_path = path.parent / COMMON
    common_source = request.context.read(common_path)
    new_flow, new_common = move_helper(source, module, name, common_path, common_source)
    return FixPlan(f"Move `{name}` to {COMMON}", [FileChange(path, source, new_flow),
                                                  FileChange(common_path, common_source, new_common)],
                   [request.finding.code])


def pin_plan(request: FixRequest, data) -> FixPlan:
    package = data.package
    if not package:
        raise FixError("the finding does not name the package")
    installed = request.context.installed_version
    version = installed(package) if installed else None
    if not version:
        raise FixError(f"{package} is not installed in the project's Python, so there is no version to pin to")
    new = pin_package(request.source, request.finding.span.line, package, version, data.decorator)
    return _own_plan(request, new, f"Pin `{package}` to {version} (installed in {PROJECT_PYTHON})")


def _definition_at(module: Module, line: int) -> str | None:
    for name, info in [*module.functions.items(), *module.classes.items()]:
        if info.node.lineno - 1 <= line <= (info.node.end_lineno or info.node.lineno) - 1 or \
                any(d.lineno - 1 <= line for d in info.node.decorator_list) and line <= info.node.lineno - 1:
            return name
    return None


def gitignore_plan(request: FixRequest, data) -> FixPlan:
    context = request.context
    missing = list(data.missing) or list(METAFLOW_FOLDERS)
    if data.gitignore:
        gitignore = Path(data.gitignore)
    else:
        root = (context.project.git_root if context.project else None) or (
            context.path.parent if context.path else None)
        if root is None:
            raise FixError("cannot tell where the .gitignore is")
        gitignore = root / ".gitignore"
    old = context.read(gitignore)
    new = gitignore_with(old, missing)
    if old is not None and new == old:
        raise FixError(f"{gitignore} already lists {', '.join(missing)}")
    return FixPlan(_title(request), [FileChange(gitignore, old, new)], [request.finding.code])


# -- fix all -------------------------------------------------------------------------------------------------------

MAX_PASSES = 50  # a fix that keeps finding something to do must not loop forever


def fix_all(source: str, context: FixContext, codes: frozenset[str] | None = None) -> tuple[FixPlan, list[Finding]]:
    """Applies every fix of `codes` (by default the safe ones of the fix table) to `source` and the files they touch,
    re-checking after each one.

    Returns the plan (the path's new text first, then other files) and the findings left in the fixed text.
    """
    codes = safe_codes() if codes is None else codes
    plan = FixPlan(FIX_ALL_TITLE)
    others: dict[Path, FileChange] = {}
    current = source
    failed: set[tuple[str, int, str]] = set()
    settled: set[str] = set()  # codes whose rule reads back from the disk a file this plan writes

    def read(path: Path) -> str | None:  # what another file holds after the fixes so far
        return others[path].new if path in others else context.read(path)

    step_context = context.reading(read)
    result = context.check(current)
    for _ in range(MAX_PASSES):
        candidates = [f for f in result.findings if f.code in codes and (f.code, f.span.line, f.message) not in failed]
        if not candidates:
            break
        finding = candidates[0]
        declared = fix_for(finding.code)
        try:
            if declared is None:
                raise FixError(f"{finding.code} has no automatic fix")
            step_plan = declared.plan(FixRequest(current, finding, step_context, result.module))
        except FixError:
            failed.add((finding.code, finding.span.line, finding.message))
            continue
        for change in step_plan.changes:
            if context.path is not None and change.path == context.path or change.path == Path("<unsaved>"):
                current = change.new
            else:
                previous = others.get(change.path)
                others[change.path] = FileChange(change.path, previous.old if previous else change.old, change.new)
        plan.fixed.append(finding.code)
        if declared.writes is not None:
            settled.add(finding.code)
            if context.project is not None:
                context.project.forget_git_answers()
            # The rule reads the disk, where the change is not written yet: remember it is done.
            failed.add((finding.code, finding.span.line, finding.message))
        result = context.check(current)
    if current != source:
        plan.changes.append(FileChange(context.path or Path("<unsaved>"), source, current))
    plan.changes.extend(others.values())
    remaining = [f for f in result.findings if f.code not in settled]
    return plan, remaining


