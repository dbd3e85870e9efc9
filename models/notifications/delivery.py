"""Sending notification rows: e-mail over SMTP (aiosmtplib), SMS through an HTTP gateway.

``deliver_batch`` claims up to N due rows of one campaign and channel, sends them over one
connection, and marks each SENT, or schedules a retry with backoff, or marks it FAILED once
``notification_max_attempts`` is reached. See ``models.notifications.inbox`` for why a crash
between sending and marking costs at most one duplicate.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import httpx
from tortoise.expressions import Q, Subquery

from accord.settings import Settings
from models import clock, retry
from models.accounts.account import Account, AccountStatus
from models.keys.sealed_fields import open_column
from models.notifications.campaigns import UNFINISHED, Campaign, CampaignStatus, note_progress
from models.notifications.inbox import (
    GONE_ONCE_SENT,
    NOTICE_CHANNELS,
    REDACTED,
    SECRET_KINDS,
    THIRD_PARTY_KINDS,
    Channel,
    DeliveryStatus,
    Notification,
)
from models.notifications.messages import Message, render

SEND_TIMEOUT = 30


class SendFailed(Exception):
    """One message could not be sent; ``permanent`` when retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class EmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> EmailSender:
        return self

    async def _connected(self) -> aiosmtplib.SMTP:
        """The connection, opened (again) when needed: an unreachable server or a dropped
        connection is a send failure of the rows at hand (retried with backoff and
        recorded), not a failed job that leaves them untouched."""
        if self.client is not None and self.client.is_connected:
            return self.client
        s = self.settings
        self.client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            timeout=SEND_TIMEOUT,
        )
        try:
            await self.client.connect()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                await self.client.login(s.smtp_username, password)
        except (aiosmtplib.SMTPException, OSError) as error:
            self.client.close()
            raise SendFailed(f"smtp: {_describe(error)}") from error
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None and self.client.is_connected:
            try:
                await self.client.quit()
            except aiosmtplib.SMTPException:
                self.client.close()

    async def send(self, to: str, message: Message) -> None:
        refused = await self.send_many([to], message)
        if refused:
            raise refused[to]

    async def send_many(self, recipients: list[str], message: Message) -> dict[str, SendFailed]:
        """One SMTP transaction for many recipients of the same text (each sees only
        "undisclosed recipients"); returns the recipients the server refused, with why
        (a 5xx reply is permanent, a 4xx one worth retrying). Raises SendFailed when the
        whole transaction failed."""
        email = EmailMessage()
        email["From"] = self.settings.mail_from
        email["To"] = "undisclosed-recipients:;"
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="accord.invalid")
        email.set_content(message.body)
        client = await self._connected()
        try:
            refused, _ = await client.send_message(email, recipients=recipients)
        except aiosmtplib.SMTPRecipientsRefused as error:
            return {r.recipient: _refusal(r.code, r.message) for r in error.recipients}
        except aiosmtplib.SMTPDataError as error:
            # The server refused the message itself: for good on a 5xx reply.
            raise SendFailed(
                f"smtp: {_describe(error)}", permanent=500 <= error.code < 600
            ) from error
        except aiosmtplib.SMTPException as error:
            raise SendFailed(f"smtp: {_describe(error)}") from error
        return {address: _refusal(reply.code, reply.message) for address, reply in refused.items()}


def _refusal(code: int, text: str) -> SendFailed:
    return SendFailed(f"recipient refused: {code} {text}"[:300], permanent=code >= 500)


def _describe(error: Exception) -> str:
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"
    return str(error) or type(error).__name__


