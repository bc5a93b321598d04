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


def decode_errors(path: str | Path) -> str:
    """Decode every frame; return what ffmpeg complained about ('' when clean)."""
    proc = subprocess.run(
        [require_tool("ffmpeg"), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
    )
    msg = proc.stderr.decode(errors="replace").strip()
    return msg or ("" if proc.returncode == 0 else f"ffmpeg exited with {proc.returncode}")


def _filter_log(path: str | Path, args: list[str]) -> str:
    proc = subprocess.run([require_tool("ffmpeg"), "-hide_banner", "-nostats", "-nostdin", "-i", str(path), *args,
                           "-f", "null", "-"], capture_output=True)
    return proc.stderr.decode(errors="replace")


def loudness(path: str | Path, chain: str = "") -> dict[str, float]:
    """EBU R128 integrated loudness (LUFS) and true peak (dBTP) of the audio (after the filter
    `chain`, when given), by ffmpeg's ebur128."""
    import re

    log = _filter_log(path, ["-vn", "-af", f"{chain + ',' if chain else ''}ebur128=peak=true"])
    summary = log[log.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {"integrated_lufs": float(integrated.group(1)) if integrated else float("-inf"),
            "true_peak_dbtp": float(peak.group(1)) if peak else float("-inf")}


def stretches(path: str | Path, kind: str, min_seconds: float) -> list[tuple[float, float]]:
    """(start, end) of black (`blackdetect`) or frozen (`freezedetect`) stretches of at least min_seconds."""
    import re

    if kind == "black":
        log = _filter_log(path, ["-an", "-vf", f"blackdetect=d={min_seconds}:pix_th=0.10"])
        return [(float(a), float(b)) for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", log)]
    log = _filter_log(path, ["-an", "-vf", f"freezedetect=n=0.001:d={min_seconds}"])
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"freeze_end: ([\d.]+)", log)]
    duration = probe(path)["duration"]
    return [(s, ends[i] if i < len(ends) else duration) for i, s in enumerate(starts)]
