"""The direct-prompting baseline (the paper's Ablation I): one prompt asks the model for the
whole benchmark, subtasks and items, from the request alone; no pool, no operators, no
verification. What it returns is checked item by item (an item that does not hold together is
dropped, with its reason) and written in the run layout of a build (plan/subtasks.json,
plan/plan.md, benchmark/benchmark.jsonl, benchmark/card.md), so that `eval`, `judge` and
`report` take it as they take a build. Text only: a model asked in text cannot give images
or audio."""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

from benchagent.config import Role
from benchagent.executor.assemble import render_card
from benchagent.models import ModelClient, ask_or_fallback
from benchagent.prompts import render
from benchagent.records import (
    AnswerType,
    BenchmarkSample,
    Provenance,
    Query,
    Shortfall,
    Subtask,
    safe_slug,
)
from benchagent.stages.context import BuildContext
from benchagent.stages.engine import Stage, StageRun
from benchagent.stages.paths import BENCHMARK, CARD, PLAN_MD, SUBTASKS
from benchagent.store import Counts, atomic_write_text

DIRECT = "direct"  # the baseline, its one stage, and the trace role of its call
DIRECT_ROLE: Role = "executor"  # the configured role whose model is asked
TOKENS_PER_ITEM = 220
MAX_TOKENS = 16_000
TEXT_ONLY = ("Text only: a model asked in one prompt gives text, so items with images or "
             "audio cannot be produced this way; a request for them is served in text or not "
             "at all.")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


# No long max_length on the model's strings: a local model's grammar cannot hold them.
class DirectItem(BaseModel):
    instruction: str = ""
    context: str = ""
    question: str = Field(min_length=1)
    answer_type: Literal["multiple_choice", "yes_no", "number", "short_text", "free_form"]
    answer: str = Field(min_length=1)
    distractors: list[str] = Field(default_factory=list)  # the wrong options (multiple choice)


