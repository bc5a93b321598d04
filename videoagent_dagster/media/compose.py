"""The final cut: the picture (picture.py) and the mastered soundtrack (audio.py) put together,
subtitles burned in or carried as a track, in one ffmpeg run with at most one video encode."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from videoagent_dagster.media.audio import SAMPLE_RATE, master_soundtrack
from videoagent_dagster.media.detect import picture_detectors, read_log
from videoagent_dagster.media.encoders import encoder_args, pick_h264_encoder
from videoagent_dagster.media.picture import (
    check_joins,
    concat_list,
    fill_signatures,
    picture_graph,
    why_encode,
    why_not_stream_copy,
)
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.run import Command, run


@dataclass(frozen=True)
class Composed:
    """How a video was composed: joined by stream copy, or encoded (and by which encoder, and why)."""

    method: str  # "stream_copy" or "encode"
    encoder: str  # "copy" when stream-copied
    why_encoded: str = ""
    # Black and frozen stretches ((start, end) lists under "black" and "frozen") the picture
    # detectors found in the picture as it was encoded, when asked for (None when stream-copied).
    stretches: dict | None = None


def compose(
    clips: list[Path],
    out: Path,
    *,
    fps: int,
    width: int,
    height: int,
    joins: list[tuple[str, int]] | None = None,
    audio: Path | None = None,
    music: Path | None = None,
    master_audio: bool = True,
    burn_subtitles: Path | None = None,
    soft_subtitles: Path | None = None,
    subtitle_language: str = "und",
    signatures: list[dict] | None = None,
    encoder: str = "auto",
    preset: str = "veryfast",
    crf: int = 21,
    audio_bitrate: str = "160k",
    detect_stretches: tuple[float, float] | None = None,
) -> Composed:
    """Join clips with their transitions, lay the sound under them, add subtitles: at most one video encode.

    `joins[i]` is how clip i gives way to clip i+1: (transition, frames the two overlap); None joins
    every clip with a cut. Clip i is expected to run its shot's time plus joins[i]'s overlap, so the
    result lasts the sum of the shots. `burn_subtitles` (ASS) is drawn into the picture;
    `soft_subtitles` (SRT) becomes a subtitle track. `signatures` are what the caller
    knows of the clips — a `video_signature`, or at least `nb_frames` and `r_frame_rate` — so that
    clips are probed only for what is missing (codec parameters only when a stream copy may do). `audio` is mastered
    here (`master_soundtrack`: `music` laid under it, loudness normalised) unless `master_audio` is
    False, when it is the finished soundtrack already. When every join is a cut, nothing is burned in and every clip already has the
    output's codec parameters, the clips are joined by stream copy and only the sound is encoded.
    `detect_stretches` (black, frozen minimum seconds): when the picture is encoded, a branch of it
    runs through detect's picture detectors on its way to the encoder, and what they found comes
    back as `Composed.stretches`, sparing a pass over the written file. They see the picture as it
    was made: the same black stretches as in the file; a freeze may start a few frames later in the
    file, while x264 settles on a still picture.
    Output: H.264 + AAC MP4 with the index at the front (faststart), so it plays while downloading.
    """
    joins = check_joins(clips, joins)
    signatures = [dict(known or {}) for known in (signatures or [None] * len(clips))]
    why = why_encode(joins, burn_subtitles)
    if not why:  # a stream copy may do: it needs every clip's codec parameters
        fill_signatures(clips, signatures, [i for i, sig in enumerate(signatures) if "codec_name" not in sig])
        why = why_not_stream_copy(signatures, fps, width, height)
    fill_signatures(clips, signatures,
                    [i for i, sig in enumerate(signatures) if not {"nb_frames", "r_frame_rate"} <= sig.keys()])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="videoagent-compose-") as tmp:
        work = Path(tmp)
        # Lists and subtitle files get plain names in a private folder, so no path needs
        # escaping inside ffmpeg's filter syntax.
        cmd = Command()

        def joined(listing: str):
            name = f"clips{cmd.args.count('-i')}.txt"
            (work / name).write_text(listing, encoding="utf-8")
            return cmd.input(name, "-f", "concat", "-safe", "0")

        if why:
            if burn_subtitles is not None:
                shutil.copyfile(burn_subtitles, work / "subs.ass")
            graph = picture_graph(clips, signatures, joins, fps, width, height,
                                  "subs.ass" if burn_subtitles is not None else None, read=joined)
            if detect_stretches is not None:
                graph += f";[vout]split[vpic][look];[look]{picture_detectors(*detect_stretches)},nullsink"
            name = pick_h264_encoder(encoder)
            cmd.output("-filter_complex", graph, "-map", "[vpic]" if detect_stretches else "[vout]", "-r", str(fps),
                       *encoder_args(name, preset=preset, crf=crf, fps=fps))
            result = Composed("encode", name, why)
        else:
            cmd.output("-map", joined(concat_list(clips)).stream("v:0"), "-c:v", "copy")
            result = Composed("stream_copy", "copy")
        sound = audio
        if audio is not None and (master_audio or music is not None):
            sound = work / "soundtrack.wav"
            master_soundtrack(audio, sound, music=music)
        if sound is not None:
            cmd.output("-map", cmd.input(sound.resolve()).stream("a:0"), "-c:a", "aac", "-b:a", audio_bitrate,
                       "-ar", str(SAMPLE_RATE))
        if soft_subtitles is not None:
            shutil.copyfile(soft_subtitles, work / "subs.srt")
            cmd.output("-map", cmd.input("subs.srt").stream("s:0"), "-c:s", "mov_text",
                       "-metadata:s:s:0", f"language={subtitle_language}")
        cmd.output("-movflags", "+faststart", "-f", "mp4", str(out.resolve()))
        if result.method == "encode" and detect_stretches is not None:
            # The detectors report to ffmpeg's log, at info level.
            proc = run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info", "-y", *cmd.args],
                       "composing the final video", timeout=3600, cwd=work)
            found = read_log(proc.stderr.decode(errors="replace"), "", lambda: probe(out)["duration"])
            result = replace(result, stretches={k: found[k] for k in ("black", "frozen")})
        else:
            cmd.run("composing the final video", cwd=work, timeout=3600)
    return result
