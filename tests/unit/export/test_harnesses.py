"""The exports run in the real harnesses (the `harness` extra: lm-eval, Inspect AI, datasets)
against a fake OpenAI-compatible server on 127.0.0.1 that answers by rule (right on items at an
even position of the benchmark, wrong on the others), so each subtask's accuracy is known."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.unit.export.exported_runs import samples

from benchagent.evaluation.scoring import LETTERS
from benchagent.records import BenchmarkSample, Modality
from faultserver import FaultServer, content_types

pytest.importorskip("lm_eval", reason="needs the harness extra")
pytest.importorskip("inspect_ai", reason="needs the harness extra")
BIN = Path(sys.executable).parent
HARNESS_TIMEOUT = 600


def pixels_key(image: Image.Image) -> str:
    """The same for a PNG file and its re-encoding (lm-eval sends images re-encoded)."""
    rgb = image.convert("RGB")
    return hashlib.sha256(f"{rgb.size}".encode() + rgb.tobytes()).hexdigest()


class RuleAnswerer:
    """Finds the item a chat request asks (its question and options in the text, its image by
    pixels) and answers it right when its position in the benchmark is even, else wrong."""

    def __init__(self, run: Path, items: list[BenchmarkSample]) -> None:
        self.items = items
        self.image_keys: dict[str, int] = {}
        for index, item in enumerate(items):
            for media in item.media:
                if media.kind == Modality.image:
                    with Image.open(run / media.path) as image:
                        self.image_keys[pixels_key(image)] = index
        self.asked: list[int] = []

    def __call__(self, body: dict[str, Any]) -> str:
        index = self.find(body)
        self.asked.append(index)
        return answer_for(self.items[index], right=index % 2 == 0)

    def find(self, body: dict[str, Any]) -> int:
        text, images = _request_parts(body)
        found = [i for i, item in enumerate(self.items)
                 if item.question in text and all(o in text for o in item.options)
                 and all(self.image_keys.get(k) == i for k in images)
                 and len(images) == sum(m.kind == Modality.image for m in item.media)]
        assert len(found) == 1, f"{len(found)} items fit the request {text[:200]!r}"
        return found[0]


def answer_for(item: BenchmarkSample, right: bool) -> str:
    if item.options:
        index = item.options.index(item.answer)
        return f"ANSWER: {LETTERS[index if right else (index + 1) % len(item.options)]}"
    if item.answer_type == "number":
        return f"ANSWER: {item.answer if right else float(item.answer) + 1:g}"
    if item.answer_type == "yes_no":
        return f"ANSWER: {item.answer if right else ('no' if item.answer == 'yes' else 'yes')}"
    return f"ANSWER: {item.answer if right else 'nothing of the kind'}"


def _request_parts(body: dict[str, Any]) -> tuple[str, list[str]]:
    texts, images = [], []
    for message in body["messages"]:
        content = message["content"]
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for part in parts:
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] == "image_url":
                data = base64.b64decode(part["image_url"]["url"].partition(",")[2])
                with Image.open(io.BytesIO(data)) as image:
                    images.append(pixels_key(image))
    return "\n".join(texts), images


def expected_accuracy(items: list[BenchmarkSample]) -> dict[str, float]:
    counts: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        counts[item.subtask].append(index % 2 == 0)
    return {name: sum(hits) / len(hits) for name, hits in counts.items()}


def offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The harness subprocesses reach nothing but 127.0.0.1 (pytest-socket does not cover
    them): hubs offline, caches and logs in the test's folder, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "INSPECT_"))}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HOME=str(tmp_path / "hf-home"), HF_DATASETS_CACHE=str(tmp_path / "hf-data"),
               DO_NOT_TRACK="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               INSPECT_LOG_DIR=str(tmp_path / "inspect-logs"), COLUMNS="250", **extra)
    return env


def _export(run: Path, target: str, tmp_path: Path) -> Path:
    """The export, moved away from the run: it must work wherever it is copied."""
    from runcli import cli

    result = cli("export", run, "--to", target, "--out", tmp_path / "elsewhere")
    assert result.returncode == 0, result.stderr
    return tmp_path / "elsewhere" / target


def test_lm_eval_scores_each_subtask_as_the_rule_answers(text_and_image: Path,
                                                         tmp_path: Path) -> None:
    items = samples(text_and_image)
    assert {m.kind for s in items for m in s.media} == {Modality.image}
    assert any(not s.media for s in items)
    folder = _export(text_and_image, "lm-eval", tmp_path)
    group = next(p.stem for p in folder.glob("*.yaml") if "group:" in p.read_text())
    with FaultServer(RuleAnswerer(text_and_image, items)) as server:
        url = f"http://127.0.0.1:{server.port}/v1/chat/completions"
        run = subprocess.run(
            [BIN / "lm-eval", "run", "--model", "local-chat-completions", "--model_args",
             f"base_url={url},model=test-model,tokenizer_backend=None,max_images=1,"
             "num_concurrent=1,max_retries=1", "--apply_chat_template",
             "--include_path", folder, "--tasks", group, "--output_path", tmp_path / "out"],
            cwd=tmp_path, env=offline_env(tmp_path), capture_output=True, text=True,
            timeout=HARNESS_TIMEOUT)
        assert run.returncode == 0, run.stderr[-3000:]
        kinds = [content_types(body) for body in server.requests]
    assert len(kinds) == len(items)
    assert sum("image_url" in k for k in kinds) == sum(bool(s.media) for s in items)
    printed = _lm_eval_table(run.stdout)
    expected = expected_accuracy(items)
    assert len(expected) >= 2 and len(set(expected.values())) >= 2
    for subtask, accuracy in expected.items():
        task = f"{group}_{_slug_of(folder, subtask)}"
        assert printed[task] == pytest.approx(accuracy, abs=1e-4), (subtask, run.stdout)
    right = sum(index % 2 == 0 for index in range(len(items)))  # weighted by subtask size
    assert printed[group] == pytest.approx(right / len(items), abs=1e-4), run.stdout


def _slug_of(folder: Path, subtask: str) -> str:
    for path in (folder / "data").glob("*.jsonl"):
        if json.loads(path.read_text().splitlines()[0])["subtask"] == subtask:
            return path.stem
    raise AssertionError(f"no data file for {subtask}")


def _lm_eval_table(stdout: str) -> dict[str, float]:
    """task -> acc from the table lm-eval prints (| task | version | filter | n-shot | metric |
    | value | | stderr |)."""
    values = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 8 and cells[5] == "acc":
            values[cells[1].lstrip("- ").strip()] = float(cells[7])
    return values


def test_inspect_scores_each_subtask_as_the_rule_answers(text_and_image: Path,
                                                         tmp_path: Path) -> None:
    from inspect_ai.log import list_eval_logs, read_eval_log

    items = samples(text_and_image)
    folder = _export(text_and_image, "inspect", tmp_path)
    with FaultServer(RuleAnswerer(text_and_image, items)) as server:
        env = offline_env(tmp_path, FAKE_BASE_URL=f"http://127.0.0.1:{server.port}/v1",
                          FAKE_API_KEY="test-key")
        run = subprocess.run(
            [BIN / "inspect", "eval", "task.py", "--model",
             "openai-api/fake/test-model", "--max-connections", "2", "--display", "plain"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=HARNESS_TIMEOUT)
        assert run.returncode == 0, run.stderr[-3000:]
        kinds = [content_types(body) for body in server.requests]
    logs = list_eval_logs(str(tmp_path / "inspect-logs"))
    assert len(logs) == 1
    log = read_eval_log(logs[0])
    assert log.status == "success", log.error
    assert sum("image_url" in k for k in kinds) == sum(bool(s.media) for s in items)
    assert len(kinds) == len(items)
    metrics = {name: m.value for score in log.results.scores for name, m in score.metrics.items()}
    printed = run.stdout + run.stderr
    for subtask, accuracy in expected_accuracy(items).items():
        assert metrics[subtask] == pytest.approx(accuracy)
        assert re.search(rf"{re.escape(subtask)}:?\s+{accuracy:.3f}", printed), printed[-2000:]
