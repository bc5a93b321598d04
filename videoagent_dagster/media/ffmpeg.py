"""Running ffmpeg/ffprobe and reading the facts of a media file."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path


class MediaToolError(RuntimeError):
    """ffmpeg, ffprobe or espeak-ng failed; the message ends with the tail of its stderr."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise MediaToolError(
            f"{name} is not installed or not on PATH; install it (Debian/Ubuntu: "
            f"apt-get install -y ffmpeg espeak-ng fonts-noto-cjk)"
        )
    return path


def run(cmd: list[str], what: str, timeout: float | None = 600, cwd: Path | None = None) -> subprocess.CompletedProcess:
    exe = require_tool(cmd[0])
    try:
        proc = subprocess.run([exe, *cmd[1:]], capture_output=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        raise MediaToolError(f"{what}: {cmd[0]} took longer than {timeout:g} s") from e
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-8:]
        raise MediaToolError(f"{what}: {cmd[0]} exited with {proc.returncode}: " + " | ".join(tail))
    return proc


def ffmpeg(args: list[str], what: str, timeout: float | None = 600, cwd: Path | None = None) -> None:
    run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], what, timeout, cwd)


def probe(path: str | Path) -> dict:
    """ffprobe's facts: duration, size, bitrate, and the first video and audio streams."""
    out = run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
              f"probing {path}").stdout
    data = json.loads(out)
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
    import wave

    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    except (wave.Error, EOFError):
        return probe(path)["duration"]


def video_signature(path: str | Path) -> dict:
    """What must match for video streams to be joined without re-encoding: codec, profile, pixel
    format, size, rate, time base and the codec's parameter sets (an extradata hash); plus the
    stream's frame count."""
    out = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_data_hash", "md5", "-show_entries",
               "stream=codec_name,profile,pix_fmt,width,height,r_frame_rate,time_base,nb_frames,extradata_hash",
               "-of", "json", str(path)], f"probing {path}").stdout
    streams = json.loads(out).get("streams") or [{}]
    return streams[0]


def loudness(path: str | Path, chain: str = "") -> dict[str, float]:
    """EBU R128 integrated loudness (LUFS) and true peak (dBTP) of the audio (after the filter
    `chain`, when given), by ffmpeg's ebur128."""
    return run_detecting(["-i", str(path), "-vn", "-af", f"{chain + ',' if chain else ''}ebur128=peak=true",
                          "-f", "null", "-"], "measuring loudness of", path)["loudness"]


SILENCE_DB = -45  # quieter than this counts as silence (speech and music sit far above it)


def analyse(path: str | Path, *, black_min_s: float, frozen_min_s: float, audio: bool = True) -> dict:
    """One decoding pass for what the quality checks look at: black and frozen stretches
    ((start, end) lists); when `audio`, silent stretches of 0.5 s or more and EBU R128 loudness;
    what the decoders complained about (`errors`, '' when the file decodes cleanly); and the
    picture as decoded: `frames`, and `width`, `height`, `fps` as the stream declares them."""
    args = ["-map", "0:v:0", "-vf", picture_detectors(black_min_s, frozen_min_s)]
    if audio:
        args += ["-map", "0:a:0", "-af", f"silencedetect=noise={SILENCE_DB}dB:d=0.5,ebur128=peak=true"]
    found = run_detecting(["-i", str(path), *args, "-f", "null", "-"], "analysing", path)
    if not audio:
        found.pop("silent")
        found.pop("loudness")
    return found


def picture_detectors(black_min_s: float, frozen_min_s: float) -> str:
    """The filters that find black and frozen stretches (their findings go to ffmpeg's log)."""
    return f"blackdetect=d={black_min_s}:pix_th=0.10,freezedetect=n=0.001:d={frozen_min_s}"


def run_detecting(args: list[str], what: str, path: str | Path) -> dict:
    """Run ffmpeg with `args` (which use the detectors) and read what they found from its log:
    as `analyse` returns it. Decoder errors are reported, not raised."""
    import re

    # Each log line tagged with its level, so the decoders' errors can be told from the filters'
    # findings; -progress: the frame count as key=value lines on stdout.
    proc = subprocess.run([require_tool("ffmpeg"), "-hide_banner", "-nostats", "-nostdin", "-loglevel", "level+info",
                           *args[:-1], "-progress", "pipe:1", args[-1]], capture_output=True)
    log = proc.stderr.decode(errors="replace")
    errors = "\n".join(ln for ln in log.splitlines() if re.search(r"\[(error|fatal|panic)\]", ln))
    if proc.returncode != 0 and not errors:
        errors = f"{what} {path}: ffmpeg exited with {proc.returncode}"
    black = [(float(a), float(b)) for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", log)]
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"freeze_end: ([\d.]+)", log)]
    counted = re.findall(r"^frame=(\d+)", proc.stdout.decode(errors="replace"), re.M)
    # The first input's picture stream as ffmpeg describes it: "Stream #0:0...: Video: h264 ..., 320x180 [SAR ...], ..., 24 fps"
    stream = re.search(r"Stream #0:\d+.*?: Video: .*?, (\d+)x(\d+)[ ,].*?, ([\d.]+) fps", log)
    quiet_starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", log)]
    quiet_ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", log)]
    duration = probe(path)["duration"] if len(ends) < len(starts) or len(quiet_ends) < len(quiet_starts) else 0.0
    summary = log[log.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {
        "black": black,
        "frozen": [(st, ends[i] if i < len(ends) else duration) for i, st in enumerate(starts)],
        "silent": [(max(0.0, st), quiet_ends[i] if i < len(quiet_ends) else duration)
                   for i, st in enumerate(quiet_starts)],
        "loudness": {"integrated_lufs": float(integrated.group(1)) if integrated else float("-inf"),
                     "true_peak_dbtp": float(peak.group(1)) if peak else float("-inf")},
        "errors": errors,
        "returncode": proc.returncode,
        "frames": int(counted[-1]) if counted else 0,
        "width": int(stream.group(1)) if stream else 0, "height": int(stream.group(2)) if stream else 0,
        "fps": float(stream.group(3)) if stream else 0.0,
    }


def silences(path: str | Path) -> list[tuple[float, float]]:
    """(start, end) of the silent stretches (0.5 s or more) of a file's sound."""
    return run_detecting(["-i", str(path), "-map", "0:a:0", "-af", f"silencedetect=noise={SILENCE_DB}dB:d=0.5",
                          "-f", "null", "-"], "finding silences in", path)["silent"]


def stretches(path: str | Path, kind: str, min_seconds: float) -> list[tuple[float, float]]:
    """(start, end) of black or frozen stretches of at least min_seconds."""
    return analyse(path, black_min_s=min_seconds, frozen_min_s=min_seconds, audio=False)[kind]
