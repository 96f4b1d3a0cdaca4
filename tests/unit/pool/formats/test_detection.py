"""Detection datasets (answers are boxes) become multiple-choice samples with a correct gold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from tests.unit.pool.poolfiles import write

from benchagent.pool import Pool
from benchagent.pool.formats import boxdraw, detection
from benchagent.pool.formats.boxes import Box, covered, iou, parse_boxes, to_pixels
from benchagent.records import AnswerType, FieldRole

SIZE = (320, 240)
BIRDS = [[20, 30, 60, 40], [200, 150, 50, 45]]
CAT = [150, 20, 70, 60]


@pytest.mark.parametrize(("value", "expected"), [
    ({"bird": [[1, 2, 3, 4]]}, [("bird", [1, 2, 3, 4])]),
    ({"bbox": [{"Fall": [1, 2, 3, 4]}]}, [("Fall", [1, 2, 3, 4])]),
    ({"bbox": {"cat": [5, 6, 7, 8], "dog": [[1, 1, 2, 2], [3, 3, 4, 4]]}},
     [("cat", [5, 6, 7, 8]), ("dog", [1, 1, 2, 2]), ("dog", [3, 3, 4, 4])]),
    ([{"label": "cat", "bbox": [1, 2, 3, 4]}], [("cat", [1, 2, 3, 4])]),
    ([1.5, 2, 3, 4], [("", [1.5, 2, 3, 4])]),
])
def test_box_answers_in_upstream_shapes_parse(value: Any, expected: list[Any]) -> None:
    assert parse_boxes(value) == expected


@pytest.mark.parametrize("value", ["bird", {"answer": "yes"}, [1, 2, 3], [1, 2, 3, True],
                                   {"bird": [[1, 2, 3, 4]], "note": "one bird"}])
def test_anything_but_boxes_is_not_read_as_boxes(value: Any) -> None:
    assert parse_boxes(value) is None


def test_boxes_are_read_as_pixels_xyxy_or_fractions_to_fit_the_image() -> None:
    (xywh,) = to_pixels([("a", [10, 10, 50, 20])], 100, 100) or []
    assert xywh.box == Box(10, 10, 50, 20)
    (xyxy,) = to_pixels([("a", [60, 10, 90, 95])], 100, 100) or []  # as xywh it overruns
    assert xyxy.box == Box(60, 10, 30, 85)
    (frac,) = to_pixels([("a", [0.1, 0.2, 0.5, 0.25])], 200, 100) or []
    assert frac.box == Box(20, 20, 100, 25)
    assert to_pixels([("a", [150, 10, 60, 20])], 100, 100) is None


def _image(path: Path) -> None:
    img = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(img)
    for x, y, w, h in [*BIRDS, CAT]:
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def _pool_dir(root: Path, answers: list[Any], exhaustive: bool = False,
              image_ref: str = "images/{}.png") -> Path:
    folder = root / "datasets" / "image" / "bird_detection"
    rows = []
    for i, answer in enumerate(answers):
        _image(folder / "images" / f"b{i}.png")
        rows.append({"id": f"b{i}", "input": {"image_file": image_ref.format(f"b{i}"),
                                              "prompt": "Detect the birds; answer with boxes."},
                     "output": {"bbox": answer}})
    doc: dict[str, Any] = {"task": "bird detection", "type": "comprehension", "data": rows}
    if exhaustive:
        doc["all_instances_annotated"] = True
    write(folder / "json" / "bird_detection.json", json.dumps(doc))
    return root


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[Box], list[str]]]:
    """The boxes and letters of every image the loader draws."""
    calls: list[tuple[list[Box], list[str]]] = []
    real = detection.draw_lettered_boxes

    def record(image: Path, boxes: list[Box], letters: list[str], out_dir: Path) -> Path:
        calls.append((list(boxes), list(letters)))
        return real(image, boxes, letters, out_dir)

    monkeypatch.setattr(detection, "draw_lettered_boxes", record)
    return calls


def _gold_and_distractors(calls: list[tuple[list[Box], list[str]]], index: int,
                          answer: str) -> tuple[Box, list[Box]]:
    boxes, letters = calls[index]
    gold = boxes[letters.index(answer.removeprefix("Box "))]
    return gold, [b for b in boxes if b != gold]


def test_locate_samples_letter_the_annotated_box_among_distractors(
        tmp_path: Path, drawn: list[tuple[list[Box], list[str]]]) -> None:
    answers = [{"bird": BIRDS}, {"bird": [BIRDS[0]]}, {"bird": [BIRDS[1]]}]
    pool = Pool.load([_pool_dir(tmp_path, answers)])
    assert pool.warnings == []
    (card,) = pool.cards
    assert card.answer_type is AnswerType.multiple_choice and card.size == 3
    assert {FieldRole.options, FieldRole.image, FieldRole.answer} <= set(card.fields)
    assert "object_localization" in card.tasks and "object_counting" not in card.tasks
    samples = pool.samples(card.id)
    assert [s.source_id for s in samples] == ["b0.locate", "b1.locate", "b2.locate"]
    for i, s in enumerate(samples):
        assert s.question == ("The image shows 4 boxes, labelled A, B, C and D. Which box "
                              "tightly encloses a bird?")
        assert s.options == ["Box A", "Box B", "Box C", "Box D"] and s.answer in s.options
        assert s.instruction == ""  # the upstream prompt asks for boxes, not a letter
        gold, wrong = _gold_and_distractors(drawn, i, s.answer)
        assert gold.rounded() in BIRDS
        for box in wrong:
            assert iou(box, gold) <= 0.3
            assert all(covered(Box(*b), box) <= 0.1 for b in BIRDS if b != gold.rounded())
        with Image.open(s.images[0]) as img, Image.open(
                tmp_path / "datasets/image/bird_detection/images" / f"b{i}.png") as src:
            assert img.size == src.size and img.tobytes() != src.convert("RGB").tobytes()


def test_the_same_data_gives_the_same_samples(tmp_path: Path) -> None:
    root = _pool_dir(tmp_path, [{"bird": BIRDS}, {"bird": BIRDS}, {"cat": [CAT]}], True)
    first, second = Pool.load([root]), Pool.load([root])
    assert first.cards[0].id == second.cards[0].id
    assert first.samples(first.cards[0].id) == second.samples(second.cards[0].id)


def test_exhaustive_annotations_also_give_counting_samples(tmp_path: Path) -> None:
    answers = [{"bird": BIRDS, "cat": [CAT]}, {"bird": BIRDS}, {"cat": [CAT]}] * 4
    pool = Pool.load([_pool_dir(tmp_path, answers, exhaustive=True)])
    (card,) = pool.cards
    assert "object_counting" in card.tasks and card.size == 24
    counts = [s for s in pool.samples(card.id) if s.source_id.endswith(".count")]
    assert len(counts) == 12
    truth = {"bird": [len(a.get("bird", [])) for a in answers],
             "cat": [len(a.get("cat", [])) for a in answers]}
    asked = set()
    for s in counts:
        index = int(s.source_id.split(".")[0][1:])
        label = "bird" if "birds" in s.question else "cat"
        assert s.question == f"How many {label}s are there in the image?"
        assert s.answer == str(truth[label][index]) and len(set(s.options)) == 4
        assert s.answer in s.options and s.images[0].endswith(f"b{index}.png")
        asked.add((label, s.answer))
    assert ("bird", "0") in asked or ("cat", "0") in asked  # absent classes are asked too


def test_labels_that_are_not_plain_nouns_are_quoted(tmp_path: Path) -> None:
    pool = Pool.load([_pool_dir(tmp_path, [[{"Fall": BIRDS[0]}]] * 2, True,
                                image_ref="./data/comprehension/bird_detection/images/{}.png")])
    assert pool.warnings == []
    questions = {s.question for s in pool.samples(pool.cards[0].id)}
    assert ("The image shows 4 boxes, labelled A, B, C and D. Which box tightly encloses the "
            'object labelled "Fall"?') in questions
    assert 'How many objects labelled "Fall" are there in the image?' in questions


def test_boxes_that_do_not_fit_the_image_are_reported(tmp_path: Path) -> None:
    pool = Pool.load([_pool_dir(tmp_path, [{"bird": [[300, 10, 90, 20]]}, {"bird": BIRDS}])])
    assert pool.cards[0].size == 1
    assert [w.reason for w in pool.warnings] == ["its boxes do not fit the 320x240 image"]


def test_a_drawing_is_reused_and_keeps_the_letters_readable(tmp_path: Path) -> None:
    source = tmp_path / "src.png"
    _image(source)
    boxes = [Box(*BIRDS[0]), Box(100, 100, 40, 40), Box(*CAT), Box(250, 190, 60, 40)]
    out = boxdraw.draw_lettered_boxes(source, boxes, list("ABCD"), tmp_path / "out")
    again = boxdraw.draw_lettered_boxes(source, boxes, list("ABCD"), tmp_path / "out")
    assert out == again and len(list((tmp_path / "out").rglob("*.png"))) == 1
    with Image.open(out) as img:
        counts = {colour: n for n, colour in img.convert("RGB").getcolors(1 << 20) or []}
    for colour in boxdraw.PALETTE[:4]:  # every box's colour (its outline and its tag) is drawn
        assert counts.get(colour, 0) > 100
