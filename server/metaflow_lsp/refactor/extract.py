"""Extract step body to common.py: move a step's work into a plain function beside the flow.

```python
from metaflow_lsp.refactor.extract import can_extract, extract_step, ExtractError

reason = can_extract(module, "train")          # None, or why not (ast only: cheap enough for code actions)
result = extract_step(flow_source, flow_path, "train", common_source_or_None)
result.flow_source, result.common_source       # the new texts; write both (common.py beside the flow file)
```

The step keeps its decorators, docstring, a leading `self.merge_artifacts(inputs)` and its final `self.next(...)`;
the rest becomes `def train(data, alpha)` in common.py and the step becomes
`self.model, self.score = common.train(self.data, self.alpha)`. Artifacts read become parameters, artifacts
written become return values; an artifact the body assigns on some paths only goes through common.py's `UNSET`
sentinel, so the step assigns it exactly when the old body did (see `extract_analysis` for the rules that keep
the flow's artifacts identical). A body that needs the flow itself becomes `common.train(self)` with `self`
written `flow` in the function. Module-level helpers and constants of the flow file that the body needs move to
common.py and are imported back; imports the body needs are copied. An existing common.py is only appended to,
apart from new imports after its top import block and the function an earlier Extract of the same step wrote,
which is updated in place (unless another step still calls it).

Every edit is a libcst transform: comments and formatting of the moved code are kept.
"""

from __future__ import annotations

import ast
import keyword
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from ..builder import parse_module, read_imports
from ..model import Module
from .plan import FileChange, FixError, FixPlan
from .extract_analysis import (COMMON_MODULE, ExtractError, ExtractPlan, NeededImport, analyse, bound_names,
                               can_extract, step_extract_title)

COMMON_FILE = f"{COMMON_MODULE}.py"
NEW_COMMON_DOCSTRING = '"""Code shared by the flows in this directory: step bodies extracted by metaflow-lsp."""\n'
SENTINEL = "UNSET"
SENTINEL_COMMENT = ("# What an extracted step function returns for an artifact it did not assign on that run: the "
                    "step then\n# leaves the artifact unset, as the original step body did.\n")
MAX_CALL_LINE = 100


@dataclass(frozen=True)
class ExtractResult:
    flow_source: str  # the new text of the flow file
    common_source: str  # the new full text of common.py
    common_is_new: bool  # common.py did not exist: create it
    function_name: str  # the new function of common.py
    common_path: Path  # where common.py is: beside the flow file
    before_transition: int | None = None  # only the part before the conditional transition on this line moved


def extract_step(flow_source: str, flow_path: Path, step_name: str, common_source: str | None,
                 *, flow_name: str | None = None, lines: tuple[int, int] | None = None) -> ExtractResult:
    """The flow file and common.py after extracting the body of `step_name` (with `lines`, the first and last
    0-based line of a selection: the statements of the body they hold); raises `ExtractError`."""
    flow_path = Path(flow_path)
    if flow_path.name == COMMON_FILE:
        raise ExtractError(f"This file is {COMMON_FILE} itself.")
    module = parse_module(flow_source, flow_path)
    plan = analyse(module, step_name, flow_name, lines)
    common = _Common(common_source)
    names = _Names.choose(plan, module, common, step_name)
    flow_tree = cst.parse_module(flow_source)
    new_function = _function_node(plan, names, flow_tree)
    flow_tree, moved_nodes = _FlowEdit(plan, module, names).apply(flow_tree)
    common_text = common.append(plan, names, moved_nodes, new_function)
    return ExtractResult(flow_tree.code, common_text, common_source is None, names.function,
                         flow_path.parent / COMMON_FILE, plan.before_transition)


def extract_plan(source: str, path: Path | None, step: str, read: Callable[[Path], str | None],
                 flow_name: str | None = None, lines: tuple[int, int] | None = None) -> FixPlan:
    """Extract step body as a fix plan: the flow file and common.py (`read` gives common.py's current text, None
    when it does not exist); raises `FixError` with the reason when the step cannot be extracted."""
    from .fixes import parse_exactly

    if path is None:
        raise FixError(f"save the file first: {COMMON_FILE} goes next to it")
    common_path = path.parent / COMMON_FILE
    common_source = read(common_path)
    parse_exactly(source)  # refuses a file libcst would not give back unchanged
    if common_source is not None:
        parse_exactly(common_source, COMMON_FILE)
    try:
        result = extract_step(source, path, step, common_source, flow_name=flow_name, lines=lines)
    except ExtractError as error:
        raise FixError(getattr(error, "message", None) or str(error)) from None
    title = (f"Extract selected statements of step `{step}` to {COMMON_FILE}" if lines is not None
             else step_extract_title(step, result.before_transition))
    return FixPlan(title, [
        FileChange(path, source, result.flow_source),
        FileChange(result.common_path, None if result.common_is_new else common_source, result.common_source)],
        ["MF201"])


