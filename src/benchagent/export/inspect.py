"""The Inspect AI export: task.py with one `@task` for the benchmark (option `subtask=`), its
samples carrying images and audio as ContentImage / ContentAudio (paths made absolute from the
task's own folder), a solver that sends multiple choice through Inspect's multiple_choice and the
rest through generate, and a scorer per answer type with accuracy grouped by subtask."""

from __future__ import annotations

from pathlib import Path

from benchagent.export.common import (
    Benchmark,
    ExportError,
    Written,
    copy_media,
    fresh_folder,
    item_row,
    licences,
    render,
    sources,
    write_jsonl,
)
from benchagent.records import Modality

TARGET = "inspect"
AUDIO_FORMATS = (".wav", ".mp3")  # what ContentAudio takes


def write(benchmark: Benchmark, folder: Path) -> Written:
    for sample in benchmark.samples:
        for media in sample.media:
            if media.kind == Modality.audio and Path(media.path).suffix.lower() not in \
                    AUDIO_FORMATS:
                raise ExportError(f"inspect: audio {media.path} is neither wav nor mp3, which "
                                  "is all Inspect's ContentAudio takes")
    fresh_folder(folder)
    subtasks = benchmark.subtasks()
    write_jsonl(folder / "data" / "benchmark.jsonl", (item_row(s) for s in benchmark.samples))
    copy_media(benchmark, benchmark.samples, folder)
    slugs = {s.slug: s.name for s in subtasks}
    (folder / "task.py").write_text(render(
        "inspect_task.py.tmpl", benchmark=benchmark.query.description[:80],
        name=benchmark.name, subtasks=slugs))
    (folder / "README.md").write_text(render(
        "inspect_README.md.tmpl", name=benchmark.name, subtasks=slugs,
        items=len(benchmark.samples), licences=licences(benchmark.samples),
        sources=sources(benchmark.samples), request=benchmark.query.description))
    return Written(TARGET, folder, len(benchmark.samples))
