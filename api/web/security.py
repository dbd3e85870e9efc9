"""What every web page answers with and checks: its security headers (a strict
Content-Security-Policy, no inline script), its cookies, and the CSRF token of its forms.

The session cookie holds the same opaque token a GraphQL ``login`` returns (one session
row, ``models.accounts.sessions``): ``Secure``, ``HttpOnly``, ``SameSite=Strict`` and
scoped to its area's path, so /privacy and /console each sign in on their own.

Every POST carries a CSRF token (OWASP's "synchronizer token", stateless): an HMAC under
the app's secret key of the session's id (``models.keyed_hashes``), compared in constant
time. Before sign-in the
form is bound the same way to a random nonce in a short-lived cookie of its own, so a
foreign page cannot sign a browser in to an account of its choosing either.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.responses import Response

from accord.settings import Settings
from models.accounts.account import Role
from models.keyed_hashes import keyed_hash

#: How long a sign-in form may wait before it is submitted.
SIGN_IN_FORM_SECONDS = 30 * 60
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Area:
    """One set of pages under a path, with its own cookie and who may use it."""

    name: str
    path: str
    title: str
    #: Roles that may sign in here (none: anyone with an account).
    roles: tuple[Role, ...] = ()

    @property
    def cookie(self) -> str:
        return f"accord_{self.name}"

    @property
    def form_cookie(self) -> str:
        return f"accord_{self.name}_form"

    def enabled(self, settings: Settings) -> bool:
        return (
            settings.console_enabled
            if self.name == "console"
            else (settings.privacy_center_enabled)
        )

    def reachable_from(self, address: str, settings: Settings) -> bool:
        """The console answers only the networks ``ACCORD_CONSOLE_NETWORKS`` names."""
        networks = settings.console_networks if self.name == "console" else []
        if not networks:
            return True
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(client in ipaddress.ip_network(n, strict=False) for n in networks)


PRIVACY = Area("privacy", "/privacy", "Privacy center")
CONSOLE = Area(
    "console", "/console", "Staff console", (Role.OPERATOR, Role.PRIVACY_OFFICER, Role.ADMIN)
)
#: Where the pages' stylesheet and script are served from.
STATIC_PATH = "/web-static"


def headers(area: Area, settings: Settings) -> dict[str, str]:
    """Scripts and styles from this origin only; forms post here only; framed by nobody
    (the console), or by the origins ``ACCORD_PRIVACY_CENTER_FRAME_ANCESTORS`` names."""
    ancestors = settings.privacy_center_frame_ancestors if area is PRIVACY else []
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {' '.join(ancestors) if ancestors else chr(39) + 'none' + chr(39)}"
    )
    answer = {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not ancestors:  # X-Frame-Options cannot name origins: CSP alone speaks for a list
        answer["X-Frame-Options"] = "DENY"
    return answer


def csrf_token(settings: Settings, area: Area, binding: str) -> str:
    """The token forms carry: bound to the area and to a session id (or a sign-in nonce)."""
    return keyed_hash(settings, "web form", area.name, binding)


def csrf_matches(settings: Settings, area: Area, binding: str, given: object) -> bool:
    if not binding or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(csrf_token(settings, area, binding).encode(), given.encode())


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def set_cookie(response: Response, area: Area, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=area.path,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, area: Area, name: str) -> None:
    response.delete_cookie(name, path=area.path, secure=True, httponly=True, samesite="strict")
