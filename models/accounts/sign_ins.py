"""Sign-in notices: a sign-in from a device or a client network the account has not used
before tells its owner, in the inbox and by e-mail, with a "this wasn't me" link that ends
that session.

What an account has used is kept as keyed hashes (HMAC-SHA-256 with the deployment's secret,
over the account id, the kind and the value), so the table holds no readable network or
agent and cannot even tell that two accounts share one. A device is the browser, system and
device families without versions (``models.accounts.user_agents.device_key``): a browser
updating itself is not news, a new browser or system is. A network is the session's stored
/24 or /48 (``models.accounts.sessions.network_of``).

The first sign-in an account makes with nothing recorded yet (its registration, or the first
after this feature was deployed) only records. Changing the secret key forgets everything
known, so each account's next sign-in sends a notice.

The notice is rows first (the inbox row, the e-mail still owed, and the ``SignInNotice``
holding the link's token as a hash), written together; the caller enqueues the e-mail job.
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.accounts.errors import AccountErrorCode
from models.accounts.sessions import Session, hash_token
from models.accounts.user_agents import device_key, device_label
from models.batches import delete_in_batches
from models.errors import DomainError
from models.keyed_hashes import keyed_hash
from models.keys.sealed_fields import SealedManager
from models.notifications.inbox import Channel, DeliveryStatus, Notification, NotificationKind
from models.notifications.messages import render
from models.placeholders import placeholders

#: A known device or network is written back at most this often (so a sign-in reads, and
#: writes only when it has news).
TOUCH_EVERY = timedelta(days=1)
#: Where the e-mail's link leads (``api.accounts.pages``).
NOT_ME_PATH = "/sign-in/not-me"
#: Control characters and the like, which a user agent (the caller's own text) must not
#: carry into an e-mail.
UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]|[\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class SignInKind(StrEnum):
    DEVICE = "DEVICE"
    NETWORK = "NETWORK"


class KnownSignIn(Model):
    """A device or network an account has signed in from, as a keyed hash."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="known_sign_ins", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    kind = fields.CharEnumField(SignInKind, max_length=8)
    value_hash = fields.CharField(max_length=64)
    first_seen_at = fields.DatetimeField()
    last_seen_at = fields.DatetimeField()

    class Meta:
        manager = SealedManager()
        table = "known_sign_in"
        # Also the index a sign-in reads the account's rows by (its first column).
        unique_together = (("account", "kind", "value_hash"),)


class SignInNotice(Model):
    """The "this wasn't me" handle of one notice: the session it names and its token's
    hash; which new values it reported, so that disowning forgets them."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sign_in_notices", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    #: Not a foreign key: the session ends (and its row goes) long before the notice.
    session_id = fields.UUIDField()
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)
    device_hash = fields.CharField(max_length=64, null=True)
    network_hash = fields.CharField(max_length=64, null=True)

    class Meta:
        manager = SealedManager()
        table = "sign_in_notice"


def _keyed(settings: Settings, account_id: int, kind: SignInKind, value: str) -> str:
    return keyed_hash(settings, "known sign-in", account_id, kind, value)


def printable(text: str) -> str:
    """A caller's text as it may appear in a message: no control or direction characters."""
    return UNPRINTABLE.sub("?", text)


@functools.cache
def _known_sql(dialect: str) -> str:
    """What an account has used. Written in SQL: it is on every sign-in's path, and the
    query builder cost more than the query."""
    return (
        'SELECT "id", "kind", "value_hash", "last_seen_at" FROM "known_sign_in" '  # noqa: S608
        f'WHERE "account_id" = {placeholders(dialect, 1)}'
    )


