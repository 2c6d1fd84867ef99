"""Which calls install packages at run time (MF209) and which call the guide's `install_dependencies` helper (MF209,
MF302): pip / conda command lines in `subprocess` and `os` calls, `pip.main([...])`, read from literals only."""

from __future__ import annotations

import ast
import re

from ..model import Module, dotted_name

INSTALLERS = {"pip", "pip3", "conda", "mamba", "micromamba"}
# The installer must be the command (`pip install`, `/opt/conda/bin/conda install`, `python -m pip install`,
# `sudo pip install`, after `;` / `&&` / `|`), not a word in its arguments (`echo pip install`).
# Patterns of this module are strings given to `re.search` and the like, compiled on first use (`re` keeps them): a
# one-file `check` imports every rule module, and this one took 2 ms to compile.
INSTALL_TEXT = r"(?:^|[;&|]|\bsudo\s|\buv\s|\s-m\s)\s*(?:\S*/)?(?:pip3?|conda|mamba|micromamba)\s+install\b"
SUBPROCESS_FUNCTIONS = {"run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput"}
OS_FUNCTIONS = {"system", "popen"}


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                       for v in node.values)
    return None


VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
                 "--find-links", "-t", "--target", "--prefix", "--root", "-n", "--name", "-p", "--channel"}


def _packages(words: list[str | None]) -> list[str]:
    """The package specs among the words after `install`: not options, nor the values of options."""
    packages, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word is None or "{" in word:
            continue
        elif word.startswith("-"):
            skip = word in VALUE_OPTIONS
        else:
            packages.append(word)
    return packages


def _install_command(argument: ast.AST) -> list[str] | None:
    """The packages (literal ones) when `argument` is a pip / conda install command, else None."""
    if isinstance(argument, (ast.List, ast.Tuple)):
        words = [_text(e) for e in argument.elts]
        for index, word in enumerate(words):
            if word is not None and word.rsplit("/", 1)[-1] in INSTALLERS and "install" in words[index + 1:]:
                return _packages(words[words.index("install", index) + 1:])
        return None
    text = _text(argument)
    if text is None:
        return None
    match = re.search(INSTALL_TEXT, text)
    if match is None:
        return None
    return _packages(re.split(r"[;&|]", text[match.end():], maxsplit=1)[0].split())


def _module_aliases(module: Module, name: str) -> tuple[set[str], set[str]]:
    """Names bound to module `name`, and names bound to its functions."""
    modules = {i.bound_name for i in module.imports if i.module == name and i.name is None and not i.level}
    functions = {i.bound_name for i in module.imports if i.module == name and i.name is not None and not i.level}
    return modules, functions


def installer_names(module: Module) -> dict[str, tuple[set[str], set[str]]]:
    """For subprocess, os and pip: the names bound to the module, and the names bound to its functions."""
    return {name: _module_aliases(module, name) for name in ("subprocess", "os", "pip")}


# The guide's helper that pip-installs packages at the start of a step (MF209 nudges, MF302 checks its specs).
INSTALL_HELPER = "install_dependencies"


def install_helper_names(module: Module) -> frozenset[str]:
    """The names this file calls the guide's `install_dependencies` helper by: the name itself and what an import
    binds it to (`from common import install_dependencies as deps`)."""
    return frozenset({INSTALL_HELPER} | {i.bound_name for i in module.imports if i.name == INSTALL_HELPER})


def is_install_helper_call(call: ast.Call, helpers: frozenset[str]) -> bool:
    """`install_dependencies(...)`, `common.install_dependencies(...)` (any module or object), or an alias."""
    name = dotted_name(call.func)
    return name is not None and (name in helpers or name.rsplit(".", 1)[-1] == INSTALL_HELPER)


def _runtime_install(call: ast.Call, names: dict[str, tuple[set[str], set[str]]]) -> list[str] | None:
    """The packages (literal ones) when `call` runs pip / conda install, else None."""
    name = dotted_name(call.func) or ""
    head, _, last = name.rpartition(".")
    argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in ("args", "command", "cmd")), None)
    if argument is None:
        return None
    subprocess_modules, subprocess_functions = names["subprocess"]
    os_modules, os_functions = names["os"]
    pip_modules, _ = names["pip"]
    if (head in subprocess_modules and last in SUBPROCESS_FUNCTIONS) or (not head and name in subprocess_functions) \
            or (head in os_modules and last in OS_FUNCTIONS) or (not head and name in os_functions):
        return _install_command(argument)
    if head in pip_modules and last == "main" and isinstance(argument, (ast.List, ast.Tuple)) and argument.elts \
            and _text(argument.elts[0]) == "install":
        return _packages([_text(e) for e in argument.elts[1:]])
    return None


def find_installs(nodes: list[ast.AST], names, helpers: frozenset[str]) -> list[tuple[ast.Call, list[str] | None]]:
    """The install calls among `nodes`: (call, packages) for pip / conda, (call, None) for the guide's
    `install_dependencies(...)` helper."""
    found: list[tuple[ast.Call, list[str] | None]] = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        if is_install_helper_call(node, helpers):
            found.append((node, None))
            continue
        packages = _runtime_install(node, names)
        if packages is not None:
            found.append((node, packages))
    return found
