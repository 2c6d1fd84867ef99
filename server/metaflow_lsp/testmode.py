"""The flow's test-mode Parameter: the one definition shared by MF204-MF207 and the launcher (`run --<option> 1`).

Flows name it in many ways (`test_mode`, `smoke_test`, `is_dev` with help "run with a smaller dataset", `test` with
help "run flow on test mode"). Best first:
1. a Parameter whose option name is one of `settings.test_mode_parameters` (`-` and `_` alike, any case), any type;
2. a Parameter whose class attribute is one of them (`test_mode = Parameter("test-mode")`);
3. a bool Parameter whose option name has one of the words (`TEST_MODE_WORDS` and the configured names) as a part:
   `smoke_test`, `is_dev`, `dry-run`, `smallData`;
4. a bool Parameter whose help text uses one of the words: "run with a smaller dataset" ("test" only as "test mode",
   "test run" or "testing": "evaluate on the test set" is no test mode).
A Config or a Parameter whose name is computed may be the test mode too: the answer is then `unknown`, and rules
that need "no test mode" stay silent.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .model import FlowClass, Parameter

# Words that mark a test mode in an option name or a help text (in any of the forms WORD_SUFFIXES give).
TEST_MODE_WORDS = ("test", "smoke", "dev", "debug", "sample", "subset", "small", "quick", "dry")
WORD_SUFFIXES = r"(?:s|es|d|ed|ing|ging|er|est|run|test|mode)?"
# In a help text "test" alone says too little ("evaluate on the test set"): only "test mode", "test run", "testing".
HELP_TEST = r"test(?:s|ing)?[\s_-]+(?:mode|run)|testing"


@dataclass(frozen=True, slots=True)
class FlowTestMode:
    parameters: tuple[Parameter, ...]  # best first
    unknown: bool  # nothing found, but a Config or a computed name may be it

    @property
    def parameter(self) -> Parameter | None:
        """The test-mode Parameter the launcher passes `--<option> 1` to."""
        return self.parameters[0] if self.parameters else None

    @property
    def attributes(self) -> set[str]:
        return {p.attr for p in self.parameters}


def _normalized(name: str) -> str:
    return name.replace("-", "_").lower()


def _words(text: str) -> list[str]:
    """`smallData`, `dry-run`, `is_dev` -> lower-case words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return [w for w in re.split(r"[^A-Za-z]+", spaced.lower()) if w]


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(sorted({re.escape(w.lower()) for w in words}, key=len, reverse=True))


def is_bool_parameter(parameter: Parameter) -> bool:
    """`type=bool`, or a literal True / False default (from which Metaflow infers bool)."""
    kind = next((k.value for k in parameter.call.keywords if k.arg == "type"), None)
    if kind is not None:
        return isinstance(kind, ast.Name) and kind.id == "bool"
    return isinstance(parameter.kwarg("default"), bool)


def find_test_mode(flow: FlowClass, names: tuple[str, ...]) -> FlowTestMode:
    """The flow's test-mode Parameters, best first (see the module docstring). `names`: the settings'
    `test_mode_parameters`."""
    wanted = [_normalized(n) for n in names]
    single_words = tuple(n for n in names if _words(n) == [n.lower()])
    option_words = re.compile(rf"(?:{_alternatives(TEST_MODE_WORDS + single_words)}){WORD_SUFFIXES}")
    help_words = tuple(w for w in TEST_MODE_WORDS + single_words if w != "test")
    help_phrase = re.compile(rf"\b(?:(?:{_alternatives(help_words)}){WORD_SUFFIXES}|{HELP_TEST})\b")
    ranked: list[tuple[int, int, Parameter]] = []
    unknown = False
    for order, parameter in enumerate(flow.parameters.values()):
        if parameter.kind == "IncludeFile":
            continue
        if not isinstance(parameter.option, str):
            unknown = True
            continue
        option = _normalized(parameter.option)
        if parameter.kind == "Config":
            unknown |= option in wanted
            continue
        if option in wanted:
            ranked.append((0, wanted.index(option), parameter))
        elif _normalized(parameter.attr) in wanted:
            ranked.append((1, wanted.index(_normalized(parameter.attr)), parameter))
        elif is_bool_parameter(parameter):
            help_text = parameter.kwarg("help")
            if any(option_words.fullmatch(word) for word in _words(parameter.option)):
                ranked.append((2, order, parameter))
            elif isinstance(help_text, str) and help_phrase.search(help_text.lower()):
                ranked.append((3, order, parameter))
    ranked.sort(key=lambda item: item[:2])
    parameters = tuple(parameter for _, _, parameter in ranked)
    return FlowTestMode(parameters, unknown and not parameters)
