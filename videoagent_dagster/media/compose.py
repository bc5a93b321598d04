"""The final cut: narration laid shot by shot, clips joined, subtitles burned in, one encode."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from videoagent_dagster.media.encoders import encoder_args, pick_h264_encoder
from videoagent_dagster.media.ffmpeg import ffmpeg, loudness, probe, video_signature

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


BLENDS = ("crossfade", "fade_black", "slide", "wipe")  # every transition but the cut
MUSIC_UNDER_SPEECH_LU = 12.0  # the music bed sits this far under the narration before ducking


@dataclass(frozen=True)
class Composed:
    """How a video was composed: joined by stream copy, or encoded (and by which encoder, and why)."""

    method: str  # "stream_copy" or "encode"
    encoder: str  # "copy" when stream-copied
    why_encoded: str = ""


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
    Output: H.264 + AAC MP4 with the index at the front (faststart), so it plays while downloading.
    """
    if not clips:
        raise ValueError("compose: no clips to join")
    joins = [("cut", 0)] * (len(clips) - 1) if joins is None else list(joins)
    if len(joins) != len(clips) - 1:
        raise ValueError(f"compose: {len(clips)} clips need {len(clips) - 1} joins, got {len(joins)}")
    unknown = sorted({kind for kind, _ in joins} - {"cut", *BLENDS})
    if unknown:
        raise ValueError(f"compose: unknown transition(s) {', '.join(unknown)}; known: cut, {', '.join(BLENDS)}")
    signatures = [dict(known or {}) for known in (signatures or [None] * len(clips))]
    why = _why_encode(joins, burn_subtitles)
    if not why:  # a stream copy may do: it needs every clip's codec parameters
        _probe(clips, signatures, [i for i, sig in enumerate(signatures) if "codec_name" not in sig])
        why = _why_not_stream_copy(signatures, fps, width, height)
    _probe(clips, signatures, [i for i, sig in enumerate(signatures) if not {"nb_frames", "r_frame_rate"} <= sig.keys()])
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="videoagent-compose-") as tmp:
        work = Path(tmp)
        # Lists and subtitle files get plain names in a private folder, so no path needs
        # escaping inside ffmpeg's filter syntax.
        (work / "clips.txt").write_text(_concat_list(clips), encoding="utf-8")
        inputs: list[str] = []
        outputs: list[str] = []
        if why:
            graph, readers = _picture_graph(signatures, joins, fps, width, height, burn_subtitles is not None)
            for _ in range(readers):
                inputs += ["-f", "concat", "-safe", "0", "-i", "clips.txt"]
            if burn_subtitles is not None:
                shutil.copyfile(burn_subtitles, work / "subs.ass")
            name = pick_h264_encoder(encoder)
            outputs += ["-filter_complex", graph, "-map", "[vout]", "-r", str(fps),
                        *encoder_args(name, preset=preset, crf=crf, fps=fps)]
            result = Composed("encode", name, why)
        else:
            inputs += ["-f", "concat", "-safe", "0", "-i", "clips.txt"]
            outputs += ["-map", "0:v:0", "-c:v", "copy"]
            result = Composed("stream_copy", "copy")
        sound = audio
        if audio is not None and (master_audio or music is not None):
            sound = work / "soundtrack.wav"
            master_soundtrack(audio, sound, music=music)
        if sound is not None:
            outputs += ["-map", f"{inputs.count('-i')}:a:0", "-c:a", "aac", "-b:a", audio_bitrate,
                        "-ar", str(SAMPLE_RATE)]
            inputs += ["-i", str(sound.resolve())]
        if soft_subtitles is not None:
            shutil.copyfile(soft_subtitles, work / "subs.srt")
            outputs += ["-map", f"{inputs.count('-i')}:s:0", "-c:s", "mov_text",
                        "-metadata:s:s:0", f"language={subtitle_language}"]
            inputs += ["-i", "subs.srt"]
        ffmpeg([*inputs, *outputs, "-movflags", "+faststart", "-f", "mp4", str(out.resolve())],
               what="composing the final video", cwd=work, timeout=3600)
    return result


def _concat_list(clips: list[Path]) -> str:
    return "".join(f"file '{_concat_escape(c)}'\n" for c in clips)


def _probe(clips: list[Path], signatures: list[dict], which: list[int]) -> None:
    """Fill in the video_signature of the clips at `which`, several at a time (a probe is mostly
    process start-up)."""
    if not which:
        return
    with ThreadPoolExecutor(max_workers=min(8, len(which))) as pool:
        for i, sig in zip(which, pool.map(lambda i: video_signature(clips[i]), which)):
            signatures[i] = {**signatures[i], **sig}


