"""Data keys: one per data subject (``account:<id>``, ``device:#<reference>``), so that
destroying one key makes everything encrypted under it unreadable everywhere at once, in
every copy and backup (crypto-shredding, ``destroy``).

What is stored (``SubjectKey``): for each purpose (``KeyPurpose``) one tink keyset, in
tink's *encrypted keyset* format (the ``EncryptedKeyset`` protocol buffer) encrypted by the
master key (``accord.master_keys``) with ``accord data key|<subject>|<purpose>`` as
associated data, so a wrapped keyset copied onto another subject's row does not decrypt;
the map of purposes is a JSON object of base64 strings, so a purpose added later (a
deterministic AEAD, say) is one more entry, not a new format. The row also names the master
key that wrapped it (``master_key_id``), so both keys are read during a rotation.

The ciphertexts are tink's own, not ours:

- AEAD (``AES256_GCM``, for fields): 5 bytes of tink output prefix (0x01 and the 4-byte
  key id, so a keyset holding rotated keys knows which one to use) + 12-byte nonce +
  ciphertext + 16-byte GCM tag.
- Streaming AEAD (``AES256_GCM_HKDF_1MB``, for files): a header (its length, a per-file
  salt from which HKDF derives the file's own AES key, and a nonce prefix), then segments
  of at most 1 MiB, each sealed with its own GCM tag and a nonce marking its position and
  whether it is the last, so truncating, reordering or flipping any byte is detected. The
  file's storage key is its associated data (a file moved to another key does not open).

Keys are made lazily, on first use, race-safe (one row per subject; a loser of the insert
reads the winner's). A decrypted keyset is kept in the process for
``ACCORD_DATA_KEY_CACHE_SECONDS``, keyed by the wrapped bytes. A file's use reads the row
first (one indexed lookup), so a destroyed key opens no file in any process; sealed fields
(``field_key``, ``field_keys``) keep the key itself for the same time, since reading a row
must not cost a lookup, so another process may open a destroyed subject's fields for up to
that long (the destroying process forgets at once, ``key_ring.forget``).

One more row is not a subject's: ``BLIND_INDEX_SUBJECT``, the deployment's blind-index key
(``KeyPurpose.PRF``), never destroyed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
import tink
from tink import aead, prf, streaming_aead

from accord.database import scrub_key_store
from accord.master_keys import MasterKey, MasterKeyError, MasterKeys, master_keys
from accord.settings import Settings
from models import clock
from models.keyed_hashes import keyed_hash
from models.keys import key_ring
from models.keys.device_refs import device_subject_of
from models.keys.key_store import MasterKeyCheck, SubjectKey

log = structlog.get_logger("accord.keys")

#: The start of a destroyed key's row name (``tombstone``).
DESTROYED = "destroyed:"


prf.register()


class KeyPurpose(StrEnum):
    #: AES256_GCM, for personal fields (``models.keys.sealed_fields``).
    AEAD = "aead"
    #: AES256_GCM_HKDF_1MB, for files (pictures, export archives).
    STREAMING = "streaming"
    #: HMAC_SHA256_PRF, for the blind indexes (``models.keys.blind_indexes``); only the
    #: deployment's one ``BLIND_INDEX_SUBJECT`` has it.
    PRF = "prf"


TEMPLATES = {
    KeyPurpose.AEAD: aead.aead_key_templates.AES256_GCM,
    KeyPurpose.STREAMING: streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB,
    KeyPurpose.PRF: prf.prf_key_templates.HMAC_SHA256,
}
PRIMITIVES: dict[KeyPurpose, Any] = {
    KeyPurpose.AEAD: aead.Aead,
    KeyPurpose.STREAMING: streaming_aead.StreamingAead,
    KeyPurpose.PRF: prf.PrfSet,
}
#: What a data subject's row holds.
SUBJECT_PURPOSES = (KeyPurpose.AEAD, KeyPurpose.STREAMING)
#: The deployment's blind-index key: one, never destroyed, wrapped like the others.
BLIND_INDEX_SUBJECT = "deployment:blind-index"


class KeyDestroyed(Exception):
    """The subject's data key was destroyed (its deletion): what it encrypted is gone."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"the data key of {subject} was destroyed; its data cannot be read")
        self.subject = subject


def account_subject(account_id: int) -> str:
    return f"account:{account_id}"


