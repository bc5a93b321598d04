"""The final cut: narration laid shot by shot, clips joined, subtitles burned in, one encode."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .ffmpeg import ffmpeg, loudness

SAMPLE_RATE = 48000
TARGET_LUFS = -14.0
TRUE_PEAK_DBTP = -1.5  # aim a little under the -1 dBTP ceiling: AAC encoding adds a few tenths


def narration_track(segments: list[tuple[Path | None, float]], out: Path) -> None:
    """One WAV where segment i starts exactly where shot i starts.

    Each segment is (audio file or None for silence, shot duration): audio is padded with
    silence or cut to its shot's duration, so no line drifts from its picture.
    """
    inputs: list[str] = []
    chains: list[str] = []
    n_in = 0
    for i, (audio, duration) in enumerate(segments):
        d = f"{duration:.6f}"
        if audio is None:
            chains.append(f"anullsrc=r={SAMPLE_RATE}:cl=mono,atrim=duration={d}[a{i}]")
        else:
            inputs += ["-i", str(audio)]
            chains.append(
                f"[{n_in}:a]aresample={SAMPLE_RATE},aformat=sample_fmts=s16:channel_layouts=mono,"
                f"apad=whole_dur={d},atrim=duration={d},asetpts=PTS-STARTPTS[a{i}]"
            )
            n_in += 1
    labels = "".join(f"[a{i}]" for i in range(len(segments)))
    graph = ";".join(chains) + f";{labels}concat=n={len(segments)}:v=0:a=1[out]"
    out.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg([*inputs, "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_s16le", "-f", "wav", str(out)],
           what="laying the narration track")


def compose(
    clips: list[Path],
    out: Path,
    *,
    fps: int,
    audio: Path | None = None,
    subtitles_ass: Path | None = None,
    preset: str = "veryfast",
    crf: int = 21,
    audio_bitrate: str = "160k",
) -> None:
    """Join clips (all of one size and rate), lay `audio` under them, burn in subtitles: one encode.

    H.264 + AAC in MP4 with the index at the front (faststart) so it plays while downloading.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="videoagent-compose-") as tmp:
        work = Path(tmp)
        # The concat list and subtitle file get plain names in a private folder, so no path
        # needs escaping inside ffmpeg's filter syntax.
        (work / "clips.txt").write_text("".join(f"file '{_concat_escape(c)}'\n" for c in clips), encoding="utf-8")
        args = ["-f", "concat", "-safe", "0", "-i", "clips.txt"]
        if audio is not None:
            args += ["-i", str(audio.resolve())]
        vf = "format=yuv420p"
        if subtitles_ass is not None:
            shutil.copyfile(subtitles_ass, work / "subs.ass")
            vf = "ass=subs.ass," + vf
        args += ["-map", "0:v:0", "-vf", vf, "-r", str(fps), "-c:v", "libx264", "-preset", preset,
                 "-crf", str(crf), "-g", str(fps * 2)]
        if audio is not None:
            # Loudness to the streaming norm (-14 LUFS integrated, true peak under -1 dBTP), in the
            # accurate two-pass way: measure the narration track (audio only: quick), then normalise.
            args += ["-map", "1:a:0", "-af", loudnorm_filter(audio),
                     "-c:a", "aac", "-b:a", audio_bitrate, "-ar", str(SAMPLE_RATE)]
        args += ["-movflags", "+faststart", "-f", "mp4", str(out.resolve())]
        ffmpeg(args, what="composing the final video", cwd=work, timeout=3600)


def loudnorm_filter(audio: Path) -> str:
    """loudnorm's second pass, from a first pass that measures `audio`."""
    import json
    import re

    from .ffmpeg import run

    target = f"I={TARGET_LUFS}:TP={TRUE_PEAK_DBTP}:LRA=11"
    log = run(["ffmpeg", "-hide_banner", "-nostats", "-nostdin", "-i", str(audio), "-af",
               f"loudnorm={target}:print_format=json", "-f", "null", "-"], "measuring loudness").stderr.decode()
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", log)
    if not found:
        return f"loudnorm={target}"
    m = json.loads(found.group(0))
    if m["input_i"] in ("-inf", "inf"):  # silence: nothing to normalise
        return "anull"
    # Speech is peaky: reaching -14 LUFS usually needs more gain than loudnorm's linear mode allows
    # under the peak ceiling. So: gain, then a look-ahead limiter holding peaks under the ceiling
    # (0.5 dB to spare for true peaks and AAC); limiting costs loudness, so the gain is corrected
    # from a measurement of the result (audio only: quick), twice at most.
    ceiling = 10 ** ((TRUE_PEAK_DBTP - 0.5) / 20)
    gain = TARGET_LUFS - float(m["input_i"])
    chain = ""
    for _ in range(3):
        chain = f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:attack=2:release=50:level=disabled"
        measured = loudness(audio, chain)["integrated_lufs"]
        if abs(measured - TARGET_LUFS) < 0.5:
            break
        gain += TARGET_LUFS - measured
    return chain


def _concat_escape(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")


def thumbnail(video: Path, out: Path, at: float, width: int | None = None) -> None:
    """A JPEG of the frame at `at` seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    vf = ["-vf", f"scale={width}:-2"] if width else []
    ffmpeg(["-ss", f"{max(0.0, at):.3f}", "-i", str(video), "-frames:v", "1", *vf, "-q:v", "3", "-f", "image2",
            str(out)], what="writing the thumbnail")
