"""The style catalogue: the visual styles a brief may name, and how to pick one from a topic."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from videoagent_dagster.domain.language import has_kana

# How one shot gives way to the next. All but "cut" overlap the two shots for a moment.
CameraMovement = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                         "dolly", "tracking"]
CAMERA_MOVEMENTS: tuple[str, ...] = CameraMovement.__args__  # type: ignore[attr-defined]
Transition = Literal["cut", "crossfade", "fade_black", "slide", "wipe"]
TRANSITIONS: tuple[str, ...] = Transition.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Style:
    name: str
    tags: tuple[str, ...]
    visual_style: str
    mood: str
    palette: tuple[str, ...]  # background → accent, as hex colours
    camera_moves: tuple[str, ...]  # preferred moves, in the order the writer cycles them
    lighting: str
    keywords_en: tuple[str, ...]  # words in a topic that point to this style
    keywords_zh: tuple[str, ...]
    transition: Transition = "cut"  # between shots, unless the brief or a shot says otherwise


CATALOGUE: dict[str, Style] = {
    s.name: s
    for s in [
        Style("cinematic", ("dramatic", "widescreen", "epic"), "high-contrast cinematic frames with deep shadows",
              "dramatic", ("#0d1b2a", "#1b263b", "#415a77", "#e0a458", "#f4f1de"),
              ("dolly", "pan_right", "zoom_in", "tracking", "tilt_up", "static"), "low-key golden rim light",
              ("cinematic", "film", "movie", "epic", "drama", "dramatic", "hero", "trailer", "story"),
              ("电影", "史诗", "戏剧", "英雄", "大片"), transition="fade_black"),
        Style("documentary", ("factual", "observational", "informative"), "natural, observational framing",
              "informative", ("#2f3e46", "#354f52", "#52796f", "#84a98c", "#cad2c5"),
              ("pan_right", "static", "zoom_in", "tracking", "pan_left", "tilt_down"), "soft natural daylight",
              ("documentary", "history", "historical", "science", "explain", "explained", "facts",
               "investigation", "report", "how", "why", "wildlife", "culture", "education", "educational"),
              ("纪录", "历史", "科学", "科普", "解说", "文化", "调查", "教育"), transition="crossfade"),
        Style("animated", ("playful", "cartoon", "bright"), "flat cartoon shapes with bold outlines",
              "playful", ("#ffbe0b", "#fb5607", "#ff006e", "#8338ec", "#3a86ff"),
              ("zoom_in", "pan_left", "tilt_up", "zoom_out", "static", "pan_right"), "bright even light",
              ("animated", "animation", "cartoon", "kids", "children", "fun", "funny", "toy", "anime"),
              ("动画", "卡通", "儿童", "孩子", "有趣", "动漫"), transition="slide"),
        Style("minimalist", ("clean", "simple", "calm"), "clean geometric composition with negative space",
              "calm", ("#f8f9fa", "#e9ecef", "#adb5bd", "#495057", "#212529"),
              ("static", "zoom_in", "static", "pan_right", "zoom_out"), "flat soft light",
              ("minimal", "minimalist", "simple", "clean", "calm", "meditation", "design", "zen"),
              ("极简", "简约", "简单", "冥想", "设计", "禅"), transition="cut"),
        Style("vintage", ("retro", "nostalgic", "film grain"), "faded film stock with grain and vignette",
              "nostalgic", ("#3d2c2e", "#7f5539", "#b08968", "#ddb892", "#ede0d4"),
              ("static", "zoom_out", "pan_left", "tilt_down", "zoom_in"), "warm tungsten glow",
              ("vintage", "retro", "old", "nostalgia", "nostalgic", "classic", "1950s", "1960s", "1970s",
               "1980s", "memories", "grandparents"),
              ("复古", "怀旧", "老式", "经典", "回忆", "年代"), transition="fade_black"),
        Style("futuristic", ("sleek", "neon", "high-tech"), "sleek neon lines on dark glass",
              "awe", ("#03071e", "#240046", "#5a189a", "#00f5d4", "#f72585"),
              ("dolly", "tracking", "zoom_in", "tilt_up", "pan_right"), "cool neon glow",
              ("futuristic", "future", "cyberpunk", "neon", "technology", "tech", "ai", "robot", "robots",
               "smart", "digital", "innovation", "cityscape"),
              ("未来", "科技", "赛博", "霓虹", "人工智能", "机器人", "数字", "智能"), transition="wipe"),
        Style("nature", ("organic", "serene", "landscape"), "lush landscapes with layered hills and sky",
              "serene", ("#1b4332", "#2d6a4f", "#52b788", "#b7e4c7", "#fefae0"),
              ("pan_right", "tilt_up", "zoom_in", "pan_left", "static", "zoom_out"), "golden-hour sunlight",
              ("nature", "wildlife", "animal", "animals", "forest", "ocean", "sea", "mountain", "mountains",
               "river", "africa", "savanna", "safari", "jungle", "bird", "birds", "garden", "flowers",
               "landscape", "climate", "earth", "planet"),
              ("自然", "野生", "动物", "森林", "海洋", "大海", "山", "河", "非洲", "草原", "丛林", "鸟", "花",
               "风景", "气候", "地球"), transition="crossfade"),
        Style("urban", ("street", "gritty", "city life"), "street-level city geometry and lights",
              "energetic", ("#212529", "#343a40", "#6c757d", "#ffc300", "#e63946"),
              ("tracking", "pan_left", "static", "zoom_in", "tilt_up"), "mixed street light",
              ("urban", "city", "cities", "street", "streets", "downtown", "metro", "subway", "skyline",
               "architecture", "nightlife", "traffic"),
              ("城市", "都市", "街道", "街头", "地铁", "建筑", "夜生活", "交通"), transition="cut"),
        Style("commercial", ("polished", "product", "upbeat"), "polished product-style hero frames",
              "upbeat", ("#ffffff", "#f1faee", "#a8dadc", "#457b9d", "#1d3557"),
              ("zoom_in", "dolly", "static", "pan_right", "zoom_out"), "bright studio key light",
              ("product", "brand", "commercial", "advert", "advertisement", "ad", "launch", "sale", "startup",
               "business", "company", "app", "marketing", "promo"),
              ("产品", "品牌", "广告", "商业", "发布", "营销", "公司", "创业"), transition="slide"),
        Style("artistic", ("expressive", "painterly", "abstract"), "painterly textures and expressive colour",
              "contemplative", ("#22223b", "#4a4e69", "#9a8c98", "#c9ada7", "#f2e9e4"),
              ("zoom_out", "static", "pan_left", "tilt_up", "dolly"), "diffuse painterly light",
              ("art", "artistic", "painting", "poetry", "poem", "music", "abstract", "dream", "dreams",
               "emotion", "love"),
              ("艺术", "绘画", "诗", "音乐", "抽象", "梦", "情感", "爱"), transition="crossfade"),
        Style("scifi", ("space", "otherworldly", "cosmic"), "deep space vistas with planets and stars",
              "wonder", ("#000814", "#001d3d", "#003566", "#ffc300", "#ffd60a"),
              ("zoom_in", "dolly", "pan_right", "tilt_up", "static"), "starlight and rim glow",
              ("sci-fi", "scifi", "space", "galaxy", "planet", "planets", "alien", "aliens", "mars", "moon",
               "astronaut", "universe", "cosmos", "rocket", "spaceship"),
              ("科幻", "太空", "宇宙", "星球", "外星", "火星", "月球", "宇航员", "火箭", "银河"), transition="fade_black"),
        Style("fantasy", ("magical", "mythic", "enchanted"), "enchanted lands with glowing light",
              "magical", ("#10002b", "#3c096c", "#7b2cbf", "#c77dff", "#ffd6ff"),
              ("tilt_up", "zoom_in", "pan_right", "dolly", "zoom_out"), "glowing magical light",
              ("fantasy", "magic", "magical", "dragon", "dragons", "wizard", "castle", "myth", "legend",
               "fairy", "kingdom", "quest"),
              ("奇幻", "魔法", "龙", "巫师", "城堡", "神话", "传说", "仙", "王国"), transition="crossfade"),
    ]
}

# Japanese words in a topic that point to each style, matched like keywords_zh (Chinese keywords in
# kanji, such as 自然 or 宇宙, already match Japanese topics and are not repeated here).
KEYWORDS_JA: dict[str, tuple[str, ...]] = {
    "cinematic": ("シネマティック", "壮大", "ドラマチック", "英雄"),
    "documentary": ("ドキュメンタリー", "歴史", "解説", "調査", "記録"),
    "animated": ("アニメ", "漫画", "マンガ", "子ども", "子供"),
    "minimalist": ("ミニマル", "シンプル", "瞑想", "デザイン"),
    "vintage": ("レトロ", "懐かしい", "昭和", "ノスタルジー", "思い出"),
    "futuristic": ("サイバーパンク", "ネオン", "テクノロジー", "ロボット", "デジタル", "人工知能"),
    "nature": ("動物", "森", "川", "鳥", "桜", "紅葉", "風景", "気候", "海辺"),
    "urban": ("都会", "街", "地下鉄", "建築", "夜景"),
    "commercial": ("製品", "ブランド", "広告", "商品", "宣伝", "マーケティング"),
    "artistic": ("芸術", "アート", "絵画", "音楽", "夢", "感情"),
    "scifi": ("惑星", "銀河", "宇宙人", "ロケット", "エイリアン"),
    "fantasy": ("ファンタジー", "ドラゴン", "神話", "伝説", "妖精"),
}

STYLE_NAMES: tuple[str, ...] = tuple(CATALOGUE)
StyleName = Literal[STYLE_NAMES]  # type: ignore[valid-type] - a style the catalogue has
FALLBACK_STYLE = "documentary"


def closest_style(name: str) -> str | None:
    """The catalogue name nearest to a user's spelling, or None when nothing is near."""
    key = re.sub(r"[^a-z]", "", name.strip().lower())
    aliases = {"sciencefiction": "scifi", "cartoon": "animated", "film": "cinematic", "retro": "vintage",
               "minimal": "minimalist", "art": "artistic", "city": "urban", "ad": "commercial"}
    if key in CATALOGUE:
        return key
    if key in aliases:
        return aliases[key]
    match = difflib.get_close_matches(key, STYLE_NAMES, n=1, cutoff=0.6)
    return match[0] if match else None


