#!/usr/bin/env bash
# Install the Debian packages a task needs, only those missing:
# `scripts/system-deps.sh venv|test|bench`.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

case "${1:-test}" in
  venv)
    python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
      || need+=(python3-venv)
    ;;
  test)
    [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || need+=(postgresql)
    have redis-server || need+=(redis-server)
    have curl || need+=(curl)
    have tesseract || need+=(tesseract-ocr)
    for lang in eng spa; do
      ls /usr/share/tesseract-ocr/*/tessdata/$lang.traineddata >/dev/null 2>&1 \
        || need+=(tesseract-ocr-$lang)
    done
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
    have ffmpeg || need+=(ffmpeg)
    have espeak-ng || need+=(espeak-ng)
    have sox || need+=(sox)
    [ -x /usr/bin/chromium ] || need+=(chromium)  # browser tests (never a download)
    # llama.cpp's server is built from its PyPI source once (scripts/venv.sh)
    have cmake || need+=(cmake)
    have g++ || need+=(g++)
    ;;
  bench)
    have wrk || need+=(wrk)
    have curl || need+=(curl)
    ;;
esac

[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then sudo=(sudo -n); else
    echo "error: need root or sudo to install: ${need[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
