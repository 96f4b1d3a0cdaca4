"""Asking every model every item, concurrently under each model's own limit, and keeping each
answer the moment it comes (eval/answers.jsonl, appended and synced like accepted samples), so
that an eval cut off by a kill resumes without asking an answered item again. Free-form
answers are then graded by the judge (eval/grades.jsonl), kept the same way."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchagent.evaluation.prompt import Condition, has_media, item_request
from benchagent.models import (
    CompletionRequest,
    InputRejectedError,
    ModelClient,
    StructuredOutputError,
)
from benchagent.models.cache import cache_key
from benchagent.prompts import render
from benchagent.records import AnswerType, BenchmarkSample
from benchagent.store import hash_of, read_jsonl, truncate_torn_tail

ANSWERS = "eval/answers.jsonl"
GRADES = "eval/grades.jsonl"
EVAL_ROLE = "eval"
JUDGE_ROLE = "judge"
# (tasks in all, answered already) -> a context giving the callback each new answer goes to
AnswerProgress = Callable[[int, int], "contextlib.AbstractContextManager[Callable[[Answer], None]]"]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Answer(BaseModel):
    """One model's answer to one item in one condition (a row of eval/answers.jsonl)."""

    model_config = ConfigDict(extra="ignore")

    key: str  # the request's cache key: model, messages and settings
    model: str
    item: str
    condition: Condition
    text: str = ""
    unsupported: str | None = None  # why the model could not take the item


class Grade(BaseModel):
    """The judge's verdict on one free-form answer (a row of eval/grades.jsonl)."""

    model_config = ConfigDict(extra="ignore")

    key: str
    answer: str  # the Answer's key
    correct: bool | None = None
    reason: str = ""


class JudgeVerdict(BaseModel):
    reason: str = Field(default="", max_length=400)  # first, so the verdict follows a reason
    correct: bool


@dataclass(frozen=True)
class EvalModel:
    name: str  # as the user gave it: the results' and the summary's name for the model
    client: ModelClient


@dataclass(frozen=True)
class Task:
    model: str
    sample: BenchmarkSample
    condition: Condition
    request: CompletionRequest
    key: str


class RowsFile:
    """A JSONL file that several threads append to: each row is written whole under a lock,
    then synced outside it (so that one thread's sync never holds up another's answer)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        truncate_torn_tail(path)
        self._fh = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def append(self, row: KeyedRow) -> None:
        line = row.model_dump_json() + "\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def kept_rows(path: Path, kind: type[M]) -> list[M]:
    """The rows an earlier eval kept; one that does not read as `kind` (edited by hand) is
    left out, so that its item is asked again."""
    rows = []
    for raw in read_jsonl(path):
        try:
            rows.append(kind.model_validate(raw))
        except ValidationError:
            continue
    return rows


@contextlib.contextmanager
def no_answer_progress(total: int, done: int) -> Iterator[Callable[[Answer], None]]:
    yield lambda answer: None


def plan_tasks(models: Sequence[EvalModel], samples: Sequence[BenchmarkSample], run_dir: Path,
               seed: int, blind: bool) -> list[Task]:
    """Every (model, item) with its media, and again without for image and audio items when
    `blind`; in model order, then benchmark order."""
    requests: list[tuple[BenchmarkSample, Condition, CompletionRequest]] = []
    for sample in samples:  # one request per item and condition, whatever the models
        conditions: list[Condition] = ["full", "blind"] if blind and has_media(sample) \
            else ["full"]
        requests += [(sample, c, item_request(sample, run_dir, c, seed)) for c in conditions]
    return [Task(model.name, sample, condition, request,
                 cache_key(model.client.provider.spec, request))
            for model in models for sample, condition, request in requests]


def _ask(task: Task, client: ModelClient) -> Answer:
    try:
        text = client.complete(task.request, role=EVAL_ROLE).text
    except InputRejectedError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Answer(key=task.key, model=task.model, item=task.sample.id,
                      condition=task.condition, unsupported=reason)
    return Answer(key=task.key, model=task.model, item=task.sample.id, condition=task.condition,
                  text=text)


def run_all(jobs: Sequence[tuple[str, Callable[[], T]]], limits: dict[str, int],
             keep: Callable[[T], None]) -> None:
    """Run every (group, job) with at most `limits[group]` of a group at once, `keep` each
    result as it comes; the first failure cancels what has not started and is raised once the
    running jobs are done (what they return is kept too)."""
    pools = {name: ThreadPoolExecutor(max_workers=limit, thread_name_prefix=f"eval-{name}")
             for name, limit in limits.items()}

    def run(job: Callable[[], T]) -> None:
        keep(job())

    try:
        futures: list[Future[None]] = [pools[group].submit(run, job) for group, job in jobs]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in finished if f.exception() is not None), None)
        if failed is not None:
            for future in futures:
                future.cancel()
            raise failed
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)


def ask_models(tasks: Sequence[Task], models: Sequence[EvalModel], run_dir: Path,
               progress: AnswerProgress = no_answer_progress) -> dict[str, Answer]:
    """The answer to every task: those kept from an earlier run of the same requests, and the
    rest asked now, each appended to eval/answers.jsonl as it comes."""
    answers = {row.key: row for row in kept_rows(run_dir / ANSWERS, Answer)}
    clients = {m.name: m.client for m in models}
    # two items that read the same (text and media) are one request: asked once
    pending = list({t.key: t for t in tasks if t.key not in answers}.values())
    jobs = [(t.model, _bind_ask(t, clients[t.model])) for t in pending]
    total = len({t.key for t in tasks})
    with progress(total, total - len(pending)) as tick:
        run_kept(run_dir / ANSWERS, jobs, {m.name: m.client.cfg.max_concurrency
                                           for m in models}, answers, tick)
    return answers


class KeyedRow(Protocol):
    """A row of answers.jsonl or scores.jsonl: a record with its task's key."""

    key: str

    def model_dump_json(self) -> str: ...


