"""A corpus of hostile pools, each written by the test that uses it.

Every case builds one pool folder (`pool/`) next to a folder that is not the pool
(`outside/`, whose files all hold MARKER) and says what `benchagent pool index` must answer:
its exit code, and a line naming the file and the reason. Nothing outside may ever be opened.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.unit.pool.poolfiles import PNG, png_bytes, save_split, sentiment, wav_bytes, write

MARKER = "MARKER-9d41c3e7-never-to-be-read"
DEEP = 200_000
Builder = Callable[[Path, Path], None]  # (pool folder, outside folder)


@dataclass(frozen=True)
class Case:
    name: str
    build: Builder
    where: str  # the file (or file#sample) the line names
    reason: str  # words of the reason on that line
    code: int = 1  # the exit code of `pool index`: 1 when no dataset is left


def write_outside(outside: Path) -> None:
    """Files a hostile pool points at: each holds MARKER, none may be opened."""
    write(outside / "secret.txt", f"{MARKER}\n")
    row = {"id": "o1", "input": {"question": f"{MARKER}?"}, "output": {"answer": "yes"}}
    write(outside / "ds" / "annotation.json", json.dumps({"task": MARKER, "data": [row] * 3}))
    write(outside / "outside.jsonl", json.dumps({"question": MARKER, "answer": "a"}) + "\n")
    write(outside / "outside.csv", f"question,answer\n{MARKER},a\n")
    write(outside / "task" / "task.json", json.dumps(
        {"name": MARKER, "examples": [{"input": MARKER, "target": "a"}]}))
    write(outside / "outside.png", PNG + MARKER.encode())


def rows(n: int = 3, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"q{i}", "input": {"question": f"Is {i} even?", **extra},
             "output": {"answer": "yes" if i % 2 == 0 else "no"}} for i in range(n)]


def annotation(data: Any) -> str:
    return json.dumps({"task": "t", "data": data})


def raw_file(rel: str, data: str | bytes) -> Builder:
    def build(pool: Path, _: Path) -> None:
        write(pool / rel, data)
    return build


def link(rel: str, target: Callable[[Path, Path], Path]) -> Builder:
    def build(pool: Path, outside: Path) -> None:
        (pool / rel).parent.mkdir(parents=True, exist_ok=True)
        (pool / rel).symlink_to(target(pool, outside))
    return build


def both(*builders: Builder) -> Builder:
    def build(pool: Path, outside: Path) -> None:
        for b in builders:
            b(pool, outside)
    return build


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares `width` x `height` pixels (a decompression bomb)."""
    data = bytearray(png_bytes())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def corrupt_png() -> bytes:
    data = bytearray(png_bytes((64, 64), "red"))
    for i in range(45, len(data) - 20):
        data[i] ^= 0x5A
    return bytes(data)


def image_pool(ref: str | Callable[[Path, Path], str], image: bytes | None = None,
               name: str = "bad.png") -> Builder:
    """A dataset of two image samples: `good` (a real PNG) and `bad` (the hostile one)."""
    def build(pool: Path, outside: Path) -> None:
        pics = pool / "pics"
        write(pics / "images" / "good.png", PNG)
        if image is not None:
            write(pics / "images" / name, image)
        bad = ref(pool, outside) if callable(ref) else ref
        data = [{"id": sid, "input": {"image_file": r, "question": "What is shown?"},
                 "output": {"text": "a square"}} for sid, r in (("good", "good.png"), ("bad", bad))]
        write(pics / "annotation.json", json.dumps({"modality": {"in": ["image"]}, "data": data}))
    return build


def audio_pool(clip: bytes) -> Builder:
    def build(pool: Path, _: Path) -> None:
        write(pool / "talk" / "audio" / "good.wav", wav_bytes())
        write(pool / "talk" / "audio" / "bad.wav", clip)
        data = [{"id": sid, "input": {"audio_file": f, "question": "What is said?"},
                 "output": {"text": "nothing"}} for sid, f in (("good", "good.wav"),
                                                               ("bad", "bad.wav"))]
        write(pool / "talk" / "annotation.json", json.dumps({"data": data}))
    return build


