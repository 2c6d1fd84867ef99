"""Answers the client's `initialize` before the LSP stack is imported, then hands the request on to pygls.

Importing lsprotocol and pygls takes most of the server's start-up (lsprotocol builds hundreds of attrs classes),
and the client waits for the InitializeResult before it sends anything else. This module, stdlib only, reads the
first JSON-RPC message from stdin; when it is an `initialize` whose answer `initialize_answers.json` holds, it writes
that answer at once. The server then starts as before and is handed the same request first (`ReplayingReader`), so
pygls and our INITIALIZE feature set up everything from it (client capabilities, position encoding, workspace
folders, initializationOptions); `AnsweredOnce` drops pygls' own response to it, after checking it is the same.

Anything else (another first message, a header or body this module does not read exactly as pygls would, a client
capability the answers are not keyed by, a stale answers file) is not answered here: the bytes read are replayed to
pygls unchanged, which answers as it always did. `METAFLOW_LSP_EARLY_INITIALIZE=0` turns this module off.

The answers come from the real server (`python scripts/initialize_answers.py` regenerates them;
tests/test_early_initialize.py fails when they are stale). They are keyed by what in a client's capabilities changes
pygls' answer for our features (`answer_key`).
"""

from __future__ import annotations

import json
import os
import re
import sys

from .. import __version__

TYPE_CHECKING = False  # `typing` costs a few milliseconds to import: this module exists to save them
if TYPE_CHECKING:
    from typing import Any, BinaryIO

SWITCH = "METAFLOW_LSP_EARLY_INITIALIZE"  # "0": every initialize is answered by pygls
ANSWERS_FILE = os.path.join(os.path.dirname(__file__), "initialize_answers.json")
REGENERATE = "python scripts/initialize_answers.py"
CONTENT_TYPE = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
# The header pygls reads (pygls.io_.run_async); any other header line but Content-Type is left to pygls.
CONTENT_LENGTH = re.compile(rb"Content-Length: (\d+)\r\n")
MAX_HEADER_LINE = 256
MAX_BODY = 16 * 1024 * 1024  # a larger initialize is left to pygls
# pygls' choice (ServerCapabilitiesBuilder.choose_position_encoding): the client's first encoding among these, else
# UTF-16, which every client supports.
SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")
DEFAULT_ENCODING = "utf-16"
TRACE_VALUES = ("off", "messages", "verbose")
EXIT_STALE_ANSWER = 70  # tests only (METAFLOW_LSP_STRICT=1): the early answer differed from pygls'


class Handoff:
    """What the server is handed: the bytes read from stdin (pygls reads them first), and when the request among
    them was answered here, its id and the result sent."""

    __slots__ = ("consumed", "answered_id", "result")

    def __init__(self, consumed: bytes = b"", answered_id: int | str | None = None, result: dict | None = None):
        self.consumed = consumed
        self.answered_id = answered_id
        self.result = result


def answer_initialize(stdin: BinaryIO, stdout: BinaryIO) -> Handoff:
    """Reads the first message from `stdin`; answers it on `stdout` when it is an initialize we know the answer of."""
    if os.environ.get(SWITCH) == "0":
        return Handoff()
    consumed, body = _read_message(stdin)
    if body is None:
        return Handoff(consumed)
    request = _initialize_request(body)
    if request is None:
        return Handoff(consumed)
    result = _known_result(request["params"])
    if result is None:
        return Handoff(consumed)
    try:
        stdout.write(frame({"id": request["id"], "jsonrpc": "2.0", "result": result}))
        stdout.flush()
    except OSError:  # the client is gone; pygls finds out on its own, and must not answer a second time
        pass
    return Handoff(consumed, request["id"], result)


def frame(message: dict) -> bytes:
    """A message framed as pygls frames it (`JsonRPCProtocol._send_data`), to the byte."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n%s\r\n%s" % (len(body), CONTENT_TYPE, body)


def _read_message(stdin: BinaryIO) -> tuple[bytes, bytes | None]:
    """(everything read, the body), the body None when the header is not exactly what this module reads."""
    consumed = b""
    length = None
    while True:
        line = stdin.readline(MAX_HEADER_LINE)
        consumed += line
        if line == b"\r\n":
            break
        match = CONTENT_LENGTH.fullmatch(line)
        if match and length is None:
            length = int(match.group(1))
        elif not (line.startswith(b"Content-Type: ") and line.endswith(b"\r\n")):
            return consumed, None  # end of input, a line too long, an unexpected header: pygls reads it
    if length is None or length > MAX_BODY:
        return consumed, None
    body = stdin.read(length)
    consumed += body
    return consumed, body if len(body) == length else None


def _initialize_request(body: bytes) -> dict | None:
    """The initialize request in `body`, None for anything else or anything pygls could refuse."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not (isinstance(message, dict) and message.get("jsonrpc") == "2.0" and message.get("method") == "initialize"
            and _is_id(message.get("id")) and isinstance(message.get("params"), dict)):
        return None
    return message if _plausible_params(message["params"]) else None


def _plausible_params(params: dict) -> bool:
    """The top-level fields of InitializeParams have the types lsprotocol requires (a field of the wrong type makes
    pygls refuse the request instead of answering). The capabilities are checked where they change the answer."""
    client_info, folders, process_id = params.get("clientInfo"), params.get("workspaceFolders"), params.get("processId")
    return (isinstance(params.get("capabilities"), dict)
            and (process_id is None or _is_integer(process_id))
            and all(_optional(params, key, str) for key in ("rootUri", "rootPath", "locale"))
            and params.get("trace") in (None, *TRACE_VALUES)
            and (params.get("workDoneToken") is None or _is_id(params["workDoneToken"]))
            and (client_info is None or (isinstance(client_info, dict) and isinstance(client_info.get("name"), str)
                                         and _optional(client_info, "version", str)))
            and (folders is None or (isinstance(folders, list) and all(_is_folder(folder) for folder in folders))))


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or _is_integer(value)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_folder(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("uri"), str) and isinstance(value.get("name"), str)


