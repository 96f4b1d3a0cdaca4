"""Real media builds through the `benchagent` command: images and clips are opened, OCR'd and
transcribed again here (with a fresh cache), not taken on the word of the recorded checks."""

from __future__ import annotations

import json
import os
import signal
import time
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import SHARED_QUERIES

from benchagent.executor.readback import (
    ReadbackThresholds,
    audio_error,
    image_error,
    normalize_reading,
)
from benchagent.operators.audio import transcribe
from runcli import CliResult, benchmark, cli, cli_popen

LIMITS = ReadbackThresholds()
Row = dict[str, Any]


def _build(run: Path, query: str, *args: str | Path,
           env: dict[str, str] | None = None) -> CliResult:
    result = cli("build", SHARED_QUERIES / query, *args, "--out", run, env=env)
    assert result.returncode == 0, result.stderr
    return result


def _rows(run: Path, name: str) -> list[Row]:
    path = run / "samples" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _target_or_shortfall(run: Path, stdout: str, target: int) -> list[Row]:
    samples = benchmark(run)
    assert len({s["id"] for s in samples}) == len(samples)
    if len(samples) < target:
        shortfall = json.loads((run / "manifest.json").read_text())["shortfall"]
        assert sum(s["missing"] for s in shortfall) == target - len(samples)
        assert all(s["cause"] for s in shortfall) and "shortfall" in stdout
    else:
        assert len(samples) == target
    return samples


def _rejection_reasons(run: Path) -> Counter[str]:
    reasons: Counter[str] = Counter()
    for row in _rows(run, "rejected"):
        failed = [c for c in row["checks"] if not c["passed"]]
        assert failed and all(c["reason"] for c in failed), row["checks"]
        reasons[failed[0]["check"]] += 1
    return reasons


def _applied(sample: Row) -> set[str]:
    return {step["operator"] for step in sample["provenance"]["operators"]}


def _fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """OCR and ASR below run again instead of reading what the build cached."""
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path / "recheck-cache"))


def _media(sample: Row, kind: str) -> list[str]:
    return [m["path"] for m in sample["media"] if m["kind"] == kind]


def _check_clip(run: Path, sample: Row, path: str) -> float:
    with wave.open(str(run / path), "rb") as clip:
        assert clip.getframerate() == 16000 and clip.getnchannels() == 1
        assert clip.getsampwidth() == 2 and clip.getnframes() > 16000 // 2
    expected = sample["provenance"]["media_text"][path]
    assert transcribe(run / path).strip()
    error = audio_error(expected, run / path)
    assert error <= LIMITS.limit("audio", "mix_noise" in _applied(sample)), (path, expected)
    return error


def _check_image(run: Path, sample: Row, path: str) -> float:
    with Image.open(run / path) as img:
        img.load()
        assert img.width >= 200 and img.height >= 50
    expected = sample["provenance"]["media_text"][path]
    error = image_error(expected, run / path)
    assert error <= LIMITS.limit("image", "degrade_image" in _applied(sample)), (path, expected)
    return error


