import re
from datetime import datetime, timezone

import pytest

from videoagent_dagster.domain.task_keys import check_task_key, new_task_key


def test_task_keys_are_readable_unique_and_safe():
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    key = new_task_key("A documentary about Wildlife in Africa!", now)
    assert re.fullmatch(r"20261128-wildlife-africa-[a-z2-7]{10}", key)
    evil = new_task_key("../../etc/passwd; rm -rf / $(x)")
    assert re.fullmatch(r"\d{8}-[a-z0-9-]+-[a-z2-7]{10}", evil) and ".." not in evil and "/" not in evil
    # Chinese and Japanese topics get readable slugs too (they all used to be "video").
    assert re.fullmatch(r"20261128-feizhou-yesheng-dongwu-[a-z2-7]{10}", new_task_key("非洲的野生动物", now))
    assert re.fullmatch(r"20261128-kyouto-aki-kouyou-[a-z2-7]{10}", new_task_key("京都の秋の紅葉", now))
    assert new_task_key("🙂🙂", now).startswith("20261128-video-")
    assert check_task_key(key) == key


def test_task_keys_of_one_topic_on_one_day_do_not_collide():
    """16 random bits gave about 7-8 collisions per 1,000 same-slug briefs a day; 50 give none."""
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    keys = [new_task_key("未来城市的一天", now) for _ in range(20000)]
    assert len(set(keys)) == len(keys)
    assert all(check_task_key(k) == k and len(k) <= 80 for k in keys[:10])
    with pytest.raises(ValueError):
        check_task_key("../x")
