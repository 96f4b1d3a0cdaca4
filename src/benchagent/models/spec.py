"""How a model is named and configured: `ModelConfig`, parsed from a spec or a config table."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ProviderName = Literal["mock", "openai", "local"]


class ModelConfig(BaseModel):
    """One model endpoint. Holds the *name* of the API key's variable, never the key."""

    model_config = ConfigDict(extra="forbid")

    provider: ProviderName
    model: str = ""  # model id (openai), GGUF path (local), script path or "" (mock)
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    structured: Literal["auto", "json_schema", "json_object"] = "auto"
    timeout: float = Field(default=120.0, gt=0)  # one attempt
    deadline_s: float = Field(default=180.0, gt=0)  # one call, across all its attempts
    slow_warning_s: float = Field(default=30.0, gt=0)  # warn once when an answer takes longer
    max_concurrency: int = Field(default=4, ge=1)
    max_retries: int = Field(default=5, ge=0)
    repair_rounds: int = Field(default=2, ge=0)
    n_ctx: int = Field(default=4096, ge=256)  # local only
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_base_url(value)
        return value

    @model_validator(mode="after")
    def _deadline_fits_an_attempt(self) -> ModelConfig:
        """A timeout raised past the default deadline raises the deadline with it: one attempt
        may take all of its timeout. A deadline the user set stays."""
        if "deadline_s" not in self.model_fields_set and self.timeout > self.deadline_s:
            self.deadline_s = self.timeout
        return self

    @property
    def label(self) -> str:
        """Human-readable and safe to log: provider and model, no secrets."""
        return f"{self.provider}:{self.model}" if self.model else self.provider


def check_base_url(url: str) -> None:
    """Raise ValueError unless `url` is an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url {display_url_safe(url)!r} is not an http:// or https:// "
                         "URL with a host")


def display_url_safe(url: str) -> str:
    """`url` cut short, and without what may be a password before an `@`."""
    shown = url.rsplit("@", 1)[-1]
    return shown if len(shown) <= 80 else shown[:77] + "..."


def parse_model_spec(spec: str, base_url: str | None = None) -> ModelConfig:
    """`mock`, `mock:SCRIPT.json`, `openai:MODEL`, `local:PATH.gguf`."""
    if base_url is not None:
        check_base_url(base_url)
    provider, _, rest = spec.partition(":")
    if provider not in ("mock", "openai", "local"):
        raise ValueError(
            f"unknown model spec {spec!r}: use mock, mock:SCRIPT.json, openai:MODEL "
            "or local:PATH.gguf"
        )
    if provider in ("openai", "local") and not rest:
        raise ValueError(f"model spec {spec!r} needs a model after the colon")
    return ModelConfig(provider=provider, model=rest, base_url=base_url)
