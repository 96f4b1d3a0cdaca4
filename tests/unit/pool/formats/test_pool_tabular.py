"""JSONL, CSV and Parquet datasets: mapping files, column profiling, typed samples, richer cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.unit.pool.poolfiles import PNG, WAV, write

from benchagent.pool import Pool
from benchagent.records import AnswerType, FieldRole, Modality


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


MAPPING = """
[dataset]
name = "Science QA"
description = "Grade-school science questions."
license = "CC-BY-4.0"
citation = "Doe et al. (2024)"
tasks = ["science_qa"]
domain = "science"

[fields]
id = "qid"
question = "q"
context = ["title", "passage"]
options = "choices"
answer = "label"
answer_index = true
image = "img"
"""


def test_jsonl_with_mapping_file(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    write(root / "pics" / "leaf.png", PNG)
    rows = [{"qid": f"s{i}", "q": f"Question {i}: what do plants need?", "title": "Plants",
             "passage": "Plants need light and water.", "choices": ["light", "sand", "salt"],
             "label": i % 3, "img": "pics/leaf.png", "noise": 1} for i in range(6)]
    write(root / "sci.jsonl", jsonl(rows))
    write(root / "sci.benchagent.toml", MAPPING)
    pool = Pool.load([root])
    assert pool.warnings == []
    (card,) = pool.cards
    assert (card.name, card.format, card.size) == ("Science QA", "jsonl", 6)
    assert (card.license, card.citation, card.tasks, card.domain) == (
        "CC-BY-4.0", "Doe et al. (2024)", ["science_qa"], "science")
    assert card.fields == {FieldRole.id: "qid", FieldRole.question: "q",
                           FieldRole.context: "title,passage", FieldRole.options: "choices",
                           FieldRole.answer: "label", FieldRole.image: "img"}
    assert card.answer_type is AnswerType.multiple_choice
    assert card.modalities_in == [Modality.text, Modality.image]
    assert card.num_options_mean == 3.0 and card.language == "en"
    samples = pool.samples(card.id)
    assert [s.source_id for s in samples] == [f"s{i}" for i in range(6)]
    assert [s.answer for s in samples[:3]] == ["light", "sand", "salt"]
    assert samples[0].context == "Plants\n\nPlants need light and water."
    assert samples[0].images == [str((root / "pics" / "leaf.png").resolve())]
    assert card.text_stats["mean"] == pytest.approx(len(samples[0].question)
                                                    + len(samples[0].context), abs=1)


def test_csv_profiled_by_column_names_with_option_columns(tmp_path: Path) -> None:
    lines = ["question,A,B,C,D,answer"] + [
        f"What is {i} + {i}?,{2 * i},{2 * i + 1},{2 * i + 2},{2 * i + 3},B" for i in range(5)]
    path = write(tmp_path / "arith.csv", "\n".join(lines) + "\n")
    pool = Pool.load([path])
    (card,) = pool.cards
    assert card.format == "csv" and card.name == "arith"
    assert card.fields[FieldRole.options] == "A,B,C,D"
    assert card.answer_type is AnswerType.multiple_choice
    s = pool.samples(card.id)[3]
    assert (s.source_id, s.options, s.answer) == ("row3", ["6", "7", "8", "9"], "7")


def test_csv_options_as_json_string_and_index_answers(tmp_path: Path) -> None:
    rows = ['"Pick the colour.","[""red"", ""dog""]",0',
            "\"Pick the animal.\",\"['red', 'dog']\",1"]
    path = write(tmp_path / "pick.csv", "prompt,choices,label\n" + "\n".join(rows) + "\n")
    pool = Pool.load([path])
    assert pool.warnings == []
    samples = pool.samples(pool.cards[0].id)
    assert [(s.options, s.answer) for s in samples] == [(["red", "dog"], "red"),
                                                        (["red", "dog"], "dog")]


def test_parquet_file_with_list_options(tmp_path: Path) -> None:
    table = pa.table({"id": ["p1", "p2"], "question": ["Ist der Himmel blau und ist das Gras grün?",
                                                       "Ist die Sonne kalt und ist es nicht so?"],
                      "options": [["ja", "nein"], ["ja", "nein"]], "answer": ["ja", "nein"]})
    pq.write_table(table, tmp_path / "de.parquet")
    pool = Pool.load([tmp_path / "de.parquet"])
    (card,) = pool.cards
    assert (card.format, card.size, card.language) == ("parquet", 2, "de")
    assert [s.answer for s in pool.samples(card.id)] == ["ja", "nein"]


def test_dialog_audio_and_instruction_roles(tmp_path: Path) -> None:
    write(tmp_path / "d" / "clips" / "a.wav", WAV)
    rows = [{"id": i, "system": "Reply briefly.", "audio": "clips/a.wav",
             "messages": [{"role": "user", "content": f"hello {i}"},
                          {"role": "assistant", "content": "hi"}],
             "response": f"fine {i}"} for i in range(3)]
    write(tmp_path / "d" / "chat.jsonl", jsonl(rows))
    pool = Pool.load([tmp_path / "d"])
    assert pool.warnings == []
    (card,) = pool.cards
    assert card.fields == {FieldRole.id: "id", FieldRole.answer: "response",
                           FieldRole.audio: "audio", FieldRole.dialog: "messages",
                           FieldRole.instruction: "system"}
    assert card.modalities_in == [Modality.text, Modality.audio]
    s = pool.samples(card.id)[1]
    assert s.source_id == "1" and s.dialog == ["user: hello 1", "assistant: hi"]
    assert s.instruction == "Reply briefly." and s.answer == "fine 1"
    assert s.audio == [str((tmp_path / "d" / "clips" / "a.wav").resolve())]


def test_text_and_label_classification(tmp_path: Path) -> None:
    rows = [{"text": f"Le film était {'bon' if i % 2 else 'mauvais'} et il est à voir.",
             "label": "pos" if i % 2 else "neg"} for i in range(30)]
    pool = Pool.load([write(tmp_path / "avis.jsonl", jsonl(rows))])
    (card,) = pool.cards
    assert card.fields == {FieldRole.question: "text", FieldRole.answer: "label"}
    assert card.answer_type is AnswerType.short_text and card.answer_vocab == ["neg", "pos"]
    assert card.language == "fr"


def test_folder_mapping_makes_one_dataset_per_split(tmp_path: Path) -> None:
    folder = tmp_path / "qa"
    for split, n in (("train", 4), ("test", 2)):
        rows = [{"question": f"{split} question {i}?", "answer": str(i)} for i in range(n)]
        write(folder / f"{split}.jsonl", jsonl(rows))
    write(folder / "benchagent-dataset.toml", '[dataset]\nname = "Counting"\n')
    pool = Pool.load([tmp_path])
    sizes = {(c.name, c.split): c.size for c in pool.cards}
    assert sizes == {("Counting/train", "train"): 4, ("Counting/test", "test"): 2}
    assert all(c.answer_type is AnswerType.number for c in pool.cards)
    write(folder / "benchagent-dataset.toml", '[dataset]\nname = "Counting"\nsplit = "test"\n')
    (card,) = Pool.load([folder]).cards
    assert (card.name, card.split, card.size) == ("Counting", "test", 2)


def test_loose_split_files_and_stable_ids(tmp_path: Path) -> None:
    rows = [{"question": "Is it?", "answer": "yes"}, {"question": "Is it not?", "answer": "no"}]
    write(tmp_path / "mini" / "validation.jsonl", jsonl(rows))
    first = Pool.load([tmp_path]).cards[0]
    again = Pool.load([tmp_path]).cards[0]
    assert (first.name, first.split, first.answer_type) == ("mini/validation", "validation",
                                                           AnswerType.yes_no)
    assert first.id == again.id and len(first.id) == 8


def test_nested_rows_and_dotted_mapping_names(tmp_path: Path) -> None:
    nested = [{"id": f"n{i}", "input": {"question": f"Is {i} odd?"},
               "output": {"answer": "yes" if i % 2 else "no"}} for i in range(3)]
    write(tmp_path / "nested.jsonl", jsonl(nested))
    squad = [{"context": "Paris is in France.", "question": "Where is Paris?",
              "answers": {"text": ["France", "France"], "answer_start": [12, 12]}},
             {"context": "Rome is in Italy.", "question": "Where is Rome?",
              "answers": {"text": ["Italy", "in Italy"], "answer_start": [11, 8]}}]
    write(tmp_path / "squad.jsonl", jsonl(squad))
    write(tmp_path / "squad.benchagent.toml", '[dataset]\nlanguage = "en-GB"\n'
          '[fields]\nquestion = "question"\ncontext = "context"\nanswer = "answers.text"\n')
    pool = Pool.load([tmp_path])
    cards = {c.name: c for c in pool.cards}
    assert cards["nested"].fields[FieldRole.answer] == "output.answer"
    assert [s.answer for s in pool.samples(cards["nested"].id)] == ["no", "yes", "no"]
    sq = pool.samples(cards["squad"].id)
    assert cards["squad"].language == "en-GB"
    assert (sq[0].answer, sq[0].answer_aliases) == ("France", [])
    assert (sq[1].answer, sq[1].answer_aliases) == ("Italy", ["Italy", "in Italy"])


def test_mapping_file_can_be_given_directly(tmp_path: Path) -> None:
    write(tmp_path / "q.jsonl", jsonl([{"q": "Is it?", "a": "yes"}]))
    toml = write(tmp_path / "q.benchagent.toml", '[fields]\nquestion = "q"\nanswer = "a"\n')
    (card,) = Pool.load([toml]).cards
    assert card.fields == {FieldRole.question: "q", FieldRole.answer: "a"}
