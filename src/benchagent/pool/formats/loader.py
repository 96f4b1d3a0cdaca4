"""What a pool format is to `load_path`: something that recognises a path and loads it.

`benchagent.pool.formats.LOADERS` lists the formats in order; a pool path goes to the first
that recognises it. A format that a walk below a plain folder should find (a file, or a
sub-folder that is one dataset) is also `FoundBelow`; a folder that is one dataset, marked by
files in it (`state.json`, `benchagent-dataset.toml`...), is a `DatasetFolder`, and such a
marker file given as a pool path stands for its folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from benchagent.pool.base import LoadContext, LoadedDataset

# The walk group of every DatasetFolder: what a walk finds of these formats loads in walk order.
DATASET_FOLDER = "dataset folder"


@runtime_checkable
class Loader(Protocol):
    """One pool format."""

    name: str  # the format as people call it: "general-bench", "hf-disk", ...

    def recognises(self, path: Path) -> bool:
        """Whether `path`, given as a pool path, is of this format (cheap; never warns)."""
        ...

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        """Its datasets; whatever cannot be read becomes a warning in `ctx`."""
        ...


@runtime_checkable
class FoundBelow(Loader, Protocol):
    """A format that a walk below a plain folder finds: files, or sub-folders not looked into."""

    # Datasets found by one walk load group by group, groups in the order they first appear in
    # LOADERS, and within a group in walk order.
    walk_group: str

    def finds(self, path: Path) -> bool:
        """Whether a file or sub-folder met on the walk is a dataset of this format."""
        ...

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        """The datasets at `paths` (walk order), named relative to the walked folder `root`."""
        ...


@runtime_checkable
class DatasetFolder(FoundBelow, Protocol):
    """A folder that is one dataset; its walk group is DATASET_FOLDER."""

    marker_files: tuple[str, ...]  # file names that, given as a pool path, mean their folder
    kind: str  # what the folder is, for a warning: "a Hugging Face dataset saved to disk"
