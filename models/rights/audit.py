"""The staff audit log: every staff read or change of a subject's personal data, append-only
and hash-chained (issue 16: who, with which role, did what, to whose data, which resource,
why, and when).

One chain for the whole service, built like the consent ledger (``models.consent.ledger``):
entry ``n`` stores ``hash = SHA-256(hash of entry n-1 || canonical JSON of entry n)``, so
editing, deleting or reordering a stored entry breaks every hash after it (``verify``). An
append advances the head row (``StaffAuditHead``) with a compare-and-set update and ``seq``
is unique, so two appends at once can never fork the chain; the loser retries from the new
head.

There is no update or delete path. The accounts are named by their ids in plain columns,
not foreign keys, so no cascade can rewrite a hashed field: an account row outlives its
deletion as a tombstone with nothing personal in it (``models.rights.deletion``), so
``subject_id`` and ``staff_id`` stay what they were, name nobody once the account is
deleted, and the chain still verifies. The reason is the staff member's own justification
(what they were asked to give before opening a subject's data); it is kept with the entry.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum

import orjson
from tortoise import fields
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import clock
from models.accounts.account import Account, Role
from models.errors import DomainError
from models.hash_chains import GENESIS, walk
from models.rights.errors import RightsErrorCode
from models.text import clean_text

REASON_MAX = 500
RESOURCE_MAX = 64
APPEND_RETRIES = 20


class StaffAction(StrEnum):
    """What a staff member did with a subject's data, or to the work done for subjects."""

    READ_SUPPORT_THREAD = "READ_SUPPORT_THREAD"
    #: Opened a data request's details (``dataRequest(id, reason)``).
    READ_DATA_REQUEST = "READ_DATA_REQUEST"
    #: Fulfilled or rejected a correction or erasure request.
    DECIDE_DATA_REQUEST = "DECIDE_DATA_REQUEST"
    #: Gave a request more time (``extendDataRequest``).
    EXTEND_DATA_REQUEST = "EXTEND_DATA_REQUEST"
    #: Changed a row as a fulfilled correction asked.
    CORRECT = "CORRECT"
    #: Erased rows as a fulfilled erasure asked.
    ERASE = "ERASE"
    #: Made a failed (or backing-off) account deletion due now (``retryDeletion``).
    RETRY_DELETION = "RETRY_DELETION"
    #: Moved an account deletion's next attempt later, within its bound (``postponeDeletion``).
    POSTPONE_DELETION = "POSTPONE_DELETION"
    #: Queued a stalled campaign's jobs again (``resumeCampaign``; no subject).
    RESUME_CAMPAIGN = "RESUME_CAMPAIGN"
    #: Stopped a campaign (``cancelCampaign``; no subject).
    CANCEL_CAMPAIGN = "CANCEL_CAMPAIGN"
    #: Registered, disabled, enabled or deleted a consent webhook, rotated its secret or
    #: replayed its deliveries (``models.webhooks``); the reason says which.
    MANAGE_CONSENT_WEBHOOK = "MANAGE_CONSENT_WEBHOOK"
    #: Marked an account as a minor's, or cleared the mark (``markMinor``).
    MARK_MINOR = "MARK_MINOR"
    UNMARK_MINOR = "UNMARK_MINOR"
    #: Recorded a guardian's consent verified otherwise than by its e-mail code, or withdrew
    #: one for them (``verifyGuardianConsent``, ``withdrawGuardianConsent``).
    VERIFY_GUARDIAN_CONSENT = "VERIFY_GUARDIAN_CONSENT"
    WITHDRAW_FOR_GUARDIAN = "WITHDRAW_FOR_GUARDIAN"
    #: Recorded a security incident's report to the supervisory authority
    #: (``recordAuthorityReport``; the incident names no subject).
    REPORT_TO_AUTHORITY = "REPORT_TO_AUTHORITY"


