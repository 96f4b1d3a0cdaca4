"""The Ray backend: CPU operators and read-back as Ray tasks, on a cluster or a local one.

A task needs neither the run directory nor the source files: the driver ships the bytes of
every medium the state (and the siblings it may use) refers to, the worker runs the operator in
a scratch folder and returns the new state with the bytes of the media it produced, and the
driver stores them (media/<sha256>, atomically) as a local operator would have. The operator
draws from the same seeded rng wherever it runs, so the benchmark is the same byte for byte.
A worker that dies mid-task is replaced and the task rerun by Ray (`max_retries`); a cluster
that is gone stops the build with one line, and the run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from benchagent.config import ConfigError
from benchagent.executor.backend import (
    BackendName,
    CpuBackend,
    Kind,
    Siblings,
    cpu_workers,
    portable_context,
    process_cpu,
    read_medium,
)
from benchagent.operators import OpContext, OperatorArgs, OperatorError, SampleState, get_operator
from benchagent.operators.media import store_bytes
from benchagent.records import ExecutorUsage, SourceSample
from benchagent.store import RunError

TASK_CPUS = 1
TASK_MEMORY = 768 * 2**20  # bytes: piper, whisper tiny.en and an image or two fit
TASK_RETRIES = 3  # reruns of a task whose worker died
GCS_CHECK_S = 5.0  # how often a task's wait checks that the cluster still answers
GCS_GIVE_UP_S = 10.0  # silence after which the cluster counts as gone (Ray's own limit: 60)
GCS_GRACE_S = 20.0  # then the time the build has to stop by itself
INSTALL_HINT = "--executor ray needs Ray: pip install 'benchagent[ray]'"


def gcs_answers(address: str) -> bool:
    """Whether the cluster's GCS (host:port) accepts a connection; True when unknown."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():  # ray://, auto: not ours to probe
        return True
    try:
        with socket.create_connection((host, int(port)), timeout=2.0):
            return True
    except OSError:
        return False
    except Exception:  # a connection this process may not make (a sandbox): unknown
        return True


def import_ray() -> ModuleType:
    """The ray package, or a ConfigError saying in one line what to install."""
    try:
        import ray
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return ray


@dataclasses.dataclass(frozen=True)
class Shipped:
    """What a task returns: the new state, the media it produced (path -> bytes), or the
    operator's error, and who ran it in how long."""

    state: SampleState | None
    produced: dict[str, bytes]
    worker: str
    seconds: float
    cpu_s: float
    error: str = ""
    error_kind: str = ""  # "operator" or "value": the exception class to raise in the driver
    reading: str = ""


def _is_outside(path: str) -> bool:
    return Path(path).is_absolute()


def _place(path: str, scratch: Path) -> Path:
    """Where a shipped medium goes in the worker's scratch folder."""
    if _is_outside(path):
        return scratch / "_in" / hashlib.sha256(path.encode()).hexdigest()[:16] / Path(path).name
    return scratch / path


def _remap(state: SampleState, paths: dict[str, str]) -> SampleState:
    def one(path: str) -> str:
        return paths.get(path, path)
    return state.model_copy(update={
        "images": [one(p) for p in state.images], "audio": [one(p) for p in state.audio],
        "degraded": [one(p) for p in state.degraded],
        "media_text": {one(p): text for p, text in state.media_text.items()}})


def _remap_sample(sample: SourceSample, paths: dict[str, str]) -> SourceSample:
    return sample.model_copy(update={"images": [paths.get(p, p) for p in sample.images],
                                     "audio": [paths.get(p, p) for p in sample.audio]})


def _worker_name() -> str:
    import ray
    return f"{ray.get_runtime_context().get_node_id()[:8]}/pid {os.getpid()}"


