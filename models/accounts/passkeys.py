"""Passkeys (WebAuthn): register, list, rename and remove them, and sign in with them.

The ceremonies are py_webauthn's (``webauthn``): it makes the options a browser hands to
``navigator.credentials.create()``/``get()`` and verifies what comes back (the challenge,
the origin, the relying party id's hash, user presence and verification, the signature and
the sign counter). Accord keeps the rest as rows:

- every ceremony starts with a ``WebAuthnChallenge`` row (its purpose, its account when one
  is known, the random challenge, an expiry of ``ACCORD_WEBAUTHN_CHALLENGE_TTL``), and the
  first answer spends it, right or wrong: a replayed answer finds it spent;
- each account has one opaque random WebAuthn user id (``WebAuthnUser``; never the row id,
  which would tell an authenticator how many accounts there are), which a discoverable
  passkey hands back at sign-in (``userHandle``);
- a ``Passkey`` row holds the public key and the counter of one credential.

``begin_authentication``/``finish_authentication`` serve sign-in with a discoverable
passkey (no account: the passkey names it) and, given an account, a second factor or a
step-up with one of that account's passkeys (``models.accounts.proofs``; such an answer may
also be to a challenge handed out for no account, as ``beginPasskeySignIn`` hands them out).
A passkey is both a first and a second factor (``models.accounts.levels``): which of them an
account has, and what adding or removing one does to its recovery codes and sessions, is
``models.accounts.factors``.

The origin an answer was made on is the page's (``clientDataJSON.origin``), judged against
``ACCORD_WEBAUTHN_ORIGINS`` (default ``https://<rp id>``, in dev also any
``http://localhost:<port>``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accord.settings import Settings
from models import clock
from models.accounts.account import Account, AccountStatus
from models.accounts.errors import AccountErrorCode
from models.accounts.login_limits import LoginLimits
from models.batches import delete_in_batches
from models.errors import DomainError
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel
from models.text import clean_text

C = TypeVar("C")

NAME_MAX = 64
#: WebAuthn allows credential ids up to 1023 bytes: 1364 characters of base64url.
CREDENTIAL_ID_MAX = 1364
#: The most a credential's JSON may weigh (an attestation with its certificates included).
CREDENTIAL_JSON_MAX = 64 * 1024
USER_HANDLE_BYTES = 32
#: In dev, with the relying party id ``localhost``: any page served from this machine.
DEV_ORIGIN = re.compile(r"https?://localhost(:[0-9]{1,5})?")


class CeremonyPurpose(StrEnum):
    REGISTRATION = "REGISTRATION"
    AUTHENTICATION = "AUTHENTICATION"


class WebAuthnChallenge(Model):
    """One ceremony's challenge: answerable once, until it expires."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    purpose = fields.CharEnumField(CeremonyPurpose, max_length=16)
    #: The account registering, or proving itself again (None: a discoverable sign-in).
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="webauthn_challenges",
        on_delete=fields.CASCADE,
        null=True,
        db_index=True,
    )
    account_id: int | None  # set by the ORM
    challenge = fields.BinaryField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)
    #: Set by the first answer, right or wrong.
    consumed_at = fields.DatetimeField(null=True)

    class Meta:
        manager = SealedManager()
        table = "webauthn_challenge"


class WebAuthnUser(Model):
    """An account's WebAuthn user id: random, so it tells an authenticator nothing."""

    id = fields.BigIntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="webauthn_user", on_delete=fields.CASCADE
    )
    account_id: int  # set by the ORM
    #: base64url of USER_HANDLE_BYTES random bytes.
    handle = fields.CharField(max_length=64, unique=True)

    class Meta:
        manager = SealedManager()
        table = "webauthn_user"


class Passkey(SealedModel):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="passkeys", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    #: base64url, as clients send it (a binary column cannot be unique in Tortoise).
    credential_id = fields.CharField(max_length=CREDENTIAL_ID_MAX, unique=True)
    #: COSE-encoded, as the authenticator made it.
    public_key = fields.BinaryField()
    sign_count = fields.BigIntField(default=0)
    #: Comma-separated (``internal,hybrid``): handed back in ``allowCredentials``.
    transports = fields.CharField(max_length=128, default="")
    aaguid = fields.CharField(max_length=36)
    name = SealedField(max_length=NAME_MAX)
    #: Whether the authenticator may sync the credential to the user's other devices.
    backup_eligible = fields.BooleanField(default=False)
    #: Whether it is synced, as of its last use.
    backed_up = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "passkey"
        manager = SealedManager()

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


