"""The offline providers of every stage: no network, the same output for the same request. The
default chains, and every chain's last resort."""

from __future__ import annotations

import json
from dataclasses import dataclass

from videoagent_dagster.domain.prompts import offline_writer
from videoagent_dagster.media.frames import reference_card, render_frame
from videoagent_dagster.media.motion import (
    INTERMEDIATE_CRF,
    INTERMEDIATE_PRESET,
    animate,
)
from videoagent_dagster.media.quality import animate_and_inspect
from videoagent_dagster.media.speech import VOICES, speak_within
from videoagent_dagster.providers.chain import register
from videoagent_dagster.providers.images import ImageProvider
from videoagent_dagster.providers.llm import LLMProvider
from videoagent_dagster.providers.speech import SpeechProvider
from videoagent_dagster.providers.video import VideoProvider


@register("llm", "offline", "template-writer-1")
@dataclass
class OfflineWriter(LLMProvider):
    """A deterministic template writer."""

    def complete(self, stage, schema, prompt, inputs, conversation):
        writers = {"style": offline_writer.write_style, "script": offline_writer.write_script,
                   "cast": offline_writer.write_cast, "storyboard": offline_writer.write_storyboard}
        if stage not in writers:
            raise ValueError(f"the offline writer cannot write {stage!r}")
        return json.dumps(writers[stage](inputs), ensure_ascii=False), {}


@register("vision", "offline", "none")
@dataclass
class OfflineEyes(LLMProvider):
    """Does not look: with it alone, frames are recorded as not judged (providers.vision)."""


@register("image", "offline", "pillow-storyboard-1")
@dataclass
class OfflinePainter(ImageProvider):
    sdk_modules = ("emoji",)  # (warm_up) the emoji names in three languages, read while earlier stages run

    def prepare(self):
        from videoagent_dagster.media.pictograms import pictogram_names

        pictogram_names()

    def render(self, request, out):
        if request.purpose == "reference":
            # (a card: it paints no likeness, so the frames it paints do not read the references)
            reference_card(out, request.width, request.height, name=request.title, kind=request.label,
                           description=request.subject, colours=list(request.palette), seed=request.seed)
            return {}
        render_frame(out, request.width, request.height, style=request.style, palette=list(request.palette),
                     shot_type=request.shot_type, title=request.title, label=request.label, seed=request.seed,
                     subject=request.subject)
        return {}


@register("tts", "offline", "espeak-ng")
@dataclass
class OfflineVoice(SpeechProvider):
    # espeak-ng's variants of the language's voice (a character speaks as `cmn+f3`, say)
    VARIANTS = ("", "+m1", "+f2", "+m3", "+f4", "+m7", "+f1")

    def default_voice(self, language):
        return VOICES.get(language, "en-us")

    def voices_for(self, language):
        return tuple(self.default_voice(language) + v for v in self.VARIANTS)

    def speak(self, request, out):
        speak_within(request.text, out, language=request.language, voice=request.voice,
                     limit=request.max_seconds, speed=request.speed)
        return {}


@register("video", "offline", "ffmpeg-camera-1")
@dataclass
class OfflineCamera(VideoProvider):
    preset: str = "veryfast"

    def animate(self, request, frame, out, book=None):
        animate(frame, out, move=request.camera_movement, **self._how(request))
        return {}

    def animate_and_inspect(self, request, frame, out, book=None):
        # One ffmpeg pass makes the clip and looks at it: the clip is not decoded again to be inspected.
        return {}, animate_and_inspect(frame, out, request.camera_movement, **self._how(request))

    def _how(self, request) -> dict:
        encoding = ({"preset": INTERMEDIATE_PRESET, "crf": INTERMEDIATE_CRF} if request.reencoded
                    else {"preset": self.preset})
        return {"frames": request.frames, "fps": request.fps, "width": request.width, "height": request.height,
                **encoding}
