"""`videoagent`: make a video from a topic on the local Dagster instance, and open the UI."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from videoagent_dagster.settings import current

LOCAL_INSTANCE_YAML = """\
# The local Dagster instance used by `videoagent make` and `videoagent ui`: run history, event
# logs and schedules in SQLite under this folder. Deployments use PostgreSQL instead.
telemetry:
  enabled: false
nux:
  enabled: false
# What a run prints to the terminal of `videoagent ui` (its console log): INFO and up, its progress
# lines and warnings, not every event at DEBUG (each is in the UI's run view). context.log.debug
# is kept out of the event log too; this code logs nothing at DEBUG.
python_logs:
  python_log_level: INFO
"""

# The code location's name, as in deploy/workspace.yaml and pyproject's [tool.dg.project].
LOCATION = "videoagent"
UI_WORKSPACE = """\
# Written by `videoagent ui` for `dagster dev`: the videoagent code location.
load_from:
  - python_module:
      module_name: videoagent_dagster.definitions
      location_name: {location}
      working_directory: {cwd}
"""


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, or a project-local `.dagster_home`, its dagster.yaml written here (the
    instance's config lives in DAGSTER_HOME: Dagster reads no other, and warns of one in the
    working folder)."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="videoagent", description="Turn a topic into a narrated, subtitled video.")
    sub = p.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a video from a topic (offline by default)")
    make.add_argument("topic", help="what the video is about, e.g. 'A documentary about wildlife in Africa'")
    add_brief_options(make, local=True)
    make.add_argument("--estimate", action="store_true",
                      help="print the expected cost with the configured providers, and stop (nothing is made)")
    make.add_argument("--out", type=Path, help="also copy the finished video here")
    make.add_argument("--quiet", action="store_true", help="print only the result")

    resume = sub.add_parser("resume", help="run a task's graph again; only what failed or changed is redone")
    resume.add_argument("task")
    resume.add_argument("--out", type=Path)
    resume.add_argument("--quiet", action="store_true")

    cast = sub.add_parser("cast", help="show a task's cast, or fix one member's description for the next run "
                                       "(only the shots showing it are made again)")
    cast.add_argument("task")
    cast.add_argument("member", nargs="?", help="the member's id (as `videoagent cast TASK` lists them)")
    cast.add_argument("description", nargs="?", help="its new visual description")
    cast.add_argument("--run", action="store_true", help="then run the task again (as `resume` does)")
    cast.add_argument("--out", type=Path)
    cast.add_argument("--quiet", action="store_true")

    shot = sub.add_parser("shot", help="change one shot of a task's storyboard for the next run (only that shot is "
                                       "painted, filmed and spoken again)")
    shot.add_argument("task")
    shot.add_argument("number", type=int, help="the shot's number, 1 = the first")
    shot.add_argument("--description", help="what is on screen")
    shot.add_argument("--narration", help="what is spoken over it ('' for nothing)")
    shot.add_argument("--camera", dest="camera_movement", help="the camera's move (static, pan_left, zoom_in, …)")
    shot.add_argument("--duration", type=float, help="seconds on screen (the total staying within 10%% of the brief's)")
    shot.add_argument("--run", action="store_true", help="then run the task again (as `resume` does)")
    shot.add_argument("--out", type=Path)
    shot.add_argument("--quiet", action="store_true")

    for name, help_text in (("backup", "write a backup: the Dagster database and the media store's briefs and "
                                       "manifests (the media itself stays in the store)"),
                            ("restore", "restore a backup into the database (its objects replaced) and the store")):
        part = sub.add_parser(name, help=help_text)
        part.add_argument("archive", type=Path, help="the .tar.gz")
        part.add_argument("--database", default=os.environ.get("DAGSTER_POSTGRES_URL"),
                          help="the Dagster PostgreSQL database (default: $DAGSTER_POSTGRES_URL; without one, the "
                               "local instance's SQLite files in $DAGSTER_HOME)")

    exporter = sub.add_parser("exporter", help="serve the instance's Prometheus metrics (runs, step times and "
                                               "failures, provider calls, cache hits, cost, budgets) at /metrics")
    exporter.add_argument("--port", type=int, default=9464)
    exporter.add_argument("--host", default="0.0.0.0")  # noqa: S104 - scraped from another container

    pin = sub.add_parser("pin", help="keep a task whatever its age (retention leaves it alone); --unpin to let it go")
    pin.add_argument("task")
    pin.add_argument("--unpin", action="store_true")

    ui = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the same local instance")
    ui.add_argument("--port", type=int, default=3000)

    serve = sub.add_parser("serve", help="the REST API and the creator page, on this instance (starts a Dagster "
                                         "webserver and daemon unless --dagster-url names running ones)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dagster-url", help="a running Dagster webserver to use instead of starting one")
    serve.add_argument("--metrics-port", type=int, help="serve the gateway's Prometheus metrics on this port (not on "
                                                        "the public one)")

    keys = sub.add_parser("keys", help="API keys of the REST gateway: create, list, revoke")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="a new key for a user (printed once; only its hash is kept)")
    create.add_argument("user")
    create.add_argument("--role", choices=("user", "admin"), default="user",
                        help="admin sees every user's tasks (default user)")
    create.add_argument("--label", default="", help="what the key is for")
    keys_sub.add_parser("list", help="every key: id, user, role, when made and revoked")
    revoke = keys_sub.add_parser("revoke", help="a key stops working at once")
    revoke.add_argument("key_id", help="the key's id (or the whole key)")

    url = current().url
    remote = {}
    for name, help_text in (("submit", "submit a brief to a running webserver (GraphQL)"),
                            ("status", "a task's stage, progress and current step"),
                            ("list", "the latest run of each task"), ("cancel", "stop a task's run"),
                            ("retry", "re-run a failed task from where it failed"),
                            ("download", "fetch a finished task's video from the media store")):
        remote[name] = sub.add_parser(name, help=help_text)
        remote[name].add_argument("--url", default=url, help=f"the Dagster webserver (default {url}, $VIDEOAGENT_URL)")
        remote[name].add_argument("--json", action="store_true", help="print JSON")
    remote["submit"].add_argument("topic")
    add_brief_options(remote["submit"], local=False)
    remote["submit"].add_argument("--task", help="a task key of your own (lowercase letters, digits, '-'); "
                                                 "submitting the same brief under it again gives back the same "
                                                 "task and run, a different brief under it is refused")
    for name in ("status", "cancel", "retry", "download"):
        remote[name].add_argument("task")
    remote["download"].add_argument("--out", type=Path, required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    from videoagent_dagster.settings import SettingsError

    try:
        return _command(argv)
    except SettingsError as e:  # a variable set to something unusable: say which, no traceback
        print(f"videoagent: a setting cannot be used: {e}", file=sys.stderr)
        return 2


def _command(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("submit", "status", "list", "cancel", "retry", "download"):
        return _remote(args)
    if args.command == "serve":
        from videoagent_dagster.api.serve import serve

        return serve(args.host, args.port, args.dagster_url, args.metrics_port)
    ensure_dagster_home()
    if args.command == "keys":
        return _keys(args)
    if args.command == "ui":
        return _ui(args.port)
    if args.command == "pin":
        from videoagent_dagster.domain.keys import brief_key
        from videoagent_dagster.storage.media_store import media_store_from_env
        from videoagent_dagster.tasks.retention import pin

        store = media_store_from_env()
        if not store.exists(brief_key(args.task)):
            print(f"videoagent: no task {args.task!r} (storage {store.base})", file=sys.stderr)
            return 2
        pin(store, args.task, not args.unpin)
        print(f"{args.task}: {'unpinned' if args.unpin else 'pinned: retention leaves it alone'}")
        return 0
    if args.command == "exporter":
        from videoagent_dagster.exporter import serve_exporter

        serve_exporter(args.port, args.host)
        return 0
    if args.command in ("backup", "restore"):
        return _backup(args)
    if args.command == "cast":
        return _cast(args)
    if args.command == "shot":
        return _shot(args)
    return _make(args) if args.command == "make" else _resume(args)


def _cast(args: argparse.Namespace) -> int:
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import RevisionError, cast_of, revise_cast

    store = media_store_from_env()
    if args.member is not None:
        if args.description is None:
            print("videoagent: cast: give the member's new description after its id", file=sys.stderr)
            return 2
        try:
            revise_cast(store, args.task, args.member, args.description)
        except RevisionError as e:
            print(f"videoagent: {e}", file=sys.stderr)
            return 2
    cast = cast_of(store, args.task)
    if cast is None:
        print(f"videoagent: task {args.task!r} has no cast yet (storage {store.base})", file=sys.stderr)
        return 2
    if args.member is None or not args.quiet:
        print(_table([{"id": m.id, "kind": m.kind, "name": m.name, "description": m.description}
                      for m in cast.members], ("id", "kind", "name", "description"))
              if cast.members else "no cast: nothing in this video recurs")
    if args.member is not None and not args.quiet:
        print(f"{args.member}: revised; " + ("running the task again" if args.run else
                                             f"`videoagent resume {args.task}` makes the shots showing it again"))
    return _run_again(args, store) if args.run else 0


def _backup(args: argparse.Namespace) -> int:
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.backup import BackupError, backup, restore

    home = Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else None
    try:
        done = (backup if args.command == "backup" else restore)(args.archive, media_store_from_env(),
                                                                 database_url=args.database, dagster_home=home)
    except BackupError as e:
        print(f"videoagent: {e}", file=sys.stderr)
        return 1
    verb = "backed up" if args.command == "backup" else "restored"
    print(f"{verb}: {done['database']} database, {done['store_files']} store files of {done['tasks']} tasks "
          f"({args.archive}, made {done['made_at']})")
    return 0


def _run_again(args: argparse.Namespace, store) -> int:
    """After a revision, with --run: the task's graph again, locally (what did not change is cached)."""
    import dagster as dg

    from videoagent_dagster.tasks.operations import task_exists

    instance = dg.DagsterInstance.get()
    if not task_exists(args.task, store, instance):
        print(f"videoagent: no task {args.task!r} on this instance", file=sys.stderr)
        return 2
    return _run(args.task, instance, store, args.out, args.quiet)