def recorder_subject(account_id: int | None, device_ref: str | None) -> str | None:
    """Whose key seals a row recorded by an account, or else by an anonymous device (by its
    reference, ``models.keys.device_refs``: the key store holds no device id)."""
    if account_id is not None:
        return account_subject(account_id)
    return None if device_ref is None else device_subject_of(device_ref)


#: The key of what Accord keeps, anonymised, after its author's account is deleted (PUBLIC
#: feedback, retained support threads): it is re-sealed under this key as it is anonymised,
#: before the account's key is destroyed. Never destroyed.
KEPT_CONTENT_SUBJECT = "deployment:kept-content"


def _associated(subject: str, purpose: KeyPurpose) -> bytes:
    return f"accord data key|{subject}|{purpose}".encode()


def _purposes_of(subject: str) -> tuple[KeyPurpose, ...]:
    return (KeyPurpose.PRF,) if subject == BLIND_INDEX_SUBJECT else SUBJECT_PURPOSES


def _new_keysets(subject: str, master: MasterKey) -> str:
    wrapped = {}
    for purpose in _purposes_of(subject):
        handle = tink.new_keyset_handle(TEMPLATES[purpose])
        blob = tink.proto_keyset_format.serialize_encrypted(
            handle, master, _associated(subject, purpose)
        )
        wrapped[str(purpose)] = base64.b64encode(blob).decode()
    return json.dumps(wrapped, sort_keys=True)


def _unwrap(subject: str, keysets: str, master: MasterKey) -> dict[str, tink.KeysetHandle]:
    return {
        purpose: tink.proto_keyset_format.parse_encrypted(
            base64.b64decode(blob), master, _associated(subject, KeyPurpose(purpose))
        )
        for purpose, blob in json.loads(keysets).items()
    }


def rewrap(subject: str, keysets: str, old: MasterKey, new: MasterKey) -> str:
    """The same keysets wrapped by another master key (a rotation)."""
    handles = _unwrap(subject, keysets, old)
    return json.dumps(
        {
            purpose: base64.b64encode(
                tink.proto_keyset_format.serialize_encrypted(
                    handle, new, _associated(subject, KeyPurpose(purpose))
                )
            ).decode()
            for purpose, handle in handles.items()
        },
        sort_keys=True,
    )


class _Cache:
    """Decrypted keysets by the digest of their wrapped form, for a short while."""

    def __init__(self) -> None:
        self.entries: dict[bytes, tuple[float, dict[str, Any]]] = {}

    def get(self, digest: bytes, ttl: int) -> dict[str, Any] | None:
        found = self.entries.get(digest)
        if found is None or time.monotonic() - found[0] > ttl:
            return None
        return found[1]

    def put(self, digest: bytes, primitives: dict[str, Any]) -> None:
        if len(self.entries) > 4096:  # a burst of subjects: start over rather than grow
            self.entries.clear()
        self.entries[digest] = (time.monotonic(), primitives)


_cache = _Cache()


def tombstone(settings: Settings, subject: str) -> str:
    """What a destroyed key's row is called: a keyed hash, so that the row left behind does
    not name the subject (``account:<id>`` also names the consent history before its
    re-keying), while a new key for the subject can still be refused."""
    return DESTROYED + keyed_hash(settings, "destroyed data key", subject)[:48]


async def _row(
    settings: Settings, subject: str, keys: MasterKeys, create: bool
) -> SubjectKey | None:
    row = await SubjectKey.get_or_none(subject=subject)
    if row is None and await SubjectKey.exists(subject=tombstone(settings, subject)):
        raise KeyDestroyed(subject)
    if row is None and create:
        wrapped = await asyncio.to_thread(_new_keysets, subject, keys.current)
        await SubjectKey.bulk_create(
            [
                SubjectKey(
                    subject=subject,
                    keysets=wrapped,
                    master_key_id=keys.current.key_id,
                    created_at=clock.now(),
                )
            ],
            ignore_conflicts=True,  # another process made it first: use the winner's
        )
        row = await SubjectKey.get(subject=subject)
        if not await MasterKeyCheck.exists(master_key_id=keys.current.key_id):
            await _record_check(keys.current)  # the master key's first use
    return row


async def _primitives(settings: Settings, subject: str, create: bool) -> dict[str, Any] | None:
    keys = master_keys(settings)
    row = await _row(settings, subject, keys, create)
    if row is None:
        return None
    return await _opened(settings, row, keys)


