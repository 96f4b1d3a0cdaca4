"""Asking the executor model from an operator: a prompt template, a typed output schema and a
check that rejects output breaking the item; the client's repair loop retries, and output that
stays invalid rejects the sample with a one-line reason. Also the budgets that keep prompts
short."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, create_model

from benchagent.models import StructuredOutputError
from benchagent.operators.registry import OpContext, OperatorError
from benchagent.prompts import render

T = TypeVar("T", bound=BaseModel)

CONTEXT_BUDGET = 4000  # characters of one context shown in a prompt
TEXT_BUDGET = 1500  # characters of a question or an answer shown in a prompt
OPTION_BUDGET = 200  # characters of one option
MAX_OPTIONS = 20
PROMPT_BUDGET = 16000  # no rendered prompt is longer than this
# Long text fields carry no maxLength: llama.cpp's grammar refuses repetitions above ~2000.
_MARKER_ROOM = 40

Option = Annotated[str, Field(min_length=1, max_length=OPTION_BUDGET)]


def clip(text: str, budget: int = CONTEXT_BUDGET) -> str:
    """`text` if it fits in `budget` characters, else its head and a marker saying what was cut."""
    if len(text) <= budget:
        return text
    head = text[:max(budget - _MARKER_ROOM, 1)]
    space = head.rfind(" ")
    if space > len(head) * 0.8:
        head = head[:space]
    return f"{head.rstrip()} [… {len(text) - len(head)} characters cut]"


def sized(schema: type[T], **lengths: int) -> type[T]:
    """`schema` with list fields of exactly these lengths, which constrained decoding keeps."""
    fields: dict[str, Any] = {}
    for name, length in lengths.items():
        annotation = schema.model_fields[name].annotation
        fields[name] = (annotation, Field(min_length=length, max_length=length) if length
                        else Field(default_factory=list, max_length=0))
    return create_model(schema.__name__, __base__=schema, **fields)


def shown_options(options: list[str]) -> list[str]:
    return [clip(o, OPTION_BUDGET) for o in options[:MAX_OPTIONS]]


def ask_model(ctx: OpContext, op: str, template: str, schema: type[T],
              check: Callable[[T], None], *, max_tokens: int = 768, **values: Any) -> T:
    """The executor model's checked `schema` answer to a prompt; invalid output → OperatorError."""
    client = ctx.require_model(op)
    prompt = render(template, **values)
    if len(prompt) > PROMPT_BUDGET:
        raise OperatorError(f"{op}: the item is too long for one prompt ({len(prompt)} characters, "
                            f"limit {PROMPT_BUDGET})")
    try:
        return client.generate([{"role": "user", "content": prompt}], schema, role="executor",
                               check=check, max_tokens=max_tokens,
                               seed=ctx.rng.randrange(2**31))
    except StructuredOutputError as exc:
        reason = " ".join(str(exc).split())
        raise OperatorError(f"{op}: model output stayed invalid: {reason}") from None
