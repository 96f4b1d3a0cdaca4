"""Finding datasets under a pool path, whatever kind of path it is.

A path may be a General-Bench root (`cards/`, `datasets/`), a starter pool (the same layout
with a `pool.json` marker), one General-Bench annotation file, a BIG-bench root (folders
holding `task.json`), one BIG-bench task folder (or its `task.json`), a tabular data file
(.jsonl / .csv / .tsv / .parquet / .arrow, or its `<stem>.benchagent.toml`), a folder with a
`benchagent-dataset.toml`, a Hugging Face `save_to_disk` or Parquet folder, an `hf:org/name`
hub id, or any folder holding such datasets below it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from benchagent.pool.base import LoadContext, LoadedDataset, PoolError
from benchagent.pool.formats import bigbench, generalbench, hfdisk
from benchagent.pool.formats.tabular import sources as tabsources
from benchagent.pool.formats.tabular.files import DATA_SUFFIXES
from benchagent.pool.formats.tabular.mapping import FILE_SUFFIX, FOLDER_FILE, data_file_for

_HF_MARKERS = (hfdisk.DICT_FILE, hfdisk.INFO_FILE, hfdisk.STATE_FILE)
_NOTHING = "no datasets found (no annotation.json, task.json or datasets/)"


def load_path(path: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every dataset under one pool path; bad files become warnings, a missing path an error."""
    if str(path).startswith(hfdisk.HUB_PREFIX) and not path.exists():
        return hfdisk.load_hub(str(path), ctx)
    if not path.exists():
        raise PoolError(f"pool path does not exist: {path}")
    if path.is_file():
        return _load_file(path, ctx)
    if not path.is_dir():
        raise PoolError(f"pool path is neither a file nor a folder: {path}")
    if bigbench.is_task_dir(path):
        return bigbench.load_task_dir(path, ctx)
    if (path / "datasets").is_dir():
        return generalbench.load_root(path, ctx)
    folder = _load_dataset_folder(path, path.parent, ctx)
    if folder is not None:
        return folder
    tasks = bigbench.discover(path)
    if tasks:
        return [ds for task in tasks for ds in bigbench.load_task_dir(task, ctx)]
    found = _walk(path)
    if found.empty():
        ctx.sink.warn(path, _NOTHING)
    out = _load_annotations(found.annotations, ctx)
    for task in found.tasks:
        out += bigbench.load_task_dir(task, ctx)
    for f in found.folders:
        out += _load_dataset_folder(f, path, ctx) or []
    for f in found.files:
        out += tabsources.load_file(f, path, ctx)
    return out


def _load_file(path: Path, ctx: LoadContext) -> list[LoadedDataset]:
    name = path.name.lower()
    if path.name == bigbench.TASK_FILE:
        return bigbench.load_task_dir(path.parent, ctx)
    if path.name == FOLDER_FILE or path.name in _HF_MARKERS:
        found = _load_dataset_folder(path.parent, path.parent.parent, ctx)
        if found is None:
            ctx.sink.warn(path, "its folder is not a Hugging Face dataset saved to disk")
        return found or []
    if name.endswith(FILE_SUFFIX):
        data = data_file_for(path, DATA_SUFFIXES)
        if data is None:
            ctx.sink.warn(path, "mapping file without a data file next to it")
            return []
        return tabsources.load_file(data, path.parent, ctx)
    if name.endswith(DATA_SUFFIXES):
        return tabsources.load_file(path, path.parent, ctx)
    return _load_annotations([path], ctx)


def _load_dataset_folder(folder: Path, rel_root: Path,
                         ctx: LoadContext) -> list[LoadedDataset] | None:
    """The datasets of a folder that is one dataset (its kind marked by its files), else None."""
    if hfdisk.is_saved_dataset(folder):
        return hfdisk.load_saved(folder, rel_root, ctx)
    if (folder / FOLDER_FILE).is_file():
        usable, mapping = tabsources.folder_mapping(folder, ctx)
        if not usable:
            return []
        files = tabsources.folder_files(folder)
        return tabsources.load_folder(folder, files, rel_root, ctx, mapping=mapping)
    if hfdisk.is_parquet_folder(folder):
        return hfdisk.load_parquet_folder(folder, rel_root, ctx)
    return None


@dataclass
class _Found:
    annotations: list[Path] = field(default_factory=list)
    tasks: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.annotations or self.tasks or self.folders or self.files)


def _is_dataset_folder(folder: Path) -> bool:
    return (hfdisk.is_saved_dataset(folder) or (folder / FOLDER_FILE).is_file()
            or hfdisk.is_parquet_folder(folder))


def _walk(root: Path) -> _Found:
    """Datasets below a plain folder, in a stable order; a dataset folder is not looked into."""
    found = _Found()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if here != root and _is_dataset_folder(here):
            found.folders.append(here)
            dirnames[:] = []
            continue
        if here != root and bigbench.TASK_FILE in filenames:
            found.tasks.append(here)
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            if name == generalbench.ANNOTATION:
                found.annotations.append(here / name)
            elif name.lower().endswith(DATA_SUFFIXES) and not name.startswith("."):
                found.files.append(here / name)
    found.annotations.sort()
    return found


def _load_annotations(files: list[Path], ctx: LoadContext) -> list[LoadedDataset]:
    pools: dict[Path, generalbench.GBPool] = {}
    out: list[LoadedDataset] = []
    for f in files:
        root = generalbench.find_root(f)
        if root is not None:
            if root not in pools:
                pools[root] = generalbench.open_pool(root, ctx)
            ds = generalbench.load_annotation(f, pools[root], ctx)
        else:
            folder = generalbench.dataset_root(f, None)
            ds = generalbench.load_annotation(f, None, ctx, base=folder.parent)
        if ds is not None:
            out.append(ds)
    return out
