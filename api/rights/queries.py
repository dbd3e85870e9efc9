"""Query fields of the rights domain."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from api.context import Context
from api.nodes import global_id, row_id_of
from api.pagination import (
    Connection,
    Edge,
    clamp,
    connection,
    decode_position,
    empty,
    encode_position,
    fetch_page,
    page,
)
from api.permissions import OWNER_OR_ADMIN, PRIVACY_OFFICE, staff_only, visible_to
from api.rights.types import (
    DataMap,
    DataRequest,
    DataRequestStatus,
    DataRequestUrgency,
    ErasureReceipt,
    PersonalDataKind,
    StaffAuditCheck,
    StaffAuditEntry,
    TableWithoutPersonalData,
)
from models.rights import audit, data_map, erasure_receipts, requests

DUE_CURSOR = "data-request-due"


@strawberry.type
class RightsQueries:
    @strawberry.field(
        description="PRIVACY_OFFICER: the map of personal data (the record of processing), "
        "generated from the declaration that account deletion reads."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def data_map(self, info: Info[Context, None]) -> DataMap:
        settings = info.context.settings
        return DataMap(
            kinds=[PersonalDataKind.of(entry, settings) for entry in data_map.DATA_MAP],
            tables_without_personal_data=[
                TableWithoutPersonalData(table=table, reason=reason)
                for table, reason in sorted(data_map.NO_PERSONAL_DATA.items())
            ],
        )

    @strawberry.field(
        description="No sign-in: the signed erasure receipt of a deleted account, by the "
        "request id and secret cancelAccount handed out. Null until the deletion has "
        "completed, and null alike for an unknown id or a wrong secret."
    )
    async def erasure_receipt(
        self, info: Info[Context, None], request_id: strawberry.ID, secret: str
    ) -> ErasureReceipt | None:
        settings = info.context.settings
        row = await erasure_receipts.find_receipt(str(request_id), secret, settings)
        if row is None or row.receipt_token is None:
            return None
        token = row.receipt_token
        return ErasureReceipt.of(token, erasure_receipts.claims_of(token, settings))

    @strawberry.field(
        description="PRIVACY_OFFICER: one data request with what it asks (`asked`), for "
        "deciding it. Say why you open it (`reason`): the read is written to the staff audit "
        "log. Needs a recent sign-in (stepUp). Null when no request has this id."
    )
    @staff_only(*PRIVACY_OFFICE, reads_subject_data=True)
    async def data_request(
        self, info: Info[Context, None], id: strawberry.ID, reason: str
    ) -> DataRequest | None:
        row_id = row_id_of(id, "DataRequest")
        row = await requests.DataRequest.get_or_none(id=row_id) if row_id else None
        if row is None:
            return None
        officer = await info.context.require_viewer()
        # A missing reason is a top-level INVALID naming the field ``reason``.
        await audit.record(
            officer,
            audit.StaffAction.READ_DATA_REQUEST,
            subject_id=row.account_id,
            resource="DataRequest",
            resource_id=str(row.id),
            reason=reason,
        )
        return DataRequest.of(row, opened=True)

    @strawberry.field(
        description="PRIVACY_OFFICER: the staff audit log, newest first: who among staff read "
        "or changed whose personal data, and why; narrowed to one staff member or one subject "
        "(account ids). Needs a recent sign-in (stepUp)."
    )
    @staff_only(*PRIVACY_OFFICE, reads_subject_data=True)
    async def staff_audit_log(
        self,
        info: Info[Context, None],
        staff_id: strawberry.ID | None = None,
        subject_id: strawberry.ID | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[StaffAuditEntry]:
        query = audit.StaffAuditEntry.all()
        for name, raw in (("staff_id", staff_id), ("subject_id", subject_id)):
            if raw is not None:
                account_id = row_id_of(raw, "Account")
                if account_id is None:
                    return empty()
                query = query.filter(**{name: account_id})
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, StaffAuditEntry.of)

    @strawberry.field(
        description="PRIVACY_OFFICER: recompute the staff audit log's hash chain; `ok` false "
        "names the first broken entry."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def verify_staff_audit_log(self, info: Info[Context, None]) -> StaffAuditCheck:
        check = await audit.verify()
        broken = check.first_broken_entry_id
        return StaffAuditCheck(
            ok=check.ok,
            checked=check.checked,
            first_broken_entry_id=(
                global_id("StaffAuditEntry", broken) if broken is not None else None
            ),
        )

    @strawberry.field(
        description="PRIVACY_OFFICER: data requests by due date, soonest first; by default "
        "those whose clock runs (VERIFIED, IN_PROGRESS), or those in `status` that have a due "
        "date (a RECEIVED request has none yet). `urgency` and `dueBefore` (UTC unless it "
        "says otherwise) narrow the list. "
        "Each names its account by id only."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def data_requests(
        self,
        info: Info[Context, None],
        status: list[DataRequestStatus] | None = None,
        urgency: DataRequestUrgency | None = None,
        due_before: datetime | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[DataRequest]:
        first = clamp(first)
        wanted = requests.CLOCKED_STATUSES if status is None else status
        query = requests.DataRequest.filter(status__in=list(wanted), due_at__isnull=False)
        if urgency is not None:
            query = query.filter(urgency=urgency)
        if due_before is not None:
            if due_before.tzinfo is None:  # a time without an offset is read as UTC
                due_before = due_before.replace(tzinfo=UTC)
            query = query.filter(due_at__lt=due_before)
        position = decode_position(DUE_CURSOR, after)
        if position is not None:
            moment, last_id = position
            query = query.filter(Q(due_at__gt=moment) | Q(due_at=moment, id__gt=last_id))
        rows = await query.order_by("due_at", "id").limit(first + 1)
        edges = []
        for row in rows[:first]:
            assert row.due_at is not None  # filtered
            cursor = encode_position(DUE_CURSOR, row.due_at, row.id)
            edges.append(Edge(cursor=cursor, node=DataRequest.of(row)))
        return page(edges, len(rows) > first)


@strawberry.type
class AccountRightsFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(
        description="Every right you exercised (exports, corrections, erasures, the account's "
        "deletion), newest first, with where each stands and when it is due."
    )
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def data_requests(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> Connection[DataRequest]:
        query = requests.DataRequest.filter(account_id=self.pk)  # type: ignore[attr-defined]
        rows, more = await fetch_page(query, first, after)
        return connection(rows, more, DataRequest.of)
