"""BIG-bench layout: <task>/task.json, with optional <task>/<subtask>/task.json folders.

A task words its examples with `task_prefix` (the task statement, shown once),
`example_input_prefix` / `example_output_prefix` (put around each input) and its description.
A sample keeps what of these asks the question: the task statement (or, when there is none and
the input asks nothing, the description) as its instruction; an input prefix that is words of
the question ("Find a movie similar to") and an output prefix that is a question
("Plausible/implausible?") around its question. Labels such as "Q:" or "Statement:" are dropped.
A subtask's own values override its task's, even when empty."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchagent.pool.base import (
    LoadContext,
    LoadedDataset,
    is_valid_utf8,
    pool_root_of,
    read_json,
    stable_id,
)
from benchagent.pool.cards.cardcache import CardKey, cached_card
from benchagent.pool.cards.profile import normalize_answers, profiled_fields
from benchagent.pool.fields import as_text, as_text_list
from benchagent.pool.limits import MAX_OPTIONS, sample_over_limit
from benchagent.records import DatasetCard, FieldRole, SourceSample

TASK_FILE = "task.json"
LICENSE = "Apache-2.0"
CITATION = ("Srivastava et al. (2022), Beyond the Imitation Game: Quantifying and "
            "extrapolating the capabilities of language models (BIG-bench)")


_LABEL = re.compile(r"^[\w /()-]{1,30}:$")  # "Q:", "Statement:", "Pronoun identification:"
_NOT_ADDRESSED = ("a ", "an ", "the ", "this ", "these ", "questions ")  # describes, asks nothing


class BadExample(Exception):
    """One example is unusable; the message says why."""


@dataclass(frozen=True)
class Wording:
    """What a task asks, and what it puts around each input."""

    statement: str = ""  # task_prefix
    input_prefix: str = ""  # only when it is words of the question, not a label
    output_question: str = ""  # example_output_prefix, only when it is a question
    description: str = ""  # only when it addresses the reader ("Identify whether ...")

    def question(self, text: str) -> str:
        if not text:
            return self.output_question
        framed = f"{self.input_prefix} {text}".strip()
        return f"{framed}\n{self.output_question}" if self.output_question else framed

    def instruction(self, question: str) -> str:
        """The task statement; without one, the description when the question asks nothing."""
        if self.statement or "?" in question:
            return self.statement
        return self.description


def is_task_dir(path: Path) -> bool:
    return (path / TASK_FILE).is_file()


def discover(root: Path) -> list[Path]:
    """Task folders directly under a BIG-bench root, in a stable order."""
    return sorted(d for d in root.iterdir() if d.is_dir() and is_task_dir(d))


class TaskLoader:
    """One task folder (or its `task.json`), given as a pool path or found below a plain folder."""

    name = "bigbench"
    walk_group = "bigbench task"

    def recognises(self, path: Path) -> bool:
        return is_task_dir(path) if path.is_dir() else path.name == TASK_FILE and path.is_file()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        task_dir = path if path.is_dir() else path.parent
        if is_task_dir(task_dir.parent):  # a subtask given on its own reads its task's file too
            ctx.pool_root = pool_root_of(task_dir.parent)
        return load_task_dir(task_dir, ctx)

    def finds(self, path: Path) -> bool:
        """A sub-folder with an entry `task.json` that is not a folder (even a broken link,
        which then warns)."""
        task = path / TASK_FILE
        return path.is_dir() and os.path.lexists(task) and not task.is_dir()

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for task in paths for ds in load_task_dir(task, ctx)]


class RootLoader:
    """A BIG-bench root: a folder of task folders."""

    name = "bigbench"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and bool(discover(path))

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return [ds for task in discover(path) for ds in load_task_dir(task, ctx)]


def load_task_dir(task_dir: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """A task folder: its own examples (if any) and each subtask as a dataset `task/subtask`."""
    parent = task_dir.parent
    if is_task_dir(parent) and parent != task_dir:  # a subtask folder given on its own
        parent_doc = _read_task(parent / TASK_FILE, ctx)
        doc = _read_task(task_dir / TASK_FILE, ctx)
        ds = _build(task_dir / TASK_FILE, doc, f"{parent.name}/{task_dir.name}", parent_doc, ctx)
        return [ds] if ds else []
    doc = _read_task(task_dir / TASK_FILE, ctx)
    if doc is None:
        return []
    subdirs = discover(task_dir)
    out: list[LoadedDataset] = []
    if doc.get("examples") or not subdirs:
        ds = _build(task_dir / TASK_FILE, doc, task_dir.name, None, ctx)
        out += [ds] if ds else []
    for sub in subdirs:
        sub_doc = _read_task(sub / TASK_FILE, ctx)
        ds = _build(sub / TASK_FILE, sub_doc, f"{task_dir.name}/{sub.name}", doc, ctx)
        out += [ds] if ds else []
    return out


def _read_task(path: Path, ctx: LoadContext) -> dict[str, Any] | None:
    doc = read_json(path, ctx)
    if doc is not None and not isinstance(doc, dict):
        ctx.sink.warn(path, "not a BIG-bench task (expected a JSON object)")
        return None
    return doc


def _build(path: Path, doc: dict[str, Any] | None, name: str, parent: dict[str, Any] | None,
           ctx: LoadContext) -> LoadedDataset | None:
    if doc is None:
        return None
    examples = doc.get("examples")
    if not isinstance(examples, list) or not examples:
        ctx.sink.warn(path, "task has no examples")
        return None
    dataset_id = stable_id("bigbench", name, name)
    parent = parent or {}
    wording = _wording(doc, parent)
    prefix = wording.statement
    samples = _samples(path, examples, dataset_id, wording, ctx)
    if not samples:
        ctx.sink.warn(path, "no valid examples")
        return None
    keywords = as_text_list(doc.get("keywords")) + as_text_list(parent.get("keywords"))
    description = as_text(doc.get("description")) or as_text(parent.get("description"))
    if prefix:
        description = f"{description} Task prompt: {_clip(prefix)}".strip()
    has_scores = any(isinstance(e, dict) and e.get("target_scores") for e in examples)
    fields = {FieldRole.question: "input",
              FieldRole.answer: "target_scores" if has_scores else "target"}
    if has_scores:
        fields[FieldRole.options] = "target_scores"
    if prefix:
        fields[FieldRole.instruction] = "task_prefix"
    elif any(s.instruction for s in samples):
        fields[FieldRole.instruction] = "description"
    parent_file = path.parent.parent / TASK_FILE if parent else None
    key = (CardKey("bigbench").file(path).file(parent_file).text(dataset_id, str(path))
           .samples(samples))

    def build() -> DatasetCard:
        return DatasetCard(
            id=dataset_id, name=name, format="bigbench", source=str(path),
            description=description, tasks=list(dict.fromkeys(keywords)), fields=fields,
            size=len(samples), license=LICENSE, citation=CITATION, **profiled_fields(samples),
        )

    card = cached_card(ctx, key, build)
    samples = normalize_answers(samples, card.answer_type)
    return LoadedDataset(card=card, samples=tuple(samples))


def _wording(doc: dict[str, Any], parent: dict[str, Any]) -> Wording:
    def own(*keys: str) -> str:  # the subtask's value when it has the key, else its task's
        for key in keys:
            for source in (doc, parent):
                if key in source:
                    return as_text(source.get(key))
        return ""

    input_prefix = " ".join(own("example_input_prefix").split())
    output_prefix = " ".join(own("example_output_prefix").split())
    description = _tidy(own("description"))
    addressed = description and not description.lower().startswith(_NOT_ADDRESSED)
    return Wording(
        statement=_tidy(own("task_prefix", "prefix")),
        input_prefix="" if _LABEL.match(input_prefix) else input_prefix,
        output_question=output_prefix if "?" in output_prefix else "",
        description=_sentence(description) if addressed else "")


def _tidy(text: str) -> str:
    """Spaces collapsed within each line, blank lines at most one (tables keep their lines)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _sentence(text: str) -> str:
    return text if not text or text[-1] in ".?!:" else text + "."


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _samples(path: Path, examples: list[Any], dataset_id: str, wording: Wording,
             ctx: LoadContext) -> list[SourceSample]:
    given = [as_text(e.get("_id")) if isinstance(e, dict) else "" for e in examples]
    use_given = all(given) and len(set(given)) == len(given)
    out: list[SourceSample] = []
    for idx, ex in enumerate(examples):
        sid = given[idx] if use_given else f"ex{idx:05d}"
        try:
            out.append(_example(ex, dataset_id, sid, wording))
        except BadExample as e:
            ctx.sink.warn(f"{path}#{sid}", str(e))
    return out


