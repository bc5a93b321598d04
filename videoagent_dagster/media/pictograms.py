"""Pictograms of what a shot is about, for the offline painter: the words of a shot's title and
description (English, Chinese or Japanese) matched to emoji by their Unicode short names (the
`emoji` package carries CLDR's names in each language) and a few common topic words, drawn with
Noto Color Emoji (Debian's fonts-noto-color-emoji) and composed by shot type: a close-up shows one
large, a wide shot several small along the horizon. Without the font, frames are painted as before."""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

EMOJI_FONT_FILES = ("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
                    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
                    "/System/Library/Fonts/Apple Color Emoji.ttc")
EMOJI_FONT_SIZE = 109  # the one size Noto Color Emoji's bitmaps come in
# Topic words with no emoji of their own name, and what shows them.
TOPIC_WORDS = {
    "wildlife": "🦁🐘🦒🦓", "safari": "🦁🦒🐘", "africa": "🌍🦁", "animals": "🐘🦁🐒", "animal": "🐘🦁",
    "ocean": "🌊🐋🐠", "sea": "🌊🐠", "marine": "🐠🐙🐋", "reef": "🐠🪸", "forest": "🌲🦌", "forests": "🌲🦌",
    "jungle": "🌴🐒", "desert": "🏜️🐪", "mountain": "⛰️", "mountains": "⛰️🏔️", "river": "🏞️", "city": "🏙️",
    "cities": "🏙️", "urban": "🏙️", "future": "🚀🤖", "space": "🚀🪐", "universe": "🌌🪐", "technology": "💻🤖",
    "ai": "🤖", "robotics": "🤖", "food": "🍲", "cooking": "🍳🥘", "cuisine": "🍜", "music": "🎵🎸", "sports": "⚽🏀",
    "football": "⚽", "history": "🏛️📜", "travel": "✈️🧳", "weather": "⛅", "climate": "🌍🌡️", "farm": "🚜🐄",
    "garden": "🌷🌿", "flowers": "🌸🌷", "spring": "🌸", "autumn": "🍁", "fall": "🍂", "winter": "❄️", "summer": "☀️",
    "night": "🌙", "dawn": "🌅", "sunrise": "🌅", "sunset": "🌇", "birds": "🐦🦅", "insects": "🐞🦋", "fish": "🐟",
    "harbour": "⚓🚢", "harbor": "⚓🚢", "port": "⚓🚢", "cranes": "🏗️", "crane": "🏗️", "lighthouse": "🗼🌊",
    "lighthouses": "🗼🌊", "coffee": "☕", "tea": "🍵", "science": "🔬", "medicine": "🩺", "school": "🏫", "learning": "📚", "money": "💰",
    "野生动物": "🦁🐘🦒", "非洲": "🌍🦁", "海洋": "🌊🐋", "森林": "🌲", "城市": "🏙️", "未来": "🚀🤖", "太空": "🚀🪐",
    "美食": "🍲", "音乐": "🎵", "秋天": "🍁", "春天": "🌸", "冬天": "❄️", "夏天": "☀️", "科技": "💻🤖",
    "野生動物": "🦁🐘🦒", "アフリカ": "🌍🦁", "海": "🌊", "森": "🌲", "都市": "🏙️", "未来都市": "🏙️🚀", "宇宙": "🚀🪐",
    "紅葉": "🍁", "秋": "🍁", "桜": "🌸", "料理": "🍲", "音楽": "🎵",
}
# Names that match too much ordinary text to stand for a subject.
_TOO_COMMON = {"up", "new", "free", "top", "end", "on", "back", "soon", "ok", "cool", "id", "sos", "vs", "a", "b",
               "o", "ab", "m", "p", "x", "one", "light", "shot", "first", "wide", "view", "whole", "part",
               "camera", "frame", "picture", "film", "framing", "bigger", "close", "medium", "last", "looking"}


def emoji_font_path() -> str | None:
    return next((f for f in EMOJI_FONT_FILES if Path(f).is_file()), None)


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """({English name words joined by spaces: emoji}, {Chinese or Japanese name: emoji}) for the
    emoji a font of Emoji 14 draws: fully qualified, no flags, skin tones or keycaps."""
    import emoji

    emoji.config.load_language(["zh", "ja"])
    english: dict[str, str] = {}
    cjk: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"] or data.get("E", 99) > 14 or len(char) > 2:
            continue
        name = data["en"].strip(":").lower()
        if name.startswith(("flag", "keycap")) or "skin_tone" in name or "button" in name:
            continue
        for alias in [name, *(a.strip(":").lower() for a in data.get("alias", ()))]:
            words = alias.replace("_", " ").replace("-", " ").strip()
            if words and words not in _TOO_COMMON:
                english.setdefault(words, char)
        for lang in ("zh", "ja"):
            local = data.get(lang, "").strip(":")
            if len(local) >= 2:
                cjk.setdefault(local, char)
    return english, cjk


