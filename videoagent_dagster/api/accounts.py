"""The gateway's own records, in one SQL database (SQLite in DAGSTER_HOME on a laptop, the
deployment's PostgreSQL otherwise): API keys (stored hashed), the tasks made through the gateway
(whose they are, in what order, under which Idempotency-Key). SQLAlchemy Core: Dagster already brings it."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from videoagent_dagster.domain.brief import USER_NAME

ROLES = ("user", "admin")
KEY_CACHE_S = 1.0  # a key is looked up at most once a second: a revoked key stops within that
KEY_PREFIX = "va_"
KEY_PATTERN = re.compile(r"va_[0-9a-f]{12}_[A-Za-z0-9_-]{20,80}")  # what create_key makes

metadata = sa.MetaData()
api_keys = sa.Table(
    "videoagent_api_keys", metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("user", sa.String(64), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("label", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)
gateway_tasks = sa.Table(
    "videoagent_gateway_tasks", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),  # stable paging order
    sa.Column("task", sa.String(120), nullable=False, unique=True),
    sa.Column("user", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    sa.UniqueConstraint("user", "idempotency_key", name="videoagent_gateway_tasks_idempotency"),
)
class KeyError_(ValueError):
    """A key operation that cannot be done (unknown key, bad role); the message says why."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the API key's user and role."""

    key_id: str
    user: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TaskRecord:
    task: str
    user: str
    created_at: float
    idempotency_key: str | None
    body_sha256: str


def default_database_url() -> str:
    """SQLite beside the local Dagster instance (DAGSTER_HOME, else ./.dagster_home)."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'videoagent.db'}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Accounts:
    def __init__(self, url: str | None = None):
        self.url = url or default_database_url()
        sqlite = self.url.startswith("sqlite")
        self.engine = sa.create_engine(self.url, pool_pre_ping=not sqlite,
                                       connect_args={"check_same_thread": False, "timeout": 30} if sqlite else {})
        metadata.create_all(self.engine)
        self._callers: dict[str, tuple[float, Caller | None]] = {}
        self._tasks: dict[str, TaskRecord] = {}  # a task's record does not change once made

    # -- API keys -----------------------------------------------------------------------------------
    def create_key(self, user: str, role: str = "user", label: str = "") -> tuple[str, str]:
        """A new key for a user: (key id, the whole key). The key is shown once; only its hash is kept."""
        if role not in ROLES:
            raise KeyError_(f"role {role!r} is not allowed; allowed: {', '.join(ROLES)}")
        if not re.fullmatch(USER_NAME, user or ""):
            raise KeyError_(f"user {user!r} is not allowed; allowed: 1-64 letters, digits and _ . @ + -")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(30)
        with self.engine.begin() as db:
            db.execute(api_keys.insert().values(key_id=key_id, user=user, role=role, label=label[:200],
                                                secret_sha256=_sha256(secret), created_at=time.time()))
        return key_id, f"{KEY_PREFIX}{key_id}_{secret}"

    def cached_caller(self, presented: str) -> tuple[bool, Caller | None]:
        """(known without the database, the caller): a key looked up within the last second, or one
        that cannot be a key at all."""
        if not KEY_PATTERN.fullmatch(presented):
            return True, None
        cached = self._callers.get(presented)
        if cached is not None and time.monotonic() - cached[0] < KEY_CACHE_S:
            return True, cached[1]
        return False, None

    def caller(self, presented: str) -> Caller | None:
        """The caller a presented key belongs to, or None (unknown, malformed or revoked); asked of
        the database at most once a second per key."""
        now = time.monotonic()
        cached = self._callers.get(presented)
        if cached is not None and now - cached[0] < KEY_CACHE_S:
            return cached[1]
        found = self._look_up(presented)
        if len(self._callers) > 10_000:
            self._callers.clear()
        self._callers[presented] = (now, found)
        return found

    def _look_up(self, presented: str) -> Caller | None:
        if not KEY_PATTERN.fullmatch(presented):
            return None
        key_id, secret = presented[len(KEY_PREFIX):].split("_", 1)
        with self.engine.connect() as db:
            row = db.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["secret_sha256"], _sha256(secret)):
            return None
        return Caller(row["key_id"], row["user"], row["role"])

    def keys(self) -> list[dict]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(api_keys.c.key_id, api_keys.c.user, api_keys.c.role, api_keys.c.label,
                                        api_keys.c.created_at, api_keys.c.revoked_at)
                              .order_by(api_keys.c.created_at)).mappings().all()
        return [dict(r) for r in rows]

    def revoke(self, key_id: str) -> None:
        key_id = key_id.removeprefix(KEY_PREFIX).split("_", 1)[0]
        with self.engine.begin() as db:
            done = db.execute(api_keys.update().where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                              .values(revoked_at=time.time())).rowcount
        if not done:
            raise KeyError_(f"no active key {key_id!r} (see `videoagent keys list`)")
        self._callers.clear()  # at once in this process (others within KEY_CACHE_S)

    # -- tasks made through the gateway -----------------------------------------------------------
    def add_task(self, task: str, user: str, idempotency_key: str | None, body_sha256: str) -> None:
        with self.engine.begin() as db:
            db.execute(gateway_tasks.insert().values(task=task, user=user, created_at=time.time(),
                                                     idempotency_key=idempotency_key, body_sha256=body_sha256))

    def forget_task(self, task: str) -> None:
        """Drop a task that was never started (its brief refused, its launch failed)."""
        self._tasks.pop(task, None)
        with self.engine.begin() as db:
            db.execute(gateway_tasks.delete().where(gateway_tasks.c.task == task))

    def task_by_idempotency(self, user: str, idempotency_key: str) -> TaskRecord | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(gateway_tasks).where(gateway_tasks.c.user == user,
                                                            gateway_tasks.c.idempotency_key == idempotency_key)
                             ).mappings().first()
        return _record(row)

    def task(self, task: str) -> TaskRecord | None:
        if task in self._tasks:
            return self._tasks[task]
        with self.engine.connect() as db:
            found = _record(db.execute(sa.select(gateway_tasks).where(gateway_tasks.c.task == task)).mappings().first())
        if found is not None:
            self._tasks[task] = found
        return found

    def tasks(self, user: str | None, *, tasks: list[str] | None = None, offset: int = 0,
              limit: int = 20) -> tuple[list[TaskRecord], int]:
        """A user's tasks (every user's for None), newest first, and how many there are in all."""
        where = []
        if user is not None:
            where.append(gateway_tasks.c.user == user)
        if tasks is not None:
            where.append(gateway_tasks.c.task.in_(tasks))
        with self.engine.connect() as db:
            total = db.execute(sa.select(sa.func.count()).select_from(gateway_tasks).where(*where)).scalar_one()
            rows = db.execute(sa.select(gateway_tasks).where(*where).order_by(gateway_tasks.c.seq.desc())
                              .offset(offset).limit(limit)).mappings().all()
        return [_record(r) for r in rows], total

    def all_tasks(self) -> list[TaskRecord]:
        with self.engine.connect() as db:
            return [_record(r) for r in db.execute(sa.select(gateway_tasks).order_by(gateway_tasks.c.seq)).mappings()]


def _record(row) -> TaskRecord | None:
    return TaskRecord(row["task"], row["user"], row["created_at"], row["idempotency_key"],
                      row["body_sha256"]) if row else None
