"""Prompt texts for the writing stages. A real LLM reads the prompt; the offline writer reads
the same request's structured inputs. Both answers are validated against the same schema."""

from __future__ import annotations

from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.manifests import Script, StyleProfile

LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese", "ja": "Japanese"}
# How fast a narrator speaks, as the script prompt puts it (about the pace the offline writer plans for).
PACE = {"ja": "about 5.5 Japanese characters (kana and kanji)"}
DEFAULT_PACE = "about 2.5 words (or 3.5 Chinese characters)"


def script_prompt(brief: Brief, style: StyleProfile) -> str:
    return (
        f"Write the script of a {brief.options.duration:g}-second video about: {brief.topic}\n"
        f"Style: {style.name} ({style.visual_style}; mood: {style.mood}).\n"
        f"Write every narration line in {LANGUAGE_NAMES[brief.language]}. Plan scenes whose durations add up "
        f"to {brief.options.duration:g} seconds; a narrator speaks {PACE.get(brief.language, DEFAULT_PACE)} "
        "a second, so keep each scene's narration short enough to be spoken in its time.\n"
        "Answer with JSON matching the given schema."
    )


def storyboard_prompt(brief: Brief, style: StyleProfile, script: Script, shots: int) -> str:
    return (
        f"Break this script into {shots} shots for a {brief.options.duration:g}-second "
        f"{brief.options.aspect} video in the {style.name} style ({style.visual_style}; lighting: "
        f"{style.lighting}).\nScript:\n{script.model_dump_json(include=set(Script.model_fields))}\n"
        "Each shot needs a one-line title, a visual description, its share of the narration (in the script's "
        "language), a camera movement, a shot type, a duration in seconds, composition, lighting and a palette "
        "of hex colours. Durations must add up to the requested length. Answer with JSON matching the schema."
    )
