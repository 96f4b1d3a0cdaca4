"""Fixtures for tests that run real GGUF models with llama.cpp.

Models come from the cache filled by `python scripts/fetch_test_models.py`. A missing
model fails the test loudly; set BENCHAGENT_SKIP_MODELS=1 to skip these tests instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

HERE = Path(__file__).resolve().parent
FETCH_SCRIPT = HERE.parents[1] / "scripts" / "fetch_test_models.py"
SKIP_ENV = "BENCHAGENT_SKIP_MODELS"
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_TIMEOUT = 10.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as `integration`."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@functools.cache
def _load_fetch_script() -> ModuleType:
    """Import scripts/fetch_test_models.py, so tests and script share one cache layout."""
    spec = importlib.util.spec_from_file_location("fetch_test_models", FETCH_SCRIPT)
    assert spec is not None and spec.loader is not None, f"cannot import {FETCH_SCRIPT}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _cached_model(key: str) -> Path:
    if _skip_models():
        pytest.skip(f"{SKIP_ENV}=1: tests that need real models are skipped")
    fetch = _load_fetch_script()
    path: Path = fetch.model_path(key)
    if not fetch.looks_cached(key):
        pytest.fail(
            f"test model {key!r} is missing or incomplete at {path}: "
            f"run `python scripts/fetch_test_models.py` (or set {SKIP_ENV}=1 to skip)",
            pytrace=False,
        )
    return path


def _skip_models() -> bool:
    return os.environ.get(SKIP_ENV) == "1"


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct Q4_K_M."""
    return _cached_model("qwen")


@pytest.fixture(scope="session")
def smollm_gguf() -> Path:
    """SmolLM2-135M-Instruct Q4_1."""
    return _cached_model("smollm")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"llama_cpp.server exited with {process.returncode}:\n{_log_tail(log)}",
                pytrace=False,
            )
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(
        f"llama_cpp.server not ready after {SERVER_START_TIMEOUT:.0f}s:\n{_log_tail(log)}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def llama_server(qwen_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An OpenAI-compatible llama_cpp.server serving Qwen; yields `http://127.0.0.1:PORT/v1`."""
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(qwen_gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
                "--n_threads", str(min(4, os.cpu_count() or 1))]
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_ready(process, base_url, log)
        yield base_url
    finally:
        _stop(process)
