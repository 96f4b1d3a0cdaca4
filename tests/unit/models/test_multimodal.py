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
from benchagent.models.openai_provider import OpenAIProvider, media_refused
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


@pytest.mark.parametrize("message", [
    'can only concatenate str (not "list") to str',  # llama-cpp-python's server, an image
    "15 validation errors:\n  {'type': 'string_type', 'msg': 'Input should be a valid string'}",
    "image input is not supported - hint: if this is unexpected, you may need to provide the "
    "mmproj",  # llama.cpp's server
    "audio input is not supported by this server",
    "Qwen2 is not a multimodal model",
])
def test_servers_refusing_media_are_recognised(message: str) -> None:
    assert media_refused(message)


@pytest.mark.parametrize("message", ["scripted fault 500", "CUDA out of memory",
                                     "upstream connect error", "model is loading"])
def test_other_server_faults_are_not_a_refusal(message: str) -> None:
    assert not media_refused(message)
