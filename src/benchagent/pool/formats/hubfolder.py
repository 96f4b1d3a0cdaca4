"""Hugging Face datasets in Hub layout: a local folder, or an `hf:` id from the datasets cache.

A Hub-layout folder has a README.md dataset card whose YAML front matter declares `configs`
(with `data_files`) or `dataset_info`, and its data files (Parquet, JSONL, CSV...). It is read by
`datasets.load_dataset(folder, config)` itself, one pool dataset per config and split, then
mapped like any table (the tabular loader's column roles, ClassLabel names, embedded media and
`benchagent-dataset.toml` mapping). Without the `datasets` package such a folder is left to the
plain Parquet-folder and file loaders, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchagent.pool.base import LoadContext, LoadedDataset, relpath_or_name
from benchagent.pool.formats.hfdatasets import (
    DatasetsUnavailable,
    SplitTable,
    datasets_installed,
    load_offline,
)
from benchagent.pool.formats.hubcard import README, HubCard, card_info, is_hub_card, read_card
from benchagent.pool.formats.loader import DATASET_FOLDER
from benchagent.pool.formats.tabular.files import Row
from benchagent.pool.formats.tabular.mapping import DatasetMapping
from benchagent.pool.formats.tabular.sources import folder_mapping
from benchagent.pool.formats.tabular.table import TableSpec, load_table


def is_hub_folder(folder: Path) -> bool:
    return folder.is_dir() and is_hub_card(folder / README)


def _stays_inside(folder: Path, card: HubCard, ctx: LoadContext) -> bool:
    """False (with a warning) when `datasets` would read a file outside the pool: a data_files
    pattern that climbs out or is absolute, or a file below the folder that links outside."""
    patterns = [p for c in card.meta.get("configs") or [] if isinstance(c, dict)
                for p in _patterns(c.get("data_files"))]
    bad = [p for p in patterns if p.startswith(("/", "\\")) or ".." in p or "://" in p]
    if bad:
        ctx.sink.warn(folder / README, f"data_files {bad[0]!r} points outside the folder; "
                      "not loaded")
        return False
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not ctx.confined(Path(dirpath) / name):
                return False
    return True


def _patterns(files: Any) -> list[str]:
    if isinstance(files, str):
        return [files]
    if isinstance(files, dict):
        return _patterns(files.get("path"))
    return [p for f in files for p in _patterns(f)] if isinstance(files, list) else []


def table_datasets(tables: list[SplitTable], *, name: str, source: Callable[[str], str],
                   rel: str, card: tuple[dict[str, str], list[str]],
                   mapping: DatasetMapping | None, media_root: Path | None,
                   ctx: LoadContext) -> list[LoadedDataset]:
    """One pool dataset per split table; `source(split)` is what its card shows as source."""
    info, tasks = card
    out: list[LoadedDataset] = []
    for table in tables:
        where = source(table.split)
        if table.dropped:
            ctx.sink.warn(where, f"only the first {len(table.rows)} rows are read "
                          f"({table.dropped} more left out)")
        # what a bad row's warning names: <folder>/<split>#row3, or hf:ORG/NAME@split#row3
        row_file = media_root / (table.split or "rows") if media_root else Path(where)
        spec = TableSpec(
            name=f"{name}/{table.split}" if table.split and len(tables) > 1 else name,
            format="hf", source=where, rel=rel,
            rows=[Row(row_file, i, r) for i, r in enumerate(table.rows)],
            features=table.features, media_root=media_root, mapping=mapping,
            key_extra=(table.fingerprint,), split=table.split,
            info={**table.info, **info}, tasks=tasks, label_options=True)
        ds = load_table(spec, ctx)
        out += [ds] if ds else []
    return out


def _folder_source(where: str, split: str) -> str:
    return f"{where}@{split}" if split else where


def load_hub_folder(folder: Path, rel_root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every config and split of a Hub-layout folder (or the mapping's one split)."""
    usable, mapping = folder_mapping(folder, ctx)
    if not usable:
        return []
    card = read_card(folder / README)
    if not _stays_inside(folder, card, ctx):
        return []
    configs: list[str | None] = [*card.configs] or [None]
    split = mapping.split if mapping and mapping.split else None
    cache = ctx.cache_root / "hf-datasets" if ctx.cache_root else None
    base = (mapping.name if mapping else "") or folder.name
    rel = relpath_or_name(folder, rel_root)
    info = card_info(card)
    out: list[LoadedDataset] = []
    for config in configs:
        try:
            tables = load_offline(str(folder), config, split, cache)
        except DatasetsUnavailable as e:
            ctx.sink.warn(folder / README, f"`datasets` cannot load this folder: {e}")
            continue
        named = f":{config}" if len(configs) > 1 else ""  # the config, when there are several
        out += table_datasets(
            tables, name=f"{base}/{config}" if named else base,
            source=partial(_folder_source, f"{folder}{named}"),
            rel=rel + named, card=info, mapping=mapping, media_root=folder, ctx=ctx)
    return out


class HubFolderLoader:
    """A folder in Hugging Face Hub layout (README.md card with configs), read by `datasets`."""

    name = "hf"
    walk_group = DATASET_FOLDER
    marker_files: tuple[str, ...] = ()  # README.md marks too many folders to stand for one
    kind = "a Hugging Face dataset in Hub layout"

    def recognises(self, path: Path) -> bool:
        return is_hub_folder(path) and datasets_installed()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_hub_folder(path, path.parent, ctx)

    def finds(self, path: Path) -> bool:
        return self.recognises(path)

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for folder in paths for ds in load_hub_folder(folder, root, ctx)]
