"""The llm resource: structured JSON generation, validated against a pydantic schema.

Providers: `offline` (template writer), `openai` (structured outputs with a strict JSON schema),
`anthropic` (output_config json_schema), and OpenAI-compatible endpoints by base URL:
`deepseek` and `ollama` (JSON mode: no server-side schema), `vllm`, `lmstudio` (schema), and
`compatible` (any endpoint: VIDEOAGENT_LLM_BASE_URL, VIDEOAGENT_LLM_API_KEY,
VIDEOAGENT_LLM_JSON_MODE=1 where strict schemas are not supported). Every answer is validated
locally; an invalid one is re-asked once with the validation error, then fails clearly.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.domain.prompts import offline_writer
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    parse_chain,
    register,
    require_env,
    run_chain,
)
from videoagent_dagster.providers.vendor_sdk import (
    anthropic_client,
    env_base_url,
    openai_client,
)
from videoagent_dagster.settings import current
from videoagent_dagster.storage.media_store import MediaStore

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


@dataclass
class LLMProvider(Provider):
    def complete(self, stage: str, schema: type[BaseModel], prompt: str, inputs: dict[str, Any],
                 conversation: list[tuple[str, str]]) -> tuple[str, Usage]:
        """Answer `prompt` (then the (answer, correction) pairs of `conversation`) with JSON text."""
        raise NotImplementedError


@register("llm", "offline", "template-writer-1")
@dataclass
class OfflineWriter(LLMProvider):
    """A deterministic template writer: no network, same output for the same brief."""

    def complete(self, stage, schema, prompt, inputs, conversation):
        writers = {"script": offline_writer.write_script, "storyboard": offline_writer.write_storyboard}
        if stage not in writers:
            raise ValueError(f"the offline writer cannot write {stage!r}")
        return json.dumps(writers[stage](inputs), ensure_ascii=False), {}


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


@dataclass
class OpenAIChat(LLMProvider):
    """Chat Completions on OpenAI or any OpenAI-compatible server."""

    sdk_modules = ("openai",)

    key_var: str | None = "OPENAI_API_KEY"
    key_required: bool = True
    base_url_var: str = "OPENAI_BASE_URL"
    base_url_default: str | None = None
    json_mode: bool = False

    def client(self):
        key = require_env(self.key_var, self.name) if self.key_required and self.key_var else \
            (os.environ.get(self.key_var or "", "") or "not-needed")
        base_url = env_base_url(self.base_url_var, self.base_url_default)
        if base_url is None and self.base_url_var != "OPENAI_BASE_URL":
            require_env(self.base_url_var, self.name)  # no default endpoint: say which variable to set
        return openai_client(key, base_url, self.retries(), self.timeout())

    def complete(self, stage, schema, prompt, inputs, conversation):
        json_schema = strict_schema(schema.model_json_schema())
        system = SYSTEM_PROMPT
        if self.json_mode:  # no server-side schema: the model has to read it
            system += "\nJSON schema:\n" + json.dumps(json_schema, ensure_ascii=False)
            response_format = {"type": "json_object"}
        else:
            response_format = {"type": "json_schema",
                               "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": True}}
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        for answer, correction in conversation:
            messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": correction}]
        client = self.client()  # a missing key or endpoint fails here, already saying what to set
        try:
            resp = client.chat.completions.create(model=self.model, messages=messages,
                                                  response_format=response_format)
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, self.key_var) from e
        choice = resp.choices[0]
        if getattr(choice.message, "refusal", None):
            raise RuntimeError(f"{self.name} refused to write the {stage}: {choice.message.refusal}")
        usage = {"input_tokens": resp.usage.prompt_tokens, "output_tokens": resp.usage.completion_tokens} \
            if resp.usage else {}
        return choice.message.content or "", usage


register("llm", "openai", "gpt-4.1")(OpenAIChat)


@register("llm", "deepseek", "deepseek-chat")
@dataclass
class DeepSeekChat(OpenAIChat):
    key_var: str | None = "DEEPSEEK_API_KEY"
    base_url_var: str = "DEEPSEEK_BASE_URL"
    base_url_default: str | None = "https://api.deepseek.com"
    json_mode: bool = True


@register("llm", "ollama", "llama3.1")
@dataclass
class OllamaChat(OpenAIChat):
    key_var: str | None = "OLLAMA_API_KEY"
    key_required: bool = False
    base_url_var: str = "OLLAMA_BASE_URL"
    base_url_default: str | None = "http://localhost:11434/v1"
    json_mode: bool = True


@register("llm", "vllm", "default")
@dataclass
class VLLMChat(OpenAIChat):
    key_var: str | None = "VLLM_API_KEY"
    key_required: bool = False
    base_url_var: str = "VLLM_BASE_URL"
    base_url_default: str | None = "http://localhost:8000/v1"


@register("llm", "lmstudio", "default")
@dataclass
class LMStudioChat(OpenAIChat):
    key_var: str | None = "LMSTUDIO_API_KEY"
    key_required: bool = False
    base_url_var: str = "LMSTUDIO_BASE_URL"
    base_url_default: str | None = "http://localhost:1234/v1"


@register("llm", "compatible", "default")
@dataclass
class CompatibleChat(OpenAIChat):
    """Any OpenAI-compatible endpoint; JSON mode when VIDEOAGENT_LLM_JSON_MODE=1."""

    key_var: str | None = "VIDEOAGENT_LLM_API_KEY"
    key_required: bool = False
    base_url_var: str = "VIDEOAGENT_LLM_BASE_URL"

    def __post_init__(self):
        self.json_mode = current().llm_json_mode


@register("llm", "anthropic", "claude-sonnet-5-5")
@dataclass
class AnthropicMessages(LLMProvider):
    """Claude through the Messages API with a JSON-schema output format."""

    sdk_modules = ("anthropic",)

    def complete(self, stage, schema, prompt, inputs, conversation):
        key = require_env("ANTHROPIC_API_KEY", self.name)
        client = anthropic_client(key, env_base_url("ANTHROPIC_BASE_URL"), self.retries(), self.timeout())
        messages = [{"role": "user", "content": prompt}]
        for answer, correction in conversation:
            messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": correction}]
        try:
            resp = client.messages.create(
                model=self.model, max_tokens=int(self.setting("max_tokens", 8192)), system=SYSTEM_PROMPT,
                messages=messages,
                output_config={"format": {"type": "json_schema", "schema": strict_schema(schema.model_json_schema())}},
            )
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "ANTHROPIC_API_KEY") from e
        if resp.stop_reason == "refusal":
            raise RuntimeError(f"{self.name} refused to write the {stage}")
        text = "".join(block.text for block in resp.content if getattr(block, "type", "") == "text")
        return text, {"input_tokens": resp.usage.input_tokens, "output_tokens": resp.usage.output_tokens}


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


    def generate(self, store: MediaStore, stage: str, schema: type[T], prompt: str,
                 inputs: dict[str, Any], review: Review | None = None,
                 spend: Spending | None = None) -> tuple[T, ProviderCall]:
        """Write `stage` as `schema`. `review(result)` returns the result mended where safe and the
        plan's rules it still breaks; an answer that fails the schema or the review is asked again
        once, naming each problem, and only an answer that passes both is cached."""
        providers = parse_chain("llm", self.chain, {"max_retries": self.max_retries, "timeout_s": self.timeout_s})

        def judge(text: str) -> tuple[T | None, type[SchemaError], str]:
            """(the result, or None and the kind of fault and its details)."""
            try:
                result = parse_answer(schema, text)
            except (ValidationError, ValueError) as e:
                return None, SchemaError, str(e)
            if review is None:
                return result, SchemaError, ""
            mended, problems = review(result)
            if problems:
                return None, PlanError, "; ".join(problems)
            return mended, SchemaError, ""

        def produce(provider: LLMProvider, path, _key) -> Usage:
            text, usage = provider.complete(stage, schema, prompt, inputs, [])
            result, fault, details = judge(text)
            if result is None:
                # One re-ask naming the exact problems, then give up clearly.
                correction = f"That answer {fault.what}: {details}. Answer again with the corrected JSON object only."
                text2, usage2 = provider.complete(stage, schema, prompt, inputs, [(text, correction)])
                usage = {k: usage.get(k, 0) + usage2.get(k, 0) for k in {*usage, *usage2}}
                result, fault, details = judge(text2)
                if result is None:
                    raise fault(f"{provider.name}:{provider.model} wrote a {stage} that {fault.what}, even after "
                                f"one repair: {details[:600]}", usage=usage)
            # Checked before caching, so a bad answer is never served again from the cache.
            path.write_text(result.model_dump_json(indent=1), encoding="utf-8")
            return usage

        key, call = run_chain(
            store=store, stage="llm", providers=providers, prompt=prompt,
            params={"stage": stage, "schema": schema.__name__, "schema_json": schema.model_json_schema(),
                    "inputs": json.loads(json.dumps(inputs, default=str))},
            input_hashes=[], ext="json", produce=produce, what=f"writing the {stage}", spend=spend,
        )
        return schema.model_validate_json(store.read_bytes(key)), call
