"""Listings (`pool ls`, `pool search`, `show`, `models`) never cut a name: in an 80-column
terminal a long name folds onto the next lines, piped it stays whole on its row, and `--json`
gives the same facts with the full names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import SHARED_QUERIES
from tests.unit.pool.poolfiles import write

from runcli import CliResult, cli

NARROW = {"COLUMNS": "80"}
PIPED: dict[str, str | None] = {"COLUMNS": None}
PREFIX = "cause_and_effect_reasoning_over_everyday_situations_described_in_short_stories"
NAMES = [f"{PREFIX}_{part}" for part in ("physical", "social", "temporal")]


def _column(result: CliResult, index: int) -> str:
    """The cells of one table column, in row order, joined: a folded name joins up again."""
    rows = [line.split("│") for line in result.stdout.splitlines() if line.startswith("│")]
    assert rows, result.stdout
    return "".join(cells[index + 1].strip() for cells in rows)


def _whole_lines(result: CliResult, names: list[str]) -> None:
    for name in names:
        assert any(name in line for line in result.stdout.splitlines()), (name, result.stdout)


def _narrow(result: CliResult, names: list[str], index: int) -> None:
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    joined = _column(result, index)
    for name in names:
        assert name in joined, (name, result.stdout)


@pytest.fixture
def long_named_pool(tmp_path: Path) -> Path:
    """Three JSONL datasets whose names (longer than 80 columns) differ only at the end."""
    root = tmp_path / "pool"
    for i, name in enumerate(NAMES):
        rows = [{"question": f"Why did the glass break, case {i}.{n}?", "answer": "it fell"}
                for n in range(4)]
        write(root / f"d{i}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        write(root / f"d{i}.benchagent.toml",
              f'[dataset]\nname = "{name}"\ndescription = "Cause and effect."\n')
    return root


def test_pool_ls_keeps_long_names(long_named_pool: Path) -> None:
    args = ("pool", "ls", "--pool", long_named_pool)
    _narrow(cli(*args, env=NARROW), NAMES, index=1)
    _whole_lines(cli(*args, env=PIPED), NAMES)
    listed = cli(*args, "--json", env=NARROW)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert sorted(r["name"] for r in rows) == NAMES
    assert {r["format"] for r in rows} == {"jsonl"} and all(r["size"] == 4 for r in rows)


def test_pool_search_keeps_long_names(long_named_pool: Path) -> None:
    args = ("pool", "search", "cause and effect stories", "--pool", long_named_pool)
    _narrow(cli(*args, env=NARROW), NAMES, index=2)
    _whole_lines(cli(*args, env=PIPED), NAMES)
    found = cli(*args, "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert sorted(h["dataset"] for h in hits) == NAMES
    assert [h["rank"] for h in hits] == [1, 2, 3] and all(h["why"] for h in hits)


def test_pool_search_without_a_match_prints_an_empty_json_list(long_named_pool: Path) -> None:
    found = cli("pool", "search", "anything", "--pool", long_named_pool, "--modality", "audio",
                "--json")
    assert found.returncode == 1 and json.loads(found.stdout) == []
    assert "no dataset matches" in found.stderr


def test_models_keeps_long_model_names() -> None:
    model = "openai:" + "a-model-with-a-name-longer-than-the-whole-terminal-" * 2 + "instruct"
    args = ("models", "--model", model, "--base-url", "http://127.0.0.1:9/v1")
    _narrow(cli(*args, env=NARROW), [model], index=1)
    _whole_lines(cli(*args, env=PIPED), [model])
    listed = cli(*args, "--role", "judge=rules", "--json")
    assert listed.returncode == 0, listed.stderr
    roles = {r["role"]: r for r in json.loads(listed.stdout)}
    assert roles["judge"]["model"] == "rules" and roles["judge"]["endpoint"] is None
    assert roles["design"] == {"role": "design", "model": model,
                               "endpoint": "http://127.0.0.1:9/v1"}


def test_show_keeps_long_subtask_and_model_names(tmp_path: Path, shared_pools: Path) -> None:
    # a subtask name may have 80 characters: with the table's borders, still too wide
    names = [f"{PREFIX}_{part}"[-80:] for part in ("in_dialogues", "in_news")]
    script = tmp_path / ("a_mock_script_whose_path_makes_the_model_label_long" * 2 + ".json")
    # each description serves the request and a dataset of its own, so both subtasks stay
    descriptions = ["Causal reasoning: identify the cause or the effect of an everyday event.",
                    "Causal reasoning over documents: why things happened, from long articles."]
    script.write_text(json.dumps([{"match": "Propose between", "response": {"subtasks": [
        {"name": name, "description": text, "modalities": ["text"],
         "answer_type": "multiple_choice"} for name, text in zip(names, descriptions,
                                                                   strict=True)]}}]))
    run = tmp_path / "run"
    planned = cli("plan", SHARED_QUERIES / "causal.json", "--size", "4", "--pool",
                  shared_pools / "general-bench", "--model", f"mock:{script}", "--out", run)
    assert planned.returncode == 0, planned.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(names) <= set(manifest["subtasks"]), manifest["subtasks"]
    label = f"mock:{script}"

    narrow = cli("show", run, env=NARROW)
    assert narrow.returncode == 0, narrow.stderr
    subtasks_table, usage_table = narrow.stdout.split("\nsubtasks")[1].split("\nmodel usage")
    _narrow(CliResult([], 0, subtasks_table, ""), names, index=0)
    _narrow(CliResult([], 0, usage_table, ""), [label], index=1)
    _whole_lines(cli("show", run, env=PIPED), [*names, label])

    shown = cli("show", run, "--json")
    assert shown.returncode == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert set(names) <= {s["subtask"] for s in summary["subtasks"]}
    assert label in {u["model"] for u in summary["usage"]}
    assert {s["stage"]: s["status"] for s in summary["stages"]}["design"] == "done"
    assert summary["query"]["id"] == manifest["query"]["id"]


def test_tools_keeps_every_operator_name(tmp_path: Path) -> None:
    from benchagent.operators import REGISTRY

    names = sorted(REGISTRY)
    _narrow(cli("tools", env=NARROW), names, index=0)
    _whole_lines(cli("tools", env=PIPED), names)
    listed = cli("tools", "--json", env=NARROW)
    assert [d["name"] for d in json.loads(listed.stdout)] == names
