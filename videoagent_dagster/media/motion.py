"""The offline shot animator: a camera move over a still first frame, encoded by ffmpeg."""

from __future__ import annotations

from pathlib import Path

from videoagent_dagster.media.run import ffmpeg

# zoompan expressions per move. Moves stay small enough (at most ~11% of a side cropped) that
# the frame's caption, drawn inside its safe area, stays in view. {p} runs 0→1 across the shot; zoom is the crop's magnification,
# and x/y place the crop's top-left corner inside the (supersampled) picture.
_CENTRE_X, _CENTRE_Y = "(iw-iw/zoom)/2", "(ih-ih/zoom)/2"
MOVES: dict[str, tuple[str, str, str]] = {
    "static": ("1", "0", "0"),
    "zoom_in": ("1+0.15*{p}", _CENTRE_X, _CENTRE_Y),
    "zoom_out": ("1.15-0.15*{p}", _CENTRE_X, _CENTRE_Y),
    "pan_left": ("1.12", "(iw-iw/zoom)*(1-{p})", _CENTRE_Y),
    "pan_right": ("1.12", "(iw-iw/zoom)*{p}", _CENTRE_Y),
    "tilt_up": ("1.12", _CENTRE_X, "(ih-ih/zoom)*(1-{p})"),
    "tilt_down": ("1.12", _CENTRE_X, "(ih-ih/zoom)*{p}"),
    # A dolly eases in and out and pushes further than a zoom.
    "dolly": ("1+0.22*(3*{p}*{p}-2*{p}*{p}*{p})", _CENTRE_X, _CENTRE_Y),
    # Tracking follows sideways with a slight bob, as a handheld follow would.
    "tracking": ("1.12", "(iw-iw/zoom)*{p}", "(ih-ih/zoom)*(0.5+0.25*sin({p}*PI))"),
}

# Supersampling before zoompan: it crops at whole pixels, so a 2x source halves the judder.
SUPERSAMPLE = 2


# Settings for a clip the final cut encodes again (picture.why_encode: a blending transition, burned
# subtitles): about half the CPU of veryfast at the same crf; the bits it spends more are dropped
# by the final's own encode, whose quality it barely changes. A stream-copied final is the clips
# themselves, so those keep the default (veryfast).
INTERMEDIATE_PRESET, INTERMEDIATE_CRF = "ultrafast", 20


def animate_filter(move: str, *, frames: int, fps: int, width: int, height: int) -> str:
    """The filter chain that makes `frames` frames of `move` over a still, at width x height."""
    if move not in MOVES:
        raise ValueError(f"camera move {move!r} is not one of {', '.join(MOVES)}")
    zoom, x, y = (e.replace("{p}", f"(on/{max(1, frames - 1)})") for e in MOVES[move])
    ss = SUPERSAMPLE if move != "static" else 1
    return (f"scale={width * ss}:{height * ss}:flags=bicubic,"
            f"zoompan=z='{zoom}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={fps},"
            "format=yuv420p")


def animate(
    image: Path,
    out: Path,
    *,
    move: str,
    frames: int,
    fps: int,
    width: int,
    height: int,
    preset: str = "veryfast",
    crf: int = 20,
    threads: int = 0,
) -> None:
    """Write an H.264 MP4 of exactly `frames` frames: `move` over `image`, at width x height."""
    vf = animate_filter(move, frames=frames, fps=fps, width=width, height=height)
    out.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(["-i", str(image), "-vf", vf, "-frames:v", str(frames), *clip_output(fps=fps, preset=preset, crf=crf,
                                                                                   threads=threads), str(out)],
           what=f"animating {image.name} ({move})")


def conform_filter(*, frames: int, fps: int, width: int, height: int) -> str:
    """Re-time and re-frame a clip to exactly `frames` frames of width x height at `fps`: scaled to
    cover and centre-cropped, cut where it is long, its last frame held where it is short."""
    return (f"fps={fps},scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
            f"crop={width}:{height},setsar=1,tpad=stop_mode=clone:stop={frames},trim=end_frame={frames},"
            "format=yuv420p")


def clip_output(*, fps: int, preset: str, crf: int, threads: int = 0) -> list[str]:
    """Output options of a shot clip (an H.264 MP4 without sound), all but the file name."""
    return ["-r", str(fps), "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-threads", str(threads),
            "-g", str(fps * 2), "-movflags", "+faststart", "-f", "mp4"]
