#!/usr/bin/env bash
# Sets up a fresh machine for the tests (the system packages, then setup.sh's Python side with
# the dev tools and test models), then lints, type-checks, checks the import contracts and runs
# every test in one process. `bash scripts/test.sh -n auto --dist loadgroup --no-loadscope-reorder`
# runs them on one pytest-xdist worker per core (tests/xdist_groups.py keeps the tests that share
# a slow fixture on one worker); not yet the default: on 2 loaded cores the model tests of two
# workers at once ran into their timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system_packages.sh
bash scripts/setup.sh test
.venv/bin/ruff check src tests scripts benchmarks
# mypy's cache outside the clone: the next run on this machine checks only what changed (mypy
# compares each file's hash, so a fresh clone elsewhere reuses it).
MYPY_CACHE_DIR="${MYPY_CACHE_DIR:-$HOME/.cache/benchagent-ci/mypy}" .venv/bin/mypy
.venv/bin/lint-imports --no-cache  # the layers and no import cycles (pyproject.toml)
.venv/bin/pytest -q "$@"
