"""Money recorded when it is paid: one file per paid provider call, `spend/{task}/{call}.json`,
written the moment the call returns (in failed runs, re-generations, fallbacks and billed retries
too). Each call has its own id, and the file is created exclusively, so a call counts once.

The daily budget (budget.py) adds these up per task."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from videoagent_dagster.domain.keys import spend_prefix
from videoagent_dagster.storage.media_store import MediaStore


@dataclass(frozen=True)
class Spending:
    """Where the paid calls of one task are recorded."""

    store: MediaStore
    task: str

    def record(self, cache_key: str, cost_usd: float, *, provider: str, model: str, usage: dict,
               outcome: str = "used") -> None:
        if cost_usd <= 0:
            return
        call = f"{cache_key[:16]}-{uuid.uuid4().hex[:12]}"
        self.store.create_exclusive(f"{spend_prefix(self.task)}/{call}.json", json.dumps({
            "cache_key": cache_key, "cost_usd": cost_usd, "provider": provider, "model": model, "usage": usage,
            "outcome": outcome, "at": time.time()}).encode())


def spent(store: MediaStore, task: str) -> float:
    """What the task's paid calls have cost so far."""
    return round(sum(json.loads(store.read_bytes(k)).get("cost_usd", 0.0)
                     for k in store.list(spend_prefix(task)) if k.endswith(".json")), 6)
