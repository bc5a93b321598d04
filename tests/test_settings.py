"""The settings object and the README's configuration table say the same thing."""

import re
from pathlib import Path

import dagster as dg
import pytest

from videoagent_dagster.settings import Settings, SettingsError, current

README = Path(__file__).resolve().parents[1] / "README.md"


def _table() -> list[tuple[list[str], list[str]]]:
    """(variables, defaults) per row of the README's configuration table."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Configuration"):text.index("## Real model vendors")]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and "VIDEOAGENT_" in cells[0]:
            rows.append((re.findall(r"`(VIDEOAGENT_[A-Z0-9_]+)`", cells[0]), [c.strip() for c in cells[2].split(",")]))
    return rows


def test_every_setting_is_in_the_readme_table_and_nothing_else():
    listed = [v for variables, _ in _table() for v in variables]
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    assert set(listed) == {Settings.variable(name) for name in Settings.model_fields}


def test_the_readme_gives_each_setting_its_default():
    for variables, defaults in _table():
        if len(defaults) != len(variables):  # one default for several (the chains): the same for each
            defaults = defaults * len(variables)
        for variable, shown in zip(variables, defaults):
            field = variable.removeprefix("VIDEOAGENT_").lower()
            default = Settings.model_fields[field].default
            if hasattr(default, "get_secret_value"):
                default = default.get_secret_value()
            if default in (None, ""):
                assert "`" not in shown or "none" in shown.lower(), f"{variable}: README shows {shown!r}, default unset"
                continue
            value = shown.strip("`")
            expected = ("true" if default else "false") if isinstance(default, bool) else f"{default:g}" \
                if isinstance(default, float) else str(default)
            assert value == expected, f"{variable}: README says {shown!r}, settings say {default!r}"


def test_a_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "lots")
    with pytest.raises(SettingsError, match="VIDEOAGENT_DAILY_BUDGET_USD='lots'"):
        current()
    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "12.5")
    assert current().daily_budget_usd == 12.5  # read again once the environment changed


def test_blank_values_take_the_defaults(monkeypatch):
    monkeypatch.setenv("VIDEOAGENT_VIDEO", " ")
    monkeypatch.setenv("VIDEOAGENT_STORAGE", "")
    monkeypatch.setenv("VIDEOAGENT_SHOT_CONCURRENCY", "")
    s = current()
    assert (s.video, s.storage, s.shot_concurrency) == ("offline", "./storage", None)


def test_the_estimate_prices_the_chains_the_resources_use(monkeypatch):
    from videoagent_dagster.defs.resources import build_resources
    from videoagent_dagster.domain.brief import validate_brief
    from videoagent_dagster.tasks.budget import estimate

    monkeypatch.setenv("VIDEOAGENT_VIDEO", "runway:gen4_turbo,offline")
    monkeypatch.setenv("VIDEOAGENT_LLM", "openai")
    resources = build_resources()
    est = estimate(validate_brief({"topic": "Tide pools"}, "t"))
    assert est.providers["video"].startswith("runway:") and est.providers["llm"].startswith("openai:")
    chain = resources["video_gen"].chain  # through dg.EnvVar, since it is set in the environment
    assert isinstance(chain, dg.EnvVar) and chain.get_value().startswith("runway:gen4_turbo")


def test_env_example_lists_every_setting():
    listed = set(re.findall(r"(VIDEOAGENT_[A-Z0-9_]+)=", (README.parent / ".env.example").read_text()))
    assert listed == {Settings.variable(name) for name in Settings.model_fields}


def test_the_cli_names_an_unusable_setting_without_a_traceback(monkeypatch, capsys):
    from videoagent_dagster.cli import main

    monkeypatch.setenv("VIDEOAGENT_DAILY_BUDGET_USD", "lots")
    assert main(["make", "Tide pools", "--estimate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("videoagent: a setting cannot be used: VIDEOAGENT_DAILY_BUDGET_USD='lots'")
    assert "Traceback" not in err
