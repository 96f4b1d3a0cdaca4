"""General-Bench layouts as the upstream repository writes them: annotation files named after
the task or by a card, with or without cards, and image paths in the three upstream styles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.unit.pool.poolfiles import PNG, write

from benchagent.pool import Pool
from benchagent.records import Modality

PROMPT = "Answer the question based on the image, choosing one of the options."


def _rows(image_refs: list[str] | None = None, n: int = 3) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        shown = {"image_file": image_refs[i]} if image_refs else {}
        rows.append({"id": f"s{i}", "input": {"question": f"Is {i} an even number?",
                                             "prompt": PROMPT, **shown},
                     "output": {"text": "yes" if i % 2 == 0 else "no"}})
    return rows


def _annotation(rows: list[dict[str, Any]], task: str = "Even Numbers") -> str:
    return json.dumps({"task": task, "type": "comprehension", "data": rows})


def _card(source_json: str, name: str, dataset_id: str) -> str:
    return json.dumps({
        "dataset_id": dataset_id, "name": name, "description": "Parity questions.",
        "tasks": ["yes_no_qa"], "domain": "numbers",
        "meta": {"fields": {"question": {"paths": ["input.question"]},
                            "instruction": {"paths": ["input.prompt"]},
                            "answer": {"paths": ["output.text"]}}},
        "raw_meta": {"source_json": source_json, "existing_tags": {"set_type": "openset"}},
    })


def test_a_card_names_a_file_of_any_name(tmp_path: Path) -> None:
    rel = "datasets/nlp/even_numbers/json/even_numbers_v2.json"
    write(tmp_path / rel, _annotation(_rows()))
    write(tmp_path / "cards" / "abcd1234_card.json",
          _card(f"data/{rel}", "Even Numbers", "abcd1234"))
    pool = Pool.load([tmp_path])
    assert pool.warnings == []
    (card,) = pool.cards
    assert (card.id, card.name, card.size) == ("abcd1234", "Even Numbers", 3)
    assert card.description == "Parity questions."
    assert [s.instruction for s in pool.samples(card.id)] == [PROMPT] * 3


def test_a_card_may_name_a_file_outside_datasets(tmp_path: Path) -> None:
    write(tmp_path / "datasets" / "nlp" / "Other" / "annotation.json", _annotation(_rows()))
    write(tmp_path / "comprehension" / "even" / "even.json", _annotation(_rows()))
    write(tmp_path / "cards" / "c1_card.json",
          _card("data/comprehension/even/even.json", "Even", "c1"))
    pool = Pool.load([tmp_path])
    assert pool.warnings == []
    assert sorted(c.name for c in pool.cards) == ["Even", "Other"]


def test_annotation_files_of_any_name_load_without_cards(tmp_path: Path) -> None:
    datasets = tmp_path / "datasets"
    write(datasets / "nlp" / "parity" / "parity.json", _annotation(_rows()))
    write(datasets / "nlp" / "odd_even" / "json" / "annotation_v2.json", _annotation(_rows()))
    write(datasets / "nlp" / "odd_even" / "json" / "annotation.json", _annotation(_rows()))
    write(datasets / "nlp" / "parity" / "labels.json", json.dumps({"yes": 1, "no": 0}))
    write(datasets / "image" / "pics" / "images" / "meta.json", _annotation(_rows()))
    pool = Pool.load([tmp_path])
    assert pool.warnings == []
    names = sorted(c.name for c in pool.cards)
    assert names == ["odd_even", "odd_even (annotation_v2)", "parity"]
    assert len({c.id for c in pool.cards}) == 3
    for card in pool.cards:
        assert card.size == 3
        assert [s.instruction for s in pool.samples(card.id)] == [PROMPT] * 3
        assert pool.samples(card.id)[0].question == "Is 0 an even number?"


def test_a_broken_json_of_any_name_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "datasets" / "nlp" / "parity" / "parity.json", _annotation(_rows()))
    write(tmp_path / "datasets" / "nlp" / "parity" / "broken.json", '{"data": [')
    pool = Pool.load([tmp_path])
    assert [c.name for c in pool.cards] == ["parity"]
    assert [w.reason.split(":")[0] for w in pool.warnings] == ["invalid JSON"]


def test_a_card_whose_file_is_absent_is_still_reported(tmp_path: Path) -> None:
    write(tmp_path / "datasets" / "nlp" / "parity" / "parity.json", _annotation(_rows()))
    write(tmp_path / "cards" / "c1_card.json",
          _card("data/datasets/nlp/gone/gone.json", "Gone", "c1"))
    pool = Pool.load([tmp_path])
    assert [c.name for c in pool.cards] == ["parity"]
    assert [w.reason for w in pool.warnings] == [
        "a dataset card names this data file, but it is missing"]


@pytest.mark.parametrize("style", ["upstream", "basename", "images"])
@pytest.mark.parametrize("json_folder", [True, False])
def test_image_paths_in_every_upstream_style_resolve_in_the_dataset(
        tmp_path: Path, style: str, json_folder: bool) -> None:
    task = "parity_vqa"
    folder = tmp_path / "datasets" / "image" / task
    refs = {"upstream": f"./data/comprehension/{task}/images/p{{}}.png", "basename": "p{}.png",
            "images": "images/p{}.png"}[style]
    for i in range(3):
        write(folder / "images" / f"p{i}.png", PNG)
    annotation = folder / "json" / f"{task}.json" if json_folder else folder / f"{task}.json"
    write(annotation, _annotation(_rows([refs.format(i) for i in range(3)])))
    pool = Pool.load([tmp_path])
    assert pool.warnings == []
    (card,) = pool.cards
    assert Modality.image in card.modalities_in
    images = [s.images for s in pool.samples(card.id)]
    assert images == [[str((folder / "images" / f"p{i}.png").resolve())] for i in range(3)]


def test_an_upstream_path_never_leaves_the_dataset(tmp_path: Path) -> None:
    """A file of the same name in a sibling dataset or above the pool is not found."""
    write(tmp_path / "datasets" / "image" / "other" / "images" / "p0.png", PNG)
    write(tmp_path / "p1.png", PNG)
    refs = ["./data/comprehension/other/images/p0.png", "../../../../p1.png", "/etc/p2.png"]
    folder = tmp_path / "datasets" / "image" / "mine"
    write(folder / "mine.json", _annotation(_rows(refs)))
    write(folder / "images" / "unrelated.png", PNG)
    pool = Pool.load([tmp_path / "datasets" / "image" / "mine" / "mine.json"])
    assert pool.cards == []
    reasons = sorted(w.reason for w in pool.warnings)
    assert any("'./data/comprehension/other/images/p0.png' not found" in r for r in reasons)
    assert sum("escapes the dataset root" in r for r in reasons) == 2
