"""Detection datasets (answers are boxes) as multiple-choice samples, derived when loading.

Every annotated image gives a *locate* sample: the gold box of one object and three distractor
boxes (the boxes of objects of other classes first, else boxes beside the gold one) are drawn
on the image, lettered, and the question asks which box tightly encloses an object of that
class. A distractor overlaps the gold box little (IoU <= 0.3) and covers almost nothing
(<= 10%) of any other annotated object of the asked class. When the dataset
says every instance is annotated (`"all_instances_annotated": true` in the annotation file,
or in its card's `raw_meta`), each image also gives a *count* sample: how many objects of a
class (possibly zero, a class of the dataset absent from this image) the image shows.
Choices are drawn from a generator seeded by the dataset and sample ids: the same data gives
the same samples.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from benchagent.pool.base import LoadContext
from benchagent.pool.fields import as_text, get_path
from benchagent.pool.formats.boxdraw import draw_lettered_boxes
from benchagent.pool.formats.boxes import Box, Labelled, clip, covered, iou, parse_boxes, to_pixels
from benchagent.pool.formats.fieldmap import FieldMap
from benchagent.pool.formats.media import MediaError, MediaResolver
from benchagent.records import FieldRole, Modality, SourceSample

ANSWER_CANDIDATES = ("output.bbox", "output.bboxes", "output.boxes", "output")
EXHAUSTIVE_KEY = "all_instances_annotated"
N_OPTIONS = 4
MAX_GOLD_IOU = 0.3  # a distractor's overlap with the gold box
MAX_OTHER_COVER = 0.1  # the share of another object of the asked class a distractor may cover
MAX_OPTION_IOU = 0.3  # between any two options
ABSENT_SHARE = 0.2  # of count samples that ask about a class the image does not show
_NOUN = re.compile(r"[a-z][a-z -]*")


@dataclass(frozen=True)
class Annotated:
    """One annotated image: its sample id, image path and size, and its boxes in pixels."""

    sid: str
    image: Path
    size: tuple[int, int]
    objects: list[Labelled]


def answer_path(rows: list[Any], fmap: FieldMap) -> str | None:
    """The path whose values are boxes in most samples, when the dataset is a detection one."""
    mapped = fmap.paths.get(FieldRole.answer, [])
    sample = [r for r in rows[:200] if isinstance(r, dict)]
    for path in [*mapped[:1], *ANSWER_CANDIDATES]:
        hits = sum(1 for r in sample if parse_boxes(get_path(r, path)))
        if sample and hits * 2 >= len(sample):
            return path
    return None


def is_exhaustive(meta: dict[str, Any], raw_card: dict[str, Any] | None) -> bool:
    return meta.get(EXHAUSTIVE_KEY) is True or (
        raw_card is not None and get_path(raw_card, f"raw_meta.{EXHAUSTIVE_KEY}") is True)


def card_map(fmap: FieldMap, path: str) -> FieldMap:
    """The fields a derived sample has: its question and options come from the boxes."""
    dropped = (FieldRole.instruction, FieldRole.context)
    paths = {role: list(ps) for role, ps in fmap.paths.items() if role not in dropped}
    paths[FieldRole.answer] = [path]
    paths[FieldRole.options] = [path]
    paths.setdefault(FieldRole.question, [path])
    return FieldMap(paths)


def describe(description: str, exhaustive: bool) -> str:
    made = ("which of the lettered boxes drawn on the image tightly encloses an object of a "
            "class (object localization)")
    if exhaustive:
        made += ", and how many objects of a class the image shows (object counting)"
    return f"{description} Its box annotations become multiple-choice items: {made}.".strip()


def tasks(exhaustive: bool) -> list[str]:
    return ["object_detection", "object_localization", *(["object_counting"] if exhaustive
                                                         else [])]


def detection_samples(rows: list[Any], path: str, image_paths: list[str], exhaustive: bool,
                      resolver: MediaResolver, dataset_id: str, json_path: Path,
                      ctx: LoadContext, out_dir: Path) -> list[SourceSample]:
    """The locate (and, for exhaustive annotations, count) samples of every usable image."""
    annotated = _annotated(rows, path, image_paths, resolver, json_path, ctx)
    vocab = sorted({o.label for a in annotated for o in a.objects})
    out: list[SourceSample] = []
    for item in annotated:
        rng = random.Random(f"detection:{dataset_id}:{item.sid}")
        reason = ("no three distractor boxes fit the image without covering an object of "
                  "the asked class")
        try:
            located = _locate(item, rng, dataset_id, out_dir, exhaustive)
        except OSError as e:
            located, reason = None, f"cannot draw the candidate boxes: {e}"
        if located is None:
            ctx.sink.warn(f"{json_path}#{item.sid}", reason)
        else:
            out.append(located)
        if exhaustive:
            out.append(_count(item, vocab, rng, dataset_id))
    return out


def _annotated(rows: list[Any], path: str, image_paths: list[str], resolver: MediaResolver,
               json_path: Path, ctx: LoadContext) -> list[Annotated]:
    out: list[Annotated] = []
    seen: set[str] = set()
    for idx, row in enumerate(rows):
        sid = (as_text(row.get("id")) if isinstance(row, dict) else "") or f"row{idx}"
        sid = f"{sid}#{idx}" if sid in seen else sid
        seen.add(sid)
        if not isinstance(row, dict):
            ctx.sink.warn(f"{json_path}#{sid}", "sample is not a JSON object")
            continue
        try:
            out.append(_one(row, sid, path, image_paths, resolver))
        except (MediaError, ValueError) as e:
            ctx.sink.warn(f"{json_path}#{sid}", str(e))
        except OSError as e:  # the image decoded when checked, but cannot be opened now
            ctx.sink.warn(f"{json_path}#{sid}", f"cannot open the image: {e}")
    return out


def _one(row: dict[str, Any], sid: str, path: str, image_paths: list[str],
         resolver: MediaResolver) -> Annotated:
    raw = parse_boxes(get_path(row, path))
    if not raw:
        raise ValueError("sample has no boxes")
    if any(not label for label, _ in raw):
        raise ValueError("a box has no class label")
    refs = [as_text(get_path(row, p)) for p in image_paths]
    refs = [r for r in refs if r]
    if len(refs) != 1:
        raise ValueError(f"a detection sample needs one image, not {len(refs)}")
    image = Path(resolver.resolve(refs[0], Modality.image))
    with Image.open(image) as img:
        size = img.size
    objects = to_pixels(raw, *size)
    if objects is None:
        raise ValueError(f"its boxes do not fit the {size[0]}x{size[1]} image")
    return Annotated(sid, image, size, objects)


def _candidates(gold: Box, other_objects: list[Box], rng: random.Random,
                size: tuple[int, int], anywhere: bool) -> list[Box]:
    """The annotated boxes of objects of other classes first (a tight box is no hint), then
    boxes near the gold one (shifted by most of its size, or shrunk inside it), then, when
    `anywhere`, boxes of its size anywhere (only where every object is annotated: elsewhere a
    box may fall on an object nobody annotated)."""
    tight = list(other_objects)
    rng.shuffle(tight)
    near = []
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1)):
        f = rng.uniform(0.75, 1.1)
        near.append(Box(gold.x + dx * f * gold.w, gold.y + dy * f * gold.h, gold.w, gold.h))
    rng.shuffle(near)
    near.append(Box(gold.x + 0.3 * gold.w, gold.y + 0.3 * gold.h, 0.4 * gold.w, 0.4 * gold.h))
    far = [Box(rng.uniform(0, max(1.0, size[0] - gold.w)),
               rng.uniform(0, max(1.0, size[1] - gold.h)), gold.w, gold.h)
           for _ in range(40 if anywhere else 0)]
    return tight + near + far


def _distractors(gold: Box, same_class: list[Box], other_objects: list[Box],
                 rng: random.Random, size: tuple[int, int], anywhere: bool) -> list[Box] | None:
    chosen: list[Box] = []
    for cand in _candidates(gold, other_objects, rng, size, anywhere):
        box = clip(cand, *size)
        if box is None or box.w < 0.6 * cand.w or box.h < 0.6 * cand.h:
            continue
        if iou(box, gold) > MAX_GOLD_IOU:
            continue
        if any(covered(o, box) > MAX_OTHER_COVER for o in same_class):
            continue
        if any(iou(box, c) > MAX_OPTION_IOU for c in chosen):
            continue
        chosen.append(box)
        if len(chosen) == N_OPTIONS - 1:
            return chosen
    return None


def _locate(item: Annotated, rng: random.Random, dataset_id: str, out_dir: Path,
            exhaustive: bool) -> SourceSample | None:
    label = rng.choice(sorted({o.label for o in item.objects}))
    instances = [o.box for o in item.objects if o.label == label]
    gold = rng.choice(instances)
    others = [o.box for o in item.objects if o.label != label]
    wrong = _distractors(gold, [b for b in instances if b != gold], others, rng, item.size,
                         exhaustive)
    if wrong is None:
        return None
    boxes = [gold, *wrong]
    rng.shuffle(boxes)
    letters = list(string.ascii_uppercase[:len(boxes)])
    drawn = draw_lettered_boxes(item.image, boxes, letters, out_dir)
    listed = ", ".join(letters[:-1]) + f" and {letters[-1]}"
    question = (f"The image shows {len(boxes)} boxes, labelled {listed}. Which box tightly "
                f"encloses {_one_of(label)}?")
    return SourceSample(
        dataset_id=dataset_id, source_id=f"{item.sid}.locate", question=question,
        options=[f"Box {x}" for x in letters], answer=f"Box {letters[boxes.index(gold)]}",
        images=[str(drawn)],
    )


def _count(item: Annotated, vocab: list[str], rng: random.Random,
           dataset_id: str) -> SourceSample:
    present = sorted({o.label for o in item.objects})
    absent = [v for v in vocab if v not in present]
    label = (rng.choice(absent) if absent and rng.random() < ABSENT_SHARE
             else rng.choice(present))
    n = sum(1 for o in item.objects if o.label == label)
    near = [v for v in (n + 1, n - 1, n + 2, n - 2, n + 3, n + 4) if v >= 0]
    options = sorted([n, *near[:2], rng.choice(near[2:])])
    return SourceSample(
        dataset_id=dataset_id, source_id=f"{item.sid}.count",
        question=f"How many {_plural(label)} are there in the image?",
        options=[str(v) for v in options], answer=str(n), images=[str(item.image)],
    )


def _one_of(label: str) -> str:
    if _NOUN.fullmatch(label):
        return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"
    return f'the object labelled "{label}"'


def _plural(label: str) -> str:
    if not _NOUN.fullmatch(label):
        return f'objects labelled "{label}"'
    return label + ("es" if label.endswith(("s", "x", "ch", "sh")) else "s")
