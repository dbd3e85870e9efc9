"""The process's keys: which settings (master key, key store, cache time) its sealed fields
and blind indexes use. The ORM hooks that seal and open rows have no request to take them
from, so the app, the worker, the CLI and the tests ``install`` them when they start the ORM.
"""

from __future__ import annotations

from collections.abc import Callable

from accord.settings import Settings

_settings: list[Settings] = []
#: What a module forgets when other settings are installed (its cached keys).
_caches: list[Callable[[], None]] = []


def install(settings: Settings) -> None:
    _settings[:] = [settings]
    forget()


def installed() -> Settings:
    if not _settings:
        raise RuntimeError("keys used before models.keys.key_ring.install(settings)")
    return _settings[0]


def keeps_cache(forget_cache: Callable[[], None]) -> None:
    _caches.append(forget_cache)


def forget() -> None:
    """Every key this process holds is dropped (installed anew, or a key destroyed here)."""
    for forget_cache in _caches:
        forget_cache()
