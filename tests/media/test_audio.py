"""The soundtrack: narration laid shot by shot, the music bed ducked under it, loudness mastered."""

import subprocess
import wave

import numpy as np
import pytest

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media.audio import (
    SAMPLE_RATE,
    SILENT_LUFS,
    master_soundtrack,
    mix_music,
    narration_track,
)
from videoagent_dagster.media.compose import compose
from videoagent_dagster.media.detect import loudness, silences
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.motion import animate
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.speech import speak

from .clips import solid


def test_narration_track_places_each_line_at_its_shot(tmp_path):
    a = tmp_path / "a.wav"
    speak("First line, which runs long enough to be cut at its shot's end.", a, language="en")
    b = tmp_path / "b.wav"
    speak("Second.", b, language="en")
    out = tmp_path / "track.wav"
    heard = narration_track([(a, 1.5), (None, 1.0), (b, 2.0)], out)
    # Heard on the way as a pass over the written track hears it: the silent shot (and the quiet
    # tail after "Second."), and the loudness.
    assert heard["silent"] == silences(out) and heard["silent"] and heard["loudness"] == loudness(out)
    with wave.open(str(out)) as w:
        rate = w.getframerate()
        s = np.abs(np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(int))
    assert len(s) == int(4.5 * rate)
    assert s[:int(1.5 * rate)].max() > 500  # line one, cut at 1.5 s
    assert s[int(1.5 * rate) + 50:int(2.5 * rate)].max() < 50  # a silent shot
    onset = np.argmax(s[int(2.5 * rate):] > 500) / rate
    assert onset < 0.1  # line three starts with its shot


def test_music_bed_ducks_under_speech_and_the_mix_is_normalised(tmp_path):
    line = tmp_path / "line.wav"
    speak("Here the narrator speaks for a while about the quiet of the valley.", line, language="en")
    voice = tmp_path / "voice.wav"
    narration_track([(None, 3.0), (line, 4.0), (None, 3.0)], voice)  # speech from 3 s to about 7 s
    music = tmp_path / "tone.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=48000:duration=4",
                    "-af", "volume=-6dB", str(music)], check=True)  # loops to fill 10 s
    mix = tmp_path / "mix.wav"
    mix_music(voice, music, mix)
    with wave.open(str(mix)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        s = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, channels)[:, 0].astype(float)
    assert abs(len(s) / rate - 10.0) < 0.05

    def tone_level(a, b):  # the 220 Hz bed's strength between a and b seconds, apart from the voice
        seg = s[int(a * rate):int(b * rate)]
        spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        return spectrum[int(round(220 * len(seg) / rate))] / len(seg)

    alone, under_speech = tone_level(1.0, 2.5), tone_level(4.0, 5.5)
    assert 20 * np.log10(alone / under_speech) > 6  # ducked by more than 6 dB while the voice speaks
    clip = solid(tmp_path / "v.mp4", "gray", 240)
    out = tmp_path / "out.mp4"
    compose([clip], out, fps=24, width=320, height=180, audio=voice, music=music, preset="ultrafast")
    level = loudness(out)
    assert abs(level["integrated_lufs"] + 14) <= 1.0 and level["true_peak_dbtp"] <= -1.0, level
    assert probe(out)["audio"]["channels"] == 2


def test_final_loudness_is_normalised(tmp_path):
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
    compose([clip], out, fps=24, width=320, height=180, audio=audio, preset="ultrafast")
    level = loudness(out)
    assert abs(level["integrated_lufs"] + 14) <= 1.5 and level["true_peak_dbtp"] <= -1.0, level


def test_mastering_measures_what_it_writes(tmp_path, monkeypatch):
    """One measuring pass before, then loudness measured while writing: written again only when
    0.5 LU or more off. Silence is written as silence."""
    from videoagent_dagster.media import audio

    line = tmp_path / "line.wav"
    speak("The lighthouse keeper climbs the stairs at dusk and lights the lamp.", line, language="en")
    writes = []
    write = audio._write_measuring
    monkeypatch.setattr(audio, "_write_measuring", lambda *a: writes.append(write(*a)) or writes[-1])
    out = tmp_path / "mastered.wav"
    master_soundtrack(line, out)
    level = loudness(out)
    # As the final check allows (peaky speech loses loudness to the limiter); the limiter holds
    # sample peaks at -2 dBFS, true peaks land within about a dB of that.
    assert abs(level["integrated_lufs"] + 14) <= 1.5 and level["true_peak_dbtp"] <= -0.5, level
    assert writes[-1] == pytest.approx(level["integrated_lufs"], abs=0.05)  # measured on the way = the file
    assert all(abs(w + 14) >= 0.5 for w in writes[:-1]) and len(writes) <= 3
    assert probe(out)["audio"]["sample_rate"] == SAMPLE_RATE
    quiet = tmp_path / "quiet.wav"
    narration_track([(None, 2.0)], quiet)
    writes.clear()
    master_soundtrack(quiet, out)
    assert len(writes) == 1 and loudness(out)["integrated_lufs"] <= SILENT_LUFS
