import subprocess

import numpy as np
import pytest

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.motion import MOVES, animate
from videoagent_dagster.media.probe import probe


@pytest.fixture(scope="module")
def still(tmp_path_factory):
    p = tmp_path_factory.mktemp("still") / "frame.png"
    render_frame(p, 320, 180, style="urban", palette=list(CATALOGUE["urban"].palette), shot_type="wide",
                 title="Moves", label="TEST", seed=3)
    return p


def frames_of(video, w=320, h=180):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w).astype(int)


@pytest.mark.parametrize("move", sorted(MOVES))
def test_each_camera_move(still, tmp_path, move):
    out = tmp_path / f"{move}.mp4"
    animate(still, out, move=move, frames=36, fps=24, width=320, height=180, preset="ultrafast")
    facts = probe(out)
    assert facts["video"]["codec"] == "h264" and (facts["video"]["width"], facts["video"]["height"]) == (320, 180)
    assert facts["video"]["fps"] == 24 and abs(facts["duration"] - 1.5) < 0.05
    frames = frames_of(out)
    assert len(frames) == 36
    change = np.abs(frames[0] - frames[-1]).mean()
    if move == "static":
        assert change < 1.5
    else:
        assert change > 3, f"{move} barely moves ({change:.2f})"


def test_unknown_move_is_refused(still, tmp_path):
    with pytest.raises(ValueError, match="not one of"):
        animate(still, tmp_path / "x.mp4", move="barrel_roll", frames=2, fps=24, width=320, height=180)
