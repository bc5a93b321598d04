"""The offline writer: a deterministic script and storyboard from the topic's own words.

It fills the same schemas a real LLM fills (models.Script, models.StoryboardDraft), in the
topic's language, following the style, and plans about one shot per 5-8 seconds whose
durations add up exactly (in whole frames) to the requested length.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from videoagent_dagster.domain.language import is_cjk, is_cjk_language
from videoagent_dagster.domain.plan_rules import (
    CHARS_PER_SECOND,
    WORDS_PER_SECOND,
    plan_shots,
    speaking_seconds,
)
from videoagent_dagster.domain.prompts import phrases


def group_scenes(n_shots: int) -> list[list[int]]:
    """Consecutive shots per scene: at least three scenes where there are shots enough, at most two shots each."""
    n_scenes = max(1, min(n_shots, max(3, math.ceil(n_shots / 2))))
    base, extra = divmod(n_shots, n_scenes)
    groups, start = [], 0
    for s in range(n_scenes):
        size = base + (1 if s < extra else 0)
        groups.append(list(range(start, start + size)))
        start += size
    return groups


def subject_of(topic: str, language: str) -> str:
    """The topic without its framing: 'A documentary about wildlife in Africa' → 'wildlife in Africa'."""
    text = topic.strip().rstrip("。.!！?？")
    if language == "ja":
        return _japanese_subject(text) or topic.strip()
    if language == "zh":
        text = re.sub(r"^(请|帮我)?(制作|做|拍)?(一[部个段支条])?(关于)?", "", text)
        text = re.sub(r"(的)?(纪录片|视频|短片|影片|故事|动画|广告|宣传片)$", "", text)
        text = re.sub(r"^关于", "", text)
        return text.strip() or topic.strip()
    pattern = (r"^(?:(?:a|an|the|short|long|\d+[- ]second|cinematic|animated|vintage|futuristic|minimalist|"
               r"documentary|commercial|artistic|fantasy|sci-fi|scifi|nature|urban|epic|quick|brief)\s+)*"
               r"(?:documentary|video|film|story|clip|explainer|ad|advert|animation|short|movie|tour|piece)?"
               r"\s*(?:about|on|of|showing|exploring|featuring|for)\s+")
    stripped = re.sub(pattern, "", text, flags=re.IGNORECASE).strip()
    return stripped or text


# Japanese framings around a subject: a request ("…を作ってください"), the kind of video
# ("ドキュメンタリー", "動画", with an optional "短い"/"30秒の" before it), and what links the subject to it
# ("についての", "に関する", "の"). "京都の古い寺についてのドキュメンタリー" → "京都の古い寺".
_JA_REQUEST = r"(?:を|の)?(?:作って|作成して|制作して|撮って|作る|作成する|制作する)(?:ください|下さい|ほしい|欲しい)?$"
_JA_KIND = (r"(?:(?:短い|短めの|長い|\d+\s*(?:秒|分)の?|美しい|シネマティックな|映画のような)\s*)*"
            r"(?:ドキュメンタリー|ドキュメンタリー映像|ドキュメンタリー番組|紹介動画|解説動画|ショート動画|動画|映像|ビデオ|"
            r"短編|ショートフィルム|映画|物語|ストーリー|アニメーション|アニメ|広告|紀行|番組)$")
_JA_LINK = r"(?:についての|について|に関する|をめぐる|を巡る|をテーマにした|をテーマとした|を紹介する|を描いた|を描く|の)$"
_JA_LEAD = r"^(?:(?:短い|短めの|\d+\s*(?:秒|分)の)\s*)?(?:ドキュメンタリー|動画|映像)\s*[:：]\s*"


def _japanese_subject(text: str) -> str:
    text = re.sub(_JA_REQUEST, "", text).strip()
    text = re.sub(_JA_LEAD, "", text)
    text, framed = re.subn(_JA_KIND, "", text)
    text = re.sub(_JA_LINK if framed else r"について$", "", text.strip())
    return text.strip()


# Japanese particles that end a content word: after kanji, katakana or Latin; after hiragana only の, と
# and や, and only before kanji or katakana ("ひとびとの暮らし" splits, "ひとびと" and "きのこ" do not).
_JA_SPLIT = (r"(?<=[^\u3041-\u309f\s])(?:における|について|に関する|での|との|への|からの|までの|から|まで|の|と|や|は|が|を|に|で|へ)"
             r"|(?<=[\u3041-\u309f])[のとや](?=[\u3400-\u4dbf\u4e00-\u9fff\u30a1-\u30ff])"
             r"|[、，,・\s]+")


def keywords_of(subject: str, language: str) -> list[str]:
    """Content words of the subject, in order, without repeats."""
    if language == "ja":
        parts = [p.strip() for p in re.split(_JA_SPLIT, subject)]
        # A single kanji or katakana is a word (寺, 山); a lone hiragana left over is not.
        parts = [p for p in parts if len(p) >= 2 or re.fullmatch(r"[\u3400-\u4dbf\u4e00-\u9fff\u30a1-\u30ff]", p)]
        return list(dict.fromkeys(parts)) or [subject]
    if language == "zh":
        parts = [p for p in re.split(r"[的和与及、，,\s]+", subject) if len(p) >= 2]
        return list(dict.fromkeys(parts)) or [subject]
    words = re.findall(r"[A-Za-z][A-Za-z'\-]*|\d+", subject)
    content = [w for w in words if w.lower() not in phrases.EN_STOPWORDS and len(w) > 2]
    return list(dict.fromkeys(content)) or [subject]


def _seed(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


def _fit(options: list[str], budget: float, language: str) -> str:
    """The longest option that can be spoken within the budget (seconds), else the shortest."""
    def cost(s: str) -> float:
        return speaking_seconds(s, language)
    fitting = [o for o in options if cost(o) <= budget]
    if fitting:
        return max(fitting, key=cost)
    # Nothing fits (a long topic in a short shot): cut the shortest option to the budget.
    shortest = min(options, key=cost).rstrip("。.")
    if is_cjk_language(language):
        return shortest[:max(2, int(budget * CHARS_PER_SECOND[language]))].rstrip("、，") + "。"
    return " ".join(shortest.split()[:max(2, int(budget * WORDS_PER_SECOND["en"]))]).rstrip(",;:") + "."


def write_style(inputs: dict[str, Any]) -> dict[str, Any]:
    """The offline style agent: the keyword detector, answering in the style agent's schema."""
    from videoagent_dagster.domain.styles import CATALOGUE, detect_style

    name, reasoning, scores = detect_style(inputs["topic"])
    return {"style": name, "reasoning": reasoning, "characteristics": list(CATALOGUE[name].tags)}


