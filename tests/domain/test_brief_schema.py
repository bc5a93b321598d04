"""One brief schema: the error lines, the launchpad config, the CLI options, the CSV columns and the
JSON schema all come from domain/brief.py's BriefRequest and BriefOptions."""

import pytest

from videoagent_dagster.domain.brief import (
    OPTION_FIELDS,
    TOP_FIELDS,
    BriefError,
    allowed,
    brief_json_schema,
    validate_brief,
)

FLAT = [f for f in TOP_FIELDS if f != "options"] + list(OPTION_FIELDS)


def test_the_json_schema_names_every_field_and_what_it_allows():
    schema = brief_json_schema()
    assert schema["required"] == ["topic"]
    assert set(schema["properties"]) == set(TOP_FIELDS)
    options = schema["$defs"]["BriefOptions"]["properties"]
    assert set(options) == set(OPTION_FIELDS)
    assert options["aspect"]["enum"] == ["16:9", "9:16", "1:1"] and options["duration"]["maximum"] == 600
    for name, prop in [*schema["properties"].items(), *options.items()]:
        assert prop.get("description"), name
        if name != "options":
            assert prop["allowed"], name


def test_error_lines_say_what_the_schema_allows():
    with pytest.raises(BriefError) as e:
        validate_brief({"topic": " ", "priority": "asap", "options": {"aspect": "4:3", "fps": 60, "colour": 1}}, "t")
    problems = e.value.problems
    assert f"priority: 'asap' is not allowed; allowed: {allowed('priority')}" in problems
    assert f"options.aspect: '4:3' is not allowed; allowed: {allowed('options.aspect')}" in problems
    assert "options.fps: 60 is not allowed; allowed: 24, 25, 30" in problems
    assert any(p.startswith("options.colour: unknown option; allowed: duration, aspect") for p in problems)
    assert "topic: is blank; a topic of 1-2000 characters is required" in problems  # today's wording


def test_the_launchpad_config_has_every_field_and_says_topic_is_required():
    from videoagent_dagster.definitions import build_defs
    from videoagent_dagster.defs.video.brief import VideoBriefConfig

    assert list(VideoBriefConfig.model_fields) == FLAT
    assert "REQUIRED for a new task" in VideoBriefConfig.model_fields["topic"].description
    job = build_defs().resolve_job_def("make_video")
    fields = job.run_config_schema.config_type.fields["ops"].config_type.fields["video_brief"].config_type.fields
    assert fields["config"].default_provided  # the launchpad opens with the brief's fields listed
    assert set(fields["config"].default_value) == set(FLAT)
    raw = VideoBriefConfig(topic="Tide pools", fps=25, include_audio=False, priority="high").as_raw_brief()
    assert raw == {"topic": "Tide pools", "priority": "high", "options": {"fps": 25, "include_audio": False}}


def test_cli_options_are_the_schema_fields():
    from videoagent_dagster.cli import _parser, _raw_brief

    make = _parser().parse_args(["make", "Tide pools", "--fps", "25", "--no-audio", "--music", "/tmp/x/bed.mp3",
                                 "--user", "ana", "--duration", "12"])
    assert _raw_brief(make) == {"topic": "Tide pools", "user": "ana",
                                "options": {"duration": 12.0, "fps": 25, "include_audio": False, "music": "bed.mp3"}}
    submit = _parser().parse_args(["submit", "Tide pools", "--priority", "urgent", "--webhook-url", "https://x.example/h",
                                   "--subtitles", "soft"])
    assert _raw_brief(submit) == {"topic": "Tide pools", "priority": "urgent", "webhook_url": "https://x.example/h",
                                  "options": {"subtitles": "soft"}}
    actions = {a.dest for a in _parser()._subparsers._group_actions[0].choices["submit"]._actions}
    assert set(FLAT) <= actions


def test_csv_columns_are_the_schema_fields():
    from videoagent_dagster.defs.batch.schedule import COLUMNS, rows_to_briefs

    assert list(COLUMNS) == FLAT
    rows = rows_to_briefs(b"topic,fps,include_audio,shots,voice,priority\nTide pools,25,no,3,en-gb,high\n")
    (_, raw), = rows
    assert raw == {"topic": "Tide pools", "priority": "high",
                   "options": {"fps": 25, "include_audio": False, "shots": 3, "voice": "en-gb"}}
    brief = validate_brief(raw, "t")
    assert brief.options.fps == 25 and brief.options.include_audio is False
    with pytest.raises(BriefError, match="colour"):
        rows_to_briefs(b"topic,colour\nx,red\n")