class _Clock:
    """A task's wall and CPU seconds (a Ray worker runs one task at a time: its process's CPU
    time is the task's)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.monotonic(), process_cpu()

    def shipped(self, state: SampleState | None = None, produced: dict[str, bytes] | None = None,
                **rest: str) -> Shipped:
        return Shipped(state, produced or {}, _worker_name(), time.monotonic() - self.wall,
                       process_cpu() - self.cpu, **rest)


def _unpack(media: dict[str, bytes], scratch: Path) -> dict[str, str]:
    """Write the shipped media; the scratch path of each one from outside the run."""
    outside: dict[str, str] = {}
    for path, data in media.items():
        target = _place(path, scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if _is_outside(path):
            outside[path] = str(target)
    return outside


def run_shipped(op_name: str, state: SampleState, ctx: OpContext, args: OperatorArgs,
                media: dict[str, bytes]) -> Shipped:
    """The task: the operator on shipped media in a scratch folder (runs on a Ray worker)."""
    clock = _Clock()
    with tempfile.TemporaryDirectory(prefix="benchagent-task-") as tmp:
        scratch = Path(tmp)
        outside = _unpack(media, scratch)
        back = {inside: path for path, inside in outside.items()}
        siblings = ctx.siblings
        if isinstance(siblings, Siblings):
            siblings = Siblings(tuple(_remap_sample(s, outside) for s in siblings.samples))
        local = dataclasses.replace(ctx, run_dir=scratch, siblings=siblings)
        try:
            new = _remap(get_operator(op_name).fn(_remap(state, outside), local, args), back)
        except (OperatorError, ValueError) as exc:
            kind = "operator" if isinstance(exc, OperatorError) else "value"
            return clock.shipped(error=str(exc), error_kind=kind)
        produced = {str(f.relative_to(scratch)): f.read_bytes()
                    for f in sorted((scratch / "media").rglob("*")) if f.is_file()}
        produced = {rel: data for rel, data in produced.items() if rel not in media}
    return clock.shipped(new, produced)


def read_shipped(kind: Kind, name: str, data: bytes) -> Shipped:
    """The task: OCR or ASR of one medium's bytes (runs on a Ray worker)."""
    clock = _Clock()
    with tempfile.TemporaryDirectory(prefix="benchagent-read-") as tmp:
        file = Path(tmp) / name
        file.write_bytes(data)
        try:
            reading = read_medium(kind, file)
        except OperatorError as exc:
            return clock.shipped(error=str(exc), error_kind="operator")
    return clock.shipped(reading=reading)


def media_to_ship(state: SampleState, ctx: OpContext) -> dict[str, bytes]:
    """The bytes of every medium the state and the shipped siblings refer to."""
    paths = [*state.images, *state.audio]
    if isinstance(ctx.siblings, Siblings):
        paths += [p for s in ctx.siblings.samples for p in (*s.images, *s.audio)]
    media: dict[str, bytes] = {}
    for path in dict.fromkeys(paths):
        try:
            media[path] = ctx.resolve(path).read_bytes()
        except OSError as exc:
            raise OperatorError(f"cannot read media file {Path(path).name}: "
                                f"{exc.strerror}") from exc
    return media


