"""Search and click records, devices, and client error reports at the GraphQL edge."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.payloads import payload
from api.personal.errors import PersonalDataError
from models.consent.ledger import clean_device_id
from models.personal import activity, devices, error_reports


@strawberry.input
class RecordSearchInput:
    keywords: str
    device_id: str | None = None


@strawberry.input
class RecordClickInput:
    link: str
    device_id: str | None = None


@strawberry.input
class RegisterDeviceInput:
    device_id: str
    platform: str | None = None
    model: str | None = None
    os_version: str | None = None
    app_version: str | None = None


@strawberry.input
class ClearDeviceDataInput:
    device_id: str


@strawberry.input
class ReportErrorInput:
    message: str
    stack: str | None = None
    device_config: JSON | None = None
    app_version: str | None = None
    device_id: str | None = None


@strawberry.type
class RecordSearchPayload:
    recorded: bool | None = strawberry.field(
        default=None, description="False when you do not consent to `activity_log`."
    )
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordClickPayload:
    recorded: bool | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class RegisterDevicePayload:
    device_id: str | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type(description="How many records of each kind were deleted.")
class ClearedDeviceData:
    search_records: int
    click_records: int
    error_reports: int
    consent_events: int
    devices: int


@strawberry.type
class ClearDeviceDataPayload:
    cleared: ClearedDeviceData | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


@strawberry.type
class ReportErrorPayload:
    id: strawberry.ID | None = None
    errors: list[PersonalDataError] = strawberry.field(default_factory=list)


async def _actor(info: Info, device_id: str | None):
    """The signed-in account (if any) and the device, which must be one it may act for."""
    account = await info.context.viewer()
    if device_id is not None:
        device_id = clean_device_id(device_id)
        await devices.owner_check(device_id, account)
    return account, device_id


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(description="Kept only while you consent to the `activity_log` purpose.")
    @payload(PersonalDataError)
    async def record_search(self, info: Info, input: RecordSearchInput) -> RecordSearchPayload:
        account, device_id = await _actor(info, input.device_id)
        recorded = await activity.record_search(
            account,
            device_id,
            input.keywords,
            user_agent=info.context.user_agent,
            client_address=info.context.client_address,
        )
        return RecordSearchPayload(recorded=recorded)

    @strawberry.mutation(description="Kept only while you consent to the `activity_log` purpose.")
    @payload(PersonalDataError)
    async def record_click(self, info: Info, input: RecordClickInput) -> RecordClickPayload:
        account, device_id = await _actor(info, input.device_id)
        recorded = await activity.record_click(
            account,
            device_id,
            input.link,
            user_agent=info.context.user_agent,
            client_address=info.context.client_address,
        )
        return RecordClickPayload(recorded=recorded)

    @strawberry.mutation
    @payload(PersonalDataError)
    async def register_device(
        self, info: Info, input: RegisterDeviceInput
    ) -> RegisterDevicePayload:
        row = await devices.register_device(
            input.device_id,
            await info.context.viewer(),
            platform=input.platform,
            model=input.model,
            os_version=input.os_version,
            app_version=input.app_version,
        )
        return RegisterDevicePayload(device_id=row.device_id)

    @strawberry.mutation(
        description="Delete everything tied to a device or cookie identifier: its activity, "
        "error reports, anonymous consent history and the device itself."
    )
    @payload(PersonalDataError)
    async def clear_device_data(
        self, info: Info, input: ClearDeviceDataInput
    ) -> ClearDeviceDataPayload:
        cleared = await devices.clear_device_data(input.device_id, await info.context.viewer())
        return ClearDeviceDataPayload(cleared=ClearedDeviceData(**vars(cleared)))

    @strawberry.mutation(description="Signed in, or anonymously with a deviceId.")
    @payload(PersonalDataError)
    async def report_error(self, info: Info, input: ReportErrorInput) -> ReportErrorPayload:
        account, device_id = await _actor(info, input.device_id)
        row = await error_reports.report_error(
            account,
            message=input.message,
            stack=input.stack,
            device_config=input.device_config,
            app_version=input.app_version,
            device_id=device_id,
            client_address=info.context.client_address,
            max_bytes=info.context.settings.error_report_max_bytes,
        )
        return ReportErrorPayload(id=strawberry.ID(str(row.id)))
