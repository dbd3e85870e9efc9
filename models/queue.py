"""The job transport, kept thin so that arq (in maintenance mode) can be swapped out.

The database is the ledger and Redis only carries pointers: a job argument is always an id
of a row that says what is owed, and a job id is derived from that row, so enqueuing the
same promise twice is harmless. Callers name jobs by string, so ``api`` never imports
``workers``.
"""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1
    return settings


class Queue:
    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, url: str, queue_name: str) -> Queue:
        pool = await create_pool(redis_settings(url), default_queue_name=queue_name)
        return cls(pool, queue_name)

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        """Queue ``function(*args)``; False when a job with this id is already queued or kept."""
        job = await self.pool.enqueue_job(function, *args, _job_id=job_id)
        return job is not None

    async def ping(self) -> bool:
        return bool(await self.pool.ping())

    async def close(self) -> None:
        await self.pool.aclose()


class Broadcast:
    """Fire-and-forget notices between processes (Redis pub/sub): live updates only.

    Nothing that must not be lost travels here; a subscriber that was away reads the
    database, which has everything.
    """

    def __init__(self, pool: ArqRedis, prefix: str) -> None:
        self.pool = pool
        self.prefix = prefix

    def channel(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    async def publish(self, name: str, message: str) -> None:
        await self.pool.publish(self.channel(name), message)

    async def listen(self, name: str):
        """Yield messages published on ``name`` until the caller stops iterating."""
        pubsub = self.pool.pubsub()
        await pubsub.subscribe(self.channel(name))
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    data = item["data"]
                    yield data.decode() if isinstance(data, bytes) else data
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