def task(examples: Any, **extra: Any) -> Builder:
    return raw_file("t/task.json", json.dumps({"name": "t", "examples": examples, **extra}))


def scores(value: Any) -> Builder:
    return task([{"input": "Which?", "target_scores": {"a": value, "b": 0}}])


def gb_root(card: dict[str, Any], extra: Builder | None = None) -> Builder:
    """A General-Bench root with one good dataset and one (hostile) card."""
    def build(pool: Path, outside: Path) -> None:
        write(pool / "datasets" / "nlp" / "Good" / "annotation.json", annotation(rows()))
        write(pool / "cards" / "bad_card.json", json.dumps(card))
        if extra is not None:
            extra(pool, outside)
    return build


def deep_card(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return {"raw_meta": {"source_json": "data/datasets/nlp/Good/annotation.json"}, "x": value}


def csv_rows(n: int = 100) -> list[str]:
    return ["id,question,answer"] + [f'{i},"Question {i}?",yes' for i in range(1, n + 1)]


def unbalanced_csv() -> str:
    lines = csv_rows()
    lines[3] = '3,"Question 3?,yes'
    return "\n".join(lines) + "\n"


def parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    buffer = io.BytesIO()
    pq.write_table(pa.table({"question": ["q"], "answer": ["a"]}), buffer)
    return buffer.getvalue()


def saved_dataset(pool: Path, _: Path) -> None:
    save_split(pool / "hf", sentiment(4), {"text": {"dtype": "string", "_type": "Value"},
                                           "label": {"names": ["neg", "pos"],
                                                     "_type": "ClassLabel"}}, "train")


def saved_dataset_with_info_outside(pool: Path, outside: Path) -> None:
    saved_dataset(pool, outside)
    (pool / "hf" / "dataset_info.json").unlink()
    (pool / "hf" / "dataset_info.json").symlink_to(outside / "secret.txt")


def outside_file(name: str) -> Callable[[Path, Path], Path]:
    return lambda _, outside: outside / name


def itself(rel: str) -> Callable[[Path, Path], Path]:
    return lambda pool, _: pool / rel


GOOD_JSONL = json.dumps({"question": "q?", "answer": "a"}) + "\n"
A = "annotation.json"
CASES: list[Case] = [
    # General-Bench annotation files: broken JSON and wrong shapes
    Case("truncated-json", raw_file(f"x/{A}", '{"task": "t", "data": [{"id": '), A,
         "invalid JSON"),
    Case("garbage-json", raw_file(f"x/{A}", "this is not JSON at all"), A, "invalid JSON"),
    Case("empty-json", raw_file(f"x/{A}", b""), A, "invalid JSON"),
    Case("whitespace-json", raw_file(f"x/{A}", " \n\t\n"), A, "invalid JSON"),
    Case("null-json", raw_file(f"x/{A}", "null"), A, "null"),
    Case("top-level-string", raw_file(f"x/{A}", '"hello"'), A, "no `data` list"),
    Case("top-level-number", raw_file(f"x/{A}", "42"), A, "no `data` list"),
    Case("top-level-list-of-ints", raw_file(f"x/{A}", "[1, 2, 3]"), A, "no answer field"),
    Case("data-not-a-list", raw_file(f"x/{A}", '{"data": "rows"}'), A, "no `data` list"),
    Case("data-empty", raw_file(f"x/{A}", '{"data": []}'), A, "no answer field"),
    Case("rows-without-answer", raw_file(f"x/{A}", annotation(
        [{"input": {"question": "q"}}] * 3)), A, "no answer field"),
    Case("latin-1-bytes", raw_file(f"x/{A}", annotation(rows()).replace(
        "even", "\xe9ven").encode("latin-1")), A, "not valid UTF-8"),
    Case("utf-16", raw_file(f"x/{A}", annotation(rows()).encode("utf-16")), A,
         "not valid UTF-8"),
    Case("nul-bytes", raw_file(f"x/{A}", b'{"data": [\x00\x00]}'), A, "invalid JSON"),
    Case("deep-nesting", raw_file(f"x/{A}", "[" * DEEP + "]" * DEEP), A, "nested too deeply"),
    Case("deep-nesting-in-a-row", raw_file(
        f"x/{A}", '{"data": [{"input": ' + "[" * DEEP + "]" * DEEP + "}]}"), A,
         "nested too deeply"),
    Case("integer-of-5000-digits", raw_file(
        f"x/{A}", '{"data": [{"output": {"answer": ' + "9" * 5000 + "}}]}"), A,
         "invalid JSON"),
    Case("lone-surrogates", raw_file(f"x/{A}", annotation(
        [{"input": {"question": "\\ud800?"}, "output": {"answer": "yes"}}] * 2).replace(
        "\\\\ud800", "\\ud800")), f"{A}#row0", "lone surrogate"),
    Case("question-of-200000-chars", raw_file(f"x/{A}", annotation(
        [{"input": {"question": "why " * 50_000}, "output": {"answer": "yes"}}])),
         f"{A}#row0", "100000-character limit"),
    Case("200000-options", raw_file(f"x/{A}", annotation(
        [{"input": {"question": "Pick", "options": [f"o{i}" for i in range(200_000)]},
          "output": {"answer": "o1"}}])), f"{A}#row0", "100-option limit"),
    # path escapes of data files and folders
    Case("annotation-symlink-outside", link(f"x/{A}", outside_file("secret.txt")), A,
         "escapes the pool root"),
    Case("annotation-symlink-passwd", link(f"x/{A}", lambda *_: Path("/etc/passwd")), A,
         "escapes the pool root"),
    Case("annotation-symlink-climbing", link(f"x/{A}", lambda pool, _: Path(
        "../../outside/ds/annotation.json")), A, "escapes the pool root"),
    Case("dataset-folder-symlink-outside", link("ds", outside_file("ds")), "ds",
         "escapes the pool root"),
    Case("annotation-symlink-loop", link(f"x/{A}", itself(f"x/{A}")), A, "symlink loop"),
    Case("folder-symlink-loop", link("loop", itself("loop")), "pool", "no datasets found"),
    Case("task-symlink-outside", link("t/task.json", outside_file("task/task.json")),
         "task.json", "escapes the pool root"),
    Case("task-folder-symlink-outside", link("t", outside_file("task")), "t",
         "escapes the pool root"),
    Case("jsonl-symlink-outside", link("d.jsonl", outside_file("outside.jsonl")), "d.jsonl",
         "escapes the pool root"),
    Case("csv-symlink-outside", link("d.csv", outside_file("outside.csv")), "d.csv",
         "escapes the pool root"),
    Case("parquet-symlink-outside", link("d.parquet", outside_file("secret.txt")), "d.parquet",
         "escapes the pool root"),
    Case("mapping-symlink-outside", both(raw_file("d.jsonl", GOOD_JSONL), link(
        "d.benchagent.toml", outside_file("secret.txt"))), "d.benchagent.toml",
         "escapes the pool root"),
    Case("card-source-json-climbs-out", gb_root(
        {"raw_meta": {"source_json": "data/../../outside/ds/annotation.json"}}),
         "bad_card.json", "escapes the pool root", code=0),
    Case("card-symlink-outside", both(gb_root({}), link(
        "cards/z_card.json", outside_file("ds/annotation.json"))), "z_card.json",
         "escapes the pool root", code=0),
    Case("pool-marker-symlink-outside", both(gb_root({}), link(
        "pool.json", outside_file("secret.txt"))), "pool.json", "escapes the pool root", code=0),
    Case("card-nested-150-deep", gb_root(deep_card(150)), "bad_card.json",
         "nested more than 100 levels", code=0),
    Case("hf-info-symlink-outside", saved_dataset_with_info_outside, "dataset_info.json",
         "escapes the pool root", code=0),
    # media: escapes, loops, corrupt and bombs
    Case("image-absolute-path", image_pool(lambda _, o: str(o / "outside.png")), f"{A}#bad",
         "escapes the dataset root", code=0),
    Case("image-dotdot-path", image_pool("../../outside/outside.png"), f"{A}#bad",
         "escapes the dataset root", code=0),
    Case("image-symlink-outside", both(image_pool("bad.png"), link(
        "pics/images/bad.png", outside_file("outside.png"))), f"{A}#bad",
         "escapes the dataset root", code=0),
    Case("image-symlink-loop", both(image_pool("bad.png"), link(
        "pics/images/bad.png", itself("pics/images/bad.png"))), f"{A}#bad", "symlink loop",
         code=0),
    Case("image-corrupt-png", image_pool("bad.png", corrupt_png()), f"{A}#bad",
         "cannot be decoded", code=0),
    Case("image-truncated-png", image_pool("bad.png", png_bytes((64, 64))[:60]), f"{A}#bad",
         "cannot be decoded", code=0),
    Case("image-bomb-50000x50000", image_pool("bad.png", png_declaring(50_000, 50_000)),
         f"{A}#bad", "decompression bomb", code=0),
    Case("image-empty", image_pool("bad.png", b""), f"{A}#bad", "is empty", code=0),
    Case("image-text-named-png", image_pool("bad.png", b"hello, I am text"), f"{A}#bad",
         "broken", code=0),
    Case("audio-truncated-wav", audio_pool(wav_bytes(8000)[:2000]), f"{A}#bad", "truncated",
         code=0),
    Case("audio-wav-without-frames", audio_pool(wav_bytes(0)), f"{A}#bad", "no audio frames",
         code=0),
    Case("audio-broken-wav-header", audio_pool(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 32),
         f"{A}#bad", "broken", code=0),
    # BIG-bench
    Case("scores-nan", raw_file("t/task.json", '{"examples": [{"input": "Which?", '
                                '"target_scores": {"a": NaN, "b": 0}}]}'),
         "task.json#ex00000", "not a finite number"),
    Case("scores-infinity", raw_file("t/task.json", '{"examples": [{"input": "Which?", '
                                     '"target_scores": {"a": Infinity, "b": 0}}]}'),
         "task.json#ex00000", "not a finite number"),
    Case("scores-minus-infinity", raw_file("t/task.json", '{"examples": [{"input": "W?", '
                                           '"target_scores": {"a": -Infinity, "b": 1}}]}'),
         "task.json#ex00000", "not a finite number"),
    Case("scores-huge-integer", raw_file("t/task.json", '{"examples": [{"input": "W?", '
                                         '"target_scores": {"a": 1' + "0" * 400 + ', "b": 0}}]}'),
         "task.json#ex00000", "not a finite number"),
    Case("scores-string", scores("1"), "task.json#ex00000", "not a number"),
    Case("scores-nested", scores({"deeper": 1}), "task.json#ex00000", "not a number"),
    Case("scores-all-zero", task([{"input": "Which?", "target_scores": {"Yes": 0, "No": 0}}]),
         "task.json#ex00000", "same score"),
    Case("scores-all-one", task([{"input": "Which?", "target_scores": {"Yes": 1, "No": 1}}]),
         "task.json#ex00000", "same score"),
    Case("example-without-input", task([{"target_scores": {"Yes": 1, "No": 0}}]),
         "task.json#ex00000", "no input"),
    Case("200000-scored-options", task([{"input": "Which?", "target_scores": {
        f"o{i}": int(i == 0) for i in range(200_000)}}]), "task.json#ex00000",
         "100-option limit"),
    Case("task-truncated", raw_file("t/task.json", '{"examples": [{"input": "x", '),
         "task.json", "invalid JSON"),
    Case("task-top-level-list", raw_file("t/task.json", "[1, 2]"), "task.json",
         "not a BIG-bench task"),
    Case("task-examples-not-a-list", task("many"), "task.json", "no examples"),
    # JSONL
    Case("jsonl-line-of-2mb", raw_file("d.jsonl", '{"question": "' + "x" * 2_000_000 + '"}'),
         "d.jsonl:1", "line limit"),
    Case("jsonl-invalid-lines", raw_file("d.jsonl", "{not json\n{neither\n"), "d.jsonl:1",
         "not valid JSON"),
    Case("jsonl-list-lines", raw_file("d.jsonl", "[1]\n[2]\n"), "d.jsonl:1",
         "not a JSON object"),
    Case("jsonl-latin-1", raw_file("d.jsonl", '{"question": "caf\xe9", "answer": "a"}\n'.encode(
        "latin-1")), "d.jsonl:1", "not valid UTF-8"),
    Case("jsonl-utf-16", raw_file("d.jsonl", GOOD_JSONL.encode("utf-16")), "d.jsonl:1",
         "not valid UTF-8"),
    Case("jsonl-deep-nesting", raw_file("d.jsonl", '{"q": ' + "[" * DEEP + "]" * DEEP + "}\n"),
         "d.jsonl:1", "nested"),
    Case("jsonl-empty", raw_file("d.jsonl", b""), "d.jsonl", "no rows"),
    Case("jsonl-nul-bytes", raw_file("d.jsonl", b"\x00\x00\x00\n"), "d.jsonl:1",
         "not valid JSON"),
    # CSV
    Case("csv-unbalanced-quote", raw_file("d.csv", unbalanced_csv()), "d.csv:",
         "malformed CSV at line"),
    Case("csv-ragged-rows", raw_file("d.csv", "question,answer\na,b,c\nd,e,f\n"), "d.csv:2",
         "fields where the header has 2"),
    Case("csv-nul-byte", raw_file("d.csv", b"question,answer\nq\x00,a\n"), "d.csv:",
         "malformed CSV"),
    Case("csv-empty", raw_file("d.csv", b""), "d.csv", "no usable header row"),
    Case("csv-repeated-header", raw_file("d.csv", "answer,answer\na,b\n"), "d.csv",
         "no usable header row"),
    Case("csv-latin-1", raw_file("d.csv", "question,answer\ncaf\xe9,a\n".encode("latin-1")),
         "d.csv", "not valid UTF-8"),
    Case("csv-line-of-2mb", raw_file("d.csv", "question,answer\n" + "x," * 1_000_000),
         "d.csv:2", "line limit"),
    # Parquet and Hugging Face folders
    Case("fake-parquet", raw_file("d.parquet", b"PAR1 but not really PAR1"), "d.parquet",
         "not a Parquet file"),
    Case("empty-parquet", raw_file("d.parquet", b""), "d.parquet", "not a Parquet file"),
    Case("truncated-parquet", raw_file("d.parquet", parquet_bytes()[:-12]), "d.parquet",
         "not a Parquet file"),
    Case("hf-state-garbage", both(saved_dataset, raw_file("hf/state.json", "{garbage")),
         "state.json", "invalid JSON", code=0),
    Case("hf-bad-split-name", raw_file("hf/dataset_dict.json", '{"splits": ["../x"]}'),
         "dataset_dict.json", "bad split name"),
    # mapping files
    Case("mapping-invalid-toml", both(raw_file("d.jsonl", GOOD_JSONL), raw_file(
        "d.benchagent.toml", "[dataset\nname = ")), "d.benchagent.toml",
         "invalid mapping file"),
    Case("mapping-not-utf8", both(raw_file("d.jsonl", GOOD_JSONL), raw_file(
        "d.benchagent.toml", b"[dataset]\nname = \"\xff\"")), "d.benchagent.toml", "not UTF-8"),
    Case("mapping-without-data", raw_file("lost.jsonl.benchagent.toml", "[dataset]\n"),
         "lost.jsonl.benchagent.toml", "matches no data file"),
    # the pool itself
    Case("empty-pool-folder", lambda pool, _: pool.mkdir(), "pool", "no datasets found"),
]
