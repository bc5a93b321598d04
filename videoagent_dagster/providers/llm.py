"""The llm stage: structured JSON generation, validated against a pydantic schema.

Its providers live with their vendors: offline.py (template writer), openai.py (structured
outputs through the SDK's parse helper), anthropic.py (output_config json_schema) and
compatible.py (OpenAI-compatible endpoints by base URL). Every answer is validated locally; an
invalid one is re-asked once with the validation error, then fails clearly.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    parse_chain,
    run_chain,
)

T = TypeVar("T", bound=BaseModel)
Review = Callable[[Any], tuple[Any, list[str]]]

SYSTEM_PROMPT = ("You are a film writer and storyboard artist for short narrated videos. Answer with one JSON "
                 "object that matches the JSON schema you are given, and nothing else.")


class SchemaError(RuntimeError):
    """The model's answer did not match the schema, even after one repair. `usage` is what the
    answers cost: they were paid for though they are not used."""

    what = "does not match the schema"

    def __init__(self, message: str, usage: Usage | None = None):
        super().__init__(message)
        self.usage = usage or {}


class Answer(NamedTuple):
    """A model's answer: its text, what it used, and the schema's object when the vendor's SDK
    already read the text into it (a parse helper); else the stage reads the text itself."""

    text: str
    usage: Usage
    parsed: BaseModel | None = None


@dataclass
class LLMProvider(Provider):
    def complete(self, stage: str, schema: type[BaseModel], prompt: str, inputs: dict[str, Any],
                 conversation: list[tuple[str, str]]) -> Answer | tuple[str, Usage]:
        """Answer `prompt` (then the (answer, correction) pairs of `conversation`) with JSON text."""
        raise NotImplementedError


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The pydantic schema made acceptable to strict structured-output modes: every object closed
    (additionalProperties false) with every property required, and no defaults."""
    out = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("default", None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(out)
    return out


def parse_answer(schema: type[T], text: str) -> T:
    """Validate JSON text against the schema. Models wrap JSON in a Markdown fence or in prose
    ("Here is the storyboard: {...} Hope this helps"): the first JSON object in the text that the
    schema accepts is taken."""
    body = text.strip()
    try:
        return schema.model_validate_json(body)
    except ValidationError as first:
        decoder = json.JSONDecoder()
        for at in (i for i, c in enumerate(body) if c == "{"):
            try:
                value, _ = decoder.raw_decode(body, at)
            except ValueError:
                continue
            try:
                return schema.model_validate(value)
            except ValidationError:
                continue
        raise first


class PlanError(SchemaError):
    """The model's answer matched the schema but broke the plan's rules (durations, shot count,
    narration), even after one repair."""

    what = "breaks the plan"


class LLMResource(StageResource):
    """Writes scripts and storyboards. `chain` is VIDEOAGENT_LLM, e.g. `openai:gpt-4.1,offline`."""

    @classmethod
    def stage(cls) -> str:
        return "llm"

    def generate(self, stage: str, schema: type[T], prompt: str,
                 inputs: dict[str, Any], review: Review | None = None,
                 spend: Spending | None = None) -> tuple[T, ProviderCall]:
        """Write `stage` as `schema`. `review(result)` returns the result mended where safe and the
        plan's rules it still breaks; an answer that fails the schema or the review is asked again
        once, naming each problem, and only an answer that passes both is cached."""
        return ask_structured(self.media_store, "llm", parse_chain("llm", self.chain, self.provider_settings()),
                              stage, schema, prompt, inputs, review=review, spend=spend)


def ask_structured(store, stage_kind: str, providers: list[LLMProvider], stage: str, schema: type[T], prompt: str,
                   inputs: dict[str, Any], *, review: Review | None = None, spend: Spending | None = None,
                   images: list[tuple[str, Path]] | None = None, input_hashes: list[str] | None = None,
                   what: str | None = None) -> tuple[T, ProviderCall]:
    """One structured answer through a chain of `stage_kind` providers (llm, vision), cached.
    `images` (label, file) go to the model beside the prompt (vision); their bytes are in the cache
    key through `input_hashes`, not their paths."""
    attachments = list(images or [])

    def ask(provider: LLMProvider, conversation: list[tuple[str, str]]) -> Answer:
        asked = {**inputs, "images": attachments} if attachments else inputs
        return Answer(*provider.complete(stage, schema, prompt, asked, conversation))

    def judge(answer: Answer) -> tuple[T | None, type[SchemaError], str]:
        """(the result, or None and the kind of fault and its details)."""
        if isinstance(answer.parsed, schema):
            result = answer.parsed
        else:
            try:
                result = parse_answer(schema, answer.text)
            except (ValidationError, ValueError) as e:
                return None, SchemaError, str(e)
        if review is None:
            return result, SchemaError, ""
        mended, problems = review(result)
        if problems:
            return None, PlanError, "; ".join(problems)
        return mended, SchemaError, ""

    def produce(provider: LLMProvider, path, _key) -> Usage:
        answer = ask(provider, [])
        usage = answer.usage
        result, fault, details = judge(answer)
        if result is None:
            # One re-ask naming the exact problems, then give up clearly.
            correction = f"That answer {fault.what}: {details}. Answer again with the corrected JSON object only."
            again = ask(provider, [(answer.text, correction)])
            usage = {k: usage.get(k, 0) + again.usage.get(k, 0) for k in {*usage, *again.usage}}
            result, fault, details = judge(again)
            if result is None:
                raise fault(f"{provider.name}:{provider.model} wrote a {stage} that {fault.what}, even after "
                            f"one repair: {details[:600]}", usage=usage)
        # Checked before caching, so a bad answer is never served again from the cache.
        path.write_text(result.model_dump_json(indent=1), encoding="utf-8")
        return usage

    key, call = run_chain(
        store=store, stage=stage_kind, providers=providers, prompt=prompt,
        params={"stage": stage, "schema": schema.__name__, "schema_json": schema.model_json_schema(),
                "inputs": json.loads(json.dumps(inputs, default=str)),
                **({"images": [label for label, _ in attachments]} if attachments else {})},
        input_hashes=list(input_hashes or []), ext="json", produce=produce, what=what or f"writing the {stage}",
        spend=spend,
    )
    return schema.model_validate_json(store.read_bytes(key)), call


def attached_images(inputs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The images a vision question carries (`inputs["images"]`: label, file), as (label, media
    type, base64 data): what each vendor wraps in its own kind of image part."""
    import base64
    import mimetypes

    return [(label, mimetypes.guess_type(str(path))[0] or "image/png",
             base64.b64encode(Path(path).read_bytes()).decode("ascii")) for label, path in inputs.get("images") or []]
