"""The final video's media checks on real files: a line that fell silent, sound that drifts."""

from __future__ import annotations

import subprocess

from videoagent_dagster.assets.checks import look_at, media_checks
from videoagent_dagster.media.compose import compose, narration_track
from videoagent_dagster.media.ffmpeg import probe
from videoagent_dagster.media.speech import speak
from videoagent_dagster.models import Narration, NarrationLine, Shot, Storyboard


def _board(n: int, seconds: float) -> Storyboard:
    shot = Shot(scene=0, title="t", description="d", narration="n", camera_movement="static",
                shot_type="wide", duration=seconds, composition="c", lighting="l", palette=["#000000", "#ffffff"])
    return Storyboard(shots=[shot] * n, total_duration=n * seconds, width=320, height=180, fps=24, style="nature")


def _narration(n: int, seconds: float, speech: float) -> Narration:
    return Narration(lines=[NarrationLine(shot=i + 1, text="words", start=i * seconds, end=(i + 1) * seconds,
                                          audio_key=f"a/{i}.wav", speech_duration=speech) for i in range(n)],
                     track_key="a/track.wav", subtitles_srt="s.srt", subtitles_ass="s.ass")


def _results(video, board, narration):
    facts = probe(video)
    return {r.check_name: r for r in media_checks(look_at(video, facts), facts, board, narration)}


def _grey(path, seconds):
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=24:d={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _second_line_missing(tmp_path, music=None):
    """A 6 s video of two 3 s shots whose second line of narration is missing: (video, voice track)."""
    line = tmp_path / "line.wav"
    speak("The tide comes in over the flats.", line, language="en")
    voice = tmp_path / "voice.wav"
    narration_track([(line, 3.0), (None, 3.0)], voice)
    video = tmp_path / "v.mp4"
    compose([_grey(tmp_path / "c.mp4", 6)], video, fps=24, width=320, height=180, audio=voice, music=music,
            preset="ultrafast")
    return video, voice


def test_a_line_that_fell_silent_is_caught(tmp_path):
    video, _ = _second_line_missing(tmp_path)
    results = _results(video, _board(2, 3.0), _narration(2, 3.0, speech=1.5))
    assert not results["narration_audible"].passed
    assert "shot 2" in results["narration_audible"].metadata["problems"].value
    assert "shot 1" not in results["narration_audible"].metadata["problems"].value
    assert results["audio_in_sync"].passed


def test_sound_longer_than_the_picture_is_caught(tmp_path):
    clip = _grey(tmp_path / "c.mp4", 3)
    video = tmp_path / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-f", "lavfi", "-i", "sine=frequency=300:duration=4",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(video)], check=True)
    results = _results(video, _board(1, 3.0), _narration(1, 3.0, speech=2.0))
    assert not results["audio_in_sync"].passed
    assert abs(results["audio_in_sync"].metadata["audio_minus_video_s"].value - 1.0) < 0.1
    assert results["narration_audible"].passed


def test_a_missing_line_is_caught_under_a_music_bed(tmp_path):
    from videoagent_dagster.media.ffmpeg import silences

    music = tmp_path / "bed.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000:duration=6",
                    str(music)], check=True)
    video, voice = _second_line_missing(tmp_path, music=music)
    narration = _narration(2, 3.0, speech=1.5)
    # The final sound alone cannot tell: the music fills the gap.
    assert _results(video, _board(2, 3.0), narration)["narration_audible"].passed
    narration.voice_silences = silences(voice)
    result = _results(video, _board(2, 3.0), narration)["narration_audible"]
    assert not result.passed and "shot 2" in result.metadata["problems"].value
    assert "silent in the voice" in result.metadata["problems"].value and "shot 1" not in result.metadata["problems"].value
