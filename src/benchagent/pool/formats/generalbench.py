"""General-Bench layout: datasets/<modality>/<Name>/[json/]annotation.json plus cards/*_card.json.

The project's starter pool uses the same layout (with a `pool.json` marker), so this module
reads both.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchagent.pool.base import (
    ESCAPES,
    LoadContext,
    LoadedDataset,
    PoolFormat,
    is_inside,
    is_valid_utf8,
    pool_root_of,
    read_bytes,
    read_json,
    real_path,
    relpath_or_name,
    stable_id,
    warn_symlinked_folder,
)
from benchagent.pool.cards.cardcache import CardKey, cached_card
from benchagent.pool.cards.profile import normalize_answers, profiled_fields
from benchagent.pool.fields import (
    as_text,
    as_text_list,
    fill_placeholders,
    get_path,
    letter_index,
    match_option,
    split_candidate_choices,
    split_lettered_options,
)
from benchagent.pool.formats import detection
from benchagent.pool.formats.boxdraw import derived_dir
from benchagent.pool.formats.fieldmap import FieldMap, map_from_card, map_from_profile
from benchagent.pool.formats.media import MediaError, MediaResolver, checked_dir
from benchagent.pool.limits import MAX_JSON_DEPTH, sample_over_limit
from benchagent.records import DatasetCard, FieldRole, Modality, SourceSample

MARKER = "pool.json"
ANNOTATION = "annotation.json"
MEDIA_FOLDERS = frozenset({"images", "image", "audio", "audios", "videos", "video"})


class BadSample(Exception):
    """One sample is unusable; the message says why."""


@dataclass
class GBPool:
    """A General-Bench (or starter) pool root: its cards by data path, format and license."""

    root: Path
    cards: dict[str, dict[str, Any]]  # pool-relative data path -> raw card
    format: PoolFormat = "general-bench"
    license: str = ""


def find_root(json_path: Path) -> Path | None:
    """The General-Bench root above an annotation file: the folder holding `datasets/`."""
    for parent in json_path.parents:
        if parent.name == "datasets" and parent.parent != parent:
            return parent.parent
    return None


def open_pool(root: Path, ctx: LoadContext) -> GBPool:
    pool = GBPool(root=root, cards={})
    marker = root / MARKER
    if marker.is_file():
        meta = read_json(marker, ctx)
        if isinstance(meta, dict):
            pool.format = "starter" if meta.get("format") == "starter" else "general-bench"
            pool.license = as_text(meta.get("license"))
    cards_dir = root / "cards"
    if cards_dir.is_dir():
        for card_path in sorted(cards_dir.glob("*.json")):
            raw = read_json(card_path, ctx, MAX_JSON_DEPTH)  # json.dumps walks it
            source = get_path(raw, "raw_meta.source_json") if isinstance(raw, dict) else None
            if not isinstance(raw, dict) or not isinstance(source, str):
                if raw is not None:
                    ctx.sink.warn(card_path, "not a dataset card (no raw_meta.source_json)")
                continue
            rel = source.removeprefix("data/").lstrip("/")
            if _escapes(root, rel):
                ctx.sink.warn(card_path, f"raw_meta.source_json {source!r} {ESCAPES}")
                continue
            pool.cards[rel] = raw
    return pool


def _escapes(root: Path, rel: str) -> bool:
    """Whether a card's data path climbs out of the pool root (by `..` or by a symlink)."""
    if os.path.normpath(rel).split(os.sep)[0] == os.pardir:
        return True
    real, real_root = real_path(root / rel), real_path(root)
    return real is None or real_root is None or not is_inside(real, real_root)


