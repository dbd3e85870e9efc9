"""GraphQL types of the consent domain: purposes, policy versions, consents and ledger
events, the typed error, and the mutations' payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.pagination import Connection
from api.payloads import error_code
from api.permissions import CONSENT_READERS
from models import clock
from models.consent import decisions, ledger, policies, purposes
from models.consent import errors as consent_errors
from models.consent.decisions import Consent as ConsentRow
from models.errors import DomainError

# ``strawberry.enum`` registers the models' enum itself; the names below are plain aliases,
# so a type checker sees the classes.
strawberry.enum(purposes.LegalBasis)
strawberry.enum(policies.ChangeCategory)
strawberry.enum(ledger.Source, name="ConsentSource")
strawberry.enum(ledger.EventKind, name="ConsentEventKind")
#: The rules' own enum, so GraphQL lists exactly the codes they raise.
strawberry.enum(consent_errors.ConsentErrorCode)
strawberry.enum(decisions.SyncStatus, description="What became of one synced event.")
LegalBasis = purposes.LegalBasis
ChangeCategory = policies.ChangeCategory
ConsentSource = ledger.Source
ConsentEventKind = ledger.EventKind
ConsentErrorCode = consent_errors.ConsentErrorCode
SyncStatus = decisions.SyncStatus


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class ConsentError:
    code: ConsentErrorCode
    field: str | None
    message: str

    @classmethod
    def of(cls, error: DomainError) -> ConsentError:
        return cls(
            code=error_code(ConsentErrorCode, error.code), field=error.field, message=error.message
        )


@strawberry.type(description="What personal data is used for; consent is given per purpose.")
class Purpose(AccordNode):
    code: str
    title: str
    description: str
    required: bool = strawberry.field(description="Needed to run the service; cannot be withdrawn.")
    legal_basis: LegalBasis
    category: str
    gpc_opt_out: bool = strawberry.field(
        description="A sale or sharing that a Global Privacy Control signal (Sec-GPC: 1) "
        "opts out of: such a request records a withdrawal with source GPC, once per "
        "subject and policy version."
    )

    @classmethod
    def of(cls, row: purposes.Purpose) -> Purpose:
        return cls(
            id=global_id("Purpose", row.code),
            code=row.code,
            title=row.title,
            description=row.description,
            required=row.required,
            legal_basis=row.legal_basis,
            category=row.category,
            gpc_opt_out=row.gpc_opt_out,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, Purpose]:
        """As ``purposes``: anyone (keyed by code, which never changes)."""
        rows = await info.context.consent_loaders.purpose.load_many(keys)
        return {r.code: cls.of(r) for r in rows if r is not None}


@strawberry.type(description="A published, immutable version of the privacy policy.")
class PolicyVersion(AccordNode):
    version: str
    summary: str
    url: str | None
    text_sha256: str
    published_at: datetime
    effective_at: datetime
    material: bool
    change_categories: list[ChangeCategory]
    purpose_codes: strawberry.Private[list[str]]

    @classmethod
    def of(cls, row: policies.PolicyVersion) -> PolicyVersion:
        return cls(
            id=global_id("PolicyVersion", row.version),
            version=row.version,
            summary=row.summary,
            url=row.url,
            text_sha256=row.text_sha256,
            published_at=row.published_at,
            effective_at=row.effective_at,
            material=row.material,
            change_categories=[policies.ChangeCategory(c) for c in row.change_categories],
            purpose_codes=list(row.purpose_codes),
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, PolicyVersion]:
        """As ``policies``: anyone (keyed by version, which never changes)."""
        rows = await info.context.consent_loaders.policy.load_many(keys)
        return {r.version: cls.of(r) for r in rows if r is not None}

    @strawberry.field(description="The purposes this version covers.")
    async def purposes(self, info: Info[Context, None]) -> list[Purpose]:
        rows = await info.context.consent_loaders.purpose.load_many(self.purpose_codes)
        return [Purpose.of(r) for r in rows if r is not None]


async def _policy(info: Info[Context, None], version: str | None) -> PolicyVersion | None:
    if version is None:
        return None
    row = await info.context.consent_loaders.policy.load(version)
    return PolicyVersion.of(row) if row else None


@strawberry.type(description="The viewer's current decision for one purpose.")
class Consent:
    purpose: Purpose
    granted: bool
    decided_at: datetime | None = strawberry.field(description="Client time of the decision.")
    source: ConsentSource | None
    version: strawberry.Private[str | None]

    @classmethod
    def of(cls, row: ConsentRow) -> Consent:
        event = row.event
        return cls(
            purpose=Purpose.of(row.purpose),
            granted=row.granted,
            decided_at=event.client_timestamp if event else None,
            source=event.source if event else None,
            version=event.policy_version if event else None,
        )

    @strawberry.field
    async def policy_version(self, info: Info[Context, None]) -> PolicyVersion | None:
        return await _policy(info, self.version)


@strawberry.type(description="One entry of the append-only consent ledger.")
class ConsentEvent(AccordNode):
    seq: int = strawberry.field(description="Position in its subject's hash chain.")
    kind: ConsentEventKind
    granted: bool | None = strawberry.field(description="For GRANTED and WITHDRAWN events.")
    source: ConsentSource
    device_id: str | None
    client_timestamp: datetime
    server_timestamp: datetime
    idempotency_key: str
    hash: str = strawberry.field(description="SHA-256 over the previous hash and this event.")
    purpose_code: strawberry.Private[str | None]
    version: strawberry.Private[str | None]

    @classmethod
    def of(cls, row: ledger.ConsentEvent) -> ConsentEvent:
        decided = row.kind in ledger.DECISIONS
        return cls(
            id=global_id("ConsentEvent", row.id),
            seq=row.seq,
            kind=row.kind,
            granted=(row.kind == ledger.EventKind.GRANTED) if decided else None,
            source=row.source,
            device_id=row.device_id,
            client_timestamp=row.client_timestamp,
            server_timestamp=row.server_timestamp,
            idempotency_key=row.idempotency_key,
            hash=row.hash,
            purpose_code=row.purpose_code,
            version=row.policy_version,
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, ConsentEvent]:
        """As ``consentHistory`` and ``consentReceipt``: the account holding the event's
        subject, or the privacy office."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not ids:
            return {}
        rows = await ledger.ConsentEvent.filter(id__in=list(ids))
        mine = set(await ledger.subjects_of(viewer.id))
        staff = CONSENT_READERS.holds_role(viewer) and await info.context.may_read_subject_data()
        return {ids[r.id]: cls.of(r) for r in rows if staff or r.subject in mine}

    @strawberry.field
    async def purpose(self, info: Info[Context, None]) -> Purpose | None:
        if self.purpose_code is None:
            return None
        row = await info.context.consent_loaders.purpose.load(self.purpose_code)
        return Purpose.of(row) if row else None

    @strawberry.field
    async def policy_version(self, info: Info[Context, None]) -> PolicyVersion | None:
        return await _policy(info, self.version)


