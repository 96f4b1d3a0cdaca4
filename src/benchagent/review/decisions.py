"""Reviewers' decisions on benchmark items: one `review/<reviewer>.jsonl` per reviewer, one line
per decision, synced as it is made; the last decision on an item wins."""

from __future__ import annotations

import fcntl
import json
import re
import threading
import time
from pathlib import Path
from typing import Literal, TextIO

from pydantic import Field, ValidationError

from benchagent.errors import UserError
from benchagent.records import AnswerType, BenchmarkSample, Record
from benchagent.store import JsonlAppender, RunError

REVIEW_DIR = "review"
MAX_REASON_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_OPTIONS = 26
_REVIEWER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
Action = Literal["accept", "reject", "edit"]


class ItemEdit(Record):
    """What a reviewer may change in an item: its question, its options and its answer."""

    question: str = Field(max_length=MAX_TEXT_CHARS)
    options: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    answer: str = Field(max_length=MAX_TEXT_CHARS)


class Decision(Record):
    item: str
    reviewer: str
    action: Action
    reason: str = Field(default="", max_length=MAX_REASON_CHARS)
    edit: ItemEdit | None = None
    at: str = Field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    @property
    def keeps(self) -> bool:
        """Accepted as it is or with an edit."""
        return self.action != "reject"


def check_reviewer(name: str) -> str:
    """`name` when it can name a reviewer (and their file), else a UserError."""
    if not _REVIEWER_NAME.fullmatch(name):
        raise UserError(f"reviewer name {name!r} is not usable: 1 to 40 letters, digits, "
                        "`-` or `_`, starting with a letter or digit")
    return name


def decisions_path(run_dir: Path, reviewer: str) -> Path:
    return run_dir / REVIEW_DIR / f"{check_reviewer(reviewer)}.jsonl"


def _read_log(path: Path) -> dict[str, Decision]:
    """The last decision per item in one reviewer's file; torn or invalid lines are skipped."""
    latest: dict[str, Decision] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"cannot read the review decisions {path}: {exc}") from exc
    for line in lines:
        try:
            decision = Decision.model_validate_json(line)
        except ValidationError:
            continue
        if decision.reviewer == path.stem:
            latest[decision.item] = decision
    return latest


def read_decisions(run_dir: Path) -> dict[str, dict[str, Decision]]:
    """Every reviewer's last decision per item: reviewer -> item id -> decision."""
    folder = run_dir / REVIEW_DIR
    if not folder.is_dir():
        return {}
    logs = sorted(p for p in folder.glob("*.jsonl")
                  if p.is_file() and _REVIEWER_NAME.fullmatch(p.stem))
    return {path.stem: _read_log(path) for path in logs}


class DecisionLog:
    """One reviewer's decisions, held open for appending by one process at a time."""

    def __init__(self, run_dir: Path, reviewer: str) -> None:
        self.reviewer = check_reviewer(reviewer)
        self.path = decisions_path(run_dir, reviewer)
        self._write_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fh: TextIO = self.path.with_suffix(".lock").open("w")
        except OSError as exc:
            raise RunError(f"cannot write the review decisions in {self.path.parent}: "
                           f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_fh.close()
            raise RunError(f"{self.reviewer} is already reviewing {run_dir} in another "
                           "benchagent process") from exc
        self.latest = _read_log(self.path) if self.path.exists() else {}
        self._appender = JsonlAppender(self.path)

    def record(self, decision: Decision) -> None:
        """Append and sync `decision`: once this returns, a killed process keeps it."""
        with self._write_lock:
            self._appender.append(json.loads(decision.model_dump_json(exclude_none=True)))
            self.latest[decision.item] = decision

    def close(self) -> None:
        self._appender.close()
        self._lock_fh.close()


def _check_answer(sample: BenchmarkSample) -> None:
    if not sample.question.strip():
        raise UserError("the question is empty")
    if not sample.answer.strip():
        raise UserError("the answer is empty")
    options = [o.strip() for o in sample.options]
    if any(not o for o in options):
        raise UserError("an option is empty")
    if len(set(options)) != len(options):
        raise UserError("two options are the same")
    if sample.answer_type is AnswerType.multiple_choice:
        if len(options) < 2:
            raise UserError("a multiple-choice item needs at least two options")
        if sample.answer.strip() not in options:
            raise UserError("the answer must be one of the options")
    elif sample.answer_type is AnswerType.yes_no and sample.answer.strip().lower() not in (
            "yes", "no"):
        raise UserError("a yes/no item's answer must be yes or no")
    elif sample.answer_type is AnswerType.number and not _is_number(sample.answer):
        raise UserError("a number item's answer must be a number")


def _is_number(text: str) -> bool:
    try:
        float(text.strip().replace(",", ""))
    except ValueError:
        return False
    return True


def apply_edit(sample: BenchmarkSample, edit: ItemEdit) -> BenchmarkSample:
    """`sample` with the edit applied, checked as a typed item; a UserError says what is wrong."""
    changed = {"question": edit.question.strip(), "answer": edit.answer.strip(),
               "options": [o.strip() for o in edit.options]}
    try:
        edited = BenchmarkSample.model_validate({**sample.model_dump(), **changed})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UserError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    _check_answer(edited)
    return edited
