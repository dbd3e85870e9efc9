"""Inputs of the accounts mutations: one ``<MutationName>Input`` each."""

from __future__ import annotations

import strawberry

from api.accounts.types import Gender


@strawberry.input
class RegisterInput:
    account_name: str
    password: str
    nickname: str
    avatar_url: str | None = None
    gender: Gender = Gender.UNDISCLOSED
    region: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2.")
    signature: str = ""
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


@strawberry.input(description="Only the fields given change; null clears an optional one.")
class UpdateProfileInput:
    nickname: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    signature: str | None = strawberry.UNSET
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="For e-mail notifications; null removes it."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="E.164, for SMS notifications; null removes it."
    )


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
