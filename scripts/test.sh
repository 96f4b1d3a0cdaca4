#!/usr/bin/env bash
# Sets up (see setup.sh), then lints, type-checks and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests scripts benchmarks
.venv/bin/mypy
.venv/bin/pytest -q "$@"
