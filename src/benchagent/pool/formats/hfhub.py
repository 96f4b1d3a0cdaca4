"""Hugging Face hub ids: `hf:ORG/NAME[:config][@split]`, read from the local cache only.

`datasets.load_dataset(ORG/NAME, config, split=split)` runs with the hub offline: a dataset
loaded once with network (which leaves it in the `datasets` cache) reloads from there, and one
that is not cached is one clear error, never a download. The card's words come from the
dataset's README.md when the hub cache holds it (a networked load leaves it there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from benchagent.paths import HUB_PREFIX
from benchagent.pool.base import LoadContext, LoadedDataset, PoolError
from benchagent.pool.formats.hfdatasets import DatasetsUnavailable, NotCached, load_offline
from benchagent.pool.formats.hubcard import README, card_info, read_card
from benchagent.pool.formats.hubfolder import table_datasets

_SPEC = re.compile(r"(?P<name>[\w.-]+(?:/[\w.-]+)?)(?::(?P<config>[\w.-]+))?"
                   r"(?:@(?P<split>[\w.\[\]:%+-]+))?")
SPEC_FORM = "hf:ORG/NAME[:config][@split]"


@dataclass(frozen=True)
class HubSpec:
    name: str
    config: str | None = None
    split: str | None = None

    def __str__(self) -> str:
        config = f":{self.config}" if self.config else ""
        split = f"@{self.split}" if self.split else ""
        return f"{HUB_PREFIX}{self.name}{config}{split}"


def parse_spec(ref: str) -> HubSpec:
    """`hf:ORG/NAME[:config][@split]`, or PoolError saying the form."""
    match = _SPEC.fullmatch(ref.removeprefix(HUB_PREFIX).strip())
    if match is None:
        raise PoolError(f"{ref!r} is not a Hugging Face id: write {SPEC_FORM}")
    return HubSpec(match["name"], match["config"], match["split"])


def not_cached_line(spec: HubSpec, cache: str) -> str:
    config = f", {spec.config!r}" if spec.config else ""
    return (f"{HUB_PREFIX}{spec.name} is not in the Hugging Face cache ({cache}) and benchagent "
            "does not download: load it once with network, e.g. `python -c \"import datasets; "
            f"datasets.load_dataset({spec.name!r}{config})\"`, then run this again")


def cached_readme(name: str) -> Path | None:
    """The dataset's README.md in the hub cache, if a networked load left it there."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(name, README, repo_type="dataset")
    return Path(found) if isinstance(found, str) else None


def load_hub(ref: str, ctx: LoadContext) -> list[LoadedDataset]:
    """Every split of `hf:ORG/NAME[:config]`, or the one asked for with `@split`."""
    spec = parse_spec(ref)
    try:
        tables = load_offline(spec.name, spec.config, spec.split)
    except NotCached as e:
        raise PoolError(not_cached_line(spec, e.cache)) from e
    except DatasetsUnavailable as e:
        raise PoolError(f"{spec}: {e}") from e
    base = HubSpec(spec.name, spec.config)
    return table_datasets(
        tables, name=f"{spec.name}:{spec.config}" if spec.config else spec.name,
        source=lambda split: str(HubSpec(spec.name, spec.config, split or None)),
        rel=str(base), card=card_info(read_card(cached_readme(spec.name))), mapping=None,
        media_root=None, ctx=ctx)


class HubLoader:
    """`hf:ORG/NAME[:config][@split]`: a hub id, not a local path (a folder of that name is)."""

    name = "hf"

    def recognises(self, path: Path) -> bool:
        return str(path).startswith(HUB_PREFIX) and not path.exists()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_hub(str(path), ctx)
