"""The tts resource: narration audio per shot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ..media.speech import speak_within
from ..models import ProviderCall
from .media_store import MediaStore
from .providers import Provider, register, serve_request


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    language: str
    voice: str | None
    max_seconds: float  # the shot's length: speech should end inside its shot


@dataclass
class SpeechProvider(Provider):
    def speak(self, request: SpeechRequest, out: Path) -> float:
        """Write audio (WAV) of request.text to `out`; return its cost in USD."""
        raise NotImplementedError


@register("tts", "offline", "espeak-ng")
@dataclass
class OfflineVoice(SpeechProvider):
    def speak(self, request, out):
        speak_within(request.text, out, language=request.language, voice=request.voice, limit=request.max_seconds)
        return 0.0


class TTSResource(dg.ConfigurableResource):
    """Speaks narration. `chain` is VIDEOAGENT_TTS; lines run `max_concurrency` at a time."""

    chain: str = "offline"
    max_concurrency: int = 4

    def generate(self, store: MediaStore, request: SpeechRequest) -> tuple[str, ProviderCall]:
        return serve_request(store, "tts", self.chain, request, prompt_field="text", ext="wav",
                             produce=lambda p, out: p.speak(request, out), what="speaking a line")
