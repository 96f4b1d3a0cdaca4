"""Finding datasets under a pool path, whatever kind of path it is.

A path may be a General-Bench root (`cards/`, `datasets/`), a starter pool (the same layout
with a `pool.json` marker), one General-Bench annotation file, a BIG-bench root (folders
holding `task.json`), one BIG-bench task folder (or its `task.json`), or any folder holding
annotation files below it.
"""

from __future__ import annotations

from pathlib import Path

from benchagent.pool import bigbench, generalbench
from benchagent.pool.base import LoadContext, LoadedDataset, PoolError


def load_path(path: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every dataset under one pool path; bad files become warnings, a missing path an error."""
    if not path.exists():
        raise PoolError(f"pool path does not exist: {path}")
    if path.is_file():
        if path.name == bigbench.TASK_FILE:
            return bigbench.load_task_dir(path.parent, ctx)
        return _load_annotations([path], ctx)
    if not path.is_dir():
        raise PoolError(f"pool path is neither a file nor a folder: {path}")
    if bigbench.is_task_dir(path):
        return bigbench.load_task_dir(path, ctx)
    if (path / "datasets").is_dir():
        return generalbench.load_root(path, ctx)
    tasks = bigbench.discover(path)
    if tasks:
        return [ds for task in tasks for ds in bigbench.load_task_dir(task, ctx)]
    files = sorted(path.rglob(generalbench.ANNOTATION))
    if not files:
        ctx.sink.warn(path, "no datasets found (no annotation.json, task.json or datasets/)")
    return _load_annotations(files, ctx)


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
