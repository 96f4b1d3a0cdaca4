"""Hugging Face datasets through the real `datasets` package: Hub-layout folders the tests write
(README.md card + Parquet / JSONL / CSV data files) and `hf:` ids from a cache the tests fill."""

from __future__ import annotations

import json
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from tests.unit.pool.poolfiles import png_bytes, wav_bytes, write

from benchagent.common.embedding import default_embedder
from benchagent.paths import pool_path
from benchagent.pool import Pool
from benchagent.pool.base import PoolError
from benchagent.pool.formats import hubfolder
from benchagent.records import AnswerType, Modality
from runcli import benchmark, cli

datasets = pytest.importorskip("datasets")

COLOURS = ["red", "green", "blue"]
RATES = [8000, 16000, 22050]
CARD = """---
pretty_name: Colour swatches
language:
- en
license: cc-by-4.0
task_categories:
- visual-question-answering
- audio-classification
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
  - split: test
    path: data/test-*.parquet
dataset_info:
  features:
  - name: question
    dtype: string
  - name: image
    dtype: image
  - name: audio
    dtype: audio
  - name: label
    dtype:
      class_label:
        names:
          '0': red
          '1': green
          '2': blue
---
# Colour swatches

<!-- written by the tests -->
Each row shows a plain square of one colour and asks which colour it is; a short clip of
silence, recorded at a different rate per colour, comes with it.

## Licence
"""


def _rows(labels: list[int]) -> pa.Table:
    return pa.table({
        "question": [f"Which colour fills this square? (swatch {i})" for i in range(len(labels))],
        "image": [{"bytes": png_bytes((8, 8), COLOURS[x]), "path": None} for x in labels],
        "audio": [{"bytes": wav_bytes(400, RATES[x]), "path": f"clip{i}.wav"}
                  for i, x in enumerate(labels)],
        "label": labels})


def hub_folder(folder: Path, train: int = 6, test: int = 3) -> Path:
    write(folder / "README.md", CARD)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pq.write_table(_rows([i % 3 for i in range(train)]),
                   folder / "data" / "train-00000-of-00001.parquet")
    pq.write_table(_rows([(i + 1) % 3 for i in range(test)]),
                   folder / "data" / "test-00000-of-00001.parquet")
    return folder


@pytest.fixture(autouse=True)
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face home; `datasets` read its location when it was imported."""
    import huggingface_hub.constants

    home = tmp_path / "hf-home"
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", home / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(home / "hub"))
    return home


def test_hub_folder_loads_through_datasets(tmp_path: Path) -> None:
    pool = Pool.load([hub_folder(tmp_path / "pool" / "swatches")])
    assert pool.warnings == []
    cards = {c.name: c for c in pool.cards}
    assert {n: c.size for n, c in cards.items()} == {"swatches/train": 6, "swatches/test": 3}
    test = cards["swatches/test"]
    assert (test.format, test.split, test.source) == ("hf", "test",
                                                      f"{tmp_path}/pool/swatches@test")
    assert test.description == ("Colour swatches: Each row shows a plain square of one colour "
                                "and asks which colour it is; a short clip of silence, recorded "
                                "at a different rate per colour, comes with it.")
    assert test.tasks == ["visual question answering", "audio classification"]
    assert (test.license, test.language) == ("cc-by-4.0", "en")
    assert test.modalities_in == [Modality.text, Modality.image, Modality.audio]
    assert test.answer_type is AnswerType.multiple_choice
    media = (tmp_path / "cache" / "media").resolve()
    for i, sample in enumerate(pool.samples(test.id)):
        colour = COLOURS[(i + 1) % 3]
        assert sample.options == COLOURS and sample.answer == colour
        assert sample.question == f"Which colour fills this square? (swatch {i})"
        (image,), (clip,) = sample.images, sample.audio
        assert media in Path(image).parents and media in Path(clip).parents
        with Image.open(image) as img:
            assert img.convert("RGB").getpixel((4, 4)) == Image.new("RGB", (1, 1), colour
                                                                    ).getpixel((0, 0))
        with wave.open(clip) as w:
            assert (w.getframerate(), w.getnframes()) == (RATES[(i + 1) % 3], 400)


def test_configs_jsonl_and_mapping_file(tmp_path: Path) -> None:
    folder = tmp_path / "facts"
    write(folder / "README.md", """---
