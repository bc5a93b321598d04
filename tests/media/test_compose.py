import subprocess
import wave

import numpy as np
import pytest

from videoagent_dagster.domain.styles import CATALOGUE
from videoagent_dagster.media.compose import compose, narration_track, thumbnail
from videoagent_dagster.media.ffmpeg import analyse, probe
from videoagent_dagster.media.frames import render_frame
from videoagent_dagster.media.motion import animate
from videoagent_dagster.media.speech import speak
from videoagent_dagster.media.subtitles import Cue, write_ass, write_srt


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


def _moving_clips(tmp_path, n=2, frames=30, fps=25, preset="ultrafast"):
    clips = []
    for i, move in enumerate(("pan_right", "zoom_in", "tilt_up")[:n]):
        frame = tmp_path / f"f{i}.png"
        render_frame(frame, 320, 180, style="nature", palette=list(CATALOGUE["nature"].palette), shot_type="wide",
                     title=f"Shot {i}", label="T", seed=i)
        clips.append(tmp_path / f"c{i}-{preset}.mp4")
        animate(frame, clips[-1], move=move, frames=frames, fps=fps, width=320, height=180, preset=preset)
    return clips


def _solid(path, colour, frames, fps=24, size="320x180"):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color={colour}:size={size}:rate={fps}",
                    "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return path


def decode_errors(video, audio: bool = True) -> str:
    """What the decoders said of the video (ffmpeg.analyse, the final checks' pass): '' when clean."""
    return analyse(video, black_min_s=1.0, frozen_min_s=1.0, audio=audio)["errors"]


