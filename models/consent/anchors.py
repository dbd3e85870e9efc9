"""Consent anchors: once a period, a signed Merkle root over every consent chain's head,
published so that anyone can hold Accord to the history it had (``docs/consent-anchors.md``).

The tree is RFC 6962's (``models.merkle``). Its leaves are the chain heads in the order of
the chains' names (``consent_chain``'s primary key, as the database sorts it), each
``chain key || seq || head hash`` (``leaf_bytes``). The chain key is a keyed hash of the
chain's name, never the name: ``account:<id>`` is an account number, and a plain hash of it
could be reversed by trying every number; a leaf travels in receipts a user may hand to
anyone. Changing the deployment's secret changes every chain key (receipts already issued
keep theirs; proofs of earlier anchors are then no longer found for new receipts).

An anchor is made at most once per period (``period`` is unique): running the job twice,
or on two workers at once, makes one. The heads are read a page at a time, and only the
audit paths of the chains that moved since their last anchor (``ConsentChain.anchored_seq``)
are kept (``ConsentAnchorProof``): every event's receipt finds its proof in the first anchor
whose head for its chain is at or after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.consent.ledger import (
    RECORD_FIELDS,
    ConsentChain,
    ConsentEvent,
    EventRecord,
    canonical,
    chain_hash,
)
from models.consent.receipts import receipt_signer
from models.keyed_hashes import keyed_hash
from models.keys.sealed_fields import open_values
from models.merkle import TreeBuilder
from models.placeholders import placeholders

#: Named in every anchor, so that a verifier knows how its leaves are made.
LEAF_FORMAT = (
    "accord-consent-anchor-leaf/v1: chainKey(32) || headSeq(8, big-endian) || headHash(32)"
)
CHAIN_KEY_PURPOSE = "consent anchor chain"
HEADS_PAGE = 1000
#: Proof rows (and anchored_seq updates) written per statement.
WRITE_BATCH = 500
PUBLISHED_PAGE = 20
PUBLISHED_PAGE_MAX = 100


class ConsentAnchor(Model):
    """One period's signed root. Append-only: never updated once its token is written."""

    id = fields.BigIntField(primary_key=True)
    #: The period's start (``period_of``): one anchor per period, enforced here.
    period = fields.CharField(max_length=32, unique=True)
    tree_size = fields.BigIntField()
    root_hash = fields.CharField(max_length=64)
    previous_root_hash = fields.CharField(max_length=64, null=True)
    #: The compact JWS (ES256, the consent-receipt key) of ``anchor_claims``.
    token = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "consent_anchor"


class ConsentAnchorProof(Model):
    """The audit path of a chain head that an anchor holds and the previous did not."""

    id = fields.BigIntField(primary_key=True)
    anchor: fields.ForeignKeyRelation[ConsentAnchor] = fields.ForeignKeyField(
        "models.ConsentAnchor", related_name="proofs", on_delete=fields.CASCADE
    )
    anchor_id: int  # set by the ORM
    chain_key = fields.CharField(max_length=64)
    leaf_index = fields.BigIntField()
    head_seq = fields.BigIntField()
    head_hash = fields.CharField(max_length=64)
    #: The sibling hashes from the leaf up, hex, comma-separated.
    path = fields.TextField()

    class Meta:
        table = "consent_anchor_proof"
        unique_together = (("anchor", "chain_key"),)
        indexes = (("chain_key", "head_seq"),)


# --- leaves and periods ------------------------------------------------------------------


def chain_key(settings: Settings, subject: str) -> str:
    return keyed_hash(settings, CHAIN_KEY_PURPOSE, subject)


def leaf_bytes(key: str, seq: int, head_hash: str) -> bytes:
    return bytes.fromhex(key) + seq.to_bytes(8, "big") + bytes.fromhex(head_hash)


def period_of(moment: datetime, minutes: int) -> datetime:
    """The start of the period ``moment`` falls in: periods are counted from the Unix epoch,
    so every worker agrees on them."""
    length = minutes * 60
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % length, UTC)


