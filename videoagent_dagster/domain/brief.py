"""The brief: what a user asks for, validated before anything is written."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from videoagent_dagster.domain.language import (  # noqa: F401 - is_cjk & co. re-exported
    CJK_LANGUAGES,
    detect_language,
    is_cjk,
    is_cjk_language,
)
from videoagent_dagster.domain.styles import (
    STYLE_NAMES,
    CameraMovement,
    TRANSITIONS,
    Transition,
    closest_style,
)

# The brief's fields are declared once, here: BriefRequest (what a user submits) and BriefOptions.
# From them come the error lines (each field's `allowed`), the launchpad config, the CLI options,
# the CSV columns of a batch manifest and the JSON schema the REST API publishes.

Aspect = Literal["16:9", "9:16", "1:1"]
# 180p and 360p are preview sizes: quick drafts and tests. The rest are delivery sizes.
Resolution = Literal["180p", "360p", "480p", "720p", "1080p"]
Fps = Literal[24, 25, 30]
Language = Literal["en", "zh", "ja"]
Subtitles = Literal["burn", "soft", "off"]
Priority = Literal["low", "normal", "high", "urgent"]
ASPECTS: tuple[str, ...] = get_args(Aspect)
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
FPS_CHOICES: tuple[int, ...] = get_args(Fps)
LANGUAGES: tuple[str, ...] = get_args(Language)
PRIORITIES: tuple[str, ...] = get_args(Priority)
MIN_DURATION, MAX_DURATION = 5.0, 600.0
MAX_TOPIC = 2000
DEFAULT_USER = "local"
# A file name in the music library: no folders, a known audio extension.
MUSIC_NAME = r"^(auto|[A-Za-z0-9][A-Za-z0-9 _.+\-]*\.(mp3|m4a|aac|wav|flac|ogg|opus))$"
USER_NAME = r"(?!\.+$)[A-Za-z0-9_.@+-]{1,64}"
# Dagster runs higher `dagster/priority` first.
PRIORITY_TAG = {"low": "-1", "normal": "0", "high": "1", "urgent": "2"}


def _field(default: Any, allowed: str, description: str, **constraints: Any) -> Any:
    """A brief field: its description (help text, launchpad, API docs) and what is allowed (the
    wording of its error line)."""
    return Field(default, description=description, json_schema_extra={"allowed": allowed}, **constraints)


class BriefError(ValueError):
    """A brief was rejected. `problems` holds one (field, value, allowed) line per fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid brief: " + "; ".join(problems))


class BriefOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration: float = _field(30.0, f"a number of seconds from {MIN_DURATION:g} to {MAX_DURATION:g}",
                             "seconds of video", ge=MIN_DURATION, le=MAX_DURATION)
    aspect: Aspect = _field("16:9", ", ".join(ASPECTS), "picture shape")
    resolution: Resolution = _field("1080p", ", ".join(RESOLUTIONS),
                                    "the short side in pixels; 180p and 360p are previews")
    fps: Fps = _field(24, ", ".join(map(str, FPS_CHOICES)), "frames a second")
    language: Language | None = _field(None, ", ".join(LANGUAGES) + " (or leave it out to detect it from the topic)",
                                       "narration and subtitle language (default: detected from the topic)")
    include_audio: bool = _field(True, "true or false", "a narration track (subtitles stay without it)")
    voice: str | None = _field(None, "a voice name of letters, digits, '_', '+', '-' (up to 64)",
                               "a voice of the narration provider", max_length=64, pattern=r"^[A-Za-z0-9_+\-]+$")
    shots: int | None = _field(None, "a whole number from 1 to 120",
                               "number of shots (default about one per 6.5 s)", ge=1, le=120)
    transition: Transition | None = _field(None, ", ".join(TRANSITIONS) + " (or leave it out for the style's)",
                                           "between every two shots (default: the style's)")
    subtitles: Subtitles = _field("burn", "burn, soft, off",
                                  "burn: drawn into the picture; soft: a track players can switch; off")
    music: str | None = _field(None, "'auto' or a file name in the music library "
                                     "(music/…, .mp3 .m4a .aac .wav .flac .ogg .opus)",
                               "a track in the music library (media store music/), or 'auto'",
                               max_length=128, pattern=MUSIC_NAME)

    def size(self) -> tuple[int, int]:
        """Output width and height: the short side is the resolution's number, both sides even."""
        short = int(self.resolution[:-1])
        long = round(short * 16 / 9 / 2) * 2
        return {"16:9": (long, short), "9:16": (short, long), "1:1": (short, short)}[self.aspect]


