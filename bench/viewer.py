"""The viewer page under load: GraphQL against a bare endpoint serving the same JSON.

    .venv/bin/python bench/viewer.py [--seconds 8] [--clients 16]

`accord serve` answers `viewer { account fields, favorites(first: 50), feedback(first: 50) }`
for a signed-in account with 50 favorites and 50 feedback items; a bare Starlette app over
the same SQLite file answers the same JSON from hand-written SQL (the baseline). Both run
as their own uvicorn process, loaded in turn by the same light clients (`bench/load.py`)
that have a core of their own. Prints requests/s of each, their ratio
(goal >= 0.5) and the SQL queries one GraphQL request runs. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import fetch, hammer, pin_server, pinned_load, request_bytes  # noqa: E402
from tests.processes import clean_env, free_port, wait_ready  # noqa: E402

QUERY = """{ viewer { id accountName nickname avatarUrl gender region signature
  favorites(first: 50) { edges { node { id itemType itemId note createdAt } } }
  feedback(first: 50) { edges { node { id kind subject body rating visibility createdAt } } } } }"""

BARE = """
import hashlib, os, sqlite3
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DB = os.environ["BENCH_DB"]
connection = sqlite3.connect(DB, check_same_thread=False)
connection.row_factory = sqlite3.Row

def iso(value):
    return value.replace(" ", "T") if value else value

async def viewer(request: Request) -> JSONResponse:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    digest = hashlib.sha256(token.encode()).hexdigest()
    account = connection.execute(
        "SELECT a.* FROM session s JOIN account a ON a.id = s.account_id "
        "WHERE s.token_hash = ? AND a.status = 'ACTIVE'", (digest,)).fetchone()
    if account is None:
        return JSONResponse({"data": {"viewer": None}})
    favorites = connection.execute(
        "SELECT id, item_type, item_id, note, created_at FROM favorite WHERE account_id = ? "
        "ORDER BY id DESC LIMIT 50", (account["id"],)).fetchall()
    feedback = connection.execute(
        "SELECT id, kind, subject, body, rating, visibility, created_at FROM feedback "
        "WHERE author_id = ? ORDER BY id DESC LIMIT 50", (account["id"],)).fetchall()
    return JSONResponse({"data": {"viewer": {
        "id": str(account["id"]), "accountName": account["account_name"],
        "nickname": account["nickname"], "avatarUrl": account["avatar_url"],
        "gender": account["gender"], "region": account["region"],
        "signature": account["signature"],
        "favorites": {"edges": [{"node": {"id": str(f["id"]), "itemType": f["item_type"],
            "itemId": f["item_id"], "note": f["note"], "createdAt": iso(f["created_at"])}}
            for f in favorites]},
        "feedback": {"edges": [{"node": {"id": str(f["id"]), "kind": f["kind"],
            "subject": f["subject"], "body": f["body"], "rating": f["rating"],
            "visibility": f["visibility"], "createdAt": iso(f["created_at"])}}
            for f in feedback]},
    }}})

app = Starlette(routes=[Route("/viewer", viewer), Route("/readyz", lambda r: JSONResponse({}))])
"""


async def setup(tmp: str) -> tuple[str, int]:
    """An account with 50 favorites and 50 feedback items; returns its token and the number
    of SQL queries one GraphQL viewer request runs."""
    from asgi_lifespan import LifespanManager

    from accord.cli.wiring import migrate_database
    from accord.embedded_redis import EmbeddedRedis
    from accord.settings import load_settings
    from api.app import create_app

    with EmbeddedRedis() as redis:
        settings = load_settings(
            data_dir=f"{tmp}/var",
            redis_url=redis.url,
            argon2_time_cost=1,
            argon2_memory_kib=8192,
            log_level="WARNING",
        )
        await migrate_database(settings)
        app = create_app(settings, redis.url)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
                body = (
                    await http.post(
                        "/graphql",
                        json={
                            "query": """mutation { register(input: {
                    accountName: "bench.viewer", password: "correct horse battery staple",
                    nickname: "Bench", avatarUrl: "https://img.example/a.png", region: "FR",
                    signature: "hello"}) { token } }"""
                        },
                    )
                ).json()
                token = body["data"]["register"]["token"]
                auth = {"authorization": f"Bearer {token}"}
                for i in range(50):
                    await http.post(
                        "/graphql",
                        headers=auth,
                        json={
                            "query": f"""mutation {{
                        addFavorite(input: {{itemType: "product", itemId: "p{i}",
                        note: "n{i}"}}) {{ errors {{ code }} }} }}"""
                        },
                    )
                    await http.post(
                        "/graphql",
                        headers=auth,
                        json={
                            "query": f"""mutation {{
                        submitFeedback(input: {{kind: COMMENT, subject: "s", body: "body {i}",
                        visibility: PUBLIC}}) {{ errors {{ code }} }} }}"""
                        },
                    )
                queries = _Counter()
                logger = logging.getLogger("tortoise.db_client")
                logger.addHandler(queries)
                logger.setLevel(logging.DEBUG)
                await http.post("/graphql", headers=auth, json={"query": QUERY})
                logger.removeHandler(queries)
    return token, queries.count


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            self.count += 1


def serve(command: list[str], env: dict, cwd: str, port: int) -> subprocess.Popen:
    log = Path(cwd) / f"server-{port}.log"
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=pin_server,  # sets the CPU affinity only
    )
    wait_ready(port, process, log)
    return process


def run(seconds: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        token, queries = asyncio.run(setup(tmp))
        env = clean_env(
            ACCORD_DATA_DIR=f"{tmp}/var",
            ACCORD_LOG_LEVEL="WARNING",
            BENCH_DB=f"{tmp}/var/accord.sqlite3",
        )
        (Path(tmp) / "bare_viewer.py").write_text(BARE)
        graphql_port, bare_port = free_port(), free_port()
        graphql = serve(
            [sys.executable, "-m", "accord", "serve", "--port", str(graphql_port)],
            env,
            tmp,
            graphql_port,
        )
        auth = {"authorization": f"Bearer {token}"}
        graphql_request = request_bytes("POST", "/graphql", auth, {"query": QUERY})
        try:
            body = json.loads(asyncio.run(fetch(graphql_port, graphql_request)))
            assert len(body["data"]["viewer"]["favorites"]["edges"]) == 50, body
            with pinned_load():
                graphql_rate = asyncio.run(hammer(graphql_port, graphql_request, seconds, clients))
        finally:
            graphql.terminate()
            graphql.wait()
        bare = serve(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_viewer:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
            ],
            env,
            tmp,
            bare_port,
        )
        bare_request = request_bytes("GET", "/viewer", auth)
        try:
            same = json.loads(asyncio.run(fetch(bare_port, bare_request)))
            assert same["data"]["viewer"]["accountName"] == "bench.viewer"
            with pinned_load():
                bare_rate = asyncio.run(hammer(bare_port, bare_request, seconds, clients))
        finally:
            bare.terminate()
            bare.wait()
    print(f"clients: {clients}")
    print(f"sql_queries_per_request: {queries}")
    print(f"graphql_requests_per_s: {graphql_rate:.0f}")
    print(f"bare_sql_requests_per_s: {bare_rate:.0f}")
    print(f"ratio_vs_bare: {graphql_rate / bare_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    try:
        run(args.seconds, args.clients)
    except Exception as error:  # a benchmark reports, it does not fail the build
        print(f"error: {error!r}")


if __name__ == "__main__":
    main()
