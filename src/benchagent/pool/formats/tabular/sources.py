"""Tabular datasets on disk: one data file, or a folder of data files split by train/test.

A data file is a dataset of its own, described by `<stem>.benchagent.toml` when there is one.
A folder with `benchagent-dataset.toml` (or a Hugging Face Parquet folder) is one dataset per
split: the split comes from a `<split>/` subfolder or a `<split>-00000-of-00002.parquet` /
`<split>.jsonl` file name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from benchagent.pool.base import LoadContext, LoadedDataset, PoolFormat, relpath_or_name
from benchagent.pool.formats.loader import DATASET_FOLDER
from benchagent.pool.formats.tabular.files import DATA_SUFFIXES, Row, format_of, read_table
from benchagent.pool.formats.tabular.mapping import (
    FILE_SUFFIX,
    FOLDER_FILE,
    DatasetMapping,
    data_file_for,
    mapping_path_for,
    read_mapping,
)
from benchagent.pool.formats.tabular.table import TableSpec, load_table

KNOWN_SPLITS = ("train", "validation", "valid", "dev", "test", "eval", "evaluation")
_SPLIT_NAME = re.compile(r"^([A-Za-z]+)(?:[-_.].*)?$")
_FORMATS: dict[str, PoolFormat] = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet",
                                   "arrow": "hf-disk"}


def pool_format(path: Path) -> PoolFormat:
    return _FORMATS.get(format_of(path), "jsonl")


def is_data_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(DATA_SUFFIXES)


def split_of(file: Path, base: Path) -> str:
    """The split a data file belongs to ("" when its path names none)."""
    try:
        parts = file.relative_to(base).parts
    except ValueError:
        parts = (file.name,)
    for part in parts[:-1]:
        if part.lower() in KNOWN_SPLITS:
            return part
    m = _SPLIT_NAME.match(file.name.split(".", 1)[0])
    return m.group(1) if m and m.group(1).lower() in KNOWN_SPLITS else ""


def read_files(files: list[Path],
               ctx: LoadContext) -> tuple[list[Row], dict[str, Any], int]:
    """The rows of several files in order, positions running on across them; the features
    of the first with any; how many files could be read (the others were warned about)."""
    rows: list[Row] = []
    features: dict[str, Any] = {}
    offset = read = 0
    for f in files:
        table = read_table(f, ctx)
        if table is None:
            continue
        read += 1
        for r in table.rows:
            r.pos += offset
        offset += table.records
        rows += table.rows
        features = features or table.features
    return rows, features, read


def load_file(path: Path, rel_root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """One data file as a dataset (with its `<stem>.benchagent.toml`, if any)."""
    mapping_path = mapping_path_for(path)
    mapping = read_mapping(mapping_path, ctx) if mapping_path else None
    if mapping_path is not None and mapping is None:
        return []
    rows, features, read = read_files([path], ctx)
    if not read:
        return []
    stem = path.name.split(".", 1)[0]
    split = stem if stem.lower() in KNOWN_SPLITS else ""
    name = (mapping.name if mapping else "") or (f"{path.parent.name}/{stem}" if split else stem)
    spec = TableSpec(name=name, format=pool_format(path), source=str(path),
                     rel=relpath_or_name(path, rel_root), rows=rows, features=features,
                     media_root=path.parent, mapping=mapping, files=[path], split=split)
    ds = load_table(spec, ctx)
    return [ds] if ds else []


def folder_files(folder: Path) -> list[Path]:
    """Data files anywhere below a dataset folder (hidden folders and files skipped)."""
    return sorted(p for p in folder.rglob("*") if is_data_file(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def folder_mapping(folder: Path, ctx: LoadContext) -> tuple[bool, DatasetMapping | None]:
    """(usable, mapping): a folder's `benchagent-dataset.toml`; unusable when it is broken."""
    path = folder / FOLDER_FILE
    if not path.is_file():
        return True, None
    mapping = read_mapping(path, ctx)
    return mapping is not None, mapping


