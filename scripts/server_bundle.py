"""The server bundle: the project's wheel and its dependencies, unpacked, for an editor to run with the user's own
interpreter (nothing installed into it). One source for both editors' packages:

    make vsix            (scripts/build_vsix.py)  one target per .vsix:   <out>/libs, <out>/native/cp3XX
    make pycharm-bundle  (this script)            every target, one zip:  <out>/libs, <out>/native/<target>/cp3XX

`libs` holds the pure-Python wheels every target and supported Python resolved to the same file (metaflow_lsp,
pygls, ...); `native/...` the wheels of one CPython version on one platform (libcst, PyYAML) or that differ by
version. The editor puts the native folder of the interpreter's version (and platform) first on the server's
PYTHONPATH, then `libs`, and runs `python -m metaflow_lsp`. `layout.json` at the top lists which wheels went where.

Wheels are fetched with `pip download --only-binary :all: --platform ... --python-version ...` (one project at a
time, the dependencies' markers evaluated for the target: `resolve`), so any machine can build every target.

    python scripts/server_bundle.py --out build/pycharm-bundle [--target linux-x64 ...] [--wheel dist/x.whl]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from collections.abc import Callable
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
# Target names (VS Code's, reused for the PyCharm bundle's folders) and the wheel platform tags pip may pick for them
# (pip also accepts the older tags each one implies). Linux: glibc 2.28, what VS Code itself needs since 1.86;
# macOS: the oldest its wheels are built for.
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
PYCHARM_BUNDLE = ROOT / "build" / "pycharm-bundle"  # what pycharm-plugin/build.gradle.kts packs as server/


def version_folder(version: str) -> str:
    return f"cp{version.replace('.', '')}"


def one_target_layout(target: str, version: str) -> str:
    """The .vsix's native folder: the package is for one target already."""
    return f"native/{version_folder(version)}"


def every_target_layout(target: str, version: str) -> str:
    """The PyCharm plugin's native folder: one zip for every platform (the Marketplace has no per-OS plugins)."""
    return f"native/{target}/{version_folder(version)}"


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(map(str, command)), flush=True)
    subprocess.run(command, check=True, **kwargs)


def build_wheel(staging: Path) -> Path:
    out = staging / "wheel"
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
    scripts and headers are left out (editors run `python -m`)."""
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


def stage(wheel: Path, out: Path, targets: list[str], native_folder: Callable[[str, str], str],
          downloads: Path) -> dict[str, list[str]]:
    """Replaces `out` with the bundle of `wheel` for `targets` (every supported Python of each); returns which
    wheels went where, as written to `out/layout.json`."""
    per_folder: dict[str, set[str]] = {}  # native folder -> the wheels its target and Python resolved to
    sources: dict[str, Path] = {}  # native folder -> the download folder those wheels are in
    for target in targets:
        for version in PYTHON_VERSIONS:
            dest = downloads / target / version_folder(version)
            shutil.rmtree(dest, ignore_errors=True)  # pip keeps a file it finds there, even an older build of ours
            resolve(wheel, dest, target, version)
            folder = native_folder(target, version)
            per_folder[folder] = {path.name for path in dest.glob("*.whl")}
            sources[folder] = dest
    # Shared: a pure-Python wheel every target and version resolved to the same file. The rest lives per folder.
    shared = {name for name in set.intersection(*per_folder.values()) if name.endswith("-none-any.whl")}
    shutil.rmtree(out, ignore_errors=True)
    layout: dict[str, list[str]] = defaultdict(list)
    first = next(iter(sources.values()))
    for name in sorted(shared):
        unpack(first / name, out / "libs")
        layout["libs"].append(name)
    for folder, names in per_folder.items():
        for name in sorted(names - shared):
            unpack(sources[folder] / name, out / folder)
            layout[folder].append(name)
    write_layout(out, targets, layout)
    return layout


def write_layout(out: Path, targets: list[str], layout: dict[str, list[str]]) -> None:
    (out / "layout.json").write_text(json.dumps({"targets": targets, "pythons": list(PYTHON_VERSIONS),
                                                 "wheels": layout}, indent=2) + "\n")


def check_version(wheel: Path, expected: str, source: str) -> str | None:
    """A message when the wheel is not the version the editor package declares."""
    if str(parse_wheel_filename(wheel.name)[1]) != expected:
        return f"{wheel.name} is not version {expected} of {source}"
    return None


def plugin_version() -> str:
    properties = (ROOT / "pycharm-plugin" / "gradle.properties").read_text(encoding="utf-8")
    [version] = [line.split("=", 1)[1].strip() for line in properties.splitlines()
                 if line.split("=", 1)[0].strip() == "pluginVersion"]
    return version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help="the project's wheel (default: build it with python -m build)")
    parser.add_argument("--target", action="append", choices=sorted(PLATFORMS), help="repeatable; default: all")
    parser.add_argument("--out", type=Path, default=PYCHARM_BUNDLE, help=f"default: {PYCHARM_BUNDLE}")
    args = parser.parse_args()
    staging = ROOT / "build" / "pycharm-staging"
    wheel = args.wheel.resolve() if args.wheel else build_wheel(staging)
    problem = check_version(wheel, plugin_version(), "pycharm-plugin/gradle.properties (pluginVersion)")
    if problem:
        parser.error(problem)
    targets = args.target or list(PLATFORMS)
    stage(wheel, args.out.resolve(), targets, every_target_layout, staging / "downloads")
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"{args.out}: {len(targets)} targets, {size / 1e6:.1f} MB unpacked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
