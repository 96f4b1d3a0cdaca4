"""OpenAIProvider against a real local HTTP server (tests/faultserver.py): no HTTP mocks."""

from __future__ import annotations

import json
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal

import openai
import pytest
from pydantic import BaseModel, Field

from benchagent.models.base import CompletionRequest, ModelError, TransientModelError
from benchagent.models.mock import instance_of
from benchagent.models.openai_provider import (
    PLACEHOLDER_API_KEY,
    OpenAIProvider,
    display_url,
    parse_retry_after,
)
from benchagent.models.spec import ModelConfig
from faultserver import FaultServer, default_responder, prompt_words

KEY_ENV = "BENCH_TEST_API_KEY"
FAKE_KEY = "sk-FAKE-canary-7f3a9c-DO-NOT-LEAK"
MakeProvider = Callable[..., OpenAIProvider]


class Verdict(BaseModel):
    label: Literal["yes", "no", "unsure"]
    score: int = Field(ge=1, le=5)
    reasons: list[str] = Field(min_length=1)
    note: str | None = None


class Item(BaseModel):
    question: str = Field(min_length=3)
    weight: float = Field(gt=0)
    verdict: Verdict
    tags: list[str] = []


SCHEMA = Verdict.model_json_schema()
PLAIN = CompletionRequest(messages=[{"role": "system", "content": "be brief"},
                                    {"role": "user", "content": "say ok please"}],
                          temperature=0.3, max_tokens=77, seed=11)
STRUCTURED = CompletionRequest(messages=[{"role": "user", "content": "judge it"}],
                               json_schema=SCHEMA, schema_name="verdict")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def make_provider(server: FaultServer) -> Iterator[MakeProvider]:
    made: list[OpenAIProvider] = []

    def make(**overrides: Any) -> OpenAIProvider:
        fields: dict[str, Any] = {"provider": "openai", "model": "test-model",
                                  "base_url": server.base_url, "api_key_env": KEY_ENV,
                                  "timeout": 5.0}  # generous: a loaded CI machine is slow
        fields.update(overrides)
        made.append(OpenAIProvider(ModelConfig(**fields)))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ happy path


def test_plain_completion_reads_text_and_usage(server: FaultServer,
                                               make_provider: MakeProvider) -> None:
    completion = make_provider().complete(PLAIN)
    assert completion.text == "ok"
    assert completion.prompt_tokens == prompt_words(server.requests[0]) == 5
    assert completion.completion_tokens == 1
    assert completion.extra["finish_reason"] == "stop"


def test_request_carries_model_messages_and_sampling(server: FaultServer,
                                                     make_provider: MakeProvider) -> None:
    make_provider().complete(PLAIN)
    (body,) = server.requests
    assert body["model"] == "test-model"
    assert body["messages"] == PLAIN.messages
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 77, 11)
    assert "response_format" not in body
    assert server.headers[0]["authorization"] == f"Bearer {FAKE_KEY}"


def test_missing_usage_counts_zero(server: FaultServer, make_provider: MakeProvider) -> None:
    server.script(["no_usage"])
    completion = make_provider().complete(PLAIN)
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == ("ok", 0, 0)


# ------------------------------------------------------------------ structured output


def test_json_schema_mode_sends_the_schema(server: FaultServer,
                                           make_provider: MakeProvider) -> None:
    completion = make_provider(structured="json_schema").complete(STRUCTURED)
    fmt = server.requests[0]["response_format"]
    assert fmt == {"type": "json_schema",
                   "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": False}}
    Verdict.model_validate_json(completion.text)
    assert completion.extra["response_format"] == "json_schema"


def test_json_object_mode_puts_the_schema_inside(server: FaultServer,
                                                 make_provider: MakeProvider) -> None:
    completion = make_provider(structured="json_object").complete(STRUCTURED)
    assert server.requests[0]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    Verdict.model_validate_json(completion.text)


def test_auto_mode_uses_json_schema_when_accepted(server: FaultServer,
                                                  make_provider: MakeProvider) -> None:
    provider = make_provider(structured="auto")
    provider.complete(STRUCTURED)
    assert [r["response_format"]["type"] for r in server.requests] == ["json_schema"]
    assert provider.structured_mode == "json_schema"


