"""OpenAI-compatible chat completions (OpenAI, llama.cpp server, vLLM, ...) behind `Provider`.

One HTTP call per `complete` (the client's own retries are off; `retry.call_with_retries` does
that), with one exception: in `structured="auto"` mode a server that rejects
`response_format.type == "json_schema"` (400/422, or a 500 naming json_schema) is asked again
with `json_object` + `schema`, and this provider remembers to use `json_object` from then on.

Errors come out as `TransientModelError` (worth retrying) or `ModelError` (final), each with a
one-line message that names the endpoint and never the API key.
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal, cast
from urllib.parse import urlsplit, urlunsplit

import openai
from openai.types.chat import ChatCompletion

from benchagent.models.base import (
    Completion,
    CompletionRequest,
    InputRejectedError,
    ModelError,
    TransientModelError,
    media_parts,
)
from benchagent.models.spec import ModelConfig

FormatMode = Literal["json_schema", "json_object"]

PLACEHOLDER_API_KEY = "not-needed"  # local servers ignore the key, the client insists on one
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_MAX_DETAIL = 200
# How servers say, often with a 500, that a model takes no image or audio: llama.cpp's
# "image input is not supported - hint: ... mmproj", vLLM's "... is not a multimodal model",
# llama-cpp-python's "can only concatenate str (not "list") to str" (an image part) and its
# validation errors "Input should be a valid string" (an input_audio part).
_MEDIA_REFUSED = re.compile(r"(image|audio|multimodal|multi-modal|vision).{0,60}(not supported|"
                            r"unsupported)|not a multi-?modal|mmproj|can only concatenate str|"
                            r"should be a valid string|validation errors?\b", re.I)


def media_refused(message: str) -> bool:
    """Whether a server's error message, for a request with image or audio parts, says that
    the model cannot take them (rather than a fault worth retrying)."""
    return bool(_MEDIA_REFUSED.search(message))


class _FormatRejectedError(ModelError):
    """Internal: the server refused `response_format.type == "json_schema"`."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (>= 0)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, now)
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _seconds_until_http_date(text: str, now: float | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds, preferring OpenAI's `retry-after-ms` when present."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = parse_retry_after(millis)
        if seconds is not None:
            return seconds / 1000.0
    return parse_retry_after(headers.get("retry-after"))


def display_url(url: str) -> str:
    """`url` without any user:password@ part, safe to show and to put in a cache key."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_DETAIL else flat[: _MAX_DETAIL - 3] + "..."


class OpenAIProvider:
    """`Provider` for any OpenAI-compatible `/v1/chat/completions` endpoint."""

    def __init__(self, cfg: ModelConfig) -> None:
        self._cfg = cfg
        self._base_url: str | None = cfg.base_url or os.environ.get("OPENAI_BASE_URL") or None
        self._client = openai.OpenAI(
            api_key=self._api_key(),
            base_url=self._base_url,
            timeout=cfg.timeout,
            max_retries=0,
        )
        self._endpoint = display_url(self._base_url or str(self._client.base_url).rstrip("/"))
        shown = display_url(self._base_url) if self._base_url else "default"
        self._spec = f"openai:{cfg.model}@{shown}"
        self._lock = threading.Lock()
        self._auto_mode: FormatMode = "json_schema"

    def _api_key(self) -> str:
        key = os.environ.get(self._cfg.api_key_env)
        if key:
            return key
        if self._base_url:
            return PLACEHOLDER_API_KEY
        raise ModelError(
            f"no API key: set ${self._cfg.api_key_env}, or give a base_url for a local server"
        )

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def endpoint(self) -> str:
        """The base URL calls go to (credentials stripped)."""
        return self._endpoint

    @property
    def structured_mode(self) -> FormatMode:
        """The response_format type the next structured request will use."""
        if self._cfg.structured != "auto":
            return self._cfg.structured
        with self._lock:
            return self._auto_mode

    def __repr__(self) -> str:
        return f"OpenAIProvider(spec={self._spec!r}, structured={self._cfg.structured!r})"

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ the call

    def complete(self, request: CompletionRequest) -> Completion:
        mode = self.structured_mode if request.json_schema is not None else None
        try:
            response = self._send(request, mode)
        except _FormatRejectedError:
            mode = "json_object"
            response = self._send(request, mode)
            self._remember_json_object()
        return self._to_completion(response, mode)

    def _remember_json_object(self) -> None:
        with self._lock:
            self._auto_mode = "json_object"

    def _send(self, request: CompletionRequest, mode: FormatMode | None) -> ChatCompletion:
        kwargs: dict[str, Any] = {}
        timeout = self._cfg.timeout
        if request.timeout_s is not None:
            timeout = min(timeout, request.timeout_s)
            kwargs["timeout"] = timeout
        if mode is not None and request.json_schema is not None:
            kwargs["response_format"] = _response_format(mode, request)
        try:
            response: Any = self._client.chat.completions.create(
                model=self._cfg.model,
                messages=cast(Any, request.messages),
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
                **kwargs,
            )
        except openai.APIStatusError as exc:
            # `from None`: the server's own text may quote the key; our message is redacted.
            if self._rejects_json_schema(exc, mode):
                raise _FormatRejectedError(self._status_message(exc)) from None
            if media_parts(request) and media_refused(_server_message(exc)):
                raise InputRejectedError(self._status_message(exc)) from None
            raise self._map_error(exc, timeout) from None
        except openai.APIError as exc:
            raise self._map_error(exc, timeout) from exc
        except json.JSONDecodeError as exc:
            raise TransientModelError(
                f"malformed response from {self._endpoint}: body is not valid JSON ({exc.msg})"
            ) from exc
        if not isinstance(response, ChatCompletion):
            raise TransientModelError(
                f"malformed response from {self._endpoint}: expected a chat.completion object"
            )
        return response

    def _rejects_json_schema(self, exc: openai.APIStatusError, mode: FormatMode | None) -> bool:
        if self._cfg.structured != "auto" or mode != "json_schema":
            return False
        if exc.status_code in (400, 422):
            return True
        # llama-cpp-python's server answers 500 with a validation error naming the field
        return exc.status_code == 500 and "json_schema" in _server_message(exc)

    def _to_completion(self, response: ChatCompletion, mode: FormatMode | None) -> Completion:
        choices = response.choices
        if not choices:
            raise TransientModelError(
                f"malformed response from {self._endpoint}: no choices in the answer"
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        text = getattr(message, "content", None)
        usage = response.usage
        extra: dict[str, Any] = {"finish_reason": getattr(choice, "finish_reason", None)}
        if mode is not None:
            extra["response_format"] = mode
        return Completion(
            text=text if isinstance(text, str) else "",
            prompt_tokens=_int_or_zero(getattr(usage, "prompt_tokens", 0)),
            completion_tokens=_int_or_zero(getattr(usage, "completion_tokens", 0)),
            extra=extra,
        )

    # ------------------------------------------------------------------ errors

    def _map_error(self, exc: openai.APIError, timeout: float) -> ModelError:
        if isinstance(exc, openai.APITimeoutError):
            return TransientModelError(
                f"model endpoint {self._endpoint} did not answer within {timeout:.3g}s"
            )
        if isinstance(exc, openai.APIConnectionError):
            return self._connection_error(exc)
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc)
        return TransientModelError(
            f"malformed response from {self._endpoint}: {self._detail(exc.message)}"
        )

    def _connection_error(self, exc: openai.APIConnectionError) -> TransientModelError:
        reason = _connect_failure(exc)
        if reason is not None:
            return TransientModelError(
                f"cannot reach model endpoint {self._endpoint}: {self._detail(reason)}"
            )
        cause = exc.__cause__ or exc.__context__
        detail = self._detail(str(cause) if cause else exc.message)
        return TransientModelError(f"connection to {self._endpoint} broke: {detail}")

    def _status_error(self, exc: openai.APIStatusError) -> ModelError:
        status = exc.status_code
        if status in (401, 403):
            return ModelError(
                f"authentication failed for {self._endpoint}: check ${self._cfg.api_key_env}"
            )
        if status == 404:
            return ModelError(
                f"model {self._cfg.model!r} not found at {self._endpoint} (404): "
                f"{self._detail(_server_message(exc))}"
            )
        message = self._status_message(exc)
        if status in (400, 413, 422):
            return InputRejectedError(message)
        if status >= 500 or status in _TRANSIENT_STATUS:
            retry_after = retry_after_from_headers(exc.response.headers)
            return TransientModelError(message, retry_after=retry_after)
        return ModelError(message)

    def _status_message(self, exc: openai.APIStatusError) -> str:
        what = {429: "rate limited by"}.get(exc.status_code, "request failed at")
        if exc.status_code in (400, 422):
            what = "request rejected by"
        return (f"{what} {self._endpoint} ({exc.status_code}): "
                f"{self._detail(_server_message(exc))}")

    def _detail(self, text: str) -> str:
        """One short line of server-provided text, with the API key blanked out."""
        key = self._client.api_key
        if key and key != PLACEHOLDER_API_KEY:
            text = text.replace(key, "***")
        return _one_line(text)


def _response_format(mode: FormatMode, request: CompletionRequest) -> dict[str, Any]:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "schema": request.json_schema,
                "strict": False,
            },
        }
    return {"type": "json_object", "schema": request.json_schema}


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str) and message:
            return message
    return exc.message


def _connect_failure(exc: BaseException) -> str | None:
    """Why the connection could not be opened, or None if it failed later (mid-response)."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ConnectionRefusedError | socket.gaierror):
            return node.strerror or str(node)
        if type(node).__name__ == "ConnectError":  # httpx / httpx2 / httpcore
            return str(node) or "connection failed"
        node = node.__cause__ or node.__context__
    return None


def _int_or_zero(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
