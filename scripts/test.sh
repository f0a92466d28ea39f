#!/usr/bin/env bash
# `make test`: system packages, the venv, real services on 127.0.0.1, lint, the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
# Bytecode caches: the tests start many Python processes (servers, workers, the CLI), and
# without caches each compiles every module it imports again (seconds a process).
unset PYTHONDONTWRITEBYTECODE
scripts/system-deps.sh venv
scripts/system-deps.sh test
scripts/venv.sh test

echo "== lint: ruff, mypy --strict, import-linter (the layers)" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache  # the layers of docs/architecture.md

# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop EXIT
services_start

echo "== tests" >&2
.venv/bin/pytest "$@"
