"""Manifests: what each asset returns. The same models validate what an LLM writes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.styles import (  # noqa: F401 - the camera's words, re-exported
    CAMERA_MOVEMENTS,
    CameraMovement,
    StyleName,
    Transition,
    closest_style,
)
from videoagent_dagster.domain.timing import frame_count
ShotType = Literal["establishing", "wide", "medium", "close_up", "extreme_close_up", "aerial", "over_the_shoulder"]
SHOT_TYPES: tuple[str, ...] = ShotType.__args__  # type: ignore[attr-defined]


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StyleProfile(Manifest):
    name: str
    tags: list[str]
    visual_style: str
    mood: str
    palette: list[str]
    lighting: str
    transition: Transition = "cut"
    source: Literal["user", "detected", "fallback", "llm"]
    reasoning: str
    decided_by: str = "keywords"  # "user", "keywords", or the LLM provider:model that chose
    characteristics: list[str] = Field(default_factory=list)  # what the chooser saw in the topic
    call: ProviderCall | None = None  # the style agent's call (None: the user's style or the keywords)


class StyleChoice(Manifest):
    """What the style agent (an LLM) answers: one style of the catalogue, and why."""

    style: StyleName = Field(description="one style name of the catalogue, exactly as listed")
    reasoning: str = Field(min_length=1, max_length=1000, description="why this style suits the topic")
    characteristics: list[str] = Field(min_length=1, max_length=8,
                                       description="the topic's traits that decided it, a few words each")

    @field_validator("style", mode="before")
    @classmethod
    def _catalogue_spelling(cls, value):
        """'Documentary' or 'documentry' is the catalogue's 'documentary' (a near miss, mended);
        anything further off fails validation and is asked again."""
        return (closest_style(value) or value) if isinstance(value, str) else value


class Scene(Manifest):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1)
    narration: str = Field(min_length=1)
    duration: float = Field(gt=0)
    visual_notes: str = ""
    audio_notes: str = ""


class Script(Manifest):
    """Also the schema an LLM fills in for the script stage."""

    title: str = Field(min_length=1, max_length=200)
    synopsis: str = Field(min_length=1)
    text: str = Field(min_length=1, description="the full narration, scene by scene")
    scenes: list[Scene] = Field(min_length=1)


CastKind = Literal["character", "place", "prop"]
CAST_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"
MAX_CAST = 8
MAX_CAST_DESCRIPTION = 600


class CastMember(Manifest):
    """A character, place or prop that recurs, with the one description every shot showing it repeats."""

    id: str = Field(pattern=CAST_ID, description="a short lowercase id (letters, digits, '_', '-'), e.g. 'old_keeper'")
    kind: CastKind
    name: str = Field(min_length=1, max_length=80, description="its name, in the script's language")
    description: str = Field(min_length=1, max_length=MAX_CAST_DESCRIPTION,
                             description="a fixed visual description: looks, build, clothing, materials, colours")
    colours: list[str] = Field(min_length=1, max_length=4, description="hex colours that identify it, e.g. '#aa3322'")


class CastDraft(Manifest):
    """What an LLM fills in for the cast stage: who and what recurs (none for a topic without any)."""

    members: list[CastMember] = Field(max_length=MAX_CAST)


class Cast(CastDraft):
    """The cast asset's manifest: the members (a user's revised descriptions applied) and who wrote them."""

    revised: list[str] = Field(default_factory=list)  # ids whose description is the user's
    call: ProviderCall | None = None

    def of(self, ids: list[str]) -> list[CastMember]:
        """The members named by `ids`, in the cast's order (unknown ids left out)."""
        wanted = set(ids)
        return [m for m in self.members if m.id in wanted]


class ReferenceImage(Manifest):
    member: str  # the cast member's id
    key: str
    uri: str
    sha256: str
    prompt: str
    call: ProviderCall


class ReferenceSheets(Manifest):
    images: list[ReferenceImage]
    contact_sheet: str | None = None

    def by_member(self) -> dict[str, ReferenceImage]:
        return {r.member: r for r in self.images}


class Shot(Manifest):
    """One storyboard shot; also the schema an LLM fills in for each shot."""

    scene: int = Field(ge=0, description="index of the script scene this shot belongs to")
    title: str = Field(min_length=1, max_length=120, description="short caption for the frame")
    description: str = Field(min_length=1)
    narration: str = Field(description="what is spoken over this shot; may be empty")
    camera_movement: CameraMovement
    shot_type: ShotType
    duration: float = Field(gt=0, le=60)
    composition: str
    lighting: str
    palette: list[str] = Field(min_length=2, max_length=8)
    transition: Transition | None = Field(
        None, description="how this shot gives way to the next (cut, crossfade, fade_black, slide, wipe); "
                          "null for the style's usual transition")
    cast: list[str] = Field(default_factory=list, max_length=MAX_CAST,
                            description="ids of the cast members (characters, places, props) this shot shows")
    speaker: str | None = Field(None, description="the id of the cast character who says this shot's line in "
                                                    "their own voice; null for the narrator")


class StoryboardDraft(Manifest):
    shots: list[Shot] = Field(min_length=1)


class ProviderCall(Manifest):
    """Who served one provider call and what it cost."""

    provider: str
    model: str
    cached: bool
    latency_s: float
    cost_usd: float = 0.0  # paid by this call: 0 when served from the cache
    made_cost_usd: float = 0.0  # what the result cost when it was made (equal to cost_usd on a miss)
    usage: dict[str, float] = Field(default_factory=dict)
    cache_key: str


