"""Hugging Face datasets: `save_to_disk` folders, local Parquet folders and `hf:` hub ids.

- `save_to_disk` of a Dataset: `dataset_info.json`, `state.json`, `data-*.arrow` (Arrow IPC
  streams, read with pyarrow; the `datasets` package is not needed). Of a DatasetDict:
  `dataset_dict.json` and one such folder per split.
- A Parquet folder as on the hub: `data/<split>-00000-of-00001.parquet` or `<split>/*.parquet`.
- `hf:org/name` or `hf:org/name:split`: loaded with `datasets.load_dataset` when that package
  is installed and the hub is reachable, then read like any table.

`ClassLabel` features (from `dataset_info.json` or the table's own metadata) turn integer
labels into their names, which become the card's answer vocabulary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchagent.pool.base import (
    LoadContext,
    LoadedDataset,
    PoolError,
    read_json,
    relpath_or_name,
)
from benchagent.pool.fields import as_text
from benchagent.pool.formats.tabular.files import Row, hf_features
from benchagent.pool.formats.tabular.mapping import DatasetMapping
from benchagent.pool.formats.tabular.sources import (
    KNOWN_SPLITS,
    folder_files,
    folder_mapping,
    load_folder,
    read_files,
)
from benchagent.pool.formats.tabular.table import TableSpec, load_table

DICT_FILE = "dataset_dict.json"
INFO_FILE = "dataset_info.json"
STATE_FILE = "state.json"
HUB_PREFIX = "hf:"
HUB_HINT = "hf: ids need the `datasets` package and a network"


class HubUnavailable(Exception):
    """The hub dataset cannot be loaded here; the message says why."""


def is_saved_dataset(folder: Path) -> bool:
    """A `save_to_disk` folder: a DatasetDict, or a Dataset (state.json + Arrow files)."""
    if (folder / DICT_FILE).is_file():
        return True
    return (folder / STATE_FILE).is_file() and any(folder.glob("*.arrow"))


def is_parquet_folder(folder: Path) -> bool:
    """A hub-style Parquet folder: `data/*.parquet` or `<split>/*.parquet`."""
    subdirs = [folder / "data", *(folder / s for s in KNOWN_SPLITS)]
    return any(d.is_dir() and any(d.glob("*.parquet")) for d in subdirs)


def _info(doc: Any) -> dict[str, str]:
    if not isinstance(doc, dict):
        return {}
    cite = as_text(doc.get("citation")) or as_text(doc.get("homepage"))
    return {k: v for k, v in (("description", as_text(doc.get("description"))),
                              ("license", as_text(doc.get("license"))),
                              ("citation", cite)) if v}


def load_saved(folder: Path, rel_root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every split of a `save_to_disk` folder."""
    usable, mapping = folder_mapping(folder, ctx)
    if not usable:
        return []
    if (folder / DICT_FILE).is_file():
        doc = read_json(folder / DICT_FILE, ctx)
        splits = doc.get("splits") if isinstance(doc, dict) else None
        if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
            if doc is not None:
                ctx.sink.warn(folder / DICT_FILE, "no `splits` list of split names")
            return []
        bad = [s for s in splits if not s or s.startswith(".") or "/" in s or "\\" in s]
        for s in bad:
            ctx.sink.warn(folder / DICT_FILE, f"bad split name {s!r}")
        splits = [s for s in splits if s not in bad and (
            mapping is None or not mapping.split or s == mapping.split)]
        named = [(folder / s, f"{folder.name}/{s}" if len(splits) > 1 else folder.name, s)
                 for s in splits]
    else:
        parent = folder.parent
        if (parent / DICT_FILE).is_file():
            named = [(folder, parent.name, folder.name)]
        else:
            state = read_json(folder / STATE_FILE, ctx)
            split = as_text(state.get("_split")) if isinstance(state, dict) else ""
            named = [(folder, folder.name, split)]
    out: list[LoadedDataset] = []
    for path, name, split in named:
        ds = _load_split(path, (mapping.name if mapping else "") or name, split, rel_root,
                         mapping, ctx)
        out += [ds] if ds else []
    return out


def _arrow_files(folder: Path, ctx: LoadContext) -> list[Path]:
    state = read_json(folder / STATE_FILE, ctx) if (folder / STATE_FILE).is_file() else None
    listed = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(listed, list):
        return sorted(folder.glob("*.arrow"))
    files: list[Path] = []
    for item in listed:
        name = as_text(item.get("filename")) if isinstance(item, dict) else ""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            ctx.sink.warn(folder / STATE_FILE, f"bad data file entry {item!r}")
        elif not (folder / name).is_file():
            ctx.sink.warn(folder / name, "a data file listed in state.json is missing")
        else:
            files.append(folder / name)
    return files


