"""Looking at clips: black and frozen pictures are found, and a vendor's clip is conformed and
looked at in the same pass."""

import subprocess

import pytest

from videoagent_dagster.media.detect import analyse
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.quality import (
    animate_and_inspect,
    conform_and_inspect,
    inspect_clip,
)
from videoagent_dagster.media.run import MediaToolError


def _clip(path, source: str, seconds: float, size="256x144", rate=30):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}size={size}:rate={rate}:d={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_a_vendor_clip_is_conformed_and_inspected_in_one_pass(tmp_path):
    raw = _clip(tmp_path / "raw.mp4", "testsrc2=", 1.5)  # 256x144 at 30 fps, 1.5 s: short of the shot
    out = tmp_path / "shot.mp4"
    problems, seen = conform_and_inspect(raw, out, "pan_right", frames=48, fps=24, width=320, height=180)
    facts = probe(out)
    assert (facts["video"]["width"], facts["video"]["height"], facts["video"]["fps"]) == (320, 180, 24)
    assert facts["video"]["frames"] == 48 == seen["frames"]  # 36 frames of picture, its last held for 12
    assert (seen["width"], seen["height"], seen["fps"]) == (320, 180, 24.0)
    assert problems == []  # held for half a second: not frozen for half the shot
    # What the one pass saw is what a separate look at the result sees.
    again = analyse(out, black_min_s=0.5, frozen_min_s=1.0, audio=False)
    assert again["frames"] == 48 and again["errors"] == "" and again["black"] == seen["black"] == []


def test_black_and_frozen_vendor_clips_are_caught(tmp_path):
    black = _clip(tmp_path / "black.mp4", "color=c=black:", 2)
    problems, _ = conform_and_inspect(black, tmp_path / "b.mp4", "zoom_in", frames=48, fps=24, width=320, height=180)
    assert problems and problems[0].startswith("black 0.0-2.0")
    still = _clip(tmp_path / "still.mp4", "color=c=gray:", 2)
    problems, _ = conform_and_inspect(still, tmp_path / "s.mp4", "zoom_in", frames=48, fps=24, width=320, height=180)
    assert any("frozen for" in p and "zoom_in" in p for p in problems)
    problems, _ = conform_and_inspect(still, tmp_path / "s2.mp4", "static", frames=48, fps=24, width=320, height=180)
    assert problems == []  # a static shot may hold still
    # A vendor's clip longer than the shot: a freeze running to the end ends where the conformed clip does.
    long = _clip(tmp_path / "long.mp4", "color=c=gray:", 4)
    _, seen = conform_and_inspect(long, tmp_path / "l.mp4", "zoom_in", frames=48, fps=24, width=320, height=180)
    assert seen["frozen"] == [(0.0, 2.0)] == analyse(tmp_path / "l.mp4", black_min_s=0.5, frozen_min_s=1.0,
                                                     audio=False)["frozen"]


def test_what_is_not_a_video_fails_clearly(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>expired</html>")
    with pytest.raises(MediaToolError, match="conforming junk.mp4: ffmpeg exited"):
        conform_and_inspect(junk, tmp_path / "o.mp4", "pan_left", frames=24, fps=24, width=320, height=180)


def test_inspect_clip_reports_the_clip_as_decoded(tmp_path):
    clip = _clip(tmp_path / "c.mp4", "testsrc2=", 1, size="320x180", rate=24)
    problems, seen = inspect_clip(clip, "pan_left", 1.0)
    assert problems == [] and (seen["frames"], seen["width"], seen["height"], seen["fps"]) == (24, 320, 180, 24.0)
    broken = tmp_path / "broken.mp4"
    data = clip.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # cut off mid-stream
    problems, _ = inspect_clip(broken, "pan_left", 1.0)
    assert problems and problems[0].startswith("does not decode cleanly")


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    """A storyboard frame, a flat grey picture (nothing to see move) and a near-black one."""
    from PIL import Image

    from videoagent_dagster.domain.styles import CATALOGUE
    from videoagent_dagster.media.frames import render_frame

    d = tmp_path_factory.mktemp("stills")
    render_frame(d / "frame.png", 320, 180, style="urban", palette=list(CATALOGUE["urban"].palette),
                 shot_type="wide", title="Moves", label="TEST", seed=3)
    Image.new("RGB", (320, 180), (128, 128, 128)).save(d / "grey.png")
    Image.new("RGB", (320, 180), (12, 12, 12)).save(d / "dark.png")
    return d


@pytest.mark.parametrize("preset", ["veryfast", "ultrafast"])
@pytest.mark.parametrize("move", ["static", "zoom_in", "pan_left", "tracking"])
def test_an_animated_clip_looked_at_as_it_is_made_gets_the_verdict_of_a_look_after(stills, tmp_path, move, preset):
    for still in ("frame", "grey", "dark"):
        out = tmp_path / f"{still}.mp4"
        problems, seen = animate_and_inspect(stills / f"{still}.png", out, move, frames=36, fps=24, width=320,
                                             height=180, preset=preset)
        after, seen_after = inspect_clip(out, move, 1.5)
        assert problems == after, still
        assert {k: seen[k] for k in ("black", "frames", "width", "height", "fps", "errors")} == {
            k: seen_after[k] for k in ("black", "frames", "width", "height", "fps", "errors")}, still
        if move != "static":  # a held still's keyframes may break its freeze once encoded; it is never judged frozen
            assert seen["frozen"] == seen_after["frozen"], still
    # The verdicts themselves: a flat picture cannot be seen to move; a near-black one is black.
    assert problems[0].startswith("black 0.0-1.5")
    assert (len(problems) == 2 and "frozen for 1.5 of 1.5 s" in problems[1]) == (move != "static")


def test_animating_an_unknown_move_or_a_missing_still_fails_clearly(stills, tmp_path):
    with pytest.raises(ValueError, match="not one of"):
        animate_and_inspect(stills / "frame.png", tmp_path / "x.mp4", "barrel_roll", frames=2, fps=24, width=320,
                            height=180)
    with pytest.raises(MediaToolError, match="animating missing.png: ffmpeg exited"):
        animate_and_inspect(stills / "missing.png", tmp_path / "x.mp4", "zoom_in", frames=2, fps=24, width=320,
                            height=180)
