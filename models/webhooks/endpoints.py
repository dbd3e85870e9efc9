"""Consent webhook endpoints: the HTTPS addresses of downstream processors that are told of
every consent change for the purposes they registered for.

Staff (ADMIN or PRIVACY_OFFICER) register, disable, enable, delete an endpoint and rotate its
secret; each of these is a staff audit entry (``models.rights.audit``). The secret signs
every request (``models.webhooks.signing``, the Standard Webhooks scheme): it is shown once,
when made, and stored sealed under the deployment's own key (``SECRETS_SUBJECT``), never in
the clear.

An endpoint counts the events promised to it (``last_sequence``): each delivery carries the
next number, so a processor sees a gap, and staff can replay from a number.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from enum import StrEnum
from typing import cast
from urllib.parse import urlsplit

from tortoise import fields
from tortoise.transactions import in_transaction

from accord.settings import LOOPBACK_HOSTS, Settings
from models.accounts.account import Account
from models.consent.purposes import Purpose
from models.errors import DomainError
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.rights import audit
from models.webhooks.errors import WebhookErrorCode

#: Whose data key seals the endpoints' secrets: the deployment's, never destroyed.
SECRETS_SUBJECT = "deployment:webhooks"
URL_MAX = 2000
PURPOSES_MAX = 50
#: 24 random bytes, as Standard Webhooks secrets are (between 24 and 64).
SECRET_BYTES = 24
SECRET_PREFIX = "whsec_"
ENDPOINT_RESOURCE = "ConsentWebhook"


class WebhookChange(StrEnum):
    """What the audit entry of a staff change to an endpoint says was done."""

    REGISTERED = "registered"
    DISABLED = "disabled"
    ENABLED = "enabled"
    DELETED = "deleted"
    SECRET_ROTATED = "rotated the secret of"
    REPLAYED = "replayed"


class ConsentWebhook(SealedModel):
    """One processor's endpoint: where, for which purposes, signed with which secret."""

    id = fields.BigIntField(primary_key=True)
    url = fields.CharField(max_length=URL_MAX)
    #: Purpose codes: a decision about any of them is delivered here.
    purposes: fields.JSONField[list[str]] = fields.JSONField()
    #: Whether the body names the ledger's subject (``account:<id>``) beside the pseudonym.
    include_personal_data = fields.BooleanField(default=False)
    #: A disabled endpoint is promised no new events and sent nothing until enabled again.
    enabled = fields.BooleanField(default=True)
    #: ``whsec_<base64>``, sealed under ``SECRETS_SUBJECT``.
    secret = SealedField()
    #: The sequence number of the last event promised here.
    last_sequence = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    #: The staff account that registered it (a plain id: it outlives that account).
    created_by = fields.BigIntField(null=True)

    class Meta:
        table = "consent_webhook"
        manager = SealedManager()

    def sealed_subject(self) -> str | None:
        return SECRETS_SUBJECT


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def clean_url(raw: str, settings: Settings) -> str:
    """An absolute https URL with a host and no credentials or fragment; plain http only
    to this machine, and only where ``ACCORD_WEBHOOK_ALLOW_LOCAL_HTTP`` allows it."""
    url = (raw or "").strip()
    if not url:
        raise DomainError(WebhookErrorCode.REQUIRED, "url", "give the endpoint's URL")
    if len(url) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        raise DomainError(
            WebhookErrorCode.INVALID, "url", f"must be a URL of 1-{URL_MAX} characters"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise DomainError(WebhookErrorCode.INVALID, "url", "is not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise DomainError(
            WebhookErrorCode.INVALID,
            "url",
            "must be an absolute https URL such as https://processor.example/consent",
        )
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise DomainError(
            WebhookErrorCode.INVALID, "url", "must carry no credentials and no #fragment"
        )
    if parts.scheme == "http":
        local = host in LOOPBACK_HOSTS and settings.webhook_allow_local_http
        if not local or settings.is_prod:
            raise DomainError(
                WebhookErrorCode.INSECURE_URL,
                "url",
                "must be https (plain http only to this machine in development, where "
                "ACCORD_WEBHOOK_ALLOW_LOCAL_HTTP allows it)",
            )
    return url


async def clean_purposes(codes: Sequence[str]) -> list[str]:
    """Known purpose codes, each once, in the order given."""
    wanted = list(dict.fromkeys(c.strip() for c in codes))
    if not wanted or any(not c for c in wanted):
        raise DomainError(WebhookErrorCode.REQUIRED, "purposes", "name at least one purpose")
    if len(wanted) > PURPOSES_MAX:
        raise DomainError(WebhookErrorCode.INVALID, "purposes", f"at most {PURPOSES_MAX}")
    known = set(
        cast(
            "list[str]",  # Tortoise types flat values_list as tuples
            await Purpose.filter(code__in=wanted).values_list("code", flat=True),
        )
    )
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise DomainError(
            WebhookErrorCode.UNKNOWN_PURPOSE, "purposes", f"no such purpose: {', '.join(unknown)}"
        )
    return wanted


async def _audit(staff: Account, change: WebhookChange, webhook: ConsentWebhook) -> None:
    """One staff audit entry; the reason says what was done, to which host."""
    host = urlsplit(webhook.url).hostname or "?"
    await audit.record(
        staff,
        audit.StaffAction.MANAGE_CONSENT_WEBHOOK,
        subject_id=None,
        resource=ENDPOINT_RESOURCE,
        resource_id=str(webhook.id),
        reason=f"{change} the consent webhook to {host} (purposes: {', '.join(webhook.purposes)})",
    )


async def register(
    staff: Account,
    settings: Settings,
    *,
    url: str,
    purposes: Sequence[str],
    include_personal_data: bool,
) -> tuple[ConsentWebhook, str]:
    """A new endpoint and its secret (shown to the caller this once)."""
    cleaned = clean_url(url, settings)
    codes = await clean_purposes(purposes)
    secret = new_secret()
    async with in_transaction("default"):
        webhook = await ConsentWebhook.create(
            url=cleaned,
            purposes=codes,
            include_personal_data=include_personal_data,
            secret=secret,
            created_by=staff.id,
        )
        await _audit(staff, WebhookChange.REGISTERED, webhook)
    return webhook, secret


async def find(webhook_id: int | None) -> ConsentWebhook:
    webhook = None if webhook_id is None else await ConsentWebhook.get_or_none(id=webhook_id)
    if webhook is None:
        raise DomainError(WebhookErrorCode.NOT_FOUND, "id", "no such consent webhook")
    return webhook


async def set_enabled(staff: Account, webhook_id: int | None, enabled: bool) -> ConsentWebhook:
    webhook = await find(webhook_id)
    async with in_transaction("default"):
        await ConsentWebhook.filter(id=webhook.id).update(enabled=enabled)
        webhook.enabled = enabled
        change = WebhookChange.ENABLED if enabled else WebhookChange.DISABLED
        await _audit(staff, change, webhook)
    return webhook


async def delete(staff: Account, webhook_id: int | None) -> int:
    """The endpoint goes with every delivery owed to it or made; returns its id."""
    webhook = await find(webhook_id)
    async with in_transaction("default"):
        await _audit(staff, WebhookChange.DELETED, webhook)
        await ConsentWebhook.filter(id=webhook.id).delete()  # its deliveries cascade
    return int(webhook.id)


async def rotate_secret(staff: Account, webhook_id: int | None) -> tuple[ConsentWebhook, str]:
    """A new secret signs every request from now on, retries and replays included."""
    webhook = await find(webhook_id)
    secret = new_secret()
    async with in_transaction("default"):
        webhook.secret = secret
        await webhook.save(update_fields=["secret"])
        await _audit(staff, WebhookChange.SECRET_ROTATED, webhook)
    return webhook, secret


async def audit_replay(staff: Account, webhook: ConsentWebhook) -> None:
    await _audit(staff, WebhookChange.REPLAYED, webhook)


async def listed() -> list[ConsentWebhook]:
    return await ConsentWebhook.all().order_by("id")
