"""Hugging Face hub ids: `hf:org/name` or `hf:org/name:split`.

Loaded with `datasets.load_dataset` when that package is installed and the hub is reachable,
then read like any table (the tabular loader's columns, media and card). Without the package
or a network the id is one warning, and the rest of the pool still loads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchagent.pool.base import LoadContext, LoadedDataset, PoolError
from benchagent.pool.formats.tabular.files import Row, hf_features
from benchagent.pool.formats.tabular.table import TableSpec, load_table

HUB_PREFIX = "hf:"
HUB_HINT = "hf: ids need the `datasets` package and a network"


class HubUnavailable(Exception):
    """The hub dataset cannot be loaded here; the message says why."""


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


class HubLoader:
    """`hf:org/name[:split]`: a hub id, not a local path (a folder of that name is one)."""

    name = "hf"

    def recognises(self, path: Path) -> bool:
        return str(path).startswith(HUB_PREFIX) and not path.exists()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_hub(str(path), ctx)