R = TypeVar("R", bound=KeyedRow)


def run_kept(path: Path, jobs: Sequence[tuple[str, Callable[[], R]]], limits: dict[str, int],
             kept: dict[str, R], tick: Callable[[R], None]) -> None:
    """`run_all` with each row appended to the JSONL at `path` as it comes (a killed run keeps
    it) and put into `kept` under its key."""
    rows = RowsFile(path)
    lock = threading.Lock()

    def keep(row: R) -> None:
        rows.append(row)
        with lock:
            kept[row.key] = row
        tick(row)

    try:
        run_all(jobs, limits, keep)
    finally:
        rows.close()


def _bind_ask(task: Task, client: ModelClient) -> Callable[[], Answer]:
    return lambda: _ask(task, client)


# ---------------------------------------------------------------- the judge


def needs_grade(sample: BenchmarkSample, answer: Answer) -> bool:
    return sample.answer_type == AnswerType.free_form and answer.unsupported is None and \
        bool(answer.text.strip())


def _grade(judge: ModelClient, sample: BenchmarkSample, answer: Answer, key: str,
           seed: int) -> Grade:
    prompt = render("eval_judge.j2", question=sample.question, context=sample.context,
                    reference=sample.answer, answer=answer.text)
    try:
        verdict = judge.generate([{"role": "user", "content": prompt}], JudgeVerdict,
                                 role=JUDGE_ROLE, max_tokens=300, seed=seed)
    except StructuredOutputError as exc:
        return Grade(key=key, answer=answer.key, reason=str(exc).splitlines()[0])
    return Grade(key=key, answer=answer.key, correct=verdict.correct, reason=verdict.reason)


def grade_answers(judge: ModelClient, samples: dict[str, BenchmarkSample],
                  answers: Sequence[Answer], run_dir: Path, seed: int) -> dict[str, Grade]:
    """The judge's grade of every free-form answer, by answer key; kept like the answers."""
    kept = {g.key: g for g in kept_rows(run_dir / GRADES, Grade)}
    wanted = {hash_of(judge.provider.spec, a.key, a.text): a for a in answers
              if a.item in samples and needs_grade(samples[a.item], a)}
    rows = RowsFile(run_dir / GRADES)

    def keep(grade: Grade) -> None:
        rows.append(grade)
        kept[grade.key] = grade

    jobs: list[tuple[str, Callable[[], Grade]]] = [
        (JUDGE_ROLE, _bind_grade(judge, samples[a.item], a, key, seed))
        for key, a in wanted.items() if key not in kept]
    try:
        run_all(jobs, {JUDGE_ROLE: judge.cfg.max_concurrency}, keep)
    finally:
        rows.close()
    return {kept[key].answer: kept[key] for key in wanted if key in kept}


def _bind_grade(judge: ModelClient, sample: BenchmarkSample, answer: Answer, key: str,
                seed: int) -> Callable[[], Grade]:
    return lambda: _grade(judge, sample, answer, key, seed)