@dataclass(frozen=True)
class Assertion:
    """A passkey's answer given as a proof (``completeSignIn``, ``stepUp``): the challenge
    it answers and ``JSON.stringify(credential.toJSON())``."""

    challenge_id: str
    credential: str


# --- shared pieces ---------------------------------------------------------------------------


def clean_passkey_name(raw: str, field: str = "name") -> str:
    """What the user calls the passkey ("Phone", "YubiKey 5"): 1-64 characters, one line."""
    return clean_text(unicodedata.normalize("NFC", raw or ""), field, NAME_MAX)


def origin_allowed(settings: Settings, origin: str) -> bool:
    if settings.webauthn_origins is not None:
        return origin in settings.webauthn_origins
    if origin == f"https://{settings.webauthn_rp_id}":
        return True
    return (
        not settings.is_prod
        and settings.webauthn_rp_id == "localhost"
        and DEV_ORIGIN.fullmatch(origin) is not None
    )


async def user_handle(account: Account) -> str:
    """The account's WebAuthn user id (base64url), made on first use."""
    found = await WebAuthnUser.filter(account_id=account.id).first()
    if found is not None:
        return found.handle
    try:
        made = await WebAuthnUser.create(
            account_id=account.id,
            handle=bytes_to_base64url(secrets.token_bytes(USER_HANDLE_BYTES)),
        )
    except IntegrityError:  # a concurrent ceremony made it first
        return (await WebAuthnUser.get(account_id=account.id)).handle
    return made.handle


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(p.credential_id),
            transports=_known_transports(p.transports.split(",")) or None,
        )
        for p in passkeys
    ]


def _known_transports(values: list[str]) -> list[AuthenticatorTransport]:
    known = []
    for value in values:
        try:
            known.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return known


async def _new_challenge(
    settings: Settings, purpose: CeremonyPurpose, account: Account | None, challenge: bytes
) -> WebAuthnChallenge:
    moment = clock.now()
    return await WebAuthnChallenge.create(
        purpose=purpose,
        account_id=account.id if account else None,
        challenge=challenge,
        created_at=moment,
        expires_at=moment + settings.webauthn_challenge_ttl,
    )


def _timeout_ms(settings: Settings) -> int:
    return int(settings.webauthn_challenge_ttl.total_seconds() * 1000)


async def _spend_challenge(
    raw_id: str, purpose: CeremonyPurpose, account: Account | None
) -> WebAuthnChallenge:
    """The challenge ``raw_id`` names, spent now; INVALID_CHALLENGE when it is unknown (or
    another account's, or another ceremony's), expired, or answered already. An
    authentication for a known account may answer a challenge made for none (the passkey
    must then be that account's: ``finish_authentication``)."""
    try:
        challenge_id = uuid.UUID(raw_id)
    except ValueError:
        challenge_id = None
    row = await WebAuthnChallenge.filter(id=challenge_id).first() if challenge_id else None
    expected_accounts = {account.id if account else None}
    if purpose == CeremonyPurpose.AUTHENTICATION and account is not None:
        expected_accounts.add(None)
    if row is None or row.purpose != purpose or row.account_id not in expected_accounts:
        raise _bad_challenge("no such challenge: begin the ceremony again")
    moment = clock.now()
    if row.consumed_at is not None:
        raise _bad_challenge("this challenge was answered already: begin the ceremony again")
    if row.expires_at <= moment:
        raise _bad_challenge("this challenge has expired: begin the ceremony again")
    if not await WebAuthnChallenge.filter(id=row.id, consumed_at=None).update(consumed_at=moment):
        raise _bad_challenge("this challenge was answered already: begin the ceremony again")
    return row


def _bad_challenge(message: str) -> DomainError:
    return DomainError(AccountErrorCode.INVALID_CHALLENGE, "challengeId", message)


def _client_origin(client_data_json: bytes) -> str:
    try:
        return parse_client_data_json(client_data_json).origin
    except Exception:  # whatever a client sends: judged below as no origin
        return ""


def _check_size(credential_json: str) -> None:
    if len(credential_json) > CREDENTIAL_JSON_MAX:
        raise DomainError(
            AccountErrorCode.INVALID, "credential", f"must be at most {CREDENTIAL_JSON_MAX} bytes"
        )


# --- registration ----------------------------------------------------------------------------


