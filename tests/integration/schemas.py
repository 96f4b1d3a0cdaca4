"""The small JSON schema the real-model tests ask for."""

from __future__ import annotations

from typing import Any

COUNTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 24},
        "count": {"type": "integer"},
    },
    "required": ["name", "count"],
    "additionalProperties": False,
}