def period_name(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_period(settings: Settings) -> datetime:
    return period_of(clock.now(), settings.anchor_interval_minutes)


async def due(settings: Settings) -> bool:
    """Whether the current period has no anchor yet (the sweeper then queues the job)."""
    name = period_name(current_period(settings))
    return not await ConsentAnchor.filter(period=name).exists()


# --- making an anchor ----------------------------------------------------------------------


@dataclass
class _Moved:
    """A chain whose head moved since its last anchor: its proof is kept."""

    index: int
    subject: str
    key: str
    seq: int
    hash: str


async def _heads(page: int) -> AsyncIterator[tuple[str, int, str, int]]:
    """Every chain's (name, seq, hash, anchored seq), by name, a page at a time (keyset)."""
    after: str | None = None
    while True:
        query = ConsentChain.all().order_by("subject").limit(page)
        if after is not None:
            query = query.filter(subject__gt=after)
        rows = cast(
            "list[tuple[str, int, str, int]]",
            await query.values_list("subject", "seq", "hash", "anchored_seq"),
        )
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = rows[-1][0]


def anchor_claims(
    period: str, size: int, root_hash: str, previous: str | None, moment: datetime
) -> dict[str, Any]:
    return {
        "anchorPeriod": period,
        "treeSize": size,
        "rootHash": root_hash,
        "previousRootHash": previous,
        "leafFormat": LEAF_FORMAT,
        "iat": int(moment.timestamp()),
        "jti": f"consent-anchor:{period}",
    }


async def make_anchor(settings: Settings, page: int = HEADS_PAGE) -> ConsentAnchor | None:
    """The current period's anchor, made now; None when the period already has one (made
    by an earlier run, or by another run at the same time: the unique period decides)."""
    moment = clock.now()
    period = period_name(period_of(moment, settings.anchor_interval_minutes))
    if await ConsentAnchor.filter(period=period).exists():
        return None
    builder = TreeBuilder()
    moved: list[_Moved] = []
    async for subject, seq, head, anchored in _heads(page):
        key = chain_key(settings, subject)
        index = builder.add(leaf_bytes(key, seq, head), keep=seq != anchored)
        if seq != anchored:
            moved.append(_Moved(index, subject, key, seq, head))
    tree = builder.finish()
    try:
        async with in_transaction("default") as connection:
            anchor = await ConsentAnchor.create(
                period=period,
                tree_size=tree.size,
                root_hash=tree.root.hex(),
                token="",
                created_at=moment,
            )
            previous = await ConsentAnchor.filter(id__lt=anchor.id).order_by("-id").first()
            anchor.previous_root_hash = previous.root_hash if previous else None
            anchor.token = receipt_signer(settings)(
                anchor_claims(
                    period, tree.size, anchor.root_hash, anchor.previous_root_hash, moment
                )
            )
            await anchor.save(update_fields=["previous_root_hash", "token"])
            dialect = connection.capabilities.dialect
            update = (
                "UPDATE consent_chain SET anchored_seq = "  # noqa: S608 - placeholders only
                f"{placeholders(dialect, 1)} WHERE subject = {placeholders(dialect, 1, start=2)}"
                f" AND anchored_seq < {placeholders(dialect, 1, start=3)}"
            )
            for start in range(0, len(moved), WRITE_BATCH):
                batch = moved[start : start + WRITE_BATCH]
                await ConsentAnchorProof.bulk_create(
                    [
                        ConsentAnchorProof(
                            anchor_id=anchor.id,
                            chain_key=m.key,
                            leaf_index=m.index,
                            head_seq=m.seq,
                            head_hash=m.hash,
                            path=",".join(h.hex() for h in tree.paths[m.index]),
                        )
                        for m in batch
                    ]
                )
                await connection.execute_many(update, [[m.seq, m.subject, m.seq] for m in batch])
    except IntegrityError:
        return None  # another run made this period's anchor first
    return anchor


async def forget_chain(settings: Settings, subject: str) -> int:
    """Delete the proofs of a chain that account deletion pseudonymises: they name it by its
    keyed name, and a chain of that name may start again (a device used anonymously)."""
    return await ConsentAnchorProof.filter(chain_key=chain_key(settings, subject)).delete()


# --- reading -------------------------------------------------------------------------------


async def published(before: int | None, limit: int) -> tuple[list[ConsentAnchor], bool]:
    """Anchors newest first, those older than ``before`` (an anchor id) when given; and
    whether there are more."""
    query = ConsentAnchor.exclude(token="").order_by("-id")
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.limit(limit + 1)
    return rows[:limit], len(rows) > limit


async def _events_after(subject: str, after_seq: int, through: int) -> list[EventRecord]:
    rows = (
        await ConsentEvent.filter(subject=subject, seq__gt=after_seq, seq__lte=through)
        .order_by("seq")
        .values(*RECORD_FIELDS)
    )
    await open_values(ConsentEvent, rows)  # the chain hashes the plain context
    return [EventRecord(**row) for row in rows]


def _chains_to(start: str, records: Sequence[EventRecord], head: str) -> bool:
    found = start
    for record in records:
        found = chain_hash(found, record)
    return found == head


async def inclusion(settings: Settings, event: ConsentEvent | EventRecord) -> dict[str, Any] | None:
    """The proof that the event's chain, at or after it, is in an anchor: the first anchor
    holding it, the leaf, its audit path, and the events between it and the anchored head
    (their canonical JSON, which the chain hashes). None before the next anchor is made."""
    key = chain_key(settings, event.subject)
    row = (
        await ConsentAnchorProof.filter(chain_key=key, head_seq__gte=event.seq)
        .order_by("anchor_id")
        .select_related("anchor")
        .first()
    )
    if row is None:
        return None
    after = await _events_after(event.subject, event.seq, row.head_seq)
    if len(after) != row.head_seq - event.seq or not _chains_to(event.hash, after, row.head_hash):
        return None  # not this chain's history (a chain of the same name started again)
    return {
        "token": row.anchor.token,
        "leafIndex": row.leaf_index,
        "chainKey": row.chain_key,
        "headSeq": row.head_seq,
        "headHash": row.head_hash,
        "auditPath": row.path.split(",") if row.path else [],
        "eventsAfter": [canonical(record).decode() for record in after],
    }


def proof_claims(event: ConsentEvent | EventRecord, anchor: dict[str, Any]) -> dict[str, Any]:
    """A proof of its own for a receipt issued before its anchor existed: it names the
    receipt's event, so a verifier can pair them."""
    return {
        "consentReceiptID": f"{event.subject}/{event.seq}",
        "eventSeq": event.seq,
        "eventHash": event.hash,
        "anchor": anchor,
        "jti": hashlib.sha256(f"{event.hash}:{anchor['token']}".encode()).hexdigest()[:32],
    }
