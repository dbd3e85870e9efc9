"""Sessions: opaque bearer tokens, stored only as their SHA-256, with idle and absolute expiry.

A token is 256 bits from ``secrets`` (a CSPRNG); a new one is issued at every
authentication. The database never holds the token itself, so a leaked table cannot be
replayed. Revoking a session deletes its row: nothing about it is kept.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from tortoise import fields
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from accord.settings import Settings
from accord.sqlite_backend import timestamp_text
from models import clock
from models.accounts.account import Account, AccountStatus, Role
from models.accounts.levels import AuthLevel
from models.batches import delete_in_batches
from models.keys.data_keys import account_subject
from models.keys.sealed_fields import SealedField, SealedManager, SealedModel, sealed_text
from models.networks import approximate_network
from models.placeholders import placeholders

TOKEN_BYTES = 32
#: last_seen_at is written at most this often, so reads do not turn into writes.
TOUCH_EVERY = timedelta(minutes=1)


class Session(SealedModel):
    """A signed-in session, its browser and network sealed under its account's key."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    account_id: int  # set by the ORM
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set at sign-in, and again by ``stepUp`` (``authenticated_again``).
    #: When the user last proved who they are (password or provider token).
    authenticated_at = fields.DatetimeField()
    #: What that authentication proved: one factor, or a second one too.
    auth_level = fields.CharEnumField(
        AuthLevel,
        max_length=16,
        default=AuthLevel.SINGLE_FACTOR,
        db_default=AuthLevel.SINGLE_FACTOR.value,
    )
    last_seen_at = fields.DatetimeField(db_index=True)
    expires_at = fields.DatetimeField(db_index=True)
    user_agent = SealedField(max_length=255, default="")
    #: The client network it signed in from (``network_of``), never the full address, or ""
    #: when unknown. (No semicolon here: SQLite migrations split their SQL on them.)
    network = SealedField(max_length=50, default="", db_default="")

    class Meta:
        table = "session"
        manager = SealedManager()  # opens it, and the account it is loaded with

    def sealed_subject(self) -> str | None:
        return account_subject(self.account_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def network_of(address: str) -> str:
    """The approximate place a session is shown with (``models.networks``), as text with
    its prefix ("203.0.113.0/24"); "" for what is not an address."""
    network = approximate_network(address)
    return "" if network is None else str(network)


async def open_session(
    account: Account,
    settings: Settings,
    user_agent: str = "",
    level: AuthLevel = AuthLevel.SINGLE_FACTOR,
    *,
    network: str = "",
    session_id: uuid.UUID | None = None,
) -> str:
    """Start a session for a freshly authenticated account; returns the bearer token.
    ``network`` is ``network_of`` the client's address; ``session_id`` lets the caller
    name the session it goes on to record (``models.accounts.sign_ins``).

    Written in SQL: it is on every login's path, and building a model instance to insert
    cost as much CPU as the insert itself.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    moment = clock.now()
    expires = moment + settings.session_absolute_timeout
    subject = account_subject(account.id)
    agent = await sealed_text(Session, "user_agent", subject, user_agent[:255])
    place = await sealed_text(Session, "network", subject, network[:50])
    # In the order of COLUMNS.
    row = [session_id or uuid.uuid4(), account.id, hash_token(token), moment, moment, moment]
    row += [expires, agent, level.value, place]
    db = Session._meta.db
    dialect = db.capabilities.dialect
    await db.execute_insert(_open_session_sql(dialect), _as_stored(row, dialect))
    return token


#: The session table's columns, in the order ``open_session`` writes them.
COLUMNS = (
    "id",
    "account_id",
    "token_hash",
    "created_at",
    "authenticated_at",
    "last_seen_at",
    "expires_at",
    "user_agent",
    "auth_level",
    "network",
)


def _as_stored(values: list[object], dialect: str) -> list[object]:
    """UUIDs and datetimes as text on SQLite, as Tortoise writes them there; other
    databases take them as they are."""
    if dialect != "sqlite":
        return values
    return [
        str(v) if isinstance(v, uuid.UUID) else timestamp_text(v) if isinstance(v, datetime) else v
        for v in values
    ]


@functools.cache
def _open_session_sql(dialect: str) -> str:
    marks = placeholders(dialect, len(COLUMNS))
    columns = ", ".join(COLUMNS)
    return f'INSERT INTO "session" ({columns}) VALUES ({marks})'  # noqa: S608


async def session_for_token(token: str, settings: Settings) -> Session | None:
    """The live session behind a bearer token, or None; expired sessions are removed."""
    if not token or len(token) > 128:
        return None
    return await _live(Session.filter(token_hash=hash_token(token)), settings)


async def _live(query: QuerySet[Session], settings: Settings) -> Session | None:
    """The session ``query`` finds if it still stands: not revoked, not expired (expired
    ones are removed), its account ACTIVE. Using it counts as activity."""
    session = await query.select_related("account").first()
    if session is None:
        return None
    moment = clock.now()
    idle_expired = session.last_seen_at + settings.session_idle_timeout <= moment
    if session.expires_at <= moment or idle_expired:
        await session.delete()
        return None
    if session.account.status != AccountStatus.ACTIVE:
        return None
    if moment - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = moment
        await Session.filter(id=session.id).update(last_seen_at=moment)
    return session


class Standing(StrEnum):
    """Where a session that opened a live stream stands now."""

    LIVE = "LIVE"
    #: Logged out, revoked, expired, or its account no longer ACTIVE.
    ENDED = "ENDED"
    #: Still signed in, but its account no longer holds the role the stream needs.
    ROLE_LOST = "ROLE_LOST"


async def standing(
    session_id: uuid.UUID, settings: Settings, roles: tuple[Role, ...] = ()
) -> Standing:
    """Whether the session may still receive what it subscribed to: the same rule as a new
    request's (``session_for_token``), plus ``roles`` when the stream is for staff only.

    An open stream is use, so it keeps an idle session alive like requests do.
    """
    session = await _live(Session.filter(id=session_id), settings)
    if session is None:
        return Standing.ENDED
    if roles and not session.account.holds_role(*roles):
        return Standing.ROLE_LOST
    return Standing.LIVE


def is_recent(session: Session, settings: Settings) -> bool:
    return clock.now() - session.authenticated_at <= settings.recent_auth_window


async def authenticated_again(session: Session, level: AuthLevel) -> None:
    """The user proved who they are again in this session (``stepUp``), at ``level``."""
    moment = clock.now()
    await Session.filter(id=session.id).update(authenticated_at=moment, auth_level=level)
    session.authenticated_at, session.auth_level = moment, level


async def revoke_all(account_id: int, *, except_session: uuid.UUID | None = None) -> int:
    query = Session.filter(account_id=account_id)
    if except_session is not None:
        query = query.exclude(id=except_session)
    return await query.delete()


async def end_other_sessions(session: Session, settings: Settings) -> int:
    """ "Sign out of every other session": every session of the account but ``session``
    ends; returns how many of them were still live (expired ones go too, uncounted)."""
    moment = clock.now()
    others = Session.filter(account_id=session.account_id).exclude(id=session.id)
    live = await others.filter(
        expires_at__gt=moment, last_seen_at__gt=moment - settings.session_idle_timeout
    ).count()
    await revoke_all(session.account_id, except_session=session.id)
    return live


async def purge_expired(settings: Settings, batch_size: int) -> int:
    """Delete sessions past their absolute or idle expiry."""
    moment = clock.now()
    idle_since = moment - settings.session_idle_timeout
    # Two indexed conditions, not one OR (which SQLite answers with a table scan).
    expired = await delete_in_batches(Session, Q(expires_at__lte=moment), batch_size)
    idle = await delete_in_batches(Session, Q(last_seen_at__lte=idle_since), batch_size)
    return expired + idle
