"""The package as users get it: `python -m build` makes an sdist and, from that sdist alone, a wheel; each installed
with `pip install <file>` into a clean venv gives a working `metaflow-lsp` CLI and language server.

Everything runs from a folder outside the repository, with the venv's own interpreter, so nothing can come from
`server/` or the development venv.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import make_test_lsp_client

from conftest import ROOT
from metaflow_lsp import __version__
from metaflow_lsp.rules import RULES
from test_lsp_session import TIMEOUT, capabilities, open_document, pull, stop, write

pytestmark = pytest.mark.slow  # two builds and two venvs filled from the package index: about a minute

# A flow with one certain finding: MF011, `self.next` to a step that does not exist.
FLOW = '''\
from metaflow import FlowSpec, step


class TinyFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.nowhere)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TinyFlow()
'''
FINDING = "flows/tiny.py:7:19: MF011 "  # what `check` prints first on that line (1-based line and column)


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that would let the development checkout leak in."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """`python -m build` as a release does it: the sdist first, then the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, env=clean_env(), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [wheel] = out.glob("metaflow_lsp-*.whl")
    [sdist] = out.glob("metaflow_lsp-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_wheel_holds_the_package_its_rule_pages_and_metadata(dist):
    wheel = dist["wheel"]
    assert wheel.name == f"metaflow_lsp-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"metaflow_lsp-{__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        pages = {name for name in names if name.startswith("metaflow_lsp/docs/")}
        # The pages are files in the wheel, with the repository's text (not links back into a checkout).
        for code in RULES:
            name = f"metaflow_lsp/docs/rules/{code}.md"
            assert archive.read(name).decode() == (ROOT / "docs" / "rules" / f"{code}.md").read_text(encoding="utf-8")
    assert pages == {f"metaflow_lsp/docs/rules/{code}.md" for code in RULES}  # rule pages only, not docs/dev
    assert {"metaflow_lsp/__main__.py", "metaflow_lsp/lsp/server.py", "metaflow_lsp/refactor/extract.py"} <= names
    # `metaflow-lsp init`'s templates, every one of them (the scaffold's files are checked in test_scaffold.py)
    templates = ROOT / "server" / "metaflow_lsp" / "scaffold" / "templates"
    assert {f"metaflow_lsp/scaffold/templates/{path.relative_to(templates).as_posix()}"
            for path in templates.rglob("*.template")} <= names
    assert not any(name.startswith(("tests/", "server/", "docs/")) for name in names)
    assert "metaflow-lsp = metaflow_lsp._bootstrap:console" in entry_points
    headers, _, description = metadata.partition("\n\n")
    assert f"Version: {__version__}" in headers
    assert "License-Expression: Apache-2.0" in headers
    assert "Requires-Python: >=3.10" in headers
    assert "Description-Content-Type: text/markdown" in headers
    assert {"Requires-Dist: pygls<3,>=2.0", "Requires-Dist: libcst<2,>=1.4"} <= set(headers.splitlines())
    assert description.strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()


def test_sdist_holds_the_rule_pages_as_files_and_no_tests(dist):
    import tarfile

    with tarfile.open(dist["sdist"]) as archive:
        members = {member.name.split("/", 1)[1]: member for member in archive.getmembers() if "/" in member.name}
    pages = [member for name, member in members.items() if name.startswith("server/metaflow_lsp/docs/rules/")]
    assert len(pages) == len(RULES) and all(member.isfile() for member in pages)
    assert {"README.md", "pyproject.toml", "PKG-INFO"} <= set(members)
    assert not any(name.startswith("tests/") for name in members)


@pytest.fixture(params=["wheel", "sdist"])
def installed(request, dist, tmp_path) -> Path:
    """A fresh venv with only the built file installed (its dependencies from the index); returns its bin folder."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(dist[request.param])],
                            cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bin_dir


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "metaflow-lsp"), *args], cwd=cwd, capture_output=True, text=True,
                          env=clean_env(), timeout=60)


def test_installed_cli(installed, tmp_path):
    work = tmp_path / "project"
    write(work, "flows/tiny.py", FLOW)

    located = subprocess.run([str(installed / "python"), "-c", "import metaflow_lsp; print(metaflow_lsp.__file__)"],
                             cwd=work, capture_output=True, text=True, env=clean_env())
    assert Path(located.stdout.strip()).is_relative_to(installed.parent), located  # the venv's copy, not server/

    version = run(installed, "--version", cwd=work)
    assert (version.returncode, version.stdout.strip()) == (0, f"metaflow-lsp {__version__}")

    rules = run(installed, "rules", cwd=work)
    assert rules.returncode == 0, rules.stderr
    assert [line.split()[0] for line in rules.stdout.splitlines()] == list(RULES)

    explain = run(installed, "explain", "MF201", cwd=work)
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.strip() == (ROOT / "docs" / "rules" / "MF201.md").read_text(encoding="utf-8").strip()

    check = run(installed, "check", "flows/", cwd=work)
    assert check.returncode == 1, check.stderr
    assert [line for line in check.stdout.splitlines() if line.startswith(FINDING)], check.stdout

    init = run(installed, "init", "new-project", cwd=tmp_path)  # the templates come from the installed package
    assert init.returncode == 0, init.stderr
    assert "wrote flows/train.py" in init.stdout.splitlines()
    clean = run(installed, "check", "new-project", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stdout + clean.stderr


async def test_installed_server_reports_a_diagnostic(installed, tmp_path):
    """`python -m metaflow_lsp` from the venv, as editors start it: initialize, open a flow, pull its diagnostics."""
    work = tmp_path / "project"
    path = write(work, "flows/tiny.py", FLOW)
    client = make_test_lsp_client()
    await client.start_io(str(installed / "python"), "-m", "metaflow_lsp", env=clean_env(), cwd=str(tmp_path))
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=work.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=work.as_uri(), name=work.name)])), TIMEOUT)
        assert (result.server_info.name, result.server_info.version) == ("metaflow-lsp", __version__)
        report = await pull(client, open_document(client, path))
        [diagnostic] = [item for item in report.items if item.code == "MF011"]
        assert diagnostic.range.start == types.Position(line=6, character=18)
        # The code links to the rule page installed with the package.
        page = Path(diagnostic.code_description.href.removeprefix("file://"))
        assert page.is_relative_to(installed.parent) and page.name == "MF011.md" and page.is_file()
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)
