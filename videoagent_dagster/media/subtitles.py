"""Subtitle cues from narration lines, written as SRT (sidecar) and styled ASS (burned in)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SUBTITLE_FONT = "Noto Sans CJK SC"  # fontconfig family; has Latin and CJK glyphs


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def is_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]", text))


def split_text(text: str, max_chars: int) -> list[str]:
    """Split at sentence ends, then commas, then spaces (or anywhere, for CJK) into short chunks.

    Pieces of one sentence are merged back while they fit; whole sentences are merged only with
    whole sentences, so no cue ends in the middle of the next sentence's first words.
    """
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return [text] if text else []
    sentences = [p for p in re.split(r"(?<=[.!?。！？；;])\s*", text) if p]
    chunks: list[tuple[str, bool]] = []  # (chunk, is a whole sentence)
    for sentence in sentences:
        if len(sentence) <= max_chars:
            chunks.append((sentence, True))
            continue
        pieces: list[str] = []
        for piece in [p for p in re.split(r"(?<=[,，、:：])\s*", sentence) if p]:
            while len(piece) > max_chars:
                cut = piece.rfind(" ", 0, max_chars + 1)
                if cut <= max_chars // 3:  # CJK or one long word: cut at the width
                    cut = max_chars
                pieces.append(piece[:cut].strip())
                piece = piece[cut:].strip()
            if piece:
                pieces.append(piece)
        chunks.extend((p, False) for p in _merge(pieces, max_chars))
    merged: list[tuple[str, bool]] = []
    for c, whole in chunks:
        if merged and whole and merged[-1][1] and len(merged[-1][0]) + 1 + len(c) <= max_chars:
            merged[-1] = (merged[-1][0] + _joiner(c) + c, True)
        else:
            merged.append((c, whole))
    return [c for c, _ in merged]


def _joiner(text: str) -> str:
    return "" if is_cjk(text) else " "


def _merge(pieces: list[str], max_chars: int) -> list[str]:
    out: list[str] = []
    for p in pieces:
        if out and len(out[-1]) + 1 + len(p) <= max_chars:
            out[-1] = out[-1] + _joiner(p) + p
        else:
            out.append(p)
    return out


def cues_for_line(text: str, start: float, speech: float, max_chars: int) -> list[Cue]:
    """Cues for one spoken line, each on screen for a share of the speech proportional to its length."""
    chunks = split_text(text, max_chars)
    total = sum(len(c) for c in chunks) or 1
    cues, t = [], start
    for c in chunks:
        d = speech * len(c) / total
        cues.append(Cue(round(t, 3), round(t + max(d, 0.1), 3), c))
        t += d
    return cues


def _stamp(t: float, sep: str, places: int) -> str:
    total_ms = round(t * 1000)
    h, rem = divmod(total_ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    frac = f"{ms:03d}"[:places]
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{frac}" if places == 3 else f"{h:d}:{m:02d}:{s:02d}{sep}{frac}"


def write_srt(cues: list[Cue], out: Path) -> None:
    blocks = [f"{i}\n{_stamp(c.start, ',', 3)} --> {_stamp(c.end, ',', 3)}\n{c.text}\n" for i, c in enumerate(cues, 1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(blocks), encoding="utf-8")


def _ass_text(text: str) -> str:
    # Backslashes and braces start ASS override codes; show them as look-alikes instead.
    return text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")").replace("\n", "\\N")


def write_ass(cues: list[Cue], out: Path, width: int, height: int) -> None:
    """Styled subtitles: white on a dark outline, bottom centre, margins safe for any aspect."""
    size = max(12, round(min(width, height) * 0.062))
    margin_v = round(height * 0.06)
    margin_h = round(width * 0.06)
    outline = max(1, round(size / 14))
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{SUBTITLE_FONT},{size},&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,-1,0,0,0,100,100,0,0,1,"
        f"{outline},{max(1, outline // 2)},2,{margin_h},{margin_h},{margin_v},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    lines = [f"Dialogue: 0,{_stamp(c.start, '.', 2)},{_stamp(c.end, '.', 2)},Default,,0,0,0,,{_ass_text(c.text)}"
             for c in cues]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
