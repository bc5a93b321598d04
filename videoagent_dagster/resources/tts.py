"""The tts resource: narration audio per shot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..media.speech import speak_within
from ..models import ProviderCall
from .media_store import MediaStore
from .providers import (
    Provider,
    StageResource,
    Usage,
    register,
    require_env,
    serve_request,
)
from .vendor_sdk import (
    env_base_url,
    openai_client,
)


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    language: str
    voice: str | None
    max_seconds: float  # the shot's length: speech should end inside its shot


@dataclass
class SpeechProvider(Provider):
    def speak(self, request: SpeechRequest, out: Path) -> Usage:
        """Write audio (WAV) of request.text to `out`; return what it used."""
        raise NotImplementedError


@register("tts", "offline", "espeak-ng")
@dataclass
class OfflineVoice(SpeechProvider):
    def speak(self, request, out):
        speak_within(request.text, out, language=request.language, voice=request.voice, limit=request.max_seconds)
        return {}


@register("tts", "openai", "gpt-4o-mini-tts")
@dataclass
class OpenAIVoice(SpeechProvider):
    """OpenAI speech, as WAV. `voice` is an OpenAI voice name (default alloy)."""

    sdk_modules = ("openai",)

    def speak(self, request, out):
        client = openai_client(require_env("OPENAI_API_KEY", self.name), env_base_url("OPENAI_BASE_URL"),
                               self.retries(), self.timeout())
        try:
            with client.audio.speech.with_streaming_response.create(
                model=self.model, voice=request.voice or "alloy", input=request.text, response_format="wav",
            ) as resp:
                resp.stream_to_file(out)
        except Exception as e:  # noqa: BLE001
            raise self.explain(e, "OPENAI_API_KEY") from e
        if out.stat().st_size < 64:
            raise RuntimeError(f"{self.name} returned no audio")
        return {"characters": len(request.text)}


class TTSResource(StageResource):
    """Speaks narration. `chain` is VIDEOAGENT_TTS; lines run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "tts"

    max_concurrency: int = 4

    def generate(self, store: MediaStore, request: SpeechRequest) -> tuple[str, ProviderCall]:
        return serve_request(store, "tts", self.chain, request, prompt_field="text", ext="wav",
                             settings={"max_retries": self.max_retries, "timeout_s": self.timeout_s},
                             produce=lambda p, out, _key: p.speak(request, out), what="speaking a line")
