"""Anthropic: Claude through the Messages API, structured output through the SDK's parse helper."""

from __future__ import annotations

from dataclasses import dataclass

from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.errors import VendorRefused
from videoagent_dagster.providers.llm import SYSTEM_PROMPT, Answer, LLMProvider, attached_images
from videoagent_dagster.providers.vendor_sdk import env_base_url, require_env, shared


@shared
def anthropic_client(api_key: str, base_url: str | None, max_retries: int, timeout: float):
    import anthropic

    return anthropic.Anthropic(api_key=api_key, base_url=base_url or None, max_retries=max_retries, timeout=timeout)


@register("llm", "anthropic", "claude-sonnet-5-5")
@dataclass
class AnthropicMessages(LLMProvider):
    """The answer's format is the pydantic schema as the SDK's own parse helper shapes it
    (anthropic.transform_schema). `messages.parse` itself is not used: it has no raw-response
    form, and an answer that fails validation would be lost with it, where the stage reads prose
    around the JSON and re-asks once showing the model its answer."""

    sdk_modules = ("anthropic",)

    def client(self):
        return anthropic_client(require_env("ANTHROPIC_API_KEY", self.name), env_base_url("ANTHROPIC_BASE_URL"),
                                self.retries(), self.timeout())

    def prepare(self):
        self.client().messages  # the SDK imports each resource on first use

    def complete(self, stage, schema, prompt, inputs, conversation):
        import anthropic

        client = self.client()
        messages = [{"role": "user", "content": user_content(prompt, inputs)}]
        for answer, correction in conversation:
            messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": correction}]
        try:
            resp = client.messages.create(
                model=self.model, max_tokens=int(self.setting("max_tokens", 8192)), system=SYSTEM_PROMPT,
                messages=messages, output_config={"format": {
                    "type": "json_schema", "schema": anthropic.transform_schema(schema.model_json_schema())}},
            )
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "ANTHROPIC_API_KEY") from e
        if resp.stop_reason == "refusal":
            raise VendorRefused(f"{self.name} refused to write the {stage}")
        text = "".join(block.text for block in resp.content if getattr(block, "type", "") == "text")
        return Answer(text, {"input_tokens": resp.usage.input_tokens, "output_tokens": resp.usage.output_tokens})


def user_content(prompt: str, inputs: dict) -> str | list[dict]:
    """The user's turn: the prompt, and each attached image (a base64 block) after a line naming it."""
    blocks: list[dict] = [{"type": "text", "text": prompt}]
    for label, media_type, data in attached_images(inputs):
        blocks += [{"type": "text", "text": f"Image: {label}"},
                   {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}]
    return blocks if len(blocks) > 1 else prompt


@register("vision", "anthropic", "claude-sonnet-5-5")
@dataclass
class AnthropicVision(AnthropicMessages):
    """Claude judging frames: the images as base64 blocks in the user's turn."""
