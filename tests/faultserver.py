"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose answers can be scripted to fail.

    with FaultServer() as server:
        server.script(["429:2", "500", "ok"])
        ...  # point a client at server.base_url

Faults, one per received chat request, in order (an empty queue answers OK):

- ``ok``                  a well-formed chat.completion
- ``<status>[:<secs>]``   that HTTP status with an OpenAI-style error body, plus
                          ``Retry-After: secs`` when given (``429:2``, ``500``, ``401``, ...)
- ``slow:<secs>``         wait that long, then answer OK
- ``truncated``           promise a longer body than is sent, then close the connection
- ``invalid_json``        200 with a body that is not JSON
- ``no_choices``          200 with a chat.completion that lacks ``choices``
- ``no_usage``            OK without the ``usage`` block
- ``reject_json_schema_500``  the same as a 500 naming json_schema (llama-cpp-python's server)
- ``reject_json_schema``  400 if the request asked for ``response_format.type == "json_schema"``,
                          else OK (llama.cpp-style servers)
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from benchagent.models.mock import instance_of

Responder = Callable[[dict[str, Any]], str]

_STATUS_FAULT = re.compile(r"^(?P<status>[1-5]\d\d)(?::(?P<retry_after>\d+(?:\.\d+)?))?$")
_SLOW_FAULT = re.compile(r"^slow:(?P<secs>\d+(?:\.\d+)?)$")
_SIMPLE_FAULTS = frozenset(
    {"ok", "truncated", "invalid_json", "no_choices", "no_usage", "reject_json_schema",
     "reject_json_schema_500"}
)


@dataclass(frozen=True)
class Fault:
    """One parsed script entry."""

    kind: str  # "ok", "status", "slow" or one of _SIMPLE_FAULTS
    status: int = 200
    seconds: float | None = None  # Retry-After for "status", delay for "slow"

    @classmethod
    def parse(cls, text: str) -> Fault:
        entry = text.strip().lower()
        if entry in _SIMPLE_FAULTS:
            return cls(kind=entry)
        if match := _STATUS_FAULT.match(entry):
            after = match.group("retry_after")
            return cls("status", int(match.group("status")), float(after) if after else None)
        if match := _SLOW_FAULT.match(entry):
            return cls(kind="slow", seconds=float(match.group("secs")))
        raise ValueError(
            f"unknown fault {text!r}: use ok, <status>[:<secs>], slow:<secs>, truncated, "
            "invalid_json, no_choices, no_usage, reject_json_schema or reject_json_schema_500"
        )


# --------------------------------------------------------------------------- schema instances


def request_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a chat request asked for, in either response_format flavour."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        inner = fmt.get("json_schema")
        schema = inner.get("schema") if isinstance(inner, dict) else None
    else:
        schema = fmt.get("schema")
    return schema if isinstance(schema, dict) else None


def default_responder(body: dict[str, Any]) -> str:
    """A minimal valid instance of the requested schema as JSON text, else "ok"."""
    schema = request_schema(body)
    if schema is None:
        return "ok"
    return json.dumps(instance_of(schema))


def count_words(text: str) -> int:
    return len(text.split())


def prompt_words(body: dict[str, Any]) -> int:
    """The fake prompt token count the server reports: whitespace words over all messages."""
    total = 0
    for message in body.get("messages", []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += count_words(content)
    return total


def content_types(body: dict[str, Any]) -> list[str]:
    """The content part types of a chat request's messages ("text", "image_url",
    "input_audio"); a plain string counts as "text"."""
    kinds = []
    for message in body.get("messages", []):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            kinds.append("text")
        elif isinstance(content, list):
            kinds += [str(p.get("type")) for p in content if isinstance(p, dict)]
    return kinds


# --------------------------------------------------------------------------- the server


class FaultServer:
    """A ThreadingHTTPServer on 127.0.0.1:<free port>, serving in a daemon thread."""

    def __init__(self, responder: Responder | None = None,
                 models: Iterable[str] = ("test-model",), *,
                 echo_auth_in_errors: bool = False) -> None:
        self.responder: Responder = responder or default_responder
        self.models = list(models)
        self.echo_auth_in_errors = echo_auth_in_errors  # like servers that quote a bad key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []  # lower-cased headers of each chat request
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._counter = 0
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="FaultServer", daemon=True,
        )
        self._started = False

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServer:
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._started:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def script(self, faults: Iterable[str]) -> None:
        """Queue faults for the next chat requests; every entry is validated up front."""
        parsed = [Fault.parse(f) for f in faults]
        with self._lock:
            self._faults.extend(parsed)

    @property
    def pending(self) -> int:
        """How many scripted faults have not been served yet."""
        with self._lock:
            return len(self._faults)

    # called from handler threads

    def record(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[Fault, int]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self._counter += 1
            fault = self._faults.popleft() if self._faults else Fault("ok")
            return fault, self._counter

    def wait(self, seconds: float) -> None:
        """Sleep, but wake early when the server stops."""
        self._stopping.wait(seconds)

    def completion_body(self, body: dict[str, Any], number: int, *,
                        usage: bool = True) -> dict[str, Any]:
        text = self.responder(body)
        answer: dict[str, Any] = {
            "id": f"chatcmpl-fault-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }],
        }
        if usage:
            prompt, completion = prompt_words(body), count_words(text)
            answer["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion}
        return answer


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, owner: FaultServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket],
                     client_address: Any) -> None:
        # Clients that time out and hang up are part of the game: stay quiet about them.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "faultserver"}
                    for m in self.server.owner.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"no route GET {self.path}", "not_found_error")

    def do_POST(self) -> None:
        body = self._read_json()
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send_error(404, f"no route POST {self.path}", "not_found_error")
            return
        if body is None:
            self._send_error(400, "request body is not a JSON object", "invalid_request_error")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault, number = self.server.owner.record(body, headers)
        self._serve(fault, body, number)

    def _serve(self, fault: Fault, body: dict[str, Any], number: int) -> None:
        owner = self.server.owner
        if fault.kind == "status":
            self._send_status_fault(fault)
        elif fault.kind == "slow":
            owner.wait(fault.seconds or 0.0)
            self._send_json(200, owner.completion_body(body, number))
        elif fault.kind == "truncated":
            self._send_truncated(owner.completion_body(body, number))
        elif fault.kind == "invalid_json":
            self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [ this is not json')
        elif fault.kind == "no_choices":
            self._send_json(200, {"id": f"chatcmpl-fault-{number}", "object": "chat.completion"})
        elif fault.kind == "reject_json_schema" and _uses_json_schema(body):
            self._send_error(400, "response_format type json_schema is not supported",
                             "invalid_request_error")
        elif fault.kind == "reject_json_schema_500" and _uses_json_schema(body):
            # what llama-cpp-python's server answers
            self._send_error(500, "Input should be 'text' or 'json_object', input: 'json_schema'",
                             "internal_server_error")
        else:
            self._send_json(200, owner.completion_body(body, number,
                                                       usage=fault.kind != "no_usage"))

    def _read_json(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _send_status_fault(self, fault: Fault) -> None:
        headers = {}
        if fault.seconds is not None:
            headers["Retry-After"] = f"{fault.seconds:g}"
        self._send_error(fault.status, f"scripted fault {fault.status}",
                         _error_type(fault.status), headers)

    def _send_error(self, status: int, message: str, kind: str,
                    headers: dict[str, str] | None = None) -> None:
        if self.server.owner.echo_auth_in_errors:
            message += f" (you sent {self.headers.get('Authorization', 'no key')!r})"
        error = {"error": {"message": message, "type": kind, "param": None, "code": None}}
        self._send_json(status, error, headers)

    def _send_json(self, status: int, payload: dict[str, Any],
                   headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), headers)

    def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_truncated(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data) + 256))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True


def _uses_json_schema(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _error_type(status: int) -> str:
    return {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        422: "invalid_request_error",
        429: "rate_limit_error",
    }.get(status, "server_error" if status >= 500 else "api_error")
