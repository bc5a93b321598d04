"""Is a provider's result what was asked? Checked before it enters the cache: an answer that
does not decode, or is not of the asked size or length, is a failed attempt, never a result.

Each function raises ResultInvalid saying what is wrong."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

from videoagent_dagster.media.run import MediaToolError, ffmpeg


class ResultInvalid(ValueError):
    """A provider's file is not what was asked."""


def verify_image(path: Path, width: int, height: int) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            size = img.size
            img.load()  # decodes every byte: a truncated PNG fails here
    except (OSError, UnidentifiedImageError, SyntaxError) as e:
        raise ResultInvalid(f"the image does not decode ({e})") from e
    if size != (width, height):
        raise ResultInvalid(f"the image is {size[0]}x{size[1]}; {width}x{height} was asked")


def verify_clip(path: Path, min_seconds: float) -> None:
    """A clip with a video stream at least `min_seconds` long (vendors may deliver less than asked).

    Read in this process with FFmpeg's own demuxers (PyAV), as ffprobe would read it: a few ms,
    where an ffprobe process costs a tenth of a second of CPU, and on the critical path of the
    video stage, whose shots all come back at once. Whether every frame decodes is seen by the
    pass that conforms and inspects the clip."""
    import av

    try:
        with av.open(str(path)) as container:
            video = container.streams.video[0] if container.streams.video else None
            if video is None:
                raise ResultInvalid("the clip has no video stream")
            if video.duration and video.time_base:
                seconds = float(video.duration * video.time_base)
            else:
                seconds = (container.duration or 0) / av.time_base
    except av.FFmpegError as e:
        raise ResultInvalid(f"the clip does not decode ({e})") from e
    if seconds + 0.05 < min_seconds:
        raise ResultInvalid(f"the clip lasts {seconds:.2f} s; at least {min_seconds:.2f} s was asked")


def plain_wav(src: Path, out: Path) -> float:
    """`src` (speech as a provider wrote it) as a plain 16-bit WAV whose header tells the truth;
    its length in seconds, counted from the samples. Headers lie: OpenAI streams WAV with both size
    fields 0xFFFFFFFF (about 89,478 s if believed). PCM WAV is rewritten here, anything else
    (compressed, or WAV that does not parse) decoded by ffmpeg."""
    pcm = _pcm_wav(src)
    if pcm is not None:
        channels, rate, width, frames = pcm
        with wave.open(str(out), "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(width)
            w.setframerate(rate)
            w.writeframes(frames)
    else:
        try:
            ffmpeg(["-i", str(src), "-map", "0:a:0", "-c:a", "pcm_s16le", "-f", "wav", str(out)],
                   "rewriting audio as WAV", timeout=120)
        except MediaToolError as e:
            raise ResultInvalid(f"the audio does not decode ({str(e)[-200:]})") from e
    with wave.open(str(out)) as w:
        return w.getnframes() / w.getframerate()


def _pcm_wav(path: Path) -> tuple[int, int, int, bytes] | None:
    """(channels, rate, sample width, the whole samples) of an integer-PCM WAV file, reading its data
    chunk to the end of the file when its size field is unknown or too large; None if it is not one."""
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    at, fmt = 12, None
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], struct.unpack_from("<I", data, at + 4)[0]
        body = at + 8
        if kind == b"fmt " and size >= 16:
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif kind == b"data":
            if fmt is None:
                return None
            code, channels, rate, _, align, bits = fmt
            if code not in (1, 0xFFFE) or bits not in (8, 16, 24, 32) or not channels or not rate or not align:
                return None
            samples = data[body:body + size] if size != 0xFFFFFFFF else data[body:]
            return channels, rate, bits // 8, samples[:len(samples) // align * align]
        at = body + size + (size & 1)
    return None


def verify_speech(seconds: float, text: str, max_seconds: float) -> None:
    """Speech (`seconds` long, counted from its samples) that is not empty and is of a sane length for
    its line (not minutes for a sentence)."""
    if seconds < 0.1:
        raise ResultInvalid(f"the speech lasts {seconds:.2f} s: no audio")
    sane = max(10.0, 4 * max_seconds, len(text) / 3)
    if seconds > sane:
        raise ResultInvalid(f"the speech lasts {seconds:.0f} s for a {len(text)}-character line")
