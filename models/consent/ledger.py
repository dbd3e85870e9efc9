"""The consent ledger: an append-only, hash-chained history of consent events per subject.

A *subject* is an account (``account:<id>``) or, before sign-in, an anonymous device
(``device:#<reference>``, a keyed hash of its id: ``models.keys.device_refs``). Each
subject's events form a chain: event ``n`` stores
``hash = SHA-256(hash of event n-1 || canonical JSON of event n)``, so editing, deleting or
reordering any stored event breaks every hash after it (``verify_chain``).

Appends are serialised per subject by a head row (``ConsentChain``) that is advanced with a
compare-and-set update, and ``(subject, seq)`` and ``(subject, idempotency_key)`` are unique:
two clients syncing at once can neither fork the chain nor store an event twice. A conflict
is retried, so no event is lost.

State is never stored: a subject's current consent to a purpose is its latest decision, by
client timestamp (the offline mobile rule: what the user did last wins), ties broken by
server order. There is no update or delete path here but ``rekey_subject``, which account
deletion uses to pseudonymise a subject's whole chain.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
import operator
import random
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

import orjson
from tortoise import connections, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.sqlite_backend import timestamp_text
from models import clock
from models.accounts.account import Account
from models.consent.errors import ConsentErrorCode
from models.errors import DomainError
from models.hash_chains import GENESIS, walk
from models.keys import data_keys, device_refs
from models.keys.blind_indexes import blind_index
from models.keys.sealed_fields import (
    SealedField,
    SealedManager,
    SealedModel,
    open_values,
    sealed_text,
)
from models.networks import approximate_network
from models.placeholders import placeholders
from models.webhooks import outbox as webhook_outbox

SUBJECT_MAX = 80
#: At most 64 characters (a longer one used to reach the database and fail there, an
#: internal error, when a subject held the id itself).
DEVICE_ID_RE = re.compile(r"[A-Za-z0-9._:-]{22,64}")
#: The least randomness a device id must show (``device_id_bits``): 16 random bytes in
#: URL-safe base64 (22 characters) show about 90 bits, never fewer than 70 in a million
#: tries, a random UUID about 120; a repeated character or a short repeated pattern
#: shows almost none.
DEVICE_ID_MIN_BITS = 64
#: The blind index's purpose (``models.keys.blind_indexes``) for the device of an event.
DEVICE_INDEX = "consent event device"
DEVICE_ID_RULE = (
    "A random id the app makes once per installation: a UUID (36 characters) or at least "
    "16 random bytes as URL-safe base64 (22 or more characters), of A-Z, a-z, 0-9, '.', "
    "'_', ':', '-', at most 64. Until an account signs in on the device, whoever knows "
    "it acts for the device, so it is a secret: keep it with the app's data, never derive "
    "it from something guessable."
)
APPEND_RETRIES = 20


class EventKind(StrEnum):
    GRANTED = "GRANTED"
    WITHDRAWN = "WITHDRAWN"
    POLICY_ACCEPTED = "POLICY_ACCEPTED"
    DEVICE_LINKED = "DEVICE_LINKED"
    #: First event of a pseudonymised chain (see ``rekey_subject``).
    REKEYED = "REKEYED"
    #: A guardian's consent to publish a minor's content (``models.consent.guardians``),
    #: and its withdrawal; ``detail`` says how it was given or by whom withdrawn.
    GUARDIAN_CONSENTED = "GUARDIAN_CONSENTED"
    GUARDIAN_WITHDRAWN = "GUARDIAN_WITHDRAWN"


class Source(StrEnum):
    WEB = "WEB"
    IOS = "IOS"
    ANDROID = "ANDROID"
    API = "API"
    SUPPORT = "SUPPORT"
    #: A browser's Global Privacy Control signal (``Sec-GPC: 1``), honoured as an opt-out.
    GPC = "GPC"


DECISIONS = (EventKind.GRANTED, EventKind.WITHDRAWN)


class ConsentEvent(SealedModel):
    """One decision or fact in a subject's chain, its browser and address sealed.

    They and the device id are sealed under the subject's key (``key_subject``); the chain
    hashes their plain values."""

    id = fields.BigIntField(primary_key=True)
    subject = fields.CharField(max_length=SUBJECT_MAX)
    seq = fields.BigIntField()
    kind = fields.CharEnumField(EventKind, max_length=24)
    purpose_code = fields.CharField(max_length=64, null=True)
    policy_version = fields.CharField(max_length=32, null=True)
    source = fields.CharEnumField(Source, max_length=16)
    # Which device recorded it: shown again (``deviceId``), so sealed; found by its blind
    # index (``device_ref``: the sync leaves a device's own events out by it).
    device_id = SealedField(max_length=128, null=True, blind_index=("device_ref", DEVICE_INDEX))
    device_ref = fields.CharField(max_length=32, null=True)
    client_timestamp = fields.DatetimeField()
    server_timestamp = fields.DatetimeField()
    idempotency_key = fields.CharField(max_length=36)
    user_agent = SealedField(max_length=255, default="")
    #: Truncated: /24 for IPv4, /48 for IPv6.
    client_address = SealedField(max_length=64, default="")
    #: What a REKEYED event carried over, how a guardian's consent was given or withdrawn
    #: (empty for every other kind).
    detail = fields.CharField(max_length=200, default="", db_default="")
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "consent_event"
        unique_together = (("subject", "seq"), ("subject", "idempotency_key"))
        manager = SealedManager()

    def sealed_subject(self) -> str | None:
        return key_subject(self.subject)


class ConsentChain(Model):
    """The head of one subject's chain: its last sequence number and hash."""

    subject = fields.CharField(max_length=SUBJECT_MAX, primary_key=True)
    seq = fields.BigIntField()
    hash = fields.CharField(max_length=64)
    #: The head's seq in the latest anchor that holds it (``models.consent.anchors``).
    anchored_seq = fields.BigIntField(default=0, db_default=0)

    class Meta:
        table = "consent_chain"


