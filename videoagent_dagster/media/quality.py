"""Looking at a clip: is it black, or frozen where its camera should move?"""

from __future__ import annotations

from pathlib import Path

from .ffmpeg import analyse

BLACK_MIN_S = 0.5
FROZEN_SHARE = 0.5  # a moving shot frozen for half its length (or a second, if shorter) is bad


def inspect_clip(clip: Path, camera_movement: str, duration: float) -> tuple[list[str], dict]:
    """What is wrong with a shot clip, in words (empty when it looks fine), and what its one
    decoding pass saw (ffmpeg.analyse: frames, size, rate)."""
    found = analyse(clip, black_min_s=BLACK_MIN_S, frozen_min_s=min(1.0, duration * 0.5), audio=False)
    if found["errors"]:
        return [f"does not decode cleanly: {found['errors'].splitlines()[0][:200]}"], found
    problems = [f"black {a:.1f}-{b:.1f} s" for a, b in found["black"]]
    if camera_movement != "static":
        limit = max(min(1.0, duration), duration * FROZEN_SHARE)
        frozen = sum(b - a for a, b in found["frozen"])
        if frozen >= limit - 1e-6:
            problems.append(f"frozen for {frozen:.1f} of {duration:.1f} s though the camera should {camera_movement}")
    return problems, found
