"""Prompt templates: one Jinja2 file per prompt, rendered with strict undefined variables."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("benchagent", "prompts"), undefined=StrictUndefined,
                       keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True,
                       autoescape=False)


def render(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values).strip()