configs:
- config_name: capitals
  data_files: capitals.jsonl
- config_name: rivers
  data_files:
  - split: test
    path: rivers/*.jsonl
---
Short factual questions about geography.
""")
    write(folder / "capitals.jsonl", "\n".join(json.dumps(r) for r in [
        {"question": "Capital of France?", "answer": "Paris"},
        {"question": "Capital of Peru?", "answer": "Lima"}]))
    write(folder / "rivers" / "part-0.jsonl",
          '{"question": "Longest river in Egypt?", "answer": "Nile"}\n')
    write(folder / "benchagent-dataset.toml",
          '[dataset]\ninstruction = "Answer with one name."\n')
    pool = Pool.load([folder])
    assert pool.warnings == []
    cards = {c.name: c for c in pool.cards}
    assert set(cards) == {"facts/capitals", "facts/rivers"}
    assert cards["facts/rivers"].source == f"{folder}:rivers@test"
    assert cards["facts/capitals"].split == "train"
    assert cards["facts/capitals"].description == "Short factual questions about geography."
    (nile,) = pool.samples(cards["facts/rivers"].id)
    assert (nile.question, nile.answer, nile.instruction) == (
        "Longest river in Egypt?", "Nile", "Answer with one name.")


def test_csv_hub_folders_are_found_below_a_plain_folder(tmp_path: Path) -> None:
    folder = tmp_path / "pool" / "a" / "yesno"
    write(folder / "README.md", "---\nconfigs:\n- config_name: default\n  data_files:\n"
          "  - split: validation\n    path: '*.csv'\n---\n")
    write(folder / "part.csv", "question,answer\nIs ice cold?,yes\nIs fire cold?,no\n")
    write(tmp_path / "pool" / "notes.md", "# not a dataset\n")
    pool = Pool.load([tmp_path / "pool"])
    (card,) = pool.cards
    assert (card.name, card.format, card.split, card.size) == ("yesno", "hf", "validation", 2)
    assert [s.answer for s in pool.samples(card.id)] == ["yes", "no"]


def test_data_files_outside_the_folder_are_not_read(tmp_path: Path) -> None:
    write(tmp_path / "secret.jsonl", '{"question": "q", "answer": "a"}\n')
    folder = tmp_path / "pool" / "x"
    write(folder / "README.md", "---\nconfigs:\n- config_name: default\n"
          "  data_files: ../../secret.jsonl\n---\n")
    pool = Pool.load([folder])
    assert pool.cards == []
    assert "points outside the folder" in pool.warnings[0].reason


def test_without_datasets_a_parquet_hub_folder_is_read_as_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hubfolder, "datasets_installed", lambda: False)
    cards = Pool.load([hub_folder(tmp_path / "swatches")]).cards
    assert {c.format for c in cards} == {"parquet"}


def _fill_cache(hf_home: Path, tmp_path: Path) -> None:
    """The cache that a networked `load_dataset("org/swatches")` leaves, made offline: the
    datasets cache (`org___swatches/<config>/<version>/<hash>/`, as written by `datasets`'
    own builder) and the repo's README.md in the hub cache."""
    source = hub_folder(tmp_path / "src" / "swatches")
    builder = datasets.load_dataset_builder(str(source))
    builder.download_and_prepare()
    written = Path(builder.cache_dir)
    under = written.relative_to(hf_home / "datasets").parts[1:]
    shutil.copytree(written, hf_home / "datasets" / "org___swatches" / Path(*under))
    repo = hf_home / "hub" / "datasets--org--swatches"
    write(repo / "refs" / "main", "0123abcd")
    shutil.copy(source / "README.md", write(repo / "snapshots" / "0123abcd" / "x", "").parent
                / "README.md")


def test_hf_id_reloads_from_the_cache(hf_home: Path, tmp_path: Path) -> None:
    _fill_cache(hf_home, tmp_path)
    pool = Pool.load(["hf:org/swatches@test"])
    (card,) = pool.cards
    assert (card.name, card.source, card.split, card.size) == (
        "org/swatches", "hf:org/swatches@test", "test", 3)
    assert card.description.startswith("Colour swatches: Each row shows a plain square")
    assert card.modalities_in == [Modality.text, Modality.image, Modality.audio]
    first = pool.samples(card.id)[0]
    assert (first.options, first.answer) == (COLOURS, "green")
    whole = Pool.load(["hf:org/swatches:default"])
    assert sorted((c.name, c.size) for c in whole.cards) == [
        ("org/swatches:default/test", 3), ("org/swatches:default/train", 6)]
    with pytest.raises(PoolError, match=r"hf:org/swatches:nope: .*config 'nope'"):
        Pool.load(["hf:org/swatches:nope"])


def test_uncached_hf_id_is_one_clear_line(hf_home: Path) -> None:
    with pytest.raises(PoolError) as caught:
        Pool.load(["hf:org/nothing:main@test"])
    assert str(caught.value) == (
        f"hf:org/nothing is not in the Hugging Face cache ({hf_home / 'datasets'}) and "
        "benchagent does not download: load it once with network, e.g. `python -c \"import "
        "datasets; datasets.load_dataset('org/nothing', 'main')\"`, then run this again")
    result = cli("pool", "ls", "--pool", "hf:org/nothing")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "hf:org/nothing is not in the Hugging Face cache" in line
    assert not (hf_home / "hub").exists()  # nothing was fetched


def test_hf_id_without_the_datasets_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)
    with pytest.raises(PoolError, match=r"hf:org/name: the `datasets` package is not "
                                        r"installed: pip install 'benchagent\[hf\]'"):
        Pool.load(["hf:org/name"])


@pytest.mark.parametrize("bad", ["hf:", "hf:a/b/c", "hf:org/name@", "hf:org name"])
def test_malformed_hf_ids(bad: str) -> None:
    with pytest.raises(PoolError, match=r"write hf:ORG/NAME\[:config\]\[@split\]"):
        Pool.load([bad])


def test_pool_paths_keep_hf_ids(tmp_path: Path) -> None:
    assert pool_path("hf:org/name:cfg@test") == Path("hf:org/name:cfg@test")
    assert pool_path("data", tmp_path) == (tmp_path / "data").resolve()
    (tmp_path / "hf:org").mkdir()
    assert pool_path("hf:org", tmp_path) == (tmp_path / "hf:org").resolve()  # a real folder


@pytest.fixture
def bm25_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Search without the dense half (quick; BM25 finds this pool's one dataset), and the
    cached embedder forgotten before and after, so no other test inherits the choice."""
    monkeypatch.setenv("BENCHAGENT_DENSE_SEARCH", "off")
    default_embedder.cache_clear()
    yield
    default_embedder.cache_clear()


@pytest.mark.usefixtures("bm25_only")
def test_build_from_a_hub_folder_pool(tmp_path: Path) -> None:
    pool = hub_folder(tmp_path / "pool" / "swatches", train=12, test=6)
    run = tmp_path / "run"
    result = cli("build", "colour swatches: name the colour of a plain square shown in an "
                 "image, with a short audio clip", "--size", "4", "--pool", pool, "--out", run)
    assert result.returncode == 0, result.stderr
    items = benchmark(run)
    assert len(items) == 4
    for item in items:
        assert sorted(item["options"]) == sorted(COLOURS)  # type: ignore[arg-type]
        assert item["answer"] in COLOURS and item["answer_type"] == "multiple_choice"
        image, clip = item["media"]  # type: ignore[misc]
        assert (image["kind"], clip["kind"]) == ("image", "audio")
        with Image.open(run / image["path"]) as img:
            pixel = img.convert("RGB").getpixel((4, 4))
        assert pixel == Image.new("RGB", (1, 1), str(item["answer"])).getpixel((0, 0))
        with wave.open(str(run / clip["path"])) as w:
            assert w.getframerate() == RATES[COLOURS.index(str(item["answer"]))]
