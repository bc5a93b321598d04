"""The llm resource: structured JSON generation, validated against a pydantic schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

import dagster as dg
from pydantic import BaseModel

from ..models import ProviderCall
from ..prompts import offline_writer
from .media_store import MediaStore
from .providers import Provider, parse_chain, register, run_chain

T = TypeVar("T", bound=BaseModel)


@dataclass
class LLMProvider(Provider):
    def complete_json(self, stage: str, schema: type[BaseModel], prompt: str, inputs: dict[str, Any]) -> tuple[Any, float]:
        """Return (JSON-like data for `schema`, cost in USD)."""
        raise NotImplementedError


@register("llm", "offline", "template-writer-1")
@dataclass
class OfflineWriter(LLMProvider):
    """A deterministic template writer: no network, same output for the same brief."""

    def complete_json(self, stage, schema, prompt, inputs):
        writers = {"script": offline_writer.write_script, "storyboard": offline_writer.write_storyboard}
        if stage not in writers:
            raise ValueError(f"the offline writer cannot write {stage!r}")
        return writers[stage](inputs), 0.0


class LLMResource(dg.ConfigurableResource):
    """Writes scripts and storyboards. `chain` is VIDEOAGENT_LLM, e.g. `offline`."""

    chain: str = "offline"

    def generate(self, store: MediaStore, stage: str, schema: type[T], prompt: str, inputs: dict[str, Any]) -> tuple[T, ProviderCall]:
        providers = parse_chain("llm", self.chain)

        def produce(provider: LLMProvider, path) -> float:
            data, cost = provider.complete_json(stage, schema, prompt, inputs)
            # Validate before caching, so an invalid answer is never served again from the cache.
            path.write_text(schema.model_validate(data).model_dump_json(indent=1), encoding="utf-8")
            return cost

        key, call = run_chain(
            store=store, stage="llm", providers=providers, prompt=prompt,
            params={"stage": stage, "schema": schema.__name__, "schema_json": schema.model_json_schema(),
                    "inputs": json.loads(json.dumps(inputs, default=str))},
            input_hashes=[], ext="json", produce=produce, what=f"writing the {stage}",
        )
        return schema.model_validate_json(store.read_bytes(key)), call
