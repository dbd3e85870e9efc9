"""Query, Mutation and Subscription fields of the consent domain: thin calls into ``models``."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, NewType

import strawberry
import structlog
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
)
from strawberry.types import Info
from tortoise.expressions import Q

from api.consent.types import (
    ChangeCategory,
    ConsentError,
    ConsentEvent,
    ConsentSource,
    LedgerCheck,
    LegalBasis,
    PolicyVersion,
    PolicyVersionConnection,
    PolicyVersionEdge,
    Purpose,
    decode_policy_cursor,
    encode_policy_cursor,
    row_id,
)
from api.errors import ClientError
from api.live_streams import live_stream
from api.pagination import PageInfo, clamp
from api.payloads import error_code, payload
from models.accounts.account import Role
from models.consent import decisions, ledger, policies, purposes
from models.consent.errors import ConsentErrorCode
from models.consent.receipts import receipt_claims, sign_receipt
from models.errors import DomainError
from models.notifications.campaign_jobs import enqueue_fan_out
from models.text import REFUSED_MESSAGE, refused_character

log = structlog.get_logger("accord.consent")

LEDGER_ROLES = (Role.PRIVACY_OFFICER,)


# --- inputs ------------------------------------------------------------------------------


@strawberry.input
class DecisionInput:
    purpose: str = strawberry.field(description="A purpose code.")
    granted: bool


@strawberry.input(description="Signed in, the account decides; otherwise give `deviceId`.")
class SetConsentsInput:
    policy_version: str
    decisions: list[DecisionInput]
    source: ConsentSource = ConsentSource.WEB
    device_id: str | None = None


@strawberry.input
class AcceptPolicyInput:
    policy_version: str
    source: ConsentSource = ConsentSource.WEB
    device_id: str | None = None


def _storable(value: str) -> str:
    if refused_character(value):
        raise ValueError(REFUSED_MESSAGE)
    return value


#: A sync event's strings meet the rule every String argument meets (``api.arguments``);
#: here a refused one rejects its event alone.
EventText = Annotated[str, AfterValidator(_storable)]


class SyncEventShape(BaseModel):
    """What one offline event must look like; checked per event, not per request."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    idempotency_key: EventText = Field(alias="idempotencyKey", max_length=64)
    purpose: EventText = Field(max_length=64)
    granted: StrictBool
    policy_version: EventText = Field(alias="policyVersion", max_length=32)
    client_timestamp: AwareDatetime = Field(alias="clientTimestamp")
    source: ledger.Source