def extract_step_plan(request, data) -> FixPlan:
    """MF201's fix (`apply` in the fix table): Extract step body on the step the finding names."""
    if not data.step:
        raise FixError("cannot tell which step this is about")
    return extract_plan(request.source, request.context.path, data.step, request.context.read)


# ----------------------------------------------------------------------------------------------------------------
# Names


@dataclass
class _Names:
    function: str  # in common.py
    sentinel: str | None  # common.py's UNSET, when some artifact needs it
    sentinel_is_new: bool
    call_prefix: str  # `common.` or "" (the flow uses `from common import ...`)
    use_from_import: bool
    step_locals: dict[str, str]  # artifact -> local of the step for artifacts that go through UNSET
    replaces: bool = False  # `function` is an earlier extraction of this same step in common.py: it is updated

    @classmethod
    def choose(cls, plan: ExtractPlan, module: Module, common: "_Common", step_name: str) -> "_Names":
        use_from = plan.common_alias is None and bool(plan.from_common)
        flow_names = set(module.functions) | set(module.classes) | set(module.constants) | {
            i.bound_name for i in module.imports if not (i.module == COMMON_MODULE and i.level == 0)}
        for name in sorted(plan.from_common & plan.global_names | plan.common_attrs):
            if name not in common.bindings:
                raise ExtractError(f"The body uses `{name}` from {COMMON_FILE}, but {COMMON_FILE} does not define "
                                   "it.")
        taken = set(common.bindings) | plan.global_names | {n for d in plan.moved_definitions
                                                            for n in bound_names(d)}
        if use_from:
            taken |= flow_names
        sentinel, sentinel_is_new = None, False
        if any(w.maybe_unset for w in plan.written):
            sentinel = common.existing_sentinel()
            if sentinel is None or sentinel in plan.body_names or (use_from and sentinel in flow_names):
                sentinel = _first_free([SENTINEL] + [f"{SENTINEL}_{i}" for i in range(2, 100)],
                                       taken | plan.body_names)
                sentinel_is_new = True
            taken.add(sentinel)
        earlier = None if plan.selection else common.earlier_extraction(plan.flow.name, step_name)
        replaces = (earlier is not None and earlier not in plan.global_names | plan.body_names
                    and not (use_from and earlier in flow_names) and not _flow_calls(module, plan, earlier))
        if replaces:
            function = earlier
        else:
            stem = f"{step_name}_part" if plan.selection else step_name
            candidates = [stem, f"{stem}_step"] + [f"{stem}_{i}" for i in range(2, 1000)]
            function = _first_free(candidates, taken)
        prefix = "" if use_from else f"{plan.common_alias or COMMON_MODULE}."
        step_taken = {"self", plan.common_alias or COMMON_MODULE, function, sentinel or ""} | {
            p.name for p in plan.params if p.artifact is None} | {w.local for w in plan.written if w.step_local}
        if plan.selection:
            step_taken |= plan.body_names  # the step keeps its other statements and their names
        step_locals: dict[str, str] = {}
        for written in plan.written:
            if written.maybe_unset:
                local = _first_free([written.artifact] + [written.artifact + "_" * i for i in range(1, 50)],
                                    step_taken | flow_names)
                step_locals[written.artifact] = local
                step_taken.add(local)
        return cls(function, sentinel, sentinel_is_new, prefix, use_from, step_locals, replaces)


def _flow_calls(module: Module, plan: ExtractPlan, function: str) -> bool:
    """Whether the flow file still uses `function` of common.py (another step calls it): then it is not updated."""
    assert module.tree is not None
    for node in ast.walk(module.tree):
        if (isinstance(node, ast.Attribute) and node.attr == function and isinstance(node.value, ast.Name)
                and node.value.id == (plan.common_alias or COMMON_MODULE)):
            return True
        if isinstance(node, ast.Name) and node.id == function and function in plan.from_common:
            return True
    return False


