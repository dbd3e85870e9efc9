"""Query fields of the consent domain: purposes, policies, receipts and the privacy
office's ledger check, and the consent fields of ``Account`` (its consents, re-consent flag
and history), which only the account itself (or an ADMIN) reads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info
from tortoise.expressions import Q

from api.consent.types import (
    Consent,
    ConsentEvent,
    ConsentEventConnection,
    ConsentSyncLimits,
    LedgerCheck,
    PolicyVersion,
    PolicyVersionConnection,
    Purpose,
)
from api.context import Context
from api.errors import ClientError
from api.nodes import global_id, row_id_of
from api.pagination import Edge, clamp, decode_cursor, empty, encode_cursor, page
from api.permissions import (
    CONSENT_READERS,
    OWNER_OR_ADMIN,
    PRIVACY_OFFICE,
    staff_only,
    staff_reads_subject_data,
    visible_to,
)
from models.accounts.account import Account
from models.consent import anchors, decisions, ledger, policies, purposes
from models.consent.receipts import receipt_claims, sign_receipt
from models.personal import devices

# --- cursors -------------------------------------------------------------------------------

#: Row ids are 64-bit: a larger number (a forged id or cursor) would make the driver fail.
MAX_ID = 2**63 - 1


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


async def _holds_subject(viewer: Account, subject: str) -> bool:
    return subject in await ledger.subjects_of(viewer.id)


async def _readable_event(
    info: Info[Context, None], id: strawberry.ID
) -> ledger.ConsentEvent | None:
    """The event, if the viewer may read its receipt: their own, or as the privacy office
    (audited, after a recent sign-in)."""
    event_id = row_id_of(id, "ConsentEvent")
    event = await ledger.ConsentEvent.get_or_none(id=event_id) if event_id else None
    if event is None:
        return None
    viewer = await info.context.viewer()
    if viewer is None:
        return None
    if not await _holds_subject(viewer, event.subject):
        if not CONSENT_READERS.holds_role(viewer):
            return None
        # The privacy office reading another subject's consent.
        await info.context.require_role(*PRIVACY_OFFICE)
        await staff_reads_subject_data(info.context)
    return event


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
            Edge(cursor=encode_policy_cursor(r), node=PolicyVersion.of(r)) for r in rows[:first]
        ]
        return page(edges, len(rows) > first)

    @strawberry.field(description="What one syncConsents takes; no sign-in.")
    async def consent_sync_limits(self, info: Info[Context, None]) -> ConsentSyncLimits:
        settings = info.context.settings
        return ConsentSyncLimits(
            max_events=settings.consent_sync_max_events,
            max_event_age_seconds=int(settings.consent_max_event_age.total_seconds()),
            clock_skew_seconds=int(settings.consent_clock_skew.total_seconds()),
        )

    @strawberry.field(
        description="The consents of the anonymous device holding this id (its own ledger: "
        "one row per purpose, the latest decision or the default); no sign-in, the id is "
        "the secret. A device that belongs to an account answers only that account "
        "(FORBIDDEN otherwise, with field deviceId)."
    )
    async def device_consents(self, info: Info[Context, None], device_id: str) -> list[Consent]:
        device_id = await devices.acting_device(device_id, await info.context.viewer()) or ""
        subject = ledger.device_subject(device_id)
        await info.context.honour_privacy_signal(subject, device_id)
        rows = await decisions.current_consents([subject])
        return [Consent.of(row) for row in rows]

    @strawberry.field(description="The newest version already in effect.")
    async def current_policy(self) -> PolicyVersion | None:
        row = await policies.current_policy()
        return PolicyVersion.of(row) if row else None

    @strawberry.field(
        description="A signed receipt (compact JWS, ES256) for one of your consent events; "
        "verify it with the key at /.well-known/jwks.json. Once the next consent anchor is "
        "made (hourly), it carries the proof (claim `anchor`) that the event is in the "
        "published history (/.well-known/consent-anchors). PRIVACY_OFFICER: anyone's, with a "
        "recent sign-in (stepUp)."
    )
    async def consent_receipt(self, info: Info[Context, None], id: strawberry.ID) -> str | None:
        event = await _readable_event(info, id)
        if event is None:
            return None
        settings = info.context.settings
        purpose = await purposes.Purpose.get_or_none(code=event.purpose_code)
        policy = await policies.PolicyVersion.get_or_none(version=event.policy_version)
        claims = receipt_claims(event, purpose, policy, settings)
        anchor = await anchors.inclusion(settings, event)
        if anchor is not None:
            claims["anchor"] = anchor
        return sign_receipt(claims, settings)

    @strawberry.field(
        description="The proof (compact JWS, ES256) that one of your consent events is in "
        "a published consent anchor, for a receipt issued before that anchor was made; null "
        "until it is. Who may read it: as consentReceipt."
    )
    async def consent_anchor_proof(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> str | None:
        event = await _readable_event(info, id)
        if event is None:
            return None
        anchor = await anchors.inclusion(info.context.settings, event)
        if anchor is None:
            return None
        return sign_receipt(anchors.proof_claims(event, anchor), info.context.settings)

    @strawberry.field(
        description="PRIVACY_OFFICER: recompute one subject's hash chain (an account or a "
        "device) and report the first event that does not match."
    )
    @staff_only(*PRIVACY_OFFICE)
    async def verify_consent_ledger(
        self,
        info: Info[Context, None],
        account_id: strawberry.ID | None = None,
        device_id: str | None = None,
    ) -> LedgerCheck:
        if (account_id is None) == (device_id is None):
            raise ClientError("INVALID", "give exactly one of accountId and deviceId")
        account = row_id_of(account_id, "Account") if account_id is not None else None
        if account_id is not None and account is None:
            raise ClientError("INVALID", "accountId is not an account id")
        subject = (
            ledger.account_subject(account)
            if account is not None
            else ledger.device_subject(device_id or "")
        )
        check = await ledger.verify_chain(subject)
        broken = check.first_broken_event_id
        return LedgerCheck(
            ok=check.ok,
            checked=check.checked,
            first_broken_event_id=global_id("ConsentEvent", broken) if broken is not None else None,
        )


@strawberry.type
class AccountConsentFields:
    """Mixed into ``Account``; resolvers read ``self.pk`` (the row id)."""

    @strawberry.field(description="One row per purpose: the latest decision, or the default.")
    @visible_to(OWNER_OR_ADMIN, otherwise=list)
    async def consents(self, info: Info[Context, None]) -> list[Consent]:
        subjects = await info.context.consent_loaders.subjects.load(self.pk)  # type: ignore[attr-defined]
        return [Consent.of(row) for row in await decisions.current_consents(subjects)]

    @strawberry.field(
        description="True while a material policy version is in effect that you have not "
        "accepted (acceptPolicy)."
    )
    @visible_to(OWNER_OR_ADMIN, otherwise=lambda: False)
    async def requires_reconsent(self, info: Info[Context, None]) -> bool:
        subjects = await info.context.consent_loaders.subjects.load(self.pk)  # type: ignore[attr-defined]
        return await decisions.requires_reconsent(subjects)

    @strawberry.field(description="Your consent ledger, newest first.")
    @visible_to(OWNER_OR_ADMIN, otherwise=empty)
    async def consent_history(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> ConsentEventConnection:
        subjects = await info.context.consent_loaders.subjects.load(self.pk)  # type: ignore[attr-defined]
        first = clamp(first)
        rows = await decisions.history(subjects, first, after_id(after))
        edges = [Edge(cursor=encode_cursor(r.id), node=ConsentEvent.of(r)) for r in rows[:first]]
        return page(edges, len(rows) > first)