class RayBackend(CpuBackend):
    """CPU operators and read-back as Ray tasks. Connects when an execution with CPU operators
    starts (a text-only build never does): to `address`, else $RAY_ADDRESS, else a local
    cluster of its own with one CPU per local worker (cpu_workers())."""

    name: BackendName = "ray"

    def __init__(self, address: str | None = None) -> None:
        super().__init__()
        self.ray = import_ray()
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self._lock = threading.Lock()
        self._connected_here = False
        self._remote: dict[str, Any] = {}
        self._gcs = ""
        self._gone = threading.Event()
        self._closed = threading.Event()

    def _connect(self) -> dict[str, Any]:
        with self._lock:
            if self._remote:
                return self._remote
            ray = self.ray
            if not ray.is_initialized():
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                # "local" starts a cluster of our own, never one another `ray start` left
                local = {} if self.address else {"num_cpus": max(cpu_workers(), 1),
                                                 "include_dashboard": False,
                                                 "_node_ip_address": "127.0.0.1"}
                if self.address and not gcs_answers(self.address):  # else Ray retries for minutes
                    raise RunError(f"cannot reach the Ray cluster at {self.address}: nothing "
                                   "answers there (start it with `ray start --head`, or give "
                                   "another --ray-address)")
                try:
                    ray.init(address=self.address or "local", log_to_driver=False,
                             logging_level=logging.WARNING, **local)
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    where = f"at {self.address}" if self.address else "(local)"
                    raise RunError(f"cannot reach the Ray cluster {where}: "
                                   f"{str(exc).splitlines()[0]}") from None
                self._connected_here = True
            self._gcs = str(ray.get_runtime_context().gcs_address)
            threading.Thread(target=self._watch, daemon=True, name="ray-watch").start()
            options = {"num_cpus": TASK_CPUS, "memory": TASK_MEMORY,
                       "max_retries": TASK_RETRIES, "retry_exceptions": False}
            self._remote = {"apply": ray.remote(**options)(run_shipped),
                            "read": ray.remote(**options)(read_shipped)}
            return self._remote

    def _get(self, ref: Any, what: str) -> Shipped:
        exceptions = self.ray.exceptions
        try:
            shipped: Shipped = self._wait(ref)
        except (exceptions.WorkerCrashedError, exceptions.OutOfMemoryError) as exc:
            raise OperatorError(f"{what}: the Ray worker died {TASK_RETRIES + 1} times "
                                f"({type(exc).__name__})") from None
        except exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception) and not isinstance(cause, exceptions.RayError):
                raise cause from None  # the operator's own bug, as the local backend raises it
            raise self._failed(cause if isinstance(cause, Exception) else exc) from None
        except (exceptions.RayError, ConnectionError) as exc:
            raise self._failed(exc) from None
        self.tally.record(shipped.worker, shipped.seconds, shipped.cpu_s)
        if shipped.error_kind == "value":
            raise ValueError(shipped.error)
        if shipped.error_kind:
            raise OperatorError(shipped.error)
        return shipped

    def _wait(self, ref: Any) -> Shipped:
        """ray.get, giving up once the watchdog found the cluster gone."""
        while True:
            try:
                result: Shipped = self.ray.get(ref, timeout=GCS_CHECK_S)
                return result
            except self.ray.exceptions.GetTimeoutError:
                if self._gone.is_set():
                    raise ConnectionError(f"its GCS at {self._gcs} does not answer") from None

    def _watch(self) -> None:
        """While connected: once the cluster's GCS stops answering, the waits give up; if the
        build is stuck in a call Ray never returns from (a task's arguments going to a dead
        node's object store), one line is printed and the process exits before Ray kills it
        without a word (its own limit: 60 s). Every outcome so far is on disk: the run
        resumes as after a kill."""
        silent_since: float | None = None
        while not self._closed.wait(GCS_CHECK_S):
            if gcs_answers(self._gcs):
                silent_since = None
                continue
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since >= GCS_GIVE_UP_S:
                self._gone.set()
                if not self._closed.wait(GCS_GRACE_S):
                    line = self._failed(ConnectionError(f"its GCS at {self._gcs} does not "
                                                        "answer"))
                    os.write(2, f"error: {line}\n".encode())
                    os._exit(1)
                return

    def _failed(self, exc: Exception) -> RunError:
        where = f" at {self.address}" if self.address else ""
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        hint = (" (is this version of benchagent installed on the cluster's workers?)"
                if "No module named 'benchagent" in str(exc) else "")
        return RunError(f"the Ray cluster{where} failed: {type(exc).__name__}: {first}{hint}; "
                        "what was done is kept: resume the run, locally (--executor local) or "
                        "on another cluster (--ray-address)")

    def prepare(self) -> None:
        self._connect()

    def apply(self, op_name: str, state: SampleState, ctx: OpContext,
              args: OperatorArgs) -> SampleState:
        portable = portable_context(ctx)
        media = media_to_ship(state, portable)
        ref = self._connect()["apply"].remote(op_name, state, portable, args, media)
        shipped = self._get(ref, op_name)
        for rel, data in shipped.produced.items():
            if store_bytes(data, Path(rel).suffix, ctx.run_dir) != rel:
                raise OperatorError(f"{op_name}: the worker returned {rel} with other bytes")
        assert shipped.state is not None
        return shipped.state

    def read_back(self, kind: Kind, file: Path) -> str:
        data = file.read_bytes()
        ref = self._connect()["read"].remote(kind, file.name, data)
        return self._get(ref, f"{kind} read-back").reading

    def workers(self) -> int:
        if not self._remote:
            return 0
        try:
            cpus = float(self.ray.cluster_resources().get("CPU", 0))
        except Exception:  # a cluster gone by now: its size is unknown
            return 0
        return int(cpus // TASK_CPUS)

    def usage(self) -> ExecutorUsage:
        address = ""
        if self._remote:
            address = self.address or "local"
        return self.tally.usage(self.name, self.workers(), address)

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            if self._connected_here and not self._gone.is_set():  # a gone one cannot be left
                self.ray.shutdown()
                self._connected_here = False
            self._remote = {}
