"""The brief: what a user asks for, validated before anything is written."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from videoagent_dagster.domain.styles import (
    STYLE_NAMES,
    TRANSITIONS,
    Transition,
    closest_style,
)

ASPECTS = ("16:9", "9:16", "1:1")
# 180p and 360p are preview sizes: quick drafts and tests. The rest are delivery sizes.
RESOLUTIONS = ("180p", "360p", "480p", "720p", "1080p")
FPS_CHOICES = (24, 25, 30)
LANGUAGES = ("en", "zh", "ja")
# Languages written without spaces between words, timed by characters rather than words.
CJK_LANGUAGES = ("zh", "ja")
MIN_DURATION, MAX_DURATION = 5.0, 600.0
MAX_TOPIC = 2000
DEFAULT_USER = "local"
# A file name in the music library: no folders, a known audio extension.
MUSIC_NAME = r"^(auto|[A-Za-z0-9][A-Za-z0-9 _.+\-]*\.(mp3|m4a|aac|wav|flac|ogg|opus))$"
TOP_FIELDS = ("topic", "style", "options", "user", "priority", "webhook_url")
PRIORITIES = ("low", "normal", "high", "urgent")
# Dagster runs higher `dagster/priority` first.
PRIORITY_TAG = {"low": "-1", "normal": "0", "high": "1", "urgent": "2"}


class BriefError(ValueError):
    """A brief was rejected. `problems` holds one (field, value, allowed) line per fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid brief: " + "; ".join(problems))


class BriefOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration: float = Field(30.0, ge=MIN_DURATION, le=MAX_DURATION, description="seconds")
    aspect: Literal["16:9", "9:16", "1:1"] = "16:9"
    resolution: Literal["180p", "360p", "480p", "720p", "1080p"] = "1080p"
    fps: Literal[24, 25, 30] = 24
    language: Literal["en", "zh", "ja"] | None = None
    include_audio: bool = True
    voice: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_+\-]+$")
    shots: int | None = Field(None, ge=1, le=120, description="number of shots; default about one per 6 s")
    transition: Transition | None = Field(None, description="between every two shots; default: the style's")
    subtitles: Literal["burn", "soft", "off"] = Field(
        "burn", description="burn: drawn into the picture; soft: a subtitle track players can switch; off")
    music: str | None = Field(None, max_length=128, pattern=MUSIC_NAME,
                              description="a track in the music library (media store music/), or 'auto'")

    def size(self) -> tuple[int, int]:
        """Output width and height: the short side is the resolution's number, both sides even."""
        short = int(self.resolution[:-1])
        long = round(short * 16 / 9 / 2) * 2
        return {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}[self.aspect]


class Brief(BaseModel):
    """A validated brief, as stored in `briefs/{task}.json` and returned by `video_brief`."""

    model_config = ConfigDict(extra="forbid")

    task: str
    topic: str
    style: str | None = None
    style_warning: str | None = None
    user: str = "local"
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    webhook_url: str | None = None
    language: Literal["en", "zh", "ja"]
    options: BriefOptions
    created_at: str

    @field_validator("topic")
    @classmethod
    def _topic_clean(cls, v: str) -> str:
        if not v or v != clean_topic(v):
            raise ValueError("topic must be cleaned with clean_topic")
        return v


def clean_topic(topic: str) -> str:
    """Drop control characters, collapse whitespace, trim."""
    no_controls = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in topic)
    return re.sub(r"\s+", " ", no_controls).strip()


def is_cjk_language(language: str) -> bool:
    """Chinese and Japanese: no spaces between words, timed by characters, sentences end in 。."""
    return language in CJK_LANGUAGES


# Hiragana, katakana (without the middle dot ・, which Chinese text uses too), katakana extensions and
# half-width katakana: only Japanese writes these.
_KANA = r"[\u3041-\u309f\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f]"
_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff]"


