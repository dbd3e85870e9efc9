"""Brute-force protection for password logins, counted in Redis so every API process agrees.

Every attempt is counted per client address and per account name *before* the password is
checked, so concurrent guesses cannot slip past the limit; a successful login clears the
account's counter (not the address's, or one valid account would reset an attacker's budget).
"""

from __future__ import annotations

import hashlib
import math
import time
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from accord.settings import Settings
from models.account_errors import AccountErrorCode
from models.errors import DomainError


def _storage_uri(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return f"async+redis+unix://{parts.path}"
    return "async+" + redis_url


class LoginLimits:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        # redis-py, the client arq uses too: about half the CPU per command of limits'
        # default (coredis). One connection that commands take in turn (a login sends three,
        # each a fraction of a millisecond; password hashing caps a process far below what
        # one connection carries) costs less per command than a pool's checkout and return.
        # The pool is ours so that shutdown can close it.
        self.pool = ConnectionPool.from_url(redis_url)
        self.storage = RedisStorage(
            _storage_uri(redis_url),
            implementation="redispy",
            connection_pool=self.pool,
            single_connection_client=True,
            key_prefix=f"{settings.redis_key_prefix}-login",
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_account: list[RateLimitItem] = parse_many(settings.login_limit_per_account)
        self.per_address: list[RateLimitItem] = parse_many(settings.login_limit_per_address)

    @staticmethod
    def _key(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()[:32]

    async def attempt(self, account_name: str, address: str) -> None:
        """Count one attempt; raise RATE_LIMITED (with retry-after) when over a limit."""
        checks = [(item, "account", self._key(account_name)) for item in self.per_account]
        checks += [(item, "address", self._key(address)) for item in self.per_address]
        for item, kind, key in checks:
            if not await self.limiter.hit(item, kind, key):
                stats = await self.limiter.get_window_stats(item, kind, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise DomainError(
                    AccountErrorCode.RATE_LIMITED,
                    None,
                    f"too many sign-in attempts; try again in {retry_after} s",
                    retry_after=retry_after,
                )

    async def succeeded(self, account_name: str) -> None:
        for item in self.per_account:
            await self.limiter.clear(item, "account", self._key(account_name))

    async def close(self) -> None:
        # limits has no close of its own: the client it made over our pool holds the one
        # connection, which goes back to the pool before the pool closes.
        await self.storage.bridge.get_connection().aclose()
        await self.pool.disconnect()