def _frame_at(video, index, fps=24):
    """Frame `index` of a video as an RGB array (decoded by ffmpeg, picked by number)."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", f"select=eq(n\\,{index})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    w, h = probe(video)["video"]["width"], probe(video)["video"]["height"]
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(int)


def test_compose_burns_subtitles_with_one_encode(tmp_path):
    clips = _moving_clips(tmp_path)
    audio = tmp_path / "n.wav"
    narration_track([(None, 1.2), (None, 1.2)], audio)
    ass = tmp_path / "s.ass"
    write_ass([Cue(0.1, 2.0, "字幕 subtitles")], ass, 320, 180)
    out = tmp_path / "dir with 'quotes'" / "out.mp4"
    done = compose(clips, out, fps=25, width=320, height=180, audio=audio, burn_subtitles=ass, encoder="libx264",
                   preset="ultrafast")
    assert done.method == "encode" and done.encoder == "libx264" and "burned" in done.why_encoded
    facts = probe(out)
    assert facts["video"]["frames"] == 60 and facts["video"]["fps"] == 25
    assert facts["audio"]["codec"] == "aac" and decode_errors(out) == ""
    thumbnail(out, tmp_path / "t.jpg", at=0.5)
    assert (tmp_path / "t.jpg").stat().st_size > 1000


def test_stream_copy_join_when_nothing_needs_encoding(tmp_path):
    clips = _moving_clips(tmp_path, n=3)
    srt = tmp_path / "s.srt"
    write_srt([Cue(0.0, 1.0, "Hello"), Cue(1.0, 2.0, "字幕")], srt)
    out = tmp_path / "copy.mp4"
    done = compose(clips, out, fps=25, width=320, height=180, soft_subtitles=srt, subtitle_language="eng")
    assert done.method == "stream_copy" and done.why_encoded == ""
    facts = probe(out)
    assert facts["video"]["frames"] == 90 and decode_errors(out, audio=False) == ""
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:stream_tags=language",
                              "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True).stdout
    assert "mov_text,subtitle,eng" in streams.replace("\n", ",") or "subtitle" in streams and "eng" in streams
    # The copied picture is the clips' own: frame 45 is clip 2's frame 15, bit for bit.
    assert (_frame_at(out, 45, 25) == _frame_at(clips[1], 15, 25)).all()


def test_stream_copy_not_taken_when_the_picture_must_change(tmp_path):
    clips = _moving_clips(tmp_path)
    ass = tmp_path / "s.ass"
    write_ass([Cue(0.1, 1.0, "x")], ass, 320, 180)
    cases = {  # what changes the picture → the reason given
        "transitions (crossfade)": dict(joins=[("crossfade", 6)]),
        "burned": dict(burn_subtitles=ass),
        "not h264/yuv420p 480x270": dict(width=480, height=270),
    }
    for i, (reason, extra) in enumerate(cases.items()):
        size = {"width": extra.pop("width", 320), "height": extra.pop("height", 180)}
        done = compose(clips, tmp_path / f"{i}.mp4", fps=25, preset="ultrafast", **size, **extra)
        assert done.method == "encode" and reason in done.why_encoded, (reason, done)
    assert probe(tmp_path / "2.mp4")["video"]["width"] == 480
    # Clips encoded with other settings than their neighbours cannot share one stream either.
    mixed = [clips[0], _moving_clips(tmp_path, n=2, preset="veryfast")[1]]
    done = compose(mixed, tmp_path / "mixed.mp4", fps=25, width=320, height=180, preset="ultrafast")
    assert done.method == "encode" and "other settings" in done.why_encoded
    assert decode_errors(tmp_path / "mixed.mp4", audio=False) == ""


@pytest.mark.parametrize("transition", ["crossfade", "fade_black", "slide", "wipe"])
def test_each_transition_blends_the_shots_and_keeps_the_length(tmp_path, transition):
    red = _solid(tmp_path / "red.mp4", "red", 36)
    blue = _solid(tmp_path / "blue.mp4", "blue", 30)
    out = tmp_path / "t.mp4"
    done = compose([red, blue], out, fps=24, width=320, height=180, joins=[(transition, 12)], preset="ultrafast")
    assert done.method == "encode"
    assert probe(out)["video"]["frames"] == 36 + 30 - 12  # the outgoing clip carries the overlap
    before, middle, after = _frame_at(out, 20), _frame_at(out, 30), _frame_at(out, 50)
    assert before[..., 0].mean() > 200 and before[..., 2].mean() < 60  # still red
    assert after[..., 2].mean() > 200 and after[..., 0].mean() < 60  # blue
    left, right = middle[:, :100], middle[:, -100:]
    if transition == "crossfade":  # every pixel part red, part blue
        assert 60 < middle[..., 0].mean() < 200 and 60 < middle[..., 2].mean() < 200
        assert abs(left.mean() - right.mean()) < 10
    elif transition == "fade_black":  # dark at the midpoint
        assert middle.mean() < 40
    else:  # slide and wipe move the new shot in from one side: one side blue, the other red
        assert left[..., 0].mean() > 200 and right[..., 2].mean() > 200, (left.mean(axis=(0, 1)),
                                                                          right.mean(axis=(0, 1)))


def test_mixed_transitions_and_cuts_land_on_their_frames(tmp_path):
    colours = ["red", "blue", "lime", "white", "black"]
    clips = [_solid(tmp_path / f"{c}.mp4", c, 36 if i < 4 else 24) for i, c in enumerate(colours)]
    joins = [("crossfade", 12), ("cut", 0), ("wipe", 12), ("slide", 12)]
    out = tmp_path / "mixed.mp4"
    compose(clips, out, fps=24, width=320, height=180, joins=joins, preset="ultrafast")
    # Each join's overlap comes out of the outgoing clip: 36+36+36+36+24 - 12*3 frames.
    assert probe(out)["video"]["frames"] == 168 - 36
    expect = {10: (255, 0, 0), 40: (0, 0, 255), 70: (0, 255, 0), 95: (255, 255, 255), 130: (0, 0, 0)}
    for index, rgb in expect.items():  # the middle of each shot's own time shows that shot alone
        assert np.abs(_frame_at(out, index).mean(axis=(0, 1)) - rgb).max() < 40, (index, rgb)
    assert 60 < _frame_at(out, 30)[..., 0].mean() < 200  # inside the crossfade: red and blue mixed


def test_unknown_transition_and_mismatched_joins_are_refused(tmp_path):
    red = _solid(tmp_path / "red.mp4", "red", 12)
    with pytest.raises(ValueError, match="unknown transition.*spin"):
        compose([red, red], tmp_path / "o.mp4", fps=24, width=320, height=180, joins=[("spin", 6)])
    with pytest.raises(ValueError, match="2 clips need 1 joins"):
        compose([red, red], tmp_path / "o.mp4", fps=24, width=320, height=180, joins=[])
    assert not (tmp_path / "o.mp4").exists()


def test_music_bed_ducks_under_speech_and_the_mix_is_normalised(tmp_path):
    from videoagent_dagster.media.compose import mix_music
    from videoagent_dagster.media.ffmpeg import loudness

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
    clip = _solid(tmp_path / "v.mp4", "gray", 240)
    out = tmp_path / "out.mp4"
    compose([clip], out, fps=24, width=320, height=180, audio=voice, music=music, preset="ultrafast")
    level = loudness(out)
    assert abs(level["integrated_lufs"] + 14) <= 1.0 and level["true_peak_dbtp"] <= -1.0, level
    assert probe(out)["audio"]["channels"] == 2


def test_encoder_choice_falls_back_to_libx264(monkeypatch):
    from videoagent_dagster.media.encoders import (
        HARDWARE,
        encoder_failure,
        listed_encoders,
        pick_h264_encoder,
    )
    from videoagent_dagster.media.ffmpeg import MediaToolError

    monkeypatch.delenv("VIDEOAGENT_H264_ENCODER", raising=False)
    chosen = pick_h264_encoder("auto")
    assert chosen == "libx264" or (chosen in HARDWARE and encoder_failure(chosen) == "")
    # A hardware encoder this ffmpeg lists but this machine cannot run is found out by a test encode.
    for name in HARDWARE:
        if name in listed_encoders() and encoder_failure(name):
            with pytest.raises(MediaToolError, match=f"{name} failed a test encode"):
                pick_h264_encoder(name)
    with pytest.raises(MediaToolError, match="not a supported H.264 encoder"):
        pick_h264_encoder("h264_magic")
    monkeypatch.setenv("VIDEOAGENT_H264_ENCODER", "libx264")
    assert pick_h264_encoder("auto") == "libx264"


def test_decode_errors_are_reported(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    assert decode_errors(broken, audio=False) != ""


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
    compose([clip], out, fps=24, width=320, height=180, audio=audio, preset="ultrafast")
    level = loudness(out)
    assert abs(level["integrated_lufs"] + 14) <= 1.5 and level["true_peak_dbtp"] <= -1.0, level


def test_black_and_frozen_stretches_are_found(tmp_path):
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
