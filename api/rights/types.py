"""GraphQL types of the rights domain: data-subject requests, and the map of personal data
as declared in ``models.rights.data_map`` (never written twice)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from accord.settings import PREFIX, Settings
from api.consent.types import LegalBasis
from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.payloads import error_code
from api.permissions import DATA_REQUEST_READERS, PRIVACY_OFFICE
from models.errors import DomainError
from models.rights import audit, corrections, data_map, decisions, requests
from models.rights.errors import RightsErrorCode

if TYPE_CHECKING:
    from api.accounts.types import Role

strawberry.enum(RightsErrorCode, name="DataRequestErrorCode")
strawberry.enum(requests.DataRequestKind, description="Which right a request exercises.")
strawberry.enum(requests.DataRequestStatus, description="Where a data request stands.")
strawberry.enum(
    requests.Urgency,
    name="DataRequestUrgency",
    description="Where an open request stands against its due date.",
)
strawberry.enum(
    decisions.Decision,
    name="DataRequestDecision",
    description="FULFIL: make the change (correct the row, erase the rows); REJECT: refuse "
    "it, with a reason the user is shown.",
)
strawberry.enum(audit.StaffAction, description="What a staff member did with a subject's data.")
DataRequestErrorCode = RightsErrorCode
DataRequestKind = requests.DataRequestKind
DataRequestStatus = requests.DataRequestStatus
DataRequestUrgency = requests.Urgency
DataRequestDecision = decisions.Decision
StaffAction = audit.StaffAction


@strawberry.type(description="A mistake the caller can fix; switch on `code`, not `message`.")
class DataRequestError:
    code: DataRequestErrorCode
    field: str | None
    message: str
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait, for RATE_LIMITED."
    )

    @classmethod
    def of(cls, error: DomainError) -> DataRequestError:
        return cls(
            code=error_code(RightsErrorCode, error.code),
            field=error.field,
            message=error.message,
            retry_after=error.retry_after,
        )


@strawberry.type(
    description="A right exercised (access, correction, erasure, account deletion), from "
    "filing to answer. The clock starts when the identity is verified."
)
class DataRequest(AccordNode):
    kind: DataRequestKind
    status: DataRequestStatus
    received_at: datetime
    verified_at: datetime | None = strawberry.field(
        description="When the identity was verified: the clock starts here."
    )
    due_at: datetime | None = strawberry.field(
        description="The answer is owed by then (verifiedAt + the law's period: 15 days by "
        "the policy); for an account deletion, a period after its grace ends."
    )
    completed_at: datetime | None
    urgency: DataRequestUrgency = strawberry.field(
        description="ON_TIME, AT_RISK (due within days) or OVERDUE, while open."
    )
    reason: str = strawberry.field(description="Why it was rejected, or what was done.")
    extended_at: datetime | None = strawberry.field(
        description="When a privacy officer extended the due date (once at most)."
    )
    extension_reason: str = strawberry.field(
        description="Why it was extended, as the user was told; empty if it was not."
    )
    account_id: strawberry.ID | None = strawberry.field(
        description="The id of the account whose right it is (null for a request filed "
        "without signing in that named no account on file)."
    )
    #: The row behind it, for ``asked``: whose it is, what it asks, and whether a privacy
    #: officer opened it with a reason (``dataRequest``).
    account_pk: strawberry.Private[int | None] = None
    details: strawberry.Private[dict[str, Any] | None] = None
    opened: strawberry.Private[bool] = False

    @classmethod
    def of(cls, row: requests.DataRequest, *, opened: bool = False) -> DataRequest:
        return cls(
            id=global_id("DataRequest", row.id),
            kind=row.kind,
            status=row.status,
            received_at=row.received_at,
            verified_at=row.verified_at,
            due_at=row.due_at,
            completed_at=row.completed_at,
            urgency=row.urgency,
            reason=row.reason,
            extended_at=row.extended_at,
            extension_reason=row.extension_reason,
            account_id=global_id("Account", row.account_id) if row.account_id else None,
            account_pk=row.account_id,
            details=row.details,
            opened=opened,
        )

    @strawberry.field(
        description="What the request asks: a correction's field and value, an erasure's "
        "rows, the note. For the requester; staff read it through dataRequest(id, reason)."
    )
    async def asked(self, info: Info[Context, None]) -> RequestedChange | None:
        if not self.opened:
            viewer = await info.context.viewer()
            if viewer is None or self.account_pk is None or viewer.id != self.account_pk:
                return None
        return RequestedChange.of(self.account_pk, self.details or {})

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, DataRequest]:
        """As ``Account.dataRequests`` (the account itself, or an ADMIN) and ``dataRequests``
        (the privacy office)."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not ids:
            return {}
        rows = await requests.DataRequest.filter(id__in=list(ids), account_id__isnull=False)
        staff = await info.context.may_read_subject_data()
        return {
            ids[r.id]: cls.of(r)
            for r in rows
            if r.account_id is not None
            and DATA_REQUEST_READERS.allows_account(viewer, r.account_id, staff=staff)
        }


