from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from benchagent.models import (
    CompletionRequest,
    MockRule,
    ModelClient,
    ModelConfig,
    StructuredOutputError,
    parse_structured,
)
from benchagent.models.cache import ResponseCache, cache_key
from benchagent.models.mock import MockProvider, instance_of
from benchagent.records import Subtask
from benchagent.trace import Trace


class Pick(BaseModel):
    name: str
    count: int = Field(ge=0)


def test_mock_answers_any_schema_with_a_valid_instance() -> None:
    schema = Subtask.model_json_schema()
    value = instance_of(schema)
    assert Subtask.model_validate(value).name


def test_mock_is_deterministic() -> None:
    provider = MockProvider()
    request = CompletionRequest(messages=[{"role": "user", "content": "list some dates please"}],
                                json_schema=Pick.model_json_schema())
    assert provider.complete(request).text == provider.complete(request).text


def test_generate_returns_typed_value(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("count things", {"name": "apples", "count": 3}))
    value = client.generate([{"role": "user", "content": "count things"}], Pick, role="design")
    assert value == Pick(name="apples", count=3)
    assert client.trace.totals()["design"]["calls"] == 1


def test_invalid_json_is_repaired_and_traced(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("count", "oops {\"name\": }", times=1),
                         MockRule("count", {"name": "x", "count": 1}))
    value = client.generate([{"role": "user", "content": "count"}], Pick, role="grounding")
    assert value.count == 1
    decisions = [e for e in client.trace.events if e["event"] == "decision"]
    assert decisions[-1]["outcome"] == "repaired"
    repair_prompt = client.provider.calls[-1].messages[-1]["content"]  # type: ignore[attr-defined]
    assert "invalid JSON" in repair_prompt


def test_schema_violation_after_all_rounds_is_a_typed_failure(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("count", {"name": "x", "count": -5}), repair_rounds=2)
    with pytest.raises(StructuredOutputError, match="3 times"):
        client.generate([{"role": "user", "content": "count"}], Pick, role="design")
    assert client.trace.totals()["design"]["calls"] == 3


def test_repairs_carry_only_the_last_answer(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("count", {"name": "x", "count": -5}), repair_rounds=3)
    with pytest.raises(StructuredOutputError):
        client.generate([{"role": "user", "content": "count"}], Pick, role="design")
    lengths = [len(call.messages) for call in client.provider.calls]  # type: ignore[attr-defined]
    assert lengths == [1, 3, 3, 3]  # the question, then question + last answer + repair


def test_semantic_check_goes_through_repair(mock_client) -> None:  # type: ignore[no-untyped-def]
    client = mock_client(MockRule("pick", {"name": "bad", "count": 1}, times=1),
                         MockRule("pick", {"name": "good", "count": 1}))

    def check(p: Pick) -> None:
        if p.name != "good":
            raise ValueError("name must be good")

    assert client.generate([{"role": "user", "content": "pick"}], Pick, role="design",
                           check=check).name == "good"


def test_parse_structured_tolerates_fences_and_prose() -> None:
    text = 'Sure! ```json\n{"name": "a", "count": 2}\n``` hope it helps'
    assert parse_structured(text, Pick).count == 2
    assert parse_structured('Here: {"name": "b", "count": 0} done', Pick).name == "b"
    with pytest.raises(ValueError):
        parse_structured("no json here", Pick)


def test_cache_hit_makes_no_provider_call(tmp_path: Path) -> None:
    cfg = ModelConfig(provider="mock")
    provider = MockProvider(cfg, [MockRule("hi", {"name": "n", "count": 1})])
    cache = ResponseCache(tmp_path / "c.sqlite")
    trace = Trace()
    client = ModelClient(provider, cfg, trace, cache)
    messages = [{"role": "user", "content": "hi"}]
    client.generate(messages, Pick, role="design")
    client.generate(messages, Pick, role="design")
    assert len(provider.calls) == 1
    assert trace.totals()["design"]["cache_hits"] == 1


def test_cache_key_depends_only_on_what_changes_the_answer() -> None:
    base = CompletionRequest(messages=[{"role": "user", "content": "x"}])
    same = CompletionRequest(messages=[{"role": "user", "content": "x"}])
    other_seed = CompletionRequest(messages=[{"role": "user", "content": "x"}], seed=1)
    assert cache_key("m", base) == cache_key("m", same)
    assert cache_key("m", base) != cache_key("m", other_seed)
    assert cache_key("m", base) != cache_key("n", base)


def test_cost_is_computed_when_prices_are_known() -> None:
    cfg = ModelConfig(provider="mock", price_in_per_mtok=1.0, price_out_per_mtok=2.0)
    trace = Trace()
    client = ModelClient(MockProvider(cfg), cfg, trace)
    client.complete(CompletionRequest(messages=[{"role": "user", "content": "a b c"}]), "judge")
    assert trace.totals()["judge"]["cost_usd"] > 0


def test_mock_script_file(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text('[{"match": "hello", "response": {"name": "s", "count": 7}}]')
    cfg = ModelConfig(provider="mock", model=str(script))
    client = ModelClient(MockProvider(cfg), cfg, Trace())
    assert client.generate([{"role": "user", "content": "hello"}], Pick, role="x").count == 7
