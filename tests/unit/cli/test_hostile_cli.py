"""Hostile command lines, paths and endpoints (issue 11): each ends with a non-zero exit code and
one clear line (no traceback, nothing "unexpected"), and leaves alone what it must not touch."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.conftest import SHARED_QUERIES

from benchagent.api import default_run_dir
from benchagent.records import MAX_QUERY_CHARS, MAX_SLUG_CHARS, Query
from faultserver import FaultServer
from runcli import CliResult, benchmark, cli, cli_popen

STARTER = "Test date arithmetic and unit conversion in word problems"


def _refused(result: CliResult | subprocess.CompletedProcess[str], *expected: str,
             code: int | None = None) -> str:
    """The one line a refused command printed, after checking it is the only one."""
    assert result.returncode != 0 if code is None else result.returncode == code, result
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"",
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


# ------------------------------------------------------------------ --out and the user's files


@pytest.fixture
def users_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "D"
    (folder / "plan").mkdir(parents=True)
    (folder / "plan" / "plan.md").write_text("mine\n")
    os.utime(folder / "plan" / "plan.md", (1_000_000_000, 1_000_000_000))
    return folder


@pytest.mark.parametrize("command", ["build", "plan", "build --plan-only"])
def test_out_folder_holding_other_files_is_refused_and_left_untouched(
        users_folder: Path, command: str) -> None:
    before = _snapshot(users_folder)
    result = cli(*command.split(), STARTER, "--size", "4", "--out", users_folder)
    _refused(result, str(users_folder), "not empty", "not a benchagent run")
    assert _snapshot(users_folder) == before
    assert (users_folder / "plan" / "plan.md").read_text() == "mine\n"


def test_build_from_a_plan_into_a_folder_of_other_files_is_refused(
        tmp_path: Path, users_folder: Path) -> None:
    planned = tmp_path / "planned"
    assert cli("plan", STARTER, "--size", "4", "--out", planned).returncode == 0
    before = _snapshot(users_folder)
    result = cli("build", "--from-plan", planned, "--out", users_folder)
    _refused(result, str(users_folder), "not empty")
    assert _snapshot(users_folder) == before


def test_a_folder_that_is_a_run_says_to_resume(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("plan", STARTER, "--size", "4", "--out", run).returncode == 0
    manifest = (run / "manifest.json").read_bytes()
    _refused(cli("build", STARTER, "--size", "4", "--out", run),
             f"use `benchagent resume {run}`")
    assert (run / "manifest.json").read_bytes() == manifest


def test_an_empty_existing_folder_takes_the_run(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("plan", STARTER, "--size", "4", "--out", empty)
    assert result.returncode == 0, result.stderr
    assert (empty / "manifest.json").is_file()


def _no_run_left(path: Path) -> None:
    assert not (path / "manifest.json").exists() and not (path / ".lock").exists()


def test_out_that_is_a_file_or_under_a_file_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    _refused(cli("build", STARTER, "--out", a_file), str(a_file), "is not a folder")
    _refused(cli("build", STARTER, "--out", a_file / "run"), str(a_file / "run"),
             "Not a directory")
    assert a_file.read_text() == "keep me"


def test_out_in_an_unwritable_place_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # root writes through permissions: then a place no one can write in stands in
        target = locked / "run" if not os.access(locked, os.W_OK) else Path("/proc/no-run-here")
        line = _refused(cli("build", STARTER, "--out", target), str(target),
                        "cannot use", "as the run folder")
        assert "Permission denied" in line or "No such file" in line
        assert not target.exists()
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


# ------------------------------------------------------------------ query ids and the run path


@pytest.mark.parametrize("query_id", ["../../x/evil", "/tmp/evil", "..", ".", "", "a\x00b\nc",
                                      "日本語", "Ünïcödé ../ id", "x" * 500, "-", "C:\\evil"])
def test_a_query_id_makes_a_run_folder_inside_runs(query_id: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir = default_run_dir(Query(id=query_id, description="d"))
    assert run_dir.parent == Path("runs")
    assert run_dir.resolve().parent == (tmp_path / "runs").resolve()
    slug = run_dir.name.rsplit("-", 2)[0]
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and len(slug) <= MAX_SLUG_CHARS


def test_an_escaping_id_in_a_query_file_stays_inside_runs(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    query = work / "q.json"
    query.write_text(json.dumps({"id": "../../x/evil", "description": STARTER}))
    result = cli("plan", query, "--size", "4", cwd=work)
    assert result.returncode == 0, result.stderr
    runs = list((work / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("x-evil-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["q.json", "runs"]


# ------------------------------------------------------------------ odd command lines


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_request_is_refused(tmp_path: Path, text: str) -> None:
    _refused(cli("build", text, "--out", tmp_path / "run"), "the request is empty")
    assert not (tmp_path / "run").exists()


def test_an_empty_description_in_a_query_file_is_refused(tmp_path: Path) -> None:
    query = tmp_path / "q.json"
    query.write_text(json.dumps({"id": "q", "description": "  "}))
    _refused(cli("build", query, "--out", tmp_path / "run"), str(query), "is empty")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("size", ["abc", "0", "-3", "1.5"])
def test_a_bad_size_is_a_usage_error(tmp_path: Path, size: str) -> None:
    result = cli("build", STARTER, "--size", size, "--out", tmp_path / "run")
    assert result.returncode in (1, 2)
    assert "size" in result.stderr and "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_a_request_over_the_length_limit_is_refused_before_any_pool_work(
        tmp_path: Path) -> None:
    missing_pool = tmp_path / "no-such-pool"
    too_long = "why " * (MAX_QUERY_CHARS // 4) + "?"
    _refused(cli("build", too_long, "--pool", missing_pool, "--out", tmp_path / "run"),
             f"{len(too_long):,} characters", f"limit is {MAX_QUERY_CHARS:,}")
    at_limit = "w" * MAX_QUERY_CHARS  # accepted: the next check, the pool, is what refuses
    _refused(cli("build", at_limit, "--pool", missing_pool, "--out", tmp_path / "run"),
             "does not exist")
    query = tmp_path / "q.json"
    query.write_text(json.dumps({"id": "q", "description": too_long}))
    _refused(cli("build", query, "--pool", missing_pool, "--out", tmp_path / "run"),
             str(query), f"limit is {MAX_QUERY_CHARS:,}")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("content", "expected"), [
    (b'{"id": "q", "description": ', "cannot read query file"),
    (b"[" * 200_000, "cannot read query file"),
    (b'["a list"]', "invalid query file"),
    (b'{"id": "q", "description": "d", "target_size": -1}', "target_size"),
    (b'{"id": 7, "description": "d"}', "id"),
    (b"\xff\xfe{\x00}\x00", "cannot read query file"),
    ('{"id": "q", "description": "d"}'.encode("utf-16"), "cannot read query file"),
    (b'{"id": "q",\x00 "description": "d"}', "cannot read query file"),
    (b"", "cannot read query file"),
    (b" " * (1_000_001), "larger than"),
])
def test_a_bad_query_file_is_one_line_naming_it(tmp_path: Path, content: bytes,
                                                expected: str) -> None:
    query = tmp_path / "q.json"
    query.write_bytes(content)
    _refused(cli("build", query, "--out", tmp_path / "run"), str(query), expected)
    assert not (tmp_path / "run").exists()


def test_a_query_file_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "q.json").mkdir()
    _refused(cli("build", tmp_path / "q.json", "--out", tmp_path / "run"), "q.json")


@pytest.mark.parametrize("content", [b"\xff\xfe\x00[", b"[" * 200_000, b"{broken"])
def test_a_broken_plan_file_edit_is_one_line_on_resume(tmp_path: Path, content: bytes) -> None:
    run = tmp_path / "run"
    assert cli("plan", STARTER, "--size", "4", "--out", run).returncode == 0
    (run / "plan" / "subtasks.json").write_bytes(content)
    _refused(cli("resume", run), str(run / "plan" / "subtasks.json"))
    assert (run / "manifest.json").is_file()


@pytest.mark.parametrize("base_url", ["notaurl", "ftp://host/v1", "http://"])
def test_a_base_url_that_is_not_http_is_refused_before_any_call(tmp_path: Path,
                                                              base_url: str) -> None:
    result = cli("build", STARTER, "--size", "4", "--model", "openai:m", "--base-url",
                 base_url, "--out", tmp_path / "run")
    _refused(result, "is not an http:// or https:// URL")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("config", "expected"), [
    ("garbage [", "cannot read config"),
    ('[build]\nsize = "big"\n', "invalid setting size in"),
    ("build = 3\n", "[build] must be a table"),
    ('[build]\npools = "one/path"\n', "build.pools must be a list"),
    ("[build]\nsise = 3\n", "invalid setting sise in"),
    ("[models]\nm = 1\n", "invalid setting models.m in"),
    (b"\xff\xfe[build]\n", "cannot read config"),
])
def test_a_bad_config_file_is_one_line_naming_it(tmp_path: Path, config: str | bytes,
                                                 expected: str) -> None:
    path = tmp_path / "benchagent.toml"
    if isinstance(config, bytes):
        path.write_bytes(config)
    else:
        path.write_text(config)
    _refused(cli("build", STARTER, "--out", tmp_path / "run", cwd=tmp_path), str(path),
             expected)
    assert not (tmp_path / "run").exists()


def _corrupt_cache(run: Path) -> Path:
    cache = run / "cache" / "responses.sqlite"
    for leftover in cache.parent.glob("responses.sqlite*"):
        leftover.unlink()
    cache.write_bytes(b"this is not a SQLite database at all\n" * 20)
    return cache


def test_a_garbage_response_cache_is_one_line_and_the_run_stays_resumable(
        tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert cli("plan", STARTER, "--size", "4", "--model", "mock", "--out", run).returncode == 0
    cache = _corrupt_cache(run)
    _refused(cli("resume", run), str(cache), "not a usable SQLite database")
    assert (run / "manifest.json").is_file()
    cache.unlink()
    resumed = cli("resume", run)
    assert resumed.returncode == 0, resumed.stderr
    assert len(benchmark(run)) == 4


def test_a_new_build_whose_cache_cannot_open_leaves_no_run(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "responses.sqlite").write_bytes(b"\x00garbage" * 100)
    config = tmp_path / "benchagent.toml"
    config.write_text(f'[build]\ncache_dir = "{cache_dir}"\n')
    run, empty = tmp_path / "run", tmp_path / "empty"
    empty.mkdir()
    for out in (run, empty):
        _refused(cli("build", STARTER, "--size", "4", "--model", "mock", "--config", config,
                     "--out", out), str(cache_dir / "responses.sqlite"))
    assert not run.exists()
    assert list(empty.iterdir()) == []


# ------------------------------------------------------------------ exit codes


def _harsh_verifier(tmp_path: Path, times: int | None) -> Path:
    script = tmp_path / "harsh.json"
    rule: dict[str, object] = {"match": "Gold answer", "response": {
        "reason": "never good enough", "answerable": True, "answer_correct": False}}
    if times is not None:
        rule["times"] = times
    script.write_text(json.dumps([rule]))
    return script


def test_a_partial_shortfall_keeps_exit_code_zero(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "run"
    script = tmp_path / "picky.json"  # rejects Causal-Reasoning's items, passes the others
    script.write_text(json.dumps([{"match": f"What is the {kind} of", "response": {
        "reason": "never good enough", "answerable": True, "answer_correct": False}}
        for kind in ("cause", "effect")]))
    result = cli("build", SHARED_QUERIES / "causal.json", "--size", "3", "--pool",
                 shared_pools / "general-bench", "--model", "mock", "--role",
                 f"verifier=mock:{script}", "-j", "1", "--out", run)
    assert result.returncode == 0, result.stderr
    assert "shortfall" in result.stdout and 0 < len(benchmark(run)) < 3
    assert "error" not in result.stderr


# ------------------------------------------------------------------ Ctrl-C


def _slow_mock(tmp_path: Path) -> Path:
    script = tmp_path / "slow.json"
    script.write_text(json.dumps({"latency_s": 0.05, "rules": []}))
    return script


def test_ctrl_c_mid_build_exits_130_and_resume_finishes_the_same_benchmark(
        tmp_path: Path, shared_pools: Path) -> None:
    args = [SHARED_QUERIES / "temporal.json", "--size", "16", "--pool",
            shared_pools / "general-bench", "--model", f"mock:{_slow_mock(tmp_path)}",
            "--seed", "3", "-j", "2"]
    clean = tmp_path / "clean"
    assert cli("build", *args, "--out", clean).returncode == 0
    stopped = tmp_path / "stopped"
    proc = cli_popen("build", *args, "--out", stopped, capture=True)
    accepted = stopped / "samples" / "accepted.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if accepted.exists() and len(accepted.read_text().splitlines()) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    interrupted = subprocess.CompletedProcess(proc.args, proc.returncode, "", stderr.decode())
    _refused(interrupted, "interrupted", "benchagent resume", code=130)
    assert 0 < len(accepted.read_text().splitlines()) < 16
    resumed = cli("resume", stopped)
    assert resumed.returncode == 0, resumed.stderr
    assert benchmark(stopped) == benchmark(clean)


# ------------------------------------------------------------------ a hung endpoint


def test_a_hung_endpoint_warns_then_stops_at_the_deadline(tmp_path: Path,
                                                         shared_pools: Path) -> None:
    run = tmp_path / "run"
    with FaultServer() as server:
        server.script(["slow:8"] * 40)
        config = tmp_path / "benchagent.toml"
        config.write_text(f'[models.hung]\nprovider = "openai"\nmodel = "m"\n'
                          f'base_url = "{server.base_url}"\ntimeout = 0.3\n'
                          "deadline_s = 1.5\nslow_warning_s = 0.4\nmax_retries = 50\n")
        start = time.monotonic()
        result = cli("build", SHARED_QUERIES / "causal.json", "--size", "4", "--pool",
                     shared_pools / "general-bench", "--model", "hung", "--config", config,
                     "--out", run)
        elapsed = time.monotonic() - start
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    warnings = [line for line in lines if line.startswith("warning:")]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(warnings) == 1 and "is not answering" in warnings[0], lines
    assert len(errors) == 1 and len(lines) == 2, lines
    assert server.base_url in errors[0] and "1.5s deadline" in errors[0]
    assert elapsed < 20
    assert (run / "manifest.json").is_file()  # the run stays, resumable

