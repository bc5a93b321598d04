"""A moderation vendor for content screening (VIDEOAGENT_MODERATION): OpenAI's moderation endpoint
through its SDK (free of charge). Beside the word lists of domain/screening.py, it catches what no
list names. A vendor that cannot answer refuses nothing and lets nothing through: the submission
fails as unavailable (nothing is written), to be made again."""

from __future__ import annotations

from videoagent_dagster.providers.errors import VendorTransient
from videoagent_dagster.providers.vendor_sdk import DEFAULT_TIMEOUT_S, env_base_url, require_env

MODERATORS = {"openai": "omni-moderation-latest"}


class ScreeningUnavailable(VendorTransient):
    """The moderation vendor did not answer: the brief is neither accepted nor refused."""


def moderate(chain: str, fields: dict[str, str], retries: int = 2,
             timeout: float = DEFAULT_TIMEOUT_S) -> list[tuple[str, str, str]]:
    """(field, category, who flagged it) for each field a moderation vendor of `chain` flags."""
    found: list[tuple[str, str, str]] = []
    texts = {f: t for f, t in fields.items() if t}
    for item in (p.strip() for p in chain.split(",") if p.strip()):
        name, _, model = item.partition(":")
        if name not in MODERATORS:
            raise ValueError(f"unknown moderation provider {name!r} in VIDEOAGENT_MODERATION={chain!r}; "
                             f"known: {', '.join(MODERATORS)}")
        from videoagent_dagster.providers.openai import openai_client

        client = openai_client(require_env("OPENAI_API_KEY", "openai moderation"), env_base_url("OPENAI_BASE_URL"),
                               retries, timeout)
        try:
            answer = client.moderations.create(model=model or MODERATORS[name], input=list(texts.values()))
        except Exception as e:  # noqa: BLE001
            raise ScreeningUnavailable(f"content screening: {name} moderation did not answer ({type(e).__name__}: "
                                       f"{str(e)[:200]}); nothing was submitted — try again") from e
        for field, result in zip(texts, answer.results):
            if result.flagged:
                flagged = sorted(k for k, v in result.categories.model_dump().items() if v) or ["flagged"]
                found += [(field, category, f"flagged by {name}") for category in flagged]
    return found
