"""Every setting of videoagent, read from the environment in one place (pydantic-settings).

`current()` is what every module asks: the resources, the estimate, the CLI, the sensors and the
schedule see the same values. It is read again only when the environment changed (tests and the
CLI set variables in-process), so it costs nothing on a hot path. The README's configuration
table lists the same variables and defaults; tests/test_settings.py keeps the two in step."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

STAGES = ("llm", "image", "video", "tts", "vision")
EXECUTORS = ("threaded", "in_process", "multiprocess", "celery")


class SettingsError(ValueError):
    """A variable that is set but cannot be used; the message names it and what it takes."""


class Settings(BaseSettings):
    """VIDEOAGENT_* variables (the prefix is left off the field names)."""

    model_config = SettingsConfigDict(env_prefix="VIDEOAGENT_", extra="ignore", frozen=True)

    # provider chains, `provider[:model],…`, tried in order
    llm: str = Field("offline", description="LLM provider chain")
    image: str = Field("offline", description="image provider chain")
    video: str = Field("offline", description="video provider chain")
    tts: str = Field("offline", description="speech provider chain")
    vision: str = Field("offline", description="vision provider chain judging frames (offline: not judged)")
    vision_threshold: float = Field(6.0, ge=0, le=10, description="lowest score a frame may keep")
    vision_candidates: int = Field(3, ge=1, le=8, description="frames painted at most per shot")
    plugins: str = Field("", description="modules imported at load (providers of your own)")
    prompts: str | None = Field(None, description="a folder of prompt templates overriding the package's")
    screening_words: str | None = Field(None, description="a JSON file of words content screening refuses, "
                                                           "added to the package's")
    moderation: str = Field("", description="a moderation vendor screening briefs too (openai[:model])")

    storage: str = Field("./storage", description="media store: a folder or s3://bucket/prefix")
    s3_endpoint: str | None = Field(None, description="S3 endpoint (MinIO); else AWS_ENDPOINT_URL")
    intake: str = Field("./intake", description="where the intake sensor looks")
    batch_manifest: str | None = Field(None, description="CSV manifest of briefs for the batch schedule")
    batch_cron: str = Field("0 * * * *", description="the batch schedule's timetable")
    retain_intermediate_h: float = Field(24.0, gt=0, description="hours a task's frames, clips and audio are kept "
                                                                "after its final video")
    retain_final_days: float = Field(30.0, gt=0, description="days a task (its final video, files, partition "
                                                           "and runs) is kept")
    retain_cache_days: float = Field(30.0, gt=0, description="days a provider result stays in the cache after "
                                                           "its last use")
    retention_cron: str = Field("30 3 * * *", description="the retention schedule's timetable")

    shot_concurrency: int | None = Field(None, ge=1, description="shots generated at once per stage")
    daily_budget_usd: float = Field(50.0, ge=0, description="per-user daily budget")
    prices: str | None = Field(None, description="JSON file overriding the price and limit table")
    provider_limits: str = Field("", description="per-provider concurrent/rpm")
    max_retries: int = Field(3, ge=0, description="vendor SDK retries")
    timeout_s: int = Field(120, ge=1, description="vendor per-request timeout")
    video_deadline_s: int = Field(900, ge=1, description="how long to wait for a video job")
    video_poll_s: float = Field(5.0, gt=0, description="how often to ask about a video job")
    h264_encoder: str = Field("auto", description="H.264 encoder")
    executor: Literal["threaded", "in_process", "multiprocess", "celery"] = Field(
        "threaded", description="how a run's steps are executed")
    celery_broker: str = Field("redis://localhost:6379/0", description="Celery broker and result backend")

    webhook_secret: SecretStr = Field(SecretStr(""), description="HMAC key webhooks are signed with")
    webhook_timeout_s: float = Field(10.0, gt=0, description="most one notification may take")
    webhook_allow_private: bool = Field(False, description="allow webhooks to private addresses")

    url: str = Field("http://127.0.0.1:3000", description="the Dagster webserver the remote commands use")

    # the REST gateway (videoagent serve)
    database_url: str | None = Field(None, description="the gateway's database (API keys, its tasks)")
    link_secret: SecretStr = Field(SecretStr(""), description="HMAC key of the links the gateway hands out")
    link_ttl_s: int = Field(86400, ge=60, description="how long a handed-out link opens")
    rate_limit_per_minute: int = Field(600, ge=1, description="requests a minute per API key")
    redis_url: str | None = Field(None, description="Redis for the rate limit shared by gateways")
    public_url: str | None = Field(None, description="the gateway's address as callers reach it")
    s3_redirect: bool = Field(True, description="downloads redirect to presigned S3 URLs")

    llm_base_url: str | None = Field(None, description="endpoint of the `compatible` LLM provider")
    llm_api_key: SecretStr | None = Field(None, description="key of the `compatible` LLM provider")
    llm_json_mode: bool = Field(False, description="JSON mode instead of a schema for `compatible`")

    @field_validator("llm", "image", "video", "tts", "vision", mode="before")
    @classmethod
    def _chain_or_offline(cls, value):
        return value.strip() if isinstance(value, str) and value.strip() else "offline"

    @field_validator("storage", "intake", mode="before")
    @classmethod
    def _blank_is_default(cls, value, info):
        if isinstance(value, str) and not value.strip():
            return cls.model_fields[info.field_name].default
        return value

    @field_validator("shot_concurrency", "prices", "batch_manifest", "s3_endpoint", "llm_base_url",
                     "database_url", "redis_url", "public_url", "prompts", "screening_words", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    # --- derived ---------------------------------------------------------------------------------

    def chain(self, stage: str) -> str:
        return getattr(self, stage)

    def chains(self) -> dict[str, str]:
        return {stage: self.chain(stage) for stage in STAGES}

    def plugin_modules(self) -> list[str]:
        return [m.strip() for m in self.plugins.split(",") if m.strip()]

    def shot_workers(self, stage: str, local_default: int) -> int:
        """Shots generated at once for a stage: VIDEOAGENT_SHOT_CONCURRENCY, else the machine's share
        for local providers, or 16 when a vendor does the work (its own limits bound the calls)."""
        if self.shot_concurrency is not None:
            return self.shot_concurrency
        return local_default if offline_chain(self.chain(stage)) else 16

    def clip_deadline_s(self) -> float | None:
        """How long one clip may wait on the video vendor (None offline: the clips are made here),
        what a run's time limit allows each clip (plan_rules.max_runtime_s)."""
        return None if offline_chain(self.video) else self.video_deadline_s

    def s3_endpoint_url(self) -> str | None:
        return self.s3_endpoint or os.environ.get("AWS_ENDPOINT_URL") or None

    @staticmethod
    def variable(field: str) -> str:
        return f"VIDEOAGENT_{field.upper()}"

    def set_in_environment(self, field: str) -> bool:
        return self.variable(field) in os.environ


def offline_chain(chain: str) -> bool:
    """A provider chain (`openai:gpt-4.1,offline`) of local providers only: no vendor is asked."""
    return all(p.strip().split(":")[0] in ("", "offline") for p in chain.split(","))


def environment_snapshot() -> tuple[tuple[str, str], ...]:
    """The variables the settings are read from, as they are now (what a cache of anything built
    from the settings is keyed by)."""
    return tuple(sorted((k, v) for k, v in os.environ.items()
                        if k.startswith("VIDEOAGENT_") or k == "AWS_ENDPOINT_URL"))


@lru_cache(maxsize=8)
def _read(snapshot: tuple[tuple[str, str], ...]) -> Settings:
    try:
        return Settings()
    except ValidationError as e:
        lines = [f"{Settings.variable(str(err['loc'][0]))}={dict(snapshot).get(Settings.variable(str(err['loc'][0])), '')!r}: "
                 f"{err['msg']}" for err in e.errors()]
        raise SettingsError("; ".join(lines)) from None


def current() -> Settings:
    """The settings as the environment holds them now."""
    return _read(environment_snapshot())
