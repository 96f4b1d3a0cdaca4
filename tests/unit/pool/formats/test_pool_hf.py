"""Hugging Face datasets read without `datasets`: save_to_disk folders, hub-style Parquet folders.

`hf:` ids and Hub-layout folders read by `datasets` itself: test_pool_hub.py."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.unit.pool.poolfiles import FEATURES, LABELS, PNG, hf_table, save_split, sentiment

from benchagent.pool import Pool
from benchagent.records import AnswerType, FieldRole, Modality


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))


def test_save_to_disk_dataset_dict_with_class_labels(tmp_path: Path) -> None:
    root = tmp_path / "sentiment"
    info = {"description": "Movie reviews.", "license": "MIT", "citation": "@misc{rev}"}
    save_split(root / "train", sentiment(30), FEATURES, "train", info)
    test = sentiment(4, start=100)
    test["label"][2] = -1  # unlabelled, as in GLUE test splits
    save_split(root / "test", test, FEATURES, "test", info)
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    pool = Pool.load([root])
    cards = {c.name: c for c in pool.cards}
    assert set(cards) == {"sentiment/train", "sentiment/test"}
    train = cards["sentiment/train"]
    assert (train.format, train.split, train.size) == ("hf-disk", "train", 30)
    assert train.answer_vocab == LABELS and train.answer_type is AnswerType.short_text
    assert (train.description, train.license, train.citation) == ("Movie reviews.", "MIT",
                                                                  "@misc{rev}")
    assert train.fields == {FieldRole.question: "text", FieldRole.answer: "label"}
    assert [s.answer for s in pool.samples(train.id)[:2]] == ["negative", "positive"]
    assert cards["sentiment/test"].size == 3
    (warning,) = pool.warnings
    assert warning.path == f"{root / 'test' / 'data-00000-of-00001.arrow'}#row2"
    assert "unlabelled" in warning.reason


def test_save_to_disk_single_dataset_with_embedded_images(tmp_path: Path) -> None:
    features = {"image": {"_type": "Image"}, "question": {"dtype": "string", "_type": "Value"},
                "answer": {"dtype": "string", "_type": "Value"}}
    cols = {"image": [{"bytes": PNG, "path": "cat.png"}, {"bytes": PNG + b"1", "path": None}],
            "question": ["What animal is this?", "What colour is it?"],
            "answer": ["cat", "black"]}
    folder = save_split(tmp_path / "pets", cols, features, "validation")
    pool = Pool.load([folder])
    assert pool.warnings == []
    (card,) = pool.cards
    assert (card.name, card.split) == ("pets", "validation")
    assert card.modalities_in == [Modality.text, Modality.image]
    images = [Path(s.images[0]) for s in pool.samples(card.id)]
    media = (tmp_path / "cache" / "media").resolve()
    assert all(media in p.parents and p.read_bytes().startswith(PNG) for p in images)
    assert images[0].suffix == ".png" and images[0] != images[1]


def test_hub_style_parquet_folder(tmp_path: Path) -> None:
    folder = tmp_path / "reviews"
    (folder / "data").mkdir(parents=True)
    pq.write_table(hf_table(sentiment(6), FEATURES),
                   folder / "data" / "train-00000-of-00002.parquet")
    pq.write_table(hf_table(sentiment(4, start=6), FEATURES),
                   folder / "data" / "train-00001-of-00002.parquet")
    pq.write_table(hf_table(sentiment(3), FEATURES),
                   folder / "data" / "test-00000-of-00001.parquet")
    pool = Pool.load([tmp_path])
    sizes = {(c.name, c.format): c.size for c in pool.cards}
    assert sizes == {("reviews/train", "parquet"): 10, ("reviews/test", "parquet"): 3}
    train = next(c for c in pool.cards if c.split == "train")
    samples = pool.samples(train.id)
    assert samples[7].source_id == "row7" and samples[7].answer == "positive"
    assert train.answer_vocab == LABELS


def test_split_subfolders_of_parquet(tmp_path: Path) -> None:
    for split in ("train", "test"):
        (tmp_path / "ds" / split).mkdir(parents=True)
        pq.write_table(hf_table(sentiment(2), FEATURES), tmp_path / "ds" / split / "x.parquet")
    pool = Pool.load([tmp_path / "ds"])
    assert sorted(c.name for c in pool.cards) == ["ds/test", "ds/train"]


def test_dataset_dict_split_names_stay_inside(tmp_path: Path) -> None:
    root = tmp_path / "dd"
    save_split(root / "train", sentiment(2), FEATURES, "train")
    save_split(tmp_path / "elsewhere", sentiment(2), FEATURES, "x")
    (root / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "../elsewhere",
                                                                   "missing"]}))
    pool = Pool.load([root])
    assert [c.name for c in pool.cards] == ["dd/train"]
    assert [w.reason for w in pool.warnings] == [
        "bad split name '../elsewhere'", "split folder 'missing' named in dataset_dict.json "
        "is missing"]


def test_marker_and_arrow_files_can_be_given_directly(tmp_path: Path) -> None:
    folder = save_split(tmp_path / "s", sentiment(3), FEATURES, "train")
    by_info = Pool.load([folder / "dataset_info.json"]).cards
    assert [(c.name, c.size) for c in by_info] == [("s", 3)]
    (arrow,) = Pool.load([folder / "data-00000-of-00001.arrow"]).cards
    assert (arrow.format, arrow.answer_vocab) == ("hf-disk", LABELS)  # features from metadata
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "state.json").write_text("{}")
    pool = Pool.load([tmp_path / "t" / "state.json"])
    assert pool.cards == [] and "not a Hugging Face dataset" in pool.warnings[0].reason