def _first_free(candidates: list[str], taken: set[str]) -> str:
    for candidate in candidates:
        if candidate not in taken and not keyword.iskeyword(candidate):
            return candidate
    raise ExtractError("Could not find a free name for the new function.")


# ----------------------------------------------------------------------------------------------------------------
# Statements of a block as the ast sees them (`a; b` on one line is two statements)


def _units(statements: list[cst.BaseStatement]) -> list[tuple[int, int | None]]:
    units: list[tuple[int, int | None]] = []
    for index, statement in enumerate(statements):
        if isinstance(statement, cst.SimpleStatementLine):
            units.extend((index, small) for small in range(len(statement.body)))
        else:
            units.append((index, None))
    return units


def _rebuild(statements: list[cst.BaseStatement], units: list[tuple[int, int | None]]) -> list[cst.BaseStatement]:
    """The statements for a run of units, splitting `a; b` lines where the run starts or ends inside one."""
    result: list[cst.BaseStatement] = []
    index = 0
    while index < len(units):
        line, small = units[index]
        statement = statements[line]
        if small is None:
            result.append(statement)
            index += 1
            continue
        group = []
        while index < len(units) and units[index][0] == line:
            group.append(units[index][1])
            index += 1
        assert isinstance(statement, cst.SimpleStatementLine)
        if len(group) == len(statement.body):
            result.append(statement)
            continue
        body = [statement.body[i] for i in group]  # type: ignore[index]
        body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        result.append(statement.with_changes(
            body=body,
            leading_lines=statement.leading_lines if group[0] == 0 else (),
        ))
    return result


# ----------------------------------------------------------------------------------------------------------------
# The new function


class _ToLocals(cst.CSTTransformer):
    """`self.x` -> the local of x, or `self` -> `flow` when the body needs the flow itself; `common.f` -> `f` (the
    code now lives in common.py)."""

    def __init__(self, locals_: dict[str, str], common_alias: str | None, common_attrs: set[str],
                 flow_param: str | None = None):
        self.locals = locals_
        self.common_alias = common_alias
        self.common_attrs = common_attrs
        self.flow_param = flow_param

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if self.flow_param is not None and updated_node.value == "self":
            return updated_node.with_changes(value=self.flow_param)
        return updated_node

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)  # `f(self=...)` names no variable

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        updated_node = updated_node.with_changes(attr=original_node.attr)  # `x.self` names no variable
        value = updated_node.value
        if isinstance(value, cst.Name):
            if value.value == "self" and updated_node.attr.value in self.locals:
                return cst.Name(self.locals[updated_node.attr.value], lpar=updated_node.lpar,
                                rpar=updated_node.rpar)
            if value.value == self.common_alias and updated_node.attr.value in self.common_attrs:
                return cst.Name(updated_node.attr.value, lpar=updated_node.lpar, rpar=updated_node.rpar)
        return updated_node


def _docstring(plan: ExtractPlan, names: _Names) -> str:
    flow, step = plan.flow, plan.step

    def describe(artifact: str, local: str, note: str = "") -> str:
        text = artifact if artifact == local else f"{artifact} (as `{local}`)"
        return f"{text} ({note})" if note and note != "foreach" else text

    reads = [describe(p.artifact, p.name, p.note) if p.artifact else f"{p.name} ({p.note})" for p in plan.params]
    writes = [f"{w.local} (a local of the step)" if w.step_local else describe(w.artifact, w.local)
              for w in plan.written]
    if plan.before_transition is not None:
        lines = [f"The part of the `{step.name}` step of {flow.name} before its conditional transition.", ""]
    else:
        lines = [f"{'Statements' if plan.selection else 'Body'} of the `{step.name}` step of {flow.name}.", ""]
    if plan.flow_param is not None:
        reason = re.sub(r" \(line \d+\)| on line \d+", "", plan.flow_reason or "")  # lines of the flow file
        lines.append(f"Takes the flow itself as `{plan.flow_param}`, because {reason}: it reads and "
                     f"assigns the artifacts on `{plan.flow_param}` as the step did.")
        others = reads[1:]
        if others:
            lines.append("Also takes: " + ", ".join(others) + ".")
        if writes:
            lines.append("Returns: " + ", ".join(writes) + ".")
        wrapped = [part for line in lines for part in textwrap.wrap(line, MAX_CALL_LINE - 4) or [""]]
        text = "\n    ".join(wrapped).replace("\n    \n", "\n\n")
        return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + "\n    \"\"\""
    lines.append("Reads: " + (", ".join(reads) if reads else "no artifacts") + ".")
    lines.append("Returns: " + (", ".join(writes) if writes else "nothing") + ".")
    unset = [w.local for w in plan.written if w.maybe_unset]
    if unset:
        lines.append("")
        lines.append(f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} {names.sentinel} when this run does "
                     "not assign it; the step then leaves the artifact unset.")
    text = "\n    ".join(line for line in lines).replace("\n    \n", "\n\n")
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + "\n    \"\"\""


