"""Prices and limits per provider: a table in configuration, and what a call or a brief costs."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from videoagent_dagster.settings import current

DEFAULTS = Path(__file__).with_name("vendor_defaults.json")

# What a call may have used; prices are per unit of these.
USAGE_PRICES = {
    "input_tokens": ("input_per_mtok", 1e-6),
    "output_tokens": ("output_per_mtok", 1e-6),
    "images": ("per_image", 1.0),
    "video_seconds": ("per_video_second", 1.0),
    "characters": ("per_mchar", 1e-6),
}


@lru_cache(maxsize=4)
def _table(override: str | None) -> dict[str, Any]:
    table = json.loads(DEFAULTS.read_text())
    if override:
        try:
            extra = json.loads(Path(override).read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"VIDEOAGENT_PRICES={override!r} could not be read as JSON: {e}") from e
        for section in ("prices", "limits"):
            table[section].update(extra.get(section, {}))
    return table


def table() -> dict[str, Any]:
    return _table(current().prices)


def prices_for(provider: str, model: str) -> dict[str, float]:
    prices = table()["prices"]
    return prices.get(f"{provider}:{model}") or prices.get(f"{provider}:*") or {}


def cost_of(provider: str, model: str, usage: dict[str, float]) -> float:
    p = prices_for(provider, model)
    return round(sum(usage.get(k, 0) * p.get(price, 0.0) * scale for k, (price, scale) in USAGE_PRICES.items()), 6)


def limits_for(provider: str) -> tuple[int, int]:
    """(max concurrent calls, requests per minute) for a provider; 0 means no limit.

    VIDEOAGENT_PROVIDER_LIMITS overrides, e.g. `runway=2/30,openai=8/500`."""
    spec = current().provider_limits
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if name.strip() == provider:
            conc, _, rpm = value.partition("/")
            return int(conc or 0), int(rpm or 0)
    entry = table()["limits"].get(provider, {})
    return int(entry.get("concurrency", 0)), int(entry.get("rpm", 0))
