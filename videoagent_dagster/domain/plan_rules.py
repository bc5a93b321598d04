"""The rules a written plan (script, storyboard) must keep beyond its schema: durations that add
up to the request, the number of shots asked for, narration that can be spoken in its time and
in the brief's language, no blank fields. Models break these often (they miscount durations and
shots, answer in English for a Chinese brief); what is safe to mend is mended here, the rest is
named exactly so the model can be asked again.

Pure functions over the manifests; no Dagster."""

from __future__ import annotations

import re
from dataclasses import dataclass

from videoagent_dagster.domain.brief import Brief, ShotRevision
from videoagent_dagster.domain.language import detect_language, is_cjk_language
from videoagent_dagster.domain.manifests import Script, Shot, StoryboardDraft
from videoagent_dagster.domain.timing import frame_count

# How fast narration is spoken at a natural pace; the offline writer plans its lines by it, the
# rules below judge a model's lines by it, and the cost estimate prices speech by it. English: 2.5
# words a second (about 14 characters). Chinese and Japanese are timed by characters, punctuation
# and spaces not counted. Japanese runs at about 7-8 morae a second; in mixed kana-kanji text a kana
# is one mora and a kanji usually two, about 1.35 morae a character, so 7.5 / 1.35 ≈ 5.5 characters
# a second (a little under the ≈6 of brisk reading, as zh's 3.6 is a little under brisk Chinese).
WORDS_PER_SECOND = {"en": 2.5}
CHARS_PER_SECOND = {"en": 14.0, "zh": 3.6, "ja": 5.5}
UNSPOKEN = re.compile(r"[\s，。、！？；：,.!?;:「」『』（）()【】・…〜～\-\"'“”‘’]")  # takes no time in a CJK line
# A voice may speed up this much to fit a line into its shot (espeak-ng and OpenAI speech both can);
# beyond it narration sounds hurried, so a longer line breaks the plan.
MAX_SPEED_UP = 1.5
# Durations off the request by at most this share are scaled to fit (a model's rounding); more
# than that is a different plan, and the model is asked again.
REPAIRABLE_SHARE = 0.25
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese"}


SECONDS_PER_SHOT = 6.5  # shots of a brief that does not say how many: about one per 6.5 s


TRANSITION_SECONDS = 0.5  # how long two shots overlap at a transition other than a cut


