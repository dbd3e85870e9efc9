"""Notifications owed to a user: each one a row first, delivered from the row.

A row is written for every (campaign, account, channel) before anything is sent, under a
unique constraint, so a fan-out run twice writes nothing twice. Delivery claims a batch of
PENDING rows (status SENDING), sends, then marks them SENT or schedules a retry. If a
worker dies between sending and marking, the rows stay SENDING; once their claim is older
than the delivery timeout they are sent once more and flagged ``resent``. A row already
resent that is found stuck again is marked FAILED ("delivery uncertain") instead of being
sent a third time: a crash between send and mark costs at most one duplicate, never more.
That holds for every row, a campaign's and a notice to one user alike: both go through one
recovery path (``models.notifications.delivery.recover_stuck``), run by each delivery job
and each sweep.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from models import clock
from models.accounts.account import Account
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import Cleartext, SealedField, SealedManager, SealedModel

if TYPE_CHECKING:  # campaigns imports this module
    from models.notifications.campaigns import Campaign


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"


class NotificationKind(StrEnum):
    ACCOUNT_CANCELLED = "ACCOUNT_CANCELLED"
    ACCOUNT_RESTORED = "ACCOUNT_RESTORED"
    #: A sign-in from a device or network the account had not used (models.accounts.sign_ins).
    NEW_SIGN_IN = "NEW_SIGN_IN"
    POLICY_CHANGE = "POLICY_CHANGE"
    SECURITY_INCIDENT = "SECURITY_INCIDENT"
    SERVICE_SHUTDOWN = "SERVICE_SHUTDOWN"
    #: A one-time code for an address not verified yet (``models.accounts.contacts``).
    CONTACT_CODE = "CONTACT_CODE"
    #: To the verified address just replaced by another.
    CONTACT_CHANGED = "CONTACT_CHANGED"
    #: To the verified address just removed.
    CONTACT_REMOVED = "CONTACT_REMOVED"
    #: A privacy officer fulfilled or declined a correction or erasure request.
    DATA_REQUEST_DECIDED = "DATA_REQUEST_DECIDED"
    #: A one-time code for a data request filed without signing in (``models.rights.identity``).
    DATA_REQUEST_CODE = "DATA_REQUEST_CODE"
    #: To the privacy officers: a request is due within days (``models.rights.deadlines``).
    DATA_REQUEST_AT_RISK = "DATA_REQUEST_AT_RISK"
    #: To the privacy officers: a request is past its due date.
    DATA_REQUEST_OVERDUE = "DATA_REQUEST_OVERDUE"
    #: To the user: their request's due date was extended, why, and the new date.
    DATA_REQUEST_EXTENDED = "DATA_REQUEST_EXTENDED"
    #: The archive of an export is ready, with its single-use link (``models.rights``).
    EXPORT_READY = "EXPORT_READY"
    #: The signed erasure receipt, to the address the deleted account had
    #: (``models.rights.erasure_receipts``).
    ERASURE_RECEIPT = "ERASURE_RECEIPT"
    #: A one-time code to a minor's guardian, to consent to publishing the minor's content or
    #: to withdraw that consent (``models.consent.guardians``).
    GUARDIAN_CONSENT_CODE = "GUARDIAN_CONSENT_CODE"
    GUARDIAN_WITHDRAWAL_CODE = "GUARDIAN_WITHDRAWAL_CODE"
    #: To the privacy officers: an incident's report to the supervisory authority is due
    #: within hours (``models.notifications.authority_reports``).
    AUTHORITY_REPORT_AT_RISK = "AUTHORITY_REPORT_AT_RISK"
    #: To the privacy officers: an incident's report to the authority is past due.
    AUTHORITY_REPORT_OVERDUE = "AUTHORITY_REPORT_OVERDUE"


#: Kinds whose body holds a secret (a code): blanked once the row is sent or given up on.
SECRET_KINDS = (
    NotificationKind.CONTACT_CODE,
    NotificationKind.DATA_REQUEST_CODE,
    NotificationKind.GUARDIAN_CONSENT_CODE,
    NotificationKind.GUARDIAN_WITHDRAWAL_CODE,
)
#: Kinds sent to someone else's address (a minor's guardian, ``models.consent.guardians``):
#: the address is not kept once the row is sent or given up on.
THIRD_PARTY_KINDS = (
    NotificationKind.GUARDIAN_CONSENT_CODE,
    NotificationKind.GUARDIAN_WITHDRAWAL_CODE,
)
#: What such a body reads afterwards.
REDACTED = Cleartext("(not kept once sent)")
#: Kinds written for an account already deleted (its tombstone): the only rows a deleted
#: account is still sent, and deleted once sent or given up on, address and all.
GONE_ONCE_SENT = (NotificationKind.ERASURE_RECEIPT,)


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    #: Its campaign was cancelled before it was sent: it never will be.
    CANCELLED = "CANCELLED"


class Notification(SealedModel):
    """A message to one account, sealed under the account's key: its text, and the address
    it goes to when not the account's own. A campaign's rows hold no text (it is the
    campaign's, rendered as they are read or sent). An erasure receipt is the exception
    (``Cleartext``): the account's key is gone by then, its text names no one, and the row
    goes once sent (``GONE_ONCE_SENT``)."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", null=True, related_name="notifications", on_delete=fields.CASCADE
    )
    campaign_id: int | None  # set by the ORM
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    channel = fields.CharEnumField(Channel, max_length=8)
    title = SealedField(max_length=200)
    body = SealedField(placeholders=(REDACTED,))
    created_at = fields.DatetimeField(auto_now_add=True)
    #: When it left for its channel (IN_APP: at once). Null: still owed.
    sent_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.SmallIntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_at = fields.DatetimeField(null=True)
    #: Which delivery run claimed it (rows are claimed in bulk, then read back by token).
    claim_token = fields.CharField(max_length=16, null=True)
    #: Sent once more after a worker died between sending and marking (see module doc).
    resent = fields.BooleanField(default=False)
    last_error = fields.CharField(max_length=300, default="")
    #: Where this one message goes instead of the account's own (verified) address: a code
    #: to an address not verified yet, a notice to the address just replaced or removed.
    #: Null: the account's address for the channel, read when it is sent. Sealed.
    address = SealedField(max_length=254, null=True)

    class Meta:
        manager = SealedManager()
        table = "notification"
        unique_together = (("campaign", "account", "channel"),)
        # Column names: Tortoise does not map FK field names in Index (it indexed "campaign").
        indexes = (Index(fields=("campaign_id", "channel", "status")),)

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


async def notify(account: Account, kind: NotificationKind, title: str, body: str) -> None:
    """Record the message in the inbox (delivered) and as an e-mail still owed."""
    await Notification.bulk_create(
        [
            Notification(
                account=account,
                kind=kind,
                channel=Channel.IN_APP,
                title=title,
                body=body,
                sent_at=clock.now(),
                status=DeliveryStatus.SENT,
            ),
            Notification(account=account, kind=kind, channel=Channel.EMAIL, title=title, body=body),
        ]
    )


#: The channels a notice outside any campaign may go out on (``deliver_notices``).
NOTICE_CHANNELS = (Channel.EMAIL, Channel.SMS)


async def notices_owed() -> bool:
    """E-mails and SMS outside any campaign not yet sent or given up on (see
    ``deliver_notices``): PENDING, or SENDING, which may be a claim whose worker died and
    must be recovered."""
    return await Notification.filter(
        campaign_id=None,
        channel__in=list(NOTICE_CHANNELS),
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
    ).exists()
