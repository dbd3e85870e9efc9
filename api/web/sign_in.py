"""Signing in and out of a web area, as GraphQL's ``login``/``completeSignIn``/``logout``
do it: the same password check and login limits (``models.accounts.authentication``), the
same two steps for an account with a second factor (``models.accounts.sign_in_challenges``),
the same session and sign-in notice (``api.accounts.sign_in``); the token goes in the
area's cookie instead of the answer."""

from __future__ import annotations

from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from api.accounts.sign_in import second_step, send_notices, sign_in
from api.live_streams import announce_sessions_changed
from api.web.pages import Endpoint, Web, action, view
from api.web.security import Area
from models.accounts import authentication, passkeys, sign_in_challenges
from models.accounts.account import Account
from models.accounts.levels import AuthLevel, Factor
from models.accounts.sessions import Session
from models.rights import deletion

NOTICES = {
    "signed-out": "You are signed out.",
    "restored": "Your account is restored: it will not be deleted.",
}


async def after_first_factor(
    web: Web, account: Account, first: Factor, purpose: sign_in_challenges.Purpose
) -> Response:
    """The second step's form for an account with a second factor, else the session (a
    restore restores the account first)."""
    area = web.area
    if area.roles and not account.holds_role(*area.roles):
        return web.refuse(
            403,
            "Not for your role",
            f"The {area.title.lower()} is for staff only. Your own settings are in the "
            "privacy center.",
        )
    challenge = await second_step(web.ctx, account, first, purpose)
    if challenge is not None:
        return web.render(
            "second_factor.html",
            "Second step",
            challenge=challenge.challenge,
            factors=[str(f) for f in challenge.factors],
        )
    if purpose == sign_in_challenges.Purpose.RESTORE:
        account = await deletion.restore_account(account)
        await send_notices(web.ctx)
    return await open_session(web, account, AuthLevel.SINGLE_FACTOR, purpose)


async def open_session(
    web: Web, account: Account, level: AuthLevel, purpose: sign_in_challenges.Purpose
) -> Response:
    token = await sign_in(web.ctx, account, level)
    lifetime = int(web.settings.session_absolute_timeout.total_seconds())
    web.cookies.append((web.area.cookie, token, lifetime))
    web.cookies.append((web.area.form_cookie, None, 0))
    done = "?done=restored" if purpose == sign_in_challenges.Purpose.RESTORE else ""
    return RedirectResponse(f"{web.area.path}{done}", status_code=303)


def sign_in_routes(area: Area, *, restore_page: str | None = None) -> list[Route]:
    """``/sign-in`` (GET the form, POST the password), ``/sign-in/second-factor``,
    ``/sign-in/passkey`` (with ``/options`` before it) and ``/sign-out`` below the area's
    path."""

    @view(area, signed_in=False)
    async def sign_in_page(web: Web) -> Response:
        if web.session is not None:
            return RedirectResponse(area.path, status_code=303)
        return web.render(
            "sign_in.html",
            f"Sign in to the {area.title.lower()}",
            notices=NOTICES,
            restore_page=restore_page,
            account_name=web.field("account_name"),
        )

    @action(area, shows=sign_in_page, signed_in=False)
    async def sign_in_answer(web: Web) -> Response:
        account = await authentication.login(
            web.ctx.passwords,
            web.ctx.login_limits,
            account_name=web.field("account_name"),
            password=web.field("password"),
            client_address=web.ctx.client_address,
        )
        return await after_first_factor(
            web, account, Factor.PASSWORD, sign_in_challenges.Purpose.SIGN_IN
        )

    @action(area, shows=sign_in_page, signed_in=False)
    async def passkey_options(web: Web) -> Response:
        """What ``navigator.credentials.get()`` takes, as ``beginPasskeySignIn`` answers
        (the address counts toward the login limits); POSTed with the form's CSRF token by
        ``passkey.js``, which then posts the browser's answer to ``passkey_answer``."""
        await web.ctx.login_limits.attempt_from(web.ctx.client_address)
        challenge_id, options = await passkeys.begin_authentication(web.settings, None)
        return JSONResponse({"challengeId": challenge_id, "options": options})

    @action(area, shows=sign_in_page, signed_in=False)
    async def passkey_answer(web: Web) -> Response:
        """``finishPasskeySignIn``: one step, the session is MULTI_FACTOR."""
        passkey = await passkeys.finish_authentication(
            web.settings,
            web.field("challenge_id"),
            web.field("credential"),
            account=None,
            limits=web.ctx.login_limits,
            client_address=web.ctx.client_address,
        )
        account = passkey.account
        if area.roles and not account.holds_role(*area.roles):
            return web.refuse(403, "Not for your role", "This page is for staff only.")
        return await open_session(
            web, account, AuthLevel.MULTI_FACTOR, sign_in_challenges.Purpose.SIGN_IN
        )

    @view(area, signed_in=False)
    async def second_factor_page(web: Web) -> Response:
        if not web.field("challenge"):  # only ever shown after the first step
            return RedirectResponse(f"{area.path}/sign-in", status_code=303)
        return web.render(
            "second_factor.html",
            "Second step",
            challenge=web.field("challenge"),
            factors=[str(Factor.TOTP), str(Factor.RECOVERY_CODE)],
        )

    @action(area, shows=second_factor_page, signed_in=False)
    async def second_factor_answer(web: Web) -> Response:
        done = await sign_in_challenges.complete(
            web.field("challenge"),
            web.settings,
            totp_code=web.optional("totp_code"),
            recovery_code=web.optional("recovery_code"),
            limits=web.ctx.login_limits,
            client_address=web.ctx.client_address,
        )
        account = done.account
        if area.roles and not account.holds_role(*area.roles):
            return web.refuse(403, "Not for your role", "This page is for staff only.")
        if done.purpose == sign_in_challenges.Purpose.RESTORE:
            account = await deletion.restore_account(account)
            await send_notices(web.ctx)
        return await open_session(web, account, AuthLevel.MULTI_FACTOR, done.purpose)

    @action(area, shows=sign_in_page)
    async def sign_out(web: Web) -> Response:
        session = web.session
        assert session is not None  # signed_in
        await Session.filter(id=session.id).delete()
        await announce_sessions_changed(web.ctx, session.account_id)
        web.cookies.append((area.cookie, None, 0))
        return RedirectResponse(f"{area.path}/sign-in?done=signed-out", status_code=303)

    endpoints: list[tuple[str, Endpoint, Endpoint | None]] = [
        ("/sign-in", sign_in_page, sign_in_answer),
        ("/sign-in/second-factor", second_factor_page, second_factor_answer),
    ]
    base = area.path
    routes = [Route(base + path, page, methods=["GET", "HEAD"]) for path, page, _ in endpoints]
    routes += [
        Route(base + path, answer, methods=["POST"]) for path, _, answer in endpoints if answer
    ]
    routes.append(Route(f"{base}/sign-in/passkey/options", passkey_options, methods=["POST"]))
    routes.append(Route(f"{base}/sign-in/passkey", passkey_answer, methods=["POST"]))
    routes.append(Route(f"{base}/sign-out", sign_out, methods=["POST"]))
    return routes
