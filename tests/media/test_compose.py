"""The final cut: picture, sound and subtitles in one run, by stream copy when nothing needs encoding."""

import subprocess

from videoagent_dagster.media.audio import narration_track
from videoagent_dagster.media.compose import compose
from videoagent_dagster.media.picture import thumbnail
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.subtitles import Cue, write_ass, write_srt

from .clips import decode_errors, frame_at, moving_clips


def test_compose_burns_subtitles_with_one_encode(tmp_path):
    clips = moving_clips(tmp_path)
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
    clips = moving_clips(tmp_path, n=3)
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
    assert (frame_at(out, 45, 25) == frame_at(clips[1], 15, 25)).all()
