"""`benchagent models`: which model each role uses, and optionally whether it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from benchagent.cli.common import out, parse_roles
from benchagent.config import ROLES, load_settings
from benchagent.models import CompletionRequest, ModelClient, make_provider
from benchagent.trace import Trace


def models(
    model: Annotated[str | None, typer.Option("--model", help="Default model spec.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="ROLE=SPEC")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url")] = None,
    config: Annotated[Path | None, typer.Option("--config")] = None,
    check: Annotated[bool, typer.Option("--check", help="Send each model a tiny request.")]
    = False,
) -> None:
    """List the model bound to each role (rules = no model)."""
    settings = load_settings(config, {"model": model, "roles": parse_roles(role),
                                      "base_url": base_url})
    table = Table()
    for col in ("role", "model", "endpoint") + (("check",) if check else ()):
        table.add_column(col)
    checked: dict[str, str] = {}
    for r in ROLES:
        cfg = settings.model_for(r)
        if cfg is None:
            table.add_row(r, "rules", "-", *(["-"] if check else []))
            continue
        row = [r, cfg.label, cfg.base_url or "-"]
        if check:
            key = cfg.model_dump_json()
            if key not in checked:
                client = ModelClient(make_provider(cfg), cfg, Trace())
                reply = client.complete(CompletionRequest(
                    messages=[{"role": "user", "content": "Say OK."}], max_tokens=4), r)
                checked[key] = f"ok ({reply.text.strip()[:20]!r})"
            row.append(checked[key])
        table.add_row(*row)
    out.print(table)
