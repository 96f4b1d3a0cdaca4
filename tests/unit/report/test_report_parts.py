"""The report's parts on a run made by hand (no build): the gallery's spread and media, the
rejections by check, the judge's summary of any shape, files that do not read, and a machine
without matplotlib."""

from __future__ import annotations

import base64
import io
import json
import re
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import benchagent.report
from benchagent import api
from benchagent.config import Settings
from benchagent.records import (
    Allocation,
    AnswerType,
    BenchmarkSample,
    CheckResult,
    Grounding,
    Media,
    Modality,
    PlanStep,
    Provenance,
    Query,
    Quota,
    SampleOutcome,
    Subtask,
)
from benchagent.report import ReportUnavailable
from benchagent.report.gallery import THUMBNAIL_PX, pick
from benchagent.report.judge import judge_tables
from benchagent.stages import STAGES
from benchagent.store import RunStore
from runcli import cli

Row = dict[str, Any]
SUBTASKS = ("Read clocks", "Hear sums")


def _sample(i: int, subtask: str, media: list[Media]) -> BenchmarkSample:
    return BenchmarkSample(
        id=f"item-{i:02d}", subtask=subtask, question=f"Question {i}?",
        options=["1", "2", "3"], answer="2", answer_type=AnswerType.multiple_choice,
        media=media, provenance=Provenance(source_dataset=f"d{subtask[0]}",
                                           source_dataset_name=f"Set {subtask[0]}",
                                           source_id=str(i)))


def _media(root: Path) -> tuple[Media, Media]:
    (root / "media").mkdir()
    Image.new("RGB", (1200, 900), (200, 120, 40)).save(root / "media" / "big.png")
    with wave.open(str(root / "media" / "clip.wav"), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(b"\x00\x10" * 16000)  # one second
    return Media(kind=Modality.image, path="media/big.png"), \
        Media(kind=Modality.audio, path="media/clip.wav")


def _outcome(i: int, checks: list[tuple[str, bool, str]]) -> SampleOutcome:
    return SampleOutcome(key=f"k{i}", subtask=SUBTASKS[0], dataset_id="dR", source_id=str(i),
                         rank=i, accepted=all(ok for _, ok, _ in checks),
                         checks=[CheckResult(check=c, passed=ok, reason=r)
                                 for c, ok, r in checks])


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.model_dump_json() + "\n" for r in rows))


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """Two subtasks, 20 image items and 10 audio items, four rejected candidates."""
    root = tmp_path / "run"
    store = RunStore.create(root, Query(id="hand", description="clocks and sums", target_size=30),
                            Settings(), tuple(s.name for s in STAGES))
    store.close()
    image, audio = _media(root)
    subtasks = [Subtask(name=SUBTASKS[0], description="read a clock", modalities=[Modality.image]),
                Subtask(name=SUBTASKS[1], description="hear a sum", modalities=[Modality.audio])]
    (root / "plan").mkdir()
    (root / "plan" / "subtasks.json").write_text(json.dumps([s.model_dump(mode="json")
                                                             for s in subtasks]))
    groundings = [Grounding(subtask=s.name, dataset_id=f"d{s.name[0]}", score=0.9, reason="",
                            plan=[PlanStep(operator="shuffle_options")]) for s in subtasks]
    (root / "plan" / "groundings.json").write_text(json.dumps(
        [g.model_dump(mode="json") for g in groundings]))
    (root / "plan" / "allocation.json").write_text(Allocation(target_size=30, quotas=[
        Quota(subtask=SUBTASKS[0], dataset_id="dR", quota=20, capacity=40),
        Quota(subtask=SUBTASKS[1], dataset_id="dH", quota=10, capacity=10)]).model_dump_json())
    samples = [_sample(i, SUBTASKS[0], [image]) for i in range(20)]
    samples += [_sample(20 + i, SUBTASKS[1], [audio]) for i in range(10)]
    _write_jsonl(root / "benchmark" / "benchmark.jsonl", samples)
    rejected = [_outcome(1, [("schema", True, ""), ("evidence", False, "the clock is blank")]),
                _outcome(2, [("evidence", False, "the clock is blank")]),
                _outcome(3, [("evidence", False, "no hands")]),
                _outcome(4, [("schema", False, "no options")])]
    _write_jsonl(root / "samples" / "rejected.jsonl", rejected)
    _write_jsonl(root / "samples" / "accepted.jsonl",
                 [SampleOutcome(key=f"a{i}", subtask=s.subtask, dataset_id="d",
                                source_id=s.id, rank=i, accepted=True, sample=s)
                  for i, s in enumerate(samples)])
    return root