# --- Relay connections ---------------------------------------------------------------------

ConsentEventConnection = Connection[ConsentEvent]
PolicyVersionConnection = Connection[PolicyVersion]


@strawberry.type(description="A recomputation of one subject's hash chain.")
class LedgerCheck:
    ok: bool
    checked: int = strawberry.field(description="Events whose hash matched, in order.")
    first_broken_event_id: strawberry.ID | None


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class SetConsentsPayload:
    consents: list[ConsentEvent] = strawberry.field(default_factory=list)
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type
class AcceptPolicyPayload:
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type(description="What became of one event of a syncConsents batch.")
class SyncResult:
    index: int = strawberry.field(
        description="The event's position in `events` (from 0): results come in that order, "
        "and a malformed event may have no key to match it by."
    )
    idempotency_key: str = strawberry.field(description="As sent; empty when there was none.")
    status: SyncStatus
    code: ConsentErrorCode | None = strawberry.field(
        description="Why an event was REJECTED (or CONFLICT)."
    )
    batch: strawberry.Private[decisions.SyncResult]

    @strawberry.field(
        description="ACCEPTED or DUPLICATE, but a decision with a later client time already "
        "decides this purpose (the latest client time wins): the event is in the ledger, "
        "the purpose's state is the later decision's. A client whose clock is behind sees "
        "it here; compare its clock with `serverTime`."
    )
    async def superseded(self) -> bool:
        await self.batch.mark_superseded()  # one query for the batch, only if asked
        return self.batch.results[self.index].superseded


@strawberry.type(description="The limits syncConsents applies, from the server's settings.")
class ConsentSyncLimits:
    max_events: int = strawberry.field(description="Events one call takes (TOO_MANY_EVENTS).")
    max_event_age_seconds: int = strawberry.field(
        description="How old an event's clientTimestamp may be (TOO_OLD)."
    )
    clock_skew_seconds: int = strawberry.field(
        description="How far ahead of the server an event's clientTimestamp may be (CLOCK_SKEW)."
    )


@strawberry.type
class SyncConsentsPayload:
    results: list[SyncResult] = strawberry.field(
        default_factory=list, description="One per event sent, in the order sent."
    )
    events: list[ConsentEvent] = strawberry.field(
        default_factory=list, description="What other devices recorded since `since`."
    )
    cursor: str | None = strawberry.field(
        default=None, description="Pass as `since` next time; null only with `errors`."
    )
    has_more: bool = strawberry.field(
        default=False, description="More is waiting: sync again with `cursor`."
    )
    server_time: datetime = strawberry.field(
        default_factory=lambda: clock.now(),
        description="The server's clock as it answered: decisions are ordered by client "
        "time, so a client can tell how far off its own clock is.",
    )
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type
class PublishPolicyPayload:
    policy: PolicyVersion | None = None
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type
class CreatePurposePayload:
    purpose: Purpose | None = None
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdatePurposePayload:
    purpose: Purpose | None = None
    errors: list[ConsentError] = strawberry.field(default_factory=list)
