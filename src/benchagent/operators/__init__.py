"""Operators: typed, registered transformations (importing this package registers them all).

An operator is one module: its function, a pydantic model of its arguments, its traits, and a
`register(Operator(...))` call; the module's import below is all the registration it needs."""

from benchagent.operators import audio, image, media, ocr, panels, text, textgen, translation
from benchagent.operators.args import NoArgs, OperatorArgs, Whole, arg_problems
from benchagent.operators.registry import (
    REGISTRY,
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    Traits,
    get_operator,
    register,
    type_check,
    unregister,
)

__all__ = [
    "REGISTRY",
    "NoArgs",
    "OpContext",
    "Operator",
    "OperatorArgs",
    "OperatorError",
    "SampleState",
    "Traits",
    "Whole",
    "arg_problems",
    "audio",
    "get_operator",
    "image",
    "media",
    "ocr",
    "panels",
    "register",
    "text",
    "textgen",
    "translation",
    "type_check",
    "unregister",
]
