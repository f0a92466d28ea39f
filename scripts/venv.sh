#!/usr/bin/env bash
# Create .venv and install TZZR with pinned dependencies: `scripts/venv.sh base|test`.
# Re-running is cheap: it reinstalls only when pyproject.toml or the pins changed.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-base}
venv=.venv
stamp=$venv/.installed-$kind
# Tools whose pins conflict with ours get their own venv (openapi-python-client pins typer).
tools=.venv-tools
export UV_PYTHON_DOWNLOADS=never

if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt "requirements/$kind.txt" ] \
  && { [ "$kind" != test ] || [ "$stamp" -nt tests/plugin/pyproject.toml ]; } \
  && { [ "$kind" != test ] || [ -x "$tools/bin/openapi-python-client" ]; }; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian splits venv out of python3.
    scripts/system-deps.sh venv
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
fi
if [ ! -x "$venv/bin/uv" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
fi
echo "installing TZZR ($kind dependencies) into $venv" >&2
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -r "requirements/$kind.txt"
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e .
if [ "$kind" = test ]; then
  # A third-party cell package, for the queue tests (inert unless TZZR_TEST_CELLS=1).
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e tests/plugin
  # The generator of the generated-client test (tests/api/test_client.py).
  [ -x "$tools/bin/python" ] || "$venv/bin/uv" venv --quiet --python "$venv/bin/python" "$tools"
  "$venv/bin/uv" pip install --quiet --python "$tools/bin/python" openapi-python-client==0.29.1
fi
touch "$stamp"
