"""Task keys: readable, unique, safe as a path and a partition key."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime, timezone

from videoagent_dagster.domain.language import detect_language, is_cjk

TASK_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")

_STOP = {"a", "an", "the", "of", "in", "on", "about", "and", "for", "to", "with", "from", "at", "by",
         "into", "is", "are", "how", "why", "what", "video", "film", "documentary", "short", "story"}


# Japanese particles, left out of a romanised slug as English stop words are.
_PARTICLES = {"no", "wa", "ga", "wo", "o", "ni", "de", "to", "e", "mo", "ya", "ka", "na", "yo", "ne", "su"}
SUFFIX_CHARS = 10  # base32: 50 random bits, so keys of one topic on one day do not collide


def _romanised(topic: str) -> str:
    """Chinese as pinyin (two syllables a word, as most Chinese words are), Japanese as Hepburn
    romaji: a readable slug for topics an ASCII filter would empty."""
    if detect_language(topic) == "ja":
        import pykakasi

        words = [p["hepburn"] for p in pykakasi.kakasi().convert(topic)]
        return " ".join(w for w in words if w.lower() not in _PARTICLES)
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin("".join(c for c in topic if is_cjk(c))) if s != "de"]
    return " ".join("".join(syllables[i:i + 2]) for i in range(0, len(syllables), 2))


def new_task_key(topic: str, now: datetime | None = None) -> str:
    """A readable, unique key such as `20261128-wildlife-africa-k3v9q2m7xa` (or
    `20261128-weilai-chengshi-…` for 未来城市的一天).

    Only ASCII letters and digits survive, so no user input reaches a path or a partition key
    unsanitised; 50 random bits keep keys unique for repeated topics.
    """
    text = _romanised(topic) if is_cjk(topic) else topic
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]
    slug = "-".join(words[:3])[:40].strip("-") or "video"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d")
    suffix = base64.b32encode(secrets.token_bytes(7)).decode("ascii").lower()[:SUFFIX_CHARS]
    return f"{stamp}-{slug}-{suffix}"


def check_task_key(task: str) -> str:
    if not TASK_KEY_PATTERN.match(task):
        raise ValueError(f"task key {task!r} is not valid: use lowercase letters, digits and '-' (up to 80)")
    return task
