"""Global Privacy Control: a browser's ``Sec-GPC: 1`` honoured as an opt-out.

California's CCPA regulations (11 CCR section 7025) require a business to treat an opt-out
preference signal such as GPC as a valid request to opt out of the sale and sharing of the
consumer's personal information, for the browser or device and, when known, the consumer's
account. Here: a request carrying the signal, signed in or naming an anonymous device,
records a WITHDRAWN event with source GPC for every purpose marked ``gpc_opt_out``
(advertising by default), in the subject's own ledger, so ``consents``, the history and the
receipts show it like any decision.

Once per subject, purpose and policy version, not on every request: the event's
idempotency key is derived from the version and the purpose, so the ledger itself refuses a
second one, and a process remembers whom it has honoured for a minute, so that a browsing
session costs one read of the policy in effect per request and no write. A user who then
grants such a purpose (section 7025(c)(3): the business may ask the consumer to consent
despite the signal) keeps that grant until the next policy version.
"""

from __future__ import annotations

import time
import uuid

from models import clock
from models.consent.decisions import record_decisions
from models.consent.ledger import EventKind, NewEvent, Source
from models.consent.policies import current_policy
from models.consent.purposes import Purpose

#: The request header (https://privacycg.github.io/gpc-spec/), and its one meaningful value.
HEADER = "sec-gpc"
#: Seconds a process remembers a subject it has honoured the signal for.
REMEMBERED_SECONDS = 60
#: The most subjects remembered at once.
REMEMBERED_MOST = 10_000
_KEYS = uuid.UUID("6f1c9a52-8d0e-4d5b-9a43-0c7e2f5b7a61")

#: (subject, policy version) -> when this process last made sure of the opt-out.
_honoured: dict[tuple[str, str], float] = {}


def signalled(headers: object) -> bool:
    """True when the request's headers carry ``Sec-GPC: 1``."""
    get = getattr(headers, "get", None)
    return get is not None and str(get(HEADER, "")).strip() == "1"


def event_key(policy_version: str, purpose_code: str) -> str:
    """The opt-out's idempotency key: one per policy version and purpose."""
    return str(uuid.uuid5(_KEYS, f"{policy_version}\n{purpose_code}"))


async def honour(
    subject: str, *, device_id: str | None = None, user_agent: str = "", client_address: str = ""
) -> int:
    """Record the signal's opt-out for ``subject`` under the policy in effect; returns the
    events stored (0 when it was recorded before, or no purpose is marked)."""
    policy = await current_policy()
    if policy is None:
        return 0
    now, memo = time.monotonic(), (subject, policy.version)
    remembered = _honoured.get(memo)
    if remembered is not None and now - remembered < REMEMBERED_SECONDS:
        return 0
    codes = await Purpose.filter(gpc_opt_out=True, required=False).values_list("code", flat=True)
    moment = clock.now()
    events = [
        NewEvent(
            kind=EventKind.WITHDRAWN,
            source=Source.GPC,
            idempotency_key=event_key(policy.version, str(code)),
            client_timestamp=moment,
            purpose_code=str(code),
            policy_version=policy.version,
            device_id=device_id,
        )
        for code in codes
    ]
    stored = (
        await record_decisions(
            subject, events, user_agent=user_agent, client_address=client_address
        )
        if events
        else 0
    )
    if len(_honoured) >= REMEMBERED_MOST:
        _honoured.clear()
    _honoured[memo] = now
    return stored