class DeviceLink(Model):
    """An anonymous device whose history now belongs to an account."""

    # The device's reference (``models.keys.device_refs``), never its id.
    device_id = fields.CharField(max_length=128, primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="devices_linked", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    linked_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        manager = SealedManager()
        table = "device_link"


# --- subjects ----------------------------------------------------------------------------


class SubjectKind(StrEnum):
    """Whose chain a subject names: ``account:<id>``, ``device:#<reference>`` (an anonymous
    device before sign-in, by its reference), or ``pseudonym:<random>`` (a deleted account's
    history)."""

    ACCOUNT = "account"
    DEVICE = "device"
    PSEUDONYM = "pseudonym"


def account_subject(account_id: int) -> str:
    return f"{SubjectKind.ACCOUNT}:{account_id}"


def device_subject(device_id: str) -> str:
    """A device's chain: named by its reference (``models.keys.device_refs``), not its id."""
    return device_refs.device_subject(device_id)


def pseudonym_subject() -> str:
    return f"{SubjectKind.PSEUDONYM}:{secrets.token_hex(16)}"


def parse_subject(subject: str) -> tuple[SubjectKind, str]:
    """The kind of a subject and what names it within the kind (an account id as text, a
    device id, which may itself hold ':'); ValueError for a string that is no subject."""
    kind, colon, name = subject.partition(":")
    if not colon or not name:
        raise ValueError(f"not a consent subject: {subject!r}")
    return SubjectKind(kind), name


def subject_account_id(subject: str) -> int | None:
    """The account an ``account:`` subject names; None for a device or a pseudonym."""
    kind, name = parse_subject(subject)
    return int(name) if kind == SubjectKind.ACCOUNT else None


def key_subject(subject: str) -> str | None:
    """Whose data key seals a chain's context: the account's, or the anonymous device's
    own; None for a pseudonym's chain, which keeps no context."""
    kind, name = parse_subject(subject)
    if kind == SubjectKind.ACCOUNT:
        return data_keys.account_subject(int(name))
    if kind == SubjectKind.DEVICE:
        return device_refs.device_subject_of(name)  # a device's chain and key share a name
    return None


def device_id_bits(device_id: str) -> float:
    """How much randomness a device id shows at most: its length times the Shannon entropy
    of its characters' frequencies. It cannot tell a random id from a clever made-up one,
    only refuse the obviously guessable ones (``aaaa...``, ``abab...``, a nil UUID)."""
    counts = Counter(device_id)
    total = len(device_id)
    return -sum(n * math.log2(n / total) for n in counts.values())


def clean_device_id(raw: str, field_name: str = "deviceId") -> str:
    """An anonymous device id acts as a bearer secret until an account claims it (the
    device's consent history, error reports and activity answer to whoever sends it), so
    it must be long and random enough not to be guessed (``DEVICE_ID_RULE``)."""
    if not DEVICE_ID_RE.fullmatch(raw or "") or device_id_bits(raw) < DEVICE_ID_MIN_BITS:
        raise DomainError(
            ConsentErrorCode.INVALID,
            field_name,
            "must be a random id the app made: a UUID, or 22-64 random characters of "
            "A-Z, a-z, 0-9, '.', '_', ':', '-' (16 random bytes as URL-safe base64); it acts "
            "as a secret until an account signs in on the device",
        )
    return raw


async def subjects_of(account_id: int) -> list[str]:
    """The account's own subject and those of the devices linked to it."""
    devices = cast(
        "list[str]",  # Tortoise types flat values_list as tuples
        await DeviceLink.filter(account_id=account_id).values_list("device_id", flat=True),
    )
    return [account_subject(account_id), *(device_refs.device_subject_of(d) for d in devices)]


# --- the chain ---------------------------------------------------------------------------


def truncate_address(address: str) -> str:
    """Keep the network, not the host (``models.networks``), as its first address."""
    network = approximate_network(address)
    return "" if network is None else str(network.network_address)


@functools.lru_cache(maxsize=64)
def _instant(moment: datetime) -> str:
    """Cached: every event of a batch shares its server timestamp."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(event: ConsentEvent | EventRecord) -> bytes:
    """The bytes that are hashed: every recorded field but the hashes, in a fixed form."""
    body = {
        "subject": event.subject,
        "seq": event.seq,
        "kind": str(event.kind),
        "purpose": event.purpose_code,
        "policyVersion": event.policy_version,
        "source": str(event.source),
        "deviceId": event.device_id,
        "clientTimestamp": _instant(event.client_timestamp),
        "serverTimestamp": _instant(event.server_timestamp),
        "idempotencyKey": event.idempotency_key,
        "userAgent": event.user_agent,
        "clientAddress": event.client_address,
        "detail": event.detail,
    }
    # Same bytes as json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False).
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, event: ConsentEvent | EventRecord) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def content_digest(event: ConsentEvent | NewEvent) -> str:
    """What an idempotency key stands for: the decision a client made (kind, purpose,
    policy version, source, client time), not where or when it arrived. A retry carries
    the same digest; the same key with another digest is a CONFLICT, never a DUPLICATE."""
    body = {
        "kind": str(event.kind),
        "purpose": event.purpose_code,
        "policyVersion": event.policy_version,
        "source": str(event.source),
        "clientTimestamp": _instant(event.client_timestamp),
    }
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class NewEvent:
    kind: EventKind
    source: Source
    idempotency_key: str
    client_timestamp: datetime
    purpose_code: str | None = None
    policy_version: str | None = None
    device_id: str | None = None
    #: How a guardian's consent was given or withdrawn (``EventKind``); "" otherwise.
    detail: str = ""


@dataclass
class Appended:
    """The events an append stored (those whose idempotency key the chain already held
    were skipped; callers find them by what is missing here)."""

    #: ConsentEvent rows, or with ``reload=False`` the EventRecords written.
    stored: Sequence[ConsentEvent | EventRecord] = field(default_factory=list)


@dataclass
class EventRecord:
    """A row about to be written: the fields ``canonical`` reads, without an ORM object
    (building 500 model instances costs more than storing them)."""

    subject: str
    seq: int
    kind: EventKind
    purpose_code: str | None
    policy_version: str | None
    source: Source
    device_id: str | None
    client_timestamp: datetime
    server_timestamp: datetime
    idempotency_key: str
    user_agent: str
    client_address: str
    prev_hash: str
    detail: str = ""
    hash: str = ""
    #: The blind index of ``device_id`` (stored, not hashed: ``canonical`` names its fields).
    device_ref: str | None = None
    id: int | None = None


COLUMNS = [f.name for f in dataclass_fields(EventRecord) if f.name != "id"]
#: What an ``EventRecord`` read back holds (``ConsentEvent.filter(...).values(*RECORD_FIELDS)``).
RECORD_FIELDS = (*COLUMNS, "id")


_COLUMN_VALUES = operator.attrgetter(*COLUMNS)
_KIND, _SOURCE = COLUMNS.index("kind"), COLUMNS.index("source")
_CLIENT_TIME, _SERVER_TIME = COLUMNS.index("client_timestamp"), COLUMNS.index("server_timestamp")
_AGENT, _ADDRESS = COLUMNS.index("user_agent"), COLUMNS.index("client_address")
_DEVICE = COLUMNS.index("device_id")


@dataclass
class _Sealing:
    """What a batch stores sealed under its subject's key, each sealed once for the batch
    (the nonce is fresh per sealing, not per row): its browser and address, and each device
    id, with the device's blind index."""

    context: tuple[str, str] = ("", "")
    devices: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)


