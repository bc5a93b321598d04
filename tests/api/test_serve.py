"""`videoagent serve` alone, as the README has a laptop user run it: it starts a Dagster webserver
and daemon of its own, prints an admin key on first start, answers, and takes its Dagster
processes down with it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.test_deployment import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_serve_starts_dagster_of_its_own_and_stops_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOAGENT_", "DAGSTER_"))}
    env.update({"DAGSTER_HOME": str(tmp_path / "home"), "VIDEOAGENT_STORAGE": str(tmp_path / "storage")})
    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen([str(BIN / "videoagent"), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            assert proc.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/v1/health/ready", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 180, "videoagent serve")
        key_file = tmp_path / "home" / "admin-key.txt"
        assert "va_" not in log.read_text() and oct(key_file.stat().st_mode & 0o777) == "0o600"  # not in the log
        key = key_file.read_text().strip()
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/tasks", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 200 and answer.json()["total"] == 0
        dagster_url = re.search(r"Dagster UI on (http://\S+)", log.read_text()).group(1)
        assert httpx.get(dagster_url + "/server_info").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(90)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-f", str(tmp_path / "home")], capture_output=True, text=True).stdout.split()
        if not left:
            break
        time.sleep(1)
    assert not left, "Dagster processes outlived videoagent serve"