def _why_encode(joins: list[tuple[str, int]], burn: Path | None) -> str:
    """Why the picture must be encoded whatever the clips are ('' when a stream copy may do)."""
    if burn is not None:
        return "subtitles are burned into the picture"
    transitions = sorted({kind for kind, frames in joins if kind != "cut" and frames > 0})
    if transitions:
        return f"transitions ({', '.join(transitions)}) blend shots"
    return ""


def _why_not_stream_copy(signatures: list[dict], fps: int, width: int, height: int) -> str:
    """Why clips with these signatures cannot simply be joined by stream copy ('' when they can)."""
    first = signatures[0]
    for i, sig in enumerate(signatures):
        fmt = (sig.get("codec_name"), sig.get("pix_fmt"), sig.get("width"), sig.get("height"))
        if fmt != ("h264", "yuv420p", width, height) or float(Fraction(sig.get("r_frame_rate") or "0/1")) != fps:
            return (f"clip {i + 1} is {sig.get('codec_name')}/{sig.get('pix_fmt')} {sig.get('width')}x"
                    f"{sig.get('height')} at {sig.get('r_frame_rate')}, not h264/yuv420p {width}x{height} at {fps}")
        same = ("profile", "time_base", "extradata_hash")
        if any(sig.get(k) != first.get(k) for k in same):
            return f"clip {i + 1} was encoded with other settings than clip 1"
    return ""


@dataclass(frozen=True)
class _Window:
    """A transition on the output timeline: output frames [start, start + frames)."""

    kind: str
    start: int
    frames: int
    fps: int

    def span(self, first: int = 0) -> str:
        """between() over output seconds for window frames first..frames-1 (by frame centres)."""
        return f"between(t,{(self.start + first - 0.5) / self.fps:.6f},{(self.start + self.frames - 0.5) / self.fps:.6f})"


def _transition_plan(signatures: list[dict], joins: list[tuple[str, int]], fps: int) -> tuple[list[tuple[int, int]], list[_Window]]:
    """Where the heads of incoming clips sit in the joined stream (first frame, frames) and the
    windows they blend into on the output timeline.

    The joined stream runs every clip end to end. The picture is that stream without the heads;
    each head, moved onto the end of the clip before it, is laid over it by the transition."""
    heads, windows, at, out = [], [], 0, 0
    for i, sig in enumerate(signatures):
        frames = _frames(sig)
        head = 0
        if i > 0:
            kind, overlap = joins[i - 1]
            head = min(overlap, frames - 1, previous - 1) if kind != "cut" else 0
            if head > 0:
                heads.append((at, head))
                windows.append(_Window(kind, out - head, head, fps))
        out += frames - head
        at += frames
        previous = frames - head
    return heads, windows


def _between_frames(ranges: list[tuple[int, int]]) -> str:
    return "+".join(f"between(n,{a},{a + k - 1})" for a, k in ranges)


