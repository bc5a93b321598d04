import pytest

from videoagent_dagster.domain.brief import (
    BriefError,
    clean_topic,
    detect_language,
    validate_brief,
)
from videoagent_dagster.tasks.operations import create_task


def test_defaults_and_language_detection():
    b = validate_brief({"topic": "  A documentary\x00 about\n wildlife   in Africa "}, "t-1")
    assert b.topic == "A documentary about wildlife in Africa"
    assert b.options.duration == 30 and b.options.resolution == "1080p" and b.options.aspect == "16:9"
    assert b.options.include_audio is True and b.language == "en" and b.options.language == "en"
    assert b.options.size() == (1920, 1080)
    assert validate_brief({"topic": "非洲的野生动物"}, "t").language == "zh"


@pytest.mark.parametrize("aspect,resolution,size", [
    ("16:9", "720p", (1280, 720)), ("9:16", "1080p", (1080, 1920)), ("1:1", "480p", (480, 480)),
    ("16:9", "480p", (854, 480)), ("16:9", "180p", (320, 180)),
])
def test_sizes(aspect, resolution, size):
    b = validate_brief({"topic": "x", "options": {"aspect": aspect, "resolution": resolution}}, "t")
    assert b.options.size() == size


def test_every_problem_names_field_value_and_allowed():
    with pytest.raises(BriefError) as e:
        validate_brief({"topic": "\t\n", "style": "polka", "colour": 1,
                        "options": {"duration": 601, "aspect": "4:3", "resolution": "8k", "fps": 60,
                                    "language": "fr", "include_audio": "maybe", "bogus": 1}}, "t")
    text = "\n".join(e.value.problems)
    for expected in ("topic: is blank", "style: 'polka' is not a known style; allowed: cinematic",
                     "colour: unknown field", "options.duration: 601", "5 to 600", "options.aspect: '4:3'",
                     "16:9, 9:16, 1:1", "options.resolution: '8k'", "options.fps: 60", "24, 25, 30",
                     "options.language: 'fr'", "options.include_audio: 'maybe'", "options.bogus: unknown option"):
        assert expected in text, expected


def test_topic_length_and_type():
    assert validate_brief({"topic": "x" * 2000}, "t")
    with pytest.raises(BriefError, match="2001 characters is too long"):
        validate_brief({"topic": "x" * 2001}, "t")
    with pytest.raises(BriefError, match="topic: 5 is not text"):
        validate_brief({"topic": 5}, "t")
    with pytest.raises(BriefError, match="expected a JSON object"):
        validate_brief(["topic"], "t")  # type: ignore[arg-type]


def test_unknown_style_maps_to_closest_with_warning():
    b = validate_brief({"topic": "x", "style": "Documentry"}, "t")
    assert b.style == "documentary" and "closest" in b.style_warning
    assert validate_brief({"topic": "x", "style": "sci-fi"}, "t").style == "scifi"
    assert validate_brief({"topic": "x", "style": "nature"}, "t").style_warning is None


def test_too_many_shots():
    with pytest.raises(BriefError, match="options.shots: 20 shots in 10 s"):
        validate_brief({"topic": "x", "options": {"duration": 10, "shots": 20}}, "t")


def test_control_characters_and_detection_helpers():
    assert clean_topic("a\u200bb\x07c\u2028d") == "a b c d"
    assert detect_language("Tokyo 东京 travel guide") == "en"
    assert detect_language("东京旅游指南 Tokyo") == "zh"


def test_japanese_is_a_language_and_kana_decides_it():
    b = validate_brief({"topic": "京都の古い寺についてのドキュメンタリー"}, "t")
    assert b.language == "ja" and b.options.language == "ja"
    assert validate_brief({"topic": "京都の寺", "options": {"language": "ja"}}, "t").language == "ja"
    assert validate_brief({"topic": "Kyoto temples", "options": {"language": "ja"}}, "t").language == "ja"
    # Kana make it Japanese, kanji or not; kanji without kana stay Chinese.
    assert detect_language("ジャングルの動物たち") == "ja"
    assert detect_language("ひらがなだけ") == "ja"
    assert detect_language("東京の夜景") == "ja"
    assert detect_language("東京夜景") == "zh"
    assert detect_language("非洲的野生动物") == "zh"
    # Mostly Latin stays English, as with Chinese.
    assert detect_language("A long English title about Tokyo nights, with one word: すし") == "en"
    assert detect_language("東京の旅 Tokyo") == "ja"


def test_language_errors_list_japanese():
    with pytest.raises(BriefError) as e:
        validate_brief({"topic": "x", "options": {"language": "ko"}}, "t")
    assert "options.language: 'ko' is not allowed; allowed: en, zh, ja" in e.value.problems[0]


def test_rejected_brief_writes_nothing(store, instance):
    with pytest.raises(BriefError):
        create_task({"topic": "", "options": {"duration": 1}}, store, instance)
    assert not store.base.exists() or not any(store.base.rglob("*"))
    assert instance.get_dynamic_partitions("video_tasks") == []
