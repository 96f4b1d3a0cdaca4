"""A hung endpoint: retries stay, but one call ends at its deadline, and a warning says early
that the endpoint is not answering (tests/faultserver.py, with timeouts of a fraction of a
second so the test takes a few)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator

import pytest

from benchagent.models.base import CompletionRequest, ModelError, TransientModelError
from benchagent.models.client import ModelClient
from benchagent.models.openai_provider import OpenAIProvider
from benchagent.models.retry import call_with_retries
from benchagent.models.spec import ModelConfig
from benchagent.trace import Trace
from faultserver import FaultServer

PLAIN = CompletionRequest(messages=[{"role": "user", "content": "say ok please"}])


@pytest.fixture
def hung_server() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.script(["slow:8"] * 40)  # every request hangs far past the deadline
        yield server


def _client(server: FaultServer, **overrides: float) -> ModelClient:
    fields = {"timeout": 0.3, "deadline_s": 1.5, "slow_warning_s": 0.4, "max_retries": 50,
              **overrides}
    cfg = ModelConfig(provider="openai", model="test-model", base_url=server.base_url,
                      **fields)  # type: ignore[arg-type]
    return ModelClient(OpenAIProvider(cfg), cfg, Trace())


def test_a_hung_endpoint_fails_at_the_deadline_naming_endpoint_and_deadline(
        hung_server: FaultServer, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(hung_server)
    caplog.set_level(logging.WARNING, logger="benchagent.models")
    start = time.monotonic()
    with pytest.raises(ModelError) as failure:
        client.complete(PLAIN, role="judge")
    elapsed = time.monotonic() - start
    assert not isinstance(failure.value, TransientModelError)  # no outer layer retries it
    message = str(failure.value)
    assert "\n" not in message
    assert hung_server.base_url in message and "1.5s deadline" in message, message
    # it stops when the next pause would pass the deadline (the pause has jitter), not at 50 tries
    assert elapsed < 3.0, elapsed  # max_retries=50 would take 15 s and more
    assert len(hung_server.requests) >= 2  # the retries still happen within the deadline
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "is not answering" in warnings[0].getMessage()
    assert hung_server.base_url in warnings[0].getMessage()


def test_the_warning_comes_once_per_model(hung_server: FaultServer,
                                          caplog: pytest.LogCaptureFixture) -> None:
    client = _client(hung_server, deadline_s=0.8)
    caplog.set_level(logging.WARNING, logger="benchagent.models")
    for _ in range(2):
        with pytest.raises(ModelError):
            client.complete(PLAIN, role="judge")
    assert sum(r.levelno == logging.WARNING for r in caplog.records) == 1


def test_an_answer_before_the_warning_time_warns_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer() as server:
        client = _client(server, slow_warning_s=2.0)
        caplog.set_level(logging.WARNING, logger="benchagent.models")
        assert client.complete(PLAIN, role="judge").text
        time.sleep(0.1)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_last_attempt_is_cut_to_what_is_left_of_the_deadline(
        hung_server: FaultServer) -> None:
    client = _client(hung_server, timeout=5.0, deadline_s=1.0, max_retries=0)
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"at the 1s deadline: .* did not answer within"):
        client.complete(PLAIN, role="judge")
    assert time.monotonic() - start < 2.5  # not the 5 s of one attempt's own timeout


def test_retries_stop_when_the_next_pause_would_pass_the_deadline() -> None:
    clock = {"now": 0.0}
    calls = []

    def hung() -> str:
        calls.append(clock["now"])
        clock["now"] += 10.0
        raise TransientModelError("model endpoint http://h/v1 did not answer within 10s")

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    with pytest.raises(ModelError, match="gave up after 3 attempts at the 25s deadline"):
        call_with_retries(hung, max_retries=5, base_delay=0.0, max_delay=0.0, sleep=sleep,
                          rng=random.Random(0), deadline_s=25.0, clock=lambda: clock["now"])
    assert calls == [0.0, 10.0, 20.0]


def test_the_deadline_is_a_setting_with_a_default_of_minutes() -> None:
    cfg = ModelConfig(provider="openai", model="m")
    assert cfg.deadline_s == 180.0 and cfg.slow_warning_s == 30.0
    assert cfg.slow_warning_s < 60 <= cfg.deadline_s


def test_a_timeout_raised_past_the_default_deadline_raises_the_deadline() -> None:
    assert ModelConfig(provider="mock").deadline_s == 180.0
    assert ModelConfig(provider="mock", timeout=1200).deadline_s == 1200.0  # one whole attempt
    assert ModelConfig(provider="mock", timeout=1200, deadline_s=60).deadline_s == 60.0
