"""How a web page is served: its area on or off, the caller's network, the session from the
area's cookie, the roles it takes, the CSRF token of a POST, the template, the headers.

A page is ``@view(area)`` (GET) or ``@action(area, shows=page)`` (POST, then a redirect:
POST-redirect-GET). A caller's mistake in an action (a ``DomainError`` from ``models``) is
shown on the action's page, with status 400, as GraphQL would name it in ``errors``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from accord.settings import Settings
from api.context import Context
from api.web import security
from api.web.security import Area
from models import clock
from models.accounts.account import Account, Role
from models.accounts.sessions import Session
from models.errors import DomainError, DomainErrors, SharedErrorCode
from models.text import REFUSED_MESSAGE, refused_character

TEMPLATES = Path(__file__).resolve().parent / "templates"

Handler = Callable[["Web"], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    env.filters["when"] = when
    return env


def error_text(error: DomainError | DomainErrors) -> str:
    """What the page says for a refused action: each field's message, as ``errors`` lists;
    with a retry-after (the login limits), when to try again."""
    if isinstance(error, DomainErrors):
        return "; ".join(e.message for e in error.errors)
    if error.retry_after:
        return f"{error.message} (try again in {error.retry_after} s)"
    return error.message


@dataclass
class Web:
    """One web request: who asks (the session from the area's cookie), what they sent."""

    request: Request
    area: Area
    ctx: Context
    session: Session | None
    form: FormData | None = None
    #: The refusal of the action this page is shown after (status 400).
    error: DomainError | DomainErrors | None = None
    #: Cookies the response sets (name, value, max-age) or clears (value None).
    cookies: list[tuple[str, str | None, int]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def account(self) -> Account:
        assert self.session is not None  # a signed-in page
        return self.session.account

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def optional(self, name: str) -> str | None:
        return self.field(name) or None

    def csrf(self) -> str:
        """The token this page's forms carry (bound to the session, or to the sign-in
        nonce, which a page without a session sets)."""
        if self.session is not None:
            binding = f"session:{self.session.id}"
        else:
            setting = [v for n, v, _ in self.cookies if n == self.area.form_cookie and v]
            nonce = setting[0] if setting else self.request.cookies.get(self.area.form_cookie)
            if not nonce:
                nonce = security.new_nonce()
                self.cookies.append((self.area.form_cookie, nonce, security.SIGN_IN_FORM_SECONDS))
            binding = f"nonce:{nonce}"
        return security.csrf_token(self.settings, self.area, binding)

    def render(
        self, template: str, title: str, *, status: int | None = None, **values: Any
    ) -> HTMLResponse:
        notices: Mapping[str, str] = values.pop("notices", {})
        done = self.request.query_params.get("done", "")
        account = self.session.account if self.session is not None else None
        html = (
            environment()
            .get_template(template)
            .render(
                area=self.area,
                title=title,
                here=self.request.url.path,
                nav=navigation(self.area, account),
                signed_in=account is not None,
                account=account,
                csrf=self.csrf(),
                notice=notices.get(done, ""),
                error=error_text(self.error) if self.error is not None else "",
                now=clock.now(),
                static=security.STATIC_PATH,
                **values,
            )
        )
        code = status if status is not None else (400 if self.error is not None else 200)
        return HTMLResponse(html, status_code=code)

    def redirect(self, path: str, done: str | None = None) -> RedirectResponse:
        """303 See Other: the browser GETs the page the action leads to."""
        query = f"?{urlencode({'done': done})}" if done else ""
        return RedirectResponse(f"{self.area.path}{path}{query}", status_code=303)

    def refuse(self, status: int, heading: str, message: str) -> HTMLResponse:
        return self.render(
            "refused.html", heading, status=status, message=message, show_sign_out=True
        )


#: (path below the area, label, roles that see it: none for every signed-in caller).
NAVIGATION: dict[str, list[tuple[str, str, tuple[Role, ...]]]] = {
    "privacy": [
        ("", "Consents", ()),
        ("/history", "History", ()),
        ("/sessions", "Sessions", ()),
        ("/data", "Your data", ()),
        ("/account", "Account", ()),
    ],
    "console": [
        ("", "Overview", (Role.OPERATOR, Role.PRIVACY_OFFICER)),
        ("/deletions", "Deletions", (Role.OPERATOR, Role.PRIVACY_OFFICER)),
        ("/campaigns", "Campaigns", (Role.OPERATOR, Role.PRIVACY_OFFICER)),
        ("/data-requests", "Data requests", (Role.PRIVACY_OFFICER,)),
        ("/incidents", "Incidents", (Role.PRIVACY_OFFICER,)),
    ],
}


def navigation(area: Area, account: Account | None) -> list[tuple[str, str]]:
    if account is None:
        return []
    return [
        (area.path + path, label)
        for path, label, roles in NAVIGATION[area.name]
        if not roles or account.holds_role(*roles)
    ]


async def _serve(
    request: Request,
    area: Area,
    handler: Handler,
    *,
    signed_in: bool,
    roles: tuple[Role, ...],
    shows: Handler | None,
) -> Response:
    settings: Settings = request.app.state.settings
    ctx = Context.of(request, session_token=request.cookies.get(area.cookie, ""))
    web = Web(request, area, ctx, None)
    if not area.enabled(settings):
        response: Response = web.render(
            "refused.html", "Not found", status=404, message="There is no page here."
        )
    elif not area.reachable_from(ctx.client_address, settings):
        response = web.render(
            "refused.html",
            "Not available from here",
            status=403,
            message="This page answers only the networks the deployment allows.",
        )
    else:
        web.session = await ctx.session()
        response = await _answer(web, handler, signed_in=signed_in, roles=roles, shows=shows)
    for name, value, max_age in web.cookies:
        if value is None:
            security.clear_cookie(response, area, name)
        else:
            security.set_cookie(response, area, name, value, max_age)
    response.headers.update(security.headers(area, settings))
    return response


async def _answer(
    web: Web,
    handler: Handler,
    *,
    signed_in: bool,
    roles: tuple[Role, ...],
    shows: Handler | None,
) -> Response:
    area, request = web.area, web.request
    if web.session is not None and (area.roles or roles):
        refusal = _role_refusal(web, roles or area.roles)
        if refusal is not None:
            return refusal
    if signed_in and web.session is None:
        return RedirectResponse(f"{area.path}/sign-in", status_code=303)
    if request.method == "POST":
        web.form = await request.form()
        binding = (
            f"session:{web.session.id}"
            if web.session is not None
            else f"nonce:{request.cookies.get(area.form_cookie, '')}"
        )
        given = web.form.get(security.CSRF_FIELD)
        if not security.csrf_matches(web.settings, area, binding, given):
            return web.refuse(
                403,
                "Form expired",
                "This form could not be checked (it is too old, or it came from another "
                "page). Nothing was changed: go back, reload the page and try again.",
            )
        refused = _refused_field(web)
        if refused is not None and shows is not None:
            # Checked once for every form, as ``api.arguments`` checks GraphQL's strings:
            # a NUL would reach PostgreSQL, which refuses it.
            web.form, web.error = None, refused
            return await shows(web)
    try:
        return await handler(web)
    except (DomainError, DomainErrors) as error:
        if shows is None:
            raise
        web.error = error
        return await shows(web)


def _refused_field(web: Web) -> DomainError | None:
    """The first form field holding a character no input may carry, as a typed error."""
    assert web.form is not None
    for name, value in web.form.multi_items():
        if isinstance(value, str) and refused_character(value):
            return DomainError(SharedErrorCode.INVALID, name, REFUSED_MESSAGE)
    return None


def _role_refusal(web: Web, roles: tuple[Role, ...]) -> Response | None:
    """The area's (or the page's) roles, and staff's second-factor rule
    (``Context.check_staff_session``), as GraphQL's ``@staff_only`` applies them."""
    assert web.session is not None
    if not web.session.account.holds_role(*roles):
        names = ", ".join(r.value for r in roles)
        return web.refuse(403, "Not for your role", f"This page is for {names} only.")
    try:
        web.ctx.check_staff_session(web.session)
    except DomainError as error:
        return web.refuse(403, "Second factor needed", error.message)
    return None


def view(
    area: Area, *, signed_in: bool = True, roles: tuple[Role, ...] = ()
) -> Callable[[Handler], Endpoint]:
    """A page (GET, and HEAD)."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await _serve(
                request, area, handler, signed_in=signed_in, roles=roles, shows=None
            )

        endpoint.page = handler  # type: ignore[attr-defined]  # what an action shows on error
        return endpoint

    return decorate


def action(
    area: Area,
    *,
    shows: Endpoint,
    signed_in: bool = True,
    roles: tuple[Role, ...] = (),
) -> Callable[[Handler], Endpoint]:
    """A form's POST: CSRF-checked, then a redirect; a refusal shows ``shows``' page."""
    page: Handler = shows.page  # type: ignore[attr-defined]  # set by ``view``

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            return await _serve(
                request, area, handler, signed_in=signed_in, roles=roles, shows=page
            )

        return endpoint

    return decorate
