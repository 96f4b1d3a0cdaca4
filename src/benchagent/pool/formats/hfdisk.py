"""Hugging Face datasets on disk: `save_to_disk` folders and local (hub-style) Parquet folders.

- `save_to_disk` of a Dataset: `dataset_info.json`, `state.json`, `data-*.arrow` (Arrow IPC
  streams, read with pyarrow; the `datasets` package is not needed). Of a DatasetDict:
  `dataset_dict.json` and one such folder per split.
- A Parquet folder as on the hub: `data/<split>-00000-of-00001.parquet` or `<split>/*.parquet`.

`ClassLabel` features (from `dataset_info.json` or the table's own metadata) turn integer
labels into their names, which become the card's answer vocabulary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchagent.pool.base import (
    LoadContext,
    LoadedDataset,
    read_json,
    relpath_or_name,
)
from benchagent.pool.fields import as_text
from benchagent.pool.formats.loader import DATASET_FOLDER
from benchagent.pool.formats.tabular.mapping import DatasetMapping
from benchagent.pool.formats.tabular.sources import (
    KNOWN_SPLITS,
    folder_files,
    folder_mapping,
    load_folder,
    read_files,
)
from benchagent.pool.formats.tabular.table import TableSpec, load_table
from benchagent.pool.limits import MAX_JSON_DEPTH

DICT_FILE = "dataset_dict.json"
INFO_FILE = "dataset_info.json"
STATE_FILE = "state.json"


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
    state = (read_json(folder / STATE_FILE, ctx, MAX_JSON_DEPTH)  # its entries are shown
             if (folder / STATE_FILE).is_file() else None)
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


class SavedLoader:
    """A `save_to_disk` folder (a Dataset or a DatasetDict)."""

    name = "hf-disk"
    walk_group = DATASET_FOLDER
    marker_files = (DICT_FILE, INFO_FILE, STATE_FILE)
    kind = "a Hugging Face dataset saved to disk"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and is_saved_dataset(path)

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_saved(path, path.parent, ctx)

    def finds(self, path: Path) -> bool:
        return self.recognises(path)

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for folder in paths for ds in load_saved(folder, root, ctx)]


class ParquetFolderLoader:
    """A hub-style Parquet folder (`data/*.parquet` or `<split>/*.parquet`)."""

    name = "hf-parquet"
    walk_group = DATASET_FOLDER
    marker_files: tuple[str, ...] = ()
    kind = "a hub-style Parquet folder"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and is_parquet_folder(path)

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_parquet_folder(path, path.parent, ctx)

    def finds(self, path: Path) -> bool:
        return self.recognises(path)

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for folder in paths for ds in load_parquet_folder(folder, root, ctx)]
