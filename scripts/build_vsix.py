"""`make vsix`: one self-contained .vsix per VS Code target, the server and its dependencies inside.

The bundle is made from the project's own wheel (built here with `python -m build`, or given with `--wheel`: the
release workflow passes the one it built and tested) and what pip resolves for it:

    vscode-extension/bundled/libs/          pure-Python wheels every supported Python shares (metaflow_lsp, pygls, ...)
    vscode-extension/bundled/native/cp3XX/  wheels of one CPython version (libcst, PyYAML) or that differ by version
    vscode-extension/bundled/debugger/      debugpy (pure Python), for the extension's own debug type

The extension puts `native/cp3XX` (the interpreter's version) and `libs` on the server's PYTHONPATH
(vscode-extension/src/serverLaunch.ts); nothing is installed into the user's interpreter. Wheels are fetched with
`pip download --only-binary :all: --platform ... --python-version ...` (one project at a time, the dependencies'
markers evaluated for the target: `resolve`), so any machine can build every target.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "vscode-extension"
BUNDLED = EXTENSION / "bundled"
STAGING = ROOT / "build" / "vsix"
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
# VS Code's target names and the wheel platform tags pip may pick for them (pip also accepts the older tags each one
# implies). Linux: glibc 2.28, what VS Code itself needs since 1.86; macOS: the oldest its wheels are built for.
PLATFORMS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "linux-arm64": ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
    "darwin-x64": ["macosx_10_13_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
}
# The environment markers of each target (PEP 508), for the dependencies' conditions.
MARKERS = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-arm64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "darwin-x64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64"},
    "darwin-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "win32-x64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
}
DEBUGGER = "debugpy>=1.8,<2"


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run(command, check=True, **kwargs)


def build_wheel() -> Path:
    out = STAGING / "wheel"
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)])
    [wheel] = out.glob("metaflow_lsp-*.whl")
    return wheel


def download(requirement: str, dest: Path, *, platforms: list[str], python_version: str) -> Path:
    """The newest wheel of one project matching `requirement`, for that platform and Python; no dependencies."""
    before = set(dest.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--dest", str(dest), "--only-binary", ":all:", "--python-version", python_version]
    for platform in platforms:
        command += ["--platform", platform]
    run(command + ["--implementation", "cp" if platforms != ["any"] else "py", requirement])
    name = canonicalize_name(Requirement(requirement).name)
    [wheel] = [path for path in set(dest.glob("*.whl")) - before if parse_wheel_filename(path.name)[0] == name]
    return wheel


def requirements(wheel: Path, environment: dict[str, str], extras: set[str]) -> list[Requirement]:
    """The wheel's Requires-Dist that apply in `environment` (with the extras asked of it)."""
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode("utf-8"))
    wanted = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras | {""}):
            wanted.append(requirement)
    return wanted


