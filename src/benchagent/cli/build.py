"""`benchagent build`, `plan` and `resume`: arguments in, the library's result printed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from benchagent import api
from benchagent.api import BuildResult, Overrides
from benchagent.cli.common import (
    UserError,
    err,
    out,
    parse_roles,
    print_shortfall,
    progress_bar,
    warn,
)
from benchagent.cli.cost import EstimateJsonOpt, MaxCallsOpt, MaxCostOpt, print_estimate
from benchagent.cli.export_cmd import NoExportOpt, after_build
from benchagent.cli.show import executor_line
from benchagent.config import ABLATIONS

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
ConcOpt = Annotated[int | None, typer.Option(
    "--concurrency", "-j",
    help="Samples processed at once (default: 2 per CPU worker, at least 4).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Config file (default: ./benchagent.toml if present).")]
AblateOpt = Annotated[list[str] | None, typer.Option(
    "--ablate", help="Switch one agent to its ablation baseline (repeatable): "
                     + ", ".join(ABLATIONS) + ".")]
FromPlanOpt = Annotated[Path | None, typer.Option(
    "--from-plan", help="Build the plan of this run directory (from `benchagent plan`, edited "
                        "or not): only what depends on an edit reruns. With --out, the plan is "
                        "copied to a new run first.")]
ExecutorOpt = Annotated[str | None, typer.Option(
    "--executor", help="Where CPU operators (speech, rendering, noise) and OCR/ASR read-back "
                       "run: `local` (a process pool, the default) or `ray` (a Ray cluster; "
                       "pip install 'benchagent[ray]'). Same benchmark either way.")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="The Ray cluster for --executor ray (else $RAY_ADDRESS, else a local "
                          "cluster started for the build).")]


EMPTY_BENCHMARK = 3  # exit code of a build that produced no item at all


def _print(result: BuildResult, as_json: bool = False) -> None:
    """The result (a plan's with its cost estimate); a benchmark with no item ends the command
    with EMPTY_BENCHMARK."""
    if result.plan_only and as_json:
        print_estimate(result.estimate, as_json=True)
        return
    if result.plan_only:
        print_estimate(result.estimate)
        out.print(f"plan written: {result.plan_path}")
    else:
        out.print(f"benchmark: {result.items} items (target "
                  f"{result.manifest.query.target_size}) → {result.benchmark_path}")
        if result.manifest.executor is not None and result.manifest.executor.tasks:
            out.print(executor_line(result.manifest.executor), soft_wrap=True)
        print_shortfall(result.shortfall)
        if result.report_path is not None:
            out.print(f"report → {result.report_path}", soft_wrap=True)
    for note in result.plan_notes:
        out.print(f"[yellow]{escape(note)}[/]", soft_wrap=True)
    if result.plan_only:
        return
    if result.items == 0:
        reason = result.shortfall[0].cause if result.shortfall else "nothing was selected"
        err.print(f"[red]error:[/] the benchmark is empty: {escape(reason)}", soft_wrap=True)
        raise typer.Exit(EMPTY_BENCHMARK)


RelatedOpt = Annotated[bool, typer.Option(
    "--include-related", help="Let datasets merely related to the request serve it (relevance "
    "0.25 and up instead of 0.5), for a bigger benchmark that tests less exactly what was asked.")]


def _overrides(size: int | None, pool: list[Path] | None, model: str | None,
               role: list[str] | None, base_url: str | None, seed: int | None,
               concurrency: int | None, ablate: list[str] | None,
               include_related: bool = False, executor: str | None = None,
               ray_address: str | None = None) -> Overrides:
    return Overrides(size=size, pools=pool or [], model=model, roles=parse_roles(role),
                     seed=seed, base_url=base_url, concurrency=concurrency, ablate=ablate or [],
                     include_related=include_related or None, executor=executor,
                     ray_address=ray_address)


def build(query: Annotated[str | None, typer.Argument(
              help="The request as text, or a JSON file {\"id\", \"description\", "
                   "\"target_size\"}. Not needed with --from-plan.")] = None,
          size: SizeOpt = None, pool: PoolOpt = None, out_dir: OutOpt = None,
          model: ModelOpt = None, role: RoleOpt = None, base_url: BaseUrlOpt = None,
          seed: SeedOpt = None, concurrency: ConcOpt = None, config: ConfigOpt = None,
          ablate: AblateOpt = None, from_plan: FromPlanOpt = None,
          include_related: RelatedOpt = False,
          plan_only: Annotated[bool, typer.Option("--plan-only",
                                                  help="Stop after the plan.")] = False,
          baseline: Annotated[str | None, typer.Option(
              "--baseline", help="`direct`: the direct-prompting baseline (the paper's "
                                 "Ablation I): one prompt asks --model for the whole "
                                 "benchmark, text only, in a run that eval, judge and "
                                 "report take.")] = None,
          dry_run: Annotated[bool, typer.Option(
              "--dry-run", help="Plan, print the expected model calls, tokens and cost per "
                                "role, and stop (`resume RUN` builds it).")] = False,
          max_calls: MaxCallsOpt = None, max_cost: MaxCostOpt = None,
          as_json: EstimateJsonOpt = False,
          no_export: NoExportOpt = False, executor: ExecutorOpt = None,
          ray_address: RayAddressOpt = None) -> None:
    """Build a verified benchmark for QUERY."""
    overrides = _overrides(size, pool, model, role, base_url, seed, concurrency, ablate,
                           include_related, executor, ray_address)
    if baseline is not None and from_plan is not None:
        raise UserError("--baseline builds from the request, not from a plan: drop --from-plan")
    if from_plan is not None:
        result = api.build_from_plan(from_plan, out=out_dir, progress=progress_bar, warn=warn,
                                     max_calls=max_calls, max_cost=max_cost, **overrides)
    elif query is None:
        raise UserError("give a QUERY, or --from-plan RUN_DIR")
    else:
        result = api.build(query, out=out_dir, config=config, plan_only=plan_only or dry_run,
                           progress=progress_bar, warn=warn, baseline=baseline,
                           max_calls=max_calls, max_cost=max_cost, **overrides)
    _print(result, as_json)
    after_build(result, no_export)


def plan(query: QueryArg, size: SizeOpt = None, pool: PoolOpt = None, out_dir: OutOpt = None,
         model: ModelOpt = None, role: RoleOpt = None, base_url: BaseUrlOpt = None,
         seed: SeedOpt = None, config: ConfigOpt = None, ablate: AblateOpt = None,
         include_related: RelatedOpt = False, as_json: EstimateJsonOpt = False) -> None:
    """Plan a benchmark for QUERY (subtasks, datasets, operators, quotas) without building it,
    and print its expected model calls, tokens and cost per role."""
    build(query, size=size, pool=pool, out_dir=out_dir, model=model, role=role,
          base_url=base_url, seed=seed, config=config, ablate=ablate, plan_only=True,
          include_related=include_related, as_json=as_json)


def resume(run_dir: Annotated[Path, typer.Argument(help="The run directory.")],
           max_calls: MaxCallsOpt = None, max_cost: MaxCostOpt = None,
           no_export: NoExportOpt = False, executor: ExecutorOpt = None,
           ray_address: RayAddressOpt = None) -> None:
    """Continue a run: finished stages are skipped, accepted samples are kept. A cap counts
    the calls the run made before too. --executor / --ray-address move the rest of the run
    to another backend."""
    result = api.resume(run_dir, progress=progress_bar, warn=warn, max_calls=max_calls,
                        max_cost=max_cost, executor=executor, ray_address=ray_address)
    _print(result)
    after_build(result, no_export)