@strawberry.type(description="A change a correction request asks for.")
class RequestedCorrection:
    kind: str = strawberry.field(description="The kind of personal data (as dataMap names it).")
    field: str
    row_id: str = strawberry.field(description="The row's key within its kind.")
    requested_value: str
    account_id: strawberry.Private[int | None] = None

    @strawberry.field(description="What the field holds now; null when the row is gone.")
    async def current_value(self) -> str | None:
        if self.account_id is None:
            return None
        return await corrections.current_value(
            self.account_id, {"kind": self.kind, "field": self.field, "rowId": self.row_id}
        )


@strawberry.type(description="A kind of data an erasure request asks to erase.")
class RequestedErasure:
    kind: str
    row_ids: list[str] | None = strawberry.field(
        description="The rows' keys within their kind; null: every row of the kind."
    )


@strawberry.type(description="What a data request asks, in the requester's words.")
class RequestedChange:
    note: str
    correction: RequestedCorrection | None
    erasures: list[RequestedErasure]

    @classmethod
    def of(cls, account_id: int | None, details: dict[str, Any]) -> RequestedChange:
        correction = None
        if "field" in details:
            correction = RequestedCorrection(
                kind=str(details.get("kind", "")),
                field=str(details["field"]),
                row_id=str(details.get("rowId", "")),
                requested_value=str(details.get("requestedValue", "")),
                account_id=account_id,
            )
        return cls(
            note=str(details.get("note", "")),
            correction=correction,
            erasures=[
                RequestedErasure(kind=str(item.get("kind", "")), row_ids=item.get("rowIds"))
                for item in details.get("erase", [])
            ],
        )


@strawberry.type
class RequestCorrectionPayload:
    request: DataRequest | None = None
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type
@strawberry.type
class FileDataRequestPayload:
    handle: str | None = strawberry.field(
        default=None,
        description="Opaque: give it back to verifyDataRequest with the code. Not a node id.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="Until when the code works."
    )
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class RequestErasurePayload:
    request: DataRequest | None = None
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyDataRequestPayload:
    request: DataRequest | None = strawberry.field(
        default=None, description="The request, VERIFIED: its clock runs from `verifiedAt`."
    )
    erasure_receipt_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An ACCOUNT_DELETION that started the grace period: as cancelAccount's, "
        "the id that with `erasureReceiptSecret` fetches the erasure receipt (erasureReceipt).",
    )
    erasure_receipt_secret: str | None = strawberry.field(
        default=None, description="Shown once, never stored in clear: keep it with the id."
    )
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class DecideDataRequestPayload:
    request: DataRequest | None = None
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type
class ExtendDataRequestPayload:
    request: DataRequest | None = None
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


# --- the staff audit log ---------------------------------------------------------------------


