"""Brute-force protection for password logins that hands an attacker no lock on the user,
counted in Redis so every API process agrees.

Three limits (OWASP's advice on account lockout):

- **per (account, client address)**, small (``5/minute;20/hour``): the one that stops a
  guesser. Every attempt is counted *before* its password is checked, so guesses sent at
  once cannot slip past, and a success clears it: what it holds are failures. Over it, that
  address is refused even the right password, and no hash work is spent on it; every other
  address is untouched, so guessing from one address locks only that address out.
- **per client address**, larger (``20/minute;200/hour``), over every account: bounds how
  many accounts (and hashes) one address may try. Counted before the check like the first,
  successes included, and never cleared (a success on an account of its own must not buy an
  attacker a fresh budget).
- **per account as a whole**, far above what one address may try (``100/hour``): counts
  *failures* only (after the check), so only a distributed attack reaches it. Over it, an
  address that has guessed wrong for this account within the longest (account, address)
  window is refused; an address that has not, the user's own, may still try the password.
  That is the price of never locking the user out: past the cap, each fresh address gets
  one guess and then joins the refused ones.

A client address is an IPv4 address or an IPv6 /64 (one subscriber's network), so that the
addresses a single host can take buy no fresh budget.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from accord.settings import Settings
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError

IPV6_SUBSCRIBER_PREFIX = 64


def _storage_uri(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return f"async+redis+unix://{parts.path}"
    return "async+" + redis_url


def client_network(address: str) -> str:
    """The address a limit counts: an IPv6 address's /64, an IPv4 address itself, and
    anything else (a test transport's name) as given."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_SUBSCRIBER_PREFIX}", strict=False))
    return str(parsed)


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginLimits:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        # redis-py, the client arq uses too: about half the CPU per command of limits'
        # default (coredis). One connection that commands take in turn (a login sends five
        # to seven, each a fraction of a millisecond; password hashing caps a process far
        # below what one connection carries) costs less per command than a pool's checkout
        # and return. The pool is ours so that shutdown can close it.
        self.pool = ConnectionPool.from_url(redis_url)
        self.storage = RedisStorage(
            _storage_uri(redis_url),
            implementation="redispy",
            # limits types its options as scalars; redis-py takes the pool as one.
            connection_pool=self.pool,  # type: ignore[arg-type]
            single_connection_client=True,
            key_prefix=f"{settings.redis_key_prefix}-login",
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_account_and_address: list[RateLimitItem] = parse_many(
            settings.login_limit_per_account_and_address
        )
        self.per_address: list[RateLimitItem] = parse_many(settings.login_limit_per_address)
        self.per_account: list[RateLimitItem] = parse_many(settings.login_limit_per_account)
        #: The window whose failures make an address "one that has guessed wrong".
        self.longest_per_account_and_address = max(
            self.per_account_and_address, key=lambda item: item.get_expiry()
        )

    async def attempt(self, account_name: str, address: str, *, count_address: bool = True) -> None:
        """Count one attempt before its password is checked; raise RATE_LIMITED (with
        retry-after) when this address may not try this account now.

        ``count_address=False`` when the address was counted already for this sign-in
        (a passkey sign-in counts it when it hands out the challenge: ``attempt_from``)."""
        account, network = _key(account_name), _key(client_network(address))
        for item in self.per_account_and_address:
            if not await self.limiter.hit(item, "pair", account, network):
                await self._refuse(item, "pair", account, network)
        if count_address:
            await self._hit_address(network)
        for item in self.per_account:
            if not await self.limiter.test(item, "account", account):
                if not await self._has_not_guessed_wrong(account, network):
                    await self._refuse(item, "account", account)
                break

    async def attempt_from(self, address: str) -> None:
        """Count one sign-in attempt of this address, whatever the account (the per-address
        limit alone): a passkey sign-in, whose account is known only from its answer,
        counts here when it is handed its challenge."""
        await self._hit_address(_key(client_network(address)))

    async def _hit_address(self, network: str) -> None:
        for item in self.per_address:
            if not await self.limiter.hit(item, "address", network):
                await self._refuse(item, "address", network)

    async def _has_not_guessed_wrong(self, account: str, network: str) -> bool:
        """No failure for the account from this address within the longest window: the
        (account, address) counter holds only the attempt being made."""
        item = self.longest_per_account_and_address
        stats = await self.limiter.get_window_stats(item, "pair", account, network)
        return item.amount - stats.remaining <= 1

    async def _refuse(self, item: RateLimitItem, *identifiers: str) -> None:
        stats = await self.limiter.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise DomainError(
            AccountErrorCode.RATE_LIMITED,
            None,
            f"too many sign-in attempts; try again in {retry_after} s",
            retry_after=retry_after,
        )

    async def failed(self, account_name: str) -> None:
        """A wrong password (or no such account): one failure against the account as a
        whole. (The address's counters already hold the attempt.)"""
        account = _key(account_name)
        for item in self.per_account:
            await self.limiter.hit(item, "account", account)

    async def succeeded(self, account_name: str, address: str) -> None:
        """The password was right: this address's failures for the account are forgiven.
        The address's own counter and the account-wide failures stay."""
        account, network = _key(account_name), _key(client_network(address))
        for item in self.per_account_and_address:
            await self.limiter.clear(item, "pair", account, network)

    async def close(self) -> None:
        # limits has no close of its own: the client it made over our pool holds the one
        # connection, which goes back to the pool before the pool closes. (``bridge`` is typed
        # as the base bridge; the redis-py one we asked for has ``get_connection``.)
        await self.storage.bridge.get_connection().aclose()  # type: ignore[attr-defined]
        await self.pool.disconnect()
