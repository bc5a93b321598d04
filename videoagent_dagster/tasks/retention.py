"""Retention (the original design's §10.1.4): what the media store may forget, and when.

A task's intermediate media (frames, clips, audio, reference images) expire a while after its final
video was made (default 24 h); the whole task — its final video, manifests, brief, revisions and
its Dagster partition with the partition's runs — after a longer while (default 30 days); provider
results in the cache after they have gone unused for a while (default 30 days; a cache hit marks
one used). A task with a run in progress, or pinned (`videoagent pin`), is never
touched. The plan is made first and can be looked at (a dry run) before anything is deleted."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from videoagent_dagster.domain.keys import brief_key, manifest_key, pin_key, revisions_key
from videoagent_dagster.storage.media_store import MediaStore

INTERMEDIATE = ("frames", "clips", "audio", "references")


@dataclass(frozen=True)
class Retention:
    intermediate_s: float = 24 * 3600
    final_s: float = 30 * 86400
    cache_s: float = 30 * 86400


@dataclass
class Plan:
    """What retention would delete: keys (with sizes) and the tasks it forgets entirely."""

    delete: dict[str, int] = field(default_factory=dict)  # key -> bytes
    tasks_expired: list[str] = field(default_factory=list)  # forgotten: files, partition, runs
    tasks_trimmed: list[str] = field(default_factory=list)  # intermediates only
    kept: dict[str, str] = field(default_factory=dict)  # task -> why it was left alone

    @property
    def freed_bytes(self) -> int:
        return sum(self.delete.values())


def _made_at(store: MediaStore, task: str, modified: float | None) -> float | None:
    """When the task's final video was made (its manifest's made_at, else when the manifest was written)."""
    from videoagent_dagster.tasks.operations import final_video_of

    try:
        final = final_video_of(store, task)
    except ValueError:  # a manifest that does not parse: as if none (nothing of the task expires)
        return None
    if final is None:
        return None
    if final.made_at:
        return datetime.fromisoformat(final.made_at).timestamp()
    return modified


def plan(store: MediaStore, rules: Retention, *, busy: set[str], now: float | None = None) -> Plan:
    """What is expired at `now` (tasks in `busy` — with a run in progress — are left alone)."""
    now = time.time() if now is None else now
    out = Plan()
    by_task: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for key, size, modified in store.entries("tasks"):
        by_task[key.split("/")[1]].append((key, size, modified))
    for task, entries in sorted(by_task.items()):
        files = {key: (size, modified) for key, size, modified in entries}
        if pin_key(task) in files:
            out.kept[task] = "pinned"
            continue
        if task in busy:
            out.kept[task] = "a run in progress"
            continue
        made = _made_at(store, task, files.get(manifest_key(task, "final_video"), (0, None))[1])
        if made is None:
            continue  # no final video yet: nothing of it is expired
        if now - made > rules.final_s:
            out.tasks_expired.append(task)
            out.delete.update({key: size for key, (size, _) in files.items()})
            for key in (brief_key(task), revisions_key(task)):
                if store.exists(key):
                    out.delete[key] = 0
        elif now - made > rules.intermediate_s:
            doomed = {key: size for key, (size, _) in files.items() if key.split("/")[2] in INTERMEDIATE}
            if doomed:
                out.tasks_trimmed.append(task)
                out.delete.update(doomed)
    # Provider results unused for cache_s (a hit marks one used), with what they cost when made
    # (`.made.json`, kept while its result is); refusal records for the metrics, by age.
    results = store.entries("cache")
    used = {_result_of(key) for key, _, modified in results
            if not key.endswith(".made.json") and now - modified <= rules.cache_s}
    for key, size, modified in results:
        if _result_of(key) not in used:
            out.delete[key] = size
    for key, size, modified in store.entries("screening"):
        if now - modified > rules.cache_s:
            out.delete[key] = size
    return out


def _result_of(key: str) -> str:
    """cache/ab/{sha}.png and cache/ab/{sha}.made.json are one result: {sha}."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def apply(store: MediaStore, planned: Plan) -> int:
    """Delete what the plan holds; returns how many files went."""
    for key in planned.delete:
        store.delete(key)
    return len(planned.delete)


def pin(store: MediaStore, task: str, pinned: bool = True) -> None:
    if pinned:
        store.write_bytes(pin_key(task), b"kept whatever its age (videoagent pin)\n")
    else:
        store.delete(pin_key(task))
