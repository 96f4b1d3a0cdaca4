"""Loaders made of the other loaders: a dataset folder's marker file, and a plain folder.

Both are given the list of loaders they draw on (`LOADERS` itself, which holds them too).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from benchagent.pool.base import LoadContext, LoadedDataset, warn_symlinked_folder
from benchagent.pool.formats.loader import DatasetFolder, FoundBelow, Loader

NOTHING_FOUND = "no datasets found (no annotation.json, task.json or datasets/)"


class MarkerFileLoader:
    """A file that marks a dataset folder (`state.json`, `benchagent-dataset.toml`...), given
    as a pool path: its folder, loaded by the first dataset-folder format that recognises it."""

    name = "dataset folder marker"

    def __init__(self, loaders: Sequence[Loader]) -> None:
        self._loaders = loaders

    def _folder_formats(self) -> list[DatasetFolder]:
        return [f for f in self._loaders if isinstance(f, DatasetFolder)]

    def recognises(self, path: Path) -> bool:
        return path.is_file() and any(path.name in f.marker_files for f in self._folder_formats())

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        formats = self._folder_formats()
        for fmt in formats:
            if fmt.recognises(path.parent):
                return fmt.load(path.parent, ctx)
        marked = next(f for f in formats if path.name in f.marker_files)
        ctx.sink.warn(path, f"its folder is not {marked.kind}")
        return []


class PlainFolderLoader:
    """Any other folder: the datasets below it, as the loaders that are `FoundBelow` find them.

    Hidden files and folders are skipped; a sub-folder that is a dataset is not looked into; a
    symlinked sub-folder is not followed (with a warning that says whether it escapes the pool).
    """

    name = "folder"

    def __init__(self, loaders: Sequence[Loader]) -> None:
        self._loaders = loaders

    def recognises(self, path: Path) -> bool:
        return path.is_dir()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        finders = [f for f in self._loaders if isinstance(f, FoundBelow)]
        found = walk(path, finders, ctx)
        if not found:
            ctx.sink.warn(path, NOTHING_FOUND)
        out: list[LoadedDataset] = []
        for group in dict.fromkeys(f.walk_group for f in finders):
            in_group = [(fmt, p) for fmt, p in found if fmt.walk_group == group]
            for fmt, run in groupby(in_group, key=lambda item: item[0]):
                out += fmt.load_found([p for _, p in run], path, ctx)
        return out


def walk(root: Path, finders: Sequence[FoundBelow],
         ctx: LoadContext) -> list[tuple[FoundBelow, Path]]:
    """What the finders find below `root`, each with the first finder that found it, in a
    stable order: folders depth first by name, a folder's files before its sub-folders."""
    found: list[tuple[FoundBelow, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            warn_symlinked_folder(here / name, ctx)
            dirnames.remove(name)
        finder = _first(finders, here) if here != root else None
        if finder is not None:
            found.append((finder, here))
            dirnames[:] = []
            continue
        for name in sorted(n for n in filenames if not n.startswith(".")):
            finder = _first(finders, here / name)
            if finder is not None:
                found.append((finder, here / name))
    return found


def _first(finders: Sequence[FoundBelow], path: Path) -> FoundBelow | None:
    return next((f for f in finders if f.finds(path)), None)