def _shot(args: argparse.Namespace) -> int:
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import RevisionError, revise_shot

    store = media_store_from_env()
    changes = {k: getattr(args, k) for k in ("description", "narration", "camera_movement", "duration")
               if getattr(args, k) is not None}
    try:
        revise_shot(store, args.task, args.number, changes)
    except RevisionError as e:
        print(f"videoagent: shot {args.number} was not changed: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"shot {args.number}: revised ({', '.join(changes)}); " + (
            "running the task again" if args.run else f"`videoagent resume {args.task}` makes it again"))
    return _run_again(args, store) if args.run else 0


def _remote(args: argparse.Namespace) -> int:
    # Nothing here imports Dagster (the client is plain GraphQL over httpx): a remote command
    # starts in a fraction of a second. Only `download` reads the media store, a Dagster resource.
    from videoagent_dagster.client import ClientError, Unreachable, VideoagentClient
    from videoagent_dagster.domain.brief import BriefError

    client = VideoagentClient(args.url)
    try:
        if args.command == "submit":
            raw = _raw_brief(args)
            submitted = client.submit(raw, task=args.task)
            out = {"task": submitted.task, "run_id": submitted.run_id}
            if submitted.existing:
                out["existing"] = True  # submitted before with this brief: no second run
        elif args.command == "status":
            out = client.status(args.task).as_dict()
        elif args.command == "list":
            out = client.list()
        elif args.command == "cancel":
            out = {"task": args.task, "cancelled_run": client.cancel(args.task)}
            stopped = _stop_vendor_jobs(args.task)
            if stopped:
                out["vendor_jobs"] = stopped
        elif args.command == "retry":
            out = {"task": args.task, "run_id": client.retry(args.task)}
        else:
            out = {"task": args.task, "video": str(_download(args.task, args.out))}
    except BriefError as e:
        print("videoagent: the brief was not accepted:\n" + "\n".join(f"  - {p}" for p in e.problems), file=sys.stderr)
        return 2
    except ClientError as e:
        print(f"videoagent: {e}", file=sys.stderr)
        return 2 if isinstance(e, Unreachable) else 1  # a wrong --url is a usage error, as argparse's are
    if args.json:
        print(json.dumps(out, indent=1))
    elif isinstance(out, list):
        print(_table(out) if out else f"no tasks on {args.url}")
    else:
        print("  ".join(f"{k}: {v}" for k, v in out.items()))
    return 0


