"""MF301-MF304 beyond the fixtures: the spec parsers, and the cases where the rules must stay silent."""

from __future__ import annotations

import pytest

from conftest import check_text
from metaflow_lsp.rules.pinning import branch_like, requirement_problem, vcs_reference, version_problem


def codes(source: str, code: str) -> list[tuple[int, str]]:
    return [(f.span.line + 1, f.code) for f in check_text(source, select=(code,))]


@pytest.mark.parametrize("version, problem", [
    ("", "empty"), ("  ", "empty"), (">=2.0", "range"), ("<2", "range"), ("!=1.0", "range"), ("~=1.3", "range"),
    ("1.*", "range"), ("1.0,<2", "range"), ("latest", "range"), ("LATEST", "range"), ("1.2|1.3", "range"),
    ("2.1.0", None), ("13.2.0=h807b86a_5", None), ("@git+https://github.com/o/r.git", None),
])
def test_version_problem(version, problem):
    assert version_problem(version) == problem


@pytest.mark.parametrize("spec, problem", [
    ("pandas", "unpinned"), ("pandas[sql]", "unpinned"), ("pandas>=2", "range"), ("pandas >= 2, <3", "range"),
    ("pandas==2.*", "range"), ("numpy~=1.2", "range"), ("git+https://github.com/o/r.git", "vcs"),
    ("git+ssh://git@github.com/o/r.git", "vcs"), ("r @ git+https://github.com/o/r", "vcs"),
    ("pandas==2.1.0", None), ("pandas===2.1.0", None), ("pandas[sql]==2.0; python_version<'3.9'", None),
    ("git+https://github.com/o/r.git@v1.2", None), ("git+ssh://git@github.com/o/r.git@main", None),
    ("https://example.com/x-1.0-py3-none-any.whl", None), ("./libs/mine", None), ("-r", None),
    ("requirements.txt", None), ("dist/x-1.0.tar.gz", None), ("", None),
])
def test_requirement_problem(spec, problem):
    assert requirement_problem(spec) == problem


def test_vcs_reference_forms():
    assert vcs_reference("git+https://github.com/o/r.git@v1#egg=r").ref == "v1"
    assert vcs_reference("git+ssh://git@github.com/o/r.git").ref is None  # user@ of the host is no ref
    assert vcs_reference("@git+https://github.com/o/r.git@main").ref == "main"
    assert vcs_reference("r @ git+https://github.com/o/r.git@dev ; python_version>'3'").ref == "dev"
    assert vcs_reference("https://github.com/o/r/archive/v1.zip") is None
    assert vcs_reference("pandas==2.0") is None


@pytest.mark.parametrize("ref, branch", [
    ("main", True), ("master", True), ("HEAD", True), ("Develop", True), ("dev", True), ("trunk", True),
    ("feature/x", True), ("refs/heads/release", True),
    ("v1.2.3", False), ("1.2", False), ("release-1.0", False), ("3f2a9c1", False), ("a" * 40, False),
    ("stable-api", False), ("devtools-1.0", False), ("", False),
])
def test_branch_like(ref, branch):
    assert branch_like(ref) is branch


