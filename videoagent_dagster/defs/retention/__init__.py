"""Retention: a schedule that deletes what expired (tasks/retention.py) and prunes old partitions."""