def load_folder(folder: Path, files: list[Path], rel_root: Path, ctx: LoadContext, *,
                mapping: DatasetMapping | None = None, fmt: PoolFormat | None = None,
                info: dict[str, str] | None = None) -> list[LoadedDataset]:
    """A folder of data files as one dataset per split."""
    groups: dict[str, list[Path]] = {}
    for f in files:
        groups.setdefault(split_of(f, folder), []).append(f)
    if mapping is not None and mapping.split:
        groups = {k: v for k, v in groups.items() if k == mapping.split}
        if not groups:
            ctx.sink.warn(folder, f"no data files of split {mapping.split!r}")
            return []
    if not groups:
        ctx.sink.warn(folder, "no data files (.jsonl, .csv, .tsv, .parquet, .arrow)")
        return []
    name = (mapping.name if mapping else "") or folder.name
    out: list[LoadedDataset] = []
    for split, group in groups.items():
        rows, features, read = read_files(group, ctx)
        if not read:
            continue
        spec = TableSpec(
            name=f"{name}/{split}" if split and len(groups) > 1 else name,
            format=fmt or pool_format(group[0]), source=str(folder),
            rel=relpath_or_name(folder, rel_root), rows=rows, features=features,
            media_root=folder, mapping=mapping, files=group, split=split, info=info or {})
        ds = load_table(spec, ctx)
        out += [ds] if ds else []
    return out


def load_mapped_folder(folder: Path, rel_root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """A folder with `benchagent-dataset.toml`: its data files, one dataset per split."""
    usable, mapping = folder_mapping(folder, ctx)
    if not usable:
        return []
    return load_folder(folder, folder_files(folder), rel_root, ctx, mapping=mapping)


class FolderLoader:
    """A folder with `benchagent-dataset.toml`: its data files, one dataset per split."""

    name = "tabular-folder"
    walk_group = DATASET_FOLDER
    marker_files = (FOLDER_FILE,)
    kind = f"a dataset folder with {FOLDER_FILE}"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and (path / FOLDER_FILE).is_file()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_mapped_folder(path, path.parent, ctx)

    def finds(self, path: Path) -> bool:
        return self.recognises(path)

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for folder in paths for ds in load_mapped_folder(folder, root, ctx)]


class FileLoader:
    """One data file (.jsonl, .csv, .tsv, .parquet, .arrow), or the `<stem>.benchagent.toml`
    that describes it; data files are also found below plain folders."""

    name = "tabular"
    walk_group = "data file"

    def recognises(self, path: Path) -> bool:
        return path.is_file() and path.name.lower().endswith((FILE_SUFFIX, *DATA_SUFFIXES))

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        if not path.name.lower().endswith(FILE_SUFFIX):
            return load_file(path, path.parent, ctx)
        data = data_file_for(path, DATA_SUFFIXES)
        if data is None:
            ctx.sink.warn(path, "mapping file without a data file next to it")
            return []
        return load_file(data, path.parent, ctx)

    def finds(self, path: Path) -> bool:
        """A data file, or a mapping file (found so that one describing nothing warns)."""
        return path.name.lower().endswith((FILE_SUFFIX, *DATA_SUFFIXES)) and not path.is_dir()

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        out: list[LoadedDataset] = []
        for file in paths:
            if file.name.lower().endswith(FILE_SUFFIX):
                warn_unused_mapping(file, ctx)
            else:
                out += load_file(file, root, ctx)
        return out


def warn_unused_mapping(mapping_file: Path, ctx: LoadContext) -> None:
    """Warn about a mapping file that describes no data file (the data file loads itself)."""
    data = data_file_for(mapping_file, DATA_SUFFIXES)
    if data is None:
        stem = mapping_file.name[: -len(FILE_SUFFIX)]
        expected = stem if format_of(Path(stem)) else f"{stem}.jsonl, .csv, .parquet..."
        ctx.sink.warn(mapping_file, f"mapping file matches no data file (no {expected} next "
                      "to it); ignored")
    elif mapping_path_for(data) != mapping_file:
        ctx.sink.warn(mapping_file, f"mapping file ignored: {mapping_path_for(data)} describes "
                      f"{data.name}")