async def note_sign_in(
    account: Account, session_id: uuid.UUID, settings: Settings, user_agent: str, network: str
) -> bool:
    """Record the device and network of a session just opened; when one of them is new to
    an account that has signed in before, write a sign-in notice. True when a notice was
    written (the caller enqueues the e-mail job).

    A sign-in from what is known costs one indexed read (and a write once a day).
    """
    moment = clock.now()
    values = {SignInKind.DEVICE: device_key(user_agent), SignInKind.NETWORK: network}
    wanted = {
        kind: _keyed(settings, account.id, kind, value) for kind, value in values.items() if value
    }
    db = KnownSignIn._meta.db
    _, rows = await db.execute_query(_known_sql(db.capabilities.dialect), [account.id])
    first = not rows
    known = {(kind, value): (row_id, seen) for row_id, kind, value, seen in rows}
    new = {kind: value for kind, value in wanted.items() if (kind, value) not in known}
    stale = [
        known[(kind, value)][0]
        for kind, value in wanted.items()
        if (kind, value) in known and moment - known[(kind, value)][1] >= TOUCH_EVERY
    ]
    if stale:
        await KnownSignIn.filter(id__in=stale).update(last_seen_at=moment)
    if not new:
        return False
    async with in_transaction("default"):
        await KnownSignIn.bulk_create(
            [
                KnownSignIn(
                    account_id=account.id,
                    kind=kind,
                    value_hash=value,
                    first_seen_at=moment,
                    last_seen_at=moment,
                )
                for kind, value in new.items()
            ],
            ignore_conflicts=True,  # the same new device signing in twice at once
        )
        if first:
            return False
        await _write_notice(account, session_id, settings, user_agent, network, new, moment)
    return True


async def _write_notice(
    account: Account,
    session_id: uuid.UUID,
    settings: Settings,
    user_agent: str,
    network: str,
    new: dict[SignInKind, str],
    moment: datetime,
) -> None:
    token = secrets.token_urlsafe(32)
    await SignInNotice.create(
        account_id=account.id,
        session_id=session_id,
        token_hash=hash_token(token),
        created_at=moment,
        expires_at=moment + settings.sign_in_notice_ttl,
        device_hash=new.get(SignInKind.DEVICE),
        network_hash=new.get(SignInKind.NETWORK),
    )
    base = settings.link_base
    what = {
        frozenset({SignInKind.DEVICE}): "new device",
        frozenset({SignInKind.NETWORK}): "new network",
    }.get(frozenset(new), "new device and a new network")
    message = render(
        NotificationKind.NEW_SIGN_IN,
        {
            "what_is_new": what,
            "time": f"{moment:%Y-%m-%d %H:%M} UTC",
            "network": network or "unknown",
            "device": printable(device_label(user_agent)),
            "user_agent": printable(user_agent) or "(none sent)",
            "link": f"{base}{NOT_ME_PATH}?{urlencode({'token': token})}" if base else "",
            "valid_days": max(1, settings.sign_in_notice_ttl.days),
        },
    )
    rows = [
        Notification(
            account_id=account.id,
            kind=NotificationKind.NEW_SIGN_IN,
            channel=Channel.IN_APP,
            title=message.subject,
            body=message.body,
            sent_at=moment,
            status=DeliveryStatus.SENT,
        )
    ]
    if account.email:  # nothing is owed where there is no address
        rows.append(
            Notification(
                account_id=account.id,
                kind=NotificationKind.NEW_SIGN_IN,
                channel=Channel.EMAIL,
                title=message.subject,
                body=message.body,
            )
        )
    await Notification.bulk_create(rows)


def _invalid() -> DomainError:
    return DomainError(
        AccountErrorCode.INVALID_TOKEN, "token", "this link is not valid or has expired"
    )


async def _notice(token: str) -> SignInNotice:
    if not token or len(token) > 128:
        raise _invalid()
    notice = await SignInNotice.filter(token_hash=hash_token(token)).first()
    if notice is None or notice.expires_at <= clock.now():
        raise _invalid()
    return notice


async def check_notice(token: str) -> bool:
    """Whether a notice's token is good (raises INVALID_TOKEN if not) and still unused.
    Reads only: what a GET of the e-mail's link may do."""
    return (await _notice(token)).used_at is None


async def disown(token: str) -> tuple[int, bool]:
    """ "This wasn't me": end the session the notice names and forget the device and network
    it reported as new, once. Returns (its account's id, whether a session ended now); a
    second use ends nothing and is no error."""
    notice = await _notice(token)
    if notice.used_at is not None:
        return notice.account_id, False
    async with in_transaction("default"):
        claimed = await SignInNotice.filter(id=notice.id, used_at=None).update(used_at=clock.now())
        if not claimed:  # a concurrent use won
            return notice.account_id, False
        ended = await Session.filter(id=notice.session_id, account_id=notice.account_id).delete()
        forgotten = [h for h in (notice.device_hash, notice.network_hash) if h]
        if forgotten:
            await KnownSignIn.filter(
                account_id=notice.account_id, value_hash__in=forgotten
            ).delete()
    return notice.account_id, bool(ended)


async def purge_expired_notices(batch_size: int) -> int:
    return await delete_in_batches(SignInNotice, Q(expires_at__lte=clock.now()), batch_size)
