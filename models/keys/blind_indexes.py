"""Blind indexes: how a sealed value that must be found by equality (an account name at
login, an e-mail, a provider's subject, a device id) is found without storing it in the clear.

Beside the sealed column, a column holds the first 128 bits of HMAC-SHA256 (tink's
``HMAC_SHA256_PRF``) of ``<purpose> NUL <value>``, under the deployment's blind-index key,
which lives in the key store wrapped by the master key like every data key
(``models.keys.data_keys.BLIND_INDEX_SUBJECT``), never in the database: a copy of the
database alone is no list to test guessed names or addresses against. The purpose keeps
one column's index from matching another's. The key is never destroyed (an index names no
one once its row is gone) and is not rotated: a new key would mean re-indexing every row.
"""

from __future__ import annotations

from tink import prf

from models.keys import data_keys, key_ring

#: 16 bytes, hex: collisions are out of reach at any table size.
INDEX_BYTES = 16
_key: list[prf.Prf] = []


key_ring.keeps_cache(_key.clear)


async def blind_index(purpose: str, value: str) -> str:
    """The blind index of ``value`` for ``purpose`` (32 hex characters)."""
    if not _key:
        _key.append(await data_keys.blind_index_key(key_ring.installed()))
    digest: bytes = _key[0].compute(f"{purpose}\x00{value}".encode(), INDEX_BYTES)
    return digest.hex()
