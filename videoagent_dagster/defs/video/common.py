"""What every stage asset shares: per-shot concurrency, media keys, metadata helpers."""
from __future__ import annotations

import base64
import functools
import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

import dagster as dg

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.frames import preview_jpeg
from videoagent_dagster.providers.chain import is_transient

T = TypeVar("T")
R = TypeVar("R")
F = TypeVar("F", bound=Callable)

# A stage step that failed only with transient errors (after the providers' own retries inside
# each call are spent) is retried by Dagster, with exponential backoff and jitter. The cache
# makes that cheap: what succeeded is not generated again. Failures that need a fix (a bad key, a
# refused prompt, a refused job, bad input, our own bug) are not: the run fails and says why.
STEP_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL,
                                   jitter=dg.Jitter.PLUS_MINUS)


def permanent(e: BaseException) -> dg.Failure:
    """A failure the step's RetryPolicy must not retry, saying what happened."""
    return dg.Failure(description=f"{type(e).__name__}: {e}", allow_retries=False)


def retried_only_when_transient(fn: F) -> F:
    """For a stage asset with STEP_RETRY_POLICY: anything it raises that is not transient (as the
    providers typed it) fails the step for good; a transient error goes to the policy. (A
    dg.Failure says itself whether it may be retried; Dagster's own errors and requests pass as
    they are.)"""

    def judged(e: Exception) -> BaseException | None:
        passes = isinstance(e, (dg.Failure, dg.RetryRequested, dg.DagsterError)) or is_transient(e)
        return None if passes else permanent(e)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def steps(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:
                if (failure := judged(e)) is None:
                    raise
                raise failure from e

        return steps  # type: ignore[return-value]

    @functools.wraps(fn)
    def step(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            if (failure := judged(e)) is None:
                raise
            raise failure from e

    return step  # type: ignore[return-value]


def for_each_shot(
    context: dg.AssetExecutionContext,
    items: Sequence[T],
    work: Callable[[int, T], R],
    *,
    max_workers: int,
    stage: str,
    item: str = "shot",
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
                context.log.info(f"{stage} {done}/{len(items)}: {item} {i + 1} done")
            except Exception as e:  # noqa: BLE001 - reported together below
                failures[i] = f"{type(e).__name__}: {e}"
                transient = transient and is_transient(e)
                context.log.error(f"{stage} {done}/{len(items)}: {item} {i + 1} failed: {e}")
    if failures:
        listed = "; ".join(f"{item} {i + 1}: {msg}" for i, msg in sorted(failures.items()))
        if transient:
            context.log.warning(f"{stage}: {len(failures)} {item}(s) hit transient errors; the step may be retried "
                                f"({listed})")
        # Only passing trouble (timeouts, rate limits, 5xx) may be retried, by the step's RetryPolicy.
        raise dg.Failure(
            description=f"{stage}: {len(failures)} of {len(items)} {item}s failed: {listed}",
            metadata={f"failed_{item}s": dg.MetadataValue.json(sorted(i + 1 for i in failures)),
                      f"succeeded_{item}s": len(items) - len(failures)},
            allow_retries=transient,
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


def sheet_of(media_store, key: str, images: list[tuple[Path, str]], **how) -> None:
    """A contact sheet of `images` (path, sha256) at `key`, kept from the last run when it was made
    from the same images the same way (a re-run does not decode every frame again)."""
    from videoagent_dagster.defs.video.reuse import made_from, remember, reusable
    from videoagent_dagster.media.frames import contact_sheet

    record_key = key.rsplit(".", 1)[0] + ".inputs.json"
    digest = made_from([sha for _, sha in images], how)
    if reusable(media_store, record_key, digest, key):
        return
    with media_store.writing(key) as tmp:
        contact_sheet([path for path, _ in images], tmp, **how)
    remember(media_store, record_key, digest, key)


def image_markdown(image: Path, alt: str, width: int = 640) -> dg.MarkdownMetadataValue:
    """An image shown inline in the UI's metadata (a small JPEG as a data URI)."""
    data = base64.b64encode(preview_jpeg(image, width)).decode("ascii")
    return dg.MetadataValue.md(f"![{alt}](data:image/jpeg;base64,{data})")


def prompt_version(stage: str) -> str:
    """An asset's code version from its prompt template (the override folder's, if any): read when
    the code location loads, so a template edited and the location reloaded shows that stage stale."""
    from videoagent_dagster.domain.prompts import template_version
    from videoagent_dagster.settings import SettingsError, current

    try:
        folder = current().prompts
    except SettingsError:
        folder = None  # (the settings error is reported where the settings are used)
    return f"prompt-{template_version(stage, folder)}"


def prompts_folder() -> str | None:
    from videoagent_dagster.settings import current

    return current().prompts
