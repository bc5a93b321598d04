"""Provider chains: which providers serve a stage, in order, through the cache.

A stage resource (llm, image_gen, video_gen, tts) holds a chain such as
`openai:gpt-4.1,offline`. Each call is looked up in the content-addressed cache for every
provider of the chain first (a hit costs nothing and keeps re-runs reproducible), then the
providers are tried in order; a provider that fails hands the call to the next one.
"""

import importlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.verify import ResultInvalid
from videoagent_dagster.providers.cache import cache_key, cache_media_key, cached
from videoagent_dagster.providers.errors import VendorError, explain
from videoagent_dagster.providers.limits import provider_slot
from videoagent_dagster.providers.pricing import cost_of
from videoagent_dagster.providers.spending import Spending
from videoagent_dagster.providers.vendor_sdk import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
)
from videoagent_dagster.storage.media_store import MediaStore

log = logging.getLogger("videoagent.providers")

STAGES = ("llm", "image", "video", "tts", "vision")
# The vendor modules (one per vendor) whose providers serve each stage; each registers its own.
STAGE_MODULES = {
    "llm": ("offline", "openai", "compatible", "anthropic"),
    "image": ("offline", "openai", "stability", "runway"),
    "video": ("offline", "runway", "veo", "fal"),
    "tts": ("offline", "openai"),
    "vision": ("offline", "openai", "anthropic"),
}


@dataclass
class Provider:
    """A provider of one stage. Subclasses implement the stage's method (see each resource),
    which writes its result to a path and returns what it used (see pricing.USAGE_PRICES)."""

    model: str
    settings: dict[str, Any] = field(default_factory=dict)  # timeouts, retries, deadlines from the resource
    name: ClassVar[str] = ""
    default_model: ClassVar[str] = ""
    sdk_modules: ClassVar[tuple[str, ...]] = ()  # imported ahead of the first call (see warm_up)

    def setting(self, key: str, default: Any) -> Any:
        return self.settings.get(key, default)

    def retries(self) -> int:
        """How many times the vendor SDK retries a transient failure (the resource's max_retries)."""
        return int(self.setting("max_retries", DEFAULT_MAX_RETRIES))

    def timeout(self) -> float:
        """Seconds a vendor request may take (the resource's timeout_s)."""
        return float(self.setting("timeout_s", DEFAULT_TIMEOUT_S))

    def prepare(self) -> None:
        """Build what a call needs once per process (its SDK or HTTP client), ahead of the first
        call: warm_up runs it in the background. A missing key may fail here; the call says so."""

    def explain(self, e: BaseException, key_var: str | None) -> VendorError:
        """A vendor error as one that says what happened and what to fix (see vendor_sdk.explain)."""
        return explain(e, self.name, key_var, self.retries(), self.timeout())


Usage = dict[str, float]


# stage → provider name → provider class
REGISTRY: dict[str, dict[str, type[Provider]]] = {s: {} for s in STAGES}


def register(stage: str, name: str, default_model: str) -> Callable[[type[Provider]], type[Provider]]:
    """Class decorator adding a provider to a stage's registry under `name`."""

    def wrap(cls: type[Provider]) -> type[Provider]:
        cls.name = name
        cls.default_model = default_model
        REGISTRY[stage][name] = cls
        return cls

    return wrap


class ProviderError(RuntimeError):
    """Every provider of a chain failed; the message says what each one said. `transient` is true
    when every failure was of a kind that may pass (timeouts, rate limits, 5xx, dropped
    connections, a job still running at its deadline) rather than one that needs a fix;
    `rejected` when every provider answered but each answer failed verification."""

    def __init__(self, message: str, transient: bool = False, rejected: bool = False):
        super().__init__(message)
        self.transient = transient
        self.rejected = rejected


class ResultRejected(RuntimeError):
    """A provider's result failed verification (does not decode, or is not what was asked): a
    failed attempt, never cached. `usage` is what the call cost all the same."""

    transient = True

    def __init__(self, message: str, usage: Usage | None = None):
        super().__init__(message)
        self.usage = usage or {}


