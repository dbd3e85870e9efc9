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
import itertools
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


#: Upper bounds (seconds) of the job duration histogram's buckets: in-app deliveries take
#: milliseconds, a deletion or an export minutes.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, math.inf)

#: How often a worker records its heartbeat, and how long after its last one it counts as
#: gone (three missed beats).
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL = 3 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class WorkerBeat:
    """A worker's last heartbeat: ``hostname:pid``, when, and how many jobs it ran then."""

    id: str
    last_seen: float
    running: int


@dataclass(frozen=True)
class Durations:
    """One function's job durations: count per bucket (cumulative, ``DURATION_BUCKETS``
    order), their sum and count, as a Prometheus histogram wants them."""

    buckets: tuple[int, ...]
    total: float
    count: int


class JobStats:
    """Facts the workers keep in Redis so that any API process can report them: jobs
    started, succeeded and failed by function, failures of the last hour, job durations,
    each function's last success (the sweeper's last run), the workers' heartbeats, and
    messages sent by channel and kind. Transport facts only: losing them loses no work."""

    def __init__(self, pool: ArqRedis, prefix: str, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name
        self.jobs = f"{prefix}:metrics:jobs"
        self.failures = f"{prefix}:metrics:failures"
        self.sent = f"{prefix}:metrics:sent"
        self.durations = f"{prefix}:metrics:durations"
        self.succeeded_at = f"{prefix}:metrics:succeeded-at"
        #: Worker id -> last heartbeat (a sorted set), and worker id -> jobs running (a hash).
        self.beats = f"{prefix}:workers:seen"
        self.running = f"{prefix}:workers:running"

    async def job(self, function: str, outcome: str) -> None:
        await self.pool.hincrby(self.jobs, f"{function}:{outcome}", 1)  # type: ignore[misc]  # redis-py types its commands sync-or-async
        if outcome == "failed":
            stamp = time.time()
            await self.pool.zadd(self.failures, {f"{function}:{stamp}": stamp})
            await self.pool.zremrangebyscore(self.failures, 0, stamp - 86_400)

    async def finished(self, function: str, seconds: float, succeeded: bool) -> None:
        """A run of ``function`` took ``seconds``: one more in its duration bucket, and, when
        it succeeded, the time it did (the sweeper's last run is the sweep's)."""
        bucket = next(b for b in DURATION_BUCKETS if seconds <= b)
        async with self.pool.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.durations, f"{function}:{bucket}", 1)
            pipe.hincrbyfloat(self.durations, f"{function}:sum", seconds)
            pipe.hincrby(self.durations, f"{function}:count", 1)
            if succeeded:
                pipe.hset(self.succeeded_at, function, str(time.time()))
            await pipe.execute()

    async def heartbeat(self, worker_id: str, running: int, ttl: float = HEARTBEAT_TTL) -> None:
        """Worker ``worker_id`` is alive with ``running`` jobs; it counts as gone ``ttl``
        seconds after its last beat (the keys expire with the last worker)."""
        stamp = time.time()
        async with self.pool.pipeline(transaction=False) as pipe:
            pipe.zadd(self.beats, {worker_id: stamp})
            pipe.hset(self.running, worker_id, str(running))
            pipe.zremrangebyscore(self.beats, 0, stamp - ttl)
            pipe.expire(self.beats, math.ceil(ttl))
            pipe.expire(self.running, math.ceil(ttl))
            await pipe.execute()

    async def worker_stopped(self, worker_id: str) -> None:
        async with self.pool.pipeline(transaction=False) as pipe:
            pipe.zrem(self.beats, worker_id)
            pipe.hdel(self.running, worker_id)
            await pipe.execute()

    async def workers(self, ttl: float = HEARTBEAT_TTL) -> list[WorkerBeat]:
        """The workers that beat within the last ``ttl`` seconds, by id."""
        seen = await self.pool.zrangebyscore(self.beats, time.time() - ttl, "+inf", withscores=True)
        running = _decode(await self.pool.hgetall(self.running))  # type: ignore[misc]  # as above
        return sorted(
            (
                WorkerBeat(member.decode(), float(score), running.get(member.decode(), 0))
                for member, score in seen
            ),
            key=lambda beat: beat.id,
        )

    async def last_success(self, function: str) -> float | None:
        """When a run of ``function`` last succeeded (a Unix time), if Redis remembers."""
        raw = await self.pool.hget(self.succeeded_at, function)  # type: ignore[misc]  # as above
        return float(raw) if raw is not None else None

    async def duration_histograms(self) -> dict[str, Durations]:
        """Each function's durations, with cumulative bucket counts."""
        raw = await self.pool.hgetall(self.durations)  # type: ignore[misc]  # as above
        fields: dict[str, dict[str, float]] = {}
        for key, value in raw.items():
            function, _, field = key.decode().rpartition(":")
            fields.setdefault(function, {})[field] = float(value)
        found: dict[str, Durations] = {}
        for function, values in sorted(fields.items()):
            counts = itertools.accumulate(int(values.get(str(b), 0)) for b in DURATION_BUCKETS)
            found[function] = Durations(
                tuple(counts), values.get("sum", 0.0), int(values.get("count", 0))
            )
        return found

    async def messages_sent(self, channel: str, kind: str, count: int) -> None:
        if count:
            await self.pool.hincrby(self.sent, f"{channel}:{kind}", count)  # type: ignore[misc]  # redis-py types its commands sync-or-async

    async def counters(self) -> tuple[dict[str, int], dict[str, int]]:
        # redis-py types its commands as sync-or-async results.
        jobs = await self.pool.hgetall(self.jobs)  # type: ignore[misc]
        sent = await self.pool.hgetall(self.sent)  # type: ignore[misc]
        return _decode(jobs), _decode(sent)

    async def running_jobs(self) -> set[str]:
        """Ids of this queue's jobs a worker holds now.

        arq marks a job taken with an in-progress key, but keeps a cron job's key for a
        minute after the run ends (``keep_cronjob_progress``), and a server's keys belong to
        every queue on it. A job in progress is still in its queue (arq removes it when it
        finishes), so a key counts only while its job is in this queue.
        """
        taken = [
            key.decode().removeprefix(in_progress_key_prefix)
            async for key in self.pool.scan_iter(match=f"{in_progress_key_prefix}*", count=1000)
        ]
        if not taken:
            return set()
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in taken:
                pipe.zscore(self.queue_name, job_id)
            scores = await pipe.execute()
        return {job_id for job_id, score in zip(taken, scores, strict=True) if score is not None}

    async def oldest_waiting_seconds(self, running: set[str], look_at: int = 100) -> float:
        """How long the oldest job that is due and not yet taken has waited (0: none).

        A job's score in arq's queue is when it may run (its enqueue time, or the time it
        was deferred to), so the first due entries that no worker holds are the oldest.
        """
        now_ms = time.time() * 1000
        entries = await self.pool.zrangebyscore(
            self.queue_name, "-inf", now_ms, start=0, num=look_at + len(running), withscores=True
        )
        for job_id, score in entries:
            if job_id.decode() not in running:
                return max(0.0, (now_ms - float(score)) / 1000)
        return 0.0

    async def status(self, sample: int = 1000) -> dict[str, Any]:
        """Jobs waiting (queued, not taken), jobs running, failures in the last hour, how
        long the oldest waiting job has waited, and the functions of up to ``sample``
        waiting jobs."""
        running = await self.running_jobs()
        queued = max(0, await self.pool.zcard(self.queue_name) - len(running))
        failed = await self.pool.zcount(self.failures, time.time() - 3600, "+inf")
        by_function: dict[str, int] = {}
        for job_id in await self.pool.zrange(self.queue_name, 0, sample - 1):
            if job_id.decode() in running:
                continue
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
            "in_progress": len(running),
            "failed_last_hour": failed,
            "by_function": by_function,
            "oldest_waiting_seconds": await self.oldest_waiting_seconds(running),
        }


def _decode(counts: dict[bytes, bytes]) -> dict[str, int]:
    return {key.decode(): int(value) for key, value in counts.items()}
