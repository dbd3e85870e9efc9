"""The signed erasure receipt: proof, kept by the user, that their account was deleted and
what of it was kept and why (issue 17).

Cancelling gives the request a random id (``receipt_id``, a UUID: never the account's id nor
the row's) and hands the user a secret, stored only as a keyed hash. When the deletion
completes, its last step (``models.rights.deletion._finish``) signs the receipt, in the
same transaction that erases the account, with the consent receipts' key
(``models.consent.receipts``: the same ``kid``, verifiable at ``/.well-known/jwks.json``).
It is stored on the request, so a resumed or repeated deletion issues none again, and sent
to the account's verified e-mail: the address is read before the tombstone erases it and
written on an outbox row (``Notification.address``) that the notice sender deletes once
sent or given up on (``GONE_ONCE_SENT``). Afterwards ``erasureReceipt(requestId, secret)``
answers it; before completion it answers null, as for a wrong secret or an unknown id.

The claims name no personal data: the random id, three times, the map's kinds (generated
from ``DATA_MAP`` and the settings in force) and the controller's own details.
``keyDestroyedAt`` is when the account's data keys were destroyed, the deletion's first
step (``DeletionRequest.key_destroyed_at``; null only for a deletion that began before keys
existed).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from joserfc import jwt

from accord.settings import Settings
from models import clock
from models.consent.receipts import receipt_signer, signing_key
from models.keyed_hashes import keyed_hash
from models.keys.sealed_fields import Cleartext
from models.notifications.inbox import Channel, Notification, NotificationKind
from models.personal.feedback import Feedback
from models.personal.support import SupportThread
from models.rights.data_map import DATA_MAP, Erasure, PersonalData
from models.rights.requests import DeletionRequest, DeletionStatus

RECEIPT_TYPE = "accord-erasure-receipt/1"
SECRET_PURPOSE = "erasure receipt secret"


class Disposition(StrEnum):
    """What the deletion did with one kind of the map, as the receipt groups it."""

    ERASED = "erased"
    ANONYMISED = "anonymised"
    KEPT = "kept"


@dataclass(frozen=True)
class KindOutcome:
    kind: str
    disposition: Disposition
    #: How it was anonymised, or why it was kept (empty for an erased kind).
    note: str


def outcome_of(entry: PersonalData, settings: Settings) -> KindOutcome:
    """The map's erasure method, read with the settings that choose among them."""
    if entry.model is Feedback and settings.public_feedback_on_deletion == "delete":
        return KindOutcome(entry.kind, Disposition.ERASED, "")
    if entry.model is SupportThread and settings.retain_support_threads:
        return KindOutcome(
            entry.kind,
            Disposition.ANONYMISED,
            "retained by setting (retain_support_threads) without its messages or the account link",
        )
    if entry.erasure == Erasure.DELETE:
        return KindOutcome(entry.kind, Disposition.ERASED, "")
    if entry.erasure == Erasure.ANONYMISE:
        note = entry.erasure_note or "kept without: " + ", ".join(entry.anonymised)
        return KindOutcome(entry.kind, Disposition.ANONYMISED, note)
    why = {
        Erasure.PSEUDONYMISE: "the consent history, under a random pseudonym, proves what "
        "was decided: " + (entry.erasure_note or entry.retention),
        Erasure.KEEP_AS_TOMBSTONE: "a tombstone without personal data: " + entry.retention,
        Erasure.KEPT_UNTIL_EXPIRY: entry.retention,
        Erasure.KEEP_AS_RECORD: entry.erasure_note or entry.retention,
    }[entry.erasure]
    return KindOutcome(entry.kind, Disposition.KEPT, why)


def outcomes(settings: Settings) -> list[KindOutcome]:
    return [outcome_of(entry, settings) for entry in DATA_MAP]


def new_handle(settings: Settings) -> tuple[str, str, str]:
    """(request id, secret for the user, the secret's keyed hash) for a new cancellation."""
    secret = secrets.token_urlsafe(24)
    return str(uuid.uuid4()), secret, secret_hash(settings, secret)


