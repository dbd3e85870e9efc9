"""Whom a security incident affected, as the privacy office names them: every account, a
list of accounts, or the accounts holding a binding to one identity provider (an incident
at that provider). A small typed scope over stored facts, never free SQL; it is resolved
to account ids once, when the incident is reported, and those accounts are the campaign's
audience (``models.notifications.campaigns.create_campaign``), the only ones told.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from models.accounts.account import Account
from models.accounts.bindings import Binding
from models.errors import DomainError
from models.notifications.errors import NotificationErrorCode
from models.text import clean_text

PROVIDER_MAX = 64


class AffectedScope(StrEnum):
    ALL = "ALL"
    ACCOUNTS = "ACCOUNTS"
    #: The accounts bound to one identity provider (``Binding.provider``).
    BOUND_TO_PROVIDER = "BOUND_TO_PROVIDER"


@dataclass(frozen=True)
class Affected:
    scope: AffectedScope
    account_ids: tuple[int, ...] = ()
    provider: str | None = None
    #: The input field that named it, which a refusal names.
    field: str = "affected"

    @classmethod
    def everyone(cls) -> Affected:
        return cls(AffectedScope.ALL)

    @classmethod
    def accounts(cls, ids: Collection[int], field: str = "affected") -> Affected:
        return cls(AffectedScope.ACCOUNTS, tuple(sorted(set(ids))), field=field)

    @classmethod
    def bound_to(cls, provider: str) -> Affected:
        return cls(AffectedScope.BOUND_TO_PROVIDER, provider=provider)


async def audience_of(affected: Affected, providers: Collection[str]) -> list[int] | None:
    """The affected accounts' ids (None: every account). ``providers``: the configured
    identity providers; a provider that is neither configured nor bound to any account is
    a mistake (``NOT_FOUND``), not an empty audience."""
    if affected.scope == AffectedScope.ALL:
        return None
    if affected.scope == AffectedScope.ACCOUNTS:
        ids = list(affected.account_ids)
        if not ids:
            raise DomainError(NotificationErrorCode.REQUIRED, affected.field, "name the accounts")
        if await Account.filter(id__in=ids).count() != len(ids):
            raise DomainError(NotificationErrorCode.NOT_FOUND, affected.field, "unknown accounts")
        return ids
    provider = clean_text(affected.provider, "affected", PROVIDER_MAX)
    bound = cast(
        "list[int]",  # Tortoise types flat values_list as tuples
        await Binding.filter(provider=provider).values_list("account_id", flat=True),
    )
    if not bound and provider not in providers:
        raise DomainError(
            NotificationErrorCode.NOT_FOUND, "affected", f"no identity provider {provider!r}"
        )
    return sorted(set(bound))