async def _sealing(subject: str, user_agent: str, address: str, device_ids: set[str]) -> _Sealing:
    sealing = _Sealing()
    if not user_agent and not address and not device_ids:
        return sealing
    owner = key_subject(subject)
    if owner is None:
        raise ValueError(f"{subject!r} keeps no context")
    if user_agent or address:
        sealing.context = (
            await sealed_text(ConsentEvent, "user_agent", owner, user_agent),
            await sealed_text(ConsentEvent, "client_address", owner, address),
        )
    for device_id in device_ids:
        sealing.devices[device_id] = await sealed_text(ConsentEvent, "device_id", owner, device_id)
        sealing.refs[device_id] = await blind_index(DEVICE_INDEX, device_id)
    return sealing


def _insert_sql(dialect: str) -> str:
    marks = placeholders(dialect, len(COLUMNS))
    return f"INSERT INTO consent_event ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608


@functools.lru_cache(maxsize=64)
def _sqlite_time(moment: datetime) -> str:
    """The batch's shared server timestamp as SQLite stores it, made once."""
    return timestamp_text(moment)


def _insert_values(
    rows: list[EventRecord],
    dialect: str,
    context: tuple[str, str] = ("", ""),
    devices: dict[str, str] | None = None,
) -> list[list[object]]:
    """The INSERT parameters of records, in ``COLUMNS`` order: enums as their text and, on
    SQLite, timestamps as text (``timestamp_text``), the batch's shared server timestamp
    made once. ``context``: the batch's browser and address as stored, and ``devices``
    each device id as stored (sealed once for the batch, ``_Sealing``)."""
    sqlite = dialect == "sqlite"
    result = []
    for row in rows:
        values = list(_COLUMN_VALUES(row))
        values[_KIND] = str(row.kind)
        values[_SOURCE] = str(row.source)
        values[_AGENT], values[_ADDRESS] = context
        if row.device_id is not None:
            values[_DEVICE] = (devices or {})[row.device_id]
        if sqlite:
            values[_CLIENT_TIME] = timestamp_text(row.client_timestamp)
            values[_SERVER_TIME] = _sqlite_time(row.server_timestamp)
        result.append(values)
    return result


