import pytest

from videoagent_dagster.domain.styles import CATALOGUE, closest_style, detect_style


@pytest.mark.parametrize("topic,expected", [
    ("wildlife in Africa", {"nature", "documentary"}),
    ("A documentary about wildlife in Africa", {"documentary"}),
    ("futuristic cityscape", {"futuristic"}),
    ("A journey to Mars and the outer planets", {"scifi"}),
    ("Dragons and the wizard's castle", {"fantasy"}),
    ("Launch video for our new productivity app", {"commercial"}),
    ("城市的夜生活", {"urban"}),
    ("未来的人工智能城市", {"futuristic"}),
])
def test_detects_style_from_the_topic(topic, expected):
    name, reasoning, _ = detect_style(topic)
    assert name in expected
    assert name in reasoning


def test_fallback_when_nothing_matches():
    name, reasoning, scores = detect_style("qwerty zxcv")
    assert name == "documentary" and scores == {} and "No style words" in reasoning


def test_catalogue_is_complete_and_closest_names():
    assert set(CATALOGUE) == {"cinematic", "documentary", "animated", "minimalist", "vintage", "futuristic",
                              "nature", "urban", "commercial", "artistic", "scifi", "fantasy"}
    assert closest_style("Cinematc") == "cinematic"
    assert closest_style("cartoon") == "animated"
    assert closest_style("zzzzzz") is None