FLOW = """
from metaflow import FlowSpec, pypi, pypi_base, step

{decorator}
class F(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_mf301_empty_version_is_reported_on_the_key_with_data():
    findings = check_text(FLOW.format(decorator='@pypi_base(python="3.11", packages={"pandas": ""})'),
                          select=("MF301",))
    assert len(findings) == 1
    finding = findings[0]
    source_line = FLOW.format(decorator='@pypi_base(python="3.11", packages={"pandas": ""})').splitlines()[3]
    assert source_line[finding.span.col:finding.span.end_col] == '"pandas"'
    assert finding.data == {"package": "pandas", "decorator": "pypi_base", "spec": "", "kind": "empty"}


def test_mf301_range_is_reported_on_the_value():
    decorator = '@pypi_base(python="3.11", packages={"pandas": ">=2"})'
    findings = check_text(FLOW.format(decorator=decorator), select=("MF301",))
    assert [decorator[f.span.col:f.span.end_col] for f in findings] == ['">=2"']
    assert findings[0].data["kind"] == "range"


@pytest.mark.parametrize("decorator", [
    '@pypi_base(python="3.11", packages=PACKAGES)',
    '@pypi_base(python="3.11", packages={"pandas": VERSION})',
    '@pypi_base(python="3.11", packages={**BASE, "pandas": "2.1.0"})',
    '@pypi_base(python="3.11", packages={"pandas": f"{V}"})',
    '@pypi_base(python="3.11", packages=[">=2"])',  # not a dict: Metaflow's own error, not ours
])
def test_mf301_silent_on_computed_packages(decorator):
    assert codes(FLOW.format(decorator=decorator), "MF301") == []


def test_mf301_conda_libraries_and_pypi_ignores_libraries():
    source = FLOW.format(decorator='@conda_base(python="3.11", libraries={"numpy": ">=1"})')
    assert codes(source, "MF301") == [(4, "MF301")]
    source = FLOW.format(decorator='@pypi_base(python="3.11", libraries={"numpy": ">=1"})')
    assert codes(source, "MF301") == []


def test_mf301_each_decorator_once_even_with_same_file_base():
    source = """
    from metaflow import FlowSpec, pypi_base, step

    @pypi_base(python="3.11", packages={"pandas": ""})
    class Base(FlowSpec):
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass

    class Child(Base):
        pass
    """
    assert codes(source, "MF301") == [(4, "MF301")]


def test_mf302_call_forms():
    source = """
    import helpers
    from metaflow import FlowSpec, step

    helpers.install_dependencies(packages=["pandas"])
    install_dependencies("numpy", "scipy==1.11.0")
    install_dependencies(specs)
    install_dependencies([name for name in NAMES])
    other(["pandas"])
    """
    assert codes(source, "MF302") == [(5, "MF302"), (6, "MF302")]


def test_mf303_computed_python_is_silent_and_decorator_is_the_range():
    assert codes(FLOW.format(decorator="@pypi_base(python=config.python)"), "MF303") == []
    assert codes(FLOW.format(decorator="@pypi_base(disabled=flag)"), "MF303") == []
    findings = check_text(FLOW.format(decorator="@pypi_base(packages={})"), select=("MF303",))
    assert [(f.span.line, f.span.col, f.span.end_col) for f in findings] == [(3, 1, len("@pypi_base(packages={})"))]


def test_mf304_not_for_conda_plain_versions_or_unknown_refs():
    decorator = '@pypi_base(python="3.11", packages={"a": "1.0", "b": "@git+https://h/o/b.git@stable"})'
    assert codes(FLOW.format(decorator=decorator), "MF304") == []
    decorator = '@pypi_base(python="3.11", packages={"b": "@git+https://h/o/b.git@master"})'
    findings = check_text(FLOW.format(decorator=decorator), select=("MF304",))
    assert len(findings) == 1 and findings[0].data["ref"] == "master"


def test_mf304_branch_in_the_value_joined_to_a_url_key():
    """`{"pkg @ git+https://...git": "@main"}`: Metaflow hands pip `pkg @ git+https://...git@main`."""
    decorator = '@pypi_base(python="3.11", packages={"tools @ git+https://h/o/tools.git": "@main"})'
    findings = check_text(FLOW.format(decorator=decorator), select=("MF304",))
    assert [decorator[f.span.col:f.span.end_col] for f in findings] == ['"@main"']
    assert findings[0].data == {"spec": "tools @ git+https://h/o/tools.git@main", "ref": "main",
                                "url": "git+https://h/o/tools.git@main"}
    assert findings[0].message == ("`git+https://h/o/tools.git@main` follows the branch `main`: every run may "
                                   "install a different commit; use a tag or a commit sha.")


def test_mf301_url_key_without_ref_is_a_git_url_without_a_tag():
    decorator = '@pypi_base(python="3.11", packages={"tools @ git+https://h/o/tools.git": ""})'
    (finding,) = check_text(FLOW.format(decorator=decorator), select=("MF301",))
    assert finding.data["kind"] == "vcs"
    assert "without a tag or commit" in finding.message
    tagged = '@pypi_base(python="3.11", packages={"tools @ git+https://h/o/tools.git": "@v1.0"})'
    assert codes(FLOW.format(decorator=tagged), "MF301") == []


def test_mf302_helper_called_through_a_module_or_an_alias():
    source = """
    import common as c
    from helpers import install_dependencies as deps
    from metaflow import FlowSpec, step

    c.install_dependencies({"pandas": "", "numpy": "1.26.4"})
    deps(["polars"])
    deps(["polars==1.0.0"])
    """
    findings = check_text(source, select=("MF302",))
    assert [(f.span.line + 1, f.data["spec"]) for f in findings] == [(6, ""), (7, "polars")]
    assert findings[1].message == ("`install_dependencies` installs `polars` with no version: each run may get a "
                                   "different one; pin it with `==`.")


def test_long_specs_are_shortened_in_messages():
    spec = "git+https://github.com/an-organisation/a-repository-with-a-long-name.git"
    (finding,) = check_text(f'install_dependencies(["{spec}"])', select=("MF302",))
    assert len(finding.message) < 160 and "…" in finding.message
    assert finding.data["spec"] == spec
