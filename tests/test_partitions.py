import re
from datetime import datetime, timezone

import pytest

from videoagent_dagster.partitions import check_task_key, new_task_key


def test_task_keys_are_readable_unique_and_safe():
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    key = new_task_key("A documentary about Wildlife in Africa!", now)
    assert re.fullmatch(r"20261128-wildlife-africa-[0-9a-f]{4}", key)
    assert len({new_task_key("same topic") for _ in range(50)}) > 45
    evil = new_task_key("../../etc/passwd; rm -rf / $(x)")
    assert re.fullmatch(r"\d{8}-[a-z0-9-]+-[0-9a-f]{4}", evil) and ".." not in evil and "/" not in evil
    assert re.fullmatch(r"\d{8}-video-[0-9a-f]{4}", new_task_key("非洲的野生动物"))
    assert check_task_key(key) == key
    with pytest.raises(ValueError):
        check_task_key("../x")