def _optional(mapping: dict, key: str, kinds) -> bool:
    return mapping.get(key) is None or isinstance(mapping[key], kinds)


def answer_key(capabilities: dict) -> dict | None:
    """What of the client's capabilities changes pygls' answer for our features (ServerCapabilitiesBuilder): the
    negotiated position encoding, whether the client supports prepareRename, and whether it states `willSave` and
    `willSaveWaitUntil` at all (pygls then answers `false` for them, else leaves them out). None when one of these is
    not of the type lsprotocol requires: pygls answers."""
    general = capabilities.get("general")
    text_document = capabilities.get("textDocument")
    if not (_optional_mapping(general) and _optional_mapping(text_document)):
        return None
    rename = (text_document or {}).get("rename")
    synchronization = (text_document or {}).get("synchronization")
    if not (_optional_mapping(rename) and _optional_mapping(synchronization)):
        return None
    encodings = (general or {}).get("positionEncodings")
    flags = {"prepareRename": (rename or {}).get("prepareSupport"),
             "willSaveStated": (synchronization or {}).get("willSave"),
             "willSaveWaitUntilStated": (synchronization or {}).get("willSaveWaitUntil")}
    if not ((encodings is None or (isinstance(encodings, list) and all(isinstance(e, str) for e in encodings)))
            and all(flag is None or isinstance(flag, bool) for flag in flags.values())):
        return None
    return {"positionEncoding": next((e for e in encodings or () if e in SUPPORTED_ENCODINGS), DEFAULT_ENCODING),
            "prepareRename": bool(flags["prepareRename"]),
            "willSaveStated": flags["willSaveStated"] is not None,
            "willSaveWaitUntilStated": flags["willSaveWaitUntilStated"] is not None}


def _optional_mapping(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _known_result(params: dict) -> dict | None:
    key = answer_key(params["capabilities"])
    if key is None:
        return None
    try:
        with open(ANSWERS_FILE, encoding="utf-8") as file:
            answers = json.load(file)
    except (OSError, ValueError):  # not installed with the package: pygls answers
        return None
    if answers.get("version") != __version__:  # stale: the test suite says so; users get pygls' answer
        return None
    return next((answer.get("result") for answer in answers.get("answers", ()) if answer.get("key") == key), None)


class ReplayingReader:
    """stdin for pygls: the bytes `answer_initialize` read first, then the rest of the stream, unchanged."""

    def __init__(self, consumed: bytes, stream: BinaryIO):
        self._pending = consumed
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        if not self._pending:
            return self._stream.readline(limit)
        end = self._pending.find(b"\n") + 1
        if end == 0:  # a partial line was read: the stream holds its rest
            line, self._pending = self._pending, b""
            return line + self._stream.readline()
        line, self._pending = self._pending[:end], self._pending[end:]
        return line

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            return self._stream.read(size)
        if size < 0:
            data, self._pending = self._pending, b""
            return data + self._stream.read()
        data, self._pending = self._pending[:size], self._pending[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data


class AnsweredOnce:
    """stdout for pygls after an early answer: drops pygls' response to the request answered already, and checks
    it equals what was sent (a stale answers file would otherwise go unnoticed)."""

    def __init__(self, stream: BinaryIO, handoff: Handoff):
        self._stream = stream
        self._handoff = handoff
        self._buffer: bytes | None = b""  # None once the response was dropped: everything passes through

    def write(self, data: bytes) -> int:
        if self._buffer is None:
            self._stream.write(data)
            return len(data)
        self._buffer += data
        while self._buffer:
            message = _split_frame(self._buffer)
            if message is None:
                break  # an incomplete frame: more is coming
            frame_bytes, body = message
            self._buffer = self._buffer[len(frame_bytes):]
            if _is_response_to(body, self._handoff.answered_id):
                self._check(body)
                rest, self._buffer = self._buffer, None
                if rest:
                    self._stream.write(rest)
                break
            self._stream.write(frame_bytes)
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()

    def _check(self, response: dict) -> None:
        if "error" not in response and response.get("result") == self._handoff.result:
            return
        print(f"metaflow-lsp: the early answer to initialize differed from the server's {response!r}; "
              f"regenerate server/metaflow_lsp/lsp/initialize_answers.json with `{REGENERATE}`", file=sys.stderr)
        if os.environ.get("METAFLOW_LSP_STRICT") == "1":
            sys.stderr.flush()
            os._exit(EXIT_STALE_ANSWER)


def _split_frame(buffer: bytes) -> tuple[bytes, dict] | None:
    """(the first whole frame, its message) of what pygls wrote, None until the frame is complete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    match = re.search(rb"Content-Length: (\d+)\r\n", buffer[:end + 2])
    length = int(match.group(1)) if match else 0
    if len(buffer) < end + 4 + length:
        return None
    frame_bytes = buffer[:end + 4 + length]
    try:
        message = json.loads(frame_bytes[end + 4:])
    except ValueError:
        message = {}
    return frame_bytes, message if isinstance(message, dict) else {}


def _is_response_to(message: dict, request_id: int | str | None) -> bool:
    return "method" not in message and "id" in message and message["id"] == request_id
