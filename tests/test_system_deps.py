"""scripts/system-deps.sh, the first thing `make test` and `.ci/run` do: what it finds missing and what it does then.

Each test runs the script with a PATH of its own: links to this machine's commands, minus the ones a test takes
away, plus a fake `id` (root or not) and a fake `apt-get` that only records its arguments, so no test can install
anything. The real `apt-get` is never on that PATH.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "system-deps.sh"
INSTALL = "install -y -qq -o DPkg::Lock::Timeout=300"  # how the script calls apt-get install, before the packages


class FakeSystem:
    """A bin folder standing in for PATH, with a recording apt-get that "installs" the commands it is told about."""

    def __init__(self, root: Path, *, without: tuple[str, ...] = (), uid: int = 0,
                 provides: dict[str, str] | None = None) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "apt-get.log"
        for folder in os.environ["PATH"].split(os.pathsep):
            if not os.path.isdir(folder):
                continue
            for entry in Path(folder).iterdir():
                link = self.bin / entry.name
                if entry.name in without or entry.name in {"apt-get", "id"} or os.path.lexists(link):
                    continue
                if entry.is_file() and os.access(entry, os.X_OK):
                    link.symlink_to(entry)
        self._script("id", f"echo {uid}")
        creates = "".join(f'    {package}) printf "#!/bin/sh\\n" > "{self.bin}/{command}"; '
                          f'chmod +x "{self.bin}/{command}" ;;\n'
                          for package, command in (provides or {}).items())
        self._script("apt-get", f'echo "$*" >> "{self.log}"\n'
                                f'[ "$1" = install ] || exit 0\n'
                                f'for package in "$@"; do\n  case "$package" in\n{creates}  esac\ndone')

    def _script(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        path.chmod(0o755)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
                              env={"PATH": str(self.bin), "LANG": "C.UTF-8"})

    def apt_calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []


def test_everything_present_is_quick_and_leaves_apt_alone(tmp_path):
    """The common case, every `make test` after the first: exit 0 at once, no apt-get call, nothing printed."""
    system = FakeSystem(tmp_path, uid=0)  # as root: anything missing would go to apt-get
    started = time.monotonic()
    result = system.run()
    elapsed = time.monotonic() - started
    assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), result.stderr
    assert system.apt_calls() == []
    assert elapsed < 5, f"took {elapsed:.1f}s"


@pytest.mark.parametrize(("commands", "packages"), [
    (("chromium",), ["chromium"]),
    (("npm",), ["npm"]),  # a Node.js from elsewhere is kept: only the missing command's package is asked for
    (("node", "npm"), ["nodejs", "npm"]),
    (("rg", "javac"), ["ripgrep", "openjdk-17-jdk-headless"]),
    (("nvim", "emacs"), ["neovim", "emacs-nox"]),
])
def test_check_lists_the_packages_of_missing_commands(tmp_path, commands, packages):
    system = FakeSystem(tmp_path, without=commands, uid=0)
    result = system.run("--check")
    assert (result.returncode, result.stdout.splitlines()) == (1, packages), result.stderr
    assert system.apt_calls() == []  # --check never installs, even as root


def test_without_root_it_prints_the_apt_command_and_fails(tmp_path):
    system = FakeSystem(tmp_path, without=("chromium", "g++"), uid=1000)
    result = system.run()
    assert result.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y chromium g++" in result.stderr
    assert system.apt_calls() == []


def test_as_root_it_updates_once_installs_the_missing_and_then_has_nothing_to_do(tmp_path):
    system = FakeSystem(tmp_path, without=("chromium", "rg"), uid=0, provides={"chromium": "chromium", "ripgrep": "rg"})
    first = system.run()
    assert first.returncode == 0, first.stderr
    assert system.apt_calls() == ["update -qq", f"{INSTALL} chromium ripgrep"]
    again = system.run()
    assert (again.returncode, again.stderr) == (0, "")
    assert system.apt_calls() == ["update -qq", f"{INSTALL} chromium ripgrep"]  # no second apt-get call


def test_as_root_a_package_that_does_not_provide_the_command_is_an_error(tmp_path):
    """apt-get succeeding is not enough: what was looked for must be there afterwards."""
    system = FakeSystem(tmp_path, without=("npm",), uid=0)  # this apt-get "installs" npm without an npm command
    result = system.run()
    assert result.returncode == 1
    assert "still missing after apt-get install: npm" in result.stderr
    assert system.apt_calls() == ["update -qq", f"{INSTALL} npm"]


def test_an_unknown_option_is_a_usage_error(tmp_path):
    result = FakeSystem(tmp_path).run("--install-everything")
    assert result.returncode == 2 and "usage:" in result.stderr
