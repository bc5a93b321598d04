"""Content screening: a brief's free text (the topic, the voice name, …) checked before anything is
written or paid for. A word list per category and language (screening_words.json in the package;
VIDEOAGENT_SCREENING_WORDS adds a file of one's own) — and, optionally, a moderation vendor
(providers/moderation.py). A refusal names the field, the category and what matched."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from videoagent_dagster.domain.brief import Brief, BriefError

WORDS = Path(__file__).with_name("screening_words.json")
CATEGORIES = ("sexual_minors", "sexual_explicit", "violence_graphic", "hate", "self_harm", "weapons_illegal")


class ScreeningRefused(BriefError):
    """A brief refused by content screening: one (field, category, what matched) line per finding."""

    def __init__(self, problems: list[str], categories: list[str]):
        self.categories = categories
        super().__init__(problems)


@lru_cache(maxsize=4)
def word_lists(extra: str | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """category -> language -> words: the package's list, with a file of one's own laid over it
    (its words added to the package's for the same category and language; new categories allowed)."""
    lists = {c: {lang: tuple(ws) for lang, ws in by_lang.items()}
             for c, by_lang in json.loads(WORDS.read_text(encoding="utf-8")).items() if not c.startswith("_")}
    if extra:
        try:
            more = json.loads(Path(extra).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"VIDEOAGENT_SCREENING_WORDS={extra!r} could not be read as JSON: {e}") from e
        for category, by_lang in more.items():
            if category.startswith("_"):
                continue
            into = lists.setdefault(category, {})
            for lang, ws in by_lang.items():
                into[lang] = tuple(dict.fromkeys((*into.get(lang, ()), *ws)))
    return lists


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=4096)
def _pattern(word: str) -> re.Pattern:
    w = re.escape(_norm(word))
    # Latin words match whole (so "skill" is not "kill"); CJK phrases match anywhere (no spaces to mark words)
    return re.compile(w if re.search(r"[\u3040-\u30ff\u3400-\u9fff]", word) else rf"(?<![\w]){w}(?![\w])")


def screen(fields: dict[str, str], extra: str | None = None) -> list[tuple[str, str, str]]:
    """(field, category, matched word) for every listed word found in the fields' text, in every
    language's list (a topic in one language may carry words of another)."""
    found = []
    lists = word_lists(extra)
    for field, text in fields.items():
        if not text:
            continue
        norm = _norm(text)
        for category, by_lang in lists.items():
            for words in by_lang.values():
                hit = next((w for w in words if _pattern(w).search(norm)), None)
                if hit:
                    found.append((field, category, hit))
                    break
    return found


def refusal(found: list[tuple[str, str, str]], by: str = "the word list") -> ScreeningRefused:
    return ScreeningRefused(
        [f"{field}: refused by content screening ({by}): category {category}, matched {word!r}"
         for field, category, word in found], sorted({c for _, c, _ in found}))


def screened_fields(brief: Brief) -> dict[str, str]:
    """The brief's free text: what screening reads."""
    return {"topic": brief.topic, "options.voice": brief.options.voice or "", "options.music": brief.options.music or ""}


def screen_brief(brief: Brief, extra: str | None = None) -> None:
    """Refuse (ScreeningRefused) a brief whose free text a word list flags; return when none does."""
    found = screen(screened_fields(brief), extra)
    if found:
        raise refusal(found)
