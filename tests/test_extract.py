"""Extract step body to common.py: before/after texts for each case, and each refusal."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.refactor.extract import ExtractError, can_extract, extract_plan, extract_step
from metaflow_lsp.refactor.fix_table import FixContext, fix_for

FLOW = Path("/project/flow.py")


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def flow(steps: str, header: str = "from metaflow import FlowSpec, Parameter, step\n", extra: str = "") -> str:
    """A flow file whose class body is `steps` (dedented)."""
    body = textwrap.indent(d(steps), "    ")
    return f"{header}{extra}\n\nclass TrainFlow(FlowSpec):\n{body}\n\nif __name__ == \"__main__\":\n    TrainFlow()\n"


def extract(source: str, step: str, common: str | None = None):
    return extract_step(source, FLOW, step, common)


def refusal(source: str, step: str) -> str:
    reason = can_extract(parse_module(source, FLOW), step)
    assert reason is not None
    with pytest.raises(ExtractError) as error:
        extract(source, step)
    assert error.value.message == reason
    return reason


def step_text(source: str, name: str) -> str:
    """The text of one step of the flow file, from `def` to the next decorator."""
    start = source.index(f"    def {name}(")
    end = source.find("    @step", start)
    return source[start:end if end != -1 else source.index("\n\nif __name__")]


def function_text(source: str, name: str) -> str:
    start = source.index(f"def {name}(")
    end = source.find("\n\n\n", start)
    return source[start:end if end != -1 else len(source)].rstrip("\n") + "\n"


LINEAR = flow('''
    alpha = Parameter("alpha", default=2)

    @step
    def start(self):
        self.data = [1, 2, 3]
        self.next(self.train)

    @step
    def train(self):
        """Fit the model."""

        # scale the data
        self.model = [x * self.alpha for x in self.data]  # kept
        self.score = sum(self.model)
        self.next(self.end)

    @step
    def end(self):
        print(self.score)
''')


def test_linear_step_becomes_a_call_with_params_and_returns():
    result = extract(LINEAR, "train")
    assert step_text(result.flow_source, "train") == (
        "    def train(self):\n"
        '        """Fit the model."""\n'
        "\n"
        "        self.model, self.score = common.train(self.alpha, self.data)\n"
        "        self.next(self.end)\n"
        "\n"
    )
    assert "import common\n" in result.flow_source
    assert result.common_is_new and result.function_name == "train"
    assert result.common_path == FLOW.parent / "common.py"
    assert function_text(result.common_source, "train") == d('''
        def train(alpha, data):
            """Body of the `train` step of TrainFlow.

            Reads: alpha (Parameter), data.
            Returns: model, score.
            """
            # scale the data
            model = [x * alpha for x in data]  # kept
            score = sum(model)
            return model, score
        ''')
    compile(result.common_source, "common.py", "exec")
    compile(result.flow_source, "flow.py", "exec")


def test_read_modify_write_is_param_and_return():
    source = flow('''
        @step
        def start(self):
            self.n = 1
            self.n += 1
            self.items.append(self.n)
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.n = common.start(self.items)" in result.flow_source
    assert function_text(result.common_source, "start").endswith(
        "    n = 1\n    n += 1\n    items.append(n)\n    return n\n")
    source = flow('''
        @step
        def start(self):
            self.count += 1
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.count = common.start(self.count)" in result.flow_source
    assert "def start(count):" in result.common_source


def test_conditional_write_goes_through_unset_sentinel():
    source = flow('''
        @step
        def start(self):
            self.x = 1
            if self.x > 0:
                self.flag = True
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert (
        "        self.x, flag = common.start()\n"
        "        if flag is not common.UNSET:\n"
        "            self.flag = flag\n"
        "        self.next(self.end)\n"
    ) in result.flow_source
    function = function_text(result.common_source, "start")
    assert "    flag = UNSET\n" in function and function.endswith("return x, flag\n")
    assert "flag is UNSET when this run does not assign it" in function
    assert "\nUNSET = object()\n" in result.common_source
    # A second extraction reuses the sentinel.
    other = flow('''
        @step
        def start(self):
            if self.go:
                self.maybe = 1
            self.next(self.end)
    ''')
    again = extract_step(other, FLOW, "start", result.common_source)
    assert again.common_source.count("= object()") == 1
    assert "if maybe is not common.UNSET:" in again.flow_source


def test_conditional_write_of_a_read_artifact_is_a_plain_return():
    source = flow('''
        @step
        def start(self):
            print(self.best)
            if self.new > self.best:
                self.best = self.new
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.best = common.start(self.best, self.new)" in result.flow_source
    assert "UNSET" not in result.common_source


def test_written_on_every_branch_is_plain_and_loop_write_is_not():
    source = flow('''
        @step
        def start(self):
            if self.a:
                self.x = 1
            else:
                self.x = 2
            for i in range(3):
                self.y = i
            try:
                self.z = 1
            except ValueError:
                self.z = 2
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.x, y, self.z = common.start(self.a)" in result.flow_source
    assert "if y is not common.UNSET:" in result.flow_source


def test_foreach_input_and_index_become_parameters():
    source = flow('''
        @step
        def body(self):
            self.word = self.input * 2
            self.position = self.index
            self.next(self.join)
    ''')
    result = extract(source, "body")
    assert "self.word, self.position = common.body(self.input, self.index)" in result.flow_source
    function = function_text(result.common_source, "body")
    assert function.startswith("def body(item, index):")
    assert "Reads: input (as `item`), index." in function
    assert "word = item * 2" in function


def test_join_passes_inputs_and_keeps_merge_artifacts_first_or_last():
    source = flow('''
        @step
        def join(self, inputs):
            self.merge_artifacts(inputs)
            self.total = sum(i.value for i in inputs) + self.base
            self.next(self.end)
    ''')
    result = extract(source, "join")
    assert d('''
        self.merge_artifacts(inputs)
        self.total = common.join(inputs, self.base)
        self.next(self.end)
        ''') in textwrap.dedent(step_text(result.flow_source, "join").split("\n", 1)[1])
    assert "def join(inputs, base):" in result.common_source
    assert "Reads: inputs (the join's inputs), base." in result.common_source
    last = flow('''
        @step
        def join(self, inputs):
            self.side = "both"
            self.merge_artifacts(inputs, exclude=["value"])
            self.next(self.end)
    ''')
    result = extract(last, "join")
    assert d('''
        self.side = common.join(inputs)
        self.merge_artifacts(inputs, exclude=["value"])
        self.next(self.end)
        ''') in textwrap.dedent(step_text(result.flow_source, "join").split("\n", 1)[1])


def test_module_helpers_constants_and_imports():
    source = d('''
        import json
        import numpy as np
        from metaflow import FlowSpec, step
        from os import path as p

        SCALE = 3  # scale
        OFFSET = SCALE + 1


        def helper(v):
            # comment moves with it
            return json.dumps(v * OFFSET)


        def other():
            return 1


        class TrainFlow(FlowSpec):
            size = SCALE

            @step
            def start(self):
                self.out = helper(2) + p.sep
                self.next(self.end)

            @step
            def end(self):
                pass


        if __name__ == "__main__":
            TrainFlow()
        ''')
    result = extract(source, "start")
    common = result.common_source
    assert "import json\nfrom os import path as p\n" in common
    assert "numpy" not in common and "def other" not in common
    assert common.index("SCALE = 3  # scale") < common.index("OFFSET = SCALE + 1") < common.index("def helper(")
    assert "    # comment moves with it\n" in common
    new_flow = result.flow_source
    assert "def helper" not in new_flow and "SCALE = 3" not in new_flow and "OFFSET =" not in new_flow
    assert "from common import SCALE\n" in new_flow  # the class body still uses it
    assert "import OFFSET" not in new_flow and "import helper" not in new_flow and "helper," not in new_flow
    assert "import numpy as np" in new_flow  # imports of the flow are left alone
    assert "self.out = common.start()" in new_flow


def test_existing_common_is_appended_to_and_names_do_not_collide():
    common = d('''
        """Mine."""
        import os


        def train():
            return os.sep
        # trailing comment
        ''')
    source = LINEAR.replace("self.score = sum(self.model)", "self.score = sum(self.model) + len(json.dumps(1))")
    source = "import json\n" + source
    result = extract(source, "train", common)
    assert not result.common_is_new
    assert result.function_name == "train_step"
    assert result.common_source.startswith('"""Mine."""\nimport os\nimport json\n')
    assert result.common_source.replace("import json\n", "", 1).startswith(common)
    assert "common.train_step(self.alpha, self.data)" in result.flow_source
    twice = extract_step(result.flow_source, FLOW, "start", result.common_source)
    assert twice.common_source.startswith(result.common_source)


def test_from_common_style_is_followed():
    source = flow('''
        @step
        def start(self):
            self.values = helper([1, 2])
            self.more = 1
            self.next(self.end)
    ''', extra="from common import helper\n")
    result = extract(source, "start", "def helper(v):\n    return v\n")
    assert "from common import start, helper\n" in result.flow_source  # added to the existing import
    assert "self.values, self.more = start()" in result.flow_source
    assert "import common\n" not in result.flow_source
    assert "from common" not in result.common_source  # common.py never imports itself


def test_common_dot_names_in_the_body_become_plain_names():
    source = flow('''
        @step
        def start(self):
            self.values = common.helper([1, 2])
            self.other = 1
            self.next(self.end)
    ''', extra="import common\n")
    result = extract(source, "start", "def helper(v):\n    return v\n")
    assert "    values = helper([1, 2])\n" in result.common_source
    assert "self.values, self.other = common.start()" in result.flow_source
    assert result.flow_source.count("import common") == 1


def test_local_names_that_shadow_artifacts_are_renamed():
    source = flow('''
        @step
        def start(self):
            data = "local"
            self.data = data.upper()
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "data_ = data.upper()" in result.common_source
    assert "Returns: data (as `data_`)." in result.common_source


def test_semicolon_line_and_end_step_without_next():
    source = flow('''
        @step
        def start(self):
            self.a = 1; self.next(self.end)

        @step
        def end(self):
            print(self.a)
    ''')
    result = extract(source, "start")
    assert "self.a = common.start()\n        self.next(self.end)\n" in result.flow_source
    result = extract(result.flow_source, "end", result.common_source)
    assert "        common.end(self.a)\n" in result.flow_source
    assert "def end(a):" in result.common_source


def test_extracting_twice_is_refused():
    result = extract(LINEAR, "train")
    assert refusal(result.flow_source, "train") == "Step `train` already only calls a function of common.py."
    second = extract_step(result.flow_source, FLOW, "end", result.common_source)
    assert "def end(score):" in second.common_source


def test_long_calls_are_wrapped():
    names = ", ".join(f"self.artifact_number_{i}" for i in range(6))
    source = flow(f'''
        @step
        def start(self):
            self.total = sum([{names}])
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.total = common.start(\n            self.artifact_number_0,\n" in result.flow_source
    compile(result.flow_source, "flow.py", "exec")


@pytest.mark.parametrize("steps, step, expected", [
    ('''
     @step
     def start(self):
         if self.a:
             self.next(self.x)
             return
         self.next(self.y)
     ''', "start", "The body has a conditional `self.next(...)` (line 8) with nothing before it to extract"),
    ('''
     @step
     def start(self):
         if self.a:
             return
         self.b = 1
         self.next(self.end)
     ''', "start", "The body has an early `return` (line 8) with nothing before it to extract: it skips"),
    ('''
     alpha = Parameter("alpha")

     @step
     def start(self):
         self.alpha = 3
         self.next(self.end)
     ''', "start", "The body assigns `self.alpha` (line 9), a Parameter"),
    ('''
     @step
     def start(self):
         """Only a docstring."""
         self.next(self.end)
     ''', "start", "Step `start` has no body to extract."),
    ('''
     @step
     def end(self):
         pass
     ''', "end", "Step `end` has no body to extract."),
    ('''
     @catch(var="e")
     @step
     def start(self):
         self.a = 1
         self.next(self.end)
     ''', "start", "Step `start` has @catch"),
    ('''
     @step
     def start(self):
         self.a = super().x
         self.next(self.end)
     ''', "start", "The body calls `super()`"),
    ('''
     @step
     def start(self):
         self.a = __file__
         self.next(self.end)
     ''', "start", "The body uses `__file__`"),
    ('''
     @step
     def start(self):
         self.a = undefined_name
         self.next(self.end)
     ''', "start", "The body uses `undefined_name`, which the flow file never defines."),
    ('''
     @step
     def start(self):
         global counter
         counter = 1
         self.next(self.end)
     ''', "start", "The body declares `global counter`"),
    ('''
     @step
     def start(self):
         self.__secret = 1
         print(self)
         self.next(self.end)
     ''', "start", "The body needs the flow itself (the body uses `self` itself on line 8) and uses `self.__secret` "
                   "(line 7), a name Python mangles only inside the class"),
    ('''
     @step
     def start(self):
         class Box:
             def size(self):
                 return self.w
         self.x = Box().size()
         self.next(self.end)
     ''', "start", "The body needs the flow itself (a nested class uses `self.w` (line 9)) and binds another `self` "
                   "on line 8; rename that one first."),
])
def test_refusals(steps, step, expected):
    source = flow(steps, header="from metaflow import FlowSpec, Parameter, catch, step\n")
    assert refusal(source, step).startswith(expected)


# Bodies that need the flow object itself (issue 13, categories 1 to 5): they move written against `flow`.
@pytest.mark.parametrize("steps, step, reason", [
    ('''
     @step
     def end(self):
         if self.a:
             return
         self.b = 1
     ''', "end", "the body returns early (line 8)"),
    ('''
     def helper(self):
         return 1

     @step
     def start(self):
         self.b = self.helper()
         self.next(self.end)
     ''', "start", "the body calls the flow's method `self.helper` (line 10)"),
    ('''
     @step
     def start(self):
         self.f = [lambda v: self.w]
         self.next(self.end)
     ''', "start", "the lambda on line 7 reads artifacts and is kept beyond a call"),
    ('''
     @step
     def start(self):
         def inner():
             return self.w
         self.x = [inner]
         self.next(self.end)
     ''', "start", "the nested function `inner` reads artifacts and is used on line 9 other than by calling it"),
    ('''
     @step
     def start(self):
         @staticmethod
         def inner():
             return self.w
         self.x = inner()
         self.next(self.end)
     ''', "start", "the nested function `inner` (line 8) reads artifacts and is decorated"),
    ('''
     @step
     def start(self):
         def inner():
             self.w = 2
         inner()
         self.next(self.end)
     ''', "start", "a nested function assigns `self.w` (line 8)"),
    ('''
     @step
     def start(self):
         total = lambda: self.w + 1
         self.w = 1
         self.x = total()
         self.next(self.end)
     ''', "start", "a lambda or nested function reads `self.w` (line 7) before the body assigns it"),
    ('''
     @step
     def start(self):
         class Box:
             size = 1
             def grow(self_):
                 return self.w
         self.x = Box().grow()
         self.next(self.end)
     ''', "start", "a nested class uses `self.w` (line 10)"),
    ('''
     @step
     def start(self):
         self.x = getattr(self, "w", 1)
         self.next(self.end)
     ''', "start", "the body uses `self` itself on line 7"),
    ('''
     @step
     def start(self):
         setattr(self, "w", 1)
         self.next(self.end)
     ''', "start", "the body uses `self` itself on line 7"),
    ('''
     @step
     def start(self):
         self.x = self.__dict__
         self.next(self.end)
     ''', "start", "the body uses `self.__dict__` (line 7)"),
    ('''
     @step
     def start(self):
         del self.x
         self.next(self.end)
     ''', "start", "the body deletes `self.x` (line 7)"),
    ('''
     @step
     def join(self, inputs):
         self.a = 1
         self.merge_artifacts(inputs)
         self.b = 2
         self.next(self.end)
     ''', "join", "`self.merge_artifacts(...)` on line 8 is in the middle of the body"),
    ('''
     @step
     def start(self):
         self.a = self.train
         self.next(self.end)

     @step
     def train(self):
         self.next(self.end)
     ''', "start", "the body uses the step `self.train` (line 7) outside `self.next`"),
])
def test_bodies_that_need_the_flow_take_it_as_a_parameter(steps, step, reason):
    source = flow(steps, header="from metaflow import FlowSpec, Parameter, catch, step\n")
    result = extract(source, step)
    arguments = "self, inputs" if step == "join" else "self"
    assert f"\n        common.{step}({arguments})\n" in step_text(result.flow_source, step)
    function = function_text(result.common_source, step)
    assert " ".join(function.split()).startswith(
        f'def {step}(flow{", inputs" if step == "join" else ""}): """Body of the `{step}` step of TrainFlow. '
        f"Takes the flow itself as `flow`, because {re.sub(r' [(]line [0-9]+[)]| on line [0-9]+', '', reason)}: it "
        "reads and assigns the artifacts on `flow` as the "
        "step did.")
    assert "self" not in function.split('"""')[2].replace("self_", "")


