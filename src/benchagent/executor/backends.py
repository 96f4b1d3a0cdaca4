"""Where CPU operators and media read-back run: one interface (backend.py), two backends.

The local backend is a spawn process pool on this machine (the default); the Ray backend
(ray_backend.py, an optional extra) sends the same work to a Ray cluster. Either way the driver
keeps planning, model calls, verification decisions and every write to the run directory.
"""

from __future__ import annotations

import dataclasses
import threading

from benchagent.executor.backend import BackendName, CpuBackend, cpu_workers
from benchagent.executor.local_backend import LocalBackend

__all__ = ["BackendChoice", "CpuBackend", "CpuPool", "LocalBackend", "active_backend",
           "check_backend", "cpu_workers", "make_backend"]


@dataclasses.dataclass(frozen=True)
class BackendChoice:
    """Which backend a build runs on: `local`, or `ray` at an address (none: $RAY_ADDRESS, else
    a local cluster)."""

    name: BackendName = "local"
    address: str | None = None


def check_backend(name: str) -> None:
    """A ConfigError, in one line, when the backend `name` cannot run here (ray missing)."""
    if name == "ray":
        from benchagent.executor.ray_backend import import_ray
        import_ray()


def make_backend(choice: BackendChoice) -> CpuBackend:
    if choice.name == "ray":
        from benchagent.executor.ray_backend import RayBackend  # ray is an optional extra
        return RayBackend(choice.address)
    return LocalBackend()


_active: CpuBackend | None = None
_users = 0
_lock = threading.Lock()


class CpuPool:
    """The backend CPU operators run on, shared by the threads of one execution (and by builds
    running at once in one process: the first one's choice), closed with its last user."""

    def __init__(self, choice: BackendChoice = BackendChoice()) -> None:
        self.choice = choice

    def __enter__(self) -> CpuBackend:
        global _active, _users
        with _lock:
            if _active is None:
                _active = make_backend(self.choice)
            _users += 1
            return _active

    def __exit__(self, *exc: object) -> None:
        global _active, _users
        with _lock:
            _users -= 1
            backend = _active if _users == 0 else None
            if backend is not None:
                _active = None
        if backend is not None:
            backend.close()


def active_backend() -> CpuBackend | None:
    """The backend of the execution under way; None outside one (operators run in the thread)."""
    return _active