class Storyboard(Manifest):
    shots: list[Shot] = Field(min_length=1)
    total_duration: float
    width: int
    height: int
    fps: int
    style: str
    calls: list[ProviderCall] = Field(default_factory=list)  # who chose the style, wrote the script and the storyboard
    # Frames two shots overlap at each join (0 for a cut; none after the last shot). Shot i's clip runs
    # its duration plus overlap[i], so the joined video still lasts total_duration.
    overlaps: list[int] = Field(default_factory=list)

    def overlap(self, i: int) -> int:
        return self.overlaps[i] if i < len(self.overlaps) else 0

    def joins(self) -> list[tuple[str, int]]:
        """How each shot gives way to the next: (transition, frames they overlap)."""
        return [(s.transition or "cut", self.overlap(i)) for i, s in enumerate(self.shots[:-1])]

    def clip_frames(self, i: int) -> int:
        """Frames of shot i's clip: its own time on screen plus what the next shot's transition overlaps."""
        return frame_count(self.shots[i].duration, self.fps) + self.overlap(i)


class WrittenScript(Script):
    """The script asset's manifest: the script, and who wrote it."""

    call: ProviderCall | None = None


class FrameVerdict(Manifest):
    """What the quality checker (a vision model) answers about a frame."""

    score: int = Field(ge=0, le=10, description="0-10: how well the frame shows what the shot says")
    reason: str = Field(min_length=1, max_length=600, description="what matches, and what to change")


class FrameCandidate(Manifest):
    """One frame painted for a shot, and what the quality checker made of it."""

    key: str  # the image in the cache
    prompt: str
    score: int | None  # None: not judged (no vision provider, or none could answer)
    reason: str
    call: ProviderCall  # the painting
    judge_call: ProviderCall | None = None


class FrameItem(Manifest):
    shot: int
    key: str
    uri: str
    sha256: str
    width: int
    height: int
    prompt: str
    call: ProviderCall
    score: int | None = None  # the kept candidate's (None: not judged)
    reason: str = "not judged"
    candidates: list[FrameCandidate] = Field(default_factory=list)  # every frame painted, the kept one included


class FirstFrames(Manifest):
    frames: list[FrameItem]
    contact_sheet: str
    reference_calls: list[ProviderCall] = Field(default_factory=list)  # the reference images they were painted from

    def calls(self) -> list[ProviderCall]:
        """Every call the frames took: each candidate painted and each look the checker took."""
        return [c for f in self.frames
                for c in ([x.call for x in f.candidates] + [x.judge_call for x in f.candidates if x.judge_call])
                or [f.call]]


class ClipItem(Manifest):
    shot: int
    key: str
    uri: str
    duration: float
    fps: int
    width: int
    height: int
    call: ProviderCall
    attempts: list[dict] = Field(default_factory=list)  # each try and its quality verdict
    # What the composer needs to know of the clip: frames and rate (media.compose `signatures`)
    signature: dict = Field(default_factory=dict)
    score: int | None = None  # the quality checker's for its middle frame (None: not judged)
    judge_calls: list[ProviderCall] = Field(default_factory=list)  # each look the checker took


class ShotClips(Manifest):
    clips: list[ClipItem]


class NarrationLine(Manifest):
    shot: int
    text: str
    speaker: str | None = None  # a cast character's id (None: the narrator)
    voice: str | None = None  # the voice asked for (None: the provider's default)
    start: float
    end: float
    audio_key: str | None = None
    speech_duration: float = 0.0
    call: ProviderCall | None = None


class Narration(Manifest):
    lines: list[NarrationLine]
    track_key: str | None  # the whole narration, shot-aligned; None when audio is off
    # The finished sound: the narration over the music bed, loudness-normalised (None: audio off,
    # or a manifest from before the soundtrack was mastered here, which final_video then masters).
    soundtrack_key: str | None = None
    music: str | None = None  # the music bed's key in the media store, if any
    # Silent stretches of the voice alone (track_key), for checking the lines are heard when music
    # plays under them; None for a manifest from before they were recorded.
    voice_silences: list[tuple[float, float]] | None = None
    subtitles_srt: str
    subtitles_ass: str


class PastCut(Manifest):
    """A cut the task made before its latest one (kept when the video was made again)."""

    key: str
    uri: str
    made_at: str
    duration: float
    size_bytes: int


class FinalVideo(Manifest):
    key: str
    uri: str
    duration: float
    width: int
    height: int
    fps: float
    codec: str
    audio_codec: str | None
    bitrate: int
    size_bytes: int
    thumbnail: str
    subtitles: str
    shots: int
    style: str
    total_cost_usd: float  # what every result in the video cost when it was made, cache hits included
    made_at: str = ""  # when this cut was made (ISO 8601, UTC)
    history: list[PastCut] = Field(default_factory=list)  # the cuts made before it, oldest first


class EditorExport(Manifest):
    otio: str
    fcp_xml: str
    edl: str
    otio_key: str
    fcp_xml_key: str
    edl_key: str


# Which model each asset's manifest is, for the IO manager.
MANIFEST_MODELS: dict[str, type[BaseModel]] = {
    "video_brief": Brief,
    "style_profile": StyleProfile,
    "script": WrittenScript,
    "cast": Cast,
    "reference_sheets": ReferenceSheets,
    "storyboard": Storyboard,
    "first_frames": FirstFrames,
    "shot_clips": ShotClips,
    "narration": Narration,
    "final_video": FinalVideo,
    "editor_export": EditorExport,
}