def _picture_graph(signatures: list[dict], joins: list[tuple[str, int]], fps: int, width: int, height: int,
                   burn: bool) -> tuple[str, int]:
    """The filter graph over the joined clips (input 0; input 1 again when there are transitions),
    out as [vout]; and how many inputs it reads.

    Transitions use two decoders whatever the number of shots: the picture (every frame but the
    incoming heads) and the heads, shifted to their windows and laid over the picture — alpha-faded
    (crossfade), after a fade to black (fade_black), moving in from the right (slide) or revealed
    behind a moving edge (wipe). Memory stays flat as the video grows."""
    at_rate = all(float(Fraction(sig.get("r_frame_rate") or "0/1")) == fps for sig in signatures)
    norm = (("" if at_rate else f"fps={fps},") + f"scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1,format=yuv420p,settb=1/{fps}")
    tail = ("ass=subs.ass," if burn else "") + "format=yuv420p[vout]"
    heads, windows = _transition_plan(signatures, joins, fps)
    if not windows:
        return f"[0:v]{norm},{tail}", 1
    chains = [f"[0:v]{norm},select='not({_between_frames(heads)})',setpts=N"]
    # Head frame N of the selected heads goes to its window: a piecewise-constant offset.
    offset, done = [f"{windows[0].start}"], heads[0][1]
    for k in range(1, len(windows)):
        offset.append(f"gte(N,{done})*{windows[k].start - windows[k - 1].start - heads[k - 1][1]}")
        done += heads[k][1]
    s = [f"[1:v]{norm},select='{_between_frames(heads)}',setpts='N+{'+'.join(offset)}',format=yuva420p"]
    wipes = [w for w in windows if w.kind == "wipe"]
    if wipes:  # the heads' alpha from a mask whose edge moves across each wipe window
        total = windows[-1].start + windows[-1].frames
        # The black part (hidden) shrinks towards the left: the new shot is revealed from the right, as a slide enters.
        sweep = "+".join(f"{w.span()}*-W*(t*{fps}-{w.start - 1})/{w.frames + 1}" for w in wipes)
        chains.append(f"color=white:s={width}x{height}:r={fps}:d={(total + 1) / fps:.6f},format=gray,settb=1/{fps}[mw];"
                      f"color=black:s={width}x{height}:r={fps},format=gray,settb=1/{fps}[mb];"
                      f"[mw][mb]overlay=x='if({'+'.join(w.span() for w in wipes)},{sweep},W)':y=0:shortest=1[mask]")
        s[0] = s[0] + "[s0];[s0][mask]alphamerge"
    for w in windows:
        step = 1 / fps
        if w.kind == "crossfade":
            s.append(f"fade=t=in:st={(w.start - 1) * step:.6f}:d={(w.frames + 1) * step:.6f}:alpha=1:"
                     f"enable='{w.span()}'")
        elif w.kind == "fade_black":
            half = w.frames // 2
            chains[0] += (f",fade=t=out:st={(w.start - 1) * step:.6f}:d={(half + 1) * step:.6f}:"
                          f"enable='{w.span()}'")
            s.append(f"fade=t=in:st={(w.start + half - 1) * step:.6f}:d={(w.frames - half + 1) * step:.6f}:"
                     f"enable='{w.span()}'")
    chains[0] += "[p]"
    chains.append(",".join(s) + "[s]")
    shown = "+".join(w.span(w.frames // 2 if w.kind == "fade_black" else 0) for w in windows)
    slides = [w for w in windows if w.kind == "slide"]
    x = "+".join(f"{w.span()}*W*(1-(t*{fps}-{w.start - 1})/{w.frames + 1})" for w in slides) or "0"
    chains.append(f"[p][s]overlay=x='{x}':y=0:enable='{shown}':eof_action=pass,{tail}")
    return ";".join(chains), 2


def _frames(signature: dict) -> int:
    n = str(signature.get("nb_frames", ""))
    if n.isdigit():
        return int(n)
    raise ValueError("compose: a clip's frame count is unknown (not an MP4 with a frame index?)")


def mix_music(narration: Path, music: Path, out: Path) -> None:
    """Narration over a music bed that loops to its length, sits under the voice and ducks while
    it speaks (sidechain compression keyed by the narration), fading in and out."""
    duration = probe(narration)["duration"]
    voice = loudness(narration)["integrated_lufs"]
    bed = loudness(music)["integrated_lufs"]
    # Quiet or silent narration: leave the music at its own level (the final normalisation sets it).
    gain = (voice - MUSIC_UNDER_SPEECH_LU - bed) if voice > -70 and bed > -70 else 0.0
    fade_out = max(0.0, duration - 2.0)
    graph = (
        f"[1:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[voice][key];"
        f"[0:a]aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,volume={gain:.2f}dB,"
        f"atrim=duration={duration:.6f},afade=t=in:d=0.5,afade=t=out:st={fade_out:.3f}:d=2[bed];"
        "[bed][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        "[voice][ducked]amix=inputs=2:duration=first:normalize=0[out]"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg(["-stream_loop", "-1", "-i", str(music), "-i", str(narration), "-filter_complex", graph, "-map", "[out]",
            "-t", f"{duration:.6f}", "-c:a", "pcm_s16le", "-f", "wav", str(out)], what="mixing the music bed")


def master_soundtrack(voice: Path, out: Path, *, music: Path | None = None) -> None:
    """The finished soundtrack as a WAV: the voice (over `music`, ducked, when given) brought to the
    streaming norm — -14 LUFS integrated, true peak under -1 dBTP — measured first, then normalised
    (audio only: quick, and done beside the picture work rather than after it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="videoagent-sound-") as tmp:
        sound = voice
        if music is not None:
            sound = Path(tmp) / "mix.wav"
            mix_music(voice, music, sound)
        ffmpeg(["-i", str(sound), "-af", loudnorm_filter(sound), "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
                "-f", "wav", str(out)], what="mastering the soundtrack")


def loudnorm_filter(audio: Path) -> str:
    """loudnorm's second pass, from a first pass that measures `audio`."""
    import json
    import re

    from videoagent_dagster.media.ffmpeg import run

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
