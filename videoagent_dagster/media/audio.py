"""The sound of the final cut: the narration track laid shot by shot, the music bed ducked under
it, and mastering to the streaming loudness norm. Everything is written as WAV."""

from __future__ import annotations

import tempfile
from pathlib import Path

from videoagent_dagster.media.detect import loudness, run_detecting, sound_detectors
from videoagent_dagster.media.probe import probe
from videoagent_dagster.media.run import Command, MediaToolError

SAMPLE_RATE = 48000
TARGET_LUFS = -14.0
TRUE_PEAK_DBTP = -1.5  # aim a little under the -1 dBTP ceiling: AAC encoding adds a few tenths
MUSIC_UNDER_SPEECH_LU = 12.0  # the music bed sits this far under the narration before ducking
SILENT_LUFS = -70.0  # ebur128's absolute gate: what it measures for silence


def narration_track(segments: list[tuple[Path | None, float]], out: Path) -> dict:
    """One WAV where segment i starts exactly where shot i starts; returns what was heard in it
    on the way, as detect.analyse gives it: `silent` stretches and `loudness`.

    Each segment is (audio file or None for silence, shot duration): audio is padded with
    silence or cut to its shot's duration, so no line drifts from its picture.
    """
    cmd = Command()
    chains: list[str] = []
    for i, (audio, duration) in enumerate(segments):
        d = f"{duration:.6f}"
        if audio is None:
            chains.append(f"anullsrc=r={SAMPLE_RATE}:cl=mono,atrim=duration={d}[a{i}]")
        else:
            chains.append(
                f"{cmd.input(audio).a}aresample={SAMPLE_RATE},aformat=sample_fmts=s16:channel_layouts=mono,"
                f"apad=whole_dur={d},atrim=duration={d},asetpts=PTS-STARTPTS[a{i}]"
            )
    labels = "".join(f"[a{i}]" for i in range(len(segments)))
    # The detectors pass the samples through unchanged: the track is heard as it is written.
    graph = ";".join(chains) + f";{labels}concat=n={len(segments)}:v=0:a=1,{sound_detectors()}[out]"
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd.output("-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_s16le", "-f", "wav", str(out))
    found = _write_hearing(cmd.args, "laying the narration track", out)
    return {k: found[k] for k in ("silent", "loudness")}


def mix_music(narration: Path, music: Path, out: Path, *, voice_lufs: float | None = None) -> None:
    """Narration over a music bed that loops to its length, sits under the voice and ducks while
    it speaks (sidechain compression keyed by the narration), fading in and out. `voice_lufs`: the
    narration's integrated loudness, when known."""
    duration = probe(narration)["duration"]
    if voice_lufs is None:
        voice_lufs = loudness(narration)["integrated_lufs"]
    bed_lufs = loudness(music)["integrated_lufs"]
    # Quiet or silent narration: leave the music at its own level (the final normalisation sets it).
    gain = (voice_lufs - MUSIC_UNDER_SPEECH_LU - bed_lufs) if voice_lufs > SILENT_LUFS and bed_lufs > SILENT_LUFS \
        else 0.0
    fade_out = max(0.0, duration - 2.0)
    cmd = Command()
    bed, voice = cmd.input(music, "-stream_loop", "-1"), cmd.input(narration)
    graph = (
        f"{voice.a}aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,asplit=2[voice][key];"
        f"{bed.a}aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,volume={gain:.2f}dB,"
        f"atrim=duration={duration:.6f},afade=t=in:d=0.5,afade=t=out:st={fade_out:.3f}:d=2[bed];"
        "[bed][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked];"
        "[voice][ducked]amix=inputs=2:duration=first:normalize=0[out]"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd.output("-filter_complex", graph, "-map", "[out]", "-t", f"{duration:.6f}", "-c:a", "pcm_s16le", "-f", "wav",
               str(out))
    cmd.run("mixing the music bed")


def master_soundtrack(voice: Path, out: Path, *, music: Path | None = None, voice_lufs: float | None = None) -> None:
    """The finished soundtrack as a WAV: the voice (over `music`, ducked, when given) brought to the
    streaming norm — -14 LUFS integrated, true peak under -1 dBTP — measured first, then normalised
    while its loudness is measured again as it is written (audio only: quick, and done beside the
    picture work rather than after it). `voice_lufs`: the voice's integrated loudness when known
    (narration_track heard it), so it is not measured again."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="videoagent-sound-") as tmp:
        sound = voice
        if music is not None:
            sound = Path(tmp) / "mix.wav"
            mix_music(voice, music, sound, voice_lufs=voice_lufs)
        measured = voice_lufs if music is None and voice_lufs is not None else loudness(sound)["integrated_lufs"]
        # Speech is peaky: reaching -14 LUFS usually needs more gain than loudnorm's linear mode
        # allows under the peak ceiling. So: gain, then a look-ahead limiter holding peaks under the
        # ceiling (0.5 dB to spare for true peaks and AAC). Limiting costs loudness, so what was
        # written is measured as it is written (ebur128 at the end of the chain) and written again
        # with the gain corrected only when 0.5 LU or more off, twice at most. Silence stays as it is.
        ceiling = 10 ** ((TRUE_PEAK_DBTP - 0.5) / 20)
        gain = TARGET_LUFS - measured
        for _ in range(3):
            chain = "anull" if measured <= SILENT_LUFS else \
                f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:attack=2:release=50:level=disabled"
            written = _write_measuring(sound, out, f"{chain},aresample={SAMPLE_RATE}")
            if measured <= SILENT_LUFS or abs(written - TARGET_LUFS) < 0.5:
                break
            gain += TARGET_LUFS - written


def _write_measuring(sound: Path, out: Path, chain: str) -> float:
    """Write `sound` through `chain` to `out` (16-bit WAV) and return the integrated loudness (LUFS)
    of what was written, measured on the way (not its true peak: the limiter sees to that, and
    measuring it costs a quarter of the pass)."""
    return _write_hearing(["-i", str(sound), "-vn", "-af", f"{chain},ebur128",
                           "-c:a", "pcm_s16le", "-f", "wav", str(out)], "mastering the soundtrack",
                          out)["loudness"]["integrated_lufs"]


def _write_hearing(args: list[str], what: str, out: Path) -> dict:
    """Run ffmpeg `args` (writing `out`, last) whose chain ends in sound detectors: what they found."""
    found = run_detecting(["-y", *args], what, out)
    if found["returncode"] != 0:
        raise MediaToolError(f"{what}: {found['errors'] or 'ffmpeg failed'}")
    return found
