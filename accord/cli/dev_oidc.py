"""A development OpenID Connect provider, served by ``accord dev`` under ``/dev/oidc``.

It issues an ID token for whatever identity is typed in (a subject, an e-mail address), so
third-party sign-in, binding and recovery can be tried from GraphiQL without an account at
a real provider. Accord trusts it as the provider ``dev`` and finds its keys the way it finds
a real provider's, from its discovery document. It exists only in ``accord dev``: the
routes are handed to ``create_app``, which drops them when ``ACCORD_ENV=prod``.

- ``GET /dev/oidc``: a page with a form that issues a token and shows what to paste.
- ``GET|POST /dev/oidc/id-token`` (``sub``, ``email``, ``nickname``, ``nonce``; query,
  form or JSON): ``{"id_token": ..., "provider": "dev", "claims": {...}}`` as JSON, or the
  page again with the token when the form sent it.
- ``GET /dev/oidc/.well-known/openid-configuration`` and ``/dev/oidc/jwks.json``.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from accord.settings import DISCOVERY_PATH, check_fetch_url

PREFIX = "/dev/oidc"
PROVIDER = "dev"
CLIENT_ID = "accord-dev"
TOKEN_LIFETIME_SECONDS = 600
KEY_FILE = "dev-oidc-key.json"


def base_url(host: str, port: int) -> str:
    """Where this machine reaches the dev server: a wildcard address is reached on
    loopback, an IPv6 address in brackets."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class DevProvider:
    """The provider's issuer (its URL) and its ES256 key, kept in the data folder so tokens
    it issued before a restart still verify after it."""

    def __init__(self, data_dir: Path, base: str) -> None:
        self.issuer = base.rstrip("/") + PREFIX
        self.key = _load_or_make_key(data_dir / KEY_FILE)

    @property
    def page_url(self) -> str:
        return self.issuer

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/id-token"

    def provider_config(self) -> dict[str, Any]:
        """The entry of ``ACCORD_OIDC_PROVIDERS`` that trusts this provider."""
        config: dict[str, Any] = {"issuer": self.issuer, "client_id": CLIENT_ID}
        try:
            config["discovery"] = check_fetch_url(self.issuer + DISCOVERY_PATH)
        except ValueError:
            # Served on an address other than loopback, where keys are never fetched over
            # plain HTTP: this process knows them anyway.
            config["jwks"] = self.jwks()
        return config

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.page_url,
            "jwks_uri": f"{self.issuer}/jwks.json",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "claims_supported": ["sub", "email", "email_verified", "nickname", "name"],
        }

    def issue(
        self, subject: str, email: str = "", nickname: str = "", nonce: str = ""
    ) -> tuple[str, dict[str, Any]]:
        """An ID token for this identity (the subject defaults to the e-mail address)."""
        subject, email, nickname = subject.strip(), email.strip(), nickname.strip()
        subject = subject or email
        if not 1 <= len(subject) <= 255:
            raise ValueError("type a subject (or an e-mail address), at most 255 characters")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": subject,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            "nickname": (nickname or email.partition("@")[0] or subject)[:32],
        }
        if email:
            claims.update(email=email, email_verified=True)
        if nonce.strip():
            claims["nonce"] = nonce.strip()
        header = {"alg": "ES256", "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key, algorithms=["ES256"]), claims

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PREFIX, self._page, methods=["GET"]),
            Route(f"{PREFIX}/id-token", self._id_token, methods=["GET", "POST"]),
            Route(f"{PREFIX}{DISCOVERY_PATH}", self._discovery, methods=["GET"]),
            Route(f"{PREFIX}/jwks.json", self._jwks, methods=["GET"]),
        ]

    # --- endpoints -------------------------------------------------------------------------
    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(self.discovery())

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse(self.jwks())

    async def _page(self, request: Request) -> Response:
        return HTMLResponse(_page(self, {}, None, None))

    async def _id_token(self, request: Request) -> Response:
        from_form = request.method == "POST" and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        )
        fields: dict[str, Any] = dict(request.query_params)
        if from_form:
            fields.update((k, v) for k, v in (await request.form()).items() if isinstance(v, str))
        elif request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": "send a JSON object, a form or a query"}, 400)
            if not isinstance(body, dict):
                return JSONResponse({"error": "send a JSON object, a form or a query"}, 400)
            fields.update(body)
        values = {k: str(fields.get(k) or "") for k in ("sub", "email", "nickname", "nonce")}
        try:
            token, claims = self.issue(
                values["sub"], values["email"], values["nickname"], values["nonce"]
            )
        except ValueError as error:
            if from_form:
                return HTMLResponse(_page(self, values, None, str(error)), 400)
            return JSONResponse({"error": str(error)}, 400)
        if from_form:
            return HTMLResponse(_page(self, values, token, None))
        return JSONResponse({"id_token": token, "provider": PROVIDER, "claims": claims})


