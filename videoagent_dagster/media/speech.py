"""The offline voice: espeak-ng speaking a line to a WAV file."""

from __future__ import annotations

import functools
from pathlib import Path

from videoagent_dagster.media.probe import media_duration
from videoagent_dagster.media.run import MediaToolError, run

# espeak-ng voice per brief language, and its speaking rate in words per minute.
# ja: 175 reads kana at about 7.5 morae a second, a usual narration pace. espeak-ng has no kanji
# readings for Japanese (it names each kanji: "Chinese letter"), so Japanese is turned into kana
# first (pykakasi's dictionary readings: right for most words, not for every reading in context).
VOICES = {"en": "en-us", "zh": "cmn", "ja": "ja"}
RATES = {"en": 170, "zh": 200, "ja": 175}  # words (en), syllables (zh) or morae (ja) a minute, roughly
DEFAULT_RATE = 170
MAX_RATE = 260


@functools.cache
def _kakasi():
    import pykakasi  # only Japanese needs it; its dictionary takes a moment to load

    return pykakasi.kakasi()


def to_kana(text: str) -> str:
    """Japanese with its kanji replaced by their hiragana readings."""
    return "".join(part["hira"] for part in _kakasi().convert(text))


def speak(text: str, out: Path, *, language: str, voice: str | None = None, rate: int | None = None) -> float:
    """Speak `text` into `out` (WAV); return its duration in seconds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    chosen = voice or VOICES.get(language, "en-us")
    rate = rate or RATES.get(language, DEFAULT_RATE)
    if language == "ja" and chosen == "ja":
        text = to_kana(text)
    # Text goes on stdin, so nothing a user wrote can be read as an espeak-ng option.
    proc = run(["espeak-ng", "-v", chosen, "-s", str(rate), "-w", str(out), "--stdin"], f"speaking ({chosen})",
               timeout=120, check=False, stdin=text.encode("utf-8"))
    if proc.returncode != 0 or not out.exists():
        raise MediaToolError(f"espeak-ng ({chosen}) failed: {proc.stderr.decode(errors='replace').strip()[-400:]}")
    return media_duration(out)


def speak_within(text: str, out: Path, *, language: str, limit: float, voice: str | None = None,
                 speed: float = 1.0) -> float:
    """Speak `text` (at `speed` times the usual rate), speeding up (to at most MAX_RATE) so it ends
    within `limit` seconds if it can."""
    base = min(MAX_RATE, int(RATES.get(language, DEFAULT_RATE) * speed))
    duration = speak(text, out, language=language, voice=voice, rate=base if speed != 1.0 else None)
    if duration > limit > 0:
        rate = min(MAX_RATE, int(base * duration / limit * 1.05) + 1)
        duration = speak(text, out, language=language, voice=voice, rate=rate)
    return duration
