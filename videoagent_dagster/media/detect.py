"""Finding things in a file by decoding it once: black and frozen stretches, silences, EBU R128
loudness, decoder errors and the frame count, all read from ffmpeg's log by one reader."""

from __future__ import annotations

import re
from pathlib import Path

from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.run import run

SILENCE_DB = -45  # quieter than this counts as silence (speech and music sit far above it)
SILENCE_MIN_S = 0.5
# Black long enough to be a fault. The two differ on purpose: a shot clip has no transitions, so
# half a second of black in it is wrong and the clip is made again; the final cut has fade_black
# transitions, whose black between two dark shots can last nearly the whole transition (0.5 s),
# so only a longer stretch is a fault there.
CLIP_BLACK_MIN_S = 0.5
FINAL_BLACK_MIN_S = 1.0


def picture_detectors(black_min_s: float, frozen_min_s: float) -> str:
    """The filters that find black and frozen stretches (their findings go to ffmpeg's log)."""
    return f"blackdetect=d={black_min_s}:pix_th=0.10,freezedetect=n=0.001:d={frozen_min_s}"


def sound_detectors(silence: bool = True, loudness: bool = True) -> str:
    """The filters that find silences and measure loudness (their findings go to ffmpeg's log)."""
    return ",".join([f"silencedetect=noise={SILENCE_DB}dB:d={SILENCE_MIN_S}"] * silence
                    + ["ebur128=peak=true"] * loudness)


def analyse(path: str | Path, *, black_min_s: float, frozen_min_s: float, audio: bool = True,
            picture: bool = True) -> dict:
    """One decoding pass for what the quality checks look at: black and frozen stretches
    ((start, end) lists; empty when not `picture`: the picture is only decoded); when `audio`,
    silent stretches of 0.5 s or more and EBU R128 loudness; what the decoders complained about (`errors`, '' when the file decodes cleanly); and the
    picture as decoded: `frames`, and `width`, `height`, `fps` as the stream declares them."""
    args = ["-map", "0:v:0", *(["-vf", picture_detectors(black_min_s, frozen_min_s)] if picture else [])]
    if audio:
        args += ["-map", "0:a:0", "-af", sound_detectors()]
    # Only decoded, the picture needs no deblocking (a quarter of the decoder's time): its errors
    # are in parsing and reconstructing every frame, which still happen; the detectors need the real pixels.
    decode = [] if picture else ["-skip_loop_filter", "all"]
    found = run_detecting([*decode, "-i", str(path), *args, "-f", "null", "-"], "analysing", path)
    if not audio:
        found.pop("silent")
        found.pop("loudness")
    return found


def loudness(path: str | Path, chain: str = "") -> dict[str, float]:
    """EBU R128 integrated loudness (LUFS) and true peak (dBTP) of the audio (after the filter
    `chain`, when given), by ffmpeg's ebur128. Silence measures -70 LUFS (ebur128's gate)."""
    return run_detecting(["-i", str(path), "-vn", "-af", f"{chain + ',' if chain else ''}{sound_detectors(False)}",
                          "-f", "null", "-"], "measuring loudness of", path)["loudness"]


def silences(path: str | Path) -> list[tuple[float, float]]:
    """(start, end) of the silent stretches (0.5 s or more) of a file's sound."""
    return run_detecting(["-i", str(path), "-map", "0:a:0", "-af", sound_detectors(loudness=False),
                          "-f", "null", "-"], "finding silences in", path)["silent"]


def stretches(path: str | Path, kind: str, min_seconds: float) -> list[tuple[float, float]]:
    """(start, end) of black or frozen stretches of at least min_seconds."""
    return analyse(path, black_min_s=min_seconds, frozen_min_s=min_seconds, audio=False)[kind]


def run_detecting(args: list[str], what: str, path: str | Path) -> dict:
    """Run ffmpeg with `args` (the output last; they use the detectors) and read what they found
    from its log: as `analyse` returns it. Decoder errors are reported, not raised."""
    # Each log line tagged with its level, so the decoders' errors can be told from the filters'
    # findings; -progress: the frame count as key=value lines on stdout.
    proc = run(["ffmpeg", "-hide_banner", "-nostats", "-nostdin", "-loglevel", "level+info",
                *args[:-1], "-progress", "pipe:1", args[-1]], what, timeout=None, check=False)
    found = read_log(proc.stderr.decode(errors="replace"), proc.stdout.decode(errors="replace"),
                     lambda: probe(path)["duration"])
    if proc.returncode != 0 and not found["errors"]:
        found["errors"] = f"{what} {path}: ffmpeg exited with {proc.returncode}"
    return found | {"returncode": proc.returncode}


def read_log(log: str, progress: str, duration) -> dict:
    """What the detectors, the decoders and -progress wrote: black, frozen and silent stretches,
    loudness, errors, frames and the first picture stream's size and rate. A stretch still open at
    the end closes at `duration()` (called only then: it costs a probe)."""
    errors = "\n".join(ln for ln in log.splitlines() if re.search(r"\[(error|fatal|panic)\]", ln))
    black = [(float(a), float(b)) for a, b in re.findall(r"black_start:([\d.]+) black_end:([\d.]+)", log)]
    starts = [float(x) for x in re.findall(r"freeze_start: ([\d.]+)", log)]
    ends = [float(x) for x in re.findall(r"freeze_end: ([\d.]+)", log)]
    counted = re.findall(r"^frame=(\d+)", progress, re.MULTILINE)
    # The first input's picture stream as ffmpeg describes it: "Stream #0:0...: Video: h264 ..., 320x180 [SAR ...], ..., 24 fps"
    stream = re.search(r"Stream #0:\d+.*?: Video: .*?, (\d+)x(\d+)[ ,].*?, ([\d.]+) fps", log)
    quiet_starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", log)]
    quiet_ends = [float(x) for x in re.findall(r"silence_end: ([\d.]+)", log)]
    end = duration() if len(ends) < len(starts) or len(quiet_ends) < len(quiet_starts) else 0.0
    summary = log[log.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    return {
        "black": black,
        "frozen": [(st, ends[i] if i < len(ends) else end) for i, st in enumerate(starts)],
        "silent": [(max(0.0, st), quiet_ends[i] if i < len(quiet_ends) else end)
                   for i, st in enumerate(quiet_starts)],
        "loudness": {"integrated_lufs": float(integrated.group(1)) if integrated else float("-inf"),
                     "true_peak_dbtp": float(peak.group(1)) if peak else float("-inf")},
        "errors": errors,
        "frames": int(counted[-1]) if counted else 0,
        "width": int(stream.group(1)) if stream else 0, "height": int(stream.group(2)) if stream else 0,
        "fps": float(stream.group(3)) if stream else 0.0,
    }