def _function_node(plan: ExtractPlan, names: _Names, flow_tree: cst.Module) -> cst.FunctionDef:
    params = ", ".join(p.name for p in plan.params)
    returns = [w.local for w in plan.written]
    skeleton = [f"def {names.function}({params}):", f"    {_docstring(plan, names)}"]
    skeleton += [f"    {w.local} = {names.sentinel}" for w in plan.written if w.maybe_unset]
    skeleton.append("    pass")
    if returns:
        skeleton.append(f"    return {', '.join(returns)}")
    node = cst.parse_statement("\n".join(skeleton) + "\n")
    assert isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock)
    moved = _moved_statements(plan, flow_tree)
    body = list(node.body.body)
    placeholder = body.index(next(s for s in body if cst.Module([]).code_for_node(s).strip() == "pass"))
    body[placeholder:placeholder + 1] = moved
    return node.with_changes(body=node.body.with_changes(body=body))


def _moved_statements(plan: ExtractPlan, flow_tree: cst.Module) -> list[cst.BaseStatement]:
    step_node = _find_step_cst(flow_tree, plan)
    statements = list(step_node.body.body)
    units = _units(statements)
    if len(units) != len(plan.step.node.body):
        raise ExtractError("Could not match the step's statements (internal error).")
    moved = _rebuild(statements, units[plan.moved_start:plan.moved_end])
    transformer = _ToLocals(plan.locals, plan.common_alias, plan.common_attrs, plan.flow_param)
    moved = [statement.visit(transformer) for statement in moved]  # type: ignore[misc]
    first = moved[0]
    leading = list(first.leading_lines)
    while leading and leading[0].comment is None:
        leading.pop(0)
    moved[0] = first.with_changes(leading_lines=leading)
    return moved


def _find_step_cst(tree: cst.Module, plan: ExtractPlan) -> cst.FunctionDef:
    classes = [s for s in tree.body if isinstance(s, cst.ClassDef) and s.name.value == plan.flow.name]
    if not classes or not isinstance(classes[-1].body, cst.IndentedBlock):
        raise ExtractError(f"Could not find class {plan.flow.name} (internal error).")
    functions = [s for s in classes[-1].body.body
                 if isinstance(s, cst.FunctionDef) and s.name.value == plan.step.name]
    if not functions or not isinstance(functions[-1].body, cst.IndentedBlock):
        raise ExtractError(f"Step `{plan.step.name}` is written on one line; put its body on lines of its own first.")
    return functions[-1]


# ----------------------------------------------------------------------------------------------------------------
# The flow file