@strawberry.type(
    description="One staff read or change of a subject's personal data, hash-chained: who "
    "(and with which role), what, whose, which resource, why and when."
)
class StaffAuditEntry(AccordNode):
    seq: int
    at: datetime
    staff_id: strawberry.ID = strawberry.field(description="The staff account's id.")
    #: Lazy: ``api.accounts.types`` declares the enum, and imports this module first.
    staff_role: Annotated[Role, strawberry.lazy("api.accounts.types")]
    action: StaffAction
    subject_id: strawberry.ID | None = strawberry.field(
        description="Whose data: the account's id (a tombstone's, once it is deleted)."
    )
    resource: str = strawberry.field(
        description="Which kind of data (`Kind.field` for a correction)."
    )
    resource_id: str = strawberry.field(description="Which rows of it; empty: every row.")
    reason: str = strawberry.field(description="Why: the staff member's reason.")
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, row: audit.StaffAuditEntry) -> StaffAuditEntry:
        return cls(
            id=global_id("StaffAuditEntry", row.id),
            seq=row.seq,
            at=row.at,
            staff_id=global_id("Account", row.staff_id),
            staff_role=row.staff_role,
            action=row.action,
            subject_id=(
                global_id("Account", row.subject_id) if row.subject_id is not None else None
            ),
            resource=row.resource,
            resource_id=row.resource_id,
            reason=row.reason,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )

    @classmethod
    async def visible(
        cls, info: Info[Context, None], keys: list[str]
    ) -> dict[str, StaffAuditEntry]:
        """As ``staffAuditLog``: the privacy office."""
        ids = row_keys(keys)
        viewer = await info.context.viewer()
        if viewer is None or not viewer.holds_role(*PRIVACY_OFFICE) or not ids:
            return {}
        rows = await audit.StaffAuditEntry.filter(id__in=list(ids))
        return {ids[r.id]: cls.of(r) for r in rows}


@strawberry.type(description="A recomputation of the staff audit log's hash chain.")
class StaffAuditCheck:
    ok: bool
    checked: int = strawberry.field(description="Entries whose hash matched, in order.")
    first_broken_entry_id: strawberry.ID | None = strawberry.field(
        description="The first entry whose hash, link or place is wrong."
    )


strawberry.enum(data_map.DataCategory, description="A category of personal data.")
strawberry.enum(
    data_map.Erasure,
    name="ErasureMethod",
    description="What deleting the account does with a kind of personal data.",
)
strawberry.enum(
    data_map.Export, name="ExportMethod", description="Whether an export of your data holds it."
)
DataCategory = data_map.DataCategory
ErasureMethod = data_map.Erasure
ExportMethod = data_map.Export


@strawberry.type(description="A field that erasure keeps but rewrites, and what it becomes.")
class ErasedField:
    field: str
    becomes: str


@strawberry.type(description="The setting that governs a retention, and its value here.")
class RetentionSetting:
    name: str = strawberry.field(description="The environment variable, e.g. ACCORD_...")
    value: str