def _summary(root: Path) -> Row:
    data: Row = json.loads((root / "report" / "summary.json").read_text())
    return data


def test_gallery_takes_items_in_turn_from_each_subtask_up_to_its_cap(run: Path) -> None:
    api.report(run)
    shown = _summary(run)["gallery"]["shown"]
    assert _summary(run)["gallery"]["total"] == 30 and len(shown) == 24
    assert shown[:4] == ["item-00", "item-20", "item-01", "item-21"]
    assert sum(i >= "item-20" for i in shown) == 10  # every audio item, the rest clocks
    html = (run / "report" / "report.html").read_text()
    assert "24 of 30 items shown" in html


def test_pick_keeps_the_plans_subtask_order() -> None:
    items = [_sample(i, SUBTASKS[i % 2], []) for i in range(6)]
    assert [s.id for s in pick(items, [SUBTASKS[1], SUBTASKS[0]], limit=3)] == \
        ["item-01", "item-00", "item-03"]


def test_images_are_thumbnails_and_audio_is_embedded(run: Path) -> None:
    api.report(run)
    html = (run / "report" / "report.html").read_text()
    images = re.findall(r'<img class="media" src="data:image/(\w+);base64,([^"]+)"', html)
    assert len(images) == 14
    with Image.open(io.BytesIO(base64.b64decode(images[0][1]))) as thumb:
        assert max(thumb.size) == THUMBNAIL_PX
    clip = (run / "media" / "clip.wav").read_bytes()
    assert html.count(f'src="data:audio/wav;base64,{base64.b64encode(clip).decode()}"') == 10