async def _held_keys(connection: BaseDBAsyncClient, subject: str, keys: list[str]) -> set[str]:
    """Which of ``keys`` the subject's chain already holds. Plain SQL: building a 500-value
    IN clause through the query builder cost more than running it."""
    if not keys:
        return set()
    dialect = connection.capabilities.dialect
    sql = (
        "SELECT idempotency_key FROM consent_event "  # noqa: S608 - placeholders only
        f"WHERE subject = {placeholders(dialect, 1)} "
        f"AND idempotency_key IN ({placeholders(dialect, len(keys), start=2)})"
    )
    _, rows = await connection.execute_query(sql, [subject, *keys])
    return {row[0] for row in rows}


#: Work that must commit with an append (``append(then=...)``), given the stored events.
AfterAppend = Callable[[Sequence["ConsentEvent | EventRecord"]], Awaitable[object]]


class _ChainMoved(Exception):
    """Another writer advanced the chain between our read and our write."""


async def append(
    subject: str,
    events: list[NewEvent],
    *,
    user_agent: str = "",
    client_address: str = "",
    reload: bool = True,
    then: AfterAppend | None = None,
) -> Appended:
    """Append events to a subject's chain, skipping idempotency keys it already holds.

    Safe under concurrency on SQLite and PostgreSQL: the head row is advanced only if it is
    still where we read it, and losers retry from the new head. ``reload=False`` skips
    reading the stored rows back (their ``id`` is then unset), for bulk callers that only
    need to know what was stored. ``then`` runs with the stored events inside the same
    transaction, when any were stored (what a decision changes commits with it, or not at all).
    """
    address = truncate_address(client_address) if client_address else ""
    user_agent = user_agent[:255]
    device_ids = {e.device_id for e in events if e.device_id is not None}
    sealing = await _sealing(subject, user_agent, address, device_ids)
    for attempt in range(APPEND_RETRIES):
        try:
            return await _append_once(subject, events, (user_agent, address), sealing, reload, then)
        except (_ChainMoved, IntegrityError):
            pass
        except OperationalError as error:  # SQLite: another process holds the write lock
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter
    raise DomainError(ConsentErrorCode.CONFLICT, None, "the consent ledger is busy; retry the call")


