"""The worker's heartbeat: every few seconds it records in Redis that it is alive and how
many jobs it runs (``models.queue.JobStats.heartbeat``), so ``queueStatus``, ``accord
status`` and ``/metrics`` can tell a stopped worker from an idle one. A fact for operators
only: a missed beat changes nothing about which jobs run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import structlog
from redis.exceptions import RedisError

from models.queue import HEARTBEAT_SECONDS, JobStats

log = structlog.get_logger("accord.worker")


class Pulse:
    """Started by the worker's start-up hook, stopped by its shutdown hook; the jobs'
    wrapper (``workers.settings.observed``) counts the jobs running in ``running``."""

    def __init__(self, stats: JobStats) -> None:
        self.stats = stats
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.running = 0
        self._task: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        try:
            await self.stats.heartbeat(self.worker_id, self.running)
        except (RedisError, OSError) as error:  # Redis away: the next beat says it again
            log.warning("heartbeat not recorded", error=repr(error))

    async def _beat_on(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.beat()

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._beat_on())

    async def stop(self) -> None:
        """Stop beating and strike this worker off (once: the shutdown hook may run twice,
        ``accord.cli.worker.run_until_stopped``)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        with contextlib.suppress(RedisError, OSError):
            await self.stats.worker_stopped(self.worker_id)
