"""Where files go: every key of the media store, in one place (the README's "Where files go"
lists the same tree). Keys are POSIX paths relative to the store's root."""

from __future__ import annotations

import hashlib

TASK_PARTITIONS = "video_tasks"
LINK_SECRET_KEY = "secrets/link-key"  # the key links are signed with, when VIDEOAGENT_LINK_SECRET is unset  # the name of the dynamic partitions: one partition per task


def brief_key(task: str) -> str:
    """The brief as submitted."""
    return f"briefs/{task}.json"


def revisions_key(task: str) -> str:
    """What a user changed after the task was made (brief.Revisions)."""
    return f"tasks/{task}/revisions.json"


def pin_key(task: str) -> str:
    """A task retention leaves alone whatever its age (its presence is the pin: `videoagent pin`)."""
    return f"tasks/{task}/pinned"


def music_key(name: str) -> str:
    """A track of the music library."""
    return f"music/{name}"


def task_media_key(task: str, kind: str, name: str) -> str:
    """A task's media: tasks/{task}/{frames|clips|audio|final}/{name}."""
    return f"tasks/{task}/{kind}/{name}"


def shot_name(index: int) -> str:
    """shot_001 for the first shot (index 0)."""
    return f"shot_{index + 1:03d}"


def manifest_key(task: str, asset: str) -> str:
    """What an asset returned for a task."""
    return f"tasks/{task}/manifests/{asset}.json"


def cache_media_key(key: str, ext: str) -> str:
    """A provider result by content key (ext `made.json`: what it used and cost when made)."""
    return f"cache/{key[:2]}/{key}.{ext}"


JOBS_PREFIX = "jobs/"


def job_key(key: str, ext: str = "json") -> str:
    """A vendor video job in flight: its handle (json) and the claim to submit it (claim)."""
    return f"{JOBS_PREFIX}{key[:2]}/{key}.{ext}"


def ledger_day_prefix(day: str) -> str:
    """Every user's ledger of a day (a folder per user)."""
    return f"ledger/{day}"


def ledger_prefix(day: str, user: str) -> str:
    """Each task's estimate for a user's day, for the daily budget."""
    return f"{ledger_day_prefix(day)}/{user}"


def ledger_key(day: str, user: str, task: str) -> str:
    return f"{ledger_prefix(day, user)}/{task}.json"


def spend_prefix(task: str) -> str:
    """Each paid provider call of a task, recorded as it was paid."""
    return f"spend/{task}"


def screening_day_prefix(day: str) -> str:
    """The refusals of content screening on a day."""
    return f"screening/{day}"


def screening_refusal_key(day: str, refusal: str) -> str:
    """One brief content screening refused (its categories and way in; not its text), for the metrics."""
    return f"{screening_day_prefix(day)}/{refusal}.json"


def intake_index_key(identity: str) -> str:
    """Which task an intake object or manifest row (by its sha256 identity) became."""
    return f"intake-index/{identity[:2]}/{identity}.json"


def takeover_key(claim: str, holder: str) -> str:
    """The one takeover of a stale claim held by `holder` (its token or time)."""
    digest = hashlib.sha256(f"{claim}\0{holder}".encode()).hexdigest()
    return f"claims/takeovers/{digest[:2]}/{digest}.json"