async def _opened(settings: Settings, row: SubjectKey, keys: MasterKeys) -> dict[str, Any]:
    """The row's primitives by purpose, from the cache or unwrapped now."""
    if row.keysets is None:
        raise KeyDestroyed(row.subject)
    digest = hashlib.sha256(f"{row.subject}|{row.master_key_id}|{row.keysets}".encode()).digest()
    found = _cache.get(digest, settings.data_key_cache_seconds)
    if found is not None:
        return found
    master = keys.by_id(row.master_key_id)
    if master is None:
        raise MasterKeyError(
            f"the data key of {row.subject} is wrapped by master key {row.master_key_id}, "
            "which is not configured"
        )
    primitives = await asyncio.to_thread(_open_keysets, row.subject, row.keysets, master)
    _cache.put(digest, primitives)
    return primitives


def _open_keysets(subject: str, keysets: str, master: MasterKey) -> dict[str, Any]:
    return {
        purpose: handle.primitive(PRIMITIVES[KeyPurpose(purpose)])
        for purpose, handle in _unwrap(subject, keysets, master).items()
    }


async def streaming_aead_of(
    settings: Settings, subject: str, *, create: bool = False
) -> streaming_aead.StreamingAead:
    """The subject's file key (made now if ``create`` and it has none). Raises
    KeyDestroyed after its deletion, LookupError if it has none."""
    primitives = await _primitives(settings, subject, create)
    if primitives is None:
        raise LookupError(f"{subject} has no data key")
    primitive: streaming_aead.StreamingAead = primitives[KeyPurpose.STREAMING]
    return primitive


async def aead_of(settings: Settings, subject: str, *, create: bool = False) -> aead.Aead:
    """The subject's field key (see ``streaming_aead_of``)."""
    primitives = await _primitives(settings, subject, create)
    if primitives is None:
        raise LookupError(f"{subject} has no data key")
    primitive: aead.Aead = primitives[KeyPurpose.AEAD]
    return primitive


async def field_key(settings: Settings, subject: str) -> tuple[int, aead.Aead]:
    """The subject's field key and its reference (the key row's id, which sealed values
    name: ``models.keys.sealed_fields``), made now if the subject has none."""
    keys = master_keys(settings)
    row = await _row(settings, subject, keys, create=True)
    assert row is not None  # made above
    primitive: aead.Aead = (await _opened(settings, row, keys))[KeyPurpose.AEAD]
    return row.id, primitive


async def field_keys(settings: Settings, refs: set[int]) -> dict[int, tuple[str, aead.Aead] | None]:
    """The field keys by reference, with their subjects, in one read of the key store;
    None for a key that was destroyed (or never existed): what it sealed is gone."""
    keys = master_keys(settings)
    found: dict[int, tuple[str, aead.Aead] | None] = dict.fromkeys(refs)
    for row in await SubjectKey.filter(id__in=refs):
        if row.keysets is not None:
            found[row.id] = (row.subject, (await _opened(settings, row, keys))[KeyPurpose.AEAD])
    return found


async def blind_index_key(settings: Settings) -> prf.Prf:
    """The deployment's blind-index key (made on first use, race-safe like any other)."""
    primitives = await _primitives(settings, BLIND_INDEX_SUBJECT, create=True)
    assert primitives is not None  # made above
    prf_set: prf.PrfSet = primitives[KeyPurpose.PRF]
    return prf_set.primary()


async def destroy(settings: Settings, subject: str) -> datetime:
    """Crypto-shred the subject: its wrapped keysets are deleted for good; the row stays
    under its ``tombstone`` name, so no new key is ever made for the subject. Idempotent:
    returns when it was destroyed."""
    moment, name = clock.now(), tombstone(settings, subject)
    if await SubjectKey.exists(subject=name):
        await SubjectKey.filter(subject=subject).delete()
    else:
        await SubjectKey.filter(subject=subject).update(
            subject=name, keysets=None, master_key_id=None, destroyed_at=moment
        )
        await SubjectKey.bulk_create(
            [SubjectKey(subject=name, keysets=None, created_at=moment, destroyed_at=moment)],
            ignore_conflicts=True,  # it had no key: the tombstone alone
        )
    _cache.entries.clear()  # this process forgets at once (others: see sealed_fields)
    key_ring.forget()
    if not await scrub_key_store(settings):  # nor in the key store's write-ahead log
        log.warning("key store write-ahead log still in use after a key was destroyed")
    row = await SubjectKey.get(subject=name)
    assert row.destroyed_at is not None
    return row.destroyed_at