async def begin_registration(settings: Settings, account: Account) -> tuple[str, str]:
    """(challenge id, ``PublicKeyCredentialCreationOptionsJSON``) for a new passkey of
    ``account``: discoverable (resident key required), user verification required, none of
    the account's passkeys again (``excludeCredentials``)."""
    handle = await user_handle(account)
    existing = await Passkey.filter(account_id=account.id).order_by("id")
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=settings.webauthn_rp_name,
        user_id=base64url_to_bytes(handle),
        user_name=account.account_name,
        user_display_name=account.nickname,
        timeout=_timeout_ms(settings),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    row = await _new_challenge(settings, CeremonyPurpose.REGISTRATION, account, options.challenge)
    return str(row.id), options_to_json(options)


def _parsed(parse: Callable[[str], C], credential_json: str) -> C:
    """The browser's answer as the library reads it; anything else is INVALID."""
    _check_size(credential_json)
    try:
        return parse(credential_json)
    except Exception:  # the library's many ways of saying "not that shape"
        raise DomainError(
            AccountErrorCode.INVALID,
            "credential",
            "must be the JSON of the PublicKeyCredential (credential.toJSON())",
        ) from None


async def finish_registration(
    settings: Settings, challenge_id: str, credential_json: str, name: str, *, account: Account
) -> Passkey:
    """Verify the answer to ``begin_registration`` and keep the passkey it made."""
    clean_name = clean_passkey_name(name)
    credential = _parsed(parse_registration_credential_json, credential_json)
    row = await _spend_challenge(challenge_id, CeremonyPurpose.REGISTRATION, account)
    origin = _client_origin(credential.response.client_data_json)
    if not origin_allowed(settings, origin):
        raise DomainError(
            AccountErrorCode.INVALID, "credential", f"passkeys are not made on {origin!r}"
        )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=row.challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except Exception as error:  # any failure is the answer's fault
        raise DomainError(
            AccountErrorCode.INVALID, "credential", f"the passkey was not accepted: {error}"
        ) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > CREDENTIAL_ID_MAX:
        raise DomainError(AccountErrorCode.INVALID, "credential", "the credential id is too long")
    transports = ",".join(t.value for t in credential.response.transports or [])
    try:
        return await Passkey.create(
            account_id=account.id,
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports[:128],
            aaguid=verified.aaguid,
            name=clean_name,
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            backed_up=verified.credential_backed_up,
            created_at=clock.now(),
        )
    except IntegrityError:
        raise DomainError(
            AccountErrorCode.UNIQUE, "credential", "this passkey is registered already"
        ) from None


# --- authentication --------------------------------------------------------------------------