def _load_split(folder: Path, name: str, split: str, rel_root: Path,
                mapping: DatasetMapping | None, ctx: LoadContext) -> LoadedDataset | None:
    if not folder.is_dir():
        ctx.sink.warn(folder, f"split folder {split!r} named in {DICT_FILE} is missing")
        return None
    files = _arrow_files(folder, ctx)
    if not files:
        ctx.sink.warn(folder, "no .arrow data files")
        return None
    info_doc = read_json(folder / INFO_FILE, ctx) if (folder / INFO_FILE).is_file() else None
    rows, features, read = read_files(files, ctx)
    if not read:
        return None
    declared = info_doc.get("features") if isinstance(info_doc, dict) else None
    spec = TableSpec(
        name=name, format="hf-disk", source=str(folder), rel=relpath_or_name(folder, rel_root),
        rows=rows, features=declared if isinstance(declared, dict) else features,
        media_root=folder, mapping=mapping, files=[*files, folder / INFO_FILE], split=split,
        info=_info(info_doc))
    return load_table(spec, ctx)


def load_parquet_folder(folder: Path, rel_root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """A hub-style Parquet folder, one dataset per split."""
    usable, mapping = folder_mapping(folder, ctx)
    if not usable:
        return []
    files = [f for f in folder_files(folder) if f.suffix.lower() == ".parquet"]
    return load_folder(folder, files, rel_root, ctx, mapping=mapping, fmt="parquet")


# ---------------------------------------------------------------- hub ids


def hub_load(name: str, split: str | None) -> Any:
    """`datasets.load_dataset(name, split=split)`, or HubUnavailable."""
    try:
        import datasets
    except ImportError:
        raise HubUnavailable("pip install datasets") from None
    try:
        return datasets.load_dataset(name, split=split)
    except Exception as e:  # no network, unknown id, gated dataset...: all one answer here
        text = " ".join(str(e).split())[:200] or type(e).__name__
        raise HubUnavailable(f"could not load {name!r}: {text}") from e


def _is_columns(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(
        isinstance(v, list) for v in obj.values())


def hub_table(obj: Any) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """(rows, features, fingerprint) of a hub Dataset, a pyarrow Table or a dict of columns."""
    features: dict[str, Any] = {}
    if hasattr(obj, "with_format"):  # a datasets.Dataset
        feats: Any = getattr(obj, "features", None)
        features = feats.to_dict() if hasattr(feats, "to_dict") else {}
        obj = obj.with_format("arrow")[:]
    if hasattr(obj, "to_pylist"):  # a pyarrow Table
        features = features or hf_features(obj.schema.metadata)
        rows = obj.to_pylist()
    elif _is_columns(obj):
        cols = list(obj)
        rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*obj.values(), strict=True)]
    elif isinstance(obj, list) and all(isinstance(r, dict) for r in obj):
        rows = obj
    else:
        raise HubUnavailable(f"cannot read a {type(obj).__name__} as a table")
    blob = json.dumps(rows, sort_keys=True, default=repr).encode("utf-8", "surrogatepass")
    return rows, features, hashlib.sha256(blob).hexdigest()


def load_hub(ref: str, ctx: LoadContext) -> list[LoadedDataset]:
    """`hf:org/name[:split]`: every split asked for, or a warning when the hub is out of reach."""
    name, _, split = ref.removeprefix(HUB_PREFIX).strip().partition(":")
    if not name:
        raise PoolError(f"{ref!r}: an hf: id names a dataset: hf:org/name or hf:org/name:split")
    try:
        obj = hub_load(name, split or None)
        parts = ([(k, v) for k, v in obj.items()] if isinstance(obj, Mapping)
                 and not _is_columns(obj) else [(split, obj)])
        tables = [(s, *hub_table(part)) for s, part in parts]
    except HubUnavailable as e:
        ctx.sink.warn(ref, f"{HUB_HINT}: {e}")
        return []
    out: list[LoadedDataset] = []
    for part_split, rows, features, fingerprint in tables:
        source = f"{HUB_PREFIX}{name}:{part_split}" if part_split else f"{HUB_PREFIX}{name}"
        spec = TableSpec(
            name=f"{name}/{part_split}" if part_split and len(tables) > 1 else name,
            format="hf", source=source, rel=f"{HUB_PREFIX}{name}",
            rows=[Row(Path(source), i, r) for i, r in enumerate(rows)], features=features,
            key_extra=(fingerprint,), split=str(part_split))
        ds = load_table(spec, ctx)
        out += [ds] if ds else []
    return out
