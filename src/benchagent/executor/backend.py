"""The interface of the backends CPU operators and media read-back run on (local_backend.py,
ray_backend.py; backends.py picks one), and what they share."""

from __future__ import annotations

import dataclasses
import os
import resource
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal

from benchagent.operators import OpContext, OperatorArgs, OperatorError, SampleState
from benchagent.operators.audio import transcribe
from benchagent.operators.ocr import ocr_image, tesseract_available
from benchagent.records import ExecutorUsage, SourceSample, WorkerUsage

BackendName = Literal["local", "ray"]
Kind = Literal["image", "audio"]
SIBLINGS_SHIPPED = 16  # sibling samples a worker may ask for


def cpu_workers() -> int:
    """$BENCHAGENT_CPU_WORKERS, else one per core; 0 runs CPU operators in the calling thread."""
    env = os.environ.get("BENCHAGENT_CPU_WORKERS")
    return int(env) if env else (os.cpu_count() or 1)


def samples_in_flight(workers: int) -> int:
    """Samples processed at once unless the user says: two per CPU worker, so a worker has the
    next task while its other sample is in the driver (a model call, a check), and at least 4."""
    return max(4, 2 * workers)


@dataclasses.dataclass(frozen=True)
class Siblings:
    """ctx.siblings for a worker: the samples drawn in the driver, picklable."""

    samples: tuple[SourceSample, ...]

    def __call__(self, n: int) -> list[SourceSample]:
        return list(self.samples[max(len(self.samples) - n, 0):]) if n > 0 else []


def portable_context(ctx: OpContext) -> OpContext:
    """`ctx` without what stays in the driver: no model, siblings drawn here."""
    siblings = Siblings(tuple(ctx.siblings(SIBLINGS_SHIPPED))) if ctx.siblings else None
    return dataclasses.replace(ctx, model=None, siblings=siblings)


def read_medium(kind: Kind, file: Path) -> str:
    """What tesseract reads off an image or whisper hears in a clip."""
    if kind == "image":
        if not tesseract_available():
            raise OperatorError("tesseract is not installed (install the Debian package "
                                "tesseract-ocr)")
        return ocr_image(file)
    return transcribe(file)


def process_cpu() -> float:
    """CPU seconds of this process and of the subprocesses it waited for (espeak-ng,
    tesseract): in a worker that runs one task at a time, the delta is the task's."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _own_cpu() -> float:
    """CPU seconds of this process's threads, without its children (pool workers, a local
    Ray cluster)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Tally:
    """Tasks and busy seconds per worker, from the driver's side (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[str, WorkerUsage] = {}
        self._started, self._driver_cpu = time.monotonic(), _own_cpu()

    def record(self, worker: str, seconds: float, cpu: float) -> None:
        with self._lock:
            usage = self._workers.setdefault(worker, WorkerUsage())
            usage.tasks += 1
            usage.busy_s = round(usage.busy_s + seconds, 3)
            usage.cpu_s = round(usage.cpu_s + cpu, 3)

    def usage(self, backend: BackendName, workers: int, address: str = "") -> ExecutorUsage:
        with self._lock:
            per_worker = {k: v.model_copy() for k, v in sorted(self._workers.items())}
        wall = round(time.monotonic() - self._started, 3)
        driver = round(_own_cpu() - self._driver_cpu, 3)
        return ExecutorUsage(backend=backend, workers=workers, address=address, wall_s=wall,
                             driver_cpu_s=driver,
                             tasks=sum(w.tasks for w in per_worker.values()),
                             per_worker=per_worker)


class CpuBackend(ABC):
    """Runs CPU operators and read-back; what it returns is what the driver stores."""

    name: BackendName

    def __init__(self) -> None:
        self.tally = Tally()

    @abstractmethod
    def prepare(self) -> None:
        """Start or reach the workers now, from the calling (main) thread, before the
        execution's threads need them."""

    @abstractmethod
    def apply(self, op_name: str, state: SampleState, ctx: OpContext,
              args: OperatorArgs) -> SampleState:
        """The operator's new state; media it produced are in ctx.run_dir when it returns."""

    @abstractmethod
    def read_back(self, kind: Kind, file: Path) -> str:
        """`read_medium` of the file, wherever this backend runs it."""

    @abstractmethod
    def workers(self) -> int:
        """How many tasks may run at once."""

    def usage(self) -> ExecutorUsage:
        return self.tally.usage(self.name, self.workers())

    @abstractmethod
    def close(self) -> None:
        """Release the workers (the next use starts them again)."""