class _FlowEdit:
    def __init__(self, plan: ExtractPlan, module: Module, names: _Names):
        self.plan = plan
        self.module = module
        self.names = names

    def apply(self, tree: cst.Module) -> tuple[cst.Module, list[cst.BaseStatement]]:
        plan = self.plan
        assert self.module.tree is not None
        body = list(tree.body)
        units = _units(body)
        if len(units) != len(self.module.tree.body):
            raise ExtractError("Could not match the module's statements (internal error).")
        moved_ids = {id(s) for s in plan.moved_definitions}
        moved_units = [i for i, s in enumerate(self.module.tree.body) if id(s) in moved_ids]
        moved_nodes: list[cst.BaseStatement] = []
        drop: set[int] = set()
        for index in moved_units:
            line, small = units[index]
            statement = body[line]
            if small is not None and len(statement.body) > 1:  # type: ignore[attr-defined]
                raise ExtractError(f"`{', '.join(bound_names(self.module.tree.body[index]))}` shares a line with "
                                   "other statements; put it on a line of its own first.")
            moved_nodes.append(statement)
            drop.add(line)
        class_index = max(i for i, s in enumerate(body) if isinstance(s, cst.ClassDef)
                          and s.name.value == plan.flow.name)
        body[class_index] = self._edit_class(body[class_index])  # type: ignore[arg-type]
        body = [s for i, s in enumerate(body) if i not in drop]
        tree = tree.with_changes(body=body)
        return self._add_imports(tree), moved_nodes

    def _edit_class(self, class_node: cst.ClassDef) -> cst.ClassDef:
        plan = self.plan
        assert isinstance(class_node.body, cst.IndentedBlock)
        members = list(class_node.body.body)
        position = max(i for i, s in enumerate(members) if isinstance(s, cst.FunctionDef)
                       and s.name.value == plan.step.name)
        step = members[position]
        assert isinstance(step, cst.FunctionDef) and isinstance(step.body, cst.IndentedBlock)
        statements = list(step.body.body)
        units = _units(statements)
        before = _rebuild(statements, units[:plan.moved_start])
        after = _rebuild(statements, units[plan.moved_end:])
        first_moved = _rebuild(statements, units[plan.moved_start:plan.moved_start + 1])[0]
        blank = [line for line in first_moved.leading_lines if line.comment is None][:1]
        calls = [cst.parse_statement(text) for text in self._call_lines()]
        calls[0] = calls[0].with_changes(leading_lines=blank)
        members[position] = step.with_changes(body=step.body.with_changes(body=before + calls + after))
        return class_node.with_changes(body=class_node.body.with_changes(body=members))

    def _call_lines(self) -> list[str]:
        plan, names = self.plan, self.names
        arguments = [p.argument for p in plan.params]
        call = f"{names.call_prefix}{names.function}({', '.join(arguments)})"
        targets = [w.local if w.step_local else f"self.{w.artifact}" if not w.maybe_unset
                   else names.step_locals[w.artifact] for w in plan.written]
        head = f"{', '.join(targets)} = " if targets else ""
        indent = " " * (plan.step.node.body[0].col_offset)
        if len(indent) + len(head) + len(call) > MAX_CALL_LINE and arguments:
            call = (f"{names.call_prefix}{names.function}(\n"
                    + "".join(f"    {argument},\n" for argument in arguments) + ")")
        lines = [head + call]
        reference = f"{names.call_prefix}{names.sentinel}"
        for written in plan.written:
            if written.maybe_unset:
                local = names.step_locals[written.artifact]
                lines.append(f"if {local} is not {reference}:\n    self.{written.artifact} = {local}")
        return [line + "\n" for line in lines]

    def _add_imports(self, tree: cst.Module) -> cst.Module:
        plan, names = self.plan, self.names
        context = CodemodContext()
        needed = False
        if names.use_from_import:
            AddImportsVisitor.add_needed_import(context, COMMON_MODULE, names.function)
            if names.sentinel and names.sentinel not in plan.from_common:
                AddImportsVisitor.add_needed_import(context, COMMON_MODULE, names.sentinel)
            needed = True
        elif plan.common_alias is None:
            AddImportsVisitor.add_needed_import(context, COMMON_MODULE)
            needed = True
        for name in plan.moved_names:
            AddImportsVisitor.add_needed_import(context, COMMON_MODULE, name)
            needed = True
        if not needed:
            return tree
        # AddImportsVisitor only looks at (and adds to) the top import block: run it on that block alone, since a
        # transform of the whole module costs about a second on a 1,000-line flow.
        body = list(tree.body)
        head = _after_top_imports(body)
        top = AddImportsVisitor(context).transform_module(tree.with_changes(body=body[:head]))
        return tree.with_changes(body=list(top.body) + body[head:])


# ----------------------------------------------------------------------------------------------------------------
# common.py


