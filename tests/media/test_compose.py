import wave

import numpy as np

from videoagent_dagster.media.compose import compose, narration_track, thumbnail
from videoagent_dagster.media.ffmpeg import decode_errors, probe
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.motion import animate
from videoagent_dagster.media.speech import speak
from videoagent_dagster.media.subtitles import Cue, write_ass
from videoagent_dagster.styles import CATALOGUE


def test_narration_track_places_each_line_at_its_shot(tmp_path):
    a = tmp_path / "a.wav"
    speak("First line, which runs long enough to be cut at its shot's end.", a, language="en")
    b = tmp_path / "b.wav"
    speak("Second.", b, language="en")
    out = tmp_path / "track.wav"
    narration_track([(a, 1.5), (None, 1.0), (b, 2.0)], out)
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        s = np.abs(np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(int))
    assert len(s) == int(4.5 * rate)
    assert s[:int(1.5 * rate)].max() > 500  # line one, cut at 1.5 s
    assert s[int(1.5 * rate) + 50:int(2.5 * rate)].max() < 50  # a silent shot
    onset = np.argmax(s[int(2.5 * rate):] > 500) / rate
    assert onset < 0.1  # line three starts with its shot


def test_compose_joins_clips_with_audio_and_subtitles(tmp_path):
    clips = []
    for i, move in enumerate(("pan_right", "zoom_in")):
        frame = tmp_path / f"f{i}.png"
        render_frame(frame, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="wide",
                     title=f"Shot {i}", label="T", seed=i)
        clips.append(tmp_path / f"c{i}.mp4")
        animate(frame, clips[-1], move=move, frames=30, fps=25, width=320, height=180, preset="ultrafast")
    audio = tmp_path / "n.wav"
    narration_track([(None, 1.2), (None, 1.2)], audio)
    ass = tmp_path / "s.ass"
    write_ass([Cue(0.1, 2.0, "字幕 subtitles")], ass, 320, 180)
    out = tmp_path / "dir with 'quotes'" / "out.mp4"
    compose(clips, out, fps=25, audio=audio, subtitles_ass=ass, preset="ultrafast")
    facts = probe(out)
    assert abs(facts["duration"] - 2.4) < 0.05 and facts["video"]["fps"] == 25
    assert facts["audio"]["codec"] == "aac" and decode_errors(out) == ""
    thumbnail(out, tmp_path / "t.jpg", at=0.5)
    assert (tmp_path / "t.jpg").stat().st_size > 1000
    silent = tmp_path / "silent.mp4"
    compose(clips, silent, fps=25, preset="ultrafast")
    assert probe(silent)["audio"] is None


def test_decode_errors_are_reported(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    assert decode_errors(broken) != ""


def test_final_loudness_is_normalised(tmp_path):
    from videoagent_dagster.media.ffmpeg import loudness

    line = tmp_path / "line.wav"
    speak("A quiet narrator says a few words about the sea, the wind and the long grey coast.", line, language="en")
    audio = tmp_path / "n.wav"
    narration_track([(line, 6.0)], audio)
    frame = tmp_path / "f.png"
    render_frame(frame, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="wide",
                 title="t", label="l", seed=1)
    clip = tmp_path / "c.mp4"
    animate(frame, clip, move="zoom_in", frames=144, fps=24, width=320, height=180, preset="ultrafast")
    out = tmp_path / "out.mp4"
    compose([clip], out, fps=24, audio=audio, preset="ultrafast")
    level = loudness(out)
    assert abs(level["integrated_lufs"] + 14) <= 1.5 and level["true_peak_dbtp"] <= -1.0, level


def test_black_and_frozen_stretches_are_found(tmp_path):
    import subprocess

    from videoagent_dagster.media.ffmpeg import stretches

    video = tmp_path / "v.mp4"
    # 2 s moving test pattern, 2 s black, 2 s of one frozen frame.
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:d=2",
                    "-f", "lavfi", "-i", "color=black:size=320x180:rate=24:d=2",
                    "-f", "lavfi", "-i", "color=0x3366aa:size=320x180:rate=24:d=2",
                    "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video)], check=True)
    black = stretches(video, "black", 1.0)
    assert len(black) == 1 and abs(black[0][0] - 2) < 0.1 and abs(black[0][1] - 4) < 0.1
    frozen = stretches(video, "frozen", 1.0)
    assert sum(b - a for a, b in frozen) >= 3.8 and min(a for a, _ in frozen) >= 1.9  # black, then flat colour
    assert not any(b <= 2.0 for a, b in frozen)  # the test pattern moves