def resolve(wheel: Path, dest: Path, target: str, python_version: str) -> None:
    """Fills `dest` with `wheel` and the wheels of its dependencies for `target` and `python_version`.

    Walked here rather than by `pip download`'s resolver: pip evaluates the dependencies' markers
    (`python_version < "3.11"`) for the interpreter it runs on, whatever `--python-version` says."""
    environment = {**default_environment(), **MARKERS[target], "python_version": python_version,
                   "python_full_version": f"{python_version}.0", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython"}
    dest.mkdir(parents=True)
    shutil.copy(wheel, dest)
    specifiers: dict[str, set[str]] = defaultdict(set)
    extras: dict[str, set[str]] = defaultdict(set)
    fetched: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    def add(requirements_of: list[Requirement]) -> None:
        for requirement in requirements_of:
            name = canonicalize_name(requirement.name)
            specifiers[name].add(str(requirement.specifier))
            extras[name] |= set(requirement.extras)

    add(requirements(wheel, environment, set()))
    while pending := [name for name in specifiers if fetched.get(name) != (frozenset(specifiers[name]),
                                                                          frozenset(extras[name]))]:
        for name in pending:
            for old in dest.glob("*.whl"):  # a tighter specifier arrived: fetch that project again
                if parse_wheel_filename(old.name)[0] == name:
                    old.unlink()
            fetched[name] = (frozenset(specifiers[name]), frozenset(extras[name]))
            combined = ",".join(sorted(s for s in specifiers[name] if s))
            found = download(f"{name}{combined}", dest, platforms=PLATFORMS[target], python_version=python_version)
            add(requirements(found, environment, extras[name]))


def unpack(wheel: Path, into: Path) -> None:
    """What `pip install --target` would put there: the wheel's files, `*.data/purelib|platlib` moved to the top;
    scripts and headers are left out (the extension runs `python -m`)."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = member.filename.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            if member.is_dir() or not parts[-1]:
                continue
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)


def stage(target: str, wheel: Path) -> dict[str, list[str]]:
    """Fills BUNDLED for `target`; returns which wheels went where."""
    downloads = STAGING / "downloads" / target
    shutil.rmtree(downloads, ignore_errors=True)  # pip keeps a file it finds there, even an older build of ours
    per_version: dict[str, set[str]] = {}
    for version in PYTHON_VERSIONS:
        dest = downloads / f"cp{version.replace('.', '')}"
        resolve(wheel, dest, target, version)
        per_version[version] = {path.name for path in dest.glob("*.whl")}
    # Shared: a pure-Python wheel every version resolved to the same file. The rest lives per version.
    shared = {name for name in set.intersection(*per_version.values()) if name.endswith("-none-any.whl")}
    shutil.rmtree(BUNDLED, ignore_errors=True)
    layout: dict[str, list[str]] = defaultdict(list)
    for name in sorted(shared):
        unpack(downloads / f"cp{PYTHON_VERSIONS[0].replace('.', '')}" / name, BUNDLED / "libs")
        layout["libs"].append(name)
    for version, names in per_version.items():
        folder = f"cp{version.replace('.', '')}"
        for name in sorted(names - shared):
            unpack(downloads / folder / name, BUNDLED / "native" / folder)
            layout[f"native/{folder}"].append(name)
    debugger = STAGING / "downloads" / "debugger"
    shutil.rmtree(debugger, ignore_errors=True)
    debugger.mkdir(parents=True)
    debugpy = download(DEBUGGER, debugger, platforms=["any"], python_version=PYTHON_VERSIONS[0])
    unpack(debugpy, BUNDLED / "debugger")
    layout["debugger"].append(debugpy.name)
    (BUNDLED / "layout.json").write_text(json.dumps({"target": target, "wheels": layout}, indent=2) + "\n")
    return layout


def package(target: str, out: Path) -> Path:
    version = json.loads((EXTENSION / "package.json").read_text())["version"]
    vsix = out / f"metaflow-lsp-{target}-{version}.vsix"
    # --no-dependencies: esbuild put vscode-languageclient into out/extension.js (vscode:prepublish).
    run(["npx", "--no-install", "vsce", "package", "--no-dependencies", "--target", target,
         "--allow-missing-repository", "--skip-license", "--out", str(vsix)], cwd=EXTENSION)
    return vsix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help="the project's wheel (default: build it with python -m build)")
    parser.add_argument("--target", action="append", choices=sorted(PLATFORMS), help="repeatable; default: all")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    wheel = args.wheel.resolve() if args.wheel else build_wheel()
    extension_version = json.loads((EXTENSION / "package.json").read_text())["version"]
    if str(parse_wheel_filename(wheel.name)[1]) != extension_version:
        parser.error(f"{wheel.name} is not version {extension_version} of vscode-extension/package.json")
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = []
    try:
        for target in args.target or list(PLATFORMS):
            stage(target, wheel)
            vsix = package(target, args.out.resolve())
            sizes.append(f"{vsix.name}: {vsix.stat().st_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(BUNDLED, ignore_errors=True)  # never left behind for a development build to pick up
    print("\n".join(sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
