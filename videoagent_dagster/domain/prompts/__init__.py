"""Prompts of the stages that ask a model: style, script, cast, storyboard, reference sheets, image and video. Each is a
template file (`templates/{stage}.txt`, or `{stage}.{language}.txt` where wording must differ by
language) filled in with `$names`; a folder of one's own (VIDEOAGENT_PROMPTS) overrides any of
them. A real LLM reads the prompt; the offline writer reads the same request's structured inputs.
Both answers are validated against the same schema. The prompt is part of each call's cache key,
and a template's digest is its stage's code version, so editing one makes exactly the stages it
feeds stale and regenerates only those."""

from __future__ import annotations

import hashlib
from pathlib import Path
from string import Template
from typing import Any

from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import MAX_CAST, CastMember, Script, Shot, StyleProfile
from videoagent_dagster.domain.styles import CATALOGUE

LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese", "ja": "Japanese"}
# How fast a narrator speaks, as the script prompt puts it (about the pace the offline writer plans for).
PACE = {"ja": "about 5.5 Japanese characters (kana and kanji)"}
DEFAULT_PACE = "about 2.5 words (or 3.5 Chinese characters)"


TEMPLATES = Path(__file__).with_name("templates")
STAGE_TEMPLATES = ("style", "script", "cast", "storyboard", "reference", "image", "video", "judge")


class PromptTemplateError(ValueError):
    """A prompt template (one of ours, or one from the override folder) that cannot be used."""


def template_text(name: str, language: str | None = None, folder: str | None = None) -> str:
    """A stage's prompt template: `{name}.{language}.txt`, else `{name}.txt`, from the override
    folder (VIDEOAGENT_PROMPTS) when it has one, else the package's own."""
    for base in ([Path(folder)] if folder else []) + [TEMPLATES]:
        for file in ([f"{name}.{language}.txt"] if language else []) + [f"{name}.txt"]:
            if (base / file).is_file():
                return (base / file).read_text(encoding="utf-8")
    raise PromptTemplateError(f"no prompt template {name!r} in {folder or TEMPLATES}")


def template_version(name: str, folder: str | None = None) -> str:
    """A digest of every file of a stage's template (all languages), for the asset's code version:
    editing one makes the stages it feeds stale, and only those."""
    digest = hashlib.sha256()
    for base in ([Path(folder)] if folder else []) + [TEMPLATES]:
        for file in sorted(base.glob(f"{name}.*txt")) if base.is_dir() else []:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]


def render(name: str, language: str | None, folder: str | None, **values: Any) -> str:
    """A template filled in ($name placeholders); one that asks for a value no stage gives fails
    with its name, not with a prompt that says `$thing` to a model."""
    text = template_text(name, language, folder)
    try:
        return Template(text).substitute({k: str(v) for k, v in values.items()}).strip() + "\n"
    except (KeyError, ValueError) as e:
        known = ", ".join(f"${k}" for k in sorted(values))
        raise PromptTemplateError(f"prompt template {name!r} ({folder or TEMPLATES}) asks for {e}; it may use "
                                  f"{known}") from None


def _g(seconds: float) -> str:
    return f"{seconds:g}"


def style_prompt(brief: Brief, folder: str | None = None) -> str:
    """The style agent's question (the original design's §12.1): one style of the catalogue for the
    topic, with its reasons and the topic's traits that decided it."""
    catalogue = "\n".join(f"- {s.name}: {s.visual_style}; mood {s.mood}; {', '.join(s.tags)}"
                           for s in CATALOGUE.values())
    return render("style", brief.language, folder, duration=_g(brief.options.duration), aspect=brief.options.aspect,
                  topic=brief.topic, language_name=LANGUAGE_NAMES[brief.language], catalogue=catalogue)


def script_prompt(brief: Brief, style: StyleProfile, folder: str | None = None) -> str:
    return render("script", brief.language, folder, duration=_g(brief.options.duration), topic=brief.topic,
                  style_name=style.name, visual_style=style.visual_style, mood=style.mood,
                  language_name=LANGUAGE_NAMES[brief.language], pace=PACE.get(brief.language, DEFAULT_PACE))


def cast_prompt(brief: Brief, style: StyleProfile, script: Script, folder: str | None = None) -> str:
    """The casting question: who and what recurs, each with one fixed visual description."""
    return render("cast", brief.language, folder, duration=_g(brief.options.duration), style_name=style.name,
                  visual_style=style.visual_style, max_cast=MAX_CAST, language_name=LANGUAGE_NAMES[brief.language],
                  script=script.model_dump_json(include=set(Script.model_fields)))


def cast_list(members: list[CastMember]) -> str:
    """The cast as the storyboard prompt lists it: ids, kinds and names, not descriptions, so that
    revising a description does not re-plan the shots (only the shots showing it are made again)."""
    return "\n".join(f"- {m.id}: {m.name} ({m.kind})" for m in members) or "(none)"


