"""Operator arguments: one pydantic model per operator, the reasons a value does not fit it,
and the compact views of it that planners and `benchagent tools` show."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import ErrorDetails


class OperatorArgs(BaseModel):
    """Base of every operator's arguments: JSON types as they are (no number read from text, no
    true from "yes"), no unknown names, a default and a description for every field."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoArgs(OperatorArgs):
    """The arguments of an operator that takes none."""


def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Integers may come as 4.0 (JSON Schema counts 4.0 as an integer too). Bounds of an integer
# inside a union go before `accepts_whole_floats`, or the JSON schema loses them.
accepts_whole_floats = BeforeValidator(_whole_number)
Whole = Annotated[int, accepts_whole_floats]


def arg_problems(model: type[OperatorArgs], raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(argument, reason) for each way `raw` does not fit `model`, empty when it fits. The
    argument is "" for unknown names (all in one reason) and for checks across arguments."""
    try:
        model.model_validate(dict(raw))
    except ValidationError as exc:
        return problems_of(model, exc)
    return []


def problems_of(model: type[OperatorArgs], exc: ValidationError) -> list[tuple[str, str]]:
    """(argument, reason) for each error of validating arguments against `model`."""
    errors = exc.errors()
    unknown = sorted(_named(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    problems = [("", f"unknown argument {', '.join(unknown)}")] if unknown else []
    named: set[str] = set()
    for error in errors:
        name = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden" or (name and name in named):
            continue  # one reason per argument: a union reports once per member
        named.add(name)
        reason = _reason(model, name, error)
        problems.append((name, f"{name} {reason}" if name else reason))
    return problems


_KINDS = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a number",
          "bool_type": "true or false", "string_type": "a string", "list_type": "a list"}


def _reason(model: type[OperatorArgs], name: str, error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), _shown(error.get("input"))
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, not {value}"
    if kind == "literal_error":
        choices = [c.strip().strip("'") for c in
                   str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        listed = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
        return f"must be {listed}, not {value}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(model, name, ctx)
        if low is not None and high is not None:
            return f"must be between {low} and {high}, not {value}"
        return f"must be at least {low}, not {value}" if low is not None else \
            f"must be at most {high}, not {value}"
    message = error["msg"]
    return f"{message[:1].lower()}{message[1:]}, not {value}"


def _named(name: str | int) -> str:
    """An argument's name as given, quoted when it is not a plain word (one line always)."""
    text = str(name)
    return text if text.isidentifier() else _shown(text)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(model: type[OperatorArgs], name: str,
            ctx: dict[str, Any]) -> tuple[str | None, str | None]:
    """The field's minimum and maximum (from the member of a union that has the bound hit)."""
    prop = args_schema(model).get("properties", {}).get(name, {})
    hit = ctx.get("ge", ctx.get("le"))
    for member in [prop, *prop.get("anyOf", [])]:
        if hit in (member.get("minimum"), member.get("maximum")):
            low, high = member.get("minimum"), member.get("maximum")
            return (None if low is None else _number(low), None if high is None else _number(high))
    return (_number(ctx["ge"]) if "ge" in ctx else None,
            _number(ctx["le"]) if "le" in ctx else None)


@cache
def args_schema(model: type[OperatorArgs]) -> dict[str, Any]:
    """The model's JSON schema without titles: what a planner is shown."""
    compact = _untitled(model.model_json_schema())
    assert isinstance(compact, dict)
    return compact


def brief_schema(model: type[OperatorArgs]) -> dict[str, dict[str, Any]]:
    """The schema's properties for a prompt, short: without an optional value's null
    alternative, a choice's type, or a description where the schema says what to give (a
    choice, a bounded number, a flag); free text and lists keep theirs."""
    return {name: _brief(prop) for name, prop in args_schema(model).get("properties", {}).items()}


_BRIEF_ORDER = ("enum", "type", "anyOf", "items", "default", "minimum", "maximum", "minItems",
                "maxItems", "description")


def _brief(prop: dict[str, Any]) -> dict[str, Any]:
    members = [m for m in prop.get("anyOf", []) if m != {"type": "null"}]
    if len(members) == 1 and len(prop["anyOf"]) == 2:
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **members[0]}
    if "enum" in prop:
        prop = {k: v for k, v in prop.items() if k != "type"}
    if "anyOf" in prop:
        prop = {**prop, "anyOf": [_brief(m) for m in prop["anyOf"]]}
    if prop.get("type") not in ("string", "array") or "enum" in prop.get("items", {}):
        prop = {k: v for k, v in prop.items() if k != "description"}
    if prop.get("default", "") is None:
        prop = {k: v for k, v in prop.items() if k != "default"}
    return {key: prop[key] for key in _BRIEF_ORDER if key in prop}


def _untitled(node: Any) -> Any:
    if isinstance(node, list):
        return [_untitled(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: ({name: _untitled(sub) for name, sub in value.items()}
                  if key in ("properties", "$defs") else _untitled(value))
            for key, value in node.items() if key != "title"}


def arg_summaries(model: type[OperatorArgs]) -> list[dict[str, str]]:
    """Per argument: name, type, default, range and description, as short text for people."""
    schema = args_schema(model)
    required = set(schema.get("required", []))
    return [{"name": name, "type": _type_text(prop),
             "default": "required" if name in required else json.dumps(prop.get("default")),
             "range": _range_text(prop), "description": str(prop.get("description", ""))}
            for name, prop in schema.get("properties", {}).items()]


def _type_text(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(str(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_type_text(member) for member in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list of {_type_text(prop.get('items', {}))}"
    return str(prop.get("type", "any"))


def _range_text(prop: dict[str, Any]) -> str:
    for member in [prop, *prop.get("anyOf", [])]:
        low, high = member.get("minimum"), member.get("maximum")
        if low is not None and high is not None:
            return f"{_number(low)} to {_number(high)}"
        if low is not None or high is not None:
            return f"at least {_number(low)}" if low is not None else f"at most {_number(high)}"
    return ""
