"""Subtitle cues from narration lines: split and line-broken by measuring the text (kinsoku for
Chinese and Japanese), written by pysubs2 as SRT (sidecar) and styled ASS (burned in)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from videoagent_dagster.domain.language import is_cjk

SUBTITLE_FONT = "Noto Sans CJK SC"  # fontconfig family; has Latin and CJK glyphs


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


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


def _events(cues: list[Cue], text) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    subs.events = [pysubs2.SSAEvent(start=round(c.start * 1000), end=round(c.end * 1000), text=text(c))
                   for c in cues]
    return subs


def write_srt(cues: list[Cue], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # keep_ssa_tags: the text is the narration as written, not ASS markup to convert (a brace stays a brace).
    _events(cues, lambda c: c.text).save(str(out), format_="srt", keep_ssa_tags=True)


def _ass_text(text: str) -> str:
    # Backslashes and braces start ASS override codes; show them as look-alikes instead.
    return text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")").replace("\n", "\\N")


@dataclass(frozen=True)
class Layout:
    """Where and how big subtitles are drawn on a width x height picture."""

    width: int
    height: int
    font_size: int  # the ASS Fontsize: libass draws the em at about Fontsize / 1.45 for Noto Sans CJK
    margin_h: int
    margin_v: int
    max_lines: int = 2

    @property
    def line_width(self) -> float:
        return self.width - 2 * self.margin_h

    @property
    def em(self) -> int:
        return max(1, round(self.font_size / LIBASS_EM_RATIO))


LIBASS_EM_RATIO = 1.448  # Noto Sans CJK's ascender + descender, in ems: libass sizes that to Fontsize
# Characters that may not start a line (closing punctuation, small kana, prolonged sound mark) and
# ones that may not end one (opening brackets): the usual CJK line-breaking rules (kinsoku).
NO_LINE_START = set("、。，．,.！？!?；;：:）)]｝」』】〕〉》”’ー～…‥ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
NO_LINE_END = set("（([｛「『【〔〈《“‘")


def layout_for(width: int, height: int) -> Layout:
    """Subtitle size and safe margins by shape. Vertical video keeps clear of the bottom fifth and
    the right edge, where phone apps draw captions and buttons; square and wide keep title-safe margins."""
    size = max(12, round(min(width, height) * 0.062))
    if height > width * 1.2:  # 9:16
        return Layout(width, height, size, margin_h=round(width * 0.09), margin_v=round(height * 0.2))
    if height > width * 0.8:  # 1:1
        return Layout(width, height, size, margin_h=round(width * 0.07), margin_v=round(height * 0.08))
    return Layout(width, height, size, margin_h=round(width * 0.06), margin_v=round(height * 0.06))


def _measure(layout: Layout):
    from videoagent_dagster.media.frames import load_font

    font = load_font(layout.em, bold=True)
    return font.getlength


def wrap(text: str, layout: Layout) -> list[str]:
    """Lines that fit the layout's width in the subtitle font, measured glyph by glyph: broken at
    spaces, or for CJK between characters but never before closing punctuation or after an opening
    bracket. Two lines are balanced rather than a long line over a short one."""
    length = _measure(layout)
    limit = layout.line_width * 0.98  # a little slack for the outline
    if length(text) <= limit:
        return [text]
    lines_needed = max(1, math.ceil(length(text) / limit - 1e-9))
    target = length(text) / lines_needed  # balanced lines
    lines, rest = [], text
    while rest and length(rest) > limit:
        left = max(1, lines_needed - len(lines) - 1)  # lines the rest should fit in
        cut = _break_at(rest, length, target if len(lines) < lines_needed - 1 else limit, limit, left * limit)
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(rest)
    return lines


def _break_at(text: str, length, target: float, limit: float, rest_limit: float) -> int:
    """Where to end a line of `text`: the allowed break nearest `target` wide without passing
    `limit`, preferring breaks that leave a rest narrower than `rest_limit`."""
    allowed, fallback = [], None
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        if after == " " or before == " ":
            ok = before != " "  # break before a space (the space is dropped)
        else:
            ok = (is_cjk(before) or is_cjk(after) or before in NO_LINE_START) and after not in NO_LINE_START \
                and before not in NO_LINE_END
        if ok:
            w = length(text[:i])
            if w > limit:
                break
            # Prefer ends of clauses, then (in Japanese) where kana gives way to kanji or katakana,
            # which is usually after a particle, over the exact middle.
            bonus = 0.35 if before in NO_LINE_START else 0.15 if _kana(before) and not _kana(after) else 0.0
            fallback = i
            if length(text[i:].lstrip()) <= rest_limit:
                allowed.append((abs(w - target) - bonus * target, -i, i))
    if not allowed and fallback:
        return fallback
    if not allowed:  # one unbreakable run wider than the line: cut it where it fills the line
        i = 1
        while i < len(text) and length(text[:i + 1]) <= limit:
            i += 1
        return i
    return min(allowed)[2]


def _kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u309f"  # hiragana


def cues_for_lines(lines: list[tuple[str, float, float]], width: int, height: int) -> list[Cue]:
    """Subtitle cues for spoken lines (text, start, speech seconds), each cue short enough to fit in
    the layout's lines at this picture size."""
    layout = layout_for(width, height)
    cjk = is_cjk(" ".join(t for t, _, _ in lines))
    # Characters that fill the lines: an em per CJK character, about half an em per Latin one.
    per_line = layout.line_width / (layout.em * (1.0 if cjk else 0.52))
    cues = []
    for text, start, speech in lines:
        if not text:
            continue
        # Fewer characters a cue until every cue of the line wraps into the layout's lines.
        max_chars = max(8, int(per_line * layout.max_lines * 0.9))
        while True:
            line_cues = cues_for_line(text, start, max(speech, 0.5), max_chars)
            if max_chars <= 8 or all(len(wrap(c.text, layout)) <= layout.max_lines for c in line_cues):
                break
            max_chars = max(8, int(max_chars * 0.85))
        cues += line_cues
    return cues


def write_ass(cues: list[Cue], out: Path, width: int, height: int) -> None:
    """Styled subtitles: white on a dark outline, bottom centre, inside the shape's safe margins,
    with line breaks placed by measuring the text (WrapStyle 2: libass adds none of its own)."""
    lay = layout_for(width, height)
    outline = max(1, round(lay.font_size / 14))
    subs = _events(cues, lambda c: "\\N".join(_ass_text(line) for line in wrap(c.text, lay)))
    subs.info.update({"WrapStyle": "2", "ScaledBorderAndShadow": "yes", "PlayResX": str(width),
                      "PlayResY": str(height)})
    white = pysubs2.Color(255, 255, 255)
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname=SUBTITLE_FONT, fontsize=lay.font_size, primarycolor=white, secondarycolor=white,
        outlinecolor=pysubs2.Color(16, 16, 16), backcolor=pysubs2.Color(0, 0, 0, 0x80), bold=True,
        outline=outline, shadow=max(1, outline // 2), alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=lay.margin_h, marginr=lay.margin_h, marginv=lay.margin_v)
    out.parent.mkdir(parents=True, exist_ok=True)
    subs.save(str(out), format_="ass")
