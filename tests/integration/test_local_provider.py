"""LocalProvider against a real model: SmolLM2-135M-Instruct run in process by llama.cpp."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.integration.schemas import COUNTER_SCHEMA

from benchagent.models.base import Completion, CompletionRequest, ModelError
from benchagent.models.local_provider import LocalProvider
from benchagent.models.spec import ModelConfig


@pytest.fixture(scope="module")
def smollm(smollm_gguf: Path) -> Iterator[LocalProvider]:
    provider = LocalProvider(ModelConfig(provider="local", model=str(smollm_gguf), n_ctx=2048))
    yield provider
    provider.close()


def _ask(provider: LocalProvider, prompt: str, **options: Any) -> Completion:
    request = CompletionRequest(messages=[{"role": "user", "content": prompt}], **options)
    return provider.complete(request)


def test_plain_completion_returns_text_and_token_counts(smollm: LocalProvider) -> None:
    completion = _ask(smollm, "Say hello in five words.", max_tokens=32)

    assert completion.text.strip()
    assert completion.prompt_tokens > 0
    assert completion.completion_tokens > 0
    assert completion.extra["finish_reason"] in ("stop", "length")


def test_schema_constrained_completion_is_valid_json(smollm: LocalProvider) -> None:
    completion = _ask(
        smollm,
        "A basket holds 3 apples. Answer as JSON with the fruit name and the count.",
        json_schema=COUNTER_SCHEMA,
        max_tokens=64,
    )

    value = json.loads(completion.text)
    assert set(value) == {"name", "count"}
    assert isinstance(value["name"], str)
    assert isinstance(value["count"], int)


def test_same_request_same_text(smollm: LocalProvider) -> None:
    first = _ask(smollm, "Name one colour.", max_tokens=16, seed=7)
    second = _ask(smollm, "Name one colour.", max_tokens=16, seed=7)

    assert first.text == second.text


def test_concurrent_calls_are_serialized(smollm: LocalProvider) -> None:
    prompts = ["Name one animal.", "Name one city."]
    with ThreadPoolExecutor(max_workers=2) as pool:
        completions = list(pool.map(lambda p: _ask(smollm, p, max_tokens=16), prompts))

    assert all(c.text.strip() and c.completion_tokens > 0 for c in completions)


def test_spec_names_the_file_not_its_folder(smollm: LocalProvider, smollm_gguf: Path) -> None:
    assert smollm.spec.startswith(f"local:{smollm_gguf.name}:")
    assert str(smollm_gguf.parent) not in smollm.spec


def test_missing_gguf_raises_model_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"

    with pytest.raises(ModelError, match=str(missing)):
        LocalProvider(ModelConfig(provider="local", model=str(missing)))


def test_invalid_gguf_raises_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF not really a model")

    with pytest.raises(ModelError, match="could not load"):
        LocalProvider(ModelConfig(provider="local", model=str(broken)))