def discover(root: Path, ctx: LoadContext, named: frozenset[str] = frozenset()) -> list[Path]:
    """Every annotation file under the pool's `datasets/` folder, in a stable order: those
    named `annotation.json` or by a card (`named`, pool-relative), and any other JSON file
    holding a `data` list, whatever its name (upstream names them after the task); a
    symlinked folder is not followed (with a warning)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root / "datasets"):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                warn_symlinked_folder(here / name, ctx)
        if here != root / "datasets":  # below a modality folder: a dataset's media
            dirnames[:] = [d for d in dirnames if d not in MEDIA_FOLDERS]
        for name in sorted(f for f in filenames if f.lower().endswith(".json")):
            path = here / name
            if (name == ANNOTATION or relpath_or_name(path, root) in named
                    or _holds_data_list(path, ctx)):
                found.append(path)
    return sorted(found)


def _holds_data_list(path: Path, ctx: LoadContext) -> bool:
    """Whether a JSON file of another name looks like an annotation file (a `data` key); the
    loader then reads it whole and says what is wrong with it."""
    raw = read_bytes(path, ctx)
    return raw is not None and b'"data"' in raw


def load_root(root: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """Every dataset of a General-Bench (or starter) root; cards without data are reported."""
    pool = open_pool(root, ctx)
    files = discover(root, ctx, frozenset(pool.cards))
    present = {relpath_or_name(f, root) for f in files}
    for rel in sorted(set(pool.cards) - present):
        if (root / rel).is_file() and ctx.confined(root / rel):
            files.append(root / rel)  # a card's file outside `datasets/`
        else:
            ctx.sink.warn(root / rel, "a dataset card names this data file, but it is missing")
    return [ds for f in files if (ds := load_annotation(f, pool, ctx)) is not None]


def load_annotations(files: list[Path], ctx: LoadContext) -> list[LoadedDataset]:
    """Annotation files, each described by the cards of the General-Bench root above it (read
    once per root), if there is one."""
    pools: dict[Path, GBPool] = {}
    out: list[LoadedDataset] = []
    for f in files:
        root = find_root(f)
        if root is not None:
            if root not in pools:
                pools[root] = open_pool(root, ctx)
            ds = load_annotation(f, pools[root], ctx)
        else:
            ds = load_annotation(f, None, ctx, base=dataset_root(f, None).parent)
        if ds is not None:
            out.append(ds)
    return out


class RootLoader:
    """A General-Bench root: `datasets/<modality>/<Name>/[json/]annotation.json`, `cards/`."""

    name = "general-bench"

    def recognises(self, path: Path) -> bool:
        return path.is_dir() and (path / "datasets").is_dir()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_root(path, ctx)


class AnnotationFileLoader:
    """An `annotation.json` file, given as a pool path or found below a plain folder."""

    name = "general-bench"
    walk_group = "annotation file"

    def recognises(self, path: Path) -> bool:
        return path.is_file() and path.name == ANNOTATION

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_annotation_path(path, ctx)

    def finds(self, path: Path) -> bool:
        return path.name == ANNOTATION and not path.is_dir()

    def load_found(self, paths: list[Path], root: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_annotations(sorted(paths), ctx)


class AnyFileLoader:
    """Any file no other format recognises, read as an annotation file whatever its name (the
    General-Bench JSON layout is the one a file name does not tell), so its warning says what
    is wrong with it."""

    name = "general-bench"

    def recognises(self, path: Path) -> bool:
        return path.is_file()

    def load(self, path: Path, ctx: LoadContext) -> list[LoadedDataset]:
        return load_annotation_path(path, ctx)


def load_annotation_path(path: Path, ctx: LoadContext) -> list[LoadedDataset]:
    """An annotation file given as a pool path: it may read the cards and marker of the
    General-Bench root above it, so that root is the one its files must stay inside."""
    root = find_root(path)
    if root is not None:
        ctx.pool_root = pool_root_of(root)
    return load_annotations([path], ctx)


def dataset_root(json_path: Path, pool_root: Path | None) -> Path:
    """The folder a dataset's media must stay inside."""
    if pool_root is not None:
        try:
            parts = json_path.relative_to(pool_root / "datasets").parts
        except ValueError:
            parts = ()
        if len(parts) >= 3:
            return pool_root / "datasets" / parts[0] / parts[1]
    return json_path.parent.parent if json_path.parent.name == "json" else json_path.parent


def _read_rows(json_path: Path, ctx: LoadContext) -> tuple[list[Any], dict[str, Any]] | None:
    """An annotation file's samples and its other keys, or None (with a warning)."""
    doc = read_json(json_path, ctx)
    if doc is None:
        return None
    rows = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        ctx.sink.warn(json_path, "no `data` list of samples")
        return None
    return rows, doc if isinstance(doc, dict) else {}


