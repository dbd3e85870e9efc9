"""What every resolver gets: the request, the settings, the queue, and who is asking."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from starlette.requests import HTTPConnection

from accord.settings import Settings
from api.consent.loaders import ConsentLoaders
from api.personal.loaders import PersonalLoaders
from models.accounts.account import Account, Role
from models.accounts.levels import AuthLevel
from models.accounts.login_limits import LoginLimits
from models.accounts.passwords import Passwords
from models.accounts.provider_keys import ProviderKeys
from models.accounts.reauthentication import confirm_identity
from models.accounts.sessions import Session, is_recent, session_for_token
from models.consent import global_privacy_control
from models.consent.ledger import account_subject
from models.errors import DomainError, SharedErrorCode
from models.personal.storage import Storage
from models.queue import Broadcast, JobStats, Queue

log = structlog.get_logger("accord.context")


@dataclass
class Context:
    """One per HTTP request, and one per operation on a websocket (``for_operation``)."""

    #: A ``Request``, or the ``WebSocket`` a graphql-transport-ws connection came in on.
    request: HTTPConnection
    settings: Settings
    queue: Queue
    passwords: Passwords
    login_limits: LoginLimits
    provider_keys: ProviderKeys
    broadcast: Broadcast
    stats: JobStats
    storage: Storage
    #: The graphql-transport-ws ``connection_init`` payload, for websocket operations.
    connection_params: dict[str, Any] | None = None
    consent_loaders: ConsentLoaders = field(default_factory=ConsentLoaders)
    personal_loaders: PersonalLoaders = field(default_factory=PersonalLoaders)
    #: How many ``login`` fields this HTTP request has asked for (aliases and batches too).
    login_attempts: int = 0
    _session: Session | None = field(default=None, repr=False)
    _session_read: bool = field(default=False, repr=False)
    #: Tokens of the sessions this request or operation opened (``signed_in``), by account.
    _opened: dict[int, str] = field(default_factory=dict, repr=False)
    #: Those sessions as read back, by account.
    _opened_read: dict[int, Session | None] = field(default_factory=dict, repr=False)
    #: ``may_read_subject_data``, once asked.
    _subject_reads: bool | None = field(default=None, repr=False)
    #: The session token when the request carries it elsewhere than in ``Authorization``:
    #: the web pages' cookie (``api.web``). When set, the header is not read.
    session_token: str | None = None

    @classmethod
    def of(cls, request: HTTPConnection, **extra: Any) -> Context:
        """A request's context, from what the app holds (``api.app``'s lifespan)."""
        state = request.app.state
        return cls(
            request=request,
            settings=state.settings,
            queue=state.queue,
            passwords=state.passwords,
            login_limits=state.login_limits,
            provider_keys=state.provider_keys,
            broadcast=state.broadcast,
            storage=state.storage,
            stats=state.stats,
            **extra,
        )

    def for_operation(self) -> Context:
        """This context for one operation on a long-lived connection (a websocket): it
        reads the session afresh, as an HTTP request does, since the one the connection
        opened with may have ended (logged out, revoked, expired) while it stayed open;
        and it starts with batch loaders and a count of logins of its own."""
        return replace(
            self,
            consent_loaders=ConsentLoaders(),
            personal_loaders=PersonalLoaders(),
            login_attempts=0,
            _session=None,
            _session_read=False,
            _opened={},
            _opened_read={},
            _subject_reads=None,
        )

    @property
    def user_agent(self) -> str:
        return self.request.headers.get("user-agent", "")[:255]

    @property
    def client_address(self) -> str:
        """The caller's address; X-Forwarded-For is believed only from a trusted proxy."""
        peer = self.request.client.host if self.request.client else "0.0.0.0"  # noqa: S104
        if peer in self.settings.trusted_proxies:
            forwarded = self.request.headers.get("x-forwarded-for", "")
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            for hop in reversed(hops):
                if hop not in self.settings.trusted_proxies:
                    try:
                        return str(ipaddress.ip_address(hop))
                    except ValueError:
                        break
        return peer

    def bearer_token(self) -> str | None:
        header = self.request.headers.get("authorization", "")
        if not header and self.connection_params:
            params = self.connection_params
            header = str(params.get("authorization") or params.get("Authorization") or "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def session(self) -> Session | None:
        """The caller's live session, read once per request or operation. A request with
        the Global Privacy Control signal opts its account out (``honour_privacy_signal``)."""
        if not self._session_read:
            token = self.session_token if self.session_token is not None else self.bearer_token()
            self._session = await session_for_token(token, self.settings) if token else None
            self._session_read = True
            if self._session is not None:
                await self.honour_privacy_signal(account_subject(self._session.account.id))
        return self._session

    async def honour_privacy_signal(self, subject: str, device_id: str | None = None) -> None:
        """``Sec-GPC: 1`` on this request: the subject's opt-out, recorded once per policy
        version (``models.consent.global_privacy_control``)."""
        if not global_privacy_control.signalled(self.request.headers):
            return
        try:
            await global_privacy_control.honour(
                subject,
                device_id=device_id,
                user_agent=self.user_agent,
                client_address=self.client_address,
            )
        except DomainError:  # the ledger busy: the signal comes again with the next request
            log.warning("global privacy control not recorded this time", exc_info=True)

    async def viewer(self) -> Account | None:
        session = await self.session()
        return session.account if session else None

    def signed_in(self, account_id: int, token: str) -> None:
        """A mutation of this request opened a session (login, register, restoreAccount...):
        the account it returns is read as that session will read it (``session_reading``).
        Who is *calling* does not change: later fields of the request still act for the
        bearer token the request came with, so a sign-in lends nothing to them."""
        self._opened[account_id] = token
        self._opened_read.pop(account_id, None)

    async def session_reading(self, account_id: int) -> Session | None:
        """The session an account's own fields are read with: one this request opened for
        it, else the caller's. So the account a sign-in payload returns resolves as
        ``viewer`` does with the token returned beside it (Apollo caches both as
        ``Account:<id>``), not as for a stranger."""
        token = self._opened.get(account_id)
        if token is None:
            return await self.session()
        if account_id not in self._opened_read:
            self._opened_read[account_id] = await session_for_token(token, self.settings)
        return self._opened_read[account_id]

    async def reader_of(self, account_id: int) -> Account | None:
        """Who reads an account's own fields (``api.permissions.visible_to``)."""
        session = await self.session_reading(account_id)
        return session.account if session else None

    async def require_session(self) -> Session:
        session = await self.session()
        if session is None:
            raise DomainError(SharedErrorCode.NOT_AUTHENTICATED, None, "sign in first")
        return session

    async def require_viewer(self) -> Account:
        return (await self.require_session()).account

    async def require_role(self, *roles: Role) -> Account:
        session = await self.require_session()
        account = session.account
        if not account.holds_role(*roles):
            raise DomainError(SharedErrorCode.FORBIDDEN, None, "your role may not do this")
        self.check_staff_session(session)
        return account

    def check_staff_session(self, session: Session) -> None:
        """Where the deployment says so (``ACCORD_STAFF_SECOND_FACTOR``), a staff role acts
        only from a session signed in (or stepped up) with a second factor."""
        if (
            self.settings.staff_need_second_factor
            and session.account.role != Role.USER
            and session.auth_level != AuthLevel.MULTI_FACTOR
        ):
            raise DomainError(
                SharedErrorCode.SECOND_FACTOR_REQUIRED,
                None,
                "staff act only from a session signed in with a second factor: set one up "
                "(enrollTotp, confirmTotp; or a passkey), then sign in again or stepUp",
            )

    async def may_read_subject_data(self) -> bool:
        """Whether the caller may use a staff role's reach into other accounts' data now:
        a staff role, a session that meets the second-factor rule (``check_staff_session``)
        and a recent authentication at its strongest level (``reauthenticate``). Reads that
        answer "nothing" to a stranger (``node(id:)``) answer it to staff without these;
        staff queries answer an error instead (``api.permissions.staff_reads_subject_data``)."""
        if self._subject_reads is None:
            session = await self.session()
            allowed = session is not None and session.account.role != Role.USER
            if allowed and session is not None:
                try:
                    self.check_staff_session(session)
                    await self.reauthenticate()
                except DomainError:
                    allowed = False
            self._subject_reads = allowed
        return self._subject_reads

    async def reauthenticate(
        self,
        *,
        password: str | None = None,
        provider: str | None = None,
        id_token: str | None = None,
        proof_field: str = "password",
    ) -> Session:
        """Recent authentication for a sensitive operation, at the strongest level the
        account has (``models.accounts.reauthentication``); the session. Without a second
        factor, a password or a fresh token of a bound provider given with the request also
        counts."""
        session = await self.require_session()
        await confirm_identity(
            self.passwords,
            self.provider_keys,
            session,
            is_recent(session, self.settings),
            password=password,
            provider=provider,
            id_token=id_token,
            proof_field=proof_field,
            max_age=self.settings.recent_auth_window,
            limits=self.login_limits,
            client_address=self.client_address,
        )
        return session
