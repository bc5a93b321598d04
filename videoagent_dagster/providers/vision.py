"""The vision stage: the quality checker that looks. A vision-capable model (openai.py,
anthropic.py) scores a frame 0-10 against its shot and the cast's reference images, with a reason.
`offline` does not look: frames are recorded as not judged, never as passed."""

from __future__ import annotations

from pathlib import Path

from videoagent_dagster.domain.manifests import FrameVerdict, ProviderCall
from videoagent_dagster.providers.chain import (
    ProviderError,
    Spending,
    StageResource,
    parse_chain,
)
from videoagent_dagster.providers.llm import ask_structured

NOT_JUDGED = "not judged: no vision provider in VIDEOAGENT_VISION"


class VisionResource(StageResource):
    """Judges first frames. `chain` is VIDEOAGENT_VISION (e.g. `openai:gpt-4.1-mini,offline`): a frame
    scoring under `threshold` is painted again with the critique, up to `candidates` frames a shot,
    and the best is kept."""

    threshold: float = 6.0
    candidates: int = 3

    @classmethod
    def stage(cls) -> str:
        return "vision"

    def looks(self) -> bool:
        """Whether any provider of the chain looks at all (offline does not)."""
        return any(p.name != "offline" for p in parse_chain("vision", self.chain, self.provider_settings()))

    def judge(self, question: str, frame: tuple[Path, str], references: list[tuple[str, Path, str]],
              spend: Spending | None = None) -> tuple[int | None, str, ProviderCall | None]:
        """(score 0-10 or None when not judged, the reason, the call) for the frame (path, sha256)
        against `question`, with the cast's reference images (name, path, sha256). When every vendor
        of a chain that ends in `offline` fails, the frame is not judged (and says why)."""
        providers = parse_chain("vision", self.chain, self.provider_settings())
        lookers = [p for p in providers if p.name != "offline"]
        if not lookers:
            return None, NOT_JUDGED, None
        images = [("the frame", frame[0])] + [(f"reference image of {name}", path) for name, path, _ in references]
        try:
            verdict, call = ask_structured(
                self.media_store, "vision", lookers, "frame verdict", FrameVerdict, question, {}, spend=spend,
                images=images, input_hashes=[frame[1], *(sha for _, _, sha in references)],
                what=f"judging {frame[0].name}")
        except ProviderError as e:
            if len(lookers) == len(providers):
                raise
            return None, f"not judged: {str(e)[:300]}", None
        return verdict.score, verdict.reason, call
