"""Operators: typed, registered transformations (importing this package registers them all)."""

from benchagent.operators import audio, image, media, ocr, text, textgen
from benchagent.operators.registry import (
    REGISTRY,
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    get_operator,
    type_check,
)

__all__ = [
    "REGISTRY",
    "OpContext",
    "Operator",
    "OperatorError",
    "SampleState",
    "audio",
    "get_operator",
    "image",
    "media",
    "ocr",
    "text",
    "textgen",
    "type_check",
]
