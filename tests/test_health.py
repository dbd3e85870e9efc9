"""Liveness and readiness, including Redis going away and coming back."""

from __future__ import annotations

from accord.embedded_redis import EmbeddedRedis


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_when_all_parts_answer(client):
    response = await client.get("/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready"}


async def test_readyz_names_redis_while_it_is_down_and_recovers(app_with, tmp_path):
    socket_dir = tmp_path / "redis"
    socket_dir.mkdir()
    server = EmbeddedRedis(socket_dir).start()
    try:
        async with app_with(redis_url=server.url) as http:
            assert (await http.get("/readyz")).status_code == 200
            server.stop()
            down = await http.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "failing": ["redis"]}
            server.start()
            back = await http.get("/readyz")
            assert back.status_code == 200, back.text
    finally:
        server.stop()


async def test_readyz_names_the_database_when_it_fails(client, monkeypatch):
    from api import health

    async def broken() -> None:
        raise ConnectionError("database went away")

    monkeypatch.setattr(health, "_database", broken)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
