"""`benchagent models`: which model each role uses, and optionally whether it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchagent.cli.common import parse_roles
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.config import ROLES, Settings, load_settings
from benchagent.models import CompletionRequest, ModelClient, ModelConfig, make_provider
from benchagent.trace import Trace


def models(
    model: Annotated[str | None, typer.Option("--model", help="Default model spec.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="ROLE=SPEC")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url")] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    check: Annotated[bool, typer.Option("--check", help="Send each model a tiny request.")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """List the model bound to each role (rules = no model)."""
    settings = load_settings(config, {"model": model, "roles": parse_roles(role),
                                      "base_url": base_url})
    rows = _bindings(settings, check)
    if as_json:
        print_json(rows)
        return
    table = listing_table("role", "model", "endpoint", *(("check",) if check else ()))
    for r in rows:
        table.add_row(r["role"], r["model"], r["endpoint"] or "-",
                      *([r["check"] or "-"] if check else []))
    print_table(table)


def _bindings(settings: Settings, check: bool) -> list[dict[str, str | None]]:
    """Per role: the model's label ("rules" without one), its endpoint and, with `check`, how
    it answered a tiny request (asked once per distinct model)."""
    rows: list[dict[str, str | None]] = []
    answers: dict[str, str] = {}
    for r in ROLES:
        cfg = settings.model_for(r)
        row: dict[str, str | None] = {"role": r, "model": cfg.label if cfg else "rules",
                                      "endpoint": cfg.base_url if cfg else None}
        if check:
            row["check"] = _check(cfg, r, answers) if cfg else None
        rows.append(row)
    return rows


def _check(cfg: ModelConfig, role: str, answers: dict[str, str]) -> str:
    key = cfg.model_dump_json()
    if key not in answers:
        client = ModelClient(make_provider(cfg), cfg, Trace())
        reply = client.complete(CompletionRequest(
            messages=[{"role": "user", "content": "Say OK."}], max_tokens=4), role)
        answers[key] = f"ok ({reply.text.strip()[:20]!r})"
    return answers[key]
