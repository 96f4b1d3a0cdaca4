"""`benchagent judge` on benchmarks built from the starter pool: the one mock as judge, scripted
so that every score is known, with and without the media, one judge or two."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchagent.judging import DEFAULT_WEIGHTS, DIMENSIONS, krippendorff_alpha
from evalruns import fresh, samples
from runcli import cli

Row = dict[str, Any]
ITEM = "You judge one item"
WHOLE = "You judge whether an evaluation benchmark as a whole"
UNSEEN = "You cannot see or hear the media"


def verdict(scores: dict[str, int] | int, reason: str = "scripted") -> Row:
    per = scores if isinstance(scores, dict) else dict.fromkeys(DIMENSIONS, scores)
    return {dim.lower(): {"reason": f"{reason} {dim}", "score": per[dim]} for dim in DIMENSIONS}


def whole(score: int) -> Row:
    return {"uia": {"reason": "covers the request", "score": score}}


def judge_script(tmp_path: Path, name: str, rules: list[Row], **extra: Any) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"rules": rules, **extra}))
    return f"mock:{path}"


def judge_json(run: Path, *args: str | Path, cwd: Path | None = None) -> Row:
    result = cli("judge", run, *args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    summary: Row = json.loads(result.stdout)
    return summary


def rows(run: Path) -> list[Row]:
    return [json.loads(line) for line in (run / "judge" / "scores.jsonl").read_text().splitlines()]


def calls(run: Path) -> int:
    """The judge's model calls, answered by the model or by the response cache."""
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    return sum(1 for e in events if e.get("event") == "model_call" and e["role"] == "quality")


