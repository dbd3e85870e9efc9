"""The job transport, kept thin so that arq (in maintenance mode) can be swapped out.

The database is the ledger and Redis only carries pointers: a job argument is always an id
of a row that says what is owed, and a job id is derived from that row, so enqueuing the
same promise twice is harmless. Jobs are named, given their ids and queued in one place,
``models.jobs``, so ``api`` never imports ``workers``.

A job id also names a generation, because arq holds on to the id of a job whose worker
died: its job key stays, so the same id cannot be queued again, and its in-progress key
keeps every worker off it for the longest timeout of any function plus 10 s. So a retry
after a crash gets a new id: a deletion's names its attempt; the others name the lease
period they were queued in (``models.jobs.job_id``), a period as long as the job timeout, so
a job that died holds its id no longer than one period and the next sweep after that
queues its work afresh. (The dead job itself runs once more when arq's hold ends and finds
nothing left to do: every job is idempotent.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.jobs import deserialize_job
from redis.exceptions import RedisError

log = structlog.get_logger("accord.queue")


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    settings.conn_retries = 1
    return settings


#: What the transport raises when Redis is away (a caller that must say so catches these).
TRANSPORT_ERRORS = (RedisError, OSError)

#: The job timeout's default (``ACCORD_JOB_TIMEOUT_SECONDS``).
LEASE_SECONDS = 300


class Queue:
    def __init__(self, pool: ArqRedis, queue_name: str, lease_seconds: int = LEASE_SECONDS) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self.lease_seconds = lease_seconds

    @classmethod
    async def connect(cls, url: str, queue_name: str, lease_seconds: int = LEASE_SECONDS) -> Queue:
        pool = await create_pool(redis_settings(url), default_queue_name=queue_name)
        return cls(pool, queue_name, lease_seconds)

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        """Queue ``function(*args)``; False when a job with this id is already queued or kept.
        The transport only: callers queue through ``models.jobs``."""
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

    async def listen(self, name: str) -> AsyncIterator[str]:
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
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

    async def ticks(self, name: str, every: float) -> AsyncIterator[None]:
        """Yield once subscribed to ``name``, then each time a message arrives on it and at
        least every ``every`` seconds.

        For a caller that re-reads the database at each tick: subscribing comes before the
        first tick, so no message falls between a read and the subscription, and a lost
        message (or Redis being away) costs at most ``every`` seconds, never the change.
        """
        pubsub = self.pool.pubsub()
        listening = True
        try:
            try:
                await pubsub.subscribe(self.channel(name))
            except Exception:
                log.warning("pub/sub unavailable; ticking on time only", exc_info=True)
                listening = False
            yield
            while True:
                if listening:
                    try:
                        await pubsub.get_message(ignore_subscribe_messages=True, timeout=every)
                    except Exception:
                        log.warning("pub/sub lost; ticking on time only", exc_info=True)
                        listening = False
                        await asyncio.sleep(every)
                else:
                    await asyncio.sleep(every)
                yield
        finally:
            # Closing drops the connection, and the subscription with it, even after a
            # cancellation cut a read short.
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # as above


class JobStats:
    """Counts the workers keep in Redis so that any API process can report them: jobs
    started, succeeded and failed by function, failures of the last hour, and messages sent
    by channel and kind. Counters only; losing them loses no work."""

    def __init__(self, pool: ArqRedis, prefix: str, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self.jobs = f"{prefix}:metrics:jobs"
        self.failures = f"{prefix}:metrics:failures"
        self.sent = f"{prefix}:metrics:sent"

    async def job(self, function: str, outcome: str) -> None:
        await self.pool.hincrby(self.jobs, f"{function}:{outcome}", 1)  # type: ignore[misc]  # redis-py types its commands sync-or-async
        if outcome == "failed":
            stamp = time.time()
            await self.pool.zadd(self.failures, {f"{function}:{stamp}": stamp})
            await self.pool.zremrangebyscore(self.failures, 0, stamp - 86_400)

    async def messages_sent(self, channel: str, kind: str, count: int) -> None:
        if count:
            await self.pool.hincrby(self.sent, f"{channel}:{kind}", count)  # type: ignore[misc]  # redis-py types its commands sync-or-async

    async def counters(self) -> tuple[dict[str, int], dict[str, int]]:
        # redis-py types its commands as sync-or-async results.
        jobs = await self.pool.hgetall(self.jobs)  # type: ignore[misc]
        sent = await self.pool.hgetall(self.sent)  # type: ignore[misc]
        return _decode(jobs), _decode(sent)

    async def status(self, sample: int = 1000) -> dict[str, Any]:
        """Queue depth, jobs running, failures in the last hour, and the functions of up to
        ``sample`` queued jobs."""
        queued = await self.pool.zcard(self.queue_name)
        in_progress = 0
        async for _ in self.pool.scan_iter(match=f"{in_progress_key_prefix}*", count=1000):
            in_progress += 1
        failed = await self.pool.zcount(self.failures, time.time() - 3600, "+inf")
        by_function: dict[str, int] = {}
        for job_id in await self.pool.zrange(self.queue_name, 0, sample - 1):
            raw = await self.pool.get(job_key_prefix + job_id.decode())
            if raw is None:
                continue
            try:
                name = deserialize_job(raw).function
            except Exception:
                name = "?"
            by_function[name] = by_function.get(name, 0) + 1
        return {
            "queued": queued,
            "in_progress": in_progress,
            "failed_last_hour": failed,
            "by_function": by_function,
        }


def _decode(counts: dict[bytes, bytes]) -> dict[str, int]:
    return {key.decode(): int(value) for key, value in counts.items()}