async def begin_authentication(settings: Settings, account: Account | None) -> tuple[str, str]:
    """(challenge id, ``PublicKeyCredentialRequestOptionsJSON``): for a discoverable
    sign-in without an account (``allowCredentials`` empty: the authenticator offers the
    passkeys it holds for this site), or for ``account``'s own passkeys (a second factor,
    a step-up). User verification is required either way."""
    allowed = await Passkey.filter(account_id=account.id).order_by("id") if account else []
    options = generate_authentication_options(
        rp_id=settings.webauthn_rp_id,
        timeout=_timeout_ms(settings),
        allow_credentials=_descriptors(allowed),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    row = await _new_challenge(settings, CeremonyPurpose.AUTHENTICATION, account, options.challenge)
    return str(row.id), options_to_json(options)


async def finish_authentication(
    settings: Settings,
    challenge_id: str,
    credential_json: str,
    *,
    account: Account | None,
    limits: LoginLimits | None = None,
    client_address: str = "",
) -> Passkey:
    """Verify the answer to ``begin_authentication`` and record the use: the new sign
    counter, the backup state, ``last_used_at``. The passkey returned has its ``account``
    loaded.

    With ``account`` None (a discoverable sign-in) any passkey registered here may answer,
    and one of an account that is not ACTIVE is ACCOUNT_INACTIVE. With an ``account`` (a
    second factor, a step-up: the caller judges its status) only that account's passkeys
    may, and any other is INVALID_CREDENTIALS.

    With ``limits``, the attempt counts toward the login limits of the passkey's account
    (the address was counted when the challenge was handed out: ``LoginLimits.attempt_from``)."""
    credential = _parsed(parse_authentication_credential_json, credential_json)
    row = await _spend_challenge(challenge_id, CeremonyPurpose.AUTHENTICATION, account)
    credential_id = bytes_to_base64url(credential.raw_id)
    passkey = (
        await Passkey.filter(credential_id=credential_id).select_related("account").first()
        if len(credential_id) <= CREDENTIAL_ID_MAX
        else None
    )
    counted_as = passkey.account.account_name if passkey else f"passkey:{credential_id[:64]}"
    if limits is not None:
        await limits.attempt(counted_as, client_address, count_address=False)
    try:
        if passkey is None or (account is not None and passkey.account_id != account.id):
            raise _refused("this passkey is not registered here")
        await _verify_assertion(settings, credential, row.challenge, passkey, account is None)
    except DomainError:
        if limits is not None:
            await limits.failed(counted_as)
        raise
    if account is None and passkey.account.status != AccountStatus.ACTIVE:
        raise DomainError(AccountErrorCode.ACCOUNT_INACTIVE, None, "this account is not active")
    if limits is not None:
        await limits.succeeded(counted_as, client_address)
    return passkey


def _refused(message: str) -> DomainError:
    return DomainError(AccountErrorCode.INVALID_CREDENTIALS, "credential", message)


async def _verify_assertion(
    settings: Settings,
    credential: AuthenticationCredential,
    challenge: bytes,
    passkey: Passkey,
    discoverable: bool,
) -> None:
    """py_webauthn's checks, the user handle's, then the use recorded: a counter that did
    not grow (a cloned authenticator, or an answer raced by another) is refused."""
    handle = credential.response.user_handle
    if handle is None and discoverable:
        raise _refused("a passkey sign-in must name its user (userHandle)")
    if handle is not None:
        owner = await WebAuthnUser.filter(account_id=passkey.account_id).first()
        if owner is None or owner.handle != bytes_to_base64url(handle):
            raise _refused("this passkey is not registered here")
    origin = _client_origin(credential.response.client_data_json)
    if not origin_allowed(settings, origin):
        raise _refused(f"passkeys are not used on {origin!r}")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except Exception as error:  # any failure is the answer's fault
        raise _refused(f"the passkey's answer was not accepted: {error}") from None
    moment = clock.now()
    query = Passkey.filter(id=passkey.id)
    if verified.new_sign_count > 0:
        query = query.filter(sign_count__lt=verified.new_sign_count)
    if not await query.update(
        sign_count=verified.new_sign_count,
        backed_up=verified.credential_backed_up,
        last_used_at=moment,
    ):
        raise _refused("the passkey's counter did not grow: was it copied?")
    passkey.sign_count = verified.new_sign_count
    passkey.backed_up = verified.credential_backed_up
    passkey.last_used_at = moment


# --- managing ----------------------------------------------------------------------------------


async def has_passkey(account_id: int) -> bool:
    return await Passkey.filter(account_id=account_id).exists()


async def owned_passkey(account: Account, passkey_id: int | None) -> Passkey:
    """One of ``account``'s passkeys; NOT_FOUND for any other (another's included)."""
    found = (
        await Passkey.filter(id=passkey_id, account_id=account.id).first() if passkey_id else None
    )
    if found is None:
        raise DomainError(AccountErrorCode.NOT_FOUND, "id", "no such passkey")
    return found


async def rename(account: Account, passkey_id: int | None, name: str) -> Passkey:
    clean_name = clean_passkey_name(name)
    passkey = await owned_passkey(account, passkey_id)
    passkey.name = clean_name
    await passkey.save(update_fields=["name"])
    return passkey


async def remove(account: Account, passkey_id: int | None) -> None:
    """Remove a passkey. Refused when it is the last way to sign in (no password, no bound
    identity, no other passkey). What else goes with it (the other sessions, the recovery
    codes with the last second factor) is ``models.accounts.factors.remove_passkey``."""
    async with in_transaction("default"):
        passkey = await owned_passkey(account, passkey_id)
        others = await Passkey.filter(account_id=account.id).exclude(id=passkey.id).exists()
        fresh = await Account.get(id=account.id)
        bound = await Account.filter(id=account.id, bindings__id__not_isnull=True).exists()
        if fresh.password_hash is None and not bound and not others:
            raise DomainError(
                AccountErrorCode.LAST_SIGN_IN_METHOD,
                "id",
                "set a password, bind an identity or add another passkey before removing "
                "the last one",
            )
        await passkey.delete()


async def purge_spent_challenges(batch_size: int, now: datetime | None = None) -> int:
    """Challenges past their expiry, answered or not: nothing can use them any more."""
    moment = now or clock.now()
    return await delete_in_batches(WebAuthnChallenge, Q(expires_at__lte=moment), batch_size)
