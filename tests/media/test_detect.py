"""What one decoding pass finds: black and frozen stretches, silences, decoder errors."""

import subprocess

from videoagent_dagster.media.detect import stretches

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
