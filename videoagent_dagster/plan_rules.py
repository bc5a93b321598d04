"""The rules a written plan (script, storyboard) must keep beyond its schema: durations that add
up to the request, the number of shots asked for, narration that can be spoken in its time and
in the brief's language, no blank fields. Models break these often (they miscount durations and
shots, answer in English for a Chinese brief); what is safe to mend is mended here, the rest is
named exactly so the model can be asked again.

Pure functions over the manifests; no Dagster."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .brief import detect_language
from .models import Script, Shot, StoryboardDraft

# How fast narration is spoken at a natural pace: characters a second (en ≈ 2.5 words a second;
# zh and ja counted without punctuation and spaces). The estimate and the plan rules share it.
CHARS_PER_SECOND = {"en": 14.0, "zh": 3.6, "ja": 5.5}
# A voice may speed up this much to fit a line into its shot (espeak-ng and OpenAI speech both can);
# beyond it narration sounds hurried, so a longer line breaks the plan.
MAX_SPEED_UP = 1.5
# Durations off the request by at most this share are scaled to fit (a model's rounding); more
# than that is a different plan, and the model is asked again.
REPAIRABLE_SHARE = 0.25
_UNSPOKEN = re.compile(r"[\s，。、！？；：,.!?;:「」『』（）()【】・…〜～\-\"'“”‘’]")
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese"}


@dataclass(frozen=True)
class PlanRequest:
    """What the brief asks of a plan."""

    duration: float
    fps: int
    language: str
    shots: int | None = None  # the storyboard's shot count (None for a script)


def speaking_seconds(text: str, language: str) -> float:
    """About how long `text` takes to say at a natural pace."""
    if language in ("zh", "ja"):
        return len(_UNSPOKEN.sub("", text)) / CHARS_PER_SECOND[language]
    return len(text.strip()) / CHARS_PER_SECOND.get(language, CHARS_PER_SECOND["en"])


def whole_frames(durations: list[float], duration: float, fps: int) -> list[int]:
    """Durations scaled to add up to exactly `duration` in whole frames (at least one each), each
    rounded by largest remainder so no shot moves by more than a frame."""
    total = max(len(durations), round(duration * fps))
    scale = total / sum(durations)
    exact = [d * scale for d in durations]
    frames = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    i = 0
    while sum(frames) < total:
        frames[by_remainder[i % len(frames)]] += 1
        i += 1
    while sum(frames) > total:  # only when max(1, ·) lifted a tiny shot
        j = max(range(len(frames)), key=lambda k: frames[k])
        frames[j] -= 1
    return frames


def _timing(durations: list[float], ask: PlanRequest, what: str) -> tuple[list[float], list[str]]:
    total = sum(durations)
    if abs(total - ask.duration) <= REPAIRABLE_SHARE * ask.duration:
        return [f / ask.fps for f in whole_frames(durations, ask.duration, ask.fps)], []
    return durations, [f"the {what} add up to {total:g} s; the brief asks for {ask.duration:g} s"]


def _language(texts: list[str], ask: PlanRequest, what: str) -> list[str]:
    spoken = " ".join(t for t in texts if t.strip())
    if not spoken:
        return []
    found = detect_language(spoken)
    # Japanese lines of kanji alone read as Chinese; the whole text has kana if it is Japanese.
    if found != ask.language:
        return [f"the {what} is in {LANGUAGE_NAMES.get(found, found)}; the brief asks for "
                f"{LANGUAGE_NAMES.get(ask.language, ask.language)}"]
    return []


def _speakable(items: list[tuple[str, str, float]], ask: PlanRequest) -> list[str]:
    """(name, narration, seconds) → a problem for each line too long to say in its time."""
    out = []
    for name, text, seconds in items:
        need = speaking_seconds(text, ask.language)
        if need > seconds * MAX_SPEED_UP:
            out.append(f"{name}'s narration takes about {need:.1f} s to say; it has {seconds:.1f} s "
                       "(shorten it)")
    return out


def review_script(script: Script, ask: PlanRequest) -> tuple[Script, list[str]]:
    """The script mended where safe (durations scaled to the request), and what still breaks the plan."""
    problems = [f"scene {i + 1}'s {field} is blank" for i, s in enumerate(script.scenes)
                for field in ("title", "description", "narration") if not getattr(s, field).strip()]
    problems += [f"the script's {field} is blank" for field in ("title", "synopsis", "text")
                 if not getattr(script, field).strip()]
    durations, timing = _timing([s.duration for s in script.scenes], ask, f"{len(script.scenes)} scenes")
    problems += timing
    problems += _language([s.narration for s in script.scenes], ask, "narration")
    if not timing:
        problems += _speakable([(f"scene {i + 1}", s.narration, d)
                                for i, (s, d) in enumerate(zip(script.scenes, durations))], ask)
    mended = script.model_copy(update={"scenes": [s.model_copy(update={"duration": d})
                                                  for s, d in zip(script.scenes, durations)]})
    return mended, problems


def _count(shots: list[Shot], ask: PlanRequest) -> list[str]:
    if ask.shots is not None and len(shots) != ask.shots:
        return [f"the storyboard has {len(shots)} shots; the brief asks for {ask.shots}"]
    return []


def storyboard_problems(shots: list[Shot], ask: PlanRequest) -> list[str]:
    """The rules every storyboard keeps whatever its timing: the shot count asked for, no blank
    fields, some narration, in the brief's language, each line short enough for its shot."""
    problems = _count(shots, ask)
    problems += [f"shot {i + 1}'s {field} is blank" for i, s in enumerate(shots)
                 for field in ("title", "description", "composition", "lighting")
                 if not getattr(s, field).strip()]
    if not any(s.narration.strip() for s in shots):
        problems.append("no shot has narration")
    problems += _language([s.narration for s in shots], ask, "narration")
    problems += _speakable([(f"shot {i + 1}", s.narration, s.duration) for i, s in enumerate(shots)], ask)
    return problems


def review_storyboard(draft: StoryboardDraft, ask: PlanRequest) -> tuple[StoryboardDraft, list[str]]:
    """The storyboard mended where safe (durations scaled to whole frames adding up to the request),
    and what still breaks the plan: wrong shot count, timing far off, narration too long or in
    another language, blank fields."""
    shots = draft.shots
    durations, timing = _timing([s.duration for s in shots], ask, f"storyboard's {len(shots)} shots")
    mended = draft.model_copy(update={"shots": [s.model_copy(update={"duration": d})
                                                for s, d in zip(shots, durations)]})
    if timing:  # narration is judged against the shots' time only once that time is sound
        rest = [p for p in storyboard_problems(shots, ask) if "narration takes" not in p]
        count = _count(shots, ask)
        return mended, count + timing + [p for p in rest if p not in count]
    return mended, storyboard_problems(mended.shots, ask)