def load_annotation(
    json_path: Path, pool: GBPool | None, ctx: LoadContext, base: Path | None = None,
) -> LoadedDataset | None:
    """One annotation file as a profiled dataset, or None (with a warning) when unusable."""
    read = _read_rows(json_path, ctx)
    if read is None:
        return None
    rows, meta = read
    root = pool.root if pool else (base or json_path.parent)
    rel = relpath_or_name(json_path, root)
    raw_card = pool.cards.get(rel) if pool else None
    fmap = (map_from_card(raw_card, rows) if raw_card else None) or map_from_profile(rows)
    boxes_at = detection.answer_path(rows, fmap)
    if FieldRole.answer not in fmap.paths and boxes_at is None:
        ctx.sink.warn(json_path, "no answer field found in the samples")
        return None
    resolver = MediaResolver(json_path.parent, dataset_root(json_path, pool.root if pool else None),
                             ctx.max_file_bytes, checked_dir(ctx.cache_root))
    name = _name(raw_card, meta, json_path)
    fmt: PoolFormat = pool.format if pool else "general-bench"
    card_id = as_text(raw_card.get("dataset_id")) if raw_card else ""
    card_id = card_id or stable_id(fmt, rel, name)
    exhaustive = detection.is_exhaustive(meta, raw_card)
    if boxes_at is not None:
        samples = detection.detection_samples(
            rows, boxes_at, fmap.paths.get(FieldRole.image, []), exhaustive, resolver, card_id,
            json_path, ctx, derived_dir(ctx.cache_root))
        fmap = detection.card_map(fmap, boxes_at)
    else:
        samples = _samples(rows, fmap, resolver, card_id, json_path, ctx)
    if not samples:
        ctx.sink.warn(json_path, "no valid samples")
        return None
    pool_license = pool.license if pool is not None else ""
    key = (CardKey(fmt).file(json_path).text(card_id, str(json_path), pool_license)
           .text(json.dumps(raw_card, sort_keys=True, default=str)).samples(samples))

    def build() -> DatasetCard:
        card = DatasetCard(
            id=card_id, name=name, format=fmt, source=str(json_path), fields=fmap.card_fields(),
            size=len(samples), **_describe(raw_card, meta, fmap, boxes_at, exhaustive),
            **profiled_fields(samples),
        )
        if not card.license and pool_license:
            card = card.model_copy(update={"license": pool_license})
        return card

    card = cached_card(ctx, key, build)
    samples = normalize_answers(samples, card.answer_type)
    return LoadedDataset(card=card, samples=tuple(samples))


def _describe(raw_card: dict[str, Any] | None, meta: dict[str, Any], fmap: FieldMap,
              boxes_at: str | None = None, exhaustive: bool = False) -> dict[str, Any]:
    """The card's descriptive fields: from the dataset card when there is one, else the JSON;
    a detection dataset's also say what items its boxes become."""
    description, tasks = _description(raw_card, meta), _tasks(raw_card, meta)
    if boxes_at is not None:
        description = detection.describe(description, exhaustive)
        tasks = list(dict.fromkeys([*tasks, *detection.tasks(exhaustive)]))
    return {
        "description": description, "tasks": tasks,
        "domain": _domain(raw_card, meta),
        "modalities_in": _modalities(meta, raw_card, fmap, "in"),
        "modalities_out": _modalities(meta, raw_card, fmap, "out"),
        "license": as_text(raw_card.get("license")) if raw_card else "",
        "citation": as_text(meta.get("data_source")),
    }


def _samples(rows: list[Any], fmap: FieldMap, resolver: MediaResolver, dataset_id: str,
             json_path: Path, ctx: LoadContext) -> list[SourceSample]:
    out: list[SourceSample] = []
    seen: set[str] = set()
    for idx, row in enumerate(rows):
        sid = as_text(row.get("id")) if isinstance(row, dict) else ""
        sid = sid or f"row{idx}"
        if sid in seen:
            sid = f"{sid}#{idx}"
        seen.add(sid)
        if not isinstance(row, dict):
            ctx.sink.warn(f"{json_path}#{sid}", "sample is not a JSON object")
            continue
        try:
            out.append(_sample(row, fmap, resolver, dataset_id, sid))
        except BadSample as e:
            ctx.sink.warn(f"{json_path}#{sid}", str(e))
    return out


def _texts(row: dict[str, Any], paths: list[str]) -> str:
    return "\n\n".join(t for p in paths if (t := as_text(get_path(row, p))))


def _prompt(row: dict[str, Any], fmap: FieldMap) -> tuple[str, str]:
    """The sample's question and instruction, placeholders filled."""
    question = _texts(row, fmap.paths.get(FieldRole.question, []))
    instruction = _texts(row, fmap.paths.get(FieldRole.instruction, []))
    if "<<<" in question or "<<<" in instruction:
        inputs = row.get("input")
        merged = {**row, **inputs} if isinstance(inputs, dict) else row
        values = {str(k): as_text(v) for k, v in merged.items()}
        shown = fmap.rendered_names()
        question = fill_placeholders(question, values, shown)
        instruction = fill_placeholders(instruction, values, shown)
    return question, instruction


