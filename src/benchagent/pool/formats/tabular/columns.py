"""Which column of a table plays which role: from a mapping file, or by profiling names and values.

Profiling looks at column names first (question / prompt / input / text / context / passage /
options / choices / answer / label / target / output / image / audio / dialog / id ...), then
at values for the columns no name explains: media paths or embedded media bytes, chat turns,
lists of options. Hugging Face features (`Image`, `Audio`, `ClassLabel`) are used when known.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchagent.pool.fields import as_text, as_text_list, get_path
from benchagent.pool.formats.fieldmap import map_from_profile
from benchagent.pool.formats.tabular.mapping import DatasetMapping
from benchagent.records import FieldRole

PROFILE_ROWS = 200
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")
AUDIO_EXT = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus")

# Checked in this order; within a role the names are in preference order.
ROLE_NAMES: tuple[tuple[FieldRole, tuple[str, ...]], ...] = (
    (FieldRole.id, ("id", "_id", "idx", "uid", "qid", "guid", "example_id", "sample_id",
                    "question_id")),
    (FieldRole.answer, ("answer", "answers", "label", "gold_label", "gold", "target",
                        "correct_answer", "answerkey", "answer_key", "answer_idx",
                        "answer_index", "correct", "output", "solution", "response",
                        "labels", "targets")),
    (FieldRole.options, ("options", "choices", "candidates", "answer_choices", "endings",
                         "choice_list", "mc_options")),
    (FieldRole.image, ("image", "images", "img", "image_path", "image_file", "picture",
                       "photo")),
    (FieldRole.audio, ("audio", "audio_path", "audio_file", "audio_filepath", "speech", "wav",
                       "sound")),
    (FieldRole.dialog, ("dialog", "dialogue", "dialogs", "conversation", "conversations",
                        "messages", "turns", "utterances", "history", "chat")),
    (FieldRole.instruction, ("instruction", "instructions", "system", "system_prompt",
                             "task_prefix")),
    (FieldRole.question, ("question", "query", "prompt", "input", "problem", "question_text",
                          "hypothesis", "claim", "goal", "statement", "sentence2", "sentence")),
    (FieldRole.context, ("context", "passage", "text", "document", "article", "story",
                         "paragraph", "premise", "sentence1", "background", "support",
                         "evidence")),
)
_OPTION_COLUMN = re.compile(r"^(option|choice|opt|op|ending|answer)?[_ ]?([a-h]|[0-9])$", re.I)
_TURN_SPEAKER = ("role", "from", "speaker")
_TURN_TEXT = ("content", "value", "text", "utterance")
_SINGLE = (FieldRole.id, FieldRole.answer, FieldRole.options)
_MAX_LITERAL = 20_000


@dataclass
class ColumnMap:
    roles: dict[FieldRole, list[str]] = field(default_factory=dict)
    answer_index: bool = False
    answer_index_base: int = 0
    class_labels: dict[str, list[str]] = field(default_factory=dict)  # column -> label names

    def card_fields(self) -> dict[FieldRole, str]:
        return {role: ",".join(cols) for role, cols in self.roles.items() if cols}

    def columns(self) -> list[str]:
        return [c for cols in self.roles.values() for c in cols]


def value(row: dict[str, Any], column: str) -> Any:
    """A column's value; a dotted name reaches into nested values ("answers.text")."""
    return row[column] if column in row else get_path(row, column)


def parse_options(raw: Any) -> tuple[list[str], list[str]]:
    """Options from one value: a list, a JSON (or Python) list string, or {"text": [...],
    "label": [...]} as in ARC / CommonsenseQA. Returns (options, their labels or [])."""
    if isinstance(raw, dict):
        texts, labels = raw.get("text"), raw.get("label")
        opts = as_text_list(texts) if isinstance(texts, list) else []
        labs = as_text_list(labels) if isinstance(labels, list) else []
        return opts, (labs if len(labs) == len(opts) else [])
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.startswith("[") and text.endswith("]")) or len(text) > _MAX_LITERAL:
            return [], []
        try:
            raw = json.loads(text)
        except ValueError:
            try:
                raw = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return [], []
    if isinstance(raw, list | tuple):
        return as_text_list(list(raw)), []
    return [], []


def class_labels(features: dict[str, Any]) -> dict[str, list[str]]:
    """Label names of every `ClassLabel` feature, by column."""
    out: dict[str, list[str]] = {}
    for col, feat in features.items():
        if isinstance(feat, dict) and feat.get("_type") == "ClassLabel":
            names = feat.get("names")
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                out[col] = names
    return out


def map_columns(rows: Sequence[dict[str, Any]], features: dict[str, Any],
                mapping: DatasetMapping | None) -> ColumnMap:
    """The mapping file's roles when it names any, else profiled ones."""
    labels = class_labels(features)
    if mapping is not None and mapping.fields:
        cmap = ColumnMap({r: list(cols) for r, cols in mapping.fields.items()})
    elif _nested(rows[:PROFILE_ROWS]):  # General-Bench-style rows: {"input": {...}, "output": ...}
        cmap = ColumnMap({r: list(ps) for r, ps in map_from_profile(list(rows)).paths.items()})
    else:
        cmap = _profile(rows[:PROFILE_ROWS], features, labels)
    cmap.class_labels = {c: n for c, n in labels.items() if c in cmap.roles.get(
        FieldRole.answer, [])}
    if mapping is not None and mapping.answer_index is not None:
        cmap.answer_index = mapping.answer_index
    elif not (mapping and mapping.fields):
        cmap.answer_index = _answers_are_indexes(rows[:PROFILE_ROWS], cmap)
    cmap.answer_index_base = mapping.answer_index_base if mapping else 0
    return cmap