def verified(usage: Usage, check: Callable[[], object]) -> Usage:
    """`usage` of a result just produced, once `check()` accepts the result. A result it finds is
    not what was asked (media.verify.ResultInvalid) makes the call a ResultRejected: a failed
    attempt, never cached, that still carries what the call cost."""
    try:
        check()
    except ResultInvalid as bad:
        raise ResultRejected(f"its result was rejected: {bad}", usage) from bad
    return usage


def is_transient(e: BaseException) -> bool:
    """Whether a failure may pass: as typed where the vendor's answer was read (errors.py). Anything
    untyped (our own bug, a tool that failed) needs a fix."""
    return bool(getattr(e, "transient", False))


def parse_chain(stage: str, chain: str, settings: dict[str, Any] | None = None) -> list[Provider]:
    """`"openai:gpt-4.1, offline"` → provider instances; unknown names fail with the known ones listed."""
    for module in STAGE_MODULES[stage]:
        importlib.import_module(f"{__package__}.{module}")
    providers: list[Provider] = []
    for item in (p.strip() for p in chain.split(",")):
        if not item:
            continue
        name, _, model = item.partition(":")
        cls = REGISTRY[stage].get(name.strip().lower())
        if cls is None:
            known = ", ".join(sorted(REGISTRY[stage])) or "none"
            raise ValueError(f"unknown {stage} provider {name!r} in chain {chain!r}; known providers: {known}")
        providers.append(cls(model=model.strip() or cls.default_model, settings=dict(settings or {})))
    if not providers:
        raise ValueError(f"the {stage} provider chain is empty; set it like 'offline'")
    return providers


def run_chain(
    *,
    store: MediaStore,
    stage: str,
    providers: list[Provider],
    prompt: str,
    params: dict[str, Any],
    input_hashes: list[str],
    ext: str,
    produce: Callable[[Provider, Path, str], Usage],
    what: str,
    spend: Spending | None = None,
) -> tuple[str, ProviderCall]:
    """Serve one call: providers in order, each from its cache when it has the result, else by
    calling it; the first that succeeds serves. `produce(provider, path, cache_key)` writes the result to `path` and
    returns its usage, priced from the price table; it checks the result before returning (see
    `verified`), so a result that is not what was asked never enters the cache. Every paid call is
    recorded in `spend` as it returns, used or not. Returns (cache media key, who served it).
    """
    keys = [cache_key(stage, p.name, p.model, prompt, params, input_hashes) for p in providers]
    failures: list[str] = []
    transient = True
    rejected = True
    for p, key in zip(providers, keys):
        # The cache of each provider is consulted just before that provider would be called, so a
        # fallback's result never shadows the preferred provider once it is back.
        hit = cached(store, key, ext)
        if hit:
            made = json.loads(store.read_bytes(_made_key(key))) if store.exists(_made_key(key)) else {}
            return hit, ProviderCall(provider=p.name, model=p.model, cached=True, latency_s=0.0, cache_key=key,
                                     made_cost_usd=made.get("cost_usd", 0.0), usage=made.get("usage", {}))
        media_key = cache_media_key(key, ext)
        started = time.perf_counter()
        try:
            with store.writing(media_key) as tmp, provider_slot(p.name, stage):
                usage = produce(p, tmp, key) or {}
        except Exception as e:  # noqa: BLE001 - any provider failure hands over to the next
            paid = getattr(e, "usage", None)
            if spend is not None and paid:
                spend.record(key, cost_of(p.name, p.model, paid), provider=p.name, model=p.model, usage=paid,
                             outcome=f"failed: {str(e)[:200]}")
            failures.append(f"{p.name}:{p.model}: {e}")
            transient = transient and is_transient(e)
            rejected = rejected and isinstance(e, ResultRejected)
            if len(providers) > 1:
                log.warning("%s: %s:%s failed (%s); trying the next provider", what, p.name, p.model, e)
            continue
        cost = cost_of(p.name, p.model, usage)
        if spend is not None:
            spend.record(key, cost, provider=p.name, model=p.model, usage=usage)
        store.write_bytes(_made_key(key), json.dumps({"cost_usd": cost, "usage": usage}).encode())
        return media_key, ProviderCall(provider=p.name, model=p.model, cached=False,
                                       latency_s=round(time.perf_counter() - started, 3),
                                       cost_usd=cost, made_cost_usd=cost, usage=usage, cache_key=key)
    raise ProviderError(f"{what}: every {stage} provider failed: " + " | ".join(failures), transient=transient,
                        rejected=rejected)


