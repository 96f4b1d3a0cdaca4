"""The lm-eval export: a group with one `generate_until` task per subtask (chat APIs give no
log-likelihoods), the aggregate weighted by size, answers read per answer type by a filter in
utils.py, data read relative to utils.py, images through `doc_to_image`. lm-eval cannot send
audio to an API model: items with audio are left out, and the README says how many."""

from __future__ import annotations

from pathlib import Path

from benchagent.evaluation.prompt import ANSWER_TOKENS
from benchagent.export.common import (
    Benchmark,
    Written,
    copy_media,
    fresh_folder,
    item_row,
    licences,
    render,
    sources,
    write_jsonl,
)
from benchagent.records import BenchmarkSample, Modality

TARGET = "lm-eval"


def _has_audio(sample: BenchmarkSample) -> bool:
    return any(m.kind == Modality.audio for m in sample.media)


def write(benchmark: Benchmark, folder: Path) -> Written:
    fresh_folder(folder)
    tasks, kept, left_out = [], [], 0
    chosen = [(st, [s for s in st.samples if not _has_audio(s)]) for st in benchmark.subtasks()]
    # Without any image, no task has doc_to_image: lm-eval then sends plain text messages,
    # which chat templates of text-only servers (llama.cpp's) take.
    images = any(m.kind == Modality.image for _, items in chosen for s in items for m in s.media)
    for subtask, items in chosen:
        left_out += len(subtask.samples) - len(items)
        if not items:
            continue
        task = f"{benchmark.name}_{subtask.slug}"
        tasks.append(task)
        kept += items
        write_jsonl(folder / "data" / f"{subtask.slug}.jsonl", (item_row(s) for s in items))
        (folder / f"{task}.yaml").write_text(render(
            "lm_eval_task.yaml.tmpl", benchmark=benchmark.query.description[:80], task=task,
            slug=subtask.slug, name=subtask.name, count=len(items), max_tokens=ANSWER_TOKENS,
            images=images))
    copy_media(benchmark, kept, folder)
    notes = [f"lm-eval: {left_out} items with audio left out (lm-eval cannot send audio to an "
             "API model)"] if left_out else []
    if tasks:
        (folder / f"{benchmark.name}.yaml").write_text(render(
            "lm_eval_group.yaml.tmpl", benchmark=benchmark.query.description[:80],
            group=benchmark.name, tasks=tasks))
    (folder / "utils.py").write_text(render("lm_eval_utils.py.tmpl"))
    max_images = max((sum(m.kind == Modality.image for m in s.media) for s in kept), default=0)
    (folder / "README.md").write_text(render(
        "lm_eval_README.md.tmpl", group=benchmark.name, tasks=tasks, items=len(kept),
        left_out=left_out, max_images=max(max_images, 1), licences=licences(kept),
        sources=sources(kept), request=benchmark.query.description))
    return Written(TARGET, folder, len(kept), notes)
