"""Keyed hashes: values Accord must recognise again but never read back (a verification
code, a recovery code, a device or network an account signed in from).

HMAC-SHA256 under a key of each purpose's own, derived from the deployment's secret
(``Settings.secret()``): a leaked table is no list to test guesses against offline, and a
hash made for one purpose says nothing about the same value under another. Changing the
secret makes every such hash unrecognisable, which each user of this module documents.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from accord.settings import Settings


@functools.lru_cache(maxsize=32)
def _purpose_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"accord keyed hash: {purpose}".encode(), hashlib.sha256).digest()


def keyed_hash(settings: Settings, purpose: str, *parts: object) -> str:
    """Hex HMAC-SHA256 of ``parts`` (joined unambiguously) under ``purpose``'s key."""
    message = "\x00".join(str(part) for part in parts).encode()
    return hmac.new(_purpose_key(settings.secret(), purpose), message, hashlib.sha256).hexdigest()