class _Common:
    def __init__(self, source: str | None):
        self.source = source
        text = source if source is not None else ""
        try:
            self.tree = cst.parse_module(text)
            ast_tree = ast.parse(text)
        except (cst.ParserSyntaxError, SyntaxError) as error:
            raise ExtractError(f"{COMMON_FILE} does not parse ({error}); fix it first.") from None
        self.ast_tree = ast_tree
        self.bindings: dict[str, ast.stmt] = {}
        for statement in ast_tree.body:
            for name in bound_names(statement):
                self.bindings[name] = statement

    def earlier_extraction(self, flow_name: str, step_name: str) -> str | None:
        """The function an earlier Extract of this step wrote (its docstring names the step and the flow), if any."""
        marker = f"Body of the `{step_name}` step of {flow_name}."
        for statement in self.ast_tree.body:
            if isinstance(statement, ast.FunctionDef) and (ast.get_docstring(statement) or "").startswith(marker):
                return statement.name
        return None

    def existing_sentinel(self) -> str | None:
        for statement in self.ast_tree.body:
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id.startswith(SENTINEL)
                    and isinstance(statement.value, ast.Call) and isinstance(statement.value.func, ast.Name)
                    and statement.value.func.id == "object" and not statement.value.args):
                return statement.targets[0].id
        return None

    def _import_statements(self, plan: ExtractPlan) -> list[cst.BaseStatement]:
        result = []
        for need in plan.imports:
            existing = self.bindings.get(need.bound)
            if existing is not None:
                if isinstance(existing, (ast.Import, ast.ImportFrom)) and _same_import(existing, need):
                    continue
                raise ExtractError(f"The body uses `{need.bound}`, which {COMMON_FILE} already defines "
                                   "differently; rename one of them first.")
            result.append(cst.parse_statement(_import_text(need)))
        return result

    def append(self, plan: ExtractPlan, names: _Names, moved: list[cst.BaseStatement],
               function: cst.FunctionDef) -> str:
        already: set[int] = set()  # moved definitions common.py holds already, the same (an earlier extraction)
        for index, statement in enumerate(plan.moved_definitions):
            for name in bound_names(statement):
                if name not in self.bindings:
                    continue
                if ast.dump(self.bindings[name]) == ast.dump(statement):
                    already.add(index)
                    continue
                raise ExtractError(f"The body needs `{name}` from the flow file, and {COMMON_FILE} already has "
                                   f"a different `{name}`; rename one of them first.")
        moved = [statement for index, statement in enumerate(moved) if index not in already]
        imports = self._import_statements(plan)
        tree = self.tree
        body = list(tree.body)
        new_file = self.source is None or not self.source.strip()
        if new_file:
            body = [cst.parse_statement(NEW_COMMON_DOCSTRING)]
        insert_at = _after_top_imports(body)
        if imports:
            body[insert_at:insert_at] = imports
        appended: list[cst.BaseStatement] = []
        if names.sentinel_is_new:
            sentinel = cst.parse_statement(f"{names.sentinel} = object()\n")
            comments = [cst.EmptyLine(comment=cst.Comment(line)) for line in SENTINEL_COMMENT.splitlines()]
            appended.append(sentinel.with_changes(leading_lines=comments))
        for statement in moved:
            leading = [line for line in statement.leading_lines if line.comment is not None]
            appended.append(statement.with_changes(leading_lines=leading))
        if names.replaces:  # the earlier extraction of this step is updated where it is
            position = next(i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef)
                            and s.name.value == names.function)
            body[position] = function.with_changes(leading_lines=body[position].leading_lines)
        else:
            appended.append(function)
        if not appended:
            return tree.with_changes(body=body).code
        two_blank = [cst.EmptyLine(), cst.EmptyLine()]
        footer = list(tree.footer) if not new_file else []
        for index, statement in enumerate(appended):
            prefix = footer + two_blank if index == 0 else two_blank
            appended[index] = statement.with_changes(leading_lines=prefix + list(statement.leading_lines))
        if not body:
            appended[0] = appended[0].with_changes(leading_lines=footer)
        new_tree = tree.with_changes(body=body + appended, footer=(), has_trailing_newline=True)
        return new_tree.code


def _is_import(statement: cst.BaseStatement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine)
            and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body))


def _after_top_imports(body: list[cst.BaseStatement]) -> int:
    index = 0
    if body and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr) \
            and isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        index = 1
    while index < len(body) and _is_import(body[index]):
        index += 1
    return index


def _import_text(need: NeededImport) -> str:
    if need.name is None:
        return f"import {need.module}" + (f" as {need.asname}" if need.asname else "") + "\n"
    return (f"from {'.' * need.level}{need.module} import {need.name}"
            + (f" as {need.asname}" if need.asname else "") + "\n")


def _same_import(statement: ast.Import | ast.ImportFrom, need: NeededImport) -> bool:
    for imported in read_imports(statement):
        if imported.bound_name != need.bound:
            continue
        if need.name is None:
            return imported.name is None and (imported.module == need.module
                                              or imported.module.split(".")[0] == need.module.split(".")[0]
                                              and need.asname is None)
        return imported.name == need.name and imported.module == need.module and imported.level == need.level
    return False


__all__ = ["ExtractError", "ExtractResult", "can_extract", "extract_plan", "extract_step", "extract_step_plan", "COMMON_FILE"]
