"""What every stage asset shares: per-shot concurrency, media keys, metadata helpers."""
from __future__ import annotations

import base64
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

import dagster as dg

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.frames import preview_jpeg

T = TypeVar("T")
# A step whose shots failed only with transient errors is retried (after the providers' own
# retries inside each call are spent), with exponential backoff and jitter. Failures that need a
# fix (bad key, refused prompt, failed job) are not: the run fails and says why.
STEP_RETRIES = 2
STEP_RETRY_BASE_S = 20.0
R = TypeVar("R")


def for_each_shot(
    context: dg.AssetExecutionContext,
    items: Sequence[T],
    work: Callable[[int, T], R],
    *,
    max_workers: int,
    stage: str,
) -> list[R]:
    """Run `work(i, item)` for every shot, at most `max_workers` at once.

    Every shot runs even when one fails, so each success lands in the cache; then the asset
    fails naming the failed shots, and re-materialising it redoes only those.
    """
    results: list[R | None] = [None] * len(items)
    failures: dict[int, str] = {}
    transient = True
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix=stage.replace(" ", "-")) as pool:
        futures = {pool.submit(work, i, item): i for i, item in enumerate(items)}
        for fut in as_completed(futures):
            i = futures[fut]
            done += 1
            try:
                results[i] = fut.result()
                context.log.info(f"{stage} {done}/{len(items)}: shot {i + 1} done")
            except Exception as e:  # noqa: BLE001 - reported together below
                failures[i] = f"{type(e).__name__}: {e}"
                transient = transient and bool(getattr(e, "transient", False))
                context.log.error(f"{stage} {done}/{len(items)}: shot {i + 1} failed: {e}")
    if failures:
        listed = "; ".join(f"shot {i + 1}: {msg}" for i, msg in sorted(failures.items()))
        if transient and context.retry_number < STEP_RETRIES:
            # Only passing trouble (timeouts, rate limits, 5xx): try the step again after a pause.
            # The cache makes that cheap: the shots that succeeded are not generated again.
            wait = STEP_RETRY_BASE_S * 2 ** context.retry_number * random.uniform(0.75, 1.25)
            context.log.warning(f"{stage}: {len(failures)} shot(s) hit transient errors; retrying the step in "
                                f"{wait:.0f} s ({listed})")
            raise dg.RetryRequested(max_retries=STEP_RETRIES, seconds_to_wait=wait)
        raise dg.Failure(
            description=f"{stage}: {len(failures)} of {len(items)} shots failed: {listed}",
            metadata={"failed_shots": dg.MetadataValue.json(sorted(i + 1 for i in failures)),
                      "succeeded_shots": len(items) - len(failures)},
        )
    return results  # type: ignore[return-value]


def calls_table(calls: Sequence[ProviderCall], extra: Sequence[dict] | None = None) -> dg.TableMetadataValue:
    """Per-shot provider, latency, cost and cache hit, for the asset's metadata."""
    rows = []
    for i, c in enumerate(calls):
        row = {"shot": i + 1, "provider": c.provider, "model": c.model, "cached": c.cached,
               "latency_s": c.latency_s, "cost_usd": c.cost_usd}
        row.update((extra or [{}] * len(calls))[i])
        rows.append(dg.TableRecord(row))
    columns = [dg.TableColumn(k) for k in (rows[0].data if rows else {"shot": 0})]
    return dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=columns))


def calls_summary(calls: Sequence[ProviderCall]) -> dict[str, object]:
    return {
        "provider_calls": sum(1 for c in calls if not c.cached),
        "cache_hits": sum(1 for c in calls if c.cached),
        "cost_usd": round(sum(c.cost_usd for c in calls), 4),
        "providers": ", ".join(sorted({f"{c.provider}:{c.model}" for c in calls})),
    }


def image_markdown(image: Path, alt: str, width: int = 640) -> dg.MarkdownMetadataValue:
    """An image shown inline in the UI's metadata (a small JPEG as a data URI)."""
    data = base64.b64encode(preview_jpeg(image, width)).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/jpeg;base64,{data})")
