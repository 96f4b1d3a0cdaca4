"""The llama_cpp.server fixture speaks the OpenAI chat API with schema-constrained JSON."""

from __future__ import annotations

import json

import httpx
from tests.integration.schemas import COUNTER_SCHEMA


def test_chat_completion_with_json_schema(llama_server: str) -> None:
    payload = {
        "messages": [
            {"role": "user", "content": "A basket holds 3 apples. Answer as JSON: name, count."}
        ],
        "response_format": {"type": "json_object", "schema": COUNTER_SCHEMA},
        "temperature": 0.0,
        "max_tokens": 64,
        "seed": 0,
    }

    response = httpx.post(f"{llama_server}/chat/completions", json=payload, timeout=120.0)

    assert response.status_code == 200, response.text
    body = response.json()
    value = json.loads(body["choices"][0]["message"]["content"])
    assert isinstance(value["name"], str)
    assert isinstance(value["count"], int)
    assert body["usage"]["completion_tokens"] > 0
