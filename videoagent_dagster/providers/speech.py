"""The tts resource: narration audio per shot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.speech import speak_within
from videoagent_dagster.media.verify import plain_wav, verify_speech
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    register,
    require_env,
    serve_request,
    verified,
)
from videoagent_dagster.providers.vendor_sdk import (
    env_base_url,
    openai_client,
)
from videoagent_dagster.storage.media_store import MediaStore


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    language: str
    voice: str | None
    max_seconds: float  # the shot's length: speech should end inside its shot
    speed: float = 1.0  # > 1 asks the voice to speak faster (a line that ran over its shot, asked again)


@dataclass
class SpeechProvider(Provider):
    def speak(self, request: SpeechRequest, out: Path) -> Usage:
        """Write audio (WAV) of request.text to `out`; return what it used."""
        raise NotImplementedError


@register("tts", "offline", "espeak-ng")
@dataclass
class OfflineVoice(SpeechProvider):
    def speak(self, request, out):
        speak_within(request.text, out, language=request.language, voice=request.voice,
                     limit=request.max_seconds, speed=request.speed)
        return {}


@register("tts", "openai", "gpt-4o-mini-tts")
@dataclass
class OpenAIVoice(SpeechProvider):
    """OpenAI speech, as WAV. `voice` is an OpenAI voice name (default alloy). The voice does not
    know how long its shot is: a line that runs over is asked again with `speed` (0.25-4)."""

    sdk_modules = ("openai",)

    def speak(self, request, out):
        client = openai_client(require_env("OPENAI_API_KEY", self.name), env_base_url("OPENAI_BASE_URL"),
                               self.retries(), self.timeout())
        try:
            with client.audio.speech.with_streaming_response.create(
                model=self.model, voice=request.voice or "alloy", input=request.text, response_format="wav",
                **({"speed": round(min(4.0, max(0.25, request.speed)), 3)} if request.speed != 1.0 else {}),
            ) as resp:
                resp.stream_to_file(out)  # sizes unknown (0xFFFFFFFF): the stage rewrites it (plain_wav)
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

    def generate(self, store: MediaStore, request: SpeechRequest,
                 spend: Spending | None = None) -> tuple[str, ProviderCall]:
        return serve_request(store, "tts", self.chain, request, prompt_field="text", ext="wav",
                             settings={"max_retries": self.max_retries, "timeout_s": self.timeout_s},
                             produce=lambda p, out, _key: self._speak_checked(p, request, out),
                             what="speaking a line", spend=spend)

    @staticmethod
    def _speak_checked(provider: SpeechProvider, request: SpeechRequest, out: Path) -> Usage:
        """The provider's speech as a plain WAV whose header tells its true length (so every reader
        after the cache can trust it), checked for a sane length before it may be cached."""
        spoken = out.with_name(out.name + ".voice")
        try:
            usage = provider.speak(request, spoken)
            return verified(usage, lambda: verify_speech(plain_wav(spoken, out), request.text, request.max_seconds))
        finally:
            spoken.unlink(missing_ok=True)
