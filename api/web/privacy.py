"""The privacy center, ``/privacy``: what a user decides and exercises about their own data,
in plain HTML forms. Each action calls the function the GraphQL mutation of the same name
calls (``setConsents``, ``acceptPolicy``, ``revokeSession``, ``unbindProvider``,
``exportMyData``, ``cancelAccount``, ``restoreAccount``), with the same checks."""

from __future__ import annotations

import re
import uuid

import structlog
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from api.accounts.sign_in import send_notices
from api.consent.mutations import announce_consents
from api.live_streams import announce_sessions_changed
from api.web.pages import Web, action, view, when
from api.web.security import PRIVACY
from api.web.sign_in import after_first_factor, sign_in_routes
from models import clock, jobs
from models.accounts import authentication, bindings, sign_in_challenges
from models.accounts.bindings import Binding
from models.accounts.errors import AccountErrorCode
from models.accounts.levels import Factor
from models.accounts.sessions import Session, end_other_sessions
from models.accounts.user_agents import device_label
from models.consent import decisions, ledger, policies, purposes
from models.consent.errors import ConsentErrorCode
from models.consent.receipts import receipt_claims, sign_receipt
from models.errors import DomainError
from models.notifications.inbox import Channel, Notification, NotificationKind
from models.rights import deletion, exports
from models.rights.exports import EXPORT_PATH
from models.rights.requests import DataRequest

log = structlog.get_logger("accord.web")

NOTICES = {
    "granted": "Consent given.",
    "withdrawn": "Consent withdrawn.",
    "accepted": "Thank you: you accepted this version of the policy.",
    "restored": "Your account is restored: it will not be deleted.",
    "revoked": "That session has ended.",
    "others-ended": "Every other session has ended.",
    "unbound": "That sign-in is no longer linked to your account.",
    "export": "Your export is being prepared: the link comes in-app and by e-mail.",
}
HISTORY_PAGE = 20
#: A download link in an export-ready message, as ``models.rights.exports.link_for`` writes it.
EXPORT_LINK = re.compile(re.escape(EXPORT_PATH) + r"[A-Za-z0-9_-]+")


def _where(web: Web) -> dict[str, str]:
    return {"user_agent": web.ctx.user_agent, "client_address": web.ctx.client_address}


def _password(web: Web) -> str | None:
    """A password typed to confirm a sensitive action: needed unless the sign-in is recent
    (``ACCORD_RECENT_AUTH_WINDOW``), as GraphQL's ``reauthenticate`` takes it."""
    return web.optional("password")


# --- consents --------------------------------------------------------------------------------


@view(PRIVACY)
async def consents_page(web: Web) -> Response:
    subjects = await ledger.subjects_of(web.account.id)
    accepted = await decisions.last_accepted(subjects)
    return web.render(
        "privacy_consents.html",
        "Your consents",
        notices=NOTICES,
        consents=await decisions.current_consents(subjects),
        policy=await policies.current_policy(),
        accepted=accepted,
        changes=await decisions.material_changes_since(accepted),
        requires_reconsent=await decisions.requires_reconsent(subjects),
    )


@action(PRIVACY, shows=consents_page)
async def set_consent(web: Web) -> Response:
    """``setConsents`` for one purpose, under the policy version in effect."""
    policy = await policies.current_policy()
    if policy is None:
        raise DomainError(
            ConsentErrorCode.UNKNOWN_POLICY_VERSION,
            "policyVersion",
            "no privacy policy is in effect yet to consent under",
        )
    granted = web.field("granted") == "yes"
    stored = await decisions.set_consents(
        ledger.account_subject(web.account.id),
        web.settings,
        policy_version=policy.version,
        decisions=[(web.field("purpose"), granted)],
        source=ledger.Source.WEB,
        **_where(web),
    )
    await announce_consents(web.ctx, web.account.id, stored, None)
    return web.redirect("", "granted" if granted else "withdrawn")


@action(PRIVACY, shows=consents_page)
async def accept_policy(web: Web) -> Response:
    event = await decisions.accept_policy(
        ledger.account_subject(web.account.id),
        policy_version=web.field("version"),
        source=ledger.Source.WEB,
        **_where(web),
    )
    await announce_consents(web.ctx, web.account.id, [event], None)
    return web.redirect("", "accepted")


