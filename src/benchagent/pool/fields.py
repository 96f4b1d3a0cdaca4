"""Text helpers shared by the loaders: dotted paths, options inside questions, letter answers."""

from __future__ import annotations

import ast
import re
from typing import Any

_CANDIDATES = re.compile(r"\s*The candidate choices are\s*(\[.*\])\s*\.?\s*", re.S)
_LETTER_LINE = re.compile(r"^\s*\(?([A-Z])[.):]\s+(.+?)\s*$")
_CHOOSE_LINE = re.compile(
    r"^\s*(Choose|Select|Answer with)\b[^\n]*\b[A-Z](, [A-Z])*,? (or|and) [A-Z]\b.*$")
_LETTER_ANSWER = re.compile(r"^\s*\(?([A-Z])\)?[.)]?\s*$")
_PLACEHOLDER = re.compile(r"<<<\s*([\w.]+)\s*>>>")
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[-+]?\.\d+$")
_MAX_LITERAL = 20_000


def get_path(obj: Any, dotted: str) -> Any:
    """Value at a dotted path ("input.question"), or None when any step is missing."""
    cur = obj
    for part in dotted.split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def as_text(value: Any) -> str:
    """A scalar or a list of scalars as text; anything else gives ""."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return "\n".join(as_text(v) for v in value if as_text(v))
    return ""


def as_text_list(value: Any) -> list[str]:
    """A list of scalars as a list of non-empty texts; a single scalar as a one-item list."""
    items = value if isinstance(value, list) else [value]
    scalars = [v for v in items if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return [t for t in (as_text(v) for v in scalars) if t]


def split_candidate_choices(question: str) -> tuple[str, list[str]]:
    """Pull "The candidate choices are [...]" out of a question: (question, options)."""
    m = _CANDIDATES.search(question)
    if not m or len(m.group(1)) > _MAX_LITERAL:
        return question, []
    try:
        parsed = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return question, []
    if not isinstance(parsed, list | tuple):
        return question, []
    options = as_text_list(list(parsed))
    if len(options) < 2:
        return question, []
    rest = (question[: m.start()] + " " + question[m.end():]).strip()
    return rest, options


def split_lettered_options(question: str) -> tuple[str, list[str]]:
    """Pull "A. ...", "B. ..." lines (and a "Choose A, B or C." line) out of a question."""
    lines = question.split("\n")
    found: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        m = _LETTER_LINE.match(line)
        if m and ord(m.group(1)) - ord("A") == len(found):
            found.append((i, m.group(2)))
    if len(found) < 2:
        return question, []
    drop = {i for i, _ in found}
    drop |= {i for i, line in enumerate(lines) if _CHOOSE_LINE.match(line)}
    kept = [line for i, line in enumerate(lines) if i not in drop]
    rest = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return rest, [text for _, text in found]


def letter_index(answer: str) -> int | None:
    """0 for "A", "(A)" or "A." ... ; None when the answer is not a single capital letter."""
    m = _LETTER_ANSWER.match(answer)
    return ord(m.group(1)) - ord("A") if m else None


def normalize(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .")


def match_option(answer: str, options: list[str]) -> str | None:
    """The option the answer names: by text (exact, then loose), else by letter."""
    if answer in options:
        return answer
    norm = normalize(answer)
    for opt in options:
        if normalize(opt) == norm:
            return opt
    idx = letter_index(answer)
    if idx is not None and idx < len(options):
        return options[idx]
    return None


def fill_placeholders(text: str, values: dict[str, str], rendered: set[str]) -> str:
    """Replace <<<name>>> by its value, or drop it when the value is shown elsewhere."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in rendered:
            return ""
        return values.get(name, "")

    out = _PLACEHOLDER.sub(repl, text)
    return re.sub(r"^\s*[.:,;]\s*", "", out).strip()


def has_placeholder(text: str) -> bool:
    return "<<<" in text and _PLACEHOLDER.search(text) is not None


def is_number(text: str) -> bool:
    return bool(_NUMBER.match(text.strip()))


def is_yes_no(text: str) -> bool:
    return normalize(text) in {"yes", "no"}