@pytest.mark.parametrize("fault", ["reject_json_schema", "reject_json_schema_500"])
def test_auto_mode_falls_back_to_json_object_and_remembers(
        server: FaultServer, make_provider: MakeProvider, fault: str) -> None:
    server.script([fault])
    provider = make_provider(structured="auto")
    completion = provider.complete(STRUCTURED)
    Verdict.model_validate_json(completion.text)
    assert completion.extra["response_format"] == "json_object"
    first, second = server.requests
    assert first["response_format"]["type"] == "json_schema"
    assert second["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert provider.structured_mode == "json_object"

    provider.complete(STRUCTURED)  # no second try with json_schema
    assert len(server.requests) == 3
    assert server.requests[2]["response_format"]["type"] == "json_object"


def test_auto_fallback_under_concurrent_calls(server: FaultServer,
                                             make_provider: MakeProvider) -> None:
    server.script(["reject_json_schema"] * 4)
    provider = make_provider(structured="auto")
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda _: provider.complete(STRUCTURED).text, range(8)))
    assert all(Verdict.model_validate_json(t) for t in texts)
    assert provider.structured_mode == "json_object"
    # A call already in flight when the fallback was remembered may still carry json_schema;
    # every call that starts afterwards must carry json_object.
    provider.complete(STRUCTURED)
    assert server.requests[-1]["response_format"]["type"] == "json_object"


def test_explicit_json_schema_mode_does_not_fall_back(server: FaultServer,
                                                      make_provider: MakeProvider) -> None:
    server.script(["reject_json_schema"])
    with pytest.raises(ModelError, match=r"request rejected by .* \(400\)") as info:
        make_provider(structured="json_schema").complete(STRUCTURED)
    assert not isinstance(info.value, TransientModelError)
    assert len(server.requests) == 1


def test_auto_mode_gives_up_if_json_object_is_rejected_too(
        server: FaultServer, make_provider: MakeProvider) -> None:
    server.script(["400", "422"])
    provider = make_provider(structured="auto")
    with pytest.raises(ModelError, match=r"\(422\)") as info:
        provider.complete(STRUCTURED)
    assert not isinstance(info.value, TransientModelError)
    assert len(server.requests) == 2
    assert provider.structured_mode == "json_schema"  # not confirmed, so not remembered


def test_default_responder_fits_nested_pydantic_schemas() -> None:
    schema = Item.model_json_schema()
    Item.model_validate(instance_of(schema))
    body = {"response_format": {"type": "json_object", "schema": schema}}
    assert json.loads(default_responder(body))["verdict"]["label"] == "yes"


# ------------------------------------------------------------------ transient faults


def test_slow_answer_beyond_timeout_is_transient(server: FaultServer,
                                                 make_provider: MakeProvider) -> None:
    server.script(["slow:3"])
    start = time.monotonic()
    with pytest.raises(TransientModelError, match=r"did not answer within 0\.3s"):
        make_provider(timeout=0.3).complete(PLAIN)
    assert time.monotonic() - start < 1.5


def test_slow_answer_within_timeout_is_fine(server: FaultServer,
                                            make_provider: MakeProvider) -> None:
    server.script(["slow:0.1"])
    assert make_provider(timeout=1.0).complete(PLAIN).text == "ok"


@pytest.mark.parametrize("fault", ["truncated", "invalid_json", "no_choices"])
def test_broken_answers_are_transient(fault: str, server: FaultServer,
                                      make_provider: MakeProvider) -> None:
    server.script([fault])
    provider = make_provider()
    with pytest.raises(TransientModelError) as info:
        provider.complete(PLAIN)
    assert server.base_url in str(info.value)
    assert provider.complete(PLAIN).text == "ok"  # the next call is fine again


@pytest.mark.parametrize("status", ["500", "502", "503", "408"])
def test_server_errors_are_transient(status: str, server: FaultServer,
                                     make_provider: MakeProvider) -> None:
    server.script([status])
    with pytest.raises(TransientModelError, match=rf"\({status}\): scripted fault {status}"):
        make_provider().complete(PLAIN)


def test_rate_limit_is_transient_with_retry_after(server: FaultServer,
                                                  make_provider: MakeProvider) -> None:
    server.script(["429:7"])
    with pytest.raises(TransientModelError, match="rate limited by") as info:
        make_provider().complete(PLAIN)
    assert info.value.retry_after == 7.0


def test_rate_limit_without_retry_after(server: FaultServer, make_provider: MakeProvider) -> None:
    server.script(["429"])
    with pytest.raises(TransientModelError) as info:
        make_provider().complete(PLAIN)
    assert info.value.retry_after is None