class StaffAuditEntry(Model):
    """One staff read or change of a subject's personal data."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField(unique=True)
    at = fields.DatetimeField()
    #: The staff account (its tombstone's id once deleted): a plain column, see the module.
    staff_id = fields.BigIntField(db_index=True)
    #: The role the staff member held when acting.
    staff_role = fields.CharEnumField(Role, max_length=16)
    action = fields.CharEnumField(StaffAction, max_length=24)
    #: Whose data (the account's tombstone id once deleted), NULL if no account's.
    subject_id = fields.BigIntField(null=True, db_index=True)
    #: Which kind of data (a kind of the map, ``Kind.field`` for a correction).
    resource = fields.CharField(max_length=RESOURCE_MAX)
    #: Which rows of it ("" for every row of the kind).
    resource_id = fields.TextField(default="")
    #: Why: the staff member's reason.
    reason = fields.CharField(max_length=REASON_MAX)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "staff_audit_entry"


class StaffAuditHead(Model):
    """The chain's head: its last sequence number and hash (one row, ``chain`` HEAD)."""

    chain = fields.CharField(max_length=16, primary_key=True)
    seq = fields.BigIntField()
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "staff_audit_head"


HEAD = "staff"


def canonical(entry: StaffAuditEntry) -> bytes:
    """The bytes that are hashed: every recorded field but the hashes, in a fixed form."""
    body = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "staffId": entry.staff_id,
        "staffRole": str(entry.staff_role),
        "action": str(entry.action),
        "subjectId": entry.subject_id,
        "resource": entry.resource,
        "resourceId": entry.resource_id,
        "reason": entry.reason,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prev_hash: str, entry: StaffAuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(entry)).hexdigest()


class _HeadMoved(Exception):
    """Another append advanced the head between our read and our write."""


async def record(
    staff: Account,
    action: StaffAction,
    *,
    subject_id: int | None,
    resource: str,
    resource_id: str = "",
    reason: str | None,
) -> StaffAuditEntry:
    """Append one entry; the reason is required (staff say why they open a subject's data).
    Inside a caller's transaction it commits, or not, with the caller's work."""
    why = clean_text(reason, "reason", REASON_MAX, multiline=True)
    for attempt in range(APPEND_RETRIES):
        try:
            return await _append_once(staff, action, subject_id, resource, resource_id, why)
        except (_HeadMoved, IntegrityError):
            pass
        except OperationalError as error:  # SQLite: another process holds the write lock
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter
    raise DomainError(RightsErrorCode.CONFLICT, None, "the staff audit log is busy; retry")


async def _append_once(
    staff: Account,
    action: StaffAction,
    subject_id: int | None,
    resource: str,
    resource_id: str,
    reason: str,
) -> StaffAuditEntry:
    async with in_transaction("default"):
        head = await StaffAuditHead.get_or_none(chain=HEAD)
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        entry = StaffAuditEntry(
            seq=seq + 1,
            # Stored as the database keeps it (microseconds), so the hash reads back alike.
            at=clock.now().astimezone(UTC),
            staff_id=staff.id,
            staff_role=staff.role,
            action=action,
            subject_id=subject_id,
            resource=resource[:RESOURCE_MAX],
            resource_id=resource_id,
            reason=reason,
            prev_hash=prev,
        )
        entry.hash = chain_hash(prev, entry)
        if head is None:
            await StaffAuditHead.create(chain=HEAD, seq=entry.seq, hash=entry.hash)
        elif not await StaffAuditHead.filter(chain=HEAD, seq=head.seq).update(
            seq=entry.seq, hash=entry.hash
        ):
            raise _HeadMoved
        await entry.save()
    return entry


@dataclass
class AuditCheck:
    ok: bool
    checked: int
    #: The first entry whose hash, link or place in the sequence is wrong (or the last good
    #: one, when the head disagrees with the end of the chain).
    first_broken_entry_id: int | None


async def verify(page: int = 1000) -> AuditCheck:
    """Recompute every hash in order and compare the end with the head."""

    async def links_from(first_seq: int, limit: int) -> list[StaffAuditEntry]:
        return await StaffAuditEntry.filter(seq__gte=first_seq).order_by("seq").limit(limit)

    async def head() -> tuple[int, str] | None:
        found = await StaffAuditHead.get_or_none(chain=HEAD)
        return None if found is None else (found.seq, found.hash)

    walked = await walk(links_from, chain_hash, head, page)
    return AuditCheck(walked.ok, walked.checked, walked.first_broken_id)
