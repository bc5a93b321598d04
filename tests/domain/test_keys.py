"""domain/keys.py makes every storage key; the README's "Where files go" shows the same tree."""

import re
from pathlib import Path

from videoagent_dagster.domain import keys

README = Path(__file__).resolve().parents[2] / "README.md"
SHA = "ab" + "c" * 62


def _pattern(key: str) -> str:
    return key.replace(SHA, "{sha256}").replace("/ab/", "/{aa}/")


MADE = {
    "brief_key": keys.brief_key("{task}"),
    "music_key": keys.music_key("{track}"),
    "revisions_key": keys.revisions_key("{task}"),
    "pin_key": keys.pin_key("{task}"),
    "manifest_key": keys.manifest_key("{task}", "{asset}"),
    "task_media_key": keys.task_media_key("{task}", "clips", "shot_NNN.mp4"),
    "cache_media_key": _pattern(keys.cache_media_key(SHA, "{ext}")),
    "job_key": _pattern(keys.job_key(SHA)),
    "ledger_key": keys.ledger_key("{YYYYMMDD}", "{user}", "{task}"),
    "spend_prefix": keys.spend_prefix("{task}") + "/{call}.json",
    "intake_index_key": _pattern(keys.intake_index_key(SHA)),
    "screening_refusal_key": keys.screening_refusal_key("{YYYYMMDD}", "{id}"),
    "screening_day_prefix": keys.screening_day_prefix("{YYYYMMDD}") + "/",
    "ledger_day_prefix": keys.ledger_day_prefix("{YYYYMMDD}") + "/",
    "takeover_key": re.sub(r"/[0-9a-f]{2}/[0-9a-f]{64}", "/{aa}/{sha256}", keys.takeover_key("jobs/x.claim", "t")),
}


def test_every_key_function_is_covered():
    public = {n for n in dir(keys) if n.endswith(("_key", "_prefix")) and callable(getattr(keys, n))}
    assert public - {"ledger_prefix"} == set(MADE)


def test_the_readme_tree_shows_each_key():
    text = README.read_text(encoding="utf-8")
    tree = text[text.index("## Where files go"):text.index("## Development")]
    for name, key in MADE.items():
        assert key in tree, f"{name}: {key} not in the README"
    assert keys.shot_name(0) == "shot_001" and keys.shot_name(11) == "shot_012"  # the NNN