def test_refusals_about_the_module():
    assert refusal("def broken(:\n", "start") == "The file has a syntax error; fix it before extracting a step."
    assert refusal(LINEAR, "nope") == "There is no step named `nope` in this file."
    star = "from helpers import *\n" + LINEAR.replace("self.score = sum(self.model)", "self.score = total(1)")
    assert refusal(star, "train").startswith("The body uses `total`, which may come from a `from ... import *`")
    mutated = flow('''
        @step
        def start(self):
            self.a = LIMIT
            self.next(self.end)
    ''', extra="LIMIT = 1\nLIMIT = 2\n")
    rebound = mutated.replace("LIMIT = 2\n", "def bump():\n    global LIMIT\n    LIMIT = 2\n")
    assert refusal(rebound, "start").startswith("The body uses `LIMIT`, which the flow file assigns more than once")
    late = flow('''
        @step
        def start(self):
            self.a = Box()
            self.next(self.end)
    ''') + "\n\nclass Box:\n    pass\n"
    assert refusal(late, "start").startswith("The body uses the class `Box` defined in the flow file")
    aliased = flow('''
        @step
        def start(self):
            self.a = h(1)
            self.b = 2
            self.next(self.end)
    ''', extra="from common import helper as h\n")
    assert refusal(aliased, "start").startswith("The body uses `h`, which the flow imports from common.py as")