class SmsSender:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.sms_gateway_url
        self.client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> SmsSender:
        self.client = httpx.AsyncClient(timeout=SEND_TIMEOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def send(self, to: str, message: Message) -> None:
        if self.client is None or self.url is None:  # SMS falls back to in-app without one
            raise SendFailed("no SMS gateway is configured", permanent=True)
        try:
            response = await self.client.post(
                self.url, json={"to": to, "body": f"{message.subject}\n{message.body}"[:1600]}
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"sms gateway: {error!r}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise SendFailed(f"sms gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise SendFailed(f"sms gateway refused: {response.status_code}", permanent=True)


#: How much longer than its job's timeout a claim is trusted: the claim is taken after the job
#: started and arq cancels the job at its timeout, so a claim older than that belongs to a
#: worker that died (or was cancelled); the margin covers clocks of different machines.
CLAIM_MARGIN = timedelta(seconds=5)


#: A claimed row that can be reached: (notification id, address, attempts so far).
Recipient = tuple[int, str, int]

#: E-mail goes out by the hundred per SMTP transaction; SMS one message at a time.
Sender = EmailSender | SmsSender


def stuck_after(settings: Settings) -> timedelta:
    """After this long a claim (status SENDING) is stuck: its worker is gone."""
    return timedelta(seconds=settings.job_timeout_seconds) + CLAIM_MARGIN


async def recover_stuck(campaign_id: int | None, channel: Channel, claim_timeout: timedelta) -> int:
    """Rows left SENDING by a worker that died: sent once more, or given up on if they
    already were (at most one duplicate, never more). The one recovery path for every
    notification: a campaign's (``campaign_id``) or a notice to one user (``None``)."""
    stale = clock.now() - claim_timeout
    stuck = Notification.filter(
        campaign_id=campaign_id,
        channel=channel,
        status=DeliveryStatus.SENDING,
        claimed_at__lt=stale,
    )
    uncertain = {
        "status": DeliveryStatus.FAILED,
        "last_error": "delivery uncertain: worker stopped twice",
        "claimed_at": None,
        "claim_token": None,
    }
    # A code given up on keeps no code (``SECRET_KINDS``).
    given_up = await stuck.filter(resent=True, kind__in=SECRET_KINDS).update(
        **uncertain, body=REDACTED
    )
    given_up += await stuck.filter(resent=True).update(**uncertain)
    # An erasure receipt given up on keeps no address (``GONE_ONCE_SENT``).
    await Notification.filter(
        campaign_id=campaign_id, kind__in=GONE_ONCE_SENT, status=DeliveryStatus.FAILED
    ).delete()
    retried = await Notification.filter(
        campaign_id=campaign_id,
        channel=channel,
        status=DeliveryStatus.SENDING,
        claimed_at__lt=stale,
        resent=False,
    ).update(status=DeliveryStatus.PENDING, resent=True, claimed_at=None, claim_token=None)
    return given_up + retried


async def deliver_batch(
    campaign: Campaign, channel: Channel, settings: Settings, sender: Sender, message: Message
) -> tuple[int, int]:
    """Claim, send and mark one batch; returns (rows handled, rows sent); (0, 0) when
    nothing is due."""
    moment = clock.now()
    token = secrets.token_hex(8)
    due = Notification.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment),
        campaign_id=campaign.id,
        channel=channel,
        status=DeliveryStatus.PENDING,
    ).order_by("id")
    while True:
        # The claim: only rows still PENDING become ours (a concurrent deliverer gets the
        # rest); afterwards the batch is found by its token, so no list of ids travels.
        claimed = await Notification.filter(
            id__in=Subquery(due.limit(settings.notification_batch_size).values("id")),
            status=DeliveryStatus.PENDING,
        ).update(status=DeliveryStatus.SENDING, claimed_at=moment, claim_token=token)
        if claimed:
            break
        # Nothing claimed: either nothing is due, or another lane or job claimed the same
        # rows first (on PostgreSQL both subqueries can pick them); then try the next ones
        # rather than stop while rows are still owed.
        if not await due.exists():
            return 0, 0
    contact = "account__email" if channel == Channel.EMAIL else "account__phone"
    rows = await Notification.filter(claim_token=token, status=DeliveryStatus.SENDING).values_list(
        "id", "attempts", contact, "account__status"
    )
    addresses = await open_column(Account, contact.split("__")[1], [row[2] for row in rows])
    reachable: list[Recipient] = []
    for (row_id, attempts, _, status), address in zip(rows, addresses, strict=True):
        if address and status == AccountStatus.ACTIVE:
            reachable.append((row_id, address, attempts))
        else:
            await _fail(row_id, "account no longer active or reachable")
    for chunk in _chunks(reachable, RECIPIENTS_PER_MESSAGE if channel == Channel.EMAIL else 1):
        try:
            refused = await _send_chunk(sender, channel, [a for _, a, _ in chunk], message)
        except SendFailed as error:
            for row_id, _, attempts in chunk:
                await _retry_or_fail(row_id, attempts, error, settings)
            continue
        for row_id, address, attempts in chunk:
            if address in refused:
                await _retry_or_fail(row_id, attempts, refused[address], settings)
    # What is still ours and SENDING was sent (failures and retries gave their claim back).
    marked_at = clock.now()
    sent = await Notification.filter(claim_token=token, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT,
        sent_at=marked_at,
        last_error="",
        claimed_at=None,
        claim_token=None,
    )
    await note_progress(campaign.id, marked_at)
    return len(rows), sent


