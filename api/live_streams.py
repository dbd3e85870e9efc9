"""Live streams (subscriptions) last only as long as the session that opened them.

Every subscription is declared with ``@live_stream()`` (``roles=`` for staff-only streams),
which checks the session before the first event and then races the stream against the
session's end: a stream ends, with a typed error and then ``complete``, when its session is
logged out, revoked, expired, ended by a password change or a cancellation, or when its
account no longer holds the role the stream needs.

Whoever ends sessions announces it on the account's channel (``announce_sessions_changed``)
so streams end at once; each stream also re-reads its session every
``ACCORD_LIVE_STREAM_RECHECK``, so a lost announcement, an expiry or a role changed from the
command line ends it within seconds all the same. The database decides (``models.accounts.sessions
.standing``); the announcement only says "look now".
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

import structlog
from graphql import GraphQLError
from strawberry.types import Info

from api.context import Context
from models.accounts.account import Role
from models.accounts.sessions import Session, Standing, standing
from models.errors import DomainError, SharedErrorCode

log = structlog.get_logger("accord.live_streams")
T = TypeVar("T")

# Subscription results bypass the ErrorPolicy that puts a ClientError's code in
# ``extensions``, so the typed codes are attached here.
NOT_SIGNED_IN = {"code": str(SharedErrorCode.NOT_AUTHENTICATED)}
REFUSED = {"code": str(SharedErrorCode.FORBIDDEN)}
ENDINGS = {
    Standing.ENDED: ("your session has ended", NOT_SIGNED_IN),
    Standing.ROLE_LOST: ("your role may no longer see this", REFUSED),
}


def _channel(account_id: int) -> str:
    return f"account:{account_id}"


async def announce_sessions_changed(context: Any, account_id: int) -> None:
    """Tell the account's live streams to re-check their sessions now. Best effort: the
    sessions are already ended in the database, and the streams re-check on their own."""
    try:
        await context.broadcast.publish(_channel(account_id), "")
    except Exception:
        log.warning("session change not announced", account_id=account_id, exc_info=True)


def live_stream(
    *, roles: tuple[Role, ...] = ()
) -> Callable[[Callable[..., AsyncGenerator[T]]], Callable[..., AsyncGenerator[T, None]]]:
    """Declare a subscription resolver (an async generator taking ``info``) as a live
    stream for a signed-in session, and for ``roles`` if given."""

    def decorate(resolver: Callable[..., AsyncGenerator[T]]) -> Callable[..., AsyncGenerator[T]]:
        @functools.wraps(resolver)
        async def guarded(*args: Any, **kwargs: Any) -> AsyncGenerator[T, None]:
            info: Info[Context, None] = kwargs["info"]
            session = await info.context.session()
            if session is None:
                raise GraphQLError("sign in first", extensions=NOT_SIGNED_IN)
            if roles and not session.account.holds_role(*roles):
                raise GraphQLError("your role may not do this", extensions=REFUSED)
            if roles:
                try:
                    info.context.check_staff_session(session)
                except DomainError as error:
                    raise GraphQLError(
                        error.message, extensions={"code": str(error.code)}
                    ) from None
            source = resolver(*args, **kwargs)
            ended = asyncio.create_task(_until_ended(info.context, session, roles))
            step: asyncio.Future | None = None
            try:
                while True:
                    step = asyncio.ensure_future(source.__anext__())
                    await asyncio.wait({step, ended}, return_when=asyncio.FIRST_COMPLETED)
                    if ended.done():  # the end wins a tie: nothing more is delivered
                        raise ended.result()
                    try:
                        item = step.result()
                    except StopAsyncIteration:
                        return
                    step = None
                    yield item
            finally:
                pending = [t for t in (step, ended) if t is not None and not t.done()]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                await source.aclose()

        return guarded

    return decorate


async def _until_ended(context: Any, session: Session, roles: tuple[Role, ...]) -> GraphQLError:
    """Wait until the session no longer stands; the error that ends its streams."""
    every = context.settings.live_stream_recheck.total_seconds()
    ticks = context.broadcast.ticks(_channel(session.account_id), every)
    async with contextlib.aclosing(ticks):
        async for _ in ticks:
            verdict = await standing(session.id, context.settings, roles)
            if verdict is not Standing.LIVE:
                message, extensions = ENDINGS[verdict]
                return GraphQLError(message, extensions=extensions)
    raise AssertionError("ticks never stop")  # pragma: no cover
