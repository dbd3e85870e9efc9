"""GraphQL documents and small helpers the account tests share."""

from __future__ import annotations

from typing import Any

ERRORS = "errors { code field message retryAfter }"
ACCOUNT = (
    "account { id accountName nickname avatarUrl gender region signature status role "
    "createdAt hasPassword }"
)

REGISTER = f"""
mutation($input: RegisterInput!) {{
  register(input: $input) {{ {ACCOUNT} token {ERRORS} }}
}}"""

LOGIN = f"""
mutation($input: LoginInput!) {{
  login(input: $input) {{ {ACCOUNT} token {ERRORS} }}
}}"""

LOGOUT = f"mutation {{ logout {{ {ERRORS} }} }}"

REVOKE_SESSION = f"""
mutation($input: RevokeSessionInput!) {{ revokeSession(input: $input) {{ {ERRORS} }} }}"""

UPDATE_PROFILE = f"""
mutation($input: UpdateProfileInput!) {{
  updateProfile(input: $input) {{ {ACCOUNT} {ERRORS} }}
}}"""

CHANGE_PASSWORD = f"""
mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {ERRORS} }} }}"""

SIGN_IN_WITH_PROVIDER = f"""
mutation($input: SignInWithProviderInput!) {{
  signInWithProvider(input: $input) {{ {ACCOUNT} token created {ERRORS} }}
}}"""

BIND_PROVIDER = f"""
mutation($input: BindProviderInput!) {{
  bindProvider(input: $input) {{ binding {{ provider nickname avatarUrl boundAt }} {ERRORS} }}
}}"""

UNBIND_PROVIDER = f"""
mutation($input: UnbindProviderInput!) {{ unbindProvider(input: $input) {{ {ERRORS} }} }}"""

RECOVER_WITH_PROVIDER = f"""
mutation($input: RecoverWithProviderInput!) {{
  recoverWithProvider(input: $input) {{ resetToken {ERRORS} }}
}}"""

RESET_PASSWORD = f"""
mutation($input: ResetPasswordInput!) {{ resetPassword(input: $input) {{ {ERRORS} }} }}"""

VIEWER = """
{ viewer { id accountName nickname avatarUrl gender region signature status role createdAt
  hasPassword bindings { provider nickname avatarUrl boundAt }
  sessions { id createdAt lastSeenAt userAgent current } } }"""

#: Strong enough for zxcvbn (score 4), and unrelated to any account name used here.
PASSWORD = "violet-harbour-42-quietly"
OTHER_PASSWORD = "copper-lantern-17-swiftly"


def registration(account_name: str = "alice", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "accountName": account_name,
        "password": PASSWORD,
        "nickname": "Alice",
    }
    values.update(overrides)
    return values


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (code, field) pairs of a payload's errors, in order."""
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def register(
    gql, account_name: str = "alice", *, headers: dict[str, str] | None = None, **overrides: Any
) -> dict[str, Any]:
    """Register and return the payload (account and token), asserting it worked."""
    body = await gql(REGISTER, {"input": registration(account_name, **overrides)}, headers=headers)
    payload = body["data"]["register"]
    assert payload["errors"] == [], payload["errors"]
    assert payload["token"]
    return payload


async def login(gql, account_name: str = "alice", password: str = PASSWORD, **kw) -> dict:
    body = await gql(LOGIN, {"input": {"accountName": account_name, "password": password}}, **kw)
    return body["data"]["login"]


async def viewer(gql, token: str | None) -> dict[str, Any] | None:
    return (await gql(VIEWER, token=token))["data"]["viewer"]
