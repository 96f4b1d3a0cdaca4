"""The review page's local web server (standard library only).

It binds 127.0.0.1 unless told otherwise. Every state-changing request (POST) needs the
session's token; bound to any other address, every request does. Media is served only for the
paths the benchmark's items name, and only from inside the run directory."""

from __future__ import annotations

import hmac
import ipaddress
import json
import mimetypes
import secrets
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import ValidationError

from benchagent.errors import BenchagentError, UserError
from benchagent.review.decisions import Decision, DecisionLog, apply_edit, read_decisions
from benchagent.review.items import ReviewRun, item_view
from benchagent.review.summary import summarize, write_review

Row = dict[str, Any]
MAX_BODY_BYTES = 256 * 1024
TOKEN_HEADER = "X-Review-Token"
PAGE_HEADERS = {
    # Inline script and style only, everything else from this server: the page reaches no
    # other host, and the token in its address is never sent on as a referrer.
    "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                               "style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'",
    "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ReviewApp:
    """What the pages and requests act on: the run, this reviewer's log, the token."""

    def __init__(self, run: ReviewRun, log: DecisionLog, loopback_only: bool) -> None:
        self.run, self.log = run, log
        self.token = secrets.token_urlsafe(24)
        self.token_everywhere = not loopback_only
        self.by_id = {s.id: s for s in run.samples}
        self.media = run.media_paths()
        self.root = run.run_dir.resolve()
        self._outputs_lock = threading.Lock()
        decided = any(read_decisions(run.run_dir).values())
        self.summary = self.write_outputs() if decided else summarize(run.samples, {})

    def write_outputs(self) -> Row:
        with self._outputs_lock:
            return write_review(self.run.run_dir, self.run.samples)

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def resume_index(self) -> int:
        """The first item this reviewer has not decided (the last item when all are)."""
        for index, sample in enumerate(self.run.samples):
            if sample.id not in self.log.latest:
                return index
        return len(self.run.samples) - 1

    def state(self) -> Row:
        return {"reviewer": self.log.reviewer, "title": self.run.title,
                "items": [item_view(self.run, s) for s in self.run.samples],
                "decisions": {i: d.model_dump(exclude_none=True)
                              for i, d in self.log.latest.items() if i in self.by_id},
                "resume": self.resume_index(), "summary": self.summary}

    def decide(self, body: Row) -> Row:
        """Check, record (synced) and summarize one decision; a UserError says what is wrong."""
        try:
            given = {k: v for k, v in body.items() if k != "at"}  # the time is the server's
            decision = Decision.model_validate({**given, "reviewer": self.log.reviewer})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise UserError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
                            ) from exc
        sample = self.by_id.get(decision.item)
        if sample is None:
            raise UserError(f"no item {decision.item!r} in this benchmark")
        if decision.action == "edit":
            if decision.edit is None:
                raise UserError("an edit needs the edited question, options and answer")
            apply_edit(sample, decision.edit)
        elif decision.edit is not None:
            decision = decision.model_copy(update={"edit": None})
        if decision.action == "reject" and not decision.reason.strip():
            raise UserError("say why the item is rejected")
        self.log.record(decision)
        self.summary = self.write_outputs()
        return {"decision": decision.model_dump(exclude_none=True), "summary": self.summary,
                "resume": self.resume_index()}

    def media_file(self, rel: str) -> Path | None:
        """The file for a media path an item names, when it is a file inside the run."""
        if rel not in self.media:
            return None
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def page_html(app: ReviewApp) -> bytes:
    template = resources.files("benchagent.review").joinpath("page.html").read_text("utf-8")
    config = json.dumps({"reviewer": app.log.reviewer, "title": app.run.title})
    return template.replace("__REVIEW_CONFIG__", config.replace("<", "\\u003c")).encode()


class ReviewHandler(BaseHTTPRequestHandler):
    app: ReviewApp
    server_version = "benchagent-review"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # requests are not logged
        return

    def _send(self, status: HTTPStatus, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or PAGE_HEADERS).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(),
                   "application/json; charset=utf-8")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": message})

    def _given_token(self) -> str | None:
        given = parse_qs(urlsplit(self.path).query).get("token") or []
        return self.headers.get(TOKEN_HEADER) or (given[0] if given else None)

    def _host_ok(self) -> bool:
        """Bound to loopback, only loopback names may be asked for (no DNS rebinding)."""
        if self.app.token_everywhere:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return is_loopback(host)

    def _refused(self, state_changing: bool) -> bool:
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "this server answers only to 127.0.0.1")
            return True
        if (state_changing or self.app.token_everywhere) and \
                not self.app.token_ok(self._given_token()):
            self._error(HTTPStatus.FORBIDDEN, "missing or wrong token: open the address "
                                              "benchagent review printed")
            return True
        return False

    def do_GET(self) -> None:
        if self._refused(state_changing=False):
            return
        path = urlsplit(self.path).path
        if path == "/":
            self._send(HTTPStatus.OK, page_html(self.app), "text/html; charset=utf-8")
        elif path == "/api/state":
            self._json(HTTPStatus.OK, self.app.state())
        elif path.startswith("/media/"):
            self._media(unquote(path.removeprefix("/media/")))
        else:
            self._error(HTTPStatus.NOT_FOUND, "no such page")

    do_HEAD = do_GET

    def _media(self, rel: str) -> None:
        file = self.app.media_file(rel)
        if file is None:
            self._error(HTTPStatus.NOT_FOUND, "no such media in this benchmark")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, file.read_bytes(), kind,
                   {**PAGE_HEADERS, "Cache-Control": "private, max-age=3600"})

    def _body(self) -> Row | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            self._error(HTTPStatus.BAD_REQUEST, "the request needs a JSON body (at most "
                                                f"{MAX_BODY_BYTES} bytes)")
            return None
        try:
            body = json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            body = None
        if not isinstance(body, dict):
            self._error(HTTPStatus.BAD_REQUEST, "the request body is not a JSON object")
            return None
        return body

    def do_POST(self) -> None:
        if self._refused(state_changing=True):
            return
        if urlsplit(self.path).path != "/api/decide":
            self._error(HTTPStatus.NOT_FOUND, "no such action")
            return
        body = self._body()
        if body is None:
            return
        try:
            self._json(HTTPStatus.OK, self.app.decide(body))
        except UserError as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except BenchagentError as exc:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def make_server(app: ReviewApp, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundReviewHandler", (ReviewHandler,), {"app": app})
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        raise UserError(f"cannot serve the review on {host}:{port}: "
                        f"{exc.strerror or exc}") from exc


def review_url(app: ReviewApp, server: ThreadingHTTPServer, host: str) -> str:
    port = server.server_address[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    return f"http://{shown}:{port}/?token={app.token}"
