"""Field-mapping files: what a tabular dataset is called and which column plays which role.

`<file>.benchagent.toml` next to a data file (`x.jsonl.benchagent.toml` for `x.jsonl`), or
`<stem>.benchagent.toml` (`x.benchagent.toml`), describes that file (the first, if both exist);
`benchagent-dataset.toml` in a folder makes the folder one dataset (all its data files, one
dataset per split). Every key is optional:

    [dataset]
    name = "Science QA"
    description = "Grade-school science questions with four options."
    license = "CC-BY-4.0"
    citation = "Doe et al. (2024)"
    task = "science_qa"            # or tasks = ["science_qa", "multiple_choice_qa"]
    domain = "science"
    language = "en"                # else detected
    split = "test"                 # only this split of a folder with several
    instruction = "Is the statement true or false?"  # what every row asks (the task statement);
                                   # shown before each item, before a per-row instruction column

    [fields]                        # with [fields], only the roles named here are used
    id = "qid"
    question = "q"
    context = ["title", "passage"]  # several columns are joined
    options = "choices"             # a list column, a JSON list string, or ["A", "B", "C", "D"]
    answer = "label"
    answer_index = true             # the answer is an index (or letter) into the options
    answer_index_base = 0           # 1 when indexes count from one
    image = "img_path"              # also: audio, dialog, instruction
    # A dotted name reaches into nested values: answer = "answers.text"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchagent.pool.base import LoadContext, read_bytes
from benchagent.records import FieldRole

FILE_SUFFIX = ".benchagent.toml"
FOLDER_FILE = "benchagent-dataset.toml"

_DATASET_KEYS = ("name", "description", "license", "citation", "task", "tasks", "domain",
                 "language", "split", "instruction")
_ROLE_KEYS = {r.value: r for r in FieldRole if r is not FieldRole.other}


class MappingError(Exception):
    """The mapping file is unusable; the message says why."""


@dataclass(frozen=True)
class DatasetMapping:
    path: Path
    name: str = ""
    description: str = ""
    license: str = ""
    citation: str = ""
    tasks: tuple[str, ...] = ()
    domain: str = ""
    language: str = ""
    split: str = ""
    instruction: str = ""  # the task statement every row shares
    fields: dict[FieldRole, tuple[str, ...]] = field(default_factory=dict)
    answer_index: bool | None = None  # None: profiling decides
    answer_index_base: int = 0


def mapping_path_for(data_file: Path) -> Path | None:
    """The mapping file that describes one data file (`x.jsonl.benchagent.toml`, else
    `x.benchagent.toml`), if any."""
    stem = data_file.name.split(".", 1)[0]
    for name in (data_file.name + FILE_SUFFIX, stem + FILE_SUFFIX):
        cand = data_file.with_name(name)
        if cand.is_file():
            return cand
    return None


def data_file_for(mapping_file: Path, suffixes: tuple[str, ...]) -> Path | None:
    """The data file a `x.jsonl.benchagent.toml` or `x.benchagent.toml` describes."""
    stem = mapping_file.name[: -len(FILE_SUFFIX)]
    named = mapping_file.with_name(stem)
    if stem.lower().endswith(suffixes) and named.is_file():
        return named
    found = sorted(p for p in mapping_file.parent.glob(f"{stem}.*")
                   if p.is_file() and p.name.lower().endswith(suffixes))
    return found[0] if found else None


def read_mapping(path: Path, ctx: LoadContext) -> DatasetMapping | None:
    """The parsed mapping, or None with a warning (the dataset is then skipped)."""
    raw = read_bytes(path, ctx)
    if raw is None:
        return None
    try:
        doc = tomllib.loads(raw.decode("utf-8-sig"))
        return _parse(path, doc, ctx)
    except UnicodeDecodeError:
        ctx.sink.warn(path, "invalid mapping file: not UTF-8 text")
    except tomllib.TOMLDecodeError as e:
        ctx.sink.warn(path, f"invalid mapping file: {e}")
    except MappingError as e:
        ctx.sink.warn(path, f"invalid mapping file: {e}")
    return None


def _text(table: dict[str, Any], key: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise MappingError(f"{key} must be a string")
    return value.strip()


def _names(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(
            isinstance(v, str) and v.strip() for v in items):
        raise MappingError(f"fields.{key} must be a column name or a list of column names")
    return tuple(v.strip() for v in items)


def _parse(path: Path, doc: dict[str, Any], ctx: LoadContext) -> DatasetMapping:
    for key in doc:
        if key not in ("dataset", "fields"):
            ctx.sink.warn(path, f"mapping file: unknown table [{key}] ignored")
    ds, fl = doc.get("dataset", {}), doc.get("fields", {})
    if not isinstance(ds, dict) or not isinstance(fl, dict):
        raise MappingError("[dataset] and [fields] must be tables")
    for key in ds:
        if key not in _DATASET_KEYS:
            ctx.sink.warn(path, f"mapping file: unknown key dataset.{key} ignored")
    tasks = ds.get("tasks", [])
    if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
        raise MappingError("tasks must be a list of strings")
    tasks = [*([_text(ds, "task")] if "task" in ds else []), *tasks]
    fields: dict[FieldRole, tuple[str, ...]] = {}
    index: bool | None = None
    base = 0
    for key, value in fl.items():
        if key == "answer_index":
            if not isinstance(value, bool):
                raise MappingError("fields.answer_index must be true or false")
            index = value
        elif key == "answer_index_base":
            if value not in (0, 1) or isinstance(value, bool):
                raise MappingError("fields.answer_index_base must be 0 or 1")
            base = int(value)
        elif key in _ROLE_KEYS:
            fields[_ROLE_KEYS[key]] = _names(value, key)
        else:
            ctx.sink.warn(path, f"mapping file: unknown key fields.{key} ignored")
    if fields and FieldRole.answer not in fields:
        raise MappingError("[fields] names no answer column")
    return DatasetMapping(
        path=path, name=_text(ds, "name"), description=_text(ds, "description"),
        license=_text(ds, "license"), citation=_text(ds, "citation"),
        tasks=tuple(dict.fromkeys(t.strip() for t in tasks if t.strip())),
        domain=_text(ds, "domain"), language=_text(ds, "language"), split=_text(ds, "split"),
        instruction=_text(ds, "instruction"), fields=fields, answer_index=index,
        answer_index_base=base,
    )
