"""The call budget: no call starts past the cap, cached answers are free, a refused call is no
failed call, and the mock reports a fixed token count when its script says so."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from pydantic import BaseModel
from tests.conftest import MockFactory

from benchagent.errors import UserError
from benchagent.models import (
    BudgetReached,
    CallBudget,
    Caps,
    CompletionRequest,
    MockProvider,
    MockRule,
    ModelClient,
    ModelConfig,
    ModelError,
    ResponseCache,
    check_prices,
)
from benchagent.trace import Trace


class Verdict(BaseModel):
    ok: bool


def _request(text: str) -> CompletionRequest:
    return CompletionRequest(messages=[{"role": "user", "content": text}])


def test_no_call_starts_past_the_call_cap(mock_client: MockFactory) -> None:
    client = mock_client()
    client.budget = CallBudget(Caps(max_calls=3))
    for i in range(3):
        client.complete(_request(f"question {i}"), role="executor")
    with pytest.raises(BudgetReached, match=r"stopped at the call cap \(3 calls\): resume with "
                                            r"a higher --max-calls to finish"):
        client.complete(_request("one more"), role="executor")
    assert len(client.provider.calls) == 3  # type: ignore[attr-defined]


def test_a_refused_call_is_not_a_model_error() -> None:
    # nothing that catches ModelError (the repair loop, a rejected candidate) may catch it
    assert not issubclass(BudgetReached, ModelError)


def test_cached_answers_pass_the_cap(tmp_path: Path) -> None:
    cfg = ModelConfig(provider="mock")
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = ModelClient(MockProvider(cfg), cfg, Trace(), cache)
    first.complete(_request("asked before"), role="verifier")
    budget = CallBudget(Caps(max_calls=1), spent_calls=1)
    again = ModelClient(MockProvider(cfg), cfg, Trace(), cache, budget)
    assert again.complete(_request("asked before"), role="verifier").text
    with pytest.raises(BudgetReached):
        again.complete(_request("never asked"), role="verifier")
    cache.close()


def test_a_repair_refused_by_the_cap_stops_instead_of_falling_back(
        mock_client: MockFactory) -> None:
    client = mock_client(MockRule("judge", "not json", times=1))
    client.budget = CallBudget(Caps(max_calls=1))
    with pytest.raises(BudgetReached):
        client.generate([{"role": "user", "content": "judge this"}], Verdict, role="verifier")
    assert client.trace.totals()["verifier"]["fallbacks"] == 0


def test_the_cost_cap_counts_the_priced_cost() -> None:
    cfg = ModelConfig(provider="mock", price_in_per_mtok=1e6, price_out_per_mtok=0.0)
    budget = CallBudget(Caps(max_cost=2.0))
    client = ModelClient(MockProvider(cfg), cfg, Trace(), None, budget)
    client.complete(_request("one two"), role="executor")  # 2 prompt words: $2
    assert budget.cost == pytest.approx(2.0)
    with pytest.raises(BudgetReached, match=r"cost cap \(\$2"):
        client.complete(_request("three"), role="executor")


def test_a_cost_cap_without_prices_is_refused() -> None:
    with pytest.raises(UserError, match=r"--max-cost needs the price of every model.*mock"):
        check_prices(Caps(max_cost=1.0), [ModelConfig(provider="mock"), None])
    check_prices(Caps(max_calls=5), [ModelConfig(provider="mock")])  # no cost cap: no need


@pytest.mark.parametrize(("calls", "cost"), [(0, None), (None, 0.0), (None, -1.0)])
def test_caps_must_be_positive(calls: int | None, cost: float | None) -> None:
    with pytest.raises(UserError):
        Caps.checked(calls, cost)


def test_concurrent_calls_never_pass_the_cap(mock_client: MockFactory) -> None:
    client = mock_client()
    client.budget = CallBudget(Caps(max_calls=25))
    refused = []

    def ask(i: int) -> None:
        try:
            client.complete(_request(f"question {i}"), role="executor")
        except BudgetReached:
            refused.append(i)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(client.provider.calls) == 25  # type: ignore[attr-defined]
    assert len(refused) == 15


def test_the_mock_reports_the_fixed_token_counts_of_its_script(tmp_path: Path) -> None:
    script = tmp_path / "fixed.json"
    script.write_text(json.dumps({"prompt_tokens": 40, "completion_tokens": 7, "rules": []}))
    cfg = ModelConfig(provider="mock", model=str(script))
    answer = MockProvider(cfg).complete(_request("a question of several words"))
    assert (answer.prompt_tokens, answer.completion_tokens) == (40, 7)
    counted = MockProvider(ModelConfig(provider="mock")).complete(_request("three words here"))
    assert counted.prompt_tokens == 3


def test_a_bad_fixed_token_count_is_one_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text(json.dumps({"prompt_tokens": "many"}))
    with pytest.raises(ModelError, match="prompt_tokens must be a whole number"):
        MockProvider(ModelConfig(provider="mock", model=str(script)))
