"""Reading and writing files a repository provides, which may be anything: only regular files are read, and at most
`MAX_FILE_BYTES` of them; nothing is written outside the project.

A name is no promise: `zero.py` may link to /dev/zero (endless), `x.py` may be a FIFO (an open that waits for a
writer forever), `_self.json` a 4 GB file. So every read opens without blocking (O_NONBLOCK: a FIFO opens at once),
asks the open file itself what it is (`fstat`, so a link swapped after a check cannot fool it), refuses anything but a
regular file, and reads at most one byte more than the cap, whatever the size it claims. Every file metaflow-lsp
reads from a project goes through here: sources, pyproject.toml, .gitignore, the local datastore's JSON.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 1_000_000  # a flow file is never this big (real ones: p99 under 60 lines a step); generated code is
_CHUNK = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)


class NotRegularFile(OSError):
    """The path names a FIFO, a device, a socket or a folder: nothing to read as a file."""

    def __init__(self, path: Path | str):
        super().__init__(errno.EINVAL, "not a regular file", str(path))


class OutsideProject(OSError):
    """The path's real location (symlinks followed) is not inside the project folder: never written."""

    def __init__(self, path: Path | str, real: Path):
        super().__init__(errno.EXDEV, f"leads out of the project folder (to {real})", str(path))


class FileTooLarge(OSError):
    """The file holds more than the cap; `size` is what it holds (at least cap + 1 when it would not say)."""

    def __init__(self, path: Path | str, size: int, limit: int):
        super().__init__(errno.EFBIG, f"{size:,} bytes, more than the {limit:,} metaflow-lsp reads", str(path))
        self.size = size
        self.limit = limit


def read_bytes(path: Path | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; raises `NotRegularFile`, `FileTooLarge` or another
    OSError (missing, no permission, a symlink loop)."""
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path)
        if info.st_size > limit:
            raise FileTooLarge(path, info.st_size, limit)
        chunks, total = [], 0
        while total <= limit:  # the size it claimed may be stale: stop one byte past the cap whatever it said
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileTooLarge(path, max(total, info.st_size), limit)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def decode_source(data: bytes) -> str:
    """A source file's text as an editor shows it: without a UTF-8 byte order mark (which Python skips too, and
    which `ast.parse` of a str would call an invalid character), and with U+FFFD for bytes that are not UTF-8 (the
    rest is still worth checking)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    return data.decode("utf-8", errors="replace")


def read_source(path: Path | str, limit: int = MAX_FILE_BYTES) -> str:
    """A source or ignore file's text (`decode_source`), read by `read_bytes`'s rules."""
    return decode_source(read_bytes(path, limit))


def read_text(path: Path | str, limit: int = MAX_FILE_BYTES) -> str:
    """A configuration or data file's text (pyproject.toml, JSON): strict UTF-8, a byte order mark dropped; raises
    UnicodeDecodeError for other bytes, and what `read_bytes` raises."""
    return read_bytes(path, limit).decode("utf-8-sig")


def has_bom(path: Path | str) -> bool:
    """Whether a file starts with a UTF-8 byte order mark (which a rewrite must keep)."""
    try:
        return read_bytes(path).startswith(codecs.BOM_UTF8)
    except OSError:
        return False


def is_regular_file(path: Path | str) -> bool:
    """Whether `path` (following symlinks) is a regular file; False for a broken link or a symlink loop."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def write_inside(root: Path | str, path: Path | str, data: bytes) -> None:
    """Writes `data` to `path`, which must really lie inside `root`: a link (of the file or of a folder on the way)
    that leads out raises `OutsideProject`, an existing FIFO or device `NotRegularFile`, and nothing is written.

    The bytes go to a fresh file created with O_EXCL | O_NOFOLLOW beside the real target, renamed over it: a link
    planted under a temporary name is never followed, and a hard link to the old file keeps the old content. An
    existing file keeps its permissions."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        raise OutsideProject(path, real)
    try:
        mode: int | None = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise NotRegularFile(path)
    real.parent.mkdir(parents=True, exist_ok=True)
    import secrets  # here: `check` never writes, and imports it in every run otherwise

    temporary = real.with_name(f".{real.name}.{secrets.token_hex(6)}.tmp")
    try:
        # mode 0o666 less the umask, as any new file gets
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        if mode is not None:
            os.chmod(temporary, stat.S_IMODE(mode))
        os.replace(temporary, real)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def create_empty_inside(root: Path | str, path: Path | str) -> None:
    """Creates `path` as an empty file, which must really lie inside `root`; see `create_inside`."""
    create_inside(root, path, b"")


def create_inside(root: Path | str, path: Path | str, data: bytes) -> None:
    """Creates `path` holding `data`; it must really lie inside `root` (else `OutsideProject`). Raises
    FileExistsError when anything is there already, even a dangling link, and then touches nothing.

    O_EXCL | O_NOFOLLOW: the check and the creation are one step, so a file or link that appears meanwhile is never
    opened, let alone emptied."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        raise OutsideProject(path, real)
    if os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, "already exists", str(path))
    descriptor = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o666)  # 0o666 less the umask
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
