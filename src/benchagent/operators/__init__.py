"""Operators: typed, registered transformations (importing this package registers them all)."""

from benchagent.operators import media, text
from benchagent.operators.registry import (
    REGISTRY,
    OpContext,
    Operator,
    OperatorError,
    SampleState,
    get_operator,
    type_check,
)

__all__ = ["REGISTRY", "OpContext", "Operator", "OperatorError", "SampleState", "get_operator",
           "media", "text", "type_check"]