def _object(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("a ConsentSyncEvent is a JSON object")
    return value


ConsentSyncEvent = NewType("ConsentSyncEvent", dict)

#: Registered in the schema's ``scalar_map`` (api/schema.py).
CONSENT_SYNC_EVENT = strawberry.scalar(
    name="ConsentSyncEvent",
    description=(
        "One decision made offline, as a JSON object: {idempotencyKey: UUID (client-made, "
        "unique per subject), purpose: String (a purpose code), granted: Boolean, "
        "policyVersion: String, clientTimestamp: DateTime with offset, source: "
        "ConsentSource}. Each is checked on its own: a malformed one is REJECTED with code "
        "INVALID while the rest are stored (typed input objects would fail the whole batch "
        "for one bad field, and cost more to coerce than to store)."
    ),
    serialize=lambda value: value,
    parse_value=_object,
)


_SYNC_EVENTS = TypeAdapter(list[SyncEventShape])


def _read_all(raws: Sequence[dict]) -> list[decisions.Requested | decisions.Malformed]:
    """Every event of a batch, validated in one pydantic call when all are well-formed;
    otherwise one by one, so that only the malformed ones are REJECTED."""
    try:
        events = _SYNC_EVENTS.validate_python(raws)
    except ValidationError:
        return [_read(raw) for raw in raws]
    return [_requested(event) for event in events]


def _requested(event: SyncEventShape) -> decisions.Requested:
    return decisions.Requested(
        purpose=event.purpose,
        granted=event.granted,
        policy_version=event.policy_version,
        source=event.source,
        client_timestamp=event.client_timestamp,
        idempotency_key=event.idempotency_key,
    )


def _read(raw: dict) -> decisions.Requested | decisions.Malformed:
    try:
        event = SyncEventShape.model_validate(raw)
    except ValidationError:
        key = raw.get("idempotencyKey")
        return decisions.Malformed(key[:64] if isinstance(key, str) else "")
    return _requested(event)


@strawberry.input
class SyncConsentsInput:
    device_id: str
    events: list[ConsentSyncEvent]
    since: str | None = strawberry.field(
        default=None, description="The cursor the previous sync returned."
    )


@strawberry.input(description="Give `text` (its SHA-256 is computed) or `url` with `textSha256`.")
class PublishPolicyInput:
    version: str
    summary: str
    effective_at: datetime
    material: bool
    change_categories: list[ChangeCategory] = strawberry.field(default_factory=list)
    purposes: list[str] = strawberry.field(default_factory=list)
    text: str | None = None
    url: str | None = None
    text_sha256: str | None = None


@strawberry.input
class CreatePurposeInput:
    code: str
    title: str
    description: str
    required: bool = False
    legal_basis: LegalBasis = LegalBasis.CONSENT
    category: str = "Core Function"


@strawberry.input(description="The code never changes; the other fields may.")
class UpdatePurposeInput:
    code: str
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    legal_basis: LegalBasis | None = strawberry.UNSET
    category: str | None = strawberry.UNSET


# --- payloads ----------------------------------------------------------------------------


@strawberry.type
class SetConsentsPayload:
    consents: list[ConsentEvent] | None = None
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.type
class AcceptPolicyPayload:
    errors: list[ConsentError] = strawberry.field(default_factory=list)


@strawberry.enum
class SyncStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"


@strawberry.type
class SyncResult:
    idempotency_key: str
    status: SyncStatus
    code: ConsentErrorCode | None = strawberry.field(description="Why an event was REJECTED.")


@strawberry.type
class SyncConsentsPayload:
    results: list[SyncResult] | None = None
    events: list[ConsentEvent] | None = strawberry.field(
        default=None, description="What other devices recorded since `since`."
    )
    cursor: str | None = strawberry.field(default=None, description="Pass as `since` next time.")
    has_more: bool | None = None
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


# --- who decides ---------------------------------------------------------------------------


async def _subject(info: Info, device_id: str | None) -> tuple[str, str | None, int | None]:
    """(subject, device id, account id): the signed-in account, else the named device."""
    account = await info.context.viewer()
    if device_id is not None:
        device_id = ledger.clean_device_id(device_id)
    if account is not None:
        return ledger.account_subject(account.id), device_id, account.id
    if device_id is None:
        raise DomainError(
            ConsentErrorCode.NOT_AUTHENTICATED, "deviceId", "sign in or give a deviceId"
        )
    await decisions.guard_device(device_id, signed_in=False)
    return ledger.device_subject(device_id), device_id, None


async def _announce(info: Info, account_id: int | None, events, device_id: str | None) -> None:
    """Tell the account's other live clients (consentChanged); best effort only."""
    if account_id is None or not events:
        return
    message = json.dumps({"ids": [e.id for e in events], "deviceId": device_id})
    try:
        await info.context.broadcast.publish(f"consent:{account_id}", message)
    except Exception:
        # The events are stored: a failed notice must not turn the write into an error
        # that the client would retry (and so record twice).
        log.warning("consent announcement failed", account_id=account_id, exc_info=True)


def _where(info: Info) -> dict[str, str]:
    return {"user_agent": info.context.user_agent, "client_address": info.context.client_address}


# --- fields --------------------------------------------------------------------------------


@strawberry.type
class ConsentQueries:
    @strawberry.field(description="Every purpose personal data may be used for.")
    async def purposes(self) -> list[Purpose]:
        return [Purpose.of(p) for p in await purposes.Purpose.all()]

    @strawberry.field(description="Published versions, newest effective first.")
    async def policies(self, first: int = 20, after: str | None = None) -> PolicyVersionConnection:
        first = clamp(first)
        query = policies.PolicyVersion.all().order_by("-effective_at", "-id")
        position = decode_policy_cursor(after)
        if position is not None:
            effective_at, last_id = position
            query = query.filter(
                Q(effective_at__lt=effective_at) | Q(effective_at=effective_at, id__lt=last_id)
            )
        rows = await query.limit(first + 1)
        edges = [
            PolicyVersionEdge(cursor=encode_policy_cursor(r), node=PolicyVersion.of(r))
            for r in rows[:first]
        ]
        return PolicyVersionConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="The newest version already in effect.")
    async def current_policy(self) -> PolicyVersion | None:
        row = await policies.current_policy()
        return PolicyVersion.of(row) if row else None

    @strawberry.field(
        description="A signed receipt (compact JWS, ES256) for one of your consent events; "
        "verify it with the key at /.well-known/jwks.json."
    )
    async def consent_receipt(self, info: Info, id: strawberry.ID) -> str | None:
        event_id = row_id(id)
        event = await ledger.ConsentEvent.get_or_none(id=event_id) if event_id else None
        if event is None:
            return None
        account = await info.context.viewer()
        allowed = account is not None and (
            event.subject in await ledger.subjects_of(account.id)
            or account.role in (Role.PRIVACY_OFFICER, Role.ADMIN)
        )
        if not allowed:
            return None
        purpose = await purposes.Purpose.get_or_none(code=event.purpose_code)
        policy = await policies.PolicyVersion.get_or_none(version=event.policy_version)
        return sign_receipt(
            receipt_claims(event, purpose, policy, info.context.settings), info.context.settings
        )

    @strawberry.field(
        description="PRIVACY_OFFICER: recompute one subject's hash chain (an account or a "
        "device) and report the first event that does not match."
    )
    async def verify_consent_ledger(
        self, info: Info, account_id: strawberry.ID | None = None, device_id: str | None = None
    ) -> LedgerCheck:
        try:
            await info.context.require_role(*LEDGER_ROLES)
        except DomainError as error:
            raise ClientError(str(error.code), error.message) from None
        if (account_id is None) == (device_id is None):
            raise ClientError("INVALID", "give exactly one of accountId and deviceId")
        if account_id is not None and not str(account_id).isdigit():
            raise ClientError("INVALID", "accountId is not an account id")
        subject = (
            ledger.account_subject(int(account_id))
            if account_id is not None and str(account_id).isdigit()
            else ledger.device_subject(device_id or "")
        )
        check = await ledger.verify_chain(subject)
        broken = check.first_broken_event_id
        return LedgerCheck(
            ok=check.ok,
            checked=check.checked,
            first_broken_event_id=strawberry.ID(str(broken)) if broken is not None else None,
        )


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Record decisions for purposes under a policy version.")
    @payload(ConsentError)
    async def set_consents(self, info: Info, input: SetConsentsInput) -> SetConsentsPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        stored = await decisions.set_consents(
            subject,
            info.context.settings,
            policy_version=input.policy_version,
            decisions=[(d.purpose, d.granted) for d in input.decisions],
            source=input.source,
            device_id=device_id,
            **_where(info),
        )
        await _announce(info, account_id, stored, device_id)
        return SetConsentsPayload(consents=[ConsentEvent.of(e) for e in stored])

    @strawberry.mutation(description="Accept a policy version (ends requiresReconsent for it).")
    @payload(ConsentError)
    async def accept_policy(self, info: Info, input: AcceptPolicyInput) -> AcceptPolicyPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        event = await decisions.accept_policy(
            subject,
            policy_version=input.policy_version,
            source=input.source,
            device_id=device_id,
            **_where(info),
        )
        await _announce(info, account_id, [event], device_id)
        return AcceptPolicyPayload()

    @strawberry.mutation(
        description="Offline batch sync: each event is judged on its own, a retried batch "
        "stores nothing twice, and the answer carries what other devices recorded since `since`."
    )
    @payload(ConsentError)
    async def sync_consents(self, info: Info, input: SyncConsentsInput) -> SyncConsentsPayload:
        subject, device_id, account_id = await _subject(info, input.device_id)
        assert device_id is not None  # the input requires it; _subject cleaned it
        result = await decisions.sync(
            subject,
            info.context.settings,
            device_id=device_id,
            requests=_read_all(input.events),
            since=input.since,
            **_where(info),
        )
        accepted = {r.key for r in result.results if r.status == "ACCEPTED"}
        if accepted and account_id is not None:
            stored = await ledger.ConsentEvent.filter(
                subject=subject, idempotency_key__in=list(accepted)
            )
            await _announce(info, account_id, stored, device_id)
        return SyncConsentsPayload(
            results=[
                SyncResult(
                    idempotency_key=r.sent,
                    status=SyncStatus[r.status],
                    code=error_code(ConsentErrorCode, r.code) if r.code else None,
                )
                for r in result.results
            ],
            events=[ConsentEvent.of(e) for e in result.events],
            cursor=result.cursor,
            has_more=result.has_more,
        )

    @strawberry.mutation(description="PRIVACY_OFFICER: publish a new, immutable policy version.")
    @payload(ConsentError, roles=LEDGER_ROLES)
    async def publish_policy(self, info: Info, input: PublishPolicyInput) -> PublishPolicyPayload:
        row = await policies.publish_policy(
            version=input.version,
            summary=input.summary,
            effective_at=input.effective_at,
            material=input.material,
            change_categories=list(input.change_categories),
            purpose_codes=list(input.purposes),
            text=input.text,
            url=input.url,
            text_sha256=input.text_sha256,
            published_by=await info.context.viewer(),
            shards=info.context.settings.fanout_shards,
        )
        if row.campaign_id is not None:
            try:
                await enqueue_fan_out(info.context.queue, row.campaign_id)
            except Exception:
                # The campaign row is the promise; the sweeper resumes it.
                log.warning(
                    "policy fan-out not enqueued", campaign_id=row.campaign_id, exc_info=True
                )
        return PublishPolicyPayload(policy=PolicyVersion.of(row))

    @strawberry.mutation(description="PRIVACY_OFFICER: add a purpose.")
    @payload(ConsentError, roles=LEDGER_ROLES)
    async def create_purpose(self, info: Info, input: CreatePurposeInput) -> CreatePurposePayload:
        row = await purposes.create_purpose(
            code=input.code,
            title=input.title,
            description=input.description,
            required=input.required,
            legal_basis=input.legal_basis,
            category=input.category,
        )
        return CreatePurposePayload(purpose=Purpose.of(row))

    @strawberry.mutation(description="PRIVACY_OFFICER: reword or reclassify a purpose.")
    @payload(ConsentError, roles=LEDGER_ROLES)
    async def update_purpose(self, info: Info, input: UpdatePurposeInput) -> UpdatePurposePayload:
        given = {
            "title": input.title,
            "description": input.description,
            "legal_basis": input.legal_basis,
            "category": input.category,
        }
        changes = {k: v for k, v in given.items() if v is not strawberry.UNSET and v is not None}
        row = await purposes.update_purpose(input.code, changes)
        return UpdatePurposePayload(purpose=Purpose.of(row))


@strawberry.type
class ConsentSubscriptions:
    @strawberry.subscription(
        description="Consent events your other devices record, as they are recorded. Sign in "
        "with `authorization: Bearer <token>` in the connection_init payload."
    )
    @live_stream()
    async def consent_changed(
        self, info: Info, device_id: str | None = None
    ) -> AsyncGenerator[ConsentEvent, None]:
        account = await info.context.require_viewer()
        async for message in info.context.broadcast.listen(f"consent:{account.id}"):
            notice = json.loads(message)
            if device_id is not None and notice.get("deviceId") == device_id:
                continue
            for row in await ledger.ConsentEvent.filter(id__in=notice["ids"]).order_by("id"):
                yield ConsentEvent.of(row)
