"""`benchagent plan` for every shared query, infeasible requests, ablations and --from-plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import SHARED_QUERIES

from runcli import benchmark, cli

QUERIES = sorted(p.name for p in SHARED_QUERIES.glob("*.json"))


def _pools(shared: Path) -> list[str | Path]:
    return ["--pool", shared / "general-bench", "--pool", shared / "bigbench"]


def _plan_md_checks(run: Path, target: int) -> None:
    text = (run / "plan" / "plan.md").read_text()
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    allocation = json.loads((run / "plan" / "allocation.json").read_text())
    groundings = json.loads((run / "plan" / "groundings.json").read_text())
    assert sum(q["quota"] for q in allocation["quotas"]) == target
    for st in subtasks:
        assert f"## {st['name']}" in text
    for q in allocation["quotas"]:
        g = next(g for g in groundings
                 if (g["subtask"], g["dataset_id"]) == (q["subtask"], q["dataset_id"]))
        assert f"{q['quota']} / {q['capacity']}" in text
        for step in g["plan"]:
            assert step["operator"] in text


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("model", [["--model", "mock"], []], ids=["mock", "rules"])
def test_every_shared_query_gets_a_feasible_plan(tmp_path: Path, shared_pools: Path, query: str,
                                                 model: list[str]) -> None:
    run = tmp_path / "run"
    result = cli("plan", SHARED_QUERIES / query, *_pools(shared_pools), *model, "--out", run)
    assert result.returncode == 0, result.stderr
    target = json.loads((SHARED_QUERIES / query).read_text())["target_size"]
    _plan_md_checks(run, target)
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    groundings = json.loads((run / "plan" / "groundings.json").read_text())
    wanted = {"omni.json": {"image", "audio"}, "spoken_commonsense.json": {"audio"},
              "text_in_image.json": {"image"}}.get(query, set())
    for st in subtasks:
        assert wanted <= set(st["modalities"]), st
    operators = {s["operator"] for g in groundings for s in g["plan"]}
    if "image" in wanted:
        assert operators & {"render_text_image", "attach_media"}
    if "audio" in wanted:
        assert "tts" in operators


def test_a_target_beyond_the_relevant_data_is_not_padded(tmp_path: Path,
                                                         shared_pools: Path) -> None:
    run = tmp_path / "run"
    result = cli("plan", SHARED_QUERIES / "causal.json", "--size", "100000",
                 *_pools(shared_pools), "--out", run)
    assert result.returncode == 0, result.stderr
    note = re.search(r"smaller than asked: the pool holds (\d+) source samples that serve the "
                     r"request .* so (\d+) items are planned for the target 100000", result.stdout)
    assert note, result.stdout
    allocation = json.loads((run / "plan" / "allocation.json").read_text())
    planned = sum(q["quota"] for q in allocation["quotas"])
    assert planned == int(note.group(2)) <= int(note.group(1)) < 100000
    groundings = json.loads((run / "plan" / "groundings.json").read_text())
    assert groundings and all(g["scores"]["request_relevance"] >= 0.5 for g in groundings)
    assert "- size: smaller than asked" in (run / "plan" / "plan.md").read_text()


def test_ablations_switch_single_agents(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "ablated"
    result = cli("plan", SHARED_QUERIES / "causal.json", *_pools(shared_pools),
                 "--ablate", "design", "--ablate", "plan-scoring", "--out", run)
    assert result.returncode == 0, result.stderr
    subtasks = json.loads((run / "plan" / "subtasks.json").read_text())
    assert len(subtasks) == 1 and subtasks[0]["name"] == "causal_reasoning"
    groundings = json.loads((run / "plan" / "groundings.json").read_text())
    assert groundings and all("ablation" in g["reason"] for g in groundings)
    wrong = cli("plan", "x", "--ablate", "everything", "--out", tmp_path / "bad")
    assert wrong.returncode != 0 and "unknown --ablate everything" in wrong.stderr


def test_build_from_an_edited_plan(tmp_path: Path, shared_pools: Path) -> None:
    planned = tmp_path / "planned"
    assert cli("plan", SHARED_QUERIES / "causal.json", "--size", "6",
               *_pools(shared_pools), "--out", planned).returncode == 0
    allocation = json.loads((planned / "plan" / "allocation.json").read_text())
    first = allocation["quotas"][0]
    for q in allocation["quotas"]:
        q["quota"] = 0
    first["quota"] = 6
    (planned / "plan" / "allocation.json").write_text(json.dumps(allocation))
    built = tmp_path / "built"
    result = cli("build", "--from-plan", planned, "--out", built)
    assert result.returncode == 0, result.stderr
    samples = benchmark(built)
    assert len(samples) == 6 and {s["subtask"] for s in samples} == {first["subtask"]}
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["copied_from"] == str(planned.resolve())
    assert not (planned / "benchmark").exists()  # the plan run itself is left as it was


def test_a_modality_nothing_can_provide_is_diagnosed(tmp_path: Path, shared_pools: Path) -> None:
    result = cli("plan", "Evaluate understanding of cooking video footage", *_pools(shared_pools),
                 "--out", tmp_path / "run")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "needs video input" in result.stderr


def test_allocation_asks_grounding_for_more_datasets(tmp_path: Path, shared_pools: Path) -> None:
    run = tmp_path / "run"
    result = cli("plan", SHARED_QUERIES / "causal.json", "--size", "1000",
                 *_pools(shared_pools), "--out", run)
    assert result.returncode == 0, result.stderr
    log = json.loads((run / "plan" / "design_log.json").read_text())
    step = next(s for s in log if s["op"] == "allocation")
    assert "infeasible" in step["reason"] and "grounding widened" in step["reason"]
    assert "- allocation * (rules): infeasible" in (run / "plan" / "plan.md").read_text()


def test_a_request_no_dataset_serves_ends_with_a_diagnosis_unless_related_are_let_in(
        tmp_path: Path, shared_pools: Path) -> None:
    request = "Test whether a model recognises common misconceptions and anachronisms in statements"
    result = cli("plan", request, "--size", "12", "--pool", shared_pools / "bigbench",
                 "--out", tmp_path / "strict")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "no dataset in the pool serves the request: the closest" in line, line
    assert "--include-related" in line and not (tmp_path / "strict" / "plan").exists()
    loose = cli("plan", request, "--size", "12", "--pool", shared_pools / "bigbench",
                "--include-related", "--out", tmp_path / "loose")
    assert loose.returncode == 0, loose.stderr
    assert "not clearly served: “recognises common misconceptions”" in loose.stdout
    groundings = json.loads((tmp_path / "loose" / "plan" / "groundings.json").read_text())
    assert groundings and all(0.25 <= g["scores"]["request_relevance"] < 0.5
                              for g in groundings)
