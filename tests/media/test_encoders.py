"""Choosing the H.264 encoder."""

import pytest

from videoagent_dagster.media.encoders import (
    HARDWARE,
    encoder_failure,
    listed_encoders,
    pick_h264_encoder,
)
from videoagent_dagster.media.run import MediaToolError


def test_encoder_choice_falls_back_to_libx264():
    chosen = pick_h264_encoder("auto")
    assert chosen == "libx264" or (chosen in HARDWARE and encoder_failure(chosen) == "")
    # A hardware encoder this ffmpeg lists but this machine cannot run is found out by a test encode.
    for name in HARDWARE:
        if name in listed_encoders() and encoder_failure(name):
            with pytest.raises(MediaToolError, match=f"{name} failed a test encode"):
                pick_h264_encoder(name)
    with pytest.raises(MediaToolError, match="not a supported H.264 encoder"):
        pick_h264_encoder("h264_magic")
    # The preference comes from the caller (settings' VIDEOAGENT_H264_ENCODER): media reads no environment.
    assert pick_h264_encoder("libx264") == "libx264"