# --- history and receipts --------------------------------------------------------------------


@view(PRIVACY)
async def history_page(web: Web) -> Response:
    subjects = await ledger.subjects_of(web.account.id)
    after = web.request.query_params.get("after", "")
    rows = await decisions.history(
        subjects, HISTORY_PAGE, int(after) if after.isdigit() and len(after) < 19 else None
    )
    titles = {p.code: p.title for p in await purposes.Purpose.all()}
    shown = rows[:HISTORY_PAGE]
    return web.render(
        "privacy_history.html",
        "Consent history",
        events=shown,
        titles=titles,
        more=shown[-1].id if len(rows) > HISTORY_PAGE else None,
    )


@view(PRIVACY)
async def receipt(web: Web) -> Response:
    """The signed receipt of one of the user's own events (``consentReceipt``), as a file."""
    raw = web.request.path_params["event_id"]
    event = await ledger.ConsentEvent.get_or_none(id=int(raw)) if raw.isdigit() else None
    if event is None or event.subject not in await ledger.subjects_of(web.account.id):
        return web.refuse(404, "No such receipt", "There is no receipt of yours here.")
    purpose = await purposes.Purpose.get_or_none(code=event.purpose_code)
    policy = await policies.PolicyVersion.get_or_none(version=event.policy_version)
    token = sign_receipt(receipt_claims(event, purpose, policy, web.settings), web.settings)
    return Response(
        token,
        media_type="application/jose",
        headers={"Content-Disposition": f'attachment; filename="consent-receipt-{event.id}.jws"'},
    )


# --- sessions and linked sign-ins -------------------------------------------------------------


@view(PRIVACY)
async def sessions_page(web: Web) -> Response:
    moment = clock.now()
    rows = (
        await Session.filter(
            account_id=web.account.id,
            expires_at__gt=moment,
            last_seen_at__gt=moment - web.settings.session_idle_timeout,
        )
        .order_by("-created_at")
        .all()
    )
    current = web.session.id if web.session else None
    return web.render(
        "privacy_sessions.html",
        "Sessions and linked sign-ins",
        notices=NOTICES,
        sessions=[(row, device_label(row.user_agent), row.id == current) for row in rows],
        bindings=await Binding.filter(account_id=web.account.id).order_by("bound_at"),
    )


@action(PRIVACY, shows=sessions_page)
async def revoke_session(web: Web) -> Response:
    """``revokeSession``: one of the user's own sessions ends (this one too, if chosen)."""
    try:
        session_id = uuid.UUID(web.field("session"))
    except ValueError:
        session_id = None
    deleted = (
        await Session.filter(id=session_id, account_id=web.account.id).delete() if session_id else 0
    )
    if not deleted:
        raise DomainError(AccountErrorCode.NOT_FOUND, "id", "no such session")
    await announce_sessions_changed(web.ctx, web.account.id)
    if web.session is not None and session_id == web.session.id:
        web.cookies.append((PRIVACY.cookie, None, 0))
        return RedirectResponse(f"{PRIVACY.path}/sign-in?done=signed-out", status_code=303)
    return web.redirect("/sessions", "revoked")


@action(PRIVACY, shows=sessions_page)
async def sign_out_others(web: Web) -> Response:
    assert web.session is not None
    await end_other_sessions(web.session, web.settings)
    await announce_sessions_changed(web.ctx, web.account.id)
    return web.redirect("/sessions", "others-ended")


@action(PRIVACY, shows=sessions_page)
async def unbind(web: Web) -> Response:
    """``unbindProvider``: needs a recent sign-in or the password."""
    session = await web.ctx.reauthenticate(password=_password(web))
    await bindings.unbind(session.account, web.field("provider"))
    return web.redirect("/sessions", "unbound")


# --- your data: exports and data requests -----------------------------------------------------