#: What the page shows after issuing a token (PROVIDER and TOKEN filled in).
EXAMPLES = """mutation {
  signInWithProvider(input: {provider: PROVIDER, idToken: TOKEN}) {
    token created account { id accountName } errors { code field message }
  }
}

# signed in (Headers: {"Authorization": "Bearer <token>"}), bind it to your account:
mutation {
  bindProvider(input: {provider: PROVIDER, idToken: TOKEN}) {
    binding { provider boundAt } errors { code field message }
  }
}

# forgot the password of an account this identity is bound to:
mutation {
  recoverWithProvider(input: {provider: PROVIDER, idToken: TOKEN}) {
    resetToken errors { code field message }
  }
}"""


def _load_or_make_key(path: Path) -> ECKey:
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    key = ECKey.generate_key("P-256", parameters={"use": "sig"}, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.as_dict(private=True)))
    path.chmod(0o600)
    return key


def _page(provider: DevProvider, values: dict[str, str], token: str | None, error: str | None):
    def field(name: str, label: str, placeholder: str) -> str:
        value = html.escape(values.get(name, ""))
        return (
            f'<label>{label} <input name="{name}" value="{value}" '
            f'placeholder="{html.escape(placeholder)}"></label>'
        )

    discovery = html.escape(provider.issuer + DISCOVERY_PATH)
    result = ""
    if error:
        result = f'<p class="error">{html.escape(error)}</p>'
    if token:
        examples = EXAMPLES.replace("PROVIDER", json.dumps(PROVIDER)).replace(
            "TOKEN", json.dumps(token)
        )
        result = (
            "<h2>ID token</h2>"
            f'<textarea readonly rows="6">{html.escape(token)}</textarea>'
            "<h2>Paste into GraphiQL</h2>"
            f"<pre>{html.escape(examples)}</pre>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Accord dev sign-in provider</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; }}
label {{ display: block; margin: .4rem 0; }} input {{ width: 24rem; }}
textarea, pre {{ width: 100%; font: 12px monospace; background: #f4f4f4; padding: .5rem; }}
pre {{ white-space: pre-wrap; word-break: break-all; }} .error {{ color: #b00; }}
</style></head><body>
<h1>Accord dev sign-in provider</h1>
<p>Development only (<code>accord dev</code>): this page issues an ID token for any identity
you type, signed by the provider Accord trusts as <code>{PROVIDER}</code>. The same subject
always means the same identity. Tokens last {TOKEN_LIFETIME_SECONDS // 60} minutes.</p>
<form method="post" action="{html.escape(provider.token_url)}">
{field("sub", "Subject", "ada (or leave empty to use the e-mail)")}
{field("email", "E-mail", "ada@example.com")}
{field("nickname", "Nickname", "Ada")}
{field("nonce", "Nonce", "optional")}
<button>Issue an ID token</button>
</form>
{result}
<p>From a shell:
<code>curl '{html.escape(provider.token_url)}?sub=ada&amp;email=ada@example.com'</code>.
Discovery: <a href="{discovery}">{discovery}</a></p>
</body></html>"""
