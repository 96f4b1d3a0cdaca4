"""`benchagent eval` against real models: llama.cpp's OpenAI-compatible server (a text model,
which refuses image and audio parts in its own ways) and SmolLM2 run in process."""

from __future__ import annotations

import json
from pathlib import Path

from runcli import cli


def _results(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "eval" / "results.jsonl").open()]


def test_a_text_model_behind_the_server_makes_media_items_unsupported(
        tmp_path: Path, llama_server: str, smollm_gguf: Path) -> None:
    run = tmp_path / "run"
    built = cli("build", "read the time shown on analogue clock images", "--size", "2",
                "--out", run)
    assert built.returncode == 0, built.stderr
    result = cli("eval", run, "--model", "openai:qwen", "--base-url", llama_server,
                 "--model", f"local:{smollm_gguf}", "-j", "1", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for model in summary["models"]:
        assert (model["items"], model["unsupported"]) == (2, 2), model
        blind = model["media_items"]["blind"]
        assert blind["items"] == 2 and blind["unsupported"] == 0
    rows = _results(run)
    assert len(rows) == 4 and all(r["outcome"] == "unsupported" and r["reason"] for r in rows)
    assert all(isinstance(r["blind"], dict) and r["blind"]["response"] for r in rows)
