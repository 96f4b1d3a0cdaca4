"""What every stage of a build is given: the run, its settings, query, pool and models."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from benchagent.config import Settings
from benchagent.executor.run import ProgressFn
from benchagent.models import RoleModels
from benchagent.pool import Pool
from benchagent.records import Query
from benchagent.store import RunError, RunStore, hash_of, read_jsonl

T = TypeVar("T", bound=BaseModel)
V = TypeVar("V")


class ProgressFactory(Protocol):
    """(quota per subtask, accepted so far per subtask, where the CPU work runs: "local, 2
    workers", or "" when there is none) -> a context giving the progress callback."""

    def __call__(self, quotas: dict[str, int], done: dict[str, int],
                 where: str = "") -> contextlib.AbstractContextManager[ProgressFn]: ...


@contextlib.contextmanager
def no_progress(quotas: dict[str, int], done: dict[str, int],
                where: str = "") -> Iterator[ProgressFn]:
    yield lambda outcome, flight: None


@dataclass
class BuildContext:
    store: RunStore
    settings: Settings
    query: Query
    pool: Pool
    models: RoleModels
    progress: ProgressFactory = no_progress

    @property
    def seed(self) -> int:
        return self.settings.seed

    def label(self, role: str) -> str:
        return self.models.labels().get(role, "rules")

    def ablated(self, agent: str) -> bool:
        return agent in self.settings.ablate

    @functools.cached_property
    def fingerprint(self) -> str:
        return hash_of(sorted((c.id, c.size) for c in self.pool.cards))

    def read(self, rel: str, kind: type[T]) -> T:
        return self._validate(rel, TypeAdapter(kind), self.store.read_json(rel))

    def read_list(self, rel: str, kind: type[T]) -> list[T]:
        adapter = TypeAdapter(list[kind])  # type: ignore[valid-type]
        return self._validate(rel, adapter, self.store.read_json(rel))

    def read_jsonl(self, rel: str, kind: type[T]) -> list[T]:
        adapter = TypeAdapter(list[kind])  # type: ignore[valid-type]
        return self._validate(rel, adapter, read_jsonl(self.store.path(rel)))

    def write(self, rel: str, value: BaseModel | Sequence[BaseModel]) -> None:
        if isinstance(value, BaseModel):
            self.store.write_json(rel, value.model_dump(mode="json"))
        else:
            self.store.write_json(rel, [v.model_dump(mode="json", exclude_none=True)
                                        for v in value])

    def _validate(self, rel: str, adapter: TypeAdapter[V], data: object) -> V:
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "root"
            raise RunError(f"{self.store.path(rel)} is not a valid run file: {where}: "
                           f"{first['msg']}") from exc
