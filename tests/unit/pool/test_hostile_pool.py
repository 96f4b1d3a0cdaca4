"""Hostile pools through the real command line (issue 11): for every case of the corpus in
`hostile_cases`, `pool index` exits as it should with one line naming the file and the reason,
`pool ls` does not fail, nothing crashes, and no file outside the pool is opened, shown or
written (an audit hook records every file the process opens)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.pool.hostile_cases import CASES, MARKER, Case, write_outside
from tests.unit.pool.poolfiles import write

from benchagent.pool import Pool, limits
from benchagent.pool.formats.tabular import files
from runcli import CliResult, cli

_OPENED: dict[str, list[str] | None] = {"paths": None}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    paths = _OPENED["paths"]
    if paths is not None and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        paths.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextlib.contextmanager
def opened_files() -> Iterator[list[str]]:
    """Every path this process opens (open, io.open, os.open: Pillow's and wave's too) meanwhile."""
    paths: list[str] = []
    _OPENED["paths"] = paths
    try:
        yield paths
    finally:
        _OPENED["paths"] = None


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*")}


def _escapes(opened: list[str], outside: Path) -> list[str]:
    root = outside.resolve()
    real = {Path(os.path.realpath(p)) for p in opened}
    return sorted(str(p) for p in real if p == root or root in p.parents)


def run_case(case: Case, tmp: Path) -> tuple[CliResult, CliResult, list[str]]:
    """Build the case's pool, run `pool index` and `pool ls` on it; the problems found."""
    pool, outside = tmp / "pool", tmp / "outside"
    write_outside(outside)
    case.build(pool, outside)
    before = _snapshot(outside)
    env = {"BENCHAGENT_CACHE": str(tmp / "cache"), "BENCHAGENT_DENSE_SEARCH": "off"}
    with opened_files() as opened:
        index = cli("pool", "index", pool, env=env)
        listing = cli("pool", "ls", "--pool", pool, env=env)
    problems = [f"opened outside the pool: {p}" for p in _escapes(opened, outside)]
    if _snapshot(outside) != before:
        problems.append("wrote outside the pool")
    problems += _output_problems(case, index, listing)
    return index, listing, problems


def _output_problems(case: Case, index: CliResult, listing: CliResult) -> list[str]:
    problems: list[str] = []
    for result in (index, listing):
        shown = result.stdout + result.stderr
        if "Traceback" in shown or "unexpected" in shown:
            problems.append(f"crash in `{' '.join(result.args[:2])}`: {shown.strip()[-300:]}")
        if MARKER in shown:
            problems.append(f"`{' '.join(result.args[:2])}` shows what is outside the pool")
    if index.returncode != case.code:
        problems.append(f"pool index exits {index.returncode}, not {case.code}")
    if listing.returncode != 0:
        problems.append(f"pool ls exits {listing.returncode}")
    lines = (index.stdout + index.stderr).splitlines()
    if not any(case.where in line and case.reason in line for line in lines):
        problems.append(f"no line names {case.where!r} with {case.reason!r}: "
                        f"{(index.stdout + index.stderr).strip()[-400:]}")
    return problems


def test_the_corpus_has_at_least_60_cases_with_distinct_names() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_pool(case: Case, tmp_path: Path) -> None:
    index, _, problems = run_case(case, tmp_path)
    assert problems == []
    if case.code:  # the error line itself names the file and the reason
        error = [line for line in index.stderr.splitlines() if line.startswith("error:")]
        assert len(error) == 1 and "indexed 0 datasets" in error[0]


def test_the_watch_sees_a_file_opened_outside(tmp_path: Path) -> None:
    """The checks above can fail: opening the marker, or printing it, is caught."""
    write_outside(tmp_path / "outside")
    with opened_files() as opened:
        (tmp_path / "outside" / "secret.txt").read_text(encoding="utf-8")
    assert _escapes(opened, tmp_path / "outside") == [str(tmp_path / "outside" / "secret.txt")]
    with opened_files() as opened, (tmp_path / "outside" / "outside.png").open("rb"):
        pass
    assert _escapes(opened, tmp_path / "outside") != []


def test_a_good_pool_still_indexes_and_registers(tmp_path: Path) -> None:
    write(tmp_path / "pool" / "d.jsonl", "".join(
        f'{{"question": "{i}+{i}?", "answer": "{2 * i}"}}\n' for i in range(3)))
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache"), "BENCHAGENT_DENSE_SEARCH": "off"}
    result = cli("pool", "index", tmp_path / "pool", env=env)
    assert result.returncode == 0 and "indexed 1 datasets" in result.stdout
    assert str(tmp_path / "pool") in (tmp_path / "cache" / "pools.json").read_text()


def test_nothing_indexed_registers_nothing(tmp_path: Path) -> None:
    (tmp_path / "pool").mkdir()
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache"), "BENCHAGENT_DENSE_SEARCH": "off"}
    result = cli("pool", "index", tmp_path / "pool", env=env)
    assert result.returncode == 1 and "nothing registered" in result.stderr
    assert not (tmp_path / "cache" / "pools.json").exists()


def test_a_missing_pool_path_is_one_line(tmp_path: Path) -> None:
    result = cli("pool", "index", tmp_path / "nope", env={"BENCHAGENT_CACHE": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr


def test_the_documented_mapping_name_is_used(tmp_path: Path) -> None:
    """`x.jsonl.benchagent.toml`, as README names it, describes x.jsonl."""
    write(tmp_path / "pool" / "x.jsonl", "".join(
        f'{{"q": "{i}+{i}?", "a": "{2 * i}"}}\n' for i in range(3)))
    write(tmp_path / "pool" / "x.jsonl.benchagent.toml",
          '[dataset]\nname = "Mapped Sums"\n[fields]\nquestion = "q"\nanswer = "a"\n')
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache"), "BENCHAGENT_DENSE_SEARCH": "off"}
    listing = cli("pool", "ls", "--pool", tmp_path / "pool", "--json", env=env)
    assert listing.returncode == 0 and '"Mapped Sums"' in listing.stdout


def test_readme_lists_the_limits() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    for value in (limits.MAX_FILE_BYTES, limits.MAX_LINE_BYTES, limits.MAX_RECORDS,
                  limits.MAX_JSON_DEPTH,
                  limits.MAX_QUESTION_CHARS, limits.MAX_CONTEXT_CHARS, limits.MAX_OPTIONS):
        assert f"{value:,}" in readme, value


def test_a_file_over_the_record_limit_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit the 200 MB file of one repeated line hits (benchmarks/hostile_memory.py)."""
    monkeypatch.setattr(files, "MAX_RECORDS", 5)
    write(tmp_path / "pool" / "d.jsonl", "".join(
        f'{{"question": "{i}+{i}?", "answer": "{2 * i}"}}\n' for i in range(6)))
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache"), "BENCHAGENT_DENSE_SEARCH": "off"}
    result = cli("pool", "index", tmp_path / "pool", env=env)
    assert result.returncode == 1 and "d.jsonl: more than 5 records" in result.stderr


def test_a_pool_path_that_is_a_symlink_means_its_target(tmp_path: Path) -> None:
    """Confinement is for what a pool holds; the path the user names is theirs to choose."""
    real = write(tmp_path / "data" / "d.jsonl", "".join(
        f'{{"question": "{i}+{i}?", "answer": "{2 * i}"}}\n' for i in range(3)))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "d.jsonl").symlink_to(real)
    assert [c.size for c in Pool.load([tmp_path / "home" / "d.jsonl"]).cards] == [3]
