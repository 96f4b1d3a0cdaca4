"""Tabular datasets (JSONL, CSV, Parquet, Arrow, Hugging Face): rows -> typed samples -> card.

Every tabular source (a file, a folder, a `save_to_disk` folder, a hub dataset) is turned into
a `TableSpec`; `load_table` maps its columns to roles, builds one `SourceSample` per good row
(warning about each bad one with its file and reason) and profiles the card (cached by content).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchagent.pool.base import (
    LoadContext,
    LoadedDataset,
    PoolFormat,
    is_valid_utf8,
    stable_id,
)
from benchagent.pool.cards.cardcache import CardKey, cached_card
from benchagent.pool.cards.profile import normalize_answers, profiled_fields
from benchagent.pool.fields import as_text, as_text_list, letter_index, match_option
from benchagent.pool.formats.tabular.columns import ColumnMap, map_columns, parse_options, value
from benchagent.pool.formats.tabular.files import Row
from benchagent.pool.formats.tabular.mapping import DatasetMapping
from benchagent.pool.formats.tabular.media import BadMedia, MediaFinder
from benchagent.pool.limits import MAX_OPTIONS, sample_over_limit
from benchagent.records import AnswerType, DatasetCard, FieldRole, Modality, SourceSample

_TEXT_ROLES = (FieldRole.question, FieldRole.context, FieldRole.options, FieldRole.dialog,
               FieldRole.instruction)


class BadSample(Exception):
    """One row is unusable; the message says why."""


@dataclass
class TableSpec:
    """One tabular dataset, read but not yet interpreted."""

    name: str
    format: PoolFormat
    source: str  # what the card shows as its source
    rel: str  # pool-relative path: with the name, it makes the stable dataset id
    rows: list[Row]
    features: dict[str, Any] = field(default_factory=dict)  # Hugging Face features
    media_root: Path | None = None  # media paths must stay inside this folder
    mapping: DatasetMapping | None = None
    files: list[Path] = field(default_factory=list)  # data files, hashed for the card cache
    key_extra: tuple[str, ...] = ()  # anything else the card depends on
    split: str = ""
    info: dict[str, str] = field(default_factory=dict)  # description / license / citation
    tasks: list[str] = field(default_factory=list)  # what the dataset's own card says it is for
    label_options: bool = False  # a ClassLabel answer's names become each row's options


def load_table(spec: TableSpec, ctx: LoadContext) -> LoadedDataset | None:
    """The dataset of one table, or None with a warning when nothing in it is usable."""
    data = [r.data for r in spec.rows]
    if not data:
        ctx.sink.warn(spec.source, "no rows")
        return None
    cmap = map_columns(data, spec.features, spec.mapping)
    if FieldRole.answer not in cmap.roles:
        ctx.sink.warn(spec.source, "no answer column found (name one in a mapping file: "
                      "[fields] answer = \"...\")")
        return None
    missing = [c for c in cmap.columns() if not any(value(r, c) is not None for r in data)]
    if missing:
        ctx.sink.warn(spec.source, f"the mapping names columns no row has: {', '.join(missing)}")
        return None
    id_key = f"{spec.rel}#{spec.split}" if spec.split else spec.rel
    dataset_id = stable_id(spec.format, id_key, spec.name)
    samples = _samples(spec, cmap, dataset_id, ctx)
    if not samples:
        ctx.sink.warn(spec.source, "no valid samples")
        return None
    hashed = [f for f in spec.files if ctx.inside_pool(f)]  # never open a file that escapes
    key = (CardKey(spec.format).files(hashed)
           .file(spec.mapping.path if spec.mapping else None)
           .text(dataset_id, spec.source, spec.split, *spec.key_extra)
           .text(json.dumps([spec.features, spec.info, *([spec.tasks] if spec.tasks else [])],
                            sort_keys=True, default=str))
           .samples(samples))
    card = cached_card(ctx, key, lambda: _card(spec, cmap, dataset_id, samples))
    samples = normalize_answers(samples, card.answer_type)
    return LoadedDataset(card=card, samples=tuple(samples))


def _card(spec: TableSpec, cmap: ColumnMap, dataset_id: str,
          samples: list[SourceSample]) -> DatasetCard:
    m = spec.mapping or DatasetMapping(path=Path())
    profiled = profiled_fields(samples)
    answer_col = cmap.roles[FieldRole.answer][0]
    names = cmap.class_labels.get(answer_col)
    if names and not any(s.options for s in samples):
        profiled["answer_vocab"] = list(names)
        if profiled["answer_type"] is AnswerType.free_form:
            profiled["answer_type"] = AnswerType.short_text
    if m.language or spec.info.get("language"):
        profiled["language"] = m.language or spec.info["language"]
    mods = [Modality.text] if any(r in cmap.roles for r in _TEXT_ROLES) else []
    mods += [mod for role, mod in ((FieldRole.image, Modality.image),
                                   (FieldRole.audio, Modality.audio)) if role in cmap.roles]
    return DatasetCard(
        id=dataset_id, name=spec.name, format=spec.format, source=spec.source,
        description=m.description or spec.info.get("description", ""),
        tasks=list(m.tasks or spec.tasks),
        domain=m.domain, modalities_in=mods or [Modality.text], fields=cmap.card_fields(),
        size=len(samples), license=m.license or spec.info.get("license", ""),
        citation=m.citation or spec.info.get("citation", ""), split=spec.split, **profiled,
    )


def _samples(spec: TableSpec, cmap: ColumnMap, dataset_id: str,
             ctx: LoadContext) -> list[SourceSample]:
    media = MediaFinder(spec.media_root, ctx.cache_root, ctx.max_file_bytes)
    id_cols = cmap.roles.get(FieldRole.id, [])
    seen: set[str] = set()
    out: list[SourceSample] = []
    shared = spec.mapping.instruction if spec.mapping else ""
    names = cmap.class_labels.get(cmap.roles[FieldRole.answer][0], [])
    label_options = list(names) if spec.label_options and 2 <= len(names) <= MAX_OPTIONS else []
    for row in spec.rows:
        sid = as_text(value(row.data, id_cols[0])) if id_cols else ""
        sid = sid or f"row{row.pos}"
        if sid in seen:
            sid = f"{sid}#{row.pos}"
        seen.add(sid)
        try:
            out.append(_sample(row, cmap, media, dataset_id, sid, shared, label_options))
        except (BadSample, BadMedia) as e:
            ctx.sink.warn(f"{row.file}#{sid}", str(e))
    return out


def _join(r: dict[str, Any], cols: list[str]) -> str:
    return "\n\n".join(t for c in cols if (t := as_text(value(r, c))))


def _sample(row: Row, cmap: ColumnMap, media: MediaFinder, dataset_id: str, sid: str,
            shared_instruction: str = "", label_options: list[str] | None = None) -> SourceSample:
    r, roles = row.data, cmap.roles
    options, labels = _options(r, roles.get(FieldRole.options, []))
    options = options or list(label_options or [])
    question = _join(r, roles.get(FieldRole.question, []))
    context = _join(r, roles.get(FieldRole.context, []))
    own = _join(r, roles.get(FieldRole.instruction, []))
    instruction = "\n\n".join(t for t in (shared_instruction, own) if t)
    if reason := sample_over_limit(question, instruction, context, len(options)):
        raise BadSample(reason)
    answer, aliases = _answer(r, cmap, options, labels)
    base = row.file.parent
    images = [p for c in roles.get(FieldRole.image, [])
              for p in media.find(value(r, c), base, Modality.image)]
    audio = [p for c in roles.get(FieldRole.audio, [])
             for p in media.find(value(r, c), base, Modality.audio)]
    sample = SourceSample(
        dataset_id=dataset_id, source_id=sid, question=question, context=context,
        options=options, answer=answer, answer_aliases=aliases, images=images, audio=audio,
        dialog=_dialog(r, roles.get(FieldRole.dialog, [])), instruction=instruction,
    )
    texts = [sample.question, sample.context, sample.answer, sample.instruction,
             *sample.options, *sample.dialog, *sample.answer_aliases]
    if not is_valid_utf8(*texts):
        raise BadSample("text is not valid UTF-8 (lone surrogate escapes)")
    if not (sample.question or sample.context or sample.dialog or images or audio or options):
        raise BadSample("sample has no input")
    return sample


def _options(r: dict[str, Any], cols: list[str]) -> tuple[list[str], list[str]]:
    """The row's options and their labels ([] when the options carry none)."""
    if not cols:
        return [], []
    if len(cols) > 1:
        options = [t for c in cols if (t := as_text(value(r, c)))]
        labels: list[str] = []
    else:
        raw = value(r, cols[0])
        if raw is None or raw == "" or raw == []:
            return [], []
        options, labels = parse_options(raw)
        if not options:
            raise BadSample(f"options in {cols[0]!r} are not a list")
    if len(options) < 2:
        raise BadSample("fewer than two options")
    return options, labels