class DirectSubtask(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    items: list[DirectItem] = Field(min_length=1)


class DirectBenchmark(BaseModel):
    subtasks: list[DirectSubtask] = Field(min_length=1)


def item_problem(item: DirectItem) -> str | None:
    """Why the item cannot stand as given, or None."""
    answer = item.answer.strip()
    if not item.question.strip() or not answer:
        return "empty question or answer"
    if item.answer_type == "multiple_choice":
        wrong = {d.strip().casefold() for d in item.distractors if d.strip()}
        if not wrong or answer.casefold() in wrong:
            return "a multiple-choice item needs wrong options that differ from the answer"
        if len(wrong) > 25:
            return "more than 26 options"
    if item.answer_type == "yes_no" and answer.casefold().rstrip(".") not in ("yes", "no"):
        return f"a yes/no item answered {answer[:40]!r}"
    if item.answer_type == "number" and not _NUMBER.match(answer.replace(",", "")):
        return f"a number item answered {answer[:40]!r}"
    return None


def check_benchmark(benchmark: DirectBenchmark) -> None:
    """Raise ValueError (for the repair loop) when not one item holds together."""
    problems = [p for s in benchmark.subtasks for i in s.items if (p := item_problem(i))]
    if len(problems) == sum(len(s.items) for s in benchmark.subtasks):
        raise ValueError(f"no usable item: {problems[0]}")


def _options(item: DirectItem, seed: int) -> list[str]:
    if item.answer_type != "multiple_choice":
        return []
    wrong = list(dict.fromkeys(d.strip() for d in item.distractors if d.strip()))
    options = [item.answer.strip(), *wrong]
    random.Random(f"{seed}:{item.question}").shuffle(options)  # a str seed is stable
    return options


def _answer(item: DirectItem) -> str:
    answer = item.answer.strip()
    return answer.casefold().rstrip(".") if item.answer_type == "yes_no" else answer


def to_samples(benchmark: DirectBenchmark, size: int, seed: int,
               label: str) -> tuple[list[BenchmarkSample], list[str]]:
    """The first `size` items that hold together, and why the others were dropped."""
    samples: list[BenchmarkSample] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for subtask in benchmark.subtasks:
        for n, item in enumerate(subtask.items):
            problem = item_problem(item)
            text = " ".join(f"{item.context} {item.question}".casefold().split())
            if problem is None and text in seen:
                problem = "the same question twice"
            if problem is not None:
                dropped.append(f"{subtask.name} #{n + 1}: {problem}")
                continue
            if len(samples) == size:
                dropped.append(f"{subtask.name} #{n + 1}: more items than the {size} asked")
                continue
            seen.add(text)
            digest = hashlib.sha256(f"{subtask.name}|{text}".encode()).hexdigest()[:10]
            samples.append(BenchmarkSample(
                id=f"{safe_slug(subtask.name, 'subtask')[:40]}-{digest}",
                subtask=subtask.name.strip(), instruction=item.instruction.strip(),
                question=item.question.strip(), context=item.context.strip(),
                options=_options(item, seed), answer=_answer(item),
                answer_type=AnswerType(item.answer_type),
                provenance=Provenance(source_dataset=DIRECT,
                                      source_dataset_name=f"direct prompting ({label})",
                                      source_id=str(len(samples)), models=[label],
                                      sample_plan="model")))
    return samples, dropped


def planned_subtasks(benchmark: DirectBenchmark,
                     samples: list[BenchmarkSample]) -> list[Subtask]:
    """The subtasks the items kept belong to, each with its most common answer type."""
    out: dict[str, Subtask] = {}
    for subtask in benchmark.subtasks:
        types = Counter(s.answer_type for s in samples if s.subtask == subtask.name.strip())
        if types and subtask.name.strip() not in out:
            out[subtask.name.strip()] = Subtask(
                name=subtask.name.strip(), description=subtask.description.strip(),
                answer_type=types.most_common(1)[0][0])
    return list(out.values())


def ask_direct(client: ModelClient | None, query: Query, seed: int) -> DirectBenchmark | str:
    """The model's benchmark, or why there is none (no model, or output that stayed invalid
    after the repair loop: traced as a fallback)."""
    prompt = render("direct_benchmark.j2", request=query.description, size=query.target_size)
    tokens = min(MAX_TOKENS, TOKENS_PER_ITEM * query.target_size + 400)
    return ask_or_fallback(
        client, DIRECT,
        lambda c: c.generate([{"role": "user", "content": prompt}], DirectBenchmark,
                             role=DIRECT, check=check_benchmark, max_tokens=tokens, seed=seed),
        lambda reason: reason.splitlines()[0] if reason else "no benchmark")


def plan_text(query: Query, label: str, subtasks: list[Subtask], kept: int,
              dropped: list[str]) -> str:
    lines = ["# Plan: direct-prompting baseline", "", f"> {query.description}", "",
             f"One prompt asked {label} for {query.target_size} items from the request "
             f"alone (no pool, no operators, no verification); {kept} kept.", "", TEXT_ONLY,
             "", "## Subtasks (as the model named them)", ""]
    lines += [f"- {s.name}: {s.description}" for s in subtasks] or ["- none"]
    if dropped:
        lines += ["", "## Dropped items", ""] + [f"- {d}" for d in dropped]
    return "\n".join(lines) + "\n"


def run_direct(ctx: BuildContext, mode: StageRun) -> None:
    client = ctx.models.get(DIRECT_ROLE)
    label = ctx.label(DIRECT_ROLE)
    answer = ask_direct(client, ctx.query, ctx.seed)
    samples, dropped = ([], [answer]) if isinstance(answer, str) else \
        to_samples(answer, ctx.query.target_size, ctx.seed, label)
    subtasks = [] if isinstance(answer, str) else planned_subtasks(answer, samples)
    ctx.write(SUBTASKS, subtasks)
    atomic_write_text(ctx.store.path(PLAN_MD),
                      plan_text(ctx.query, label, subtasks, len(samples), dropped))
    atomic_write_text(ctx.store.path(BENCHMARK), "".join(s.model_dump_json() + "\n"
                                                         for s in samples))
    manifest = ctx.store.manifest
    manifest.models[DIRECT] = label
    manifest.subtasks = [s.name for s in subtasks]
    manifest.shortfall = _shortfall(ctx.query.target_size, len(samples), dropped)
    manifest.counts = Counts(benchmark=len(samples), target=ctx.query.target_size,
                             accepted_candidates=len(samples), rejected_candidates=len(dropped))
    card = render_card(ctx.query, samples, manifest.shortfall, {DIRECT: label})
    atomic_write_text(ctx.store.path(CARD), card + f"\n## Direct-prompting baseline\n\n"
                      f"{TEXT_ONLY}\n")


def _shortfall(size: int, kept: int, dropped: list[str]) -> list[Shortfall]:
    if kept >= size:
        return []
    first = f" (first: {dropped[0]})" if dropped else ""
    return [Shortfall(subtask="all", dataset_id=DIRECT, quota=size, accepted=kept,
                      missing=size - kept,
                      cause=f"the model gave {kept} usable items of {size} asked{first}")]


def _settings(ctx: BuildContext) -> tuple[Any, ...]:
    return (ctx.query.model_dump(), ctx.models.labels(), ctx.seed)


STAGE = Stage(DIRECT, run_direct, settings=_settings,
              outputs=(SUBTASKS, PLAN_MD, BENCHMARK, CARD))
DIRECT_STAGES: tuple[Stage, ...] = (STAGE,)
BaselineName = Literal["direct"]
