"""The video job book: where a remote job's handle is kept between submitting and downloading, so
a crashed or retried run resumes polling the same job instead of paying for another."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from videoagent_dagster.domain.keys import job_key
from videoagent_dagster.storage.media_store import MediaStore


@dataclass
class JobBook:
    """One clip's job handle: `jobs/{cache key}.json`, and the claim to submit it."""

    store: MediaStore
    key: str

    @property
    def media_key(self) -> str:
        return job_key(self.key)

    def load(self, provider: str, model: str) -> dict[str, Any] | None:
        if not self.store.exists(self.media_key):
            return None
        job = json.loads(self.store.read_bytes(self.media_key))
        return job if (job.get("provider"), job.get("model")) == (provider, model) else None

    def save(self, job: dict[str, Any]) -> None:
        self.store.write_bytes(self.media_key, json.dumps(job).encode())

    def clear(self) -> None:
        self.store.delete(self.media_key)

    @property
    def claim_key(self) -> str:
        return job_key(self.key, "claim")

    def claim(self, stale_after_s: float = 600) -> bool:
        """The right to submit this job, taken atomically, so two runs of one shot never both pay
        (MediaStore.claim: a holder that died before saving a handle loses it after `stale_after_s`)."""
        token = self.store.claim(self.claim_key, stale_after_s)
        if token:
            self._token = token
        return token is not None

    def release(self) -> None:
        self.store.release(self.claim_key, getattr(self, "_token", None))


@dataclass
class JobState:
    """A remote job as its vendor's status says it is."""

    status: str  # "running", "succeeded" or "failed"
    result: str | bytes | None = None  # a download URL, or the video's bytes
    error: str = ""
    # For a failed job: the vendor's own fault (an internal error, worth a new job) rather than a
    # refusal of the request (safety, content policy, bad input), which a new job would repeat.
    retryable: bool = False
