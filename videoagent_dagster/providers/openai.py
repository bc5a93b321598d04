"""OpenAI: chat (structured outputs through the SDK's parse helper), images and speech. The
OpenAI-compatible endpoints (DeepSeek, Ollama, vLLM, LM Studio, any other) are in compatible.py."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from videoagent_dagster.media.frames import fit_image
from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.errors import VendorError, VendorRefused
from videoagent_dagster.providers.images import ImageProvider
from videoagent_dagster.providers.llm import (
    SYSTEM_PROMPT,
    Answer,
    LLMProvider,
    attached_images,
    strict_schema,
)
from videoagent_dagster.providers.retry import call_safely
from videoagent_dagster.providers.speech import SpeechProvider
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    orientation,
    pooled,
    require_env,
)


def _openai_base(api_key: str, base_url: str | None, timeout: float):
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url or None, timeout=timeout)


openai_client = pooled(_openai_base)  # the SDK client for these settings


@dataclass
class OpenAIChat(LLMProvider):
    """Chat Completions on OpenAI or any OpenAI-compatible server. With a server-side schema the
    SDK's parse helper sends the schema (from the pydantic model) and reads the answer back into
    it; in JSON mode the model reads the schema from the prompt."""

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

    def prepare(self):
        self.client().chat.completions  # the SDK imports each resource on first use

    def complete(self, stage, schema, prompt, inputs, conversation):
        import openai

        system = SYSTEM_PROMPT
        if self.json_mode:  # no server-side schema: the model has to read it
            system += "\nJSON schema:\n" + json.dumps(strict_schema(schema.model_json_schema()), ensure_ascii=False)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user_content(prompt, inputs)}]
        for answer, correction in conversation:
            messages += [{"role": "assistant", "content": answer}, {"role": "user", "content": correction}]
        client = self.client()  # a missing key or endpoint fails here, already saying what to set
        try:
            if self.json_mode:
                body = client.chat.completions.with_raw_response.create(
                    model=self.model, messages=messages, response_format={"type": "json_object"}).http_response.json()
                return self._answer(stage, body, None)
            raw = client.chat.completions.with_raw_response.parse(model=self.model, messages=messages,
                                                                   response_format=schema)
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, self.key_var) from e
        body = raw.http_response.json()
        try:
            parsed = raw.parse().choices[0].message.parsed
        except ValidationError:
            parsed = None  # not the schema's JSON: the stage's tolerant reading and one re-ask judge the text
        except openai.ContentFilterFinishReasonError as e:
            raise VendorRefused(f"{self.name} stopped writing the {stage}: its content filter") from e
        except openai.LengthFinishReasonError as e:
            raise VendorError(f"{self.name} ran out of tokens writing the {stage}") from e
        return self._answer(stage, body, parsed)

    def _answer(self, stage: str, body: dict, parsed) -> Answer:
        message = body["choices"][0]["message"]
        if message.get("refusal"):
            raise VendorRefused(f"{self.name} refused to write the {stage}: {message['refusal']}")
        usage = body.get("usage") or {}
        return Answer(message.get("content") or "", {"input_tokens": usage["prompt_tokens"],
                                                     "output_tokens": usage["completion_tokens"]} if usage else {},
                      parsed)


register("llm", "openai", "gpt-4.1")(OpenAIChat)


def user_content(prompt: str, inputs: dict) -> str | list[dict]:
    """The user's turn: the prompt, and each attached image (a data URL) after a line naming it."""
    parts: list[dict] = [{"type": "text", "text": prompt}]
    for label, media_type, data in attached_images(inputs):
        parts += [{"type": "text", "text": f"Image: {label}"},
                  {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{data}", "detail": "low"}}]
    return parts if len(parts) > 1 else prompt


@register("vision", "openai", "gpt-4.1-mini")
@dataclass
class OpenAIVision(OpenAIChat):
    """A vision-capable chat model (images as data URLs in the user's turn) judging frames."""


@register("image", "openai", "gpt-image-1")
@dataclass
class OpenAIImages(ImageProvider):
    """OpenAI image generation (base64 results), cropped to the frame size; with reference images
    (gpt-image models), image edits over them."""

    sdk_modules = ("openai",)

    SIZES = {"landscape": "1536x1024", "portrait": "1024x1536", "square": "1024x1024"}

    def client(self):
        # SDK retries off: a retried create after a timeout could bill twice (see retry.py).
        return openai_client(require_env("OPENAI_API_KEY", self.name), env_base_url("OPENAI_BASE_URL"), 0,
                             self.timeout())

    def prepare(self):
        self.client().images  # the SDK imports each resource on first use

    def render(self, request, out):
        client = self.client()
        size = self.SIZES[orientation(request.width, request.height)]
        extra = {"response_format": "b64_json"} if self.model.startswith("dall-e") else {}
        if self.model.startswith("dall-e-3"):
            size = {"1536x1024": "1792x1024", "1024x1536": "1024x1792"}.get(size, size)
        references = [Path(r) for r in request.references] if self.model.startswith("gpt-image") else []
        try:
            if references:
                # A shot showing cast members is painted from their reference images (image edits
                # take up to 16 input images; the prompt repeats their fixed descriptions).
                resp = call_safely(lambda: client.images.edit(
                    model=self.model, image=[(r.name, r.read_bytes(), "image/png") for r in references[:16]],
                    prompt=request.prompt, size=size, n=1, input_fidelity="high"), retries=self.retries())
            else:
                resp = call_safely(lambda: client.images.generate(model=self.model, prompt=request.prompt, size=size,
                                                                  n=1, **extra), retries=self.retries())
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "OPENAI_API_KEY") from e
        b64 = resp.data[0].b64_json if resp.data else None
        if not b64:
            raise VendorError(f"{self.name} returned no image data")
        fit_image(base64.b64decode(b64), out, request.width, request.height)
        return {"images": 1}


@register("tts", "openai", "gpt-4o-mini-tts")
@dataclass
class OpenAIVoice(SpeechProvider):
    """OpenAI speech, as WAV. `voice` is an OpenAI voice name (default alloy). The voice does not
    know how long its shot is: a line that runs over is asked again with `speed` (0.25-4)."""

    sdk_modules = ("openai",)
    voices = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")

    def client(self):
        return openai_client(require_env("OPENAI_API_KEY", self.name), env_base_url("OPENAI_BASE_URL"),
                             self.retries(), self.timeout())

    def prepare(self):
        self.client().audio.speech  # the SDK imports each resource on first use

    def speak(self, request, out):
        client = self.client()
        try:
            with client.audio.speech.with_streaming_response.create(
                model=self.model, voice=request.voice or "alloy", input=request.text, response_format="wav",
                **({"speed": round(min(4.0, max(0.25, request.speed)), 3)} if request.speed != 1.0 else {}),
            ) as resp:
                resp.stream_to_file(out)  # sizes unknown (0xFFFFFFFF): the stage rewrites it (plain_wav)
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "OPENAI_API_KEY") from e
        if out.stat().st_size < 64:
            raise VendorError(f"{self.name} returned no audio")
        return {"characters": len(request.text)}