def _made_key(key: str) -> str:
    """Beside each cached result: what it used and cost when it was made."""
    return cache_media_key(key, "made.json")


def serve_request(store: MediaStore, stage: str, chain: str, request: Any, *, prompt_field: str, ext: str,
                  produce: Callable[[Provider, Path, str], Usage], what: str, private: tuple[str, ...] = (),
                  input_hashes: list[str] | None = None, settings: dict[str, Any] | None = None,
                  spend: Spending | None = None) -> tuple[str, ProviderCall]:
    """run_chain for a media request dataclass: its `prompt_field` is the prompt, every other field
    (but the `private` ones, which don't change the result) a cache-key parameter."""
    params = asdict(request)
    prompt = params.pop(prompt_field)
    for name in private:
        params.pop(name)
    return run_chain(store=store, stage=stage, providers=parse_chain(stage, chain, settings), prompt=prompt,
                     params=params,
                     input_hashes=input_hashes or [], ext=ext, produce=produce, what=what, spend=spend)


def sdk_modules(stage: str, chain: str) -> list[str]:
    """The vendor SDK modules a stage's chain calls through ([] for an unknown provider: the first
    call reports it, with the known ones)."""
    try:
        return [m for p in parse_chain(stage, chain) for m in p.sdk_modules]
    except ValueError:
        return []


def warm_up(stage: str, chain: str, settings: dict[str, Any] | None = None) -> None:
    """Import the chain's vendor SDKs and build their clients (Provider.prepare) in the background:
    a run's resources are set up before its first step, so the imports (a third of a second each)
    and the clients overlap with earlier stages instead of delaying the first calls."""
    try:
        providers = [p for p in parse_chain(stage, chain, settings) if p.sdk_modules]
    except ValueError:
        return  # an unknown provider is reported, with the known ones, at the first call

    def warm() -> None:
        for p in providers:
            try:
                for module in p.sdk_modules:
                    importlib.import_module(module)
                p.prepare()
            except Exception:  # noqa: BLE001 - a missing key or SDK is reported, with the fix, at the first call
                pass

    if providers:
        threading.Thread(target=warm, daemon=True, name=f"warm-up-{stage}").start()


class StageResource(dg.ConfigurableResource):
    """What every stage resource has: a provider chain, retries, a timeout, and the media store
    where its cache (and a video's job book) lives."""

    media_store: dg.ResourceDependency[MediaStore]
    chain: str = "offline"
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout_s: int = int(DEFAULT_TIMEOUT_S)

    def provider_settings(self) -> dict[str, Any]:
        """What each provider of the chain is told (see Provider.settings)."""
        return {"max_retries": self.max_retries, "timeout_s": self.timeout_s}

    def setup_for_execution(self, context) -> None:
        warm_up(self.stage(), self.chain, self.provider_settings())

    @classmethod
    def stage(cls) -> str:
        raise NotImplementedError


def load_plugins(modules: list[str]) -> None:
    """VIDEOAGENT_PLUGINS: modules imported at load, e.g. to register providers of your own with
    `register` (every process that builds or prices chains: code location, gateway)."""
    import importlib

    for module in modules:
        importlib.import_module(module)
