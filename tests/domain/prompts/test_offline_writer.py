import re
from dataclasses import asdict

import pytest

from videoagent_dagster.domain.manifests import Script, StoryboardDraft
from videoagent_dagster.domain.prompts.offline_writer import (
    CHARS_PER_SECOND,
    group_scenes,
    keywords_of,
    plan_shots,
    subject_of,
    write_script,
    write_storyboard,
)
from videoagent_dagster.domain.styles import CATALOGUE


def inputs(topic, language="en", style="documentary", duration=30.0, fps=24, shots=None):
    return {"topic": topic, "language": language, "style": asdict(CATALOGUE[style]), "duration": duration,
            "fps": fps, "shots": shots}


@pytest.mark.parametrize("duration", [5, 6, 30, 61, 300, 600])
def test_shot_plan_adds_up_exactly_and_is_five_to_eight_seconds_a_shot(duration):
    frames = plan_shots(duration, 24, None)
    assert sum(frames) == duration * 24
    if duration >= 10:
        assert all(5 * 24 <= f <= 8 * 24 for f in frames)


def test_scenes_cover_every_shot_once():
    for n in range(1, 40):
        groups = group_scenes(n)
        assert [i for g in groups for i in g] == list(range(n))
        assert max(len(g) for g in groups) <= 2


def test_subject_and_keywords_come_from_the_topic():
    assert subject_of("A documentary about wildlife in Africa", "en") == "wildlife in Africa"
    assert keywords_of("wildlife in Africa", "en") == ["wildlife", "Africa"]
    assert subject_of("关于非洲野生动物的纪录片", "zh") == "非洲野生动物"


def test_script_and_storyboard_validate_and_use_the_topic():
    inp = inputs("A documentary about wildlife in Africa")
    script = Script.model_validate(write_script(inp))
    board = StoryboardDraft.model_validate(write_storyboard({**inp, "script": script.model_dump()}))
    assert "Africa" in script.title and "Africa" in script.text
    assert len(board.shots) == 5
    assert abs(sum(s.duration for s in board.shots) - 30) < 1e-6
    assert len({s.camera_movement for s in board.shots}) >= 4
    assert len({s.shot_type for s in board.shots}) >= 3
    assert board.shots[0].shot_type == "establishing"
    assert all(s.narration for s in board.shots)
    assert len({s.narration for s in board.shots}) == 5
    # The same brief writes the same script.
    assert write_script(inp) == write_script(inp)


def test_chinese_narration_is_chinese():
    inp = inputs("非洲草原上的野生动物", language="zh", style="nature")
    script = Script.model_validate(write_script(inp))
    board = StoryboardDraft.model_validate(write_storyboard({**inp, "script": script.model_dump()}))
    for shot in board.shots:
        assert any("\u4e00" <= c <= "\u9fff" for c in shot.narration)
    assert "非洲草原上的野生动物" in script.text


def test_narration_fits_short_shots():
    inp = inputs("The life of the honey bee in a busy summer garden", duration=6, shots=3)
    script = write_script(inp)
    board = write_storyboard({**inp, "script": script})
    for shot in board["shots"]:
        assert len(shot["narration"].split()) / 2.5 <= shot["duration"] + 0.01


KANA = re.compile(r"[\u3041-\u309f\u30a1-\u30ff]")


@pytest.mark.parametrize(("topic", "subject", "keywords"), [
    ("京都の古い寺についてのドキュメンタリー", "京都の古い寺", ["京都", "古い寺"]),
    ("東京の夜景の動画", "東京の夜景", ["東京", "夜景"]),
    ("日本の桜に関する短い動画を作ってください。", "日本の桜", ["日本", "桜"]),
    ("北海道の冬を描いた30秒の映像", "北海道の冬", ["北海道", "冬"]),
    ("ひとびとの暮らしと祭り", "ひとびとの暮らしと祭り", ["ひとびと", "暮らし", "祭り"]),
    ("ドキュメンタリー", "ドキュメンタリー", ["ドキュメンタリー"]),
])
def test_japanese_subject_and_keywords(topic, subject, keywords):
    assert subject_of(topic, "ja") == subject
    assert keywords_of(subject, "ja") == keywords


@pytest.mark.parametrize(("duration", "shots"), [(30.0, None), (6.0, 3), (61.0, None)])
def test_japanese_narration_is_japanese_and_fits_its_shots(duration, shots):
    inp = inputs("京都の古い寺についてのドキュメンタリー", language="ja", duration=duration, shots=shots)
    script = Script.model_validate(write_script(inp))
    board = StoryboardDraft.model_validate(write_storyboard({**inp, "script": script.model_dump()}))
    assert "京都の古い寺" in script.title and "京都の古い寺" in script.text
    assert abs(sum(s.duration for s in board.shots) - duration) < 1e-4  # durations are rounded to 1e-6 s
    for shot in board.shots:
        assert KANA.search(shot.narration), shot.narration
        assert " " not in shot.narration and "\u3000" not in shot.narration  # no spaces between words
        assert shot.narration.endswith("。")
        spoken = len(re.sub(r"[\s、。！？「」・]", "", shot.narration))
        assert spoken / CHARS_PER_SECOND["ja"] <= shot.duration, (shot.narration, shot.duration)
        assert KANA.search(shot.description) and KANA.search(shot.composition)
    for scene in script.scenes:
        assert " " not in scene.narration and KANA.search(scene.description)
    # Scenes of two shots join their lines without a space, and the storyboard splits them back.
    assert "".join(s.narration for s in board.shots) == "".join(sc.narration for sc in script.scenes)
    assert write_script(inp) == write_script(inp)


@pytest.mark.parametrize("style, opening", [("documentary", "An informative short film"),
                                            ("urban", "An energetic short film"),
                                            ("commercial", "An upbeat short film"),
                                            ("cinematic", "A dramatic short film"),
                                            ("nature", "A serene short film")])
def test_the_synopsis_takes_the_article_its_style_word_sounds_for(style, opening):
    script = write_script(inputs("A documentary about wildlife in Africa", style=style))
    assert script["synopsis"].startswith(f"{opening} about wildlife in Africa")
    told = [sc["narration"] for sc in script["scenes"]]
    assert not any(re.search(r"\ba [aeiou]", line) for line in told + [script["synopsis"]]), told


def test_article_goes_by_sound_not_spelling():
    from videoagent_dagster.domain.prompts.offline_writer import article

    assert [article(w) for w in ("informative", "awe", "upbeat", "hour", "honest")] == ["an"] * 5
    assert [article(w) for w in ("documentary", "unique", "European", "one-off", "useful", "history")] == ["a"] * 6


def test_every_styles_mood_reads_as_an_adjective_in_english():
    from videoagent_dagster.domain.styles import CATALOGUE

    for style in CATALOGUE:
        synopsis = write_script(inputs("A documentary about wildlife in Africa", style=style))["synopsis"]
        mood = synopsis.split(" short film")[0].split(" ", 1)[1]
        assert mood not in ("awe", "wonder"), (style, synopsis)
        assert synopsis.startswith(("A ", "An ")), synopsis