def plan_shots(duration: float, fps: int, shots: int | None, clip_lengths: tuple[float, ...] | None = None,
               overlap_s: float = 0.0) -> list[int]:
    """Frames per shot: `shots` of them (default about one per 6.5 s) summing to duration x fps.

    With `clip_lengths` (the seconds a video vendor sells clips in, e.g. 5 and 10) the shots are
    timed so that each shot's clip — its time plus `overlap_s` into the next shot — is one of those
    lengths: the fewest seconds paid for, then the shot count nearest the usual one (or the brief's)."""
    total = frame_count(duration, fps)
    n = shots or max(1, min(120, round(duration / SECONDS_PER_SHOT)))
    if clip_lengths:
        planned = _plan_to_clips(total, fps, n, bool(shots), sorted(set(clip_lengths)), round(overlap_s * fps))
        if planned:
            return planned
    n = min(n, total)
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _plan_to_clips(total: int, fps: int, usual: int, fixed: bool, lengths: list[float],
                   overlap: int) -> list[int] | None:
    """Shot frames whose clips are each a sellable length, paying for the fewest seconds (None: no such plan)."""
    best = None  # (paid frames, distance from the usual count, clip lengths)
    ways: dict[float, tuple[float, ...]] = {0.0: ()}  # paid seconds -> one multiset of n clip lengths
    for n in range(1, (usual if fixed else min(120, 2 * usual + 2)) + 1):
        ways = {s + length: (*clips, length) for s, clips in sorted(ways.items(), reverse=True) for length in lengths}
        if fixed and n != usual:
            continue
        need = total + (n - 1) * overlap  # the clips cover the video and every join's overlap
        paid = min((s for s in ways if round(s * fps) >= need), default=None)
        if paid is None or need - (n - 1) * overlap < n * fps:  # (shots under a second each: no)
            continue
        key = (round(paid * fps), abs(n - usual))
        if best is None or key < best[:2]:
            best = (*key, ways[paid])
    if best is None:
        return None
    clips = sorted(best[2], reverse=True)
    # long and short clips in turn, the longest first (the opening establishes)
    order = [clips[i // 2] if i % 2 == 0 else clips[-(i // 2) - 1] for i in range(len(clips))]
    frames = [round(c * fps) - (overlap if i < len(order) - 1 else 0) for i, c in enumerate(order)]
    excess = sum(frames) - total  # what the sellable lengths run over: taken off the longest shots
    while excess > 0:
        frames[max(range(len(frames)), key=lambda k: frames[k])] -= 1
        excess -= 1
    return frames


# What a run's time limit allows besides its clips: writing, painting and speaking (each call under
# its own timeout), and composing (about what encoding takes on a slow machine: 3 s a second of video).
PLANNING_ALLOWANCE_S = 900
COMPOSE_S_PER_VIDEO_S = 3
OFFLINE_CLIP_ALLOWANCE_S = 60


def max_runtime_s(brief: Brief, vendor_deadline_s: float | None) -> int:
    """The longest a task's run may take: every clip waiting its vendor's whole deadline in turn
    (shots x deadline; offline, a minute a clip), plus planning and composing — not one flat limit
    that stops a long vendor-backed video whose clip jobs may each wait 15 minutes."""
    per_clip = vendor_deadline_s if vendor_deadline_s is not None else OFFLINE_CLIP_ALLOWANCE_S
    shots = len(plan_shots(brief.options.duration, brief.options.fps, brief.options.shots))
    return int(PLANNING_ALLOWANCE_S + shots * per_clip + COMPOSE_S_PER_VIDEO_S * brief.options.duration)


@dataclass(frozen=True)
class PlanRequest:
    """What the brief asks of a plan."""

    duration: float
    fps: int
    language: str
    shots: int | None = None  # the storyboard's shot count (None for a script)
    # Frames per shot when they are planned to a video vendor's clip lengths (None: the model's own)
    frames: tuple[int, ...] | None = None

    @classmethod
    def of(cls, brief: Brief, *, storyboard: bool, clip_lengths: tuple[float, ...] | None = None) -> PlanRequest:
        o = brief.options
        planned = shot_frames(brief, clip_lengths)
        return cls(duration=o.duration, fps=o.fps, language=brief.language,
                   shots=len(planned) if storyboard else None,
                   frames=tuple(planned) if storyboard and clip_lengths else None)


def join_overlap_s(brief: Brief) -> float:
    """How long two shots of the brief overlap at a join: TRANSITION_SECONDS unless it asks for cuts."""
    return 0.0 if brief.options.transition == "cut" else TRANSITION_SECONDS


def shot_frames(brief: Brief, clip_lengths: tuple[float, ...] | None = None) -> list[int]:
    """The brief's shots in frames, planned to a video vendor's clip lengths where it sells set
    lengths (each clip running join_overlap_s into the next shot)."""
    o = brief.options
    return plan_shots(o.duration, o.fps, o.shots, clip_lengths, join_overlap_s(brief))


def speaking_seconds(text: str, language: str) -> float:
    """About how long `text` takes to say at a natural pace."""
    if is_cjk_language(language):
        return len(UNSPOKEN.sub("", text)) / CHARS_PER_SECOND[language]
    return len(text.split()) / WORDS_PER_SECOND["en"]


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
    """The script mended where safe (durations scaled to the request), and what still breaks the plan.
    While the timing is far off, lines are not judged against times that will change."""
    durations, timing = _timing([s.duration for s in script.scenes], ask, f"{len(script.scenes)} scenes")
    mended = script.model_copy(update={"scenes": [s.model_copy(update={"duration": d})
                                                  for s, d in zip(script.scenes, durations)]})
    problems = [f"scene {i + 1}'s {field} is blank" for i, s in enumerate(script.scenes)
                for field in ("title", "description", "narration") if not getattr(s, field).strip()]
    problems += [f"the script's {field} is blank" for field in ("title", "synopsis", "text")
                 if not getattr(script, field).strip()]
    problems += timing + _language([s.narration for s in script.scenes], ask, "narration")
    if not timing:
        problems += _speakable([(f"scene {i + 1}", s.narration, s.duration) for i, s in enumerate(mended.scenes)],
                               ask)
    return mended, problems


def storyboard_problems(shots: list[Shot], ask: PlanRequest, timing: list[str] | None = None) -> list[str]:
    """What breaks the rules every storyboard keeps: the shot count asked for, no blank fields, some
    narration, in the brief's language, each line short enough for its shot. `timing`: what is wrong
    with the shots' total (listed after the count); while there is any, lines are not judged against
    times that will change."""
    problems = []
    if ask.shots is not None and len(shots) != ask.shots:
        problems.append(f"the storyboard has {len(shots)} shots; the brief asks for {ask.shots}")
    problems += timing or []
    problems += [f"shot {i + 1}'s {field} is blank" for i, s in enumerate(shots)
                 for field in ("title", "description", "composition", "lighting")
                 if not getattr(s, field).strip()]
    if not any(s.narration.strip() for s in shots):
        problems.append("no shot has narration")
    problems += _language([s.narration for s in shots], ask, "narration")
    if not timing:
        problems += _speakable([(f"shot {i + 1}", s.narration, s.duration) for i, s in enumerate(shots)], ask)
    return problems


DURATION_TOLERANCE = 0.10  # how far a storyboard's total may be from the brief's duration


def revise_shots(shots: list[Shot], revisions: dict[int, ShotRevision]) -> list[Shot]:
    """The shots with a user's revisions (by shot number, 1 = the first) laid over them."""
    return [s.model_copy(update=revisions[i + 1].model_dump(exclude_none=True)) if i + 1 in revisions else s
            for i, s in enumerate(shots)]


def revision_problems(shots: list[Shot], ask: PlanRequest, duration: float) -> list[str]:
    """What a revised storyboard breaks: its total too far from the brief's, or the rules every
    storyboard keeps (narration in the brief's language, short enough for its shot)."""
    total = sum(s.duration for s in shots)
    problems = []
    if abs(total - duration) > DURATION_TOLERANCE * duration:
        problems.append(f"the shots would add up to {total:g} s; the brief asks for {duration:g} s "
                        f"(allowed: within {DURATION_TOLERANCE:.0%})")
    return storyboard_problems(shots, ask, problems)  # (the timing problem first, among them)


def review_storyboard(draft: StoryboardDraft, ask: PlanRequest) -> tuple[StoryboardDraft, list[str]]:
    """The storyboard mended where safe (durations scaled to whole frames adding up to the request),
    and what still breaks the plan: wrong shot count, timing far off, narration too long or in
    another language, blank fields."""
    shots = draft.shots
    if ask.frames and len(ask.frames) == len(shots):
        # Timed to the video vendor's clip lengths: the plan's durations, not the model's (safe: the
        # lines are judged against them below, and asked again if one no longer fits).
        shots = [s.model_copy(update={"duration": f / ask.fps}) for s, f in zip(shots, ask.frames)]
    durations, timing = _timing([s.duration for s in shots], ask, f"storyboard's {len(shots)} shots")
    mended = draft.model_copy(update={"shots": [s.model_copy(update={"duration": d})
                                                for s, d in zip(shots, durations)]})
    return mended, storyboard_problems(mended.shots, ask, timing)