def _keys(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from videoagent_dagster.api.accounts import Accounts, KeyError_

    accounts = Accounts(current().database_url)
    try:
        if args.keys_command == "create":
            key_id, key = accounts.create_key(args.user, args.role, args.label)
            print(f"key {key_id} for user {args.user} ({args.role}); shown once, keep it:\n{key}")
        elif args.keys_command == "revoke":
            accounts.revoke(args.key_id)
            print(f"revoked {args.key_id}")
        else:
            def when(t):
                return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M") if t else "-"

            rows = [{"id": k["key_id"], "user": k["user"], "role": k["role"], "created": when(k["created_at"]),
                     "revoked": when(k["revoked_at"]), "label": k["label"]} for k in accounts.keys()]
            print(_table(rows, ("id", "user", "role", "created", "revoked", "label")) if rows else "no keys")
    except KeyError_ as e:
        print(f"videoagent: {e}", file=sys.stderr)
        return 2
    return 0


def _stop_vendor_jobs(task: str) -> list[str]:
    """The cancelled task's vendor jobs stopped too, when this machine reaches the media store."""
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import cancel_vendor_jobs

    try:
        return cancel_vendor_jobs(task, media_store_from_env(), current().video)
    except Exception as e:  # noqa: BLE001 - the run is cancelled either way; say what was not done
        return [f"vendor jobs not stopped from here: {str(e)[:200]}"]


LIST_COLUMNS = ("task", "run_status", "user", "priority", "run_id")


def _table(rows: list[dict], columns: tuple[str, ...] = LIST_COLUMNS) -> str:
    """A list for people (`videoagent list`, `keys list`): one aligned line per row."""
    cells = [[c.upper().replace("_", " ") for c in columns]]
    cells += [["-" if row.get(c) is None else str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in cells)


def _download(task: str, out: Path) -> Path:
    from videoagent_dagster.client import ClientError
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import final_video_of

    store = media_store_from_env()
    final = final_video_of(store, task)
    if final is None:
        raise ClientError(f"task {task} has no final video in {store.root} (is it finished? is VIDEOAGENT_STORAGE "
                          "the deployment's media store?)")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(store.path(final.key), out)
    return out.resolve()


def _ui(port: int) -> int:
    # The dagster command beside this Python (a venv's bin/ may not be on PATH), else on PATH.
    exe = shutil.which("dagster", path=str(Path(sys.executable).parent)) or shutil.which("dagster")
    if not exe:
        print("videoagent: the dagster command is not installed in this environment", file=sys.stderr)
        return 2
    home = Path(os.environ["DAGSTER_HOME"])
    print(f"videoagent: Dagster UI on http://127.0.0.1:{port} (instance: {home})")
    # `dagster dev` is the documented local runner; its advice to use `dg dev` is for people
    # typing it, not for this command.
    warnings = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [warnings, "ignore:Function `dev_command` is superseded"]))
    os.execv(exe, dev_command(exe, port, home))
    return 0  # not reached


