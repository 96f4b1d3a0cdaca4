"""Pool formats: one module per kind of dataset, and `LOADERS`, the order a pool path tries them.

`load_path` gives a pool path to the first loader in `LOADERS` that recognises it. Adding a
format is one module with a `Loader` (see `loader.py`) and one line in `LOADERS`; make it
`FoundBelow` if a walk below a plain folder should find its datasets too.
"""

from __future__ import annotations

from pathlib import Path

from benchagent.pool.base import LoadContext, LoadedDataset, PoolError, pool_root_of
from benchagent.pool.formats import bigbench, generalbench, hfdisk, hfhub, hubfolder, starter
from benchagent.pool.formats.folders import MarkerFileLoader, PlainFolderLoader
from benchagent.pool.formats.loader import Loader
from benchagent.pool.formats.tabular import sources as tabular

# The two loaders made of other loaders are handed this very list, so they see all of it.
LOADERS: list[Loader] = []
LOADERS += [
    hfhub.HubLoader(),  # hf:ORG/NAME[:config][@split], when no such local path exists
    generalbench.AnnotationFileLoader(),  # an annotation.json file
    bigbench.TaskLoader(),  # a BIG-bench task folder, or its task.json
    starter.StarterLoader(),  # the starter pool: datasets/ plus a pool.json marker
    generalbench.RootLoader(),  # a General-Bench root: datasets/ (and cards/)
    hubfolder.HubFolderLoader(),  # a Hub-layout folder (README.md card), with `datasets`
    hfdisk.SavedLoader(),  # a Hugging Face save_to_disk folder
    tabular.FolderLoader(),  # a folder with benchagent-dataset.toml
    hfdisk.ParquetFolderLoader(),  # a hub-style Parquet folder
    MarkerFileLoader(LOADERS),  # state.json, benchagent-dataset.toml...: the folder it marks
    bigbench.RootLoader(),  # a folder of BIG-bench task folders
    tabular.FileLoader(),  # .jsonl / .csv / .tsv / .parquet / .arrow, or its .benchagent.toml
    generalbench.AnyFileLoader(),  # any other file: read as an annotation file
    PlainFolderLoader(LOADERS),  # any other folder: the datasets below it
]


def load_path(path: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every dataset under one pool path; bad files become warnings, a missing path an error.

    Every file read while loading it must resolve to a path inside it (see `pool_root_of`).
    """
    outer_root, ctx.pool_root = ctx.pool_root, pool_root_of(path)
    try:
        for loader in LOADERS:
            if loader.recognises(path):
                return loader.load(path, ctx)
    finally:
        ctx.pool_root = outer_root
    if not path.exists():
        raise PoolError(f"pool path does not exist: {path}")
    raise PoolError(f"pool path is neither a file nor a folder: {path}")
