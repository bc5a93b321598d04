#!/usr/bin/env bash
# Prepare this checkout: system tools (ffmpeg, espeak-ng, Noto CJK and Color Emoji fonts), a virtualenv in
# .venv with videoagent and its dev extras. Safe to run again; it skips what is already there.
# --tests also installs what only the tests use: Debian's chromium (the creator page's test) and prometheus
# (promtool, which checks and unit-tests the alert rules).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
# (no grep -q: with pipefail, its early exit would SIGPIPE fc-list and read as "missing")
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep -i "Noto Color Emoji" >/dev/null || need+=(fonts-noto-color-emoji)
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null || need+=(chromium)
  command -v promtool >/dev/null || need+=(prometheus)  # promtool checks and unit-tests the alert rules
fi
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import videoagent_dagster, pytest, numpy" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing videoagent into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch .venv/.installed
fi