def secret_hash(settings: Settings, secret: str) -> str:
    return keyed_hash(settings, SECRET_PURPOSE, secret)


def receipt_claims(
    request: DeletionRequest,
    completed_at: datetime,
    key_destroyed_at: datetime | None,
    settings: Settings,
) -> dict[str, Any]:
    grouped: dict[Disposition, list[dict[str, str]]] = {d: [] for d in Disposition}
    for outcome in outcomes(settings):
        item = {"kind": outcome.kind}
        if outcome.disposition == Disposition.ANONYMISED:
            item["how"] = outcome.note
        elif outcome.disposition == Disposition.KEPT:
            item["why"] = outcome.note
        grouped[outcome.disposition].append(item)
    return {
        "typ": RECEIPT_TYPE,
        "iss": settings.controller_name,
        "jti": request.receipt_id,
        "requestId": request.receipt_id,
        "iat": int(completed_at.timestamp()),
        "cancelledAt": int(request.requested_at.timestamp()),
        "completedAt": int(completed_at.timestamp()),
        "keyDestroyedAt": int(key_destroyed_at.timestamp()) if key_destroyed_at else None,
        "erased": grouped[Disposition.ERASED],
        "anonymised": grouped[Disposition.ANONYMISED],
        "kept": grouped[Disposition.KEPT],
        "settings": {
            "public_feedback_on_deletion": settings.public_feedback_on_deletion,
            "retain_support_threads": settings.retain_support_threads,
        },
    }


async def issue_receipt(
    account_id: int,
    email: str | None,
    completed_at: datetime,
    settings: Settings,
) -> None:
    """Sign the receipt once and owe it to ``email`` (the account's verified address, read
    before the tombstone erases it). Run inside the transaction that erases the account, so
    the receipt and its e-mail exist exactly when the erasure does."""
    request = await DeletionRequest.get(account_id=account_id)
    if request.receipt_issued_at is not None:
        return
    if request.receipt_id is None:  # cancelled before receipts existed
        request.receipt_id = str(uuid.uuid4())
    token = receipt_signer(settings)(
        receipt_claims(request, completed_at, request.key_destroyed_at, settings)
    )
    if not await DeletionRequest.filter(id=request.id, receipt_issued_at__isnull=True).update(
        receipt_id=request.receipt_id, receipt_token=token, receipt_issued_at=clock.now()
    ):
        return
    if email:
        await Notification.create(
            account_id=account_id,
            kind=NotificationKind.ERASURE_RECEIPT,
            channel=Channel.EMAIL,
            # In the clear: the account's key is destroyed, and the row goes once sent. The
            # text names no personal data (the receipt's own promise).
            address=Cleartext(email),
            title=Cleartext("Your account is deleted: your erasure receipt"),
            body=Cleartext(
                f"Your account has been deleted. Request id: {request.receipt_id}\n\n"
                "Below is a receipt signed by us (a JWS, verifiable with the key published at "
                "/.well-known/jwks.json) of what was erased and what was kept and why. Keep "
                "it; you can fetch it again with the request id and the secret you were given "
                f"when you cancelled.\n\n{token}\n"
            ),
        )


async def find_receipt(receipt_id: str, secret: str, settings: Settings) -> DeletionRequest | None:
    """The completed request this id and secret open; None otherwise (unknown id, wrong
    secret, or not completed yet: alike to the caller)."""
    request = await DeletionRequest.get_or_none(receipt_id=receipt_id)
    if request is None or request.receipt_secret_hash is None:
        return None
    if not hmac.compare_digest(request.receipt_secret_hash, secret_hash(settings, secret)):
        return None
    if request.status != DeletionStatus.DONE or request.receipt_token is None:
        return None
    return request


def claims_of(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of a receipt this deployment signed, checked against its key."""
    return dict(jwt.decode(token, signing_key(settings), algorithms=["ES256"]).claims)
