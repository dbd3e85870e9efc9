"""The page a sign-in notice's e-mail links to: "this wasn't me", outside GraphQL.

``GET /sign-in/not-me?token=...`` only shows a page with one button: mail scanners and link
previews fetch GET links on their own, so a GET must change nothing. The button POSTs the
token back (in the form, not the URL), which ends the session the notice names through the
same rule ``disownSignIn`` calls (``models.accounts.sign_ins.disown``).

The token is the only credential, so the page sends no referrer, may not be framed, and is
never cached.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.live_streams import announce_sessions_changed
from models.accounts import sign_ins
from models.errors import DomainError

TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLES = {
    "ask": "Wasn't you?",
    "ended": "Session ended",
    "done": "Nothing left to end",
    "invalid": "Link not valid",
}
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )


def _page(state: str, token: str = "", status: int = 200) -> HTMLResponse:
    html = (
        _environment()
        .get_template("not_me.html")
        .render(state=state, title=TITLES[state], token=token, action=sign_ins.NOT_ME_PATH)
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


async def not_me(request: Request) -> HTMLResponse:
    """GET: the question (reads only); POST: the answer (ends the session)."""
    if request.method == "GET":
        token = request.query_params.get("token", "")
        try:
            unused = await sign_ins.check_notice(token)
        except DomainError:
            return _page("invalid", status=404)
        return _page("ask", token) if unused else _page("done")
    form = await request.form()
    given = form.get("token")
    try:
        account_id, ended = await sign_ins.disown(given if isinstance(given, str) else "")
    except DomainError:
        return _page("invalid", status=404)
    if ended:
        await announce_sessions_changed(request.app.state, account_id)
    return _page("ended" if ended else "done")