def is_cjk(text: str) -> bool:
    """Whether `text` has any kana or Chinese characters."""
    return bool(re.search(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]", text))


def detect_language(text: str) -> str:
    """'ja' or 'zh' when CJK characters make up a fair share of the letters, else 'en'.

    Any kana makes it Japanese, kanji or not; Chinese characters without kana make it Chinese."""
    kana = len(re.findall(_KANA, text))
    cjk = kana + len(re.findall(_HAN, text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if not cjk or cjk * 3 < latin:
        return "en"
    return "ja" if kana else "zh"


def validate_brief(raw: dict[str, Any], task: str, now: datetime | None = None) -> Brief:
    """Validate a submitted brief (`{"topic", "style"?, "options"?: {...}}`) into a Brief.

    Raises BriefError naming each bad field, its value and what is allowed.
    """
    if not isinstance(raw, dict):
        raise BriefError([f"brief: expected a JSON object, got {type(raw).__name__}"])
    problems: list[str] = []
    unknown = set(raw) - set(TOP_FIELDS)
    if unknown:
        problems.append(f"{', '.join(sorted(unknown))}: unknown field(s); allowed: {', '.join(TOP_FIELDS)}")
    priority = raw.get("priority") or "normal"
    if priority not in PRIORITIES:
        problems.append(f"priority: {priority!r} is not allowed; allowed: {', '.join(PRIORITIES)}")
    webhook_url = raw.get("webhook_url") or None
    if webhook_url is not None and not (isinstance(webhook_url, str) and len(webhook_url) <= 2000
                                        and re.fullmatch(r"https?://[^\s/$.?#][^\s]*", webhook_url)):
        problems.append(f"webhook_url: {str(webhook_url)[:200]!r} is not allowed; allowed: an http(s) URL")
    user = raw.get("user") or DEFAULT_USER
    if not (isinstance(user, str) and re.fullmatch(r"(?!\.+$)[A-Za-z0-9_.@+-]{1,64}", user)):
        problems.append(f"user: {user!r} is not allowed; allowed: 1-64 letters, digits and _ . @ + -")

    topic_raw = raw.get("topic")
    topic = ""
    if not isinstance(topic_raw, str):
        problems.append(f"topic: {topic_raw!r} is not text; a topic of 1-{MAX_TOPIC} characters is required")
    else:
        topic = clean_topic(topic_raw)
        if not topic:
            problems.append("topic: is blank; a topic of 1-2000 characters is required")
        elif len(topic) > MAX_TOPIC:
            problems.append(f"topic: {len(topic)} characters is too long; allowed: 1-{MAX_TOPIC} characters")

    style, style_warning = None, None
    style_raw = raw.get("style")
    if style_raw is not None and not (isinstance(style_raw, str) and not style_raw.strip()):
        if not isinstance(style_raw, str):
            problems.append(f"style: {style_raw!r} is not text; allowed: {', '.join(STYLE_NAMES)}")
        else:
            style = closest_style(style_raw)
            if style is None:
                problems.append(f"style: {style_raw!r} is not a known style; allowed: {', '.join(STYLE_NAMES)}")
            elif style != style_raw.strip().lower():
                style_warning = f"style {style_raw!r} is not in the catalogue; using the closest, {style!r}"

    options_raw = raw.get("options") or {}
    options = None
    if not isinstance(options_raw, dict):
        problems.append(f"options: {options_raw!r} is not an object")
    else:
        try:
            options = BriefOptions.model_validate(options_raw)
        except ValidationError as e:
            problems.extend(_describe(err, options_raw) for err in e.errors())
        else:
            if options.shots and options.duration / options.shots < 1.0:
                problems.append(
                    f"options.shots: {options.shots} shots in {options.duration:g} s is under 1 s a shot; "
                    f"allowed: at most {int(options.duration)} shots for this duration"
                )
    if problems:
        raise BriefError(problems)
    assert options is not None
    language = options.language or detect_language(topic)
    return Brief(
        task=task,
        topic=topic,
        style=style,
        style_warning=style_warning,
        user=user,
        priority=priority,
        webhook_url=webhook_url,
        language=language,
        options=options.model_copy(update={"language": language}),
        created_at=(now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
    )


_ALLOWED = {
    "duration": f"a number of seconds from {MIN_DURATION:g} to {MAX_DURATION:g}",
    "aspect": ", ".join(ASPECTS),
    "resolution": ", ".join(RESOLUTIONS),
    "fps": ", ".join(map(str, FPS_CHOICES)),
    "language": ", ".join(LANGUAGES) + " (or leave it out to detect it from the topic)",
    "include_audio": "true or false",
    "voice": "a voice name of letters, digits, '_', '+', '-' (up to 64)",
    "shots": "a whole number from 1 to 120",
    "transition": ", ".join(TRANSITIONS) + " (or leave it out for the style's)",
    "subtitles": "burn, soft, off",
    "music": "'auto' or a file name in the music library (music/…, .mp3 .m4a .aac .wav .flac .ogg .opus)",
}


def _describe(err: dict[str, Any], raw: dict[str, Any]) -> str:
    field = str(err["loc"][0]) if err["loc"] else "options"
    if err["type"] == "extra_forbidden":
        return f"options.{field}: unknown option; allowed: {', '.join(_ALLOWED)}"
    value = raw.get(field, err.get("input"))
    return f"options.{field}: {value!r} is not allowed; allowed: {_ALLOWED.get(field, err['msg'])}"


def run_tags(brief: Brief) -> dict[str, str]:
    """Tags for a task's runs: priority (urgent work overtakes queued normal work) and user (for
    the per-user concurrency limit in dagster.yaml). Here, free of Dagster, for the GraphQL client."""
    return {"dagster/priority": PRIORITY_TAG[brief.priority], "videoagent/user": brief.user,
            "videoagent/priority": brief.priority}
