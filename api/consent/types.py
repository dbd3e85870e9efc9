"""GraphQL types of the consent domain."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from api.pagination import PageInfo, decode_cursor
from api.payloads import error_code
from models.consent import errors as consent_errors
from models.consent import ledger, policies, purposes
from models.consent.decisions import Consent as ConsentRow
from models.errors import DomainError

# The models' own enums, which strawberry.enum registers in place: still types to mypy.
LegalBasis = purposes.LegalBasis
strawberry.enum(LegalBasis)
ChangeCategory = policies.ChangeCategory
strawberry.enum(ChangeCategory)
ConsentSource = ledger.Source
strawberry.enum(ConsentSource, name="ConsentSource")
ConsentEventKind = ledger.EventKind
strawberry.enum(ConsentEventKind, name="ConsentEventKind")


#: The rules' own enum, so GraphQL lists exactly the codes they raise.
ConsentErrorCode = consent_errors.ConsentErrorCode
strawberry.enum(ConsentErrorCode)


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
class Purpose:
    code: str
    title: str
    description: str
    required: bool = strawberry.field(description="Needed to run the service; cannot be withdrawn.")
    legal_basis: LegalBasis
    category: str

    @classmethod
    def of(cls, row: purposes.Purpose) -> Purpose:
        return cls(
            code=row.code,
            title=row.title,
            description=row.description,
            required=row.required,
            legal_basis=row.legal_basis,
            category=row.category,
        )


@strawberry.type(description="A published, immutable version of the privacy policy.")
class PolicyVersion:
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

    @strawberry.field(description="The purposes this version covers.")
    async def purposes(self, info: Info) -> list[Purpose]:
        rows = await info.context.consent_loaders.purpose.load_many(self.purpose_codes)
        return [Purpose.of(r) for r in rows if r is not None]


async def _policy(info: Info, version: str | None) -> PolicyVersion | None:
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
    async def policy_version(self, info: Info) -> PolicyVersion | None:
        return await _policy(info, self.version)


@strawberry.type(description="One entry of the append-only consent ledger.")
class ConsentEvent:
    id: strawberry.ID
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
            id=strawberry.ID(str(row.id)),
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

    @strawberry.field
    async def purpose(self, info: Info) -> Purpose | None:
        if self.purpose_code is None:
            return None
        row = await info.context.consent_loaders.purpose.load(self.purpose_code)
        return Purpose.of(row) if row else None

    @strawberry.field
    async def policy_version(self, info: Info) -> PolicyVersion | None:
        return await _policy(info, self.version)


# --- Relay connections ---------------------------------------------------------------------

#: Row ids are 64-bit: a larger number (a forged id or cursor) would make the driver fail.
MAX_ID = 2**63 - 1


def row_id(value: object) -> int | None:
    """A row id given by a client, or None when it cannot be one."""
    text = str(value)
    return int(text) if text.isdigit() and int(text) <= MAX_ID else None


def after_id(cursor: str | None) -> int | None:
    """``decode_cursor``, with an id out of range read as a forged cursor (matches nothing)."""
    value = decode_cursor(cursor)
    return -1 if value is not None and value > MAX_ID else value


#: Where a forged policies cursor points: before every row, so the page is empty.
_NOWHERE = (datetime.min.replace(tzinfo=UTC), -1)


def encode_policy_cursor(row: policies.PolicyVersion) -> str:
    """Policies are listed newest effective first (ties: newest published first), so their
    cursor is the pair (effective_at, id)."""
    position = f"policy:{row.effective_at.astimezone(UTC).isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(position.encode()).decode()


def decode_policy_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        kind, _, rest = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        moment, _, last_id = rest.partition("|")
        if kind == "policy" and last_id.isdigit() and int(last_id) <= MAX_ID:
            effective_at = datetime.fromisoformat(moment)
            if effective_at.tzinfo is not None:
                return effective_at, int(last_id)
    except (ValueError, UnicodeDecodeError):
        pass
    return _NOWHERE


@strawberry.type
class ConsentEventEdge:
    cursor: str
    node: ConsentEvent


@strawberry.type
class ConsentEventConnection:
    edges: list[ConsentEventEdge]
    page_info: PageInfo


@strawberry.type
class PolicyVersionEdge:
    cursor: str
    node: PolicyVersion


@strawberry.type
class PolicyVersionConnection:
    edges: list[PolicyVersionEdge]
    page_info: PageInfo


@strawberry.type(description="A recomputation of one subject's hash chain.")
class LedgerCheck:
    ok: bool
    checked: int = strawberry.field(description="Events whose hash matched, in order.")
    first_broken_event_id: strawberry.ID | None
