"""How the accounts edge opens a session once someone proved who they are, shared by every
way of signing in (password, provider, restore, two-step, passkey): device linking, the
second step, one sign-in per request, the sign-in record and its notice."""

from __future__ import annotations

import uuid

import structlog

from api.accounts.types import SecondFactorChallenge
from api.context import Context
from models import jobs
from models.accounts import factors, sign_in_challenges, sign_ins
from models.accounts.account import Account as AccountRow
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import AuthLevel, Factor
from models.accounts.sessions import network_of, open_session
from models.consent.decisions import link_device
from models.consent.ledger import Source, clean_device_id
from models.errors import DomainError

log = structlog.get_logger("accord.sign_in")


async def link_device_of(ctx: Context, device_id: str | None, account: AccountRow) -> None:
    """A device that signs in brings its anonymous consent history to the account."""
    if device_id is None:
        return
    await link_device(
        clean_device_id(device_id),
        account,
        source=Source.API,
        user_agent=ctx.user_agent,
        client_address=ctx.client_address,
    )


async def sign_in(
    ctx: Context, account: AccountRow, level: AuthLevel = AuthLevel.SINGLE_FACTOR
) -> str:
    """Open a session for an account that just proved who it is; the account the payload
    returns is then read as that session reads it (``Context.signed_in``). Every way of
    signing in comes through here, so each one records its device and network and sends a
    sign-in notice when one is new (``models.accounts.sign_ins``)."""
    session_id, network = uuid.uuid4(), network_of(ctx.client_address)
    token = await open_session(
        account, ctx.settings, ctx.user_agent, level, network=network, session_id=session_id
    )
    if await sign_ins.note_sign_in(account, session_id, ctx.settings, ctx.user_agent, network):
        await send_notices(ctx)
    ctx.signed_in(account.id, token)
    return token


async def second_step(
    ctx: Context,
    account: AccountRow,
    first: Factor,
    purpose: sign_in_challenges.Purpose = sign_in_challenges.Purpose.SIGN_IN,
) -> SecondFactorChallenge | None:
    """An account with a second factor signs in in two steps: the first opens no session
    but a challenge for ``completeSignIn``. None for an account without one."""
    second = await factors.second_factors(account.id)
    if not second:
        return None
    challenge = await sign_in_challenges.issue(account, first, ctx.settings, purpose)
    return SecondFactorChallenge(
        challenge=challenge.token, expires_at=challenge.expires_at, factors=second
    )


async def count_login(ctx: Context, account_name: str) -> None:
    """At most one sign-in step per HTTP request (aliases and batches included); the extra
    ones are still counted, so packing guesses into one request buys nothing."""
    ctx.login_attempts += 1
    if ctx.login_attempts > 1:
        await ctx.login_limits.attempt(account_name, ctx.client_address)
        raise DomainError(AccountErrorCode.TOO_MANY_LOGINS, None, "one login per request")


async def send_notices(ctx: Context) -> None:
    """The notice rows are written; the worker sends them (the sweeper would, a minute on)."""
    try:
        await jobs.deliver_account_notices(ctx.queue)
    except Exception as error:  # the rows are the promise; the sweeper enqueues them
        log.warning("notices not enqueued; the sweeper will", error=repr(error))
