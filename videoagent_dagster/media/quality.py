"""Looking at a shot clip: is it black, or frozen where its camera should move? (A clip as it is,
or looked at in the pass that makes it: a vendor's conformed, or the offline camera's animated.)"""

from __future__ import annotations

from pathlib import Path

from videoagent_dagster.media.detect import (
    CLIP_BLACK_MIN_S,
    analyse,
    picture_detectors,
    run_detecting,
)
from videoagent_dagster.media.motion import animate_filter, clip_output, conform_filter
from videoagent_dagster.media.run import Command, MediaToolError

FROZEN_SHARE = 0.5  # a moving shot frozen for half its length (or a second, if shorter) is bad


def inspect_clip(clip: Path, camera_movement: str, duration: float) -> tuple[list[str], dict]:
    """What is wrong with a shot clip, in words (empty when it looks fine), and what its one
    decoding pass saw (detect.analyse: frames, size, rate)."""
    found = analyse(clip, black_min_s=CLIP_BLACK_MIN_S, frozen_min_s=_frozen_min_s(duration), audio=False)
    return _problems(found, camera_movement, duration), found


def conform_and_inspect(src: Path, out: Path, camera_movement: str, *, frames: int, fps: int, width: int,
                        height: int, preset: str = "ultrafast", crf: int = 20) -> tuple[list[str], dict]:
    """A vendor's clip conformed (motion.conform_filter) into `out` and inspected as inspect_clip
    does, in one pass: the conformed frames go both to the encoder and to the detectors."""
    cmd = Command()
    made = f"{cmd.input(src).v}{conform_filter(frames=frames, fps=fps, width=width, height=height)}"
    return _make_and_inspect(cmd, made, out, camera_movement, frames=frames, fps=fps, width=width, height=height,
                             preset=preset, crf=crf, what="conforming", src=src)


def animate_and_inspect(image: Path, out: Path, camera_movement: str, *, frames: int, fps: int, width: int,
                        height: int, preset: str = "veryfast", crf: int = 20) -> tuple[list[str], dict]:
    """motion.animate's clip of `camera_movement` over a still, written to `out` and inspected as
    inspect_clip does, in the same pass: the frames the encoder gets go to the detectors too, so
    the clip just made is not decoded again."""
    cmd = Command()
    made = f"{cmd.input(image).v}{animate_filter(camera_movement, frames=frames, fps=fps, width=width, height=height)}"
    return _make_and_inspect(cmd, made, out, camera_movement, frames=frames, fps=fps, width=width, height=height,
                             preset=preset, crf=crf, what="animating", src=image)


def _make_and_inspect(cmd: Command, made: str, out: Path, camera_movement: str, *, frames: int, fps: int,
                      width: int, height: int, preset: str, crf: int, what: str, src: Path) -> tuple[list[str], dict]:
    """Encode the filter chain `made` (over cmd's input) into `out` while the detectors look at it."""
    duration = frames / fps
    graph = f"{made},split[clip][look];[look]{picture_detectors(CLIP_BLACK_MIN_S, _frozen_min_s(duration))},nullsink"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd.output("-filter_complex", graph, "-map", "[clip]", "-frames:v", str(frames),
               *clip_output(fps=fps, preset=preset, crf=crf), "-y", str(out))
    # A stretch still frozen at the end closes at the end of what was made (probed only then), as
    # inspect_clip would close it: not at the end of the input (a still has none; a vendor's clip may be longer).
    found = run_detecting(cmd.args, what, out)
    if found["returncode"] != 0 or found["frames"] == 0:
        tail = " | ".join(found["errors"].splitlines()[-4:]) or "no frames came out"
        raise MediaToolError(f"{what} {src.name}: ffmpeg exited with {found['returncode']}: {tail}")
    # What was made, not what came in (ffmpeg's stream description is the input's); the decoder's
    # complaints about the input were concealed in what was encoded.
    found.update(width=width, height=height, fps=float(fps), errors="")
    return _problems(found, camera_movement, duration), found


def _frozen_min_s(duration: float) -> float:
    return min(1.0, duration * 0.5)


def _problems(found: dict, camera_movement: str, duration: float) -> list[str]:
    if found["errors"]:
        return [f"does not decode cleanly: {found['errors'].splitlines()[0][:200]}"]
    problems = [f"black {a:.1f}-{b:.1f} s" for a, b in found["black"]]
    if camera_movement != "static":
        limit = max(min(1.0, duration), duration * FROZEN_SHARE)
        frozen = sum(b - a for a, b in found["frozen"])
        if frozen >= limit - 1e-6:
            problems.append(f"frozen for {frozen:.1f} of {duration:.1f} s though the camera should {camera_movement}")
    return problems
