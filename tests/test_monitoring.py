"""The deployment's monitoring files: Prometheus's config and alert rules pass promtool's checks and
its unit tests (the alerts fire on what they watch); the Grafana dashboard queries only metrics the
gateway and the exporter export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"


def promtool(*args: str, cwd: Path) -> str:
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed (scripts/setup-env.sh --tests installs Debian's prometheus)")
    done = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_prometheus_config_and_rules_pass_promtool():
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml", cwd=PROMETHEUS)
    assert "6 rules found" in promtool("check", "rules", "alerts.yml", cwd=PROMETHEUS)


def test_the_alerts_fire_on_what_they_watch():
    promtool("test", "rules", "deploy_alerts_test.yml", cwd=ROOT / "tests")


def test_the_dashboard_and_the_rules_ask_only_for_exported_metrics():
    from prometheus_client import generate_latest

    from videoagent_dagster.api.metrics import GatewayMetrics

    gateway = GatewayMetrics()
    gateway.follow_tasks(lambda: iter([("completed", "ana")]))
    exported = set(re.findall(r"^# TYPE (\w+)", generate_latest(gateway.registry).decode(), re.MULTILINE))
    exporter = (ROOT / "videoagent_dagster" / "exporter.py").read_text()
    exported |= {m + s for m in re.findall(r'"(videoagent_\w+)"', exporter) for s in ("", "_total", "_bucket", "_count")}
    exported |= {m + s for m in exported for s in ("_total", "_bucket", "_count", "_sum")}
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "videoagent.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    import yaml

    queries += [r["expr"] for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
                for r in g["rules"]]
    used = {m for q in queries for m in re.findall(r"videoagent_\w+", q)}
    assert used and used <= exported, used - exported
