"""Inputs of the consent mutations, and the offline sync event: a scalar whose JSON
objects are read one by one (pydantic), so that one malformed event is REJECTED alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, NewType

import strawberry
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

from api.consent.types import ChangeCategory, ConsentSource, LegalBasis
from models.consent import decisions, ledger
from models.consent.ledger import DEVICE_ID_RULE
from models.text import REFUSED_MESSAGE, refused_character


@strawberry.input
class DecisionInput:
    purpose: str = strawberry.field(description="A purpose code.")
    granted: bool


@strawberry.input(description="Signed in, the account decides; otherwise give `deviceId`.")
class SetConsentsInput:
    policy_version: str
    decisions: list[DecisionInput]
    source: ConsentSource = ConsentSource.WEB
    device_id: str | None = strawberry.field(default=None, description=DEVICE_ID_RULE)


@strawberry.input
class AcceptPolicyInput:
    policy_version: str
    source: ConsentSource = ConsentSource.WEB
    device_id: str | None = strawberry.field(default=None, description=DEVICE_ID_RULE)


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


def _any(value: object) -> object:
    """Every JSON value is let through to ``read_events``, which rejects what is not an
    event object on its own: a top-level error here would sink the whole batch."""
    return value


ConsentSyncEvent = NewType("ConsentSyncEvent", dict)

#: Registered in the schema's ``scalar_map`` (api/schema.py).
CONSENT_SYNC_EVENT = strawberry.scalar(
    name="ConsentSyncEvent",
    description=(
        "One decision made offline, as a JSON object: {idempotencyKey: UUID (client-made, "
        "unique per subject), purpose: String (a purpose code), granted: Boolean, "
        "policyVersion: String, clientTimestamp: DateTime with offset, source: "
        "ConsentSource}. Each is checked on its own: a malformed one (not an object, a "
        "field missing or of the wrong type, even null) is REJECTED with code INVALID while "
        "the rest are stored, and each result names its event's `index` (typed input "
        "objects would fail the whole batch for one bad field, and cost more to coerce than "
        "to store). `clientTimestamp` may be at most `consentSyncLimits.clockSkewSeconds` "
        "ahead of the server (CLOCK_SKEW) and at most `maxEventAgeSeconds` old (TOO_OLD); "
        "`consentSyncLimits.maxEvents` events per call."
    ),
    serialize=lambda value: value,
    parse_value=_any,
)


_SYNC_EVENTS = TypeAdapter(list[SyncEventShape])


def read_events(raws: Sequence[object]) -> list[decisions.Requested | decisions.Malformed]:
    """Every event of a batch, in order, validated in one pydantic call when all are
    well-formed; otherwise one by one, so that only the malformed ones (any JSON value that
    is not an event object, null included) are REJECTED."""
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


def _read(raw: object) -> decisions.Requested | decisions.Malformed:
    if not isinstance(raw, dict):
        return decisions.Malformed()
    try:
        event = SyncEventShape.model_validate(raw)
    except ValidationError:
        key = raw.get("idempotencyKey")
        return decisions.Malformed(key[:64] if isinstance(key, str) else "")
    return _requested(event)


@strawberry.input
class SyncConsentsInput:
    device_id: str = strawberry.field(description=DEVICE_ID_RULE)
    events: list[ConsentSyncEvent | None] = strawberry.field(
        description="In the order they were decided; a null or malformed one is REJECTED alone."
    )
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
    gpc_opt_out: bool = False


@strawberry.input(description="The code never changes; the other fields may.")
class UpdatePurposeInput:
    code: str
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    legal_basis: LegalBasis | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    gpc_opt_out: bool | None = strawberry.UNSET