class BriefRequest(BaseModel):
    """A brief as submitted (CLI, intake object, CSV row, GraphQL, REST): the JSON schema of
    `briefs/{task}.json`. validate_brief checks a raw dict against it, field by field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "videoagent brief"})

    topic: str = _field(..., f"a topic of 1-{MAX_TOPIC} characters",
                        "what the video is about, e.g. 'A documentary about wildlife in Africa'",
                        min_length=1, max_length=MAX_TOPIC)
    style: str | None = _field(None, ", ".join(STYLE_NAMES),
                               "visual style (a near miss maps to the closest; default: detected from the topic)")
    options: BriefOptions = Field(default_factory=BriefOptions, description="how the video is made")
    user: str = _field(DEFAULT_USER, "1-64 letters, digits and _ . @ + -", "whose daily budget this counts against",
                       pattern=r"^[A-Za-z0-9_.@+-]{1,64}$")  # (and not dots only: validate_brief)
    priority: Priority = _field("normal", ", ".join(PRIORITIES), "urgent work overtakes queued normal work")
    webhook_url: str | None = _field(None, "an http(s) URL",
                                     "told (signed POST) when the video is made or has failed", max_length=2000)


TOP_FIELDS: tuple[str, ...] = tuple(BriefRequest.model_fields)
OPTION_FIELDS: tuple[str, ...] = tuple(BriefOptions.model_fields)


def allowed(field: str) -> str:
    """What a field allows, in the words of its error line (`options.duration` or `topic`)."""
    model, name = (BriefOptions, field.split(".", 1)[1]) if field.startswith("options.") else (BriefRequest, field)
    return model.model_fields[name].json_schema_extra["allowed"]  # type: ignore[index]


def brief_json_schema() -> dict[str, Any]:
    """The JSON schema of a submitted brief (what the REST API publishes)."""
    return BriefRequest.model_json_schema()


class ShotRevision(BaseModel):
    """What a user changed in one shot of the storyboard (unset: as the storyboard has it)."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(None, min_length=1, max_length=2000, description="what is on screen")
    narration: str | None = Field(None, max_length=2000, description="what is spoken over it (may be empty)")
    camera_movement: CameraMovement | None = Field(None, description="the camera's move")
    duration: float | None = Field(None, gt=0, le=60, description="seconds on screen; the storyboard's total "
                                                                  "must stay within 10% of the brief's")


class Revisions(BaseModel):
    """What a user changed after the task was made (`tasks/{task}/revisions.json`): a cast member's
    description by its id, and shots by their number (1 = the first). video_brief carries them, so
    a change shows every stage after it stale, and the cache makes again only what the change
    reaches."""

    model_config = ConfigDict(extra="forbid")

    cast: dict[str, str] = Field(default_factory=dict)
    shots: dict[int, ShotRevision] = Field(default_factory=dict)


