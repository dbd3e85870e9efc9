"""Inputs of the accounts mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.accounts.types import ContactChannel, Gender
from models.accounts.passkeys import Assertion

_BIRTH_YEAR = (
    "The year you were born (kept sealed). If it could make you younger than the age of "
    "digital consent where you live, the account is a minor's: what you publish is shown "
    "to others only once a guardian consents (requestGuardianConsent)."
)


@strawberry.input
class RegisterInput:
    account_name: str
    password: str
    nickname: str
    avatar_url: str | None = None
    gender: Gender = Gender.UNDISCLOSED
    region: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    signature: str = ""
    birth_year: int | None = strawberry.field(default=None, description=_BIRTH_YEAR)
    device_id: str | None = strawberry.field(
        default=None,
        description="This app instance's id: its anonymous consent history joins the account.",
    )


@strawberry.input
class LoginInput:
    account_name: str
    password: str
    device_id: str | None = strawberry.field(
        default=None,
        description="This app instance's id: its anonymous consent history joins the account.",
    )


@strawberry.input
class RevokeSessionInput:
    id: strawberry.ID


@strawberry.input
class DisownSignInInput:
    token: str = strawberry.field(
        description="The token of a sign-in notice's \"this wasn't me\" link (its `token=`)."
    )


@strawberry.input(
    description="Only the fields given change; null clears an optional one. A new `email` or "
    "`phone` needs recent authentication (`password`, or `provider` and `idToken`, or a "
    "session that signed in a few minutes ago)."
)
class UpdateProfileInput:
    nickname: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    signature: str | None = strawberry.UNSET
    birth_year: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=_BIRTH_YEAR + " A minor's year can only move later; the privacy office "
        "corrects it otherwise.",
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new address does not change `Account.email`: a code is sent to it and "
        "it waits in `pendingEmail` until verifyContact (as addEmail). Null removes the "
        "verified address and any pending one (as removeContact).",
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new number (E.164, or national in the account's region) does not "
        "change `Account.phone`: a code is sent by SMS and it waits in `pendingPhone` until "
        "verifyContact (as addPhone). Null removes the verified number and any pending one.",
    )
    password: str | None = strawberry.field(
        default=None, description="Recent authentication, when `email` or `phone` changes."
    )
    provider: str | None = None
    id_token: str | None = None


_RECENT_AUTH = (
    "Needs recent authentication: your password, or a bound provider's fresh `idToken`, or a "
    "session that signed in a few minutes ago."
)


@strawberry.input(
    description="A code is sent to the address; verifyContact makes it yours. " + _RECENT_AUTH
)
class AddEmailInput:
    email: str
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input(
    description="A code is sent by SMS; verifyContact makes the number yours. " + _RECENT_AUTH
)
class AddPhoneInput:
    phone: str = strawberry.field(
        description="E.164 (+33612345678), or a national number of the account's region."
    )
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input
class VerifyContactInput:
    channel: ContactChannel
    code: str = strawberry.field(description="The six digits sent to the pending address.")


@strawberry.input(
    description="Removes the channel's verified address (which is told) and any pending one. "
    + _RECENT_AUTH
)
class RemoveContactInput:
    channel: ContactChannel
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class SignInWithProviderInput:
    provider: str
    id_token: str
    nonce: str | None = strawberry.field(
        default=None, description="The nonce the client sent to the provider, checked if given."
    )
    device_id: str | None = strawberry.field(
        default=None,
        description="This app instance's id: its anonymous consent history joins the account.",
    )


@strawberry.input
class BindProviderInput:
    provider: str
    id_token: str
    nonce: str | None = None


@strawberry.input(
    description="Unbinding needs recent authentication: your password, a fresh token from "
    "the provider being unbound, or a session that signed in a few minutes ago."
)
class UnbindProviderInput:
    provider: str
    password: str | None = None
    id_token: str | None = None


@strawberry.input
class RecoverWithProviderInput:
    provider: str
    id_token: str
    nonce: str | None = None


@strawberry.input
class ResetPasswordInput:
    reset_token: str
    new_password: str


@strawberry.input(
    description="Confirm who you are with your password, or a fresh identity token of a bound "
    "provider (a session that signed in a few minutes ago also counts)."
)
class CancelAccountInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
    reason: str | None = None


@strawberry.input(description="Your account name and password, or a bound provider's token.")
class RestoreAccountInput:
    account_name: str | None = None
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input(
    description="A passkey's answer: the options come from beginPasskeySignIn, the answer "
    "from navigator.credentials.get() (it must be one of the account's passkeys)."
)
class PasskeyAssertionInput:
    challenge_id: str = strawberry.field(description="beginPasskeySignIn's challengeId.")
    credential: str = strawberry.field(
        description="`JSON.stringify(credential.toJSON())` of the PublicKeyCredential that "
        "navigator.credentials.get() answered."
    )

    def assertion(self) -> Assertion:
        return Assertion(challenge_id=self.challenge_id, credential=self.credential)


@strawberry.input(description="The second sign-in step: one second factor.")
class CompleteSignInInput:
    challenge: str
    totp_code: str | None = strawberry.field(
        default=None, description="The authenticator's current code."
    )
    recovery_code: str | None = strawberry.field(
        default=None, description="One of the recovery codes (each works once)."
    )
    passkey: PasskeyAssertionInput | None = strawberry.field(
        default=None, description="An answer of one of the account's passkeys."
    )
    device_id: str | None = strawberry.field(
        default=None,
        description="This app instance's id: its anonymous consent history joins the account.",
    )


@strawberry.input(
    description="Prove who you are again: a first factor (password, or provider and a fresh "
    "idToken), and with a second factor set up also totpCode or recoveryCode; or a passkey "
    "of the account, which is both factors by itself."
)
class StepUpInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None
    totp_code: str | None = None
    recovery_code: str | None = None
    passkey: PasskeyAssertionInput | None = None


@strawberry.input
class ConfirmTotpInput:
    code: str = strawberry.field(description="The authenticator's current code.")


# --- passkeys ------------------------------------------------------------------------------


@strawberry.input(
    description="Adding a passkey needs recent authentication: your password, a fresh token "
    "of a bound provider, or a session that signed in a few minutes ago; with a second "
    "factor set up, a sign-in or stepUp with both factors (or a passkey) a few minutes ago."
)
class BeginPasskeyRegistrationInput:
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input
class FinishPasskeyRegistrationInput:
    challenge_id: str
    credential: str = strawberry.field(
        description="`JSON.stringify(credential.toJSON())` of the PublicKeyCredential that "
        "navigator.credentials.create() made."
    )
    name: str = strawberry.field(description='What you call it ("Phone"), 1-64 characters.')


@strawberry.input
class RenamePasskeyInput:
    id: strawberry.ID
    name: str


@strawberry.input(
    description="Removing a passkey needs recent authentication (as unbindProvider does; "
    "being a second factor, a passkey makes that a sign-in or stepUp with both factors); "
    "every other session ends."
)
class RemovePasskeyInput:
    id: strawberry.ID
    password: str | None = None
    provider: str | None = None
    id_token: str | None = None


@strawberry.input
class FinishPasskeySignInInput:
    challenge_id: str
    credential: str = strawberry.field(
        description="`JSON.stringify(credential.toJSON())` of the PublicKeyCredential that "
        "navigator.credentials.get() answered."
    )
    device_id: str | None = strawberry.field(
        default=None,
        description="This app instance's id: its anonymous consent history joins the account.",
    )


@strawberry.input(description="A deletion of the deletion queue (`PendingDeletion.id`).")
class RetryDeletionInput:
    id: strawberry.ID


@strawberry.input(
    description="A waiting deletion, when its next attempt should be, and why (kept in the "
    "staff audit log)."
)
class PostponeDeletionInput:
    id: strawberry.ID
    until: datetime
    reason: str
