"""The starter pool's Shape-Detection dataset: boxes right by construction, items with the right
gold, and a build over the starter pool that asks to locate and count shapes uses it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

import benchagent
from benchagent.pool import Pool
from benchagent.pool.formats import detection
from benchagent.pool.formats.boxes import Box, covered, iou
from benchagent.pool.starter.detection import shape_box
from benchagent.pool.starter.generate import MEDIA_SAMPLES_PER_DATASET
from benchagent.pool.starter.image import render_shapes
from benchagent.records import AnswerType, Modality

Finder = Callable[[Pool, str], str]
QUERY = "Test whether a model can locate and count shapes in images"


def _params(pool: Pool, dataset_id: str) -> dict[str, list[dict[str, Any]]]:
    rows = json.loads(Path(pool.card(dataset_id).source).read_text())["data"]
    return {r["id"]: r["params"]["shapes"] for r in rows}


def test_every_box_is_the_bounding_box_of_its_shape_as_rendered(
        starter_pool: Pool, by_name: Finder) -> None:
    shapes = next(iter(_params(starter_pool, by_name(starter_pool, "Shape-Detection")).values()))
    blank = render_shapes({"shapes": []})
    for shape in shapes:
        drawn = ImageChops.difference(render_shapes({"shapes": [shape]}), blank).getbbox()
        assert drawn is not None
        x1, y1, x2, y2 = drawn
        assert shape_box(shape) == [x1, y1, x2 - x1, y2 - y1]


def test_the_card_says_what_the_boxes_become(starter_pool: Pool, by_name: Finder) -> None:
    card = starter_pool.card(by_name(starter_pool, "Shape-Detection"))
    assert card.answer_type is AnswerType.multiple_choice
    assert card.modalities_in == [Modality.image, Modality.text]
    assert card.size == 2 * MEDIA_SAMPLES_PER_DATASET  # a locate and a count sample per image
    assert {"object_localization", "object_counting"} <= set(card.tasks)


def test_count_samples_count_the_shapes_of_their_kind(starter_pool: Pool,
                                                      by_name: Finder) -> None:
    dataset_id = by_name(starter_pool, "Shape-Detection")
    params = _params(starter_pool, dataset_id)
    counts = [s for s in starter_pool.samples(dataset_id) if s.source_id.endswith(".count")]
    assert len(counts) == MEDIA_SAMPLES_PER_DATASET
    for s in counts:
        kind = s.question.removeprefix("How many ").split("s are there")[0]
        shapes = params[s.source_id.removesuffix(".count")]
        assert s.answer == str(sum(1 for x in shapes if x["kind"] == kind)), s
        assert s.answer in s.options and len(set(s.options)) == 4


def test_locate_samples_letter_a_shape_of_the_asked_kind(
        starter_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path))  # draw afresh, and watch
    drawn: dict[Path, list[Box]] = {}
    real = detection.draw_lettered_boxes

    def record(image: Path, boxes: list[Box], letters: list[str], out_dir: Path) -> Path:
        assert letters == ["A", "B", "C", "D"]
        out = real(image, boxes, letters, out_dir)
        drawn[out] = list(boxes)
        return out

    monkeypatch.setattr(detection, "draw_lettered_boxes", record)
    pool = Pool.load([starter_root])
    dataset_id = next(c.id for c in pool.cards if c.name == "Shape-Detection")
    params = _params(pool, dataset_id)
    located = [s for s in pool.samples(dataset_id) if s.source_id.endswith(".locate")]
    assert len(located) == MEDIA_SAMPLES_PER_DATASET
    for s in located:
        kind = s.question.rsplit(" ", 1)[-1].rstrip("?")
        boxes = drawn[Path(s.images[0])]
        gold = boxes["ABCD".index(s.answer.removeprefix("Box "))]
        truth = [shape_box(x) for x in params[s.source_id.removesuffix(".locate")]
                 if x["kind"] == kind]
        assert gold.rounded() in truth, s
        for box in (b for b in boxes if b != gold):
            assert iou(box, gold) <= 0.3
            assert all(covered(Box(*t), box) <= 0.1 for t in truth if t != gold.rounded())


def test_a_build_to_locate_and_count_shapes_uses_the_detection_items(
        starter_pool: Pool, tmp_path: Path) -> None:
    result = benchagent.build(QUERY, out=tmp_path / "run", size=12, pools=[])
    items = [json.loads(line) for line in
             (result.run_dir / "benchmark" / "benchmark.jsonl").read_text().splitlines()]
    derived = [i for i in items if i["provenance"]["source_dataset_name"] == "Shape-Detection"]
    kinds = {i["provenance"]["source_id"].rsplit(".", 1)[-1] for i in derived}
    assert kinds == {"locate", "count"}
    by_id = {s.source_id: s for c in starter_pool.cards if c.name == "Shape-Detection"
             for s in starter_pool.samples(c.id)}
    for item in derived:
        sample = by_id[item["provenance"]["source_id"]]
        assert (item["question"], item["answer"]) == (sample.question, sample.answer)
        assert sorted(item["options"]) == sorted(sample.options)
        (media,) = item["media"]
        with Image.open(result.run_dir / media["path"]) as shown, \
                Image.open(sample.images[0]) as source:
            assert shown.tobytes() == source.tobytes()
