"""The mock provider: deterministic, schema-aware and scriptable. Every unit test uses it.

Without a script it answers every schema request with a valid instance of that schema, built
deterministically from the request (strings reuse words of the last user message so that
downstream search still has something to hold on to). A script is a list of rules tried in
order; the first whose `match` substring occurs in the conversation (and has `times` left)
answers with its `response` (text as is, or a JSON value serialised). A script file holds
either that list, or {"latency_s": seconds every call takes, "inputs": the media it takes
(default ["image", "audio"]; [] for a text-only model), "prompt_tokens" and
"completion_tokens": the usage every call reports (default: the words of the conversation and
of the answer), "rules": [...]}.

In the conversation a rule matches, an image part reads `<image>` and an audio part `<audio>`.
An unscripted plain-text request that lists lettered options ("A. ...") is answered with one of
those letters, picked from the hash of the prompt and the script's name ("The answer is (C).");
any other, "mock answer".
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchagent.models.base import (
    Completion,
    CompletionRequest,
    InputRejectedError,
    Message,
    ModelError,
    media_parts,
)
from benchagent.models.spec import ModelConfig

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_MAX_DEPTH = 32
_OPTION_LINE = re.compile(r"^([A-Z])\. \S", re.MULTILINE)
_PART_TEXT = {"image_url": "<image>", "input_audio": "<audio>"}
_MEDIA = {"image_url": "image", "input_audio": "audio"}


class MockRule:
    def __init__(self, match: str = "", response: Any = None, times: int | None = None) -> None:
        self.match = match
        self.response = response
        self.times = times

    def take(self, conversation: str) -> Any | None:
        if self.match not in conversation or self.times == 0:
            return None
        if self.times is not None:
            self.times -= 1
        return self.response


class MockProvider:
    def __init__(self, cfg: ModelConfig | None = None, rules: list[MockRule] | None = None) -> None:
        self._rules = list(rules or [])
        self.latency_s = 0.0
        self.inputs = frozenset(_MEDIA.values())
        self.tokens: tuple[int | None, int | None] = (None, None)  # fixed (prompt, completion)
        name = ""
        if cfg is not None and cfg.model:
            script = _load_script(Path(cfg.model))
            self.latency_s, self.inputs, self.tokens = script.latency_s, script.inputs, \
                script.tokens
            self._rules = script.rules + self._rules
            name = Path(cfg.model).name
        self._name = name
        self._lock = threading.Lock()
        self.calls: list[CompletionRequest] = []

    @property
    def spec(self) -> str:
        return f"mock:{self._name}" if self._name else "mock"

    def complete(self, request: CompletionRequest) -> Completion:
        refused = sorted({_MEDIA[k] for k in media_parts(request) if k in _MEDIA} - self.inputs)
        if refused:
            raise InputRejectedError(f"{self.spec} takes no {' or '.join(refused)} input")
        conversation = "\n".join(message_text(m) for m in request.messages)
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            self.calls.append(request)
            taken = (rule.take(conversation) for rule in self._rules)
            scripted = next((r for r in taken if r is not None), None)
        if scripted is not None:
            text = scripted if isinstance(scripted, str) else json.dumps(scripted)
        elif request.json_schema is not None:
            text = json.dumps(instance_of(request.json_schema, _seed_words(request)))
        else:
            text = _pick_option(conversation, self._name) or "mock answer"
        prompt_tokens, completion_tokens = self.tokens
        return Completion(text=text, prompt_tokens=_or(prompt_tokens, len(conversation.split())),
                          completion_tokens=_or(completion_tokens, len(text.split())))


def _or(fixed: int | None, counted: int) -> int:
    return counted if fixed is None else fixed


def message_text(message: Message) -> str:
    """A message's content as text: text parts as they are, media parts as placeholders."""
    content = message.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(str(part.get("text", "")) if part.get("type") == "text"
                     else _PART_TEXT.get(str(part.get("type")), "<media>") for part in content)


def _pick_option(conversation: str, salt: str) -> str | None:
    letters = _OPTION_LINE.findall(conversation)
    if not letters:
        return None
    digest = hashlib.sha256((salt + "\n" + conversation).encode()).digest()
    return f"The answer is ({letters[int.from_bytes(digest[:4], 'big') % len(letters)]})."


@dataclass
class _Script:
    rules: list[MockRule]
    latency_s: float = 0.0
    inputs: frozenset[str] = frozenset(_MEDIA.values())
    tokens: tuple[int | None, int | None] = (None, None)


def _count(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a whole number of tokens, not {value!r}")
    return value


def _load_script(path: Path) -> _Script:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict):
            return _Script(rules=[MockRule(**item) for item in raw.get("rules", [])],
                           latency_s=float(raw.get("latency_s", 0.0)),
                           inputs=frozenset(str(k) for k in raw.get("inputs", _MEDIA.values())),
                           tokens=(_count(raw, "prompt_tokens"),
                                   _count(raw, "completion_tokens")))
        return _Script(rules=[MockRule(**item) for item in raw])
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise ModelError(f"cannot read mock script {path}: {exc}") from exc


class _Words:
    """A deterministic stream of words taken from the prompt."""

    def __init__(self, words: list[str], seed: int) -> None:
        self.words = words or ["mock"]
        self.i = seed % len(self.words)

    def take(self, n: int) -> str:
        out = [self.words[(self.i + k) % len(self.words)] for k in range(n)]
        self.i = (self.i + n) % len(self.words)
        return " ".join(out)


def _seed_words(request: CompletionRequest) -> _Words:
    user = [message_text(m) for m in request.messages if m["role"] == "user"]
    text = user[-1] if user else ""
    digest = hashlib.sha256(text.encode()).digest()
    return _Words(_WORD.findall(text)[:200], int.from_bytes(digest[:4], "big"))


def instance_of(schema: dict[str, Any], words: _Words | None = None,
                root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A valid instance of a JSON schema (the subset pydantic emits); strings come from `words`."""
    words = words or _Words([], 0)
    root = root if root is not None else schema
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        return instance_of(_resolve_ref(schema["$ref"], root), words, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return instance_of(options[0], words, root, depth + 1)
    return _typed_instance(_schema_type(schema), schema, words, root, depth)



def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        return "array" if "items" in schema and "properties" not in schema else "object"
    return str(kind)


def _typed_instance(kind: str, schema: dict[str, Any], words: _Words, root: dict[str, Any],
                    depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties", {})
        return {name: instance_of(sub, words, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = max(schema.get("minItems", 1), 1)
        count = min(count, schema.get("maxItems", count))
        return [instance_of(schema.get("items", {}), words, root, depth + 1)
                for _ in range(count)]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "null":
        return None
    text = words.take(6).ljust(int(schema.get("minLength", 0)), "x")
    return text[:schema["maxLength"]] if "maxLength" in schema else text


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    """1 where the bounds allow it, else the nearest bound."""
    value: float = 1
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema:
        value = max(value, schema["exclusiveMinimum"] + (1 if integer else 0.5))
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMaximum" in schema:
        value = min(value, schema["exclusiveMaximum"] - (1 if integer else 0.5))
    return int(value) if integer else float(value)
