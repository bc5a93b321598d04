"""Measuring outputs independently of the code under test."""

from __future__ import annotations

import subprocess
from pathlib import Path

RATE = 24000


def decoded_seconds(path: Path) -> float:
    """Seconds of audio counted by decoding every sample with ffmpeg (not read from a header)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(RATE),
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return len(out) / 2 / RATE
