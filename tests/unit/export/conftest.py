"""Starter-pool runs for the export tests, built once per session (see exported_runs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.export.exported_runs import build_run, merged_run


@pytest.fixture(scope="session")
def starter_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A text, an image and an audio run; the image one with the exports `build` writes by
    default, the others built with --no-export."""
    root = tmp_path_factory.mktemp("export-runs")
    env = {"BENCHAGENT_CACHE": str(tmp_path_factory.getbasetemp() / "benchagent-cache")}
    sizes = {"text": 6, "image": 6, "audio": 4}
    return {kind: build_run(root, kind, size, env, export=kind == "image")
            for kind, size in sizes.items()}


@pytest.fixture(scope="session")
def text_and_image(starter_runs: dict[str, Path],
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    return merged_run(tmp_path_factory.mktemp("merged") / "text-and-image",
                      [starter_runs["image"], starter_runs["text"]])


@pytest.fixture(scope="session")
def text_image_audio(starter_runs: dict[str, Path],
                     tmp_path_factory: pytest.TempPathFactory) -> Path:
    return merged_run(tmp_path_factory.mktemp("merged") / "text-image-audio",
                      [starter_runs["image"], starter_runs["text"], starter_runs["audio"]])
