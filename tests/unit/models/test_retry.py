"""The retry policy, alone and around OpenAIProvider talking to a real local FaultServer."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterator

import pytest

from benchagent.models.base import CompletionRequest, ModelError, TransientModelError
from benchagent.models.openai_provider import OpenAIProvider
from benchagent.models.retry import MAX_RETRY_AFTER, backoff_delay, call_with_retries
from benchagent.models.spec import ModelConfig
from faultserver import FaultServer

REQUEST = CompletionRequest(messages=[{"role": "user", "content": "say ok"}])


class Sleeps:
    """A fake `sleep` that records the delays it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Flaky:
    """Raises the given errors in order, then returns "done"."""

    def __init__(self, *errors: ModelError) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


# ------------------------------------------------------------------ the policy alone


def test_success_needs_no_sleep() -> None:
    sleeps = Sleeps()
    assert call_with_retries(lambda: 42, max_retries=3, sleep=sleeps) == 42
    assert sleeps.delays == []


def test_transient_errors_are_retried_until_success() -> None:
    fn, sleeps = Flaky(TransientModelError("a"), TransientModelError("b")), Sleeps()
    assert call_with_retries(fn, max_retries=2, sleep=sleeps) == "done"
    assert fn.calls == 3
    assert len(sleeps.delays) == 2


def test_final_model_error_passes_through_at_once() -> None:
    fn, sleeps = Flaky(ModelError("bad request")), Sleeps()
    with pytest.raises(ModelError, match=r"^bad request$"):
        call_with_retries(fn, max_retries=5, sleep=sleeps)
    assert fn.calls == 1
    assert sleeps.delays == []


def test_exhausted_retries_raise_a_final_model_error() -> None:
    fn = Flaky(*(TransientModelError(f"boom {i}") for i in range(3)))
    with pytest.raises(ModelError) as info:
        call_with_retries(fn, max_retries=2, sleep=Sleeps())
    assert not isinstance(info.value, TransientModelError)
    assert str(info.value) == "gave up after 3 attempts: boom 2"
    assert isinstance(info.value.__cause__, TransientModelError)


def test_zero_retries_means_one_attempt() -> None:
    fn = Flaky(TransientModelError("down"))
    with pytest.raises(ModelError, match=r"^gave up after 1 attempt: down$"):
        call_with_retries(fn, max_retries=0, sleep=Sleeps())
    assert fn.calls == 1


def test_negative_max_retries_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        call_with_retries(lambda: 1, max_retries=-1)


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        cap = min(10.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt, base_delay=0.5, max_delay=10.0, rng=rng)
                  for _ in range(200)]
        assert all(0.0 <= d <= cap for d in delays)
        assert max(delays) > cap / 2  # jitter spreads over the whole range


def test_backoff_survives_huge_attempt_numbers() -> None:
    delay = backoff_delay(10_000, base_delay=0.5, max_delay=30.0, rng=random.Random(1))
    assert 0.0 <= delay <= 30.0


def test_retry_after_is_a_floor_and_is_capped() -> None:
    rng = random.Random(3)
    assert backoff_delay(1, base_delay=0.5, max_delay=30.0, rng=rng, retry_after=7.0) >= 7.0
    huge = backoff_delay(1, base_delay=0.5, max_delay=30.0, rng=rng, retry_after=10_000.0)
    assert huge == MAX_RETRY_AFTER
    negative = backoff_delay(1, base_delay=0.0, max_delay=30.0, rng=rng, retry_after=-5.0)
    assert negative == 0.0


def test_on_retry_sees_attempt_error_and_delay() -> None:
    seen: list[tuple[int, str, float]] = []
    fn = Flaky(TransientModelError("x", retry_after=1.5), TransientModelError("y"))
    sleeps = Sleeps()
    call_with_retries(fn, max_retries=3, sleep=sleeps, rng=random.Random(0),
                      on_retry=lambda n, err, delay: seen.append((n, str(err), delay)))
    assert [(n, msg) for n, msg, _ in seen] == [(1, "x"), (2, "y")]
    assert [d for _, _, d in seen] == sleeps.delays
    assert seen[0][2] >= 1.5


# ------------------------------------------------------------------ against a real server


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture
def make_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], OpenAIProvider]]:
    monkeypatch.setenv("BENCH_RETRY_TEST_KEY", "sk-retry-test-key-000")
    made: list[OpenAIProvider] = []

    def make(base_url: str) -> OpenAIProvider:
        cfg = ModelConfig(provider="openai", model="test-model", base_url=base_url,
                          api_key_env="BENCH_RETRY_TEST_KEY", timeout=0.5)
        made.append(OpenAIProvider(cfg))
        return made[-1]

    yield make
    for provider in made:
        provider.close()


def test_server_429_retry_after_is_honoured(
        server: FaultServer, make_provider: Callable[[str], OpenAIProvider]) -> None:
    server.script(["429:2", "ok"])
    provider, sleeps = make_provider(server.base_url), Sleeps()
    completion = call_with_retries(lambda: provider.complete(REQUEST), max_retries=3,
                                   base_delay=0.01, sleep=sleeps)
    assert completion.text == "ok"
    assert len(server.requests) == 2
    assert len(sleeps.delays) == 1
    assert sleeps.delays[0] >= 2.0


def test_server_500_then_ok_succeeds(
        server: FaultServer, make_provider: Callable[[str], OpenAIProvider]) -> None:
    server.script(["500", "ok"])
    provider, sleeps = make_provider(server.base_url), Sleeps()
    completion = call_with_retries(lambda: provider.complete(REQUEST), max_retries=2,
                                   sleep=sleeps)
    assert completion.text == "ok"
    assert len(server.requests) == 2
    assert len(sleeps.delays) == 1


def test_server_faults_every_time_exhaust_retries(
        server: FaultServer, make_provider: Callable[[str], OpenAIProvider]) -> None:
    server.script(["500", "truncated", "invalid_json"])
    provider, sleeps = make_provider(server.base_url), Sleeps()
    with pytest.raises(ModelError) as info:
        call_with_retries(lambda: provider.complete(REQUEST), max_retries=2, sleep=sleeps)
    message = str(info.value)
    assert not isinstance(info.value, TransientModelError)
    assert message.startswith("gave up after 3 attempts: malformed response from ")
    assert server.base_url in message
    assert "\n" not in message
    assert len(server.requests) == 3
    assert len(sleeps.delays) == 2


def free_port() -> int:
    """A port nothing listens on: bind it, then let it go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_ends_as_cannot_reach(
        make_provider: Callable[[str], OpenAIProvider]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider, sleeps = make_provider(url), Sleeps()
    with pytest.raises(ModelError) as info:
        call_with_retries(lambda: provider.complete(REQUEST), max_retries=2, sleep=sleeps)
    assert not isinstance(info.value, TransientModelError)
    assert f"cannot reach model endpoint {url}" in str(info.value)
    assert str(info.value).startswith("gave up after 3 attempts: ")
    assert len(sleeps.delays) == 2
