"""`benchagent pool index | ls | show | search`: the datasets benchagent can draw on.

`pool index PATH...` remembers the paths in a registry ($BENCHAGENT_CACHE/pools.json); the other
commands read the registered pools, or the paths given with --pool.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from benchagent.cli.common import UserError, err, out
from benchagent.cli.listing import JsonOpt, listing_table, print_json, print_table
from benchagent.paths import cache_dir, pool_path
from benchagent.pool import Pool
from benchagent.records import AnswerType, DatasetCard, Modality
from benchagent.store import atomic_write_json

app = typer.Typer(help="Index, list, inspect and search the dataset pool.", no_args_is_help=True)

PoolOpt = Annotated[list[Path] | None, typer.Option(
    "--pool", help="Use these pool paths instead of the registered ones (repeatable).")]


def registry_path() -> Path:
    return cache_dir() / "pools.json"


def registered() -> list[Path]:
    path = registry_path()
    if not path.exists():
        return []
    try:
        return [Path(p) for p in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the pool registry {path}: {exc}") from exc


def _open(paths: list[Path] | None) -> Pool:
    chosen = [pool_path(p) for p in paths] if paths else registered()
    if not chosen:
        raise UserError("no pool registered: run `benchagent pool index PATH...` or pass --pool")
    return Pool.load(chosen)


def _find(pool: Pool, name: str) -> DatasetCard:
    exact = [c for c in pool.cards if name in (c.id, c.name)]
    loose = [c for c in pool.cards if name.lower() in c.name.lower()]
    matches = exact or loose
    if len(matches) != 1:
        hint = ", ".join(c.name for c in matches[:5])
        raise UserError(f"no dataset named {name!r}" if not matches
                        else f"{name!r} matches {len(matches)} datasets: {hint}")
    return matches[0]


@app.command("index")
def index(paths: Annotated[list[Path], typer.Argument(help="Pool folders or dataset files.")],
          replace: Annotated[bool, typer.Option(help="Forget the paths registered before.")]
          = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                help="List every skipped file.")] = False) -> None:
    """Index datasets (build their cards) and register the paths for later commands."""
    resolved = [pool_path(p) for p in paths]
    pool = Pool.load(resolved)
    if not pool.cards:
        _print_warnings(pool, verbose)
        raise UserError(_nothing_indexed(resolved, pool))
    pool.search("warm up the index", k=1)
    keep = [] if replace else [p for p in registered() if p not in resolved]
    atomic_write_json(registry_path(), [str(p) for p in keep + resolved])
    by_format = Counter(c.format for c in pool.cards)
    samples = sum(c.size for c in pool.cards)
    formats = ", ".join(f"{n} {fmt}" for fmt, n in sorted(by_format.items()))
    out.print(f"indexed {len(pool.cards)} datasets ({formats}), {samples} samples")
    _print_warnings(pool, verbose)


def _nothing_indexed(paths: list[Path], pool: Pool) -> str:
    """The reason `pool index` found no dataset: the first thing skipped, if anything was."""
    where = ", ".join(str(p) for p in paths)
    if not pool.warnings:
        return f"indexed 0 datasets: nothing in {where} is a dataset; nothing registered"
    more = len(pool.warnings) - 1
    also = f" (and {more} more skipped, listed above)" if more else ""
    return f"indexed 0 datasets from {where}: {pool.warnings[0]}{also}; nothing registered"


def _print_warnings(pool: Pool, verbose: bool) -> None:
    if pool.warnings:
        out.print(f"[yellow]skipped {len(pool.warnings)} file(s) or sample(s):[/]")
        for warning in pool.warnings if verbose else pool.warnings[:10]:
            out.print(f"  {warning}", soft_wrap=True)
        if not verbose and len(pool.warnings) > 10:
            out.print(f"  ... and {len(pool.warnings) - 10} more (--verbose lists them all)")


def _listed(card: DatasetCard) -> dict[str, Any]:
    return {"id": card.id, "name": card.name, "format": card.format,
            "inputs": [m.value for m in card.modalities_in],
            "answer_type": card.answer_type.value, "size": card.size, "language": card.language}


@app.command("ls")
def ls(pool: PoolOpt = None, as_json: JsonOpt = False) -> None:
    """List the datasets of the pool."""
    rows = [_listed(c) for c in sorted(_open(pool).cards, key=lambda c: c.name.lower())]
    if as_json:
        print_json(rows)
        return
    table = listing_table("id", "name", "format", "inputs", "answer type", "size", "lang",
                          right=("size",))
    for r in rows:
        table.add_row(r["id"], r["name"], r["format"], "+".join(r["inputs"]), r["answer_type"],
                      str(r["size"]), r["language"])
    print_table(table)


@app.command("show")
def show(dataset: Annotated[str, typer.Argument(help="Dataset id or name.")],
         pool: PoolOpt = None,
         examples: Annotated[int, typer.Option(help="Samples to print.")] = 2) -> None:
    """Show one dataset's card and a few of its samples."""
    opened = _open(pool)
    card = _find(opened, dataset)
    out.print_json(card.model_dump_json())
    for sample in opened.samples(card.id)[:examples]:
        out.print(f"[bold]sample {sample.source_id}[/]")
        out.print_json(sample.model_dump_json(exclude_defaults=True))


@app.command("search")
def search(text: Annotated[str, typer.Argument(help="What the data should be about.")],
           pool: PoolOpt = None,
           k: Annotated[int, typer.Option("-k", help="How many results.")] = 10,
           modality: Annotated[list[Modality] | None, typer.Option(
               help="Required input modality (repeatable).")] = None,
           answer_type: Annotated[list[AnswerType] | None, typer.Option(
               help="Allowed answer type (repeatable).")] = None,
           as_json: JsonOpt = False) -> None:
    """Rank the pool's datasets for a description, with the reason for each score."""
    hits = _open(pool).search(text, k=k, modalities=set(modality) if modality else None,
                              answer_types=set(answer_type) if answer_type else None)
    rows: list[dict[str, Any]] = [{"rank": rank, "score": hit.score, "dataset": hit.card.name,
                                   "dataset_id": hit.card.id,
                                   "answer_type": hit.card.answer_type.value, "why": hit.reason}
                                  for rank, hit in enumerate(hits, 1)]
    if as_json:
        print_json(rows)
    elif rows:
        table = listing_table("#", "score", "dataset", "answer type", "why")
        for r in rows:
            table.add_row(str(r["rank"]), f"{r['score']:.3f}", r["dataset"], r["answer_type"],
                          r["why"])
        print_table(table)
    if not rows:
        err.print("no dataset matches")
        raise typer.Exit(1)
