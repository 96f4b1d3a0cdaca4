"""The `datasets` package, offline: loading a Hub-layout folder or a cached hub id into tables.

`load_offline` calls `datasets.load_dataset` with the hub forced offline (HF_HUB_OFFLINE and
HF_DATASETS_OFFLINE, for this call only), so nothing is ever downloaded at run time. Tables are
read in Arrow format: Image and Audio values stay their stored {bytes, path} (nothing is decoded
by `datasets`, so no torch or soundfile is needed) and the pool's own media code checks them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchagent.pool.fields import as_text
from benchagent.pool.limits import MAX_RECORDS

INSTALL_HINT = "pip install 'benchagent[hf]'"
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")


class DatasetsUnavailable(Exception):
    """`datasets` cannot load this here; the message says why, in one line."""


@dataclass
class SplitTable:
    """One split of a loaded dataset, as rows of plain Python values."""

    split: str
    rows: list[dict[str, Any]]
    features: dict[str, Any]  # `Features.to_dict()`: {"label": {"_type": "ClassLabel", ...}}
    fingerprint: str
    info: dict[str, str]  # description / license / citation from the DatasetInfo
    dropped: int = 0  # rows past MAX_RECORDS, not read


def datasets_installed() -> bool:
    return importlib.util.find_spec("datasets") is not None


def one_line(error: BaseException) -> str:
    """The error and what caused it ("An error occurred while generating the dataset" alone
    says nothing), as one line."""
    said: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(said) < 3:
        text = " ".join(str(cause).split()) or type(cause).__name__
        said += [text] if text not in said else []
        cause = cause.__cause__
    return ": ".join(said)[:300]


@contextmanager
def offline() -> Iterator[Any]:
    """The `datasets` module with the hub offline, the process's settings restored after."""
    saved_env = {k: os.environ.get(k) for k in _OFFLINE_VARS}
    os.environ.update(dict.fromkeys(_OFFLINE_VARS, "1"))  # read when `datasets` is imported
    try:
        import datasets
        import huggingface_hub.constants as hub_constants
    except ImportError:
        _restore_env(saved_env)
        raise DatasetsUnavailable(f"the `datasets` package is not installed: {INSTALL_HINT}"
                                  ) from None
    switches = [(datasets.config, "HF_HUB_OFFLINE"), (datasets.config, "HF_DATASETS_OFFLINE"),
                (hub_constants, "HF_HUB_OFFLINE")]
    saved = [(obj, name, getattr(obj, name, None)) for obj, name in switches]
    bars_were_off = datasets.utils.are_progress_bars_disabled()
    verbosity = datasets.utils.logging.get_verbosity()
    for obj, name in switches:
        setattr(obj, name, True)
    datasets.utils.disable_progress_bars()
    datasets.utils.logging.set_verbosity_error()  # "Using the latest cached version..."
    try:
        yield datasets
    finally:
        for obj, name, old in saved:
            setattr(obj, name, old)
        if not bars_were_off:
            datasets.utils.enable_progress_bars()
        datasets.utils.logging.set_verbosity(verbosity)
        _restore_env(saved_env)


def _restore_env(saved: dict[str, str | None]) -> None:
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def split_tables(obj: Any, split: str | None) -> list[SplitTable]:
    """Every split of what `load_dataset` returned (a Dataset or a DatasetDict)."""
    if isinstance(obj, Mapping):
        return [table_of(ds, name) for name, ds in obj.items()]
    return [table_of(obj, split or as_text(getattr(obj, "split", None)))]


def table_of(ds: Any, split: str) -> SplitTable:
    """One `datasets.Dataset` as rows, read in Arrow format (media stay undecoded bytes)."""
    dropped = max(0, len(ds) - MAX_RECORDS)
    if dropped:
        ds = ds.select(range(MAX_RECORDS))
    feats: Any = getattr(ds, "features", None)
    features = feats.to_dict() if hasattr(feats, "to_dict") else {}
    rows = ds.with_format("arrow")[:].to_pylist()
    blob = json.dumps(rows, sort_keys=True, default=repr).encode("utf-8", "surrogatepass")
    return SplitTable(split=split, rows=rows, features=features,
                      fingerprint=hashlib.sha256(blob).hexdigest(),
                      info=info_of(getattr(ds, "info", None)), dropped=dropped)


def info_of(info: Any) -> dict[str, str]:
    """description / license / citation of a `datasets.DatasetInfo` (empty ones left out)."""
    if info is None:
        return {}
    cite = as_text(getattr(info, "citation", "")) or as_text(getattr(info, "homepage", ""))
    pairs = (("description", as_text(getattr(info, "description", ""))),
             ("license", as_text(getattr(info, "license", ""))), ("citation", cite))
    return {k: v for k, v in pairs if v}


def load_offline(path: str, config: str | None, split: str | None,
                 cache_dir: Path | None = None) -> list[SplitTable]:
    """`datasets.load_dataset(path, config, split=split)` offline, as tables.

    Raises DatasetsUnavailable (one line) when `datasets` is missing or cannot load it; a hub
    id that is not in the cache raises `NotCached`.
    """
    with offline() as datasets:
        kwargs: dict[str, Any] = {"cache_dir": str(cache_dir)} if cache_dir else {}
        try:
            obj = datasets.load_dataset(path, config, split=split, **kwargs)
        except (ConnectionError, FileNotFoundError) as e:
            if Path(path).is_dir():
                raise DatasetsUnavailable(one_line(e)) from e
            raise NotCached(datasets.config.HF_DATASETS_CACHE) from e
        except Exception as e:  # a bad card, an unknown config or split...: one line each
            raise DatasetsUnavailable(one_line(e)) from e
        return split_tables(obj, split)


class NotCached(DatasetsUnavailable):
    """A hub id that the `datasets` cache does not hold (and the hub is not asked)."""

    def __init__(self, cache: Any) -> None:
        super().__init__(f"not in the Hugging Face datasets cache ({cache})")
        self.cache = str(cache)
