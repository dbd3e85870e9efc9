"""GraphQL types of the rights domain: data-subject requests, and the map of personal data
as declared in ``models.rights.data_map`` (never written twice)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from accord.settings import PREFIX, Settings
from api.consent.types import LegalBasis
from api.context import Context
from api.nodes import AccordNode, global_id, row_keys
from api.payloads import error_code
from api.permissions import OWNER_OR_ADMIN
from models.errors import DomainError
from models.rights import data_map, requests
from models.rights.errors import RightsErrorCode

strawberry.enum(RightsErrorCode, name="DataRequestErrorCode")
strawberry.enum(requests.DataRequestKind, description="Which right a request exercises.")
strawberry.enum(requests.DataRequestStatus, description="Where a data request stands.")
strawberry.enum(
    requests.Urgency,
    name="DataRequestUrgency",
    description="Where an open request stands against its due date.",
)
DataRequestErrorCode = RightsErrorCode
DataRequestKind = requests.DataRequestKind
DataRequestStatus = requests.DataRequestStatus
DataRequestUrgency = requests.Urgency


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

    @classmethod
    def of(cls, row: requests.DataRequest) -> DataRequest:
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
        )

    @classmethod
    async def visible(cls, info: Info[Context, None], keys: list[str]) -> dict[str, DataRequest]:
        """As ``Account.dataRequests``: the account itself (or an ADMIN)."""
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
            and OWNER_OR_ADMIN.allows_account(viewer, r.account_id, staff=staff)
        }


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