class Brief(BaseModel):
    """A validated brief, as stored in `briefs/{task}.json` and returned by `video_brief` (with the
    task's revisions)."""

    model_config = ConfigDict(extra="forbid")

    task: str
    topic: str
    style: str | None = None
    style_warning: str | None = None
    user: str = "local"
    priority: Priority = "normal"
    webhook_url: str | None = None
    language: Language
    options: BriefOptions
    created_at: str
    revisions: Revisions = Field(default_factory=Revisions)

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
        problems.append(f"priority: {priority!r} is not allowed; allowed: {allowed('priority')}")
    webhook_url = raw.get("webhook_url") or None
    if webhook_url is not None and not (isinstance(webhook_url, str) and len(webhook_url) <= 2000
                                        and re.fullmatch(r"https?://[^\s/$.?#][^\s]*", webhook_url)):
        problems.append(f"webhook_url: {str(webhook_url)[:200]!r} is not allowed; allowed: {allowed('webhook_url')}")
    user = raw.get("user") or DEFAULT_USER
    if not (isinstance(user, str) and re.fullmatch(USER_NAME, user)):
        problems.append(f"user: {user!r} is not allowed; allowed: {allowed('user')}")

    topic_raw = raw.get("topic")
    topic = ""
    if not isinstance(topic_raw, str):
        problems.append(f"topic: {topic_raw!r} is not text; {allowed('topic')} is required")
    else:
        topic = clean_topic(topic_raw)
        if not topic:
            problems.append(f"topic: is blank; {allowed('topic')} is required")
        elif len(topic) > MAX_TOPIC:
            problems.append(f"topic: {len(topic)} characters is too long; allowed: 1-{MAX_TOPIC} characters")

    style, style_warning = None, None
    style_raw = raw.get("style")
    if style_raw is not None and not (isinstance(style_raw, str) and not style_raw.strip()):
        if not isinstance(style_raw, str):
            problems.append(f"style: {style_raw!r} is not text; allowed: {allowed('style')}")
        else:
            style = closest_style(style_raw)
            if style is None:
                problems.append(f"style: {style_raw!r} is not a known style; allowed: {allowed('style')}")
            elif style != style_raw.strip().lower():
                style_warning = f"style {style_raw!r} is not in the catalogue; using the closest, {style!r}"

    options_raw = {} if raw.get("options") is None else raw["options"]
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


def _describe(err: dict[str, Any], raw: dict[str, Any]) -> str:
    field = str(err["loc"][0]) if err["loc"] else "options"
    if err["type"] == "extra_forbidden":
        return f"options.{field}: unknown option; allowed: {', '.join(OPTION_FIELDS)}"
    value = raw.get(field, err.get("input"))
    known = field in BriefOptions.model_fields
    return f"options.{field}: {value!r} is not allowed; allowed: {allowed('options.' + field) if known else err['msg']}"


def field_type(annotation: Any) -> type:
    """The plain type a brief field takes from text: Literal choices as their base type (str, int),
    `X | None` as X."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return type(args[0])
    if args:
        return field_type(args[0])
    return annotation


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def from_text(model: type[BaseModel], name: str, text: str) -> Any:
    """A field's value from text (a CSV cell, a CLI argument): a number or a truth value where the
    field takes one; text that does not convert is passed on, for validation to name it."""
    kind = field_type(model.model_fields[name].annotation)
    try:
        if kind is bool:
            low = text.strip().lower()
            return True if low in _TRUE else False if low in _FALSE else text
        return kind(text) if kind in (int, float) else text
    except ValueError:
        return text


def raw_brief_from_text(cells: dict[str, str]) -> dict[str, Any]:
    """A raw brief from flat text cells (a CSV row): top fields as they are, options by name."""
    return raw_from_flat({k: from_text(BriefOptions, k, v) if k in OPTION_FIELDS else v for k, v in cells.items()})


def run_tags(brief: Brief, max_runtime: int | None = None) -> dict[str, str]:
    """Tags for a task's runs: priority (urgent work overtakes queued normal work), user (for the
    per-user concurrency limit in dagster.yaml) and, when given, the run's time limit (Dagster's run
    monitoring stops a run past `dagster/max_runtime`). Here, free of Dagster, for the GraphQL client."""
    return {"dagster/priority": PRIORITY_TAG[brief.priority], "videoagent/user": brief.user,
            "videoagent/priority": brief.priority,
            **({"dagster/max_runtime": str(max_runtime)} if max_runtime else {})}


def flat_brief(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw brief as one flat mapping (video_brief's launchpad config): options by their own name,
    unset fields left out."""
    flat = {k: v for k, v in raw.items() if k != "options"}
    flat.update(raw.get("options") or {})
    return {k: v for k, v in flat.items() if v is not None}


def raw_from_flat(flat: dict[str, Any]) -> dict[str, Any]:
    """The inverse of flat_brief: a raw brief from a flat mapping (unset fields left out)."""
    given = {k: v for k, v in flat.items() if v is not None}
    return {**{k: v for k, v in given.items() if k not in OPTION_FIELDS},
            "options": {k: v for k, v in given.items() if k in OPTION_FIELDS}}
