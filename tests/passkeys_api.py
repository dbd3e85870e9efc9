"""GraphQL documents and helpers the passkey tests share: each ceremony's two steps, answered
by a ``tests.authenticator.SoftwareAuthenticator``."""

from __future__ import annotations

from tests.authenticator import SoftwareAuthenticator
from tests.second_factor_helpers import ERRORS

PASSKEY = "passkey { id name credentialId createdAt lastUsedAt backupEligible backedUp }"

BEGIN_REGISTRATION = f"""
mutation($input: BeginPasskeyRegistrationInput!) {{
  beginPasskeyRegistration(input: $input) {{ challengeId options {ERRORS} }}
}}"""

FINISH_REGISTRATION = f"""
mutation($input: FinishPasskeyRegistrationInput!) {{
  finishPasskeyRegistration(input: $input) {{ {PASSKEY} recoveryCodes {ERRORS} }}
}}"""

RENAME = f"""
mutation($input: RenamePasskeyInput!) {{
  renamePasskey(input: $input) {{ {PASSKEY} {ERRORS} }}
}}"""

REMOVE = f"""
mutation($input: RemovePasskeyInput!) {{ removePasskey(input: $input) {{ {ERRORS} }} }}"""

BEGIN_SIGN_IN = f"mutation {{ beginPasskeySignIn {{ challengeId options {ERRORS} }} }}"

FINISH_SIGN_IN = f"""
mutation($input: FinishPasskeySignInInput!) {{
  finishPasskeySignIn(input: $input) {{
    token account {{ id accountName passkeys {{ id name lastUsedAt }} }} {ERRORS}
  }}
}}"""

PASSKEYS = "{ viewer { passkeys { id name credentialId createdAt lastUsedAt backedUp } } }"


async def begin_registration(gql, token: str, **reauth) -> dict:
    body = await gql(BEGIN_REGISTRATION, {"input": reauth}, token=token)
    return body["data"]["beginPasskeyRegistration"]


async def finish_registration(gql, token: str, challenge_id: str, credential: str, name="Phone"):
    body = await gql(
        FINISH_REGISTRATION,
        {"input": {"challengeId": challenge_id, "credential": credential, "name": name}},
        token=token,
    )
    return body["data"]["finishPasskeyRegistration"]


async def add_passkey(gql, token: str, device: SoftwareAuthenticator, name="Phone") -> dict:
    begun = await begin_registration(gql, token)
    assert begun["errors"] == []
    finished = await finish_registration(
        gql, token, begun["challengeId"], device.create(begun["options"]), name
    )
    assert finished["errors"] == [], finished["errors"]
    return finished["passkey"]


async def begin_sign_in(gql) -> dict:
    payload = (await gql(BEGIN_SIGN_IN))["data"]["beginPasskeySignIn"]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def finish_sign_in(gql, challenge_id: str, credential: str, **extra) -> dict:
    body = await gql(
        FINISH_SIGN_IN,
        {"input": {"challengeId": challenge_id, "credential": credential, **extra}},
    )
    return body["data"]["finishPasskeySignIn"]


async def sign_in_with(gql, device: SoftwareAuthenticator, **answer) -> dict:
    begun = await begin_sign_in(gql)
    return await finish_sign_in(gql, begun["challengeId"], device.get(begun["options"], **answer))


async def assertion(gql, device: SoftwareAuthenticator, **answer) -> dict:
    """A passkey's answer for completeSignIn or stepUp (``PasskeyAssertionInput``): the
    options come from beginPasskeySignIn, as a client gets them."""
    begun = await begin_sign_in(gql)
    return {
        "challengeId": begun["challengeId"],
        "credential": device.get(begun["options"], **answer),
    }


async def passkeys_of(gql, token: str) -> list[dict]:
    return (await gql(PASSKEYS, token=token))["data"]["viewer"]["passkeys"]