def test_the_mock_judges_a_text_benchmark(runs: dict[str, Path], tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    items = samples(run)
    summary = judge_json(run, "--model", "mock")
    scored = rows(run)
    assert len(scored) == len(items) + 1 == calls(run)
    per_item = [r for r in scored if r["scope"] == "item"]
    assert sorted(r["item"] for r in per_item) == sorted(s.id for s in items)
    for row in per_item:
        assert set(row["scores"]) == set(row["reasons"]) == set(DIMENSIONS)
        assert all(0 <= v <= 100 for v in row["scores"].values())
        assert all(reason.strip() for reason in row["reasons"].values())
        assert row["saw_media"] is None and row["error"] is None
    assert summary["judges"] == ["mock"] and summary["items"] == len(items)
    assert summary["weights"] == DEFAULT_WEIGHTS
    assert set(summary["dimensions"]) == set(DIMENSIONS)
    assert all(d["alpha"] is None for d in summary["dimensions"].values())  # one judge
    assert set(summary["subtasks"]) == {s.subtask for s in items}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["stages"]["judge"]["status"] == "done"
    assert manifest["usage"]["quality"]["calls"] == len(items) + 1
    assert json.loads((run / "judge" / "summary.json").read_text()) == summary


@pytest.mark.parametrize(("kind", "part"), [("image", "<image>"), ("audio", "<audio>")])
def test_judges_see_the_media_or_say_they_did_not(runs: dict[str, Path], tmp_path: Path,
                                                  kind: str, part: str) -> None:
    run = fresh(runs, kind, tmp_path)
    items = samples(run)
    assert items and all(s.media for s in items)
    rules = [{"match": f"{part}\n{ITEM}", "response": verdict(90, "saw it")},
             {"match": UNSEEN, "response": verdict(40, "did not see it")},
             {"match": ITEM, "response": verdict(10, "media not even named")},
             {"match": WHOLE, "response": whole(60)}]
    seer = judge_script(tmp_path, "seer", rules)
    blind = judge_script(tmp_path, "blind", rules, inputs=[])
    summary = judge_json(run, "--model", seer, "--model", blind)
    by_judge: dict[str, list[Row]] = {}
    for row in rows(run):
        if row["scope"] == "item":
            by_judge.setdefault(row["judge"], []).append(row)
    assert {r["saw_media"] for r in by_judge[seer]} == {True}
    assert {r["scores"]["TSD"] for r in by_judge[seer]} == {90}
    assert {r["saw_media"] for r in by_judge[blind]} == {False}
    assert {r["scores"]["TSD"] for r in by_judge[blind]} == {40}
    assert all(f"takes no {kind} input" in r["media_note"] for r in by_judge[blind])
    assert summary["media"]["not_seen"] == len(items) == summary["media"]["judged"] / 2
    expected_alpha = krippendorff_alpha([[90] * len(items), [40] * len(items)])
    assert expected_alpha is not None and expected_alpha < 0  # the judges disagree throughout
    for dim in DIMENSIONS:
        assert summary["dimensions"][dim] == {"mean": 65.0, "alpha": expected_alpha}
    assert summary["benchmark_uia"] == 60.0
    assert summary["overall"] == round(0.30 * 60 + 0.70 * 65, 2)
    assert summary["per_judge"][seer]["overall"] == round(0.30 * 60 + 0.70 * 90, 2)
    assert summary["per_judge"][blind]["media_not_seen"] == len(items)


SPREAD = {"UIA": 10, "FSQ": 20, "QAC": 30, "CQC": 40, "TSD": 50, "SSC": 60}


def test_weights_from_the_flags_and_the_config(runs: dict[str, Path], tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    judge = judge_script(tmp_path, "spread", [{"match": ITEM, "response": verdict(SPREAD)},
                                              {"match": WHOLE, "response": whole(100)}])
    default = judge_json(run, "--model", judge)
    others = sum(DEFAULT_WEIGHTS[d] * SPREAD[d] for d in DIMENSIONS if d != "UIA")
    assert default["overall"] == round(0.30 * 100 + others, 2)
    asked = calls(run)
    no_uia = judge_json(run, "--model", judge, "--weight", "uia=0")
    assert no_uia["weights"]["UIA"] == 0 and sum(no_uia["weights"].values()) == pytest.approx(1)
    assert no_uia["overall"] == pytest.approx(others / 0.70, abs=0.01)
    config = tmp_path / "benchagent.toml"
    config.write_text("[judge]\nweights = {TSD = 1, UIA = 0, FSQ = 0, QAC = 0, CQC = 0, "
                      "SSC = 0}\n")
    assert judge_json(run, "--model", judge, cwd=tmp_path)["overall"] == 50
    assert judge_json(run, "--model", judge, "--weight", "SSC=1", cwd=tmp_path)["overall"] == 55
    assert calls(run) == asked  # new weights ask nothing again
    for args, expected in (("XYZ=1", "unknown judge weight"),
                           ("TSD=-1", "must be a number of 0 or more")):
        result = cli("judge", run, "--model", judge, "--weight", args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], result.stderr
    assert cli("judge", run, "--model", judge, "--weight", "TSD").returncode == 2


def test_a_cut_off_judge_resumes_without_asking_again(runs: dict[str, Path],
                                                      tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    items = samples(run)
    first = judge_json(run, "--model", "mock")
    assert calls(run) == len(items) + 1
    assert judge_json(run, "--model", "mock") == first
    assert calls(run) == len(items) + 1  # every score was kept: nothing asked again
    path = run / "judge" / "scores.jsonl"
    kept = path.read_text().splitlines()[:2]
    path.write_text("\n".join(kept) + "\n" + '{"key": "torn')  # a kill mid-write
    (run / "judge" / "summary.json").unlink()
    assert judge_json(run, "--model", "mock") == first
    assert calls(run) == 2 * (len(items) + 1) - 2
    keys = [r["key"] for r in rows(run)]
    assert len(keys) == len(set(keys)) == len(items) + 1


def test_output_that_stays_invalid_leaves_the_item_unscored(runs: dict[str, Path],
                                                            tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    items = samples(run)
    judge = judge_script(tmp_path, "muddled", [{"match": ITEM, "response": "looks fine to me"}])
    summary = judge_json(run, "--model", judge)
    assert summary["unscored"] == len(items) and "invalid ItemVerdict" in summary["errors"][0]
    assert all(d["mean"] is None for d in summary["dimensions"].values())
    assert summary["overall"] is None and summary["benchmark_uia"] is not None
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    assert sum(1 for e in events if e.get("outcome") == "fallback"
               and e.get("role") == "quality") == len(items)


def test_judge_errors_are_one_line(runs: dict[str, Path], tmp_path: Path) -> None:
    empty = fresh(runs, "text", tmp_path)
    (empty / "benchmark" / "benchmark.jsonl").unlink()
    for args, expected in (((empty, "--model", "mock"), "has no benchmark to judge"),
                           ((tmp_path, "--model", "mock"), "is not a run directory"),
                           ((runs["text"], "--model", "nope:x"), "unknown model spec"),
                           ((runs["text"], "--model", "mock", "--model", "mock"), "twice")):
        result = cli("judge", *args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], result.stderr
    assert cli("judge", runs["text"]).returncode == 2  # --model is required
