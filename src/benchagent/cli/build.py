"""`benchagent build`, `plan` and `resume`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from benchagent.cli.common import (
    UserError,
    default_run_dir,
    load_query,
    open_models,
    open_pool,
    out,
    parse_roles,
    print_shortfall,
    progress_bar,
    trace_for,
)
from benchagent.config import ABLATIONS, Settings, load_settings
from benchagent.pipeline import BuildContext, run_build
from benchagent.pool import Pool
from benchagent.records import Query
from benchagent.store import RunError, RunStore

QueryArg = Annotated[str, typer.Argument(help="The request as text, or a JSON file "
                                              '{"id", "description", "target_size"}.')]
SizeOpt = Annotated[int | None, typer.Option("--size", "-n", help="Target number of items.")]
PoolOpt = Annotated[list[Path] | None, typer.Option(
    "--pool", help="A dataset pool (repeatable). Default: the bundled starter pool.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Run directory to create.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="Model for every role: mock, openai:MODEL, local:PATH.gguf, or a name "
                    "from the config. Without one, the rules policies run.")]
RoleOpt = Annotated[list[str] | None, typer.Option(
    "--role", help="Bind one role to a model: ROLE=SPEC (repeatable).")]
BaseUrlOpt = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible endpoint (else $OPENAI_BASE_URL).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed for every random choice.")]
ConcOpt = Annotated[int | None, typer.Option("--concurrency", "-j",
                                             help="Samples processed at once.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Config file (default: ./benchagent.toml if present).")]
AblateOpt = Annotated[list[str] | None, typer.Option(
    "--ablate", help="Switch one agent to its ablation baseline (repeatable): "
                     + ", ".join(ABLATIONS) + ".")]
FromPlanOpt = Annotated[Path | None, typer.Option(
    "--from-plan", help="Build the plan of this run directory (from `benchagent plan`, edited "
                        "or not): only what depends on an edit reruns. With --out, the plan is "
                        "copied to a new run first.")]


def _start(query: Query, settings: Settings, out_dir: Path | None, plan_only: bool) -> None:
    pool = open_pool(settings)
    root = out_dir or default_run_dir(query)
    store = RunStore.create(root, query.model_dump(mode="json"), settings.public())
    _run(store, settings, query, pool, plan_only=plan_only)


def _run(store: RunStore, settings: Settings, query: Query, pool: Pool | None = None,
         plan_only: bool = False) -> None:
    pool = pool or open_pool(settings)
    trace = trace_for(store)
    models = open_models(settings, trace, store)
    try:
        run_build(BuildContext(store, settings, query, pool, models), progress_bar, plan_only)
    finally:
        models.close()
    root = store.root
    if plan_only:
        out.print(f"plan written: {root / 'plan' / 'plan.md'}")
        return
    counts = store.manifest.get("counts", {})
    out.print(f"benchmark: {counts.get('benchmark', 0)} items (target {query.target_size}) "
              f"→ {root / 'benchmark' / 'benchmark.jsonl'}")
    print_shortfall(store.manifest)


def _ablations(values: list[str] | None) -> list[str]:
    unknown = sorted(set(values or []) - set(ABLATIONS))
    if unknown:
        raise UserError(f"unknown --ablate {', '.join(unknown)}: choose from "
                        f"{', '.join(ABLATIONS)}")
    return sorted(set(values or []))


def build(query: Annotated[str | None, typer.Argument(
              help="The request as text, or a JSON file {\"id\", \"description\", "
                   "\"target_size\"}. Not needed with --from-plan.")] = None,
          size: SizeOpt = None, pool: PoolOpt = None, out_dir: OutOpt = None,
          model: ModelOpt = None, role: RoleOpt = None, base_url: BaseUrlOpt = None,
          seed: SeedOpt = None, concurrency: ConcOpt = None, config: ConfigOpt = None,
          ablate: AblateOpt = None, from_plan: FromPlanOpt = None,
          plan_only: Annotated[bool, typer.Option("--plan-only",
                                                  help="Stop after the plan.")] = False) -> None:
    """Build a verified benchmark for QUERY."""
    overrides = {"size": size, "pools": [p.resolve() for p in pool or []], "model": model,
                 "roles": parse_roles(role), "seed": seed, "base_url": base_url,
                 "concurrency": concurrency, "ablate": _ablations(ablate)}
    if from_plan is not None:
        _from_plan(from_plan, out_dir, overrides)
        return
    if query is None:
        raise UserError("give a QUERY, or --from-plan RUN_DIR")
    settings = load_settings(config, overrides)
    q = load_query(query, size or settings.size)
    _start(q, settings, out_dir, plan_only)


def _from_plan(plan_dir: Path, out_dir: Path | None, overrides: dict[str, Any]) -> None:
    store = RunStore.open(plan_dir)
    if out_dir is not None:
        store = store.copy_plan(out_dir)  # a new run, locked by its creation
    else:
        store.lock()
    settings, query = _stored_inputs(store)
    changed = {k: v for k, v in overrides.items() if v not in (None, [], {})}
    settings = Settings.model_validate({**settings.model_dump(), **changed})
    if changed.get("size"):
        query = query.model_copy(update={"target_size": changed["size"]})
    store.manifest["settings"], store.manifest["query"] = settings.public(), query.model_dump()
    _run(store, settings, query)


def plan(query: QueryArg, size: SizeOpt = None, pool: PoolOpt = None, out_dir: OutOpt = None,
         model: ModelOpt = None, role: RoleOpt = None, base_url: BaseUrlOpt = None,
         seed: SeedOpt = None, config: ConfigOpt = None, ablate: AblateOpt = None) -> None:
    """Plan a benchmark for QUERY (subtasks, datasets, operators, quotas) without building it."""
    build(query, size=size, pool=pool, out_dir=out_dir, model=model, role=role,
          base_url=base_url, seed=seed, config=config, ablate=ablate, plan_only=True)


def resume(run_dir: Annotated[Path, typer.Argument(help="The run directory.")]) -> None:
    """Continue a run: finished stages are skipped, accepted samples are kept."""
    store = RunStore.open(run_dir)
    store.lock()
    settings, query = _stored_inputs(store)
    _run(store, settings, query)


def _stored_inputs(store: RunStore) -> tuple[Settings, Query]:
    try:
        return (Settings.model_validate(store.manifest["settings"]),
                Query.model_validate(store.manifest["query"]))
    except (KeyError, ValueError) as exc:
        raise RunError(f"{store.root}/manifest.json is damaged: {exc}") from exc
