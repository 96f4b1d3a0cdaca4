"""The run directory: atomic writes, the manifest with stage status and input hashes, resume."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchagent.config import Settings
from benchagent.errors import BenchagentError
from benchagent.records import ExecutorUsage, Query, Shortfall
from benchagent.trace import UsageTotals

MANIFEST = "manifest.json"
MANIFEST_VERSION: Literal[2] = 2  # 1: before typed manifests and stage keys from the table


class RunError(BenchagentError):
    """The run directory cannot be used; one line for the user."""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def hash_of(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "missing"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (a kill mid-write) is dropped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def truncate_torn_tail(path: Path) -> None:
    """Cut anything after the last newline, so appends start on a fresh line."""
    if not path.exists():
        return
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    if cut != len(data):
        with path.open("r+b") as fh:
            fh.truncate(cut)


class JsonlAppender:
    """Appends one JSON object per line and syncs it, so an accepted sample survives a kill."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        truncate_torn_tail(path)
        self._fh: TextIO = path.open("a", encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


class StageRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "running", "done", "failed"] = "pending"
    input_hash: str | None = None
    started: str | None = None
    finished: str | None = None
    error: str | None = None


class Counts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    benchmark: int = 0
    target: int = 0
    accepted_candidates: int = 0
    rejected_candidates: int = 0