async def discard(settings: Settings, subject: str) -> None:
    """Crypto-shred a subject that may come back: an anonymous device whose id was cleared
    (the app may send it again). The key row goes with no tombstone, so the next use makes
    a new key (a new reference: what the old one sealed stays unreadable). Idempotent."""
    await SubjectKey.filter(subject=subject).delete()
    _cache.entries.clear()
    key_ring.forget()
    if not await scrub_key_store(settings):
        log.warning("key store write-ahead log still in use after a key was discarded")


# --- the master key at start-up, and its rotation ---------------------------------------------

CANARY = b"accord master key check"


async def check_master_keys(settings: Settings) -> None:
    """Refuse (MasterKeyError, one line) a master key that cannot read what is stored: a
    canary of a configured key that does not decrypt, or data keys (or canaries) only under
    keys that are not configured. Writes nothing unless the keys pass; then records the
    current key's canary if it has none yet."""
    keys = master_keys(settings)
    checks = {check.master_key_id: check for check in await MasterKeyCheck.all()}
    for key_id in keys.ids:
        check = checks.get(key_id)
        master = keys.by_id(key_id)
        if check is None or master is None:
            continue
        try:
            plain = await asyncio.to_thread(master.decrypt, base64.b64decode(check.canary), CANARY)
        except tink.TinkError:
            plain = b""
        if plain != CANARY:
            raise MasterKeyError(
                f"wrong master key: {key_id} cannot decrypt its check value; start-up refused"
            )
    for key_id in keys.ids:  # and one data key each configured key wraps, if any
        sample = await SubjectKey.filter(master_key_id=key_id, keysets__isnull=False).first()
        master = keys.by_id(key_id)
        if sample is None or sample.keysets is None or master is None:
            continue
        try:
            await asyncio.to_thread(_unwrap, sample.subject, sample.keysets, master)
        except tink.TinkError:
            raise MasterKeyError(
                f"wrong master key: {key_id} cannot decrypt the data keys; start-up refused"
            ) from None
    if checks and not set(checks) & set(keys.ids):
        raise MasterKeyError(
            "wrong master key: the data keys were wrapped by "
            f"{', '.join(sorted(checks))}, not by {', '.join(keys.ids)}; start-up refused"
        )
    strays = (
        await SubjectKey.filter(keysets__isnull=False)
        .exclude(master_key_id__in=keys.ids)
        .limit(1)
        .values_list("master_key_id", flat=True)
    )
    if strays:
        stray = strays[0]
        raise MasterKeyError(
            f"data keys are wrapped by master key {stray}, which is not configured "
            "(give it as the previous master key until the rotation ends); start-up refused"
        )
    if keys.current.key_id not in checks:
        await _record_check(keys.current)


async def _record_check(master: MasterKey) -> None:
    """The master key's check value, when it has none yet (its first use)."""
    canary = await asyncio.to_thread(master.encrypt, CANARY, CANARY)
    await MasterKeyCheck.bulk_create(
        [
            MasterKeyCheck(
                master_key_id=master.key_id,
                canary=base64.b64encode(canary).decode(),
                created_at=clock.now(),
            )
        ],
        ignore_conflicts=True,
    )


async def rotate_master(settings: Settings, batch_size: int, limit: int | None = None) -> int:
    """Re-wrap every data key not yet under the current master key, a keyset batch at a
    time (by id), each row by a conditional update on the key id it was read with: online
    (a reader uses the id on the row), resumable (what is done is skipped next time) and
    harmless twice. ``limit``: stop after that many (an interrupted run). How many."""
    keys = master_keys(settings)
    await check_master_keys(settings)
    current, after, done = keys.current, 0, 0
    while True:
        batch = (
            await SubjectKey.filter(keysets__isnull=False, id__gt=after)
            .exclude(master_key_id=current.key_id)
            .order_by("id")
            .limit(batch_size)
        )
        for row in batch:
            if limit is not None and done >= limit:
                return done
            after = row.id
            old = keys.by_id(row.master_key_id)
            if old is None or row.keysets is None:
                raise MasterKeyError(
                    f"data key {row.subject} is wrapped by {row.master_key_id}, which is "
                    "not configured as the previous master key"
                )
            wrapped = await asyncio.to_thread(rewrap, row.subject, row.keysets, old, current)
            done += await SubjectKey.filter(
                id=row.id, master_key_id=row.master_key_id, keysets=row.keysets
            ).update(keysets=wrapped, master_key_id=current.key_id)
        if len(batch) < batch_size:
            return done
