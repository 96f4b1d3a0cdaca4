"""A request whose parts ask for different inputs ("word problems, and clock images, and
questions spoken aloud") gets one subtask per part with that part's own inputs; a request whose
items hold its media together keeps one set of inputs for every subtask."""

from __future__ import annotations

import json
from pathlib import Path

from benchagent.planner.relevance import modal_parts
from benchagent.records import Modality, Query
from runcli import cli

MIXED = ("arithmetic word problems and unit conversions, and read the time shown on analogue "
         "clock images, and answer arithmetic questions spoken aloud in audio clips")


def test_parts_with_their_own_media_are_found() -> None:
    parts = modal_parts(Query(id="q", description=MIXED))
    assert parts is not None
    assert [p.wanted for p in parts] == [[Modality.text], [Modality.text],
                                         [Modality.text, Modality.image],
                                         [Modality.text, Modality.audio]]
    assert parts[3].produced == {Modality.audio}
    together = "Evaluate omni-modal understanding: each item combines an image and a spoken clip."
    assert modal_parts(Query(id="q", description=together)) is None
    assert modal_parts(Query(id="q", description="read text shown in images")) is None
    with_clip = "name the colour of a square shown in an image, with a short audio clip"
    assert modal_parts(Query(id="q", description=with_clip)) is None


def test_each_part_is_planned_with_its_own_inputs(tmp_path: Path) -> None:
    result = cli("plan", MIXED, "--size", "8", "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    subtasks = json.loads((tmp_path / "run" / "plan" / "subtasks.json").read_text())
    assert [s["modalities"] for s in subtasks] == [["text"], ["text"], ["text", "image"],
                                                   ["text", "audio"]]
    plan = (tmp_path / "run" / "plan" / "plan.md").read_text()
    for name in ("Arithmetic-Word-Problems", "Unit-Conversion", "Analog-Clock-Reading",
                 "Spoken-Math-Questions"):
        assert f"| {name} |" in plan, name
    assert "not clearly served" not in result.stdout
