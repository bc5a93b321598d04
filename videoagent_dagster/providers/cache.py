"""The content-addressed provider cache: the same request never reaches a provider twice."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from videoagent_dagster.domain.keys import cache_media_key
from videoagent_dagster.storage.media_store import MediaStore


def cache_key(stage: str, provider: str, model: str, prompt: str, params: dict[str, Any],
              input_hashes: list[str] | tuple[str, ...] = ()) -> str:
    """sha256 over everything that determines a provider's output."""
    doc = json.dumps(
        {"stage": stage, "provider": provider, "model": model, "prompt": prompt, "params": params,
         "inputs": list(input_hashes)},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()




def cached(store: MediaStore, key: str, ext: str) -> str | None:
    """The result's key when the cache has it (marked used now: retention forgets unused results)."""
    media_key = cache_media_key(key, ext)
    if not store.exists(media_key):
        return None
    store.touch(media_key)
    return media_key


def evict(store: MediaStore, key: str, ext: str) -> None:
    """Take a result that was found bad after it was cached out of the cache, so the next call asks again."""
    store.delete(cache_media_key(key, ext))