def dev_command(exe: str, port: int, home: Path) -> list[str]:
    """`dagster dev` for `videoagent ui`, quiet: warnings and errors only from the webserver, the
    daemon (not a line per sensor tick) and the code server. The code location is loaded from a
    workspace in DAGSTER_HOME, for its name (`-m` would name it after the module, which Dagster
    warns differs from the project's)."""
    workspace = home / "workspace.yaml"
    workspace.write_text(UI_WORKSPACE.format(location=LOCATION, cwd=json.dumps(str(Path.cwd()))))
    return [exe, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port),
            "--log-level", "warning", "--code-server-log-level", "warning"]


# The CLI spelling of a few brief fields; every other field is --its-name.
_FLAGS = {"include_audio": "--no-audio"}
_HELP = {"include_audio": "no narration track (subtitles stay)"}
_LOCAL_HELP = {"music": "a music bed: an audio file (copied into the music library), a track name in the "
                        "library, or 'auto' to pick one"}


def add_brief_options(parser: argparse.ArgumentParser, *, local: bool) -> None:
    """The brief's fields as options, from the brief schema (domain/brief.py): make takes style,
    user and the options; submit also priority and webhook_url."""
    from videoagent_dagster.domain.brief import BriefOptions, BriefRequest, field_type

    fields = [(n, f) for n, f in BriefRequest.model_fields.items() if n not in ("topic", "options")
              and not (local and n in ("priority", "webhook_url"))] + list(BriefOptions.model_fields.items())
    for name, field in fields:
        default = "" if field.default in (None, True) or field.is_required() else f" (default {field.default:g})" \
            if isinstance(field.default, float) else f" (default {field.default})"
        help_text = ((_LOCAL_HELP.get(name) if local else None) or _HELP.get(name)
                     or f"{field.description}{default}; allowed: {field.json_schema_extra['allowed']}")
        kind = field_type(field.annotation)
        if kind is bool:
            parser.add_argument(_FLAGS.get(name, f"--no-{name.replace('_', '-')}"), dest=name, action="store_false",
                                default=None, help=help_text)
        else:
            parser.add_argument(_FLAGS.get(name, f"--{name.replace('_', '-')}"), dest=name,
                                type=kind if kind in (int, float) else None, help=help_text.replace("%", "%%"))