def test_media_outside_the_run_or_missing_is_named_not_embedded(run: Path,
                                                                tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    Image.new("RGB", (10, 10)).save(secret)
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    first, second = json.loads(lines[0]), json.loads(lines[2])
    first["media"][0]["path"] = "../secret.png"
    second["media"][0]["path"] = "media/gone.png"
    lines[0], lines[2] = json.dumps(first), json.dumps(second)
    (run / "benchmark" / "benchmark.jsonl").write_text("\n".join(lines) + "\n")
    api.report(run)
    html = (run / "report" / "report.html").read_text()
    assert "../secret.png: not found in the run directory" in html
    assert "media/gone.png: not found in the run directory" in html
    encoded = base64.b64encode(secret.read_bytes()).decode()
    assert encoded not in html


def test_rejections_are_counted_by_the_first_check_that_failed(run: Path) -> None:
    api.report(run)
    rejections = _summary(run)["rejections"]
    assert (rejections["candidates"], rejections["accepted"], rejections["rejected"]) == \
        (34, 30, 4)
    assert rejections["by_check"] == [
        {"check": "evidence", "count": 3, "other_reasons": 0,
         "reasons": [{"reason": "the clock is blank", "count": 2},
                     {"reason": "no hands", "count": 1}]},
        {"check": "schema", "count": 1, "other_reasons": 0,
         "reasons": [{"reason": "no options", "count": 1}]}]
    assert 'data-plot="rejections"' in (run / "report" / "report.html").read_text()


def test_the_judges_summary_is_shown_whatever_its_shape(run: Path) -> None:
    judge = {"judge": "mock", "means": {"UIA": 71.5, "FSQ": 88.0, "Overall": 75.25},
             "per_subtask": [{"subtask": SUBTASKS[0], "UIA": 70}, {"subtask": SUBTASKS[1]}],
             "items": [{"item": f"i{n}", "UIA": n} for n in range(50)]}
    (run / "judge").mkdir()
    (run / "judge" / "summary.json").write_text(json.dumps(judge))
    api.report(run)
    tables = {t["title"]: {r["name"]: r["value"] for r in t["rows"]}
              for t in _summary(run)["judge"]}
    assert tables["judge"] == {"judge": "mock", "items": "50 entries"}
    assert tables["judge › means"] == {"UIA": "71.5", "FSQ": "88", "Overall": "75.25"}
    assert tables[f"judge › per_subtask › {SUBTASKS[0]}"] == {"subtask": SUBTASKS[0],
                                                             "UIA": "70"}
    html = (run / "report" / "report.html").read_text()
    assert "The judge's scores" in html and "75.25" in html


@pytest.mark.parametrize("shape", [[], "fine", 3.5, [1, 2], {"a": {"b": {"c": {"d": {}}}}}])
def test_judge_tables_take_any_json(shape: Any) -> None:
    tables = judge_tables(shape)
    assert all(t.rows for t in tables)
    assert tables or shape in ([], {"a": {"b": {"c": {"d": {}}}}})


def test_files_that_do_not_read_are_said_and_the_rest_is_reported(run: Path) -> None:
    (run / "judge").mkdir()
    (run / "judge" / "summary.json").write_text("{not json")
    (run / "eval").mkdir()
    (run / "eval" / "summary.json").write_text(json.dumps({"models": "none"}))
    api.report(run)
    s = _summary(run)
    assert s["judge"] is None and "cannot read" in s["judge_note"]
    assert s["eval"] is None and "eval/summary.json could not be read" in s["eval_note"]
    assert s["items"] == 30


def test_a_run_with_no_plan_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "planless"
    RunStore.create(root, Query(id="x", description="x"), Settings(), ("design",)).close()
    result = cli("report", root)
    assert result.returncode == 1 and "has no plan yet" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli("report", tmp_path / "nowhere").returncode == 1


def test_without_matplotlib_report_says_so_and_a_build_still_succeeds(
        run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "benchagent.report.plots", None)  # as if never importable
    monkeypatch.delattr(benchagent.report, "plots", raising=False)
    with pytest.raises(ReportUnavailable, match=r"pip install 'benchagent\[report\]'"):
        api.report(run)
    result = cli("report", run)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    built = cli("build", "arithmetic word problems", "--size", "2", "--out", tmp_path / "b")
    assert built.returncode == 0, built.stderr
    assert "report not written" in built.stderr and "benchagent[report]" in built.stderr
    assert (tmp_path / "b" / "benchmark" / "benchmark.jsonl").is_file()
    assert not (tmp_path / "b" / "report").exists()


def test_the_review_and_the_cost_estimate_are_reported(run: Path) -> None:
    from benchagent.review.decisions import Decision, DecisionLog
    items = [json.loads(line)["id"] for line in
             (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()]
    log = DecisionLog(run, "ana")
    log.record(Decision(item=items[0], reviewer="ana", action="accept"))
    log.record(Decision(item=items[1], reviewer="ana", action="reject", reason="two answers"))
    log.close()
    api.report(run)
    review = {t["title"]: {r["name"]: r["value"] for r in t["rows"]}
              for t in _summary(run)["review"]}
    assert any(rows.get("two answers") == "1" for rows in review.values()), review
    assert any("0.5" in rows.values() for rows in review.values()), review
    assert "Human review" in (run / "report" / "report.html").read_text()
    assert _summary(run)["cost"] is None  # a hand-made run: no estimate, nothing spent


def test_a_built_run_reports_its_estimate_beside_what_it_spent(tmp_path: Path) -> None:
    run = tmp_path / "run"
    built = cli("build", "read the time shown on analogue clock images", "--size", "2",
                "--model", "mock", "--out", run, "--no-export")
    assert built.returncode == 0, built.stderr
    tables = {t["title"]: {r["name"]: r["value"] for r in t["rows"]}
              for t in _summary(run)["cost"]}
    total = tables["estimate vs spent › total"]
    assert int(total["estimated_calls"]) > 0 and int(total["spent_calls"]) > 0
    assert "Estimated and spent" in (run / "report" / "report.html").read_text()
