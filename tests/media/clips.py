"""Tiny test clips and ways to look at what came out, shared by the media tests."""

import subprocess

import numpy as np

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media.detect import analyse
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.motion import animate
from videoagent_dagster.media.probe import probe


def moving_clips(tmp_path, n=2, frames=30, fps=25, preset="ultrafast"):
    clips = []
    for i, move in enumerate(("pan_right", "zoom_in", "tilt_up")[:n]):
        frame = tmp_path / f"f{i}.png"
        render_frame(frame, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="wide",
                     title=f"Shot {i}", label="T", seed=i)
        clips.append(tmp_path / f"c{i}-{preset}.mp4")
        animate(frame, clips[-1], move=move, frames=frames, fps=fps, width=320, height=180, preset=preset)
    return clips


def solid(path, colour, frames, fps=24, size="320x180"):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color={colour}:size={size}:rate={fps}",
                    "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return path


def decode_errors(video, audio: bool = True) -> str:
    """What the decoders said of the video (detect.analyse, the final checks' pass): '' when clean."""
    return analyse(video, black_min_s=1.0, frozen_min_s=1.0, audio=audio)["errors"]


def frame_at(video, index, fps=24):
    """Frame `index` of a video as an RGB array (decoded by ffmpeg, picked by number)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", f"select=eq(n\\,{index})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    w, h = probe(video)["video"]["width"], probe(video)["video"]["height"]
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(int)


def x264_options(path) -> bytes:
    """The settings libx264 wrote into a clip's stream (its SEI): 'cabac=0' there is ultrafast."""
    data = path.read_bytes()
    at = data.find(b"options: ")
    assert at != -1, f"{path} has no x264 settings in it"
    return data[at:data.find(b"\0", at)]