def _sample(row: dict[str, Any], fmap: FieldMap, resolver: MediaResolver, dataset_id: str,
            sid: str) -> SourceSample:
    paths = fmap.paths
    question, instruction = _prompt(row, fmap)
    options: list[str] = []
    for p in paths.get(FieldRole.options, []):
        value = get_path(row, p)
        if isinstance(value, list):
            options = as_text_list(value)
    if not options:
        question, options = split_candidate_choices(question)
    context = _texts(row, paths.get(FieldRole.context, []))
    if reason := sample_over_limit(question, instruction, context, len(options)):
        raise BadSample(reason)
    answers = as_text_list(get_path(row, paths[FieldRole.answer][0]))
    if not answers:
        raise BadSample("sample has no answer")
    if not options and letter_index(answers[0]) is not None:
        question, options = split_lettered_options(question)
    answer, aliases = answers[0], (answers if len(answers) > 1 else [])
    if options:
        chosen = match_option(answer, options)
        if chosen is None:
            raise BadSample(f"answer {answer[:40]!r} is not one of the {len(options)} options")
        answer, aliases = chosen, []
    images = _media(row, paths.get(FieldRole.image, []), resolver, Modality.image)
    audio = _media(row, paths.get(FieldRole.audio, []), resolver, Modality.audio)
    sample = SourceSample(
        dataset_id=dataset_id, source_id=sid, question=question, context=context,
        options=options, answer=answer, answer_aliases=aliases, images=images, audio=audio,
        dialog=_dialog(row, fmap), instruction=instruction,
    )
    texts = [sample.question, sample.context, sample.answer, sample.instruction,
             *sample.options, *sample.dialog, *sample.answer_aliases]
    if not is_valid_utf8(*texts):
        raise BadSample("text is not valid UTF-8 (lone surrogate escapes)")
    if not (question or sample.context or sample.dialog or images or audio or options):
        raise BadSample("sample has no input")
    return sample


def _media(row: dict[str, Any], paths: list[str], resolver: MediaResolver,
           kind: Modality) -> list[str]:
    out = []
    for p in paths:
        for ref in as_text_list(get_path(row, p)):
            try:
                out.append(resolver.resolve(ref, kind))
            except MediaError as e:
                raise BadSample(str(e)) from e
    return out


def _dialog(row: dict[str, Any], fmap: FieldMap) -> list[str]:
    ctx_paths = set(fmap.paths.get(FieldRole.context, []))
    turns: list[str] = []
    for p in fmap.paths.get(FieldRole.dialog, []):
        if p in ctx_paths:
            continue  # already shown as context
        value = get_path(row, p)
        if isinstance(value, str):
            turns += [line.strip() for line in value.splitlines() if line.strip()]
        else:
            turns += as_text_list(value)
    return turns


def _name(raw_card: dict[str, Any] | None, meta: dict[str, Any], json_path: Path) -> str:
    if raw_card and as_text(raw_card.get("name")):
        return as_text(raw_card.get("name"))
    folder = json_path.parent.parent if json_path.parent.name == "json" else json_path.parent
    name = folder.name or as_text(meta.get("task")) or json_path.stem
    stem = json_path.stem  # annotation_v2.json may lie beside annotation.json
    return name if stem == "annotation" or _same_words(stem, name) else f"{name} ({stem})"


def _same_words(a: str, b: str) -> bool:
    def words(s: str) -> list[str]:
        return [w for w in re.split(r"[\W_]+", s.lower()) if w]
    return words(a) == words(b)


def _description(raw_card: dict[str, Any] | None, meta: dict[str, Any]) -> str:
    if raw_card and as_text(raw_card.get("description")):
        return as_text(raw_card.get("description"))
    bits = [as_text(meta.get(k)) for k in ("task", "type", "skill", "capability")]
    return ". ".join(b for b in bits if b)


def _tasks(raw_card: dict[str, Any] | None, meta: dict[str, Any]) -> list[str]:
    tasks = as_text_list(raw_card.get("tasks")) if raw_card else []
    if not tasks:
        tasks = [t for t in (as_text(meta.get("type")), as_text(meta.get("skill"))) if t]
    return list(dict.fromkeys(tasks))


def _domain(raw_card: dict[str, Any] | None, meta: dict[str, Any]) -> str:
    if raw_card and as_text(raw_card.get("domain")):
        return as_text(raw_card.get("domain"))
    return ", ".join(as_text_list(meta.get("domain")))


def _modalities(meta: dict[str, Any], raw_card: dict[str, Any] | None, fmap: FieldMap,
                side: str) -> list[Modality]:
    declared = as_text_list(get_path(meta, f"modality.{side}"))
    if not declared and raw_card:
        key = "in_" if side == "in" else "out"
        declared = as_text_list(get_path(raw_card, f"io_schemas.0.{key}"))
    known = {m.value for m in Modality}
    mods = [Modality(m) for m in dict.fromkeys(d.lower() for d in declared) if m in known]
    if side == "in":
        for role, mod in ((FieldRole.image, Modality.image), (FieldRole.audio, Modality.audio)):
            if role in fmap.paths and mod not in mods:
                mods.append(mod)
    return mods or [Modality.text]