async def _append_once(
    subject: str,
    events: list[NewEvent],
    plain_context: tuple[str, str],
    sealing: _Sealing,
    reload: bool,
    then: AfterAppend | None,
) -> Appended:
    """One try at ``append``: ``plain_context`` (browser, address) and the device ids are
    hashed, ``sealing`` (the same, sealed) stored."""
    user_agent, address = plain_context
    result = Appended()
    async with in_transaction("default") as connection:
        held = await _held_keys(connection, subject, [e.idempotency_key for e in events])
        fresh: list[NewEvent] = []
        for event in events:
            if event.idempotency_key not in held:
                held.add(event.idempotency_key)
                fresh.append(event)
        if not fresh:
            return result
        head = await ConsentChain.get_or_none(subject=subject)
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        first_seq = seq + 1
        moment = clock.now()
        rows = []
        for event in fresh:
            seq += 1
            row = EventRecord(
                subject=subject,
                seq=seq,
                kind=event.kind,
                purpose_code=event.purpose_code,
                policy_version=event.policy_version,
                source=event.source,
                device_id=event.device_id,
                # UTC always, so that stored timestamps also sort as text (SQLite).
                client_timestamp=event.client_timestamp.astimezone(UTC),
                server_timestamp=moment,
                idempotency_key=event.idempotency_key,
                user_agent=user_agent,
                client_address=address,
                prev_hash=prev,
                detail=event.detail,
                device_ref=sealing.refs.get(event.device_id or ""),
            )
            row.hash = prev = chain_hash(prev, row)
            rows.append(row)
        if head is None:
            await ConsentChain.create(subject=subject, seq=seq, hash=prev)
        elif not await ConsentChain.filter(subject=subject, seq=head.seq).update(
            seq=seq, hash=prev
        ):
            raise _ChainMoved
        dialect = connection.capabilities.dialect
        await connection.execute_many(
            _insert_sql(dialect), _insert_values(rows, dialect, sealing.context, sealing.devices)
        )
        # The consent webhooks' promise commits with the events, or not at all.
        await webhook_outbox.promise_deliveries(rows)
        result.stored = (
            await ConsentEvent.filter(subject=subject, seq__gte=first_seq, seq__lte=seq).order_by(
                "seq"
            )
            if reload
            else rows
        )
        if then is not None:
            await then(result.stored)
    return result


