"""The tts stage: narration audio per shot. Its providers live with their vendors (offline.py,
openai.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from videoagent_dagster.domain.manifests import ProviderCall
from videoagent_dagster.media.verify import plain_wav, verify_speech
from videoagent_dagster.providers.chain import (
    Provider,
    Spending,
    StageResource,
    Usage,
    serve_request,
    verified,
)


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    language: str
    voice: str | None
    max_seconds: float  # the shot's length: speech should end inside its shot
    speed: float = 1.0  # > 1 asks the voice to speak faster (a line that ran over its shot, asked again)


@dataclass
class SpeechProvider(Provider):
    voices: ClassVar[tuple[str, ...]] = ()  # the voices it has, for characters' own lines

    def speak(self, request: SpeechRequest, out: Path) -> Usage:
        """Write audio (WAV) of request.text to `out`; return what it used."""
        raise NotImplementedError

    def default_voice(self, language: str) -> str:
        """The voice a request without one is spoken in."""
        return self.voices[0] if self.voices else ""

    def voices_for(self, language: str) -> tuple[str, ...]:
        return self.voices

    def character_voice(self, character: str, language: str, narrator: str | None) -> str | None:
        """A character's own voice: one of this provider's, not the narrator's, the same for the same
        character every time (None: the provider has one voice only)."""
        pool = [v for v in self.voices_for(language) if v != (narrator or self.default_voice(language))]
        if not pool:
            return None
        return pool[int(hashlib.sha256(character.encode()).hexdigest(), 16) % len(pool)]


class TTSResource(StageResource):
    """Speaks narration. `chain` is VIDEOAGENT_TTS; lines run `max_concurrency` at a time."""

    @classmethod
    def stage(cls) -> str:
        return "tts"

    max_concurrency: int = 4

    def generate(self, request: SpeechRequest, spend: Spending | None = None,
                 chain: str | None = None) -> tuple[str, ProviderCall]:
        """Speak one line with the chain (or `chain`, e.g. the one voice a task's narration keeps to)."""
        return serve_request(self.media_store, "tts", chain or self.chain, request, prompt_field="text", ext="wav",
                             settings=self.provider_settings(),
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
