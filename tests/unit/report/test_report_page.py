"""`benchagent report` on a text, an image and an audio benchmark built from the starter pool and
evaluated by three mock models as a ladder: summary.json counts what benchmark.jsonl holds, and
report.html opens in headless Chromium with no console error and no request off the machine,
its plots drawn, its images decoded and its audio playable."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchagent.records import BenchmarkSample
from browser import BrowserPage
from runcli import cli

Row = dict[str, Any]
BUILDS = {  # kind: (request, size, extra build arguments)
    "text": ("arithmetic word problems and unit conversions", 6, ["--model", "mock"]),
    "image": ("read the time shown on analogue clock images", 5, ["--model", "mock"]),
    "audio": ("answer arithmetic questions spoken aloud in audio clips", 4, []),  # rules only
}
LADDER = ("small", "medium", "large")
PLOTS = {"distributions", "scores", "ladder", "item_analysis"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each benchmark built (which writes its report) and evaluated (which refreshes it)."""
    root = tmp_path_factory.mktemp("report-runs")
    env = {"BENCHAGENT_CACHE": str(tmp_path_factory.getbasetemp() / "benchagent-cache")}
    models = []
    for name in LADDER:  # empty scripts: the mock picks letters by its script's name
        (root / f"{name}.json").write_text(json.dumps({"rules": []}))
        models += ["--model", f"mock:{root / name}.json"]
    built = {}
    for kind, (request, size, extra) in BUILDS.items():
        run = root / kind
        result = cli("build", request, "--size", str(size), "--out", run, *extra, env=env)
        assert result.returncode == 0, result.stderr
        assert f"report → {run / 'report' / 'report.html'}" in result.stdout
        assert summary(run)["eval"] is None  # the build's report, before any eval
        result = cli("eval", run, *models, "--ladder", env=env)
        assert result.returncode == 0, result.stderr
        built[kind] = run
    return built


def samples(run: Path) -> list[BenchmarkSample]:
    lines = (run / "benchmark" / "benchmark.jsonl").read_text().splitlines()
    return [BenchmarkSample.model_validate_json(line) for line in lines]


def summary(run: Path) -> Row:
    data: Row = json.loads((run / "report" / "summary.json").read_text())
    return data


def mix(s: BenchmarkSample) -> str:
    return "+".join(["text", *sorted({m.kind.value for m in s.media})])


@pytest.mark.parametrize("kind", list(BUILDS))
def test_summary_counts_what_the_benchmark_holds(runs: dict[str, Path], kind: str) -> None:
    items, s = samples(runs[kind]), summary(runs[kind])
    assert items and s["items"] == len(items)
    dist = s["distributions"]
    assert dist["subtasks"] == dict(Counter(i.subtask for i in items))
    assert dist["datasets"] == dict(Counter(i.provenance.source_dataset_name for i in items))
    assert dist["modalities"] == dict(Counter(mix(i) for i in items))
    assert dist["answer_types"] == dict(Counter(i.answer_type.value for i in items))
    assert s["gallery"]["total"] == len(items)
    assert sorted(s["gallery"]["shown"]) == sorted(i.id for i in items)  # few items: all shown
    assert sum(st["quota"] for st in s["plan"]["subtasks"]) == s["plan"]["allocated"]
    assert {st["name"] for st in s["plan"]["subtasks"]} >= set(dist["subtasks"])


@pytest.mark.parametrize("kind", list(BUILDS))
def test_summary_holds_the_eval_and_the_usage(runs: dict[str, Path], kind: str) -> None:
    run, s = runs[kind], summary(runs[kind])
    evaluation = json.loads((run / "eval" / "summary.json").read_text())
    assert [m["model"] for m in s["eval"]["models"]] == [m["model"] for m in
                                                         evaluation["models"]]
    assert [m["accuracy"] for m in s["eval"]["models"]] == [m["accuracy"] for m in
                                                            evaluation["models"]]
    assert s["eval"]["ladder"]["order"] == [f"mock:{run.parent / n}.json" for n in LADDER]
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    calls = Counter(e["role"] for e in events if e["event"] == "model_call")
    assert {r["role"]: r["calls"] for r in s["usage"]["roles"] if r["calls"]} == dict(calls)
    build = s["usage"]["build"]
    assert build["calls"] == sum(n for role, n in calls.items() if role != "eval")
    assert s["usage"]["per_item"]["calls"] == round(build["calls"] / s["items"], 3)
    assert all(r["cost_usd"] is None for r in s["usage"]["roles"])  # the mock has no price
    if kind == "audio":  # built by the rules: only the eval called models
        assert set(calls) == {"eval"} and build["calls"] == 0


def _plot_sizes(page: Any) -> dict[str, list[float]]:
    found: dict[str, list[float]] = page.eval_on_selector_all(
        "figure.plot", "els => Object.fromEntries(els.map(f => { const r = "
        "f.querySelector('svg').getBoundingClientRect(); return [f.dataset.plot, "
        "[r.width, r.height]]; }))")
    return found


@pytest.mark.parametrize("kind", list(BUILDS))
def test_report_page_renders_offline(runs: dict[str, Path], kind: str,
                                     browser_page: BrowserPage, tmp_path: Path) -> None:
    run, page = runs[kind], browser_page.page
    page.goto((run / "report" / "report.html").as_uri(), wait_until="load")
    sizes = _plot_sizes(page)
    assert set(sizes) >= PLOTS, sizes
    assert all(w > 100 and h > 50 for w, h in sizes.values()), sizes
    shown = summary(run)["gallery"]["shown"]
    assert page.locator("article.card").count() == len(shown)
    by_id = {s.id: s for s in samples(run)}
    images = sum(m.kind.value == "image" for i in shown for m in by_id[i].media)
    clips = sum(m.kind.value == "audio" for i in shown for m in by_id[i].media)
    assert (images > 0) == (kind == "image") and (clips > 0) == (kind == "audio")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    widths = page.eval_on_selector_all("img.media", "els => els.map(i => i.naturalWidth)")
    assert len(widths) == images and all(w > 0 for w in widths)
    page.wait_for_function("() => [...document.querySelectorAll('audio.media')]"
                           ".every(a => a.readyState >= 1)", timeout=20_000)
    durations = page.eval_on_selector_all("audio.media", "els => els.map(a => a.duration)")
    assert len(durations) == clips and all(d > 0.2 for d in durations), durations
    shot = tmp_path / f"report-{kind}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert browser_page.console_errors == []
    assert browser_page.outside_requests == []


def test_report_is_the_same_when_nothing_changed(runs: dict[str, Path],
                                                 tmp_path: Path) -> None:
    run = tmp_path / "image"
    shutil.copytree(runs["image"], run)
    before = (run / "report" / "report.html").read_bytes()
    result = cli("report", run, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["report"] == str(run / "report" / "report.html")
    assert printed["summary"]["items"] == len(samples(run))
    assert (run / "report" / "report.html").read_bytes().replace(
        str(run).encode(), b"RUN") == before.replace(str(runs["image"]).encode(), b"RUN")


def test_resume_of_a_finished_run_keeps_its_benchmark_and_writes_the_report(
        runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "text"
    shutil.copytree(runs["text"], run)
    files = {rel: (run / rel).read_bytes() for rel in
             ("benchmark/benchmark.jsonl", "samples/accepted.jsonl", "plan/allocation.json")}
    (run / "report").rename(tmp_path / "old-report")
    result = cli("resume", run)
    assert result.returncode == 0, result.stderr
    assert {rel: (run / rel).read_bytes() for rel in files} == files
    assert summary(run)["eval"]["models"]  # the eval kept in the run is reported again