@view(PRIVACY)
async def data_page(web: Web) -> Response:
    moment = clock.now()
    requests = await DataRequest.filter(account_id=web.account.id).order_by("-id").limit(50)
    ready = (
        await Notification.filter(
            account_id=web.account.id,
            kind=NotificationKind.EXPORT_READY,
            channel=Channel.IN_APP,
        )
        .order_by("-id")
        .limit(3)
    )
    links = [(n.created_at, m.group(0)) for n in ready if (m := EXPORT_LINK.search(n.body))]
    return web.render(
        "privacy_data.html",
        "Your data",
        notices=NOTICES,
        requests=[
            (r, (r.due_at - moment).days if r.due_at is not None else None) for r in requests
        ],
        links=links,
    )


@action(PRIVACY, shows=data_page)
async def request_export(web: Web) -> Response:
    """``exportMyData``: an ACCESS request a worker answers with a one-time link."""
    session = await web.ctx.reauthenticate(password=_password(web))
    request = await exports.request_export(session.account, web.settings)
    try:
        await jobs.export_data(web.ctx.queue, request.id)
    except Exception as error:  # the row is the promise: the sweeper queues it
        log.warning("export not enqueued; the sweeper will", error=repr(error))
    return web.redirect("/data", "export")


# --- the account: cancel and restore ---------------------------------------------------------


@view(PRIVACY)
async def account_page(web: Web) -> Response:
    return web.render(
        "privacy_account.html",
        "Your account",
        grace_days=web.settings.deletion_grace.days,
    )


@action(PRIVACY, shows=account_page)
async def cancel_account(web: Web) -> Response:
    """``cancelAccount``: every session ends (this one too); the receipt's handle is shown
    once, here, so this answer is a page, not a redirect."""
    if web.field("confirm") != "yes":
        raise DomainError(
            AccountErrorCode.REQUIRED, "confirm", "tick the box to confirm you want to cancel"
        )
    session = await web.ctx.reauthenticate(password=_password(web))
    cancelled = await deletion.cancel_account(session.account, web.settings, web.optional("reason"))
    await announce_sessions_changed(web.ctx, session.account_id)
    await send_notices(web.ctx)
    web.cookies.append((PRIVACY.cookie, None, 0))
    web.session = None  # ended with every other session of the account
    return web.render(
        "privacy_cancelled.html",
        "Your account is cancelled",
        due=when(cancelled.due),
        receipt_id=cancelled.receipt_id,
        receipt_secret=cancelled.receipt_secret,
    )


@view(PRIVACY, signed_in=False)
async def restore_page(web: Web) -> Response:
    return web.render(
        "privacy_restore.html", "Restore your account", account_name=web.field("account_name")
    )


@action(PRIVACY, shows=restore_page, signed_in=False)
async def restore_account(web: Web) -> Response:
    """``restoreAccount`` with a password (then a second factor, if the account has one)."""
    account = await authentication.login(
        web.ctx.passwords,
        web.ctx.login_limits,
        account_name=web.field("account_name"),
        password=web.field("password"),
        client_address=web.ctx.client_address,
        require_active=False,
    )
    return await after_first_factor(
        web, account, Factor.PASSWORD, sign_in_challenges.Purpose.RESTORE
    )


def privacy_routes() -> list[BaseRoute]:
    get, post, path = ["GET", "HEAD"], ["POST"], PRIVACY.path
    return [
        *sign_in_routes(PRIVACY, restore_page="/restore"),
        Route(path, consents_page, methods=get),
        Route(f"{path}/", consents_page, methods=get),
        Route(f"{path}/consents", set_consent, methods=post),
        Route(f"{path}/accept-policy", accept_policy, methods=post),
        Route(f"{path}/history", history_page, methods=get),
        Route(f"{path}/receipts/{{event_id}}", receipt, methods=get),
        Route(f"{path}/sessions", sessions_page, methods=get),
        Route(f"{path}/sessions/revoke", revoke_session, methods=post),
        Route(f"{path}/sessions/sign-out-others", sign_out_others, methods=post),
        Route(f"{path}/bindings/unbind", unbind, methods=post),
        Route(f"{path}/data", data_page, methods=get),
        Route(f"{path}/data/export", request_export, methods=post),
        Route(f"{path}/account", account_page, methods=get),
        Route(f"{path}/account/cancel", cancel_account, methods=post),
        Route(f"{path}/restore", restore_page, methods=get),
        Route(f"{path}/restore", restore_account, methods=post),
    ]
