"""TOTP (RFC 6238) as a second factor, with ``pyotp``: enrol, confirm with a first code,
verify, remove.

An enrolment stays PENDING (``confirmed_at`` null) until a first valid code comes back, so a
secret the user never scanned cannot lock them out. A code is accepted one 30-second step
either side of the server's clock (a phone's clock drifts, and a user types slowly), and the
step of the last accepted code is stored: a code, once used, is refused, and so is any older
one, even within its step (RFC 6238 section 5.2), so a code seen over a shoulder or in a
phishing proxy's log cannot be used again.

The secret must be readable to verify a code, so it cannot be hashed: it is sealed under
the account's own key (``models.keys.sealed_fields``), so a copy of the database alone
holds no authenticator's secret.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

import pyotp
import segno
from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accord.settings import Settings
from models import clock
from models.accounts.account import Account
from models.accounts.errors import AccountErrorCode
from models.errors import DomainError
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel

DIGITS = 6
#: Steps either side of the server's own that a code may belong to.
VALID_WINDOW = 1
CODE_SHAPE = re.compile(rf"\d{{{DIGITS}}}")


class TotpCredential(SealedModel):
    """An account's TOTP authenticator (at most one): pending until confirmed."""

    id = fields.BigIntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="totp", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    #: Base32, as the authenticator app got it, sealed (see the module).
    secret = SealedField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    confirmed_at = fields.DatetimeField(null=True)
    #: The time step (Unix time / 30 s) of the last code accepted: it and older are refused.
    last_used_step = fields.BigIntField(null=True)

    class Meta:
        manager = SealedManager()
        table = "totp_credential"

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


@dataclass(frozen=True)
class Enrollment:
    secret: str
    #: ``otpauth://totp/...``: what the QR code holds.
    provisioning_uri: str
    #: The QR code of the URI as an SVG ``data:`` URI, ready for an ``<img src>``.
    qr_code: str


async def has_totp(account_id: int) -> bool:
    """A confirmed authenticator: the account signs in and steps up with it."""
    return await TotpCredential.filter(account_id=account_id, confirmed_at__isnull=False).exists()


async def enroll(account: Account, settings: Settings) -> Enrollment:
    """A new secret for the account, PENDING until ``confirm``; an earlier pending one is
    replaced (the user may have lost the first QR code)."""
    if await has_totp(account.id):
        raise DomainError(
            AccountErrorCode.ALREADY_ENROLLED,
            None,
            "an authenticator is already set up: remove it first to set up another",
        )
    secret = pyotp.random_base32()
    try:
        async with in_transaction("default"):
            await TotpCredential.filter(account_id=account.id, confirmed_at__isnull=True).delete()
            await TotpCredential.create(account_id=account.id, secret=secret)
    except IntegrityError:  # a concurrent enrolment or confirmation won
        raise DomainError(
            AccountErrorCode.CONFLICT, None, "another enrolment just started: try again"
        ) from None
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=account.account_name, issuer_name=settings.totp_issuer
    )
    qr_code = segno.make(uri, error="m").svg_data_uri(scale=4)
    return Enrollment(secret=secret, provisioning_uri=uri, qr_code=qr_code)


async def confirm(account: Account, code: str) -> None:
    """Enable the pending authenticator with a first code from it."""
    pending = await TotpCredential.get_or_none(account_id=account.id, confirmed_at__isnull=True)
    if pending is None:
        if await has_totp(account.id):
            raise DomainError(
                AccountErrorCode.ALREADY_ENROLLED, None, "the authenticator is already confirmed"
            )
        raise DomainError(AccountErrorCode.NOT_FOUND, None, "call enrollTotp first")
    await _accept(pending, code, field="code")
    await TotpCredential.filter(id=pending.id).update(confirmed_at=clock.now())


async def verify(account_id: int, code: str, *, field: str) -> None:
    """The account's confirmed authenticator shows ``code`` now, and it was never used;
    else INVALID_CREDENTIALS on ``field``."""
    credential = await TotpCredential.get_or_none(account_id=account_id, confirmed_at__isnull=False)
    if credential is None:
        raise DomainError(AccountErrorCode.INVALID, field, "no authenticator is set up")
    await _accept(credential, code, field=field)


async def remove(account_id: int) -> bool:
    """Remove the authenticator, confirmed or pending; whether there was one."""
    return bool(await TotpCredential.filter(account_id=account_id).delete())


def _wrong(field: str, message: str = "the code is wrong") -> DomainError:
    return DomainError(AccountErrorCode.INVALID_CREDENTIALS, field, message)


async def _accept(credential: TotpCredential, code: str, *, field: str) -> None:
    """Accept ``code`` once: find its step within the window, and move ``last_used_step``
    past it in one conditional update, so two requests with one code cannot both pass."""
    given = code.replace(" ", "")
    if not CODE_SHAPE.fullmatch(given):
        raise _wrong(field, f"a code is {DIGITS} digits")
    totp = pyotp.TOTP(credential.secret, digits=DIGITS)
    now_step = totp.timecode(clock.now())
    matched = None
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), given):
            matched = step
    if matched is None:
        raise _wrong(field)
    used = credential.last_used_step
    fresh = Q(last_used_step__isnull=True) | Q(last_used_step__lt=matched)
    if (used is not None and matched <= used) or not await TotpCredential.filter(
        fresh, id=credential.id
    ).update(last_used_step=matched):
        raise _wrong(field, "this code was used already: wait for the next one")
    credential.last_used_step = matched
