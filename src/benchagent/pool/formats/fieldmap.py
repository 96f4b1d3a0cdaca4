"""Which JSON paths of a General-Bench sample play which role: from its card, or by profiling."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchagent.pool.fields import as_text, get_path, letter_index
from benchagent.records import FieldRole

# General-Bench card roles -> ours ("other_aux" and "category" carry nothing a sample needs).
CARD_ROLES: dict[str, FieldRole] = {
    "context": FieldRole.context, "question": FieldRole.question,
    "options": FieldRole.options, "answer": FieldRole.answer, "image": FieldRole.image,
    "audio": FieldRole.audio, "dialog": FieldRole.dialog, "instruction": FieldRole.instruction,
}

# Where profiling looks, best first. Question and context take every path present.
PROFILE_PATHS: dict[FieldRole, tuple[str, ...]] = {
    FieldRole.question: ("input.question", "input.prompt", "input.instruction", "question",
                         "prompt"),
    FieldRole.context: ("input.context", "input.raw_text", "input.text", "input.passage",
                        "context"),
    FieldRole.options: ("input.options", "input.choices", "options", "choices"),
    FieldRole.answer: ("output.answer", "output.text", "output.category", "output.prediction",
                       "output.response", "output.label", "output.target", "answer", "target"),
    FieldRole.image: ("input.image_file", "input.image", "input.image_path", "input.images",
                      "image"),
    FieldRole.audio: ("input.audio_file", "input.audio", "audio"),
    FieldRole.dialog: ("dialog", "input.dialog"),
}
_MULTI = {FieldRole.question, FieldRole.context}
_PROFILE_ROWS = 200


@dataclass
class FieldMap:
    paths: dict[FieldRole, list[str]] = field(default_factory=dict)

    def card_fields(self) -> dict[FieldRole, str]:
        return {role: ",".join(ps) for role, ps in self.paths.items() if ps}

    def rendered_names(self) -> set[str]:
        """Input names shown on their own (as context or dialog): placeholders for them go."""
        roles = (FieldRole.context, FieldRole.dialog)
        return {p.rsplit(".", 1)[-1] for r in roles for p in self.paths.get(r, [])}


def map_from_card(raw_card: dict[str, Any], rows: list[Any]) -> FieldMap | None:
    """The card's `meta.fields` roles and paths, or None when it names no answer."""
    fields = get_path(raw_card, "meta.fields")
    if not isinstance(fields, dict):
        return None
    paths: dict[FieldRole, list[str]] = {}
    for key, spec in fields.items():
        role = CARD_ROLES.get(str(key))
        found = spec.get("paths") if isinstance(spec, dict) else None
        if role is None or not isinstance(found, list):
            continue
        for p in found:
            if isinstance(p, str) and p and p not in paths.setdefault(role, []):
                paths[role].append(p)
    if not paths.get(FieldRole.answer):
        return None
    return _finalize(paths, rows)


def map_from_profile(rows: list[Any]) -> FieldMap:
    """Guess the roles from the paths the samples actually fill."""
    sample = [r for r in rows[:_PROFILE_ROWS] if isinstance(r, dict)]

    def present(path: str) -> bool:
        hits = sum(1 for r in sample if get_path(r, path) not in (None, "", [], {}))
        return hits > 0 and hits * 2 >= len(sample)

    paths: dict[FieldRole, list[str]] = {}
    for role, candidates in PROFILE_PATHS.items():
        found = [p for p in candidates if present(p)]
        if found:
            paths[role] = found if role in _MULTI else found[:1]
    return _finalize(paths, rows)


def _constant(rows: list[Any], path: str) -> bool:
    """True when every sample holds the same text there (a generic instruction)."""
    first: str | None = None
    n = 0
    for r in rows:
        if not isinstance(r, dict):
            continue
        value = as_text(get_path(r, path))
        if first is None:
            first = value
        elif value != first:
            return False
        n += 1
    return n >= 2


def _finalize(paths: dict[FieldRole, list[str]], rows: list[Any]) -> FieldMap:
    """Settle question, context and instruction; note options hidden inside questions."""
    answer = paths.get(FieldRole.answer, [])[:1]
    for role in list(paths):
        paths[role] = answer if role is FieldRole.answer else [
            p for p in paths[role] if p not in answer]
    q = paths.get(FieldRole.question, [])
    c = paths.get(FieldRole.context, [])
    instr = [p for p in paths.get(FieldRole.instruction, []) if p not in q + c]
    if q:
        varying = [p for p in q if not _constant(rows, p)]
        primary = varying[0] if varying else q[0]
        rest = [p for p in q if p != primary]
        instr += [p for p in rest if _constant(rows, p)]
        q = [primary] + [p for p in rest if not _constant(rows, p)]
        instr += [p for p in c if _constant(rows, p)]
        c = [p for p in c if not _constant(rows, p)]
    elif c:
        q, c = c[:1], c[1:]
    paths[FieldRole.question], paths[FieldRole.context] = q, c
    paths[FieldRole.instruction] = list(dict.fromkeys(instr))
    if q and not paths.get(FieldRole.options) and _options_in_question(rows, q[0], answer):
        paths[FieldRole.options] = q[:1]
    if any(isinstance(r, dict) and "id" in r for r in rows[:_PROFILE_ROWS]):
        paths[FieldRole.id] = ["id"]
    return FieldMap({role: ps for role, ps in paths.items() if ps})


def _options_in_question(rows: list[Any], q_path: str, answer: list[str]) -> bool:
    """Questions that list their own choices, or letter answers (options as "A. ..." lines)."""
    sample = [r for r in rows[:_PROFILE_ROWS] if isinstance(r, dict)]
    if any("candidate choices are" in as_text(get_path(r, q_path)) for r in sample):
        return True
    if not answer or not sample:
        return False
    return all(letter_index(as_text(get_path(r, answer[0]))) is not None for r in sample)
