"""The provider interface: one raw completion call, and the errors a provider may raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from benchagent.errors import BenchagentError

# {"role": "system" | "user" | "assistant", "content": "..."}; a user message's content may also
# be a list of OpenAI-style parts: {"type": "text" | "image_url" | "input_audio", ...}
Message = dict[str, Any]


@dataclass(frozen=True)
class CompletionRequest:
    messages: list[Message]
    json_schema: dict[str, Any] | None = None  # ask for JSON that fits this schema
    schema_name: str = "output"
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 0
    # the most this one call may take (the rest of the deadline); never part of a cache key
    timeout_s: float | None = None


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ModelError(BenchagentError):
    """A model call failed for good; the message is one clear line for the user."""


class TransientModelError(ModelError):
    """Worth retrying: rate limit, server error, timeout, dropped connection."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InputRejectedError(ModelError):
    """The model cannot take this request (an image for a text-only model, a prompt its server
    refuses as invalid): asking again will not help, and other requests may still succeed."""


def media_parts(request: CompletionRequest) -> list[str]:
    """The kinds of non-text parts ("image_url", "input_audio") the request's messages hold."""
    kinds = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            kinds += [str(part.get("type")) for part in content
                      if isinstance(part, dict) and part.get("type") != "text"]
    return kinds


class Provider(Protocol):
    """A model behind one spec. `complete` is thread-safe or guarded by the caller's limit."""

    @property
    def spec(self) -> str:
        """Stable text naming provider and model; part of every cache key. Never a secret."""
        ...

    def complete(self, request: CompletionRequest) -> Completion: ...
