#!/usr/bin/env bash
# Set everything up and make a video with the offline providers (no keys, no network).
#   ./quickstart.sh ["topic"] [videoagent make options…]
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup-env.sh
topic="${1:-A documentary about wildlife in Africa}"
shift || true
exec .venv/bin/videoagent make "$topic" --duration 30 --resolution 720p --out video.mp4 "$@"