@dataclass
class ChainCheck:
    ok: bool
    checked: int
    first_broken_event_id: int | None


async def verify_chain(subject: str, page: int = 1000) -> ChainCheck:
    """Recompute every hash of a subject's chain, in order, and compare with the head. Rows
    are read as plain records: a model instance each cost as much as its hash."""

    async def links_from(first_seq: int, limit: int) -> list[EventRecord]:
        found = (
            await ConsentEvent.filter(subject=subject, seq__gte=first_seq)
            .order_by("seq")
            .limit(limit)
            .values(*RECORD_FIELDS)
        )
        await open_values(ConsentEvent, found)  # the chain hashes the plain context
        return [EventRecord(**row) for row in found]

    async def head() -> tuple[int, str] | None:
        chain = await ConsentChain.get_or_none(subject=subject)
        return None if chain is None else (chain.seq, chain.hash)

    walked = await walk(links_from, chain_hash, head, page)
    return ChainCheck(walked.ok, walked.checked, walked.first_broken_id)


# --- state -------------------------------------------------------------------------------


def _dialect() -> str:
    dialect: str = connections.get("default").capabilities.dialect
    return dialect


async def latest_decisions(
    subjects: list[str],
    *,
    purposes: Collection[str] | None = None,
    not_before: datetime | None = None,
) -> dict[str, ConsentEvent]:
    """Each purpose's latest decision across these subjects: two queries, however many
    purposes or events there are. ``purposes`` narrows to those; ``not_before`` reads only
    decisions from that client time on (exact whenever the caller's own decisions are that
    recent: an older one can win nothing)."""
    if not subjects or (purposes is not None and not purposes):
        return {}
    dialect = _dialect()
    params: list[object] = list(subjects)
    where = [f"subject IN ({placeholders(dialect, len(subjects))})"]
    if purposes is not None:
        codes = sorted(purposes)
        marks = placeholders(dialect, len(codes), start=len(params) + 1)
        where.append(f"purpose_code IN ({marks})")
        params.extend(codes)
    if not_before is not None:
        where.append(f"client_timestamp >= {placeholders(dialect, 1, start=len(params) + 1)}")
        moment = not_before.astimezone(UTC)
        params.append(timestamp_text(moment) if dialect == "sqlite" else moment)
    sql = f"""
        SELECT id FROM (
            SELECT id, ROW_NUMBER() OVER (
                PARTITION BY purpose_code ORDER BY client_timestamp DESC, id DESC
            ) AS rank
            FROM consent_event
            WHERE {" AND ".join(where)} AND kind IN ('GRANTED', 'WITHDRAWN')
        ) AS ranked WHERE rank = 1
    """  # noqa: S608 - only placeholders are interpolated
    rows = await connections.get("default").execute_query_dict(sql, params)
    events = await ConsentEvent.filter(id__in=[r["id"] for r in rows])
    return {e.purpose_code: e for e in events if e.purpose_code is not None}


async def has_accepted(subjects: list[str], versions: list[str]) -> bool:
    return await ConsentEvent.filter(
        subject__in=subjects, kind=EventKind.POLICY_ACCEPTED, policy_version__in=versions
    ).exists()


