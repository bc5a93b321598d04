"""What a video will cost before any paid call, and the per-user daily budget.

Each task leaves a ledger entry, `ledger/{YYYYMMDD}/{user}/{task}.json`, holding its estimate;
what it has actually spent is recorded call by call as each paid call returns
(`spend/{task}/…`, resources/spending.py). A user's day counts the larger of the two per task. A brief whose
estimate would take its user past the budget is refused before anything is generated."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.domain.brief import Brief
from videoagent_dagster.domain.keys import ledger_key, ledger_prefix
from videoagent_dagster.domain.plan_rules import CHARS_PER_SECOND, join_overlap_s, shot_frames
from videoagent_dagster.providers.chain import parse_chain
from videoagent_dagster.providers.pricing import cost_of
from videoagent_dagster.providers.spending import spent
from videoagent_dagster.settings import SettingsError, current
from videoagent_dagster.storage.media_store import MediaStore

DEFAULT_DAILY_BUDGET_USD = 50.0
LEDGER_WAIT_S = 30.0  # how long a submission waits for another one of the same user's to be counted
# Rough sizes for the estimate: tokens a script and a storyboard take, characters spoken a second.
TOKENS = {"style_in": 700, "style_out": 120, "script_in": 900, "script_out_per_scene": 220, "cast_in": 1400,
          "cast_out": 500, "board_in": 1500, "board_out_per_shot": 260}
CAST_IMAGES = 3  # reference images the estimate counts on (a cast lists up to MAX_CAST recurring members)
# With a vision provider that looks: frames painted a shot on average (a low score paints another,
# up to VIDEOAGENT_VISION_CANDIDATES), and what one look takes (the prompt, the frame and a reference
# at low detail; a short verdict).
CANDIDATES_PER_SHOT = 1.5
LOOK_TOKENS = {"input_tokens": 1100, "output_tokens": 80}


class BudgetError(ValueError):
    """A brief's estimated cost would exceed its user's daily budget."""


@dataclass(frozen=True)
class Estimate:
    by_stage: dict[str, float]
    providers: dict[str, str]
    video_seconds_paid: float = 0.0  # what the video vendor bills (its clip lengths), for…
    video_seconds_on_screen: float = 0.0  # …the seconds the video shows

    @property
    def total(self) -> float:
        return round(sum(self.by_stage.values()), 4)


def estimate(brief: Brief, chains: dict[str, str] | None = None) -> Estimate:
    """The expected cost of a brief with the first provider of each stage's chain."""
    chains = chains or current().chains()
    first = {stage: parse_chain(stage, chain)[0] for stage, chain in chains.items()}
    o = brief.options
    video = first["video"]
    durations = getattr(video, "durations", None)
    frames = shot_frames(brief, durations)  # timed to the vendor's clip lengths, as the storyboard is
    shots, scenes = len(frames), max(1, math.ceil(len(frames) / 2))
    llm = first["llm"]
    # style agent, script, cast and storyboard (the script read again by the cast and the storyboard)
    llm_usage = {"input_tokens": TOKENS["style_in"] + TOKENS["script_in"] + TOKENS["cast_in"] + TOKENS["board_in"]
                 + 2 * TOKENS["script_out_per_scene"] * scenes,
                 "output_tokens": TOKENS["style_out"] + TOKENS["script_out_per_scene"] * scenes + TOKENS["cast_out"]
                 + TOKENS["board_out_per_shot"] * shots}
    vision = first.get("vision")
    looks = vision is not None and vision.name != "offline"
    painted = shots * (min(CANDIDATES_PER_SHOT, current().vision_candidates) if looks else 1)
    overlap = round(join_overlap_s(brief) * o.fps)
    clips = [f + (overlap if i < len(frames) - 1 else 0) for i, f in enumerate(frames)]  # a clip runs into the next shot
    billed = [min((d for d in durations if d >= c / o.fps - 1e-6), default=max(durations)) if durations
              else c / o.fps for c in clips]
    by_stage = {
        "llm": cost_of(llm.name, llm.model, llm_usage),
        "image": cost_of(first["image"].name, first["image"].model, {"images": painted + CAST_IMAGES}),
        "video": cost_of(video.name, video.model, {"video_seconds": sum(billed)}),
        "tts": cost_of(first["tts"].name, first["tts"].model,
                       {"characters": o.duration * CHARS_PER_SECOND[brief.language]}) if o.include_audio else 0.0,
        "vision": cost_of(vision.name, vision.model, {k: v * painted for k, v in LOOK_TOKENS.items()}) if looks
        else 0.0,
    }
    return Estimate({k: round(v, 4) for k, v in by_stage.items()},
                    {k: f"{p.name}:{p.model}" for k, p in first.items()},
                    video_seconds_paid=round(sum(billed), 3) if durations else 0.0,
                    video_seconds_on_screen=round(sum(frames) / o.fps, 3))


def daily_budget() -> float:
    try:
        return current().daily_budget_usd
    except SettingsError as e:
        raise BudgetError(str(e)) from None


def _day(task: str) -> str:
    return task.split("-", 1)[0]


def _entry_key(brief: Brief) -> str:
    return ledger_key(_day(brief.task), brief.user, brief.task)


def committed_today(store: MediaStore, user: str, day: str, exclude: str | None = None) -> float:
    total = 0.0
    for key in store.list(ledger_prefix(day, user)):
        if key.endswith(".json") and Path(key).stem != exclude:
            entry = json.loads(store.read_bytes(key))
            total += max(entry.get("estimate_usd", 0.0), entry.get("spent_usd", 0.0), spent(store, Path(key).stem))
    return round(total, 4)


def reserve(brief: Brief, store: MediaStore, chains: dict[str, str] | None = None) -> Estimate:
    """Check the brief against its user's budget for the day and record its estimate; raise
    BudgetError (writing nothing) when it does not fit. The user's ledger is held while it is read
    and written, so briefs submitted at the same moment (intake, GraphQL, CLI) cannot both slip
    under the budget."""
    est = estimate(brief, chains)
    budget = daily_budget()
    day = _day(brief.task)
    try:
        with store.holding(f"{ledger_prefix(day, brief.user)}/.lock", wait_s=LEDGER_WAIT_S, stale_after_s=60):
            if est.total > 0:
                spent = committed_today(store, brief.user, day, exclude=brief.task)
                if spent + est.total > budget:
                    raise BudgetError(
                        f"this video is estimated at ${est.total:.2f} ({', '.join(f'{k} ${v:.2f}' for k, v in est.by_stage.items() if v)}); "
                        f"user {brief.user!r} has ${spent:.2f} committed today of a ${budget:.2f} daily budget. Raise "
                        "VIDEOAGENT_DAILY_BUDGET_USD, shorten the video or choose cheaper providers."
                    )
            key = _entry_key(brief)
            entry = json.loads(store.read_bytes(key)) if store.exists(key) else {"spent_usd": 0.0}
            entry.update({"task": brief.task, "estimate_usd": est.total, "providers": est.providers})
            store.write_bytes(key, json.dumps(entry).encode())
    except TimeoutError as e:
        raise BudgetError(f"user {brief.user!r}'s budget ledger is busy ({e}); submit again") from None
    return est


def release(brief: Brief, store: MediaStore) -> None:
    """Take back a reservation whose task was never started (its launch failed)."""
    store.delete(_entry_key(brief))