def detect_style(topic: str) -> tuple[str, str, dict[str, int]]:
    """Pick a catalogue style from what the topic says.

    Returns (style name, reasoning, score per style). Scoring counts keyword hits; ties go to
    the style listed first for that keyword set, which makes the choice deterministic.
    """
    text = topic.lower()
    words = set(re.findall(r"[a-z0-9][a-z0-9\-]*", text))
    scores: dict[str, int] = {}
    hits: dict[str, list[str]] = {}
    japanese = has_kana(topic)
    for style in CATALOGUE.values():
        found = [k for k in style.keywords_en if k in words]
        found += [k for k in style.keywords_zh if k in topic]
        if japanese:  # single kanji such as 森 or 街 would also match Chinese topics
            found += [k for k in KEYWORDS_JA.get(style.name, ()) if k in topic]
        if found:
            # An explicit style word ("documentary", "cinematic") outweighs a subject word.
            scores[style.name] = sum(3 if k == style.name or k in _GENRE_WORDS else 1 for k in found)
            hits[style.name] = found
    if not scores:
        return FALLBACK_STYLE, (
            f"No style words found in the topic; using the general-purpose '{FALLBACK_STYLE}' style."
        ), scores
    best = max(scores, key=lambda n: (scores[n], -STYLE_NAMES.index(n)))
    reason = f"The topic mentions {', '.join(repr(h) for h in hits[best])}, which point to the '{best}' style"
    others = sorted((n for n in scores if n != best), key=lambda n: -scores[n])
    if others:
        reason += f" (also considered: {', '.join(others)})"
    return best, reason + ".", scores


_GENRE_WORDS = {"documentary", "cinematic", "animated", "animation", "cartoon", "minimalist", "vintage", "retro",
                "futuristic", "sci-fi", "scifi", "fantasy", "commercial", "纪录", "电影", "动画", "卡通", "极简",
                "复古", "未来", "科幻", "奇幻", "广告",
                "ドキュメンタリー", "シネマティック", "アニメ", "ミニマル", "レトロ", "ファンタジー", "広告"}
