"""Which writing a text is in: the one definition of the CJK character classes and the language
guess every module uses (task slugs, style keywords, narration timing, subtitles, sentence joins)."""

from __future__ import annotations

import re

# Hiragana, katakana (without the middle dot ・, which Chinese text uses too), katakana extensions and
# half-width katakana: only Japanese writes these.
KANA = r"[\u3041-\u309f\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f]"
HAN = r"[\u3400-\u4dbf\u4e00-\u9fff]"  # Chinese characters (kanji in Japanese)
CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]"  # any kana or Chinese character
# Languages written without spaces between words, timed by characters rather than words.
CJK_LANGUAGES = ("zh", "ja")


def is_cjk(text: str) -> bool:
    """Whether `text` has any kana or Chinese characters."""
    return re.search(CJK, text) is not None


def has_kana(text: str) -> bool:
    """Whether `text` has kana: only Japanese writes them."""
    return re.search(KANA, text) is not None


def is_cjk_language(language: str) -> bool:
    """Chinese and Japanese: no spaces between words, timed by characters, sentences end in 。."""
    return language in CJK_LANGUAGES


def detect_language(text: str) -> str:
    """'ja' or 'zh' when CJK characters make up a fair share of the letters, else 'en'.

    Any kana makes it Japanese, kanji or not; Chinese characters without kana make it Chinese."""
    kana = len(re.findall(KANA, text))
    cjk = kana + len(re.findall(HAN, text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if not cjk or cjk * 3 < latin:
        return "en"
    return "ja" if kana else "zh"
