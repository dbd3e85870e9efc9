"""Notifications owed to a user: each one a row first, delivered from the row.

This holds what account cancellation records for the user (an in-app message and an e-mail
to send); the fan-out of policy-change and incident campaigns builds on it.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.accounts import Account
from models.sessions import now


class Channel(StrEnum):
    IN_APP = "IN_APP"
    EMAIL = "EMAIL"
    SMS = "SMS"


class NotificationKind(StrEnum):
    ACCOUNT_CANCELLED = "ACCOUNT_CANCELLED"
    ACCOUNT_RESTORED = "ACCOUNT_RESTORED"


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE, db_index=True
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    channel = fields.CharEnumField(Channel, max_length=8)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    #: When it left for its channel (IN_APP: at once). Null: still owed.
    sent_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"


async def notify(account: Account, kind: NotificationKind, title: str, body: str) -> None:
    """Record the message in the inbox (delivered) and as an e-mail still owed."""
    await Notification.bulk_create(
        [
            Notification(account=account, kind=kind, channel=Channel.IN_APP, title=title,
                         body=body, sent_at=now()),
            Notification(account=account, kind=kind, channel=Channel.EMAIL, title=title,
                         body=body),
        ]
    )
