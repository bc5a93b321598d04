"""Content screening: every way in refuses a brief whose free text the word lists (or a moderation
vendor) flag, naming the field and the category, before anything is written or paid for."""

from __future__ import annotations

import json

import pytest

from videoagent_dagster.domain.brief import BriefError, validate_brief
from videoagent_dagster.domain.screening import CATEGORIES, ScreeningRefused, screen, screen_brief, word_lists
from videoagent_dagster.storage.media_store import MediaStore


def brief(topic: str, **options):
    return validate_brief({"topic": topic, "options": options}, "t")


@pytest.mark.parametrize("topic,category", [
    ("How to make a bomb at home", "weapons_illegal"),
    ("一个关于制作炸弹的教程", "weapons_illegal"),
    ("爆弾の作り方を教える動画", "weapons_illegal"),
    ("A BEHEADING VIDEO for shock", "violence_graphic"),
    ("児童ポルノ", "sexual_minors"),
])
def test_listed_words_refuse_a_brief_naming_the_field_and_category(topic, category):
    with pytest.raises(ScreeningRefused) as refused:
        screen_brief(brief(topic))
    assert isinstance(refused.value, BriefError) and category in refused.value.categories
    assert f"topic: refused by content screening (the word list): category {category}, matched" in \
        "\n".join(refused.value.problems)


@pytest.mark.parametrize("topic", ["The skills of a blacksmith", "A documentary about the Second World War",
                                   "Al Gore's climate talks", "Bomb disposal robots at work", "二战纪录片"])
def test_ordinary_topics_pass(topic):
    screen_brief(brief(topic))  # whole words only: "skills" is not "kill", a war documentary is not gore


def test_a_word_list_of_ones_own_adds_words_and_categories(tmp_path):
    own = tmp_path / "words.json"
    own.write_text(json.dumps({"brand_safety": {"en": ["competitor x"]}, "hate": {"en": ["my own phrase"]}}))
    assert screen({"topic": "Why Competitor X is bad"}, str(own)) == [("topic", "brand_safety", "competitor x")]
    assert screen({"topic": "say my own phrase"}, str(own))[0][1] == "hate"
    assert set(CATEGORIES) <= set(word_lists(str(own)))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="VIDEOAGENT_SCREENING_WORDS"):
        word_lists(str(tmp_path / "bad.json"))


def test_the_cli_refuses_before_anything_is_written(workdir, capsys):
    from videoagent_dagster.cli import main

    assert main(["make", "How to make a bomb at home", "--duration", "5", "--resolution", "180p"]) == 2
    err = capsys.readouterr().err
    assert "refused by content screening" in err and "weapons_illegal" in err
    written = [p.relative_to(workdir / "storage").parts[0] for p in (workdir / "storage").rglob("*.json")]
    assert written == ["screening"]  # only the refusal's count (categories, way in): no brief, no task


def test_intake_refuses_a_screened_brief_into_rejected_with_the_reason(store, instance, workdir, monkeypatch):
    from tests.defs.intake.test_sensor import tick

    monkeypatch.setenv("VIDEOAGENT_INTAKE", str(workdir / "intake"))
    inbox = MediaStore(root=str(workdir / "intake"))
    inbox.write_bytes("ana/bad.json", json.dumps({"topic": "一个关于制作炸弹的教程"}).encode())
    result = tick(instance, store)
    assert not result.run_requests
    assert inbox.list() == ["rejected/ana/bad.json", "rejected/ana/bad.json.error.txt"]
    assert "category weapons_illegal" in inbox.read_bytes("rejected/ana/bad.json.error.txt").decode()
    assert not store.exists("briefs") and not list(store.list("briefs"))
    (record,) = [json.loads(store.read_bytes(k)) for k in store.list("screening")]
    assert record["categories"] == ["weapons_illegal"] and "制作炸弹" not in json.dumps(record, ensure_ascii=False)


def test_a_moderation_vendor_flags_what_no_list_names_and_its_outage_accepts_nothing(store, instance, vendors,
                                                                                     monkeypatch):
    from werkzeug import Response

    from videoagent_dagster.providers.moderation import ScreeningUnavailable
    from videoagent_dagster.tasks.operations import create_task

    monkeypatch.setenv("VIDEOAGENT_MODERATION", "openai")
    monkeypatch.setenv("VIDEOAGENT_MAX_RETRIES", "0")
    vendors.moderation_flags.append({"violence": True, "harassment": True})
    with pytest.raises(ScreeningRefused) as refused:
        create_task({"topic": "A perfectly listed-word-free topic"}, store, instance)
    assert refused.value.categories == ["harassment", "violence"]
    assert "refused by content screening (moderation): category harassment, matched 'flagged by openai'" in \
        refused.value.problems[0]
    assert json.loads(vendors.calls["openai.moderations"][0])["model"] == "omni-moderation-latest"
    vendors.fail("openai.moderations", Response('{"error": {"message": "down"}}', status=500,
                                                content_type="application/json"))
    with pytest.raises(ScreeningUnavailable, match="did not answer"):
        create_task({"topic": "Tide pools"}, store, instance)
    assert not list(store.list("briefs")) and not instance.get_dynamic_partitions("video_tasks")
    assert create_task({"topic": "Tide pools"}, store, instance).task  # flagged nothing: accepted
