"""ffprobe's facts of a file, and what clips must share to be joined by stream copy."""

import subprocess

from videoagent_dagster.media.probe import media_duration, probe, video_signature

from .clips import solid


def test_probe_reports_the_streams_as_made(tmp_path):
    clip = solid(tmp_path / "c.mp4", "red", 36)
    facts = probe(clip)
    assert facts["audio"] is None and abs(facts["duration"] - 1.5) < 0.01
    assert (facts["video"]["codec"], facts["video"]["width"], facts["video"]["height"], facts["video"]["fps"],
            facts["video"]["frames"], facts["video"]["pix_fmt"]) == ("h264", 320, 180, 24.0, 36, "yuv420p")
    sig = video_signature(clip)
    assert (sig["codec_name"], sig["nb_frames"], sig["r_frame_rate"]) == ("h264", "36", "24/1") and sig["extradata_hash"]


def test_media_duration_of_wav_and_of_anything_else(tmp_path):
    wav, flac = tmp_path / "t.wav", tmp_path / "t.flac"
    for out in (wav, flac):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=sample_rate=16000:duration=1.25",
                        str(out)], check=True)
    assert media_duration(wav) == 1.25  # from the header, to the sample
    assert abs(media_duration(flac) - 1.25) < 0.01  # by ffprobe
