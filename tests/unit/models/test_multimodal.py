"""Requests with image and audio parts: the mock reads them, refuses what its script says it
cannot take, and an OpenAI-compatible server's refusal is final (no retry) and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchagent.models import (
    CompletionRequest,
    InputRejectedError,
    MockProvider,
    MockRule,
    ModelConfig,
    TransientModelError,
    media_parts,
)
from benchagent.models.openai_provider import OpenAIProvider
from faultserver import FaultServer

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
OPTIONS = "Question: which?\n\nOptions:\nA. one\nB. two\nC. three"


def ask(*parts: dict[str, object], text: str = OPTIONS) -> CompletionRequest:
    content = [*parts, {"type": "text", "text": text}]
    return CompletionRequest(messages=[{"role": "user", "content": content}])


def test_media_parts_are_named() -> None:
    assert media_parts(ask(IMAGE, AUDIO)) == ["image_url", "input_audio"]
    assert media_parts(CompletionRequest(messages=[{"role": "user", "content": "hi"}])) == []


def test_the_mock_reads_parts_and_picks_a_lettered_option_deterministically() -> None:
    mock = MockProvider(rules=[MockRule("<image>\nQuestion: which?", "B) two")])
    assert mock.complete(ask(IMAGE)).text == "B) two"
    picked = mock.complete(ask(AUDIO)).text
    assert picked in {f"The answer is ({x})." for x in "ABC"}
    assert MockProvider().complete(ask(AUDIO)).text == picked
    plain = CompletionRequest(messages=[{"role": "user", "content": "no options here"}])
    assert mock.complete(plain).text == "mock answer"


def test_a_text_only_mock_refuses_media(tmp_path: Path) -> None:
    script = tmp_path / "textonly.json"
    script.write_text(json.dumps({"inputs": ["image"], "rules": []}))
    mock = MockProvider(ModelConfig(provider="mock", model=str(script)))
    assert mock.complete(ask(IMAGE)).text.startswith("The answer is")
    with pytest.raises(InputRejectedError, match="takes no audio input"):
        mock.complete(ask(AUDIO))


def test_a_refused_request_is_final_and_marked() -> None:
    with FaultServer() as server:
        server.script(["400"])
        provider = OpenAIProvider(ModelConfig(provider="openai", model="test-model",
                                              base_url=server.base_url))
        with pytest.raises(InputRejectedError, match=r"\(400\)") as info:
            provider.complete(ask(IMAGE))
        assert not isinstance(info.value, TransientModelError)
        assert provider.complete(ask(IMAGE)).text == "ok"
        assert server.requests[0]["messages"][0]["content"][0] == IMAGE
