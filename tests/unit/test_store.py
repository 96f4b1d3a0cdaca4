from __future__ import annotations

from pathlib import Path

import pytest

from benchagent import store as store_module
from benchagent.config import Settings
from benchagent.records import Query
from benchagent.store import JsonlAppender, RunError, RunStore, atomic_write_text, read_jsonl

STAGES = ("design", "grounding")


def _create(root: Path) -> RunStore:
    return RunStore.create(root, Query(id="q", description="d"), Settings(), STAGES)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]


def test_torn_last_line_is_dropped_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]
    appender = JsonlAppender(path)
    appender.append({"a": 3})
    appender.close()
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_stage_status_and_input_hashes(tmp_path: Path) -> None:
    store = _create(tmp_path / "run")
    assert not store.is_done("design", "h1")
    assert store.start("design", "h1") is False
    store.finish("design", "h1")
    assert store.is_done("design", "h1")
    assert not store.is_done("design", "h2")
    reopened = RunStore.open(tmp_path / "run")
    assert reopened.is_done("design", "h1")


def test_create_refuses_an_existing_run(tmp_path: Path) -> None:
    _create(tmp_path / "run")
    with pytest.raises(RunError, match="resume"):
        _create(tmp_path / "run")


def test_open_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not a run directory"):
        RunStore.open(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(RunError, match="cannot read"):
        RunStore.open(tmp_path)


def test_a_manifest_that_does_not_validate_is_named_in_one_line(tmp_path: Path) -> None:
    store = _create(tmp_path / "run")
    text = store.path("manifest.json").read_text()
    store.path("manifest.json").write_text(text.replace('"pending"', '"half-done"', 1))
    with pytest.raises(RunError, match=r"manifest.json is not a valid run manifest: "
                                       r"stages\.design\.status"):
        RunStore.open(tmp_path / "run")


def test_a_manifest_of_another_version_is_refused(tmp_path: Path) -> None:
    store = _create(tmp_path / "run")
    text = store.path("manifest.json").read_text()
    store.path("manifest.json").write_text(text.replace('"version": 2', '"version": 1'))
    with pytest.raises(RunError, match="another version of benchagent"):
        RunStore.open(tmp_path / "run")


def test_second_process_cannot_take_the_lock(tmp_path: Path) -> None:
    first = _create(tmp_path / "run")
    other = RunStore.open(tmp_path / "run")
    with pytest.raises(RunError, match="in use"):
        other.lock()
    assert first.root == other.root


def test_create_refuses_a_folder_of_other_files_and_touches_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "D"
    (folder / "plan").mkdir(parents=True)
    (folder / "plan" / "plan.md").write_text("mine")
    with pytest.raises(RunError, match="not empty and is not a benchagent run"):
        _create(folder)
    assert [p.name for p in folder.rglob("*")] == ["plan", "plan.md"]
    assert (folder / "plan" / "plan.md").read_text() == "mine"


def test_create_refuses_a_file_and_a_path_under_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(RunError, match="is not a folder"):
        _create(a_file)
    with pytest.raises(RunError, match=r"cannot use .* as the run folder"):
        _create(a_file / "run")
    assert a_file.read_text() == "x"


def test_discard_removes_a_folder_it_made_and_empties_one_it_was_given(tmp_path: Path) -> None:
    made = _create(tmp_path / "new")
    made.discard()
    assert not (tmp_path / "new").exists()
    (tmp_path / "given").mkdir()
    given = _create(tmp_path / "given")
    (tmp_path / "given" / "cache").mkdir()
    given.discard()
    assert list((tmp_path / "given").iterdir()) == []
    with pytest.raises(RuntimeError):
        RunStore.open(_create(tmp_path / "other").root).discard()


def test_close_releases_the_lock(tmp_path: Path) -> None:
    first = _create(tmp_path / "run")
    first.close()
    again = RunStore.open(tmp_path / "run")
    again.lock()
    again.close()


def test_a_lost_race_for_a_new_folder_leaves_the_winners_run_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    winner = _create(tmp_path / "run")
    # the loser checked the folder while it was still empty, just before the winner wrote
    monkeypatch.setattr(store_module, "check_new_run_folder", lambda root: True)
    with pytest.raises(RunError, match="in use"):
        _create(tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock", "manifest.json"]
    winner.save()
    assert RunStore.open(tmp_path / "run").manifest.query.id == "q"
