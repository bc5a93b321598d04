"""`videoagent serve`: the gateway on this machine's instance, with a Dagster webserver and daemon
of its own (`dagster dev`) unless --dagster-url names running ones."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_dagster(home: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """`dagster dev` (webserver + daemon) on a free loopback port; returns it and its URL once it answers."""
    import shutil

    from videoagent_dagster.cli import dev_command
    from videoagent_dagster.client import ClientError, VideoagentClient

    exe = shutil.which("dagster", path=str(Path(sys.executable).parent)) or shutil.which("dagster")
    if not exe:
        raise SystemExit("videoagent: the dagster command is not installed in this environment")
    port = _free_port()
    env = dict(os.environ, PYTHONWARNINGS="ignore:Function `dev_command` is superseded")
    proc = subprocess.Popen(dev_command(exe, port, home), stdout=log.open("a"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    client, deadline = VideoagentClient(url, timeout=5), time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"videoagent: dagster dev exited; see {log}")
        try:
            client.runs(limit=1)
            return proc, url
        except ClientError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit(f"videoagent: dagster dev did not answer in 180 s; see {log}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def serve(host: str, port: int, dagster_url: str | None, metrics_port: int | None = None) -> int:
    import uvicorn

    from videoagent_dagster.api.app import Gateway, create_app
    from videoagent_dagster.cli import ensure_dagster_home

    home = ensure_dagster_home()
    dagster = None
    if dagster_url is None:
        print("videoagent: starting a Dagster webserver and daemon on this instance …", flush=True)
        dagster, dagster_url = start_dagster(home, home / "dagster-dev.log")
    try:
        gateway = Gateway.from_settings(dagster_url=dagster_url)
        if not gateway.accounts.keys():
            _, key = gateway.accounts.create_key("local", "admin", "made by the first `videoagent serve`")
            # Kept in a file only its owner reads, not in the log (a service's log is kept and shared);
            # on a terminal it is shown too, for the person who just typed the command.
            path = home / "admin-key.txt"
            path.touch(mode=0o600)
            path.write_text(key + "\n")
            shown = f":\n  {key}\n  (also in {path})" if sys.stdout.isatty() else f"; it is in {path} (mode 600)"
            print(f"videoagent: no API keys yet; made an admin key for user 'local'{shown}")
        print(f"videoagent: the page and the API on http://{host}:{port}/ (API docs: /docs); "
              f"Dagster UI on {dagster_url}", flush=True)
        # uvicorn shuts down on SIGTERM, then raises the signal again: exit through `finally` then,
        # so the Dagster processes started here stop with the gateway.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        app = create_app(gateway)
        if metrics_port:  # Prometheus's, on a port of its own (the public one does not show them)
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=host, registry=app.state.metrics.registry)
            print(f"videoagent: metrics on http://{host}:{metrics_port}/metrics", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if dagster is not None:
            stop(dagster)
    return 0