class Manifest(BaseModel):
    """manifest.json: what the run was asked, how far each stage got, what it produced."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[2] = MANIFEST_VERSION
    created: str = Field(default_factory=_now)
    query: Query
    settings: Settings
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)  # role -> model label, or "rules"
    counts: Counts | None = None
    usage: dict[str, UsageTotals] = Field(default_factory=dict)
    executor: ExecutorUsage | None = None  # where the last execution's CPU work ran
    shortfall: list[Shortfall] = Field(default_factory=list)
    subtasks: list[str] = Field(default_factory=list)
    copied_from: str | None = None
    baseline: Literal["direct"] | None = None  # built by a baseline, not by the agents


def check_new_run_folder(root: Path) -> bool:
    """Raise RunError unless a new run may go in `root`: a folder that does not exist yet, or
    an empty one. True when it exists (empty). Reads only: nothing is created or changed."""
    try:
        if (root / MANIFEST).exists():
            raise RunError(f"{root} already holds a run: use `benchagent resume {root}`")
        if not (root.exists() or root.is_symlink()):
            return False
        if not root.is_dir():
            raise RunError(f"{root} exists and is not a folder: give --out a new or empty "
                           "folder")
        if any(root.iterdir()):
            raise RunError(f"{root} is not empty and is not a benchagent run: nothing in it "
                           "was touched; give --out a new or empty folder")
    except OSError as exc:
        raise RunError(f"cannot use {root} as the run folder: {exc.strerror or exc}") from exc
    return True


def _claim_run_folder(root: Path) -> bool:
    """Check that a new run may go in `root` and make the folder; True when it was made here."""
    if check_new_run_folder(root):
        return False
    try:
        root.mkdir(parents=True)
    except OSError as exc:
        raise RunError(f"cannot use {root} as the run folder: {exc.strerror or exc}") from exc
    return True


class RunStore:
    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root = root
        self.manifest = manifest
        self._lock_fh: TextIO | None = None
        self._created: bool | None = None  # by create: True when it made the folder itself

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, root: Path, query: Query, settings: Settings,
               stages: tuple[str, ...]) -> RunStore:
        """A new run in `root`: a folder that does not exist yet or is empty. Anything else is
        refused before a single file is written: a run (resume it), a file, a folder with
        other files in it."""
        created = _claim_run_folder(root)
        store = cls(root, Manifest(query=query, settings=settings,
                                   stages={name: StageRecord() for name in stages}))
        store._created = created
        store.lock()  # on failure another process holds the folder: leave it to that one
        try:
            store.save()
        except OSError as exc:
            store.discard()
            raise RunError(f"cannot write the run's manifest in {root}: "
                           f"{exc.strerror or exc}") from exc
        except BaseException:
            store.discard()
            raise
        return store

    @classmethod
    def open(cls, root: Path) -> RunStore:
        path = root / MANIFEST
        if not path.is_file():
            raise RunError(f"{root} is not a run directory (no {MANIFEST})")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise RunError(f"cannot read {path}: {exc}") from exc
        if isinstance(data, dict) and data.get("version", MANIFEST_VERSION) != MANIFEST_VERSION:
            raise RunError(f"{path} was written by another version of benchagent (manifest "
                           f"version {data.get('version')!r}, this one reads "
                           f"{MANIFEST_VERSION}): build the run anew")
        try:
            return cls(root, Manifest.model_validate(data))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "root"
            raise RunError(f"{path} is not a valid run manifest: {where}: {first['msg']}"
                           ) from exc

    def copy_plan(self, dest: Path, plan_stages: tuple[str, ...]) -> RunStore:
        """A new run at `dest` holding this run's plan: its query, settings, plan files and
        planner stages, so that building it reruns only what the plan does not settle."""
        copy = RunStore.create(dest, self.manifest.query, self.manifest.settings,
                               tuple(self.manifest.stages))
        for name in plan_stages:
            copy.manifest.stages[name] = self.stage(name).model_copy()
        for src in sorted((self.root / "plan").glob("*")):
            if src.is_file():
                atomic_write_text(dest / "plan" / src.name, src.read_text(encoding="utf-8"))
        copy.manifest.subtasks = list(self.manifest.subtasks)
        copy.manifest.copied_from = str(self.root.resolve())
        copy.save()
        return copy

    def lock(self) -> None:
        """Hold an exclusive lock for this process, so two builds never share a run."""
        try:
            self._lock_fh = (self.root / ".lock").open("w")
        except OSError as exc:
            raise RunError(f"cannot write in the run folder {self.root}: "
                           f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.close()
            raise RunError(f"{self.root} is in use by another benchagent process") from exc

    @property
    def is_new(self) -> bool:
        """True for a store `create` made in this process (its folder held nothing else)."""
        return self._created is not None

    def close(self) -> None:
        """Release the lock (the `.lock` file stays: it is only ever locked, never trusted)."""
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def discard(self) -> None:
        """Undo `create` for a run that could not start: what it wrote goes, and the folder
        too when `create` made it. Only for a store from `create` (its folder was empty)."""
        if self._created is None:
            raise RuntimeError("discard() is only for a run this process created")
        self.close()
        if self._created:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        for child in list(self.root.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def save(self) -> None:
        atomic_write_text(self.root / MANIFEST,
                          self.manifest.model_dump_json(indent=2, exclude_none=True) + "\n")

    # ------------------------------------------------------------ files

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write_json(self, rel: str, data: Any) -> None:
        atomic_write_json(self.root / rel, data)

    def read_json(self, rel: str) -> Any:
        path = self.root / rel
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RunError(f"{path} is missing") from exc
        except json.JSONDecodeError as exc:
            raise RunError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
        except UnicodeDecodeError as exc:
            raise RunError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
        except RecursionError as exc:
            raise RunError(f"{path} is nested too deeply to read") from exc
        except OSError as exc:
            raise RunError(f"cannot read {path}: {exc.strerror or exc}") from exc

    # ------------------------------------------------------------ stages

    def stage(self, name: str) -> StageRecord:
        return self.manifest.stages.setdefault(name, StageRecord())

    def is_done(self, name: str, input_hash: str) -> bool:
        info = self.stage(name)
        return info.status == "done" and info.input_hash == input_hash

    def start(self, name: str, input_hash: str) -> bool:
        """Mark `name` running; True when it continues earlier work on the same inputs (after a
        kill, a crash or a failure: whatever the stage had kept stays valid)."""
        info = self.stage(name)
        continuing = info.input_hash == input_hash
        info.status, info.input_hash, info.started, info.error = "running", input_hash, _now(), None
        self.save()
        return continuing

    def finish(self, name: str, input_hash: str) -> None:
        info = self.stage(name)
        info.status, info.input_hash, info.finished = "done", input_hash, _now()
        self.save()

    def rekey(self, name: str, input_hash: str) -> None:
        """A done stage whose inputs a later stage of the same build rewrote stays done."""
        self.stage(name).input_hash = input_hash
        self.save()

    def fail(self, name: str, error: str) -> None:
        info = self.stage(name)
        info.status, info.error = "failed", error
        self.save()


@contextlib.contextmanager
def appenders(*paths: Path) -> Iterator[list[JsonlAppender]]:
    opened = [JsonlAppender(p) for p in paths]
    try:
        yield opened
    finally:
        for a in opened:
            a.close()