def test_inherited_step_is_refused():
    source = d('''
        from metaflow import FlowSpec, step


        class Base(FlowSpec):
            @step
            def start(self):
                self.a = 1
                self.next(self.end)


        class Child(Base):
            @step
            def end(self):
                print(self.a)
        ''')
    module = parse_module(source, FLOW)
    child = next(f for f in module.flows if f.name == "Child")
    assert child.steps["start"].owner == "Base"
    # The first flow with the step defines it: Base's start is extractable; the Child-only lookup is not.
    with pytest.raises(ExtractError, match="defined in base class Base"):
        extract_step(source, FLOW, "start", None, flow_name="Child")
    assert extract_step(source, FLOW, "start", None).function_name == "start"


def test_common_module_conflicts():
    source = "import numpy as np\n" + LINEAR.replace("self.score = sum(self.model)", "self.score = np.sum(1)")
    with pytest.raises(ExtractError, match="`np`, which common.py already defines differently"):
        extract(source, "train", "np = None\n")
    same = extract(source, "train", "import numpy as np\n")
    assert same.common_source.count("import numpy as np") == 1
    with pytest.raises(ExtractError, match="common.py does not parse"):
        extract(source, "train", "def (:\n")
    with pytest.raises(ExtractError, match="This file is common.py itself."):
        extract_step(LINEAR, Path("/project/common.py"), "train", None)
    helper_flow = flow('''
        @step
        def start(self):
            self.a = helper()
            self.next(self.end)
    ''', extra="\ndef helper():\n    return 1\n")
    with pytest.raises(ExtractError, match="common.py already has a different `helper`"):
        extract(helper_flow, "start", "def helper():\n    return 2\n")


