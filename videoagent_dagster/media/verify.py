"""Is a provider's result what was asked? Checked before it enters the cache: an answer that
does not decode, or is not of the asked size or length, is a failed attempt, never a result.

Each function raises ResultInvalid saying what is wrong."""

from __future__ import annotations

import wave
from pathlib import Path

from .ffmpeg import MediaToolError, probe, run

SPEECH_SAMPLE_RATE = 24000


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
    """A clip with a video stream at least `min_seconds` long (vendors may deliver less than asked)."""
    try:
        facts = probe(path)
    except MediaToolError as e:
        raise ResultInvalid(f"the clip does not decode ({str(e)[-200:]})") from e
    if not facts.get("video"):
        raise ResultInvalid("the clip has no video stream")
    seconds = facts["video"].get("duration") or facts.get("duration") or 0.0
    if seconds + 0.05 < min_seconds:
        raise ResultInvalid(f"the clip lasts {seconds:.2f} s; at least {min_seconds:.2f} s was asked")


def decoded_seconds(path: Path) -> float:
    """Seconds of audio counted from the decoded samples. Headers lie: OpenAI's streamed WAV sets
    both size fields to 0xFFFFFFFF (which reads as about 89,478 s)."""
    try:
        proc = run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:a:0",
                    "-ac", "1", "-ar", str(SPEECH_SAMPLE_RATE), "-f", "s16le", "-"], "decoding audio", timeout=120)
    except MediaToolError as e:
        raise ResultInvalid(f"the audio does not decode ({str(e)[-200:]})") from e
    return len(proc.stdout) / 2 / SPEECH_SAMPLE_RATE


def as_wav(src: Path, out: Path) -> float:
    """Rewrite any audio ffmpeg reads as a plain 16-bit WAV with true size fields; its seconds."""
    try:
        run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-map", "0:a:0",
             "-c:a", "pcm_s16le", "-f", "wav", str(out)], "rewriting audio as WAV", timeout=120)
    except MediaToolError as e:
        raise ResultInvalid(f"the audio does not decode ({str(e)[-200:]})") from e
    with wave.open(str(out)) as w:
        return w.getnframes() / w.getframerate()


def verify_speech(path: Path, text: str, max_seconds: float) -> None:
    """Speech that decodes, is not empty, and is of a sane length for its line (not minutes for a
    sentence)."""
    seconds = decoded_seconds(path)
    if seconds < 0.1:
        raise ResultInvalid(f"the speech lasts {seconds:.2f} s: no audio")
    sane = max(10.0, 4 * max_seconds, len(text) / 3)
    if seconds > sane:
        raise ResultInvalid(f"the speech lasts {seconds:.0f} s for a {len(text)}-character line")