def new_key() -> str:
    return str(uuid.uuid4())


# --- pseudonymisation (account deletion) ---------------------------------------------------


async def rekey_subject(subject: str) -> str | None:
    """Move a subject's whole chain to a random pseudonym, erasing what identifies the person.

    The service must go on proving that consent was given (which purpose, which policy
    version, when, how) without knowing by whom. The chain is rebuilt under the pseudonym
    (``_rebuild``) with its device ids, user agents and client addresses erased. The new
    chain verifies like any other; the old identity appears nowhere, and nothing links the
    two (the old hashes are not kept: they could be matched by trying account ids). Returns
    the pseudonym, or None when the subject has no events (already done).
    """
    pseudonym = pseudonym_subject()
    return pseudonym if await _rebuild(subject, pseudonym, keep_context=False) else None


async def rename_device_chain(subject: str, renamed: str) -> bool:
    """Move a device's chain that an earlier version named by the device's id to the name
    of its reference (``models.keys.device_backfill``), keeping every field; False when
    there was nothing to move (already done)."""
    return await _rebuild(subject, renamed, keep_context=True)


async def _rebuild(subject: str, renamed: str, *, keep_context: bool) -> bool:
    """Rebuild a chain under another name (its hashes cover its subject): its first event is
    a REKEYED event recording how many events were carried over and the old chain's final
    hash, then every event follows in its original order, each hashed onto the one before;
    the old chain goes, in the same transaction. ``keep_context``: each event keeps its
    device id, user agent and client address (sealed again under the new name's key);
    otherwise they are erased."""
    async with in_transaction("default") as connection:
        events = await ConsentEvent.filter(subject=subject).order_by("seq")
        if not events:
            await ConsentChain.filter(subject=subject).delete()
            return False
        moment = clock.now()
        head = await ConsentChain.get_or_none(subject=subject)
        first = EventRecord(
            subject=renamed,
            seq=1,
            kind=EventKind.REKEYED,
            purpose_code=None,
            policy_version=None,
            detail=(
                f"carried over {len(events)} events; previous chain ended "
                f"{head.hash if head else events[-1].hash}"
            ),
            source=Source.API,
            device_id=None,
            client_timestamp=moment,
            server_timestamp=moment,
            idempotency_key=new_key(),
            user_agent="",
            client_address="",
            prev_hash=GENESIS,
        )
        first.hash = chain_hash(GENESIS, first)
        records, prev = [first], first.hash
        for position, event in enumerate(events, start=2):
            record = EventRecord(
                subject=renamed,
                seq=position,
                kind=event.kind,
                purpose_code=event.purpose_code,
                policy_version=event.policy_version,
                source=event.source,
                device_id=event.device_id if keep_context else None,
                client_timestamp=event.client_timestamp,
                server_timestamp=event.server_timestamp,
                idempotency_key=event.idempotency_key,
                user_agent=event.user_agent if keep_context else "",
                client_address=event.client_address if keep_context else "",
                prev_hash=prev,
            )
            record.hash = prev = chain_hash(prev, record)
            records.append(record)
        dialect = connection.capabilities.dialect
        if keep_context:  # each event's own context, sealed under the new name's key
            for record in records:
                device_ids = {record.device_id} if record.device_id else set()
                sealing = await _sealing(
                    renamed, record.user_agent, record.client_address, device_ids
                )
                record.device_ref = sealing.refs.get(record.device_id or "")
                values = _insert_values([record], dialect, sealing.context, sealing.devices)
                await connection.execute_many(_insert_sql(dialect), values)
        else:
            await connection.execute_many(_insert_sql(dialect), _insert_values(records, dialect))
        await ConsentChain.create(subject=renamed, seq=len(records), hash=prev)
        await ConsentEvent.filter(subject=subject).delete()
        await webhook_outbox.subject_renamed(subject, renamed)
        await ConsentChain.filter(subject=subject).delete()
    return True