def _nested(rows: Sequence[dict[str, Any]]) -> bool:
    return bool(rows) and all(isinstance(r.get("input"), dict) for r in rows)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _filled(rows: Sequence[dict[str, Any]], col: str) -> int:
    return sum(1 for r in rows if value(r, col) not in (None, "", [], {}))


def _profile(rows: Sequence[dict[str, Any]], features: dict[str, Any],
             labels: dict[str, list[str]]) -> ColumnMap:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    columns = [c for c in columns if _filled(rows, c)]
    roles: dict[FieldRole, list[str]] = {}
    taken: set[str] = set()
    by_name = {_norm(c): c for c in columns}
    for role, names in ROLE_NAMES:
        for n in names:
            col = by_name.get(n)
            if col is not None and col not in taken:
                roles.setdefault(role, []).append(col)
                taken.add(col)
    for col in columns:
        kind = _feature_role(features.get(col))
        if kind is not None and col not in taken:
            roles.setdefault(kind, []).append(col)
            taken.add(col)
    if FieldRole.answer not in roles and labels:
        roles[FieldRole.answer] = [next(iter(labels))]
        taken.add(next(iter(labels)))
    for role in _SINGLE:
        roles[role] = roles.get(role, [])[:1]
    if not roles[FieldRole.options]:
        roles[FieldRole.options] = _option_columns([c for c in columns if c not in taken])
        taken.update(roles[FieldRole.options])
    half = max(1, len(rows) // 2)
    for col in columns:
        if col not in taken and _filled(rows, col) >= half:
            kind = _value_role(rows, col, not roles[FieldRole.options])
            if kind is not None:
                roles.setdefault(kind, []).append(col)
    return ColumnMap({r: cols for r, cols in _settle_text(rows, roles).items() if cols})


def _feature_role(feat: Any) -> FieldRole | None:
    kind = feat.get("_type") if isinstance(feat, dict) else None
    return {"Image": FieldRole.image, "Audio": FieldRole.audio}.get(str(kind))


def _option_columns(columns: list[str]) -> list[str]:
    """Several columns that together hold the options: A, B, C, D / option_a ... / ending0 ..."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for col in columns:
        m = _OPTION_COLUMN.match(col)
        if m:
            groups.setdefault((m.group(1) or "").lower(), []).append((m.group(2).lower(), col))
    for items in sorted(groups.values(), key=len, reverse=True):
        keys = sorted(items)
        start = keys[0][0]
        if len(keys) >= 2 and start in ("a", "0", "1") and all(
                ord(k) - ord(start) == i for i, (k, _) in enumerate(keys)):
            return [col for _, col in keys]
    return []


def _value_role(rows: Sequence[dict[str, Any]], col: str, want_options: bool) -> FieldRole | None:
    values = [v for r in rows if (v := value(r, col)) not in (None, "", [], {})]
    first = values[0]
    if all(isinstance(v, dict) and ("bytes" in v or "path" in v) for v in values):
        paths = [as_text(v.get("path")).lower() for v in values]
        return FieldRole.audio if any(p.endswith(AUDIO_EXT) for p in paths) else FieldRole.image
    if all(isinstance(v, str) for v in values):
        lower = [v.strip().lower() for v in values]
        if all(v.endswith(IMAGE_EXT) for v in lower):
            return FieldRole.image
        if all(v.endswith(AUDIO_EXT) for v in lower):
            return FieldRole.audio
        return None
    if isinstance(first, list) and all(isinstance(v, list) for v in values):
        if all(isinstance(t, dict) and any(k in t for k in _TURN_TEXT) for v in values for t in v):
            return FieldRole.dialog
        if want_options and all(len(v) >= 2 and all(isinstance(t, str) for t in v)
                                for v in values):
            return FieldRole.options
    return None


def _constant(rows: Sequence[dict[str, Any]], col: str) -> bool:
    texts = {as_text(value(r, col)) for r in rows}
    return len(rows) >= 2 and len(texts) == 1


def _settle_text(rows: Sequence[dict[str, Any]],
                 roles: dict[FieldRole, list[str]]) -> dict[FieldRole, list[str]]:
    """One question column; the other question-like columns become context; columns with the
    same text in every row become instruction; an instruction that varies is the question."""
    q = roles.get(FieldRole.question, [])
    c = roles.get(FieldRole.context, [])
    instr = roles.get(FieldRole.instruction, [])
    fixed = [col for col in q + c if _constant(rows, col)]
    q = [col for col in q if col not in fixed]
    c = [col for col in c if col not in fixed]
    varying = [col for col in instr if not _constant(rows, col)]
    if varying and (not q or _filled(rows, q[0]) < len(rows)):
        q, c = varying[:1], q + c
        instr = [col for col in instr if col != varying[0]]
    if not q and c:
        q, c = c[:1], c[1:]
    roles[FieldRole.question], roles[FieldRole.context] = q[:1], q[1:] + c
    roles[FieldRole.instruction] = instr + fixed
    return roles


def _int_like(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit())


def _answers_are_indexes(rows: Sequence[dict[str, Any]], cmap: ColumnMap) -> bool:
    """Integer answers into the options (unless the integers are the option texts)."""
    answer = cmap.roles.get(FieldRole.answer, [])
    opts = cmap.roles.get(FieldRole.options, [])
    if not answer or not opts or answer[0] in cmap.class_labels:
        return False
    pairs = [(value(r, answer[0]), r) for r in rows]
    pairs = [(a, r) for a, r in pairs if a not in (None, "")]
    if not pairs or not all(_int_like(a) for a, _ in pairs):
        return False
    if len(opts) > 1:
        return True
    texts = [set(parse_options(value(r, opts[0]))[0]) for _, r in pairs]
    return not all(as_text(a) in t for (a, _), t in zip(pairs, texts, strict=True))
