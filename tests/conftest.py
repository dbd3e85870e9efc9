"""Test harness: one database and one Redis per run, the real app, a clean slate per test.

By default the run uses a SQLite file in a temporary folder and an embedded redis-server.
With ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` set, it uses those servers instead: it
creates its own database (``accord_test_<random>``), applies the migrations to it, and drops
it at the end, so concurrent runs never collide. The key store is a database apart, as in
prod: ``<data_dir>/keys.sqlite3`` (the default) beside the SQLite file, or the PostgreSQL
database ``<test database>_keys``. Either way the schema comes from the migrations, never
from ``generate_schemas``.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager
from joserfc.jwk import ECKey
from tortoise import connections

from accord.cli.wiring import migrate_database
from accord.database import MODEL_MODULES  # noqa: F401
from accord.dev_mail import DevMailbox
from accord.embedded_redis import EmbeddedRedis
from accord.master_keys import dev_key_file
from accord.settings import Settings, load_settings
from models import clock as domain_clock
from models.consent.purposes import ensure_default_purposes
from models.keys import key_ring
from tests.worlds import world  # noqa: F401 - the fixture, for every test

RUN_ID = secrets.token_hex(4)

#: One receipt-signing key per run (as an operator would configure in prod).
RECEIPT_KEY = ECKey.generate_key("P-256").as_pem(private=True).decode()

#: Cheaper argon2 for speed; the production defaults are used by bench/login.py.
FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_kib": 8192}


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return url if url and url.startswith(("postgres://", "postgresql://")) else None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def key_store_url(database_url: str) -> str | None:
    """The run's key store beside ``database_url``: PostgreSQL's ``<name>_keys``; None
    with SQLite (the default, ``<data_dir>/keys.sqlite3``)."""
    if database_url.startswith("sqlite://"):
        return None
    return _with_database(database_url, urlsplit(database_url).path.lstrip("/") + "_keys")


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgres" if _postgres_url() else "sqlite"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("accord-var")


@pytest.fixture(scope="session")
async def database_url(data_dir: Path) -> AsyncIterator[str]:
    admin_url = _postgres_url()
    if admin_url is None:
        yield f"sqlite:///{data_dir / 'test.sqlite3'}"
        return
    name = f"accord_test_{RUN_ID}"
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for database in (name, f"{name}_keys"):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    yield _with_database(admin_url, name)
    admin = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for database in (name, f"{name}_keys"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """An embedded server, or a logical database of the configured one that this run claims
    for itself (arq's keys are global, and some tests flush the database): concurrent runs
    against one Redis never see each other's jobs, like their PostgreSQL databases."""
    configured = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if not configured:
        with EmbeddedRedis() as server:
            yield server.url
        return
    url = _claim_redis_database(configured)
    yield url
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


RUN_CLAIM = "accord-test-run"


def _claim_redis_database(url: str) -> str:
    parts = urlsplit(url)
    for number in range(15, 0, -1):
        candidate = urlunsplit(parts._replace(path=f"/{number}"))
        client = redis.Redis.from_url(candidate)
        try:
            if client.dbsize() == 0 and client.set(RUN_CLAIM, RUN_ID, nx=True, ex=3600):
                return candidate
        finally:
            client.close()
    raise RuntimeError(f"no free logical database (1-15) on {url} for this test run")


#: The local SMTP server every test app sends e-mail to (see the ``mailbox`` fixture).
MAILBOX = DevMailbox(Path(tempfile.gettempdir()) / f"accord-test-mail-{RUN_ID}", port=0)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[DevMailbox]:
    """A real SMTP server (aiosmtpd) on a free port; ``received`` holds what arrived."""
    MAILBOX.start()
    yield MAILBOX
    MAILBOX.stop()


def make_settings(data_dir: Path, database_url: str, redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_port": MAILBOX.port,
        "env": "dev",
        "data_dir": data_dir,
        "database_url": database_url,
        "key_store_url": key_store_url(database_url),
        "redis_url": redis_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "receipt_signing_key": RECEIPT_KEY,
        "queue_name": f"accord-test-{RUN_ID}:queue",
        "redis_key_prefix": f"accord-test-{RUN_ID}",
        **FAST_HASHING,
    }
    values.update(overrides)
    master = ("master_key", "master_key_file", "vault_transit_key")
    if values["env"] == "prod" and not any(values.get(name) for name in master):
        # Prod needs a master key: the one the tests' database already uses in dev.
        values["master_key_file"] = dev_key_file(load_settings(data_dir=data_dir))
    return load_settings(**values)


@pytest.fixture(scope="session")
async def settings(
    data_dir: Path, database_url: str, redis_url: str, mailbox: DevMailbox
) -> Settings:
    settings = make_settings(data_dir, database_url, redis_url)
    await migrate_database(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings, redis_url: str) -> AsyncIterator[Any]:
    from api.app import create_app

    application = create_app(settings, redis_url)
    async with LifespanManager(application) as manager:
        yield manager.app


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:
        yield http


@pytest.fixture
async def raw_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees what the app answers even when it fails (an HTTP 500), where
    ``client`` would raise the app's exception instead."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://accord.test") as http:
        yield http


async def _tables_by_connection() -> dict[str, list[str]]:
    """The data's tables and the key store's, each under its connection."""
    from tortoise import Tortoise

    found: dict[str, list[str]] = {}
    for model in Tortoise.apps.get_models_iterable():
        found.setdefault(model._meta.default_connection or "default", []).append(
            model._meta.db_table
        )
    return found


@pytest.fixture(autouse=True)
async def clean_slate(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts with empty tables and no rate-limit counters or queued jobs."""
    yield
    if "app" not in request.fixturenames:
        return
    for name, tables in (await _tables_by_connection()).items():
        db = connections.get(name)
        if db.capabilities.dialect == "sqlite":
            for table in tables:
                await db.execute_script(f'DELETE FROM "{table}"')
        else:
            quoted = ", ".join(f'"{t}"' for t in tables)
            await db.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    key_ring.forget()  # the key rows it held are gone
    await ensure_default_purposes()
    client = aioredis.from_url(request.getfixturevalue("redis_url"))
    try:
        await client.flushdb()  # this run's own database (or embedded server)
        await client.set(RUN_CLAIM, RUN_ID, ex=3600)
    finally:
        await client.aclose()


class GraphQL:
    """Post a GraphQL operation the way a client does."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if not expect_errors:
            assert "errors" not in body, body["errors"]
        return body


class Clock:
    """The domain's time as a test sees it: ``use(now)`` makes every rule read the time
    from ``now`` (``models.clock.now`` is the one patch point), ``restore()`` puts the real
    clock back, as the end of the test does anyway."""

    real = staticmethod(domain_clock.now)

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def use(self, now: Callable[[], datetime]) -> None:
        self._monkeypatch.setattr(domain_clock, "now", now)

    def restore(self) -> None:
        self._monkeypatch.setattr(domain_clock, "now", self.real)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def app_with(app, data_dir, database_url, redis_url):
    """Another instance of the app with some settings changed, as an HTTP client."""
    from contextlib import asynccontextmanager

    from api.app import create_app

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        url = overrides.pop("redis_url", redis_url)
        settings = make_settings(data_dir, database_url, url, **overrides)
        application = create_app(settings, url, own_orm=False)
        async with LifespanManager(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://other") as http:
                yield http

    return start
