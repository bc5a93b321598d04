"""ffprobe: the facts of a media file (length, size, streams) and what two clips must share to be
joined without re-encoding."""

from __future__ import annotations

import json
import wave
from fractions import Fraction
from pathlib import Path

from videoagent_dagster.media.run import run


def _ffprobe(args: list[str], path: str | Path) -> dict:
    return json.loads(run(["ffprobe", "-v", "error", *args, "-of", "json", str(path)], f"probing {path}").stdout)


def probe(path: str | Path) -> dict:
    """ffprobe's facts: duration, size, bitrate, and the first video and audio streams."""
    data = _ffprobe(["-show_format", "-show_streams"], path)
    fmt = data.get("format", {})
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    audio = next((s for s in data.get("streams", []) if s.get("codec_type") == "audio"), None)
    facts = {
        "duration": float(fmt.get("duration", 0.0)),
        "size_bytes": int(fmt.get("size", 0)),
        "bitrate": int(fmt.get("bit_rate", 0) or 0),
        "format": fmt.get("format_name", ""),
        "video": None,
        "audio": None,
    }
    if video:
        facts["video"] = {
            "codec": video.get("codec_name"),
            "width": int(video["width"]),
            "height": int(video["height"]),
            "fps": float(Fraction(video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1"))
            if (video.get("avg_frame_rate") or "0/0") != "0/0" else float(Fraction(video.get("r_frame_rate", "0/1"))),
            "pix_fmt": video.get("pix_fmt"),
            "frames": int(video["nb_frames"]) if str(video.get("nb_frames", "")).isdigit() else None,
            "duration": float(video.get("duration", 0.0) or 0.0),
        }
    if audio:
        facts["audio"] = {
            "codec": audio.get("codec_name"),
            "sample_rate": int(audio.get("sample_rate", 0)),
            "channels": int(audio.get("channels", 0)),
            "duration": float(audio.get("duration", 0.0) or 0.0),
        }
    return facts


def media_duration(path: str | Path) -> float:
    """Seconds of a media file: read from the header for WAV (no process to start), else by ffprobe."""
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError):
        return probe(path)["duration"]


def video_signature(path: str | Path) -> dict:
    """What must match for video streams to be joined without re-encoding: codec, profile, pixel
    format, size, rate, time base and the codec's parameter sets (an extradata hash); plus the
    stream's frame count."""
    data = _ffprobe(["-select_streams", "v:0", "-show_data_hash", "md5", "-show_entries",
                     "stream=codec_name,profile,pix_fmt,width,height,r_frame_rate,time_base,nb_frames,extradata_hash"],
                    path)
    return (data.get("streams") or [{}])[0]
