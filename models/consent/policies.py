"""Privacy policy versions. A published version never changes.

A *material* change (GDPR-style: the purpose, type or way of processing; who data is shared
with; the user's rights; contact and complaint channels) must be brought to every user's
attention, and users must accept it again once it is in effect.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast
from urllib.parse import urlsplit

from tortoise import fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models import clock
from models.accounts.account import Account
from models.consent.errors import ConsentErrorCode
from models.consent.purposes import Purpose
from models.errors import DomainError
from models.keys.sealed_fields import SealedManager
from models.notifications.campaigns import Announcement, Campaign, create_campaign
from models.notifications.inbox import Channel, NotificationKind

VERSION_MAX = 32
TEXT_MAX = 1_000_000


class ChangeCategory(StrEnum):
    SERVICE_MODE = "SERVICE_MODE"
    SHARING_RECIPIENTS = "SHARING_RECIPIENTS"
    USER_RIGHTS = "USER_RIGHTS"
    CONTACT_CHANNELS = "CONTACT_CHANNELS"
    OTHER = "OTHER"


#: Section 5's words for each kind of material change, (a) to (d), as a public notice
#: names them.
CHANGE_CATEGORY_WORDS = {
    ChangeCategory.SERVICE_MODE: "(a) how the service works",
    ChangeCategory.SHARING_RECIPIENTS: "(b) who personal information is shared with",
    ChangeCategory.USER_RIGHTS: "(c) your rights and how to use them",
    ChangeCategory.CONTACT_CHANNELS: "(d) how to reach us about your information",
    ChangeCategory.OTHER: "other material changes",
}


class PolicyVersion(Model):
    id = fields.IntField(primary_key=True)
    version = fields.CharField(max_length=VERSION_MAX, unique=True)
    summary = fields.TextField()
    url = fields.CharField(max_length=2048, null=True)
    text = fields.TextField(null=True)
    text_sha256 = fields.CharField(max_length=64)
    published_at = fields.DatetimeField(auto_now_add=True)
    effective_at = fields.DatetimeField(db_index=True)
    material = fields.BooleanField(default=False)
    change_categories: fields.JSONField[list[str]] = fields.JSONField(default=list)
    purpose_codes: fields.JSONField[list[str]] = fields.JSONField(default=list)
    #: The campaign that tells every user about a material version.
    campaign: fields.OneToOneNullableRelation[Campaign] = fields.OneToOneField(
        "models.Campaign", null=True, related_name="policy_version", on_delete=fields.SET_NULL
    )
    campaign_id: int | None  # set by the ORM
    published_by: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", null=True, on_delete=fields.SET_NULL, related_name=False, db_index=True
    )
    published_by_id: int | None  # set by the ORM

    class Meta:
        manager = SealedManager()
        table = "policy_version"
        ordering = ["-effective_at", "-id"]


def _check_version(raw: str) -> str:
    version = raw.strip()
    if not version or len(version) > VERSION_MAX or any(c.isspace() for c in version):
        raise DomainError(
            ConsentErrorCode.INVALID, "version", f"must be 1-{VERSION_MAX} characters, no spaces"
        )
    return version


async def publish_policy(
    *,
    version: str,
    summary: str,
    effective_at: datetime,
    material: bool,
    change_categories: list[ChangeCategory],
    purpose_codes: list[str],
    text: str | None = None,
    url: str | None = None,
    text_sha256: str | None = None,
    published_by: Account | None = None,
    shards: int = 1,
    notice_days: int = 30,
) -> PolicyVersion:
    """Record a new version. Give ``text`` (its SHA-256 is computed) or ``url`` with the
    SHA-256 of the text it serves.

    Every version is announced publicly, so that visitors who are signed out see it too
    (section 5): a material one until ``notice_days`` after it takes effect, with what
    changed and when, besides the campaign that tells each user."""
    version = _check_version(version)
    if not summary.strip() or len(summary) > 10_000:
        raise DomainError(ConsentErrorCode.INVALID, "summary", "must be 1-10000 characters")
    if text is None and url is None:
        raise DomainError(ConsentErrorCode.REQUIRED, "text", "give the policy text or its URL")
    if text is not None:
        if len(text) > TEXT_MAX:
            raise DomainError(ConsentErrorCode.INVALID, "text", "is too long")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if text_sha256 and text_sha256.lower() != digest:
            raise DomainError(ConsentErrorCode.INVALID, "textSha256", "does not match the text")
        text_sha256 = digest
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or len(url) > 2048:
            raise DomainError(ConsentErrorCode.INVALID, "url", "must be an https URL")
    if (
        not text_sha256
        or len(text_sha256) != 64
        or not all(c in "0123456789abcdef" for c in text_sha256.lower())
    ):
        raise DomainError(ConsentErrorCode.INVALID, "textSha256", "must be a hex SHA-256")
    text_sha256 = text_sha256.lower()
    if material and not change_categories:
        raise DomainError(
            ConsentErrorCode.REQUIRED, "changeCategories", "a material change names what changed"
        )
    known = set(
        cast(
            "list[str]",  # Tortoise types flat values_list as tuples
            await Purpose.filter(code__in=purpose_codes).values_list("code", flat=True),
        )
    )
    unknown = [c for c in purpose_codes if c not in known]
    if unknown:
        raise DomainError(
            ConsentErrorCode.NOT_FOUND, "purposes", f"unknown purposes: {', '.join(unknown)}"
        )
    if await PolicyVersion.filter(version=version).exists():
        raise DomainError(ConsentErrorCode.UNIQUE, "version", "this version is already published")
    async with in_transaction("default"):
        policy = await _create(
            version,
            summary,
            url,
            text,
            text_sha256,
            effective_at,
            material,
            change_categories,
            purpose_codes,
            published_by,
        )
        # The promise to tell users is recorded with the version, in one transaction.
        content = {
            "version": policy.version,
            "summary": policy.summary,
            "url": policy.url,
            "effective_at": f"{policy.effective_at:%Y-%m-%d %H:%M} UTC",
            "categories": policy.change_categories,
        }
        if material:
            campaign = await create_campaign(
                NotificationKind.POLICY_CHANGE,
                content,
                [Channel.IN_APP, Channel.EMAIL],
                account_ids=None,
                shards=shards,
            )
            await PolicyVersion.filter(id=policy.id).update(campaign_id=campaign.id)
            policy.campaign_id = campaign.id
            await Announcement.create(
                kind=NotificationKind.POLICY_CHANGE,
                title=f"Privacy policy {policy.version}: material changes from "
                f"{policy.effective_at:%Y-%m-%d}",
                body=_material_notice(policy),
                expires_at=policy.effective_at + timedelta(days=notice_days),
                policy_version=policy.version,
            )
        else:
            await Announcement.create(
                kind=NotificationKind.POLICY_CHANGE,
                title=f"Privacy policy {policy.version}",
                body=policy.summary,
                policy_version=policy.version,
            )
    return policy


def _material_notice(policy: PolicyVersion) -> str:
    """What changed (section 5's categories), when it takes effect, and where to read the
    summary: the text of a material version's public notice."""
    changed = "; ".join(CHANGE_CATEGORY_WORDS[ChangeCategory(c)] for c in policy.change_categories)
    where = f" The policy: {policy.url}" if policy.url else ""
    return (
        f"What changes: {changed}. It takes effect on "
        f"{policy.effective_at:%Y-%m-%d %H:%M} UTC.\n\n{policy.summary}{where}"
    )


async def _create(
    version: str,
    summary: str,
    url: str | None,
    text: str | None,
    text_sha256: str,
    effective_at: datetime,
    material: bool,
    change_categories: list[ChangeCategory],
    purpose_codes: list[str],
    published_by: Account | None,
) -> PolicyVersion:
    return await PolicyVersion.create(
        version=version,
        summary=summary.strip(),
        url=url,
        text=text,
        text_sha256=text_sha256,
        effective_at=effective_at,
        material=material,
        change_categories=sorted({str(c) for c in change_categories}),
        purpose_codes=sorted(set(purpose_codes)),
        published_by=published_by,
    )


async def current_policy() -> PolicyVersion | None:
    """The newest version already in effect."""
    return (
        await PolicyVersion.filter(effective_at__lte=clock.now())
        .order_by("-effective_at", "-id")
        .first()
    )


async def material_in_effect() -> PolicyVersion | None:
    """The newest material version already in effect: the one users must have accepted."""
    return (
        await PolicyVersion.filter(effective_at__lte=clock.now(), material=True)
        .order_by("-effective_at", "-id")
        .first()
    )
