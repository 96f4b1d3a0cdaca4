"""The Ray backend on a real local cluster (2 CPUs on 127.0.0.1, started once for the module):
the same benchmark and media, byte for byte, as the local process pool; a worker killed
mid-build costs nothing; without ray installed, one line says what to install."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import SHARED_QUERIES

import benchagent
from benchagent.api import BuildResult
from benchagent.executor import backends
from benchagent.executor.ray_backend import INSTALL_HINT
from benchagent.executor.run import ProgressFn
from runcli import benchmark, cli

SPOKEN, IMAGES = SHARED_QUERIES / "spoken_commonsense.json", SHARED_QUERIES / "text_in_image.json"


# These two come first: they need a process that is not connected to Ray yet.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_cluster_that_is_not_there_stops_the_build_in_one_line_and_it_resumes_locally(
        tmp_path: Path, shared_pools: Path) -> None:
    import ray
    assert not ray.is_initialized(), "runs before the module's cluster starts: a build in a " \
        "process connected to Ray uses that connection"
    address = f"127.0.0.1:{_free_port()}"
    run = tmp_path / "run"
    failed = cli("build", SPOKEN, "--pool", shared_pools / "bigbench", "--size", "2",
                 "--executor", "ray", "--ray-address", address, "--out", run, "--no-export")
    assert failed.returncode == 1
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot reach the Ray cluster at {address}: nothing answers")
    resumed = cli("resume", run, "--executor", "local", "--no-export")
    assert resumed.returncode == 0, resumed.stderr
    assert len(benchmark(run)) == 2 and "executor: local" in resumed.stdout


def test_without_ray_the_build_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    result = cli("build", "Test unit conversion in word problems", "--size", "2",
                 "--executor", "ray", "--out", tmp_path / "run")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {INSTALL_HINT}"]
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local cluster for every test here; its workers cache apart from the local builds,
    so what they return they computed."""
    import ray
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    cache = tmp_path_factory.mktemp("ray-worker-cache")
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {"BENCHAGENT_CACHE": str(cache)}})
    try:
        yield ray
    finally:
        ray.shutdown()


def _build(run: Path, query: Path, pool: Path, size: int, **extra: Any) -> BuildResult:
    return benchagent.build(query, out=run, size=size, pools=[pool], **extra)


@pytest.fixture(scope="module")
def local_spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_POOLS
    run = tmp_path_factory.mktemp("local") / "spoken"
    _build(run, SPOKEN, SHARED_POOLS / "bigbench", 4)
    return run


def _media(run: Path) -> dict[str, bytes]:
    """The benchmark's media files by name. (The run may hold more: which candidates past
    the quota were in flight when it was met depends on timing, on either backend.)"""
    paths = {m["path"] for s in benchmark(run) for m in s["media"]}
    return {p: (run / p).read_bytes() for p in sorted(paths)}


def _content_addressed(run: Path) -> bool:
    return all(f.name.startswith(hashlib.sha256(f.read_bytes()).hexdigest()[:32])
               for f in (run / "media").iterdir())


def _same_build(local: Path, on_ray: Path) -> None:
    expected = (local / "benchmark" / "benchmark.jsonl").read_bytes()
    assert expected and (on_ray / "benchmark" / "benchmark.jsonl").read_bytes() == expected
    assert _media(local) and _media(on_ray) == _media(local)
    assert _content_addressed(on_ray)
    ids = [s["id"] for s in benchmark(on_ray)]
    assert len(ids) == len(set(ids))


def _ran_on_ray(result: BuildResult) -> dict[str, Any]:
    ran = result.manifest.executor
    assert ran is not None and ran.backend == "ray" and ran.workers == 2
    assert ran.tasks > 0 and all("/pid " in name for name in ran.per_worker)
    assert ran.driver_cpu_s > 0  # the driver's own share (its checks, its writes)
    return ran.throughput()


def _kill_a_busy_worker(killed: list[int], stop: threading.Event) -> None:
    """Once a worker has finished two tasks (with more queued, it is running the next), SIGKILL
    it: Ray starts another and reruns the task it held."""
    while not stop.is_set():
        backend = backends.active_backend()
        workers = backend.tally.usage("ray", 0).per_worker if backend else {}
        busy = [name for name, usage in workers.items() if usage.tasks >= 2]
        if busy:
            pid = int(busy[0].rsplit(" ", 1)[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.01)


# First of the builds on the cluster: its workers' cache is cold, so the tasks take seconds
# and the kill lands in one.
def test_a_worker_killed_mid_build_loses_and_repeats_nothing(
        ray_cluster: Any, local_spoken: Path, tmp_path: Path, shared_pools: Path) -> None:
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_busy_worker, args=(killed, stop), daemon=True)
    killer.start()
    try:
        result = _build(tmp_path / "ray", SPOKEN, shared_pools / "bigbench", 4, executor="ray",
                        seed=0)
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was killed: the build ended first"
    _same_build(local_spoken, tmp_path / "ray")
    accepted = (tmp_path / "ray" / "samples" / "accepted.jsonl").read_text().splitlines()
    keys = [json.loads(line)["key"] for line in accepted]
    assert len(keys) == len(set(keys))  # no candidate recorded twice
    _ran_on_ray(result)


def test_a_spoken_build_on_ray_is_the_local_build(ray_cluster: Any, local_spoken: Path,
                                                  tmp_path: Path, shared_pools: Path) -> None:
    shown_where: list[str] = []

    @contextlib.contextmanager
    def progress(quotas: dict[str, int], done: dict[str, int],
                 where: str = "") -> Iterator[ProgressFn]:
        shown_where.append(where)
        yield lambda outcome, flight: None

    result = _build(tmp_path / "ray", SPOKEN, shared_pools / "bigbench", 4, executor="ray",
                    progress=progress)
    assert shown_where == ["ray, 2 CPU workers"]  # the live bar names the backend
    _same_build(local_spoken, tmp_path / "ray")
    rates = _ran_on_ray(result)
    shown = cli("show", tmp_path / "ray")
    assert shown.returncode == 0 and "executor: ray (local), 2 workers" in shown.stdout
    assert all(name in shown.stdout for name in rates)
    as_json = json.loads(cli("show", tmp_path / "ray", "--json").stdout)["executor"]
    assert as_json["backend"] == "ray" and as_json["tasks_per_s"] == rates


def test_an_image_build_on_ray_is_the_local_build(ray_cluster: Any, tmp_path: Path,
                                                  shared_pools: Path) -> None:
    pools = [shared_pools / "general-bench", shared_pools / "bigbench"]
    local = benchagent.build(IMAGES, out=tmp_path / "local", size=4, pools=pools)
    on_ray = benchagent.build(IMAGES, out=tmp_path / "ray", size=4, pools=pools,
                              executor="ray")
    assert local.manifest.executor is not None and local.manifest.executor.backend == "local"
    _same_build(tmp_path / "local", tmp_path / "ray")
    _ran_on_ray(on_ray)
