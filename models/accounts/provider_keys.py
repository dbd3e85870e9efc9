"""The keys that sign each OpenID Connect provider's ID tokens, fetched and kept fresh.

A provider is configured with its keys written out (``jwks``, or ``jwks_file``, read again
whenever it changes) or with where to fetch them: ``"discovery": "https://.../.well-known/
openid-configuration"`` (``"discovery": true`` means the issuer's own), or ``"jwks_uri"``.
Fetched keys are kept for ``oidc_keys_max_age`` and fetched again sooner when a token names
a ``kid`` they lack, which is how a provider's key rotation reaches us with no change of
configuration. Every fetch of one provider is at least ``oidc_keys_refresh_interval`` after
the previous one, in each process: a flood of tokens with made-up kids costs the provider one
request per interval, and a provider that is down is not asked again at every sign-in. When
a fetch fails, keys fetched before are still used (a provider that is down briefly does not
stop sign-in); with none, the caller gets ``PROVIDER_UNAVAILABLE``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import structlog
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, import_key

from accord.settings import check_fetch_url, remote_source
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError

log = structlog.get_logger("accord.oidc")

FETCH_TIMEOUT_SECONDS = 5.0
#: A discovery document or a JWKS larger than this is not one.
MAX_DOCUMENT_BYTES = 512 * 1024


class ProviderFetchError(Exception):
    """A provider's discovery document or keys could not be fetched or read."""


@lru_cache(maxsize=32)
def _written_key_set(jwks_json: str) -> KeySet:
    return _import_signing_keys(json.loads(jwks_json))


def _import_signing_keys(jwks: Any) -> KeySet:
    """The signature keys of a JWKS. A key of a type we cannot read, or one meant for
    encryption, is left out rather than making the whole set unusable."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise ValueError("a JWKS is an object with a list of keys")
    keys = []
    for data in jwks["keys"]:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            keys.append(import_key(data))
        except (JoseError, ValueError, TypeError, KeyError):
            continue
    return KeySet(keys)


@dataclass
class _Fetched:
    """One remote provider's keys in this process."""

    keys: KeySet | None = None
    fetched_at: float = float("-inf")  # monotonic time of the last fetch that worked
    attempted_at: float = float("-inf")  # monotonic time of the last fetch, worked or not
    failing: bool = False  # the last fetch failed
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ProviderKeys:
    """The configured providers and their keys: one per app, closed with it."""

    def __init__(
        self,
        providers: dict[str, dict[str, Any]],
        *,
        max_age: timedelta = timedelta(hours=1),
        refresh_interval: timedelta = timedelta(minutes=1),
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.providers = providers
        self.max_age = max_age.total_seconds()
        self.refresh_interval = refresh_interval.total_seconds()
        self._http = http
        self._own_http = http is None
        self._fetched: dict[str, _Fetched] = {}

    def config(self, name: str) -> dict[str, Any] | None:
        return self.providers.get(name)

    async def aclose(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()
            self._http = None

    async def key_set(self, name: str) -> KeySet:
        """The provider's current keys: written ones, or fetched ones younger than
        ``max_age`` (fetched now if older, within the refresh interval's limit)."""
        config = self.providers[name]
        source = remote_source(config)
        if source is None:
            return self._written(config)
        entry = self._fetched.setdefault(name, _Fetched())
        if entry.keys is not None and time.monotonic() - entry.fetched_at < self.max_age:
            return entry.keys
        async with entry.lock:
            if entry.keys is not None and time.monotonic() - entry.fetched_at < self.max_age:
                return entry.keys  # another request fetched them while this one waited
            if time.monotonic() - entry.attempted_at >= self.refresh_interval:
                await self._fetch_into(entry, name, config, source)
            if entry.keys is None:
                raise self._unavailable(name, entry)
            return entry.keys

    async def refresh(self, name: str, tried: KeySet) -> KeySet | None:
        """Keys newer than ``tried`` (which lacked a token's ``kid``), or None when there are
        none to be had: written keys, or the last fetch worked and was within the refresh
        interval. ``PROVIDER_UNAVAILABLE`` when the provider cannot be asked (its last fetch
        failed, or this one did): the key may be one it has published since."""
        config = self.providers[name]
        source = remote_source(config)
        if source is None:
            return None
        entry = self._fetched.setdefault(name, _Fetched())
        async with entry.lock:
            if entry.keys is not None and entry.keys is not tried:
                return entry.keys  # fetched by another request while this one waited
            if time.monotonic() - entry.attempted_at < self.refresh_interval:
                if entry.failing:  # the token's key may be new: only the provider can say
                    raise self._unavailable(name, entry)
                return None
            if not await self._fetch_into(entry, name, config, source):
                raise self._unavailable(name, entry)
            return entry.keys

    def _unavailable(self, name: str, entry: _Fetched) -> DomainError:
        """The provider could not be asked: ``retryAfter`` says when it will be again."""
        wait = self.refresh_interval - (time.monotonic() - entry.attempted_at)
        return DomainError(
            AccountErrorCode.PROVIDER_UNAVAILABLE,
            "provider",
            f"the keys of provider {name!r} could not be fetched; try again later",
            retry_after=max(1, math.ceil(wait)),
        )

    def _written(self, config: dict[str, Any]) -> KeySet:
        if "jwks" in config:
            jwks = config["jwks"]
            return _written_key_set(jwks if isinstance(jwks, str) else json.dumps(jwks))
        return _written_key_set(Path(config["jwks_file"]).read_text())

    async def _fetch_into(
        self, entry: _Fetched, name: str, config: dict[str, Any], source: str
    ) -> bool:
        """Fetch the provider's keys into ``entry``; False (and logged) if that failed."""
        entry.attempted_at = time.monotonic()
        try:
            entry.keys = await self._fetch(config, source)
        except ProviderFetchError as error:
            entry.failing = True
            log.warning(
                "provider keys not fetched",
                provider=name,
                error=str(error),
                using_older_keys=entry.keys is not None,
            )
            return False
        entry.fetched_at = time.monotonic()
        entry.failing = False
        log.info("provider keys fetched", provider=name, kids=[k.kid for k in entry.keys])
        return True

    async def _fetch(self, config: dict[str, Any], source: str) -> KeySet:
        jwks_uri = source
        if not config.get("jwks_uri"):
            document = await self._get_json(source)
            # OpenID Connect Discovery 4.3: the document must be the configured issuer's.
            if document.get("issuer") != config["issuer"]:
                raise ProviderFetchError(
                    f"the discovery document names issuer {document.get('issuer')!r}, "
                    f"not {config['issuer']!r}"
                )
            named = document.get("jwks_uri")
            if not isinstance(named, str):
                raise ProviderFetchError("the discovery document has no jwks_uri")
            jwks_uri = named
            try:
                check_fetch_url(jwks_uri)
            except ValueError as error:
                raise ProviderFetchError(f"jwks_uri {error}") from None
        try:
            keys = _import_signing_keys(await self._get_json(jwks_uri))
        except ValueError as error:
            raise ProviderFetchError(f"{jwks_uri}: {error}") from None
        if not keys.keys:
            raise ProviderFetchError(f"{jwks_uri} has no signature key")
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_SECONDS,
                follow_redirects=False,
                headers={"accept": "application/json"},
            )
        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ProviderFetchError(f"{url} answered HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise ProviderFetchError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
        except httpx.HTTPError as error:
            raise ProviderFetchError(f"{url}: {type(error).__name__} {error}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise ProviderFetchError(f"{url} did not send JSON") from None
        if not isinstance(document, dict):
            raise ProviderFetchError(f"{url} did not send a JSON object")
        return document