def test_unreachable_port_is_transient_cannot_reach(make_provider: MakeProvider) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(TransientModelError, match=f"^cannot reach model endpoint {url}: "):
        make_provider(base_url=url).complete(PLAIN)


# ------------------------------------------------------------------ final errors


@pytest.mark.parametrize("status", ["401", "403"])
def test_auth_failures_are_final(status: str, server: FaultServer,
                                 make_provider: MakeProvider) -> None:
    server.script([status])
    with pytest.raises(ModelError) as info:
        make_provider().complete(PLAIN)
    assert not isinstance(info.value, TransientModelError)
    assert str(info.value) == f"authentication failed for {server.base_url}: check ${KEY_ENV}"


def test_unknown_model_is_final(server: FaultServer, make_provider: MakeProvider) -> None:
    server.script(["404"])
    with pytest.raises(ModelError, match="model 'test-model' not found at") as info:
        make_provider().complete(PLAIN)
    assert not isinstance(info.value, TransientModelError)


# ------------------------------------------------------------------ keys, urls and spec


def test_key_never_shows_in_spec_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultServer(echo_auth_in_errors=True) as server:
        server.script(["401", "500", "400", "429:1"])
        provider = OpenAIProvider(ModelConfig(provider="openai", model="test-model",
                                              base_url=server.base_url, api_key_env=KEY_ENV,
                                              structured="json_schema", timeout=0.5))
        messages = [_error_text(lambda: provider.complete(PLAIN)) for _ in range(4)]
        provider.close()
    assert FAKE_KEY in server.headers[0]["authorization"]  # the key did go out, to the server
    # the server quoted the key in its error text; our messages blank it out
    assert all("***" in m.splitlines()[0] for m in messages[1:])
    for text in [provider.spec, repr(provider), str(provider), *messages]:
        assert FAKE_KEY not in text


def _error_text(call: Callable[[], object]) -> str:
    """The error's message and its whole printed traceback, causes included."""
    with pytest.raises(ModelError) as info:
        call()
    return f"{info.value}\n{''.join(traceback.format_exception(info.value))}"


def test_spec_names_model_and_endpoint(server: FaultServer, make_provider: MakeProvider) -> None:
    assert make_provider().spec == f"openai:test-model@{server.base_url}"


def test_spec_without_base_url_says_default() -> None:
    provider = OpenAIProvider(ModelConfig(provider="openai", model="gpt-x", api_key_env=KEY_ENV))
    assert provider.spec == "openai:gpt-x@default"
    assert provider.endpoint.startswith("https://")
    provider.close()


def test_base_url_comes_from_env_when_not_configured(
        server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    provider = OpenAIProvider(ModelConfig(provider="openai", model="m", api_key_env=KEY_ENV,
                                          timeout=0.5))
    assert provider.complete(PLAIN).text == "ok"
    assert provider.spec == f"openai:m@{server.base_url}"
    provider.close()


def test_missing_key_without_base_url_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ModelError, match=rf"\${KEY_ENV}"):
        OpenAIProvider(ModelConfig(provider="openai", model="m", api_key_env=KEY_ENV))


def test_missing_key_with_base_url_sends_a_placeholder(
        server: FaultServer, make_provider: MakeProvider,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other-variable-must-not-be-used")
    assert make_provider().complete(PLAIN).text == "ok"
    assert server.headers[0]["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"


def test_credentials_in_base_url_stay_out_of_spec_and_errors() -> None:
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/v1"
    assert display_url(url) == url.replace("user:hunter2@", "")
    provider = OpenAIProvider(ModelConfig(provider="openai", model="m", base_url=url,
                                          api_key_env=KEY_ENV, timeout=0.5))
    text = _error_text(lambda: provider.complete(PLAIN))
    provider.close()
    assert "hunter2" not in provider.spec + repr(provider) + text


def test_server_lists_models(server: FaultServer) -> None:
    client = openai.OpenAI(api_key="x", base_url=server.base_url, max_retries=0, timeout=0.5)
    assert [m.id for m in client.models.list()] == ["test-model"]
    client.close()


# ------------------------------------------------------------------ Retry-After parsing


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = time.time()
    later = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=30),
                            usegmt=True)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(later, now=now) == pytest.approx(30.0, abs=1.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None