RECIPIENTS_PER_MESSAGE = 100  # RFC 5321 says a server must accept at least 100


def _chunks(items: list[Recipient], size: int) -> list[list[Recipient]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _send_chunk(
    sender: Sender, channel: Channel, addresses: list[str], message: Message
) -> dict[str, SendFailed]:
    """Send to these addresses; the ones refused, with why. Raises SendFailed when the
    whole chunk failed."""
    if isinstance(sender, EmailSender):
        return await sender.send_many(addresses, message)
    try:
        await sender.send(addresses[0], message)
    except SendFailed as error:
        return {addresses[0]: error}
    return {}


#: What a server's refusal may quote of the recipient: an e-mail address, or a phone number
#: in E.164 (as Accord sends them).
_ADDRESSES = re.compile(r"[^\s<>@\"',;:()\[\]]+@[^\s<>@\"',;:()\[\]]+|\+\d{6,15}")


def without_addresses(reason: str) -> str:
    """A send's error as the row keeps it (and operators read it): an SMTP server's or SMS
    gateway's refusal often quotes the recipient, whose address is sealed everywhere else."""
    return _ADDRESSES.sub("<address>", reason)[:300]


async def _retry_or_fail(row_id: int, attempts: int, error: SendFailed, settings: Settings) -> None:
    if error.permanent or attempts + 1 >= settings.notification_max_attempts:
        await _fail(row_id, str(error), attempts + 1)
        return
    await Notification.filter(id=row_id).update(
        status=DeliveryStatus.PENDING,
        attempts=attempts + 1,
        claimed_at=None,
        claim_token=None,
        next_attempt_at=clock.now() + retry.backoff(attempts),
        last_error=without_addresses(str(error)),
    )


async def _fail(row_id: int, reason: str, attempts: int | None = None) -> None:
    values: dict[str, object] = {
        "status": DeliveryStatus.FAILED,
        "last_error": without_addresses(reason),
        "claimed_at": None,
        "claim_token": None,
    }
    if attempts is not None:
        values["attempts"] = attempts
    await Notification.filter(id=row_id).update(**values)


def sender_for(channel: Channel, settings: Settings) -> Sender:
    return EmailSender(settings) if channel == Channel.EMAIL else SmsSender(settings)


async def deliver(campaign_id: int, channel: Channel, settings: Settings) -> int:
    """Send everything due for one campaign and channel; returns messages sent. Nothing
    for a cancelled campaign (its rows were CANCELLED with it)."""
    campaign = await Campaign.get(id=campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        return 0
    await recover_stuck(campaign_id, channel, stuck_after(settings))
    message = render(campaign.kind, campaign.content)

    async def lane() -> int:
        """One connection working through batches; lanes claim disjoint rows."""
        sent = 0
        async with sender_for(channel, settings) as sender:
            while True:
                handled, batch_sent = await deliver_batch(
                    campaign, channel, settings, sender, message
                )
                sent += batch_sent
                if not handled:
                    return sent

    # A task group, not gather: when one lane fails the others are cancelled with the job
    # instead of sending on, unobserved, after it has been reported failed.
    async with asyncio.TaskGroup() as group:
        lanes = [group.create_task(lane()) for _ in range(settings.delivery_connections)]
    return sum(task.result() for task in lanes)


async def finish_if_done(campaign_id: int) -> bool:
    """DONE once every shard is fanned out and no message waits (retries count as waiting).
    A cancelled campaign is finished as it stands."""
    campaign = await Campaign.get(id=campaign_id)
    if campaign.status not in UNFINISHED:
        return True
    if await campaign.shards.filter(done=False).exists():
        return False
    open_rows = await Notification.filter(
        campaign_id=campaign_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).exists()
    if open_rows:
        await Campaign.filter(id=campaign_id, status=CampaignStatus.FANNING_OUT).update(
            status=CampaignStatus.DELIVERING
        )
        return False
    await Campaign.filter(id=campaign_id, status__in=UNFINISHED).update(
        status=CampaignStatus.DONE, finished_at=clock.now()
    )
    return True


def delivery_channels(campaign: Campaign) -> Sequence[Channel]:
    return [Channel(c) for c in campaign.channels if c != Channel.IN_APP]


async def deliver_notices(settings: Settings) -> dict[Channel, int]:
    """E-mails and SMS that belong to no campaign (the cancellation and restoration notices,
    verification codes, notices of a changed address), each carrying its own text; returns
    how many were sent on each channel. Rows a dead worker left SENDING are recovered first,
    as a campaign's are (``recover_stuck``).

    A row with an ``address`` goes there (a code to an address not verified yet, a notice
    to the address just replaced); any other to the account's own, verified, address.
    A code's body is blanked once it is sent or given up on, and a code that could not be
    sent within its lifetime is given up on rather than sent late.

    An account pending deletion still gets these: they are about the cancellation itself.
    A deleted account gets only its erasure receipt, to the address written on the row,
    and that row is deleted once sent or given up on (``GONE_ONCE_SENT``): it is the last
    place the address was.
    """
    sent: dict[Channel, int] = {}
    for channel in NOTICE_CHANNELS:
        await recover_stuck(None, channel, stuck_after(settings))
        async with sender_for(channel, settings) as sender:
            sent[channel] = await _deliver_notices_on(channel, settings, sender)
    return sent


async def _deliver_notices_on(channel: Channel, settings: Settings, sender: Sender) -> int:
    own_address = "account__email" if channel == Channel.EMAIL else "account__phone"
    sent_total = 0
    while True:
        token = secrets.token_hex(8)
        moment = clock.now()
        due = (
            Notification.filter(
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=moment),
                campaign_id=None,
                channel=channel,
                status=DeliveryStatus.PENDING,
            )
            .order_by("id")
            .limit(settings.notification_batch_size)
            .values("id")
        )
        claimed = await Notification.filter(
            id__in=Subquery(due), status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.SENDING, claimed_at=moment, claim_token=token)
        if not claimed:
            return sent_total
        rows = await Notification.filter(claim_token=token).values_list(
            "id",
            "attempts",
            "kind",
            "created_at",
            "title",
            "body",
            "address",
            own_address,
            "account__status",
        )
        stale_before = moment - settings.contact_code_ttl
        secret_rows = [row[0] for row in rows if row[2] in SECRET_KINDS]
        gone_rows = [row[0] for row in rows if row[2] in GONE_ONCE_SENT]
        owns = await open_column(Account, own_address.split("__")[1], [row[7] for row in rows])
        givens = await open_column(Notification, "address", [row[6] for row in rows])
        titles = await open_column(Notification, "title", [row[4] for row in rows])
        bodies = await open_column(Notification, "body", [row[5] for row in rows])
        for row, given, own, title, body in zip(rows, givens, owns, titles, bodies, strict=True):
            row_id, attempts, kind, created_at, _, _, _, _, status = row
            address = given or own
            deleted = status == AccountStatus.DELETED and kind not in GONE_ONCE_SENT
            if not address or deleted:
                await _fail(row_id, "account has no address on this channel or is deleted")
                continue
            if kind in SECRET_KINDS and created_at < stale_before:
                await _fail(row_id, "the code expired before it could be sent")
                continue
            try:
                await sender.send(address, Message(subject=title, body=body))
            except SendFailed as error:
                await _retry_or_fail(row_id, attempts, error, settings)
        if secret_rows:  # sent or given up on: the code goes (a retry keeps it)
            await Notification.filter(
                id__in=secret_rows, status__in=[DeliveryStatus.SENDING, DeliveryStatus.FAILED]
            ).update(body=REDACTED)
            await Notification.filter(  # and a guardian's address, which is not the user's
                id__in=secret_rows,
                kind__in=THIRD_PARTY_KINDS,
                status__in=[DeliveryStatus.SENDING, DeliveryStatus.FAILED],
            ).update(address=None)
        sent_total += await Notification.filter(
            claim_token=token, status=DeliveryStatus.SENDING
        ).update(
            status=DeliveryStatus.SENT,
            sent_at=clock.now(),
            last_error="",
            claimed_at=None,
            claim_token=None,
        )
        if gone_rows:  # sent or given up on: the row goes, address and all (a retry keeps it)
            await Notification.filter(
                id__in=gone_rows, status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]
            ).delete()
