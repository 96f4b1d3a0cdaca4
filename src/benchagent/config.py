"""Settings: `benchagent.toml` (or --config) merged under the command-line flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchagent.errors import BenchagentError
from benchagent.models.spec import ModelConfig, parse_model_spec
from benchagent.paths import pool_path

Role = Literal["design", "grounding", "allocation", "executor", "verifier", "judge"]
ROLES: tuple[Role, ...] = ("design", "grounding", "allocation", "executor", "verifier", "judge")
# The paper's ablations: each switches one agent to its baseline.
Ablation = Literal["design", "plan-scoring", "sample-planning", "verification"]
ABLATIONS: tuple[Ablation, ...] = ("design", "plan-scoring", "sample-planning", "verification")
CONFIG_NAME = "benchagent.toml"


class ConfigError(BenchagentError):
    """A setting is missing or wrong; the message is one line for the user."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int | None = Field(default=None, ge=1)
    pools: list[Path] = Field(default_factory=list)
    seed: int = 0
    concurrency: int | None = Field(default=None, ge=1, le=256)  # None: samples_in_flight()
    model: str | None = None  # default for every role: a spec or a name from `models`
    base_url: str | None = None
    roles: dict[Role, str] = Field(default_factory=dict)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    oversample: float = Field(default=1.25, ge=1.0, le=5.0)
    attempts_per_item: int = Field(default=5, ge=1, le=100)  # candidates tried per quota slot
    max_subtasks: int = Field(default=4, ge=1, le=12)
    cache_dir: Path | None = None  # model response cache; default: inside the run directory
    ablate: list[Ablation] = Field(default_factory=list)
    planner_rounds: int = Field(default=3, ge=1, le=10)  # design ↔ grounding ↔ allocation
    include_related: bool = False  # datasets merely related to the request may serve it
    # Where CPU operators and read-back run: a local process pool, or a Ray cluster at
    # ray_address (none: $RAY_ADDRESS, else a local one). Never part of what a stage's
    # outputs depend on: a run resumes on either.
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None

    def model_for(self, role: Role) -> ModelConfig | None:
        """The model bound to `role`, or None when the rules policy runs."""
        ref = self.roles.get(role, self.model)
        if ref is None or ref == "rules":
            return None
        if ref in self.models:
            return self.models[ref]
        try:
            return parse_model_spec(ref, base_url=self.base_url)
        except ValueError as exc:
            raise ConfigError(f"role {role}: {exc}") from exc

    def public(self) -> dict[str, Any]:
        """What goes into the manifest: everything here is safe to write (no keys exist here)."""
        return self.model_dump(mode="json")


def load_settings(config_path: Path | None, overrides: dict[str, Any]) -> Settings:
    """Settings from the config file (if any) with non-None `overrides` on top."""
    data: dict[str, Any] = {}
    path = config_path or (Path.cwd() / CONFIG_NAME)
    if config_path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    source = path if path.is_file() else None
    if source is not None:
        data = _read_toml(source)
    given: set[str] = set()
    for key, value in overrides.items():
        if value is None or value == [] or value == {}:
            continue
        given.add(key)
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return validated_settings(data, source, given)


def validated_settings(data: dict[str, Any], source: Path | None = None,
                       given: set[str] | None = None) -> Settings:
    """`data` as Settings, or a ConfigError naming the first wrong setting and, when it came
    from there, the config file `source` (keys in `given` came from the caller)."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "[key]")
        key = str(first["loc"][0]) if first["loc"] else ""
        from_file = source is not None and key not in (given or set())
        origin = f" in {source}" if from_file else ""
        raise ConfigError(f"invalid setting {where}{origin}: {first['msg']}") from exc


def _read_toml(path: Path, whole: bool = False) -> dict[str, Any]:
    """The settings of the config file at `path` (with `whole`: every table as read)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    if whole:
        return raw
    for table in ("build", "roles", "models"):
        if table in raw and not isinstance(raw[table], dict):
            raise ConfigError(f"invalid config {path}: [{table}] must be a table, "
                              f"not {type(raw[table]).__name__}")
    data = dict(raw.get("build", {}))
    for key in ("roles", "models"):
        if key in raw:
            data[key] = raw[key]
    if "pools" in data:
        pools = data["pools"]
        if not isinstance(pools, list) or not all(isinstance(p, str) for p in pools):
            raise ConfigError(f"invalid config {path}: build.pools must be a list of paths")
        data["pools"] = [pool_path(p, path.parent) for p in pools]
    return data


def load_judge_weights(config_path: Path | None) -> dict[str, float]:
    """`[judge] weights = {UIA = 0.3, ...}` of the config file (default ./benchagent.toml if
    present), as given: the judge checks the names and fills in the rest."""
    path = config_path or (Path.cwd() / CONFIG_NAME)
    if config_path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    if not path.is_file():
        return {}
    table = _read_toml(path, whole=True).get("judge", {})
    weights = table.get("weights", {}) if isinstance(table, dict) else None
    if not isinstance(weights, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in weights.values()):
        raise ConfigError(f"invalid config {path}: judge.weights must be a table of numbers, "
                          "e.g. {UIA = 0.3, TSD = 0.2}")
    return {str(k): float(v) for k, v in weights.items()}