def write_script(inputs: dict[str, Any]) -> dict[str, Any]:
    topic, language = inputs["topic"], inputs["language"]
    style = inputs["style"]
    fps = inputs["fps"]
    frames = inputs.get("frames") or plan_shots(inputs["duration"], fps, inputs.get("shots"))
    groups = group_scenes(len(frames))
    subject = subject_of(topic, language)
    keys = keywords_of(subject, language)
    lang = phrases.LANG[language]
    fill = _filler(subject, keys, style, lang)
    scenes = []
    for s, shot_ids in enumerate(groups):
        beat = phrases.beat_for(s, len(groups))
        lines = []
        for k, i in enumerate(shot_ids):
            budget = frames[i] / fps * 0.85
            variants = lang["narration"][beat][(k + s // 5) % len(lang["narration"][beat])]
            lines.append(_fit([fill(v, i) for v in variants], budget, language))
        joiner = "" if is_cjk_language(language) else " "
        scenes.append({
            "title": fill(lang["titles"][beat], s),
            "description": fill(lang["scene_descriptions"][beat], s),
            "narration": joiner.join(lines),
            "duration": round(sum(frames[i] for i in shot_ids) / fps, 3),
            "visual_notes": fill(lang["visual_notes"], s),
            "audio_notes": lang["audio_notes"],
        })
    title = fill(lang["video_title"], 0)
    synopsis = fill(lang["synopsis"], 0)
    joiner = "\n\n" if language == "en" else "\n"
    return {"title": title, "synopsis": synopsis, "text": joiner.join(sc["narration"] for sc in scenes),
            "scenes": scenes}


def write_cast(inputs: dict[str, Any]) -> dict[str, Any]:
    """The topic's content words as the recurring cast (up to three): a proper name in an English
    topic is a place, the first other word the lead, the rest props; each in the style's colours."""
    topic, language, style = inputs["topic"], inputs["language"], inputs["style"]
    subject = subject_of(topic, language)
    keys = keywords_of(subject, language)[:3]
    lang = phrases.LANG[language]
    members, used = [], set()
    for i, word in enumerate(keys):
        place = language == "en" and word[:1].isupper() and not subject.startswith(word)
        kind = "place" if place else "character" if not any(m["kind"] == "character" for m in members) else "prop"
        slug = re.sub(r"[^a-z0-9]+", "_", word.lower()).strip("_")[:32] or f"member_{i + 1}"
        slug = slug if slug not in used else f"{slug}_{i + 1}"
        used.add(slug)
        palette = list(style["palette"])
        colours = [palette[(i + k) % len(palette)] for k in range(min(3, len(palette)))]
        members.append({"id": slug, "kind": kind, "name": word,
                        "description": lang["cast_description"][kind].format(
                            name=word, visual=lang["visual_styles"].get(style["name"], style["visual_style"]),
                            colours=", ".join(colours)),
                        "colours": colours})
    return {"members": members}


def cast_of_shot(beat: str, i: int, cast: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """Who an offline shot shows: the whole cast in the opening and closing views of the whole
    subject; in between, the member its content word names (as _filler's {kw} and {kw2} pick them)."""
    if beat in ("opening", "closing"):
        return [m["id"] for m in cast]
    word = keys[(i + (beat == "life")) % len(keys)]
    return [m["id"] for m in cast if m["name"] == word]


def write_storyboard(inputs: dict[str, Any]) -> dict[str, Any]:
    script, style, language, fps = inputs["script"], inputs["style"], inputs["language"], inputs["fps"]
    frames = inputs.get("frames") or plan_shots(inputs["duration"], fps, inputs.get("shots"))
    groups = group_scenes(len(frames))
    lang = phrases.LANG[language]
    subject = subject_of(inputs["topic"], language)
    keys = keywords_of(subject, language)
    fill = _filler(subject, keys, style, lang)
    moves = style["camera_moves"]
    offset = _seed(inputs["topic"]) % len(moves)
    shots = []
    for s, shot_ids in enumerate(groups):
        scene = script["scenes"][min(s, len(script["scenes"]) - 1)]
        lines = split_sentences(scene["narration"], len(shot_ids))
        beat = phrases.beat_for(s, len(groups))
        for k, i in enumerate(shot_ids):
            shot_type = phrases.shot_type_for(i, len(frames))
            move = moves[(i + offset) % len(moves)]
            if i > 0 and move == shots[-1]["camera_movement"]:
                move = moves[(i + offset + 1) % len(moves)]
            shot_title = scene["title"] if k == 0 else fill(lang["detail_titles"][i % len(lang["detail_titles"])], i)
            shots.append({
                "scene": s,
                "title": shot_title,
                "description": fill(lang["shot_description"], i, shot_type=lang["shot_types"][shot_type],
                                    beat_visual=fill(lang["beat_visuals"][beat], i, cap=False)),
                "narration": lines[k],
                "camera_movement": move,
                "shot_type": shot_type,
                "duration": round(frames[i] / fps, 6),
                "composition": lang["compositions"][shot_type],
                "lighting": style["lighting"],
                "palette": list(style["palette"]),
                "cast": cast_of_shot(beat, i, inputs.get("cast", []), keys),
            })
    return {"shots": shots}


def split_sentences(text: str, n: int) -> list[str]:
    """Split narration into n consecutive parts at sentence ends (empty parts if it has fewer)."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?。！？])\s*", text) if s.strip()]
    if len(sentences) <= n:
        return sentences + [""] * (n - len(sentences))
    per = math.ceil(len(sentences) / n)
    joiner = "" if is_cjk(text) else " "
    return [joiner.join(sentences[i * per:(i + 1) * per]) for i in range(n)]


# Words spelt with a vowel but said with a consonant (a unique, a one-off, a European), and the
# reverse (an hour, an honest).
_CONSONANT_SOUND = re.compile(r"(?i)^(uni|us[eu]|ut[ei]|ur[ae]|eu|ewe|one\b|once\b)")
_VOWEL_SOUND = re.compile(r"(?i)^(hour|honest|honou?r|heir)")


def article(word: str) -> str:
    """'a' or 'an' before an English word, by its first sound (an informative…, a documentary…)."""
    vowel = word[:1].lower() in "aeiou" and not _CONSONANT_SOUND.match(word) or bool(_VOWEL_SOUND.match(word))
    return "an" if vowel else "a"


def _filler(subject: str, keys: list[str], style: dict[str, Any], lang: dict[str, Any]):
    def fill(template: str, i: int, cap: bool = True, **extra: str) -> str:
        kw = keys[i % len(keys)]
        kw2 = keys[(i + 1) % len(keys)]
        values = dict(subject=subject, Subject=subject[:1].upper() + subject[1:], kw=kw, kw2=kw2,
                      mood=lang["moods"].get(style["mood"], style["mood"]),
                      visual=lang["visual_styles"].get(style["name"], style["visual_style"]),
                      lighting=style["lighting"], **extra)
        if lang is phrases.EN:  # "a {mood}" is "an informative", "a documentary": by the word put in
            template = re.sub(r"\b([Aa])n? (?=\{(\w+)\})", lambda m: (
                m.group(1) + article(str(values.get(m.group(2), "x")))[1:] + " "), template)
        text = template.format(**values)
        return text[:1].upper() + text[1:] if cap and lang is phrases.EN else text
    return fill