def test_comments_and_formatting_of_the_body_are_kept():
    source = flow('''
        @step
        def start(self):
            # first
            self.values = [
                1,  # one
                2,
            ]
            if self.values:   # odd spacing kept
                pass  # nothing
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert textwrap.indent(d('''
        # first
        values = [
            1,  # one
            2,
        ]
        if values:   # odd spacing kept
            pass  # nothing
        '''), "    ") in result.common_source


# -- the order of parameters and return values: tests/fixtures/extract/return_order/ --------------------------------

ORDER = Path(__file__).parent / "fixtures" / "extract" / "return_order"
ORDER_STEPS = ("start", "reorder", "branches", "end")  # every step of OrderFlow, in file order


def test_return_order_fixture_extracted_step_by_step():
    """Every step extracted in turn, as an editor would: flow.py and common.py end as the `.extracted.py` files
    (checked by hand: first write order for return values, first read order for parameters)."""
    source, common = (ORDER / "flow.py").read_text(), None
    for name in ORDER_STEPS:
        result = extract_step(source, ORDER / "flow.py", name, common)
        source, common = result.flow_source, result.common_source
    assert source == (ORDER / "flow.extracted.py").read_text()
    assert common == (ORDER / "common.extracted.py").read_text()


@pytest.mark.parametrize("name, call, signature, returned", [
    ("start", "self.zeta, self.alpha, self.mid = common.start()", "def start():", "return zeta, alpha, mid"),
    ("reorder", "self.total, self.zeta, self.beta, self.mid = common.reorder(",
     "def reorder(mid, rate, zeta, alpha):", "return total, zeta, beta, mid"),
    ("branches", "self.verdict, yes, negative, self.checked = common.branches(",
     "def branches(total, zeta, beta, mid):", "return verdict, yes, negative, checked"),
    ("end", "self.summary = common.end(self.verdict, self.checked, self.zeta, self.yes)",
     "def end(verdict, checked, zeta, yes):", "return summary"),
])
def test_return_order_of_each_step(name, call, signature, returned):
    """One step extracted from the original file: the call line and the function agree on the order."""
    result = extract_step((ORDER / "flow.py").read_text(), ORDER / "flow.py", name, None)
    assert f"\n        {call}\n" in step_text(result.flow_source, name)
    function = function_text(result.common_source, name)
    assert function.startswith(signature + "\n")
    assert function.rstrip("\n").endswith(f"\n    {returned}")


@pytest.mark.slow
def test_return_order_fixture_keeps_every_artifact_of_a_real_run(tmp_path):
    """The `.extracted.py` files are not only text: running them gives every task the artifacts the original had."""
    from test_extract_equivalence import _copy, prove

    directory = _copy(ORDER, tmp_path / "return_order")
    prove(directory, "flow.py", "OrderFlow", len(ORDER_STEPS))
    assert (directory / "flow.py").read_text() == (ORDER / "flow.extracted.py").read_text()
    assert (directory / "common.py").read_text() == (ORDER / "common.extracted.py").read_text()


def test_closures_that_only_run_inside_the_step_read_the_functions_locals():
    source = flow('''
        order = Parameter("order", default="ab")
        scale = Parameter("scale", default=2)

        @step
        def start(self):
            self.words = ["b", "a"]
            self.first = sorted(self.words, key=lambda w: self.order.index(w))[0]
            def weight(word):
                return self.scale * len(word)
            self.weights = [weight(w) for w in self.words]
            self.next(self.end)
    ''')
    result = extract(source, "start")
    assert "self.words, self.first, self.weights = common.start(self.order, self.scale)" in result.flow_source
    assert d('''
        def start(order, scale):
            """Body of the `start` step of TrainFlow.

            Reads: order (Parameter), scale (Parameter).
            Returns: words, first, weights.
            """
            words = ["b", "a"]
            first = sorted(words, key=lambda w: order.index(w))[0]
            def weight(word):
                return scale * len(word)
            weights = [weight(w) for w in words]
            return words, first, weights
        ''') == function_text(result.common_source, "start")


def test_names_of_the_flow_file_that_cannot_move_are_passed():
    """A class of the flow file (moving it would change how its objects pickle), a name bound twice and a helper
    that needs `__file__`: each holds its final value when a step runs, so the function takes it as a parameter."""
    source = flow('''
        @step
        def start(self):
            self.box = Box(LIMIT)
            self.where = where()
            self.kind = TrainFlow.__name__
            self.next(self.end)
    ''', extra="LIMIT = 1\nLIMIT = 2\n\n\nclass Box:\n    def __init__(self, size):\n        self.size = size\n\n\n"
               "def where():\n    return __file__\n")
    result = extract(source, "start")
    assert "self.box, self.where, self.kind = common.start(Box, LIMIT, TrainFlow, where)" in result.flow_source
    function = function_text(result.common_source, "start")
    assert function.startswith("def start(Box, LIMIT, TrainFlow, where):\n")
    assert ("Reads: Box (from the flow file), LIMIT (from the flow file), TrainFlow (from the flow file), where "
            "(from the flow file).") in function
    assert "class Box" not in result.common_source and "def where" not in result.common_source


def test_extracting_the_same_step_again_updates_its_function():
    """The flow file reverted (or the body put back) and extracted again: common.py's function for that step is
    updated where it is, not joined by a `train_step`; extracting the same text twice gives the same files."""
    kept = "def keep_me():\n    return 1\n"
    first = extract(LINEAR, "train", kept)
    again = extract(LINEAR, "train", first.common_source)
    assert (again.flow_source, again.common_source) == (first.flow_source, first.common_source)

    changed = LINEAR.replace("self.score = sum(self.model)", "self.score = max(self.model)")
    updated = extract(changed, "train", first.common_source)
    assert updated.function_name == "train" and "def train_step" not in updated.common_source
    assert updated.common_source == first.common_source.replace("score = sum(model)", "score = max(model)")
    assert updated.common_source.startswith(kept)

    # Another step still calls the earlier function: it is left as it is, the new one gets a name of its own.
    shared = first.flow_source.replace("print(self.score)", "print(common.train(self.alpha, self.data))")
    other = extract_step(shared.replace("self.model, self.score = common.train(self.alpha, self.data)",
                                        "self.model = [x * self.alpha for x in self.data]\n"
                                        "        self.score = max(self.model)"), FLOW, "train", first.common_source)
    assert other.function_name == "train_step" and function_text(other.common_source, "train") == \
        function_text(first.common_source, "train")


def test_extracting_again_keeps_a_helper_moved_the_first_time():
    source = flow('''
        @step
        def start(self):
            self.a = helper()
            self.next(self.end)
    ''', extra="\ndef helper():\n    return 1\n")
    first = extract(source, "start")
    again = extract(source, "start", first.common_source)
    assert again.common_source == first.common_source and again.flow_source == first.flow_source


def test_an_artifact_read_only_on_some_paths_and_maybe_unset_is_read_on_the_flow():
    """Passing `self.cached` in would fail on the runs where the body does not read it (it is set in `start` on some
    paths only): the body moves against the flow. Read on every run first, or set on every path, it is passed."""
    source = flow('''
        use_cache = Parameter("use_cache", default=False)

        @step
        def start(self):
            if self.use_cache:
                self.cached = 1
            self.next(self.train)

        @step
        def train(self):
            if self.use_cache:
                self.hits = self.cached + 1
            self.done = True
            self.next(self.end)

        @step
        def end(self):
            print(self.done)
            self.again = self.done
    ''')
    train = extract(source, "train")
    assert "        common.train(self)\n" in step_text(train.flow_source, "train")
    assert ("because `self.cached` may be unset when the step starts (it is not set on every path from `start`), so "
            "the step could not pass it in") in " ".join(function_text(train.common_source, "train").split())
    end = extract(source, "end")
    assert "self.again = common.end(self.done)" in end.flow_source


SELECTION = flow('''
    rate = Parameter("rate", default=2)

    @step
    def start(self):
        """Start."""
        rows = [1, 2, 3]
        scaled = [r * self.rate for r in rows]
        if scaled:
            biggest = max(scaled)
        print(biggest, scaled)
        self.next(self.end)
''')


def lines_of(source: str, first: str, last: str) -> tuple[int, int]:
    lines = source.splitlines()
    return lines.index(first), lines.index(last)


def test_extract_selection_passes_and_returns_the_steps_locals():
    result = extract_step(SELECTION, FLOW, "start", None,
                          lines=lines_of(SELECTION, "        rows = [1, 2, 3]", "        rows = [1, 2, 3]"))
    assert "        rows = common.start_part()\n        scaled = [r * self.rate" in result.flow_source
    result = extract_step(SELECTION, FLOW, "start", None, lines=lines_of(
        SELECTION, "        scaled = [r * self.rate for r in rows]", "        scaled = [r * self.rate for r in rows]"))
    assert "        scaled = common.start_part(self.rate, rows)\n" in result.flow_source
    assert function_text(result.common_source, "start_part").startswith(
        'def start_part(rate, rows):\n    """Statements of the `start` step of TrainFlow.\n\n'
        "    Reads: rate (Parameter), rows (a local of the step).\n    Returns: scaled (a local of the step).\n")


def test_extract_selection_refusals():
    def refused(first: str, last: str) -> str:
        lines = lines_of(SELECTION, first, last)
        reason = can_extract(parse_module(SELECTION, FLOW), "start", lines)
        with pytest.raises(ExtractError) as error:
            extract_step(SELECTION, FLOW, "start", None, lines=lines)
        assert error.value.message == reason
        return reason

    assert refused("        if scaled:", "        if scaled:") == (
        "The selection holds part of the statement on line 12; select whole statements.")
    assert refused("        if scaled:", "            biggest = max(scaled)") == (
        "The selection sets `biggest` on some paths only and the step reads it after the selection; select up to "
        "where it is read, or set it before the selection.")
    assert refused('        """Start."""', '        """Start."""') == (
        "Select whole statements of the body of `start` (not its docstring or its final `self.next`).")


def test_extract_selection_that_needs_the_flow():
    source = flow('''
        def helper(self, n):
            self.seen = n
            return n + 1

        @step
        def start(self):
            rows = [1, 2, 3]
            value = self.helper(len(rows))
            doubled = value * 2
            self.result = doubled
            self.next(self.end)
    ''')
    result = extract_step(source, FLOW, "start", None, lines=lines_of(
        source, "        value = self.helper(len(rows))", "        doubled = value * 2"))
    assert "        rows = [1, 2, 3]\n        doubled = common.start_part(self, rows)\n" in result.flow_source
    function = function_text(result.common_source, "start_part")
    assert function.startswith("def start_part(flow, rows):\n")
    assert function.endswith("    value = flow.helper(len(rows))\n    doubled = value * 2\n    return doubled\n")


EARLY_TRANSITION = flow('''
    @step
    def start(self):
        """Start."""
        rows = [1, 2, 3]
        self.total = sum(rows)
        if self.total > 100:
            self.big = True
        if self.total > 5:
            self.next(self.end)
            return
        self.rest = rows
        self.next(self.end)
''')


def test_step_with_a_conditional_transition_extracts_the_part_before_it():
    """Issue 13, category 4: the statements before the `if` holding `self.next` and `return` move (a local read
    after them is returned, an artifact set on some paths goes through UNSET); the transition stays in the step."""
    assert can_extract(parse_module(EARLY_TRANSITION, FLOW), "start") is None
    result = extract(EARLY_TRANSITION, "start")
    assert result.before_transition == 13 and result.function_name == "start_part"
    assert ('        """Start."""\n        self.total, big, rows = common.start_part()\n'
            "        if big is not common.UNSET:\n            self.big = big\n"
            "        if self.total > 5:\n            self.next(self.end)\n            return\n"
            "        self.rest = rows\n        self.next(self.end)\n") in result.flow_source
    function = function_text(result.common_source, "start_part")
    assert function.startswith('def start_part():\n    """The part of the `start` step of TrainFlow before its '
                               "conditional transition.\n")
    assert "Returns: total, big, rows (a local of the step)." in function
    assert "next" not in function and "return total, big, rows\n" in function
    plan = extract_plan(EARLY_TRANSITION, FLOW, "start", lambda path: None)
    assert plan.title == "Extract the part of step `start` before its transition (line 13) to common.py"
    again = result.flow_source
    assert refusal(again, "start") == ("The part of step `start` before its transition already only calls a "
                                       "function of common.py.")


def test_part_before_a_transition_that_cannot_move_is_refused_with_the_reason():
    source = flow('''
        @step
        def start(self):
            self.value = super().value
            if self.value:
                self.next(self.end)
                return
            self.next(self.end)
    ''')
    assert refusal(source, "start") == "The body calls `super()`, which only works inside the class."
    selected = flow('''
        @step
        def start(self):
            rows = [1]
            if rows:
                self.next(self.end)
                return
            self.next(self.end)
    ''')
    lines = lines_of(selected, "        rows = [1]", "            return")
    assert can_extract(parse_module(selected, FLOW), "start", lines) == (
        "The selection holds the conditional transition or `return` on line 9; select statements before it.")


def test_titles_say_only_the_part_before_the_transition_moves():
    """MF201's quick fix and the refactor action name the line of the transition Extract stops before."""
    found = check_source(EARLY_TRANSITION, FLOW, Settings(select=("MF201",), max_step_statements=3)).findings
    assert [f.data.get("transition") for f in found] == [13]
    assert fix_for("MF201").title_of(found[0], FixContext(FLOW)) == (
        "Extract the part of step `start` before its transition (line 13) to common.py")
    plain = flow('''
        @step
        def start(self):
            a = 1
            b = a + 1
            c = b + 1
            self.d = c + 1
            self.next(self.end)
    ''')
    found = check_source(plain, FLOW, Settings(select=("MF201",), max_step_statements=3)).findings
    assert fix_for("MF201").title_of(found[0], FixContext(FLOW)) == "Extract body of step `start` to common.py"