def _raw_brief(args: argparse.Namespace) -> dict:
    """The brief the options ask for: the options are the brief's fields, flat (add_brief_options)."""
    from videoagent_dagster.domain.brief import OPTION_FIELDS, TOP_FIELDS, raw_from_flat

    flat = {k: getattr(args, k, None) for k in (*TOP_FIELDS, *OPTION_FIELDS) if k != "options"}
    if flat.get("music"):
        flat["music"] = Path(flat["music"]).name  # a file is copied into the library under its name
    return raw_from_flat(flat)


def _make(args: argparse.Namespace) -> int:
    import dagster as dg

    from videoagent_dagster.domain.brief import BriefError, validate_brief
    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.budget import BudgetError, daily_budget, estimate
    from videoagent_dagster.tasks.operations import create_task

    store = media_store_from_env()
    try:
        if args.estimate:
            est = estimate(validate_brief(_raw_brief(args), "estimate"))
            for stage, cost in est.by_stage.items():
                print(f"  {stage:<6} {est.providers[stage]:<40} ${cost:.4f}")
            if est.video_seconds_paid:
                print(f"  video: {est.video_seconds_paid:g} s paid for {est.video_seconds_on_screen:g} s on screen "
                      f"({est.video_seconds_paid / est.video_seconds_on_screen:.2f}x)")
            print(f"estimated cost: ${est.total:.2f} (daily budget ${daily_budget():.2f})")
            return 0
        raw = _raw_brief(args)
        validate_brief(raw, "check")  # bad input stops here, before anything is written
        if args.music and Path(args.music).is_file():
            _add_to_music_library(Path(args.music), store)
        brief = create_task(raw, store, dg.DagsterInstance.get())
    except BriefError as e:
        print("videoagent: the brief was not accepted:", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except (BudgetError, ValueError) as e:  # over budget, or a provider chain that names no known provider
        print(f"videoagent: not started: {e}", file=sys.stderr)
        return 2
    instance = dg.DagsterInstance.get()
    w, h = brief.options.size()
    if not args.quiet:
        print(f"videoagent: task {brief.task}: \"{brief.topic}\" — {brief.options.duration:g} s, {w}x{h}, "
              f"{brief.options.fps} fps, language {brief.language}, style {brief.style or '(detect)'}")
    return _run(brief.task, instance, store, args.out, args.quiet)


def _add_to_music_library(track: Path, store) -> None:
    """Copy a local audio file into the media store's music library (music/<name>), once."""
    from videoagent_dagster.domain.keys import music_key

    key = music_key(track.name)
    data = track.read_bytes()
    if store.exists(key):
        if store.read_bytes(key) != data:
            raise ValueError(f"the music library already has a different {track.name!r} "
                             f"({store.uri(key)}); rename your file or pass the library's track by name")
        return
    store.write_bytes(key, data)
    print(f"videoagent: added {track.name} to the music library ({store.uri(key)})", file=sys.stderr)


def _resume(args: argparse.Namespace) -> int:
    import dagster as dg

    from videoagent_dagster.storage.media_store import media_store_from_env
    from videoagent_dagster.tasks.operations import task_exists

    store = media_store_from_env()
    instance = dg.DagsterInstance.get()
    if not task_exists(args.task, store, instance):
        print(f"videoagent: no task {args.task!r} on this instance (DAGSTER_HOME={os.environ['DAGSTER_HOME']}, "
              f"storage {store.base})", file=sys.stderr)
        return 2
    return _run(args.task, instance, store, args.out, args.quiet)


def _run(task: str, instance, store, out: Path | None, quiet: bool) -> int:
    import uuid

    import dagster as dg

    from videoagent_dagster.tasks.local_run import run_in_process
    from videoagent_dagster.tasks.operations import final_video_of

    token = uuid.uuid4().hex  # finds the run (its id is made inside execute_job) to follow its progress
    started = time.perf_counter()
    outcome: dict = {}

    def execute() -> None:
        try:
            outcome["result"] = run_in_process(instance, task, tags={"videoagent/launched_by": "cli",
                                                                      "videoagent/cli_run": token})
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = e

    worker = threading.Thread(target=execute, name="videoagent-run", daemon=True)
    worker.start()
    progress = _Progress(quiet)
    cursor, run_id = None, None
    while True:
        alive = worker.is_alive()
        if run_id is None:
            found = instance.get_run_records(dg.RunsFilter(tags={"videoagent/cli_run": token}), limit=1)
            run_id = found[0].dagster_run.run_id if found else None
        if run_id is not None:
            conn = instance.get_records_for_run(run_id, cursor=cursor)
            for record in conn.records:
                progress.show(record.event_log_entry)
            cursor = conn.cursor
        if not alive:
            break
        time.sleep(0.2)
    wall = time.perf_counter() - started

    if "error" in outcome:
        print(f"videoagent: the run could not start: {outcome['error']}", file=sys.stderr)
        return 1
    if not outcome["result"].success:
        print(f"\nvideoagent: task {task} failed (run {outcome['result'].run_id}).", file=sys.stderr)
        for step, message in progress.failures:
            print(f"  ✗ {step}: {message}", file=sys.stderr)
        print(f"Fix the cause, then retry — finished work is reused and only what failed is redone:\n"
              f"  videoagent resume {task}\n"
              f"or open the UI (videoagent ui), pick partition {task} and re-materialise the failed asset.",
              file=sys.stderr)
        return 1

    final = final_video_of(store, task)
    path = store.path(final.key)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        path = out.resolve()
    print(f"\n{path if out is not None or not store.is_s3 else final.uri}")
    if not quiet:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in progress.stage_seconds.items())
        print(f"  {final.duration:.1f} s, {final.width}x{final.height} @ {final.fps:g} fps, "
              f"{final.size_bytes / 1e6:.2f} MB, {final.shots} shots, style {final.style}, "
              f"cost ${final.total_cost_usd:.2f}")
        print(f"  wall time {wall:.1f} s: {stages}")
        print(f"  thumbnail {final.thumbnail}\n  subtitles {final.subtitles}")
    return 0


class _Progress:
    """Turns event-log records into progress lines: stages starting and ending, shots done."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.started: dict[str, float] = {}
        self.stage_seconds: dict[str, float] = {}
        self.failures: list[tuple[str, str]] = []

    def _print(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)

    def show(self, entry) -> None:
        import dagster as dg

        step = entry.step_key or ""
        event = entry.dagster_event
        if event is None:
            if entry.level >= logging.INFO and step:
                self._print(f"      {entry.user_message}")
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self.started[step] = entry.timestamp
            self._print(f"  ▸ {step}")
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            seconds = entry.timestamp - self.started.get(step, entry.timestamp)
            self.stage_seconds[step] = seconds
            self._print(f"  ✓ {step} ({seconds:.1f} s)")
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            message = (data.user_failure_data.description if data.user_failure_data and
                       data.user_failure_data.description else data.error.message.strip() if data.error else "failed")
            self.failures.append((step, message))
            self._print(f"  ✗ {step}: {message}")
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.event_specific_data
            if not check.passed:
                self._print(f"  ! check {check.asset_key.to_user_string()}.{check.check_name} failed")


if __name__ == "__main__":
    sys.exit(main())
