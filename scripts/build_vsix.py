"""`make vsix`: one self-contained .vsix per VS Code target, the server and its dependencies inside.

The bundle is made from the project's own wheel (built here with `python -m build`, or given with `--wheel`: the
release workflow passes the one it built and tested) by scripts/server_bundle.py, the same code that makes the
PyCharm plugin's bundle:

    vscode-extension/bundled/libs/          pure-Python wheels every supported Python shares (metaflow_lsp, pygls, ...)
    vscode-extension/bundled/native/cp3XX/  wheels of one CPython version (libcst, PyYAML) or that differ by version
    vscode-extension/bundled/debugger/      debugpy (pure Python), for the extension's own debug type

The extension puts `native/cp3XX` (the interpreter's version) and `libs` on the server's PYTHONPATH
(vscode-extension/src/serverLaunch.ts); nothing is installed into the user's interpreter.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from server_bundle import (PLATFORMS, PYTHON_VERSIONS, ROOT, build_wheel, check_version, download,
                           one_target_layout, run, stage, unpack, write_layout)

EXTENSION = ROOT / "vscode-extension"
BUNDLED = EXTENSION / "bundled"
STAGING = ROOT / "build" / "vsix"
DEBUGGER = "debugpy>=1.8,<2"


def stage_target(target: str, wheel: Path) -> dict[str, list[str]]:
    """Fills BUNDLED for `target`: the server bundle, then the extension's own debugger; returns which wheels went
    where."""
    layout = stage(wheel, BUNDLED, [target], one_target_layout, STAGING / "downloads")
    debugger = STAGING / "downloads" / "debugger"
    shutil.rmtree(debugger, ignore_errors=True)
    debugger.mkdir(parents=True)
    debugpy = download(DEBUGGER, debugger, platforms=["any"], python_version=PYTHON_VERSIONS[0])
    unpack(debugpy, BUNDLED / "debugger")
    layout["debugger"] = [debugpy.name]
    write_layout(BUNDLED, [target], layout)
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
    wheel = args.wheel.resolve() if args.wheel else build_wheel(STAGING)
    problem = check_version(wheel, json.loads((EXTENSION / "package.json").read_text())["version"],
                            "vscode-extension/package.json")
    if problem:
        parser.error(problem)
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = []
    try:
        for target in args.target or list(PLATFORMS):
            stage_target(target, wheel)
            vsix = package(target, args.out.resolve())
            sizes.append(f"{vsix.name}: {vsix.stat().st_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(BUNDLED, ignore_errors=True)  # never left behind for a development build to pick up
    print("\n".join(sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