def _answer(r: dict[str, Any], cmap: ColumnMap, options: list[str],
            labels: list[str]) -> tuple[str, list[str]]:
    col = cmap.roles[FieldRole.answer][0]
    raw = value(r, col)
    names = cmap.class_labels.get(col)
    if names is not None and isinstance(raw, int) and not isinstance(raw, bool):
        if raw < 0:
            raise BadSample(f"sample has no answer (label {raw}: unlabelled)")
        if raw >= len(names):
            raise BadSample(f"label {raw} is not one of the {len(names)} class labels")
        raw = names[raw]
    if isinstance(raw, dict):  # e.g. SQuAD: {"text": [...], "answer_start": [...]}
        raw = next((raw[k] for k in ("text", "answer", "value", "label") if k in raw), None)
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    answers = list(dict.fromkeys(as_text_list(raw)))
    if not answers:
        raise BadSample("sample has no answer")
    if not options:
        return answers[0], (answers if len(answers) > 1 else [])
    chosen = _choose(answers[0], options, labels, cmap)
    if chosen is None:
        raise BadSample(f"answer {answers[0][:40]!r} is not one of the {len(options)} options")
    return chosen, []


def _choose(answer: str, options: list[str], labels: list[str], cmap: ColumnMap) -> str | None:
    if cmap.answer_index:
        text = answer.strip()
        idx = (int(text) - cmap.answer_index_base if text.lstrip("-").isdigit()
               else letter_index(text))
        return options[idx] if idx is not None and 0 <= idx < len(options) else None
    if labels and answer in labels:
        return options[labels.index(answer)]
    return match_option(answer, options)


def _dialog(r: dict[str, Any], cols: list[str]) -> list[str]:
    turns: list[str] = []
    for col in cols:
        raw = value(r, col)
        if isinstance(raw, str):
            turns += [line.strip() for line in raw.splitlines() if line.strip()]
            continue
        for turn in raw if isinstance(raw, list) else []:
            if isinstance(turn, dict):
                who = next((as_text(turn[k]) for k in ("role", "from", "speaker") if k in turn), "")
                said = next((as_text(turn[k]) for k in ("content", "value", "text", "utterance")
                             if k in turn), "")
                if said:
                    turns.append(f"{who}: {said}" if who else said)
            elif text := as_text(turn):
                turns.append(text)
    return turns
