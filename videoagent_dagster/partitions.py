"""The video_tasks dynamic partitions: one partition per video."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

import dagster as dg

video_tasks = dg.DynamicPartitionsDefinition(name="video_tasks")

TASK_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")

_STOP = {"a", "an", "the", "of", "in", "on", "about", "and", "for", "to", "with", "from", "at", "by",
         "into", "is", "are", "how", "why", "what", "video", "film", "documentary", "short", "story"}


def new_task_key(topic: str, now: datetime | None = None) -> str:
    """A readable, unique key such as `20261128-wildlife-africa-3f9a`.

    Only ASCII letters and digits of the topic survive, so no user input reaches a path or a
    partition key unsanitised; a random suffix keeps keys unique for repeated topics.
    """
    words = [w for w in re.findall(r"[a-z0-9]+", topic.lower()) if w not in _STOP]
    slug = "-".join(words[:3])[:40].strip("-") or "video"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d")
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


def check_task_key(task: str) -> str:
    if not TASK_KEY_PATTERN.match(task):
        raise ValueError(f"task key {task!r} is not valid: use lowercase letters, digits and '-' (up to 80)")
    return task
