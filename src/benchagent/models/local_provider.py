"""A GGUF model run in process by llama.cpp (`pip install 'benchagent[local]'`)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchagent.models.base import (
    Completion,
    CompletionRequest,
    InputRejectedError,
    ModelError,
    media_parts,
)
from benchagent.models.spec import ModelConfig

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        ChatCompletionRequestResponseFormat,
        CreateChatCompletionResponse,
    )

LOAD_SEED = 0
MISSING_LLAMA = "the local provider needs llama-cpp-python: pip install 'benchagent[local]'"


def model_spec(path: Path) -> str:
    """`local:<file name>:<12 hex>`, stable across machines: hashes the name and byte size."""
    fingerprint = f"{path.name}:{path.stat().st_size}".encode()
    return f"local:{path.name}:{hashlib.sha256(fingerprint).hexdigest()[:12]}"


def _import_llama() -> type[Llama]:
    try:
        from llama_cpp import Llama
    except ImportError:
        raise ModelError(MISSING_LLAMA) from None
    return Llama


def _load_llama(llama_class: type[Llama], path: Path, n_ctx: int) -> Llama:
    try:
        return llama_class(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=os.cpu_count(),
            seed=LOAD_SEED,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as error:
        raise ModelError(f"llama.cpp could not load {path}: {error}") from None


def _response_format(request: CompletionRequest) -> ChatCompletionRequestResponseFormat | None:
    """Grammar-constrained JSON when the request carries a schema."""
    if request.json_schema is None:
        return None
    return {"type": "json_object", "schema": request.json_schema}


def _to_completion(response: CreateChatCompletionResponse) -> Completion:
    choice = response["choices"][0]
    usage = response["usage"]
    return Completion(
        text=choice["message"]["content"] or "",
        prompt_tokens=usage["prompt_tokens"],
        completion_tokens=usage["completion_tokens"],
        extra={"finish_reason": choice["finish_reason"]},
    )


class LocalProvider:
    """Runs `cfg.model` (a GGUF path) with llama-cpp-python; one loaded model, calls serialized."""

    def __init__(self, cfg: ModelConfig) -> None:
        llama_class = _import_llama()
        path = Path(cfg.model).expanduser()
        if not path.is_file():
            raise ModelError(f"GGUF model file not found: {path}")
        self._spec = model_spec(path)
        self._llama = _load_llama(llama_class, path, cfg.n_ctx)
        self._lock = threading.Lock()

    @property
    def spec(self) -> str:
        return self._spec

    def complete(self, request: CompletionRequest) -> Completion:
        if media_parts(request):  # no vision or audio projector is loaded with the model
            raise InputRejectedError(f"{self._spec} takes text only, not "
                                     f"{', '.join(sorted(set(media_parts(request))))}")
        with self._lock:
            response = self._create(request)
        return _to_completion(response)

    def close(self) -> None:
        """Free the model's memory now instead of at garbage collection."""
        with self._lock:
            self._llama.close()

    def _create(self, request: CompletionRequest) -> CreateChatCompletionResponse:
        try:
            response = self._llama.create_chat_completion(
                messages=cast("list[ChatCompletionRequestMessage]", request.messages),
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
                response_format=_response_format(request),
                stream=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"llama.cpp completion failed: {error}") from None
        return cast("CreateChatCompletionResponse", response)  # stream=False: one response