@strawberry.type(description="One kind of personal data: a record of processing (GDPR Art 30).")
class PersonalDataKind:
    kind: str
    table: str
    fields: list[str] = strawberry.field(description="The fields that hold personal data.")
    categories: list[DataCategory]
    purposes: list[str] = strawberry.field(description="Codes of the purposes it serves.")
    legal_basis: LegalBasis
    retention: str
    retention_setting: RetentionSetting | None
    found_by: list[str] = strawberry.field(
        description="How a data subject's rows are found: `field: what it matches`."
    )
    erasure: ErasureMethod
    erased_fields: list[ErasedField] = strawberry.field(
        description="ANONYMISE, PSEUDONYMISE, KEEP_AS_TOMBSTONE: what each kept field becomes."
    )
    erasure_note: str
    deletion_step: str = strawberry.field(
        description="The step of an account deletion that erases it."
    )
    export: ExportMethod
    export_note: str
    correctable_fields: list[str] = strawberry.field(
        description="The fields a user may ask staff to correct (requestCorrection)."
    )
    erasable_on_request: bool = strawberry.field(
        description="Whether a user may ask staff to erase rows of it (requestErasure)."
    )
    not_exported: list[str] = strawberry.field(
        description="Fields an export leaves out although they are personal (hashes, secrets)."
    )

    @classmethod
    def of(cls, entry: data_map.PersonalData, settings: Settings) -> PersonalDataKind:
        setting = None
        if entry.retention_setting is not None:
            setting = RetentionSetting(
                name=PREFIX + entry.retention_setting.upper(),
                value=str(getattr(settings, entry.retention_setting)),
            )
        return cls(
            kind=entry.kind,
            table=entry.table,
            fields=list(entry.fields),
            categories=list(entry.categories),
            purposes=list(entry.purposes),
            legal_basis=entry.legal_basis,
            retention=entry.retention,
            retention_setting=setting,
            found_by=list(entry.found_by),
            erasure=entry.erasure,
            erased_fields=[ErasedField(field=f, becomes=b) for f, b in entry.anonymised.items()],
            erasure_note=entry.erasure_note,
            deletion_step=str(entry.step),
            export=entry.export,
            export_note=entry.export_note,
            correctable_fields=[c.field for c in entry.correctable],
            erasable_on_request=entry.erasure_refusal() is None,
            not_exported=list(entry.not_exported),
        )


@strawberry.type(description="A table that holds no personal data, and why.")
class TableWithoutPersonalData:
    table: str
    reason: str


@strawberry.type(
    description="Where personal data lives, why, how long, and how it is erased and exported."
)
class DataMap:
    kinds: list[PersonalDataKind]
    tables_without_personal_data: list[TableWithoutPersonalData]


@strawberry.type
class ExportMyDataPayload:
    request: DataRequest | None = strawberry.field(
        default=None,
        description="The ACCESS request filed: COMPLETED once the archive is ready, when its "
        "link is sent to you in-app and by e-mail.",
    )
    errors: list[DataRequestError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="One kind of the map of personal data, as an erasure receipt names it."
)
class ErasureReceiptKind:
    kind: str
    note: str = strawberry.field(
        description="How it was anonymised, or why it was kept; empty for an erased kind."
    )


@strawberry.type(
    description="The signed erasure receipt of a completed account deletion: `token` is a "
    "compact JWS (ES256) verifiable with the key at /.well-known/jwks.json; the other fields "
    "repeat its claims. It names no personal data."
)
class ErasureReceipt:
    request_id: strawberry.ID = strawberry.field(
        description="The pseudonymous request id handed out at cancellation."
    )
    token: str
    cancelled_at: datetime
    completed_at: datetime
    key_destroyed_at: datetime | None = strawberry.field(
        description="When the account's data key was destroyed (the first step of the "
        "deletion): from then on the service cannot read its files."
    )
    erased: list[ErasureReceiptKind]
    anonymised: list[ErasureReceiptKind]
    kept: list[ErasureReceiptKind]

    @classmethod
    def of(cls, token: str, claims: dict[str, Any]) -> ErasureReceipt:
        """The fields read from the signed claims: the token is the record."""

        def kinds(name: str) -> list[ErasureReceiptKind]:
            return [
                ErasureReceiptKind(kind=item["kind"], note=item.get("how") or item.get("why", ""))
                for item in claims[name]
            ]

        def moment(name: str) -> datetime | None:
            value = claims.get(name)
            return None if value is None else datetime.fromtimestamp(value, UTC)

        return cls(
            request_id=strawberry.ID(claims["requestId"]),
            token=token,
            cancelled_at=datetime.fromtimestamp(claims["cancelledAt"], UTC),
            completed_at=datetime.fromtimestamp(claims["completedAt"], UTC),
            key_destroyed_at=moment("keyDestroyedAt"),
            erased=kinds("erased"),
            anonymised=kinds("anonymised"),
            kept=kinds("kept"),
        )
