"""The gallery: up to MAX_ITEMS items spread over the subtasks, each with its images inline (as
thumbnails) and its audio playable, all as data URLs so that the page needs no other file."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from benchagent.evaluation import RESULTS
from benchagent.evaluation.scoring import LETTERS
from benchagent.records import BenchmarkSample, Media, Modality
from benchagent.report.summary import modality_mix, operator_chain

MAX_ITEMS = 24
THUMBNAIL_PX = 480
KEEP_AS_IS_BYTES = 150_000  # a small image in a format browsers show is embedded unchanged
BROWSER_IMAGES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif",
                  "WEBP": "image/webp"}
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".flac": "audio/flac", ".m4a": "audio/mp4", ".webm": "audio/webm"}
MAX_CLIP_BYTES = 3_000_000
AUDIO_BUDGET_BYTES = 16_000_000  # for the whole gallery
CONTEXT_CHARS = 700


@dataclass(frozen=True)
class Option:
    letter: str
    text: str
    gold: bool


@dataclass(frozen=True)
class Verdict:
    model: str
    outcome: str
    blind: str | None  # the outcome without the item's media


@dataclass
class Card:
    id: str
    subtask: str
    dataset: str
    answer_type: str
    modalities: str
    instruction: str
    question: str
    context: str
    options: list[Option]
    answer: str
    operators: str
    images: list[str] = field(default_factory=list)  # data URLs
    clips: list[tuple[str, str]] = field(default_factory=list)  # (data URL, MIME type)
    media_notes: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)


def pick(samples: Sequence[BenchmarkSample], subtask_order: Sequence[str],
         limit: int = MAX_ITEMS) -> list[BenchmarkSample]:
    """Up to `limit` items, taken in turn from each subtask (in the plan's order), each subtask's
    in benchmark order."""
    by_subtask: dict[str, list[BenchmarkSample]] = {name: [] for name in subtask_order}
    for s in samples:
        by_subtask.setdefault(s.subtask, []).append(s)
    queues = [list(reversed(items)) for items in by_subtask.values() if items]
    picked: list[BenchmarkSample] = []
    while queues and len(picked) < limit:
        for queue in queues:
            if queue and len(picked) < limit:
                picked.append(queue.pop())
        queues = [q for q in queues if q]
    return picked


def _inside(root: Path, rel: str) -> Path | None:
    path = (root / rel).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None


def image_data_url(path: Path) -> str:
    """The image as a data URL: unchanged when small and in a format browsers show, else a
    thumbnail of at most THUMBNAIL_PX a side (PNG, or JPEG when that is much smaller)."""
    with Image.open(path) as im:
        fmt = im.format or ""
        small = max(im.size) <= THUMBNAIL_PX and path.stat().st_size <= KEEP_AS_IS_BYTES
        if small and fmt in BROWSER_IMAGES:
            data = base64.b64encode(path.read_bytes()).decode()
            return f"data:{BROWSER_IMAGES[fmt]};base64,{data}"
        im.load()
        thumb = im.convert("RGBA" if "A" in im.getbands() else "RGB")
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    png = io.BytesIO()
    thumb.save(png, format="PNG", optimize=True)
    encoded, mime = png.getvalue(), "image/png"
    if len(encoded) > KEEP_AS_IS_BYTES:
        jpeg = io.BytesIO()
        thumb.convert("RGB").save(jpeg, format="JPEG", quality=85)
        encoded, mime = jpeg.getvalue(), "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(encoded).decode()}"


class _AudioBudget:
    def __init__(self, total: int) -> None:
        self.left = total

    def clip(self, path: Path) -> tuple[str, str] | str:
        """(data URL, MIME type), or why the clip is not embedded."""
        mime = AUDIO_TYPES.get(path.suffix.lower())
        if mime is None:
            return f"{path.name}: a {path.suffix or 'typeless'} file the page cannot play"
        size = path.stat().st_size
        if size > MAX_CLIP_BYTES or size > self.left:
            return f"{path.name}: {size / 1e6:.1f} MB, too large to embed (see the run's media/)"
        self.left -= size
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}", mime


def _attach(card: Card, root: Path, media: Media, budget: _AudioBudget) -> None:
    path = _inside(root, media.path)
    if path is None:
        card.media_notes.append(f"{media.path}: not found in the run directory")
    elif media.kind == Modality.image:
        try:
            card.images.append(image_data_url(path))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            card.media_notes.append(f"{media.path}: cannot be read as an image ({exc})")
    elif media.kind == Modality.audio:
        clip = budget.clip(path)
        if isinstance(clip, str):
            card.media_notes.append(clip)
        else:
            card.clips.append(clip)
    else:
        card.media_notes.append(f"{media.path}: {media.kind.value} is not shown here")


def verdicts_by_item(root: Path) -> dict[str, list[Verdict]]:
    """Each item's outcome per model, from eval/results.jsonl when the run has one."""
    path = root / RESULTS
    found: dict[str, list[Verdict]] = {}
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row, dict) or not {"item", "model", "outcome"} <= row.keys():
            continue
        blind = row.get("blind")
        found.setdefault(str(row["item"]), []).append(Verdict(
            model=str(row["model"]), outcome=str(row["outcome"]),
            blind=str(blind["outcome"]) if isinstance(blind, dict) and "outcome" in blind
            else None))
    return found


def _card(sample: BenchmarkSample, verdicts: list[Verdict]) -> Card:
    context = sample.context if len(sample.context) <= CONTEXT_CHARS \
        else sample.context[:CONTEXT_CHARS - 1] + "…"
    return Card(
        id=sample.id, subtask=sample.subtask, dataset=sample.provenance.source_dataset_name,
        answer_type=sample.answer_type.value, modalities=modality_mix(sample),
        instruction=sample.instruction, question=sample.question, context=context,
        options=[Option(LETTERS[i] if i < len(LETTERS) else str(i + 1), text,
                        text == sample.answer) for i, text in enumerate(sample.options)],
        answer=sample.answer, operators=operator_chain(sample.provenance.operators),
        verdicts=verdicts)


def gallery_cards(root: Path, samples: Sequence[BenchmarkSample],
                  subtask_order: Sequence[str]) -> list[Card]:
    verdicts = verdicts_by_item(root)
    budget = _AudioBudget(AUDIO_BUDGET_BYTES)
    cards = []
    for sample in pick(samples, subtask_order):
        card = _card(sample, verdicts.get(sample.id, []))
        for media in sample.media:
            _attach(card, root, media, budget)
        cards.append(card)
    return cards