def pictogram_names() -> None:
    """Read the emoji names now (a tenth of a second, once per process), e.g. ahead of a first call."""
    _names()


def _singular(word: str) -> list[str]:
    forms = [word]
    if word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def pictograms_for(text: str, limit: int = 5) -> list[str]:
    """Emoji for what `text` names, in the order it names them, at most `limit`."""
    english, cjk = _names()
    found: list[tuple[int, str]] = []
    low = text.lower()
    for m in re.finditer(r"[a-z][a-z']*", low):
        word = m.group(0)
        if word in TOPIC_WORDS:
            found += [(m.start(), c) for c in _chars(TOPIC_WORDS[word])]
            continue
        for form in _singular(word):
            if form in english:
                found.append((m.start(), english[form]))
                break
    for m in re.finditer(r"([a-z]+) ([a-z]+)", low):  # two-word names: "polar bear", "hot air"
        pair = f"{m.group(1)} {m.group(2)}"
        if pair in english:
            found.append((m.start(), english[pair]))
    if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", text):
        for word, chars in TOPIC_WORDS.items():
            for m in re.finditer(re.escape(word), text) if not word.isascii() else ():
                found += [(m.start(), c) for c in _chars(chars)]
        for name, char in cjk.items():
            at = text.find(name)
            if at >= 0:
                found.append((at, char))
    out: list[str] = []
    for _, char in sorted(found, key=lambda f: f[0]):
        if char not in out:
            out.append(char)
    return out[:limit]


def _chars(sequence: str) -> list[str]:
    """Emoji of a string, keeping a variation selector with the character before it."""
    out: list[str] = []
    for c in sequence:
        if c == "\ufe0f" and out:
            out[-1] += c
        else:
            out.append(c)
    return out


@lru_cache(maxsize=256)
def _glyph(char: str) -> Image.Image | None:
    path = emoji_font_path()
    if path is None:
        return None
    font = ImageFont.truetype(path, EMOJI_FONT_SIZE)
    canvas = Image.new("RGBA", (EMOJI_FONT_SIZE * 2, EMOJI_FONT_SIZE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((EMOJI_FONT_SIZE // 2, EMOJI_FONT_SIZE // 2), char, font=font, embedded_color=True)
    box = canvas.getbbox()
    return canvas.crop(box) if box else None


# By shot type: (how many, height as a share of the frame's, where their feet stand as a share of
# the height). Close shots fill the frame with one; wide ones show several at a distance.
LAYOUT = {"extreme_close_up": (1, 0.55, 0.84), "close_up": (1, 0.45, 0.8), "medium": (2, 0.3, 0.78),
          "over_the_shoulder": (2, 0.3, 0.78), "wide": (3, 0.2, 0.72), "establishing": (4, 0.14, 0.68),
          "aerial": (5, 0.1, 0.6)}


def compose(img: Image.Image, chars: list[str], shot_type: str, rng: random.Random) -> int:
    """Draw the pictograms into the painted scene (RGBA) by shot type; returns how many were drawn."""
    count, share, feet = LAYOUT.get(shot_type, LAYOUT["wide"])
    glyphs = [g for g in (_glyph(c) for c in chars[:count]) if g is not None]
    if not glyphs:
        return 0
    w, h = img.size
    slots = len(glyphs)
    for k, glyph in enumerate(glyphs):
        size = max(8, round(h * share * rng.uniform(0.9, 1.1)))
        scaled = glyph.resize((max(1, round(glyph.width * size / glyph.height)), size), Image.Resampling.LANCZOS)
        cx = w * (k + 1) / (slots + 1) + rng.uniform(-0.04, 0.04) * w
        bottom = h * feet + rng.uniform(-0.02, 0.02) * h
        # a soft shadow under it, so it stands in the scene rather than floats on it
        shadow = Image.new("RGBA", (scaled.width, max(2, scaled.height // 8)), (0, 0, 0, 0))
        ImageDraw.Draw(shadow).ellipse([0, 0, shadow.width - 1, shadow.height - 1], fill=(0, 0, 0, 90))
        img.alpha_composite(shadow, (round(cx - shadow.width / 2), round(bottom - shadow.height / 2)))
        img.alpha_composite(scaled, (round(cx - scaled.width / 2), round(bottom - scaled.height)))
    return len(glyphs)
