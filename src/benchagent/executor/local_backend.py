"""The local backend: CPU operators in a spawn process pool on this machine (the default)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

from benchagent.executor.backend import (
    BackendName,
    CpuBackend,
    Kind,
    cpu_workers,
    portable_context,
    process_cpu,
    read_medium,
)
from benchagent.operators import OpContext, OperatorArgs, OperatorError, SampleState, get_operator

_T = TypeVar("_T")


def _apply_in_worker(name: str, state: SampleState, ctx: OpContext,
                     args: OperatorArgs) -> tuple[SampleState, int, float, float]:
    """The new state, the worker's pid, and the task's wall and CPU seconds (in the pool's
    one-task-at-a-time workers, the process's CPU time is the task's; in the driver's thread,
    what ran there, less its subprocesses and helper threads)."""
    started, cpu = time.monotonic(), process_cpu()
    new = get_operator(name).fn(state, ctx, args)
    return new, os.getpid(), time.monotonic() - started, process_cpu() - cpu


def _read_in_worker(kind: Kind, file: Path) -> tuple[str, int, float, float]:
    """What is read off the medium, the worker's pid, and the task's wall and CPU seconds."""
    started, cpu = time.monotonic(), process_cpu()
    reading = read_medium(kind, file)
    return reading, os.getpid(), time.monotonic() - started, process_cpu() - cpu


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: exit once the build process is gone (killed by SIGKILL)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class LocalBackend(CpuBackend):
    """A spawn process pool on this machine, started when a CPU operator first runs (a text-only
    build never starts one); with 0 workers, operators and read-back run in the calling
    thread."""

    name: BackendName = "local"

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None

    def workers(self) -> int:
        return max(cpu_workers(), 0)

    def prepare(self) -> None:
        """Nothing: the pool starts with the first CPU operator, as it always did."""

    def _get_pool(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self.pool is None and self.workers() > 0:
                self.pool = ProcessPoolExecutor(
                    max_workers=self.workers(), mp_context=multiprocessing.get_context("spawn"),
                    initializer=_die_with_parent, initargs=(os.getpid(),))
            return self.pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """A broken pool (a worker died) is dropped; the next CPU step starts a new one."""
        with self._lock:
            if self.pool is pool:
                self.pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def apply(self, op_name: str, state: SampleState, ctx: OpContext,
              args: OperatorArgs) -> SampleState:
        pool = self._get_pool()
        if pool is None:
            cpu = time.thread_time()
            new, _, seconds, _ = _apply_in_worker(op_name, state, ctx, args)
            self.tally.record("driver", seconds, time.thread_time() - cpu)
            return new
        new, pid, seconds, cpu_s = self._in_pool(pool, op_name, _apply_in_worker, op_name,
                                                 state, portable_context(ctx), args)
        self.tally.record(f"pid {pid}", seconds, cpu_s)
        return new

    def read_back(self, kind: Kind, file: Path) -> str:
        pool = self._get_pool()
        if pool is None:
            started, cpu = time.monotonic(), time.thread_time()
            reading = read_medium(kind, file)
            self.tally.record("driver", time.monotonic() - started, time.thread_time() - cpu)
            return reading
        reading, pid, seconds, cpu_s = self._in_pool(pool, f"{kind} read-back",
                                                     _read_in_worker, kind, file)
        self.tally.record(f"pid {pid}", seconds, cpu_s)
        return reading

    def _in_pool(self, pool: ProcessPoolExecutor, what: str, fn: Callable[..., _T],
                 *args: object) -> _T:
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool as exc:
            self._discard(pool)
            raise OperatorError(f"{what}: the worker process died ({exc})") from exc

    def close(self) -> None:
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
