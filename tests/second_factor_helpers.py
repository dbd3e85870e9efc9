"""GraphQL documents and helpers for second factors, two-step sign-in and step-up tests.

TOTP codes depend on the time: ``Moment`` steers the domain's clock (the ``clock`` fixture)
so that a test can take the code of a given 30-second step, and move on to the next step
when it needs a new code (a used one is refused).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp

from tests.accounts_api import PASSWORD

ERRORS = "errors { code field message retryAfter factors }"

ENROLL_TOTP = f"mutation {{ enrollTotp {{ secret provisioningUri qrCode {ERRORS} }} }}"
CONFIRM_TOTP = f"""
mutation($input: ConfirmTotpInput!) {{
  confirmTotp(input: $input) {{ recoveryCodes account {{ id secondFactors }} {ERRORS} }}
}}"""
REMOVE_TOTP = f"mutation {{ removeTotp {{ account {{ secondFactors }} {ERRORS} }} }}"
REGENERATE = f"mutation {{ regenerateRecoveryCodes {{ recoveryCodes {ERRORS} }} }}"
SECOND_FACTOR = "secondFactor { challenge expiresAt factors }"
LOGIN = f"""
mutation($input: LoginInput!) {{
  login(input: $input) {{ token account {{ id }} {SECOND_FACTOR} {ERRORS} }}
}}"""
COMPLETE = f"""
mutation($input: CompleteSignInInput!) {{
  completeSignIn(input: $input) {{ token account {{ id accountName status }} {ERRORS} }}
}}"""
STEP_UP = f"""
mutation($input: StepUpInput!) {{
  stepUp(input: $input) {{ authLevel authenticatedAt {ERRORS} }}
}}"""
FACTORS = "{ viewer { secondFactors recoveryCodesLeft } }"


class Moment:
    """The domain's time, held still at ``now`` and moved on by ``step()``."""

    def __init__(self, clock: Any) -> None:
        real = datetime.now(UTC)
        # The start of a 30-second step, so that +-seconds stay within it.
        self.now = real - timedelta(seconds=real.timestamp() % 30, microseconds=0)
        clock.use(lambda: self.now)

    def step(self, steps: int = 1) -> None:
        self.now += timedelta(seconds=30 * steps)

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def code(self, secret: str, steps: int = 0) -> str:
        """The authenticator's code now (or ``steps`` steps away)."""
        return pyotp.TOTP(secret).at(self.now + timedelta(seconds=30 * steps))


async def enroll(gql, token: str, moment: Moment) -> tuple[str, list[str]]:
    """Set up TOTP for the account of ``token``: its secret and recovery codes."""
    enrolled = (await gql(ENROLL_TOTP, token=token))["data"]["enrollTotp"]
    assert enrolled["errors"] == [], enrolled
    secret = enrolled["secret"]
    confirmed = await gql(CONFIRM_TOTP, {"input": {"code": moment.code(secret)}}, token=token)
    payload = confirmed["data"]["confirmTotp"]
    assert payload["errors"] == [], payload
    moment.step()  # the next code is a new step's
    return secret, payload["recoveryCodes"]


async def first_step(gql, account_name: str = "alice", password: str = PASSWORD) -> dict:
    body = await gql(LOGIN, {"input": {"accountName": account_name, "password": password}})
    return body["data"]["login"]


async def complete(gql, challenge: str, **proof: str) -> dict:
    body = await gql(COMPLETE, {"input": {"challenge": challenge, **proof}})
    return body["data"]["completeSignIn"]


async def sign_in_with_totp(gql, moment: Moment, secret: str, name: str = "alice") -> str:
    """Both steps; the session token."""
    started = await first_step(gql, name)
    done = await complete(gql, started["secondFactor"]["challenge"], totpCode=moment.code(secret))
    assert done["errors"] == [], done
    moment.step()
    return done["token"]


async def step_up(gql, token: str, **proof: str) -> dict:
    body = await gql(STEP_UP, {"input": proof}, token=token)
    return body["data"]["stepUp"]


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]