def _example(ex: Any, dataset_id: str, sid: str, wording: Wording) -> SourceSample:
    if not isinstance(ex, dict):
        raise BadExample("example is not a JSON object")
    if not isinstance(ex.get("input"), str):  # "" is BIG-bench's way to say: the options ask
        raise BadExample("example has no input (no `input` text)")
    question = wording.question(as_text(ex.get("input")))
    prefix = wording.instruction(question)
    targets = as_text_list(ex.get("target"))
    scores = ex.get("target_scores")
    options: list[str] = []
    if isinstance(scores, dict) and scores:
        options, winners = _scored_options(scores)
        answer = next((t for t in targets if t in winners), winners[0])
        aliases = winners if len(winners) > 1 else []
    elif targets:
        answer, aliases = targets[0], (targets if len(targets) > 1 else [])
    else:
        raise BadExample("example has no target or target_scores")
    if not (question or options):
        raise BadExample("example has no input")
    if reason := sample_over_limit(question, prefix, options=len(options)):
        raise BadExample(reason)
    if not is_valid_utf8(question, answer, prefix, *options, *aliases):
        raise BadExample("text is not valid UTF-8 (lone surrogate escapes)")
    return SourceSample(
        dataset_id=dataset_id, source_id=sid, question=question, options=options,
        answer=answer, answer_aliases=aliases, instruction=prefix,
    )


def _scored_options(scores: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Options in file order (never shuffled here) and the ones with the top score."""
    if len(scores) > MAX_OPTIONS:
        raise BadExample(f"target_scores has {len(scores)} options, over the "
                         f"{MAX_OPTIONS}-option limit")
    options: list[str] = []
    values: list[float] = []
    for key, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadExample(f"target_scores value for {key[:40]!r} is not a number")
        number = _as_float(value)
        if not math.isfinite(number):
            raise BadExample(f"target_scores value for {key[:40]!r} is {number} "
                             "(not a finite number)")
        text = key.strip()
        if text and text not in options:
            options.append(text)
            values.append(number)
    if len(options) < 2:
        raise BadExample("target_scores has fewer than two options")
    best = max(values)
    if best == min(values):
        raise BadExample(f"target_scores gives every option the same score ({best:g}): "
                         "no option is the answer")
    return options, [o for o, v in zip(options, values, strict=True) if v == best]


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        return math.inf
