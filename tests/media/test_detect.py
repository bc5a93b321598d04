"""What one decoding pass finds: black and frozen stretches, silences, decoder errors."""

import subprocess

from videoagent_dagster.media.detect import analyse, loudness, silences, stretches

from .clips import decode_errors


def test_decode_errors_are_reported(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    assert decode_errors(broken, audio=False) != ""


def test_black_and_frozen_stretches_are_found(tmp_path):
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


def test_silences_and_loudness_come_from_the_same_pass(tmp_path):
    # 1 s of tone, 1.5 s of silence, 1 s of tone, under 3.5 s of a moving picture.
    video = tmp_path / "v.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=24:d=3.5",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3.5",
                    "-af", "volume=enable='between(t,1,2.5)':volume=0", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True)
    found = analyse(video, black_min_s=1.0, frozen_min_s=1.0)
    (start, end), = found["silent"]
    assert abs(start - 1.0) < 0.05 and abs(end - 2.5) < 0.05
    assert [(round(a, 1), round(b, 1)) for a, b in silences(video)] == [(round(start, 1), round(end, 1))]
    assert -30 < found["loudness"]["integrated_lufs"] < -10 and found["loudness"] == loudness(video)
    assert found["black"] == [] and found["frames"] == 84 and found["errors"] == ""