def test_spoken_build_has_clips_that_say_their_text(tmp_path: Path, shared_pools: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    result = _build(run, "spoken_commonsense.json", "--pool", shared_pools / "bigbench",
                    "--size", "6")
    samples = _target_or_shortfall(run, result.stdout, 6)
    assert samples, "the build accepted no sample"
    reasons = _rejection_reasons(run)
    _fresh_cache(monkeypatch, tmp_path)
    wers = []
    for sample in samples:
        clips = _media(sample, "audio")
        assert clips and all(c in sample["provenance"]["media_text"] for c in clips)
        wers += [_check_clip(run, sample, c) for c in clips]
        assert "tts" in _applied(sample)
    print(f"spoken: WER {sorted(round(w, 2) for w in wers)}; rejected {dict(reasons)}")


def _rendered_lines(text: str) -> list[str]:
    lines = [normalize_reading(line).removeprefix("question ") for line in text.splitlines()]
    return [line for line in lines if len(line) >= 12]


def test_text_in_image_build_shows_what_it_asks(tmp_path: Path, shared_pools: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    result = _build(run, "text_in_image.json", "--pool", shared_pools / "general-bench",
                    "--pool", shared_pools / "bigbench", "--size", "6")
    samples = _target_or_shortfall(run, result.stdout, 6)
    reasons = _rejection_reasons(run)
    _fresh_cache(monkeypatch, tmp_path)
    cers = []
    for sample in samples:
        images = _media(sample, "image")
        assert images
        shown_text = f" {normalize_reading(sample['question'] + ' ' + sample['context'])} "
        for path in images:
            if path in sample["provenance"]["media_text"]:  # rendered, not a source picture
                cers.append(_check_image(run, sample, path))
                for line in _rendered_lines(sample["provenance"]["media_text"][path]):
                    assert f" {line} " not in shown_text, (line, sample["question"])
    assert cers, "no image of the benchmark was rendered from text"
    print(f"text_in_image: CER {sorted(round(c, 3) for c in cers)}; rejected {dict(reasons)}")


def test_omni_items_have_an_image_and_a_clip(tmp_path: Path, shared_pools: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    result = _build(run, "omni.json", "--pool", shared_pools / "general-bench", "--pool",
                    shared_pools / "bigbench", "--size", "4")
    samples = _target_or_shortfall(run, result.stdout, 4)
    assert samples
    _fresh_cache(monkeypatch, tmp_path)
    wers = []
    for sample in samples:
        images, clips = _media(sample, "image"), _media(sample, "audio")
        assert images and clips, sample["media"]
        for path in images:
            with Image.open(run / path) as img:
                img.load()
        wers += [_check_clip(run, sample, path) for path in clips]
        said = sample["provenance"]["media_text"]
        assert said.get(images[0]) != said.get(clips[0])  # each medium carries its own part
    reasons = _rejection_reasons(run)
    print(f"omni: WER {sorted(round(w, 2) for w in wers)}; rejected {dict(reasons)}")


def test_ablated_verification_runs_only_the_schema_check(tmp_path: Path,
                                                         shared_pools: Path) -> None:
    run = tmp_path / "run"
    result = _build(run, "causal.json", "--pool", shared_pools / "general-bench", "--size", "6",
                    "--model", "mock", "--ablate", "verification")
    _target_or_shortfall(run, result.stdout, 6)
    accepted = _rows(run, "accepted")
    assert accepted
    for row in accepted:
        assert {c["check"] for c in row["checks"]} - {"transform"} == {"schema"}
    for row in _rows(run, "rejected"):
        assert {c["check"] for c in row["checks"]} <= {"schema", "transform"}, row["checks"]
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    assert not [e for e in events if e["event"] == "model_call" and e["role"] == "verifier"]


def test_ablated_sample_planning_runs_the_dataset_plan(tmp_path: Path,
                                                       shared_pools: Path) -> None:
    run = tmp_path / "run"
    result = _build(run, "spoken_commonsense.json", "--pool", shared_pools / "bigbench",
                    "--size", "4", "--ablate", "sample-planning")
    samples = _target_or_shortfall(run, result.stdout, 4)
    groundings = json.loads((run / "plan" / "groundings.json").read_text())
    plans = {(g["subtask"], g["dataset_id"]): g["plan"] for g in groundings}
    assert samples
    for sample in samples:
        prov = sample["provenance"]
        assert prov["sample_plan"] == "dataset"
        assert prov["operators"] == plans[(sample["subtask"], prov["source_dataset"])]


# ---------------------------------------------------------------- SIGKILL and resume


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_after_first_accepted(args: list[str | Path], run: Path,
                               env: dict[str, str]) -> tuple[list[Row], list[int]]:
    """Start the build, SIGKILL it once a sample is accepted; the accepted rows at that moment
    and the processes (CPU workers) the build had started."""
    proc = cli_popen("build", *args, "--out", run, env=env)
    accepted = run / "samples" / "accepted.jsonl"
    deadline = time.time() + 150
    while time.time() < deadline and proc.poll() is None:
        if accepted.exists() and accepted.read_text().count("\n") >= 1:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the build ended before it could be killed"
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return _rows(run, "accepted"), workers


def _legitimately_left_out(row: Row, final_rows: list[Row], chosen: set[str],
                           quotas: dict[tuple[str, str], int], duplicates: set[str]) -> bool:
    pair = (row["subtask"], row["dataset_id"])
    taken = [r["rank"] for r in final_rows
             if (r["subtask"], r["dataset_id"]) == pair and r["sample"]["id"] in chosen]
    return row["key"] in duplicates or (len(taken) == quotas[pair] and row["rank"] > max(taken))


def test_sigkill_during_a_media_build_resumes_to_the_full_benchmark(
        tmp_path: Path, shared_pools: Path) -> None:
    args: list[str | Path] = [SHARED_QUERIES / "spoken_commonsense.json", "--pool",
                              shared_pools / "bigbench", "--size", "8", "-j", "2", "--seed", "3"]
    env = {"BENCHAGENT_CACHE": str(tmp_path / "cache")}  # cold: the kill lands mid-execution
    killed = tmp_path / "killed"
    before, workers = _kill_after_first_accepted(args, killed, env)
    deadline = time.time() + 5
    while time.time() < deadline and any(map(_alive, workers)):
        time.sleep(0.1)
    orphans = [pid for pid in workers if _alive(pid)]
    for pid in orphans:  # started by the killed build: do not leave them running
        os.kill(pid, signal.SIGKILL)
    assert before

    resumed = cli("resume", killed, env=env)
    assert resumed.returncode == 0, resumed.stderr
    clean = tmp_path / "clean"
    _build(clean, "spoken_commonsense.json", *args[1:], env=env)
    final, reference = benchmark(killed), benchmark(clean)
    ids = [s["id"] for s in final]
    assert len(final) == len(reference) and len(ids) == len(set(ids))
    assert set(ids) == {s["id"] for s in reference}
    final_rows = _rows(killed, "accepted")
    keys = [r["key"] for r in final_rows]
    assert len(keys) == len(set(keys))  # no candidate processed twice
    allocation = json.loads((killed / "plan" / "allocation.json").read_text())
    quotas = {(q["subtask"], q["dataset_id"]): q["quota"] for q in allocation["quotas"]}
    duplicates = {r["key"] for r in _rows(killed, "rejected")
                  if any(c["check"] == "near_duplicate" for c in r["checks"])}
    for row in before:
        assert row["sample"]["id"] in ids or _legitimately_left_out(
            row, final_rows, set(ids), quotas, duplicates), row["key"]
    print(f"sigkill: {len(before)} accepted before the kill; rejected "
          f"{dict(_rejection_reasons(killed))}")
    assert not orphans, f"CPU workers {orphans} outlived the killed build"
