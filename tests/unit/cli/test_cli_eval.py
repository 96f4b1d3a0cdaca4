"""`benchagent eval` on benchmarks built from the starter pool: scripted mock models whose every
answer is known, a fake OpenAI-compatible server to see the requests, and a killed eval."""

from __future__ import annotations

import base64
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from benchagent.evaluation import item_text
from benchagent.evaluation.scoring import LETTERS
from benchagent.records import AnswerType, BenchmarkSample
from evalruns import fresh, samples
from faultserver import FaultServer
from runcli import cli, cli_popen

Row = dict[str, Any]
ORACLE_FORMATS = ("The answer is ({L}).", "{L}) {text}", "**{L}**", "Answer: {l}", "{text}",
                  "{L}. Because that is what the question works out to.")


def right_letter(s: BenchmarkSample) -> int:
    return s.options.index(s.answer)


def answer_in(s: BenchmarkSample, index: int, form: str) -> str:
    return form.format(L=LETTERS[index], l=LETTERS[index].lower(), text=s.options[index])


def script(tmp_path: Path, name: str, rules: list[Row], **extra: Any) -> Path:
    """A mock script; `name` tells models apart (it is part of the mock's cache key)."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"rules": rules, **extra}))
    return path


def rules_for(items: list[BenchmarkSample], pick: Any, prefix: str = "") -> list[Row]:
    texts = [item_text(s) for s in items]
    assert len(set(texts)) == len(texts), "two items read the same: a rule cannot tell them apart"
    return [{"match": prefix + text, "response": pick(i, s)}
            for i, (s, text) in enumerate(zip(items, texts, strict=True))]


def oracle(i: int, s: BenchmarkSample) -> str:
    return answer_in(s, right_letter(s), ORACLE_FORMATS[i % len(ORACLE_FORMATS)])


def wrong(i: int, s: BenchmarkSample) -> str:
    return answer_in(s, (right_letter(s) + 1) % len(s.options), "The answer is ({L}).")


def half(i: int, s: BenchmarkSample) -> str:
    return oracle(i, s) if i % 2 == 0 else wrong(i, s)


def eval_json(run: Path, *args: str | Path) -> Row:
    result = cli("eval", run, *args, "--json")
    assert result.returncode == 0, result.stderr
    summary: Row = json.loads(result.stdout)
    return summary


def results(run: Path) -> list[Row]:
    return [json.loads(line) for line in (run / "eval" / "results.jsonl").read_text().splitlines()]


def calls(run: Path, *, cached: bool = False) -> int:
    events = [json.loads(line) for line in (run / "trace.jsonl").read_text().splitlines()]
    return sum(1 for e in events if e.get("event") == "model_call" and e["role"] == "eval"
               and e["cache_hit"] == cached)


def by_model(summary: Row) -> dict[str, Row]:
    return {m["model"]: m for m in summary["models"]}


def test_a_ladder_of_scripted_models_on_a_text_benchmark(runs: dict[str, Path],
                                                         tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    items = samples(run)
    assert items and all(not s.media for s in items)
    ladder = [f"mock:{script(tmp_path, name, rules_for(items, pick))}"
              for name, pick in (("wrong", wrong), ("half", half), ("oracle", oracle))]
    summary = eval_json(run, *(x for spec in ladder for x in ("--model", spec)), "--ladder")
    models = by_model(summary)
    assert [models[spec]["accuracy"] for spec in ladder] == \
        [0.0, round(len(items[::2]) / len(items), 4), 1.0]
    assert all(m["unscored"] == 0 and m["unsupported"] == 0 for m in models.values())
    low, high = models[ladder[1]]["ci95"]
    assert 0 < low < models[ladder[1]]["accuracy"] < high < 1
    assert summary["ladder"]["kendall_tau"] == 1.0 and summary["ladder"]["monotonic"]
    assert summary["separability"] == 1.0
    assert set(models[ladder[2]]["subtasks"]) == {s.subtask for s in items}
    assert all(row["discrimination"] > 0 for row in summary["per_item"])
    assert len(results(run)) == 3 * len(items) == calls(run)

    pair = eval_json(run, "--model", ladder[1], "--model", ladder[2])
    assert pair["saturated"] == [s.id for s in items[::2]] and pair["dead"] == []
    assert calls(run) == 3 * len(items)  # every answer was kept: nothing is asked again
    shown = cli("eval", run, "--model", ladder[0], "--model", ladder[1], "--items")
    assert shown.returncode == 0, shown.stderr
    assert "accuracy" in shown.stdout and "separability" in shown.stdout
    dead_rows = [line for line in shown.stdout.splitlines()
                 if line.startswith("│") and " dead " in line]
    assert len(dead_rows) == len(items[1::2]) and items[1].id in "".join(dead_rows)
    assert f"dead items (every model wrong): {len(items[1::2])}/{len(items)}" in shown.stdout
    assert json.loads((run / "manifest.json").read_text())["stages"]["eval"]["status"] == "done"


def test_blind_solvability_and_a_model_that_takes_no_image(runs: dict[str, Path],
                                                           tmp_path: Path) -> None:
    run = fresh(runs, "image", tmp_path)
    items = samples(run)
    assert items and all([m.kind.value for m in s.media] == ["image"] for s in items)
    seer = script(tmp_path, "seer", rules_for(items, oracle, prefix="<image>\n")
                  + rules_for(items, lambda i, s: "I cannot see any image."))
    cheater = script(tmp_path, "cheater", rules_for(items, oracle))
    text_only = script(tmp_path, "textonly", rules_for(
        items, lambda i, s: oracle(i, s) if i == 0 else "cannot tell"), inputs=[])
    specs = [f"mock:{p}" for p in (seer, cheater, text_only)]
    summary = eval_json(run, *(x for spec in specs for x in ("--model", spec)))
    models = by_model(summary)
    assert models[specs[0]]["accuracy"] == 1.0
    assert models[specs[0]]["media_items"]["blind"]["unscored"] == len(items)
    assert models[specs[1]]["media_items"]["blind"]["accuracy"] == 1.0
    blocked = models[specs[2]]
    assert (blocked["items"], blocked["unsupported"], blocked["accuracy"]) == \
        (len(items), len(items), None)
    assert summary["blind"] == {"items": len(items), "solvable": [items[0].id]}
    rows = [r for r in results(run) if r["model"] == specs[2]]
    assert len(rows) == len(items) and all(r["outcome"] == "unsupported" for r in rows)
    assert rows[0]["blind"]["outcome"] == "correct"
    assert all(r["blind"]["outcome"] == "unscored" for r in rows[1:])


def _parts(request: Row) -> list[Row]:
    content = request["messages"][0]["content"]
    return content if isinstance(content, list) else []


@pytest.mark.parametrize(("kind", "part", "magic"), [("audio", "input_audio", b"RIFF"),
                                                      ("image", "image_url", b"\x89PNG")])
def test_media_goes_in_the_openai_multimodal_format(runs: dict[str, Path], tmp_path: Path,
                                                    kind: str, part: str, magic: bytes) -> None:
    run = fresh(runs, kind, tmp_path)
    items = samples(run)
    with FaultServer() as server:
        server.script(["400"])  # the first request is refused: that item is unsupported
        summary = eval_json(run, "--model", "openai:test-model", "--base-url",
                            server.base_url, "-j", "1")
        requests = list(server.requests)
    with_media = [r for r in requests if _parts(r)]
    assert len(with_media) == len(items) and len(requests) == 2 * len(items)
    for request in with_media:
        media, text = _parts(request)
        assert media["type"] == part and text["type"] == "text"
        if part == "input_audio":
            assert media["input_audio"]["format"] == "wav"
            data = media["input_audio"]["data"]
        else:
            prefix, _, data = media["image_url"]["url"].partition(",")
            assert prefix == "data:image/png;base64"
        assert base64.b64decode(data)[:4] == magic
    model = summary["models"][0]
    assert model["unsupported"] == 1  # "ok" names no option: unscored, never wrong
    assert (model["unscored"], model["wrong"], model["correct"]) == (len(items) - 1, 0, 0)


def test_free_form_answers_need_a_judge(runs: dict[str, Path], tmp_path: Path) -> None:
    run = fresh(runs, "text", tmp_path)
    first = samples(run)[0]
    essay = first.model_copy(update={"id": "essay-1", "options": [],
                                     "answer_type": AnswerType.free_form,
                                     "answer": "Because the ice melts in the sun."})
    with (run / "benchmark" / "benchmark.jsonl").open("a") as fh:
        fh.write(essay.model_dump_json() + "\n")
    unjudged = eval_json(run, "--model", "mock", "--judge", "rules")
    rows = {r["item"]: r for r in results(run)}
    assert rows["essay-1"]["outcome"] == "unscored" and unjudged["judge"] is None
    judged = eval_json(run, "--model", "mock", "--judge", "mock")
    assert {r["item"]: r for r in results(run)}["essay-1"]["outcome"] == "correct"
    assert judged["judge"] == "mock"
    assert json.loads((run / "manifest.json").read_text())["usage"]["judge"]["calls"] == 1


def test_a_killed_eval_resumes_without_asking_an_item_twice(runs: dict[str, Path],
                                                            tmp_path: Path) -> None:
    clean, killed = fresh(runs, "audio", tmp_path / "a"), fresh(runs, "audio", tmp_path / "b")
    slow = [script(tmp_path, name, [], latency_s=0.15) for name in ("slow1", "slow2")]
    args = ["--model", f"mock:{slow[0]}", "--model", f"mock:{slow[1]}", "-j", "2"]
    tasks = 2 * 2 * len(samples(clean))  # two models, with and without the audio
    assert cli("eval", clean, *args).returncode == 0
    proc = cli_popen("eval", killed, *args)
    answers = killed / "eval" / "answers.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if answers.exists() and len(answers.read_text().splitlines()) >= 6:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(answers.read_text().splitlines())
    assert 6 <= kept < tasks
    resumed = cli("eval", killed, *args)
    assert resumed.returncode == 0, resumed.stderr
    assert results(killed) == results(clean)
    keys = [json.loads(line)["key"] for line in answers.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == tasks
    # each item asked once across the kill; a call the kill cut off after its answer was
    # cached (before its trace line) is answered from the cache on resume, not asked again
    assert tasks - 4 <= calls(killed) <= tasks
    assert calls(killed) + calls(killed, cached=True) >= tasks
    assert calls(killed, cached=True) <= 4  # at most the answers in flight at the kill


def test_eval_errors_are_one_line(tmp_path: Path, runs: dict[str, Path]) -> None:
    for args, expected in (((tmp_path, "--model", "mock"), "is not a run directory"),
                           ((runs["text"], "--model", "nope:x"), "unknown model spec"),
                           ((runs["text"], "--model", "mock", "--model", "mock"), "twice")):
        result = cli("eval", *args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], result.stderr
    assert cli("eval", runs["text"]).returncode == 2  # --model is required