def storyboard_prompt(brief: Brief, style: StyleProfile, script: Script, shots: int, folder: str | None = None,
                      cast: list[CastMember] | None = None, frames: tuple[int, ...] | None = None) -> str:
    """`frames`: the shots' lengths when they are timed to the video vendor's clip lengths."""
    timing = (f"- Time the shots, in order, to these seconds (the video vendor films clips of set lengths): "
              f"{', '.join(_g(round(f / brief.options.fps, 3)) for f in frames)}." if frames else
              "- Durations must add up to the requested length.")
    return render("storyboard", brief.language, folder, shots=shots, duration=_g(brief.options.duration),
                  aspect=brief.options.aspect, style_name=style.name, visual_style=style.visual_style,
                  lighting=style.lighting, script=script.model_dump_json(include=set(Script.model_fields)),
                  cast=cast_list(cast or []), timing=timing)


def reference_prompt(member: CastMember, style: StyleProfile, folder: str | None = None) -> str:
    """What an image vendor is asked for a cast member's reference image."""
    return render("reference", None, folder, member=member.name, kind=member.kind, description=member.description,
                  colours=", ".join(member.colours), visual_style=style.visual_style)


def _in_shot(cast: list[CastMember] | None) -> str:
    """The fixed descriptions of the cast members a shot shows, repeated word for word in its prompts."""
    return "".join(f"{m.name} ({m.kind}), as always: {m.description.rstrip('.')}.\n" for m in cast or [])


def _continuity(previous: Shot | None, cast: list[CastMember] | None = None) -> str:
    """What the previous shot established, for the next one to keep (or to move on from): its
    title, who and where (its cast), its framing and light. Not its description: revising one
    shot's description must not repaint the next."""
    if previous is None:
        return "This is the first shot: establish the subject and the place."
    names = {m.id: m.name for m in cast or []}
    shown = ", ".join(names.get(c, c) for c in previous.cast)
    return (f"Continuity: the previous shot, \u201c{previous.title}\u201d, showed {shown or 'the subject'} "
            f"({previous.shot_type.replace('_', ' ')}, {previous.lighting}); keep its place, light and "
            "people unless this shot moves on.")


def image_prompt(shot: Shot, style: StyleProfile, previous: Shot | None = None, folder: str | None = None,
                 cast: list[CastMember] | None = None, everyone: list[CastMember] | None = None) -> str:
    """What an image vendor is asked for a shot's first frame (§12.4): the description with the
    shot type, camera, composition, lighting, palette, style, the fixed looks of the cast members
    it shows, and what the shot before established (`everyone`: the whole cast, to name who it showed)."""
    return render("image", None, folder, description=shot.description, shot_type=shot.shot_type.replace("_", " "),
                  camera=shot.camera_movement.replace("_", " "), composition=shot.composition, lighting=shot.lighting,
                  palette=", ".join(shot.palette or style.palette), visual_style=style.visual_style, mood=style.mood,
                  cast=_in_shot(cast), continuity=_continuity(previous, everyone or cast))


def video_prompt(shot: Shot, style: StyleProfile, previous: Shot | None = None, folder: str | None = None,
                 cast: list[CastMember] | None = None, everyone: list[CastMember] | None = None) -> str:
    """What a video vendor is asked to animate from a first frame: the motion in its vocabulary."""
    return render("video", None, folder, description=shot.description, camera=CAMERA_WORDS[shot.camera_movement],
                  shot_type=shot.shot_type.replace("_", " "), visual_style=style.visual_style, cast=_in_shot(cast),
                  continuity=_continuity(previous, everyone or cast))


def judge_prompt(shot: Shot, style: StyleProfile, cast: list[CastMember] | None = None,
                 folder: str | None = None) -> str:
    """What a vision model is asked about a shot's first frame: how well it shows the shot, 0-10, and why."""
    return render("judge", None, folder, description=shot.description, shot_type=shot.shot_type.replace("_", " "),
                  composition=shot.composition, lighting=shot.lighting, visual_style=style.visual_style,
                  cast=_in_shot(cast))


def with_critique(prompt: str, critiques: list[str]) -> str:
    """An image prompt asked again after the quality checker found the frames before it lacking."""
    if not critiques:
        return prompt
    return prompt.rstrip("\n") + "\nA reviewer found the previous attempt lacking: " + " ".join(critiques[-2:]) + \
        " Fix that.\n"


# Camera moves as video models' prompt guides word them (Runway's, Veo's: "slow pan right", "dolly in").
CAMERA_WORDS = {"static": "locked-off static camera", "pan_left": "slow pan left", "pan_right": "slow pan right",
                "tilt_up": "slow tilt up", "tilt_down": "slow tilt down", "zoom_in": "slow zoom in",
                "zoom_out": "slow zoom out", "dolly": "smooth dolly in", "tracking": "tracking shot following the subject"}
