"""A built run opened for models to work on it (`eval`, `judge`): its benchmark, its settings
with a config's models on top, clients for the specs given, the trace and the response cache,
and the command recorded in the manifest as a stage."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from benchagent.config import Settings, load_settings
from benchagent.errors import UserError
from benchagent.models import (
    ModelClient,
    ModelConfig,
    ModelError,
    ResponseCache,
    parse_model_spec,
)
from benchagent.records import BenchmarkSample
from benchagent.stages.paths import BENCHMARK, TRACE
from benchagent.store import RunError, RunStore, read_jsonl
from benchagent.trace import Trace, UsageTotals


def model_config(spec: str, settings: Settings, base_url: str | None,
                 concurrency: int | None) -> ModelConfig:
    """`spec` (a name from the config, or a spec) as a model config."""
    try:
        cfg = settings.models.get(spec) or parse_model_spec(spec, base_url or settings.base_url)
    except ValueError as exc:
        raise UserError(f"--model {spec}: {exc}") from exc
    return cfg.model_copy(update={"max_concurrency": concurrency}) if concurrency else cfg


def run_settings(store: RunStore, config: Path | None) -> Settings:
    """The run's settings, with the models and roles of `config` on top."""
    settings = store.manifest.settings
    if config is None:
        return settings
    extra = load_settings(config, {})
    return settings.model_copy(update={"models": {**settings.models, **extra.models},
                                       "roles": {**settings.roles, **extra.roles}})


def benchmark_samples(store: RunStore) -> list[BenchmarkSample]:
    """The run's benchmark items (none when it has no benchmark yet)."""
    path = store.path(BENCHMARK)
    try:
        return [BenchmarkSample.model_validate(r) for r in read_jsonl(path)]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "root"
        raise RunError(f"{path} holds an invalid item: {where}: {first['msg']}") from exc


def unique_specs(specs: Sequence[str], what: str) -> list[str]:
    if not specs:
        raise UserError(f"give at least one --model to {what}")
    if len(set(specs)) != len(specs):
        raise UserError("a --model is given twice: give each model once")
    return list(specs)


def close_providers(clients: Sequence[ModelClient]) -> None:
    for client in clients:
        close = getattr(client.provider, "close", None)
        if callable(close):
            close()


@contextlib.contextmanager
def model_session(store: RunStore,
                  settings: Settings) -> Iterator[tuple[Trace, ResponseCache]]:
    """The run locked, with a trace that continues the manifest's usage totals and the
    response cache; however it ends, the usage is saved and the run released."""
    store.lock()
    try:
        totals = {role: UsageTotals(**vars(u)) for role, u in store.manifest.usage.items()}
        trace = Trace(path=store.path(TRACE), by_role=totals)
        cache = ResponseCache(settings.cache_dir / "responses.sqlite" if settings.cache_dir
                              else store.path("cache/responses.sqlite"))
        try:
            yield trace, cache
        finally:
            store.manifest.usage = {role: UsageTotals(**t) for role, t in trace.totals().items()}
            store.save()
            cache.close()
    finally:
        store.close()


@contextlib.contextmanager
def recorded_stage(store: RunStore, name: str, key: str, labels: tuple[str, Sequence[str]],
                   kept: str) -> Iterator[None]:
    """The command as the manifest's stage `name`, running, then done or failed, and the
    models it used under the manifest's models[labels[0]] (added to those of earlier runs of
    it: usage adds up every run). A model error says what is `kept`."""
    where, mine = labels
    earlier = [x for x in store.manifest.models.get(where, "").split(", ") if x]
    store.manifest.models[where] = ", ".join(earlier + [x for x in mine if x not in earlier])
    store.start(name, key)
    try:
        yield
    except ModelError as exc:
        store.fail(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise ModelError(f"{exc} ({kept})") from exc
    except BaseException as exc:
        store.fail(name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    store.finish(name, key)
