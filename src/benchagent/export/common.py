"""What every export shares: one row per item (its prompt, media, provenance and licence), the
subtasks with names a harness accepts, media copied beside the data, and the template files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from benchagent.errors import BenchagentError
from benchagent.evaluation.prompt import item_text
from benchagent.records import BenchmarkSample, Modality, Query, safe_slug

Row = dict[str, Any]


class ExportError(BenchagentError):
    """An export cannot be written (a missing package, unreadable media); one line."""


@dataclass(frozen=True)
class Benchmark:
    """A built benchmark as the exporters read it."""

    run_dir: Path
    query: Query
    samples: list[BenchmarkSample]

    @property
    def name(self) -> str:
        """The query id as a Python identifier (Inspect's task is a function of that name)."""
        name = safe_slug(self.query.id).replace("-", "_")[:40].strip("_") or "benchmark"
        return f"benchmark_{name}" if name[0].isdigit() else name

    def subtasks(self) -> list[Subtask]:
        """Every subtask in the order its first item appears, each with a unique slug."""
        order: dict[str, list[BenchmarkSample]] = {}
        for sample in self.samples:
            order.setdefault(sample.subtask, []).append(sample)
        taken: set[str] = set()
        subtasks = []
        for name, items in order.items():
            slug = base = safe_slug(name, "subtask").replace("-", "_")[:40].strip("_")
            number = 2
            while slug in taken:
                slug, number = f"{base}_{number}", number + 1
            taken.add(slug)
            subtasks.append(Subtask(name, slug, items))
        return subtasks


@dataclass(frozen=True)
class Subtask:
    name: str
    slug: str
    samples: list[BenchmarkSample] = field(default_factory=list)


@dataclass(frozen=True)
class Written:
    """What one exporter wrote, and what it had to leave out (one line each)."""

    target: str
    folder: Path
    items: int
    notes: list[str] = field(default_factory=list)


def media_of(sample: BenchmarkSample, kind: Modality) -> list[str]:
    """Paths of the item's media of one kind, relative to the export folder."""
    return [f"media/{Path(m.path).name}" for m in sample.media if m.kind == kind]


def item_row(sample: BenchmarkSample) -> Row:
    """The item as every export stores it; media paths relative to the export folder."""
    return {
        "id": sample.id, "subtask": sample.subtask, "instruction": sample.instruction,
        "question": sample.question, "context": sample.context, "options": sample.options,
        "answer": sample.answer, "answer_type": sample.answer_type.value,
        "prompt": item_text(sample),
        "images": media_of(sample, Modality.image), "audio": media_of(sample, Modality.audio),
        "license": sample.provenance.license,
        "source_dataset": sample.provenance.source_dataset_name,
        "provenance": sample.provenance.model_dump_json(),
    }


def copy_media(benchmark: Benchmark, samples: Iterable[BenchmarkSample], folder: Path) -> None:
    for sample in samples:
        for media in sample.media:
            target = folder / "media" / Path(media.path).name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(benchmark.run_dir / media.path, target)
            except OSError as exc:
                raise ExportError(f"cannot copy the item's media {media.path}: "
                                  f"{exc.strerror or exc}") from exc


def write_jsonl(path: Path, rows: Iterable[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")


def fresh_folder(folder: Path) -> Path:
    """An empty `folder`: an export is written whole each time, never merged with an old one."""
    if folder.is_symlink() or folder.is_file():
        raise ExportError(f"{folder} exists and is not a folder")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


_TEMPLATES = jinja2.Environment(
    loader=jinja2.FunctionLoader(
        lambda name: resources.files("benchagent.export").joinpath("templates", name)
        .read_text(encoding="utf-8")),
    keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False,
)


def render(template: str, **values: Any) -> str:
    """A template file of templates/ filled in (Jinja2; `tojson` quotes strings safely)."""
    return _TEMPLATES.get_template(template).render(**values)


def licences(samples: Iterable[BenchmarkSample]) -> list[str]:
    return sorted({s.provenance.license or "unknown" for s in samples})


def sources(samples: Iterable[BenchmarkSample]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sample in samples:
        name = sample.provenance.source_dataset_name or sample.provenance.source_dataset
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
